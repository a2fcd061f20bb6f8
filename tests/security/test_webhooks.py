"""anymail's webhooks: only the configured ESPs' tracking URLs answer, and no body gets a 5xx (issue 9, point 1)."""

import base64
import json

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from caseapp.webhooks import TRACKING_PATTERNS, esp_of_pattern
from notifications.models import Message, MessageStatus
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

SECRET = "caseapp-test:a-long-webhook-password-for-tests"
URLS = sorted(f"/anymail/{pattern.pattern}" for pattern in TRACKING_PATTERNS.values())
ESPS = sorted({esp_of_pattern(name) for name in TRACKING_PATTERNS})
# Everything each ESP's view needs besides the shared basic-auth secret (amazon_ses also needs boto3, not installed).
ESP_KEYS = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": "key-test-signing-0123456789",
    "MAILERSEND_SIGNING_SECRET": "mailersend-signing-secret-0123456789",
    "POSTAL_WEBHOOK_KEY": "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC",
    "UNISENDER_GO_API_KEY": "unisender-go-api-key-0123456789",
    "MANDRILL_WEBHOOK_KEY": "mandrill-webhook-key-0123456789",
    "WEBHOOK_URL": "https://care.shop.example/anymail/mandrill/",
}
FORGED_BOUNCE = {"RecordType": "Bounce", "ID": 42, "Type": "HardBounce", "TypeCode": 1, "MessageID": "pm-0001",
                 "Details": "forged: your order is cancelled, call +40 700 000 000", "Email": "ioana@mail.example",
                 "BouncedAt": "2026-11-23T16:40:00Z", "Metadata": {}, "ServerID": 1, "MessageStream": "outbound"}
BODIES = {
    "truncated": ("{", "application/json"),
    "empty object": ("{}", "application/json"),
    "empty list": ("[]", "application/json"),
    "garbage": ("\x00\xff not json at all \ud800".encode("utf-8", "surrogatepass"), "application/json"),
    "forged bounce": (json.dumps(FORGED_BOUNCE), "application/json"),
    "form": ("mandrill_events=%5B%7B%7D%5D&event=delivered", "application/x-www-form-urlencoded"),
}
AUTHS = {
    "no auth": None,
    "wrong secret": "caseapp-webhook:change-me",  # the default the README used to print
    "right secret": SECRET,
}


def post(client, url, body, content_type, secret):
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()} if secret else {}
    return client.post(url, data=body, content_type=content_type, **headers)


@pytest.fixture
def all_esps_configured(settings):
    settings.ANYMAIL_WEBHOOK_ESPS = ESPS
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET, **ESP_KEYS}


@pytest.mark.parametrize("body", BODIES, ids=list(BODIES))
@pytest.mark.parametrize("url", URLS)
def test_an_unconfigured_esp_webhook_is_not_there(client, settings, url, body):
    # given the default: EMAIL_BACKEND writes files, no ESP is configured
    settings.ANYMAIL_WEBHOOK_ESPS = []
    # when anyone posts to an ESP's tracking webhook, signed with the old public default or not
    data, content_type = BODIES[body]
    responses = [post(client, url, data, content_type, secret).status_code for secret in AUTHS.values()]
    # then it is not found, never a 500
    assert responses == [404, 404, 404]


@pytest.mark.parametrize("url", ["/anymail/postmark/inbound/", "/anymail/mailgun/inbound_mime/",
                                 "/anymail/sendgrid/inbound/"])
def test_inbound_webhooks_are_not_mounted_even_for_a_configured_esp(client, all_esps_configured, url):
    assert post(client, url, "{}", "application/json", SECRET).status_code == 404


@pytest.mark.parametrize("auth", AUTHS, ids=list(AUTHS))
@pytest.mark.parametrize("body", BODIES, ids=list(BODIES))
@pytest.mark.parametrize("url", URLS)
def test_a_configured_esp_webhook_answers_every_body_with_a_4xx(client, all_esps_configured, url, body, auth):
    # given every ESP configured with its keys
    data, content_type = BODIES[body]
    # when a malformed, empty or forged body arrives, with no, the wrong or the right basic-auth secret
    response = post(client, url, data, content_type, AUTHS[auth])
    # then it is refused with a 4xx; only a well-formed empty batch with the right secret may be a 200
    if auth == "right secret" and body in ("empty object", "empty list", "form", "forged bounce"):
        assert response.status_code < 500, response.content
    else:
        assert 400 <= response.status_code < 500, (response.status_code, response.content)


def test_a_forged_bounce_with_the_old_public_secret_changes_nothing(client, all_esps_configured):
    # given a message sent to a customer, on a case
    case = CaseFactory()
    message = Message.objects.create(recipient="ioana@mail.example", template="not_collected",
                                     idempotency_key="nc-forged", context={}, case=case,
                                     status=MessageStatus.SENT, esp_message_id="pm-0001")
    # when a forger posts a bounce signed with the default the README used to print
    response = post(client, "/anymail/postmark/tracking/", json.dumps(FORGED_BOUNCE), "application/json",
                    "caseapp-webhook:change-me")
    # then it is refused and neither the message nor the case changes
    assert response.status_code == 400
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not case.events.filter(text__contains="forged").exists()


def test_an_esp_that_cannot_be_built_answers_404_and_the_deploy_check_names_it(client, settings):
    # given Postal chosen, whose webhook cannot be built without its own signing key (not set here)
    settings.ANYMAIL_WEBHOOK_ESPS = ["postal"]
    settings.ANYMAIL = {**{key: value for key, value in settings.ANYMAIL.items() if not key.startswith("POSTAL_")},
                        "WEBHOOK_SECRET": SECRET}
    # when Postal posts, then nothing is there rather than a 500
    assert post(client, "/anymail/postal/tracking/", "{}", "application/json", SECRET).status_code == 404
    # and the deploy check says why
    from caseapp.checks import secret_problems

    problems = dict(secret_problems())
    assert "postal" in problems["caseapp.E004"] and "WEBHOOK_KEY" in problems["caseapp.E004"].upper()


def test_the_deploy_check_lists_the_webhook_problems(settings):
    settings.ANYMAIL_WEBHOOK_ESPS = ["postmark", "mailgum"]
    settings.ANYMAIL = {key: value for key, value in settings.ANYMAIL.items() if key != "WEBHOOK_SECRET"}
    # when the deploy check runs, then it fails naming the missing secret and the unknown ESP
    with pytest.raises(SystemCheckError) as exc:
        call_command("check", "--deploy", "--fail-level", "ERROR")
    assert "caseapp.E002" in str(exc.value) and "ANYMAIL_WEBHOOK_SECRET" in str(exc.value)
    assert "caseapp.E004" in str(exc.value) and "'mailgum'" in str(exc.value)
