"""anymail's inbound webhooks (/anymail/<esp>/inbound/): the same service, the ESP's own authentication."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from cases.models import Case
from inbox.models import InboundMessage, InboundStatus

from .conftest import fixture_bytes

pytestmark = pytest.mark.django_db

SECRET = "caseapp-test:a-long-webhook-password-for-tests"
MAILGUN_KEY = "key-test-signing-0123456789"


@pytest.fixture
def inbound_configured(settings):
    settings.ANYMAIL_INBOUND_ESPS = ["mailgun", "postmark"]
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}


def basic(secret=SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def mailgun_fields(raw: bytes, key=MAILGUN_KEY) -> dict:
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature, "body-mime": raw.decode("ascii"),
            "recipient": "care@shop.example", "sender": "dmitry@mail.example"}


def test_a_signed_mailgun_inbound_mime_post_opens_a_case(client, inbound_configured):
    raw = fixture_bytes("koi8r_russian.eml")
    response = client.post("/anymail/mailgun/inbound_mime/", data=mailgun_fields(raw), **basic())
    assert response.status_code == 200, response.content
    message = InboundMessage.objects.get()
    assert message.source == "webhook" and message.status == InboundStatus.PROCESSED
    assert message.subject == "Где мой заказ?" and "Мой заказ так и не пришёл" in message.text
    assert message.case.customer.email == "dmitry@mail.example"
    # and the provider's retry of the same post stores nothing more
    assert client.post("/anymail/mailgun/inbound/", data=mailgun_fields(raw), **basic()).status_code == 200
    assert InboundMessage.objects.count() == 1 and Case.objects.count() == 1


def test_a_postmark_inbound_post_with_the_raw_email_opens_a_case(client, inbound_configured):
    raw = fixture_bytes("html_only_script.eml").decode("ascii")
    body = {"RawEmail": raw, "FromFull": {"Email": "mark@mail.example", "Name": "Mark Evans"},
            "MessageID": "pm-in-1", "Headers": []}
    response = client.post("/anymail/postmark/inbound/", data=json.dumps(body), content_type="application/json",
                           **basic())
    assert response.status_code == 200, response.content
    message = InboundMessage.objects.get()
    assert message.message_id == "<html-only-0001@mail.example>" and "<script" not in message.html


@pytest.mark.parametrize(("case", "fields", "headers"), [
    ("mailgun: wrong signature", lambda raw: mailgun_fields(raw, key="forged-key"), basic()),
    ("mailgun: wrong basic auth", mailgun_fields, basic("caseapp-webhook:change-me")),
    ("mailgun: no basic auth", mailgun_fields, {}),
])
def test_a_forged_inbound_webhook_is_a_4xx_and_stores_nothing(client, inbound_configured, case, fields, headers):
    response = client.post("/anymail/mailgun/inbound_mime/", data=fields(fixture_bytes("koi8r_russian.eml")),
                           **headers)
    assert 400 <= response.status_code < 500, (case, response.status_code)
    assert InboundMessage.objects.count() == 0


@pytest.mark.parametrize("body", ["{", "[]", "\x00garbage"])
def test_a_malformed_postmark_body_is_a_4xx(client, inbound_configured, body):
    response = client.post("/anymail/postmark/inbound/", data=body, content_type="application/json", **basic())
    assert 400 <= response.status_code < 500


def test_inbound_webhooks_answer_404_unless_the_esp_is_listed(client, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    settings.ANYMAIL_INBOUND_ESPS = []
    response = client.post("/anymail/mailgun/inbound_mime/", data=mailgun_fields(fixture_bytes("no_from.eml")),
                           **basic())
    assert response.status_code == 404 and InboundMessage.objects.count() == 0


def test_the_deploy_check_names_an_unknown_inbound_esp_and_a_missing_secret(settings):
    from caseapp.checks import secret_problems

    settings.ANYMAIL_WEBHOOK_ESPS = []
    settings.ANYMAIL_INBOUND_ESPS = ["mailgum"]
    settings.ANYMAIL = {key: value for key, value in settings.ANYMAIL.items() if key != "WEBHOOK_SECRET"}
    problems = dict(secret_problems())
    assert "ANYMAIL_WEBHOOK_SECRET" in problems["caseapp.E002"]
    assert "ANYMAIL_INBOUND_ESPS names 'mailgum'" in problems["caseapp.E004"]
