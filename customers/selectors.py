"""Read queries about customers. Loyalty facts are computed in the database, never stored on the row."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from .models import Customer


@dataclass(frozen=True)
class LoyaltyFacts:
    customer_id: int
    customer_since: date
    tenure_days: int
    order_count: int  # orders that count: placed, paid, shipped or delivered (not cancelled nor returned)
    first_order_at: object
    last_order_at: object
    lifetime_spend: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount
    voucher_count: int = 0
    case_count: int = 0
    open_case_count: int = 0
    remedy_count: int = 0
    remedies_this_year: int = 0
    remedy_cost: dict[str, Decimal] = field(default_factory=dict)
    cancelled_order_count: int = 0

    @property
    def tenure_years(self) -> float:
        return round(self.tenure_days / 365.25, 1)


SPENDING_ORDER_STATUSES = ("placed", "paid", "shipped", "delivered")


def customer_loyalty_facts(*, customer: Customer, today: date | None = None) -> LoyaltyFacts:
    """Tenure, orders, lifetime spend per currency, vouchers, cases and remedies: five aggregate queries."""
    today = today or timezone.localdate()
    # "As of today": a replay of a past case asks with its arrival day and must not see later orders.
    orders = customer.orders.filter(status__in=SPENDING_ORDER_STATUSES, placed_at__date__lte=today)
    spending = Q(status__in=SPENDING_ORDER_STATUSES)
    order_totals = customer.orders.filter(placed_at__date__lte=today).aggregate(
        n=Count("id", filter=spending), first=Min("placed_at", filter=spending),
        last=Max("placed_at", filter=spending), cancelled=Count("id", filter=Q(status="cancelled")))
    spend = {
        row["currency"]: row["spend"]
        for row in orders.values("currency").annotate(spend=Sum("total")).order_by("currency")
    }
    cases = customer.cases.aggregate(
        n=Count("arrival_number"),
        open=Count("arrival_number", filter=Q(status__in=("new", "open", "waiting_on_shop", "waiting_on_customer"))),
    )
    applied = customer.remedies.filter(status="applied")
    remedy_cost = {
        row["currency"]: row["cost"]
        for row in applied.values("currency").annotate(cost=Sum("amount")).order_by("currency")
    }
    remedy_counts = applied.aggregate(
        n=Count("id"), this_year=Count("id", filter=Q(applied_at__year=today.year))
    )
    first_order = order_totals["first"]
    since = min(customer.customer_since, first_order.date()) if first_order else customer.customer_since
    return LoyaltyFacts(
        customer_id=customer.pk,
        customer_since=since,
        tenure_days=max((today - since).days, 0),
        order_count=order_totals["n"],
        first_order_at=first_order,
        last_order_at=order_totals["last"],
        lifetime_spend=spend,
        voucher_count=customer.vouchers_held.count(),
        case_count=cases["n"],
        open_case_count=cases["open"],
        remedy_count=remedy_counts["n"],
        remedies_this_year=remedy_counts["this_year"],
        remedy_cost=remedy_cost,
        cancelled_order_count=order_totals["cancelled"],
    )
