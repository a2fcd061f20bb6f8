"""A macro's placeholders, filled from the case in the customer's language; a missing value is a visible marker."""

import pytest
from django.utils import translation

from macros import placeholders
from macros.selectors import macro_render_for_case

from .conftest import ALL_PLACEHOLDERS, full_case, make_macro

pytestmark = pytest.mark.django_db

EXPECTED = {
    "en": ("December 5, 2026", "150.00\u00a0RON", "Discount"),
    "ro": ("5 decembrie 2026", "150,00\u00a0RON", None),
    "ru": ("5 декабря 2026\u202fг.", "150,00\u00a0RON", None),
    "it": ("5 dicembre 2026", "150,00\u00a0RON", None),
}


@pytest.mark.parametrize("language", ["en", "ro", "ru", "it"])
def test_every_placeholder_is_filled_in_the_customers_language(language):
    # given a case with an order, a voucher, a shipment and a remedy, and a macro using every placeholder
    case = full_case(language=language)
    macro = make_macro(texts={language: ALL_PLACEHOLDERS})
    # when it is rendered for the case
    rendered = macro_render_for_case(case=case, macro=macro)
    # then each value is there, dates and money as the customer's language writes them
    expiry, amount, remedy = EXPECTED[language]
    parts = rendered["text"].split("|")
    assert rendered["missing"] == [] and rendered["language"] == language
    assert parts[:3] == ["Elena Popescu", "1004", "GIFT-RO-1"]
    assert parts[3] == expiry
    assert parts[4] == "CG 77/1"
    assert parts[5] == "https://track.cargus.example/?awb=CG%2077%2F1"
    assert parts[7] == amount
    with translation.override(language):
        assert parts[6] == str(translation.gettext("Discount"))
    if remedy:
        assert parts[6] == remedy
    else:
        assert parts[6] != "Discount"  # the remedy is named in the customer's language, not in English


def test_a_value_the_case_does_not_have_is_a_clear_marker():
    # given a case with no order, voucher, shipment or remedy
    from tests.factories import CaseFactory, CustomerFactory

    case = CaseFactory(customer=CustomerFactory(name="Dmitri", preferred_language="ru"))
    macro = make_macro(texts={"ru": "{customer_name}: {order_number} {tracking_link} {remedy_amount}"})
    # when
    rendered = macro_render_for_case(case=case, macro=macro)
    # then the text still renders, with a marker for each gap, and says which are missing
    assert rendered["text"] == ("Dmitri: [missing: order number] [missing: tracking link] "
                                "[missing: remedy amount]")
    assert rendered["missing"] == ["order_number", "tracking_link", "remedy_amount"]


def test_a_courier_without_a_tracking_page_leaves_the_link_missing(settings):
    settings.MACRO_TRACKING_LINKS = {}
    case = full_case(language="en")
    rendered = macro_render_for_case(case=case, macro=make_macro(texts={"en": "{tracking_link}"}))
    assert rendered["text"] == "[missing: tracking link]" and rendered["missing"] == ["tracking_link"]


def test_no_text_in_the_customers_language_renders_nothing():
    # given a Russian customer and a macro written in English and Romanian only
    case = full_case(language="ru")
    macro = make_macro()
    # when / then: no English stands in
    rendered = macro_render_for_case(case=case, macro=macro)
    assert rendered == {"language": "ru", "text": None, "missing": []}


@pytest.mark.parametrize("text", [
    "{customer_name.__class__}", "{customer_name[0]}", "{0}", "{}", "{customer_name!r}", "{customer_name:>99}",
    "{password}", "Hello {customer_name", "Hello customer_name}",
])
def test_only_plain_known_placeholders_are_allowed(text):
    with pytest.raises(placeholders.PlaceholderError):
        placeholders.check(text)


def test_double_braces_are_literal_braces():
    assert placeholders.render("{{x}} {customer_name}", {"customer_name": "Ana"}) == ("{x} Ana", [])


def test_a_value_is_never_formatted_again():
    # a customer named like a placeholder stays as typed
    assert placeholders.render("{customer_name}", {"customer_name": "{order_number}"}) == ("{order_number}", [])
