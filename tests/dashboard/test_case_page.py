"""The case page: the customer's 360° view, order and tracking, timeline, promises and actions."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseEvent, CaseEventKind, CaseStatus, Promise, PromiseStatus
from orders.models import ShipmentEvent
from policies import services as policy_services
from policies.selectors import budget_names_forget
from policies.services import policy_default_ensure
from tests.dashboard.conftest import login, make_remedy
from tests.factories import (
    CaseFactory,
    CustomerFactory,
    OrderFactory,
    ShipmentFactory,
    ValidityRuleFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def story_case(agent):
    """Story 1: a loyal customer whose second voucher fell under a shorter validity rule."""
    customer = CustomerFactory(name="Ioana Popescu", customer_since=timezone.localdate() - timedelta(days=4 * 365))
    OrderFactory(customer=customer, total=Decimal("900.00"), currency="RON")
    twelve = ValidityRuleFactory(code="twelve", name="12 months", validity_months=12)
    six = ValidityRuleFactory(code="six", name="6 months", validity_months=6, effective_from=date(2024, 1, 1))
    VoucherFactory(holder=customer, code="GIFT-A", validity_rule=twelve, currency="RON",
                   issued_at=timezone.now() - timedelta(days=400))
    late = VoucherFactory(holder=customer, code="GIFT-B", validity_rule=six, currency="RON", status="expired",
                          issued_at=timezone.now() - timedelta(days=190),
                          valid_until=timezone.localdate() - timedelta(days=7))
    order = OrderFactory(customer=customer, is_date_critical=True, occasion="birthday 14 March")
    shipment = ShipmentFactory(order=order)
    ShipmentEvent.objects.create(shipment=shipment, external_id="e1", occurred_at=timezone.now(), code="delayed",
                                 text="Sorting centre backlog", location="Belgorod")
    past = CaseFactory(customer=customer, subject="Old complaint", status=CaseStatus.CLOSED)
    make_remedy(case=past, amount="25.00", currency="RON", kind="discount")
    return CaseFactory(customer=customer, voucher=late, order=order, shipment=shipment, subject="Voucher refused",
                       description="I came in a week late.")


def test_case_page_shows_the_customers_whole_story(agent_client, story_case):
    # when
    response = agent_client.get(reverse("dashboard:case", args=[story_case.pk]))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ioana Popescu" in html
    assert "4 years" in html  # Babel: no ".0"
    assert "900.00\u00a0RON" in html  # lifetime spend, by Babel
    assert "Validity rule changed: GIFT-A was valid 12 months, GIFT-B only 6 months." in html
    assert "Old complaint" in html and "25.00\u00a0RON" in html  # past cases and remedies
    assert "birthday 14 March" in html and "Sorting centre backlog" in html  # order and tracking
    assert "I came in a week late." in html


def _make_history(customer, size):
    for i in range(size):
        CaseFactory(customer=customer, subject=f"Past {i}", status=CaseStatus.CLOSED)
    for i in range(min(size, 30)):
        VoucherFactory(holder=customer, code=f"BULK-{customer.pk}-{i}")


@pytest.mark.parametrize("size", [10, 500])
def test_case_page_has_a_fixed_number_of_queries(client, agent, size, django_assert_num_queries):
    # given a customer with a long or a short history, events and promises
    customer = CustomerFactory()
    order = OrderFactory(customer=customer)
    shipment = ShipmentFactory(order=order)
    case = CaseFactory(customer=customer, order=order, shipment=shipment, owner=agent)
    _make_history(customer, size)
    for i in range(size // 10):
        CaseEvent.objects.create(case=case, kind=CaseEventKind.NOTE, text=f"note {i}", actor=agent)
        Promise.objects.create(case=case, description=f"p {i}", due_at=timezone.now() + timedelta(days=1),
                               owner=agent, made_by=agent)
        make_remedy(case=case, amount="1.00")
    policy_default_ensure()  # the active policy exists, as it does once caseapp has run
    login(client, agent)
    budget_names_forget()  # the budget names are kept a minute per process: count the page as it reads them
    policy_services._ACTIVE.clear()  # and the active policy as a process that has not compiled it yet
    # when / then
    with django_assert_num_queries(CASE_PAGE_QUERIES):
        response = client.get(reverse("dashboard:case", args=[case.pk]))
    assert response.status_code == 200


CASE_PAGE_QUERIES = 27  # 23 for the page (one for the customer's loyalty facts, one for the staff list both the promise and the assign forms offer, one for its files, one for the budgets its remedies name, one for its courier claims, one for its remedy emails, one for the macros offered, two for the satisfaction survey, one for "What changed"), 4 more for the active policy's proposals (which version is active, the version itself in a process that has not compiled it yet, the latest delivery check; the loyalty facts, the case's remedies and the shipment's order are the page's)


def test_agent_adds_a_note_and_logs_a_call(agent_client, agent):
    # given
    case = CaseFactory(owner=agent)
    url = reverse("dashboard:case_note", args=[case.pk])
    # when
    agent_client.post(url, {"kind": "note", "text": "Checked the voucher."})
    response = agent_client.post(url, {"kind": "call", "text": "Called her back."}, follow=True)
    # then
    kinds = list(case.events.values_list("kind", "text"))
    assert ("note", "Checked the voucher.") in kinds and ("call", "Called her back.") in kinds
    case.refresh_from_db()
    assert case.first_responded_at is not None
    assert "Called her back." in response.content.decode()


def test_empty_note_is_refused_with_a_clear_error(agent_client, agent):
    # given
    case = CaseFactory(owner=agent)
    # when
    response = agent_client.post(reverse("dashboard:case_note", args=[case.pk]), {"kind": "note", "text": "   "})
    # then
    assert response.status_code == 400
    assert not case.events.filter(kind="note").exists()


def test_promise_is_recorded_and_kept(agent_client, agent):
    # given
    case = CaseFactory(owner=agent)
    due = timezone.localtime() + timedelta(days=2)
    # when
    agent_client.post(reverse("dashboard:case_promise", args=[case.pk]), {
        "description": "Call back on Monday", "due_at": due.strftime("%Y-%m-%dT%H:%M"), "owner": agent.pk,
    })
    promise = Promise.objects.get(case=case)
    agent_client.post(reverse("dashboard:promise_close", args=[case.pk, promise.pk]), {"kept": "1"})
    # then
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.KEPT
    assert promise.made_by == agent
    assert case.events.filter(kind="promise_made").exists() and case.events.filter(kind="promise_kept").exists()


def test_promise_made_by_someone_else_is_recorded_with_their_name(agent_client, agent):
    # given
    case = CaseFactory(owner=agent)
    due = timezone.localtime() + timedelta(days=10)
    # when
    agent_client.post(reverse("dashboard:case_promise", args=[case.pk]), {
        "description": "Rug in New York within ten days", "due_at": due.strftime("%Y-%m-%dT%H:%M"),
        "owner": agent.pk, "made_by_name": "Regional VP",
    })
    # then
    promise = Promise.objects.get(case=case)
    assert promise.made_by_name == "Regional VP" and promise.made_by is None


def test_promise_in_the_past_is_refused(agent_client, agent):
    case = CaseFactory(owner=agent)
    response = agent_client.post(reverse("dashboard:case_promise", args=[case.pk]), {
        "description": "x", "due_at": "2000-01-01T10:00", "owner": agent.pk,
    })
    assert response.status_code == 400
    assert "A promise is due in the future." in response.content.decode()
    assert not Promise.objects.exists()


def test_promise_broken(agent_client, agent):
    case = CaseFactory(owner=agent)
    promise = Promise.objects.create(case=case, description="Call", due_at=timezone.now() + timedelta(hours=1),
                                     owner=agent, made_by=agent)
    agent_client.post(reverse("dashboard:promise_close", args=[case.pk, promise.pk]), {"kept": "0", "note": "Forgot"})
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.BROKEN


def test_closing_another_cases_promise_by_id_is_not_found(agent_client, agent):
    # given: a promise on someone else's case, addressed through my case's URL
    mine = CaseFactory(owner=agent)
    other = CaseFactory()
    promise = Promise.objects.create(case=other, description="x", due_at=timezone.now() + timedelta(hours=1),
                                     owner=agent, made_by=agent)
    # when
    response = agent_client.post(reverse("dashboard:promise_close", args=[mine.pk, promise.pk]), {"kept": "1"})
    # then
    assert response.status_code == 404
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.OPEN


def test_status_change_and_reopen(agent_client, agent):
    # given
    case = CaseFactory(owner=agent, status=CaseStatus.OPEN)
    # when
    agent_client.post(reverse("dashboard:case_status", args=[case.pk]), {"status": "resolved", "reason": "Done"})
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    agent_client.post(reverse("dashboard:case_reopen", args=[case.pk]), {"reason": "Wrong style delivered"})
    # then
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.events.filter(kind="status_changed", text="Wrong style delivered").exists()


def test_reopen_needs_a_reason(agent_client, agent):
    case = CaseFactory(owner=agent, status=CaseStatus.CLOSED)
    response = agent_client.post(reverse("dashboard:case_reopen", args=[case.pk]), {"reason": ""})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_impossible_status_change_is_refused_clearly(agent_client, agent):
    case = CaseFactory(owner=agent, status=CaseStatus.CLOSED)
    response = agent_client.post(reverse("dashboard:case_status", args=[case.pk]), {"status": "resolved"})
    assert response.status_code == 400
    assert "cannot become" in response.content.decode()


def test_agent_cannot_act_on_another_agents_case(agent_client, other_agent):
    # given
    case = CaseFactory(owner=other_agent)
    # when
    note = agent_client.post(reverse("dashboard:case_note", args=[case.pk]), {"kind": "note", "text": "hi"})
    status = agent_client.post(reverse("dashboard:case_status", args=[case.pk]), {"status": "closed"})
    take = agent_client.post(reverse("dashboard:case_take", args=[case.pk]))
    assign = agent_client.post(reverse("dashboard:case_assign", args=[case.pk]), {"owner": ""})
    page = agent_client.get(reverse("dashboard:case", args=[case.pk]))
    # then
    assert [note.status_code, status.status_code, take.status_code, assign.status_code] == [403, 403, 403, 403]
    assert page.status_code == 200 and "belongs to another agent" in page.content.decode()
    case.refresh_from_db()
    assert case.owner == other_agent and case.status == CaseStatus.NEW


def test_agent_takes_an_unowned_case_and_hands_it_back(agent_client, agent):
    case = CaseFactory()
    agent_client.post(reverse("dashboard:case_take", args=[case.pk]))
    case.refresh_from_db()
    assert case.owner == agent
    agent_client.post(reverse("dashboard:case_assign", args=[case.pk]), {"owner": ""})
    case.refresh_from_db()
    assert case.owner is None


def test_manager_assigns_a_case_to_another_agent(manager_client, agent, other_agent):
    case = CaseFactory(owner=agent)
    manager_client.post(reverse("dashboard:case_assign", args=[case.pk]), {"owner": other_agent.pk})
    case.refresh_from_db()
    assert case.owner == other_agent


def test_agent_cannot_assign_own_case_to_someone_else(agent_client, agent, other_agent):
    case = CaseFactory(owner=agent)
    response = agent_client.post(reverse("dashboard:case_assign", args=[case.pk]), {"owner": other_agent.pk})
    assert response.status_code == 403


def test_missing_case_is_not_found(agent_client):
    assert agent_client.get(reverse("dashboard:case", args=[999999])).status_code == 404


def test_actions_need_csrf(agent):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    login(client, agent)
    case = CaseFactory(owner=agent)
    response = client.post(reverse("dashboard:case_note", args=[case.pk]), {"kind": "note", "text": "x"})
    assert response.status_code == 403


def test_the_facts_from_what_the_page_read_are_the_facts_the_policy_reads_itself(story_case):
    # given the case's remedies (applied and rejected, one in another currency) and the customer's loyalty facts,
    # as the case page reads them once for its panels
    from customers.selectors import customer_loyalty_facts
    from policies.selectors import case_facts, case_remedies

    make_remedy(case=story_case, amount="12.00", currency="EUR")
    make_remedy(case=story_case, amount="3.00", currency="EUR", status="rejected")
    make_remedy(case=story_case, amount="4.00", currency="RON")
    # when / then: the facts built from them are those the policy builds with its own queries
    assert case_facts(case=story_case, loyalty=customer_loyalty_facts(customer=story_case.customer),
                      remedies=case_remedies(case=story_case)) == case_facts(case=story_case)


def test_a_forms_kept_html_is_the_html_it_renders_and_changes_with_its_choices(agent, other_agent):
    # given the assign form, its staff list given as the case page gives it
    from django.template.loader import render_to_string

    from dashboard.forms import AssignForm, staff_users
    from dashboard.templatetags.form_tags import form_fields, form_fields_forget
    from dashboard.views.cases import _staff_choices

    def form(users, owner):
        assign = AssignForm(initial={"owner": owner})
        assign.fields["owner"].choices = _staff_choices(assign.fields["owner"], users)
        return assign

    form_fields_forget()
    users = list(staff_users())
    # when rendered twice (the second from the kept HTML) / then: what the full form renders, each time
    fresh = render_to_string("dashboard/_form_fields.html", {"form": AssignForm(initial={"owner": agent.pk})})
    assert form_fields(form(users, agent.pk)) == fresh == form_fields(form(users, agent.pk))
    # and another owner, another staff list or the user's own input are not served from the kept HTML
    assert form_fields(form(users, other_agent.pk)) != fresh
    assert other_agent.username not in form_fields(form([agent], agent.pk))
    bound = AssignForm({"owner": "nobody-such"})
    assert "errors" in str(form_fields(bound)) or "error" in str(form_fields(bound))
