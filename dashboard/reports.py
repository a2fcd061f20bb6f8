"""The remedy report: what remedies cost, what is recoverable from couriers, and what they kept.

Every figure is computed in the database (GROUP BY / FILTER) from policies.Remedy, cases and orders.
Money is summed per currency: amounts in different currencies are never added together.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from babel.dates import format_skeleton
from django.conf import settings
from django.db import connection
from django.db.models import Case, CharField, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone, translation
from django.utils.translation import gettext

from caseapp.money import ZERO
from cases.models import CaseCategory
from claims.models import ClaimStatus
from customers.selectors import SPENDING_ORDER_STATUSES
from policies.models import Remedy, RemedyKind, RemedyStatus
from policies.selectors import budget_label, remedies_awaiting_payment, remedy_ledger_totals

RETENTION_WINDOWS_DAYS = (90, 180)
NO_COURIER = "—"

DIMENSIONS = {
    "kind": ("kind", dict(RemedyKind.choices)),
    "category": ("case__category", dict(CaseCategory.choices)),
    "courier": (None, {}),
    "month": (None, {}),
}


@dataclass(frozen=True)
class ReportPeriod:
    date_from: date
    date_to: date  # inclusive

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        """Exclusive end: midnight after date_to."""
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    @classmethod
    def default(cls, today: date | None = None) -> "ReportPeriod":
        today = today or timezone.localdate()
        return cls(date_from=today - timedelta(days=365), date_to=today)


def applied_remedies(period: ReportPeriod):
    return Remedy.objects.filter(status=RemedyStatus.APPLIED, applied_at__gte=period.start, applied_at__lt=period.end)


def cost_by(dimension: str, period: ReportPeriod) -> list[dict]:
    """Rows of {label, currency, budget, count, cost} for one dimension: kind, category, courier or month."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"Unknown report dimension {dimension!r}.")
    remedies = applied_remedies(period)
    if dimension == "courier":
        remedies = remedies.annotate(
            group=Coalesce(
                F("case__shipment__courier__name"), F("recoverable_from__name"), Value(NO_COURIER),
                output_field=CharField(),
            )
        )
    elif dimension == "month":
        remedies = remedies.annotate(group=TruncMonth("applied_at"))
    else:
        remedies = remedies.annotate(group=F(DIMENSIONS[dimension][0]))
    rows = (
        remedies.values("group", "currency", "budget")
        .annotate(count=Count("id"), cost=Sum("amount"))
        .order_by("group", "currency", "budget")
    )
    labels = DIMENSIONS[dimension][1]
    result = []
    for row in rows:
        group = row["group"]
        if dimension == "month":
            month = _month_of(group)
            key = f"{month:%Y-%m}"
            label = month_label(month)
        elif group == NO_COURIER:
            label = gettext("no courier")
        else:
            label = gettext(str(labels.get(group, group)))
        result.append({
            "key": group if dimension != "month" else key,
            "label": label,
            "currency": row["currency"],
            "budget": row["budget"],
            "budget_label": budget_label(row["budget"]),
            "count": row["count"],
            "cost": row["cost"],
        })
    return result


def _month_of(group) -> date:
    """TruncMonth gives an aware datetime (PostgreSQL) or a date; the first day of the month either way."""
    if isinstance(group, datetime):
        return timezone.localtime(group).date() if timezone.is_aware(group) else group.date()
    if isinstance(group, date):
        return group
    return date.fromisoformat(str(group)[:10])


def reader_locale() -> str:
    """The Babel locale of the active language (the reader's), e.g. "ro" or "en_US"."""
    return translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE)


def month_label(month: date) -> str:
    """A month as a reader says it, e.g. "Dec 2026", "dec. 2026", "дек. 2026 г.", "dic 2026"."""
    return format_skeleton("yMMM", month, locale=reader_locale())


def month_tick(month: date, *, with_year: bool) -> tuple[str, str]:
    """A chart's axis label under a month: the short month name, and the year where it changes."""
    return format_skeleton("MMM", month, locale=reader_locale()), (
        format_skeleton("y", month, locale=reader_locale()) if with_year else ""
    )


def recoverable_by_courier(period: ReportPeriod) -> list[dict]:
    """What the shop paid for couriers' failures, per courier and currency: what it could claim back."""
    rows = (
        applied_remedies(period).filter(recoverable_from__isnull=False)
        .values("recoverable_from__name", "currency")
        .annotate(count=Count("id"), cost=Sum("amount"))
        .order_by("recoverable_from__name", "currency")
    )
    return [
        {"label": row["recoverable_from__name"], "currency": row["currency"], "count": row["count"],
         "cost": row["cost"]}
        for row in rows
    ]


