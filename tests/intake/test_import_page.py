"""The managers' upload page for order exports."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.models import Order

pytestmark = pytest.mark.django_db
SHOPIFY = Path(__file__).parent / "fixtures" / "shopify_orders_export.csv"
URL = reverse("dashboard:order_import")


def _upload(client, content=None, headers=None, **fields):
    data = {"file": SimpleUploadedFile("orders.csv", content or SHOPIFY.read_bytes(), "text/csv"),
            "format": "shopify", **fields}
    return client.post(URL, data, headers=headers)


def test_a_manager_imports_an_export_and_sees_the_counts(client, manager):
    client.force_login(manager)
    assert client.get(URL).status_code == 200
    response = _upload(client)
    assert response.status_code == 200
    assert "5 created, 0 changed, 0 unchanged" in response.content.decode()
    assert Order.objects.count() == 5
    # and the same file again changes nothing
    assert "0 created, 0 changed, 5 unchanged" in _upload(client).content.decode()


def test_a_dry_run_from_the_page_writes_nothing(client, manager):
    client.force_login(manager)
    response = _upload(client, dry_run="on")
    assert "Dry run: nothing was written" in response.content.decode()
    assert not Order.objects.exists()


def test_rejected_rows_and_a_refused_file_are_shown_not_a_500(client, manager):
    client.force_login(manager)
    broken = SHOPIFY.read_text(encoding="utf-8").replace("435.00", "435.001")
    response = _upload(client, content=broken.encode())
    page = response.content.decode()
    assert response.status_code == 200 and "4 created" in page and "#1001" in page and "Total" in page
    refused = _upload(client, content=b"Name,Email\n#1,a@b.example\n")
    assert refused.status_code == 400 and "Lineitem price" in refused.content.decode()
    assert _upload(client, format="magento").status_code == 400


def test_agents_may_not_import_and_anonymous_users_are_sent_to_log_in(client, agent):
    assert client.get(URL).status_code == 302
    client.force_login(agent)
    assert client.get(URL).status_code == 403
    assert _upload(client).status_code == 403
    assert not Order.objects.exists()


def test_the_page_and_its_report_speak_the_managers_language(client, manager):
    client.force_login(manager)
    client.cookies["django_language"] = "ru"
    page = _upload(client, content=b"Name,Email\n#1,a@b.example\n", headers={"accept-language": "ru"}).content.decode()
    assert "Импорт заказов" in page and "В файле нет столбца" in page
    page = _upload(client, headers={"accept-language": "ru"}).content.decode()
    assert "создано: 5, изменено: 0, без изменений: 0, отклонено: 0" in page
