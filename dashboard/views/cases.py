"""The case page: the customer's whole story, the order and its tracking, the timeline, promises and actions."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.selectors import case_changes
from caseapp import permissions
from cases import services as case_services
from cases.models import Case, CaseEventKind, CaseStatus, Promise, PromiseStatus
from claims import selectors as claim_selectors
from customers.selectors import customer_loyalty_facts
from macros import selectors as macro_selectors
from macros import services as macro_services
from notifications.catalogue import REMEDY_NOTICE
from notifications.models import Message, MessageStatus
from notifications.services import message_hold_back, message_is_held_back
from orders.models import ShipmentEvent
from policies import selectors as policy_selectors
from policies import services as policy_services
from policies.models import Remedy
from surveys.selectors import case_survey, customer_satisfaction
from vouchers.selectors import customer_vouchers, validity_rule_changes_among

from ..forms import (
    AssignForm,
    DeliveryCheckForm,
    MessageHoldForm,
    NoteForm,
    PromiseCloseForm,
    PromiseForm,
    RemedyPaymentForm,
    ReopenForm,
    ReplyForm,
    SpecialDeliveryForm,
    StatusForm,
    staff_users,
)
from ..permissions import (
    agent_required,
    can_work_case,
    check_can_assign_case,
    check_can_work_case,
    request_is_manager,
)
from ..services import special_delivery_record
from . import attachments as attachment_parts
from . import proposals as proposal_parts

PAST_CASES_SHOWN = 20
REMEDIES_SHOWN = 20


def _case(pk) -> Case:
    return get_object_or_404(
        Case.objects.select_related("customer", "order", "shipment__courier", "voucher__validity_rule", "owner"),
        pk=pk,
    )


def _staff_choices(field, users) -> list[tuple]:
    """A staff ModelChoiceField's choices from users read once per page (the promise and the assign forms share
    them): the same options the field's own queryset renders, without a query per form."""
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    return empty + [(field.prepare_value(user), field.label_from_instance(user)) for user in users]


