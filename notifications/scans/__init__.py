"""Scans: each walks its table by keyset pagination on an index and hands batches of ids to a task.

Each handler re-checks one row in its own transaction; a unique constraint (VoucherReminder, Detection) or a
guarded update (Promise.overdue_alerted_at) makes running a scan twice, or two at once, harmless.
"""

from collections.abc import Callable, Iterator

from django.conf import settings
from django.db.models import QuerySet


def keyset_batches(queryset: QuerySet, *, batch_size: int | None = None) -> Iterator[list[int]]:
    """Ids of the queryset, batch after batch, by primary key: never the whole table in memory."""
    batch_size = batch_size or settings.NOTIFICATIONS_SCAN_BATCH_SIZE
    last_id = 0
    while True:
        ids = list(queryset.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        last_id = ids[-1]


def keyset_enqueue(queryset: QuerySet, enqueue: Callable[[list[int]], object], *, batch_size: int | None = None) -> int:
    count = 0
    for ids in keyset_batches(queryset, batch_size=batch_size):
        enqueue(ids)
        count += len(ids)
    return count
