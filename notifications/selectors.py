"""Read queries for notifications: who to alert."""

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model

from caseapp.roles import MANAGER


def manager_pick(*, exclude=()):
    """A manager to alert: the first active one with an email address, by id (stable, so alerts are predictable)."""
    users = get_user_model().objects.filter(groups__name=MANAGER, is_active=True).exclude(email="")
    excluded = [user.pk for user in exclude if user is not None]
    if excluded:
        others = users.exclude(pk__in=excluded).order_by("pk").first()
        if others is not None:
            return others
    return users.order_by("pk").first()


def staff_recipients(*users) -> list:
    """Distinct users with an email address, in the order given."""
    seen, result = set(), []
    for user in users:
        if user is not None and user.email and user.pk not in seen:
            seen.add(user.pk)
            result.append(user)
    return result


def zone_of(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_today(now: datetime, time_zone: str | None) -> date:
    return now.astimezone(zone_of(time_zone)).date()


def end_of_day(day: date, time_zone: str | None) -> datetime:
    """The first instant after `day` in the given time zone: the deadline for "delivered on that day"."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone_of(time_zone))
