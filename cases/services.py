"""Business actions on cases and promises: each one transaction, each leaving its mark on the timeline."""

import hashlib
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from caseapp import permissions
from caseapp.money import ZERO

from .models import (
    OPEN_STATUSES,
    Attachment,
    AttachmentSource,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    Promise,
    PromiseStatus,
)
from .timeline import say, say_text


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


# --- The one status rule -----------------------------------------------------------------------------------
# What a person (or caseapp) does to a case moves its status, always the same way, whichever service does it:
#   taken (an owner)                      new -> open
#   worked (a remedy, a call or note, a promise, a delivery check)    new -> open
#   replied to the customer               new, open, waiting on shop -> waiting on the customer
#   the customer wrote                    new, waiting on the customer -> open
#   needs a person (caseapp cannot tell)  new, open, waiting on the customer -> waiting on shop
# Resolved and closed are never automatic: a person says so, and says what becomes of each open promise
# (case_change_status). Any other status is left as it is (a resolved case is reopened only on purpose).
ACT_TAKEN, ACT_WORKED, ACT_REPLIED, ACT_CUSTOMER_WROTE, ACT_NEEDS_PERSON = (
    "taken", "worked", "replied", "customer_wrote", "needs_person")
STATUS_AFTER = {
    ACT_TAKEN: {CaseStatus.NEW: CaseStatus.OPEN},
    ACT_WORKED: {CaseStatus.NEW: CaseStatus.OPEN},
    ACT_REPLIED: {CaseStatus.NEW: CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.OPEN: CaseStatus.WAITING_ON_CUSTOMER,
                  CaseStatus.WAITING_ON_SHOP: CaseStatus.WAITING_ON_CUSTOMER},
    ACT_CUSTOMER_WROTE: {CaseStatus.NEW: CaseStatus.OPEN, CaseStatus.WAITING_ON_CUSTOMER: CaseStatus.OPEN},
    ACT_NEEDS_PERSON: {CaseStatus.NEW: CaseStatus.WAITING_ON_SHOP, CaseStatus.OPEN: CaseStatus.WAITING_ON_SHOP,
                       CaseStatus.WAITING_ON_CUSTOMER: CaseStatus.WAITING_ON_SHOP},
}


def case_status_after(status: str, act: str) -> str:
    """The status a case in ``status`` has after ``act`` (the rule above)."""
    return STATUS_AFTER[act].get(status, status)


def case_status_follow(*, case: Case, act: str, by=None) -> Case:
    """Apply the status rule after an act on the case (callers hold the transaction). Writes a status event only
    when the status changes."""
    if act not in STATUS_AFTER:
        raise ValueError(f"{act!r} is not an act of the status rule")
    row = Case.objects.select_for_update().filter(pk=case.pk).values_list("status", flat=True).first()
    target = case_status_after(row, act)
    if row is None or target == row:
        case.status = row or case.status
        return case
    Case.objects.filter(pk=case.pk).update(status=target, updated_at=timezone.now())
    case.status = target
    case_event_append(case=case, kind=CaseEventKind.STATUS_CHANGED, actor=by,
                      data={"from": row, "to": target, "act": act, "reopened": False})
    return case


@transaction.atomic
def case_assign(*, case: Case, owner, by=None) -> Case:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if by is not None:
        permissions.require(permissions.can_assign_case(by, case, owner),
                            _("Only a manager gives a case to somebody else."))
    if case.owner_id == (owner.pk if owner else None):
        return case_status_follow(case=case, act=ACT_TAKEN, by=by) if owner else case
    previous = case.owner.get_username() if case.owner_id else None
    case.owner = owner
    case.save(update_fields=["owner", "updated_at"])
    case_event_append(
        case=case, kind=CaseEventKind.OWNER_CHANGED, actor=by,
        text=f"Owner: {owner.get_username() if owner else 'nobody'}",
        data={"from": previous, "to": owner.get_username() if owner else None},
    )
    if owner is not None:
        case_status_follow(case=case, act=ACT_TAKEN, by=by)
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
    case.save(update_fields=["owner", "updated_at"])
    case_event_append(case=case, kind=CaseEventKind.OWNER_CHANGED, actor=agent,
                      text=f"Taken by {agent.get_username()}", data={"to": agent.get_username(), "take_next": True})
    return case_status_follow(case=case, act=ACT_TAKEN, by=agent)


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


PROMISE_KEPT, PROMISE_BROKEN, PROMISE_STAYS_OPEN = "kept", "broken", "open"
PROMISE_OUTCOMES = (PROMISE_KEPT, PROMISE_BROKEN, PROMISE_STAYS_OPEN)


