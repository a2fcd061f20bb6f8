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


# --- a shop on a normal day, whenever the demo is loaded -----------------------------------------------------------

STORY_CASE_CUSTOMERS = ["elena.popescu@mail.example", "dmitri.sokolov@mail.example", "olga.petrova@mail.example",
                        "pavel.ivanov@mail.example", "karen.miller@mail.example", "giulia.bianchi@mail.example",
                        "marco.rossi@mail.example", "cristina.matei@mail.example"]


@pytest.fixture
def normal_day(db):
    call_command("seed_demo", size=80, stdout=StringIO())
    return timezone.now()


def _overdue(case, now):
    return case.resolution_due_at < now or (case.first_responded_at is None and case.first_response_due_at < now)


def test_most_open_cases_are_within_their_clocks_and_a_few_are_overdue(normal_day):
    # given the demo loaded today
    from cases.models import OPEN_STATUSES

    open_cases = list(Case.objects.filter(status__in=OPEN_STATUSES))
    generated = [case for case in open_cases if case.customer.email.endswith("@demo.example")]
    overdue = [case for case in generated if _overdue(case, normal_day)]
    # then most generated open cases are within their clocks, and a few are not
    assert len(generated) >= 10
    assert 0 < len(overdue) <= 0.3 * len(generated)
    # and nothing arrives in the future, whatever the hour the demo is loaded at
    assert not Case.objects.filter(arrived_at__gt=normal_day).exists()
    assert not ShipmentEvent.objects.filter(occurred_at__gt=normal_day).exists()
    # and no open case has been waiting for weeks
    oldest = min(case.arrived_at for case in open_cases)
    assert normal_day - oldest < timedelta(days=7)
    # and the older cases are done
    assert Case.objects.filter(customer__email__endswith="@demo.example", status__in=("resolved", "closed"),
                               arrived_at__lt=normal_day - timedelta(days=7)).exists()


def test_the_stories_sit_near_the_head_of_the_queue(normal_day, django_user_model):
    # given the queue the agents see (open cases, first come first served)
    from cases.selectors import QueueFilters, queue_cases

    agent = django_user_model.objects.get(username="agent")
    queue = list(queue_cases(filters=QueueFilters(), user=agent)[:15])
    # then every story's case is among the first fifteen
    emails = {case.customer.email for case in queue}
    assert set(STORY_CASE_CUSTOMERS) <= emails


def test_the_voucher_scan_finds_reminders_due_today_at_30_7_and_1_days(normal_day):
    # given the demo loaded today
    from notifications.scans.vouchers import expiring_vouchers_scan, reminder_offset_due

    found = []
    # when the voucher scan runs
    count = expiring_vouchers_scan(enqueue=found.extend)
    # then it finds vouchers due a reminder at each offset
    assert count == len(found) > 0
    today = timezone.localdate()
    offsets = {reminder_offset_due(valid_until=v.valid_until, today=today, offsets=[30, 7, 1])
               for v in Voucher.objects.filter(pk__in=found)}
    assert offsets == {30, 7, 1}


def test_the_rug_was_delivered_and_a_wrong_style_reopens_its_case(seeded, django_user_model):
    # given the rug order, delivered today
    from cases.services import delivery_check

    order = Order.objects.get(number="HS-RUG-0470")
    shipment = order.shipments.get()
    assert shipment.status == "delivered" and shipment.events.count() == 2
    rug = order.lines.get(sku="RUG-KILIM-160")
    assert rug.variant == "Kilim, indigo"
    # when what arrived is recorded: the rug in another style
    case = delivery_check(shipment=shipment, received=[
        {"sku": "RUG-KILIM-160", "quantity": 1, "variant": "Kilim, red"}, {"sku": "LAMP-BR", "quantity": 1}])
    # then the story's case carries the mismatch
    assert case == Case.objects.get(order=order, category="broken_promise")
    assert "ordered Kilim, indigo, received Kilim, red" in case.events.order_by("-id").first().text
