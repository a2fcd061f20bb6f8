"""Every remedy carried out and told (issue 14): the payment to-do closed with a reference, committed against
paid in the ledger and the report, one email per remedy in the customer's language, and holding it back."""

from datetime import timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from caseapp import formatting
from cases.models import CaseEventKind, Promise, PromiseStatus
from cases.services import delivery_check
from dashboard import reports
from notifications.catalogue import REMEDY_NOTICE
from notifications.models import Message, MessageStatus
from notifications.rendering import message_render
from notifications.services import message_hold_back, message_resend, message_send
from policies.models import Remedy, RemedyStatus
from policies.selectors import remedy_ledger_totals, remedy_payment_promise_key
from policies.services import (
    LATE_DELIVERY_DISCOUNT_RULE_ID,
    business_days_after,
    case_proposals,
    remedy_apply,
    remedy_approve,
    remedy_override,
    remedy_payment_record,
)
from tests.factories import CaseFactory, CourierFactory, CustomerFactory, OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund_case(policy, agent):
    customer = CustomerFactory(name="Ana Pop", preferred_language="en")
    order = OrderFactory(customer=customer, number="1004", currency="USD", total=Decimal("470.00"))
    return CaseFactory(customer=customer, order=order, category="lost_parcel", owner=agent)


def refund(case, manager, amount="470.00", reason="The parcel was lost"):
    return remedy_override(case=case, by=manager, kind="refund", amount=amount, reason=reason)


def notices(case=None):
    rows = Message.objects.filter(template=REMEDY_NOTICE)
    return rows.filter(case=case) if case is not None else rows


# --- To-dos and the ledger ---------------------------------------------------------------------------------


def test_a_refund_creates_one_to_do_for_the_case_owner_however_often_it_is_submitted(refund_case, agent, manager):
    # when a manager refunds 470.00 USD, and submits the same refund again
    first = refund(refund_case, manager)
    again = refund(refund_case, manager)
    # then one remedy, one to-do owned by the case owner, in words a person can act on
    assert again.pk == first.pk
    (promise,) = Promise.objects.filter(case=refund_case)
    assert promise.key == remedy_payment_promise_key(first)
    assert promise.owner == agent and promise.status == PromiseStatus.OPEN
    assert promise.description == "Refund 470.00\u00a0USD for order #1004 in the payment system"
    assert promise.due_at > timezone.now()
    # committed, not paid
    first.refresh_from_db()
    assert first.paid_at is None and first.payment_reference == ""


def test_the_to_do_is_written_in_its_owners_language(refund_case, agent, manager):
    from staff.services import staff_language_set

    staff_language_set(user=agent, language="ro")
    refund(refund_case, manager, amount="1200.00")
    promise = Promise.objects.get(case=refund_case)
    with translation.override("ro"):
        amount = formatting.money(Decimal("1200.00"), "USD")
    assert amount == "1.200,00\u00a0USD"
    assert amount in promise.description and "#1004" in promise.description
    assert "Refund" not in promise.description


def test_a_free_item_and_a_managers_cancellation_are_to_dos_too(refund_case, manager):
    free = remedy_override(case=refund_case, by=manager, kind="free_item", amount="35.00", reason="Broken mug")
    cancelled = remedy_override(case=refund_case, by=manager, kind="manager_override", reason="Customer moved",
                                parameters={"action": "cancel_order"})
    descriptions = {p.key: p.description for p in Promise.objects.filter(case=refund_case)}
    assert "free item" in descriptions[remedy_payment_promise_key(free)]
    assert "cancelled order #1004" in descriptions[remedy_payment_promise_key(cancelled)]
    # neither is something the customer gets an email about
    assert not notices().exists()


def test_a_remedy_with_nothing_to_pay_makes_no_to_do(late_case, agent):
    (proposal,) = [p for p in case_proposals(case=late_case) if p.rule_id == LATE_DELIVERY_DISCOUNT_RULE_ID]
    remedy_apply(case=late_case, proposal=proposal, by=agent)  # a credit voucher: nothing to pay out
    assert not Promise.objects.filter(case=late_case, key__startswith="remedy-payment:").exists()