def _status_write(case: Case, status: str, now) -> list[str]:
    """Set the status and what goes with it (resolved_at, a reopened case's new resolution clock)."""
    previous = case.status
    case.status = status
    fields = ["status", "updated_at"]
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and not case.resolved_at:
        case.resolved_at = now
        fields.append("resolved_at")
    if status == CaseStatus.OPEN and previous in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case.resolved_at = None
        case.resolution_due_at = max(case.resolution_due_at, now + settings.CASE_RESOLUTION_SLA)
        fields += ["resolved_at", "resolution_due_at"]
    return fields


def _case_reopen_quietly(case: Case) -> None:
    """Reopen a resolved or closed case whose reopening the caller has already put on the timeline."""
    case.save(update_fields=_status_write(case, CaseStatus.OPEN, timezone.now()))


def _promises_settle(case: Case, outcomes: dict, by) -> None:
    """Before a case is resolved or closed, each open promise on it is kept, broken or stays open (its owner keeps
    it after the close), each with a reason when it stays open. Nothing is closed silently."""
    open_promises = list(Promise.objects.select_for_update().filter(case=case, status=PromiseStatus.OPEN)
                         .order_by("due_at", "id"))
    if not open_promises:
        return
    outcomes = {int(key): value for key, value in (outcomes or {}).items()}
    errors = []
    for promise in open_promises:
        outcome, note = outcomes.get(promise.pk, ("", ""))
        note = (note or "").strip()
        if outcome not in PROMISE_OUTCOMES:
            errors.append(f"Say what becomes of the open promise \"{promise.description[:80]}\": kept, broken, or "
                          f"kept open with a reason.")
        elif outcome == PROMISE_STAYS_OPEN and not note:
            errors.append(f"Say why the promise \"{promise.description[:80]}\" stays open after the case is closed.")
    if errors:
        raise ValidationError({"promises": errors})
    for promise in open_promises:
        outcome, note = outcomes[promise.pk]
        if outcome == PROMISE_STAYS_OPEN:
            case_event_append(case=case, kind=CaseEventKind.NOTE, actor=by,
                              text=f"Promise stays open after the case is closed ({promise.owner.get_username()} "
                                   f"keeps it): {promise.description} — {note.strip()}",
                              data={"promise_id": promise.pk, "promise_stays_open": True})
        else:
            promise_close(promise=promise, kept=outcome == PROMISE_KEPT, by=by, note=(note or "").strip())


@transaction.atomic
def case_change_status(*, case: Case, status: str, by=None, reason: str = "",
                       promise_outcomes: dict | None = None) -> Case:
    """Change a case's status on purpose. Resolving or closing a case with open promises needs, for each, what
    becomes of it (``promise_outcomes``: {promise id: (kept | broken | open, note)}); otherwise it is refused."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if by is not None:
        permissions.require(permissions.can_work_case(by, case))
    if status not in CaseStatus.values:
        raise ValidationError({"status": f"{status!r} is not a case status."})
    if status == case.status:
        return case
    if status not in ALLOWED_TRANSITIONS[case.status]:
        raise ValidationError({"status": f"A {case.get_status_display().lower()} case cannot become {status}."})
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        _promises_settle(case, promise_outcomes, by)
    previous = case.status
    fields = _status_write(case, status, timezone.now())
    with audit_context(reason=reason):
        case.save(update_fields=fields)
    case_event_append(case=case, kind=CaseEventKind.STATUS_CHANGED, actor=by, text=reason,
                      data={"from": previous, "to": status, "reopened": previous in (CaseStatus.RESOLVED,
                                                                                    CaseStatus.CLOSED)})
    if status == CaseStatus.RESOLVED:
        from surveys.services import survey_plan  # surveys knows cases, not the other way round

        survey_plan(case=case)
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
    case_status_follow(case=case, act=ACT_CUSTOMER_WROTE if kind == CaseEventKind.EMAIL_IN else ACT_WORKED, by=by)
    return event


def case_mark_first_response(*, case: Case, at: datetime | None = None) -> None:
    """Record the first answer to the customer (an email out or a call), once."""
    Case.objects.filter(pk=case.pk, first_responded_at__isnull=True).update(
        first_responded_at=at or timezone.now(), updated_at=timezone.now())


def cod_correction_promise_key(shipment) -> str:
    """The one promise per case to have the courier correct this shipment's COD label."""
    return f"cod-correction:{shipment.pk}"