def case_context(request, case: Case, **forms) -> dict:
    """Everything the case page shows, in a fixed number of queries whatever the customer's history.

    Each panel is read once; a form is built only for what this user may do on this case (the template shows no
    other), and the POST handlers still validate with full forms."""
    customer = case.customer
    if case.shipment_id and case.order_id and case.shipment.order_id == case.order_id:
        case.shipment.order = case.order  # the policy's facts read the shipment's order: the one already loaded
    vouchers = list(customer_vouchers(customer=customer))
    rule_changes = validity_rule_changes_among(vouchers)
    shipments = []
    lines = []
    if case.order_id:
        lines = list(case.order.lines.all())
        shipments = list(
            case.order.shipments.select_related("courier").prefetch_related(
                Prefetch("events", queryset=ShipmentEvent.objects.order_by("occurred_at", "id"))
            ).order_by("created_at", "id")
        )
    past_cases = list(
        customer.cases.exclude(pk=case.pk).select_related("owner").order_by("-arrived_at", "-arrival_number")[
            :PAST_CASES_SHOWN
        ]
    )
    remedies_received = list(
        Remedy.objects.filter(customer=customer).exclude(case=case).order_by("-proposed_at", "-id")[:REMEDIES_SHOWN]
    )
    case_remedies = policy_selectors.case_remedies(case=case)
    events = list(case.events.select_related("actor").order_by("occurred_at", "id"))
    cancelling = {r.pk for r in case_remedies if (r.parameters or {}).get("action") == "cancel_order"}
    for event in events:  # the override that cancelled the order says so on the timeline
        event.cancels_order = bool(cancelling) and (event.data or {}).get("remedy_id") in cancelling
    can_work = can_work_case(request, case)
    is_manager = request_is_manager(request)
    is_closed = case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    promises = list(case.promises.select_related("owner", "made_by").order_by("due_at", "id"))
    open_promises = [p for p in promises if p.status == PromiseStatus.OPEN]
    _remedy_followups_context(case, case_remedies, promises, forms, can_work=can_work)
    loyalty = customer_loyalty_facts(customer=customer)  # once per request: the proposals below reuse it
    # The forms of the actions this user may take here, as the template's conditions show them (else None)
    may_promise = can_work and case.is_open
    may_assign = can_work and (is_manager or case.owner_id == request.user.pk)
    promise_form = forms.get("promise_form") or (
        PromiseForm(initial={"owner": request.user.pk}) if may_promise else None)
    assign_form = forms.get("assign_form") or (AssignForm(initial={"owner": case.owner_id}) if may_assign else None)
    unbound = [form for form in (promise_form, assign_form) if form is not None and not form.is_bound]
    if unbound:  # one query for both forms' staff list
        users = list(staff_users())
        for form in unbound:
            form.fields["owner"].choices = _staff_choices(form.fields["owner"], users)
    special_delivery = case.order_id and any(r.kind == "absorb_cost" and r.status == "applied" for r in case_remedies)
    context = {
        "case": case,
        "customer": customer,
        "loyalty": loyalty,
        "survey": case_survey(case=case),
        "satisfaction": customer_satisfaction(customer=customer),
        "vouchers": vouchers,
        "rule_changes": rule_changes,
        "order_lines": lines,
        "shipments": shipments,
        "past_cases": past_cases,
        "remedies_received": remedies_received,
        "case_remedies": case_remedies,
        "events": events,
        "promises": promises,
        "can_work": can_work,
        "is_closed": is_closed,
        "note_form": forms.get("note_form") or (NoteForm() if can_work else None),
        "promise_form": promise_form,
        "status_form": forms.get("status_form") or (
            StatusForm(initial={"status": case.status}, open_promises=open_promises)
            if can_work and not is_closed else None),
        "delivery_form": forms.get("delivery_form") or (
            DeliveryCheckForm(order_lines=lines, shipments=shipments, initial={"shipment": shipments[-1].pk})
            if shipments and can_work else None),
        "reopen_form": forms.get("reopen_form") or (ReopenForm() if can_work and is_closed else None),
        "assign_form": assign_form,
        "reply_form": forms.get("reply_form") or (
            ReplyForm(initial={"nonce": uuid.uuid4().hex}) if can_work and customer.email else None),
        "macros": macro_selectors.macros_for_case(case=case, language=customer.preferred_language)
        if can_work and customer.email else [],
        "special_delivery_form": forms.get("special_delivery_form") or (
            SpecialDeliveryForm(initial={"arrives_on": case.order.promised_delivery_date})
            if special_delivery and can_work else None),
        "special_deliveries": [s for s in shipments if s.is_replacement],
        "case_claims": claim_selectors.case_claims(case=case),
        "changes": case_changes(case=case),  # the audit trail: one query
        "attachments_part": attachment_parts.case_attachments_context(request, case, can_work=can_work,
                                                                      form=forms.get("attachment_form")),
    }
    context.update(proposal_parts.case_proposal_context(request, case, can_work=can_work, forms=forms,
                                                       remedies=case_remedies, loyalty=loyalty,
                                                       is_manager=is_manager))
    return context


def _remedy_followups_context(case, case_remedies, promises, forms, *, can_work: bool) -> None:
    """Each remedy's payment to-do and customer email, attached to the objects the page lists (one query)."""
    payment_forms = forms.get("payment_forms") or {}
    hold_forms = forms.get("hold_forms") or {}
    by_key = {policy_selectors.remedy_payment_promise_key(r): r for r in case_remedies}
    for promise in promises:
        remedy = by_key.get(promise.key) if promise.key.startswith(policy_selectors.PAYMENT_PROMISE_PREFIX) else None
        promise.payment_remedy = remedy
        if remedy is not None and can_work:
            promise.payment_form = payment_forms.get(remedy.pk) or RemedyPaymentForm(prefix=f"pay{remedy.pk}")
    notices = {m.idempotency_key: m for m in Message.objects.filter(case=case, template=REMEDY_NOTICE)}
    for remedy in case_remedies:
        message = notices.get(policy_selectors.remedy_notice_key(remedy))
        remedy.notice = message
        if message is not None:
            message.is_held_back = message_is_held_back(message)
            message.can_hold = message.status == MessageStatus.QUEUED and not message.attempts
            if message.can_hold and can_work:
                message.hold_form = hold_forms.get(message.pk) or MessageHoldForm(prefix=f"hold{message.pk}")


@agent_required
def case_detail(request, pk):
    case = _case(pk)
    permissions.require(permissions.can_view_case(request.user, case))
    return render(request, "dashboard/case.html", case_context(request, case))


