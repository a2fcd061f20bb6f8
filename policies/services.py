"""Business actions of the policy app: policy versions, and remedies that take effect exactly once.

Remedies take effect through the other apps' services (vouchers, orders, cases), never by writing their tables.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from audit.context import audit_context
from caseapp import formatting, permissions
from caseapp.money import to_money, validate_currency
from caseapp.roles import is_agent, is_manager
from cases.models import Case, CaseEventKind, Promise, PromiseStatus
from cases.services import (
    ACT_WORKED,
    case_event_append,
    case_status_follow,
    cod_correction_promise_key,
    promise_close,
    promise_record,
)
from cases.timeline import say, say_text
from notifications.catalogue import REMEDY_NOTICE
from notifications.selectors import manager_pick
from notifications.services import message_queue
from orders.models import Courier
from orders.services import order_cancel, shipment_create
from staff.selectors import staff_language
from vouchers.services import voucher_extend, voucher_issue

from . import engine
from .engine import PolicyError, Proposal
from .models import (
    Budget,
    BudgetChange,
    BudgetPeriod,
    DefaultBudget,
    PolicyVersion,
    Remedy,
    RemedyKind,
    RemedyStatus,
)
from .selectors import (
    budget_balance,
    budget_label,
    budget_names_forget,
    budget_slugs,
    case_currency,
    case_facts,
    case_shipment,
    policy_compiled,
    policy_version_active,
    remedy_is_cancellation,
    remedy_is_refund,
    remedy_needs_payment,
    remedy_notice_key,
    remedy_payment_promise_key,
)

LATE_DELIVERY_DISCOUNT_RULE_ID = "late-delivery-discount"


class PolicyDocumentInvalid(ValidationError):
    """A policy document was refused; ``issues`` lists (rule id, field, reason) for each problem."""

    def __init__(self, issues):
        self.issues = list(issues)
        super().__init__({"document": [str(issue) for issue in self.issues]})


def policy_document_parse(document) -> dict:
    """A document given as YAML/JSON text or as a mapping, validated. Raises PolicyDocumentInvalid."""
    try:
        if isinstance(document, bytes):
            document = document.decode("utf-8")
        if isinstance(document, str):
            document = engine.load_policy_text(document)
        engine.compile_policy(document, budgets=budget_slugs())
    except PolicyError as exc:
        raise PolicyDocumentInvalid(exc.issues) from exc
    except UnicodeDecodeError as exc:
        raise PolicyDocumentInvalid([engine.PolicyIssue(None, "document", "not UTF-8 text", "not_utf8")]) from exc
    # Stored as JSON: dates written in YAML without quotes become ISO strings (the engine reads both).
    return json.loads(engine.canonical_json(document))


def _lock_versions() -> None:
    """Serialise version changes (creating a number, switching the active one)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('caseapp.policies.version'))")
    else:
        list(PolicyVersion.objects.select_for_update().values_list("pk", flat=True))


