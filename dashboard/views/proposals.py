"""The policy's part of the case page: proposals to apply or send for approval, and the manager override.

Proposals are never taken from the browser: the page posts a proposal's key and the server evaluates the case
again and applies the proposal with that key, so what is applied is what the policy says now.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from caseapp.money import ISO_4217_CODES, to_money
from cases.models import Case
from orders.models import OrderStatus
from policies import services as policy_services
from policies.models import DefaultBudget, RemedyKind
from policies.selectors import budget_balances, budget_choices

from ..permissions import agent_required, check_can_work_case, manager_required, request_is_manager

OVERRIDE_KINDS = (RemedyKind.MANAGER_OVERRIDE, RemedyKind.FREE_ITEM, RemedyKind.REFUND, RemedyKind.DISCOUNT,
                  RemedyKind.ABSORB_COST)


class OverrideForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Remedy"), initial=RemedyKind.MANAGER_OVERRIDE,
                             choices=[(k.value, k.label) for k in OVERRIDE_KINDS])
    budget = forms.ChoiceField(label=gettext_lazy("Budget"), choices=[], initial=DefaultBudget.CUSTOMER_CARE)
    amount = forms.CharField(label=gettext_lazy("Amount"), required=False, initial="0")
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, required=False)
    cancel_order = forms.BooleanField(label=gettext_lazy("Cancel the order (even if non-refundable)"), required=False)
    reason = forms.CharField(label=gettext_lazy("Reason (required)"), widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=2000)

    def __init__(self, *args, case: Case | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["budget"].choices = budget_choices()
        if case is not None and not order_cancellable(case):
            del self.fields["cancel_order"]

    def clean_amount(self):
        raw = (self.cleaned_data.get("amount") or "0").strip() or "0"
        amount = to_money(raw)
        if amount < 0:
            raise forms.ValidationError(_("An amount cannot be negative."))
        return amount

    def clean_currency(self):
        code = (self.cleaned_data.get("currency") or "").strip().upper()
        if code and code not in ISO_4217_CODES:
            raise forms.ValidationError(_("%(code)s is not an ISO 4217 currency code.") % {"code": code})
        return code

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("An override needs its reason."))
        return reason


def order_cancellable(case: Case) -> bool:
    """Whether the case has an order a manager's override can still cancel."""
    return bool(case.order_id) and case.order.status not in (
        OrderStatus.CANCELLED, OrderStatus.DELIVERED, OrderStatus.RETURNED)


def _currency_of(case: Case) -> str:
    if case.order_id:
        return case.order.currency
    if case.voucher_id:
        return case.voucher.currency
    return ""


def _budget_leaves(proposals) -> list[tuple]:
    """Each proposal with what it would leave of its budget this period ({"left": amount, "currency": code}; None
    when its budget has no limit or another currency). Three queries for all of them, none without a cost."""
    costly = {proposal.budget for proposal in proposals if proposal.cost > 0}
    balances = budget_balances(slugs=costly) if costly else {}
    result = []
    for proposal in proposals:
        balance = balances.get(proposal.budget)
        leaves = None
        if balance is not None and proposal.cost > 0 and balance.currency == proposal.currency \
                and balance.amount is not None:
            leaves = {"left": balance.leaves(proposal.cost), "currency": balance.currency,
                      "over": balance.leaves(proposal.cost) < 0}
            leaves["over_by"] = -leaves["left"] if leaves["over"] else None
        result.append((proposal, leaves))
    return result


def case_proposal_context(request, case: Case, *, can_work: bool, forms: dict, remedies: list,
                          loyalty=None, is_manager: bool | None = None) -> dict:
    """The proposals panel; ``remedies`` are the case's (read once by the page, they feed the policy's facts too).
    The override form is built for managers only, the only ones the page shows it to."""
    proposals = (list(policy_services.case_proposals(case=case, loyalty=loyalty, remedies=remedies))
                 if case.is_open else [])
    if is_manager is None:
        is_manager = request_is_manager(request)
    decided = {remedy.proposal_key for remedy in remedies}
    shown = [proposal for proposal in proposals if not proposal.already_decided and proposal.key not in decided]
    return {  # a proposal already in the ledger is shown once, as a remedy above, not again as a proposal
        "proposals": [(proposal, None) for proposal in shown],
        # the same, each with what it would leave of its budget (the page shows it beside the cost)
        "proposal_rows": [(proposal, None, leaves) for proposal, leaves in _budget_leaves(shown)],
        "override_form": forms.get("override_form") or (
            OverrideForm(initial={"currency": _currency_of(case), "kind": RemedyKind.MANAGER_OVERRIDE}, case=case)
            if is_manager else None),
    }


@require_POST
@agent_required
def proposal_apply(request, pk):
    case = get_object_or_404(Case.objects.select_related("customer", "order", "shipment", "voucher"), pk=pk)
    check_can_work_case(request, case)
    key = request.POST.get("key", "")
    proposal = next((p for p in policy_services.case_proposals(case=case) if p.key == key), None)
    if proposal is None:
        messages.error(request, _("The policy no longer proposes this remedy; the page shows what it proposes now."))
        return redirect("dashboard:case", pk=case.pk)
    try:
        remedy = policy_services.remedy_apply(case=case, proposal=proposal, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("dashboard:case", pk=case.pk)
    if remedy.status == "pending_approval":
        messages.success(request, _("Sent to a manager for approval."))
    else:
        messages.success(request, _("Remedy applied."))
    return redirect("dashboard:case", pk=case.pk)


@require_POST
@manager_required
def case_override(request, pk):
    case = get_object_or_404(Case.objects.select_related("customer", "order", "voucher"), pk=pk)
    form = OverrideForm(request.POST, case=case)
    if not form.is_valid():
        from .cases import case_context  # the case page module imports this one

        messages.error(request, _("Please correct the errors below."))
        return render(request, "dashboard/case.html", case_context(request, case, override_form=form), status=400)
    data = form.cleaned_data
    try:
        remedy = policy_services.remedy_override(
            case=case, by=request.user, kind=data["kind"], reason=data["reason"], amount=data["amount"],
            currency=data["currency"] or None, budget=data["budget"],
            parameters={"action": "cancel_order"} if data.get("cancel_order") else None,
        )
    except ValidationError as error:  # shown on the form, with what the manager typed
        from .cases import case_context

        messages.error(request, " ".join(error.messages))
        if hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error.messages)
        return render(request, "dashboard/case.html", case_context(request, case, override_form=form), status=400)
    if remedy.parameters.get("order_status") == "cancelled":
        messages.success(request, _("Override recorded, with its reason; the order is cancelled."))
    else:
        messages.success(request, _("Override recorded, with its reason."))
    return redirect("dashboard:case", pk=case.pk)
