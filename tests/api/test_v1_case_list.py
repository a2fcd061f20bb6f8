"""GET /api/v1/cases/ builds its rows from .values() (cases.api.serializers.case_list_rows), not with CaseSerializer:
the output must stay exactly CaseSerializer's, key order and formats included, in any time zone."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from cases.api.serializers import CaseSerializer
from cases.models import Case
from tests.factories import CaseFactory, OrderFactory, ShipmentFactory, VoucherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(agent):
    # given cases with and without an owner, an order, a shipment, a voucher, answered and resolved or not
    now = timezone.now().replace(microsecond=123456)
    shipment = ShipmentFactory()
    order = OrderFactory()
    whole = CaseFactory(customer=shipment.order.customer, order=shipment.order, shipment=shipment,
                        voucher=VoucherFactory(holder=shipment.order.customer), owner=agent, status="resolved",
                        arrived_at=now - timedelta(days=3), first_responded_at=now - timedelta(days=2),
                        resolved_at=now - timedelta(days=1), subject="Ceainic întârziat — «ASAP»")
    bare = CaseFactory(arrived_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # the night the clocks change in Europe
    ordered = CaseFactory(customer=order.customer, order=order, status="open", arrived_at=now - timedelta(hours=1))
    return [bare, whole, ordered]


def _serialized(cases):
    rows = Case.objects.select_related("owner", "order").filter(pk__in=[c.pk for c in cases])
    return CaseSerializer(rows.order_by("arrived_at", "arrival_number"), many=True).data


@pytest.mark.parametrize("zone", [None, "Europe/Bucharest", "America/St_Johns", "Asia/Kolkata"])
def test_the_list_rows_are_what_the_case_serializer_gives(as_agent, cases, zone):
    # when the list is read (with the time zone the dashboard's cookie would set, or none: UTC)
    if zone:
        as_agent.cookies["tz"] = zone
    body = as_agent.get("/api/v1/cases/").json()
    # then every row is CaseSerializer's, in the same key order
    if zone:
        with timezone.override(zone):
            expected = _serialized(cases)
    else:
        expected = _serialized(cases)
    assert [list(row) for row in body["results"]] == [list(row) for row in expected]
    assert body["results"] == [dict(row) for row in expected]
    assert body["results"][0]["arrived_at"] == ("2026-03-29T00:30:00Z" if zone is None
                                                else expected[0]["arrived_at"])


def test_filters_and_ordering_still_apply_to_the_list_rows(as_agent, cases, agent):
    _bare, whole, ordered = cases
    numbers = lambda query: [row["arrival_number"] for row in as_agent.get(f"/api/v1/cases/?{query}").json()["results"]]  # noqa: E731
    assert numbers("owner=me") == [whole.pk]
    assert numbers(f"order_number={ordered.order.number}") == [ordered.pk]
    assert numbers("ordering=-arrived_at") == [ordered.pk, whole.pk, _bare.pk]
    assert numbers("status=open") == [ordered.pk]


def test_a_time_not_in_utc_is_still_given_in_utc():
    from datetime import timezone as dt_timezone

    from rest_framework import serializers

    from cases.api.serializers import CASE_LIST_COLUMNS, case_list_rows

    # given a row whose time carries an offset (the database gives UTC, a caller's rows need not)
    when = datetime(2026, 7, 1, 12, 0, 0, 5, tzinfo=dt_timezone(timedelta(hours=2)))
    row = dict.fromkeys(CASE_LIST_COLUMNS) | {"arrived_at": when, "owner_username": None, "order_number": None}
    # then it is formatted as DRF formats it in UTC
    assert case_list_rows([row])[0]["arrived_at"] == serializers.DateTimeField().to_representation(when) \
        == "2026-07-01T10:00:00.000005Z"


def _walk(client, url, key):
    """Every page forward by "next", then back by "previous": the arrival numbers of each page."""
    pages, links = [], []
    while url:
        body = client.get(url).json()
        pages.append([row["arrival_number"] for row in body["results"]])
        links.append(body)
        url = body[key]
    return pages, links


@pytest.mark.parametrize("ordering", [None, "-arrived_at", "updated_at", "-updated_at"])
def test_a_plain_page_from_the_compiled_sql_is_the_orms_page(as_agent, cases, ordering):
    from cases.api import compiled

    # given more cases, some arriving at the same instant (the cursor then needs an offset)
    same = timezone.now() - timedelta(hours=5)
    for _ in range(4):
        CaseFactory(arrived_at=same)
    query = f"page_size=2&ordering={ordering}" if ordering else "page_size=2"
    compiled._SHAPES.clear()
    for warm in (False, True):  # the first walk compiles each shape, the second reuses them
        # when every page is read forward and then backward, plainly (compiled SQL) and with an empty filter (the ORM)
        forward, links = _walk(as_agent, f"/api/v1/cases/?{query}", "next")
        orm_forward, _ = _walk(as_agent, f"/api/v1/cases/?{query}&status=", "next")
        last = links[-1]["previous"].split("testserver", 1)[1]
        backward, _ = _walk(as_agent, last, "previous")
        orm_last = _walk(as_agent, f"/api/v1/cases/?{query}&status=", "next")[1][-1]["previous"]
        orm_backward, _ = _walk(as_agent, orm_last.split("testserver", 1)[1], "previous")
        # then the pages are the same, every case once, in the list's order
        assert forward == orm_forward
        assert backward == orm_backward == forward[-2::-1]
        assert sorted(sum(forward, [])) == sorted(Case.objects.values_list("pk", flat=True))
        assert len(sum(forward, [])) == Case.objects.count()
        assert warm is False or compiled._SHAPES


def test_a_plain_page_runs_the_same_queries(as_agent, cases):
    as_agent.get("/api/v1/cases/")  # compiles the shape
    plain = _count(as_agent, "/api/v1/cases/")
    assert plain == _count(as_agent, "/api/v1/cases/?status=")


def _count(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)
