"""Read queries about cases: the fair queue and its counts.

The queue is ordered by arrival, (arrived_at, arrival_number), first come first served. Nothing about the
customer's spend takes part in the order or in any filter, so spend never moves a case up.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.models import Order

from .models import (
    OPEN_STATUSES,
    Case,
    CaseCategory,
    CaseChannel,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    Promise,
    PromiseStatus,
)

QUEUE_ORDER = ("arrived_at", "arrival_number")
RARE_COMPLAINT_WINDOW = timedelta(days=365)

OWNER_MINE = "mine"
OWNER_UNOWNED = "unowned"
STATUS_OPEN = "open_any"  # any of the open statuses (the default)
STATUS_ALL = "all"


@dataclass(frozen=True)
class QueueFilters:
    status: str = STATUS_OPEN
    category: str = ""
    channel: str = ""
    owner: str = ""  # "", "mine", "unowned"
    date_critical: bool = False
    overdue: bool = False
    quiet: bool = False


def _status_q(status: str) -> Q:
    if status == STATUS_ALL:
        return Q()
    if status in CaseStatus.values:
        return Q(status=status)
    return Q(status__in=OPEN_STATUSES)


def _overdue_q(now: datetime) -> Q:
    return Q(status__in=OPEN_STATUSES) & (
        Q(first_responded_at__isnull=True, first_response_due_at__lt=now) | Q(resolution_due_at__lt=now)
    )


def _other_recent_case(now: datetime):
    return Case.objects.filter(
        customer_id=OuterRef("customer_id"), arrived_at__gte=now - RARE_COMPLAINT_WINDOW
    ).exclude(arrival_number=OuterRef("arrival_number"))


def _quiet_q(now: datetime) -> Q:
    """Waiting long without a reply, or from a customer who rarely complains (whatever they spend)."""
    waited = now - timedelta(hours=settings.DASHBOARD_QUIET_WAIT_HOURS)
    return Q(status__in=OPEN_STATUSES) & (
        Q(first_responded_at__isnull=True, arrived_at__lte=waited) | ~Exists(_other_recent_case(now))
    )


def queue_cases(*, user, filters: QueueFilters | None = None, now: datetime | None = None) -> QuerySet[Case]:
    """The queue's rows with what the page shows, in arrival order; three columns come from subqueries."""
    filters = filters or QueueFilters()
    now = now or timezone.now()
    cases = Case.objects.filter(_status_q(filters.status))
    if filters.category:
        cases = cases.filter(category=filters.category)
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    if filters.owner == OWNER_MINE:
        cases = cases.filter(owner=user)
    elif filters.owner == OWNER_UNOWNED:
        cases = cases.filter(owner__isnull=True)
    if filters.date_critical:
        cases = cases.filter(order__is_date_critical=True)
    if filters.overdue:
        cases = cases.filter(_overdue_q(now))
    if filters.quiet:
        cases = cases.filter(_quiet_q(now))
    open_promises = Promise.objects.filter(case=OuterRef("pk"), status=PromiseStatus.OPEN)
    return (
        cases.select_related("customer", "owner", "order")
        .annotate(
            open_promise_count=Coalesce(
                Subquery(
                    open_promises.order_by().values("case").annotate(n=Count("id")).values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            next_promise_due=Subquery(
                open_promises.order_by().values("case").annotate(d=Min("due_at")).values("d")
            ),
            is_rare_complainer=~Exists(_other_recent_case(now)),
        )
        .order_by(*QUEUE_ORDER)
    )


def queue_counts(*, user, now: datetime | None = None) -> dict[str, int]:
    """How many open cases each filter would show, in one query: {"open": 12, "mine": 3, "category:lost_parcel": 2, ...}.

    Only open cases are counted (the queue's business); resolved and closed cases are listed without a count.
    """
    now = now or timezone.now()
    aggregates = {
        "open": Count("arrival_number"),
        "mine": Count("arrival_number", filter=Q(owner=user)),
        "unowned": Count("arrival_number", filter=Q(owner__isnull=True)),
        # a probe per open case by primary key, rather than joining every order
        "date_critical": Count("arrival_number", filter=Q(Exists(
            Order.objects.filter(pk=OuterRef("order_id"), is_date_critical=True)
        ))),
        "overdue": Count("arrival_number", filter=_overdue_q(now)),
        "quiet": Count("arrival_number", filter=_quiet_q(now)),
    }
    for value in OPEN_STATUSES:
        aggregates[f"status:{value}"] = Count("arrival_number", filter=Q(status=value))
    for value in CaseCategory.values:
        aggregates[f"category:{value}"] = Count("arrival_number", filter=Q(category=value))
    for value in CaseChannel.values:
        aggregates[f"channel:{value}"] = Count("arrival_number", filter=Q(channel=value))
    return Case.objects.filter(status__in=OPEN_STATUSES).aggregate(**aggregates)


def delivery_check_latest(*, case) -> dict | None:
    """What the latest delivery check on this case found (its timeline event's data), or None."""
    from .services import DELIVERY_CHECK_RULE

    event = (CaseEvent.objects.filter(case=case, kind=CaseEventKind.DETECTED, data__rule=DELIVERY_CHECK_RULE)
             .order_by("-occurred_at", "-id").only("data").first())
    return event.data if event is not None else None