@transaction.atomic
def promise_record(
    *, case: Case, description: str, due_at: datetime, owner, made_by=None, made_by_name: str = "",
    made_at: datetime | None = None, key: str = "",
) -> Promise:
    """Record a promise made to the customer, so a colleague can neither forget nor deny it.

    ``key`` names a task that must be promised once per case (e.g. the COD label correction, whether the scan or
    the policy's remedy records it): a second call with the same key returns the promise already recorded."""
    key = (key or "").strip()
    if key:
        existing = Promise.objects.filter(case=case, key=key).first()
        if existing is not None:
            return existing
    promise = Promise(
        case=case, description=(description or "").strip(), due_at=due_at, owner=owner, made_by=made_by,
        made_by_name=(made_by_name or "").strip(), made_at=made_at or timezone.now(), key=key,
    )
    promise.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():  # the unique (case, key) is claimed here
            promise.save()
    except IntegrityError:
        if not key:
            raise
        return Promise.objects.get(case=case, key=key)
    maker = made_by_name or (made_by.get_username() if made_by else "")
    said = say(gettext_noop("%(maker)s promised: %(promise)s (due %(due)s)"), maker=maker,
               promise=promise.description, due={"datetime": due_at.isoformat()})
    case_event_append(
        case=case, kind=CaseEventKind.PROMISE_MADE, actor=made_by,
        text=f"{maker} promised: {promise.description} (due {timezone.localtime(due_at):%Y-%m-%d %H:%M})",
        data={"promise_id": promise.pk, "owner": owner.get_username(), "due_at": due_at.isoformat(), "say": said},
        occurred_at=promise.made_at,  # a promise recorded later stands on the timeline when it was made
    )
    if made_by is not None:
        case_status_follow(case=case, act=ACT_WORKED, by=made_by)
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


DELIVERY_CHECK_RULE = "delivery_mismatch"
UNKNOWN_STYLE = "unknown_style"


def _delivery_mismatches(order, received: list[dict]) -> list[dict]:
    """What arrived against what was ordered, by SKU: missing, short, another variant (style, colour, size), not
    ordered, or another variant than a line without one recorded (which nobody can call a match or a mismatch).

    Each problem is {"kind", "text", "sku", "value"}: ``value`` is what the shop owes for it (the missing or wrong
    pieces at the line's unit price), as a string."""
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
        entry = got.setdefault(sku, {"quantity": 0, "variants": {}})
        entry["quantity"] += quantity
        variant = (item.get("variant") or "").strip()
        if variant:
            entry["variants"][variant] = entry["variants"].get(variant, 0) + quantity
    problems = []

    def problem(kind, text, line=None, pieces=0):
        value = (line.unit_price * pieces) if line is not None else ZERO
        problems.append({"kind": kind, "text": text, "sku": line.sku if line is not None else "", "value": str(value)})

    for line in order.lines.all():
        entry = got.get(line.sku)
        if entry is None or entry["quantity"] == 0:
            problem("missing", f"{line.name} ({line.sku}) missing", line, line.quantity)
            continue
        short = line.quantity - entry["quantity"]
        if short > 0:
            problem("short", f"{line.name}: {entry['quantity']} of {line.quantity} arrived", line, short)
        other = {variant: n for variant, n in entry["variants"].items() if variant != line.variant}
        if other and line.variant:
            wrong = min(sum(other.values()), line.quantity - max(short, 0))
            problem("variant", f"{line.name}: ordered {line.variant}, received {', '.join(sorted(other))}", line,
                    wrong)
        elif other:
            problem(UNKNOWN_STYLE, f"{line.name}: cannot tell: the order line has no style recorded (received "
                                   f"{', '.join(sorted(other))}); a person must check it with the customer", line)
    ordered = set(order.lines.values_list("sku", flat=True))
    for sku in sorted(set(got) - ordered):
        problems.append({"kind": "unexpected", "text": f"{sku} arrived but was not ordered", "sku": sku,
                         "value": str(ZERO)})
    return problems