def test_the_to_do_is_closed_with_the_payments_reference_and_the_ledger_says_paid(refund_case, agent, manager):
    remedy = refund(refund_case, manager)
    # a reference is required
    with pytest.raises(ValidationError) as empty:
        remedy_payment_record(remedy=remedy, reference="  ", by=agent)
    assert "reference" in empty.value.message_dict
    # when the agent records the payment's reference
    paid = remedy_payment_record(remedy=remedy, reference="PAY-7781", by=agent)
    # then the remedy is paid, the to-do kept, with the reference on the timeline
    assert paid.paid_at is not None and paid.payment_reference == "PAY-7781" and paid.paid_by == agent
    promise = Promise.objects.get(case=refund_case)
    assert promise.status == PromiseStatus.KEPT
    kept = refund_case.events.get(kind=CaseEventKind.PROMISE_KEPT)
    assert "PAY-7781" in kept.text
    # the same reference again for the same remedy changes nothing; another reference is refused
    assert remedy_payment_record(remedy=remedy, reference="PAY-7781", by=agent).paid_at == paid.paid_at
    with pytest.raises(ValidationError):
        remedy_payment_record(remedy=remedy, reference="PAY-0000", by=agent)


def test_a_reference_already_used_is_a_field_error_and_writes_nothing(refund_case, agent, manager):
    first = refund(refund_case, manager)
    second = refund(refund_case, manager, amount="20.00", reason="Shipping fee back")
    remedy_payment_record(remedy=first, reference="PAY-1", by=agent)
    with pytest.raises(ValidationError) as reused:
        remedy_payment_record(remedy=second, reference=" PAY-1 ", by=agent)
    assert list(reused.value.message_dict) == ["reference"]
    second.refresh_from_db()
    assert second.paid_at is None and second.payment_reference == ""
    assert Promise.objects.get(key=remedy_payment_promise_key(second)).status == PromiseStatus.OPEN


def test_the_ledger_and_the_report_tell_committed_from_paid(refund_case, agent, manager):
    # given two refunds in USD, one paid, and one in EUR waiting since three days
    first = refund(refund_case, manager, amount="100.00")
    refund(refund_case, manager, amount="30.50", reason="Fee")
    remedy_payment_record(remedy=first, reference="PAY-100", by=agent)
    euro_order = OrderFactory(currency="EUR", number="2001")
    euro_case = CaseFactory(customer=euro_order.customer, order=euro_order, owner=agent)
    waiting = remedy_override(case=euro_case, by=manager, kind="refund", amount="12.00", reason="Late")
    Remedy.objects.filter(pk=waiting.pk).update(applied_at=timezone.now() - timedelta(days=3))
    # then per currency: committed, paid, still to pay
    period = reports.ReportPeriod.default()
    rows = {row["currency"]: row for row in reports.payments_committed_and_paid(period)}
    assert (rows["USD"]["committed"], rows["USD"]["paid"], rows["USD"]["unpaid"]) == (
        Decimal("130.50"), Decimal("100.00"), Decimal("30.50"))
    assert (rows["EUR"]["count"], rows["EUR"]["paid_count"], rows["EUR"]["unpaid"]) == (1, 0, Decimal("12.00"))
    assert remedy_ledger_totals(start=timezone.now() + timedelta(days=1), end=timezone.now() + timedelta(days=2)) == []
    # and the refunds not yet paid, the longest waiting first, with how long
    awaiting = reports.payments_awaiting()
    assert [r.amount for r in awaiting] == [Decimal("12.00"), Decimal("30.50")]
    assert awaiting[0].waited >= timedelta(days=3)


def test_the_report_page_shows_the_refunds_waiting(client, refund_case, manager):
    remedy = refund(refund_case, manager, amount="470.00")
    Remedy.objects.filter(pk=remedy.pk).update(applied_at=timezone.now() - timedelta(days=4))
    client.force_login(manager)
    page = client.get(reverse("dashboard:remedy_report")).content.decode()
    section = page[page.index('id="awaiting-payment"'):]
    assert f"#{refund_case.pk}" in section and "470.00" in section and "4 days" in section


