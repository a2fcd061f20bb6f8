"""Words a customer or an agent should never see: codes, English on translated pages, hand-made formatting.

The rationale is data from the pure engine, stored with the remedy and rendered in the reader's language; money,
dates and plurals come from Babel and ngettext; staff emails go out in the staff member's own language; a
customer's subject never carries the internal title; scan titles are built from labels, not codes.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from caseapp import formatting
from cases.models import Case, CaseCategory, CaseEvent, CaseStatus
from cases.timeline import event_text
from dashboard import charts
from dashboard.services import case_reply_send
from notifications import catalogue
from notifications.models import Message
from notifications.rendering import message_render
from notifications.scans.shipments import late_shipment_handle
from notifications.services import message_send
from policies.engine import Facts, compile_policy, default_policy_document, evaluate
from policies.models import Remedy
from policies.rationale import rationale_render
from policies.services import policy_default_ensure, remedy_apply, remedy_override
from staff.services import staff_language_set
from tests.factories import CaseFactory, CustomerFactory, OrderFactory, ShipmentFactory, ValidityRuleFactory

DEFAULT = compile_policy(default_policy_document())
NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
TODAY = NOW.date()


def elena_facts(**overrides) -> Facts:
    values = dict(today=date(2026, 11, 23), currency="RON", case_id=1, tenure_days=1500, tenure_years=4.1,
                  order_count=23, lifetime_spend=Decimal("4370.00"), category="voucher_expired",
                  voucher_value=Decimal("250.00"), voucher_balance=Decimal("250.00"),
                  voucher_valid_until=date(2026, 11, 16), voucher_days_since_expiry=7, voucher_validity_months=6)
    values.update(overrides)
    return Facts(**values)


# --- the rationale is data -------------------------------------------------------------------------------------


def test_the_engine_returns_the_rationale_as_data_with_the_rule_the_facts_and_the_amounts():
    # when the default policy decides Elena's expired voucher
    (proposal,) = evaluate(DEFAULT, elena_facts())
    # then the explanation names the rule, the facts with their values and the remedy, codes kept as codes
    data = proposal.explanation
    assert data["rule"] == "forgive-loyal-expired" and data["kind"] == "extend_voucher"
    assert data["amount"] == "250.00" and data["currency"] == "RON" and data["budget"] == "customer_care"
    facts = dict((code, values) for code, values in data["facts"])
    assert facts["customer"] == {"tenure_years": 4.1, "tenure_days": 1500, "orders": 23, "lifetime_spend": "4370.00"}
    assert facts["voucher_expired"] == {"days": 7}
    assert data["parameters"] == {"days": 30, "new_valid_until": "2026-12-23"}
    # and explain=False builds none of it
    (quiet,) = evaluate(DEFAULT, elena_facts(), explain=False)
    assert quiet.explanation == {} and quiet.rationale == ""


@pytest.mark.django_db  # the budget a rationale names is read from its record
@pytest.mark.parametrize("language, expected", [
    ("ro", ["client de 4,1 ani, 23 de comenzi, cheltuieli totale 4.370,00\u00a0RON", "voucher expirat acum 7 zile",
            "regula forgive-loyal-expired: prelungire cu 30 de zile (până la 23 decembrie 2026)"]),
    ("ru", ["клиент 4,1 года, 23 заказа", "4\u00a0370,00\u00a0RUB", "ваучер истёк 7 дней назад",
            "продлить на 30 дней (до 23 декабря 2026\u202fг.)"]),
    ("it", ["cliente da 4,1 anni, 23 ordini, spesa totale 4.370,00\u00a0RON", "buono scaduto da 7 giorni",
            "proroga di 30 giorni (fino al 23 dicembre 2026)"]),
])
def test_the_rationale_reads_in_the_readers_language(language, expected):
    # given Elena's proposal as data (in roubles for the Russian reader, to see the grouping)
    currency = "RUB" if language == "ru" else "RON"
    (proposal,) = evaluate(DEFAULT, elena_facts(currency=currency))
    # when it is rendered for a reader of that language
    with translation.override(language):
        text = rationale_render(proposal.explanation)
    # then it is in that language, with the money and the date as that language writes them, and no code
    for part in expected:
        assert part in text
    assert "customer_care" not in text and "voucher_expired" not in text and "customer for" not in text


@pytest.mark.django_db  # the budget a rationale names is read from its record
def test_codes_in_rationales_become_labels():
    # given a lost parcel paid by cash on delivery, and a COD label to correct
    lost = evaluate(DEFAULT, elena_facts(category="lost_parcel", shipment_status="lost", courier="FastCourier",
                                         order_total=Decimal("120.00"), payment_method="cod"))
    # when the refund's rationale is rendered in English
    with translation.override("en"):
        text = rationale_render(lost[0].explanation)
    # then the shipment's status and the budget are words, never codes (the refund rule needs the parcel lost)
    assert "shipment: Lost" in text and "Logistics" in text and "FastCourier" in text
    assert "lost_parcel" not in text and "booked to logistics" not in text and "shipment: lost" not in text


@pytest.mark.django_db
def test_an_applied_remedy_stores_its_rationale_data_and_the_timeline_renders_it_per_reader(manager):
    # given a late order whose case the policy offers a 5% discount for (given as a credit voucher)
    policy_default_ensure()
    ValidityRuleFactory()
    order = OrderFactory(total=Decimal("80.00"), currency="EUR", promised_delivery_date=TODAY - timedelta(days=4))
    shipment = ShipmentFactory(order=order, status="delayed")
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category=CaseCategory.LATE_DELIVERY)
    from policies.services import case_proposals

    (proposal,) = [p for p in case_proposals(case=case) if p.kind == "discount"]
    # when it is applied
    remedy = remedy_apply(case=case, proposal=proposal, by=manager)
    # then the ledger row keeps the data beside the text, and the timeline shows it in the reader's language
    assert remedy.rationale_data["rule"] == "late-delivery-discount"
    assert Remedy.objects.get(pk=remedy.pk).rationale_data == proposal.explanation
    event = CaseEvent.objects.filter(case=case, kind="remedy_applied").get()
    with translation.override("it"):
        assert "sconto del 5%, 4,00\u00a0EUR, come buono" in event_text(event)
    with translation.override("en"):
        assert "5% discount of 4.00\u00a0EUR as a credit voucher" in event_text(event)


@pytest.mark.django_db
def test_a_manager_override_reads_in_the_readers_language_without_codes(manager):
    # given a case
    policy_default_ensure()
    case = CaseFactory(order=OrderFactory(currency="USD"))
    # when a manager gives a free item
    remedy = remedy_override(case=case, by=manager, kind="free_item", reason="The rug, in the right style",
                             amount="470.00", currency="USD", budget="customer_care")
    # then the stored text and the rendering use labels, not codes
    assert "customer_care" not in remedy.rationale and "free_item" not in remedy.rationale
    with translation.override("ro"):
        text = rationale_render(remedy.rationale_data, fallback=remedy.rationale)
    assert text == ("decizie a managerului maria: The rug, in the right style (Produs gratuit, 470,00\u00a0USD, "
                    "din bugetul „Relații cu clienții”)")


# --- formatting by Babel ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("language, money, day", [
    ("en", "1,200.00\u00a0RUB", "December 5, 2026"),
    ("ro", "1.200,00\u00a0RUB", "5 decembrie 2026"),
    ("ru", "1\u00a0200,00\u00a0RUB", "5 декабря 2026\u202fг."),
    ("it", "1.200,00\u00a0RUB", "5 dicembre 2026"),
])
def test_money_and_dates_are_formatted_per_locale(language, money, day):
    with translation.override(language):
        assert formatting.money(Decimal("1200.00"), "RUB") == money
        assert formatting.date_long(date(2026, 12, 5)) == day
        assert formatting.years(0.2) in ("0.2 years", "0,2 ani", "0,2 года", "0,2 anni")


def test_a_moment_in_an_email_never_ends_in_a_period():
    # the English "9:56 p.m." followed a sentence's period gave "9:56 p.m.. Case #109"
    with translation.override("en"):
        assert not formatting.datetime_short(datetime(2026, 12, 5, 21, 56, tzinfo=UTC)).endswith(".")


def test_a_bar_chart_label_is_wrapped_not_cut():
    # given a Romanian label longer than one line of the chart
    svg = charts.bar_chart(title="Cost", rows=[("Costul îl suportă magazinul", Decimal("15000.00"))], unit="RUB")
    # then every word of it is drawn, on two lines
    assert "magazinul</tspan>" in svg and "magazi<" not in svg
    assert svg.count("<tspan") == 2


# --- emails ----------------------------------------------------------------------------------------------------


def test_the_customers_reply_subject_is_the_case_number_in_her_language_never_the_internal_title():
    rendered = message_render(template=catalogue.AGENT_REPLY, language="ro", time_zone="Europe/Bucharest",
                              context={"customer_name": "Elena", "case_number": 1, "reply_text": "Bună ziua",
                                       "agent_name": "Ana",
                                       "case_subject": "Gift voucher refused at the counter"})
    assert rendered.subject == "Solicitarea dumneavoastră #1"
    assert "Gift voucher" not in rendered.subject


@pytest.mark.django_db
@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_an_agents_reply_is_queued_without_the_internal_title(agent):
    # given a Romanian customer's case with an English internal title
    case = CaseFactory(customer=CustomerFactory(preferred_language="ro"), subject="Gift voucher refused",
                       owner=agent)
    # when the agent replies and the message is sent
    message, _ = case_reply_send(case=case, text="Bună ziua, am prelungit voucherul.", by=agent, nonce="n1")
    message_send(message_id=message.pk)
    # then the subject is the Romanian one with the case number
    assert mail.outbox[0].subject == f"Solicitarea dumneavoastră #{case.pk}"


def test_the_escalation_lists_the_courier_without_a_stray_comma_and_the_reasons_as_words():
    rendered = message_render(template=catalogue.DATE_CRITICAL_ESCALATION, language="en", time_zone="UTC", context={
        "staff_name": "Maria", "order_number": "JW-1", "customer_name": "Dmitri", "promised_date": "2026-12-05",
        "deadline_at": "2026-12-06T00:00:00+00:00", "hours_left": 30, "occasion": "",
        "reasons": "the courier reports a delay", "courier": "EastWay Express", "courier_phone": "",
        "tracking_number": "EW-1", "case_number": 109, "customer_email": "d@example.com"})
    assert "EastWay Express , " not in rendered.text and "Courier: EastWay Express, tracking number EW-1" in rendered.text
    assert "December 5, 2026" in rendered.text


@pytest.mark.django_db
def test_staff_emails_go_out_in_the_staff_members_own_language(agent, manager):
    # given a Russian-speaking manager and an agent who kept the site's language, on a birthday parcel
    staff_language_set(user=manager, language="ru")
    policy_default_ensure()
    ValidityRuleFactory()
    customer = CustomerFactory(preferred_language="ro", time_zone="Europe/Bucharest")
    order = OrderFactory(customer=customer, promised_delivery_date=TODAY + timedelta(days=1), is_date_critical=True)
    shipment = ShipmentFactory(order=order, status="delayed", estimated_delivery=TODAY + timedelta(days=3),
                               handed_over_at=NOW - timedelta(hours=5))
    CaseFactory(customer=customer, order=order, category=CaseCategory.LATE_DELIVERY, owner=agent)
    # when the late-shipment scan escalates it
    late_shipment_handle(shipment_id=shipment.pk, now=NOW)
    # then each staff member's escalation is in their language, with the reasons as words, never codes
    escalations = {m.recipient: m for m in Message.objects.filter(template=catalogue.DATE_CRITICAL_ESCALATION)}
    assert escalations[manager.email].language == "ru" and escalations[agent.email].language == "en"
    for message in escalations.values():
        assert "courier_delayed" not in message.context["reasons"]
        assert "estimated_after_promised" not in message.context["reasons"]
    assert "курьер сообщает о задержке" in escalations[manager.email].context["reasons"]
    # and the system case's title and timeline use words, not codes
    case = Case.objects.get(order=order)
    assert "courier_delayed" not in case.subject and "estimated_after_promised" not in case.subject
    detected = [event_text(event) for event in case.events.all()]
    with translation.override("ro"):
        detected_ro = [event_text(event) for event in case.events.all()]
    assert any("the courier reports a delay" in text for text in detected)
    assert any("curierul anunță o întârziere" in text for text in detected_ro)


@pytest.mark.django_db
def test_a_staff_member_chooses_the_language_of_their_emails_on_the_settings_page(client, agent):
    from staff.selectors import staff_language

    client.force_login(agent)
    # when the agent picks Italian, and then sends a language that does not exist
    assert client.post(reverse("dashboard:staff_settings"), {"language": "it"}).status_code == 302
    bad = client.post(reverse("dashboard:staff_settings"), {"language": "xx"})
    # then Italian is kept, and the bad choice is a form error, not a 500
    assert staff_language(agent) == "it"
    assert bad.status_code == 400


# --- the queue -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_queue_never_shows_none_for_resolved_and_closed(client, agent):
    CaseFactory(status=CaseStatus.RESOLVED)
    client.force_login(agent)
    for language in ("en", "ro", "ru", "it"):
        client.cookies["django_language"] = language
        html = client.get(reverse("dashboard:queue")).content.decode()
        assert "(None)" not in html


@pytest.mark.django_db
def test_the_report_period_writes_romanian_months_in_lower_case(client, manager):
    client.force_login(manager)
    client.cookies["django_language"] = "ro"
    html = client.get(reverse("dashboard:remedy_report"), {"date_from": "2026-12-05", "date_to": "2026-12-06"})
    assert "între 5 decembrie 2026 și 6 decembrie 2026" in html.content.decode()


@pytest.mark.django_db  # the budget a rationale names is read from its record
def test_a_replays_rationales_read_in_the_readers_language():
    from dashboard.templatetags.dashboard_tags import rationales

    (proposal,) = evaluate(DEFAULT, elena_facts())
    with translation.override("it"):
        assert "proroga di 30 giorni" in rationales([proposal.explanation])
        assert rationales([]) != "no remedy"
