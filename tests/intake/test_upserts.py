"""customers.services.customer_upsert and orders.services.order_upsert: the foundation of every intake path."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from caseapp.upsert import Outcome
from customers.models import Customer
from customers.services import customer_upsert
from orders.models import Order, OrderStatus, PaymentMethod
from orders.services import order_upsert
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LINES = [{"sku": "TEA-01", "name": "Ceai de tei", "quantity": 2, "unit_price": "45.00"},
         {"sku": "MUG-BL", "name": "Cană", "quantity": 1, "unit_price": "80.00", "variant": "Albastru"}]


PLACED_AT = timezone.now() - timedelta(days=3)


def _order(customer, **overrides):
    data = {"number": "#1001", "customer": customer, "placed_at": PLACED_AT,
            "currency": "RON", "lines": LINES, "payment_method": PaymentMethod.CARD, "shipping_amount": "15.00",
            "status": OrderStatus.PAID, "shipping_city": "București", "shipping_country": "ro"}
    data.update(overrides)
    return order_upsert(**data)


def test_customer_upsert_matches_email_case_insensitively_and_fills_only_blanks():
    # given a customer known under one spelling of her email, without a phone
    elena = CustomerFactory(email="elena.popescu@mail.example", name="Elena Popescu", phone="")
    # when the shop sends her under another spelling, with a phone and another name
    customer, outcome = customer_upsert(email=" Elena.Popescu@Mail.Example ", name="E. Popescu", phone="+40 721")
    # then she is the same customer: the blank phone is filled, the name agents know stays
    assert customer.pk == elena.pk and outcome == Outcome.CHANGED
    elena.refresh_from_db()
    assert (elena.name, elena.phone, elena.email) == ("Elena Popescu", "+40 721", "elena.popescu@mail.example")
    assert Customer.objects.count() == 1
    # and the same data again changes nothing
    assert customer_upsert(email="ELENA.POPESCU@mail.example", phone="+40 721")[1] == Outcome.UNCHANGED


def test_customer_upsert_creates_with_language_from_country_and_moves_tenure_only_earlier():
    # when a new customer arrives with a Russian address and an order of last year
    customer, outcome = customer_upsert(email="anna@mail.example", name="Анна", country="ru",
                                        customer_since=date(2025, 3, 1))
    # then she is created, written to in Russian, a customer since that order
    assert outcome == Outcome.CREATED
    assert (customer.preferred_language, customer.country, customer.customer_since) == ("ru", "RU", date(2025, 3, 1))
    # and a later order does not shorten her tenure, an older one lengthens it
    assert customer_upsert(email="anna@mail.example", customer_since=date(2026, 1, 1))[1] == Outcome.UNCHANGED
    customer_upsert(email="anna@mail.example", customer_since=date(2024, 5, 2))
    assert Customer.objects.get().customer_since == date(2024, 5, 2)


def test_customer_upsert_refuses_a_malformed_email():
    with pytest.raises(ValidationError) as error:
        customer_upsert(email="not-an-email", name="X")
    assert "email" in error.value.message_dict
    assert not Customer.objects.exists()


def test_order_upsert_is_idempotent_on_the_shop_number_and_updates_status_lines_and_totals():
    # given an order created from the shop
    customer = CustomerFactory()
    order, outcome = _order(customer)
    assert outcome == Outcome.CREATED
    assert order.total == Decimal("185.00") and order.lines.count() == 2 and order.shipping_country == "RO"
    # when the same order arrives again, then nothing changes
    lines_before = list(order.lines.values_list("pk", flat=True))
    assert _order(customer)[1] == Outcome.UNCHANGED
    assert list(order.lines.values_list("pk", flat=True)) == lines_before
    # when it arrives refunded, with one line fewer and the shop's own total
    order, outcome = _order(customer, status=OrderStatus.REFUNDED, lines=LINES[:1], total="105.00",
                            tax_amount="16.76")
    # then it is changed and kept with its status
    assert outcome == Outcome.CHANGED
    order = Order.objects.get(number="#1001")
    assert (order.status, order.total, order.tax_amount) == (OrderStatus.REFUNDED, Decimal("105.00"),
                                                             Decimal("16.76"))
    assert list(order.lines.values_list("sku", flat=True)) == ["TEA-01"]
    assert Order.objects.count() == 1


def test_order_upsert_cash_on_delivery_is_quoted_the_total_unless_the_shop_says_otherwise():
    customer = CustomerFactory()
    order, _ = _order(customer, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    assert order.cod_quoted_amount == Decimal("185.00")
    order, _ = _order(customer, number="#1002", payment_method=PaymentMethod.CASH_ON_DELIVERY,
                      cod_quoted_amount="170.00")
    assert order.cod_quoted_amount == Decimal("170.00")
    # and a card order never carries a COD quote
    order, _ = _order(customer, number="#1003", cod_quoted_amount="10.00")
    assert order.cod_quoted_amount is None


def test_an_older_picture_of_the_order_does_not_undo_what_the_courier_did():
    # given an order the courier delivered
    customer = CustomerFactory()
    order, _ = _order(customer)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)
    # when the shop sends it again as paid
    _order(customer, status=OrderStatus.PAID)
    # then it stays delivered, but a refund still counts
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    _order(customer, status=OrderStatus.REFUNDED)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


@pytest.mark.parametrize(("overrides", "field"), [
    ({"currency": "XXY"}, "currency"),
    ({"shipping_amount": "1.005"}, "shipping_amount"),
    ({"lines": []}, "lines"),
    ({"lines": [{"name": "x", "quantity": 0, "unit_price": "1.00"}]}, "lines"),
    ({"total": "-1.00"}, "total"),
])
def test_order_upsert_refuses_bad_input_and_writes_nothing(overrides, field):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        _order(customer, **overrides)
    assert field in error.value.message_dict
    assert not Order.objects.exists()
