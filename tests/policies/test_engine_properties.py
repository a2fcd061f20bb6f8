"""Property tests of the evaluator (hypothesis, no database)."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from policies.engine import (
    ALL_OPS,
    FACT_TYPES,
    RULE_KINDS,
    Facts,
    compile_policy,
    default_policy_document,
    evaluate,
    validate_policy,
)

CURRENCIES = ["EUR", "RON", "RUB", "USD"]
money = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False)
maybe_money = st.none() | money
day = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))

facts_strategy = st.builds(
    Facts,
    today=day,
    currency=st.sampled_from(CURRENCIES),
    case_id=st.integers(1, 10**9),
    tenure_days=st.integers(0, 8000),
    tenure_years=st.floats(0, 25, allow_nan=False),
    order_count=st.integers(0, 500),
    lifetime_spend=money,
    remedies_this_year=st.integers(0, 30),
    remedy_cost_this_year=money,
    category=st.sampled_from(["voucher_expired", "late_delivery", "lost_parcel", "wrong_item", "incomplete_order",
                              "defective_item", "cod_mismatch", "not_collected", "broken_promise", "other"]),
    channel=st.sampled_from(["email", "phone", "counter", "web", "system"]),
    case_remedy_cost=money,
    order_total=maybe_money,
    payment_method=st.none() | st.sampled_from(["card", "cod", "bank_transfer"]),
    promised_date=st.none() | day,
    is_date_critical=st.booleans(),
    cod_quoted_amount=maybe_money,
    shipment_status=st.none() | st.sampled_from(["created", "in_transit", "delayed", "delivered", "lost",
                                                 "not_collected"]),
    days_late=st.integers(0, 60),
    courier=st.none() | st.sampled_from(["FastCourier", "SlowPost"]),
    cod_label_amount=maybe_money,
    voucher_value=maybe_money,
    voucher_balance=maybe_money,
    voucher_valid_until=st.none() | day,
    voucher_days_since_expiry=st.none() | st.integers(-400, 400),
    voucher_validity_months=st.none() | st.integers(1, 24),
)

DEFAULT = compile_policy(default_policy_document())


@settings(max_examples=300, deadline=None)
@given(facts_strategy)
def test_evaluation_is_deterministic(facts):
    # when the same facts are evaluated twice, by the compiled policy and by the raw document
    first = evaluate(DEFAULT, facts)
    second = evaluate(default_policy_document(), facts)
    # then the answers are identical, keys included
    assert first == second
    assert len({p.key for p in first}) == len(first)


money_map = st.dictionaries(st.sampled_from(CURRENCIES), money.map(str), min_size=1, max_size=4)
limits_strategy = st.fixed_dictionaries({}, optional={
    "max_cost_per_case": money_map,
    "max_cost_per_customer_per_year": money_map,
    "max_remedies_per_customer_per_year": st.integers(0, 20),
})


@st.composite
def limited_policy(draw):
    rules = []
    for index in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["discount", "refund", "absorb_cost", "free_item", "replacement"]))
        amount = draw(st.sampled_from([{"percent": "5", "of": "order_total"}, {"fact": "order_total"},
                                       {"fixed": {"EUR": "120.00", "RON": "600.00", "RUB": "9000.00"}}]))
        rules.append({"id": f"rule-{index}", "priority": draw(st.integers(0, 5)),
                      "when": {"fact": "order_count", "ge": draw(st.integers(0, 3))},
                      "remedy": {"kind": kind, "parameters": {"amount": amount}},
                      "limits": draw(limits_strategy)})
    return {"rules": rules, "limits": draw(limits_strategy)}


@settings(max_examples=300, deadline=None)
@given(limited_policy(), facts_strategy)
def test_proposals_never_exceed_the_limits(document, facts):
    # given a policy with limits and any facts
    proposals = evaluate(compile_policy(document), facts)
    rules = {rule["id"]: rule for rule in document["rules"]}
    policy_limits = document["limits"]
    currency = facts.currency
    # then each proposal fits its rule's cap per case, and together they fit the policy's caps
    total = Decimal("0")
    for proposal in proposals:
        assert proposal.cost >= 0
        rule_cap = rules[proposal.rule_id]["limits"].get("max_cost_per_case", {}).get(currency)
        if rule_cap is not None:
            assert proposal.cost <= Decimal(rule_cap)
        total += proposal.cost
    case_cap = policy_limits.get("max_cost_per_case", {}).get(currency)
    if case_cap is not None and proposals:
        assert facts.case_remedy_cost + total <= max(Decimal(case_cap), facts.case_remedy_cost)
    year_cap = policy_limits.get("max_cost_per_customer_per_year", {}).get(currency)
    if year_cap is not None and proposals:
        assert facts.remedy_cost_this_year + total <= max(Decimal(year_cap), facts.remedy_cost_this_year)
    count_cap = policy_limits.get("max_remedies_per_customer_per_year")
    if count_cap is not None:
        assert facts.remedies_this_year + len(proposals) <= max(count_cap, facts.remedies_this_year)


# Any document: mostly well-typed conditions and parameters, with some junk mixed in.
TYPED_VALUES = {
    "int": (["eq", "ne", "lt", "le", "gt", "ge"], st.integers(-50, 500)),
    "number": (["eq", "lt", "le", "gt", "ge"], st.integers(0, 20)),
    "money": (["eq", "ne", "lt", "le", "gt", "ge"], money.map(str) | st.dictionaries(
        st.sampled_from(CURRENCIES), money.map(str), min_size=1, max_size=2)),
    "date": (["lt", "le", "gt", "ge", "eq"], st.sampled_from(["today", "today-3", "today+10", "2026-05-01"])),
    "text": (["eq", "ne"], st.sampled_from(["late_delivery", "lost", "cod", "EUR", "phone", "FastCourier"])),
    "bool": (["eq", "ne"], st.booleans()),
}


@st.composite
def typed_leaf(draw):
    name = draw(st.sampled_from(sorted(FACT_TYPES)))
    ops, value = TYPED_VALUES[FACT_TYPES[name]]
    op = draw(st.sampled_from(ops + ["is_null"]))
    return {"fact": name, op: draw(st.booleans() if op == "is_null" else value)}


junk_values = (st.integers(-50, 5000) | st.text(max_size=10) | st.booleans() | money.map(str)
               | st.lists(st.integers(0, 50) | st.text(max_size=5), max_size=3))
junk_leaf = st.builds(lambda name, op, value: {"fact": name, op: value},
                      st.sampled_from(sorted(FACT_TYPES)) | st.text(max_size=8),
                      st.sampled_from(sorted(ALL_OPS)) | st.text(max_size=4), junk_values)
leaf = typed_leaf() | typed_leaf() | typed_leaf() | typed_leaf() | junk_leaf
conditions = st.recursive(leaf, lambda children: st.one_of(
    st.builds(lambda c: {"all": c}, st.lists(children, min_size=1, max_size=3)),
    st.builds(lambda c: {"any": c}, st.lists(children, min_size=1, max_size=3)),
    st.builds(lambda c: {"not": c}, children),
), max_leaves=5)
amounts = st.sampled_from([{"percent": "10"}, {"fixed": {"EUR": "5.00", "RUB": "900.00"}}, {"fact": "voucher_balance"},
                           {"fact": "cod_difference"}, {"percent": "3", "of": "lifetime_spend"}])
PARAMETERS = {
    "extend_voucher": st.fixed_dictionaries({"days": st.integers(1, 60)}),
    "discount": st.fixed_dictionaries({"amount": amounts}, optional={"given_as": st.sampled_from(["voucher", "refund"])}),
    "refund": st.fixed_dictionaries({}, optional={"amount": amounts, "recover_from_courier": st.booleans()}),
    "replacement": st.fixed_dictionaries({}, optional={"amount": amounts, "recover_from_courier": st.booleans()}),
    "absorb_cost": st.fixed_dictionaries({"amount": amounts}, optional={"recover_from_courier": st.booleans()}),
    "correct_cod": st.fixed_dictionaries({}, optional={"due_hours": st.integers(1, 72)}),
    "free_item": st.fixed_dictionaries({"amount": amounts}),
    "callback": st.fixed_dictionaries({}, optional={"due_hours": st.integers(1, 72)}),
}


@st.composite
def any_rule(draw, index):
    kind = draw(st.sampled_from(list(RULE_KINDS)))
    return {"id": f"rule-{index}", "priority": draw(st.integers(-3, 3)), "when": draw(conditions),
            "remedy": {"kind": kind, "parameters": draw(PARAMETERS[kind])}, "limits": draw(limits_strategy),
            "final": draw(st.booleans())}


any_document = st.builds(
    lambda rules, limits: {"rules": rules, "limits": limits},
    st.integers(0, 4).flatmap(lambda n: st.tuples(*[any_rule(i) for i in range(n)]).map(list)),
    limits_strategy,
)


@settings(max_examples=400, deadline=None)
@given(any_document, st.lists(facts_strategy, min_size=1, max_size=3))
def test_any_accepted_document_evaluates_without_error(document, many_facts):
    # given any document the validator accepts
    assume(not validate_policy(document))
    policy = compile_policy(document)
    # then evaluating it over any facts raises nothing, and every proposal is well formed
    for facts in many_facts:
        for proposal in evaluate(policy, facts):
            assert proposal.cost >= 0 and proposal.currency == facts.currency
            assert proposal.rationale and proposal.rule_id in proposal.rationale
            assert proposal.key.startswith(f"case-{facts.case_id}/")


def test_relative_dates_follow_the_facts_today():
    policy = compile_policy({"rules": [{"id": "soon", "when": {"fact": "promised_date", "le": "today+2"},
                                        "remedy": {"kind": "callback"}}]})
    base = Facts(today=date(2026, 3, 10), currency="EUR", case_id=1, promised_date=date(2026, 3, 12))
    assert evaluate(policy, base)
    later = Facts(today=date(2026, 3, 10) - timedelta(days=1), currency="EUR", case_id=1,
                  promised_date=date(2026, 3, 12))
    assert not evaluate(policy, later)
