"""The sending state in-process: a second task leaves a row being sent alone; the sweep settles rows a dead worker
left "sending" (held for a person, or resent with the same Message-ID); a person resends or confirms."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseEvent, CaseEventKind
from notifications import catalogue
from notifications.models import Message, MessageStatus
from notifications.services import (
    SENDING_GRACE_SECONDS,
    MessageSendDeferred,
    message_confirm_sent,
    message_queue,
    message_resend,
    message_send,
    outbox_sweep,
)
from tests.factories import CaseFactory, UserFactory

from .conftest import free_port

pytestmark = pytest.mark.django_db

CONTEXT = {"customer_name": "Ana", "order_number": "O-1", "courier": "FastCourier", "tracking_number": "T-1"}


def queue(key="doubt", case=None) -> Message:
    message, _ = message_queue(recipient="ana@mail.example", template=catalogue.NOT_COLLECTED, idempotency_key=key,
                               context=CONTEXT, case=case)
    return message


def left_sending(message: Message, *, seconds_ago: float) -> Message:
    """The row as a worker SIGKILLed mid-send leaves it: "sending", attempt counted, with the attempt's time."""
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, attempts=1,
        last_attempt_at=timezone.now() - timedelta(seconds=seconds_ago),
    )
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def smtp_settings(settings, smtp_server, smtp):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_TIMEOUT = 1
    settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = 10
    return smtp


def test_a_task_for_a_row_being_sent_sends_nothing(smtp_settings):
    # given a row another worker is sending right now
    message = left_sending(queue(), seconds_ago=1)
    # when a second task for it runs (a redelivery)
    outcome = message_send(message_id=message.pk)
    # then it leaves the row alone
    assert outcome.result == "sending"
    assert smtp_settings.received == [] and Message.objects.get(pk=message.pk).attempts == 1


def test_the_sweep_leaves_a_recent_attempt_alone_and_holds_one_left_by_a_dead_worker(smtp_settings, settings):
    settings.NOTIFICATIONS_IN_DOUBT = "hold"
    case = CaseFactory()
    timeout = settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS
    recent = left_sending(queue("recent"), seconds_ago=timeout - 1)
    abandoned = left_sending(queue("abandoned", case=case), seconds_ago=timeout + SENDING_GRACE_SECONDS + 1)
    # when the sweep runs
    outbox_sweep()
    # then the attempt that may still be running is left, and the abandoned one is held for a person
    assert Message.objects.get(pk=recent.pk).status == MessageStatus.SENDING
    held = Message.objects.get(pk=abandoned.pk)
    assert held.status == MessageStatus.IN_DOUBT and "worker stopped during attempt 1" in held.last_error
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTIFICATION_FAILED)
    assert event.data == {**event.data, "message_id": held.pk, "in_doubt": True}
    # and nothing was sent, then or at later sweeps
    outbox_sweep(now=timezone.now() + timedelta(hours=1))
    assert smtp_settings.received == []
    assert Message.objects.get(pk=abandoned.pk).status == MessageStatus.IN_DOUBT


def test_in_resend_mode_the_sweep_resends_an_abandoned_row_with_the_same_message_id(smtp_settings, settings,
                                                                                 django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS_IN_DOUBT = "resend"
    message = left_sending(queue(), seconds_ago=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS + 60)
    # when the sweep settles it
    with django_capture_on_commit_callbacks() as callbacks:
        outbox_sweep()
    # then it is queued again, due now, and handed to the worker
    row = Message.objects.get(pk=message.pk)
    assert row.status == MessageStatus.QUEUED and row.next_attempt_at <= timezone.now()
    assert len(callbacks) == 1
    assert message_send(message_id=message.pk).result == "sent"
    assert Message.objects.get(pk=message.pk).attempts == 2 and len(smtp_settings.received) == 1


def test_no_answer_after_the_data_leaves_the_row_in_doubt(smtp_settings, settings):
    settings.NOTIFICATIONS_IN_DOUBT = "hold"
    # given a listener that has the message and takes longer to answer than EMAIL_TIMEOUT allows
    smtp_settings.stall_after_accept = True
    message = queue()
    # when the worker sends it
    outcome = message_send(message_id=message.pk)
    # then the row is held: the listener may have it (here it does, once)
    assert outcome.result == "in_doubt"
    row = Message.objects.get(pk=message.pk)
    assert row.status == MessageStatus.IN_DOUBT and "no answer from the email provider" in row.last_error
    assert len(smtp_settings.received) == 1


def test_a_server_that_cannot_be_reached_sent_nothing_and_is_retried(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 1
    message = queue()
    with pytest.raises(MessageSendDeferred):
        message_send(message_id=message.pk)
    row = Message.objects.get(pk=message.pk)
    assert row.status == MessageStatus.QUEUED and row.attempts == 1


def test_a_person_resends_or_confirms_only_a_message_in_doubt(smtp_settings):
    held = left_sending(queue("held"), seconds_ago=1)
    Message.objects.filter(pk=held.pk).update(status=MessageStatus.IN_DOUBT)
    sent = queue("sent")
    assert message_send(message_id=sent.pk).result == "sent"
    # a sent message can be neither resent nor confirmed again
    with pytest.raises(ValidationError):
        message_resend(message_id=sent.pk)
    with pytest.raises(ValidationError):
        message_confirm_sent(message_id=sent.pk)
    # a held one can be confirmed, once
    message_confirm_sent(message_id=held.pk)
    row = Message.objects.get(pk=held.pk)
    assert row.status == MessageStatus.SENT and row.sent_at == row.last_attempt_at and row.esp_message_id
    with pytest.raises(ValidationError):
        message_confirm_sent(message_id=held.pk)
    assert len(smtp_settings.received) == 1


def test_the_admin_action_resends_a_held_message(client, smtp_settings):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    held = left_sending(queue("held-admin"), seconds_ago=1)
    Message.objects.filter(pk=held.pk).update(status=MessageStatus.IN_DOUBT)
    response = client.post(reverse("admin:notifications_message_changelist"),
                           {"action": "resend", "_selected_action": [held.pk]}, follow=True)
    assert response.status_code == 200
    assert Message.objects.get(pk=held.pk).status == MessageStatus.QUEUED
    assert message_send(message_id=held.pk).result == "sent" and len(smtp_settings.received) == 1


def test_brevo_gets_an_idempotency_key_stable_for_the_row(settings, esp_api):
    api = esp_api(lambda request: {"messageId": "<brevo-1@smtp-relay.mailin.fr>"})
    settings.EMAIL_BACKEND = "anymail.backends.brevo.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "BREVO_API_KEY": "xkeysib-test", "BREVO_API_URL": api.url}
    api.script = [(502, {"code": "bad_gateway", "message": "upstream"}, 0)]
    message = queue()
    with pytest.raises(MessageSendDeferred):
        message_send(message_id=message.pk)
    assert message_send(message_id=message.pk, now=Message.objects.get(pk=message.pk).next_attempt_at).result == "sent"
    keys = [request["json"]["headers"]["idempotencyKey"] for request in api.requests]
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 36
