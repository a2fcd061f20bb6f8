"""One test per story remedy: the default policy turns the story's case into the right remedy, cost and reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.models import CaseEventKind, Promise
from cases.services import delivery_check
from orders.models import OrderLine, Shipment
from policies.models import Remedy, RemedyStatus
from policies.selectors import case_facts
from policies.services import case_proposals, remedy_apply, remedy_approve, remedy_override
from tests.factories import (
    CaseFactory,
    CourierFactory,
    CustomerFactory,
    OrderFactory,
    ShipmentFactory,
    ValidityRuleFactory,
    VoucherFactory,
)
from vouchers.models import Voucher, VoucherStatus

pytestmark = pytest.mark.django_db


def only(proposals, rule_id):
    matching = [p for p in proposals if p.rule_id == rule_id]
    assert len(matching) == 1, [p.rule_id for p in proposals]
    return matching[0]


def test_story_1_loyal_customer_recently_expired_voucher_is_extended(policy, agent):
    # given a customer of four years with 23 orders, whose 6-month voucher expired 8 days ago
    today = timezone.localdate()
    customer = CustomerFactory(customer_since=today - timedelta(days=1461))
    OrderFactory.create_batch(23, customer=customer, currency="RON", total=Decimal("150.00"), with_line=False,
                              placed_at=timezone.now() - timedelta(days=90))
    six_months = ValidityRuleFactory(code="six-months", name="6 months", validity_months=6)
    voucher = VoucherFactory(holder=customer, currency="RON", value=Decimal("200.00"), validity_rule=six_months,
                             issued_at=timezone.now() - timedelta(days=190), valid_until=today - timedelta(days=8))
    case = CaseFactory(customer=customer, voucher=voucher, category="voucher_expired", channel="counter", owner=agent)
    # when the policy is asked, and the agent applies its proposal
    proposal = only(case_proposals(case=case), "forgive-loyal-expired")
    remedy = remedy_apply(case=case, proposal=proposal, by=agent)
    # then the voucher is extended 30 days from today, with the reason recorded
    assert (remedy.kind, remedy.amount, remedy.currency, remedy.status) == (
        "extend_voucher", Decimal("200.00"), "RON", RemedyStatus.APPLIED)
    assert remedy.rationale.startswith("customer for 4 years, 23 orders")
    assert "voucher expired 8 days ago" in remedy.rationale
    assert "rule forgive-loyal-expired: extend 30 days" in remedy.rationale
    voucher.refresh_from_db()
    assert voucher.valid_until == today + timedelta(days=30) and voucher.status == VoucherStatus.EXTENDED
    assert voucher.extensions.get().reason == remedy.rationale
    event = case.events.get(kind=CaseEventKind.REMEDY_APPLIED)
    assert event.actor == agent and event.data["remedy_id"] == remedy.pk and event.data["policy_version"] >= 1


def test_story_2_saving_a_date_critical_delivery_is_absorbed_as_marketing(policy, agent):
    # given a birthday present due in two days that the courier will deliver a day late
    today = timezone.localdate()
    courier = CourierFactory(name="SlowPost")
    order = OrderFactory(currency="RUB", total=Decimal("32000.00"), is_date_critical=True, occasion="birthday",
                         promised_delivery_date=today + timedelta(days=2))
    shipment = ShipmentFactory(order=order, courier=courier, status="delayed",
                               estimated_delivery=today + timedelta(days=3))
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="late_delivery",
                       channel="system", owner=agent)
    # when the absorb-cost proposal is applied
    proposal = only(case_proposals(case=case), "save-date-critical-delivery")
    remedy = remedy_apply(case=case, proposal=proposal, by=agent)
    # then 15,000 roubles are booked to marketing, recoverable from the courier
    assert (remedy.kind, remedy.amount, remedy.currency, remedy.budget) == (
        "absorb_cost", Decimal("15000.00"), "RUB", "marketing")
    assert remedy.recoverable_from == courier and remedy.status == RemedyStatus.APPLIED
    assert "date-critical order, promised for" in remedy.rationale
    assert "absorb up to 15000.00 RUB, booked to marketing, recoverable from SlowPost" in remedy.rationale


def test_story_2_lost_parcel_is_refunded(policy):
    # given a parcel the courier lost
    courier = CourierFactory(name="FastCourier")
    order = OrderFactory(total=Decimal("120.00"))
    shipment = ShipmentFactory(order=order, courier=courier, status="lost")
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="lost_parcel")
    # when caseapp applies the policy's proposal
    (proposal,) = case_proposals(case=case)
    remedy = remedy_apply(case=case, proposal=proposal)
    # then the order is refunded in full and may be claimed from the courier
    assert (remedy.kind, remedy.amount, remedy.currency, remedy.budget, remedy.recoverable_from) == (
        "refund", Decimal("120.00"), "EUR", "logistics", courier)
    assert "shipment lost with FastCourier" in remedy.rationale
    assert "rule refund-lost-parcel: refund 120.00 EUR" in remedy.rationale


def test_story_2_uncollected_parcel_is_a_friendly_call_not_a_penalty(policy, agent):
    order = OrderFactory(payment_method="cod", cod_quoted_amount=Decimal("50.00"), total=Decimal("50.00"))
    shipment = ShipmentFactory(order=order, status="not_collected", cod_amount=Decimal("50.00"))
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="not_collected", owner=agent)
    (proposal,) = case_proposals(case=case)
    remedy = remedy_apply(case=case, proposal=proposal, by=agent)
    assert (remedy.kind, remedy.amount) == ("callback", Decimal("0.00"))
    promise = Promise.objects.get(pk=remedy.parameters["promise_id"])
    assert "no penalty, no blacklist" in promise.description and promise.owner == agent


def test_story_3_manager_override_records_the_reason(policy, manager, agent):
    # given the rug: a non-refundable special order, promised in ten days, three weeks ago
    order = OrderFactory(currency="USD", total=Decimal("470.00"), is_non_refundable=True, is_special_order=True,
                         sold_by="Regional VP")
    case = CaseFactory(customer=order.customer, order=order, category="broken_promise", owner=manager)
    # an agent cannot override, and a manager cannot without a reason, nor in another currency
    with pytest.raises(PermissionDenied):
        remedy_override(case=case, by=agent, reason="nice customer", amount="470.00")
    with pytest.raises(ValidationError) as no_reason:
        remedy_override(case=case, by=manager, reason="  ", amount="470.00")
    assert "reason" in no_reason.value.message_dict
    with pytest.raises(ValidationError) as wrong_currency:
        remedy_override(case=case, by=manager, reason="rug", amount="470.00", currency="EUR")
    assert "This case is in USD" in wrong_currency.value.message_dict["currency"][0]
    with pytest.raises(ValidationError) as negative:
        remedy_override(case=case, by=manager, reason="rug", amount="-1.00")
    assert "amount" in negative.value.message_dict
    assert not Remedy.objects.exists()
    # when the general manager cancels the non-refundable order, with a reason
    reason = "The rug was promised in ten days; cancelling the non-refundable order is on us"
    remedy = remedy_override(case=case, by=manager, reason=reason, amount="470.00",
                             parameters={"action": "cancel_order"})
    # then the override is in the ledger and on the timeline, with its reason; submitting it again changes nothing
    assert (remedy.kind, remedy.amount, remedy.currency, remedy.status) == (
        "manager_override", Decimal("470.00"), "USD", RemedyStatus.APPLIED)
    assert remedy.decision_reason == reason and remedy.rationale.startswith("manager override by maria: The rug")
    assert case.events.get(kind=CaseEventKind.REMEDY_APPLIED).text == remedy.rationale
    order.refresh_from_db()
    assert order.status == "cancelled" and remedy.parameters["order_status"] == "cancelled"
    assert remedy_override(case=case, by=manager, reason=reason, amount="470.00",
                           parameters={"action": "cancel_order"}) == remedy
    assert Remedy.objects.count() == 1


def test_story_3_wrong_style_rug_is_replaced_after_a_managers_approval(policy, agent, manager):
    # given the rug arrived in the wrong style
    order = OrderFactory(currency="USD", total=Decimal("470.00"), with_line=False)
    OrderLine.objects.create(order=order, sku="RUG-1", name="Rug", quantity=1, unit_price=Decimal("470.00"),
                             variant="Kilim, indigo")
    shipment = ShipmentFactory(order=order, status="delivered", delivered_at=timezone.now(),
                               courier=CourierFactory(name="HomeFreight"))
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="wrong_item", owner=agent)
    delivery_check(shipment=shipment, received=[{"sku": "RUG-1", "quantity": 1, "variant": "Kilim, red"}],
                   case=case)
    # when the agent applies the replacement, which costs more than the 200 USD threshold
    (proposal,) = case_proposals(case=case)
    remedy = remedy_apply(case=case, proposal=proposal, by=agent)
    # then it waits for a manager, and nothing is shipped yet
    assert remedy.status == RemedyStatus.PENDING_APPROVAL and remedy.needs_approval
    assert not Shipment.objects.filter(is_replacement=True).exists()
    # when a manager approves it, the replacement ships
    remedy = remedy_approve(remedy=remedy, by=manager)
    assert remedy.status == RemedyStatus.APPLIED and remedy.decided_by == manager
    replacement = Shipment.objects.get(pk=remedy.parameters["shipment_id"])
    assert replacement.is_replacement and replacement.courier.name == "HomeFreight" and replacement.order == order


def test_story_5_wrong_or_incomplete_order_is_replaced_at_the_shops_cost(wrong_item_case, agent):
    # given a wrong item was delivered (60 EUR order)
    case = wrong_item_case
    # when the agent applies the policy's proposal
    (proposal,) = case_proposals(case=case)
    remedy = remedy_apply(case=case, proposal=proposal, by=agent)
    # then a replacement ships at once, booked to quality (the shop's own mistake)
    assert (remedy.kind, remedy.amount, remedy.budget, remedy.status) == (
        "replacement", Decimal("60.00"), "quality", RemedyStatus.APPLIED)
    assert ("case: wrong item; missing or wrong items worth 60.00 EUR; rule replace-wrong-or-incomplete: "
            "replacement shipment at the shop's cost") in remedy.rationale
    replacement = Shipment.objects.get(pk=remedy.parameters["shipment_id"])
    assert replacement.is_replacement and replacement.courier.name == "Cargus"


def test_story_5_late_order_gets_5_percent_even_if_declined(late_case):
    # given an order three days late; the customer said she only wants the order
    case = late_case
    # when caseapp applies the late-delivery discount on its own (as the late-delivery scan does)
    proposal = only(case_proposals(case=case), "late-delivery-discount")
    remedy = remedy_apply(case=case, proposal=proposal, by=None)
    # then 5% of 79.90 comes back as a credit voucher for her
    assert (remedy.kind, remedy.amount, remedy.currency, remedy.status) == (
        "discount", Decimal("4.00"), "EUR", RemedyStatus.APPLIED)
    assert "delivery 4 days late" in remedy.rationale
    assert "5% discount of 4.00 EUR as a credit voucher" in remedy.rationale
    assert "even if the customer declines it" in remedy.rationale
    credit = Voucher.objects.get(code=remedy.parameters["voucher_code"])
    assert (credit.holder, credit.value, credit.currency) == (case.customer, Decimal("4.00"), "EUR")


def test_story_5_cod_mismatch_raises_a_task_for_the_courier(cod_case, agent):
    # given a COD label of 200 RON where 180 RON was quoted
    case = cod_case
    # when the agent applies the correction
    (proposal,) = case_proposals(case=case)
    remedy = remedy_apply(case=case, proposal=proposal, by=agent)
    # then a promise, owned by the agent and due in two hours, asks the courier to correct the label
    assert (remedy.kind, remedy.amount, remedy.currency) == ("correct_cod", Decimal("0.00"), "RON")
    assert "COD label 200.00 RON but 180.00 quoted" in remedy.rationale
    promise = Promise.objects.get(pk=remedy.parameters["promise_id"])
    assert promise.description == "Have Cargus correct the COD label from 200.00 to 180.00 RON before delivery"
    assert promise.owner == agent
    assert timedelta(hours=1, minutes=59) < promise.due_at - promise.made_at <= timedelta(hours=2, minutes=1)
    assert case.events.filter(kind=CaseEventKind.PROMISE_MADE).exists()


def test_case_facts_quote_the_database(late_case):
    facts = case_facts(case=late_case)
    assert (facts.currency, facts.order_total, facts.days_late, facts.shipment_status, facts.courier) == (
        "EUR", Decimal("79.90"), 4, "delayed", "FastCourier")
    assert facts.order_count == 1 and facts.lifetime_spend == Decimal("79.90") and facts.case_id == late_case.pk
