"""A courier claim: opened once per remedy, through every state, and bad input refused with field errors."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.models import CaseEvent
from claims.models import Claim, ClaimStatus
from claims.services import (
    claim_accept,
    claim_file,
    claim_open_for_remedy,
    claim_pay,
    claim_reject,
    claim_write_off,
)
from policies.models import RemedyStatus
from policies.services import remedy_approve, remedy_override

from .conftest import apply_refund, lost_parcel_case

pytestmark = pytest.mark.django_db


def claim_events(case):
    return [event for event in CaseEvent.objects.filter(case=case).order_by("id") if "claim_id" in event.data]


def test_applying_a_recoverable_remedy_opens_one_claim_with_its_evidence(lost_case, agent):
    # when the agent applies the refund of a lost parcel, twice (a double click)
    remedy = apply_refund(lost_case, agent)
    again = apply_refund(lost_case, agent)
    claim_open_for_remedy(remedy)  # and the hook runs once more (a retried task)
    # then one claim, against the courier, for the refund, due 21 days after the tracking said "lost"
    assert again.pk == remedy.pk and remedy.status == RemedyStatus.APPLIED
    claim = Claim.objects.get()
    assert (claim.remedy_id, claim.courier.name, claim.case_id) == (remedy.pk, "SlowPost", lost_case.pk)
    assert (claim.amount, claim.currency, claim.status) == (Decimal("120.00"), "EUR", ClaimStatus.TO_FILE)
    lost_at = lost_case.shipment.events.get(code="lost").occurred_at
    assert claim.failed_at == lost_at
    assert claim.deadline == timezone.localtime(lost_at).date() + timedelta(days=21)
    assert [event["code"] for event in claim.evidence["tracking"]] == ["in_transit", "lost"]
    assert claim.evidence["remedy"]["id"] == remedy.pk and claim.evidence["attachment_ids"] == []
    # and the timeline says so, once
    (opened,) = claim_events(lost_case)
    assert "Claim opened against SlowPost for" in opened.text


def test_a_remedy_waiting_for_approval_opens_its_claim_when_approved(policy, agent, manager):
    case = lost_parcel_case(total="400.00", owner=agent)  # above the refund threshold
    remedy = apply_refund(case, agent)
    assert remedy.status == RemedyStatus.PENDING_APPROVAL and not Claim.objects.exists()
    remedy_approve(remedy=remedy, by=manager)
    remedy_approve(remedy=remedy, by=manager)  # the same manager clicked twice
    assert Claim.objects.get().amount == Decimal("400.00")


def test_a_manager_override_recoverable_from_a_courier_opens_a_claim_without_tracking(lost_case, manager):
    remedy = remedy_override(case=lost_case, by=manager, kind="absorb_cost", reason="Courier broke the vase",
                             amount="30.00", recoverable_from="SlowPost")
    claim = Claim.objects.get(remedy=remedy)
    assert claim.amount == Decimal("30.00")
    # a remedy with no courier to claim from opens nothing
    remedy_override(case=lost_case, by=manager, kind="absorb_cost", reason="Our mistake", amount="10.00")
    assert Claim.objects.count() == 1


def test_a_claim_through_every_state_with_a_partial_recovery(lost_case, agent, manager):
    claim = Claim.objects.get(remedy=apply_refund(lost_case, agent))
    # when the manager files it, the courier accepts, and pays back part of it
    claim_file(claim=claim, by=manager, reference="SP-CLAIM-778")
    claim_accept(claim=claim, by=manager)
    claim = claim_pay(claim=claim, by=manager, recovered="80.00")
    # then every step is recorded, with the reference and what came back
    claim.refresh_from_db()
    assert (claim.status, claim.courier_reference, claim.recovered_amount) == (
        ClaimStatus.PAID, "SP-CLAIM-778", Decimal("80.00"))
    assert claim.filed_by == manager and claim.filed_at and claim.decided_at and claim.paid_at and claim.closed_at
    texts = [event.text for event in claim_events(lost_case)]
    assert texts[1:] == ["Claim filed with SlowPost, reference SP-CLAIM-778", "Claim accepted by SlowPost",
                         "Claim paid by SlowPost: 80.00\xa0EUR of 120.00\xa0EUR recovered"]
    # and a paid claim moves no more
    with pytest.raises(ValidationError) as closed:
        claim_write_off(claim=claim, by=manager, reason="too late")
    assert "status" in closed.value.message_dict


def test_a_rejected_claim_is_written_off(lost_case, agent, manager):
    claim = Claim.objects.get(remedy=apply_refund(lost_case, agent))
    claim_file(claim=claim, by=manager, reference="SP-9")
    claim_reject(claim=claim, by=manager, reason="Not insured")
    claim = claim_write_off(claim=claim, by=manager, reason="Not worth a lawyer")
    assert claim.status == ClaimStatus.WRITTEN_OFF and claim.recovered_amount is None
    assert claim.note == "Not insured\nNot worth a lawyer"


def test_bad_input_is_a_field_error_and_changes_nothing(lost_case, agent, manager):
    claim = Claim.objects.get(remedy=apply_refund(lost_case, agent))
    events = CaseEvent.objects.count()

    def refused(action, field, **kwargs):
        with pytest.raises(ValidationError) as raised:
            action(claim=claim, by=manager, **kwargs)
        assert field in raised.value.message_dict, raised.value.message_dict
        return raised.value.message_dict[field][0]

    assert "reference" in refused(claim_file, "reference", reference="  ")
    assert refused(claim_accept, "status") == "A claim that is to file cannot become accepted by the courier."
    assert refused(claim_pay, "status", recovered="1.00")  # not accepted yet
    assert refused(claim_reject, "reason", reason="")
    claim_file(claim=claim, by=manager, reference="SP-1")
    claim_accept(claim=claim, by=manager)
    assert refused(claim_pay, "recovered", recovered="120.01") == "The courier cannot pay back more than was claimed."
    assert refused(claim_pay, "recovered", recovered="-5")
    assert refused(claim_pay, "recovered", recovered="lots")
    assert refused(claim_pay, "recovered", recovered="1.001")
    assert refused(claim_write_off, "reason", reason=" ")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ACCEPTED and claim.recovered_amount is None
    assert CaseEvent.objects.count() == events + 2  # filed and accepted, nothing for the refusals
    # and only a manager works claims
    with pytest.raises(PermissionDenied):
        claim_pay(claim=claim, by=agent, recovered="10.00")


@pytest.mark.parametrize("changes", [
    {"recovered_amount": Decimal("120.01")},  # more than claimed
    {"recovered_amount": Decimal("-1.00")},
    {"status": "filed"},  # filed without the courier's reference
    {"status": "paid", "courier_reference": "X"},  # paid without an amount
    {"status": "lost"},
])
def test_the_database_refuses_what_slips_past_the_services(lost_case, agent, changes):
    from django.db import IntegrityError, transaction

    claim = Claim.objects.get(remedy=apply_refund(lost_case, agent))
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(**changes)
    # and a second claim for the same remedy is refused too
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(remedy=claim.remedy, courier=claim.courier, case=claim.case, amount=claim.amount,
                             currency="EUR", failed_at=claim.failed_at, deadline=claim.deadline)
