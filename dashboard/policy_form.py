"""The policy as a form: a manager changes the approval thresholds, the policy's limits and one rule's numbers
(its conditions' thresholds and its remedy's parameters) without writing YAML.

The form is built from a version's document; ``document()`` returns a copy of it with the new values, which
policies.services.policy_version_create validates and stores as a new version (or refuses, writing nothing). The
engine's refusals come back as ``PolicyIssue`` (rule, field path, reason): ``add_issues`` puts each beside the field
it is about. Text values (statuses, descriptions) are not in the form: the YAML view edits those.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseapp.money import MAX_AMOUNT, MAX_DIGITS
from policies.engine import FACT_TYPES, RULE_KINDS
from policies.models import RemedyKind

from .policy_issues import issue_reason, issue_text

AMOUNT_RE = re.compile(r"^\d{1,10}(\.\d{1,2})?$")
ANY_KIND = "*"

# The numeric facts a rule's condition may compare, as a person reads them.
FACT_LABELS = {
    "tenure_days": gettext_lazy("Days as a customer"), "tenure_years": gettext_lazy("Years as a customer"),
    "order_count": gettext_lazy("Orders"), "lifetime_spend": gettext_lazy("Lifetime spend"),
    "remedies_this_year": gettext_lazy("Remedies this year"),
    "remedy_cost_this_year": gettext_lazy("Remedy cost this year"),
    "case_remedy_cost": gettext_lazy("What this case already cost"), "order_total": gettext_lazy("Order total"),
    "cod_quoted_amount": gettext_lazy("Quoted COD amount"), "days_until_promised": gettext_lazy(
        "Days until the promised date"),
    "days_late": gettext_lazy("Days late"), "cod_label_amount": gettext_lazy("COD amount on the label"),
    "cod_difference": gettext_lazy("COD label minus quoted amount"),
    "mismatched_lines_value": gettext_lazy("Value of the wrong or missing lines"),
    "voucher_value": gettext_lazy("Voucher value"), "voucher_balance": gettext_lazy("Voucher balance"),
    "voucher_days_since_expiry": gettext_lazy("Days since the voucher expired"),
    "voucher_validity_months": gettext_lazy("Voucher validity in months"),
}
OP_LABELS = {
    "eq": gettext_lazy("equals"), "ne": gettext_lazy("is not"), "lt": gettext_lazy("less than"),
    "le": gettext_lazy("at most"), "gt": gettext_lazy("more than"), "ge": gettext_lazy("at least"),
}
PARAMETER_LABELS = {
    "days": gettext_lazy("Days"), "due_hours": gettext_lazy("Hours to keep the promise"),
    "percent": gettext_lazy("Percent"),
}
LIMIT_LABELS = {
    "max_cost_per_case": gettext_lazy("Most a case may cost"),
    "max_cost_per_customer_per_year": gettext_lazy("Most a customer may receive per year"),
    "max_remedies_per_customer_per_year": gettext_lazy("Most remedies per customer per year"),
}


def issue_path(path: tuple) -> str:
    """("when", "all", 0, "ge") -> "when.all[0].ge", the engine's way of naming a field."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _is_amount(value) -> bool:
    return isinstance(value, str) and bool(AMOUNT_RE.match(value.strip()))


def _amount_field(label, *, required=True, initial=None):
    return forms.DecimalField(label=label, required=required, min_value=0, max_value=MAX_AMOUNT,
                              max_digits=MAX_DIGITS, decimal_places=2, initial=initial,
                              widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 9}))


def _number_field(label, *, required=True, initial=None):
    return forms.IntegerField(label=label, required=required, min_value=0, max_value=1_000_000, initial=initial,
                              widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 6}))


