"""Scans: each walks its table by keyset pagination on an index and hands batches of ids to a task.

Each handler re-checks one row in its own transaction; a unique constraint (VoucherReminder, Detection) or a
guarded update (Promise.overdue_alerted_at) makes running a scan twice, or two at once, harmless.
"""

import functools
import logging
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db.models import QuerySet

logger = logging.getLogger(__name__)


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


def keyset_enqueue(queryset: QuerySet, enqueue: Callable[[list[int]], object], *, batch_size: int | None = None,
                   handed_over: str | None = None) -> int:
    """Hand the queryset's ids to `enqueue` in batches. With `handed_over` (a name), ids a queued batch still holds
    (handover_mark) are left out, so a scan that runs again before the workers got to them does not publish
    them twice."""
    count = 0
    for ids in keyset_batches(queryset, batch_size=batch_size):
        if handed_over:
            ids = handover_mark(handed_over, ids)
            if not ids:
                continue
        try:
            enqueue(ids)
        except Exception:
            if handed_over:
                handover_release(handed_over, ids)
            raise
        count += len(ids)
    return count


# --- Hand-over markers: which rows a batch task published by a scan still holds ----------------------------------
# One Redis key per row (SET NX with an expiry), in the broker's Redis, so a marker shares its task's fate: if Redis
# loses the task it loses the marker too. The handler removes its batch's markers when it has run; the expiry
# (the broker's visibility timeout, after which an unacknowledged task is redelivered, plus a minute) covers a
# worker that died holding the batch. Markers spare the workers repeated batches; they guard nothing: the
# handlers' unique constraints do. Without Redis (the embedded broker) there are none and every scan publishes.


@functools.cache
def _redis_for(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _marker_redis():
    return _redis_for(settings.CELERY_BROKER_URL)


def _marker_keys(name: str, ids: list[int]) -> list[str]:
    database = settings.DATABASES["default"]["NAME"]
    return [f"caseapp:handed-over:{database}:{name}:{row_id}" for row_id in ids]


def handover_marker_seconds() -> int:
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600) + 60


def handover_mark(name: str, ids: list[int]) -> list[int]:
    """Mark the ids as handed over; returns those that were not already (all of them if Redis does not answer)."""
    if not settings.CELERY_BROKER_URL.startswith("redis") or not ids:
        return ids
    try:
        pipe = _marker_redis().pipeline(transaction=False)
        for key in _marker_keys(name, ids):
            pipe.set(key, 1, nx=True, ex=handover_marker_seconds())
        marked = pipe.execute()
    except Exception as exc:  # noqa: BLE001 (no marker: publish, the handlers' guards hold)
        logger.warning("Hand-over markers unavailable (%s): the batch is published as it is", exc)
        return ids
    return [row_id for row_id, new in zip(ids, marked, strict=True) if new]


def handover_release(name: str, ids: list[int]) -> None:
    """The batch has run: the next scan may publish these ids again (a row it failed on is found again)."""
    if not settings.CELERY_BROKER_URL.startswith("redis") or not ids:
        return
    try:
        _marker_redis().delete(*_marker_keys(name, ids))
    except Exception as exc:  # noqa: BLE001 (the markers expire by themselves)
        logger.warning("Hand-over markers not removed (%s): they expire by themselves", exc)
