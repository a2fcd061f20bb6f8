"""Survey reads: the case page's survey, a customer's average and last rating, the report's figures."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Avg, Count, OuterRef, Q, Subquery

from customers.models import Customer
from policies.models import Remedy, RemedyStatus

from .models import Survey

NO_REMEDY = ""  # the report's group of rated cases that received no remedy
NO_AGENT = ""


def case_survey(*, case) -> Survey | None:
    return Survey.objects.filter(case=case).first()


@dataclass(frozen=True)
class CustomerSatisfaction:
    rated_count: int
    average: Decimal | None
    last_rating: int | None


def _average(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def customer_satisfaction(*, customer) -> CustomerSatisfaction:
    """Over all the customer's rated surveys, in one query: how many, the average, the latest score."""
    rated = Survey.objects.filter(customer=OuterRef("pk"), rating__isnull=False)
    row = (
        Customer.objects.filter(pk=customer.pk)
        .annotate(
            rated_count=Count("surveys", filter=Q(surveys__rating__isnull=False)),
            average=Avg("surveys__rating", filter=Q(surveys__rating__isnull=False)),
            last_rating=Subquery(rated.order_by("-rated_at", "-id").values("rating")[:1]),
        )
        .values("rated_count", "average", "last_rating")
        .first()
    ) or {"rated_count": 0, "average": None, "last_rating": None}
    return CustomerSatisfaction(rated_count=row["rated_count"], average=_average(row["average"]),
                                last_rating=row["last_rating"])


SATISFACTION_SQL = """
SELECT 'category' AS dimension, s.category AS grp, COUNT(*) AS answers, AVG(s.rating) AS average,
       SUM(CASE WHEN s.rating >= 4 THEN 1 ELSE 0 END) AS satisfied
FROM {survey} s
WHERE s.rating IS NOT NULL AND s.rated_at >= %(start)s AND s.rated_at < %(end)s
GROUP BY s.category
UNION ALL
SELECT 'kind', COALESCE(k.kind, ''), COUNT(*), AVG(s.rating), SUM(CASE WHEN s.rating >= 4 THEN 1 ELSE 0 END)
FROM {survey} s
LEFT JOIN (SELECT DISTINCT r.case_id, r.kind FROM {remedy} r WHERE r.status = %(applied)s) k
       ON k.case_id = s.case_id
WHERE s.rating IS NOT NULL AND s.rated_at >= %(start)s AND s.rated_at < %(end)s
GROUP BY k.kind
UNION ALL
SELECT 'agent', COALESCE(u.{username}, ''), COUNT(*), AVG(s.rating), SUM(CASE WHEN s.rating >= 4 THEN 1 ELSE 0 END)
FROM {survey} s LEFT JOIN {user} u ON u.{user_pk} = s.agent_id
WHERE s.rating IS NOT NULL AND s.rated_at >= %(start)s AND s.rated_at < %(end)s
GROUP BY u.{username}
"""


def satisfaction_by(*, start: datetime, end: datetime) -> dict[str, list[dict]]:
    """Ratings given in [start, end), grouped by case category, by remedy kind and by agent, in ONE query.

    Each row: {key, answers, average (1 decimal), satisfied (4 or 5), satisfied_share (%)}. A case that received
    two kinds of remedy counts once under each kind; a rated case with no applied remedy is under the key "".
    The agent is the case's owner when it was resolved ("" for nobody).
    """
    user = get_user_model()
    quote = connection.ops.quote_name
    sql = SATISFACTION_SQL.format(
        survey=quote(Survey._meta.db_table), remedy=quote(Remedy._meta.db_table), user=quote(user._meta.db_table),
        username=quote(user._meta.get_field(user.USERNAME_FIELD).column), user_pk=quote(user._meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": start, "end": end, "applied": RemedyStatus.APPLIED})
        rows = cursor.fetchall()
    result: dict[str, list[dict]] = {"category": [], "kind": [], "agent": []}
    for dimension, key, answers, average, satisfied in rows:
        result[dimension].append({
            "key": key or "", "answers": answers, "average": _average(average), "satisfied": int(satisfied or 0),
            "satisfied_share": (Decimal(int(satisfied or 0)) * 100 / answers).quantize(Decimal("0.1")),
        })
    for rows_of in result.values():
        rows_of.sort(key=lambda row: (-row["answers"], row["key"]))
    return result
