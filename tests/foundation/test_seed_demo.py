"""seed_demo holds each of the five stories exactly, and running it twice creates nothing twice."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from cases.models import Case, CaseEvent, Promise
from customers.models import Customer
from customers.selectors import customer_loyalty_facts
from orders.models import Order, OrderLine, Shipment, ShipmentEvent
from vouchers.models import Voucher, VoucherRedemption
from vouchers.selectors import validity_rule_changes

pytestmark = pytest.mark.django_db

MODELS = [User, Customer, Voucher, VoucherRedemption, Order, OrderLine, Shipment, ShipmentEvent, Case, CaseEvent,
          Promise]


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def seeded(db):
    call_command("seed_demo", size=6, stdout=StringIO())
    return counts()


def test_running_seed_demo_twice_creates_nothing_twice(seeded):
    out = StringIO()
    call_command("seed_demo", size=6, stdout=out)
    assert counts() == seeded
    assert "0 generated customers added this run" in out.getvalue()
    assert seeded["Customer"] > 6 and seeded["Case"] > 8


def test_a_larger_size_adds_only_the_new_customers(seeded):
    call_command("seed_demo", size=9, stdout=StringIO())
    assert Customer.objects.filter(email__endswith="@demo.example").count() == 9


def test_story_1_four_year_customer_with_a_12_and_a_6_month_voucher(seeded):
    elena = Customer.objects.get(email="elena.popescu@mail.example")
    facts = customer_loyalty_facts(customer=elena)
    assert facts.tenure_years >= 4 and facts.order_count == 23
    assert facts.lifetime_spend["RON"] > Decimal("250.00") * 10  # spends far more than her vouchers are worth
    [(old, new)] = validity_rule_changes(customer=elena)
    assert (old.validity_rule.validity_months, new.validity_rule.validity_months) == (12, 6)
    assert (timezone.localdate() - new.valid_until).days == 7
    case = Case.objects.get(customer=elena, category="voucher_expired")
    assert case.voucher == new
    promise = case.promises.get()
    assert promise.is_overdue and promise.made_by_name == "Clerk at the Cluj store"


def test_story_2_date_critical_birthday_order_with_a_failing_courier(seeded):
    order = Order.objects.get(number="JW-BELGOROD-0001")
    assert order.is_date_critical and "birthday" in order.occasion and order.currency == "RUB"
    shipment = order.shipments.get()
    assert shipment.status == "delayed"
    assert shipment.estimated_delivery > order.promised_delivery_date
    assert Shipment.objects.filter(status="lost").exists()
    assert Shipment.objects.filter(status="not_collected", order__payment_method="cod").exists()


def test_story_3_rug_with_the_vps_promise(seeded):
    order = Order.objects.get(number="HS-RUG-0470")
    assert order.total == Decimal("470.00") and order.currency == "USD"
    assert order.is_non_refundable and order.promised_delivery_date == timezone.localdate(order.placed_at) + timedelta(10)
    promise = Promise.objects.get(case__order=order)
    assert promise.made_by_name == "Regional vice-president" and promise.is_overdue


def test_story_4_small_customer_who_arrived_first_is_first(seeded):
    giulia = Case.objects.get(customer__email="giulia.bianchi@mail.example")
    marco = Case.objects.get(customer__email="marco.rossi@mail.example")
    assert giulia.arrived_at < marco.arrived_at
    assert customer_loyalty_facts(customer=marco.customer).lifetime_spend["EUR"] > 1000
    ids = list(Case.objects.filter(pk__in=[giulia.pk, marco.pk]).values_list("pk", flat=True))
    assert ids == [giulia.pk, marco.pk]


def test_story_5_late_order_cod_mismatch_and_incomplete_order(seeded):
    late = Shipment.objects.get(tracking_number="CG-1001-LATE")
    assert late.estimated_delivery > late.order.promised_delivery_date
    cod = Shipment.objects.get(tracking_number="CG-1002-COD")
    assert cod.cod_amount - cod.order.cod_quoted_amount == Decimal("20.00")
    assert Case.objects.filter(category="incomplete_order", order__number="EC-WRONG-1003").exists()


def test_demo_users_for_each_role(seeded):
    assert User.objects.get(username="agent").groups.filter(name="agent").exists()
    assert User.objects.get(username="manager").groups.filter(name="manager").exists()
    assert User.objects.get(username="manager").check_password("caseapp-demo")
