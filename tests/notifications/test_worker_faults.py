"""Faults survived with the real Redis, real worker processes and a real SMTP listener (no eager mode)."""

import os
import re
import signal
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from cases.models import CaseEvent, CaseEventKind
from notifications import catalogue
from notifications.models import Message, MessageStatus
from notifications.scans.shipments import late_shipment_handle
from notifications.services import message_queue, outbox_sweep
from notifications.tasks import scan_expiring_vouchers_task
from tests.factories import (
    CaseFactory,
    CustomerFactory,
    OrderFactory,
    ShipmentFactory,
    UserFactory,
    VoucherFactory,
)
from vouchers.models import VoucherReminder

from .conftest import broker_use, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("clean_broker", "worker_timeouts")]


def vouchers_due(count: int) -> list:
    today = timezone.localdate()
    return [
        VoucherFactory(holder=CustomerFactory(preferred_language="ro"), valid_until=today + timedelta(days=7),
                       issued_at=timezone.now() - timedelta(days=300), balance=Decimal("40.00"))
        for _ in range(count)
    ]


def sent_count() -> int:
    return Message.objects.filter(status=MessageStatus.SENT).count()


def test_a_worker_killed_mid_batch_then_restarted_sends_every_due_message_once(committed_db, smtp, start_worker,
                                                                               settings):
    settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS = 0
    settings.NOTIFICATIONS_IN_DOUBT = "resend"  # the listener refused the email being sent at the kill: no copy yet
    # given 30 vouchers due a reminder
    vouchers_due(30)
    # and a worker that dies (SIGKILL, main process and pool) while it waits for the answer to its eighth email
    worker = start_worker(concurrency=1, env={"NOTIFICATIONS_SCAN_BATCH_SIZE": "10", "NOTIFICATIONS_IN_DOUBT": "resend"})
    killed = threading.Event()
    accepted_before_kill = []

    def kill_mid_send(parsed):
        if len(smtp.received) >= 7 and not killed.is_set():
            accepted_before_kill.append(len(smtp.received))
            worker.kill()
            killed.set()
            return "421 4.3.0 the client went away"
        return None

    smtp.on_data = kill_mid_send
    scan_expiring_vouchers_task.delay()
    wait_until(killed.is_set, timeout=180, message="the worker to be killed mid-batch")
    smtp.on_data = None
    assert 0 < accepted_before_kill[0] < 30
    # and the email being sent at the kill is left "sending", a known in-between state
    assert Message.objects.filter(status=MessageStatus.SENDING).count() == 1
    # when a new worker starts, the next beat tick scans again and the sweep re-sends what was left waiting
    # (the row left "sending" once the send time limit has passed, with the same Message-ID)
    start_worker(concurrency=2, name="restarted", env={"NOTIFICATIONS_IN_DOUBT": "resend"})
    scan_expiring_vouchers_task.delay()

    def all_sent():
        outbox_sweep()
        return sent_count() == 30

    wait_until(all_sent, timeout=180, interval=1, message="all 30 reminders sent")
    # then every reminder was delivered exactly once
    keys = Counter(smtp.keys())
    assert len(keys) == 30
    assert max(keys.values()) == 1, [key for key, n in keys.items() if n > 1]
    assert VoucherReminder.objects.count() == 30
    assert Message.objects.count() == 30


def test_a_pool_process_killed_mid_send_is_replaced_and_the_message_left_sending_resent_once(committed_db, smtp,
                                                                                            start_worker, settings):
    settings.NOTIFICATIONS_IN_DOUBT = "resend"
    # given a worker whose pool process is SIGKILLed while it waits for the answer to its fifth email
    # (one pool process, so the kill lands there and nowhere else)
    worker = start_worker(concurrency=1, env={"NOTIFICATIONS_IN_DOUBT": "resend"})
    killed = threading.Event()

    def kill_pool(parsed):
        if len(smtp.received) >= 4 and not killed.is_set():
            for pid in worker.pool_pids():
                os.kill(pid, signal.SIGKILL)
            killed.set()
            return "421 4.3.0 the client went away"
        return None

    smtp.on_data = kill_pool
    # when 20 messages are queued in one transaction (handed over on commit)
    with transaction.atomic():
        for n in range(20):
            message_queue(recipient=f"pool{n}@mail.example", template=catalogue.NOT_COLLECTED,
                          idempotency_key=f"pool-kill:{n}", context={"customer_name": "Ana", "order_number": "O-1",
                                                                    "courier": "FastCourier", "tracking_number": "T"})
    wait_until(killed.is_set, timeout=120, message="the pool processes to be killed mid-send")
    smtp.on_data = None
    # then the main process replaces them and re-queues what they held (acks_late, reject_on_worker_lost); the
    # redelivered task finds its row "sending" and leaves it; the other 19 are sent
    wait_until(lambda: sent_count() == 19, timeout=120, interval=0.5, message="19 messages sent")
    assert "WorkerLostError" in worker.log()
    assert Message.objects.filter(status=MessageStatus.SENDING).count() == 1

    # and once the send time limit has passed, the sweep resends the one left "sending": every message sent, once
    def all_sent():
        outbox_sweep()
        return sent_count() == 20

    wait_until(all_sent, timeout=120, interval=1, message="all 20 messages sent")
    keys = Counter(smtp.keys())
    assert len(keys) == 20 and max(keys.values()) == 1


