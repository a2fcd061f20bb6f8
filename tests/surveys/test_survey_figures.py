"""Where the ratings show: the case page, the customer's 360° view, and the remedy report (one grouped query)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseCategory, CaseStatus
from dashboard.reports import ReportPeriod, satisfaction_tables
from policies.models import Remedy, RemedyStatus
from surveys.models import Survey
from surveys.selectors import customer_satisfaction, satisfaction_by
from tests.factories import CaseFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def rated(*, category, agent, rating, rated_at=None, customer=None, remedies=(), comment=""):
    """A case resolved, surveyed and rated, with the remedies applied on it (hand-made, so the answer is known)."""
    customer = customer or CustomerFactory()
    case = CaseFactory(customer=customer, owner=agent, category=category, status=CaseStatus.RESOLVED)
    rated_at = rated_at or NOW - timedelta(days=3)
    for index, (kind, status) in enumerate(remedies):
        Remedy.objects.create(
            case=case, customer=customer, kind=kind, amount=Decimal("10.00"), currency="EUR", budget="customer_care",
            rule_id="test", rationale="For the test.", proposal_key=f"survey-test/{case.pk}/{index}", status=status,
            applied_at=rated_at - timedelta(days=1) if status == RemedyStatus.APPLIED else None,
        )
    return Survey.objects.create(
        case=case, customer=customer, agent=agent, category=category, resolved_at=rated_at - timedelta(hours=3),
        due_at=rated_at - timedelta(hours=1), sent_at=rated_at - timedelta(hours=1), rating=rating,
        rated_at=rated_at if rating else None, comment=comment, commented_at=rated_at if comment else None,
    )


@pytest.fixture
def ratings(agent, other_agent):
    applied, pending = RemedyStatus.APPLIED, RemedyStatus.PENDING_APPROVAL
    rated(category=CaseCategory.LATE_DELIVERY, agent=agent, rating=5,
          remedies=[("discount", applied), ("refund", applied)])
    rated(category=CaseCategory.LATE_DELIVERY, agent=agent, rating=3,
          remedies=[("discount", applied), ("discount", applied)])  # two discounts: the case counts once
    rated(category=CaseCategory.WRONG_ITEM, agent=other_agent, rating=1, remedies=[("refund", pending)])
    rated(category=CaseCategory.WRONG_ITEM, agent=None, rating=4)
    rated(category=CaseCategory.WRONG_ITEM, agent=agent, rating=5, rated_at=NOW - timedelta(days=800))  # too old
    rated(category=CaseCategory.WRONG_ITEM, agent=agent, rating=None)  # sent, no answer


def by_key(rows):
    return {row["key"]: (row["answers"], row["average"], row["satisfied"]) for row in rows}


def test_the_report_figures_by_category_kind_and_agent_in_one_query(ratings, django_assert_num_queries):
    period = ReportPeriod.default()
    with django_assert_num_queries(1):
        found = satisfaction_by(start=period.start, end=period.end)
    assert by_key(found["category"]) == {"late_delivery": (2, Decimal("4.0"), 1), "wrong_item": (2, Decimal("2.5"), 1)}
    assert by_key(found["kind"]) == {"discount": (2, Decimal("4.0"), 1), "refund": (1, Decimal("5.0"), 1),
                                     "": (2, Decimal("2.5"), 1)}  # the pending refund is no remedy
    assert by_key(found["agent"]) == {"alice": (2, Decimal("4.0"), 1), "bob": (1, Decimal("1.0"), 0),
                                      "": (1, Decimal("4.0"), 1)}
    late = next(row for row in found["category"] if row["key"] == "late_delivery")
    assert late["satisfied_share"] == Decimal("50.0")


def test_the_report_labels_the_groups_in_the_readers_language(ratings):
    from django.utils import translation

    with translation.override("ro"):
        tables = dict((name, rows) for name, _title, rows in satisfaction_tables(ReportPeriod.default()))
    labels = {row["key"]: row["label"] for row in tables["kind"]}
    assert labels["discount"] == "Reducere" and labels[""] == "fără remediu"
    assert {row["label"] for row in tables["category"]} == {"Livrare întârziată", "Produs greșit"}


def test_the_remedy_report_page_shows_the_satisfaction_tables(client, manager, ratings):
    client.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("dashboard:remedy_report")).content.decode()
    assert 'id="satisfaction-category"' in page and 'id="satisfaction-agent"' in page
    assert '<tr data-key="late_delivery"><td>Late delivery</td><td>2</td><td>4.0</td><td>50.0% (1)</td></tr>' in page
    assert '<tr data-key="bob"><td>bob</td><td>1</td><td>1.0</td><td>0.0% (0)</td></tr>' in page


def test_the_case_page_shows_the_cases_rating_and_the_customers_average_and_last(client, agent):
    customer = CustomerFactory()
    rated(category=CaseCategory.OTHER, agent=agent, rating=2, customer=customer, rated_at=NOW - timedelta(days=9))
    survey = rated(category=CaseCategory.OTHER, agent=agent, rating=5, customer=customer,
                   rated_at=NOW - timedelta(days=1), comment="The <b>rug</b> arrived, thanks")
    facts = customer_satisfaction(customer=customer)
    assert (facts.rated_count, facts.average, facts.last_rating) == (2, Decimal("3.5"), 5)
    client.force_login(agent, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("dashboard:case", kwargs={"pk": survey.case_id})).content.decode()
    assert "3.5 of 5 on average (2 ratings), last 5" in page
    assert 'id="survey-rating"' in page and "5 of 5" in page and "Very satisfied" in page
    assert "The &lt;b&gt;rug&lt;/b&gt; arrived, thanks" in page  # the customer's text, escaped


def test_a_customer_without_ratings_says_so(client, agent):
    case = CaseFactory(owner=agent)
    assert customer_satisfaction(customer=case.customer).rated_count == 0
    client.force_login(agent, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("dashboard:case", kwargs={"pk": case.pk})).content.decode()
    assert "no rating yet" in page and 'id="survey"' not in page


def test_the_api_shows_a_cases_survey_and_null_without_one(agent, manager):
    from tests.api.conftest import token_client

    client = token_client(agent, by=manager)
    survey = rated(category=CaseCategory.OTHER, agent=agent, rating=4, comment="Fine")
    body = client.get(f"/api/v1/cases/{survey.case_id}/").json()
    assert body["survey"]["rating"] == 4 and body["survey"]["comment"] == "Fine"
    other = CaseFactory(owner=agent)
    assert client.get(f"/api/v1/cases/{other.pk}/").json()["survey"] is None
