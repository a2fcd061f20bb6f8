from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from cases.models import Case, CaseCategory, CaseChannel
from customers.models import Customer
from policies.models import Remedy, RemedyStatus


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def agent_client(client, agent):
    return login(client, agent)


@pytest.fixture
def manager_client(client, manager):
    return login(client, manager)


def make_remedy(*, case, amount="10.00", currency="EUR", kind="discount", status=RemedyStatus.APPLIED,
                budget="customer_care", recoverable_from=None, proposed_by=None, applied_at=None, key=None,
                needs_approval=False):
    now = timezone.now()
    return Remedy.objects.create(
        case=case, customer=case.customer, kind=kind, amount=Decimal(amount), currency=currency, budget=budget,
        recoverable_from=recoverable_from, rule_id="test-rule", rationale="Because the test says so.",
        proposal_key=key or f"test/{case.pk}/{kind}/{Remedy.objects.count()}", status=status,
        needs_approval=needs_approval, proposed_by=proposed_by, proposed_at=applied_at or now,
        applied_at=(applied_at or now) if status == RemedyStatus.APPLIED else None,
        decision_reason="Not this time." if status == RemedyStatus.REJECTED else "",
    )


def bulk_cases(count: int, *, start=None, owner=None, **fields) -> list[Case]:
    """Many customers with one case each, in two INSERTs (for the query-count tests)."""
    start = start or timezone.now() - timedelta(days=2)
    first = Customer.objects.count()
    customers = Customer.objects.bulk_create(
        Customer(name=f"Bulk {first + i}", email=f"bulk{first + i}@mail.example") for i in range(count)
    )
    cases = []
    for i, customer in enumerate(customers):
        arrived = start + timedelta(minutes=i)
        cases.append(Case(
            customer=customer, category=fields.get("category", CaseCategory.OTHER),
            channel=fields.get("channel", CaseChannel.EMAIL), subject=f"Bulk case {i}", owner=owner,
            arrived_at=arrived, first_response_due_at=arrived + settings.CASE_FIRST_RESPONSE_SLA,
            resolution_due_at=arrived + settings.CASE_RESOLUTION_SLA,
        ))
    return Case.objects.bulk_create(cases)
