from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str, **fill: str) -> bytes:
    """A raw email from tests/inbox/fixtures, with {PLACEHOLDERS} filled in."""
    data = (FIXTURES / name).read_bytes()
    for key, value in fill.items():
        data = data.replace(b"{" + key.upper().encode() + b"}", value.encode())
    return data


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Each test's attachments go to its own folder, through the FileSystemStorage the app uses."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(tmp_path / "media")}},
    }
    settings.CASEAPP_SUPPORT_ADDRESS = "care@shop.example"
    return tmp_path / "media"
