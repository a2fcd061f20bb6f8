from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseapp.money import CurrencyField, MoneyField, currency_check, validate_non_negative, validate_positive


class ValidityRule(models.Model):
    """The rule a voucher was issued under: "12 months" until the shop changed it to "6 months"."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    validity_months = models.PositiveSmallIntegerField()
    effective_from = models.DateField(help_text="Vouchers issued from this date on fall under this rule.")

    class Meta:
        ordering = ["effective_from", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(validity_months__gte=1), name="validity_rule_months_positive")
        ]

    def __str__(self):
        return f"{self.name} ({self.validity_months} months, from {self.effective_from})"


class VoucherStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REDEEMED = "redeemed", _("Redeemed")
    EXPIRED = "expired", _("Expired")
    EXTENDED = "extended", _("Extended")
    VOID = "void", _("Void")


class Voucher(models.Model):
    code = models.CharField(max_length=40, unique=True)
    holder = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers_held",
        help_text="Empty for a bearer voucher.",
    )
    purchaser = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers_bought"
    )
    value = MoneyField(validators=[validate_positive])
    balance = MoneyField(validators=[validate_non_negative])
    currency = CurrencyField()
    issued_at = models.DateTimeField()
    valid_until = models.DateField(help_text="Last day the voucher can be used.")
    validity_rule = models.ForeignKey(ValidityRule, on_delete=models.PROTECT, related_name="vouchers")
    status = models.CharField(max_length=10, choices=VoucherStatus.choices, default=VoucherStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at", "id"]
        indexes = [models.Index(fields=["status", "valid_until"], name="voucher_status_until_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gt=0), name="voucher_value_positive"),
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="voucher_balance_not_negative"),
            models.CheckConstraint(condition=models.Q(balance__lte=models.F("value")), name="voucher_balance_le_value"),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=Cast("issued_at", models.DateField())),
                name="voucher_valid_after_issue",
            ),
            models.CheckConstraint(condition=models.Q(status__in=VoucherStatus.values), name="voucher_status_known"),
            currency_check("currency", "voucher_currency_iso"),
        ]

    def __str__(self):
        return f"{self.code} ({self.balance} {self.currency})"

    @property
    def current_status(self) -> str:
        """The status as of today, derived from the date: an active or extended voucher past its last day is
        expired even before vouchers_mark_expired has stored it."""
        if self.status in (VoucherStatus.ACTIVE, VoucherStatus.EXTENDED) and self.valid_until < timezone.localdate():
            return VoucherStatus.EXPIRED
        return self.status

    def get_current_status_display(self) -> str:
        return VoucherStatus(self.current_status).label

    def clean(self):
        errors = {}
        if self.balance is not None and self.value is not None and self.balance > self.value:
            errors["balance"] = "The balance cannot exceed the voucher's value."
        if self.issued_at and self.valid_until and self.valid_until < self.issued_at.date():
            errors["valid_until"] = "A voucher cannot be valid until a date before it was issued."
        if errors:
            raise ValidationError(errors)


class VoucherRedemption(models.Model):
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    amount = MoneyField(validators=[validate_positive])
    redeemed_at = models.DateTimeField()
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["redeemed_at", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="redemption_amount_positive")]

    def __str__(self):
        return f"{self.amount} from {self.voucher_id} on {self.redeemed_at:%Y-%m-%d}"


class VoucherExtension(models.Model):
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="extensions")
    previous_valid_until = models.DateField()
    new_valid_until = models.DateField()
    reason = models.TextField()
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(new_valid_until__gt=models.F("previous_valid_until")),
                name="extension_moves_date_forward",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="extension_has_reason"),
        ]

    def __str__(self):
        return f"{self.previous_valid_until} → {self.new_valid_until}"

    def clean(self):
        if self.new_valid_until and self.previous_valid_until and self.new_valid_until <= self.previous_valid_until:
            raise ValidationError({"new_valid_until": "An extension must move the date forward."})
        if not (self.reason or "").strip():
            raise ValidationError({"reason": "An extension needs a recorded reason."})


class VoucherReminder(models.Model):
    """A reminder that a voucher is about to expire: one per voucher per offset, ever (a unique constraint)."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="reminders")
    offset_days = models.PositiveSmallIntegerField(help_text="Days before the expiry date this reminder is for.")
    valid_until = models.DateField(help_text="The expiry date the reminder stated.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["voucher", "offset_days"], name="voucher_reminder_once_per_offset"),
        ]

    def __str__(self):
        return f"{self.voucher_id} reminder {self.offset_days} days before {self.valid_until}"
