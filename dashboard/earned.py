"""What remedies earned back: customers who received a remedy against comparable customers without one.

A cohort is a month (of the case's arrival, in the shop's time zone) and a case category. In it, the customers
who received an applied remedy on a case of that month and category are compared with the customers who had a
case of the same month and category and received no remedy in that month ("comparable customers"). For each,
counted from their first case of the cohort: the share who ordered again, and the revenue of those orders, within
90 and 180 days, per currency (currencies are never added together).

The estimate of what remedies kept, per cohort: customers kept = came back with a remedy − the customers with a
remedy × the comparable share; revenue kept = their revenue − what as many comparable customers spent. Totals per
month, remedy kind and courier add up cohorts (so each kind is compared with customers of its own months and
categories), counting only cohorts whose window has passed for every customer and that have comparable
customers. A window not yet passed is "not yet known", never a zero.

Every figure comes from one SQL statement that aggregates in the database (GROUP BY, FILTER, EXISTS on the
orders' (customer, placed_at) index); Python only combines the per-cohort rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from babel.lists import format_list
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from caseapp import formatting
from customers.selectors import SPENDING_ORDER_STATUSES

from .reports import ReportPeriod, month_label, reader_locale

WINDOWS_DAYS = (90, 180)
SENTENCE_WINDOW_DAYS = 90
ALL, KIND, COURIER, NONE = "all", "kind", "courier", "none"  # the dimension a row of the query counts under

# States of a comparison in one window
KNOWN, NOT_YET_KNOWN, NO_COMPARABLE = "known", "not_yet_known", "no_comparable"

EARNED_SQL = """
WITH case_rows AS (
    SELECT c.arrival_number AS case_id, c.customer_id, c.category, c.shipment_id, {month} AS month, c.arrived_at
    FROM cases_case c
    WHERE c.arrived_at >= %(start)s AND c.arrived_at < %(end)s
), units AS (
    SELECT customer_id, month, category, MIN(arrived_at) AS since
    FROM case_rows GROUP BY customer_id, month, category
), remedies AS (
    SELECT cr.customer_id, cr.month, cr.category, r.kind, COALESCE(sc.name, rc.name, '') AS courier,
           r.currency, r.amount
    FROM case_rows cr
    JOIN policies_remedy r ON r.case_id = cr.case_id AND r.status = 'applied'
    LEFT JOIN orders_shipment s ON s.id = cr.shipment_id
    LEFT JOIN orders_courier sc ON sc.id = s.courier_id
    LEFT JOIN orders_courier rc ON rc.id = r.recoverable_from_id
), labels AS (
    SELECT DISTINCT customer_id, month, category, 'all' AS dimension, '' AS label FROM remedies
    UNION SELECT DISTINCT customer_id, month, category, 'kind', kind FROM remedies
    UNION SELECT DISTINCT customer_id, month, category, 'courier', courier FROM remedies
), cohort AS (
    SELECT u.customer_id, u.month, u.category, u.since, l.dimension, l.label
    FROM units u JOIN labels l
      ON l.customer_id = u.customer_id AND l.month = u.month AND l.category = u.category
    UNION ALL
    SELECT u.customer_id, u.month, u.category, u.since, 'none', ''
    FROM units u
    WHERE NOT EXISTS (SELECT 1 FROM remedies r WHERE r.customer_id = u.customer_id AND r.month = u.month)
)
SELECT 'count' AS part, month, category, dimension, label, '' AS currency,
       COUNT(*) AS customers,
       COUNT(*) FILTER (WHERE since <= %(cutoff_90)s) AS eligible_90,
       COUNT(*) FILTER (WHERE since <= %(cutoff_90)s AND EXISTS (
           SELECT 1 FROM orders_order o WHERE o.customer_id = cohort.customer_id AND o.status IN ({statuses})
           AND o.placed_at > cohort.since AND o.placed_at <= {since_plus_90})) AS returned_90,
       COUNT(*) FILTER (WHERE since <= %(cutoff_180)s) AS eligible_180,
       COUNT(*) FILTER (WHERE since <= %(cutoff_180)s AND EXISTS (
           SELECT 1 FROM orders_order o WHERE o.customer_id = cohort.customer_id AND o.status IN ({statuses})
           AND o.placed_at > cohort.since AND o.placed_at <= {since_plus_180})) AS returned_180,
       CAST(NULL AS NUMERIC) AS revenue_90, CAST(NULL AS NUMERIC) AS revenue_180, CAST(NULL AS NUMERIC) AS cost
