"""Money, dates, numbers and time spans in the active language, by Babel (CLDR data), never by string surgery.

"150,00 RON" in Romanian, "1 200,00 RUB" in Russian, "5 dicembre 2026" in Italian, "6 decembrie 2026" in Romanian.
Every function reads Django's active language (``translation.get_language()``), so a page, an email rendered under
``translation.override`` and a rationale all format for their reader.
"""

import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import (
    format_date,
    format_datetime,
    format_time,
    get_time_format,
    match_skeleton,
    parse_pattern,
)
from babel.numbers import format_currency, format_decimal
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

MONEY_PATTERN = "#,##0.00\u00a0¤¤"  # the ISO code after the amount, as shops write it on receipts: "150,00 RON"


@lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse((language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def current_locale() -> Locale:
    return _locale(translation.get_language() or "en")


def money(amount, currency: str) -> str:
    """An amount with its ISO 4217 code, grouped and with the decimal sign of the reader's language."""
    if amount is None:
        return ""
    return format_currency(Decimal(str(amount)), currency or "XXX", format=MONEY_PATTERN, locale=current_locale(),
                           currency_digits=False)


def decimal2(value) -> str:
    """A number with two decimals in the reader's language ("1 200,00")."""
    return "" if value is None else format_decimal(value, format="#,##0.00", locale=current_locale())


def datetime_brief(value: datetime | None) -> str:
    """Day, month and time without the year, e.g. "Dec 2, 8:05 AM", "2 dec., 08:05", "2 дек., 08:05"."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return datetime_brief_local(value, translation.get_language() or "en")


def datetime_brief_local(value: datetime, language: str) -> str:
    """datetime_brief of a moment already in the reader's time zone, for a language: for a page that formats many
    and looks up the time zone and the language once."""
    day, time, memo = _brief_patterns(language)
    if not memo:
        locale = _locale(language)
        return f"{day.apply(value, locale)}, {time.apply(value, locale)}"
    return f"{_brief_day(language, value.month, value.day)}, {_brief_time(language, value.hour, value.minute)}"


def date_brief_local(value: date, language: str) -> str:
    """A day and month as datetime_brief_local writes them, for a language: "3 dec.", "Dec 3", "3 дек."."""
    day, _time, memo = _brief_patterns(language)
    if not memo:
        return day.apply(datetime(value.year, value.month, value.day), _locale(language))
    return _brief_day(language, value.month, value.day)


# What format_skeleton("MMMd", ...) and format_time(..., "short") do, with the skeleton matched once per language
# (the slow part). When the day pattern reads only the month and the day and the time pattern only the hour and
# the minute, as in every CLDR locale, each part is formatted once per language and value (a page of 50 rows
# formats a few days and minutes).
_DAY_FIELDS, _TIME_FIELDS = set("MLd"), set("hHkKmaBb")


@lru_cache(maxsize=16)
def _brief_patterns(language: str):
    locale = _locale(language)
    skeleton = "MMMd"
    if skeleton not in locale.datetime_skeletons:
        skeleton = match_skeleton(skeleton, locale.datetime_skeletons) or skeleton
    day = parse_pattern(locale.datetime_skeletons[skeleton])
    time = parse_pattern(str(get_time_format("short", locale)))

    def fields(pattern):
        return {name[0] for name in re.findall(r"%\((\w+)\)s", pattern.format)}

    return day, time, fields(day) <= _DAY_FIELDS and fields(time) <= _TIME_FIELDS


@lru_cache(maxsize=4096)
def _brief_day(language: str, month: int, day: int) -> str:
    return _brief_patterns(language)[0].apply(datetime(2000, month, day), _locale(language))  # 2000: a leap year


@lru_cache(maxsize=4096)
def _brief_time(language: str, hour: int, minute: int) -> str:
    return _brief_patterns(language)[1].apply(datetime(2000, 1, 1, hour, minute), _locale(language))


def time_medium(value: datetime | None) -> str:
    """A moment's time of day with seconds, e.g. "5:05:31 PM", "17:05:31"."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_time(value, "medium", locale=current_locale())


def number(value) -> str:
    return "" if value is None else format_decimal(value, locale=current_locale())


def percent(value) -> str:
    """A percentage given as the number of percent ("5" -> "5%" / "5 %")."""
    if value in (None, ""):
        return ""
    return format_decimal(Decimal(str(value)), locale=current_locale()) + (
        "\u00a0%" if current_locale().language in ("ro", "ru") else "%")


def date_long(value: date | None) -> str:
    """"December 5, 2026", "5 decembrie 2026", "5 декабря 2026 г.", "5 dicembre 2026"."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return format_date(value, "long", locale=current_locale())


def date_medium(value: date | None) -> str:
    if not value:
        return ""
    if isinstance(value, datetime):
        value = (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return format_date(value, "medium", locale=current_locale())


def datetime_short(value: datetime | None) -> str:
    """A moment in the current time zone, e.g. "12/6/26, 9:56 PM" or "06.12.2026, 21:56" (no trailing period)."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_datetime(value, "short", locale=current_locale())


def datetime_medium(value: datetime | None) -> str:
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_datetime(value, "medium", locale=current_locale())


def years(value) -> str:
    """A tenure in years, e.g. "4.1 years", "0,2 ani", "0,2 года"."""
    value = value or 0
    whole = float(value).is_integer()
    # A fraction takes the plural form of 2 in en, ro, ru and it ("0,2 года", "0,2 ani").
    count = int(value) if whole else 2
    return ngettext("%(n)s year", "%(n)s years", count) % {"n": number(int(value) if whole else value)}


def label(choices, code) -> str:
    """A code's translated label from its TextChoices ("handed_over" -> "Predat curierului")."""
    if code in (None, ""):
        return ""
    found = dict(choices.choices).get(code)
    return gettext(str(found)) if found is not None else label_text(code)


def label_text(code) -> str:
    """An unknown code as words ("out_of_area" -> "Out of area"): better than the code, until it gets a label."""
    text = str(code or "").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def file_size(size) -> str:
    """A file's size in the reader's language and units ("2.4 MB", "2,4 MB", "2,4 МБ"), by Babel's CLDR units."""
    from babel.units import format_unit

    if size is None:
        return ""
    size = int(size)
    for unit, step in (("digital-megabyte", 1_000_000), ("digital-kilobyte", 1_000)):
        if size >= step:
            return format_unit(Decimal(size) / step, unit, length="short", format="#,##0.#",
                               locale=current_locale())
    return format_unit(size, "digital-byte", length="short", locale=current_locale())
