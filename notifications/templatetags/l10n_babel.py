"""Formatting for emails and pages in the active language, by Babel (caseapp.formatting)."""

from django import template

from caseapp import formatting

register = template.Library()


@register.filter
def date_long(value):
    """"December 5, 2026", "5 decembrie 2026", "5 dicembre 2026"."""
    return formatting.date_long(value)


@register.filter
def datetime_short(value):
    """"12/6/26, 9:56 PM", "06.12.2026, 21:56": never ends in a period, so a sentence can follow."""
    return formatting.datetime_short(value)


@register.filter
def money(amount, currency=""):
    return formatting.money(amount, currency)


@register.simple_tag
def with_contact(name, *contacts):
    """A name followed by whichever contacts are known: "EastWay Express (+7 800 000, claims@eastway.example)"."""
    known = [str(contact).strip() for contact in contacts if contact and str(contact).strip()]
    return f"{name} ({', '.join(known)})" if known else str(name or "")
