"""The approvals inbox and the policy versions."""

import copy

import pytest
from django.urls import reverse

from policies.models import PolicyVersion, RemedyStatus
from policies.services import policy_default_ensure
from tests.dashboard.conftest import make_remedy
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_approvals_inbox_lists_pending_remedies_oldest_first(manager_client, agent):
    # given
    case = CaseFactory()
    pending = make_remedy(case=case, amount="300.00", status=RemedyStatus.PENDING_APPROVAL, proposed_by=agent,
                          needs_approval=True)
    make_remedy(case=case, amount="1.00")  # applied: not in the inbox
    # when
    response = manager_client.get(reverse("dashboard:approvals"))
    # then
    assert list(response.context["remedies"]) == [pending]
    assert "300.00\u00a0EUR" in response.content.decode()


def test_agent_is_refused_the_approvals_inbox_and_decisions(agent_client, other_agent):
    case = CaseFactory()
    remedy = make_remedy(case=case, status=RemedyStatus.PENDING_APPROVAL, proposed_by=other_agent)
    assert agent_client.get(reverse("dashboard:approvals")).status_code == 403
    response = agent_client.post(reverse("dashboard:approval_decide", args=[remedy.pk]), {"decision": "approve"})
    assert response.status_code == 403
    remedy.refresh_from_db()
    assert remedy.status == RemedyStatus.PENDING_APPROVAL


def test_manager_cannot_decide_their_own_remedy(manager_client, manager):
    # given a remedy the manager proposed
    remedy = make_remedy(case=CaseFactory(), status=RemedyStatus.PENDING_APPROVAL, proposed_by=manager)
    # when
    page = manager_client.get(reverse("dashboard:approvals")).content.decode()
    response = manager_client.post(reverse("dashboard:approval_decide", args=[remedy.pk]), {"decision": "approve"})
    # then
    assert "another manager decides" in page
    assert response.status_code == 403
    remedy.refresh_from_db()
    assert remedy.status == RemedyStatus.PENDING_APPROVAL


def test_decision_on_a_missing_remedy_is_not_found(manager_client):
    response = manager_client.post(reverse("dashboard:approval_decide", args=[424242]), {"decision": "approve"})
    assert response.status_code == 404


@pytest.fixture
def versions(manager):
    v1 = policy_default_ensure()
    document = copy.deepcopy(v1.document)
    document["note_for_managers"] = "More generous"
    v2 = PolicyVersion.objects.create(number=v1.number + 1, document=document, author=manager, note="More generous")
    return v1, v2


def test_policy_versions_list_and_view(manager_client, versions):
    v1, v2 = versions
    listing = manager_client.get(reverse("dashboard:policies")).content.decode()
    assert f"v{v1.number}" in listing and f"v{v2.number}" in listing and "More generous" in listing
    page = manager_client.get(reverse("dashboard:policy", args=[v2.pk])).content.decode()
    assert "&quot;note_for_managers&quot;: &quot;More generous&quot;" in page


def test_compare_two_policy_versions(manager_client, versions):
    v1, v2 = versions
    response = manager_client.get(reverse("dashboard:policy_compare"), {"a": v1.pk, "b": v2.pk})
    lines = response.context["lines"]
    assert [line.strip() for kind, line in lines if kind == "add"] == ['+  "note_for_managers": "More generous",']
    assert not [line for kind, line in lines if kind == "del"]


def test_agent_cannot_see_policies(agent_client, versions):
    assert agent_client.get(reverse("dashboard:policy", args=[versions[0].pk])).status_code == 403
    assert agent_client.get(reverse("dashboard:policy_compare"), {"a": 1, "b": 2}).status_code == 403