def test_redis_down_when_a_late_shipment_is_detected_the_row_waits_and_is_sent_when_it_is_back(
        committed_db, smtp, start_worker, own_redis, broker_url):
    UserFactory(username="maria", role="manager")
    # given a worker with its beat (the sweep every second) on a Redis of the test's own
    start_worker(broker=own_redis.url, beat=True, env={
        "NOTIFICATIONS_SWEEP_SECONDS": "1", "NOTIFICATIONS_SCAN_VOUCHERS_SECONDS": "3600",
        "NOTIFICATIONS_SCAN_SHIPMENTS_SECONDS": "3600", "NOTIFICATIONS_SCAN_COD_SECONDS": "3600",
        "NOTIFICATIONS_SCAN_NOT_COLLECTED_SECONDS": "3600", "NOTIFICATIONS_SCAN_PROMISES_SECONDS": "3600",
    })
    broker_use(own_redis.url)
    customer = CustomerFactory(preferred_language="ru", time_zone="Europe/Moscow")
    shipment = ShipmentFactory(
        order=OrderFactory(customer=customer, promised_delivery_date=timezone.localdate() + timedelta(days=1)),
        estimated_delivery=timezone.localdate() + timedelta(days=3), status="delayed",
    )
    # and Redis goes down
    own_redis.stop()
    # when the late shipment is detected
    detection = late_shipment_handle(shipment_id=shipment.pk)
    # then the case and the apology row are committed, the row waiting in the outbox
    assert detection is not None
    apology = Message.objects.get(template=catalogue.LATE_DELIVERY_APOLOGY)
    assert apology.status == MessageStatus.QUEUED and apology.attempts == 0
    assert smtp.messages_to(customer.email) == []
    # when Redis is back, the sweep (run by beat on its own) hands it over again
    own_redis.start()
    wait_until(lambda: smtp.messages_to(customer.email), timeout=180, message="the apology to arrive")
    # then it is sent, once
    wait_until(lambda: Message.objects.get(pk=apology.pk).status == MessageStatus.SENT, timeout=30)
    assert len(smtp.messages_to(customer.email)) == 1
    assert "Приносим извинения" in str(smtp.messages_to(customer.email)[0]["Subject"]).strip()


def test_temporary_and_permanent_smtp_errors_are_retried_then_failed_with_the_reason_on_the_case(
        committed_db, smtp, start_worker):
    # given an SMTP server that is busy twice for one recipient, refuses another, and is always busy for a third
    smtp.data_replies["busy-twice@mail.example"] = ["451 4.3.0 Mailbox busy"] * 2
    smtp.rcpt_replies["gone@mail.example"] = "550 5.1.1 No such user here"
    smtp.data_replies["always-busy@mail.example"] = ["451 4.7.1 Greylisted, come back later"] * 50
    start_worker(env={"NOTIFICATIONS_MAX_ATTEMPTS": "3"})
    cases = {}
    for address in ("busy-twice@mail.example", "gone@mail.example", "always-busy@mail.example"):
        cases[address] = CaseFactory()
        message_queue(recipient=address, template=catalogue.NOT_COLLECTED, idempotency_key=f"fault:{address}",
                      case=cases[address], context={"customer_name": "Ana", "order_number": "O-1",
                                                    "courier": "FastCourier", "tracking_number": "T-1"})

    def settled():
        return not Message.objects.filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]).exists()

    # when the worker has tried them all (retries with exponential backoff: 1 s, then 2 s)
    wait_until(settled, timeout=180, interval=0.5, message="every message sent or failed")
    rows = {m.recipient: m for m in Message.objects.all()}
    # then the temporary errors were retried until the message went through, once
    assert (rows["busy-twice@mail.example"].status, rows["busy-twice@mail.example"].attempts) == ("sent", 3)
    assert len(smtp.messages_to("busy-twice@mail.example")) == 1
    # and the permanent refusal failed at once, with the reason on the case
    assert (rows["gone@mail.example"].status, rows["gone@mail.example"].attempts) == ("failed", 1)
    refused = CaseEvent.objects.get(case=cases["gone@mail.example"], kind=CaseEventKind.NOTIFICATION_FAILED)
    assert "550" in refused.text and "No such user" in refused.text
    # and the endless temporary error failed after the last attempt, with its reason on the case
    assert (rows["always-busy@mail.example"].status, rows["always-busy@mail.example"].attempts) == ("failed", 3)
    busy = CaseEvent.objects.get(case=cases["always-busy@mail.example"], kind=CaseEventKind.NOTIFICATION_FAILED)
    assert "451" in busy.text and "Greylisted" in busy.text
    assert not CaseEvent.objects.filter(case=cases["busy-twice@mail.example"],
                                        kind=CaseEventKind.NOTIFICATION_FAILED).exists()


