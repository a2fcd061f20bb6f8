"""Read queries about customers. Loyalty facts are computed in the database, never stored on the row."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
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
    remedy_cost_this_year: dict[str, Decimal] = field(default_factory=dict)  # applied this calendar year, by currency

    @property
    def tenure_years(self) -> float:
        return round(self.tenure_days / 365.25, 1)


SPENDING_ORDER_STATUSES = ("placed", "paid", "shipped", "delivered")


OPEN_CASE_STATUSES = ("new", "open", "waiting_on_shop", "waiting_on_customer")


def customer_loyalty_facts(*, customer: Customer, today: date | None = None) -> LoyaltyFacts:
    """Tenure, orders, lifetime spend per currency, vouchers, cases and remedies: one query on PostgreSQL (each
    fact a scalar subquery on its table's customer index), the same facts as the ORM's aggregates
    (``customer_loyalty_facts_orm``, kept for other databases and as the reference the tests compare with)."""
    if connection.vendor != "postgresql":
        return customer_loyalty_facts_orm(customer=customer, today=today)
    today = today or timezone.localdate()
    zone = timezone.get_current_timezone()
    # placed_at__date <= today, in the current time zone as Django's __date does: before the next local midnight
    until = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min), zone)
    year_start, year_end = connection.ops.year_lookup_bounds_for_datetime_field(today.year)
    from cases.models import Case
    from orders.models import Order
    from policies.models import Remedy
    from vouchers.models import Voucher

    orders, cases = Order._meta.db_table, Case._meta.db_table
    remedies, vouchers = Remedy._meta.db_table, Voucher._meta.db_table
    spending = "status IN %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT o.n, o.first, o.last, o.cancelled,
                (SELECT json_object_agg(currency, spend::text) FROM (SELECT currency, SUM(total) AS spend
                   FROM {orders} WHERE customer_id = %s AND placed_at < %s AND {spending} GROUP BY currency) s),
                (SELECT COUNT(*) FROM {vouchers} WHERE holder_id = %s),
                c.n, c.open, r.n, r.this_year,
                (SELECT json_object_agg(currency, cost::text) FROM (SELECT currency, SUM(amount) AS cost
                   FROM {remedies} WHERE customer_id = %s AND status = 'applied' GROUP BY currency) s),
                (SELECT json_object_agg(currency, cost::text) FROM (SELECT currency, SUM(amount) AS cost
                   FROM {remedies} WHERE customer_id = %s AND status = 'applied'
                   AND applied_at BETWEEN %s AND %s GROUP BY currency) s)
            FROM (SELECT COUNT(*) FILTER (WHERE {spending}) AS n, MIN(placed_at) FILTER (WHERE {spending}) AS first,
                         MAX(placed_at) FILTER (WHERE {spending}) AS last,
                         COUNT(*) FILTER (WHERE status = 'cancelled') AS cancelled
                  FROM {orders} WHERE customer_id = %s AND placed_at < %s) o,
                 (SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE status IN %s) AS open
                  FROM {cases} WHERE customer_id = %s) c,
                 (SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE applied_at BETWEEN %s AND %s) AS this_year
                  FROM {remedies} WHERE customer_id = %s AND status = 'applied') r""",  # nosec B608: only the models' table names go into the text
            [customer.pk, until, SPENDING_ORDER_STATUSES, customer.pk, customer.pk, customer.pk, year_start,
             year_end, SPENDING_ORDER_STATUSES, SPENDING_ORDER_STATUSES, SPENDING_ORDER_STATUSES, customer.pk, until,
             OPEN_CASE_STATUSES, customer.pk, year_start, year_end, customer.pk])
        (order_count, first_order, last_order, cancelled, spend, voucher_count, case_count, open_case_count,
         remedy_count, remedies_this_year, remedy_cost, cost_this_year) = cursor.fetchone()
    since = min(customer.customer_since, first_order.date()) if first_order else customer.customer_since
    return LoyaltyFacts(
        customer_id=customer.pk,
        customer_since=since,
        tenure_days=max((today - since).days, 0),
        order_count=order_count,
        first_order_at=first_order,
        last_order_at=last_order,
        lifetime_spend=_amounts(spend),
        voucher_count=voucher_count,
        case_count=case_count,
        open_case_count=open_case_count,
        remedy_count=remedy_count,
        remedies_this_year=remedies_this_year,
        remedy_cost=_amounts(remedy_cost),
        cancelled_order_count=cancelled,
        remedy_cost_this_year=_amounts(cost_this_year),
    )


def _amounts(by_currency: dict | None) -> dict[str, Decimal]:
    """{"RON": "900.00"} from json_object_agg -> {"RON": Decimal("900.00")}, ordered by currency as the ORM's."""
    return {currency: Decimal(amount) for currency, amount in sorted((by_currency or {}).items())}


def customer_loyalty_facts_orm(*, customer: Customer, today: date | None = None) -> LoyaltyFacts:
    """The same facts with the ORM's aggregates: seven queries."""
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
        open=Count("arrival_number", filter=Q(status__in=OPEN_CASE_STATUSES)),
    )
    applied = customer.remedies.filter(status="applied")
    remedy_cost = {
        row["currency"]: row["cost"]
        for row in applied.values("currency").annotate(cost=Sum("amount")).order_by("currency")
    }
    remedy_counts = applied.aggregate(
        n=Count("id"), this_year=Count("id", filter=Q(applied_at__year=today.year))
    )
    cost_this_year = {
        row["currency"]: row["cost"]
        for row in applied.filter(applied_at__year=today.year).values("currency").annotate(cost=Sum("amount"))
        .order_by("currency")
    }
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
        remedy_cost_this_year=cost_this_year,
    )
