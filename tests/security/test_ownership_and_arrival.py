"""Issue 9, points 3-5: the owner rule through the API and the services, a queue nobody can jump, and cases
that link only their own customer's order, shipment and voucher."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent, CaseStatus
from cases.selectors import QUEUE_ORDER
from cases.services import case_change_status, case_note_add, case_open
from orders.models import ShipmentEvent
from tests.factories import CaseFactory, CustomerFactory, OrderFactory, ShipmentFactory, VoucherFactory

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_login(user)
    return client


def _resolved_case_of(owner):
    shipment = ShipmentFactory(status="delivered", delivered_at=timezone.now())
    case = CaseFactory(customer=shipment.order.customer, order=shipment.order, shipment=shipment, owner=owner,
                       status=CaseStatus.RESOLVED, resolved_at=timezone.now())
    return shipment, case


WRONG_ITEM = {"received": [{"sku": "SOMETHING-ELSE"}]}


# Point 3: ownership through the API


def test_another_agent_cannot_reopen_a_resolved_case_through_a_delivery_check(agent, other_agent):
    # given a resolved case owned by alice
    shipment, case = _resolved_case_of(agent)
    events_before = CaseEvent.objects.filter(case=case).count()
    # when bob reports a wrong item on its shipment
    response = api_for(other_agent).post(f"/api/shipments/{shipment.pk}/delivery-check/", WRONG_ITEM,
                                         format="json")
    # then he is refused and the case is untouched
    assert response.status_code == 403
    case.refresh_from_db()
    assert (case.status, case.owner_id) == (CaseStatus.RESOLVED, agent.pk)
    assert CaseEvent.objects.filter(case=case).count() == events_before
    assert Case.objects.count() == 1


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_the_owner_or_a_manager_reopens_it(who, agent, manager):
    shipment, case = _resolved_case_of(agent)
    response = api_for({"agent": agent, "manager": manager}[who]).post(
        f"/api/shipments/{shipment.pk}/delivery-check/", WRONG_ITEM, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"matches": False, "case": case.pk, "status": "open"}


def _event(shipment, external_id="ev-1"):
    return {"tracking_number": shipment.tracking_number, "external_id": external_id, "code": "delayed",
            "occurred_at": timezone.now().isoformat()}


def test_an_agent_cannot_post_tracking_events_for_a_shipment_whose_case_another_agent_owns(agent, other_agent):
    # given an open case about a shipment, owned by alice
    shipment = ShipmentFactory()
    CaseFactory(customer=shipment.order.customer, order=shipment.order, shipment=shipment, owner=agent)
    # when bob posts a courier event for it
    response = api_for(other_agent).post("/api/shipment-events/", _event(shipment), format="json")
    # then he is refused and nothing is stored
    assert response.status_code == 403
    assert not ShipmentEvent.objects.filter(shipment=shipment).exists()
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
    # and alice, the owner, may
    assert api_for(agent).post("/api/shipment-events/", _event(shipment), format="json").status_code == 201


def test_any_agent_posts_events_for_a_shipment_without_an_owned_open_case(agent, other_agent):
    unowned = ShipmentFactory()
    CaseFactory(customer=unowned.order.customer, order=unowned.order, owner=None)
    closed_elsewhere = ShipmentFactory()
    CaseFactory(customer=closed_elsewhere.order.customer, order=closed_elsewhere.order, owner=agent,
                status=CaseStatus.CLOSED)
    client = api_for(other_agent)
    assert client.post("/api/shipment-events/", _event(unowned), format="json").status_code == 201
    assert client.post("/api/shipment-events/", _event(closed_elsewhere), format="json").status_code == 201


def test_case_services_check_the_actor_they_act_for(agent, other_agent, manager):
    case = CaseFactory(owner=agent)
    with pytest.raises(PermissionDenied):
        case_change_status(case=case, status=CaseStatus.RESOLVED, by=other_agent)
    with pytest.raises(PermissionDenied):
        case_note_add(case=case, text="Not mine", by=other_agent)
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW and not case.events.exists()
    case_change_status(case=case, status=CaseStatus.OPEN, by=manager)
    case_change_status(case=case, status=CaseStatus.RESOLVED, by=None)  # caseapp itself
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_the_api_lists_cases_only_to_agents_and_managers(agent):
    CaseFactory()
    no_role = APIClient()
    from tests.factories import UserFactory

    no_role.force_login(UserFactory(username="norole"))
    assert no_role.get("/api/cases/").status_code == 403
    assert api_for(agent).get("/api/cases/").json()["count"] == 1


# Point 4: nobody jumps the queue


def _open(client, customer, **extra):
    return client.post("/api/cases/", {"customer": customer.pk, "category": "other", "channel": "email",
                                       "subject": "Where is my parcel?", **extra}, format="json")


def test_a_client_cannot_date_its_case_back_to_the_head_of_the_queue(agent):
    # given a case already waiting
    waiting = CaseFactory(arrived_at=timezone.now() - timedelta(minutes=30))
    # when an integration posts a case dated 2000-01-01
    before = timezone.now()
    response = _open(api_for(agent), CustomerFactory(), arrived_at="2000-01-01T00:00:00Z")
    # then the date is ignored: the case arrived now, behind the one waiting, and its clocks start now
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["arrival_number"])
    assert case.arrived_at >= before
    assert case.first_response_due_at == case.arrived_at + settings.CASE_FIRST_RESPONSE_SLA
    assert case.resolution_due_at == case.arrived_at + settings.CASE_RESOLUTION_SLA
    assert list(Case.objects.order_by(*QUEUE_ORDER).values_list("pk", flat=True)) == [waiting.pk, case.pk]


def test_reported_at_is_stored_and_shown_but_never_reorders_the_queue(agent, client):
    # given a case that arrived a minute ago
    waiting = CaseFactory(arrived_at=timezone.now() - timedelta(minutes=1))
    customer = CustomerFactory()
    # when an email written yesterday is entered now
    written = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    response = _open(api_for(agent), customer, reported_at=written.isoformat())
    # then the case keeps the customer's date but queues behind the case that arrived before it
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["arrival_number"])
    assert case.reported_at == written
    assert case.arrived_at > waiting.arrived_at and case.first_response_due_at > timezone.now()
    assert response.json()["reported_at"] is not None
    assert list(Case.objects.order_by(*QUEUE_ORDER).values_list("pk", flat=True)) == [waiting.pk, case.pk]
    assert case.events.get().data["reported_at"] == written.isoformat()
    # and the case page shows it
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="case-reported"' in page and "reported by the customer" in page


@pytest.mark.parametrize("reported_at, reason", [
    ("2999-01-01T00:00:00Z", "future"),
    ("9999-12-31T23:59:59Z", "future"),
    ("2000-01-01T00:00:00Z", "before the customer existed"),
    ("0001-01-01T00:00:00Z", "before the customer existed"),
])
def test_reported_at_is_bounded(agent, reported_at, reason):
    response = _open(api_for(agent), CustomerFactory(), reported_at=reported_at)
    assert response.status_code == 400
    assert reason in response.json()["reported_at"][0]
    assert not Case.objects.exists()


# Point 5: one customer's case links only that customer's things


def test_a_case_refuses_another_customers_shipment_order_or_voucher(agent):
    customer = CustomerFactory()
    own_order = OrderFactory(customer=customer)
    client = api_for(agent)
    theirs = ShipmentFactory()  # another customer's order
    other_order_shipment = ShipmentFactory(order=OrderFactory(customer=customer))
    cases = {
        "shipment": _open(client, customer, shipment=theirs.pk),
        "order": _open(client, customer, order=OrderFactory().pk),
        "voucher": _open(client, customer, voucher=VoucherFactory().pk),
    }
    for field, response in cases.items():
        assert response.status_code == 400, (field, response.content)
        assert field in response.json(), (field, response.json())
    mismatched = _open(client, customer, order=own_order.pk, shipment=other_order_shipment.pk)
    assert mismatched.status_code == 400 and "another order" in mismatched.json()["shipment"][0]
    assert not Case.objects.exists()
    # while the customer's own order, shipment and voucher are accepted
    own_shipment = ShipmentFactory(order=own_order)
    ok = _open(client, customer, order=own_order.pk, shipment=own_shipment.pk,
               voucher=VoucherFactory(holder=customer).pk)
    assert ok.status_code == 201, ok.content


def test_case_open_checks_consistency_for_every_caller():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as raised:
        case_open(customer=customer, category="other", channel="system", subject="x", shipment=ShipmentFactory())
    assert set(raised.value.message_dict) == {"shipment"}
    assert not Case.objects.exists()


def test_the_admin_form_shows_the_consistency_error(client):
    # given a staff user adding a case in the admin, with another customer's shipment
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="staff", is_staff=True, is_superuser=True))
    customer = CustomerFactory()
    theirs = ShipmentFactory()
    now = timezone.localtime()
    day, clock = now.strftime("%Y-%m-%d"), now.strftime("%H:%M:%S")
    form = {
        "customer": customer.pk, "shipment": theirs.pk, "category": "other", "channel": "email", "status": "new",
        "subject": "Typed in the admin", "arrived_at_0": day, "arrived_at_1": clock,
        "first_response_due_at_0": day, "first_response_due_at_1": clock,
        "resolution_due_at_0": day, "resolution_due_at_1": clock,
        "promises-TOTAL_FORMS": "0", "promises-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
    }
    # when it is saved
    response = client.post("/admin/cases/case/add/", form)
    # then the form shows the error on the shipment and nothing is saved
    assert response.status_code == 200
    assert "This shipment belongs to another customer&#x27;s order." in response.content.decode()
    assert not Case.objects.exists()
