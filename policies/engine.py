"""The remedy policy evaluator: pure Python, no Django import, deterministic and side-effect free.

A policy document (a dict, loaded from YAML or JSON) looks like this::

    approval:
      thresholds:                 # a proposal costing more than this waits for a manager
        refund: {EUR: "100.00", RON: "500.00"}
        "*": {EUR: "50.00"}       # every other kind
      unlisted_currency: needs_approval      # or "auto": what to do for a currency not listed
    limits:                       # over all proposals for one case
      max_cost_per_case: {EUR: "300.00"}
      max_cost_per_customer_per_year: {EUR: "600.00"}
      max_remedies_per_customer_per_year: 6
    rules:
      - id: forgive-loyal-expired
        priority: 50              # higher first; ties by id
        when:
          all:
            - {fact: category, eq: voucher_expired}
            - {fact: voucher_days_since_expiry, between: [1, 30]}
            - any:
                - {fact: tenure_years, ge: 2}
                - {fact: lifetime_spend, ge: {RON: "2000.00", EUR: "400.00"}}
        remedy:
          kind: extend_voucher
          parameters: {days: 30}
          budget: customer_care
        limits: {max_cost_per_case: {RON: "1000.00"}}
        needs_approval: false     # optional: true forces a manager's approval
        final: false              # optional: true stops lower-priority rules
        note: "a loyal customer is not turned away for a few days"   # optional, appended to the rationale

Conditions: ``all``/``any`` (lists), ``not`` (one condition), or ``{fact: <name>, <op>: <value>, ...}`` with ops
``eq ne lt le gt ge in not_in between is_null``; several ops in one condition must all hold. Money facts compare
with an amount (``"20.00"``) or a map per currency (``{RON: "20.00"}``: no entry for the case's currency, no match).
Date facts compare with ``"2026-03-14"``, ``"today"``, ``"today+3"`` or ``"today-30"``. A fact that is unknown
for the case (None) matches nothing but ``is_null: true``.

Remedy amounts (``parameters.amount``): ``{percent: "5", of: order_total}``, ``{fixed: {RUB: "15000.00"}}`` or
``{fact: voucher_balance}``. The estimated cost of each kind:

=================  ==============================================================  ===========================
kind               parameters                                                       cost
=================  ==============================================================  ===========================
extend_voucher     days (int, from today)                                           voucher balance
discount           amount, given_as: voucher | refund                               the amount
refund             amount (default: the order total), recover_from_courier          the amount
replacement        amount (default: the order total), courier (default: the same)   the amount
absorb_cost        amount, recover_from_courier (bool)                              the amount
correct_cod        due_hours (default 2)                                            0 (the courier fixes it)
free_item          amount, description                                              the amount
callback           due_hours (default 24), description                              0
=================  ==============================================================  ===========================

Limits: a rule's ``max_cost_per_case`` caps its own remedy; its ``max_cost_per_customer_per_year`` and the
policy's limits count what the customer already received this year (``remedy_cost_this_year``), what this case
already cost (``case_remedy_cost``) and the proposals before it in the same evaluation. Discounts, refunds and
absorbed costs are capped by the limits (and the rationale says so); other kinds are not proposed when they would
exceed a limit. A rule that already has a remedy on the case (``decided_rules``) is proposed again with the same
key and ``already_decided=True``, outside the limits (its cost is already in the totals).
``manager_override`` is never proposed by a rule: it is a manager's act.

Proposal keys are ``case-<id>/rule-<rule id>/<kind>``: one remedy per rule and case, ever, whatever the version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, make_dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
RULE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}$")


# ---------------------------------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Facts:
    """A snapshot of what is known about one case, as of ``today``. Money is in the case's ``currency``."""

    today: date
    currency: str
    case_id: int | None = None
    # customer
    tenure_days: int = 0
    tenure_years: float = 0.0
    order_count: int = 0
    lifetime_spend: Decimal = ZERO
    remedies_this_year: int = 0
    remedy_cost_this_year: Decimal = ZERO
    # case
    category: str = "other"
    channel: str = "email"
    case_remedy_cost: Decimal = ZERO  # remedies already applied to this case
    decided_rules: frozenset = frozenset()  # rules with a remedy in the ledger for this case
    # order
    order_total: Decimal | None = None
    payment_method: str | None = None
    promised_date: date | None = None
    is_date_critical: bool = False
    is_non_refundable: bool = False
    cod_quoted_amount: Decimal | None = None
    # shipment
    shipment_status: str | None = None
    days_late: int = 0
    courier: str | None = None
    cod_label_amount: Decimal | None = None
    is_replacement_shipment: bool = False
    # what the delivery check found: the value of the order lines missing, short or in another style (None: not
    # checked, or nothing wrong)
    mismatched_lines_value: Decimal | None = None
    # voucher
    voucher_value: Decimal | None = None
    voucher_balance: Decimal | None = None
    voucher_valid_until: date | None = None
    voucher_days_since_expiry: int | None = None
    voucher_validity_months: int | None = None

    @property
    def cod_difference(self) -> Decimal | None:
        """What the courier's label asks above (positive) or below the quoted COD amount."""
        if self.cod_label_amount is None or self.cod_quoted_amount is None:
            return None
        return self.cod_label_amount - self.cod_quoted_amount

    @property
    def days_until_promised(self) -> int | None:
        return None if self.promised_date is None else (self.promised_date - self.today).days


def _draft_class(frozen_class):
    """A mutable twin of a frozen slotted dataclass: the same fields, defaults and slots, with the plain
    ``self.x = x`` __init__ of a mutable dataclass instead of one object.__setattr__ call per field."""
    draft = make_dataclass(f"_{frozen_class.__name__}Draft", [
        (item.name, item.type, field(default=item.default) if item.default is not MISSING
         else field(default_factory=item.default_factory) if item.default_factory is not MISSING else field())
        for item in fields(frozen_class)
    ], slots=True)
    if draft.__slots__ != frozen_class.__slots__:
        raise TypeError(f"{frozen_class.__name__}: its draft twin has other slots")
    return draft


_FactsDraft = _draft_class(Facts)


def facts_make(**values) -> Facts:
    """The same as ``Facts(**values)``, several times faster (for bulk replays): the facts are filled in as a
    mutable twin with the same slots, which then becomes a Facts (frozen from then on)."""
    facts = _FactsDraft(**values)
    facts.__class__ = Facts
    return facts


INT, NUMBER, MONEY, TEXT, BOOL, DATE = "int", "number", "money", "text", "bool", "date"