def _invalid(request, case, **forms):
    messages.error(request, _("Please correct the errors below."))
    return render(request, "dashboard/case.html", case_context(request, case, **forms), status=400)


def _service_error(request, case, error: ValidationError, form=None, form_name=None):
    messages.error(request, " ".join(error.messages))
    if form is not None and hasattr(error, "error_dict"):
        for field, errs in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    forms = {form_name: form} if form_name else {}
    return render(request, "dashboard/case.html", case_context(request, case, **forms), status=400)


def _back(case):
    return redirect("dashboard:case", pk=case.pk)


@require_POST
@agent_required
def case_note(request, pk):
    case = _case(pk)
    check_can_work_case(request, case)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, note_form=form)
    kind = CaseEventKind.CALL if form.cleaned_data["kind"] == NoteForm.KIND_CALL else CaseEventKind.NOTE
    case_services.case_note_add(case=case, text=form.cleaned_data["text"], by=request.user, kind=kind)
    messages.success(request, _("Call logged.") if kind == CaseEventKind.CALL else _("Note added."))
    return _back(case)


@require_POST
@agent_required
def case_promise(request, pk):
    case = _case(pk)
    check_can_work_case(request, case)
    form = PromiseForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, promise_form=form)
    data = form.cleaned_data
    made_by_name = data["made_by_name"].strip()
    try:
        case_services.promise_record(
            case=case, description=data["description"], due_at=data["due_at"], owner=data["owner"],
            made_by=None if made_by_name else request.user, made_by_name=made_by_name,
        )
    except ValidationError as error:
        return _service_error(request, case, error, form, "promise_form")
    messages.success(request, _("Promise recorded."))
    return _back(case)


@require_POST
@agent_required
def promise_close(request, pk, promise_pk):
    case = _case(pk)
    check_can_work_case(request, case)
    promise = get_object_or_404(Promise, pk=promise_pk, case=case)  # another case's promise: 404
    form = PromiseCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say whether the promise was kept or broken."))
        return _back(case)
    if promise.key.startswith(policy_selectors.PAYMENT_PROMISE_PREFIX) and form.cleaned_data["kept"]:
        messages.error(request, _("A payment to do is closed with the payment's reference."))
        return _back(case)
    try:
        case_services.promise_close(promise=promise, kept=form.cleaned_data["kept"], by=request.user,
                                    note=form.cleaned_data["note"])
    except ValidationError as error:
        return _service_error(request, case, error)
    messages.success(request, _("Promise marked kept.") if form.cleaned_data["kept"] else _("Promise marked broken."))
    return _back(case)


@require_POST
@agent_required
def case_status(request, pk):
    case = _case(pk)
    check_can_work_case(request, case)
    form = StatusForm(request.POST, open_promises=case.promises.filter(status=PromiseStatus.OPEN).order_by("due_at", "id"))
    if not form.is_valid():
        return _invalid(request, case, status_form=form)
    try:
        case_services.case_change_status(case=case, status=form.cleaned_data["status"], by=request.user,
                                         reason=form.cleaned_data["reason"], promise_outcomes=form.promise_outcomes())
    except ValidationError as error:
        return _service_error(request, case, error, form, "status_form")
    messages.success(request, _("Status changed."))
    return _back(case)


@require_POST
@agent_required
def case_reopen(request, pk):
    case = _case(pk)
    check_can_work_case(request, case)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, reopen_form=form)
    try:
        case_services.case_change_status(case=case, status=CaseStatus.OPEN, by=request.user,
                                         reason=form.cleaned_data["reason"])
    except ValidationError as error:
        return _service_error(request, case, error, form, "reopen_form")
    messages.success(request, _("Case reopened."))
    return _back(case)


@require_POST
@agent_required
def case_take(request, pk):
    """An agent takes an unowned case for themself."""
    case = _case(pk)
    check_can_assign_case(request, case, request.user)
    case_services.case_assign(case=case, owner=request.user, by=request.user)
    messages.success(request, _("Case #%(number)s is yours now.") % {"number": case.arrival_number})
    return _back(case)


@require_POST
@agent_required
def case_assign(request, pk):
    """Managers give a case to anyone (or nobody); agents may only hand their own case back to the queue."""
    case = _case(pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, assign_form=form)
    owner = form.cleaned_data["owner"]
    check_can_assign_case(request, case, owner)
    case_services.case_assign(case=case, owner=owner, by=request.user)
    messages.success(request, _("Owner changed."))
    return _back(case)


