import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Attachment, AttachmentSource
from cases.services import attachment_store
from tests.attachments.conftest import HTML, PDF, PNG, SVG
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _stored(case, filename, declared, data, settings=None):
    if settings is not None:
        settings.CASEAPP_ATTACHMENT_TYPES = [*settings.CASEAPP_ATTACHMENT_TYPES, "text/html", "image/svg+xml"]
    return attachment_store(case=case, filename=filename, content_type=declared, data=data,
                            source=AttachmentSource.INBOUND_EMAIL)


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_image_is_served_inline_with_nosniff(client, agent, other_agent):
    case = CaseFactory(owner=other_agent)  # another agent's case: still visible to every agent
    attachment = _stored(case, "rug.png", "image/png", PNG)
    client.force_login(agent)
    response = client.get(reverse("dashboard:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert _body(response) == PNG


@pytest.mark.parametrize("filename, declared, data, served", [
    ("receipt.pdf", "application/pdf", PDF, "application/pdf"),
    ("page.html", "text/html", HTML, "application/octet-stream"),
    ("logo.svg", "image/svg+xml", SVG, "application/octet-stream"),
    ("notes.txt", "text/plain", b"<script>alert(1)</script>", "text/plain; charset=utf-8"),
])
def test_anything_but_a_safe_image_is_a_download_with_a_safe_type(client, agent, settings, filename, declared,
                                                                   data, served):
    settings.CASEAPP_ATTACHMENT_TYPES = [*settings.CASEAPP_ATTACHMENT_TYPES, "text/html", "application/*"]
    case = CaseFactory()
    attachment = _stored(case, filename, declared, data)
    assert attachment is not None
    client.force_login(agent)
    response = client.get(reverse("dashboard:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == served
    assert response["Content-Disposition"].startswith("attachment")
    assert filename in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_stored_svg_row_is_never_served_as_an_image(client, agent):
    """Even a row whose decided type says SVG (written by other code) goes out as a download."""
    case = CaseFactory()
    attachment = _stored(case, "rug.png", "image/png", PNG)
    Attachment.objects.filter(pk=attachment.pk).update(safe_content_type="image/svg+xml")
    client.force_login(agent)
    response = client.get(reverse("dashboard:attachment", args=[attachment.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_outsiders_get_nothing(client, db):
    from tests.factories import UserFactory

    case = CaseFactory()
    attachment = _stored(case, "rug.png", "image/png", PNG)
    url = reverse("dashboard:attachment", args=[attachment.pk])
    response = client.get(url)  # signed out (a customer following a link)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(UserFactory(username="no-role"))
    assert client.get(url).status_code == 403
    assert client.get(reverse("dashboard:attachment", args=[attachment.pk + 1000])).status_code in (302, 403, 404)


def test_a_file_gone_from_the_storage_is_a_404_not_a_500(client, agent):
    case = CaseFactory()
    attachment = _stored(case, "rug.png", "image/png", PNG)
    attachment.file.storage.delete(attachment.file.name)
    client.force_login(agent)
    assert client.get(reverse("dashboard:attachment", args=[attachment.pk])).status_code == 404


def test_the_agent_uploads_a_photo_from_the_case_page_and_it_shows(client, agent):
    case = CaseFactory()
    client.force_login(agent)
    upload = SimpleUploadedFile("covor greșit.png", PNG, content_type="image/png")
    response = client.post(reverse("dashboard:attachment_upload", args=[case.pk]), {"file": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get(case=case)
    assert attachment.uploaded_by == agent and attachment.source == AttachmentSource.AGENT_UPLOAD
    page = client.get(reverse("dashboard:case", args=[case.pk])).content.decode()
    assert reverse("dashboard:attachment", args=[attachment.pk]) in page
    assert "covor greșit.png" in page
    assert "File attached: covor greșit.png" in page  # and on the timeline


def test_an_upload_over_the_limit_or_of_a_refused_type_is_a_field_error(client, agent, settings):
    settings.CASEAPP_ATTACHMENT_MAX_BYTES = 100
    case = CaseFactory()
    client.force_login(agent)
    url = reverse("dashboard:attachment_upload", args=[case.pk])
    big = SimpleUploadedFile("big.png", PNG + b"\0" * 200, content_type="image/png")
    response = client.post(url, {"file": big})
    assert response.status_code == 400
    assert "the limit is 100" in response.content.decode()
    page = SimpleUploadedFile("x.html", HTML, content_type="text/html")
    response = client.post(url, {"file": page})
    assert response.status_code == 400
    assert "Files of this type are not accepted." in response.content.decode()
    response = client.post(url, {})
    assert response.status_code == 400
    assert not Attachment.objects.exists()
    assert not case.events.exists()


def test_another_agents_case_refuses_an_upload(client, agent, other_agent):
    case = CaseFactory(owner=other_agent)
    client.force_login(agent)
    response = client.post(reverse("dashboard:attachment_upload", args=[case.pk]),
                           {"file": SimpleUploadedFile("a.png", PNG, content_type="image/png")})
    assert response.status_code == 403
    assert not Attachment.objects.exists()
