"""No English and no code on the main pages in Romanian, Russian and Italian.

Each page is rendered on the demo data (the five stories, after the proactive scans ran) in English and in each
other language. Every visible text node of the translated page that is also, word for word, a text node of the
English page is untranslated, unless what is left once the shop's own data (names, titles, order numbers, product
names, notes, rule ids) is taken out has no word in it, or it is a word the language really shares with English.
A code (a word with an underscore, e.g. ``handed_over``) fails in every language, English included.
"""

import re
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseEventKind, Promise
from customers.models import Customer
from notifications.scans.promises import overdue_promises_queryset, promise_overdue_alert
from notifications.scans.shipments import (
    cod_mismatch_handle,
    cod_mismatches_queryset,
    late_shipment_handle,
    late_shipments_queryset,
    uncollected_parcel_handle,
    uncollected_parcels_queryset,
)
from orders.models import Courier, Order, OrderLine, Shipment, ShipmentEvent
from policies.models import PolicyVersion
from policies.services import policy_default_ensure
from vouchers.models import ValidityRule, Voucher

pytestmark = pytest.mark.django_db

LANGUAGES = ("ro", "ru", "it")
STORY_EMAILS = ("elena.popescu@mail.example", "dmitri.sokolov@mail.example", "olga.petrova@mail.example",
                "karen.miller@mail.example", "giulia.bianchi@mail.example", "marco.rossi@mail.example",
                "cristina.matei@mail.example")
# Words a language writes as English does (checked by hand): not untranslated.
SAME_IN = {
    "ro": {"Marketing", "Total", "Manager", "Status", "Email", "Admin", "Agent", "Text", "Cost", "Document",
           "min", "Web"},
    "ru": set(),
    "it": {"Marketing", "Manager", "Email", "Admin", "Budget", "Password", "min", "Web"},
}
WORD = re.compile(r"[^\W\d_]{3,}")
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


class _Text(HTMLParser):
    """The visible text nodes of a page, select options included (not scripts, styles, SVG titles and
    descriptions, code blocks such as a policy's document, or what a person typed into a text area)."""

    SKIP = {"script", "style", "title", "desc", "textarea", "pre", "code"}

    def __init__(self):
        super().__init__()
        self.nodes, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self._skip -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skip:
            self.nodes.append(text)


def _texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.nodes


def _shop_data() -> list[str]:
    """What the shop and its people wrote (never translated), longest first so that titles go before names."""
    values = set()
    values.update(Case.objects.values_list("subject", flat=True))
    values.update(Case.objects.values_list("description", flat=True))
    values.update(Customer.objects.values_list("name", flat=True))
    values.update(Customer.objects.values_list("email", flat=True))
    values.update(Order.objects.values_list("number", flat=True))
    values.update(Order.objects.values_list("occasion", flat=True))
    values.update(Order.objects.values_list("sold_by", flat=True))
    values.update(OrderLine.objects.values_list("name", flat=True))
    values.update(OrderLine.objects.values_list("variant", flat=True))
    values.update(Courier.objects.values_list("name", flat=True))
    values.update(Shipment.objects.values_list("tracking_number", flat=True))
    values.update(ShipmentEvent.objects.values_list("text", flat=True))
    values.update(ShipmentEvent.objects.values_list("location", flat=True))
    values.update(Promise.objects.values_list("description", flat=True))
    values.update(Promise.objects.values_list("made_by_name", flat=True))
    values.update(CaseEvent.objects.filter(kind__in=[CaseEventKind.NOTE, CaseEventKind.CALL, CaseEventKind.EMAIL_IN])
                  .values_list("text", flat=True))
    values.update(Voucher.objects.values_list("code", flat=True))
    values.update(ValidityRule.objects.values_list("name", flat=True))
    values.update(User.objects.values_list("username", flat=True))
    for version in PolicyVersion.objects.all():
        values.update(rule["id"] for rule in version.document.get("rules", []))
        values.update(str(version.document.get(key, "")) for key in ("name", "description"))
        values.add(version.note if hasattr(version, "note") else "")
    values.update(("caseapp", "English", "Română", "Русский", "Italiano"))
    values = {" ".join(value.split()) for value in values if value and value.strip()}  # as the page shows them
    return sorted(values, key=len, reverse=True)


def _words_left(text: str, shop_data: list[str]) -> list[str]:
    if text.endswith("…") and any(value.startswith(text[:-1]) for value in shop_data):
        return []  # a title cut to fit its column
    for value in shop_data:
        if value in text:
            text = text.replace(value, " ")
    return WORD.findall(text)


@pytest.fixture
def demo_after_the_scans():
    call_command("seed_demo", size=3, stdout=StringIO())
    policy_default_ensure()
    now = timezone.now()
    for shipment_id in list(late_shipments_queryset(now=now).values_list("pk", flat=True)):
        late_shipment_handle(shipment_id=shipment_id, now=now)
    for shipment_id in list(cod_mismatches_queryset(now=now).values_list("pk", flat=True)):
        cod_mismatch_handle(shipment_id=shipment_id, now=now)
    for shipment_id in list(uncollected_parcels_queryset(now=now).values_list("pk", flat=True)):
        uncollected_parcel_handle(shipment_id=shipment_id, now=now)
    for promise_id in list(overdue_promises_queryset(now=now).values_list("pk", flat=True)):
        promise_overdue_alert(promise_id=promise_id, now=now)


def _pages() -> list[str]:
    cases = Case.objects.filter(customer__email__in=STORY_EMAILS).order_by("pk")
    pages = [reverse("dashboard:queue"), reverse("dashboard:approvals"), reverse("dashboard:policies"),
             reverse("dashboard:remedy_report"), reverse("dashboard:claims")]
    pages += [reverse("dashboard:case", args=[case.pk]) for case in cases]
    version = PolicyVersion.objects.filter(is_active=True).first()
    if version is not None:
        pages.append(reverse("dashboard:policy", args=[version.pk]))
    return pages


def _render(path: str, language: str) -> str:
    client = Client()
    client.force_login(User.objects.get(username="manager"))
    client.cookies["django_language"] = language
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, path
    return response.content.decode()


def test_the_main_pages_have_no_english_and_no_code_in_romanian_russian_and_italian(demo_after_the_scans):
    # given the demo after the scans, and the shop's own words (names, titles, notes) that stay as written
    shop_data = _shop_data()
    untranslated, codes = [], []
    for path in _pages():
        english_texts = _texts(_render(path, "en"))
        english = set(english_texts)
        codes += [f"en {path}: {text!r}" for text in english_texts if _has_code(text, shop_data)]
        for language in LANGUAGES:
            # when the page is rendered in another language
            for text in _texts(_render(path, language)):
                # then no text node is still the English one (apart from the shop's data and shared words)
                words = [word for word in _words_left(text, shop_data) if word not in SAME_IN[language]]
                if text in english and words:
                    untranslated.append(f"{language} {path}: {text!r}")
                # and no code such as handed_over or customer_care reaches the reader
                if _has_code(text, shop_data):
                    codes.append(f"{language} {path}: {text!r}")
    assert not untranslated, "untranslated:\n" + "\n".join(sorted(set(untranslated))[:80])
    assert not codes, "codes shown to people:\n" + "\n".join(sorted(set(codes))[:80])


def _has_code(text: str, shop_data: list[str]) -> bool:
    for value in shop_data:
        text = text.replace(value, " ")
    return bool(CODE.search(text))
