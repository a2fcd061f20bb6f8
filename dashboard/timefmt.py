"""Human time spans for agents: "in 3 h", "2 days overdue", "waiting 5 min".

Each phrase is translated once per language and number (lru_cache keyed by the active language): the queue shows
a few of them on each of its 50 rows, and gettext/ngettext are the slow part of the page otherwise.
"""

from datetime import datetime, timedelta
from functools import lru_cache

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
