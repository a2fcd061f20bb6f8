"""Business actions on courier claims: each one transaction, the claim's row locked, allowed moves only.

A claim is opened once per remedy (the unique remedy column), when a remedy recoverable from a courier takes
effect (policies.services calls claim_open_for_remedy). Every move is recorded on the case's timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from caseapp.money import to_money
from caseapp.roles import is_manager
from cases.models import Attachment, CaseEventKind
from cases.services import case_event_append
from cases.timeline import say, say_text
from orders.models import ShipmentEvent, TrackingEventCode
from policies.models import Remedy, RemedyStatus

from .models import CLAIM_TRANSITIONS, Claim, ClaimStatus

# The tracking events that say the courier failed: the first of them starts the courier's claim window.
FAILURE_EVENT_CODES = (
    TrackingEventCode.DELAYED, TrackingEventCode.DELIVERY_FAILED, TrackingEventCode.LOST,
    TrackingEventCode.RETURNED, TrackingEventCode.REFUSED, TrackingEventCode.EXCEPTION,
)


def _shipment_of(remedy: Remedy):
    """The case's shipment carried by the courier the remedy is recoverable from (else the case's own)."""
    from policies.selectors import case_shipment

    case = remedy.case
    if case.order_id:
        carried = (case.order.shipments.filter(courier_id=remedy.recoverable_from_id, is_replacement=False)
                   .order_by("created_at", "id").first())
        if carried is not None:
            return carried
    return case_shipment(case)


def _evidence(remedy: Remedy, shipment) -> tuple[dict, datetime]:
    """The snapshot a claim carries, and the failure's time (the first failing tracking event, else the remedy's)."""
    events = list(ShipmentEvent.objects.filter(shipment=shipment).order_by("occurred_at", "id")) if shipment else []
    failure = next((event for event in events if event.code in FAILURE_EVENT_CODES), None)
    failed_at = failure.occurred_at if failure else (remedy.applied_at or remedy.proposed_at)
    evidence = {
        "shipment": None if shipment is None else {
            "id": shipment.pk, "courier": shipment.courier.name, "tracking_number": shipment.tracking_number,
            "status": shipment.status, "handed_over_at": shipment.handed_over_at.isoformat() if shipment.handed_over_at else None,
            "estimated_delivery": shipment.estimated_delivery.isoformat() if shipment.estimated_delivery else None,
        },
        "tracking": [{"occurred_at": event.occurred_at.isoformat(), "code": event.code, "text": event.text,
                      "location": event.location, "external_id": event.external_id} for event in events],
        "failure_event": None if failure is None else {"occurred_at": failure.occurred_at.isoformat(),
                                                       "code": failure.code},
        "remedy": {"id": remedy.pk, "kind": remedy.kind, "amount": str(remedy.amount), "currency": remedy.currency,
                   "rule_id": remedy.rule_id, "rationale": remedy.rationale, "budget": remedy.budget,
                   "applied_at": remedy.applied_at.isoformat() if remedy.applied_at else None},
        "attachment_ids": list(Attachment.objects.filter(case_id=remedy.case_id).order_by("id")
                               .values_list("id", flat=True)),
    }
    return evidence, failed_at


def _timeline(claim: Claim, *, by, said: dict, kind: str = CaseEventKind.NOTE, **data) -> None:
    case_event_append(
        case=claim.case, kind=kind, actor=by, text=say_text(said),
        data={"claim_id": claim.pk, "claim_status": claim.status, "courier": claim.courier.name,
              "amount": str(claim.amount), "currency": claim.currency, "say": said, **data},
    )


def _money(amount, currency) -> dict:
    return {"money": [str(amount), currency]}


@transaction.atomic
def claim_open_for_remedy(remedy: Remedy) -> Claim | None:
    """The claim of an applied remedy whose cost is recoverable from a courier: opened once, however often this
    is called (the remedy re-applied, approved, a task retried). None when there is nothing to claim."""
    remedy = Remedy.objects.select_related("case__order", "case__shipment", "recoverable_from").get(pk=remedy.pk)
    if remedy.status != RemedyStatus.APPLIED or remedy.recoverable_from_id is None or remedy.amount <= 0:
        return None
    existing = Claim.objects.filter(remedy=remedy).first()
    if existing is not None:
        return existing
    courier = remedy.recoverable_from
    evidence, failed_at = _evidence(remedy, _shipment_of(remedy))
    deadline = timezone.localtime(failed_at).date() + timedelta(days=courier.claim_window_days)
    claim = Claim(remedy=remedy, courier=courier, case=remedy.case, amount=remedy.amount, currency=remedy.currency,
                  evidence=evidence, failed_at=failed_at, deadline=deadline)
    try:
        with transaction.atomic():  # the unique remedy column is claimed here, in the transaction that does the work
            claim.save()
    except IntegrityError:
        return Claim.objects.get(remedy=remedy)
    _timeline(claim, by=None, kind=CaseEventKind.DETECTED, opened=True, said=say(
        gettext_noop("Claim opened against %(courier)s for %(amount)s, to file by %(deadline)s"),
        courier=courier.name, amount=_money(claim.amount, claim.currency), deadline={"date": deadline.isoformat()}))
    return claim


def _claim_locked(claim: Claim, by, to: str) -> Claim:
    if by is None or not is_manager(by):
        raise PermissionDenied(_("Only a manager works courier claims."))
    claim = Claim.objects.select_for_update(of=("self",)).select_related("courier", "case").get(pk=claim.pk)
    if to not in CLAIM_TRANSITIONS[ClaimStatus(claim.status)]:
        raise ValidationError({"status": _("A claim that is %(status)s cannot become %(to)s.") % {
            "status": claim.get_status_display().lower(), "to": ClaimStatus(to).label.lower()}})
    return claim


@transaction.atomic
def claim_file(*, claim: Claim, by, reference: str) -> Claim:
    """The claim is sent to the courier; the courier's reference is recorded."""
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": _("Give the courier's reference for the claim.")})
    if len(reference) > 100:
        raise ValidationError({"reference": _("A reference is at most 100 characters.")})
    claim = _claim_locked(claim, by, ClaimStatus.FILED)
    claim.status, claim.courier_reference = ClaimStatus.FILED, reference
    claim.filed_at, claim.filed_by = timezone.now(), by
    claim.save(update_fields=["status", "courier_reference", "filed_at", "filed_by", "updated_at"])
    _timeline(claim, by=by, said=say(gettext_noop("Claim filed with %(courier)s, reference %(reference)s"),
                                     courier=claim.courier.name, reference=reference))
    return claim


