"""Batches on the proactive path: reminders recorded in one INSERT per batch, and outbox rows sent over one session.

The guards are the same as row by row: VoucherReminder's unique (voucher, offset) and the outbox's claim/settle.
"""

import socket
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications import catalogue, services
from notifications.models import Message, MessageStatus
from notifications.scans.vouchers import voucher_reminder_queue, voucher_reminders_queue
from notifications.services import (
    MessageDraft,
    batch_claim_guard_seconds,
    message_queue,
    message_queue_many,
    message_send,
    message_send_batch,
)
from tests.factories import CustomerFactory, VoucherFactory
from vouchers.models import VoucherReminder

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
TODAY = timezone.localdate(NOW)


def voucher(days_left: int, **kwargs):
    holder = kwargs.pop("holder", None) or CustomerFactory(preferred_language="ro", time_zone="Europe/Bucharest")
    return VoucherFactory(holder=holder, valid_until=TODAY + timedelta(days=days_left),
                          issued_at=NOW - timedelta(days=300), balance=Decimal("80.00"), **kwargs)


def test_a_batch_run_twice_records_each_reminder_and_queues_each_email_once(django_capture_on_commit_callbacks):
    # given twelve vouchers with a reminder due, one far from expiry, and one already reminded at its offset
    due = [voucher(7) for _ in range(11)]
    reminded = voucher(30)
    VoucherReminder.objects.create(voucher=reminded, offset_days=30, valid_until=reminded.valid_until)
    far = voucher(90)
    ids = [v.pk for v in [*due, reminded, far]]
    # when the batch handler runs, then runs again on the same batch
    with django_capture_on_commit_callbacks() as callbacks:
        first = voucher_reminders_queue(voucher_ids=ids, now=NOW)
    second = voucher_reminders_queue(voucher_ids=ids, now=NOW)
    # then the eleven due got one reminder and one email each, the second run made nothing
    assert first == {v.pk: 7 for v in due} and second == {}
    assert Counter(VoucherReminder.objects.values_list("voucher_id", "offset_days")) == Counter(
        {**{(v.pk, 7): 1 for v in due}, (reminded.pk, 30): 1})
    keys = sorted(Message.objects.values_list("idempotency_key", flat=True))
    assert keys == sorted(f"voucher-reminder:{v.pk}:7" for v in due)
    # and the emails are the ones the single handler writes (language, zone, context)
    message = Message.objects.get(idempotency_key=f"voucher-reminder:{due[0].pk}:7")
    assert (message.language, message.time_zone, message.status) == ("ro", "Europe/Bucharest", MessageStatus.QUEUED)
    assert message.context["balance"] == "80.00" and message.context["days_left"] == 7
    assert message.context["expiry_date"] == due[0].valid_until.isoformat()
    # and they were handed over once, on commit
    assert len(callbacks) == 1


def test_a_reminder_recorded_by_another_run_gets_no_second_email():
    # given a voucher whose 7-day reminder another worker recorded (its email too) while this batch was queued
    held, other = voucher(7), voucher(7)
    assert voucher_reminder_queue(voucher_id=held.pk, now=NOW).offset_days == 7
    # when the batch reaches it
    made = voucher_reminders_queue(voucher_ids=[held.pk, other.pk], now=NOW)
    # then only the other voucher is reminded; the held one keeps its one reminder and one email
    assert made == {other.pk: 7}
    assert VoucherReminder.objects.filter(voucher=held).count() == 1
    assert Message.objects.filter(idempotency_key=f"voucher-reminder:{held.pk}:7").count() == 1
    assert Message.objects.count() == 2


def test_a_holder_whose_email_cannot_be_queued_holds_back_only_their_reminder():
    # given a batch in which one holder's address is not an email address
    broken = voucher(7, holder=CustomerFactory(email="not-an-address"))
    fine = voucher(7)
    # when the batch handler runs
    made = voucher_reminders_queue(voucher_ids=[broken.pk, fine.pk], now=NOW)
    # then the other voucher is reminded, and the broken one is left for the next scan (no reminder recorded)
    assert made == {fine.pk: 7}
    assert not VoucherReminder.objects.filter(voucher=broken).exists()


def test_message_queue_many_inserts_only_new_keys_and_hands_over_in_batches(settings,
                                                                           django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS_SEND_BATCH_SIZE = 2
    context = {"customer_name": "Ana", "voucher_code": "G-1", "balance": "1.00", "currency": "EUR",
               "expiry_date": "2027-01-01", "where_to_use": ""}
    existing, _ = message_queue(recipient="a0@mail.example", template=catalogue.VOUCHER_REMINDER,
                                idempotency_key="many:0", context=context)
    drafts = [MessageDraft(recipient=f"a{n}@mail.example", template=catalogue.VOUCHER_REMINDER,
                           idempotency_key=f"many:{n}", context=context) for n in range(5)]
    # when five drafts are queued at once, one of them with the key already queued
    with django_capture_on_commit_callbacks() as callbacks:
        inserted = message_queue_many(drafts=drafts)
    # then only the four new rows are written, and only they are handed over, on commit
    assert len(inserted) == 4 and existing.pk not in inserted
    assert Message.objects.filter(idempotency_key__startswith="many:").count() == 5
    assert len(callbacks) == 1 and callbacks[0].args == (sorted(inserted),)


@pytest.fixture
def sessions(monkeypatch):
    """How many provider sessions (get_connection calls) the sends opened."""
    opened = []
    real = services.get_connection

    def counting(*args, **kwargs):
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "get_connection", counting)
    return opened


