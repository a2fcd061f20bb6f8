"""Courier claims for managers: the list by status and courier, and the forms that move a claim on."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from claims import selectors as claim_selectors
from claims import services as claim_services
from claims.models import Claim, ClaimStatus

from ..permissions import manager_required


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=[("", gettext_lazy("Any status")), *ClaimStatus.choices])
    courier = forms.ModelChoiceField(label=gettext_lazy("Courier"), required=False, queryset=None,
                                     empty_label=gettext_lazy("Any courier"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["courier"].queryset = claim_selectors.couriers_with_claims()


class ClaimActionForm(forms.Form):
    """One move of a claim; the service checks that the move is allowed and the input makes sense."""

    action = forms.ChoiceField(choices=[(name, name) for name in claim_services.CLAIM_ACTIONS],
                               widget=forms.HiddenInput)
    reference = forms.CharField(label=gettext_lazy("Courier's reference"), required=False, max_length=100)
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=2000)
    recovered = forms.DecimalField(label=gettext_lazy("Amount recovered"), required=False, max_digits=12,
                                   decimal_places=2)


def _claims_page(request, *, failed: tuple[int, ClaimActionForm] | None = None, status=200):
    form = ClaimFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    claims = claim_selectors.claims_list(status=data.get("status") or "", courier=data.get("courier"))
    page = Paginator(claims, settings.DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dashboard/claims.html", {
        "form": form, "page": page, "claims": page.object_list,
        "failed_pk": failed[0] if failed else None, "failed_form": failed[1] if failed else None,
    }, status=status)


@manager_required
def claims(request):
    return _claims_page(request)


ACTION_DONE = {
    "file": gettext_lazy("Claim filed."), "accept": gettext_lazy("Claim accepted."),
    "reject": gettext_lazy("Claim rejected."), "pay": gettext_lazy("Payment recorded."),
    "write_off": gettext_lazy("Claim written off."),
}


@require_POST
@manager_required
def claim_act(request, claim_pk):
    claim = get_object_or_404(Claim, pk=claim_pk)
    form = ClaimActionForm(request.POST, auto_id=f"claim-{claim.pk}-%s")
    if form.is_valid():
        action = form.cleaned_data["action"]
        arguments = {"file": {"reference": form.cleaned_data["reference"]},
                     "reject": {"reason": form.cleaned_data["reason"]},
                     "write_off": {"reason": form.cleaned_data["reason"]},
                     "pay": {"recovered": form.cleaned_data["recovered"]}}.get(action, {})
        if action == "pay" and arguments["recovered"] is None:
            form.add_error("recovered", _("Give the amount the courier paid."))
        else:
            try:
                claim_services.CLAIM_ACTIONS[action](claim=claim, by=request.user, **arguments)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, ACTION_DONE[action])
                return redirect(request.POST["next"] if _safe_next(request) else "dashboard:claims")
    messages.error(request, _("Please correct the errors below."))
    return _claims_page(request, failed=(claim.pk, form), status=400)


def _safe_next(request) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    return bool(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                            require_https=request.is_secure())
