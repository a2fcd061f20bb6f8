"""Business actions on cases and promises: each one transaction, each leaving its mark on the timeline."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from caseapp import permissions

from .models import OPEN_STATUSES, Case, CaseEvent, CaseEventKind, CaseStatus, Promise, PromiseStatus
from .timeline import say


def case_event_append(*, case: Case, kind: str, text: str = "", actor=None, data: dict | None = None,
                      occurred_at: datetime | None = None) -> CaseEvent:
    """Add one event to a case's timeline (callers hold the transaction)."""
    return CaseEvent.objects.create(
        case=case, kind=kind, text=text, actor=actor, data=data or {}, occurred_at=occurred_at or timezone.now()
    )


# A client's clock may run a little ahead of ours: a reported time up to this far after arrival is accepted.
REPORTED_AT_CLOCK_SKEW = timedelta(minutes=5)


def _reported_at_check(*, reported_at: datetime | None, arrived_at: datetime, customer) -> None:
    """When the customer says they wrote or called: not after caseapp received it, not before they were a
    customer (their `customer_since` day, in the shop's time zone)."""
    if reported_at is None:
        return
    if timezone.is_naive(reported_at):
        raise ValidationError({"reported_at": _("Give the time with its time zone.")})
    if reported_at > arrived_at + REPORTED_AT_CLOCK_SKEW:
        raise ValidationError({"reported_at": _("A case cannot be reported in the future.")})
    since = customer.customer_since
    if since and reported_at < timezone.make_aware(datetime.combine(since, time.min),
                                                   timezone.get_default_timezone()):
        raise ValidationError({"reported_at": _("A case cannot be reported before the customer existed.")})


@transaction.atomic
def case_open(
    *, customer, category: str, channel: str, subject: str, description: str = "", order=None, shipment=None,
    voucher=None, reported_at: datetime | None = None, arrived_at: datetime | None = None, owner=None,
    opened_by=None, detection: dict | None = None,
) -> Case:
    """Open a case. Its due times come from the service levels in settings, never from the customer's spend.

    The queue is first come, first served by `arrived_at`, the time caseapp received the case: now. Clients
    (the API, forms, imports, email) never set it; when they know when the customer really wrote or called,
    they pass `reported_at`, which is stored and shown but orders nothing and moves no clock. `arrived_at` is
    only for loading history (seed_demo, tests).
    The order, shipment and voucher must be the customer's (Case.clean), or nothing is saved.
    """
    arrived_at = arrived_at or timezone.now()
    _reported_at_check(reported_at=reported_at, arrived_at=arrived_at, customer=customer)
    case = Case(
        customer=customer, category=category, channel=channel, subject=subject.strip(), description=description,
        order=order, shipment=shipment, voucher=voucher, arrived_at=arrived_at, reported_at=reported_at,
        owner=owner, first_response_due_at=arrived_at + settings.CASE_FIRST_RESPONSE_SLA,
        resolution_due_at=arrived_at + settings.CASE_RESOLUTION_SLA,
    )
    case.full_clean()
    case.save()
    data = detection or {"channel": channel}
    if reported_at is not None:
        data = {**data, "reported_at": reported_at.isoformat()}
    case_event_append(
        case=case, kind=CaseEventKind.DETECTED if detection else CaseEventKind.CREATED, actor=opened_by,
        text=subject, data=data, occurred_at=arrived_at,
    )
    return case


@transaction.atomic
def case_assign(*, case: Case, owner, by=None) -> Case:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if by is not None:
        permissions.require(permissions.can_assign_case(by, case, owner),
                            _("Only a manager gives a case to somebody else."))
    if case.owner_id == (owner.pk if owner else None):
        return case
    previous = case.owner.get_username() if case.owner_id else None
    case.owner = owner
    case.save(update_fields=["owner", "updated_at"])
    case_event_append(
        case=case, kind=CaseEventKind.OWNER_CHANGED, actor=by,
        text=f"Owner: {owner.get_username() if owner else 'nobody'}",
        data={"from": previous, "to": owner.get_username() if owner else None},
    )
    return case