# --- The case page -------------------------------------------------------------------------------------------


def test_the_case_page_closes_the_to_do_with_a_reference_and_refuses_a_reused_one(client, refund_case, agent,
                                                                                  manager):
    first = refund(refund_case, manager)
    second = refund(refund_case, manager, amount="5.00", reason="Fee")
    client.force_login(agent)
    url = reverse("dashboard:remedy_payment", args=[refund_case.pk, first.pk])
    page = client.get(reverse("dashboard:case", args=[refund_case.pk])).content.decode()
    assert url in page
    # a plain "kept" does not close a payment to-do
    promise = Promise.objects.get(key=remedy_payment_promise_key(first))
    client.post(reverse("dashboard:promise_close", args=[refund_case.pk, promise.pk]), {"kept": "1"})
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.OPEN
    # an empty reference: a field error
    response = client.post(url, {f"pay{first.pk}-reference": " "})
    assert response.status_code == 400
    # the reference closes it
    response = client.post(url, {f"pay{first.pk}-reference": "PAY-55"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.payment_reference == "PAY-55"
    # the same reference on the other refund: a field error beside the field, nothing written
    response = client.post(reverse("dashboard:remedy_payment", args=[refund_case.pk, second.pk]),
                           {f"pay{second.pk}-reference": "PAY-55"})
    assert response.status_code == 400
    assert "already recorded" in response.content.decode()
    second.refresh_from_db()
    assert second.paid_at is None


# --- Remedy emails ---------------------------------------------------------------------------------------------


def test_a_refund_queues_one_email_in_its_transaction_and_never_a_second(refund_case, manager,
                                                                       django_capture_on_commit_callbacks):
    # when the refund is applied, re-submitted, and the notice queued again (a retried task)
    from policies.services import remedy_notice_queue

    with django_capture_on_commit_callbacks(execute=True):
        remedy = refund(refund_case, manager)
        refund(refund_case, manager)
        remedy_notice_queue(remedy=remedy, by=None)
    # then one email, queued with the remedy, waiting a few minutes so it can be held back
    (message,) = notices()
    assert message.case == refund_case and message.idempotency_key == f"remedy-notice:{remedy.pk}"
    assert message.status == MessageStatus.QUEUED and message.next_attempt_at > timezone.now()
    assert message.context["notice"] == "refund" and message.context["amount"] == "470.00"
    assert refund_case.events.filter(kind=CaseEventKind.EMAIL_OUT, data__remedy_id=remedy.pk).count() == 1
    assert mail.outbox == []  # not before its hold-back window


def test_a_failing_remedy_leaves_no_email(refund_case, manager):
    # an override on a case without an order cannot cancel it: the whole transaction goes, email included
    case = CaseFactory(customer=refund_case.customer, owner=refund_case.owner)
    with pytest.raises(ValidationError):
        remedy_override(case=case, by=manager, kind="refund", amount="5.00", reason="x",
                        parameters={"action": "cancel_order"})
    assert not Remedy.objects.filter(case=case).exists() and not notices(case).exists()


@pytest.mark.parametrize("language", ["en", "ro", "ru", "it"])
def test_the_refund_email_is_in_the_customers_language_with_amount_and_date_formatted(policy, agent, manager,
                                                                                     language):
    customer = CustomerFactory(name="Ana", preferred_language=language)
    order = OrderFactory(customer=customer, number="1004", currency="USD", total=Decimal("1200.00"))
    case = CaseFactory(customer=customer, order=order, owner=agent)
    remedy_override(case=case, by=manager, kind="refund", amount="1200.00", reason="Lost")
    (message,) = notices(case)
    assert message.language == language
    email = message_send(message_id=message.pk, now=timezone.now() + timedelta(minutes=11))
    assert email.result == "sent"
    (sent,) = mail.outbox
    expected_date = business_days_after(timezone.localdate(), 5)
    amount = {"en": "1,200.00\u00a0USD", "ro": "1.200,00\u00a0USD", "it": "1.200,00\u00a0USD",
              "ru": "1\u00a0200,00\u00a0USD"}[language]
    words = {"en": ("Your refund", "business days"), "ro": ("Rambursarea", "zile lucrătoare"),
             "ru": ("Возврат", "рабочих дн"), "it": ("rimborso", "giorni lavorativi")}[language]
    assert words[0] in sent.subject and "1004" in sent.subject
    assert amount in sent.body and words[1] in sent.body
    assert format_date(expected_date, "long", locale=language) in sent.body
    assert sent.to == [customer.email]


@pytest.mark.parametrize("language", ["en", "ro", "ru", "it"])
def test_the_voucher_replacement_and_credit_emails_in_four_languages(policy, agent, manager, late_case,
                                                                     language):
    # given a credit voucher (late delivery) and a replacement (approved), for a customer of that language
    late_case.customer.preferred_language = language
    late_case.customer.save(update_fields=["preferred_language"])
    (proposal,) = [p for p in case_proposals(case=late_case) if p.rule_id == LATE_DELIVERY_DISCOUNT_RULE_ID]
    credit = remedy_apply(case=late_case, proposal=proposal, by=agent)
    order = OrderFactory(customer=late_case.customer, total=Decimal("450.00"))
    shipment = ShipmentFactory(order=order, status="delivered", courier=CourierFactory(name="Cargus"),
                               delivered_at=order.placed_at)
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="incomplete_order",
                       owner=agent)
    delivery_check(shipment=shipment, received=[], case=case)
    (proposal,) = case_proposals(case=case)
    pending = remedy_apply(case=case, proposal=proposal, by=agent)
    assert pending.status == RemedyStatus.PENDING_APPROVAL and not notices(case).exists()  # nothing given yet
    replacement = remedy_approve(remedy=pending, by=manager)
    remedy_approve(remedy=pending, by=manager)  # the same manager clicks twice
    # then one email each, with the voucher's code and value, and the replacement's tracking number
    (credit_message,) = notices(late_case)
    (replacement_message,) = notices(case)
    rendered = message_render(template=REMEDY_NOTICE, context=credit_message.context, language=language,
                              time_zone="UTC")
    with translation.override(language):
        value = formatting.money(credit.amount, credit.currency)
    assert credit.parameters["voucher_code"] in rendered.text and value in rendered.text
    assert credit.parameters["voucher_code"] in rendered.html
    rendered = message_render(template=REMEDY_NOTICE, context=replacement_message.context, language=language,
                              time_zone="UTC")
    assert replacement.parameters["tracking_number"] in rendered.text and order.number in rendered.subject
    greeting = {"en": "Dear", "ro": "Dragă", "ru": "Уважаем", "it": "Gentile"}[language]
    assert rendered.text.startswith(greeting)


@pytest.mark.parametrize("language", ["en", "ro", "ru", "it"])
def test_the_extended_voucher_email_gives_the_new_expiry_date(policy, agent, language):
    from tests.factories import ValidityRuleFactory, VoucherFactory

    today = timezone.localdate()
    customer = CustomerFactory(customer_since=today - timedelta(days=1461), preferred_language=language)
    OrderFactory.create_batch(23, customer=customer, currency="RON", total=Decimal("150.00"), with_line=False,
                              placed_at=timezone.now() - timedelta(days=90))
    rule = ValidityRuleFactory(code="six-months", name="6 months", validity_months=6)
    voucher = VoucherFactory(holder=customer, currency="RON", value=Decimal("200.00"), validity_rule=rule,
                             issued_at=timezone.now() - timedelta(days=190), valid_until=today - timedelta(days=8))
    case = CaseFactory(customer=customer, voucher=voucher, category="voucher_expired", owner=agent)
    (proposal,) = [p for p in case_proposals(case=case) if p.rule_id == "forgive-loyal-expired"]
    remedy = remedy_apply(case=case, proposal=proposal, by=agent)
    (message,) = notices(case)
    rendered = message_render(template=REMEDY_NOTICE, context=message.context, language=language, time_zone="UTC")
    new_date = today + timedelta(days=int(remedy.parameters["days"]))
    assert format_date(new_date, "long", locale=language) in rendered.text
    assert voucher.code in rendered.subject


def test_the_late_delivery_scan_tells_the_discount_in_its_apology_only(policy):
    """The scan's apology names the discount it applies: no second email about the same remedy."""
    from notifications.remedies import late_delivery_discount_apply

    today = timezone.localdate()
    order = OrderFactory(total=Decimal("79.90"), promised_delivery_date=today - timedelta(days=3))
    shipment = ShipmentFactory(order=order, status="delayed")
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="late_delivery")
    remedy = late_delivery_discount_apply(case)
    assert remedy.status == RemedyStatus.APPLIED and not notices(case).exists()


