import hashlib

import pytest
from django.core.exceptions import PermissionDenied

from cases.attachments import content_type_decide, filename_sanitize, serving_content_type
from cases.models import Attachment, AttachmentSource, CaseEvent
from cases.services import attachment_store
from cases.timeline import event_text
from tests.attachments.conftest import HTML, JPEG, PDF, PNG, SVG
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_a_photo_is_kept_in_the_storage_with_its_hash_and_a_timeline_note(agent, media_in_tmp):
    case = CaseFactory()
    attachment = attachment_store(case=case, filename="wrong rug.png", content_type="image/png", data=PNG,
                                  source=AttachmentSource.AGENT_UPLOAD, by=agent)
    attachment.refresh_from_db()
    assert attachment.filename == "wrong rug.png"
    assert attachment.safe_content_type == "image/png"
    assert attachment.size == len(PNG)
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    assert attachment.uploaded_by == agent
    assert attachment.file.name.startswith(f"attachments/{case.pk}/")
    assert "rug" not in attachment.file.name  # the customer's name never becomes a path
    assert (media_in_tmp / attachment.file.name).read_bytes() == PNG
    with attachment.file.open("rb") as stored:
        assert stored.read() == PNG
    event = CaseEvent.objects.get(case=case, data__attachment_id=attachment.pk)
    assert event.actor == agent
    assert "wrong rug.png" in event_text(event)


def test_a_file_over_the_limit_is_dropped_with_a_note_and_nothing_stored(settings, media_in_tmp):
    settings.CASEAPP_ATTACHMENT_MAX_BYTES = 1000
    case = CaseFactory()
    result = attachment_store(case=case, filename="huge.jpg", content_type="image/jpeg", data=JPEG + b"\0" * 2000,
                              source=AttachmentSource.INBOUND_EMAIL, email=object())
    assert result is None
    assert not Attachment.objects.exists()
    assert not media_in_tmp.exists() or not any(media_in_tmp.rglob("*.*"))
    event = CaseEvent.objects.get(case=case)
    assert event.data["attachment_dropped"]["reason"] == "too_large"
    assert "huge.jpg" in event.text and "not kept" in event.text and "1 kB" in event.text


@pytest.mark.parametrize("filename, declared, data", [
    ("invoice.html", "text/html", HTML),
    ("logo.svg", "image/svg+xml", SVG),
    ("photo.jpg", "image/jpeg", HTML),  # says it is a photo, is a web page
    ("setup.exe", "application/x-msdownload", b"MZ\x90\x00" + b"\0" * 30),
])
def test_a_type_not_accepted_is_dropped_with_a_note(filename, declared, data):
    case = CaseFactory()
    assert attachment_store(case=case, filename=filename, content_type=declared, data=data,
                            source=AttachmentSource.INBOUND_EMAIL) is None
    assert not Attachment.objects.exists()
    assert CaseEvent.objects.get(case=case).data["attachment_dropped"]["reason"] == "type"


def test_the_allowed_types_come_from_settings(settings):
    settings.CASEAPP_ATTACHMENT_TYPES = ["image/*"]
    case = CaseFactory()
    assert attachment_store(case=case, filename="a.pdf", content_type="application/pdf", data=PDF,
                            source=AttachmentSource.INBOUND_EMAIL) is None
    kept = attachment_store(case=case, filename="a.jpg", content_type="application/octet-stream", data=JPEG,
                            source=AttachmentSource.INBOUND_EMAIL)
    assert kept.safe_content_type == "image/jpeg"
    assert kept.content_type == "application/octet-stream"


def test_an_agent_who_may_not_work_the_case_cannot_attach(agent, other_agent):
    case = CaseFactory(owner=other_agent)
    with pytest.raises(PermissionDenied):
        attachment_store(case=case, filename="a.png", content_type="image/png", data=PNG,
                         source=AttachmentSource.AGENT_UPLOAD, by=agent)
    assert not Attachment.objects.exists()


def test_the_server_decides_the_type_from_the_bytes():
    assert content_type_decide(filename="x.txt", declared="text/plain", data=PNG) == "image/png"
    assert content_type_decide(filename="x.png", declared="image/png", data=b"GIF89a....") == "image/gif"
    assert content_type_decide(filename="x.pdf", declared="application/pdf", data=b"not a pdf") == \
        "application/octet-stream"
    assert content_type_decide(filename="notes.txt", declared="", data=b"hello") == "text/plain"
    assert serving_content_type("text/html") == "application/octet-stream"
    assert serving_content_type("image/svg+xml") == "application/octet-stream"
    assert serving_content_type("text/csv") == "text/plain; charset=utf-8"


@pytest.mark.parametrize("raw, shown", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ana\\poză covor.jpg", "poză covor.jpg"),
    ("photo\u202egpj.exe", "photogpj.exe"),
    ("a\x00b\r\n.png", "ab.png"),
    ("...", "attachment"),
    ("", "attachment"),
    ('x"<y>.png', "x__y_.png"),
])
def test_filenames_are_sanitized_for_display(raw, shown):
    assert filename_sanitize(raw) == shown


def test_a_long_filename_keeps_its_extension():
    name = filename_sanitize("a" * 400 + ".jpeg")
    assert len(name) == 150 and name.endswith(".jpeg")