class PolicyForm(forms.Form):
    """Thresholds and limits of the whole policy, and the numbers of one rule (``rule_id``), for a document."""

    note = forms.CharField(label=gettext_lazy("What changed and why"), max_length=2000, required=False,
                           widget=forms.TextInput(attrs={"size": 60}))

    def __init__(self, *args, document: dict, rule_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.base = document
        self.paths: dict[str, tuple] = {}  # field name -> (rule id or None, path in the document or the rule)
        self.kinds = (ANY_KIND, *RULE_KINDS)
        self.threshold_rows: list[tuple[str, list[str]]] = []
        self.limit_names: list[str] = []
        self.rule_names: list[str] = []
        approval = document.get("approval") or {}
        thresholds = approval.get("thresholds") or {}
        self.currencies = sorted({currency for amounts in thresholds.values() if isinstance(amounts, dict)
                                  for currency in amounts}) or ["EUR"]
        for kind in self.kinds:
            label = _("Any other kind") if kind == ANY_KIND else _(str(RemedyKind(kind).label))
            names = []
            for currency in self.currencies:
                value = (thresholds.get(kind) or {}).get(currency)
                name = f"threshold:{kind}:{currency}"
                self.fields[name] = _amount_field(f"{label} ({currency})", required=False,
                                                  initial=value if _is_amount(value) else None)
                self.paths[name] = (None, ("approval", "thresholds", kind, currency))
                names.append(name)
            self.threshold_rows.append((label, names))
        limits = document.get("limits") or {}
        for key, label in LIMIT_LABELS.items():
            value = limits.get(key)
            if key == "max_remedies_per_customer_per_year":
                name = f"limit:{key}"
                self.fields[name] = _number_field(label, required=False, initial=value)
                self.paths[name] = (None, ("limits", key))
                self.limit_names.append(name)
                continue
            for currency in self.currencies:
                current = (value or {}).get(currency) if isinstance(value, dict) else None
                name = f"limit:{key}:{currency}"
                self.fields[name] = _amount_field(f"{label} ({currency})", required=False,
                                                  initial=current if _is_amount(current) else None)
                self.paths[name] = (None, ("limits", key, currency))
                self.limit_names.append(name)
        self.rule_index, self.rule = None, None
        for index, rule in enumerate(document.get("rules") or []):
            if isinstance(rule, dict) and rule.get("id") == rule_id:
                self.rule_index, self.rule = index, rule
        if self.rule is not None:
            self.fields["rule"] = forms.CharField(widget=forms.HiddenInput(), initial=rule_id)
            self._rule_fields(self.rule)

    # --- one rule ---------------------------------------------------------------------------------------------

    def _add_rule_field(self, path: tuple, field) -> None:
        name = "rule:" + issue_path(path)
        self.fields[name] = field
        self.paths[name] = (self.rule["id"], path)
        self.rule_names.append(name)

    def _rule_fields(self, rule: dict) -> None:
        if isinstance(rule.get("priority", 0), int):
            self._add_rule_field(("priority",), forms.IntegerField(
                label=_("Priority (higher first)"), initial=rule.get("priority", 0), min_value=-1_000_000,
                max_value=1_000_000))
        self._condition_fields(rule.get("when"), ("when",))
        remedy = rule.get("remedy") or {}
        parameters = remedy.get("parameters") or {}
        if isinstance(parameters, dict):
            for key, value in parameters.items():
                self._parameter_fields(key, value, ("remedy", "parameters", key))
        self._add_rule_field(("needs_approval",), forms.BooleanField(
            label=_("Always needs a manager's approval"), required=False, initial=bool(rule.get("needs_approval"))))

    def _condition_fields(self, node, path: tuple) -> None:
        if not isinstance(node, dict):
            return
        for key in ("all", "any"):
            if isinstance(node.get(key), list):
                for index, child in enumerate(node[key]):
                    self._condition_fields(child, (*path, key, index))
                return
        if "not" in node:
            self._condition_fields(node["not"], (*path, "not"))
            return
        fact = node.get("fact")
        if FACT_TYPES.get(fact) not in ("int", "number", "money"):
            return
        fact_label = FACT_LABELS.get(fact, str(fact).replace("_", " "))
        for op, value in node.items():
            if op == "fact":
                continue
            if op in OP_LABELS:
                self._value_fields(f"{fact_label}: {OP_LABELS[op]}", value, (*path, op))
            elif op == "between" and isinstance(value, list) and len(value) == 2:
                self._value_fields(_("%(fact)s: from") % {"fact": fact_label}, value[0], (*path, op, 0))
                self._value_fields(_("%(fact)s: to") % {"fact": fact_label}, value[1], (*path, op, 1))

    def _value_fields(self, label, value, path: tuple) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            self._add_rule_field(path, _number_field(label, initial=value))
        elif _is_amount(value):
            self._add_rule_field(path, _amount_field(label, initial=value))
        elif isinstance(value, dict):
            for currency, amount in value.items():
                if _is_amount(amount):
                    self._add_rule_field((*path, currency), _amount_field(f"{label} ({currency})", initial=amount))

    def _parameter_fields(self, key, value, path: tuple) -> None:
        if key == "amount" and isinstance(value, dict):
            if "percent" in value:
                of = FACT_LABELS.get(value.get("of", "order_total"), "")
                self._value_fields(_("Percent of: %(what)s") % {"what": of}, value["percent"], (*path, "percent"))
            elif isinstance(value.get("fixed"), dict):
                self._value_fields(_("Fixed amount"), value["fixed"], (*path, "fixed"))
        elif key in PARAMETER_LABELS:
            self._value_fields(PARAMETER_LABELS[key], value, path)

    # --- the document with the new values ---------------------------------------------------------------------

    @staticmethod
    def _written(old, new):
        """The value as the document writes it: amounts as strings (the old text when the amount is the same)."""
        if isinstance(new, Decimal):
            if _is_amount(old) and Decimal(old) == new:
                return old
            return f"{new:.2f}"
        return new

    def document(self) -> dict:
        document = copy.deepcopy(self.base)
        for name, (rule_id, path) in self.paths.items():
            value = self.cleaned_data.get(name)
            target = document if rule_id is None else document["rules"][self.rule_index]
            *parents, last = path
            node = target
            missing = False
            for part in parents:
                if isinstance(part, int):
                    node = node[part]
                    continue
                if value is None and not isinstance(node.get(part), dict):
                    missing = True
                    break
                node = node.setdefault(part, {})
            if missing:
                continue
            if value is None and rule_id is None:  # an empty threshold or limit: none for that currency
                if isinstance(node, dict):
                    node.pop(last, None)
                continue
            if path == ("needs_approval",) and not value and "needs_approval" not in self.rule:
                continue
            old = node[last] if isinstance(node, list) else node.get(last)
            node[last] = self._written(old, value)
        for section in ("approval", "limits"):  # a kind or limit left without any amount is dropped
            container = document.get(section) or {}
            nested = container.get("thresholds") if section == "approval" else container
            if isinstance(nested, dict):
                for key in [key for key, value in nested.items() if value == {}]:
                    del nested[key]
        return document

    def add_issues(self, issues) -> None:
        """Each of the engine's refusals beside the field it is about; the others above the form."""
        for issue in issues:
            where = issue.field
            names = [name for name, (rule_id, path) in self.paths.items()
                     if rule_id == issue.rule_id and (issue_path(path) == where
                                                      or issue_path(path).startswith((where + ".", where + "[")))]
            message = conditional_escape(_("The policy does not accept this: %(reason)s")) % {
                "reason": issue_reason(issue)}
            message = mark_safe(message)  # noqa: S308  # nosec B308 B703 - the text escaped, the reason built escaped
            if names:
                for name in names:
                    if name in self.fields:
                        self.add_error(name, message)
            else:
                self.add_error(None, issue_text(issue))