FACT_TYPES: dict[str, str] = {
    "today": DATE, "currency": TEXT, "case_id": INT,
    "tenure_days": INT, "tenure_years": NUMBER, "order_count": INT, "lifetime_spend": MONEY,
    "remedies_this_year": INT, "remedy_cost_this_year": MONEY,
    "category": TEXT, "channel": TEXT, "case_remedy_cost": MONEY,
    "order_total": MONEY, "payment_method": TEXT, "promised_date": DATE, "is_date_critical": BOOL,
    "is_non_refundable": BOOL, "cod_quoted_amount": MONEY, "days_until_promised": INT,
    "shipment_status": TEXT, "days_late": INT, "courier": TEXT, "cod_label_amount": MONEY,
    "cod_difference": MONEY, "is_replacement_shipment": BOOL, "mismatched_lines_value": MONEY,
    "voucher_value": MONEY, "voucher_balance": MONEY, "voucher_valid_until": DATE,
    "voucher_days_since_expiry": INT, "voucher_validity_months": INT,
}
MONEY_FACTS = frozenset(name for name, kind in FACT_TYPES.items() if kind == MONEY)

OPS_BY_TYPE = {
    INT: {"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "between", "is_null"},
    NUMBER: {"eq", "ne", "lt", "le", "gt", "ge", "between", "is_null"},
    MONEY: {"eq", "ne", "lt", "le", "gt", "ge", "between", "is_null"},
    DATE: {"eq", "ne", "lt", "le", "gt", "ge", "between", "is_null"},
    TEXT: {"eq", "ne", "in", "not_in", "is_null"},
    BOOL: {"eq", "ne", "is_null"},
}
ALL_OPS = frozenset().union(*OPS_BY_TYPE.values())


# ---------------------------------------------------------------------------------------------------------------
# Remedy kinds
# ---------------------------------------------------------------------------------------------------------------

EXTEND_VOUCHER, DISCOUNT, REFUND, REPLACEMENT = "extend_voucher", "discount", "refund", "replacement"
ABSORB_COST, CORRECT_COD, FREE_ITEM, CALLBACK = "absorb_cost", "correct_cod", "free_item", "callback"
MANAGER_OVERRIDE = "manager_override"
RULE_KINDS = (EXTEND_VOUCHER, DISCOUNT, REFUND, REPLACEMENT, ABSORB_COST, CORRECT_COD, FREE_ITEM, CALLBACK)
ALL_KINDS = RULE_KINDS + (MANAGER_OVERRIDE,)
DIVISIBLE_KINDS = frozenset({DISCOUNT, REFUND, ABSORB_COST})
BUDGETS = ("marketing", "customer_care", "logistics", "quality")  # the defaults; a shop adds its own (policies.Budget)
BUDGET_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,15}$")
ANY_BUDGET = None  # budgets=ANY_BUDGET: any slug-shaped budget (the caller checks the slugs itself)

KIND_PARAMETERS = {
    EXTEND_VOUCHER: {"days"},
    DISCOUNT: {"amount", "percent", "given_as"},
    REFUND: {"amount", "recover_from_courier"},
    REPLACEMENT: {"amount", "courier", "recover_from_courier"},
    ABSORB_COST: {"amount", "recover_from_courier", "description"},
    CORRECT_COD: {"due_hours"},
    FREE_ITEM: {"amount", "description"},
    CALLBACK: {"due_hours", "description"},
}
KIND_NEEDS_AMOUNT = frozenset({ABSORB_COST, FREE_ITEM})
RULE_KEYS = {"id", "priority", "when", "remedy", "limits", "needs_approval", "final", "note"}
LIMIT_KEYS = {"max_cost_per_case", "max_cost_per_customer_per_year", "max_remedies_per_customer_per_year"}
DOCUMENT_KEYS = {"rules", "approval", "limits", "name", "description"}


# ---------------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyIssue:
    """One problem: where (rule id, field path) and why, as English text for logs and the API (``reason``) and
    as plain data for a translated message (``code`` and ``params``: strings, and ``within``, the names a
    reason about a value is nested in, e.g. ("order_total", "EUR"))."""

    rule_id: str | None  # None: the document itself (approval, limits)
    field: str
    reason: str
    code: str = ""
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def __str__(self):
        where = f"rule {self.rule_id}" if self.rule_id else "policy"
        return f"{where}, {self.field}: {self.reason}"


class PolicyError(ValueError):
    """An invalid policy document; ``issues`` names the rule, the field and the reason for each problem."""

    def __init__(self, issues: list[PolicyIssue]):
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues))


# ---------------------------------------------------------------------------------------------------------------
# Value parsing (shared by the validator and the compiler)
# ---------------------------------------------------------------------------------------------------------------


class _Bad(Exception):
    """A value that does not fit: the English reason, a code and its params (see PolicyIssue)."""

    def __init__(self, reason: str, code: str = "", **params):
        super().__init__(reason)
        self.code = code
        self.params = params

    def inside(self, name) -> _Bad:
        """The same reason about an entry ``name`` of a mapping (a currency, a fact)."""
        return _Bad(f"{name}: {self}", self.code,
                    **{**self.params, "within": (str(name), *self.params.get("within", ()))})


def _issue(rule_id, field, reason: str, code: str, **params) -> PolicyIssue:
    return PolicyIssue(rule_id, field, reason, code, params)


def _issue_from(rule_id, field, exc: _Bad) -> PolicyIssue:
    return PolicyIssue(rule_id, field, str(exc), exc.code, dict(exc.params))


def _money(value) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise _Bad("write amounts as strings with at most two decimals, e.g. \"2.50\" (never floats)", "amount_float")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int | str):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise _Bad(f"{value!r} is not an amount", "not_amount", value=repr(value)) from exc
    else:
        raise _Bad(f"{value!r} is not an amount", "not_amount", value=repr(value))
    if not amount.is_finite():
        raise _Bad(f"{value!r} is not an amount", "not_amount", value=repr(value))
    if amount != amount.quantize(CENT):
        raise _Bad(f"{value!r} has more than two decimals", "amount_decimals", value=repr(value))
    if amount < 0:
        raise _Bad(f"{value!r} is negative", "amount_negative", value=repr(value))
    return amount.quantize(CENT)


def _money_map(value) -> dict[str, Decimal]:
    if not isinstance(value, Mapping) or not value:
        raise _Bad("give an amount per currency, e.g. {EUR: \"50.00\", RON: \"250.00\"}", "amount_per_currency")
    result = {}
    for currency, amount in value.items():
        if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
            raise _Bad(f"{currency!r} is not an ISO 4217 currency code (e.g. EUR, RON, RUB, USD)", "not_currency",
                       value=repr(currency))
        try:
            result[currency] = _money(amount)
        except _Bad as exc:
            raise exc.inside(currency) from exc
    return result


def _money_or_map(value):
    """An amount for any currency, or a map currency -> amount."""
    if isinstance(value, Mapping):
        return _money_map(value)
    return _money(value)


def _percent(value) -> Decimal:
    amount = _money(value)
    if amount > HUNDRED:
        raise _Bad(f"{value!r} is more than 100 percent", "percent_over_100", value=repr(value))
    return amount


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _Bad(f"{value!r} is not a number", "not_number", value=repr(value))
    if isinstance(value, float) and value != value:
        raise _Bad("NaN is not a number", "not_number", value="NaN")
    return value


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{value!r} is not a whole number", "not_whole_number", value=repr(value))
    return value


