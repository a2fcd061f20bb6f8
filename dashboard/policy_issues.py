"""The policy engine's validation reasons in the reader's language.

The engine (policies.engine) stays Django-free: each PolicyIssue carries a ``code`` and plain ``params`` besides
its English ``reason`` (kept for logs and the API). Here each code has a translated message; the params (values,
fact names, comparison names: words of the policy's own language) are shown as code, never translated."""

from dataclasses import dataclass

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "amount_float": _('write amounts as text with at most two decimals, e.g. "2.50" (never as a decimal number)'),
    "not_amount": _("%(value)s is not an amount"),
    "amount_decimals": _("%(value)s has more than two decimals"),
    "amount_negative": _("%(value)s is negative"),
    "amount_per_currency": _('give an amount per currency, e.g. {EUR: "50.00", RON: "250.00"}'),
    "not_currency": _("%(value)s is not an ISO 4217 currency code (e.g. EUR, RON, RUB, USD)"),
    "percent_over_100": _("%(value)s is more than 100 percent"),
    "not_number": _("%(value)s is not a number"),
    "not_whole_number": _("%(value)s is not a whole number"),
    "not_date": _("%(value)s is not a date: use 2026-03-14, today, today+3 or today-30"),
    "not_text": _("%(value)s is not text"),
    "not_bool": _("%(value)s is not true or false"),
    "needs_list": _("%(op)s takes a non-empty list"),
    "between_pair": _("between takes two values: [low, high]"),
    "op_not_for_kind": _("the comparison %(op)s does not apply to facts of type %(kind)s"),
    "amount_shape": _('an amount is {percent: "5", of: order_total}, {fixed: {EUR: "10.00"}} or {fact: order_total}'),
    "not_money_fact": _("%(key)s: %(value)s is not an amount fact (%(known)s)"),
    "negative": _("cannot be negative"),
    "out_of_range": _("must be between %(low)s and %(high)s"),
    "given_as": _("given_as is voucher or refund"),
    "condition_shape": _("a condition is a mapping: {fact: ..., op: value}, {all: [...]}, {any: [...]} or "
                         "{not: ...}"),
    "logical_combined": _("%(key)s cannot be combined with other keys (%(keys)s)"),
    "logical_needs_list": _("%(key)s takes a non-empty list of conditions"),
    "condition_needs_fact": _("a condition needs a fact (or all/any/not)"),
    "unknown_fact": _("unknown fact %(value)s; known facts: %(known)s"),
    "no_comparison": _("the condition on %(fact)s has no comparison (%(known)s)"),
    "unknown_comparison": _("unknown comparison %(value)s; use %(known)s"),
    "op_not_for_fact": _("the comparison %(op)s does not apply to %(fact)s (type %(kind)s)"),
    "limits_shape": _("limits is a mapping"),
    "unknown_limit": _("unknown limit; use %(known)s"),
    "rule_shape": _("a rule is a mapping with id, when and remedy"),
    "rule_id_shape": _("every rule needs an id of lowercase letters, digits and dashes"),
    "rule_id_twice": _("two rules have this id"),
    "unknown_key": _("unknown key; use %(known)s"),
    "rule_needs_when": _("a rule needs conditions (when)"),
    "rule_needs_remedy": _("a rule needs a remedy: {kind: ..., parameters: {...}}"),
    "override_not_rule": _("manager_override is a manager's decision, not a rule"),
    "unknown_kind": _("unknown remedy kind %(value)s; use %(known)s"),
    "budget_slug": _("%(value)s is not a budget's short name (slug)"),
    "unknown_budget": _("unknown budget %(value)s; use %(known)s"),
    "parameters_shape": _("parameters is a mapping"),
    "note_text": _("note is text"),
    "kind_parameters": _("%(kind)s takes %(known)s"),
    "needs_days": _("extend_voucher needs days"),
    "discount_needs_amount": _("a discount needs an amount or a percent"),
    "needs_amount": _("%(kind)s needs an amount"),
    "approval_shape": _("approval is a mapping with thresholds"),
    "unlisted_currency": _("use needs_approval or auto"),
    "document_shape": _("a policy is a mapping with rules"),
    "document_needs_rules": _("a policy needs a list of rules"),
    "not_yaml": _("not valid YAML or JSON: %(detail)s"),
    "not_utf8": _("not UTF-8 text"),
}


def _code(value) -> SafeString:
    return format_html("<code>{}</code>", value)


def issue_reason(issue) -> SafeString:
    """The reason of one PolicyIssue, translated; its params as code. An issue without a known code (from an
    older engine) shows its English reason, escaped."""
    template = MESSAGES.get(getattr(issue, "code", "") or "")
    params = dict(getattr(issue, "params", None) or {})
    within = [str(name) for name in params.pop("within", ()) or ()]
    if template is None:
        return conditional_escape(issue.reason)
    try:
        text = conditional_escape(str(template)) % {key: _code(value) for key, value in params.items()}
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder: the English reason
        return conditional_escape(issue.reason)
    prefix = "".join(f"{_code(name)}: " for name in within)
    return mark_safe(prefix + text)  # noqa: S308  # nosec B308 B703 - every part escaped above


def issue_text(issue) -> SafeString:
    """Where and why: "Rule late-discount, when.all[0].ge: ..." or "Policy, approval: ..."."""
    if issue.rule_id:
        where = conditional_escape(gettext("Rule %(rule)s, %(field)s:")) % {
            "rule": _code(issue.rule_id), "field": _code(issue.field)}
    else:
        where = conditional_escape(gettext("Policy, %(field)s:")) % {"field": _code(issue.field)}
    return mark_safe(f"{where} {issue_reason(issue)}")  # noqa: S308  # nosec B308 B703 - every part escaped above


@dataclass(frozen=True)
class ShownIssue:
    """A PolicyIssue as a page shows it: where it is and its reason in the reader's language."""

    rule_id: str | None
    field: str
    code: str
    reason: SafeString


def issues_shown(issues) -> list[ShownIssue]:
    return [ShownIssue(issue.rule_id, issue.field, getattr(issue, "code", ""), issue_reason(issue))
            for issue in issues]
