"""Read queries about cases: the fair queue and its counts.

The queue is ordered by arrival, (arrived_at, arrival_number), first come first served. Nothing about the
customer's spend takes part in the order or in any filter, so spend never moves a case up.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as DbCase
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


def _queue_filtered(*, user, filters: QueueFilters, now: datetime) -> QuerySet[Case]:
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
    return cases


def _queue_row_annotations(cases: QuerySet[Case], now: datetime) -> QuerySet[Case]:
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


def queue_cases(*, user, filters: QueueFilters | None = None, now: datetime | None = None) -> QuerySet[Case]:
    """The queue's rows with what the page shows, in arrival order; three columns come from subqueries."""
    filters = filters or QueueFilters()
    now = now or timezone.now()
    return _queue_row_annotations(_queue_filtered(user=user, filters=filters, now=now), now)


def queue_listed_cases(*, user, filters: QueueFilters | None = None,
                       now: datetime | None = None) -> QuerySet[Case]:
    """The cases queue_cases lists, in its order, without its row columns: what a paginator counts and numbers
    pages on (queue_page_cases loads the rows)."""
    return _queue_filtered(user=user, filters=filters or QueueFilters(), now=now or timezone.now()).order_by(
        *QUEUE_ORDER)


def queue_page_cases(*, user, filters: QueueFilters | None = None, now: datetime | None = None,
                     offset: int = 0, limit: int = 50) -> list[Case]:
    """One page of queue_cases in one query: the page's cases are found first (in arrival order, on the open
    queue's index) and only those get the subquery columns, so a deep page does not compute them for every case
    it skips."""
    filters = filters or QueueFilters()
    now = now or timezone.now()
    page = _queue_filtered(user=user, filters=filters, now=now).order_by(*QUEUE_ORDER).values("pk")
    return list(_queue_row_annotations(Case.objects.filter(pk__in=page[offset:offset + limit]), now)
                .only(*QUEUE_ROW_FIELDS))


# What a queue row shows (queue_page_cases loads only these: no description, no password hash).
QUEUE_ROW_FIELDS = (
    "arrival_number", "category", "channel", "status", "subject", "arrived_at", "first_response_due_at",
    "resolution_due_at", "first_responded_at", "customer__name", "owner__username", "order__is_date_critical",
    "order__promised_delivery_date", "order__occasion",
)


# The queue's counts, grouped: one row per (status, category, channel, owner, date-critical, overdue, quiet) that
# has open cases. Every count the filters show, and the number of cases any filter of open cases lists, is a sum
# over these rows.
QUEUE_GROUP_FIELDS = ("status", "category", "channel", "owner_id", "is_date_critical", "is_overdue", "is_quiet")


def queue_count_groups(*, now: datetime | None = None) -> list[tuple]:
    """The open cases counted by QUEUE_GROUP_FIELDS, in one grouped query: [(status, ..., is_quiet, n), ...]."""
    now = now or timezone.now()

    def flag(condition) -> DbCase:
        return DbCase(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())

    return list(
        Case.objects.filter(status__in=OPEN_STATUSES)
        .annotate(
            # a probe per open case by primary key, rather than joining every order
            is_date_critical=flag(Exists(Order.objects.filter(pk=OuterRef("order_id"), is_date_critical=True))),
            is_overdue=flag(_overdue_q(now)),
            is_quiet=flag(_quiet_q(now)),
        )
        .order_by()
        .values_list(*QUEUE_GROUP_FIELDS)
        .annotate(n=Count("arrival_number"))
    )


def _group_matches(group: tuple, *, user_id, filters: QueueFilters) -> bool:
    status, category, channel, owner_id, is_date_critical, is_overdue, is_quiet, _n = group
    return ((filters.status == STATUS_OPEN or filters.status == status)
            and (not filters.category or filters.category == category)
            and (not filters.channel or filters.channel == channel)
            and (filters.owner != OWNER_MINE or owner_id == user_id)
            and (filters.owner != OWNER_UNOWNED or owner_id is None)
            and (not filters.date_critical or is_date_critical)
            and (not filters.overdue or is_overdue)
            and (not filters.quiet or is_quiet))


