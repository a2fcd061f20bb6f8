"""The queue's filter counts: one grouped query, kept as a snapshot between page views, always equal to a recount.

The snapshot is reused for DASHBOARD_QUEUE_COUNTS_SECONDS unless a case changed (newest updated_at or arrival
number moved); when it is reused, the page says when it counted.
"""

import itertools
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseStatus
from cases.selectors import (
    OWNER_MINE,
    OWNER_UNOWNED,
    STATUS_OPEN,
    QueueFilters,
    queue_cases,
    queue_count_groups,
    queue_counts,
    queue_counts_from_groups,
    queue_counts_snapshot,
    queue_filter_total,
)
from cases.services import (
    case_assign,
    case_change_status,
    case_mark_first_response,
    case_open,
    case_take_next,
)
from tests.dashboard.conftest import login
from tests.factories import CaseFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _counts_kept(settings):
    settings.DASHBOARD_QUEUE_COUNTS_SECONDS = 30


@pytest.fixture
def mixed(agent, other_agent):
    """Open cases of every kind: owned and not, date-critical, overdue, quiet, answered, repeat customers."""
    now = timezone.now()
    loud = CustomerFactory()
    critical = OrderFactory(is_date_critical=True)
    cases = [
        CaseFactory(owner=agent, category="lost_parcel", channel="phone", arrived_at=now - timedelta(days=4)),
        CaseFactory(owner=other_agent, status=CaseStatus.WAITING_ON_SHOP, arrived_at=now - timedelta(hours=2)),
        CaseFactory(customer=critical.customer, order=critical, arrived_at=now - timedelta(hours=30)),
        CaseFactory(customer=loud, arrived_at=now - timedelta(hours=20), first_responded_at=now),
        CaseFactory(customer=loud, arrived_at=now - timedelta(hours=1)),
        CaseFactory(customer=loud, status=CaseStatus.OPEN, owner=agent, arrived_at=now - timedelta(minutes=5)),
        CaseFactory(status=CaseStatus.RESOLVED),
        CaseFactory(status=CaseStatus.CLOSED, owner=agent),
    ]
    return cases


def _recount(user, filters, now):
    return queue_cases(user=user, filters=filters, now=now).count()


def test_every_filter_total_from_the_groups_is_a_recount(agent, mixed):
    # given
    now = timezone.now()
    groups = queue_count_groups(now=now)
    statuses = [STATUS_OPEN, CaseStatus.NEW, CaseStatus.WAITING_ON_SHOP]
    # when / then: every combination of the filters the page offers, on open cases
    for status, owner, category, date_critical, overdue, quiet in itertools.product(
            statuses, ["", OWNER_MINE, OWNER_UNOWNED], ["", "lost_parcel"], [False, True], [False, True],
            [False, True]):
        filters = QueueFilters(status=status, owner=owner, category=category, date_critical=date_critical,
                               overdue=overdue, quiet=quiet)
        assert queue_filter_total(groups, user=agent, filters=filters) == _recount(agent, filters, now), filters
    # and resolved or closed cases are not counted by the groups (the page counts them itself)
    assert queue_filter_total(groups, user=agent, filters=QueueFilters(status=CaseStatus.CLOSED)) is None


def test_the_counts_from_the_groups_are_each_filters_recount(agent, mixed):
    now = timezone.now()
    counts = queue_counts_from_groups(queue_count_groups(now=now), user=agent)
    assert counts["open"] == _recount(agent, QueueFilters(), now) == 6
    assert counts["mine"] == _recount(agent, QueueFilters(owner=OWNER_MINE), now) == 2
    assert counts["unowned"] == _recount(agent, QueueFilters(owner=OWNER_UNOWNED), now)
    assert counts["date_critical"] == _recount(agent, QueueFilters(date_critical=True), now) == 1
    assert counts["overdue"] == _recount(agent, QueueFilters(overdue=True), now)
    assert counts["quiet"] == _recount(agent, QueueFilters(quiet=True), now)
    assert counts["status:waiting_on_shop"] == 1
    assert counts["channel:phone"] == 1
    assert "status:closed" not in counts


def test_a_second_view_reuses_the_counts_and_says_when_it_counted(client, agent, mixed,
                                                                 django_assert_num_queries):
    # given: a first view counted
    login(client, agent)
    first = client.get(reverse("dashboard:queue"))
    assert "counted at" not in first.content.decode()
    # when: a second view, nothing changed
    with django_assert_num_queries(5):  # session, user, roles, the newest change, the page's rows: no recount
        second = client.get(reverse("dashboard:queue"))
    # then: the same counts, and the page says they are from an earlier count
    html = second.content.decode()
    assert "All open (6)" in html and "Mine (2)" in html
    assert "counted at" in html


SERVICE_ACTIONS = {
    "take next": lambda agent, cases: case_take_next(agent=agent),
    "assign": lambda agent, cases: case_assign(case=cases[1], owner=agent),
    "unassign": lambda agent, cases: case_assign(case=cases[0], owner=None),
    "resolve": lambda agent, cases: case_change_status(case=cases[2], status=CaseStatus.RESOLVED),
    "reopen": lambda agent, cases: case_change_status(case=cases[6], status=CaseStatus.OPEN),
    "first response": lambda agent, cases: case_mark_first_response(case=cases[4]),
    "new case": lambda agent, cases: case_open(customer=CustomerFactory(), category="other", channel="email",
                                               subject="Where is it?"),
}


@pytest.mark.parametrize("action", SERVICE_ACTIONS)
def test_after_any_service_action_the_page_shows_a_recount(client, agent, mixed, action):
    # given: the page counted once (a snapshot is kept)
    login(client, agent)
    client.get(reverse("dashboard:queue"))
    # when
    SERVICE_ACTIONS[action](agent, mixed)
    response = client.get(reverse("dashboard:queue"))
    # then: the counts are a recount, not the snapshot from before the action
    expected = queue_counts(user=agent)
    shown = response.context["counts"]
    assert shown == expected
    assert response.context["page"].paginator.count == expected["open"] == Case.objects.filter(
        status__in=("new", "open", "waiting_on_shop", "waiting_on_customer")).count()


def test_the_snapshot_is_recounted_once_it_is_older_than_its_time(agent, mixed, settings):
    # given
    now = timezone.now()
    first = queue_counts_snapshot(now=now)
    # when / then: reused within its time, counted again after it (the overdue and quiet counts move with the clock)
    assert queue_counts_snapshot(now=now + timedelta(seconds=29)).counted_at == now
    later = now + timedelta(seconds=31)
    assert queue_counts_snapshot(now=later).counted_at == later
    assert first.groups == queue_count_groups(now=now)


def test_no_snapshot_when_the_time_is_zero(agent, mixed, settings):
    settings.DASHBOARD_QUEUE_COUNTS_SECONDS = 0
    now = timezone.now()
    queue_counts_snapshot(now=now)
    assert queue_counts_snapshot(now=now + timedelta(seconds=1)).counted_at == now + timedelta(seconds=1)