@transaction.atomic
def policy_version_create(*, document, author=None, note: str = "") -> PolicyVersion:
    """Store a new, immutable version (not yet active). Refused before anything is stored if invalid."""
    parsed = policy_document_parse(document)
    _lock_versions()
    number = (PolicyVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    return PolicyVersion.objects.create(number=number, document=parsed, author=author, note=(note or "").strip())


@transaction.atomic
def policy_version_activate(*, version: PolicyVersion, by=None) -> PolicyVersion:
    """Make this version the one active version."""
    if by is not None and not is_manager(by):
        raise PermissionDenied("Only a manager activates a policy version.")
    _lock_versions()
    version = PolicyVersion.objects.get(pk=version.pk)
    policy_document_parse(version.document)  # a version stored before a validator change must still be valid
    if version.is_active:
        return version
    PolicyVersion.objects.filter(is_active=True).update(is_active=False)
    version.is_active = True
    version.activated_at = timezone.now()
    version.save(update_fields=["is_active", "activated_at"])
    return version


@transaction.atomic
def policy_default_ensure() -> PolicyVersion:
    """The active version; on first use (no version at all) the shipped default becomes version 1, active."""
    _lock_versions()
    active = policy_version_active()
    if active is not None:
        return active
    if PolicyVersion.objects.exists():
        raise ValidationError({"policy": "No policy version is active: a manager must activate one."})
    version = policy_version_create(
        document=engine.default_policy_document(), author=None, note="Default policy shipped with caseapp"
    )
    return policy_version_activate(version=version)


# The active version of this process, with its compiled policy, keyed by what identifies it (id, number, created
# at: a version is immutable, and a reused id in a flushed or restored database comes with another creation time).
# Each call still asks which version is active (a query of three columns, not the document), so activating
# another version is seen at once by every process.
_ACTIVE: dict = {}


def _active_policy() -> tuple[PolicyVersion, engine.Policy]:
    key = PolicyVersion.objects.filter(is_active=True).values_list("pk", "number", "created_at").first()
    known = _ACTIVE.get("known")
    if key is not None and known is not None and known[0] == key:
        return known[1], known[2]
    version = policy_version_active() or policy_default_ensure()
    policy = policy_compiled(version)
    _ACTIVE["known"] = ((version.pk, version.number, version.created_at), version, policy)
    return version, policy


def case_proposals(*, case: Case, today=None, only_new: bool = False, loyalty=None, remedies=None) -> list[Proposal]:
    """What the active policy proposes for this case now (read only; applying is remedy_apply).

    What the case already cost counts against the limit per case. A rule that already has a remedy on this case
    (applied, waiting or rejected) comes back with ``already_decided=True`` and the same key, so applying it again
    returns that remedy; ``only_new=True`` leaves those out."""
    _, policy = _active_policy()
    proposals = engine.evaluate(policy, case_facts(case=case, today=today, loyalty=loyalty, remedies=remedies))
    if only_new:
        proposals = [proposal for proposal in proposals if not proposal.already_decided]
    return proposals


# --- Remedies ------------------------------------------------------------------------------------------------


def _timeline(remedy: Remedy, kind: str, actor, text: str, said: dict | None = None) -> None:
    extra = {"say": said} if said else {}
    case_event_append(
        case=remedy.case, kind=kind, actor=actor, text=text,
        data={"remedy_id": remedy.pk, "kind": remedy.kind, "amount": str(remedy.amount),
              "currency": remedy.currency, "budget": remedy.budget, "rule_id": remedy.rule_id,
              "policy_version": remedy.policy_version.number if remedy.policy_version_id else None,
              "status": remedy.status, "explanation": remedy.rationale_data, **extra},
    )


def _promise_owner(case: Case, by):
    owner = case.owner or by
    if owner is None:
        raise ValidationError({"owner": "This remedy is a promise to keep: assign the case to someone first."})
    return owner


def _perform(remedy: Remedy, by) -> None:
    """The remedy's effect, through the owning apps' services. Records what it did in remedy.parameters."""
    case = remedy.case
    parameters = dict(remedy.parameters)
    now = timezone.now()
    kind = remedy.kind
    if kind == RemedyKind.EXTEND_VOUCHER:
        if not case.voucher_id:
            raise ValidationError({"voucher": "This case has no voucher to extend."})
        until = timezone.localdate() + timedelta(days=int(parameters["days"]))
        extension = voucher_extend(voucher=case.voucher, until=until, reason=remedy.rationale, by=by)
        parameters.update(new_valid_until=until.isoformat(), voucher_extension_id=extension.pk,
                          previous_valid_until=extension.previous_valid_until.isoformat())
    elif kind == RemedyKind.DISCOUNT and parameters.get("given_as", "voucher") == "voucher":
        voucher = voucher_issue(
            code=f"CREDIT-{case.pk}-{remedy.pk}", value=remedy.amount, currency=remedy.currency, issued_at=now,
            holder=case.customer,
        )
        parameters.update(voucher_id=voucher.pk, voucher_code=voucher.code,
                          voucher_valid_until=voucher.valid_until.isoformat())
    elif kind == RemedyKind.REPLACEMENT:
        if not case.order_id:
            raise ValidationError({"order": "This case has no order to replace."})
        name = parameters.get("courier") or ""
        courier = Courier.objects.filter(name=name).first() if name else None
        if courier is None:
            original = case_shipment(case)
            courier = original.courier if original else None
        if courier is None:
            raise ValidationError({"courier": "Say which courier carries the replacement."})
        shipment = shipment_create(
            order=case.order, courier=courier, tracking_number=f"REPLACEMENT-{case.pk}-{remedy.pk}",
            is_replacement=True,
        )
        parameters.update(shipment_id=shipment.pk, courier=courier.name, tracking_number=shipment.tracking_number)
    elif kind == RemedyKind.CORRECT_COD:
        courier = remedy.recoverable_from.name if remedy.recoverable_from_id else parameters.get("courier") or "the courier"
        shipment = case_shipment(case)
        # One task, one promise: the COD scan records the same task under the same key (with its own due time,
        # before the delivery day); applying the proposal then finds that promise instead of making a second.
        promise = promise_record(
            case=case, owner=_promise_owner(case, by), made_by=by, made_by_name="" if by else "caseapp policy",
            description=(f"Have {courier} correct the COD label from {parameters.get('label_amount', '?')} to "
                         f"{parameters['target_amount']} {remedy.currency} before delivery"),
            due_at=now + timedelta(hours=int(parameters.get("due_hours", 2))),
            key=cod_correction_promise_key(shipment) if shipment is not None else "",
        )
        parameters["promise_id"] = promise.pk
    elif kind == RemedyKind.CALLBACK:
        promise = promise_record(
            case=case, owner=_promise_owner(case, by), made_by=by, made_by_name="" if by else "caseapp policy",
            description=parameters.get("description") or "Call the customer back",
            due_at=now + timedelta(hours=int(parameters.get("due_hours", 24))),
        )
        parameters["promise_id"] = promise.pk
    # refund, discount as a refund, absorb_cost, free_item, manager_override: the ledger row is the effect.
    remedy.parameters = parameters
    remedy.status = RemedyStatus.APPLIED
    remedy.applied_at = now
    remedy.save(update_fields=["parameters", "status", "applied_at"])


def _case_locked(case: Case, *related) -> Case:
    """Serialise the remedies of one case (their limits count each other). FOR NO KEY UPDATE does not conflict
    with the key-share locks that deferred foreign-key checks take at commit, so it cannot deadlock with them."""
    no_key = connection.features.has_select_for_no_key_update
    return Case.objects.select_for_update(of=("self",), no_key=no_key).select_related(*related).get(pk=case.pk)


def _check_proposal(case: Case, proposal: Proposal) -> None:
    errors = {}
    if proposal.kind not in RemedyKind.values or proposal.kind == RemedyKind.MANAGER_OVERRIDE:
        errors["kind"] = f"{proposal.kind!r} is not a remedy a policy proposes."
    try:
        validate_currency(proposal.currency)
    except ValidationError:
        errors["currency"] = f"{proposal.currency!r} is not an ISO 4217 currency code."
    else:
        expected = case_currency(case)
        if proposal.currency != expected:
            errors["currency"] = f"The proposal is in {proposal.currency}, but this case is in {expected}."
    if not isinstance(proposal.cost, Decimal) or proposal.cost < 0:
        errors["cost"] = "A remedy's cost is a non-negative decimal amount."
    if proposal.case_id != case.pk:
        errors["proposal"] = f"This proposal is for case #{proposal.case_id}, not #{case.pk}."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def remedy_apply(*, case: Case, proposal: Proposal, by=None, tell_customer: bool = True) -> Remedy:
    """Turn a proposal into a remedy, once ever: a double click, a retried task or two agents at once all get the
    same Remedy. Below the approval threshold it takes effect now; above, it waits for a manager.

    ``tell_customer=False``: the caller tells the customer itself (the late-delivery apology names its discount),
    so no remedy email is queued now (see _remedy_followups)."""
    if by is not None and not is_agent(by):
        raise PermissionDenied("Only agents and managers apply remedies.")
    if isinstance(proposal, Mapping):  # e.g. Proposal.as_dict() sent back by a form or the API
        try:
            proposal = Proposal.from_dict(proposal)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ValidationError({"proposal": f"This is not a proposal: {exc}"}) from exc
    _check_proposal(case, proposal)
    case = _case_locked(case, "customer", "order", "voucher", "shipment")  # always before the budget's lock
    if by is not None:  # the owner rule of the dashboard, for every caller (caseapp.permissions)
        permissions.require(permissions.can_work_case(by, case))
    existing = Remedy.objects.filter(proposal_key=proposal.key).first()
    if existing is not None:
        return existing
    # Trust the policy, not the caller: the proposal must be what the active policy proposes for this case now.
    version, policy = _active_policy()
    current = {p.key: p for p in engine.evaluate(policy, case_facts(case=case))}.get(proposal.key)
    if current is None:
        raise ValidationError({"proposal": "The active policy no longer proposes this remedy for this case."})
    current = remedy_budget_check(proposal=current)
    courier = Courier.objects.filter(name=current.recoverable_from).first() if current.recoverable_from else None
    remedy = Remedy(
        case=case, customer=case.customer, kind=current.kind, parameters=current.parameters, amount=current.cost,
        currency=current.currency, budget=current.budget, recoverable_from=courier, policy_version=version,
        rule_id=current.rule_id, rationale=current.rationale, rationale_data=current.explanation,
        proposal_key=current.key,
        status=RemedyStatus.PENDING_APPROVAL if current.needs_approval else RemedyStatus.APPROVED,
        needs_approval=current.needs_approval, proposed_by=by,
    )
    try:
        with transaction.atomic():  # the unique key is claimed here, in the transaction that does the work
            remedy.save()
    except IntegrityError:
        return Remedy.objects.get(proposal_key=current.key)
    if current.needs_approval:
        _timeline(remedy, CaseEventKind.REMEDY_PROPOSED, by, f"Waiting for a manager: {remedy.rationale}")
        return remedy
    _perform(remedy, by)
    _timeline(remedy, CaseEventKind.REMEDY_APPLIED, by, remedy.rationale)
    _remedy_followups(remedy, by, tell_customer=tell_customer)
    if by is not None:
        case_status_follow(case=case, act=ACT_WORKED, by=by)
    return remedy


def _decision_checks(remedy: Remedy, by) -> None:
    if by is None or not is_manager(by):
        raise PermissionDenied("Only a manager approves or rejects remedies.")
    permissions.require(permissions.can_decide_remedy(by, remedy), "Nobody approves or rejects their own remedy.")


@transaction.atomic
def remedy_approve(*, remedy: Remedy, by) -> Remedy:
    """A manager approves a waiting remedy; it takes effect in the same transaction."""
    remedy = Remedy.objects.select_for_update(of=("self",)).select_related(
        "case__customer", "case__order", "case__voucher", "recoverable_from", "policy_version").get(pk=remedy.pk)
    _decision_checks(remedy, by)
    if remedy.status == RemedyStatus.APPLIED and remedy.decided_by_id == by.pk:
        return remedy  # the same manager clicked twice
    if remedy.status != RemedyStatus.PENDING_APPROVAL:
        raise ValidationError({"status": f"This remedy is already {remedy.get_status_display().lower()}."})
    remedy.status = RemedyStatus.APPROVED
    remedy.decided_by = by
    remedy.decided_at = timezone.now()
    remedy.save(update_fields=["status", "decided_by", "decided_at"])
    _timeline(remedy, CaseEventKind.REMEDY_APPROVED, by, f"Approved by {by.get_username()}",
              said=say(gettext_noop("Approved by %(name)s"), name=by.get_username()))
    _perform(remedy, by)
    _timeline(remedy, CaseEventKind.REMEDY_APPLIED, by, remedy.rationale)
    _remedy_followups(remedy, by)
    return remedy


@transaction.atomic
def remedy_reject(*, remedy: Remedy, by, reason: str) -> Remedy:
    """A manager rejects a waiting remedy, always with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the remedy is rejected."})
    remedy = Remedy.objects.select_for_update(of=("self",)).select_related("case", "policy_version").get(pk=remedy.pk)
    _decision_checks(remedy, by)
    if remedy.status != RemedyStatus.PENDING_APPROVAL:
        raise ValidationError({"status": f"This remedy is already {remedy.get_status_display().lower()}."})
    remedy.status = RemedyStatus.REJECTED
    remedy.decided_by = by
    remedy.decided_at = timezone.now()
    remedy.decision_reason = reason
    with audit_context(reason=reason):
        remedy.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    _timeline(remedy, CaseEventKind.REMEDY_REJECTED, by, f"Rejected by {by.get_username()}: {reason}",
              said=say(gettext_noop("Rejected by %(name)s: %(reason)s"), name=by.get_username(), reason=reason))
    return remedy


OVERRIDE_KINDS = (RemedyKind.MANAGER_OVERRIDE, RemedyKind.FREE_ITEM, RemedyKind.REFUND, RemedyKind.DISCOUNT,
                  RemedyKind.ABSORB_COST)


@transaction.atomic
def remedy_override(
    *, case: Case, by, kind: str = RemedyKind.MANAGER_OVERRIDE, reason: str, amount="0.00", currency: str | None = None,
    parameters: dict | None = None, budget: str = Budget.CUSTOMER_CARE, recoverable_from=None, key: str | None = None,
) -> Remedy:
    """A manager decides beyond the policy (cancel a non-refundable order, give an item for free), with a reason.

    Applied at once and recorded in the ledger with the manager as the decider. The same override submitted twice
    (same case, kind, amount, reason) is recorded once; pass ``key`` to choose the idempotency key yourself.
    """
    if by is None or not is_manager(by):
        raise PermissionDenied("Only a manager overrides the policy.")
    errors = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "A manager override always records its reason."
    if kind not in OVERRIDE_KINDS:
        errors["kind"] = f"A manager override is one of {', '.join(OVERRIDE_KINDS)}, not {kind!r}."
    known = budget_slugs()
    if budget not in known:
        errors["budget"] = f"{budget!r} is not a budget ({', '.join(sorted(known))})."
    try:
        money = to_money(amount)
        if money < 0:
            errors["amount"] = "An amount cannot be negative."
    except ValidationError as exc:
        errors["amount"] = exc.messages[0]
        money = None
    expected = case_currency(case)
    currency = currency or expected
    try:
        validate_currency(currency)
        if currency != expected:
            errors["currency"] = f"This case is in {expected}, not {currency}."
    except ValidationError as exc:
        errors["currency"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    case = _case_locked(case, "customer")
    _budget_locked(budget)  # an override is spent at once: the applies counting on the same money wait for it
    if key is None:
        what = json.dumps(parameters or {}, sort_keys=True, default=str)  # cancelling the order is another act
        digest = hashlib.sha256(f"{kind}|{money}|{currency}|{reason}|{by.pk}|{what}".encode()).hexdigest()[:20]
        key = f"case-{case.pk}/override/{digest}"
    existing = Remedy.objects.filter(proposal_key=key).first()
    if existing is not None:
        return existing
    courier = recoverable_from
    if isinstance(courier, str):
        courier = Courier.objects.filter(name=courier).first()
    rationale = f"manager override by {by.get_username()}: {reason}"
    if money:
        with translation.override(settings.LANGUAGE_CODE):
            rationale += (f" ({RemedyKind(kind).label.lower()}, {money} {currency}, "
                          f"booked to the budget “{budget_label(budget)}”)")
    rationale_data = {"override": True, "by": by.get_username(), "reason": reason, "kind": kind,
                      "amount": str(money) if money else None, "currency": currency, "budget": budget}
    now = timezone.now()
    remedy = Remedy(
        case=case, customer=case.customer, kind=kind, parameters=dict(parameters or {}), amount=money,
        currency=currency, budget=budget, recoverable_from=courier, policy_version=policy_version_active(),
        rule_id="manager-override", rationale=rationale, rationale_data=rationale_data, proposal_key=key, status=RemedyStatus.APPLIED,
        needs_approval=False, proposed_by=by, decision_reason=reason, applied_at=now,
    )
    try:
        with transaction.atomic():
            remedy.save()
    except IntegrityError:
        return Remedy.objects.get(proposal_key=key)
    if remedy.parameters.get("action") == "cancel_order":
        if not case.order_id:
            raise ValidationError({"order": "This case has no order to cancel."})
        order = order_cancel(order=case.order, reason=rationale, by=by)
        remedy.parameters["order_status"] = order.status
        remedy.save(update_fields=["parameters"])
    _timeline(remedy, CaseEventKind.REMEDY_APPLIED, by, rationale)
    _remedy_followups(remedy, by)
    case_status_follow(case=case, act=ACT_WORKED, by=by)
    return remedy


# --- Remedies carried out and told ----------------------------------------------------------------------------


def _remedy_followups(remedy: Remedy, by, *, tell_customer: bool = True) -> None:
    """What follows an applied remedy, in its transaction: the to-do to pay it (a refund, a free item, a manager's
    cancellation), the claim on the courier when the cost is recoverable from one, and the one email that tells the
    customer. The one place remedy_apply (applied at once), remedy_approve and remedy_override call; each step is
    keyed per remedy, so a second call adds nothing."""
    from claims.services import claim_open_for_remedy  # claims knows policies, not the other way round

    if remedy.status != RemedyStatus.APPLIED:
        return
    claim_open_for_remedy(remedy)
    if remedy_needs_payment(remedy):
        _remedy_payment_promise(remedy, by)
    if tell_customer:
        remedy_notice_queue(remedy=remedy, by=by)


def _order_number(case: Case) -> str:
    return str(case.order.number).lstrip("#") if case.order_id else ""


def _remedy_payment_description(remedy: Remedy) -> str:
    """The to-do in the active language: "Refund 470.00 USD for order #1004 in the payment system"."""
    case = remedy.case
    amount = formatting.money(remedy.amount, remedy.currency)
    order = _order_number(case)
    if remedy_is_cancellation(remedy):
        if order:
            return gettext("Refund the cancelled order #%(order)s in the payment system (%(amount)s booked)") % {
                "order": order, "amount": amount}
        return gettext("Refund the cancelled order in the payment system (%(amount)s booked)") % {"amount": amount}
    if remedy.kind == RemedyKind.FREE_ITEM:
        if order:
            return gettext("Book the free item (%(amount)s) for order #%(order)s in the payment system") % {
                "order": order, "amount": amount}
        return gettext("Book the free item (%(amount)s) in the payment system") % {"amount": amount}
    if order:
        return gettext("Refund %(amount)s for order #%(order)s in the payment system") % {
            "amount": amount, "order": order}
    return gettext("Refund %(amount)s to the customer in the payment system") % {"amount": amount}


def _remedy_payment_promise(remedy: Remedy, by) -> Promise | None:
    case = remedy.case
    owner = case.owner or by or manager_pick()
    if owner is None:  # nobody to give it to: the remedy stands, the report lists it as not paid
        said = say(gettext_noop("Nobody could be given the payment of this remedy: assign the case to someone."))
        case_event_append(case=case, kind=CaseEventKind.NOTE, text=say_text(said),
                          data={"remedy_id": remedy.pk, "payment_unassigned": True, "say": said})
        return None
    with translation.override(staff_language(owner)):  # the to-do reads in its owner's language
        description = _remedy_payment_description(remedy)
    return promise_record(
        case=case, owner=owner, made_by=by, made_by_name="" if by else "caseapp policy", description=description,
        due_at=timezone.now() + timedelta(hours=settings.REMEDY_PAYMENT_DUE_HOURS),
        key=remedy_payment_promise_key(remedy),
    )


def business_days_after(start, days: int):
    """The date ``days`` working days (Monday to Friday) after ``start``."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def remedy_notice_context(remedy: Remedy) -> dict | None:
    """What the customer is told about this remedy (None: nothing to tell): a JSON context for REMEDY_NOTICE."""
    case = remedy.case
    parameters = remedy.parameters or {}
    base = {"customer_name": case.customer.name, "order_number": case.order.number if case.order_id else "",
            "case_number": case.pk}
    if remedy.kind == RemedyKind.EXTEND_VOUCHER and parameters.get("new_valid_until"):
        return {**base, "notice": "voucher_extended", "voucher_code": case.voucher.code if case.voucher_id else "",
                "new_expiry_date": parameters["new_valid_until"]}
    if remedy.kind == RemedyKind.DISCOUNT and parameters.get("voucher_code"):
        return {**base, "notice": "credit_voucher", "voucher_code": parameters["voucher_code"],
                "amount": str(remedy.amount), "currency": remedy.currency,
                "valid_until_date": parameters.get("voucher_valid_until")}
    if remedy.kind == RemedyKind.REPLACEMENT and parameters.get("tracking_number"):
        return {**base, "notice": "replacement", "tracking_number": parameters["tracking_number"],
                "courier": parameters.get("courier", "")}
    if remedy_is_refund(remedy) and remedy.amount > 0:
        expected = business_days_after(timezone.localdate(), settings.REMEDY_REFUND_BUSINESS_DAYS)
        return {**base, "notice": "refund", "amount": str(remedy.amount), "currency": remedy.currency,
                "business_days": settings.REMEDY_REFUND_BUSINESS_DAYS, "expected_date": expected.isoformat()}
    return None


def remedy_notice_queue(*, remedy: Remedy, by=None):
    """Queue the one email telling the customer about an applied remedy, in their language, in the caller's
    transaction (keyed per remedy: queued once however often this runs). It waits REMEDY_NOTICE_HOLD_MINUTES in
    the outbox, so an agent can still hold it back. Returns the Message, or None when there is nothing to tell."""
    context = remedy_notice_context(remedy)
    customer = remedy.case.customer
    if context is None or not customer.email:
        return None
    message, created = message_queue(
        recipient=customer.email, template=REMEDY_NOTICE, idempotency_key=remedy_notice_key(remedy),
        context=context, language=customer.preferred_language, time_zone=customer.time_zone, case=remedy.case,
        send_after=timedelta(minutes=settings.REMEDY_NOTICE_HOLD_MINUTES),
    )
    if created:
        said = say(gettext_noop("Email about the remedy (%(kind)s) queued to %(email)s"),
                   kind={"label": ["remedy_kind", remedy.kind]}, email=customer.email)
        case_event_append(case=remedy.case, kind=CaseEventKind.EMAIL_OUT, actor=by, text=say_text(said),
                          data={"message_id": message.pk, "remedy_id": remedy.pk,
                                "language": customer.preferred_language, "say": said})
    return message


PAYMENT_REFERENCE_MAX = 100


@transaction.atomic
def remedy_payment_record(*, remedy: Remedy, reference: str, by) -> Remedy:
    """Close a remedy's payment to-do with the payment system's reference: the ledger then says paid, not only
    committed. A reference is used once in the shop; the same reference again for the same remedy changes nothing."""
    if by is None or not is_agent(by):
        raise PermissionDenied("Only agents and managers record payments.")
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": "Give the payment's reference from the payment system."})
    if len(reference) > PAYMENT_REFERENCE_MAX:
        raise ValidationError({"reference": f"A payment reference is at most {PAYMENT_REFERENCE_MAX} characters."})
    remedy = Remedy.objects.select_for_update(of=("self",)).select_related("case__order").get(pk=remedy.pk)
    permissions.require(permissions.can_work_case(by, remedy.case))
    if not remedy_needs_payment(remedy) or remedy.status != RemedyStatus.APPLIED:
        raise ValidationError({"reference": "This remedy has nothing to pay."})
    if remedy.paid_at is not None:
        if remedy.payment_reference == reference:
            return remedy
        raise ValidationError({"reference": f"This remedy was already paid, reference {remedy.payment_reference}."})
    other = Remedy.objects.filter(payment_reference=reference).exclude(pk=remedy.pk).first()
    if other is not None:
        raise ValidationError({"reference": f"This reference is already recorded for a payment on case #{other.case_id}."})
    remedy.paid_at = timezone.now()
    remedy.payment_reference = reference
    remedy.paid_by = by
    try:
        with transaction.atomic():  # the unique reference is claimed here
            remedy.save(update_fields=["paid_at", "payment_reference", "paid_by"])
    except IntegrityError as exc:
        raise ValidationError({"reference": "This reference is already recorded for another payment."}) from exc
    promise = Promise.objects.filter(case=remedy.case, key=remedy_payment_promise_key(remedy),
                                     status=PromiseStatus.OPEN).first()
    said = say(gettext_noop("Paid in the payment system, reference %(reference)s"), reference=reference)
    if promise is not None:
        promise_close(promise=promise, kept=True, by=by, note=say_text(said))
    else:
        case_event_append(case=remedy.case, kind=CaseEventKind.NOTE, actor=by, text=say_text(said),
                          data={"remedy_id": remedy.pk, "payment_reference": reference, "say": said})
    return remedy


# --- Budgets ---------------------------------------------------------------------------------------------


def _budget_locked(slug: str) -> Budget | None:
    """The budget row, locked until the transaction ends: remedies booked to it are decided one at a time, so two
    applies cannot both fit the last of its money. Taken after the case's lock (always in that order)."""
    return Budget.objects.select_for_update(of=("self",)).filter(slug=slug).first()


def remedy_budget_check(*, proposal: Proposal) -> Proposal:
    """The proposal as it goes into the ledger: unchanged when it fits its budget, else waiting for a manager
    whatever its size, with the rationale (text and data) saying why. Locks the budget (see _budget_locked).

    It waits when it would take the budget over its amount in the current period (remaining = amount - spent -
    committed), when the budget is closed or unknown, or when it is in another currency than a budget that has an
    amount (caseapp keeps no exchange rates, so it cannot be counted against it)."""
    if proposal.cost <= 0 or proposal.already_decided:
        return proposal
    budget = _budget_locked(proposal.budget)
    hold = None
    if budget is None:
        if proposal.budget not in DefaultBudget.values:  # a default without its row has no limit
            hold = {"reason": "unknown", "budget": proposal.budget}
    elif not budget.is_active:
        hold = {"reason": "inactive", "budget": budget.slug}
    elif budget.amount is not None:
        if budget.currency != proposal.currency:
            hold = {"reason": "other_currency", "budget": budget.slug, "budget_currency": budget.currency}
        else:
            balance = budget_balance(budget)
            if proposal.cost > balance.remaining:
                hold = {"reason": "over_budget", "budget": budget.slug, "amount": str(budget.amount),
                        "remaining": str(balance.remaining), "budget_currency": budget.currency,
                        "period": budget.period}
    if hold is None:
        return proposal
    with translation.override(settings.LANGUAGE_CODE):
        why = _budget_hold_text(hold)
    rationale = proposal.rationale or ""
    if proposal.needs_approval and rationale.endswith("needs a manager's approval"):
        rationale = rationale[: -len("needs a manager's approval")] + why + ": needs a manager's approval"
    else:
        rationale = "; ".join(part for part in (rationale, why + ": needs a manager's approval") if part)
    explanation = dict(proposal.explanation or {}, needs_approval=True, budget_hold=hold)
    return dataclasses.replace(proposal, needs_approval=True, rationale=rationale, explanation=explanation)


def _budget_hold_text(hold: dict) -> str:
    """Why a remedy waits for its budget, in plain words (the stored rationale; policies.rationale translates)."""
    name = budget_label(hold["budget"])
    if hold["reason"] == "over_budget":
        period = "this month" if hold.get("period") == BudgetPeriod.MONTH else "this quarter"
        return (f"it would take the budget “{name}” over its amount ({hold['remaining']} {hold['budget_currency']} "
                f"left of {hold['amount']} {hold['budget_currency']} {period})")
    if hold["reason"] == "other_currency":
        return f"the budget “{name}” is kept in {hold['budget_currency']}, so this remedy cannot be counted against it"
    if hold["reason"] == "inactive":
        return f"the budget “{name}” is closed"
    return f"there is no budget “{name}”"


BUDGET_FIELDS = ("name", "currency", "period", "amount", "owner", "is_active")


def _budget_snapshot(budget: Budget) -> dict:
    return {"name": budget.name, "currency": budget.currency, "period": budget.period,
            "amount": None if budget.amount is None else str(budget.amount), "owner": budget.owner_id,
            "owner_name": budget.owner.get_username() if budget.owner_id else "", "is_active": budget.is_active}


def _budget_clean(values: dict) -> dict:
    """Validate the fields given; raises ValidationError with every field's error and writes nothing."""
    errors, cleaned = {}, {}
    if "name" in values:
        name = (values["name"] or "").strip()
        if not name:
            errors["name"] = "A budget needs a name."
        elif len(name) > 80:
            errors["name"] = "A budget's name is at most 80 characters."
        cleaned["name"] = name
    if "currency" in values:
        currency = (values["currency"] or "").strip().upper()
        try:
            validate_currency(currency)
        except ValidationError as exc:
            errors["currency"] = exc.messages[0]
        cleaned["currency"] = currency
    if "period" in values:
        if values["period"] not in BudgetPeriod.values:
            errors["period"] = f"A budget's period is a month or a quarter, not {values['period']!r}."
        cleaned["period"] = values["period"]
    if "amount" in values:
        amount = values["amount"]
        if amount is None or (isinstance(amount, str) and not amount.strip()):
            cleaned["amount"] = None
        else:
            try:
                money = to_money(amount)
            except ValidationError as exc:
                errors["amount"] = exc.messages[0]
            else:
                if money < 0:
                    errors["amount"] = "A budget cannot be negative."
                cleaned["amount"] = money
    if "owner" in values:
        owner = values["owner"]
        if owner is not None and not is_manager(owner):
            errors["owner"] = "A budget is owned by a manager."
        cleaned["owner"] = owner
    if "is_active" in values:
        cleaned["is_active"] = bool(values["is_active"])
    if errors:
        raise ValidationError(errors)
    return cleaned


def _budget_manager_required(by) -> None:
    if by is not None and not is_manager(by):
        raise PermissionDenied("Only a manager creates or changes budgets.")


@transaction.atomic
def budget_create(*, slug: str, name: str, currency: str, period: str = BudgetPeriod.MONTH, amount=None,
                  owner=None, is_active: bool = True, note: str = "", by) -> Budget:
    """A new budget policy rules may book to (``budget: <slug>``); recorded in its history."""
    _budget_manager_required(by)
    errors = {}
    slug = (slug or "").strip()
    if not engine.BUDGET_SLUG_RE.match(slug):
        errors["slug"] = "A slug is 1 to 16 lowercase letters, digits, dashes or underscores, e.g. promotions."
    elif Budget.objects.filter(slug=slug).exists():
        errors["slug"] = "There is already a budget with this slug."
    try:
        cleaned = _budget_clean({"name": name, "currency": currency, "period": period, "amount": amount,
                                 "owner": owner, "is_active": is_active})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            budget = Budget.objects.create(slug=slug, **cleaned)
    except IntegrityError as exc:  # the same slug created at the same moment
        raise ValidationError({"slug": "There is already a budget with this slug."}) from exc
    BudgetChange.objects.create(budget=budget, changed_by=by, before={}, after=_budget_snapshot(budget),
                                note=(note or "").strip())
    budget_names_forget()
    return budget


@transaction.atomic
def budget_update(*, budget: Budget, by, note: str = "", **changes) -> Budget:
    """Change a budget's name, currency, period, amount (None: no limit), owner or whether it is active. The slug
    stays (rules book to it). Records who changed what, when; a change that changes nothing records nothing."""
    _budget_manager_required(by)
    unknown = set(changes) - set(BUDGET_FIELDS)
    if unknown:
        raise ValidationError({name: "This is not a field of a budget that can be changed." for name in unknown})
    cleaned = _budget_clean(changes)
    budget = Budget.objects.select_for_update(of=("self",)).select_related("owner").get(pk=budget.pk)
    before = _budget_snapshot(budget)
    for name, value in cleaned.items():
        setattr(budget, name, value)
    after = _budget_snapshot(budget)
    if after == before:
        return budget
    with audit_context(reason=(note or "").strip()):
        budget.save(update_fields=list(cleaned))
    BudgetChange.objects.create(budget=budget, changed_by=by, before=before, after=after, note=(note or "").strip())
    budget_names_forget()
    return budget


# Replay reads only; it lives in policies/replay.py and is offered here with the other policy actions.
from .replay import ReplayReport, policy_replay  # noqa: E402,F401
