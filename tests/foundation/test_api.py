from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Case
from tests.factories import CaseFactory, CustomerFactory, OrderFactory, ShipmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_login(agent)
    return client


def test_shipment_event_api_stores_once_and_answers_400_with_field_errors(api):
    shipment = ShipmentFactory()
    payload = {"tracking_number": shipment.tracking_number, "external_id": "x1", "code": "delayed",
               "occurred_at": timezone.now().isoformat(), "estimated_delivery": "2030-01-05"}
    first = api.post("/api/shipment-events/", payload, format="json")
    again = api.post("/api/shipment-events/", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["status"] == "delayed" and again.json()["created"] is False

    unknown = api.post("/api/shipment-events/", {**payload, "tracking_number": "NOPE"}, format="json")
    assert unknown.status_code == 400
    assert "NOPE" in unknown.json()["tracking_number"][0]

    malformed = api.post("/api/shipment-events/", {"tracking_number": "", "occurred_at": "yesterday"}, format="json")
    assert malformed.status_code == 400
    assert {"tracking_number", "occurred_at", "external_id", "code"} <= set(malformed.json())


def test_case_api_opens_a_case_and_refuses_another_customers_order(api):
    customer = CustomerFactory()
    ok = api.post("/api/cases/", {"customer": customer.pk, "category": "late_delivery", "channel": "phone",
                                  "subject": "Kettle late"}, format="json")
    assert ok.status_code == 201, ok.content
    assert Case.objects.get(pk=ok.json()["arrival_number"]).events.count() == 1
    bad = api.post("/api/cases/", {"customer": customer.pk, "order": OrderFactory().pk, "category": "other",
                                   "channel": "fax", "subject": "x"}, format="json")
    assert bad.status_code == 400
    assert "channel" in bad.json()
    bad_order = api.post("/api/cases/", {"customer": customer.pk, "order": OrderFactory().pk, "category": "other",
                                         "channel": "web", "subject": "x"}, format="json")
    assert bad_order.status_code == 400 and "order" in bad_order.json()
    assert Case.objects.count() == 1


def test_case_list_is_first_come_first_served_and_hidden_from_users_without_a_role(api):
    now = timezone.now()
    later = CaseFactory(arrived_at=now)
    earlier = CaseFactory(arrived_at=now - timedelta(hours=1))
    rows = api.get("/api/cases/").json()["results"]
    assert [r["arrival_number"] for r in rows] == [earlier.pk, later.pk]

    outsider = APIClient()
    outsider.force_login(UserFactory(username="no-role"))
    assert outsider.get("/api/cases/").status_code == 403
    assert APIClient().get("/api/cases/").status_code == 401  # no credentials: "WWW-Authenticate: Bearer"


def test_story_3_a_rug_in_the_wrong_style_reopens_the_resolved_case(api, agent):
    from cases.models import CaseEventKind
    from cases.services import case_change_status, case_open
    from orders.services import order_create

    # given the rug order, whose case was resolved when the rug was promised
    customer = CustomerFactory()
    order = order_create(number="HS-RUG-T", customer=customer, placed_at=timezone.now(), currency="USD",
                         payment_method="card",
                         lines=[{"sku": "RUG-KILIM", "name": "Kilim rug", "quantity": 1, "unit_price": "410.00",
                                 "variant": "Kilim, indigo"}])
    shipment = ShipmentFactory(order=order, status="delivered", delivered_at=timezone.now())
    case = case_open(customer=customer, order=order, category="broken_promise", channel="phone", subject="Rug")
    case_change_status(case=case, status="resolved", by=agent)
    url = f"/api/shipments/{shipment.pk}/delivery-check/"
    # when what arrived matches, nothing happens
    same = api.post(url, {"received": [{"sku": "RUG-KILIM", "variant": "Kilim, indigo"}]}, format="json")
    assert same.json() == {"matches": True, "case": None}
    # when the rug arrives in another style
    wrong = api.post(url, {"received": [{"sku": "RUG-KILIM", "variant": "Persian, red"}]}, format="json")
    # then the case is reopened, with what is wrong on the timeline
    assert wrong.json() == {"matches": False, "case": case.pk, "status": "open"}
    detected = case.events.filter(kind=CaseEventKind.DETECTED).last()
    assert "ordered Kilim, indigo, received Persian, red" in detected.text
    # and bad input is a 400 naming the field
    assert api.post(url, {"received": []}, format="json").status_code == 400
    assert "received" in api.post(url, {"received": [{"sku": "", "quantity": -1}]}, format="json").json()


def test_an_incomplete_delivery_without_a_case_opens_one(api):
    shipment = ShipmentFactory()
    response = api.post(f"/api/shipments/{shipment.pk}/delivery-check/", {"received": [{"sku": "OTHER"}]},
                        format="json")
    case = Case.objects.get(pk=response.json()["case"])
    assert (case.category, case.channel, case.order_id) == ("wrong_item", "system", shipment.order_id)