@require_POST
@agent_required
def case_reply(request, pk):
    """Reply to the customer by email, in their language, through the notifications outbox."""
    case = _case(pk)
    check_can_work_case(request, case)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, reply_form=form)
    macro = None
    if form.cleaned_data.get("macro"):
        macro = macro_selectors.macro_for_case(case=case, macro_id=form.cleaned_data["macro"])
        if macro is None:
            form.add_error(None, _("That macro is no longer offered for this case; insert another."))
            return _invalid(request, case, reply_form=form)
    try:
        _message, created = macro_services.macro_reply_send(case=case, macro=macro, text=form.cleaned_data["text"],
                                                            by=request.user, nonce=form.cleaned_data["nonce"])
    except ValidationError as error:
        return _service_error(request, case, error, form, "reply_form")
    messages.success(request, _("Reply queued for sending.") if created else _("This reply was already sent."))
    return _back(case)


@require_POST
@agent_required
def case_delivery_check(request, pk):
    """Record what the customer received, line by line; a mismatch goes on this case (reopened if need be)."""
    case = _case(pk)
    check_can_work_case(request, case)
    shipments = list(case.order.shipments.select_related("courier").order_by("created_at", "id")) if case.order_id else []
    if not shipments:
        messages.error(request, _("This case has no shipment to check."))
        return _back(case)
    form = DeliveryCheckForm(request.POST, order_lines=case.order.lines.all(), shipments=shipments)
    if not form.is_valid():
        return _invalid(request, case, delivery_form=form)
    try:
        found = case_services.delivery_check(shipment=form.cleaned_data["shipment"], received=form.received(),
                                             by=request.user, case=case)
    except ValidationError as error:
        return _service_error(request, case, error, form, "delivery_form")
    if found is None:
        messages.success(request, _("Everything arrived as ordered."))
    else:
        messages.warning(request, _("What arrived does not match the order: it is on the case's timeline."))
    return _back(case)


@require_POST
@agent_required
def case_special_delivery(request, pk):
    """After the absorb-cost remedy: record the special delivery and tell the customer, in their language."""
    case = _case(pk)
    check_can_work_case(request, case)
    form = SpecialDeliveryForm(request.POST)
    if not form.is_valid():
        return _invalid(request, case, special_delivery_form=form)
    data = form.cleaned_data
    try:
        _shipment, created = special_delivery_record(case=case, courier=data["courier"],
                                                     tracking_number=data["tracking_number"],
                                                     arrives_on=data["arrives_on"], by=request.user)
    except ValidationError as error:
        return _service_error(request, case, error, form, "special_delivery_form")
    messages.success(request, _("Special delivery recorded; the customer is told in their language.") if created
                     else _("This special delivery was already recorded."))
    return _back(case)


@require_POST
@agent_required
def remedy_payment(request, pk, remedy_pk):
    """Close a remedy's payment to-do with the payment system's reference."""
    case = _case(pk)
    check_can_work_case(request, case)
    remedy = get_object_or_404(Remedy, pk=remedy_pk, case=case)  # another case's remedy: 404
    form = RemedyPaymentForm(request.POST, prefix=f"pay{remedy.pk}")
    if form.is_valid():
        try:
            policy_services.remedy_payment_record(remedy=remedy, reference=form.cleaned_data["reference"],
                                                  by=request.user)
        except ValidationError as error:
            for field, errs in error.message_dict.items():
                form.add_error("reference" if field == "reference" else None, errs)
        else:
            messages.success(request, _("Payment recorded."))
            return _back(case)
    return _invalid(request, case, payment_forms={remedy.pk: form})


@require_POST
@agent_required
def message_hold(request, pk, message_pk):
    """Hold back a queued email about a remedy before it leaves, with a reason (on the timeline)."""
    case = _case(pk)
    check_can_work_case(request, case)
    message = get_object_or_404(Message, pk=message_pk, case=case, template=REMEDY_NOTICE)
    form = MessageHoldForm(request.POST, prefix=f"hold{message.pk}")
    if form.is_valid():
        try:
            message_hold_back(message_id=message.pk, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            for field, errs in error.message_dict.items():
                form.add_error("reason" if field == "reason" else None, errs)
        else:
            messages.success(request, _("Email held back."))
            return _back(case)
    return _invalid(request, case, hold_forms={message.pk: form})
