"""Celery tasks: thin, take ids, safe to run twice or at once (the database guards, not the task)."""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from .scans import handover_release, keyset_enqueue
from .scans.promises import overdue_promises_queryset, promise_overdue_alert
from .scans.shipments import (
    cod_mismatch_handle,
    cod_mismatches_queryset,
    late_shipment_handle,
    late_shipments_queryset,
    uncollected_parcel_handle,
    uncollected_parcels_queryset,
)
from .scans.vouchers import expiring_vouchers_scan, voucher_reminders_queue
from .services import MessageSendDeferred, message_send, message_send_batch, outbox_sweep

logger = logging.getLogger(__name__)


# The hard time limit bounds how long a row can be "sending": after it the sweep knows the attempt is over.
@shared_task(bind=True, max_retries=None, time_limit=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS)
def send_message_task(self, message_id: int) -> str:
    try:
        return message_send(message_id=message_id).result
    except MessageSendDeferred as deferred:
        # The row already says when; if this retry cannot be published, the sweep finds the row.
        raise self.retry(countdown=deferred.retry_in_seconds, exc=deferred) from deferred


# The same hard limit for a batch: a row is "sending" only between its own claim and settle, both inside it.
@shared_task(time_limit=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS)
def send_messages_task(message_ids: list[int]) -> int:
    """Send a batch of outbox rows over one provider session; rows to try later get their own delayed task."""
    batch = message_send_batch(message_ids=message_ids, started=time.monotonic())
    for deferred in batch.deferred:
        try:
            send_message_task.apply_async(args=[deferred.message_id], countdown=deferred.retry_in_seconds,
                                          retry=False)
        except Exception as exc:  # the row already says when; the sweep finds it
            logger.warning("Message %s left queued for the sweep: broker unavailable (%s)", deferred.message_id, exc)
    if batch.left:
        try:
            send_messages_task.apply_async(args=[batch.left], retry=False)
        except Exception as exc:
            logger.warning("%s messages left queued for the sweep: broker unavailable (%s)", len(batch.left), exc)
    return sum(outcome.result == "sent" for outcome in batch.outcomes)


@shared_task
def sweep_outbox_task() -> int:
    return outbox_sweep()


def _each(ids: list[int], handle, id_name: str) -> int:
    done = 0
    for row_id in ids:
        try:
            done += handle(**{id_name: row_id}) is not None
        except IntegrityError:  # another worker handled the same row at the same moment
            logger.info("%s(%s): already handled elsewhere", handle.__name__, row_id)
        except Exception:  # one bad row must not stop the batch; the next scan finds it again
            logger.exception("%s(%s) failed", handle.__name__, row_id)
    return done


@shared_task
def scan_expiring_vouchers_task() -> int:
    return expiring_vouchers_scan(enqueue=lambda ids: queue_voucher_reminders_task.delay(ids))


@shared_task
def queue_voucher_reminders_task(voucher_ids: list[int]) -> int:
    return voucher_reminders_queue(voucher_ids=voucher_ids)


@shared_task
def scan_late_shipments_task() -> int:
    return keyset_enqueue(late_shipments_queryset(now=timezone.now()), handle_late_shipments_task.delay,
                          handed_over="late_shipment")


@shared_task
def handle_late_shipments_task(shipment_ids: list[int]) -> int:
    try:
        return _each(shipment_ids, late_shipment_handle, "shipment_id")
    finally:
        handover_release("late_shipment", shipment_ids)


@shared_task
def scan_cod_mismatches_task() -> int:
    return keyset_enqueue(cod_mismatches_queryset(now=timezone.now()), handle_cod_mismatches_task.delay,
                          handed_over="cod_mismatch")


@shared_task
def handle_cod_mismatches_task(shipment_ids: list[int]) -> int:
    try:
        return _each(shipment_ids, cod_mismatch_handle, "shipment_id")
    finally:
        handover_release("cod_mismatch", shipment_ids)


@shared_task
def scan_uncollected_parcels_task() -> int:
    return keyset_enqueue(uncollected_parcels_queryset(now=timezone.now()), handle_uncollected_parcels_task.delay,
                          handed_over="not_collected")


@shared_task
def handle_uncollected_parcels_task(shipment_ids: list[int]) -> int:
    try:
        return _each(shipment_ids, uncollected_parcel_handle, "shipment_id")
    finally:
        handover_release("not_collected", shipment_ids)


@shared_task
def scan_overdue_promises_task() -> int:
    return keyset_enqueue(overdue_promises_queryset(now=timezone.now()), alert_overdue_promises_task.delay,
                          handed_over="overdue_promise")


@shared_task
def alert_overdue_promises_task(promise_ids: list[int]) -> int:
    try:
        return _each(promise_ids, promise_overdue_alert, "promise_id")
    finally:
        handover_release("overdue_promise", promise_ids)