_DATE_RE = re.compile(r"^today(?:([+-])(\d{1,5}))?$")


def _date(value) -> date | timedelta:
    """A date condition value: a fixed date, or a timedelta from the facts' today."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = _DATE_RE.match(value.strip())
        if match:
            sign, days = match.groups()
            return timedelta(days=int(days or 0)) * (-1 if sign == "-" else 1)
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise _Bad(f"{value!r} is not a date: use 2026-03-14, today, today+3 or today-30", "not_date",
                       value=repr(value)) from exc
    raise _Bad(f"{value!r} is not a date: use 2026-03-14, today, today+3 or today-30", "not_date",
                       value=repr(value))


def _text(value) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{value!r} is not text", "not_text", value=repr(value))
    return value


def _bool(value) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"{value!r} is not true or false", "not_bool", value=repr(value))
    return value


# ---------------------------------------------------------------------------------------------------------------
# Conditions: compiled to one Python function per rule
# ---------------------------------------------------------------------------------------------------------------
#
# A rule's conditions become the source of one function ``def test(f): return <expression>`` over the Facts, with
# plain attribute reads and operators (no closure call, getattr or operator call per comparison). Only validated
# names reach the source: fact names from FACT_TYPES and operators from _OPERATORS; every value of the document
# (amounts, dates, lists) is bound to the function by name, never written into the text.

_OPERATORS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class _Source:
    """The values a condition's source refers to, and fresh local names for its assignment expressions."""

    def __init__(self, rule_id: str = ""):
        self.values: dict = {}
        self.locals = 0
        self.where = f"<policy rule {rule_id}>"  # the file name profiles and tracebacks show

    def bind(self, value) -> str:
        name = f"_v{len(self.values)}"
        self.values[name] = value
        return name

    def local(self) -> str:
        self.locals += 1
        return f"_x{self.locals}"

    def function(self, expression: str) -> Callable[[Facts], bool]:
        namespace = dict(self.values)
        # Safe to exec: the expression holds only validated fact names, operators and bound value names (above).
        exec(compile(f"def test(f):\n    return {expression}\n", self.where, "exec"), namespace)  # noqa: S102  # nosec B102
        return namespace["test"]


def _compile_test(name: str, kind: str, op: str, raw, source: _Source) -> str:
    """One comparison of one fact, as an expression over ``f``. Raises _Bad with the reason when the value does
    not fit the fact. A fact that is None matches nothing but is_null."""
    if op == "is_null":
        wanted = _bool(raw)
        return f"(f.{name} is None)" if wanted else f"(f.{name} is not None)"
    value = source.local()
    if op in ("in", "not_in"):
        if not isinstance(raw, list | tuple) or not raw:
            raise _Bad(f"{op} takes a non-empty list", "needs_list", op=op)
        parse = _int if kind == INT else _text
        values = source.bind(frozenset(parse(item) for item in raw))
        return f"(({value} := f.{name}) is not None and {value} {'in' if op == 'in' else 'not in'} {values})"
    if op == "between":
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            raise _Bad("between takes [low, high]", "between_pair")
        low_test = _compile_test(name, kind, "ge", raw[0], source)
        high_test = _compile_test(name, kind, "le", raw[1], source)
        return f"({low_test} and {high_test})"
    compare = _OPERATORS[op]
    if kind == MONEY:
        threshold = _money_or_map(raw)
        if isinstance(threshold, dict):
            amounts, limit = source.bind(threshold), source.local()
            return (f"(({value} := f.{name}) is not None and ({limit} := {amounts}.get(f.currency)) is not None"
                    f" and {value} {compare} {limit})")
        return f"(({value} := f.{name}) is not None and {value} {compare} {source.bind(threshold)})"
    if kind == DATE:
        when = _date(raw)
        other = f"(f.today + {source.bind(when)})" if isinstance(when, timedelta) else source.bind(when)
        return f"(({value} := f.{name}) is not None and {value} {compare} {other})"
    if kind in (INT, NUMBER):
        wanted = _int(raw) if kind == INT else _number(raw)
    elif kind == BOOL:
        wanted = _bool(raw)
    else:
        wanted = _text(raw)
    if op not in ("eq", "ne") and kind in (TEXT, BOOL):
        raise _Bad(f"{op} does not apply to {kind} facts", "op_not_for_kind", op=op, kind=kind)
    return f"(({value} := f.{name}) is not None and {value} {compare} {source.bind(wanted)})"


def _all_of(tests: tuple) -> str:
    if len(tests) == 1:
        return tests[0]
    return f"({' and '.join(tests)})" if tests else "True"


def _any_of(tests: tuple) -> str:
    if len(tests) == 1:
        return tests[0]
    return f"({' or '.join(tests)})" if tests else "False"


NESTING_PER_FUNCTION = 30  # Python's parser refuses about 200 nested parentheses: deeper conditions call a function


def _nested(expression: str, depth: int, source: _Source) -> str:
    """Every NESTING_PER_FUNCTION levels, the expression so far becomes a function of its own, called by name."""
    if depth == 0 or depth % NESTING_PER_FUNCTION:
        return expression
    return f"{source.bind(source.function(expression))}(f)"


def _compile_condition(node, path: str, issues: list, rule_id, facts_used: list, source: _Source,
                       depth: int = 0) -> str:
    """The condition as an expression over ``f`` (see _Source); each problem goes to ``issues``."""
    def bad(field, reason, code, **params):
        issues.append(_issue(rule_id, field, reason, code, **params))
        return "False"

    if not isinstance(node, Mapping):
        return bad(path, "a condition is a mapping: {fact: ..., op: value}, {all: [...]}, {any: [...]} or {not: ...}",
                   "condition_shape")
    logical = [key for key in ("all", "any", "not") if key in node]
    if logical:
        if len(node) != 1:
            return bad(path, f"{logical[0]} cannot be combined with other keys ({', '.join(sorted(map(str, node)))})",
                       "logical_combined", key=logical[0], keys=", ".join(sorted(map(str, node))))
        key = logical[0]
        if key == "not":
            inner = _compile_condition(node["not"], f"{path}.not", issues, rule_id, facts_used, source, depth + 1)
            return _nested(f"(not {inner})", depth, source)
        children = node[key]
        if not isinstance(children, list) or not children:
            return bad(f"{path}.{key}", f"{key} takes a non-empty list of conditions", "logical_needs_list", key=key)
        tests = tuple(
            _compile_condition(child, f"{path}.{key}[{index}]", issues, rule_id, facts_used, source, depth + 1)
            for index, child in enumerate(children)
        )
        return _nested(_all_of(tests) if key == "all" else _any_of(tests), depth, source)
    if "fact" not in node:
        return bad(path, "a condition needs a fact (or all/any/not)", "condition_needs_fact")
    name = node["fact"]
    if not isinstance(name, str) or name not in FACT_TYPES:
        return bad(f"{path}.fact", f"unknown fact {name!r}; known facts: {', '.join(sorted(FACT_TYPES))}",
                   "unknown_fact", value=repr(name), known=", ".join(sorted(FACT_TYPES)))
    kind = FACT_TYPES[name]
    ops = [key for key in node if key != "fact"]
    if not ops:
        return bad(path, f"the condition on {name} has no comparison ({', '.join(sorted(OPS_BY_TYPE[kind]))})",
                   "no_comparison", fact=name, known=", ".join(sorted(OPS_BY_TYPE[kind])))
    tests = []
    for op in ops:
        if op not in ALL_OPS:
            issues.append(_issue(rule_id, f"{path}.{op}", f"unknown comparison {op!r}", "unknown_comparison",
                                 value=repr(op), known=", ".join(sorted(OPS_BY_TYPE[kind]))))
            continue
        if op not in OPS_BY_TYPE[kind]:
            issues.append(_issue(rule_id, f"{path}.{op}", f"{op} does not apply to {name} ({kind})",
                                 "op_not_for_fact", op=str(op), fact=name, kind=kind))
            continue
        try:
            tests.append(_compile_test(name, kind, op, node[op], source))
        except _Bad as exc:
            issues.append(_issue_from(rule_id, f"{path}.{op}", exc.inside(name)))
    if name not in facts_used:
        facts_used.append(name)
    return _all_of(tuple(tests))