@transaction.atomic
def case_take_next(*, agent) -> Case | None:
    """Give the agent the oldest unowned open case. Two agents pressing at once get two different cases."""
    case = (
        Case.objects.select_for_update(skip_locked=True)
        .filter(owner__isnull=True, status__in=OPEN_STATUSES)
        .order_by("arrived_at", "arrival_number")
        .first()
    )
    if case is None:
        return None
    case.owner = agent
    fields = ["owner", "updated_at"]
    if case.status == CaseStatus.NEW:
        case.status = CaseStatus.OPEN
        fields.append("status")
    case.save(update_fields=fields)
    case_event_append(case=case, kind=CaseEventKind.OWNER_CHANGED, actor=agent,
                      text=f"Taken by {agent.get_username()}", data={"to": agent.get_username(), "take_next": True})
    return case


ALLOWED_TRANSITIONS = {
    CaseStatus.NEW: {CaseStatus.OPEN, CaseStatus.WAITING_ON_SHOP, CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED,
                     CaseStatus.CLOSED},
    CaseStatus.OPEN: {CaseStatus.WAITING_ON_SHOP, CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED,
                      CaseStatus.CLOSED},
    CaseStatus.WAITING_ON_SHOP: {CaseStatus.OPEN, CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED,
                                 CaseStatus.CLOSED},
    CaseStatus.WAITING_ON_CUSTOMER: {CaseStatus.OPEN, CaseStatus.WAITING_ON_SHOP, CaseStatus.RESOLVED,
                                     CaseStatus.CLOSED},
    CaseStatus.RESOLVED: {CaseStatus.OPEN, CaseStatus.CLOSED},  # reopen allowed
    CaseStatus.CLOSED: {CaseStatus.OPEN},  # reopen allowed
}


@transaction.atomic
def case_change_status(*, case: Case, status: str, by=None, reason: str = "") -> Case:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if by is not None:
        permissions.require(permissions.can_work_case(by, case))
    if status not in CaseStatus.values:
        raise ValidationError({"status": f"{status!r} is not a case status."})
    if status == case.status:
        return case
    if status not in ALLOWED_TRANSITIONS[case.status]:
        raise ValidationError({"status": f"A {case.get_status_display().lower()} case cannot become {status}."})
    previous = case.status
    case.status = status
    fields = ["status", "updated_at"]
    now = timezone.now()
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and not case.resolved_at:
        case.resolved_at = now
        fields.append("resolved_at")
    if status == CaseStatus.OPEN and previous in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case.resolved_at = None
        case.resolution_due_at = max(case.resolution_due_at, now + settings.CASE_RESOLUTION_SLA)
        fields += ["resolved_at", "resolution_due_at"]
    case.save(update_fields=fields)
    case_event_append(case=case, kind=CaseEventKind.STATUS_CHANGED, actor=by, text=reason,
                      data={"from": previous, "to": status, "reopened": previous in (CaseStatus.RESOLVED,
                                                                                    CaseStatus.CLOSED)})
    return case


@transaction.atomic
def case_note_add(*, case: Case, text: str, by, kind: str = CaseEventKind.NOTE) -> CaseEvent:
    if not (text or "").strip():
        raise ValidationError({"text": "A note cannot be empty."})
    if kind not in (CaseEventKind.NOTE, CaseEventKind.CALL, CaseEventKind.EMAIL_IN):
        raise ValidationError({"kind": f"{kind!r} is not something an agent records by hand."})
    case = Case.objects.select_for_update().get(pk=case.pk)
    if by is not None:
        permissions.require(permissions.can_work_case(by, case))
    event = case_event_append(case=case, kind=kind, text=text.strip(), actor=by)
    if kind == CaseEventKind.CALL and case.first_responded_at is None:  # a call answers the customer
        case.first_responded_at = event.occurred_at
        case.save(update_fields=["first_responded_at", "updated_at"])
    return event


def case_mark_first_response(*, case: Case, at: datetime | None = None) -> None:
    """Record the first answer to the customer (an email out or a call), once."""
    Case.objects.filter(pk=case.pk, first_responded_at__isnull=True).update(first_responded_at=at or timezone.now())


@transaction.atomic
def promise_record(
    *, case: Case, description: str, due_at: datetime, owner, made_by=None, made_by_name: str = "",
    made_at: datetime | None = None,
) -> Promise:
    """Record a promise made to the customer, so a colleague can neither forget nor deny it."""
    promise = Promise(
        case=case, description=(description or "").strip(), due_at=due_at, owner=owner, made_by=made_by,
        made_by_name=(made_by_name or "").strip(), made_at=made_at or timezone.now(),
    )
    promise.full_clean()
    promise.save()
    maker = made_by_name or (made_by.get_username() if made_by else "")
    said = say(gettext_noop("%(maker)s promised: %(promise)s (due %(due)s)"), maker=maker,
               promise=promise.description, due={"datetime": due_at.isoformat()})
    case_event_append(
        case=case, kind=CaseEventKind.PROMISE_MADE, actor=made_by,
        text=f"{maker} promised: {promise.description} (due {timezone.localtime(due_at):%Y-%m-%d %H:%M})",
        data={"promise_id": promise.pk, "owner": owner.get_username(), "due_at": due_at.isoformat(), "say": said},
        occurred_at=promise.made_at,  # a promise recorded later stands on the timeline when it was made
    )
    return promise


