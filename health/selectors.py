"""Health: what is down, and which scans are overdue."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import ScanHeartbeat


def scheduled_intervals() -> dict[str, float]:
    """Task name -> its beat interval in seconds (settings.CELERY_BEAT_SCHEDULE)."""
    return {entry["task"]: float(entry["schedule"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()
            if isinstance(entry["schedule"], int | float)}


@dataclass(frozen=True)
class OverdueScans:
    tasks: list[str]
    last_run_at: datetime  # the most recent run of any overdue scan


def overdue_scans(*, now: datetime | None = None) -> OverdueScans | None:
    """The scans that have run before but not for twice their interval (the beat is down or stuck); None if all
    are on time. A scan that never ran is not counted: a fresh install has no heartbeat yet."""
    now = now or timezone.now()
    intervals = scheduled_intervals()
    overdue = [beat for beat in ScanHeartbeat.objects.filter(task__in=list(intervals))
               if beat.last_run_at < now - timedelta(seconds=2 * intervals[beat.task])]
    if not overdue:
        return None
    return OverdueScans(tasks=sorted(beat.task for beat in overdue),
                        last_run_at=max(beat.last_run_at for beat in overdue))