# ---------------------------------------------------------------------------------------------------------------
# Amounts and limits
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Amount:
    """How a rule's amount is computed: a percent of a money fact, a fixed amount per currency, or a fact."""

    percent: Decimal | None = None
    of: str | None = None
    fixed: dict | None = None
    fact: str | None = None

    def resolve(self, facts: Facts) -> Decimal | None:
        if self.percent is not None:
            base = getattr(facts, self.of)
            return None if base is None else (base * self.percent / HUNDRED).quantize(CENT, ROUND_HALF_UP)
        if self.fixed is not None:
            return self.fixed.get(facts.currency)
        value = getattr(facts, self.fact)
        return None if value is None else max(value, ZERO)

    def describe(self) -> str:
        if self.percent is not None:
            return f"{_plain(self.percent)}% of the {self.of.replace('_', ' ')}"
        if self.fixed is not None:
            return "a fixed amount"
        return f"the {self.fact.replace('_', ' ')}"


def _parse_amount(raw) -> Amount:
    if not isinstance(raw, Mapping):
        raise _Bad("amount is {percent: \"5\", of: order_total}, {fixed: {EUR: \"10.00\"}} or {fact: order_total}",
                   "amount_shape")
    keys = set(raw)
    if keys == {"percent", "of"} or keys == {"percent"}:
        of = raw.get("of", "order_total")
        if of not in MONEY_FACTS:
            raise _Bad(f"of: {of!r} is not a money fact ({', '.join(sorted(MONEY_FACTS))})", "not_money_fact",
                       key="of", value=repr(of), known=", ".join(sorted(MONEY_FACTS)))
        return Amount(percent=_percent(raw["percent"]), of=of)
    if keys == {"fixed"}:
        return Amount(fixed=_money_map(raw["fixed"]))
    if keys == {"fact"}:
        if raw["fact"] not in MONEY_FACTS:
            raise _Bad(f"fact: {raw['fact']!r} is not a money fact ({', '.join(sorted(MONEY_FACTS))})", "not_money_fact",
                       key="fact", value=repr(raw["fact"]), known=", ".join(sorted(MONEY_FACTS)))
        return Amount(fact=raw["fact"])
    raise _Bad("amount is {percent: \"5\", of: order_total}, {fixed: {EUR: \"10.00\"}} or {fact: order_total}",
                   "amount_shape")


@dataclass(frozen=True)
class Limits:
    max_cost_per_case: dict = field(default_factory=dict)
    max_cost_per_customer_per_year: dict = field(default_factory=dict)
    max_remedies_per_customer_per_year: int | None = None


def _parse_limits(raw, rule_id, path, issues) -> Limits:
    if raw is None:
        return Limits()
    if not isinstance(raw, Mapping):
        issues.append(_issue(rule_id, path, "limits is a mapping", "limits_shape"))
        return Limits()
    values = {}
    for key, value in raw.items():
        if key not in LIMIT_KEYS:
            issues.append(_issue(rule_id, f"{path}.{key}", f"unknown limit; use {', '.join(sorted(LIMIT_KEYS))}",
                                 "unknown_limit", known=", ".join(sorted(LIMIT_KEYS))))
            continue
        try:
            if key == "max_remedies_per_customer_per_year":
                count = _int(value)
                if count < 0:
                    raise _Bad("cannot be negative", "negative")
                values[key] = count
            else:
                values[key] = _money_map(value)
        except _Bad as exc:
            issues.append(_issue_from(rule_id, f"{path}.{key}", exc))
    return Limits(**values)


# ---------------------------------------------------------------------------------------------------------------
# Proposals
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A remedy the policy proposes for one case. ``key`` identifies it for idempotent application."""

    case_id: int | None
    rule_id: str
    kind: str
    parameters: dict
    cost: Decimal
    currency: str
    budget: str
    recoverable_from: str | None
    rationale: str
    needs_approval: bool
    key: str
    priority: int = 0
    already_decided: bool = False  # this rule already has a remedy on the case (applied, waiting or rejected)
    # The rationale as data, for rendering in the reader's language (policies.rationale): the rule, the facts it
    # quoted with their values, the remedy with its amount. JSON-serialisable; empty with explain=False.
    explanation: dict = field(default_factory=dict)

    @property
    def estimated_cost(self) -> Decimal:
        return self.cost

    def as_dict(self) -> dict:
        data = asdict(self)
        data["cost"] = str(self.cost)
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> Proposal:
        values = dict(data)
        values["cost"] = Decimal(str(values["cost"]))
        values["parameters"] = dict(values.get("parameters") or {})
        values["explanation"] = dict(values.get("explanation") or {})
        return cls(**{name: values[name] for name in cls.__dataclass_fields__ if name in values})

    @property
    def outcome(self) -> tuple:
        """What the customer gets, for comparing two policies' decisions on the same case."""
        return (self.rule_id, self.kind, str(self.cost), self.currency, self.needs_approval)


def proposal_key(case_id, rule_id: str, kind: str, facts: Facts | None = None) -> str:
    """One remedy per rule and case, ever: re-evaluating tomorrow gives the same key."""
    if case_id is not None:
        return f"case-{case_id}/rule-{rule_id}/{kind}"
    digest = hashlib.sha256(repr(facts).encode()).hexdigest()[:16]
    return f"facts-{digest}/rule-{rule_id}/{kind}"


