"""POST /api/v1/orders/, /api/v1/customers/ and /api/v1/shipments/: a shop's back office creates or updates them, idempotently."""

import pytest

from customers.models import Customer
from orders.models import Order, Shipment, ShipmentStatus
from tests.factories import CourierFactory, OrderFactory

pytestmark = pytest.mark.django_db

ORDER = {
    "number": "BO-77", "placed_at": "2026-11-29T12:00:00+02:00", "currency": "EUR", "status": "paid",
    "customer": {"email": "Giulia.Bianchi@mail.example", "name": "Giulia Bianchi", "language": "it"},
    "lines": [{"sku": "CUP", "name": "Tazza", "quantity": 2, "unit_price": "19.90"}],
    "payment_method": "cod", "shipping_amount": "5.00",
}


def test_an_order_is_created_once_and_updated_by_its_number(as_manager):
    # when the shop sends a new order
    first = as_manager.post("/api/v1/orders/", ORDER, format="json")
    # then it is created with its customer, lines and the quoted COD amount
    assert first.status_code == 201, first.content
    assert first.json()["outcome"] == "created"
    order = Order.objects.get(number="BO-77")
    assert order.customer.email.lower() == "giulia.bianchi@mail.example"
    assert order.lines.count() == 1 and order.cod_quoted_amount == order.total
    # when it sends the same again, nothing changes
    again = as_manager.post("/api/v1/orders/", ORDER, format="json")
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    # when the order ships, the same order is updated
    shipped = as_manager.post("/api/v1/orders/", {**ORDER, "status": "shipped"}, format="json")
    assert shipped.status_code == 200 and shipped.json()["outcome"] == "changed"
    assert Order.objects.filter(number="BO-77").count() == 1
    assert Order.objects.get(number="BO-77").status == "shipped"


def test_a_bad_order_gets_field_errors_and_saves_nothing(as_manager):
    bad = {**ORDER, "currency": "XXX", "lines": [{"name": "Tazza", "quantity": 0, "unit_price": "1.999"}]}
    response = as_manager.post("/api/v1/orders/", bad, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"currency", "lines[1].quantity", "lines[1].unit_price"}  # lines count from 1
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_a_customer_is_found_by_email_in_any_case_or_created(as_agent):
    created = as_agent.post("/api/v1/customers/", {"email": "Elena.Popescu@mail.example", "name": "Elena Popescu",
                                                    "language": "ro"}, format="json")
    assert created.status_code == 201 and created.json()["outcome"] == "created"
    found = as_agent.post("/api/v1/customers/", {"email": "elena.popescu@MAIL.example"}, format="json")
    assert found.status_code == 200 and found.json()["id"] == created.json()["id"]
    assert Customer.objects.count() == 1
    assert as_agent.post("/api/v1/customers/", {"email": "not an email"}, format="json").status_code == 400


def test_only_agents_and_managers_write(as_anonymous, as_no_role, as_revoked):
    for client, expected in ((as_anonymous, 401), (as_no_role, 403), (as_revoked, 401)):
        assert client.post("/api/v1/orders/", ORDER, format="json").status_code == expected
        assert client.post("/api/v1/customers/", {"email": "x@mail.example"}, format="json").status_code == expected
    assert not Order.objects.exists() and not Customer.objects.exists()


def _shipment(order, **extra):
    return {"order_number": order.number, "courier": "FastCourier", "tracking_number": "RO123456789",
            "estimated_delivery": "2026-12-04", **extra}


def test_a_shipment_is_recorded_once_per_courier_and_tracking_number(as_agent):
    # given an order of the shop and a courier caseapp knows
    order = OrderFactory(number="BO-78")
    CourierFactory(name="FastCourier")
    # when the shop reports its shipment, handed over to the courier
    first = as_agent.post("/api/v1/shipments/", _shipment(order, handed_over_at="2026-12-01T09:30:00+02:00"),
                          format="json")
    # then it is recorded on that order, in transit
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["outcome"] == "created" and body["order_number"] == "BO-78" and body["courier"] == "FastCourier"
    shipment = Shipment.objects.get(tracking_number="RO123456789")
    assert shipment.order == order and shipment.status == ShipmentStatus.IN_TRANSIT
    assert shipment.estimated_delivery.isoformat() == "2026-12-04"
    assert shipment.handed_over_at.isoformat() == "2026-12-01T07:30:00+00:00"
    # when it reports the same again (even with another date), the shipment already recorded answers, unchanged
    again = as_agent.post("/api/v1/shipments/", _shipment(order, estimated_delivery="2026-12-09"), format="json")
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    assert again.json()["id"] == shipment.pk
    assert Shipment.objects.count() == 1
    assert Shipment.objects.get().estimated_delivery.isoformat() == "2026-12-04"


def test_a_shipment_not_handed_over_yet_is_created(as_agent):
    order = OrderFactory(number="BO-79")
    CourierFactory(name="FastCourier")
    response = as_agent.post("/api/v1/shipments/", _shipment(order), format="json")
    assert response.status_code == 201, response.content
    assert Shipment.objects.get().status == ShipmentStatus.CREATED
    assert Shipment.objects.get().handed_over_at is None


def test_a_bad_shipment_gets_field_errors_and_saves_nothing(as_agent):
    order = OrderFactory(number="BO-80")
    CourierFactory(name="FastCourier")
    # unknown courier, blank tracking number, a date outside the calendar
    bad = as_agent.post("/api/v1/shipments/", _shipment(order, courier="NoSuchCourier", tracking_number="",
                                                        estimated_delivery="0001-01-01"), format="json")
    assert bad.status_code == 400
    assert set(bad.json()) >= {"courier", "tracking_number", "estimated_delivery"}
    # an order the shop never sent
    unknown = as_agent.post("/api/v1/shipments/", {**_shipment(order), "order_number": "NOPE-1"}, format="json")
    assert unknown.status_code == 400 and set(unknown.json()) == {"order_number"}
    # nothing at all
    empty = as_agent.post("/api/v1/shipments/", {}, format="json")
    assert empty.status_code == 400
    assert set(empty.json()) >= {"order_number", "courier", "tracking_number", "estimated_delivery"}
    assert not Shipment.objects.exists()


def test_a_tracking_number_already_another_orders_is_refused(as_agent):
    first, second = OrderFactory(number="BO-81"), OrderFactory(number="BO-82")
    CourierFactory(name="FastCourier")
    assert as_agent.post("/api/v1/shipments/", _shipment(first), format="json").status_code == 201
    response = as_agent.post("/api/v1/shipments/", _shipment(second), format="json")
    assert response.status_code == 400 and "BO-81" in response.json()["tracking_number"][0]
    assert Shipment.objects.get().order == first


def test_only_agents_and_managers_record_shipments(as_anonymous, as_no_role, as_revoked):
    order = OrderFactory(number="BO-83")
    CourierFactory(name="FastCourier")
    for client, expected in ((as_anonymous, 401), (as_no_role, 403), (as_revoked, 401)):
        assert client.post("/api/v1/shipments/", _shipment(order), format="json").status_code == expected
    assert not Shipment.objects.exists()
