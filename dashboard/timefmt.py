"""Human time spans for agents: "in 3 h", "2 days overdue", "waiting 5 min".

Each phrase is translated once per language and number (lru_cache keyed by the active language): the queue shows
a few of them on each of its 50 rows, and gettext/ngettext are the slow part of the page otherwise.
"""

from datetime import datetime, timedelta
from functools import lru_cache

from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from caseapp import formatting

MINUTE, HOUR, DAY = "min", "h", "day"


def _span_parts(delta: timedelta) -> tuple[str, int]:
    seconds = abs(int(delta.total_seconds()))
    if seconds < 3600:
        return MINUTE, max(seconds // 60, 1)
    if seconds < 48 * 3600:
        return HOUR, seconds // 3600
    return DAY, seconds // 86400


@lru_cache(maxsize=8192)
def _span_text(language: str, unit: str, n: int) -> str:
    if unit == MINUTE:
        return ngettext("%(n)d min", "%(n)d min", n) % {"n": n}
    if unit == HOUR:
        return ngettext("%(n)d h", "%(n)d h", n) % {"n": n}
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


IN, OVERDUE, AGO = "in", "overdue", "ago"


@lru_cache(maxsize=8192)
def _phrase(language: str, kind: str, unit: str, n: int) -> str:
    span_text = _span_text(language, unit, n)
    if kind == IN:
        return _("in %(span)s") % {"span": span_text}
    if kind == OVERDUE:
        return _("%(span)s overdue") % {"span": span_text}
    return _("%(span)s ago") % {"span": span_text}


def span(delta: timedelta, *, language: str | None = None) -> str:
    """A rough, readable length of time: 45 min, 3 h, 2 days."""
    return _span_text(language or translation.get_language(), *_span_parts(delta))


def due_phrase(due: datetime | None, now: datetime | None = None, *, language: str | None = None) -> str:
    """"in 3 h" before the due time, "2 days overdue" after it (``language``: the active one if not given)."""
    if due is None:
        return ""
    now = now or timezone.now()
    language = language or translation.get_language()
    if due >= now:
        return _phrase(language, IN, *_span_parts(due - now))
    return _phrase(language, OVERDUE, *_span_parts(now - due))


def ago_phrase(when: datetime | None, now: datetime | None = None, *, language: str | None = None) -> str:
    if when is None:
        return ""
    now = now or timezone.now()
    return _phrase(language or translation.get_language(), AGO, *_span_parts(now - when))


def time_html(value: datetime | None, fmt: str = "Y-m-d H:i", *, language: str | None = None) -> SafeString | str:
    """A <time> element in the current time zone, with the exact time as its title ({% when %}, the queue's rows)."""
    if not value:
        return ""
    local = timezone.localtime(value)
    # "Y-m-d H:i" as Django's date format writes it, without parsing the format string on every call (a case page
    # shows dozens of these); "T" is the zone's abbreviation, as the format's "T" gives it.
    minute = f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
    if fmt == "Y-m-d H:i":
        shown = minute
    elif fmt == "d M H:i":
        shown = formatting.datetime_brief_local(local, language or translation.get_language() or "en")
    else:
        shown = date_format(local, fmt)
    # Django's "T" is empty for a wall time the zone has twice (or never): those go through date_format.
    zone = local.tzname() if local.utcoffset() == local.replace(fold=1 - local.fold).utcoffset() else None
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(),
                       f"{minute} {zone}" if zone is not None else date_format(local, "Y-m-d H:i T"), shown)


def due_badge_html(value: datetime | None, done: datetime | None = None, *, now: datetime | None = None,
                   language: str | None = None) -> SafeString | str:
    """An SLA clock: calm while there is time, loud when overdue; "met" once done ({% due_badge %}, the queue)."""
    if not value:
        return ""
    local = timezone.localtime(value)
    if done:
        return format_html('<span class="clock clock-met" title="{}">✓ {}</span>',
                           local.strftime("%Y-%m-%d %H:%M"), ago_phrase(done, now, language=language))
    overdue = value < (now or timezone.now())
    return format_html('<span class="clock {}" title="{}">{}{}</span>',
                       "clock-overdue" if overdue else "clock-ok", local.strftime("%Y-%m-%d %H:%M %Z"),
                       "⚠\u00a0" if overdue else "", due_phrase(value, now, language=language))
