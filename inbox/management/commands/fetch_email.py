"""Take the new messages of the IMAP mailbox (CASEAPP_IMAP_*), once or every CASEAPP_IMAP_POLL_SECONDS.

    manage.py fetch_email            # once
    manage.py fetch_email --watch    # keep polling

Exit code 0 when it ran; 1 with one line on stderr when the mailbox cannot be reached or logged into.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from inbox import imap


class Command(BaseCommand):
    help = "Store the unseen messages of the IMAP mailbox as inbound email, and mark them seen."

    def add_arguments(self, parser):
        parser.add_argument("--watch", action="store_true", help="Keep polling every CASEAPP_IMAP_POLL_SECONDS.")
        parser.add_argument("--limit", type=int, default=None, help="At most this many messages per poll.")

    def _once(self, limit):
        try:
            outcome = imap.mailbox_fetch(limit=limit)
        except DatabaseError as exc:
            raise CommandError(f"the database failed ({type(exc).__name__}); the messages stay unseen") from exc
        except Exception as exc:  # imaplib, socket and TLS errors: the mailbox is not reachable as configured
            raise CommandError(f"IMAP {settings.CASEAPP_IMAP_HOST}:{settings.CASEAPP_IMAP_PORT}: "
                               f"{type(exc).__name__}: {exc}") from exc
        self.stdout.write(f"{outcome.stored} stored, {outcome.duplicates} already stored")

    def handle(self, *args, watch, limit, **options):
        if not imap.is_configured():
            raise CommandError("no mailbox: set CASEAPP_IMAP_HOST (and _PORT, _USER, _PASSWORD, _FOLDER)")
        self._once(limit)
        while watch:
            time.sleep(settings.CASEAPP_IMAP_POLL_SECONDS)
            self._once(limit)
