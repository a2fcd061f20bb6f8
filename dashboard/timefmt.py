"""Human time spans for agents: "in 3 h", "2 days overdue", "waiting 5 min"."""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def span(delta: timedelta) -> str:
    """A rough, readable length of time: 45 min, 3 h, 2 days."""
    seconds = abs(int(delta.total_seconds()))
    if seconds < 3600:
        minutes = max(seconds // 60, 1)
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    if seconds < 48 * 3600:
        hours = seconds // 3600
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    days = seconds // 86400
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def due_phrase(due: datetime | None, now: datetime | None = None) -> str:
    """"in 3 h" before the due time, "2 days overdue" after it."""
    if due is None:
        return ""
    now = now or timezone.now()
    if due >= now:
        return _("in %(span)s") % {"span": span(due - now)}
    return _("%(span)s overdue") % {"span": span(now - due)}


def ago_phrase(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return ""
    now = now or timezone.now()
    return _("%(span)s ago") % {"span": span(now - when)}
