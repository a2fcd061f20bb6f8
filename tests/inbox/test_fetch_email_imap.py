"""manage.py fetch_email against a real IMAP server: Debian's dovecot-imapd, started by the test on a free local
port with a throwaway configuration and Maildir (installed by .ci/run)."""

import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from imap_tools import AND, MailBoxUnencrypted

from inbox.models import InboundMessage, InboundStatus

from .conftest import fixture_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not shutil.which("dovecot"),
                                                        reason="needs dovecot-imapd (as .ci/run installs)")]
USER, PASSWORD = "care", "imap-test-password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dovecot():
    """A dovecot serving one Maildir (care / imap-test-password) on 127.0.0.1:<port>, stopped after the test.

    In its own folder under /tmp (pytest's tmp_path is private to the user running the tests, and dovecot reads the
    Maildir as the mail user)."""
    root = Path(tempfile.mkdtemp(prefix="caseapp-dovecot-"))
    maildir = root / "home" / USER / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (root / "run").mkdir()
    port = _free_port()
    mail_user = "dovecot" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    config = root / "dovecot.conf"
    config.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/home/%u/Maildir
first_valid_uid = 0
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
    if os.geteuid() == 0:
        shutil.chown(root, mail_user, mail_user)
        for path in root.rglob("*"):
            shutil.chown(path, mail_user, mail_user)
    process = subprocess.Popen(["dovecot", "-F", "-c", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"dovecot did not start: {process.stdout.read().decode()} "
                                f"{(root / 'dovecot.log').read_text() if (root / 'dovecot.log').exists() else ''}")
                time.sleep(0.2)
        yield {"port": port, "maildir": maildir, "owner": mail_user}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


def deliver(dovecot, name: str, raw: bytes) -> None:
    """Put a message in the Maildir as an MTA does (tmp/, then new/): unseen."""
    target = dovecot["maildir"] / "tmp" / f"{time.time_ns()}.{name}.caseapp"
    target.write_bytes(raw)
    final = dovecot["maildir"] / "new" / target.name
    target.rename(final)
    if os.geteuid() == 0:
        shutil.chown(final, dovecot["owner"], dovecot["owner"])


@pytest.fixture
def imap_settings(settings, dovecot):
    settings.CASEAPP_IMAP_HOST, settings.CASEAPP_IMAP_PORT = "127.0.0.1", dovecot["port"]
    settings.CASEAPP_IMAP_USER, settings.CASEAPP_IMAP_PASSWORD = USER, PASSWORD
    settings.CASEAPP_IMAP_SECURITY, settings.CASEAPP_IMAP_FOLDER = "none", "INBOX"
    return settings


def unseen(dovecot) -> int:
    with MailBoxUnencrypted("127.0.0.1", dovecot["port"]).login(USER, PASSWORD) as box:
        return len(list(box.fetch(AND(seen=False), mark_seen=False, headers_only=True)))


def test_fetch_email_stores_each_new_message_once_and_marks_it_seen(dovecot, imap_settings):
    # given three messages in the mailbox: two customers' and an auto-reply
    for name in ("koi8r_russian.eml", "cp1252_italian.eml", "autoreply.eml"):
        deliver(dovecot, name, fixture_bytes(name))
    assert unseen(dovecot) == 3
    # when fetch_email runs
    out = io.StringIO()
    call_command("fetch_email", stdout=out)
    # then each is stored from IMAP, byte for byte, and marked seen on the server
    assert "3 stored" in out.getvalue()
    stored = {m.message_id: m for m in InboundMessage.objects.all()}
    assert set(stored) == {"<koi8r-0001@mail.example>", "<cp1252-0001@mail.example>", "<ooo-0001@mail.example>"}
    assert all(m.source == "imap" for m in stored.values())
    assert bytes(stored["<koi8r-0001@mail.example>"].raw).replace(b"\r\n", b"\n") == \
        fixture_bytes("koi8r_russian.eml").replace(b"\r\n", b"\n")
    assert stored["<koi8r-0001@mail.example>"].subject == "Где мой заказ?"
    assert stored["<ooo-0001@mail.example>"].status == InboundStatus.IGNORED_AUTO
    assert unseen(dovecot) == 0
    # and a second run finds nothing new; the same message in a second copy is stored once
    deliver(dovecot, "again", fixture_bytes("koi8r_russian.eml"))
    out = io.StringIO()
    call_command("fetch_email", stdout=out)
    assert "0 stored, 1 already stored" in out.getvalue() and InboundMessage.objects.count() == 3


def test_a_wrong_password_is_one_clear_line(dovecot, imap_settings):
    imap_settings.CASEAPP_IMAP_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="IMAP 127.0.0.1"):
        call_command("fetch_email", stdout=io.StringIO())
    assert InboundMessage.objects.count() == 0


def test_without_a_mailbox_the_command_says_so_and_the_beat_task_does_nothing(settings):
    from inbox.tasks import fetch_email_task

    settings.CASEAPP_IMAP_HOST = ""
    with pytest.raises(CommandError, match="CASEAPP_IMAP_HOST"):
        call_command("fetch_email", stdout=io.StringIO())
    assert fetch_email_task() == 0


