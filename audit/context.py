"""Who and why, for every change: the request's user and URL, the Celery task's name, the service's reason.

On PostgreSQL this is pghistory.context: its metadata travels with every SQL statement (a transaction-local
setting) and the triggers attach it to the events they write. On SQLite there are no triggers; the same metadata
is kept here in a thread-local, and audit.services writes it with the events it records.
"""

import contextlib
import threading
import uuid

import pghistory
from django.db import connection

_local = threading.local()


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def current() -> dict | None:
    """The metadata of the context entered in this thread (SQLite path), or None outside any."""
    return getattr(_local, "metadata", None)


def current_id() -> uuid.UUID | None:
    return getattr(_local, "context_id", None)


@contextlib.contextmanager
def audit_context(**metadata):
    """Enter (or add to) the audit context: `with audit_context(reason="courier lost it"): ...`.

    Nested contexts add their metadata to the outermost one, which groups every change until it exits."""
    outermost = current() is None
    if outermost:
        _local.metadata, _local.context_id = dict(metadata), uuid.uuid4()
    else:
        _local.metadata.update(metadata)
    try:
        if on_postgresql():
            with pghistory.context(**metadata):
                yield
        else:
            yield
    finally:
        if outermost:
            del _local.metadata, _local.context_id


def audit_note(**metadata) -> None:
    """Add metadata to the context already entered (e.g. the user DRF authenticates in its view); else nothing."""
    if current() is None:
        return
    _local.metadata.update(metadata)
    if on_postgresql():
        pghistory.context(**metadata)
