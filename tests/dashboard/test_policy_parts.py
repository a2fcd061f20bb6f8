"""The policy on the case page (proposals applied with one click or sent for approval, the manager override),
the approvals inbox deciding through policies.services, and policy versions activated and replayed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases.models import CaseEventKind
from cases.services import delivery_check
from policies.engine import default_policy_document
from policies.models import PolicyVersion, Remedy, RemedyStatus
from policies.rationale import rationale_render
from policies.services import policy_default_ensure, policy_version_create
from tests.dashboard.conftest import login
from tests.factories import CaseFactory, CourierFactory, OrderFactory, ShipmentFactory, ValidityRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(db):
    ValidityRuleFactory()
    return policy_default_ensure()


@pytest.fixture
def late_case(policy, agent):
    """Story 5: an order promised three days ago, still on its way."""
    today = timezone.localdate()
    order = OrderFactory(total=Decimal("79.90"), placed_at=timezone.now() - timedelta(days=8),
                         promised_delivery_date=today - timedelta(days=3))
    shipment = ShipmentFactory(order=order, status="delayed", estimated_delivery=today + timedelta(days=1))
    return CaseFactory(customer=order.customer, order=order, shipment=shipment, category="late_delivery",
                       channel="system", owner=agent)


@pytest.fixture
def large_case(policy, agent):
    """An incomplete order of 450 EUR: the replacement needs a manager's approval."""
    order = OrderFactory(total=Decimal("450.00"))
    shipment = ShipmentFactory(order=order, status="delivered", courier=CourierFactory(name="Cargus"),
                               delivered_at=order.placed_at)
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="incomplete_order",
                       owner=agent)
    delivery_check(shipment=shipment, received=[], case=case)  # nothing of it arrived
    return case


def _proposals(client, case):
    return client.get(reverse("dashboard:case", args=[case.pk])).context["proposals"]


def test_case_page_shows_the_policys_proposals_with_rationale_and_cost(agent_client, late_case):
    # when
    response = agent_client.get(reverse("dashboard:case", args=[late_case.pk]))
    # then
    proposals = response.context["proposals"]
    assert proposals
    proposal, decided = proposals[0]
    assert decided is None
    html = response.content.decode()
    # the rationale as the page renders it from its data, in the reader's language (English here)
    assert escape(rationale_render(proposal.explanation)) in html and "rule late-delivery-discount" in html
    assert "proposal-apply" in html


def test_agent_applies_a_proposal_with_one_click_and_sees_it_on_the_timeline(agent_client, late_case):
    # given
    (proposal, _), *_ = _proposals(agent_client, late_case)
    # when
    response = agent_client.post(reverse("dashboard:proposal_apply", args=[late_case.pk]), {"key": proposal.key},
                                 follow=True)
    # then
    remedy = Remedy.objects.get(proposal_key=proposal.key)
    assert remedy.status == RemedyStatus.APPLIED
    assert late_case.events.filter(kind=CaseEventKind.REMEDY_APPLIED).exists()
    html = response.content.decode()
    assert "Remedy applied." in html
    assert "event-remedy_applied" in html


def test_applying_twice_leaves_one_remedy(agent_client, late_case):
    (proposal, _), *_ = _proposals(agent_client, late_case)
    url = reverse("dashboard:proposal_apply", args=[late_case.pk])
    agent_client.post(url, {"key": proposal.key})
    agent_client.post(url, {"key": proposal.key})
    assert Remedy.objects.filter(case=late_case).count() == 1


def test_a_key_the_policy_does_not_propose_is_refused(agent_client, late_case):
    response = agent_client.post(reverse("dashboard:proposal_apply", args=[late_case.pk]),
                                 {"key": "case-1/rule-free-money/refund"}, follow=True)
    assert "no longer proposes" in response.content.decode()
    assert not Remedy.objects.exists()


def test_another_agents_case_cannot_be_remedied(client, other_agent, late_case):
    login(client, other_agent)
    (proposal, _), *_ = _proposals(client, late_case)
    response = client.post(reverse("dashboard:proposal_apply", args=[late_case.pk]), {"key": proposal.key})
    assert response.status_code == 403
    assert not Remedy.objects.exists()


