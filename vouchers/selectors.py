from django.db.models import QuerySet

from .models import Voucher


def customer_vouchers(*, customer) -> QuerySet[Voucher]:
    """A customer's vouchers with the rule each was issued under, oldest first, so a rule change shows."""
    return (
        Voucher.objects.filter(holder=customer)
        .select_related("validity_rule")
        .prefetch_related("extensions")
        .order_by("issued_at", "id")
    )


def validity_rule_changes(*, customer) -> list[tuple[Voucher, Voucher]]:
    """Consecutive vouchers of one customer issued under different validity rules."""
    return validity_rule_changes_among(list(customer_vouchers(customer=customer)))


def validity_rule_changes_among(vouchers: list[Voucher]) -> list[tuple[Voucher, Voucher]]:
    """The same, over vouchers already loaded in issue order (with their rule)."""
    return [
        (before, after)
        for before, after in zip(vouchers, vouchers[1:], strict=False)
        if before.validity_rule.validity_months != after.validity_rule.validity_months
    ]
