"""Managers' budgets page: every budget with what its current period has spent, committed and left; create and
change them (policies.services writes, with the change history); each budget's history, who, when, what."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseapp.money import ISO_4217_CODES, MAX_AMOUNT, MAX_DIGITS
from caseapp.roles import MANAGER
from policies import selectors as policy_selectors
from policies import services as policy_services
from policies.engine import BUDGET_SLUG_RE
from policies.models import Budget, BudgetPeriod

from ..permissions import manager_required

# What a change record may name, with the label a person reads (policies.services._budget_snapshot's keys).
CHANGE_FIELDS = (
    ("name", gettext_lazy("Name")), ("currency", gettext_lazy("Currency")), ("period", gettext_lazy("Period")),
    ("amount", gettext_lazy("Amount per period")), ("owner_name", gettext_lazy("Owner")),
    ("is_active", gettext_lazy("Open")),
)


# The note policies' data migration wrote on the four default budgets (stored in the source language).
DEFAULT_BUDGET_NOTE = "Created with caseapp: no limit until a manager sets an amount"
_DEFAULT_BUDGET_NOTE_SHOWN = gettext_lazy("Created with caseapp: no limit until a manager sets an amount")


def _managers():
    return (get_user_model().objects.filter(is_active=True, groups__name=MANAGER).distinct().order_by("username"))


class BudgetForm(forms.Form):
    """A budget's fields, checked here with messages in the reader's language; the service checks them again."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, min_length=3,
                               help_text=gettext_lazy("ISO 4217 code, e.g. EUR, RON, RUB, USD."))
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=BudgetPeriod.choices)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount per period"), required=False, min_value=0, max_value=MAX_AMOUNT,
        max_digits=MAX_DIGITS, decimal_places=2,
        help_text=gettext_lazy("Leave empty for no limit."),
    )
    owner = forms.ModelChoiceField(label=gettext_lazy("Owner"), queryset=None, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Open (rules may book to it)"), required=False, initial=True)
    note = forms.CharField(label=gettext_lazy("Why"), required=False, max_length=2000,
                           widget=forms.TextInput(), help_text=gettext_lazy("Kept in the budget's history."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _managers()

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("A budget needs a name."))
        return name

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if currency not in ISO_4217_CODES:
            raise forms.ValidationError(
                _("%(code)s is not an ISO 4217 currency code (for example EUR, RON, RUB, USD).") % {"code": currency})
        return currency

    def values(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("name", "currency", "period", "amount", "owner", "is_active")}


class BudgetCreateForm(BudgetForm):
    slug = forms.CharField(label=gettext_lazy("Slug"), max_length=16,
                           help_text=gettext_lazy("What policy rules write after budget:, e.g. promotions. "
                                                  "It cannot be changed later."))

    field_order = ["slug", "name", "currency", "period", "amount", "owner", "is_active", "note"]

    def clean_slug(self):
        slug = self.cleaned_data["slug"].strip()
        if not BUDGET_SLUG_RE.match(slug):
            raise forms.ValidationError(
                _("A slug is 1 to 16 lowercase letters, digits, dashes or underscores, e.g. promotions."))
        if Budget.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("There is already a budget with this slug."))
        return slug


def _service_errors(form, error: ValidationError) -> None:
    """A service's refusal (e.g. the same slug created at the same moment) shown beside its field."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@manager_required
def budgets(request):
    """The list with this period's figures (three queries whatever the number of budgets), and a new budget."""
    form = BudgetCreateForm(request.POST or None, initial={"currency": policy_selectors.DEFAULT_CURRENCY})
    if request.method == "POST" and form.is_valid():
        try:
            budget = policy_services.budget_create(slug=form.cleaned_data["slug"], note=form.cleaned_data["note"],
                                                   by=request.user, **form.values())
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("Budget “%(name)s” created.") % {"name": budget.display_name})
            return redirect("dashboard:budget", budget_pk=budget.pk)
    balances = policy_selectors.budget_balances()
    rows = sorted(balances.values(), key=lambda b: (not b.budget.is_active, b.budget.slug))
    return render(request, "dashboard/budgets.html", {"balances": rows, "form": form},
                  status=400 if form.is_bound and form.errors else 200)


def _change_rows(changes) -> list[dict]:
    """Each recorded change as who, when and what changed (field, before, after) in the reader's language."""
    periods = dict(BudgetPeriod.choices)
    rows = []
    for change in changes:
        what = []
        for key, label in CHANGE_FIELDS:
            before, after = change.before.get(key), change.after.get(key)
            if change.before and before == after:
                continue
            if key == "period":
                before, after = periods.get(before, before), periods.get(after, after)
            elif key == "is_active":
                before = "" if before is None else (_("yes") if before else _("no"))
                after = _("yes") if after else _("no")
            elif key == "amount":
                no_limit = _("no limit")
                before = "" if not change.before else (before or no_limit)
                after = after or no_limit
            what.append({"label": label, "before": "" if before is None else before,
                         "after": "" if after is None else after})
        note = _DEFAULT_BUDGET_NOTE_SHOWN if change.note == DEFAULT_BUDGET_NOTE else change.note
        rows.append({"change": change, "created": not change.before, "what": what, "note": note})
    return rows


@manager_required
def budget_detail(request, budget_pk):
    """One budget: change it, and read its history."""
    budget = get_object_or_404(Budget.objects.select_related("owner"), pk=budget_pk)
    initial = {"name": budget.name, "currency": budget.currency, "period": budget.period, "amount": budget.amount,
               "owner": budget.owner_id, "is_active": budget.is_active}
    form = BudgetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            policy_services.budget_update(budget=budget, by=request.user, note=form.cleaned_data["note"],
                                          **form.values())
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("dashboard:budget", budget_pk=budget.pk)
    return render(request, "dashboard/budget.html", {
        "budget": budget, "balance": policy_selectors.budget_balance(budget), "form": form,
        "changes": _change_rows(policy_selectors.budget_changes(budget=budget)[:200]),
    }, status=400 if form.is_bound and form.errors else 200)
