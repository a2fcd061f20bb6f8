"""The stories' proactive moments, each happening on its own: a real worker with its beat scans every second.

Nothing calls a scan here: the test writes the facts, commits them, and waits for the email to arrive at a real
SMTP listener.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from cases.models import Case, CaseCategory, CaseChannel, CaseEventKind, Promise
from notifications import catalogue
from notifications.models import Message, MessageStatus
from orders.models import PaymentMethod
from policies.models import Remedy
from tests.factories import (
    CaseFactory,
    CustomerFactory,
    OrderFactory,
    PromiseFactory,
    ShipmentFactory,
    UserFactory,
    ValidityRuleFactory,
    VoucherFactory,
)
from vouchers.models import VoucherReminder

from .conftest import WorkerProcess, broker_flush, wait_until

pytestmark = pytest.mark.worker

EVERY_SECOND = {
    "NOTIFICATIONS_SCAN_VOUCHERS_SECONDS": "1", "NOTIFICATIONS_SCAN_SHIPMENTS_SECONDS": "1",
    "NOTIFICATIONS_SCAN_COD_SECONDS": "1", "NOTIFICATIONS_SCAN_NOT_COLLECTED_SECONDS": "1",
    "NOTIFICATIONS_SCAN_PROMISES_SECONDS": "1", "NOTIFICATIONS_SWEEP_SECONDS": "2",
    "NOTIFICATIONS_SWEEP_AFTER_SECONDS": "5",
}


@pytest.fixture(scope="module")
def beat_worker(smtp_server, django_db_setup, django_db_blocker, tmp_path_factory):
    broker_flush(settings.CELERY_BROKER_URL)
    worker = WorkerProcess(name="stories", broker=settings.CELERY_BROKER_URL, smtp_port=smtp_server.port,
                           workdir=tmp_path_factory.mktemp("stories"), beat=True, concurrency=2, env=EVERY_SECOND)
    with django_db_blocker.unblock():
        worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def staff(committed_db):
    return UserFactory(username="alice", role="agent"), UserFactory(username="maria", role="manager")


def subject(email) -> str:
    return " ".join(str(email["Subject"]).split())


SCAN_DONE = r"{task}\[[-0-9a-f]+\] succeeded"


def scans_done(worker, task: str) -> int:
    return len(re.findall(SCAN_DONE.format(task=task), worker.log()))


def after_more_scans(worker, task: str, count: int = 2):
    """Wait until the beat has run `task` `count` more times (to show nothing more is sent)."""
    start = scans_done(worker, task)
    wait_until(lambda: scans_done(worker, task) >= start + count, timeout=60, message=f"{count} more {task}")


def test_story_1_the_voucher_reminder_arrives_before_it_expires(beat_worker, smtp, staff):
    # given a customer of four years with a 150 RON voucher that expires in seven days
    ioana = CustomerFactory(name="Ioana Popescu", preferred_language="ro", time_zone="Europe/Bucharest",
                            customer_since=timezone.localdate() - timedelta(days=4 * 365))
    voucher = VoucherFactory(holder=ioana, value=Decimal("150.00"), currency="RON",
                             issued_at=timezone.now() - timedelta(days=175),
                             valid_until=timezone.localdate() + timedelta(days=7))
    # when the worker's beat scans on its own, then she receives one reminder, in Romanian
    [email] = wait_until(lambda: smtp.messages_to(ioana.email), message="the voucher reminder")
    assert subject(email).startswith(f"Voucherul dumneavoastră {voucher.code} expiră pe")
    text = email.get_body(("plain",)).get_content()
    assert "150,00 RON" in text and "inclusiv" in text and "magazinele noastre" in text
    # and however often the scan runs again, no second reminder for this offset
    after_more_scans(beat_worker, "scan_expiring_vouchers_task")
    assert len(smtp.messages_to(ioana.email)) == 1
    assert list(VoucherReminder.objects.filter(voucher=voucher).values_list("offset_days", flat=True)) == [7]


def test_story_5_the_late_order_apology_arrives_before_the_customer_asks(beat_worker, smtp, staff):
    # given an order of 200 RON promised for tomorrow whose courier now expects it in three days
    ValidityRuleFactory()
    customer = CustomerFactory(name="Andrei Ionescu", preferred_language="ro", time_zone="Europe/Bucharest")
    order = OrderFactory(customer=customer, promised_delivery_date=timezone.localdate() + timedelta(days=1),
                         total=Decimal("200.00"), currency="RON")
    new_date = timezone.localdate() + timedelta(days=3)
    shipment = ShipmentFactory(order=order, estimated_delivery=new_date, handed_over_at=timezone.now())
    # when the beat scans, then the customer gets the apology with the new date, on his own case
    [email] = wait_until(lambda: smtp.messages_to(customer.email), message="the apology")
    assert subject(email).startswith(f"Ne pare rău: comanda {order.number} va ajunge pe")
    assert str(new_date.year) in subject(email)
    case = Case.objects.get(order=order)
    assert (case.channel, case.category, case.shipment_id) == (CaseChannel.SYSTEM, CaseCategory.LATE_DELIVERY,
                                                               shipment.pk)
    assert case.events.filter(kind=CaseEventKind.DETECTED).exists()
    # and the policy's 5% late-delivery discount was applied on its own, and the apology says so
    remedy = Remedy.objects.get(case=case)
    assert (remedy.kind, remedy.status, remedy.amount, remedy.currency) == ("discount", "applied",
                                                                            Decimal("10.00"), "RON")
    text = email.get_body(("plain",)).get_content()
    assert "o reducere de 10,00 RON" in text and remedy.parameters["voucher_code"] in text
    # and the new date is a promise with an owner
    assert Promise.objects.get(case=case).owner.username == "maria"
    after_more_scans(beat_worker, "scan_late_shipments_task")
    assert len(smtp.messages_to(customer.email)) == 1


def test_story_2_the_birthday_parcel_at_risk_is_escalated_with_the_time_left(beat_worker, smtp, staff):
    alice, maria = staff
    # given a birthday present to arrive tomorrow, whose courier reports a delay, on a case Alice owns
    customer = CustomerFactory(name="Dmitri", preferred_language="ru", time_zone="Europe/Moscow")
    order = OrderFactory(customer=customer, promised_delivery_date=timezone.localdate() + timedelta(days=1),
                         is_date_critical=True, occasion="girlfriend's birthday", currency="RUB")
    CaseFactory(customer=customer, order=order, category=CaseCategory.LATE_DELIVERY, owner=alice)
    ShipmentFactory(order=order, status="delayed", handed_over_at=timezone.now())
    # when the beat scans, then Alice and a manager are told at once, with the hours left to act
    wait_until(lambda: smtp.messages_to(alice.email) and smtp.messages_to(maria.email), message="escalations")
    for person in (alice, maria):
        [email] = [m for m in smtp.messages_to(person.email) if "Date-critical" in subject(m)]
        assert re.search(r"at risk: \d+ hours left", subject(email))
        assert "girlfriend's birthday" in email.get_body(("plain",)).get_content()
    # and the customer gets no apology promising a date after the birthday: the first move is the shop's
    assert not Message.objects.filter(recipient=customer.email).exists()


def test_story_5_a_cod_mismatch_becomes_a_task_to_correct_it_before_delivery(beat_worker, smtp, staff):
    _, maria = staff
    # given a cash-on-delivery order quoted 100 RON whose courier label says 120 RON
    order = OrderFactory(payment_method=PaymentMethod.CASH_ON_DELIVERY, cod_quoted_amount=Decimal("100.00"),
                         total=Decimal("100.00"), currency="RON")
    ShipmentFactory(order=order, cod_amount=Decimal("120.00"), handed_over_at=timezone.now(),
                    estimated_delivery=timezone.localdate() + timedelta(days=2))
    # when the beat scans, then a manager gets the task by email
    [email] = wait_until(lambda: smtp.messages_to(maria.email), message="the COD task")
    assert subject(email) == f"Task: have FastCourier correct the COD amount of order {order.number}"
    assert "asks 120.00 RON on delivery" in email.get_body(("plain",)).get_content()
    # and the case carries the task as a promise with an owner, due before delivery
    case = Case.objects.get(order=order, category=CaseCategory.COD_MISMATCH)
    promise = Promise.objects.get(case=case)
    assert promise.owner == maria and promise.due_at < timezone.now() + timedelta(days=2)


def test_story_1_the_forgotten_monday_call_back_is_raised_to_its_owner_and_a_manager(beat_worker, smtp, staff):
    alice, maria = staff
    # given the clerk's promise to call back on Monday, owned by Alice, due an hour ago
    promise = PromiseFactory(owner=alice, description="Call Ioana back on Monday about her expired voucher",
                             due_at=timezone.now() - timedelta(hours=1))
    # when the beat scans, then Alice and the manager are alerted, once
    wait_until(lambda: smtp.messages_to(alice.email) and smtp.messages_to(maria.email), message="alerts")
    after_more_scans(beat_worker, "scan_overdue_promises_task")
    for person in (alice, maria):
        [email] = smtp.messages_to(person.email)
        assert subject(email) == f"Overdue promise on case #{promise.case_id}"
        assert "Call Ioana back on Monday" in email.get_body(("plain",)).get_content()
    promise.refresh_from_db()
    assert promise.overdue_alerted_at is not None


def test_story_2_an_uncollected_parcel_gets_a_friendly_message_not_a_blacklist(beat_worker, smtp, staff):
    customer = CustomerFactory(preferred_language="it", time_zone="Europe/Rome")
    ShipmentFactory(order=OrderFactory(customer=customer, payment_method=PaymentMethod.CASH_ON_DELIVERY,
                                       cod_quoted_amount=Decimal("50.00")), status="not_collected")
    [email] = wait_until(lambda: smtp.messages_to(customer.email), message="the friendly message")
    assert "nessun problema" in email.get_body(("plain",)).get_content()
    assert Case.objects.get(customer=customer).category == CaseCategory.NOT_COLLECTED
    # (the listener has the email a few milliseconds before the worker commits the row as sent)
    wait_until(lambda: Message.objects.get(recipient=customer.email).status == MessageStatus.SENT, timeout=30,
               message="the row to be marked sent")
    assert catalogue.NOT_COLLECTED == Message.objects.get(recipient=customer.email).template