# ---------------------------------------------------------------------------------------------------------------
# Compiled policy
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    priority: int
    test: Callable[[Facts], bool]
    kind: str
    parameters: dict
    amount: Amount | None
    budget: str
    limits: Limits
    force_approval: bool
    final: bool
    note: str
    facts_used: tuple
    # precomputed when the policy is compiled
    max_count: int | None = None  # the tighter of the rule's and the policy's count per customer per year
    has_caps: bool = False  # any money limit on the rule or the policy
    percent_text: str | None = None
    thresholds: dict | None = None  # the policy's approval thresholds for this kind (or "*"), by currency
    key_suffix: str = ""  # "/rule-<id>/<kind>" of the proposal key
    explained_parameters: tuple = ()  # the parameters the explanation quotes, in order
    fact_parts: tuple = ()  # (phrase, data) functions for the facts this rule looked at (see _FACT_PARTS)


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    thresholds: dict  # kind or "*" -> {currency: Decimal}
    unlisted_currency_needs_approval: bool
    limits: Limits
    document: dict = field(repr=False, compare=False, default_factory=dict)


def _rule_issues_and_compile(raw, index, issues, seen_ids, budgets=BUDGETS) -> Rule | None:
    path = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        issues.append(_issue(None, path, "a rule is a mapping with id, when and remedy", "rule_shape"))
        return None
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not RULE_ID_RE.match(rule_id):
        issues.append(_issue(None, f"{path}.id", "every rule needs an id of lowercase letters, digits and dashes",
                             "rule_id_shape"))
        rule_id = f"#{index + 1}"
    elif rule_id in seen_ids:
        issues.append(_issue(rule_id, "id", "two rules have this id", "rule_id_twice"))
    seen_ids.add(rule_id)
    before = len(issues)
    for key in raw:
        if key not in RULE_KEYS:
            issues.append(_issue(rule_id, str(key), f"unknown key; a rule has {', '.join(sorted(RULE_KEYS))}",
                                 "unknown_key", known=", ".join(sorted(RULE_KEYS))))
    priority = raw.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        issues.append(_issue(rule_id, "priority", f"{priority!r} is not a whole number", "not_whole_number",
                             value=repr(priority)))
        priority = 0
    facts_used: list[str] = []
    if "when" not in raw:
        issues.append(_issue(rule_id, "when", "a rule needs conditions (when)", "rule_needs_when"))
        test = None
    else:
        source = _Source(rule_id)
        condition = _compile_condition(raw["when"], "when", issues, rule_id, facts_used, source)
        test = source.function(condition) if len(issues) == before else None
    remedy = raw.get("remedy")
    kind, parameters, amount, budget = None, {}, None, "customer_care"
    if not isinstance(remedy, Mapping):
        issues.append(_issue(rule_id, "remedy", "a rule needs a remedy: {kind: ..., parameters: {...}}",
                             "rule_needs_remedy"))
    else:
        for key in remedy:
            if key not in ("kind", "parameters", "budget"):
                issues.append(_issue(rule_id, f"remedy.{key}", "unknown key; use kind, parameters, budget", "unknown_key",
                                     known="kind, parameters, budget"))
        kind = remedy.get("kind")
        if kind == MANAGER_OVERRIDE:
            issues.append(_issue(rule_id, "remedy.kind", "manager_override is a manager's decision, not a rule",
                                 "override_not_rule"))
            kind = None
        elif kind not in RULE_KINDS:
            issues.append(_issue(rule_id, "remedy.kind", f"unknown remedy kind {kind!r}; use {', '.join(RULE_KINDS)}",
                                 "unknown_kind", value=repr(kind), known=", ".join(RULE_KINDS)))
            kind = None
        budget = remedy.get("budget", "customer_care")
        if not isinstance(budget, str) or not BUDGET_SLUG_RE.match(budget):
            issues.append(_issue(rule_id, "remedy.budget", f"{budget!r} is not a budget's slug", "budget_slug",
                                 value=repr(budget)))
        elif budgets is not None and budget not in budgets:
            known = ", ".join(sorted(budgets))
            issues.append(_issue(rule_id, "remedy.budget", f"unknown budget {budget!r}; use {known}", "unknown_budget",
                                 value=repr(budget), known=known))
        raw_parameters = remedy.get("parameters", {}) or {}
        if not isinstance(raw_parameters, Mapping):
            issues.append(_issue(rule_id, "remedy.parameters", "parameters is a mapping", "parameters_shape"))
            raw_parameters = {}
        if kind:
            parameters, amount = _parse_parameters(kind, raw_parameters, rule_id, issues)
    limits = _parse_limits(raw.get("limits"), rule_id, "limits", issues)
    force_approval = raw.get("needs_approval", False)
    final = raw.get("final", False)
    for name, value in (("needs_approval", force_approval), ("final", final)):
        if not isinstance(value, bool):
            issues.append(_issue(rule_id, name, f"{value!r} is not true or false", "not_bool", value=repr(value)))
    note = raw.get("note", "")
    if not isinstance(note, str):
        issues.append(_issue(rule_id, "note", "note is text", "note_text"))
    if len(issues) > before or test is None or kind is None:
        return None
    return Rule(
        id=rule_id, priority=priority, test=test, kind=kind, parameters=parameters, amount=amount, budget=budget,
        limits=limits, force_approval=force_approval, final=final, note=note.strip(), facts_used=tuple(facts_used),
    )


def _parse_parameters(kind, raw, rule_id, issues):
    parameters, amount = {}, None
    allowed = KIND_PARAMETERS[kind]
    for key, value in raw.items():
        where = f"remedy.parameters.{key}"
        if key not in allowed:
            issues.append(_issue(rule_id, where, f"{kind} takes {', '.join(sorted(allowed))}", "kind_parameters",
                                 kind=kind, known=", ".join(sorted(allowed))))
            continue
        try:
            if key == "amount":
                amount = _parse_amount(value)
            elif key == "percent":  # discount shorthand: percent of the order total
                amount = Amount(percent=_percent(value), of="order_total")
            elif key in ("days", "due_hours"):
                number = _int(value)
                if number < 1 or number > 3650:
                    raise _Bad("must be between 1 and 3650", "out_of_range", low="1", high="3650")
                parameters[key] = number
            elif key == "given_as":
                if value not in ("voucher", "refund"):
                    raise _Bad("given_as is voucher or refund", "given_as")
                parameters[key] = value
            elif key == "recover_from_courier":
                parameters[key] = _bool(value)
            else:
                parameters[key] = _text(value)
        except _Bad as exc:
            issues.append(_issue_from(rule_id, where, exc))
    if kind == EXTEND_VOUCHER and "days" not in parameters:
        issues.append(_issue(rule_id, "remedy.parameters.days", "extend_voucher needs days", "needs_days"))
    if kind == DISCOUNT and amount is None:
        issues.append(_issue(rule_id, "remedy.parameters.amount", "a discount needs an amount or a percent",
                             "discount_needs_amount"))
    if kind in KIND_NEEDS_AMOUNT and amount is None:
        issues.append(_issue(rule_id, "remedy.parameters.amount", f"{kind} needs an amount", "needs_amount", kind=kind))
    if kind in (REFUND, REPLACEMENT) and amount is None:
        amount = Amount(fact="order_total")
    if kind == DISCOUNT:
        parameters.setdefault("given_as", "voucher")
    if kind == CALLBACK:
        parameters.setdefault("due_hours", 24)
    if kind == CORRECT_COD:
        parameters.setdefault("due_hours", 2)
    return parameters, amount