def test_large_remedy_is_sent_for_approval_then_approved_by_another_manager(client, agent, manager, large_case):
    # given the agent sends the replacement for approval
    login(client, agent)
    (proposal, _), *_ = _proposals(client, large_case)
    assert proposal.needs_approval
    assert "Send for approval" in client.get(reverse("dashboard:case", args=[large_case.pk])).content.decode()
    client.post(reverse("dashboard:proposal_apply", args=[large_case.pk]), {"key": proposal.key})
    remedy = Remedy.objects.get(proposal_key=proposal.key)
    assert remedy.status == RemedyStatus.PENDING_APPROVAL
    # when a manager approves it from the inbox
    login(client, manager)
    inbox = client.get(reverse("dashboard:approvals"))
    assert remedy in list(inbox.context["remedies"])
    client.post(reverse("dashboard:approval_decide", args=[remedy.pk]), {"decision": "approve"})
    # then
    remedy.refresh_from_db()
    assert remedy.status == RemedyStatus.APPLIED and remedy.decided_by == manager
    assert large_case.events.filter(kind=CaseEventKind.REMEDY_APPROVED).exists()


def test_rejection_needs_a_reason(client, agent, manager, large_case):
    login(client, agent)
    (proposal, _), *_ = _proposals(client, large_case)
    client.post(reverse("dashboard:proposal_apply", args=[large_case.pk]), {"key": proposal.key})
    remedy = Remedy.objects.get(proposal_key=proposal.key)
    login(client, manager)
    url = reverse("dashboard:approval_decide", args=[remedy.pk])
    response = client.post(url, {"decision": "reject", "reason": ""}, follow=True)
    assert "Say why you reject it." in response.content.decode()
    remedy.refresh_from_db()
    assert remedy.status == RemedyStatus.PENDING_APPROVAL
    client.post(url, {"decision": "reject", "reason": "A partial refund is enough."})
    remedy.refresh_from_db()
    assert remedy.status == RemedyStatus.REJECTED and remedy.decision_reason == "A partial refund is enough."


def test_manager_overrides_the_policy_with_a_reason(manager_client, manager, large_case):
    # when
    response = manager_client.post(reverse("dashboard:case_override", args=[large_case.pk]), {
        "kind": "free_item", "budget": "marketing", "amount": "470.00", "currency": "",
        "reason": "The VP promised it; we keep the promise.",
    })
    # then
    assert response.status_code == 302
    remedy = Remedy.objects.get(case=large_case, kind="free_item")
    assert remedy.amount == Decimal("470.00") and remedy.decision_reason == "The VP promised it; we keep the promise."
    assert remedy.budget == "marketing"


def test_override_without_a_reason_is_refused(manager_client, large_case):
    response = manager_client.post(reverse("dashboard:case_override", args=[large_case.pk]), {
        "kind": "refund", "budget": "customer_care", "amount": "10.00", "reason": "  ",
    })
    assert response.status_code == 400
    assert "reason" in response.context["override_form"].errors
    assert not Remedy.objects.exists()


def test_agent_cannot_override(agent_client, large_case):
    response = agent_client.post(reverse("dashboard:case_override", args=[large_case.pk]), {
        "kind": "refund", "budget": "customer_care", "amount": "10.00", "reason": "Because",
    })
    assert response.status_code == 403
    assert not Remedy.objects.exists()


@pytest.fixture
def rug_case(policy, agent):
    """Story 3: a $470 special-order rug, non-refundable, still not shipped."""
    order = OrderFactory(total=Decimal("470.00"), currency="USD", status="paid", is_non_refundable=True)
    return CaseFactory(customer=order.customer, order=order, category="late_delivery", owner=agent)