def claims_by_courier_and_month(period: ReportPeriod) -> list[dict]:
    """Per courier, month (of the remedy) and currency, in one grouped query over the remedies recoverable from a
    courier and their claims: absorbed (what the remedies cost), claimed (filed with the courier), recovered
    (paid back), written off (claims closed unpaid, and the part a partial payment left unpaid), and the
    recovery rate (recovered / claimed, in percent; None when nothing was claimed)."""
    money = DecimalField(max_digits=12, decimal_places=2)
    rows = (
        applied_remedies(period).filter(recoverable_from__isnull=False)
        .annotate(month=TruncMonth("applied_at"))
        .values("recoverable_from__name", "month", "currency")
        .annotate(
            remedies=Count("id"),
            absorbed=Sum("amount"),
            claimed=Coalesce(Sum("claim__amount", filter=Q(claim__filed_at__isnull=False)), Value(ZERO),
                             output_field=money),
            recovered=Coalesce(Sum("claim__recovered_amount"), Value(ZERO), output_field=money),
            written_off=Coalesce(Sum(Case(
                When(claim__status=ClaimStatus.WRITTEN_OFF, then=F("claim__amount")),
                When(claim__status=ClaimStatus.PAID, then=F("claim__amount") - F("claim__recovered_amount")),
                default=Value(ZERO), output_field=money)), Value(ZERO), output_field=money),
        )
        .order_by("recoverable_from__name", "month", "currency")
    )
    result = []
    for row in rows:
        month = _month_of(row["month"])
        claimed, recovered = row["claimed"], row["recovered"]
        result.append({
            "courier": row["recoverable_from__name"], "month": f"{month:%Y-%m}", "month_label": month_label(month),
            "currency": row["currency"], "remedies": row["remedies"], "absorbed": row["absorbed"],
            "claimed": claimed, "recovered": recovered, "written_off": row["written_off"],
            "recovery_rate": (recovered * 100 / claimed).quantize(Decimal("0.1")) if claimed else None,
        })
    return result


RETENTION_SQL = """
WITH case_customers AS (
    SELECT c.customer_id, MIN(c.arrived_at) AS first_case_at
    FROM cases_case c
    WHERE c.arrived_at >= %(start)s AND c.arrived_at < %(end)s
    GROUP BY c.customer_id
), remedied AS (
    SELECT r.customer_id, MIN(r.applied_at) AS first_remedy_at
    FROM policies_remedy r
    JOIN cases_case c ON c.arrival_number = r.case_id
    WHERE r.status = 'applied' AND c.arrived_at >= %(start)s AND c.arrived_at < %(end)s
    GROUP BY r.customer_id
), cohort AS (
    SELECT cc.customer_id, rm.customer_id IS NOT NULL AS got_remedy,
           COALESCE(rm.first_remedy_at, cc.first_case_at) AS since
    FROM case_customers cc LEFT JOIN remedied rm ON rm.customer_id = cc.customer_id
)
SELECT got_remedy,
       COUNT(*) AS customers,
       COUNT(*) FILTER (WHERE since <= %(cutoff_90)s) AS eligible_90,
       COUNT(*) FILTER (WHERE since <= %(cutoff_90)s AND EXISTS (
           SELECT 1 FROM orders_order o WHERE o.customer_id = cohort.customer_id
           AND o.status IN ({statuses}) AND o.placed_at > cohort.since
           AND o.placed_at <= {since_plus_90})) AS returned_90,
       COUNT(*) FILTER (WHERE since <= %(cutoff_180)s) AS eligible_180,
       COUNT(*) FILTER (WHERE since <= %(cutoff_180)s AND EXISTS (
           SELECT 1 FROM orders_order o WHERE o.customer_id = cohort.customer_id
           AND o.status IN ({statuses}) AND o.placed_at > cohort.since
           AND o.placed_at <= {since_plus_180})) AS returned_180
FROM cohort
GROUP BY got_remedy
"""


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def retention_after_remedy(period: ReportPeriod, now: datetime | None = None) -> list[dict]:
    """Customers with a case arriving in the period: those who received a remedy against those who did not.

    For each group, the share who ordered again within 90 and 180 days of their first remedy (or, without a
    remedy, of their first case). A customer counts in a window only once the whole window has passed.
    """
    now = now or timezone.now()
    if connection.vendor == "sqlite":  # the embedded default; PostgreSQL in production
        def plus(days):
            return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', cohort.since, '+{days} days')"
    else:
        def plus(days):
            return f"cohort.since + INTERVAL '{days} days'"
    statuses = ", ".join(f"'{status}'" for status in SPENDING_ORDER_STATUSES)  # constants, not user input
    sql = RETENTION_SQL.format(statuses=statuses, since_plus_90=plus(90), since_plus_180=plus(180))
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": period.start, "end": period.end,
                             "cutoff_90": now - timedelta(days=90), "cutoff_180": now - timedelta(days=180)})
        columns = [col[0] for col in cursor.description]
        found = {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    result = []
    for got_remedy in (True, False):
        row = found.get(got_remedy, {"customers": 0, "eligible_90": 0, "returned_90": 0, "eligible_180": 0,
                                     "returned_180": 0})
        result.append({
            "got_remedy": got_remedy,
            "customers": row["customers"],
            "eligible_90": row["eligible_90"],
            "returned_90": row["returned_90"],
            "share_90": _share(row["returned_90"], row["eligible_90"]),
            "eligible_180": row["eligible_180"],
            "returned_180": row["returned_180"],
            "share_180": _share(row["returned_180"], row["eligible_180"]),
        })
    return result


def totals_by_currency(rows: list[dict]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row["currency"]] = totals.get(row["currency"], Decimal("0")) + row["cost"]
    return dict(sorted(totals.items()))


def payments_committed_and_paid(period: ReportPeriod) -> list[dict]:
    """Per currency, what refunds, free items and cancellations applied in the period committed, and how much of
    it has been paid (a payment reference recorded) or is still to pay."""
    return remedy_ledger_totals(start=period.start, end=period.end)


def payments_awaiting(now: datetime | None = None) -> list[Remedy]:
    """Every applied refund, free item or cancellation not yet paid, whatever the period, longest waiting first
    (each with ``waited``)."""
    return remedies_awaiting_payment(now=now)
