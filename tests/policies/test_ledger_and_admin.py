"""Nothing half-done, the cost report, proposals not yet decided, and the admin going through the services."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cases.models import CaseEvent, Promise
from policies.models import PolicyVersion, Remedy
from policies.services import case_proposals, remedy_apply
from tests.factories import CaseFactory, OrderFactory, ShipmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_remedy_whose_effect_fails_leaves_nothing_behind(policy):
    # given an uncollected parcel whose case nobody owns, applied by caseapp itself (no user)
    order = OrderFactory(payment_method="cod", cod_quoted_amount=Decimal("50.00"), total=Decimal("50.00"))
    shipment = ShipmentFactory(order=order, status="not_collected", cod_amount=Decimal("50.00"))
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="not_collected")
    events = CaseEvent.objects.count()
    (proposal,) = case_proposals(case=case)
    # when the call-back promise cannot be given an owner
    with pytest.raises(ValidationError) as raised:
        remedy_apply(case=case, proposal=proposal, by=None)
    # then the error names the field, and no remedy, promise or event was left half-saved
    assert "owner" in raised.value.message_dict
    assert not Remedy.objects.exists() and not Promise.objects.exists()
    assert CaseEvent.objects.count() == events


def test_a_rule_already_decided_on_a_case_comes_back_flagged_and_applies_to_the_same_remedy(late_case):
    # given the late discount was applied
    (proposal,) = case_proposals(case=late_case)
    remedy = remedy_apply(case=late_case, proposal=proposal)
    # when the policy is asked again (a retried task re-evaluates)
    (again,) = case_proposals(case=late_case)
    # then the same proposal comes back, flagged, and applying it returns the existing remedy
    assert again.key == proposal.key and again.cost == proposal.cost and again.already_decided
    assert remedy_apply(case=late_case, proposal=again) == remedy
    assert case_proposals(case=late_case, only_new=True) == []
    assert Remedy.objects.count() == 1


def test_what_a_case_already_cost_counts_against_the_limit_per_case(policy, manager, late_case):
    # given a manager already gave 1,990 EUR on this case (the default limit per case is 2,000 EUR)
    from policies.services import remedy_override

    remedy_override(case=late_case, by=manager, kind="refund", reason="goodwill", amount="1990.00")
    # when the policy proposes the late discount (5% of 79.90 = 4.00)
    (proposal,) = case_proposals(case=late_case)
    # then it is capped to what is left under the limit, and says so
    assert proposal.cost == Decimal("4.00")
    remedy_override(case=late_case, by=manager, kind="refund", reason="more goodwill", amount="8.00")
    (proposal,) = case_proposals(case=late_case)
    assert proposal.cost == Decimal("2.00") and "capped by the limit per case" in proposal.rationale


@pytest.fixture
def admin_client(client, policy):
    user = UserFactory(username="root", role="manager")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def test_admin_creates_versions_through_the_validator(admin_client):
    url = "/admin/policies/policyversion/add/"
    # an invalid document is refused, naming the rule and the field
    bad = "rules:\n  - id: oops\n    when: {fact: shoe_size, eq: 42}\n    remedy: {kind: callback}\n"
    response = admin_client.post(url, {"document_text": bad, "note": "bad"})
    assert response.status_code == 200
    assert "rule oops, when.fact: unknown fact" in response.content.decode()
    assert PolicyVersion.objects.count() == 1
    # a valid one is stored as the next version, inactive
    good = "rules:\n  - id: call\n    when: {fact: days_late, ge: 1}\n    remedy: {kind: callback}\n"
    response = admin_client.post(url, {"document_text": good, "note": "calls"})
    assert response.status_code == 302
    version = PolicyVersion.objects.get(number=2)
    assert version.document["rules"][0]["id"] == "call" and not version.is_active and version.note == "calls"
    # and the activate action switches the active version
    response = admin_client.post("/admin/policies/policyversion/",
                                 {"action": "activate", "_selected_action": [version.pk]})
    assert response.status_code == 302
    assert list(PolicyVersion.objects.filter(is_active=True).values_list("number", flat=True)) == [2]
