"""HTTP ESP errors through anymail's real HTTP backends (Postmark, Resend), against a provider API on 127.0.0.1.

Answered errors are clear: 5xx and 429 are retried with backoff, 4xx fail at once with the reason on the case.
No answer (a read timeout) is a doubt: the provider may have the message. Resend deduplicates on the
Idempotency-Key we send, so it gets the same key again; Postmark does not, so the row is held for a person
(NOTIFICATIONS_IN_DOUBT=hold) or resent with the same Message-ID (=resend). Never a second copy unasked.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseEvent, CaseEventKind
from notifications import catalogue
from notifications.models import Message, MessageStatus
from notifications.services import (
    MessageSendDeferred,
    message_confirm_sent,
    message_queue,
    message_resend,
    message_send,
    outbox_sweep,
    retry_delay_seconds,
)
from tests.factories import CaseFactory

from .conftest import free_port, resend_ok

pytestmark = pytest.mark.django_db

CONTEXT = {"customer_name": "Ana", "order_number": "O-1", "courier": "FastCourier", "tracking_number": "T-1"}


@pytest.fixture
def postmark(settings, esp_api):
    api = esp_api()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "server-token", "POSTMARK_API_URL": api.url,
                        "REQUESTS_TIMEOUT": 1}
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 5
    return api


def queue(address="ana@mail.example", case=None) -> Message:
    message, _ = message_queue(recipient=address, template=catalogue.NOT_COLLECTED, idempotency_key=f"http:{address}",
                               context=CONTEXT, case=case)
    return message


def postmark_message_id(request: dict) -> str:
    return next(h["Value"] for h in request["json"]["Headers"] if h["Name"] == "Message-ID")


def test_5xx_and_429_are_retried_with_backoff_and_the_message_is_sent_once(postmark):
    # given a provider that answers 503, then 429, then accepts
    postmark.script = [(503, {"ErrorCode": 100, "Message": "Maintenance"}, 0),
                       (429, {"ErrorCode": 429, "Message": "Rate limit exceeded"}, 0)]
    message = queue()
    # when the worker tries, and tries again when each retry is due
    with pytest.raises(MessageSendDeferred) as first:
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, first.value.retry_in_seconds) == ("queued", 1, retry_delay_seconds(1))
    assert "503" in message.last_error
    assert message_send(message_id=message.pk).result == "not_due"  # a task arriving early does nothing
    with pytest.raises(MessageSendDeferred) as second:
        message_send(message_id=message.pk, now=message.next_attempt_at)
    message.refresh_from_db()
    assert second.value.retry_in_seconds == retry_delay_seconds(2) > retry_delay_seconds(1)
    assert "429" in message.last_error
    outcome = message_send(message_id=message.pk, now=message.next_attempt_at)
    # then it is sent, after three requests of which the provider accepted one
    message.refresh_from_db()
    assert outcome.result == "sent" and message.status == MessageStatus.SENT and message.attempts == 3
    assert len(postmark.requests) == 3
    assert len({postmark_message_id(r) for r in postmark.requests}) == 1  # the same Message-ID every time
    assert message.esp_message_id and not message.esp_message_id.startswith("<")  # Postmark's id, for webhooks


def test_a_4xx_fails_at_once_with_the_reason_on_the_case(postmark):
    # given a provider that refuses the request
    postmark.script = [(422, {"ErrorCode": 400, "Message": "The 'From' address you supplied (care@shop.example) is "
                                                           "not a Sender Signature on your account."}, 0)]
    case = CaseFactory()
    message = queue(case=case)
    # when the worker sends it
    outcome = message_send(message_id=message.pk)
    # then it is failed, not retried, and the case says why
    message.refresh_from_db()
    assert outcome.result == "failed" and message.status == MessageStatus.FAILED and message.attempts == 1
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTIFICATION_FAILED)
    assert "422" in event.text and "not a Sender Signature" in event.text
    assert outbox_sweep(now=timezone.now() + timedelta(days=1)) == 0
    assert len(postmark.requests) == 1


def test_a_refused_connection_sent_nothing_and_is_retried(settings):
    # given a provider whose address answers nothing at all (no server on the port)
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "t",
                        "POSTMARK_API_URL": f"http://127.0.0.1:{free_port()}/", "REQUESTS_TIMEOUT": 1}
    message = queue()
    # when the worker sends it
    with pytest.raises(MessageSendDeferred):
        message_send(message_id=message.pk)
    # then it is queued for a later attempt: nothing can have been delivered, so there is no doubt
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.attempts == 1


def test_a_timeout_from_a_provider_without_idempotency_holds_the_message_for_a_person(postmark, settings):
    settings.NOTIFICATIONS_IN_DOUBT = "hold"
    # given a provider that takes the request and answers only after our one-second timeout
    postmark.script = [(200, None, 2.5)]
    case = CaseFactory()
    message = queue(case=case)
    # when the worker sends it
    outcome = message_send(message_id=message.pk)
    # then the row is held in doubt, with the reason on the case, and nothing is sent again by itself
    message.refresh_from_db()
    assert outcome.result == "in_doubt" and message.status == MessageStatus.IN_DOUBT
    assert "ReadTimeout" in message.last_error or "timed out" in message.last_error
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTIFICATION_FAILED)
    assert event.data["in_doubt"] is True and "held" in event.text
    outbox_sweep(now=timezone.now() + timedelta(hours=2))
    assert message_send(message_id=message.pk).result == "already_done"
    assert len(postmark.requests) == 1
    # when a person confirms the customer has it
    message_confirm_sent(message_id=message.pk)
    # then it counts as sent, and still only one request went out
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and len(postmark.requests) == 1


def test_a_held_message_resent_by_a_person_goes_out_with_the_same_message_id(postmark, settings):
    settings.NOTIFICATIONS_IN_DOUBT = "hold"
    postmark.script = [(200, None, 2.5)]
    message = queue()
    assert message_send(message_id=message.pk).result == "in_doubt"
    # when a person resends it
    message_resend(message_id=message.pk)
    assert message_send(message_id=message.pk).result == "sent"
    # then the second request carries the first one's Message-ID, so a receiver can drop the copy
    assert len(postmark.requests) == 2
    assert postmark_message_id(postmark.requests[0]) == postmark_message_id(postmark.requests[1])


def test_in_resend_mode_a_timeout_is_retried_with_backoff_and_the_same_message_id(postmark, settings):
    settings.NOTIFICATIONS_IN_DOUBT = "resend"
    postmark.script = [(200, None, 2.5)]
    message = queue()
    with pytest.raises(MessageSendDeferred) as deferred:
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and deferred.value.retry_in_seconds == retry_delay_seconds(1)
    assert message_send(message_id=message.pk, now=message.next_attempt_at).result == "sent"
    assert len(postmark.requests) == 2
    assert postmark_message_id(postmark.requests[0]) == postmark_message_id(postmark.requests[1])


def test_resend_gets_the_same_idempotency_key_again_after_a_timeout(settings, esp_api):
    # given Resend (which drops a repeated request with the same Idempotency-Key) answering after our timeout
    api = esp_api(resend_ok)
    settings.EMAIL_BACKEND = "notifications.backends.ResendEmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "RESEND_API_KEY": "re_test", "RESEND_API_URL": api.url,
                        "REQUESTS_TIMEOUT": 1}
    settings.NOTIFICATIONS_IN_DOUBT = "hold"
    api.script = [(200, None, 2.5)]
    message = queue()
    # when the first attempt times out
    with pytest.raises(MessageSendDeferred):
        message_send(message_id=message.pk)
    # then the row is not held: it is retried, since the provider deduplicates
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and "idempotency key" in message.last_error
    assert message_send(message_id=message.pk, now=message.next_attempt_at).result == "sent"
    # and both requests carry one key, stable for the row, and one Message-ID
    keys = [r["headers"].get("Idempotency-Key") for r in api.requests]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    assert api.requests[0]["json"]["headers"]["Message-ID"] == api.requests[1]["json"]["headers"]["Message-ID"]
