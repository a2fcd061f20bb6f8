"""Celery tasks of intake: thin, safe to run twice."""

from celery import shared_task

from .services import webhook_payloads_purge


@shared_task
def purge_webhook_payloads_task() -> int:
    return webhook_payloads_purge()
