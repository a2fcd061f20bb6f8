"""Celery tasks of the voucher app: thin, safe to run twice."""

from celery import shared_task

from .services import vouchers_mark_expired


@shared_task
def mark_expired_vouchers_task() -> int:
    """Store "expired" on every active or extended voucher past its last day (the beat runs it hourly); a second
    run finds nothing to do."""
    return vouchers_mark_expired()
