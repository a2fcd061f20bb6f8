"""Business actions on orders and shipments: each one transaction, keyword-only arguments."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.context import audit_context
from caseapp import permissions
from caseapp.money import ZERO, to_money, validate_currency
from caseapp.upsert import Outcome

from .models import (
    Courier,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    Shipment,
    ShipmentEvent,
    ShipmentStatus,
)


def _lines_parse(lines) -> list[tuple[dict, int, object]]:
    """Each line as (line, quantity, unit price), or a ValidationError naming the line."""
    if not lines:
        raise ValidationError({"lines": "An order needs at least one line."})
    parsed = []
    for index, line in enumerate(lines):
        try:
            quantity = int(line["quantity"])
            unit_price = to_money(line["unit_price"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError({"lines": f"Line {index + 1}: quantity and unit price are required."}) from exc
        except ValidationError as exc:
            raise ValidationError({"lines": f"Line {index + 1}: {exc.messages[0]}"}) from exc
        if quantity < 1:
            raise ValidationError({"lines": f"Line {index + 1}: quantity must be at least 1."})
        if unit_price < 0:
            raise ValidationError({"lines": f"Line {index + 1}: a unit price cannot be negative."})
        parsed.append((line, quantity, unit_price))
    return parsed


@transaction.atomic
def order_create(
    *, number: str, customer, placed_at: datetime, currency: str, lines: list[dict], payment_method: str,
    shipping_amount="0", cod_quoted_amount=None, promised_delivery_date: date | None = None,
    is_date_critical: bool = False, occasion: str = "", status: str = OrderStatus.PLACED, **extra,
) -> Order:
    """Create an order with its lines; the total is computed here from the lines and shipping."""
    validate_currency(currency)
    shipping = to_money(shipping_amount)
    parsed = _lines_parse(lines)
    total = shipping + sum((quantity * price for _, quantity, price in parsed), ZERO)
    order = Order(
        number=number, customer=customer, placed_at=placed_at, currency=currency, payment_method=payment_method,
        shipping_amount=shipping, total=total,
        cod_quoted_amount=to_money(cod_quoted_amount) if cod_quoted_amount is not None else None,
        promised_delivery_date=promised_delivery_date, is_date_critical=is_date_critical, occasion=occasion,
        status=status, **extra,
    )
    order.full_clean()
    order.save()
    for line, quantity, unit_price in parsed:
        row = OrderLine(
            order=order, sku=line.get("sku", ""), name=line.get("name", ""), quantity=quantity,
            unit_price=unit_price, variant=line.get("variant", ""),
        )
        row.full_clean(exclude=["order"])
        row.save()
    return order


# Statuses the shop's system cannot undo by sending an older picture of the order (the courier said so).
_SETTLED_BY_COURIER = (OrderStatus.DELIVERED, OrderStatus.RETURNED)
_SHOP_PROGRESS = (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.SHIPPED)
_UPSERT_FIELDS = (
    "customer", "placed_at", "currency", "shipping_amount", "tax_amount", "discount_amount", "total",
    "payment_method", "cod_quoted_amount", "promised_delivery_date", "status", "shipping_name", "shipping_street",
    "shipping_city", "shipping_postcode", "shipping_country",
)


def _field(name: str, parse, value):
    """Run a parser or validator on one input, naming the field in its error."""
    try:
        result = parse(value)
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from exc
    return value if result is None else result


def _line_key(sku, name, quantity, unit_price, variant) -> tuple:
    return (sku or "", name or "", int(quantity), to_money(unit_price), variant or "")


@transaction.atomic
def order_upsert(
    *, number: str, customer, placed_at: datetime, currency: str, lines: list[dict], payment_method: str,
    shipping_amount="0", tax_amount="0", discount_amount="0", total=None, cod_quoted_amount=None,
    promised_delivery_date: date | None = None, status: str = OrderStatus.PLACED, shipping_name: str = "",
    shipping_street: str = "", shipping_city: str = "", shipping_postcode: str = "", shipping_country: str = "",
) -> tuple[Order, Outcome]:
    """Create or update an order from the shop's own system, keyed by the shop's order number.

    ``lines`` are dicts with ``sku``, ``name``, ``quantity``, ``unit_price`` and optional ``variant``. ``total`` is
    the shop's own total (it knows its taxes and discounts); without one it is lines + shipping − discount.
    A cash-on-delivery order's ``cod_quoted_amount`` defaults to that total (what the customer was told to pay);
    other payment methods carry none. Refunded, partially refunded and voided orders keep that status; an order
    the courier delivered or returned is not moved back to placed, paid or shipped by an older picture of it.

    Returns (order, outcome): the same data again is ``Outcome.UNCHANGED`` and writes nothing; a new status,
    new lines or totals are ``Outcome.CHANGED``. A ValidationError (with field errors) leaves nothing behind.
    """
    number = (number or "").strip()
    if not number:
        raise ValidationError({"number": "An order needs the shop's order number."})
    _field("currency", validate_currency, currency)
    parsed = _lines_parse(lines)
    shipping = _field("shipping_amount", to_money, shipping_amount)
    tax = _field("tax_amount", to_money, tax_amount)
    discount = _field("discount_amount", to_money, discount_amount)
    computed = shipping + sum((quantity * price for _, quantity, price in parsed), ZERO) - discount
    total = _field("total", to_money, total) if total is not None else computed
    if payment_method == PaymentMethod.CASH_ON_DELIVERY:
        cod_quoted_amount = (_field("cod_quoted_amount", to_money, cod_quoted_amount)
                             if cod_quoted_amount is not None else total)
    else:
        cod_quoted_amount = None
    wanted = {
        "customer": customer, "placed_at": placed_at, "currency": currency, "shipping_amount": shipping,
        "tax_amount": tax, "discount_amount": discount, "total": total, "payment_method": payment_method,
        "cod_quoted_amount": cod_quoted_amount, "promised_delivery_date": promised_delivery_date,
        "status": status, "shipping_name": shipping_name or "", "shipping_street": shipping_street or "",
        "shipping_city": shipping_city or "", "shipping_postcode": shipping_postcode or "",
        "shipping_country": (shipping_country or "").upper(),
    }
    line_keys = [
        _line_key(line.get("sku", ""), line.get("name", ""), quantity, price, line.get("variant", ""))
        for line, quantity, price in parsed
    ]
    order = Order.objects.select_for_update().filter(number=number).first()
    if order is None:
        order = Order(number=number, **wanted)
        # The database checks the constraints and the unique number (a race lands in the IntegrityError below);
        # validating them here too would cost a query per constraint per order.
        order.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                order.save()
                _lines_write(order, line_keys)
            return order, Outcome.CREATED
        except IntegrityError:  # the same order arrived twice at once: the other one is now an update
            order = Order.objects.select_for_update().get(number=number)
    if order.status in _SETTLED_BY_COURIER and status in _SHOP_PROGRESS:
        wanted["status"] = order.status
    changed = [
        field for field in _UPSERT_FIELDS
        if (order.customer_id != customer.pk if field == "customer" else getattr(order, field) != wanted[field])
    ]
    for field in changed:
        setattr(order, field, wanted[field])
    stored = [_line_key(row.sku, row.name, row.quantity, row.unit_price, row.variant) for row in order.lines.all()]
    lines_changed = stored != line_keys
    if not changed and not lines_changed:
        return order, Outcome.UNCHANGED
    order.full_clean(validate_unique=False, validate_constraints=False)
    if changed:
        order.save(update_fields=changed)
    if lines_changed:
        order.lines.all().delete()
        _lines_write(order, line_keys)
    return order, Outcome.CHANGED


def _lines_write(order: Order, line_keys: list[tuple]) -> None:
    rows = []
    for sku, name, quantity, unit_price, variant in line_keys:
        row = OrderLine(order=order, sku=sku, name=name, quantity=quantity, unit_price=unit_price, variant=variant)
        row.full_clean(exclude=["order"], validate_constraints=False)
        rows.append(row)
    OrderLine.objects.bulk_create(rows)


def order_cod_due(order: Order):
    """What the customer should pay on delivery: the quoted amount (None unless cash on delivery)."""
    return order.cod_quoted_amount if order.payment_method == PaymentMethod.CASH_ON_DELIVERY else None


@transaction.atomic
def shipment_create(
    *, order: Order, courier: Courier, tracking_number: str, handed_over_at: datetime | None = None,
    estimated_delivery: date | None = None, cod_amount=None, is_replacement: bool = False,
    status: str = ShipmentStatus.CREATED, delivered_at: datetime | None = None,
) -> Shipment:
    shipment = Shipment(
        order=order, courier=courier, tracking_number=tracking_number, handed_over_at=handed_over_at,
        delivered_at=delivered_at,
        estimated_delivery=estimated_delivery, cod_amount=to_money(cod_amount) if cod_amount is not None else None,
        is_replacement=is_replacement, status=status,
    )
    shipment.full_clean()
    shipment.save()
    return shipment


@transaction.atomic
def shipment_receive(
    *, order_number: str, courier: Courier, tracking_number: str, estimated_delivery: date | None = None,
    handed_over_at: datetime | None = None,
) -> tuple[Shipment, bool]:
    """A shipment the shop's system reports (POST /api/v1/shipments/): the order by the shop's own number, one
    shipment per (courier, tracking number). Handed over to the courier, it is in transit; otherwise created.

    The same courier and tracking number again returns the shipment already recorded, unchanged (its courier's
    tracking events move it on from there), even when two requests race: the unique constraint decides.
    Returns (shipment, created). A ValidationError (with field errors) leaves nothing behind."""
    order_number, tracking_number = (order_number or "").strip(), (tracking_number or "").strip()
    errors = {}
    if not tracking_number:
        errors["tracking_number"] = "A shipment needs its courier's tracking number."
    order = Order.objects.filter(number=order_number).first() if order_number else None
    if order is None:
        errors["order_number"] = f"No order has number {order_number!r}."
    if errors:
        raise ValidationError(errors)
    existing = Shipment.objects.filter(courier=courier, tracking_number=tracking_number).first()
    if existing is None:
        try:
            with transaction.atomic():
                return shipment_create(
                    order=order, courier=courier, tracking_number=tracking_number, handed_over_at=handed_over_at,
                    estimated_delivery=estimated_delivery,
                    status=ShipmentStatus.IN_TRANSIT if handed_over_at else ShipmentStatus.CREATED,
                ), True
        except (IntegrityError, ValidationError) as exc:
            existing = Shipment.objects.filter(courier=courier, tracking_number=tracking_number).first()
            if existing is None:
                raise
            if isinstance(exc, ValidationError) and set(getattr(exc, "error_dict", {})) - {"__all__"}:
                raise
    if existing.order_id != order.pk:
        raise ValidationError({"tracking_number": f"This tracking number is already order {existing.order.number}'s."})
    return existing, False


# Courier event codes that move the shipment to a new status.
EVENT_CODE_STATUS = {
    "handed_over": ShipmentStatus.IN_TRANSIT,
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "out_for_delivery": ShipmentStatus.IN_TRANSIT,
    "delayed": ShipmentStatus.DELAYED,
    "delivered": ShipmentStatus.DELIVERED,
    "lost": ShipmentStatus.LOST,
    "returned": ShipmentStatus.RETURNED,
    "refused": ShipmentStatus.REFUSED,
    "not_collected": ShipmentStatus.NOT_COLLECTED,
}


@transaction.atomic
def shipment_event_record(
    *, tracking_number: str, external_id: str, occurred_at: datetime, code: str, courier: Courier | None = None,
    text: str = "", location: str = "", raw: dict | None = None, estimated_delivery: date | None = None,
    by=None,
) -> tuple[ShipmentEvent, bool]:
    """Store one courier tracking event, once. Returns (event, created).

    `by` is the person who reports it (the API); None is a courier's feed or caseapp itself. A person must be
    allowed to work the shipment (caseapp.permissions.can_work_shipment): not one whose case another agent owns.
    """
    shipments = Shipment.objects.select_for_update().filter(tracking_number=tracking_number)
    if courier is not None:
        shipments = shipments.filter(courier=courier)
    shipment = shipments.first()
    if shipment is None:
        raise ValidationError({"tracking_number": f"No shipment has tracking number {tracking_number!r}."})
    if by is not None:
        permissions.require(permissions.can_work_shipment(by, shipment))
    if not external_id:
        raise ValidationError({"external_id": "A courier event needs its own id, to store it only once."})
    existing = ShipmentEvent.objects.filter(shipment=shipment, external_id=external_id).first()
    if existing:
        return existing, False
    event = ShipmentEvent(
        shipment=shipment, external_id=external_id, occurred_at=occurred_at, code=code, text=text,
        location=location, raw=raw or {},
    )
    event.full_clean(exclude=["shipment"], validate_unique=False)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:  # the same event arrived twice at once
        return ShipmentEvent.objects.get(shipment=shipment, external_id=external_id), False
    fields = []
    new_status = EVENT_CODE_STATUS.get(code)
    if new_status and shipment.status != ShipmentStatus.DELIVERED:
        shipment.status = new_status
        fields.append("status")
        if new_status == ShipmentStatus.DELIVERED:
            shipment.delivered_at = occurred_at
            fields.append("delivered_at")
        if code == "handed_over" and not shipment.handed_over_at:
            shipment.handed_over_at = occurred_at
            fields.append("handed_over_at")
    if estimated_delivery:
        shipment.estimated_delivery = estimated_delivery
        fields.append("estimated_delivery")
    if fields:
        shipment.save(update_fields=fields)
    return event, True


def shipment_days_late(shipment: Shipment, *, today: date | None = None) -> int:
    """Days past the promised date: delivered late, or still on the way after it."""
    promised = shipment.order.promised_delivery_date
    if not promised:
        return 0
    if shipment.delivered_at:
        arrived = timezone.localdate(shipment.delivered_at)
    else:
        today = today or timezone.localdate()
        arrived = max(today, shipment.estimated_delivery or today)
    return max((arrived - promised).days, 0)


@transaction.atomic
def order_cancel(*, order: Order, reason: str, by=None) -> Order:
    """Cancel an order. A non-refundable order is cancelled only by a manager's override, which gives the reason."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the order is cancelled."})
    if order.status == OrderStatus.CANCELLED:
        return order
    if order.status in (OrderStatus.DELIVERED, OrderStatus.RETURNED):
        raise ValidationError({"status": f"A {order.get_status_display().lower()} order cannot be cancelled."})
    order.status = OrderStatus.CANCELLED
    with audit_context(reason=reason):
        order.save(update_fields=["status"])
    return order