def queue_filter_total(groups: list[tuple], *, user, filters: QueueFilters) -> int | None:
    """How many cases the filters list, from the grouped counts; None for a filter that lists closed or resolved
    cases (those are not counted in groups)."""
    if filters.status not in OPEN_STATUSES and filters.status != STATUS_OPEN:
        return None
    return sum(group[-1] for group in groups if _group_matches(group, user_id=user.pk, filters=filters))


def queue_counts_from_groups(groups: list[tuple], *, user) -> dict[str, int]:
    """queue_counts' dict, summed from queue_count_groups' rows."""
    counts = {"open": 0, "mine": 0, "unowned": 0, "date_critical": 0, "overdue": 0, "quiet": 0}
    for value in OPEN_STATUSES:
        counts[f"status:{value}"] = 0
    for value in CaseCategory.values:
        counts[f"category:{value}"] = 0
    for value in CaseChannel.values:
        counts[f"channel:{value}"] = 0
    for status, category, channel, owner_id, is_date_critical, is_overdue, is_quiet, n in groups:
        counts["open"] += n
        counts[f"status:{status}"] += n
        counts[f"category:{category}"] = counts.get(f"category:{category}", 0) + n
        counts[f"channel:{channel}"] = counts.get(f"channel:{channel}", 0) + n
        if owner_id is None:
            counts["unowned"] += n
        elif owner_id == user.pk:
            counts["mine"] += n
        counts["date_critical"] += n if is_date_critical else 0
        counts["overdue"] += n if is_overdue else 0
        counts["quiet"] += n if is_quiet else 0
    return counts


def queue_counts(*, user, now: datetime | None = None) -> dict[str, int]:
    """How many open cases each filter would show, in one query: {"open": 12, "mine": 3, "category:lost_parcel": 2, ...}.

    Only open cases are counted (the queue's business); resolved and closed cases are listed without a count.
    """
    return queue_counts_from_groups(queue_count_groups(now=now), user=user)


@dataclass(frozen=True)
class QueueCountsSnapshot:
    groups: list
    counted_at: datetime


def queue_counts_snapshot(*, now: datetime | None = None) -> QueueCountsSnapshot:
    """The grouped counts, recounted at most every DASHBOARD_QUEUE_COUNTS_SECONDS, or at once after any case
    changed (a new case, or a write that moves updated_at).

    The recount reads every open case (the overdue and quiet counts move with the clock, so no counter kept on
    writes can hold them); between recounts the page says when it counted. Every page view still asks the database
    one cheap question (the newest updated_at and arrival number, both on indexes), so what an agent just did shows
    at once in the counts.
    """
    now = now or timezone.now()
    max_age = settings.DASHBOARD_QUEUE_COUNTS_SECONDS
    stamp = tuple(Case.objects.aggregate(updated=Max("updated_at"), number=Max("arrival_number")).values())
    key = "dashboard:queue-counts:v1"
    cached = cache.get(key) if max_age > 0 else None
    if cached is not None:
        cached_stamp, snapshot = cached
        if cached_stamp == stamp and timedelta(0) <= now - snapshot.counted_at < timedelta(seconds=max_age):
            return snapshot
    snapshot = QueueCountsSnapshot(groups=queue_count_groups(now=now), counted_at=now)
    if max_age > 0:
        cache.set(key, (stamp, snapshot), max_age)
    return snapshot


def delivery_check_latest(*, case) -> dict | None:
    """What the latest delivery check on this case found (its timeline event's data), or None."""
    from .services import DELIVERY_CHECK_RULE

    event = (CaseEvent.objects.filter(case=case, kind=CaseEventKind.DETECTED, data__rule=DELIVERY_CHECK_RULE)
             .order_by("-occurred_at", "-id").only("data").first())
    return event.data if event is not None else None
