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
    assert APIClient().get("/api/cases/").status_code == 403
