"""Inbound email in /api/v1/: the case timeline shows an email's reply text and links to the full message;
/api/v1/inbound-messages/ lists and shows messages, filtered by who may see them (issue 12 polish)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import InboundMessage, InboundStatus
from inbox.services import inbound_email_receive
from tests.inbox.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mail_settings(settings, tmp_path):
    settings.CASEAPP_SUPPORT_ADDRESS = "care@shop.example"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def receive(name: str) -> InboundMessage:
    message, created = inbound_email_receive(fixture_bytes(name), source="file")
    assert created
    return message


def test_the_case_timeline_shows_the_reply_text_and_links_to_the_full_message(as_agent):
    # given a Romanian Gmail reply with its quoted history
    message = receive("reply_ro_gmail.eml")
    # when the case is read
    body = as_agent.get(f"/api/v1/cases/{message.case_id}/").json()
    # then its email event has the reply text only, and the link to the whole message
    event = next(e for e in body["events"] if e["kind"] == "email_in")
    assert event["text"] == message.text_reply
    assert "expediată azi" not in event["text"]
    assert event["inbound_message"] == message.pk
    assert event["inbound_message_url"] == f"http://testserver/api/v1/inbound-messages/{message.pk}/"
    assert all(e["inbound_message"] is None for e in body["events"] if e["kind"] != "email_in")
    # and the link answers with the full text
    full = as_agent.get(event["inbound_message_url"]).json()
    assert "Comanda #1004 a fost expediată azi." in full["text"]
    assert full["text_reply"] == event["text"]


def test_the_detail_has_the_text_sanitized_html_attachments_and_threading_reason(as_agent):
    first = receive("utf8_alternative_attachments.eml")
    body = as_agent.get(f"/api/v1/inbound-messages/{first.pk}/").json()
    assert body["case"] == first.case_id and body["status"] == "processed"
    assert body["subject"] == "Coletul a sosit deteriorat — poză"
    assert "<b>deteriorat</b>" in body["html"] and "<img" not in body["html"] and "<html" not in body["html"]
    names = sorted(a["filename"] for a in body["attachments"])
    assert names == ["factură.pdf", "poza.png"]
    pdf = next(a for a in body["attachments"] if a["filename"] == "factură.pdf")
    assert pdf["content_type"] == "application/pdf" and pdf["size"] > 0
    assert pdf["download_url"].startswith("http://testserver/attachments/")
    assert body["threading"] == {"threaded_by": "", "in_reply_to": "", "references": []}
    # a reply threaded by [#case] in the subject says so
    reply = (f"From: stefan@mail.example\nTo: care@shop.example\nSubject: Re: [#{first.case_id}] poza\n"
             "Message-ID: <utf8-alt-0002@mail.example>\nIn-Reply-To: <not-ours@elsewhere.example>\n"
             "Content-Type: text/plain; charset=utf-8\n\nAm mai găsit o zgârietură.\n").encode()
    second, _ = inbound_email_receive(reply, source="pipe")
    threading = as_agent.get(f"/api/v1/inbound-messages/{second.pk}/").json()["threading"]
    assert threading == {"threaded_by": "subject", "in_reply_to": "<not-ours@elsewhere.example>",
                         "references": []}


def test_html_is_sanitized_again_when_read(as_agent):
    message = receive("html_only_script.eml")
    InboundMessage.objects.filter(pk=message.pk).update(html='<p onclick="x()">Hi</p><script>alert(1)</script>')
    html = as_agent.get(f"/api/v1/inbound-messages/{message.pk}/").json()["html"]
    assert html == "<p>Hi</p>"


def test_the_list_filters_by_case_and_status_and_hides_caseless_messages_from_agents(as_agent, as_manager):
    ro = receive("reply_ro_gmail.eml")
    it = receive("reply_it_gmail.eml")
    broken = receive("no_from.eml")
    auto = receive("autoreply.eml")
    assert broken.status == InboundStatus.UNPROCESSED and broken.case_id is None
    assert auto.status == InboundStatus.IGNORED_AUTO and auto.case_id is None

    def ids(client, query=""):
        response = client.get(f"/api/v1/inbound-messages/{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    # newest first; agents see the messages on cases, managers everything
    assert ids(as_agent) == [it.pk, ro.pk]
    assert ids(as_manager) == [auto.pk, broken.pk, it.pk, ro.pk]
    assert ids(as_manager, f"?case={ro.case_id}") == [ro.pk]
    assert ids(as_manager, "?status=unprocessed") == [broken.pk]
    assert ids(as_agent, "?status=unprocessed") == []
    # a caseless message's detail is not found for an agent
    assert as_agent.get(f"/api/v1/inbound-messages/{broken.pk}/").status_code == 404
    detail = as_manager.get(f"/api/v1/inbound-messages/{broken.pk}/").json()
    assert detail["problem"] == "no_sender" and detail["case"] is None
    # the list shows the reply text, not the whole text
    row = as_agent.get(f"/api/v1/inbound-messages/?case={it.case_id}").json()["results"][0]
    assert row["text_reply"] == it.text_reply and "text" not in row and "html" not in row


@pytest.mark.parametrize("query", ["?status=bogus", "?case=abc", "?case=0", "?case=99999999999999999999"])
def test_bad_filters_are_400s_with_the_field(as_agent, query):
    response = as_agent.get(f"/api/v1/inbound-messages/{query}")
    assert response.status_code == 400
    assert set(response.json()) & {"status", "case"}


def test_the_list_is_not_writable(as_manager):
    assert as_manager.post("/api/v1/inbound-messages/", {}, format="json").status_code == 405
    message = receive("reply_it_gmail.eml")
    assert as_manager.delete(f"/api/v1/inbound-messages/{message.pk}/").status_code == 405
    assert InboundMessage.objects.filter(pk=message.pk).exists()


def test_a_page_costs_the_same_queries_whatever_it_holds(as_manager, django_assert_max_num_queries):
    receive("reply_ro_gmail.eml")
    with CaptureQueriesContext(connection) as few:
        assert as_manager.get("/api/v1/inbound-messages/").status_code == 200
    for name in ("reply_it_gmail.eml", "reply_ru_gmail.eml", "reply_ro_outlook.eml", "reply_it_outlook.eml"):
        receive(name)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(as_manager.get("/api/v1/inbound-messages/").json()["results"]) == 5
