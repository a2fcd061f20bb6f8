"""Celery tasks of the inbox: thin, safe to run twice (a message is stored once by its Message-ID)."""

import logging

from celery import shared_task

from . import imap

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def fetch_email_task() -> int:
    """Beat: take the IMAP mailbox's new messages, when one is configured."""
    if not imap.is_configured():
        return 0
    outcome = imap.mailbox_fetch()
    if outcome.stored or outcome.duplicates:
        logger.info("IMAP: %s stored, %s already stored", outcome.stored, outcome.duplicates)
    return outcome.stored