@transaction.atomic
def delivery_check(*, shipment, received: list[dict], by=None, case: Case | None = None) -> Case | None:
    """Compare what the customer received with the order. A mismatch reopens the order's case (or opens one);
    ``case`` names the case to put it on (the case page's own). A style nobody recorded on the order line is not a
    match: the case is flagged for a person (waiting on the shop) with "cannot tell".

    Returns the case that now carries the mismatch, or None when everything matched. A person reporting it
    (`by`) must be allowed to work the shipment and the case it would reopen (caseapp.permissions): another
    agent's case, even resolved, is reopened only by its owner or a manager."""
    order = shipment.order
    if case is not None and case.order_id != order.pk:
        raise ValidationError({"shipment": "This shipment belongs to another order than the case's."})
    if case is None:
        case = (Case.objects.select_for_update().filter(order=order).order_by("-arrived_at", "-arrival_number")
                .first())
    else:
        case = Case.objects.select_for_update().get(pk=case.pk)
    if by is not None:
        permissions.require(permissions.can_work_shipment(by, shipment))
        if case is not None:
            permissions.require(permissions.can_work_case(by, case))
    problems = _delivery_mismatches(order, received)
    if not problems:
        return None
    kinds = {p["kind"] for p in problems}
    category = "incomplete_order" if kinds <= {"missing", "short"} else "wrong_item"
    texts = [p["text"] for p in problems]
    summary = "Delivered items do not match the order: " + "; ".join(texts)
    value = sum((Decimal(p["value"]) for p in problems), ZERO)
    detection = {"rule": DELIVERY_CHECK_RULE, "shipment": shipment.pk, "problems": texts, "items": problems,
                 "mismatched_lines_value": str(value), "currency": order.currency,
                 "needs_person": UNKNOWN_STYLE in kinds}
    if case is None:
        case = case_open(customer=order.customer, order=order, shipment=shipment, category=category,
                         channel="system", subject=summary[:200], detection=detection)
    else:
        reopened = case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
        # One event says what the check found; a reopen is part of it (its data says from which status).
        case_event_append(case=case, kind=CaseEventKind.DETECTED, actor=by, text=summary,
                          data={**detection, "reopened_from": case.status if reopened else None})
        if reopened:
            _case_reopen_quietly(case)
    if by is not None:
        case_status_follow(case=case, act=ACT_WORKED, by=by)
    if detection["needs_person"]:
        case_status_follow(case=case, act=ACT_NEEDS_PERSON, by=by)
    return case



def _size_words(size: int) -> dict:
    return {"bytes": size}


@transaction.atomic
def attachment_store(*, case: Case, filename: str, content_type: str, data: bytes, source: str, by=None,
                     email=None) -> Attachment | None:
    """Keep a file on a case (an inbound email's attachment, an agent's upload) through Django's storage API.

    A file over CASEAPP_ATTACHMENT_MAX_BYTES, or of a type not in CASEAPP_ATTACHMENT_TYPES (as caseapp decides it
    from the bytes and the name, cases.attachments), is not kept: a note on the timeline says which file and why,
    and None is returned; the rest of what came with it (the email, the form) goes on. A kept file gets a note
    on the timeline too, so the timeline shows every file. ``by`` (an agent uploading) must be allowed to work
    the case. ``email`` is the inbound message it came with (accepted for the email channel; not linked yet)."""
    from . import attachments

    if source not in AttachmentSource.values:
        raise ValueError(f"{source!r} is not an attachment source")
    if by is not None:
        permissions.require(permissions.can_work_case(by, case))
    data = bytes(data or b"")
    name = attachments.filename_sanitize(filename)
    declared = (content_type or "")[:255]
    size = len(data)
    limit = attachments.max_bytes()
    kind = attachments.content_type_decide(filename=name, declared=declared, data=data)
    dropped = None
    if size > limit:
        dropped = {"reason": "too_large", "say": say(
            gettext_noop("The file %(name)s was not kept: it is %(size)s, larger than the limit of %(limit)s."),
            name=name, size=_size_words(size), limit=_size_words(limit))}
    elif size == 0:
        dropped = {"reason": "empty", "say": say(gettext_noop("The file %(name)s was not kept: it is empty."),
                                                 name=name)}
    elif not attachments.type_allowed(kind):
        dropped = {"reason": "type", "say": say(
            gettext_noop("The file %(name)s was not kept: files of this type (%(type)s) are not accepted."),
            name=name, type=kind)}
    if dropped is not None:
        case_event_append(case=case, kind=CaseEventKind.NOTE, actor=by, text=say_text(dropped["say"]),
                          data={"attachment_dropped": {"filename": name, "size": size, "content_type": declared,
                                                       "decided_type": kind, "source": source,
                                                       "reason": dropped["reason"]},
                                "say": dropped["say"]})
        return None
    attachment = Attachment(
        case=case, filename=name, content_type=declared, safe_content_type=kind, size=size,
        sha256=hashlib.sha256(data).hexdigest(), source=source, uploaded_by=by,
    )
    attachment.file.save(name, ContentFile(data), save=False)  # the storage names it (attachment_upload_to)
    try:
        with transaction.atomic():
            attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    message = say(gettext_noop("File attached: %(name)s (%(size)s)"), name=name, size=_size_words(size))
    case_event_append(case=case, kind=CaseEventKind.NOTE, actor=by, text=say_text(message),
                      data={"attachment_id": attachment.pk, "say": message})
    return attachment