def _parse_approval(raw, issues):
    thresholds: dict = {}
    unlisted = True
    if raw is None:
        return thresholds, unlisted
    if not isinstance(raw, Mapping):
        issues.append(_issue(None, "approval", "approval is a mapping with thresholds", "approval_shape"))
        return thresholds, unlisted
    for key in raw:
        if key not in ("thresholds", "unlisted_currency"):
            issues.append(_issue(None, f"approval.{key}", "unknown key; use thresholds, unlisted_currency", "unknown_key",
                                 known="thresholds, unlisted_currency"))
    for kind, amounts in (raw.get("thresholds") or {}).items():
        if kind != "*" and kind not in ALL_KINDS:
            issues.append(_issue(None, f"approval.thresholds.{kind}", f"unknown remedy kind {kind!r}", "unknown_kind",
                                 value=repr(kind), known=", ".join(sorted(ALL_KINDS))))
            continue
        try:
            thresholds[kind] = _money_map(amounts)
        except _Bad as exc:
            issues.append(_issue_from(None, f"approval.thresholds.{kind}", exc))
    mode = raw.get("unlisted_currency", "needs_approval")
    if mode not in ("needs_approval", "auto"):
        issues.append(_issue(None, "approval.unlisted_currency", "use needs_approval or auto", "unlisted_currency"))
    unlisted = mode != "auto"
    return thresholds, unlisted


def _compile(document, budgets=BUDGETS) -> tuple[Policy | None, list[PolicyIssue]]:
    issues: list[PolicyIssue] = []
    if not isinstance(document, Mapping):
        return None, [_issue(None, "document", "a policy is a mapping with rules", "document_shape")]
    for key in document:
        if key not in DOCUMENT_KEYS:
            issues.append(_issue(None, str(key), f"unknown key; a policy has {', '.join(sorted(DOCUMENT_KEYS))}",
                                 "unknown_key", known=", ".join(sorted(DOCUMENT_KEYS))))
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list):
        issues.append(_issue(None, "rules", "a policy needs a list of rules", "document_needs_rules"))
        raw_rules = []
    seen: set = set()
    rules = [_rule_issues_and_compile(raw, index, issues, seen, budgets) for index, raw in enumerate(raw_rules)]
    thresholds, unlisted = _parse_approval(document.get("approval"), issues)
    limits = _parse_limits(document.get("limits"), None, "limits", issues)
    if issues:
        return None, issues
    policy_caps = bool(limits.max_cost_per_case or limits.max_cost_per_customer_per_year)
    rules = [
        replace(
            rule,
            max_count=min((n for n in (rule.limits.max_remedies_per_customer_per_year,
                                       limits.max_remedies_per_customer_per_year) if n is not None), default=None),
            has_caps=policy_caps or bool(rule.limits.max_cost_per_case or rule.limits.max_cost_per_customer_per_year),
            percent_text=_plain(rule.amount.percent) if rule.amount and rule.amount.percent is not None else None,
            thresholds=thresholds.get(rule.kind) or thresholds.get("*"),
            key_suffix=f"/rule-{rule.id}/{rule.kind}",
            explained_parameters=_explained_parameters(rule),
            fact_parts=_fact_parts(rule.facts_used),
        )
        for rule in rules
    ]
    ordered = tuple(sorted(rules, key=lambda rule: (-rule.priority, rule.id)))
    return Policy(ordered, thresholds, unlisted, limits, dict(document)), []


def validate_policy(document, *, budgets=BUDGETS) -> list[PolicyIssue]:
    """Every problem in the document (empty when it is valid); each names the rule id, the field and the reason.

    ``budgets``: the budget slugs rules may book to (the shop's, from policies.Budget; the four defaults when not
    given); ``ANY_BUDGET`` (None) accepts any slug-shaped budget."""
    return _compile(document, budgets)[1]


def compile_policy(document, *, budgets=BUDGETS) -> Policy:
    """Validate and compile a document once, for many evaluations. Raises PolicyError. ``budgets``: as in
    validate_policy."""
    policy, issues = _compile(document, budgets)
    if issues:
        raise PolicyError(issues)
    return policy


def load_policy_text(text: str) -> dict:
    """Parse a YAML or JSON policy document (JSON is YAML). Raises PolicyError on a syntax error."""
    import yaml  # PyYAML; imported here so the evaluator itself needs nothing but the standard library

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError([_issue(None, "document", f"not valid YAML or JSON: {exc}", "not_yaml",
                                  detail=str(getattr(exc, "problem", "") or exc))]) from exc
    return document


# ---------------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------------


def _plain(amount) -> str:
    if type(amount) is int:  # a count (bool is not: it keeps the general path)
        return str(amount)
    if isinstance(amount, float):
        return f"{amount:g}"
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plural(count, word: str) -> str:
    return f"{_plain(count)} {word}" if count == 1 else f"{_plain(count)} {word}s"


# The facts a rule looked at, quoted in its rationale: one part per topic, each with the facts that call for it
# (known when the policy is compiled), a phrase in a customer-care person's words (_describe_facts) and the same as
# data (_fact_data: codes stay codes, amounts stay strings in the case's currency; policies.rationale turns them
# into words in the reader's language). A part gives None when the facts of this case have nothing to quote.

def _customer_phrase(facts, used):
    years = facts.tenure_years
    tenure = _plural(int(years) if years == int(years) else years, "year") if years >= 1 else _plural(
        facts.tenure_days, "day")
    phrase = f"customer for {tenure}, {_plural(facts.order_count, 'order')}"
    if "lifetime_spend" in used:
        phrase += f", lifetime spend {facts.lifetime_spend} {facts.currency}"
    return phrase


def _customer_data(facts, used):
    item = {"tenure_years": facts.tenure_years, "tenure_days": facts.tenure_days, "orders": facts.order_count}
    if "lifetime_spend" in used:
        item["lifetime_spend"] = str(facts.lifetime_spend)
    return ["customer", item]


def _voucher_expiry_phrase(facts, used):
    days = facts.voucher_days_since_expiry
    if days is None:
        return None
    return f"voucher expired {_plural(days, 'day')} ago" if days > 0 else f"voucher valid until {facts.voucher_valid_until}"


def _voucher_expiry_data(facts, used):
    days = facts.voucher_days_since_expiry
    if days is None:
        return None
    if days > 0:
        return ["voucher_expired", {"days": days}]
    if facts.voucher_valid_until is not None:  # facts built by hand may give the days without the date
        return ["voucher_valid_until", {"date": facts.voucher_valid_until.isoformat()}]
    return None


