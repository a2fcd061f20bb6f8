"""Read queries of the policy app: the facts a policy decides on, the active version, the remedy ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from cases.selectors import delivery_check_latest
from customers.selectors import customer_loyalty_facts
from orders.services import shipment_days_late

from .engine import ZERO, Facts, Policy, compile_policy
from .models import PolicyVersion, Remedy, RemedyStatus

DEFAULT_CURRENCY = getattr(settings, "CASEAPP_DEFAULT_CURRENCY", "EUR")


def case_currency(case) -> str:
    """The currency a case is decided in: its order's, else its voucher's, else the shop's default."""
    if case.order_id:
        return case.order.currency
    if case.voucher_id:
        return case.voucher.currency
    return DEFAULT_CURRENCY


def case_shipment(case):
    """The shipment a case is about: its own, else the order's latest original (not replacement) shipment."""
    if case.shipment_id:
        return case.shipment
    if case.order_id:
        return (case.order.shipments.select_related("courier").filter(is_replacement=False)
                .order_by("-created_at", "-id").first())
    return None


def case_facts(*, case, today: date | None = None, loyalty=None) -> Facts:
    """Everything the policy may look at for one case, as of today (the shop's local date).

    ``loyalty``: the customer's loyalty facts as of that day when the caller already has them (the case page
    shows them too), so they are computed once per request."""
    today = today or timezone.localdate()
    currency = case_currency(case)
    if loyalty is None or loyalty.customer_id != case.customer_id:
        loyalty = customer_loyalty_facts(customer=case.customer, today=today)
    cost_this_year = Remedy.objects.filter(
        customer_id=case.customer_id, status=RemedyStatus.APPLIED, currency=currency, applied_at__year=today.year,
    ).aggregate(total=Sum("amount"))["total"] or ZERO
    on_case = list(Remedy.objects.filter(case_id=case.pk).values_list("rule_id", "status", "currency", "amount"))
    values = {
        "today": today, "currency": currency, "case_id": case.pk,
        "case_remedy_cost": sum((amount for _, status, cur, amount in on_case
                                 if status == RemedyStatus.APPLIED and cur == currency), ZERO),
        "decided_rules": frozenset(rule_id for rule_id, _, _, _ in on_case if rule_id),
        "tenure_days": loyalty.tenure_days, "tenure_years": loyalty.tenure_years,
        "order_count": loyalty.order_count, "lifetime_spend": loyalty.lifetime_spend.get(currency, ZERO),
        "remedies_this_year": loyalty.remedies_this_year, "remedy_cost_this_year": cost_this_year,
        "category": case.category, "channel": case.channel,
    }
    order = case.order if case.order_id else None
    if order is not None:
        values.update(
            order_total=order.total, payment_method=order.payment_method,
            promised_date=order.promised_delivery_date, is_date_critical=order.is_date_critical,
            is_non_refundable=order.is_non_refundable, cod_quoted_amount=order.cod_quoted_amount,
        )
    shipment = case_shipment(case)
    if shipment is not None:
        values.update(
            shipment_status=shipment.status, courier=shipment.courier.name,
            days_late=shipment_days_late(shipment, today=today), cod_label_amount=shipment.cod_amount,
            is_replacement_shipment=shipment.is_replacement,
        )
    checked = delivery_check_latest(case=case) if case.order_id else None
    if checked and checked.get("currency") == currency and checked.get("mismatched_lines_value") is not None:
        values["mismatched_lines_value"] = Decimal(checked["mismatched_lines_value"])
    voucher = case.voucher if case.voucher_id else None
    if voucher is not None and voucher.currency == currency:
        values.update(
            voucher_value=voucher.value, voucher_balance=voucher.balance, voucher_valid_until=voucher.valid_until,
            voucher_days_since_expiry=(today - voucher.valid_until).days,
            voucher_validity_months=voucher.validity_rule.validity_months,
        )
    return Facts(**values)


# --- Policy versions -----------------------------------------------------------------------------------------

_COMPILED: dict[tuple[int, int], Policy] = {}


def policy_compiled(version: PolicyVersion) -> Policy:
    """Compiled once per version (versions are immutable)."""
    key = (version.pk, version.number)
    policy = _COMPILED.get(key)
    if policy is None:
        policy = _COMPILED[key] = compile_policy(version.document)
    return policy


def policy_version_active() -> PolicyVersion | None:
    return PolicyVersion.objects.filter(is_active=True).first()


def policy_versions() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.select_related("author").order_by("-number")


# --- The remedy ledger ---------------------------------------------------------------------------------------


def case_remedies(*, case) -> list[Remedy]:
    return list(case.remedies.select_related("recoverable_from", "proposed_by", "decided_by", "policy_version")
                .order_by("proposed_at", "id"))


def remedies_pending_approval() -> QuerySet[Remedy]:
    """The approvals inbox, oldest first (paginated by the caller)."""
    return (Remedy.objects.filter(status=RemedyStatus.PENDING_APPROVAL)
            .select_related("case", "customer", "proposed_by", "recoverable_from").order_by("proposed_at", "id"))
