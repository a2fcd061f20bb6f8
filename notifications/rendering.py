"""Render an outbox row in its recipient's language and time zone."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime

from django.template.loader import render_to_string
from django.utils import timezone, translation


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _template_context(context: dict) -> dict:
    """JSON holds strings: keys ending in _date become dates and keys ending in _at aware datetimes."""
    values = {}
    for key, value in context.items():
        if isinstance(value, str) and key.endswith("_date"):
            value = date.fromisoformat(value)
        elif isinstance(value, str) and key.endswith("_at"):
            value = datetime.fromisoformat(value)
        values[key] = value
    return values


def message_render(*, template: str, context: dict, language: str, time_zone: str) -> RenderedEmail:
    values = _template_context(context)
    try:
        zone = zoneinfo.ZoneInfo(time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    with translation.override(language), timezone.override(zone):
        values["LANGUAGE_CODE"] = language
        subject = render_to_string(f"notifications/{template}/subject.txt", values)
        text = render_to_string(f"notifications/{template}/body.txt", values)
        html = render_to_string(f"notifications/{template}/body.html", values)
    return RenderedEmail(subject=" ".join(subject.split()), text=text.strip() + "\n", html=html)
