"""Health: the beat's heartbeat."""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import ScanHeartbeat


@transaction.atomic
def scan_heartbeat_beat(*, task: str, now: datetime | None = None) -> None:
    """Record that the scheduled task `task` runs now (an upsert: two workers at once make one row)."""
    now = now or timezone.now()
    updated = ScanHeartbeat.objects.filter(task=task).update(last_run_at=now, runs=F("runs") + 1)
    if not updated:
        ScanHeartbeat.objects.bulk_create(
            [ScanHeartbeat(task=task, last_run_at=now, runs=1)], update_conflicts=True,
            unique_fields=["task"], update_fields=["last_run_at"],
        )
    from .context_processors import forget_overdue_scans

    forget_overdue_scans()  # this process's banner reads the heartbeats again (and again once they are committed)
    transaction.on_commit(forget_overdue_scans)
