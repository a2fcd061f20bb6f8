"""Reading an IMAP mailbox (imap-tools): each unseen message is stored by inbound_email_receive, then marked.

A message is marked (\\Seen, or moved to CASEAPP_IMAP_DONE_FOLDER) only after its transaction committed; a crash
between the two leaves it unseen, and the next run stores nothing twice (the unique Message-ID). Not one transaction:
one per message, so a message that fails leaves the others taken.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage, MailMessageFlags

from .models import InboundSource
from .services import inbound_email_receive

logger = logging.getLogger(__name__)


class RawMailMessage(MailMessage):
    """imap-tools' message, keeping the bytes the server sent (imap-tools keeps only the parsed object)."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw = self._get_message_data_parts(fetch_data)[0]


@dataclass
class FetchOutcome:
    stored: int = 0
    duplicates: int = 0


def _mailbox():
    host, port = settings.CASEAPP_IMAP_HOST, settings.CASEAPP_IMAP_PORT
    security = settings.CASEAPP_IMAP_SECURITY
    if security == "ssl":
        box = MailBox(host, port or 993, timeout=settings.CASEAPP_IMAP_TIMEOUT)
    elif security == "starttls":
        box = MailBoxStartTls(host, port or 143, timeout=settings.CASEAPP_IMAP_TIMEOUT)
    else:
        box = MailBoxUnencrypted(host, port or 143, timeout=settings.CASEAPP_IMAP_TIMEOUT)
    box.email_message_class = RawMailMessage
    return box


def mailbox_fetch(*, limit: int | None = None) -> FetchOutcome:
    """Take the unseen messages of CASEAPP_IMAP_FOLDER (at most ``limit``), oldest first."""
    outcome = FetchOutcome()
    done_folder = settings.CASEAPP_IMAP_DONE_FOLDER
    with _mailbox().login(settings.CASEAPP_IMAP_USER, settings.CASEAPP_IMAP_PASSWORD,
                          initial_folder=settings.CASEAPP_IMAP_FOLDER) as box:
        for message in box.fetch(AND(seen=False), mark_seen=False, limit=limit or settings.CASEAPP_IMAP_BATCH):
            _, created = inbound_email_receive(message.raw, source=InboundSource.IMAP)
            if created:
                outcome.stored += 1
            else:
                outcome.duplicates += 1
            if done_folder:
                box.move(message.uid, done_folder)
            else:
                box.flag(message.uid, MailMessageFlags.SEEN, True)
    return outcome


def is_configured() -> bool:
    return bool(settings.CASEAPP_IMAP_HOST)