FROM cohort GROUP BY month, category, dimension, label
UNION ALL
SELECT 'revenue', co.month, co.category, co.dimension, co.label, o.currency, 0, 0, 0, 0, 0,
       SUM(o.total) FILTER (WHERE co.since <= %(cutoff_90)s AND o.placed_at <= {co_since_plus_90}),
       SUM(o.total) FILTER (WHERE co.since <= %(cutoff_180)s),
       CAST(NULL AS NUMERIC)
FROM cohort co
JOIN orders_order o ON o.customer_id = co.customer_id AND o.status IN ({statuses})
     AND o.placed_at > co.since AND o.placed_at <= {co_since_plus_180}
GROUP BY co.month, co.category, co.dimension, co.label, o.currency
UNION ALL
SELECT 'cost', month, category, 'all', '', currency, 0, 0, 0, 0, 0, NULL, NULL, SUM(amount)
FROM remedies GROUP BY month, category, currency
UNION ALL
SELECT 'cost', month, category, 'kind', kind, currency, 0, 0, 0, 0, 0, NULL, NULL, SUM(amount)
FROM remedies GROUP BY month, category, kind, currency
UNION ALL
SELECT 'cost', month, category, 'courier', courier, currency, 0, 0, 0, 0, 0, NULL, NULL, SUM(amount)
FROM remedies GROUP BY month, category, courier, currency
"""


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@dataclass
class Cell:
    """One side (with a remedy under a label, or without) of one cohort: counts, revenue and cost."""

    customers: int = 0
    eligible: dict[int, int] = field(default_factory=dict)
    returned: dict[int, int] = field(default_factory=dict)
    revenue: dict[int, dict[str, Decimal]] = field(default_factory=lambda: {w: {} for w in WINDOWS_DAYS})
    cost: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Estimate:
    """Customers with a remedy against comparable customers, in one window, over one or more cohorts."""

    window_days: int
    status: str = NOT_YET_KNOWN
    customers: int = 0  # with a remedy, counted
    returned: int = 0
    expected: Decimal = Decimal("0")  # as many comparable customers would have come back
    comparable_customers: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)  # of the customers with a remedy
    revenue_expected: dict[str, Decimal] = field(default_factory=dict)  # what as many comparable ones spent
    cost: dict[str, Decimal] = field(default_factory=dict)

    def add(self, other: "Estimate") -> None:
        if other.status != KNOWN:
            return
        self.status = KNOWN
        self.customers += other.customers
        self.returned += other.returned
        self.expected += other.expected
        self.comparable_customers += other.comparable_customers
        for mine, theirs in ((self.revenue, other.revenue), (self.revenue_expected, other.revenue_expected),
                             (self.cost, other.cost)):
            for currency, amount in theirs.items():
                mine[currency] = mine.get(currency, Decimal("0")) + amount

    @property
    def is_known(self) -> bool:
        return self.status == KNOWN

    @property
    def share(self) -> Decimal | None:
        return _percent(self.returned, self.customers) if self.customers else None

    @property
    def comparable_share(self) -> Decimal | None:
        return _percent(self.expected, self.customers) if self.is_known and self.customers else None

    @property
    def difference_points(self) -> Decimal | None:
        if self.share is None or self.comparable_share is None:
            return None
        return (Decimal(self.returned - self.expected) * 100 / self.customers).quantize(Decimal("0.1"))

    @property
    def customers_kept(self) -> Decimal | None:
        return (Decimal(self.returned) - self.expected).quantize(Decimal("0.1")) if self.is_known else None

    def _per_customer(self, amounts) -> dict[str, Decimal]:
        return {cur: _money(amount / self.customers) for cur, amount in sorted(amounts.items())} \
            if self.customers else {}

    @property
    def revenue_per_customer(self) -> dict[str, Decimal]:
        return self._per_customer(self.revenue)

    @property
    def comparable_revenue_per_customer(self) -> dict[str, Decimal]:
        return self._per_customer(self.revenue_expected) if self.is_known else {}

    @property
    def revenue_kept(self) -> dict[str, Decimal]:
        if not self.is_known:
            return {}
        currencies = sorted(set(self.revenue) | set(self.revenue_expected))
        return {cur: _money(self.revenue.get(cur, 0) - self.revenue_expected.get(cur, 0)) for cur in currencies}

    @property
    def cost_per_customer_kept(self) -> dict[str, Decimal]:
        if not self.is_known or Decimal(self.returned) - self.expected <= 0:
            return {}
        kept = Decimal(self.returned) - self.expected
        return {cur: _money(amount / kept) for cur, amount in sorted(self.cost.items())}

    @property
    def revenue_total(self) -> dict[str, Decimal]:
        return {cur: _money(amount) for cur, amount in sorted(self.revenue.items())}

    @property
    def cost_total(self) -> dict[str, Decimal]:
        return {cur: _money(amount) for cur, amount in sorted(self.cost.items())}


def _percent(part, whole) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _compare(treated: Cell, comparable: Cell | None, window: int) -> Estimate:
    """One cohort, one window: known once the window has passed for every customer of both sides."""
    estimate = Estimate(window_days=window, customers=treated.customers, cost=dict(treated.cost))
    if treated.eligible.get(window, 0) < treated.customers:
        return estimate
    estimate.returned = treated.returned.get(window, 0)
    estimate.revenue = dict(treated.revenue[window])
    if comparable is None or not comparable.customers:
        estimate.status = NO_COMPARABLE
        return estimate
    if comparable.eligible.get(window, 0) < comparable.customers:
        return estimate
    estimate.status = KNOWN
    estimate.comparable_customers = comparable.customers
    ratio = Decimal(treated.customers) / Decimal(comparable.customers)
    estimate.expected = Decimal(comparable.returned.get(window, 0)) * ratio
    estimate.revenue_expected = {cur: amount * ratio for cur, amount in comparable.revenue[window].items()}
    return estimate


@dataclass
class CohortRow:
    month: str  # "2026-11"
    category: str
    label: str  # "" for every remedy, a remedy kind or a courier's name
    estimates: dict[int, Estimate]


@dataclass
class EarnedReport:
    period: ReportPeriod
    now: datetime
    cohorts: list[CohortRow]  # per month and category, every remedy
    by_month: list[CohortRow]
    by_kind: list[CohortRow]
    by_courier: list[CohortRow]
    month_cost: dict[str, dict[str, Decimal]]  # every remedy of a month's cases, per currency


def _sql(now: datetime) -> str:
    if connection.vendor == "sqlite":  # the embedded default; PostgreSQL in production
        month = "strftime('%%Y-%%m', c.arrived_at)"

        def plus(alias, days):
            return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {alias}.since, '+{days} days')"
    else:
        month = "to_char(c.arrived_at AT TIME ZONE %(tz)s, 'YYYY-MM')"

        def plus(alias, days):
            return f"{alias}.since + INTERVAL '{days} days'"
    statuses = ", ".join(f"'{status}'" for status in SPENDING_ORDER_STATUSES)  # constants, not user input
    return EARNED_SQL.format(month=month, statuses=statuses, since_plus_90=plus("cohort", 90),
                             since_plus_180=plus("cohort", 180), co_since_plus_90=plus("co", 90),
                             co_since_plus_180=plus("co", 180))


def _params(period: ReportPeriod, now: datetime) -> dict:
    params = {"start": period.start, "end": period.end, "cutoff_90": now - timedelta(days=90),
              "cutoff_180": now - timedelta(days=180), "tz": settings.TIME_ZONE}
    if connection.vendor == "sqlite":  # compared as text with the stored UTC values
        for key in ("start", "end", "cutoff_90", "cutoff_180"):
            params[key] = params[key].astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return params


def remedies_earned(period: ReportPeriod, now: datetime | None = None) -> EarnedReport:
    """What remedies earned back in the period (cases arriving in it): one query, whatever the data's size."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_sql(now), _params(period, now))
        rows = cursor.fetchall()
    cells: dict[tuple, Cell] = defaultdict(Cell)
    for part, month, category, dimension, label, currency, customers, e90, r90, e180, r180, rev90, rev180, cost \
            in rows:
        cell = cells[(month, category, dimension, label)]
        if part == "count":
            cell.customers = customers
            cell.eligible = {90: e90, 180: e180}
            cell.returned = {90: r90, 180: r180}
        elif part == "revenue":
            for window, amount in ((90, rev90), (180, rev180)):
                if amount is not None:
                    cell.revenue[window][currency] = _money(amount)
        else:
            cell.cost[currency] = _money(cost)
    cohorts, grouped = [], {dimension: defaultdict(dict) for dimension in ("month", KIND, COURIER)}
    month_cost: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for (month, category, dimension, label), cell in sorted(cells.items()):
        if dimension == NONE:
            continue
        comparable = cells.get((month, category, NONE, ""))
        estimates = {window: _compare(cell, comparable, window) for window in WINDOWS_DAYS}
        if dimension == ALL:
            cohorts.append(CohortRow(month=month, category=category, label="", estimates=estimates))
            for currency, amount in cell.cost.items():
                month_cost[month][currency] = month_cost[month].get(currency, Decimal("0")) + amount
            _add(grouped["month"], month, estimates)
        else:
            _add(grouped[dimension], label, estimates)
    return EarnedReport(
        period=period, now=now, cohorts=cohorts,
        by_month=[CohortRow(month=key, category="", label="", estimates=value)
                  for key, value in sorted(grouped["month"].items())],
        by_kind=[CohortRow(month="", category="", label=key, estimates=value)
                 for key, value in sorted(grouped[KIND].items())],
        by_courier=[CohortRow(month="", category="", label=key, estimates=value)
                    for key, value in sorted(grouped[COURIER].items())],
        month_cost={month: dict(sorted(costs.items())) for month, costs in month_cost.items()},
    )


