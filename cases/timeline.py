"""Timeline texts in the reader's language.

An event written by caseapp keeps, beside its stored text (in the site's language, for the admin and exports), the
message as data: ``data["say"] = {"msgid": ..., "params": {...}}``. The case page renders it with gettext in the
reader's language; a parameter is a plain value, or ``{"date": iso}``, ``{"datetime": iso}``,
``{"money": [amount, currency]}``, ``{"label": [choices, code]}`` or ``{"labels": [choices, [codes]]}`` (choices
named in caseapp.labels), so codes reach people only through their translated labels. Remedy events render their
rationale from its data (policies.rationale). Other events show their text as written (notes, calls, reasons).
"""

from datetime import date, datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, pgettext

from caseapp import formatting


def say(msgid: str, **params) -> dict:
    """A timeline message as data (mark ``msgid`` with gettext_noop where it is written)."""
    return {"msgid": msgid, "params": params}


def _param(value):
    if isinstance(value, dict):
        if "date" in value:
            return formatting.date_long(date.fromisoformat(value["date"])) if value["date"] else ""
        if "datetime" in value:
            return formatting.datetime_short(datetime.fromisoformat(value["datetime"])) if value["datetime"] else ""
        if "money" in value:
            amount, currency = value["money"]
            return formatting.money(amount, currency)
        if "label" in value or "labels" in value:
            from caseapp.labels import CHOICES

            key, codes = value.get("label") or value.get("labels")
            choices = CHOICES.get(key)
            words = [formatting.label(choices, code) if choices else formatting.label_text(code)
                     for code in (codes if "labels" in value else [codes])]
            return ", ".join(words)
        if "bytes" in value:
            return formatting.file_size(value["bytes"])
        if "names" in value:
            return ", ".join(value["names"]) or pgettext("nobody alerted", "nobody")
    return value


def say_render(message: dict | None) -> str:
    """A message in the active language ("" when there is none)."""
    if not message or not message.get("msgid"):
        return ""
    params = {name: _param(value) for name, value in (message.get("params") or {}).items()}
    try:
        return gettext(message["msgid"]) % params
    except (KeyError, TypeError, ValueError):  # a catalogue entry that does not fit its parameters
        return message["msgid"] % params


def say_text(message: dict) -> str:
    """The stored text of a message: in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return say_render(message)


def event_text(event) -> str:
    """What the timeline shows for one event, in the active language."""
    from policies.rationale import rationale_render

    from .models import CaseEventKind

    data = event.data or {}
    if data.get("say"):
        return say_render(data["say"])
    if event.kind in (CaseEventKind.REMEDY_APPLIED, CaseEventKind.REMEDY_PROPOSED) and data.get("explanation"):
        text = rationale_render(data["explanation"], fallback=event.text)
        if event.kind == CaseEventKind.REMEDY_PROPOSED:
            return gettext("Waiting for a manager: %(rationale)s") % {"rationale": text}
        return text
    if event.kind == CaseEventKind.OWNER_CHANGED and "to" in data:
        if data.get("take_next") or (data.get("to") and event.actor_id and event.actor.get_username() == data["to"]):
            return gettext("Taken by %(name)s") % {"name": data["to"]}
        return gettext("Owner: %(name)s") % {"name": data["to"] or pgettext("owner", "nobody")}
    return event.text
