"""Store raw RFC 822 messages: from files, or one from standard input (an MTA pipes to it).

    manage.py receive_email message.eml other.eml     # files (source "file")
    manage.py receive_email < message.eml             # standard input (source "pipe")

Exit code 0 when every message is stored (a duplicate, an auto-reply and a message that cannot be parsed are all
stored: the last one raw, as "unprocessed"); 1 when a file cannot be read; 75 (EX_TEMPFAIL, so the MTA keeps the
message and tries again) when the database cannot be reached. One clear line on stderr for each failure, never a
traceback.
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from inbox.models import InboundSource
from inbox.services import inbound_email_receive

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store raw emails (RFC 822) from files, or one from standard input, as inbound messages."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="Raw message files; standard input when none.")

    def _receive(self, raw: bytes, *, source: str, label: str) -> None:
        try:
            message, created = inbound_email_receive(raw, source=source)
        except DatabaseError as exc:
            raise CommandError(f"{label}: not stored, the database failed ({type(exc).__name__}: "
                               f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}); try again",
                               returncode=EX_TEMPFAIL) from exc
        outcome = message.status if created else "already stored"
        case = f" case #{message.case_id}" if message.case_id else ""
        self.stdout.write(f"{label}: {outcome} as inbound #{message.pk}{case} {message.message_id}")

    def handle(self, *args, files, **options):
        if not files:
            stream = options.get("stdin") or sys.stdin.buffer
            raw = stream.read()
            if isinstance(raw, str):
                raw = raw.encode("utf-8", "surrogateescape")
            if not raw.strip():
                raise CommandError("standard input: empty, nothing to store")
            self._receive(raw, source=InboundSource.PIPE, label="standard input")
            return
        failures = 0
        for name in files:
            try:
                with open(name, "rb") as handle:
                    raw = handle.read()
            except OSError as exc:
                self.stderr.write(f"{name}: cannot be read: {exc.strerror or exc}")
                failures += 1
                continue
            self._receive(raw, source=InboundSource.FILE, label=name)
        if failures:
            raise CommandError(f"{failures} of {len(files)} file(s) not stored", returncode=1)