def _add(into: dict, key: str, estimates: dict[int, Estimate]) -> None:
    """Adds a cohort's estimates to a total; a total is known when one of its cohorts is."""
    totals = into.setdefault(key, {w: Estimate(window_days=w, status=NO_COMPARABLE) for w in WINDOWS_DAYS})
    for window, estimate in estimates.items():
        if estimate.is_known:
            totals[window].add(estimate)
        elif estimate.status == NOT_YET_KNOWN and not totals[window].is_known:
            totals[window].status = NOT_YET_KNOWN


# --- Words ---------------------------------------------------------------------------------------------------

def money_list(amounts: dict[str, Decimal]) -> str:
    """Amounts in several currencies as the reader lists things: "120.00 EUR and 4,210.00 RON"."""
    parts = [formatting.money(amount, currency) for currency, amount in sorted(amounts.items())]
    return format_list(parts, locale=reader_locale()) if parts else ""


def month_long(month: str) -> str:
    return month_label(date.fromisoformat(f"{month}-01"))


def sentence(report: EarnedReport) -> str:
    """The report's first line in the reader's language, e.g. "In Nov 2026, 4,210.00 RON of remedies; customers
    who received one came back 18 points more often and spent 11,300.00 RON in 90 days."."""
    window = SENTENCE_WINDOW_DAYS
    if not report.month_cost:
        return gettext("No remedy applied in this period.")
    by_month = {row.month: row.estimates[window] for row in report.by_month}
    known = [month for month in sorted(report.month_cost) if by_month.get(month) and by_month[month].is_known]
    month = known[-1] if known else max(report.month_cost)
    values = {"month": month_long(month), "cost": money_list(report.month_cost[month]), "days": window}
    estimate = by_month.get(month)
    if estimate is None or not estimate.is_known:
        if estimate is not None and estimate.status == NO_COMPARABLE:
            return gettext("In %(month)s, %(cost)s of remedies; no comparable customer went without one, so what "
                           "they kept cannot be estimated.") % values
        return gettext("In %(month)s, %(cost)s of remedies; whether the customers came back is not yet known "
                       "(%(days)s days have not passed since every case).") % values
    revenue = estimate.revenue_total or {currency: Decimal("0") for currency in report.month_cost[month]}
    values["revenue"] = money_list(revenue)
    points = int(estimate.difference_points.to_integral_value())
    values["points"] = formatting.number(abs(points))
    if points > 0:
        return ngettext(
            "In %(month)s, %(cost)s of remedies; customers who received one came back %(points)s point more "
            "often and spent %(revenue)s in %(days)s days.",
            "In %(month)s, %(cost)s of remedies; customers who received one came back %(points)s points more "
            "often and spent %(revenue)s in %(days)s days.", abs(points)) % values
    if points < 0:
        return ngettext(
            "In %(month)s, %(cost)s of remedies; customers who received one came back %(points)s point less "
            "often and spent %(revenue)s in %(days)s days.",
            "In %(month)s, %(cost)s of remedies; customers who received one came back %(points)s points less "
            "often and spent %(revenue)s in %(days)s days.", abs(points)) % values
    return gettext("In %(month)s, %(cost)s of remedies; customers who received one came back as often as the "
                   "others and spent %(revenue)s in %(days)s days.") % values


