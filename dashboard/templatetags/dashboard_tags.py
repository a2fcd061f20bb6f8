from django import template
from django.utils import timezone

from caseapp import formatting
from dashboard import timefmt

register = template.Library()


@register.filter
def due(value):
    """"in 3 h" / "2 days overdue"."""
    return timefmt.due_phrase(value)


@register.filter
def ago(value):
    return timefmt.ago_phrase(value)


@register.filter
def waited(value):
    """How long since a moment, e.g. the case's arrival: "3 h"."""
    return timefmt.span(timezone.now() - value) if value else ""


@register.filter
def is_past(value):
    return bool(value) and value < timezone.now()


@register.simple_tag
def when(value, fmt="Y-m-d H:i"):
    """A <time> element in the user's time zone, with the exact time as its title."""
    return timefmt.time_html(value, fmt)


@register.simple_tag
def due_badge(value, done=None):
    """An SLA clock: calm while there is time, loud when overdue; "met" once done."""
    return timefmt.due_badge_html(value, done)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (for pagination and filters)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def remedy_kind(value):
    """A proposal's kind as the shop says it, translated: "extend_voucher" -> "Extend voucher"."""
    from django.utils.translation import gettext

    from policies.models import RemedyKind

    return gettext(str(dict(RemedyKind.choices).get(value, value)))


@register.filter
def budget_label(value):
    from policies.selectors import budget_label as label

    return label(value)


@register.filter
def money(amount, currency=""):
    """An amount in the reader's language: "1,200.00 RUB", "1 200,00 RUB", "150,00 RON"."""
    return formatting.money(amount, currency)


@register.filter
def rationale(item):
    """A remedy's or a proposal's rationale in the reader's language (policies.rationale), from its data."""
    from policies.rationale import rationale_render

    data = getattr(item, "rationale_data", None)
    if data is None:
        data = getattr(item, "explanation", None)
    return rationale_render(data, fallback=getattr(item, "rationale", ""))


@register.filter
def date_long(value):
    """"5 December 2026" in the reader's language ("5 decembrie 2026", "5 dicembre 2026")."""
    return formatting.date_long(value)


@register.filter
def years(value):
    return formatting.years(value)


@register.filter
def choice_label(code, choices):
    """A code's translated label: {{ ev.code|choice_label:"tracking" }}."""
    from caseapp.labels import CHOICES

    return formatting.label(CHOICES[choices], code) if choices in CHOICES else formatting.label_text(code)


@register.filter
def event_text(event):
    """A timeline event's text in the reader's language (cases.timeline)."""
    from cases.timeline import event_text as render

    return render(event)


@register.filter
def rationales(explanations):
    """A replay's rationales in the reader's language, or "no remedy"."""
    from django.utils.translation import gettext

    from policies.rationale import rationale_render

    return " | ".join(rationale_render(data) for data in explanations or []) or gettext("no remedy")
