"""Replaying a policy version over past cases: a report, and nothing written."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.models import CaseEvent
from policies.engine import default_policy_document
from policies.models import PolicyVersion, Remedy
from policies.replay import cases_facts_between
from policies.selectors import case_facts
from policies.services import policy_replay, policy_version_create
from tests.factories import CaseFactory, OrderFactory, ShipmentFactory, VoucherFactory
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


@pytest.fixture
def generous(policy, manager):
    """Version 2: the late-delivery discount is 10% instead of 5%."""
    document = default_policy_document()
    rule = next(r for r in document["rules"] if r["id"] == "late-delivery-discount")
    rule["remedy"]["parameters"]["amount"]["percent"] = "10"
    return policy_version_create(document=document, author=manager, note="10% for late orders")


def test_bulk_facts_match_the_single_case_selector(late_case, cod_case, wrong_item_case):
    # given three cases that arrived today
    today = timezone.localdate()
    # when the replay builds their facts in one query
    bulk = {facts.case_id: facts for facts in cases_facts_between(date_from=today, date_to=today)}
    # then they are the facts case_facts builds for each of them today
    for case in (late_case, cod_case, wrong_item_case):
        assert bulk[case.pk] == case_facts(case=case, today=today)


def test_replay_reports_costs_and_differences_and_writes_nothing(late_case, wrong_item_case, generous):
    # given a voucher case that arrived last week, outside the range
    today = timezone.localdate()
    voucher = VoucherFactory(valid_until=today - timedelta(days=20))
    CaseFactory(customer=voucher.holder, voucher=voucher, category="voucher_expired",
                arrived_at=timezone.now() - timedelta(days=7))
    counts = (Remedy.objects.count(), Voucher.objects.count(), CaseEvent.objects.count(),
              PolicyVersion.objects.count())
    # when version 2 is replayed over today's cases
    report = policy_replay(version=generous, date_from=today, date_to=today)
    # then it counts remedies and costs per currency and budget
    assert (report.version, report.compared_with, report.cases, report.cases_with_remedy) == (2, 1, 2, 2)
    assert report.remedies_by_kind == {"discount": 1, "replacement": 1}
    assert report.cost_by_currency == {"EUR": Decimal("67.99")}  # 10% of 79.90 + 60.00
    assert report.cost_by_budget == {"customer_care": {"EUR": Decimal("7.99")}, "quality": {"EUR": Decimal("60.00")}}
    assert report.active_cost_by_currency == {"EUR": Decimal("64.00")}
    # and shows the one case whose outcome differs, with both rationales
    assert report.differing_cases == 1
    (difference,) = report.differences
    assert difference.case_id == late_case.pk
    assert "10% discount of 7.99 EUR" in difference.rationale
    assert "5% discount of 4.00 EUR" in difference.active_rationale
    # and nothing was written
    assert counts == (Remedy.objects.count(), Voucher.objects.count(), CaseEvent.objects.count(),
                      PolicyVersion.objects.count())


def test_replay_uses_the_facts_as_of_arrival(policy):
    # given a case that arrived 40 days ago, when its order was three days late; the customer ordered again since
    arrived = timezone.now() - timedelta(days=40)
    order = OrderFactory(total=Decimal("100.00"), placed_at=arrived - timedelta(days=10),
                         promised_delivery_date=timezone.localdate(arrived) - timedelta(days=3))
    OrderFactory(customer=order.customer, placed_at=arrived + timedelta(days=5))
    shipment = ShipmentFactory(order=order, status="delayed", handed_over_at=arrived - timedelta(days=8),
                               estimated_delivery=None)
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="late_delivery",
                       arrived_at=arrived)
    # when its facts are rebuilt for the replay
    (facts,) = cases_facts_between(date_from=timezone.localdate(arrived), date_to=timezone.localdate(arrived))
    # then they are those of its arrival day
    assert (facts.case_id, facts.today, facts.days_late, facts.order_count) == (
        case.pk, timezone.localdate(arrived), 3, 1)


def test_simulate_policy_command(late_case, generous):
    today = timezone.localdate().isoformat()
    out = io.StringIO()
    call_command("simulate_policy", "--version", "2", "--from", today, "--to", today, stdout=out)
    text = out.getvalue()
    assert "Policy version 2 over cases that arrived" in text and "compared with active version 1" in text
    assert "Cases whose outcome differs from the active version: 1" in text
    assert f"#{late_case.pk}" in text and "10% discount" in text and "5% discount" in text
    out = io.StringIO()
    call_command("simulate_policy", "--version", "2", "--from", today, "--to", today, "--json", stdout=out)
    assert '"differing_cases": 1' in out.getvalue()
    with pytest.raises(CommandError, match="no policy version 9"):
        call_command("simulate_policy", "--version", "9", "--from", today, "--to", today)
    with pytest.raises(CommandError, match="not a date"):
        call_command("simulate_policy", "--version", "2", "--from", "yesterday", "--to", today)