# --- Rows as the page, the CSV and the API show them -----------------------------------------------------------

STATUS_LABELS = {
    NOT_YET_KNOWN: lambda: gettext("not yet known"),
    NO_COMPARABLE: lambda: gettext("no comparable customer"),
}


def window_data(estimate: Estimate) -> dict:
    """One window's figures as plain values (None where not known): the API's and the CSV's shape."""
    known = estimate.is_known
    counted = estimate.status != NOT_YET_KNOWN

    def amounts(values: dict[str, Decimal]) -> list[dict]:
        return [{"currency": currency, "amount": amount} for currency, amount in sorted(values.items())]

    return {
        "window_days": estimate.window_days,
        "status": estimate.status,
        "customers": estimate.customers,
        "came_back": estimate.returned if counted else None,
        "share_percent": estimate.share if counted else None,
        "comparable_customers": estimate.comparable_customers if known else None,
        "comparable_share_percent": estimate.comparable_share,
        "difference_points": estimate.difference_points,
        "customers_kept": estimate.customers_kept,
        "revenue": amounts(estimate.revenue_total) if counted else [],
        "revenue_per_customer": amounts(estimate.revenue_per_customer) if counted else [],
        "comparable_revenue_per_customer": amounts(estimate.comparable_revenue_per_customer),
        "revenue_kept": amounts(estimate.revenue_kept),
        "remedy_cost": amounts(estimate.cost_total),
        "cost_per_customer_kept": amounts(estimate.cost_per_customer_kept),
    }