# --- Holding it back --------------------------------------------------------------------------------------------


def test_an_agent_holds_the_email_back_with_a_reason_on_the_timeline(refund_case, agent, manager):
    remedy = refund(refund_case, manager)
    (message,) = notices(refund_case)
    with pytest.raises(ValidationError) as no_reason:
        message_hold_back(message_id=message.pk, reason=" ", by=agent)
    assert "reason" in no_reason.value.message_dict
    # when the agent holds it back: told by phone
    held = message_hold_back(message_id=message.pk, reason="Told her by phone", by=agent)
    again = message_hold_back(message_id=message.pk, reason="Told her by phone", by=agent)
    # then it never leaves, and the timeline says who held it back and why, once
    assert held.status == MessageStatus.FAILED and again.last_error == held.last_error
    assert message_send(message_id=message.pk, now=timezone.now() + timedelta(hours=1)).result == "already_done"
    assert mail.outbox == []
    (event,) = refund_case.events.filter(data__held_back__isnull=False)
    assert event.actor == agent and "Told her by phone" in event.text and "alice" in event.text
    # a person may still send it after all
    assert message_resend(message_id=message.pk, by=manager).status == MessageStatus.QUEUED
    assert remedy.pk


def test_an_email_that_left_cannot_be_held_back(refund_case, agent, manager):
    refund(refund_case, manager)
    (message,) = notices(refund_case)
    assert message_send(message_id=message.pk, now=timezone.now() + timedelta(minutes=11)).result == "sent"
    with pytest.raises(ValidationError):
        message_hold_back(message_id=message.pk, reason="Too late", by=agent)


