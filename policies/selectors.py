"""Read queries of the policy app: the facts a policy decides on, the active version, the remedy ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

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


def case_facts(*, case, today: date | None = None) -> Facts:
    """Everything the policy may look at for one case, as of today (the shop's local date)."""
    today = today or timezone.localdate()
    currency = case_currency(case)
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


def policy_versions() -> list[PolicyVersion]:
    return list(PolicyVersion.objects.select_related("author").order_by("-number"))


# --- The remedy ledger ---------------------------------------------------------------------------------------


def case_remedies(*, case) -> list[Remedy]:
    return list(case.remedies.select_related("recoverable_from", "proposed_by", "decided_by", "policy_version")
                .order_by("proposed_at", "id"))


def remedies_pending_approval() -> list[Remedy]:
    return list(Remedy.objects.filter(status=RemedyStatus.PENDING_APPROVAL)
                .select_related("case", "customer", "proposed_by").order_by("proposed_at", "id"))


@dataclass
class RemedyReport:
    """What remedies cost, and what came back."""

    date_from: date
    date_to: date
    by_kind: list[dict] = field(default_factory=list)      # kind, currency, count, total
    by_budget: list[dict] = field(default_factory=list)    # budget, currency, count, total
    by_courier: list[dict] = field(default_factory=list)   # courier, currency, count, recoverable
    customers_with_remedy: int = 0
    customers_with_remedy_who_returned: int = 0
    customers_without_remedy: int = 0
    customers_without_remedy_who_returned: int = 0

    @property
    def return_rate_with_remedy(self) -> Decimal | None:
        return _rate(self.customers_with_remedy_who_returned, self.customers_with_remedy)

    @property
    def return_rate_without_remedy(self) -> Decimal | None:
        return _rate(self.customers_without_remedy_who_returned, self.customers_without_remedy)


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.001")) if whole else None


def remedy_cost_report(*, date_from: date, date_to: date) -> RemedyReport:
    """Applied remedies in [date_from, date_to] by kind, budget and courier; and whether customers came back:
    those who received a remedy for a case in the range against those whose cases got none (a repeat purchase is
    an order placed after the case arrived)."""
    applied = Remedy.objects.filter(
        status=RemedyStatus.APPLIED, applied_at__date__gte=date_from, applied_at__date__lte=date_to
    )
    report = RemedyReport(date_from=date_from, date_to=date_to)
    report.by_kind = list(applied.values("kind", "currency").annotate(count=Count("id"), total=Sum("amount"))
                          .order_by("kind", "currency"))
    report.by_budget = list(applied.values("budget", "currency").annotate(count=Count("id"), total=Sum("amount"))
                            .order_by("budget", "currency"))
    report.by_courier = list(
        applied.filter(recoverable_from__isnull=False)
        .values("recoverable_from__name", "currency").annotate(count=Count("id"), recoverable=Sum("amount"))
        .order_by("recoverable_from__name", "currency")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH case_customers AS (
                SELECT c.customer_id, MIN(c.arrived_at) AS first_case_at,
                       BOOL_OR(EXISTS (SELECT 1 FROM policies_remedy r
                                       WHERE r.case_id = c.arrival_number AND r.status = 'applied')) AS had_remedy
                FROM cases_case c
                WHERE c.arrived_at::date BETWEEN %s AND %s
                GROUP BY c.customer_id
            )
            SELECT had_remedy, COUNT(*),
                   COUNT(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM orders_order o
                       WHERE o.customer_id = cc.customer_id AND o.placed_at > cc.first_case_at
                         AND o.status <> 'cancelled'))
            FROM case_customers cc GROUP BY had_remedy
            """,
            [date_from, date_to],
        )
        for had_remedy, count, returned in cursor.fetchall():
            if had_remedy:
                report.customers_with_remedy, report.customers_with_remedy_who_returned = count, returned
            else:
                report.customers_without_remedy, report.customers_without_remedy_who_returned = count, returned
    return report