def _expected_late(facts) -> bool:
    return facts.promised_date is not None and facts.promised_date >= facts.today


def _money_text(value):
    return None if value is None else str(value)


_FACT_PARTS = (
    ({"tenure_days", "tenure_years", "order_count", "lifetime_spend"}, _customer_phrase, _customer_data),
    ({"remedies_this_year", "remedy_cost_this_year"},
     lambda f, used: f"{_plural(f.remedies_this_year, 'remedy')} this year".replace("remedys", "remedies"),
     lambda f, used: ["remedies_this_year", {"count": f.remedies_this_year}]),
    ({"category"}, lambda f, used: f"case: {f.category.replace('_', ' ')}",
     lambda f, used: ["category", {"category": f.category}]),
    ({"voucher_days_since_expiry", "voucher_valid_until"}, _voucher_expiry_phrase, _voucher_expiry_data),
    ({"voucher_balance", "voucher_value"}, lambda f, used: f"voucher balance {f.voucher_balance} {f.currency}",
     lambda f, used: ["voucher_balance", {"amount": _money_text(f.voucher_balance)}]),
    ({"voucher_validity_months"},
     lambda f, used: None if f.voucher_validity_months is None
     else f"issued under a {f.voucher_validity_months}-month validity rule",
     lambda f, used: None if f.voucher_validity_months is None
     else ["validity_rule", {"months": f.voucher_validity_months}]),
    ({"is_date_critical"},
     lambda f, used: f"date-critical order, promised for {f.promised_date}" if f.is_date_critical else None,
     lambda f, used: ["date_critical", {"promised_date": None if f.promised_date is None
                                        else f.promised_date.isoformat()}] if f.is_date_critical else None),
    ({"days_late"},
     lambda f, used: f"expected {_plural(f.days_late, 'day')} after the promised date" if _expected_late(f)
     else f"delivery {_plural(f.days_late, 'day')} late",
     lambda f, used: ["expected_late" if _expected_late(f) else "delivery_late", {"days": f.days_late}]),
    ({"days_until_promised"},
     lambda f, used: None if (days := f.days_until_promised) is None
     else f"{_plural(days, 'day')} left until the promised date",
     lambda f, used: None if (days := f.days_until_promised) is None else ["days_until_promised", {"days": days}]),
    ({"shipment_status"},
     lambda f, used: f"shipment {f.shipment_status.replace('_', ' ')}" + (f" with {f.courier}" if f.courier else "")
     if f.shipment_status else None,
     lambda f, used: ["shipment_status", {"status": f.shipment_status, "courier": f.courier}]
     if f.shipment_status else None),
    ({"cod_difference", "cod_label_amount", "cod_quoted_amount"},
     lambda f, used: f"COD label {f.cod_label_amount} {f.currency} but {f.cod_quoted_amount} quoted"
     if f.cod_difference is not None else None,
     lambda f, used: ["cod_label", {"label": str(f.cod_label_amount), "quoted": str(f.cod_quoted_amount)}]
     if f.cod_difference is not None else None),
    ({"mismatched_lines_value"},
     lambda f, used: None if f.mismatched_lines_value is None
     else f"missing or wrong items worth {f.mismatched_lines_value} {f.currency}",
     lambda f, used: None),  # quoted in words only (the remedy's amount carries it as data)
    ({"order_total"},
     lambda f, used: None if f.order_total is None else f"order total {f.order_total} {f.currency}",
     lambda f, used: None if f.order_total is None else ["order_total", {"amount": str(f.order_total)}]),
    ({"payment_method"},
     lambda f, used: f"paid by {f.payment_method.replace('_', ' ')}" if f.payment_method else None,
     lambda f, used: ["payment_method", {"method": f.payment_method}] if f.payment_method else None),
)


def _fact_parts(used: tuple) -> tuple:
    """The parts that quote these facts: ((phrase, data, used), ...), chosen once when the policy is compiled."""
    used = frozenset(used)
    return tuple((phrase, data, used) for facts, phrase, data in _FACT_PARTS if used & facts)


def _describe_facts(facts: Facts, used: tuple, parts: tuple | None = None) -> list[str]:
    """Quote the facts a rule looked at, in a customer-care person's words."""
    phrases = []
    for phrase, _, names in _fact_parts(used) if parts is None else parts:
        text = phrase(facts, names)
        if text is not None:
            phrases.append(text)
    return phrases


def _fact_data(facts: Facts, used: tuple, parts: tuple | None = None) -> list[list]:
    """The facts a rule looked at, as data: [[what, {values}], ...] (the same choice as _describe_facts)."""
    items = []
    for _, data, names in _fact_parts(used) if parts is None else parts:
        item = data(facts, names)
        if item is not None:
            items.append(item)
    return items


CAPPED_BY_CODES = {"the limit per case": "case", "the limit per customer per year": "customer_year"}


def _describe_remedy(kind, parameters, cost, currency, budget, courier, capped_by: str | None) -> str:
    money = f"{cost} {currency}"
    if kind == EXTEND_VOUCHER:
        text = f"extend {_plural(parameters['days'], 'day')} (to {parameters['new_valid_until']})"
    elif kind == DISCOUNT:
        how = "as a credit voucher" if parameters["given_as"] == "voucher" else "as a refund"
        share = f"{_plain(Decimal(parameters['percent']))}% discount" if "percent" in parameters else "discount"
        text = f"{share} of {money} {how}"
    elif kind == REFUND:
        text = f"refund {money}, booked to {budget}" + (f", recoverable from {courier}" if courier else "")
    elif kind == REPLACEMENT:
        text = f"replacement shipment at the shop's cost (about {money}), booked to {budget}"
    elif kind == ABSORB_COST:
        text = f"absorb up to {money}, booked to {budget}"
        if courier:
            text += f", recoverable from {courier}"
    elif kind == CORRECT_COD:
        text = (f"have {courier or 'the courier'} correct the COD label to {parameters['target_amount']} {currency}"
                f" within {_plural(parameters['due_hours'], 'hour')}")
    elif kind == FREE_ITEM:
        text = f"free item worth {money}"
    else:  # callback
        text = f"call the customer back within {_plural(parameters['due_hours'], 'hour')}"
    if capped_by:
        text += f" (capped by {capped_by})"
    return text


def _cap(kind, cost, caps) -> tuple[Decimal | None, str | None]:
    """Apply the caps; None means the remedy does not fit and is not proposed."""
    capped_by = None
    for cap, label in caps:
        if cap is None or cost <= cap:
            continue
        if kind not in DIVISIBLE_KINDS or cap <= 0:
            return None, None
        cost, capped_by = cap, label
    return cost, capped_by


EXPLAINED_PARAMETERS = ("days", "new_valid_until", "percent", "given_as", "due_hours", "target_amount")


