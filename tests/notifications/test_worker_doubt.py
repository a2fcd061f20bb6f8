"""The duplicate-send window and Redis lost, with real worker processes, a real SMTP listener and an own Redis.

The listener here can accept a message (it has it, as a real MTA has queued it) and then stall before answering:
the moment where a worker killed used to leave the row "queued" and the sweep sent a second copy.
"""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import CaseEvent, CaseEventKind
from notifications import catalogue
from notifications.models import Message, MessageStatus
from notifications.services import message_confirm_sent, message_queue, outbox_sweep
from notifications.tasks import scan_expiring_vouchers_task
from tests.factories import CaseFactory, CustomerFactory, VoucherFactory
from vouchers.models import VoucherReminder

from .conftest import broker_use, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("clean_broker", "worker_timeouts")]

CONTEXT = {"customer_name": "Elena", "order_number": "O-7", "courier": "FastCourier", "tracking_number": "T-7"}
QUIET_BEAT = {
    "NOTIFICATIONS_SWEEP_SECONDS": "1", "NOTIFICATIONS_SCAN_VOUCHERS_SECONDS": "2",
    "NOTIFICATIONS_SCAN_SHIPMENTS_SECONDS": "3600", "NOTIFICATIONS_SCAN_COD_SECONDS": "3600",
    "NOTIFICATIONS_SCAN_NOT_COLLECTED_SECONDS": "3600", "NOTIFICATIONS_SCAN_PROMISES_SECONDS": "3600",
}


def status_of(message) -> str:
    return Message.objects.get(pk=message.pk).status


@pytest.mark.parametrize("mode", ["hold", "resend"])
def test_a_worker_killed_after_the_listener_accepted_the_message(mode, committed_db, smtp, start_worker, settings):
    settings.NOTIFICATIONS_IN_DOUBT = mode
    # given a listener that accepts the message and then stalls before it answers 250
    smtp.stall_after_accept = True
    worker = start_worker(env={"NOTIFICATIONS_IN_DOUBT": mode})
    case = CaseFactory()
    message, _ = message_queue(recipient="elena@mail.example", template=catalogue.NOT_COLLECTED,
                               idempotency_key=f"accepted-then-killed:{mode}", context=CONTEXT, case=case)
    wait_until(smtp.accepted.is_set, timeout=60, message="the listener to accept the message")
    # then, before the listener answered, the row already says "sending" (committed) with the attempt's time
    row = Message.objects.get(pk=message.pk)
    assert (row.status, row.attempts) == (MessageStatus.SENDING, 1)
    assert timezone.now() - timedelta(seconds=60) < row.last_attempt_at <= timezone.now()
    # when the worker is SIGKILLed at that moment (main process and pool), and a new worker starts
    worker.kill()
    smtp.stall_after_accept = False
    smtp.release.set()
    start_worker(name="restarted", env={"NOTIFICATIONS_IN_DOUBT": mode})
    # and the sweep runs until the row is no longer "sending" (after the send time limit)
    wait_until(lambda: outbox_sweep() is not None and status_of(message) != MessageStatus.SENDING, timeout=60,
               interval=0.5, message="the sweep to settle the row left sending")
    copies = smtp.messages_to("elena@mail.example")
    if mode == "hold":
        # then the row is held in doubt with the reason on its case, and the listener has one copy
        row = Message.objects.get(pk=message.pk)
        assert row.status == MessageStatus.IN_DOUBT and "worker stopped during attempt 1" in row.last_error
        event = CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTIFICATION_FAILED)
        assert event.data["in_doubt"] is True
        for _ in range(3):  # more sweeps, with a live worker, send nothing more
            outbox_sweep()
        wait_until(lambda: True, timeout=1)
        assert len(smtp.messages_to("elena@mail.example")) == 1
        # and a person who sees the customer got it confirms it: sent, still one copy
        message_confirm_sent(message_id=message.pk)
        assert status_of(message) == MessageStatus.SENT and len(copies) == 1
    else:
        # then it is sent again with the same Message-ID: the residual duplicate of "resend" mode, which a
        # receiver deduplicating on Message-ID drops
        wait_until(lambda: status_of(message) == MessageStatus.SENT, timeout=60, message="the resend")
        copies = smtp.messages_to("elena@mail.example")
        assert len(copies) == 2
        assert copies[0]["Message-ID"] == copies[1]["Message-ID"]
        assert Message.objects.get(pk=message.pk).attempts == 2


def test_redis_killed_with_tasks_queued_and_a_scan_lost_everything_is_sent_once(
        committed_db, smtp, start_worker, own_redis, broker_url):
    # given a worker with its beat (sweep every second, voucher scan every 2 s) on a Redis of the test's own,
    # and a listener slow enough (0.3 s an email) that tasks wait in Redis
    smtp.delay_seconds = 0.3
    worker = start_worker(broker=own_redis.url, beat=True, env=QUIET_BEAT)
    broker_use(own_redis.url)
    today = timezone.localdate()
    for _ in range(8):
        VoucherFactory(holder=CustomerFactory(), valid_until=today + timedelta(days=7),
                       issued_at=timezone.now() - timedelta(days=300), balance=Decimal("40.00"))
    # and 20 messages queued (handed over on commit), and a voucher scan task sent right after them
    for n in range(20):
        message_queue(recipient=f"redis{n}@mail.example", template=catalogue.NOT_COLLECTED,
                      idempotency_key=f"redis-kill:{n}", context=CONTEXT)
    scan_expiring_vouchers_task.delay()
    wait_until(lambda: len(smtp.received) >= 2, timeout=60, message="the first emails to arrive")
    waiting = own_redis.queue_length()
    # when Redis is killed with SIGKILL (no persistence: the queued tasks and the scan are gone) and comes back
    own_redis.kill()
    own_redis.start()
    assert waiting >= 10 and own_redis.queue_length() == 0
    smtp.delay_seconds = 0
    # then the sweep and the next beat's scan recover everything: 20 messages and 8 reminders, each sent once
    wait_until(lambda: Message.objects.filter(status=MessageStatus.SENT).count() == 28, timeout=120, interval=0.5,
               message="all 28 emails sent")
    keys = Counter(smtp.keys())
    assert len(keys) == 28 and max(keys.values()) == 1, [key for key, n in keys.items() if n > 1]
    assert VoucherReminder.objects.count() == 8 and Message.objects.count() == 28
    assert not Message.objects.exclude(status=MessageStatus.SENT).exists()
    assert worker.process.poll() is None  # the worker reconnected rather than died