def reminders(count: int, prefix: str = "batch") -> list[int]:
    context = {"customer_name": "Ana", "voucher_code": "G-1", "balance": "1.00", "currency": "EUR",
               "expiry_date": "2027-01-01", "where_to_use": ""}
    return [message_queue(recipient=f"{prefix}{n}@mail.example", template=catalogue.VOUCHER_REMINDER,
                          idempotency_key=f"{prefix}:{n}", context=context, language="ro")[0].pk
            for n in range(count)]


def test_a_batch_is_sent_over_one_session_and_each_row_once(smtp_settings, sessions):
    # given ten queued rows, one of them already sent by another task
    ids = reminders(10)
    assert message_send(message_id=ids[3]).result == "sent"
    sessions.clear()
    # when the batch is sent, twice (a redelivered task)
    first = message_send_batch(message_ids=ids)
    second = message_send_batch(message_ids=ids)
    # then the nine others went out over one SMTP session, and every row was delivered once
    assert Counter(outcome.result for outcome in first.outcomes) == {"sent": 9, "already_done": 1}
    assert {outcome.result for outcome in second.outcomes} == {"already_done"}
    assert len(sessions) == 1
    assert Counter(smtp_settings.keys()) == {f"batch:{n}": 1 for n in range(10)}
    assert Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).count() == 10


def test_in_a_batch_a_temporary_error_retries_that_row_and_a_permanent_one_fails_it(smtp_settings, sessions):
    # given five rows: the server is busy for the second and refuses the fourth's recipient
    ids = reminders(5)
    smtp_settings.data_replies = {"batch1@mail.example": ["451 4.3.0 busy"]}
    smtp_settings.rcpt_replies = {"batch3@mail.example": "550 5.1.1 No such user here"}
    # when the batch is sent
    result = message_send_batch(message_ids=ids)
    # then the others are sent, the second waits for its retry, the fourth has failed
    assert [outcome.result for outcome in result.outcomes] == ["sent", "sent", "failed", "sent"]
    assert [deferred.message_id for deferred in result.deferred] == [ids[1]] and result.left == []
    statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["sent", "queued", "sent", "failed", "sent"]
    # and after each error the session was closed and a new one opened for the next row
    assert len(sessions) == 3
    # when the retry is due, the row is sent once
    later = Message.objects.get(pk=ids[1]).next_attempt_at
    assert message_send(message_id=ids[1], now=later).result == "sent"
    assert Counter(smtp_settings.keys()) == {f"batch:{n}": 1 for n in (0, 1, 2, 4)}


def test_a_batch_stops_claiming_before_the_time_limit_and_returns_the_rest(smtp_settings, settings):
    # given a batch whose task started long enough ago that the time limit is near
    ids = reminders(3)
    started = time.monotonic() - (settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS - batch_claim_guard_seconds())
    # when it runs
    result = message_send_batch(message_ids=ids, started=started)
    # then it sends the first row (a batch always makes progress) and leaves the rest queued, for a new task
    assert [outcome.result for outcome in result.outcomes] == ["sent"] and result.left == ids[1:]
    assert Message.objects.filter(pk__in=ids[1:], status=MessageStatus.QUEUED, attempts=0).count() == 2


def test_a_session_the_server_closed_is_replaced_before_the_next_row_is_claimed(smtp_settings, sessions,
                                                                                 monkeypatch):
    # given a batch whose session the server drops after the first message (an idle timeout, say)
    ids = reminders(2)
    real_send = services._message_settle_sent

    def drop_session_after_first(message, email, *, now):
        outcome = real_send(message, email, now=now)
        if message.pk == ids[0]:
            email.connection.connection.sock.shutdown(socket.SHUT_RDWR)  # cut; smtplib does not know yet
        return outcome

    monkeypatch.setattr(services, "_message_settle_sent", drop_session_after_first)
    # when the batch is sent
    result = message_send_batch(message_ids=ids)
    # then the second row is sent over a new session, not held in doubt
    assert [outcome.result for outcome in result.outcomes] == ["sent", "sent"]
    assert len(sessions) == 2


@pytest.fixture
def markers(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("hand-over markers live in the broker's Redis")
    from notifications.scans import _marker_redis

    client = _marker_redis()
    pattern = f"caseapp:handed-over:{settings.DATABASES['default']['NAME']}:test-scan:*"
    client.delete(*client.keys(pattern) or ["none"])
    yield
    client.delete(*client.keys(pattern) or ["none"])


def test_a_scan_does_not_publish_again_what_a_queued_batch_still_holds(markers):
    from customers.models import Customer
    from notifications.scans import handover_release, keyset_enqueue

    # given three rows a scan finds
    rows = [CustomerFactory().pk for _ in range(3)]
    queryset = Customer.objects.filter(pk__in=rows)
    published = []
    # when the scan runs twice before any worker took the batch
    assert keyset_enqueue(queryset, published.append, batch_size=2, handed_over="test-scan") == 3
    assert keyset_enqueue(queryset, published.append, batch_size=2, handed_over="test-scan") == 0
    # then the rows were published once
    assert sorted(pk for batch in published for pk in batch) == sorted(rows)
    # when the handler has run its first batch (and, say, failed on its rows: the queryset still finds them)
    handover_release("test-scan", published[0])
    # then the next scan publishes those rows again, and only those
    assert keyset_enqueue(queryset, published.append, batch_size=2, handed_over="test-scan") == len(published[0])
    assert published[-1] == published[0]


def test_a_batch_that_cannot_be_published_leaves_no_marker(markers):
    from customers.models import Customer
    from notifications.scans import keyset_enqueue

    rows = [CustomerFactory().pk for _ in range(2)]
    queryset = Customer.objects.filter(pk__in=rows)

    def broker_down(ids):
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        keyset_enqueue(queryset, broker_down, handed_over="test-scan")
    published = []
    assert keyset_enqueue(queryset, published.append, handed_over="test-scan") == 2
