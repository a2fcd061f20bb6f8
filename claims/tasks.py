"""Celery tasks: thin, take ids, safe to run twice or at once (the guarded update decides, not the task)."""

from celery import shared_task

from notifications.scans import keyset_enqueue
from notifications.tasks import _each

from .scans import claim_deadline_alert, claims_near_deadline_queryset


@shared_task
def scan_claim_deadlines_task() -> int:
    return keyset_enqueue(claims_near_deadline_queryset(), alert_claim_deadlines_task.delay)


@shared_task
def alert_claim_deadlines_task(claim_ids: list[int]) -> int:
    return _each(claim_ids, claim_deadline_alert, "claim_id")
