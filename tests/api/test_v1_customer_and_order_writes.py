"""POST /api/v1/orders/ and /api/v1/customers/: a shop's back office creates or updates them, idempotently."""

import pytest

from customers.models import Customer
from orders.models import Order

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
