"""Replay a policy version over past cases: what it would have decided, what it would have cost, and where it
differs from the active version. Reads only; writes nothing.

Facts are rebuilt for each case as of the day it arrived (orders, spend and remedies before its arrival), in
batches of one SQL query each, so 100,000 cases replay in seconds. The order, shipment and voucher are seen as
they are now (their past states are not versioned).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from cases.models import Case

from . import engine
from .engine import ZERO, Facts, Proposal, facts_make
from .models import PolicyVersion
from .selectors import DEFAULT_CURRENCY, case_facts, policy_compiled, policy_version_active

BATCH_SIZE = 5000
MAX_DIFFERENCES_LISTED = 500

# Every case of the range in one query, set-based: each table is read once (hash joins, one grouping per history)
# instead of a dozen index probes per case, and the rows are streamed through a server-side cursor in the
# replay's transaction (memory stays flat). The columns are those _facts_from_row reads, in its order.
FACTS_SQL = """
WITH c AS MATERIALIZED (
    SELECT c.arrival_number, c.arrived_at, c.customer_id, c.order_id, c.shipment_id, c.voucher_id, c.category,
           c.channel, COALESCE(o.currency, v.currency, %(default_currency)s) AS currency,
           o.total, o.payment_method, o.promised_delivery_date, o.is_date_critical, o.is_non_refundable,
           o.cod_quoted_amount
    FROM cases_case c
    LEFT JOIN orders_order o ON o.id = c.order_id
    LEFT JOIN vouchers_voucher v ON v.id = c.voucher_id
    WHERE c.arrived_at >= %(start)s AND c.arrived_at < %(end)s
),
hist AS (  -- the customer's orders before the case arrived
    SELECT c.arrival_number, COUNT(*) AS order_count, MIN(h.placed_at) AS first_order,
           SUM(h.total) FILTER (WHERE h.currency = c.currency) AS spend
    FROM c JOIN orders_order h ON h.customer_id = c.customer_id AND h.placed_at <= c.arrived_at
    WHERE h.status IN ('placed', 'paid', 'shipped', 'delivered')
    GROUP BY c.arrival_number
),
rem AS (  -- the remedies applied to the customer this year before the case arrived
    SELECT c.arrival_number, COUNT(*) AS remedy_count,
           SUM(r.amount) FILTER (WHERE r.currency = c.currency) AS remedy_cost
    FROM c JOIN policies_remedy r ON r.customer_id = c.customer_id
    WHERE r.status = 'applied'
      AND r.applied_at >= date_trunc('year', c.arrived_at AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s
      AND r.applied_at < c.arrived_at
    GROUP BY c.arrival_number
),
dc AS (  -- the latest delivery check that found lines missing or wrong
    SELECT DISTINCT ON (e.case_id) e.case_id, (e.data->>'mismatched_lines_value')::numeric AS mismatched,
           e.data->>'currency' AS mismatched_currency
    FROM c JOIN cases_caseevent e ON e.case_id = c.arrival_number
    WHERE e.kind = 'detected' AND e.data->>'rule' = 'delivery_mismatch'
    ORDER BY e.case_id, e.occurred_at DESC, e.id DESC
),
latest AS (  -- a case without its own shipment is about its order's latest original shipment
    SELECT DISTINCT ON (s.order_id) s.order_id, s.id
    FROM c JOIN orders_shipment s ON s.order_id = c.order_id
    WHERE c.shipment_id IS NULL AND NOT s.is_replacement
    ORDER BY s.order_id, s.created_at DESC, s.id DESC
)
SELECT c.arrival_number, (c.arrived_at AT TIME ZONE %(tz)s)::date AS day, c.category, c.channel,
       cu.customer_since, c.currency,
       c.order_id, c.total, c.payment_method, c.promised_delivery_date, c.is_date_critical, c.is_non_refundable,
       c.cod_quoted_amount,
       s.status, (s.delivered_at AT TIME ZONE %(tz)s)::date, s.estimated_delivery, s.cod_amount, s.is_replacement,
       co.name,
       v.id, v.currency, v.value, v.balance, v.valid_until, vr.validity_months,
       COALESCE(hist.order_count, 0), (hist.first_order AT TIME ZONE %(tz)s)::date, hist.spend,
       COALESCE(rem.remedy_count, 0), rem.remedy_cost, dc.mismatched, dc.mismatched_currency
FROM c
JOIN customers_customer cu ON cu.id = c.customer_id
LEFT JOIN latest ON c.shipment_id IS NULL AND latest.order_id = c.order_id
LEFT JOIN orders_shipment s ON s.id = COALESCE(c.shipment_id, latest.id)
LEFT JOIN orders_courier co ON co.id = s.courier_id
LEFT JOIN vouchers_voucher v ON v.id = c.voucher_id
LEFT JOIN vouchers_validityrule vr ON vr.id = v.validity_rule_id
LEFT JOIN hist ON hist.arrival_number = c.arrival_number
LEFT JOIN rem ON rem.arrival_number = c.arrival_number
LEFT JOIN dc ON dc.case_id = c.arrival_number
ORDER BY c.arrival_number
"""
FETCH_ROWS = 5000  # rows per round trip of the server-side cursor
FACTS_WORK_MEM = "64MB"  # for this query only (SET LOCAL): 100,000 cases group and sort in about 50 MB


def _facts_from_row(row) -> Facts:
    (case_id, today, category, channel, customer_since, currency,
     order_id, order_total, payment_method, promised, is_date_critical, is_non_refundable, cod_quoted,
     shipment_status, delivered_on, eta, cod_label, is_replacement, courier,
     voucher_id, voucher_currency, voucher_value, voucher_balance, valid_until, validity_months,
     order_count, first_order_on, spend, remedy_count, remedy_cost, mismatched, mismatched_currency) = row
    since = min(customer_since, first_order_on) if first_order_on else customer_since
    tenure_days = max((today - since).days, 0)
    values = {
        "today": today, "currency": currency, "case_id": case_id,
        "tenure_days": tenure_days, "tenure_years": round(tenure_days / 365.25, 1),
        "order_count": order_count, "lifetime_spend": spend if spend is not None else ZERO,
        "remedies_this_year": remedy_count, "remedy_cost_this_year": remedy_cost if remedy_cost is not None else ZERO,
        "category": category, "channel": channel,
    }
    if order_id is not None:
        values.update(order_total=order_total, payment_method=payment_method, promised_date=promised,
                      is_date_critical=is_date_critical, is_non_refundable=is_non_refundable,
                      cod_quoted_amount=cod_quoted)
    if shipment_status is not None:
        days_late = 0
        if promised:
            arrived = delivered_on if delivered_on else max(today, eta or today)
            days_late = max((arrived - promised).days, 0)
        values.update(shipment_status=shipment_status, courier=courier, days_late=days_late,
                      cod_label_amount=cod_label, is_replacement_shipment=is_replacement)
    if order_id is not None and mismatched is not None and mismatched_currency == currency:
        values["mismatched_lines_value"] = Decimal(mismatched).quantize(Decimal("0.01"))
    if voucher_id is not None and voucher_currency == currency:
        values.update(voucher_value=voucher_value, voucher_balance=voucher_balance, voucher_valid_until=valid_until,
                      voucher_days_since_expiry=(today - valid_until).days, voucher_validity_months=validity_months)
    return facts_make(**values)


def _day_start(day: date):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))


def cases_facts_between(*, date_from: date, date_to: date, batch_size: int = BATCH_SIZE) -> Iterator[Facts]:
    """Facts of every case that arrived from date_from to date_to (inclusive), as of its arrival day, in arrival
    order."""
    if connection.vendor != "postgresql":
        yield from _cases_facts_between_orm(date_from=date_from, date_to=date_to, batch_size=batch_size)
        return
    params = {"tz": settings.TIME_ZONE, "default_currency": DEFAULT_CURRENCY, "start": _day_start(date_from),
              "end": _day_start(date_to + timedelta(days=1))}
    # A server-side cursor lives in a transaction (the replay's own, else this one: never WITH HOLD, which a
    # connection pooler in transaction mode would break).
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")  # one plan for the whole range: compiling it would not pay
            cursor.execute(f"SET LOCAL work_mem = '{FACTS_WORK_MEM}'")  # its groupings and sort without disk
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1")  # plan for all the rows, not the first tenth
        cursor = connection.chunked_cursor()
        try:
            cursor.cursor.itersize = FETCH_ROWS
            cursor.execute(FACTS_SQL, params)
            make = _facts_from_row
            while rows := cursor.fetchmany(FETCH_ROWS):
                for row in rows:
                    yield make(row)
        finally:
            cursor.close()


def _cases_facts_between_orm(*, date_from: date, date_to: date, batch_size: int) -> Iterator[Facts]:
    """The embedded SQLite default: the same facts through the one-case selector, a keyset page at a time.

    Slower than the PostgreSQL query (several queries per case), which suits the small shop SQLite is for.
    As in the SQL, remedies already decided on the case are not counted: the replay asks what the case deserved.
    """
    cases = Case.objects.select_related("customer", "order", "shipment__courier", "voucher__validity_rule").filter(
        arrived_at__gte=_day_start(date_from), arrived_at__lt=_day_start(date_to + timedelta(days=1))
    ).order_by("arrival_number")
    after = 0
    while True:
        page = list(cases.filter(arrival_number__gt=after)[:batch_size])
        for case in page:
            facts = case_facts(case=case, today=timezone.localdate(case.arrived_at))
            yield replace(facts, decided_rules=frozenset(), case_remedy_cost=ZERO)
        if len(page) < batch_size:
            return
        after = page[-1].arrival_number


@dataclass
class ReplayDifference:
    case_id: int
    arrived_on: date
    outcome: list[tuple]          # (rule id, kind, cost, currency, needs approval) under the replayed version
    active_outcome: list[tuple]   # the same under the active version
    rationale: str
    active_rationale: str
    explanations: list[dict] = field(default_factory=list)         # the same as data, for the reader's language
    active_explanations: list[dict] = field(default_factory=list)


@dataclass
class ReplayReport:
    version: int
    compared_with: int | None   # the active version's number
    date_from: date
    date_to: date
    cases: int = 0
    cases_with_remedy: int = 0
    remedies_by_kind: dict[str, int] = field(default_factory=dict)
    cost_by_currency: dict[str, Decimal] = field(default_factory=dict)
    cost_by_budget: dict[str, dict[str, Decimal]] = field(default_factory=dict)   # budget -> currency -> cost
    needing_approval: int = 0
    active_remedies_by_kind: dict[str, int] = field(default_factory=dict)
    active_cost_by_currency: dict[str, Decimal] = field(default_factory=dict)
    differing_cases: int = 0
    differences: list[ReplayDifference] = field(default_factory=list)  # the first MAX_DIFFERENCES_LISTED

    @property
    def differences_truncated(self) -> bool:
        return self.differing_cases > len(self.differences)


def _explain(proposals: list[Proposal]) -> str:
    return " | ".join(p.rationale for p in proposals) or "no remedy"


def policy_replay(*, version: PolicyVersion | int, date_from: date, date_to: date,
                  max_differences: int = MAX_DIFFERENCES_LISTED) -> ReplayReport:
    """Evaluate `version` over the cases that arrived in [date_from, date_to]. Writes nothing."""
    if isinstance(version, int):
        found = PolicyVersion.objects.filter(number=version).first()
        if found is None:
            raise ValidationError({"version": f"There is no policy version {version}."})
        version = found
    if date_to < date_from:
        raise ValidationError({"date_to": "The end of the range is before its start."})
    with transaction.atomic():  # one consistent snapshot of the history; nothing is written
        return _replay(version, date_from, date_to, max_differences)


def _replay(version, date_from, date_to, max_differences) -> ReplayReport:
    policy = policy_compiled(version)
    active = policy_version_active()
    active_policy = policy_compiled(active) if active and active.pk != version.pk else None
    report = ReplayReport(version=version.number, compared_with=active.number if active else None,
                          date_from=date_from, date_to=date_to)
    kinds, active_kinds = Counter(), Counter()
    cost, active_cost = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    by_budget: dict = defaultdict(lambda: defaultdict(lambda: ZERO))
    evaluate = engine.evaluate
    for facts in cases_facts_between(date_from=date_from, date_to=date_to):
        report.cases += 1
        proposals = evaluate(policy, facts, explain=False)
        if proposals:
            report.cases_with_remedy += 1
        for proposal in proposals:
            kinds[proposal.kind] += 1
            cost[proposal.currency] += proposal.cost
            by_budget[proposal.budget][proposal.currency] += proposal.cost
            report.needing_approval += proposal.needs_approval
        if active_policy is None:
            continue
        active_proposals = evaluate(active_policy, facts, explain=False)
        for proposal in active_proposals:
            active_kinds[proposal.kind] += 1
            active_cost[proposal.currency] += proposal.cost
        outcome = [p.outcome for p in proposals]
        active_outcome = [p.outcome for p in active_proposals]
        if outcome != active_outcome:
            report.differing_cases += 1
            if len(report.differences) < max_differences:
                explained, active_explained = evaluate(policy, facts), evaluate(active_policy, facts)
                report.differences.append(ReplayDifference(
                    case_id=facts.case_id, arrived_on=facts.today, outcome=outcome, active_outcome=active_outcome,
                    rationale=_explain(explained), active_rationale=_explain(active_explained),
                    explanations=[p.explanation for p in explained],
                    active_explanations=[p.explanation for p in active_explained],
                ))
    report.remedies_by_kind = dict(sorted(kinds.items()))
    report.cost_by_currency = dict(sorted(cost.items()))
    report.cost_by_budget = {budget: dict(sorted(amounts.items())) for budget, amounts in sorted(by_budget.items())}
    if active_policy is None:  # the version replayed is the active one
        report.active_remedies_by_kind, report.active_cost_by_currency = dict(report.remedies_by_kind), dict(
            report.cost_by_currency)
    else:
        report.active_remedies_by_kind = dict(sorted(active_kinds.items()))
        report.active_cost_by_currency = dict(sorted(active_cost.items()))
    return report
