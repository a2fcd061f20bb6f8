"""The outbox in-process: queue in the caller's transaction, send once, fail with the reason on the case."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from cases.models import CaseEvent, CaseEventKind
from notifications import catalogue
from notifications.models import Message, MessageStatus
from notifications.services import (
    MessageSendDeferred,
    message_queue,
    message_send,
    outbox_sweep,
    retry_delay_seconds,
)
from tests.factories import CaseFactory, CustomerFactory

pytestmark = pytest.mark.django_db

VOUCHER_CONTEXT = {
    "customer_name": "Ioana Popescu", "voucher_code": "GIFT-42", "balance": "150.00", "currency": "RON",
    "expiry_date": "2027-03-14", "where_to_use": "",
}


def queue_reminder(key="voucher-reminder:42:7", language="en", case=None, recipient="ioana@mail.example"):
    return message_queue(recipient=recipient, template=catalogue.VOUCHER_REMINDER, idempotency_key=key,
                         context=VOUCHER_CONTEXT, language=language, time_zone="Europe/Bucharest", case=case)


def test_message_queue_writes_a_row_and_hands_it_over_only_on_commit(django_capture_on_commit_callbacks):
    # given a transaction that queues a message
    with django_capture_on_commit_callbacks() as callbacks:
        message, created = queue_reminder()
        # then nothing is handed to the worker before the commit
        assert callbacks == []
    # when it commits, one hand-over is registered for that row
    assert created is True
    assert len(callbacks) == 1
    assert message.status == MessageStatus.QUEUED
    assert Message.objects.get(pk=message.pk).context["voucher_code"] == "GIFT-42"


def test_a_rolled_back_fact_leaves_no_message():
    # given a transaction that queues a message and then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_reminder()
        raise RuntimeError("the fact that caused the message was not saved")
    # then no outbox row is left behind
    assert Message.objects.count() == 0


def test_the_same_idempotency_key_queues_one_message():
    # given a message already queued
    first, created_first = queue_reminder()
    # when the same key is queued again
    second, created_second = queue_reminder()
    # then it is the same row
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"template": "no_such_template"}, "template"),
        ({"recipient": "not-an-address"}, "recipient"),
        ({"idempotency_key": " "}, "idempotency_key"),
        ({"language": "de"}, "language"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(kwargs, field):
    values = {"recipient": "a@mail.example", "template": catalogue.VOUCHER_REMINDER, "idempotency_key": "k",
              "context": VOUCHER_CONTEXT, **kwargs}
    with pytest.raises(ValidationError) as error:
        message_queue(**values)
    assert field in error.value.message_dict
    assert Message.objects.count() == 0


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_message_send_sends_once_in_the_recipients_language():
    # given a queued reminder for a Romanian-speaking customer
    message, _ = queue_reminder(language="ro")
    # when it is sent, and the task runs a second time
    first = message_send(message_id=message.pk)
    second = message_send(message_id=message.pk)
    # then exactly one email left, in Romanian, with HTML and text, and the row says sent
    assert (first.result, second.result) == ("sent", "already_done")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "Voucherul dumneavoastră GIFT-42 expiră pe 14 martie 2027"
    assert "150,00 RON" in sent.body  # amounts written the Romanian way and "14 Martie 2027" in sent.body
    assert sent.alternatives[0][1] == "text/html" and "GIFT-42" in sent.alternatives[0][0]
    assert sent.extra_headers["X-Caseapp-Message"] == "voucher-reminder:42:7"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 1 and message.esp_message_id


@override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend")
def test_the_esp_message_id_comes_from_anymail():
    # given anymail's test ESP backend, which fills in anymail_status
    message, _ = queue_reminder()
    # when the message is sent
    assert message_send(message_id=message.pk).result == "sent"
    # then the row keeps the ESP's message id, for the tracking webhooks
    message.refresh_from_db()
    assert message.esp_message_id == str(mail.outbox[-1].anymail_status.message_id)
    assert not message.esp_message_id.startswith("<")


@pytest.mark.parametrize("language", ["en", "ro", "ru", "it"])
@pytest.mark.parametrize("template", sorted(catalogue.TEMPLATES))
@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_every_template_renders_in_every_language(template, language):
    # given a context with every variable the templates use
    context = {
        **VOUCHER_CONTEXT, "order_number": "ORD-7", "new_date": "2027-03-16", "promised_date": "2027-03-14",
        "courier": "FastCourier", "tracking_number": "TRK1", "discount_amount": "5.00", "discount_currency": "EUR",
        "staff_name": "maria", "case_number": 12, "deadline_at": "2027-03-14T21:00:00+00:00", "hours_left": 30,
        "reasons": "courier_delayed", "occasion": "birthday", "courier_phone": "+40 21 000", "label_amount": "120.00",
        "quoted_amount": "100.00", "courier_email": "claims@courier.example", "due_at": "2027-03-13T10:00:00+00:00",
        "case_subject": "Voucher refused", "customer_email": "i@mail.example", "customer_phone": "+40 7",
        "promise": "Call back on Monday", "owner": "alice", "made_by": "Clerk",
        "notice": "refund", "amount": "470.00", "currency": "USD", "business_days": 5, "expected_date": "2027-03-20",
        "claim_amount": "15000.00", "claim_currency": "RUB", "claim_deadline_date": "2027-03-20",
        "rating_links": [{"score": n, "url": f"https://care.shop.example/survey/t{n}/"} for n in range(1, 6)],
        "link_days": 30,
    }
    message, _ = message_queue(recipient="x@mail.example", template=template, idempotency_key=f"{template}-{language}",
                               context=context, language=language)
    # when it is sent
    message_send(message_id=message.pk)
    # then subject and bodies are filled in, and a non-English email is not the English text
    sent = mail.outbox[-1]
    assert sent.subject and "{" not in sent.subject and "%(" not in sent.body
    if language != "en":
        english, _ = message_queue(recipient="x@mail.example", template=template,
                                   idempotency_key=f"{template}-en-ref", context=context, language="en")
        message_send(message_id=english.pk)
        assert mail.outbox[-1].subject != sent.subject


def test_the_backoff_doubles_and_stays_below_the_visibility_timeout(settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS = 30
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS = 900
    assert [retry_delay_seconds(n) for n in (1, 2, 3, 4, 5, 6, 7)] == [30, 60, 120, 240, 480, 900, 900]
    assert max(retry_delay_seconds(n) for n in range(1, 30)) * 2 <= settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
        "visibility_timeout", 3600)


def test_a_temporary_error_keeps_the_row_queued_with_a_later_attempt(smtp_settings):
    # given an SMTP server answering 451 once
    smtp_settings.replies = ["451 4.3.0 Mailbox busy, try again later"]
    case = CaseFactory()
    message, _ = queue_reminder(case=case)
    # when the worker tries to send it
    with pytest.raises(MessageSendDeferred) as deferred:
        message_send(message_id=message.pk)
    # then the row waits for its retry, with the reason
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert "451" in message.last_error and message.next_attempt_at > timezone.now()
    assert deferred.value.retry_in_seconds == retry_delay_seconds(1)
    # and a task arriving before that time does nothing
    assert message_send(message_id=message.pk).result == "not_due"
    # when the retry comes, the server accepts it
    assert message_send(message_id=message.pk, now=message.next_attempt_at).result == "sent"
    assert len(smtp_settings.messages_to("ioana@mail.example")) == 1
    assert not CaseEvent.objects.filter(case=case, kind=CaseEventKind.NOTIFICATION_FAILED).exists()


def test_a_permanent_error_fails_at_once_with_the_reason_on_the_case(smtp_settings):
    # given an SMTP server that refuses the recipient
    smtp_settings.rcpt_reply = "550 5.1.1 No such user here"
    case = CaseFactory()
    message, _ = queue_reminder(case=case)
    # when the worker sends it
    outcome = message_send(message_id=message.pk)
    # then it is failed, not retried, and the case timeline says why
    message.refresh_from_db()
    assert outcome.result == "failed" and message.status == MessageStatus.FAILED and message.attempts == 1
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTIFICATION_FAILED)
    assert "550" in event.text and "No such user" in event.text


def test_temporary_errors_end_in_failure_after_the_last_attempt(smtp_settings):
    # given a server that is always busy, and three attempts allowed
    smtp_settings.replies = ["451 4.3.0 busy"] * 10
    case = CaseFactory()
    message, _ = queue_reminder(case=case)
    # when every attempt is made
    for day in (1, 2):
        with pytest.raises(MessageSendDeferred):
            message_send(message_id=message.pk, now=timezone.now() + timedelta(days=day))
    outcome = message_send(message_id=message.pk, now=timezone.now() + timedelta(days=3))
    # then the third one fails it, with the reason on the case
    message.refresh_from_db()
    assert outcome.result == "failed" and message.attempts == 3
    assert "451" in CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTIFICATION_FAILED).text


def test_the_sweep_hands_over_rows_left_waiting_and_leaves_fresh_ones(settings, broker_url):
    settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS = 120
    # given a row waiting for ten minutes (its hand-over was lost) and a fresh one
    old, _ = queue_reminder(key="old")
    Message.objects.filter(pk=old.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=10))
    fresh, _ = queue_reminder(key="fresh")
    # when the sweep runs
    handed_over = outbox_sweep()
    # then only the old row is handed over again, and it will not be swept again at once
    assert handed_over == 1
    assert outbox_sweep() == 0
    assert Message.objects.get(pk=fresh.pk).status == MessageStatus.QUEUED


def test_queueing_for_a_customer_uses_their_language(settings):
    customer = CustomerFactory(preferred_language="it", time_zone="Europe/Rome")
    message, _ = message_queue(recipient=customer.email, template=catalogue.NOT_COLLECTED, idempotency_key="nc",
                               context={"customer_name": customer.name, "order_number": "O1", "courier": "C",
                                        "tracking_number": "T"},
                               language=customer.preferred_language, time_zone=customer.time_zone)
    assert (message.language, message.time_zone) == ("it", "Europe/Rome")


def test_a_message_that_cannot_be_rendered_fails_once_with_the_reason_on_the_case(settings):
    # given a queued message whose template context holds a date that is not a date
    case = CaseFactory()
    message, _ = message_queue(recipient="a@mail.example", template=catalogue.VOUCHER_REMINDER,
                               idempotency_key="broken", context={**VOUCHER_CONTEXT, "expiry_date": "someday"},
                               case=case)
    # when the worker tries to send it
    outcome = message_send(message_id=message.pk)
    # then it is failed (not retried forever by the sweep) and the case says why
    message.refresh_from_db()
    assert outcome.result == "failed" and message.status == MessageStatus.FAILED
    assert "could not be rendered" in CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTIFICATION_FAILED).text
