"""Bad input gets a 4xx, never a 500 (issue 9, point 6): each request the probe sent, as a regression test."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from caseapp.money import to_money
from cases.models import Case, CaseEvent
from orders.models import ShipmentEvent
from policies.models import Remedy
from policies.services import policy_default_ensure, remedy_override
from tests.dashboard.conftest import login
from tests.factories import CaseFactory, CustomerFactory, OrderFactory, ShipmentFactory, ValidityRuleFactory

pytestmark = pytest.mark.django_db

OVERFLOWING_AMOUNTS = ["1e30", "1e10", "99999999999", "10000000000.00", "-1e30", "1E+999999999"]


@pytest.fixture
def policy(db):
    ValidityRuleFactory()
    return policy_default_ensure()


@pytest.fixture
def order_case(policy, agent):
    order = OrderFactory(total=Decimal("450.00"), currency="EUR")
    return CaseFactory(customer=order.customer, order=order, category="incomplete_order", owner=agent)


@pytest.fixture
def manager_client(client, manager):
    return login(client, manager)


@pytest.fixture
def agent_client(client, agent):
    return login(client, agent)


# --- amounts: bounded to what the database column holds (12 digits, 2 decimals) ---------------------------

@pytest.mark.parametrize("amount", OVERFLOWING_AMOUNTS)
def test_an_override_amount_beyond_the_column_is_a_form_error(manager_client, order_case, amount):
    # when a manager overrides with an amount the column cannot hold
    response = manager_client.post(reverse("dashboard:case_override", args=[order_case.pk]), {
        "kind": "free_item", "budget": "marketing", "amount": amount, "currency": "", "reason": "Too generous",
    })
    # then the form says so with a 400 and nothing is recorded
    assert response.status_code == 400
    assert "amount" in response.context["override_form"].errors
    assert not Remedy.objects.exists()


@pytest.mark.parametrize("amount", OVERFLOWING_AMOUNTS)
def test_the_override_service_refuses_an_amount_beyond_the_column(order_case, manager, amount):
    with pytest.raises(ValidationError) as exc:
        remedy_override(case=order_case, by=manager, kind="free_item", reason="Too generous", amount=amount)
    assert "amount" in exc.value.message_dict
    assert not Remedy.objects.exists()


def test_the_largest_amount_the_column_holds_is_accepted():
    assert to_money("9999999999.99") == Decimal("9999999999.99")
    with pytest.raises(ValidationError):
        to_money("10000000000")


# --- query parameters that are not what they should be -------------------------------------------------

@pytest.mark.parametrize("query", ["a=abc", "a=1&b=abc", "a=99999999999999999999999", "a=-1&b=1.5", "a=%00"])
def test_comparing_policy_versions_with_a_malformed_id_is_a_400(manager_client, policy, query):
    response = manager_client.get(f"/policies/compare/?{query}")
    assert response.status_code == 400


def test_comparing_an_unknown_policy_version_is_a_404(manager_client, policy):
    assert manager_client.get(f"/policies/compare/?a={policy.pk}&b=987654").status_code == 404


# --- dates at the ends of the calendar --------------------------------------------------------------------

EXTREME_PERIODS = [("0001-01-01", "2026-01-01"), ("2026-01-01", "9999-12-31"), ("0001-01-01", "9999-12-31")]


@pytest.mark.parametrize(("date_from", "date_to"), EXTREME_PERIODS)
def test_the_remedy_report_refuses_a_period_at_the_end_of_the_calendar(manager_client, date_from, date_to):
    response = manager_client.get("/reports/remedies/", {"date_from": date_from, "date_to": date_to})
    assert response.status_code == 400
    assert response.context["form"].errors


@pytest.mark.parametrize("table", ["kind", "courier", "month", "retention", "recoverable"])
@pytest.mark.parametrize(("date_from", "date_to"), EXTREME_PERIODS)
def test_the_report_csv_refuses_a_period_at_the_end_of_the_calendar(manager_client, table, date_from, date_to):
    response = manager_client.get(f"/reports/remedies/{table}.csv", {"date_from": date_from, "date_to": date_to})
    assert response.status_code == 400


@pytest.mark.parametrize(("date_from", "date_to"), EXTREME_PERIODS)
def test_replaying_a_policy_over_the_whole_calendar_is_refused(manager_client, policy, date_from, date_to):
    response = manager_client.get(reverse("dashboard:policy_replay", args=[policy.pk]),
                                  {"date_from": date_from, "date_to": date_to})
    assert response.status_code == 400
    assert response.context["form"].errors


def test_a_promise_due_at_the_end_of_the_calendar_is_a_form_error(agent_client, agent, order_case):
    response = agent_client.post(reverse("dashboard:case_promise", args=[order_case.pk]), {
        "description": "Call back", "due_at": "9999-12-31T23:59", "owner": agent.pk,
    })
    assert response.status_code == 400
    assert not order_case.promises.exists()


# --- API bodies: dates, NUL, lone surrogates, nesting ----------------------------------------------------

def post_json(client, url, body: str):
    return client.post(url, data=body, content_type="application/json")


@pytest.mark.parametrize("reported_at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00"])
def test_a_case_reported_at_the_end_of_the_calendar_is_a_400(agent_client, reported_at):
    # (arrived_at is caseapp's own and read-only; when the customer says they wrote is reported_at, bounded)
    customer = CustomerFactory()
    body = json.dumps({"customer": customer.pk, "category": "other", "channel": "email", "subject": "Hello",
                       "reported_at": reported_at})
    response = post_json(agent_client, "/api/cases/", body)
    assert response.status_code == 400, response.content
    assert "reported_at" in response.json()
    assert not Case.objects.exists()


def test_an_arrival_time_sent_by_a_client_is_ignored(agent_client):
    customer = CustomerFactory()
    body = json.dumps({"customer": customer.pk, "category": "other", "channel": "email", "subject": "Hello",
                       "arrived_at": "9999-12-31T23:59:59Z"})
    response = post_json(agent_client, "/api/cases/", body)
    assert response.status_code == 201, response.content
    assert Case.objects.get().arrived_at.year == timezone.now().year


@pytest.mark.parametrize(("field", "value"), [("occurred_at", "9999-12-31T23:59:59Z"),
                                               ("occurred_at", "0001-01-01T00:00:00Z"),
                                               ("estimated_delivery", "9999-12-31"),
                                               ("estimated_delivery", "0001-01-01")])
def test_a_tracking_event_at_the_end_of_the_calendar_is_a_400(agent_client, field, value):
    shipment = ShipmentFactory()
    event = {"tracking_number": shipment.tracking_number, "external_id": "ev-1", "code": "delayed",
             "occurred_at": timezone.now().isoformat(), field: value}
    response = post_json(agent_client, "/api/shipment-events/", json.dumps(event))
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not ShipmentEvent.objects.exists()


NUL_AND_SURROGATE = ['"x\\u0000y"', '"\\ud800"', '"ok \\udfff"']


def with_raw_member(document: dict, name: str, raw_json: str) -> str:
    """The document as JSON plus one member given as raw JSON text (with escapes json.dumps would not write)."""
    return json.dumps(document)[:-1] + ", " + json.dumps(name) + ": " + raw_json + "}"


@pytest.mark.parametrize("bad", NUL_AND_SURROGATE)
@pytest.mark.parametrize("field", ["subject", "description"])
def test_a_nul_or_lone_surrogate_in_a_json_string_is_a_400(agent_client, bad, field):
    customer = CustomerFactory()
    document = {"customer": customer.pk, "category": "other", "channel": "email", "subject": "Hi"}
    response = post_json(agent_client, "/api/cases/", with_raw_member(document, field, bad))
    assert response.status_code == 400, response.content
    assert not Case.objects.exists()


@pytest.mark.parametrize("bad", NUL_AND_SURROGATE)
def test_a_nul_or_lone_surrogate_in_a_json_key_or_nested_value_is_a_400(agent_client, bad):
    shipment = ShipmentFactory()
    event = {"tracking_number": shipment.tracking_number, "external_id": "ev-2", "code": "delayed",
             "occurred_at": timezone.now().isoformat()}
    for raw in ("{" + bad + ": 1}", '{"courier_said": [{"note": ' + bad + "}]}"):
        response = post_json(agent_client, "/api/shipment-events/", with_raw_member(event, "raw", raw))
        assert response.status_code == 400, response.content
    assert not ShipmentEvent.objects.exists()


def test_json_nested_five_thousand_deep_is_a_400(agent_client):
    body = "[" * 5000 + "]" * 5000
    response = post_json(agent_client, "/api/shipment-events/", body)
    assert response.status_code == 400
    deep_object = '{"received": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    shipment = ShipmentFactory()
    assert post_json(agent_client, f"/api/shipments/{shipment.pk}/delivery-check/", deep_object).status_code == 400


def test_json_of_ordinary_depth_still_works(agent_client):
    shipment = ShipmentFactory()
    raw = {"a": {"b": {"c": [1, 2, {"d": "ok"}]}}}
    response = post_json(agent_client, "/api/shipment-events/", json.dumps({
        "tracking_number": shipment.tracking_number, "external_id": "ev-3", "code": "delayed",
        "occurred_at": timezone.now().isoformat(), "raw": raw}))
    assert response.status_code == 201
    assert ShipmentEvent.objects.get().raw == raw


@pytest.mark.parametrize("quantity", [10**30, -1, 2**31])
def test_a_quantity_beyond_the_column_is_a_400(agent_client, quantity):
    shipment = ShipmentFactory()
    response = post_json(agent_client, f"/api/shipments/{shipment.pk}/delivery-check/",
                         json.dumps({"received": [{"sku": "A", "quantity": quantity}]}))
    assert response.status_code == 400


@pytest.mark.parametrize("pk", [10**30, -1, "abc"])
def test_a_customer_id_beyond_the_column_is_a_400(agent_client, pk):
    response = post_json(agent_client, "/api/cases/", json.dumps(
        {"customer": pk, "category": "other", "channel": "email", "subject": "Hello"}))
    assert response.status_code == 400
    assert not Case.objects.exists()


# --- query parameters and form fields with NUL or surrogates ---------------------------------------------

@pytest.mark.parametrize("url", ["/api/cases/?status=%00", "/api/cases/?status=a%00b", "/?status=%00",
                                 "/?category=%00&owner=mine", "/reports/remedies/?date_from=%00",
                                 "/policies/?page=%00", "/api/cases/?%00=1"])
def test_a_nul_in_a_query_parameter_is_a_400(manager_client, url):
    assert manager_client.get(url).status_code == 400


@pytest.mark.parametrize("url", ["/api/cases/?status=%ED%A0%80", "/?status=%ED%A0%80", "/approvals/?page=%ED%A0%80"])
def test_a_surrogate_in_a_query_parameter_is_never_a_500(manager_client, url):
    # (Django decodes the bytes of a lone surrogate to U+FFFD: never a str that PostgreSQL cannot encode)
    assert manager_client.get(url).status_code < 500


def test_a_nul_in_a_form_field_is_a_400_and_saves_nothing(agent_client, order_case):
    before = CaseEvent.objects.filter(case=order_case).count()
    response = agent_client.post(reverse("dashboard:case_note", args=[order_case.pk]),
                                 {"kind": "note", "text": "called\x00back"})
    assert response.status_code == 400
    assert CaseEvent.objects.filter(case=order_case).count() == before


def test_a_surrogate_in_a_form_field_is_a_400(agent_client, order_case):
    response = agent_client.post(reverse("dashboard:case_note", args=[order_case.pk]),
                                 data="kind=note&text=%ED%A0%80", content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 400)  # the browser's bytes decode to U+FFFD: a note, or refused
    assert response.status_code != 500


def test_the_period_form_keeps_ordinary_periods(manager_client):
    today = timezone.localdate()
    response = manager_client.get("/reports/remedies/", {"date_from": str(today - timedelta(days=30)),
                                                         "date_to": str(today)})
    assert response.status_code == 200