@transaction.atomic
def claim_accept(*, claim: Claim, by) -> Claim:
    """The courier accepts the claim (the money comes later: claim_pay)."""
    claim = _claim_locked(claim, by, ClaimStatus.ACCEPTED)
    claim.status, claim.decided_at = ClaimStatus.ACCEPTED, timezone.now()
    claim.save(update_fields=["status", "decided_at", "updated_at"])
    _timeline(claim, by=by, said=say(gettext_noop("Claim accepted by %(courier)s"), courier=claim.courier.name))
    return claim


@transaction.atomic
def claim_reject(*, claim: Claim, by, reason: str) -> Claim:
    """The courier rejects the claim, with the courier's reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the courier rejected the claim.")})
    claim = _claim_locked(claim, by, ClaimStatus.REJECTED)
    claim.status, claim.decided_at, claim.note = ClaimStatus.REJECTED, timezone.now(), reason
    claim.save(update_fields=["status", "decided_at", "note", "updated_at"])
    _timeline(claim, by=by, said=say(gettext_noop("Claim rejected by %(courier)s: %(reason)s"),
                                     courier=claim.courier.name, reason=reason))
    return claim


@transaction.atomic
def claim_pay(*, claim: Claim, by, recovered) -> Claim:
    """The courier paid: what it actually paid is recorded, never more than was claimed (a part is allowed)."""
    try:
        recovered = to_money(recovered)
    except ValidationError as exc:
        raise ValidationError({"recovered": exc.messages}) from exc
    if recovered < 0:
        raise ValidationError({"recovered": _("An amount cannot be negative.")})
    claim = _claim_locked(claim, by, ClaimStatus.PAID)
    if recovered > claim.amount:
        raise ValidationError({"recovered": _("The courier cannot pay back more than was claimed.")})
    now = timezone.now()
    claim.status, claim.recovered_amount, claim.paid_at, claim.closed_at = ClaimStatus.PAID, recovered, now, now
    claim.save(update_fields=["status", "recovered_amount", "paid_at", "closed_at", "updated_at"])
    _timeline(claim, by=by, recovered=str(recovered), said=say(
        gettext_noop("Claim paid by %(courier)s: %(recovered)s of %(amount)s recovered"),
        courier=claim.courier.name, recovered=_money(recovered, claim.currency),
        amount=_money(claim.amount, claim.currency)))
    return claim


@transaction.atomic
def claim_write_off(*, claim: Claim, by, reason: str) -> Claim:
    """The claim is closed unpaid (rejected for good, never filed in time, or not worth pursuing)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the claim is written off.")})
    claim = _claim_locked(claim, by, ClaimStatus.WRITTEN_OFF)
    claim.status, claim.closed_at = ClaimStatus.WRITTEN_OFF, timezone.now()
    claim.note = f"{claim.note}\n{reason}".strip() if claim.note else reason
    claim.save(update_fields=["status", "closed_at", "note", "updated_at"])
    _timeline(claim, by=by, said=say(gettext_noop("Claim written off: %(reason)s"), reason=reason))
    return claim


CLAIM_ACTIONS = {  # the dashboard's and the API's action names
    "file": claim_file, "accept": claim_accept, "reject": claim_reject, "pay": claim_pay, "write_off": claim_write_off,
}