def _explained_parameters(rule: Rule) -> tuple:
    """The parameters an explanation quotes for this rule: those of EXPLAINED_PARAMETERS its proposals carry
    (its own, and what evaluate adds for its kind), in that order."""
    names = set(rule.parameters)
    if rule.kind == EXTEND_VOUCHER:
        names.add("new_valid_until")
    if rule.kind == CORRECT_COD:
        names.add("target_amount")
    if rule.kind not in (EXTEND_VOUCHER, CORRECT_COD, CALLBACK) and rule.amount is not None \
            and rule.amount.percent is not None:
        names.add("percent")
    return tuple(name for name in EXPLAINED_PARAMETERS if name in names)


_new_object = object.__new__


def _proposal(values: dict) -> Proposal:
    """Proposal(**values) for the evaluator, without a frozen dataclass's object.__setattr__ per field: the same
    object (fields in the same order, equal, hashable, still frozen), built several times faster."""
    proposal = _new_object(Proposal)
    proposal.__dict__.update(values)
    return proposal


def evaluate(policy: Policy | Mapping, facts: Facts, *, explain: bool = True) -> list[Proposal]:
    """The remedies the policy proposes for these facts, highest priority first. Deterministic, no side effects.

    ``explain=False`` leaves the rationale empty (for bulk replays that only compare outcomes)."""
    if not isinstance(policy, Policy):
        policy = compile_policy(policy)
    currency = facts.currency
    proposals: list[Proposal] = []
    spent = facts.case_remedy_cost
    count_this_year = facts.remedies_this_year
    spent_this_year = facts.remedy_cost_this_year
    decided = facts.decided_rules
    case_id = facts.case_id
    for rule in policy.rules:
        if not rule.test(facts):
            continue
        # A rule that already has a remedy on this case is proposed again with the same key (so a retried caller
        # finds it and remedy_apply returns the existing remedy), but it is already in the ledger's totals: it is
        # neither limited nor counted a second time.
        already = bool(decided) and rule.id in decided
        kind = rule.kind
        if not already and rule.max_count is not None and count_this_year >= rule.max_count:
            continue
        parameters = dict(rule.parameters)
        courier = facts.courier
        if kind == EXTEND_VOUCHER:
            if facts.voucher_balance is None or facts.voucher_valid_until is None:
                continue
            until = facts.today + timedelta(days=parameters["days"])
            if until <= facts.voucher_valid_until:
                continue  # already valid for longer: nothing to extend
            parameters["new_valid_until"] = until.isoformat()
            cost = facts.voucher_balance
        elif kind == CORRECT_COD:
            if facts.cod_quoted_amount is None:
                continue
            parameters["target_amount"] = str(facts.cod_quoted_amount)
            if facts.cod_label_amount is not None:
                parameters["label_amount"] = str(facts.cod_label_amount)
            parameters["courier"] = facts.courier or ""
            cost = ZERO
        elif kind == CALLBACK:
            cost = ZERO
        else:
            cost = rule.amount.resolve(facts) if rule.amount else ZERO
            if cost is None:
                continue  # the amount is unknown for this case (no order, no amount in this currency)
            if rule.percent_text is not None:
                parameters["percent"] = rule.percent_text
                parameters["of"] = rule.amount.of
        capped_by = None
        if rule.has_caps and not already:
            limits, policy_limits = rule.limits, policy.limits
            case_cap = _min_cap(limits.max_cost_per_case.get(currency),
                                policy_limits.max_cost_per_case.get(currency), spent, True)
            year_cap = _min_cap(limits.max_cost_per_customer_per_year.get(currency),
                                policy_limits.max_cost_per_customer_per_year.get(currency), spent_this_year, False)
            if case_cap is not None or year_cap is not None:
                cost, capped_by = _cap(kind, cost, ((case_cap, "the limit per case"),
                                                    (year_cap, "the limit per customer per year")))
                if cost is None:
                    continue
        if kind in DIVISIBLE_KINDS and cost <= 0:
            continue
        if kind == REPLACEMENT:
            parameters.setdefault("courier", courier or "")
        recoverable = courier if parameters.get("recover_from_courier") else None
        parameters["amount"] = str(cost)
        if rule.force_approval or cost <= 0:
            needs_approval = rule.force_approval
        else:
            threshold = rule.thresholds.get(currency) if rule.thresholds else None
            needs_approval = policy.unlisted_currency_needs_approval if threshold is None else cost > threshold
        rationale = ""
        explanation = {}
        if explain:
            told_courier = recoverable or (courier if kind == CORRECT_COD else None)
            explanation = {
                "rule": rule.id, "facts": _fact_data(facts, rule.facts_used, rule.fact_parts), "kind": kind,
                "amount": str(cost), "currency": currency, "budget": rule.budget, "courier": told_courier,
                "parameters": {name: parameters[name] for name in rule.explained_parameters},
                "capped_by": CAPPED_BY_CODES.get(capped_by), "note": rule.note or "",
                "needs_approval": needs_approval,
            }
            phrases = _describe_facts(facts, rule.facts_used, rule.fact_parts)
            phrases.append(f"rule {rule.id}: " + _describe_remedy(
                kind, parameters, cost, currency, rule.budget, told_courier, capped_by))
            if rule.note:
                phrases.append(rule.note)
            if needs_approval:
                phrases.append("needs a manager's approval")
            rationale = "; ".join(phrases)
        proposals.append(_proposal({
            "case_id": case_id, "rule_id": rule.id, "kind": kind, "parameters": parameters, "cost": cost,
            "currency": currency, "budget": rule.budget, "recoverable_from": recoverable, "rationale": rationale,
            "needs_approval": needs_approval,
            "key": proposal_key(None, rule.id, kind, facts) if case_id is None else f"case-{case_id}{rule.key_suffix}",
            "priority": rule.priority, "already_decided": already, "explanation": explanation,
        }))
        if not already:
            spent += cost
            spent_this_year += cost
            count_this_year += 1
        if rule.final:
            break
    return proposals


def _min_cap(rule_cap, policy_cap, used, per_case) -> Decimal | None:
    """The room left under the rule's own cap and the policy's (which counts what is already spent)."""
    caps = []
    if rule_cap is not None:
        caps.append(rule_cap if per_case else rule_cap - used)
    if policy_cap is not None:
        caps.append(policy_cap - used)
    return max(min(caps), ZERO) if caps else None


def _needs_approval(policy: Policy, kind: str, cost: Decimal, currency: str) -> bool:
    if cost <= 0:
        return False
    amounts = policy.thresholds.get(kind) or policy.thresholds.get("*")
    threshold = amounts.get(currency) if amounts else None
    if threshold is None:
        return policy.unlisted_currency_needs_approval
    return cost > threshold


def canonical_json(document) -> str:
    """A stable text form of a document (for comparing versions)."""
    return json.dumps(document, sort_keys=True, default=str)


DEFAULT_POLICY_PATH = __import__("pathlib").Path(__file__).with_name("default_policy.yaml")


def default_policy_document() -> dict:
    """The policy caseapp ships with (policies/default_policy.yaml)."""
    return load_policy_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
