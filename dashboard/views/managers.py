"""Managers' pages: the approvals inbox and the policy versions (list, view, compare, activate, replay)."""

import difflib
import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from caseapp.bounds import INTEGER_MAX, BoundedDateField
from policies import selectors as policy_selectors
from policies import services as policy_services
from policies.models import PolicyVersion, Remedy, RemedyStatus

from ..permissions import check_can_decide_remedy, manager_required


class DecisionForm(forms.Form):
    APPROVE = "approve"
    REJECT = "reject"
    decision = forms.ChoiceField(choices=[(APPROVE, gettext_lazy("Approve")), (REJECT, gettext_lazy("Reject"))])
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.REJECT and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why you reject it."))
        return data


@manager_required
def approvals(request):
    page = Paginator(policy_selectors.remedies_pending_approval(), settings.DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    remedies = list(page.object_list)
    # Each budget's spent / committed / remaining this period: three queries for the page, whatever its rows
    balances = policy_selectors.budget_balances(slugs={remedy.budget for remedy in remedies}) if remedies else {}
    rows = [(remedy, balances.get(remedy.budget)) for remedy in remedies]
    return render(request, "dashboard/approvals.html", {"page": page, "remedies": remedies, "rows": rows})


@require_POST
@manager_required
def approval_decide(request, remedy_pk):
    remedy = get_object_or_404(Remedy, pk=remedy_pk)
    check_can_decide_remedy(request, remedy)
    if remedy.status != RemedyStatus.PENDING_APPROVAL:
        messages.info(request, _("This remedy was already decided."))
        return redirect("dashboard:approvals")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("dashboard:approvals")
    try:
        if form.cleaned_data["decision"] == DecisionForm.APPROVE:
            policy_services.remedy_approve(remedy=remedy, by=request.user)
            messages.success(request, _("Approved and applied."))
        else:
            policy_services.remedy_reject(remedy=remedy, by=request.user, reason=form.cleaned_data["reason"].strip())
            messages.success(request, _("Rejected, with your reason."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("dashboard:approvals")


@manager_required
def policy_versions(request):
    page = Paginator(policy_selectors.policy_versions(), settings.DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dashboard/policies.html", {"page": page, "versions": page.object_list})


def _document_text(version) -> str:
    return json.dumps(version.document, indent=2, sort_keys=True, ensure_ascii=False, default=str)


class ReplayForm(forms.Form):
    date_from = BoundedDateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = BoundedDateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end of the period comes after its start."))
        return data


@manager_required
def policy_version_detail(request, version_pk):
    version = get_object_or_404(PolicyVersion.objects.select_related("author"), pk=version_pk)
    return render(request, "dashboard/policy.html", {
        "version": version, "document": _document_text(version), "replay_form": ReplayForm(),
        "active": policy_selectors.policy_version_active(),
        "others": PolicyVersion.objects.exclude(pk=version.pk).order_by("-number")[:50],
    })


class CompareForm(forms.Form):
    a = forms.IntegerField(min_value=1, max_value=INTEGER_MAX)
    b = forms.IntegerField(min_value=1, max_value=INTEGER_MAX)


@manager_required
def policy_compare(request):
    form = CompareForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose two policy versions to compare."), content_type="text/plain; charset=utf-8")
    left = get_object_or_404(PolicyVersion, pk=form.cleaned_data["a"])
    right = get_object_or_404(PolicyVersion, pk=form.cleaned_data["b"])
    diff = list(difflib.unified_diff(
        _document_text(left).splitlines(), _document_text(right).splitlines(),
        fromfile=f"v{left.number}", tofile=f"v{right.number}", lineterm="", n=3,
    ))
    lines = [("add" if line.startswith("+") and not line.startswith("+++") else
              "del" if line.startswith("-") and not line.startswith("---") else
              "hunk" if line.startswith("@@") else "ctx", line) for line in diff]
    return render(request, "dashboard/policy_compare.html", {"left": left, "right": right, "lines": lines})


@require_POST
@manager_required
def policy_version_activate(request, version_pk):
    version = get_object_or_404(PolicyVersion, pk=version_pk)
    try:
        policy_services.policy_version_activate(version=version, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Policy v%(number)s is now active.") % {"number": version.number})
    return redirect("dashboard:policy", version_pk=version.pk)


@manager_required
def policy_version_replay(request, version_pk):
    version = get_object_or_404(PolicyVersion, pk=version_pk)
    form = ReplayForm(request.GET or None)
    result = None
    if form.is_valid():
        try:
            result = policy_services.policy_replay(version=version, date_from=form.cleaned_data["date_from"],
                                                   date_to=form.cleaned_data["date_to"])
        except ValidationError as error:
            form.add_error(None, error)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "dashboard/policy_replay.html", {"version": version, "form": form, "result": result},
                  status=status)
