"""The dashboard's inbound email pages: the managers' list of unreadable mail, a message's full text, its raw."""

import pytest
from django.urls import reverse

from inbox.models import InboundMessage
from inbox.services import inbound_email_receive

from .conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def test_managers_see_the_unprocessed_messages_and_their_raw_source(client, manager):
    # given a malformed email, one with no sender and a good one
    for name in ("malformed_mime.eml", "no_from.eml", "cp1252_italian.eml"):
        inbound_email_receive(fixture_bytes(name), source="pipe")
    client.force_login(manager)
    # when the manager opens the list
    page = client.get(reverse("dashboard:inbound_unprocessed")).content.decode()
    # then the two unreadable ones are listed with why, the processed one is not
    assert "broken" in page and "hello" in page and "No sender" in page and "Broken MIME structure" in page
    assert "Tappeto" not in page
    # and the raw source downloads whole, as a file, never rendered
    broken = InboundMessage.objects.get(subject="broken")
    response = client.get(reverse("dashboard:inbound_raw", args=[broken.pk]))
    assert response.status_code == 200 and response.content == fixture_bytes("malformed_mime.eml")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_an_agent_cannot_read_an_email_on_no_case(client, agent):
    message, _ = inbound_email_receive(fixture_bytes("no_from.eml"), source="pipe")
    client.force_login(agent)
    assert client.get(reverse("dashboard:inbound", args=[message.pk])).status_code == 403
    assert client.get(reverse("dashboard:inbound_unprocessed")).status_code == 403


def test_the_case_page_shows_the_reply_and_links_the_whole_email_with_its_html_cleaned(client, agent):
    message, _ = inbound_email_receive(fixture_bytes("html_only_script.eml"), source="pipe")
    client.force_login(agent)
    case_page = client.get(reverse("dashboard:case", args=[message.case_id])).content.decode()
    assert "my parcel has not arrived" in case_page
    assert reverse("dashboard:inbound", args=[message.pk]) in case_page
    detail = client.get(reverse("dashboard:inbound", args=[message.pk])).content.decode()
    assert 'href="https://tracking.example/T1"' in detail
    assert "document.cookie" not in detail and "onerror" not in detail and "javascript:" not in detail