@transaction.atomic
def promise_close(*, promise: Promise, kept: bool, by=None, note: str = "") -> Promise:
    promise = Promise.objects.select_for_update().select_related("case").get(pk=promise.pk)
    if by is not None:
        permissions.require(permissions.can_work_case(by, promise.case))
    if promise.status != PromiseStatus.OPEN:
        raise ValidationError({"status": f"This promise is already {promise.status}."})
    promise.status = PromiseStatus.KEPT if kept else PromiseStatus.BROKEN
    promise.closed_at = timezone.now()
    promise.save(update_fields=["status", "closed_at"])
    case_event_append(
        case=promise.case, kind=CaseEventKind.PROMISE_KEPT if kept else CaseEventKind.PROMISE_BROKEN, actor=by,
        text=note or promise.description, data={"promise_id": promise.pk},
    )
    return promise


def _delivery_mismatches(order, received: list[dict]) -> list[str]:
    """What arrived against what was ordered, by SKU: missing, short, or another variant (style, colour, size)."""
    got: dict[str, dict] = {}
    for index, item in enumerate(received):
        sku = (item.get("sku") or "").strip()
        if not sku:
            raise ValidationError({"received": f"Item {index + 1}: say which SKU arrived."})
        try:
            quantity = int(item.get("quantity", 1))
        except (TypeError, ValueError) as exc:
            raise ValidationError({"received": f"Item {index + 1}: quantity must be a whole number."}) from exc
        if quantity < 0:
            raise ValidationError({"received": f"Item {index + 1}: quantity cannot be negative."})
        entry = got.setdefault(sku, {"quantity": 0, "variants": set()})
        entry["quantity"] += quantity
        if item.get("variant"):
            entry["variants"].add(item["variant"].strip())
    problems = []
    for line in order.lines.all():
        entry = got.get(line.sku)
        if entry is None or entry["quantity"] == 0:
            problems.append(f"{line.name} ({line.sku}) missing")
            continue
        if entry["quantity"] < line.quantity:
            problems.append(f"{line.name}: {entry['quantity']} of {line.quantity} arrived")
        other = entry["variants"] - {line.variant}
        if line.variant and other:
            problems.append(f"{line.name}: ordered {line.variant}, received {', '.join(sorted(other))}")
    ordered = set(order.lines.values_list("sku", flat=True))
    problems += [f"{sku} arrived but was not ordered" for sku in sorted(set(got) - ordered)]
    return problems


@transaction.atomic
def delivery_check(*, shipment, received: list[dict], by=None) -> Case | None:
    """Compare what the customer received with the order. A mismatch reopens the order's case (or opens one).

    Returns the case that now carries the mismatch, or None when everything matched. A person reporting it
    (`by`) must be allowed to work the shipment and the case it would reopen (caseapp.permissions): another
    agent's case, even resolved, is reopened only by its owner or a manager.
    """
    order = shipment.order
    case = (Case.objects.select_for_update().filter(order=order).order_by("-arrived_at", "-arrival_number")
            .first())
    if by is not None:
        permissions.require(permissions.can_work_shipment(by, shipment))
        if case is not None:
            permissions.require(permissions.can_work_case(by, case))
    problems = _delivery_mismatches(order, received)
    if not problems:
        return None
    missing_only = all("missing" in p or " of " in p for p in problems)
    category = "incomplete_order" if missing_only else "wrong_item"
    summary = "Delivered items do not match the order: " + "; ".join(problems)
    detection = {"rule": "delivery_mismatch", "shipment": shipment.pk, "problems": problems}
    if case is None:
        return case_open(customer=order.customer, order=order, shipment=shipment, category=category,
                         channel="system", subject=summary[:200], detection=detection)
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case = case_change_status(case=case, status=CaseStatus.OPEN, by=by, reason=summary)
    case_event_append(case=case, kind=CaseEventKind.DETECTED, actor=by, text=summary, data=detection)
    return case
