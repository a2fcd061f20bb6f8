"""Celery tasks: thin, take ids, safe to run twice or at once (the row lock, sent_at and the outbox key guard)."""

from celery import shared_task
from django.utils import timezone

from notifications.scans import keyset_enqueue
from notifications.tasks import _each

from .services import due_surveys_queryset, survey_send


@shared_task
def scan_due_surveys_task() -> int:
    return keyset_enqueue(due_surveys_queryset(now=timezone.now()), send_surveys_task.delay)


@shared_task
def send_surveys_task(survey_ids: list[int]) -> int:
    return _each(survey_ids, survey_send, "survey_id")