def test_two_workers_scanning_at_once_still_send_one_reminder_per_voucher_per_offset(
        committed_db, smtp, start_worker):
    # given 60 vouchers due a reminder and two workers
    vouchers_due(60)
    workers = [start_worker(concurrency=2, name=name, env={"NOTIFICATIONS_SCAN_BATCH_SIZE": "7"})
               for name in ("first", "second")]
    # when four beat ticks' worth of scans arrive at once
    for _ in range(4):
        scan_expiring_vouchers_task.delay()
    wait_until(lambda: sent_count() == 60, timeout=180, interval=0.5, message="60 reminders sent")
    scans = re.compile(r"scan_expiring_vouchers_task\[[-0-9a-f]+\] succeeded in [0-9.]+s: (\d+)")
    wait_until(lambda: sum(len(scans.findall(w.log())) for w in workers) == 4, timeout=60, message="4 scans done")
    # (each worker ran scans, and at least two scans found the same vouchers due, so the race really happened)
    assert all(scans.findall(w.log()) for w in workers)
    assert sum(int(found) > 0 for w in workers for found in scans.findall(w.log())) >= 2
    # then there is one reminder, one message and one email per voucher
    assert VoucherReminder.objects.count() == 60
    assert Message.objects.count() == 60
    keys = Counter(smtp.keys())
    assert len(keys) == 60 and max(keys.values()) == 1


def test_two_beats_and_two_workers_on_the_same_batch_still_send_one_reminder_per_voucher(
        committed_db, smtp, start_worker):
    # given the mistake the README warns of: two beat schedulers (each worker runs one, -B), both scanning every
    # second, and two workers taking the batches of both
    every_second = {"NOTIFICATIONS_SCAN_VOUCHERS_SECONDS": "1", "NOTIFICATIONS_SCAN_BATCH_SIZE": "7"}
    workers = [start_worker(concurrency=2, name=name, beat=True, env=every_second) for name in ("north", "south")]
    # when 60 vouchers become due a reminder while both are up, in six waves (pacing, not a timing assertion: each
    # wave is there for more than one scan, so several scans find work, not only the first one after a single load)
    for _ in range(6):
        vouchers_due(10)
        time.sleep(1.5)
    wait_until(lambda: sent_count() == 60, timeout=180, interval=0.5, message="60 reminders sent")
    beat_sent = re.compile(r"Scheduler: Sending due task scan-expiring-vouchers")
    wait_until(lambda: all(len(beat_sent.findall(w.log())) >= 3 for w in workers), timeout=60,
               message="three scans from each beat")
    # (both beats' scans found vouchers due, so two schedulers really handed out the same batch)
    scans = re.compile(r"scan_expiring_vouchers_task\[[-0-9a-f]+\] succeeded in [0-9.]+s: (\d+)")
    assert sum(int(found) > 0 for w in workers for found in scans.findall(w.log())) >= 2
    batches = re.compile(r"queue_voucher_reminders_task\[[-0-9a-f]+\] succeeded")
    assert all(batches.findall(w.log()) for w in workers)  # both workers handled batches
    # then one reminder, one message and one email per voucher
    assert VoucherReminder.objects.count() == 60
    assert Message.objects.count() == 60
    keys = Counter(smtp.keys())
    assert len(keys) == 60 and max(keys.values()) == 1
