"""anymail's tracking webhook, at its signed endpoint, updates the outbox row once."""

import base64
import hashlib
import hmac
import json

import pytest
from django.conf import settings

from cases.models import CaseEvent, CaseEventKind
from notifications import catalogue
from notifications.models import Message, MessageStatus
from notifications.services import message_queue
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/tracking/"


@pytest.fixture(autouse=True)
def webhooks_of_postmark_and_mailgun(settings):
    """Only configured ESPs' webhooks answer (caseapp/webhooks.py): these tests receive Postmark's and Mailgun's."""
    settings.ANYMAIL_WEBHOOK_ESPS = ["postmark", "mailgun"]
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "caseapp-test:a-long-webhook-password-for-tests",
                        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}


def sent_message(case=None) -> Message:
    message, _ = message_queue(recipient="ioana@mail.example", template=catalogue.NOT_COLLECTED,
                               idempotency_key="nc-1", context={"customer_name": "Ioana"}, case=case)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENT, esp_message_id="pm-0001")
    return message


def post(client, payload, secret=None):
    secret = secret if secret is not None else settings.ANYMAIL["WEBHOOK_SECRET"]
    headers = {}
    if secret:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(secret.encode()).decode()
    return client.post(URL, data=json.dumps(payload), content_type="application/json", **headers)


DELIVERY = {"RecordType": "Delivery", "MessageID": "pm-0001", "Recipient": "ioana@mail.example",
            "DeliveredAt": "2026-11-23T16:33:54Z", "Details": "Test delivery", "Tag": "", "ServerID": 1,
            "Metadata": {}, "MessageStream": "outbound"}
BOUNCE = {"RecordType": "Bounce", "ID": 42, "Type": "HardBounce", "TypeCode": 1, "MessageID": "pm-0001",
          "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
          "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
          "Email": "ioana@mail.example", "BouncedAt": "2026-11-23T16:40:00Z", "Inactive": True,
          "CanActivate": True, "Tag": "", "Metadata": {}, "ServerID": 1, "MessageStream": "outbound"}


def test_a_signed_delivery_event_marks_the_message_delivered_once(client):
    # given a sent message
    message = sent_message()
    # when the ESP reports its delivery, twice (providers retry)
    first = post(client, DELIVERY)
    second = post(client, DELIVERY)
    # then the row is delivered
    assert (first.status_code, second.status_code) == (200, 200)
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_a_bounce_marks_the_message_bounced_and_says_so_on_the_case(client):
    case = CaseFactory()
    message = sent_message(case=case)
    # when a hard bounce arrives twice
    post(client, BOUNCE)
    post(client, BOUNCE)
    # then the row is bounced and the case timeline shows it once, with the reason
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED
    assert "550" in message.last_error or "unable" in message.last_error
    events = CaseEvent.objects.filter(case=case, kind=CaseEventKind.NOTIFICATION_FAILED)
    assert events.count() == 1


def test_an_unsigned_request_changes_nothing(client):
    message = sent_message()
    # when someone posts a delivery without the webhook secret, or with a wrong one
    unsigned = post(client, DELIVERY, secret="")
    wrong = post(client, DELIVERY, secret="caseapp-webhook:guess")
    # then it is refused and the row is unchanged
    assert unsigned.status_code >= 400 and wrong.status_code >= 400
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


MAILGUN_KEY = "key-test-signing-0123456789"


def mailgun_delivered(message_id: str, *, key: str = MAILGUN_KEY) -> dict:
    timestamp, token = "1763900000", "b1a2c3d4e5f60718293a4b5c6d7e8f90b1a2c3d4e5f6071829"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {"event": "delivered", "timestamp": 1763900000.5, "id": "evt-1",
                       "recipient": "ioana@mail.example",
                       "message": {"headers": {"message-id": message_id}}},
    }


def test_a_mailgun_event_is_accepted_only_with_its_signature(client, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    message = sent_message()
    # (as anymail's Mailgun backend records it: in angle brackets)
    Message.objects.filter(pk=message.pk).update(esp_message_id="<20261123.mg.1@shop.example>")
    auth = "Basic " + base64.b64encode(settings.ANYMAIL["WEBHOOK_SECRET"].encode()).decode()
    # when a delivery event arrives signed with the wrong key
    forged = client.post("/anymail/mailgun/tracking/", data=json.dumps(
        mailgun_delivered("20261123.mg.1@shop.example", key="key-guessed")), content_type="application/json",
        HTTP_AUTHORIZATION=auth)
    # then it is refused and nothing changes
    assert forged.status_code >= 400
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    # when it arrives signed with Mailgun's key, the message is delivered
    signed = client.post("/anymail/mailgun/tracking/", data=json.dumps(
        mailgun_delivered("20261123.mg.1@shop.example")), content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert signed.status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