def test_the_case_page_holds_the_email_back(client, refund_case, agent, manager):
    refund(refund_case, manager)
    (message,) = notices(refund_case)
    client.force_login(agent)
    url = reverse("dashboard:message_hold", args=[refund_case.pk, message.pk])
    assert url in client.get(reverse("dashboard:case", args=[refund_case.pk])).content.decode()
    assert client.post(url, {f"hold{message.pk}-reason": ""}).status_code == 400
    assert client.post(url, {f"hold{message.pk}-reason": "Told by phone"}).status_code == 302
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and "Told by phone" in message.last_error
    page = client.get(reverse("dashboard:case", args=[refund_case.pk])).content.decode()
    assert "held back" in page and url not in page


def test_a_refund_without_an_order_nor_anybody_to_pay_it_still_stands_and_is_told(policy, manager):
    # given a case without an order, and no owner; the manager has no email, so no one else is picked
    manager.email = ""
    manager.save(update_fields=["email"])
    customer = CustomerFactory(preferred_language="it")
    case = CaseFactory(customer=customer, owner=None)
    # when a refund is recorded without the manager (a system path): the remedy stands, the report lists it
    remedy = remedy_override(case=case, by=manager, kind="refund", amount="15.00", reason="Goodwill")
    assert Promise.objects.get(case=case).owner == manager  # the manager who decided pays it
    # and the customer reads a refund without an order number, in Italian
    (message,) = notices(case)
    rendered = message_render(template=REMEDY_NOTICE, context=message.context, language="it", time_zone="UTC")
    assert rendered.subject == "Il tuo rimborso" and "Ti rimborsiamo 15,00\u00a0" in rendered.text
    assert remedy in reports.payments_awaiting()