def test_manager_override_cancels_a_non_refundable_order(manager_client, manager, rug_case):
    # given the case page offers the manager to cancel the order
    page = manager_client.get(reverse("dashboard:case", args=[rug_case.pk]))
    assert "cancel_order" in page.context["override_form"].fields
    # when the manager overrides with cancel_order and a reason
    response = manager_client.post(reverse("dashboard:case_override", args=[rug_case.pk]), {
        "kind": "manager_override", "budget": "customer_care", "amount": "0", "currency": "",
        "cancel_order": "on", "reason": "The promised delivery date was broken; we cancel.",
    }, follow=True)
    # then the order is cancelled, the remedy records it, and the timeline shows it
    assert response.status_code == 200
    rug_case.order.refresh_from_db()
    assert rug_case.order.status == "cancelled"
    remedy = Remedy.objects.get(case=rug_case)
    assert remedy.parameters["action"] == "cancel_order" and remedy.parameters["order_status"] == "cancelled"
    assert remedy.proposed_by == manager and remedy.decision_reason.startswith("The promised delivery")
    event = rug_case.events.get(kind=CaseEventKind.REMEDY_APPLIED)
    assert "The promised delivery date was broken" in event.text
    html = response.content.decode()
    assert "Order cancelled by this override" in html
    # and the checkbox is gone now that the order is cancelled
    assert "cancel_order" not in response.context["override_form"].fields


def test_override_without_cancel_order_leaves_the_order_alone(manager_client, rug_case):
    manager_client.post(reverse("dashboard:case_override", args=[rug_case.pk]), {
        "kind": "manager_override", "budget": "customer_care", "amount": "0", "reason": "Goodwill note.",
    })
    rug_case.order.refresh_from_db()
    assert rug_case.order.status == "paid"
    assert "action" not in Remedy.objects.get(case=rug_case).parameters


def test_cancel_order_after_the_same_override_without_it_cancels_the_order(manager_client, rug_case):
    # given the same override was recorded without cancelling
    url = reverse("dashboard:case_override", args=[rug_case.pk])
    fields = {"kind": "manager_override", "budget": "customer_care", "amount": "0", "reason": "Goodwill note."}
    manager_client.post(url, fields)
    # when the manager posts it again with cancel_order
    response = manager_client.post(url, {**fields, "cancel_order": "on"}, follow=True)
    # then cancelling is another act: recorded as its own override, and the order is cancelled
    rug_case.order.refresh_from_db()
    assert rug_case.order.status == "cancelled"
    assert Remedy.objects.filter(case=rug_case).count() == 2
    assert "the order is cancelled" in response.content.decode()


def test_agent_cannot_cancel_the_order_by_override(agent_client, rug_case):
    response = agent_client.post(reverse("dashboard:case_override", args=[rug_case.pk]), {
        "kind": "manager_override", "budget": "customer_care", "amount": "0", "cancel_order": "on",
        "reason": "Because",
    })
    assert response.status_code == 403
    rug_case.order.refresh_from_db()
    assert rug_case.order.status == "paid"
    assert not Remedy.objects.exists()


def test_cancel_order_is_not_offered_for_a_delivered_order(manager_client, large_case):
    # given the order was delivered
    large_case.order.status = "delivered"
    large_case.order.save(update_fields=["status"])
    # then the override form has no cancel_order box
    page = manager_client.get(reverse("dashboard:case", args=[large_case.pk]))
    assert "cancel_order" not in page.context["override_form"].fields


def test_manager_activates_a_policy_version(manager_client, manager, policy):
    # given a second version
    v2 = policy_version_create(document=default_policy_document(), author=manager, note="Same rules, new note")
    # when
    manager_client.post(reverse("dashboard:policy_activate", args=[v2.pk]))
    # then
    v2.refresh_from_db()
    assert v2.is_active
    assert PolicyVersion.objects.filter(is_active=True).count() == 1


def test_agent_cannot_activate_a_policy_version(agent_client, policy):
    assert agent_client.post(reverse("dashboard:policy_activate", args=[policy.pk])).status_code == 403


def test_replay_a_version_over_a_date_range(manager_client, late_case, policy):
    today = timezone.localdate()
    response = manager_client.get(reverse("dashboard:policy_replay", args=[policy.pk]), {
        "date_from": (today - timedelta(days=30)).isoformat(), "date_to": today.isoformat(),
    })
    assert response.status_code == 200
    result = response.context["result"]
    assert result.cases >= 1
    assert 'id="replay-result"' in response.content.decode()


def test_replay_with_a_backwards_range_says_so(manager_client, policy):
    response = manager_client.get(reverse("dashboard:policy_replay", args=[policy.pk]),
                                  {"date_from": "2026-05-01", "date_to": "2026-01-01"})
    assert response.context["result"] is None
    assert "The end of the period comes after its start." in response.content.decode()
