"""Managers write a new policy version from a form (thresholds, limits, one rule's numbers) or from YAML; either
way policies.services.policy_version_create validates it first and stores nothing when it refuses. The new
version is then compared, replayed and activated on its own page, as before."""

import yaml
from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from policies import selectors as policy_selectors
from policies import services as policy_services
from policies.document_lines import issues_by_line
from policies.models import PolicyVersion

from ..permissions import manager_required
from ..policy_form import PolicyForm
from ..policy_issues import issues_shown


def _base_version(request) -> PolicyVersion:
    """The version the form starts from: ?base=<id>, else the active one (the shipped default on first use)."""
    base = request.POST.get("base") or request.GET.get("base")
    if base and str(base).isdigit():
        return get_object_or_404(PolicyVersion, pk=int(base))
    return policy_selectors.policy_version_active() or policy_services.policy_default_ensure()


def _written(request, version: PolicyVersion):
    messages.success(request, _("v%(number)s is written, not active yet: compare it with the active version and "
                                "replay it over past cases, then activate it.") % {"number": version.number})
    return redirect("dashboard:policy", version_pk=version.pk)


@manager_required
def policy_form(request):
    base = _base_version(request)
    rules = [rule.get("id") for rule in base.document.get("rules") or [] if isinstance(rule, dict)]
    rule_id = request.POST.get("rule") or request.GET.get("rule")
    rule_id = rule_id if rule_id in rules else None
    form = PolicyForm(request.POST or None, document=base.document, rule_id=rule_id)
    if request.method == "POST" and form.is_valid():
        document = form.document()
        if document == base.document:
            form.add_error(None, _("Nothing changed: change a value first."))
        else:
            note = form.cleaned_data["note"].strip() or _("Changed in the form from v%(number)s") % {
                "number": base.number}
            try:
                version = policy_services.policy_version_create(document=document, author=request.user, note=note)
            except policy_services.PolicyDocumentInvalid as invalid:
                form.add_issues(invalid.issues)
            else:
                return _written(request, version)
    return render(request, "dashboard/policy_form.html", {
        "base": base, "form": form, "rules": rules, "rule_id": rule_id,
        "threshold_rows": [(label, [form[name] for name in names]) for label, names in form.threshold_rows],
        "limit_fields": [form[name] for name in form.limit_names],
        "rule_fields": [form[name] for name in form.rule_names],
    }, status=400 if form.is_bound and form.errors else 200)


class PolicyYamlForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("The policy in YAML"), max_length=200_000, strip=False,
                           widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "false"}))
    note = forms.CharField(label=gettext_lazy("What changed and why"), max_length=2000, required=False)


def _yaml_text(document: dict) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)


@manager_required
def policy_yaml(request):
    base = _base_version(request)
    form = PolicyYamlForm(request.POST or None, initial={"text": _yaml_text(base.document)})
    lines = None
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        try:
            version = policy_services.policy_version_create(
                document=text, author=request.user,
                note=form.cleaned_data["note"].strip() or _("Written in YAML from v%(number)s") % {
                    "number": base.number})
        except policy_services.PolicyDocumentInvalid as invalid:
            by_line = {number: issues_shown(issues)
                       for number, issues in issues_by_line(text, invalid.issues).items()}
            form.add_error("text", _("The policy was not saved: %(count)s problem(s), shown beside their lines.")
                           % {"count": len(invalid.issues)})
            lines = [{"number": number, "text": line, "issues": by_line.get(number, [])}
                     for number, line in enumerate(text.splitlines() or [""], start=1)]
            for number in sorted(set(by_line) - {line["number"] for line in lines}):
                lines.append({"number": number, "text": "", "issues": by_line[number]})
        else:
            return _written(request, version)
    return render(request, "dashboard/policy_yaml.html", {"base": base, "form": form, "lines": lines},
                  status=400 if form.is_bound and form.errors else 200)
