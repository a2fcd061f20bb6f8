"""The fair queue: arrival order, filters and their counts, pagination, take next, a fixed query budget."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseStatus, Promise
from cases.selectors import QueueFilters, queue_cases, queue_counts
from cases.services import case_take_next
from tests.dashboard.conftest import bulk_cases, login
from tests.factories import CaseFactory, CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE_PAGE_QUERIES = 6  # session, user, roles, newest case change, filter counts (grouped; the page count too), rows


def _numbers(response):
    return [case.arrival_number for case in response.context["cases"]]


def test_queue_is_first_come_first_served_whatever_the_spend(agent_client):
    # given: a child with a tiny order arrives first, a big spender a minute later
    now = timezone.now()
    child = CustomerFactory(name="Child")
    OrderFactory(customer=child, total=Decimal("2.00"))
    big = CustomerFactory(name="Big spender")
    for _ in range(3):
        OrderFactory(customer=big, total=Decimal("5000.00"))
    first = CaseFactory(customer=child, arrived_at=now - timedelta(minutes=10))
    second = CaseFactory(customer=big, arrived_at=now - timedelta(minutes=9))
    # when
    response = agent_client.get(reverse("dashboard:queue"))
    # then
    assert _numbers(response) == [first.pk, second.pk]
    html = response.content.decode()
    assert html.index("Child") < html.index("Big spender")


def test_queue_shows_columns_and_overdue_stands_out(agent_client, agent):
    # given an overdue case with an open promise
    case = CaseFactory(arrived_at=timezone.now() - timedelta(days=4), owner=agent, status=CaseStatus.OPEN)
    Promise.objects.create(case=case, description="Call back", due_at=timezone.now() + timedelta(hours=3),
                           owner=agent, made_by=agent)
    # when
    html = agent_client.get(reverse("dashboard:queue")).content.decode()
    # then
    assert "row-overdue" in html
    assert "clock-overdue" in html
    assert "overdue" in html  # "1 day overdue"
    assert "1 · in 2 h" in html or "1 · in 3 h" in html
    assert "alice" in html


def test_filters_mine_unowned_category_channel_and_date_critical(agent_client, agent, other_agent):
    # given
    mine = CaseFactory(owner=agent, category="lost_parcel")
    theirs = CaseFactory(owner=other_agent, channel="phone")
    unowned = CaseFactory()
    order = OrderFactory(is_date_critical=True, occasion="birthday")
    gift = CaseFactory(customer=order.customer, order=order)
    url = reverse("dashboard:queue")
    # when / then
    assert _numbers(agent_client.get(url, {"owner": "mine"})) == [mine.pk]
    assert _numbers(agent_client.get(url, {"owner": "unowned"})) == [unowned.pk, gift.pk]
    assert _numbers(agent_client.get(url, {"category": "lost_parcel"})) == [mine.pk]
    assert _numbers(agent_client.get(url, {"channel": "phone"})) == [theirs.pk]
    assert _numbers(agent_client.get(url, {"date_critical": "on"})) == [gift.pk]


def test_status_filter_hides_resolved_cases_by_default(agent_client):
    # given
    open_case = CaseFactory()
    resolved = CaseFactory(status=CaseStatus.RESOLVED)
    url = reverse("dashboard:queue")
    # then
    assert _numbers(agent_client.get(url)) == [open_case.pk]
    assert _numbers(agent_client.get(url, {"status": "resolved"})) == [resolved.pk]
    assert _numbers(agent_client.get(url, {"status": "all"})) == [open_case.pk, resolved.pk]


def test_overdue_filter(agent_client):
    # given: one case past its first-response time, one fresh, one old but answered and within resolution
    now = timezone.now()
    late = CaseFactory(arrived_at=now - timedelta(hours=10))
    CaseFactory(arrived_at=now - timedelta(hours=1))
    CaseFactory(arrived_at=now - timedelta(hours=10), first_responded_at=now - timedelta(hours=9))
    # when
    response = agent_client.get(reverse("dashboard:queue"), {"overdue": "on"})
    # then
    assert _numbers(response) == [late.pk]


def test_quiet_cases_are_the_unanswered_and_the_rare_complainers(agent_client):
    # given: a loud customer with many recent cases, answered fast
    now = timezone.now()
    loud = CustomerFactory()
    for hours in (30, 20):
        CaseFactory(customer=loud, arrived_at=now - timedelta(hours=hours), first_responded_at=now)
    loud_recent = CaseFactory(customer=loud, arrived_at=now - timedelta(hours=1))
    # a quiet small customer with her first case in years, just arrived
    small = CustomerFactory(name="Small")
    OrderFactory(customer=small, total=Decimal("3.00"))
    first_in_years = CaseFactory(customer=small, arrived_at=now - timedelta(minutes=30))
    # a loud customer's case left without a reply for a day
    unanswered = CaseFactory(customer=loud, arrived_at=now - timedelta(hours=25))
    # when
    response = agent_client.get(reverse("dashboard:queue"), {"quiet": "on"})
    # then
    numbers = _numbers(response)
    assert first_in_years.pk in numbers
    assert unanswered.pk in numbers
    assert loud_recent.pk not in numbers
    assert "rarely complains" in response.content.decode()


def test_counts_per_filter(agent, other_agent):
    # given
    CaseFactory(owner=agent, category="lost_parcel", channel="phone")
    CaseFactory(owner=other_agent)
    CaseFactory()
    CaseFactory(status=CaseStatus.CLOSED)
    # when
    counts = queue_counts(user=agent)
    # then
    assert counts["open"] == 3
    assert counts["status:new"] == 3
    assert counts["mine"] == 1
    assert counts["unowned"] == 1
    assert counts["category:lost_parcel"] == 1
    assert counts["channel:phone"] == 1
    assert "status:closed" not in counts  # the queue counts open cases only


def test_queue_page_shows_counts(agent_client, agent):
    # given
    CaseFactory(owner=agent)
    CaseFactory()
    # when
    html = agent_client.get(reverse("dashboard:queue")).content.decode()
    # then
    assert "Mine (1)" in html
    assert "Unowned (1)" in html
    assert "All open (2)" in html


def test_queue_is_paginated(agent_client, settings):
    # given
    settings.DASHBOARD_PAGE_SIZE = 5
    cases = bulk_cases(12)
    # when
    page1 = agent_client.get(reverse("dashboard:queue"))
    page3 = agent_client.get(reverse("dashboard:queue"), {"page": 3})
    # then
    assert _numbers(page1) == [c.pk for c in cases[:5]]
    assert _numbers(page3) == [c.pk for c in cases[10:]]
    assert "Page 1 of 3" in page1.content.decode()


def test_htmx_filter_returns_only_the_table(agent_client):
    # given
    CaseFactory()
    # when
    response = agent_client.get(reverse("dashboard:queue"), {"owner": "unowned"}, HTTP_HX_REQUEST="true")
    # then
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue"')
    assert "<html" not in html


@pytest.mark.parametrize("size", [10, 500])
def test_queue_page_has_a_fixed_number_of_queries(client, agent, size, django_assert_num_queries):
    # given
    bulk_cases(size)
    bulk_cases(3, owner=agent)
    login(client, agent)
    # when / then
    with django_assert_num_queries(QUEUE_PAGE_QUERIES):
        response = client.get(reverse("dashboard:queue"), {"quiet": "on", "owner": ""})
    assert response.status_code == 200


def test_take_next_gives_the_oldest_unowned_case(agent_client, agent, other_agent):
    # given
    now = timezone.now()
    CaseFactory(owner=other_agent, arrived_at=now - timedelta(hours=3))
    oldest = CaseFactory(arrived_at=now - timedelta(hours=2))
    CaseFactory(arrived_at=now - timedelta(hours=1))
    # when
    response = agent_client.post(reverse("dashboard:take_next"))
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:case", args=[oldest.pk])
    oldest.refresh_from_db()
    assert oldest.owner == agent
    assert oldest.status == CaseStatus.OPEN


def test_take_next_with_empty_queue_says_so(agent_client):
    # when
    response = agent_client.post(reverse("dashboard:take_next"), follow=True)
    # then
    assert "Nobody is waiting" in response.content.decode()


def test_take_next_refuses_get(agent_client):
    assert agent_client.get(reverse("dashboard:take_next")).status_code == 405


@pytest.mark.postgres  # row locks with SKIP LOCKED (SQLite serialises writers)
@pytest.mark.django_db(transaction=True)
def test_two_agents_pressing_take_next_at_once_get_different_cases():
    # given two cases and two agents (a transactional test before this one may have emptied the groups table)
    from django.contrib.auth.models import Group

    Group.objects.get_or_create(name="agent")
    alice = UserFactory(username="alice", role="agent")
    bob = UserFactory(username="bob", role="agent")
    now = timezone.now()
    first = CaseFactory(arrived_at=now - timedelta(minutes=2))
    second = CaseFactory(arrived_at=now - timedelta(minutes=1))
    alice_holds_lock = threading.Event()
    bob_done = threading.Event()
    taken = {}
    errors = []

    def alice_takes():
        try:
            with transaction.atomic():  # Alice's transaction stays open while Bob presses the button
                taken["alice"] = case_take_next(agent=alice).pk
                alice_holds_lock.set()
                bob_done.wait(timeout=20)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def bob_takes():
        try:
            alice_holds_lock.wait(timeout=20)
            taken["bob"] = case_take_next(agent=bob).pk
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            bob_done.set()
            connection.close()

    threads = [threading.Thread(target=alice_takes), threading.Thread(target=bob_takes)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    assert not errors
    assert taken == {"alice": first.pk, "bob": second.pk}
    assert Case.objects.get(pk=first.pk).owner == alice
    assert Case.objects.get(pk=second.pk).owner == bob


def test_queue_selector_never_orders_by_spend(agent):
    # given: the selector's SQL
    sql = str(queue_cases(user=agent, filters=QueueFilters()).query)
    # then: ordered by arrival only
    assert sql.rstrip().endswith('ORDER BY "cases_case"."arrived_at" ASC, "cases_case"."arrival_number" ASC')
