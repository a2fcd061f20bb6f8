"""Business actions on vouchers: each one transaction, keyword-only arguments."""

import calendar
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.context import audit_context
from caseapp.money import to_money, validate_currency

from .models import ValidityRule, Voucher, VoucherExtension, VoucherRedemption, VoucherStatus


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validity_rule_for(*, issued_on: date) -> ValidityRule:
    rule = ValidityRule.objects.filter(effective_from__lte=issued_on).order_by("-effective_from").first()
    if rule is None:
        raise ValidationError({"validity_rule": f"No validity rule is in force on {issued_on}."})
    return rule


@transaction.atomic
def voucher_issue(
    *, code: str, value, currency: str, issued_at: datetime, holder=None, purchaser=None,
    validity_rule: ValidityRule | None = None,
) -> Voucher:
    amount = to_money(value)
    validate_currency(currency)
    issued_on = timezone.localdate(issued_at)
    rule = validity_rule or validity_rule_for(issued_on=issued_on)
    voucher = Voucher(
        code=code, value=amount, balance=amount, currency=currency, issued_at=issued_at,
        valid_until=add_months(issued_on, rule.validity_months), validity_rule=rule,
        holder=holder, purchaser=purchaser,
    )
    voucher.full_clean()
    voucher.save()
    return voucher


def voucher_is_expired(*, voucher: Voucher, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return voucher.status in (VoucherStatus.ACTIVE, VoucherStatus.EXTENDED, VoucherStatus.EXPIRED) and (
        voucher.valid_until < today
    )


@transaction.atomic
def voucher_redeem(*, voucher: Voucher, amount, at: datetime | None = None, order=None, note: str = "") -> VoucherRedemption:
    at = at or timezone.now()
    amount = to_money(amount)
    voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
    if amount <= 0:
        raise ValidationError({"amount": "A redemption must be greater than zero."})
    if voucher.status in (VoucherStatus.VOID, VoucherStatus.REDEEMED):
        raise ValidationError({"voucher": f"Voucher {voucher.code} is {voucher.get_status_display().lower()}."})
    if voucher.valid_until < timezone.localdate(at):
        raise ValidationError({"voucher": f"Voucher {voucher.code} expired on {voucher.valid_until}."})
    if amount > voucher.balance:
        raise ValidationError({"amount": f"Only {voucher.balance} {voucher.currency} is left on this voucher."})
    redemption = VoucherRedemption.objects.create(voucher=voucher, amount=amount, redeemed_at=at, order=order, note=note)
    voucher.balance -= amount
    if voucher.balance == Decimal("0"):
        voucher.status = VoucherStatus.REDEEMED
    voucher.save(update_fields=["balance", "status"])
    return redemption


@transaction.atomic
def voucher_extend(*, voucher: Voucher, until: date, reason: str, by=None) -> VoucherExtension:
    voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
    if voucher.status in (VoucherStatus.VOID, VoucherStatus.REDEEMED):
        raise ValidationError({"voucher": f"A {voucher.get_status_display().lower()} voucher cannot be extended."})
    extension = VoucherExtension(
        voucher=voucher, previous_valid_until=voucher.valid_until, new_valid_until=until,
        reason=(reason or "").strip(), extended_by=by,
    )
    extension.full_clean()
    extension.save()
    voucher.valid_until = until
    voucher.status = VoucherStatus.EXTENDED
    with audit_context(reason=extension.reason):
        voucher.save(update_fields=["valid_until", "status"])
    return extension


@transaction.atomic
def vouchers_mark_expired(*, today: date | None = None) -> int:
    """Filtered on the current state, so a second run finds nothing to do."""
    today = today or timezone.localdate()
    return Voucher.objects.filter(
        status__in=(VoucherStatus.ACTIVE, VoucherStatus.EXTENDED), valid_until__lt=today
    ).update(status=VoucherStatus.EXPIRED)
