from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from caseapp.money import CurrencyField, MoneyField, currency_check, validate_non_negative


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card")
    CASH_ON_DELIVERY = "cod", _("Cash on delivery")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")
    # What a shop's own system says of the money, kept as it says it (imports and webhooks, intake/).
    PARTIALLY_REFUNDED = "partly_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    VOIDED = "voided", _("Voided")


class Order(models.Model):
    number = models.CharField(max_length=40, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    placed_at = models.DateTimeField()
    currency = CurrencyField()
    shipping_amount = MoneyField(default=0, validators=[validate_non_negative])
    total = MoneyField(
        validators=[validate_non_negative],
        help_text="Lines plus shipping (orders.services.order_create), or the total the shop's own system stated "
                  "(order_upsert: it knows its taxes and discounts).",
    )
    payment_method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    cod_quoted_amount = MoneyField(
        null=True, blank=True, validators=[validate_non_negative],
        help_text="What the customer was told to pay on delivery.",
    )
    promised_delivery_date = models.DateField(null=True, blank=True)
    is_date_critical = models.BooleanField(default=False)
    occasion = models.CharField(max_length=200, blank=True, help_text='e.g. "birthday 14 March"')
    is_non_refundable = models.BooleanField(default=False)
    is_special_order = models.BooleanField(default=False)
    sold_by = models.CharField(max_length=120, blank=True, help_text="Who sold it, e.g. a regional VP.")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    tax_amount = MoneyField(default=0, validators=[validate_non_negative], help_text="Taxes as the shop stated them.")
    discount_amount = MoneyField(default=0, validators=[validate_non_negative])
    shipping_name = models.CharField(max_length=200, blank=True)
    shipping_street = models.CharField(max_length=300, blank=True)
    shipping_city = models.CharField(max_length=120, blank=True)
    shipping_postcode = models.CharField(max_length=20, blank=True)
    shipping_country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, e.g. RO")

    class Meta:
        ordering = ["-placed_at", "id"]
        indexes = [
            models.Index(fields=["customer", "placed_at"], name="order_customer_placed_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=models.Q(shipping_amount__gte=0), name="order_shipping_not_negative"),
            models.CheckConstraint(condition=models.Q(tax_amount__gte=0), name="order_tax_not_negative"),
            models.CheckConstraint(condition=models.Q(discount_amount__gte=0), name="order_discount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(cod_quoted_amount__isnull=True) | models.Q(cod_quoted_amount__gte=0),
                name="order_cod_quote_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(payment_method="cod") | models.Q(cod_quoted_amount__isnull=False),
                name="order_cod_has_quote",
            ),
            models.CheckConstraint(
                condition=models.Q(is_date_critical=False) | models.Q(promised_delivery_date__isnull=False),
                name="order_date_critical_has_date",
            ),
            models.CheckConstraint(condition=models.Q(payment_method__in=PaymentMethod.values), name="order_payment_known"),
            models.CheckConstraint(condition=models.Q(status__in=OrderStatus.values), name="order_status_known"),
            currency_check("currency", "order_currency_iso"),
        ]

    def __str__(self):
        return self.number

    def clean(self):
        errors = {}
        if self.payment_method == PaymentMethod.CASH_ON_DELIVERY and self.cod_quoted_amount is None:
            errors["cod_quoted_amount"] = "A cash-on-delivery order needs the amount quoted to the customer."
        if self.payment_method != PaymentMethod.CASH_ON_DELIVERY and self.cod_quoted_amount is not None:
            errors["cod_quoted_amount"] = "Only cash-on-delivery orders carry a quoted COD amount."
        if self.is_date_critical and not self.promised_delivery_date:
            errors["promised_delivery_date"] = "A date-critical order needs the date it must arrive by."
        if self.promised_delivery_date and self.placed_at and self.promised_delivery_date < self.placed_at.date():
            errors["promised_delivery_date"] = "Delivery cannot be promised before the order was placed."
        if errors:
            raise ValidationError(errors)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = MoneyField(validators=[validate_non_negative])
    variant = models.CharField(max_length=120, blank=True, help_text='Style, colour or size, e.g. "Kilim, blue".')

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="order_line_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.name}"

    @property
    def amount(self):
        return self.quantity * self.unit_price


class Courier(models.Model):
    name = models.CharField(max_length=100, unique=True)
    claims_email = models.EmailField(blank=True)
    claims_phone = models.CharField(max_length=40, blank=True)
    claim_window_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1)],
        help_text="Days from the failure within which the courier accepts a claim (claims.Claim.deadline).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(claim_window_days__gte=1), name="courier_claim_window_positive"),
        ]

    def __str__(self):
        return self.name


class ShipmentStatus(models.TextChoices):
    CREATED = "created", _("Created")
    IN_TRANSIT = "in_transit", _("In transit")
    DELAYED = "delayed", _("Delayed")
    DELIVERED = "delivered", _("Delivered")
    LOST = "lost", _("Lost")
    RETURNED = "returned", _("Returned")
    REFUSED = "refused", _("Refused")
    NOT_COLLECTED = "not_collected", _("Not collected")


class TrackingEventCode(models.TextChoices):
    """The courier event codes caseapp knows, with their labels (a courier may send others: they are kept as sent
    and shown as words, see caseapp.formatting.label)."""

    HANDED_OVER = "handed_over", _("Handed over to the courier")
    PICKED_UP = "picked_up", _("Picked up")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED_AT_DEPOT = "arrived_at_depot", _("Arrived at the depot")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELAYED = "delayed", _("Delayed")
    DELIVERY_FAILED = "delivery_failed", _("Delivery attempt failed")
    DELIVERED = "delivered", _("Delivered")
    LOST = "lost", _("Lost")
    RETURNED = "returned", _("Returned")
    REFUSED = "refused", _("Refused")
    NOT_COLLECTED = "not_collected", _("Not collected")
    EXCEPTION = "exception", _("Problem reported by the courier")


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    courier = models.ForeignKey(Courier, on_delete=models.PROTECT, related_name="shipments")
    tracking_number = models.CharField(max_length=64)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    estimated_delivery = models.DateField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.CREATED)
    cod_amount = MoneyField(
        null=True, blank=True, validators=[validate_non_negative], help_text="Amount printed on the courier's label."
    )
    is_replacement = models.BooleanField(default=False, help_text="Sent at the shop's cost to replace or complete.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["status", "estimated_delivery"], name="shipment_status_eta_idx")]
        constraints = [
            models.UniqueConstraint(fields=["courier", "tracking_number"], name="shipment_tracking_unique"),
            models.CheckConstraint(
                condition=models.Q(cod_amount__isnull=True) | models.Q(cod_amount__gte=0),
                name="shipment_cod_not_negative",
            ),
            models.CheckConstraint(condition=models.Q(status__in=ShipmentStatus.values), name="shipment_status_known"),
        ]

    def __str__(self):
        return f"{self.courier} {self.tracking_number}"

    def clean(self):
        errors = {}
        if self.delivered_at and self.handed_over_at and self.delivered_at < self.handed_over_at:
            errors["delivered_at"] = "A parcel cannot be delivered before it was handed to the courier."
        if self.status == ShipmentStatus.DELIVERED and not self.delivered_at:
            errors["delivered_at"] = "A delivered shipment needs its delivery time."
        if errors:
            raise ValidationError(errors)


class ShipmentEvent(models.Model):
    """One tracking event from the courier, stored once however often the courier sends it."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    external_id = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    code = models.CharField(max_length=40)
    text = models.CharField(max_length=300, blank=True)
    location = models.CharField(max_length=120, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "external_id"], name="shipment_event_once"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.code}"