def row_data(row: CohortRow) -> dict:
    return {"month": row.month, "category": row.category, "label": row.label,
            "windows": [window_data(row.estimates[window]) for window in WINDOWS_DAYS]}


def report_data(report: EarnedReport) -> dict:
    return {
        "date_from": report.period.date_from, "date_to": report.period.date_to,
        "sentence": sentence(report),
        "cohorts": [row_data(row) for row in report.cohorts],
        "by_month": [row_data(row) for row in report.by_month],
        "by_kind": [row_data(row) for row in report.by_kind],
        "by_courier": [row_data(row) for row in report.by_courier],
    }


CSV_HEADER = ["month", "category", "window_days", "status", "customers_with_remedy", "came_back_with_remedy",
              "share_with_remedy_percent", "comparable_customers", "comparable_share_percent", "difference_points",
              "customers_kept", "currency", "remedy_cost", "revenue_with_remedy", "revenue_per_customer_with_remedy",
              "revenue_per_comparable_customer", "revenue_kept", "cost_per_customer_kept"]


def csv_rows(report: EarnedReport):
    """The cohort table, one line per cohort, window and currency (amounts in two currencies are two lines)."""
    def blank(value):
        return "" if value is None else value

    for row in report.cohorts:
        for window in WINDOWS_DAYS:
            data = window_data(row.estimates[window])
            money_columns = ("remedy_cost", "revenue", "revenue_per_customer", "comparable_revenue_per_customer",
                             "revenue_kept", "cost_per_customer_kept")
            by_currency = {name: {item["currency"]: item["amount"] for item in data[name]} for name in money_columns}
            currencies = sorted(set().union(*(values.keys() for values in by_currency.values()))) or [""]
            for currency in currencies:
                yield [row.month, row.category, window, data["status"], data["customers"], blank(data["came_back"]),
                       blank(data["share_percent"]), blank(data["comparable_customers"]),
                       blank(data["comparable_share_percent"]), blank(data["difference_points"]),
                       blank(data["customers_kept"]), currency,
                       *(f"{by_currency[name][currency]:.2f}" if currency in by_currency[name] else ""
                         for name in money_columns)]
