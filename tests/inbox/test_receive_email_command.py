"""manage.py receive_email: files and standard input (an MTA pipe), exit codes and stderr."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from inbox.models import InboundMessage, InboundStatus

from .conftest import FIXTURES, fixture_bytes

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_files_are_stored_each_once_and_reported():
    # given three raw emails, one of them twice, one malformed
    files = [str(FIXTURES / name) for name in ("koi8r_russian.eml", "malformed_mime.eml", "koi8r_russian.eml")]
    out = io.StringIO()
    # when the command reads them
    call_command("receive_email", *files, stdout=out)
    # then each message is stored once, the malformed one raw and unprocessed, and each file has its line
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "processed as inbound" in lines[0] and "already stored" in lines[2]
    assert "unprocessed" in lines[1]
    assert InboundMessage.objects.count() == 2
    assert set(InboundMessage.objects.values_list("source", flat=True)) == {"file"}


def test_standard_input_is_one_message_from_the_pipe():
    call_command("receive_email", stdin=io.BytesIO(fixture_bytes("cp1251_russian.eml")), stdout=io.StringIO())
    message = InboundMessage.objects.get()
    assert message.source == "pipe" and message.status == InboundStatus.PROCESSED
    assert "Посылка пришла повреждённая" in message.text


def test_a_file_that_cannot_be_read_is_a_clear_failure_and_the_others_are_stored(tmp_path):
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("receive_email", str(tmp_path / "missing.eml"), str(FIXTURES / "autoreply.eml"),
                     stdout=io.StringIO(), stderr=err)
    assert exc.value.returncode == 1
    assert "missing.eml: cannot be read" in err.getvalue()
    assert InboundMessage.objects.get().status == InboundStatus.IGNORED_AUTO


def test_empty_standard_input_is_refused():
    with pytest.raises(CommandError, match="empty"):
        call_command("receive_email", stdin=io.BytesIO(b""), stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_mta_piping_to_the_command_gets_exit_code_0_and_no_traceback():
    # given the command run as an MTA runs it: a separate process, the message on standard input
    env = {**os.environ, "DATABASE_URL": _database_url()}
    for name, expected in (("no_from.eml", "unprocessed"), ("latin2_romanian.eml", "processed")):
        result = subprocess.run([sys.executable, "manage.py", "receive_email"], input=fixture_bytes(name),
                                capture_output=True, cwd=ROOT, env=env, timeout=120)
        # then it exits 0, says what it stored, and no traceback reaches the MTA's bounce
        assert result.returncode == 0, result.stderr.decode()
        assert expected in result.stdout.decode() and b"Traceback" not in result.stderr
    assert InboundMessage.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_that_is_down_is_exit_code_75_so_the_mta_retries():
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing"}
    result = subprocess.run([sys.executable, "manage.py", "receive_email"], input=fixture_bytes("no_from.eml"),
                            capture_output=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 75, result.stderr.decode()
    assert b"try again" in result.stderr and b"Traceback" not in result.stderr


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
