"""The case page's "What changed" panel: the case, its order and its customer, with who and why."""

import pytest
from django.urls import reverse
from django.utils import translation

from audit.selectors import case_changes
from cases.models import CaseStatus
from tests.dashboard.conftest import login
from tests.factories import CaseFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _a_case_changed_by(client, agent):
    customer = CustomerFactory(phone="")
    order = OrderFactory(customer=customer, occasion="")
    case = CaseFactory(customer=customer, order=order, owner=agent, status=CaseStatus.OPEN)
    login(client, agent)
    client.post(reverse("dashboard:case_status", args=[case.pk]),
                {"status": CaseStatus.WAITING_ON_CUSTOMER, "reason": "Asked for a photo."})
    customer.phone = "+40 721 000 111"
    customer.save()
    order.occasion = "birthday 14 March"
    order.save()
    return case


def test_the_changes_of_the_case_its_order_and_its_customer_newest_first(client, agent, django_assert_num_queries):
    # given
    case = _a_case_changed_by(client, agent)
    case_changes(case=case)  # SQLite asks once per connection whether it has JSON functions
    # when
    with django_assert_num_queries(1):
        changes = case_changes(case=case)
    # then
    changed = [(c.what, c.fields) for c in changes if c.kind == "Changed"]
    assert ("Order", [("Occasion", "—", "birthday 14 March")]) in changed
    assert ("Customer", [("Phone", "—", "+40 721 000 111")]) in changed
    status_change = next(c for c in changes if c.what == "Case" and c.kind == "Changed")
    assert status_change.fields == [("Status", "Open", "Waiting on customer")]
    assert (status_change.who, status_change.why) == (agent.username, "Asked for a photo.")
    assert {c.what for c in changes if c.kind == "Created"} == {"Case", "Order", "Customer"}
    assert changes == sorted(changes, key=lambda c: c.at, reverse=True)


def test_the_case_page_shows_what_changed_in_the_readers_language(client, agent):
    # given
    case = _a_case_changed_by(client, agent)
    # when
    with translation.override("ro"):
        response = client.get(reverse("dashboard:case", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="ro")
    # then
    page = response.content.decode()
    panel = page[page.index('id="what-changed"'):]
    panel = panel[:panel.index("</details>")]
    assert "Ce s-a schimbat" in panel
    assert "Asked for a photo." in panel and agent.username in panel
    assert "Deschis" in panel and "Așteaptă clientul" in panel  # the status, before and after
    assert "birthday 14 March" in panel and "+40 721 000 111" in panel
