"""Read queries of the policy app: the facts a policy decides on, the active version, the remedy ledger."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from time import monotonic

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext

from cases.selectors import delivery_check_latest
from customers.selectors import customer_loyalty_facts
from orders.services import shipment_days_late

from .engine import ANY_BUDGET, ZERO, Facts, Policy, canonical_json, compile_policy
from .models import (
    DEFAULT_BUDGET_NAMES,
    Budget,
    BudgetChange,
    BudgetPeriod,
    DefaultBudget,
    PolicyVersion,
    Remedy,
    RemedyKind,
    RemedyStatus,
)

DEFAULT_CURRENCY = getattr(settings, "CASEAPP_DEFAULT_CURRENCY", "EUR")


def case_currency(case) -> str:
    """The currency a case is decided in: its order's, else its voucher's, else the shop's default."""
    if case.order_id:
        return case.order.currency
    if case.voucher_id:
        return case.voucher.currency
    return DEFAULT_CURRENCY


def case_shipment(case):
    """The shipment a case is about: its own, else the order's latest original (not replacement) shipment."""
    if case.shipment_id:
        return case.shipment
    if case.order_id:
        return (case.order.shipments.select_related("courier").filter(is_replacement=False)
                .order_by("-created_at", "-id").first())
    return None


def case_facts(*, case, today: date | None = None, loyalty=None, remedies=None) -> Facts:
    """Everything the policy may look at for one case, as of today (the shop's local date).

    ``loyalty``: the customer's loyalty facts as of that day when the caller already has them (the case page
    shows them too), so they are computed once per request; their ``remedy_cost_this_year`` is then the customer's
    cost this year. ``remedies``: the case's remedies when the caller has read them (the case page lists them)."""
    today = today or timezone.localdate()
    currency = case_currency(case)
    if loyalty is None or loyalty.customer_id != case.customer_id:
        loyalty = customer_loyalty_facts(customer=case.customer, today=today)
    cost_this_year = loyalty.remedy_cost_this_year.get(currency) or ZERO
    if remedies is None:
        on_case = list(Remedy.objects.filter(case_id=case.pk).values_list("rule_id", "status", "currency", "amount"))
    else:
        on_case = [(r.rule_id, r.status, r.currency, r.amount) for r in remedies]
    values = {
        "today": today, "currency": currency, "case_id": case.pk,
        "case_remedy_cost": sum((amount for _, status, cur, amount in on_case
                                 if status == RemedyStatus.APPLIED and cur == currency), ZERO),
        "decided_rules": frozenset(rule_id for rule_id, _, _, _ in on_case if rule_id),
        "tenure_days": loyalty.tenure_days, "tenure_years": loyalty.tenure_years,
        "order_count": loyalty.order_count, "lifetime_spend": loyalty.lifetime_spend.get(currency, ZERO),
        "remedies_this_year": loyalty.remedies_this_year, "remedy_cost_this_year": cost_this_year,
        "category": case.category, "channel": case.channel,
    }
    order = case.order if case.order_id else None
    if order is not None:
        values.update(
            order_total=order.total, payment_method=order.payment_method,
            promised_date=order.promised_delivery_date, is_date_critical=order.is_date_critical,
            is_non_refundable=order.is_non_refundable, cod_quoted_amount=order.cod_quoted_amount,
        )
    shipment = case_shipment(case)
    if shipment is not None:
        values.update(
            shipment_status=shipment.status, courier=shipment.courier.name,
            days_late=shipment_days_late(shipment, today=today), cod_label_amount=shipment.cod_amount,
            is_replacement_shipment=shipment.is_replacement,
        )
    checked = delivery_check_latest(case=case) if case.order_id else None
    if checked and checked.get("currency") == currency and checked.get("mismatched_lines_value") is not None:
        values["mismatched_lines_value"] = Decimal(checked["mismatched_lines_value"])
    voucher = case.voucher if case.voucher_id else None
    if voucher is not None and voucher.currency == currency:
        values.update(
            voucher_value=voucher.value, voucher_balance=voucher.balance, voucher_valid_until=voucher.valid_until,
            voucher_days_since_expiry=(today - voucher.valid_until).days,
            voucher_validity_months=voucher.validity_rule.validity_months,
        )
    return Facts(**values)


# --- Policy versions -----------------------------------------------------------------------------------------

# Compiled policies of this process, by (version id, content hash): versions are immutable (a trigger refuses any
# change to a stored document), so one compilation serves every later evaluation of that version: the case page,
# the API's proposals, remedy_apply, the scans (through policies.services.case_proposals) and replays. The hash
# keeps a reused id (a test database flushed between tests, a restored dump) from finding another document.
COMPILED_VERSIONS_KEPT = 32
_COMPILED: dict[tuple[int | None, str], Policy] = {}
_HASHES: dict[int | None, tuple[dict, str]] = {}  # version id -> (document, its hash): the last one hashed


def policy_document_hash(document) -> str:
    """A stable digest of a policy document's content (sha256 of its canonical JSON)."""
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def policy_compiled(version: PolicyVersion) -> Policy:
    """The version's policy, compiled once per process and version (keyed by id and content hash)."""
    document = version.document
    known = _HASHES.get(version.pk)
    if known is not None and known[0] == document:  # the same content: its hash without dumping it again
        digest = known[1]
    else:
        digest = policy_document_hash(document)
        if len(_HASHES) >= COMPILED_VERSIONS_KEPT:
            _HASHES.pop(next(iter(_HASHES)))
        _HASHES[version.pk] = (copy.deepcopy(document), digest)  # a copy: the caller's document may change
    key = (version.pk, digest)
    policy = _COMPILED.get(key)
    if policy is None:
        # A stored version was checked against the shop's budgets when it was created (policies.services).
        policy = compile_policy(document, budgets=ANY_BUDGET)
        if len(_COMPILED) >= COMPILED_VERSIONS_KEPT:
            _COMPILED.pop(next(iter(_COMPILED)))  # the oldest: a process rarely sees more than two versions
        _COMPILED[key] = policy
    return policy


def policy_version_active() -> PolicyVersion | None:
    return PolicyVersion.objects.filter(is_active=True).first()


def policy_versions() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.select_related("author").order_by("-number")


# --- The remedy ledger ---------------------------------------------------------------------------------------


def case_remedies(*, case) -> list[Remedy]:
    return list(case.remedies.select_related("recoverable_from", "proposed_by", "decided_by", "policy_version")
                .order_by("proposed_at", "id"))


def remedies_pending_approval() -> QuerySet[Remedy]:
    """The approvals inbox, oldest first (paginated by the caller)."""
    return (Remedy.objects.filter(status=RemedyStatus.PENDING_APPROVAL)
            .select_related("case", "customer", "proposed_by", "recoverable_from").order_by("proposed_at", "id"))


# --- Budgets -------------------------------------------------------------------------------------------------
#
# A remedy counts against the budget its rule books to (Remedy.budget is the budget's slug), in the budget's
# current period (a calendar month or quarter in the shop's time zone): applied remedies are *spent* (by the time
# they were applied), remedies waiting for a manager are *committed*, rejected ones count for nothing. There are no
# exchange rates: only remedies in the budget's own currency count against its amount; the others are shown apart
# (``other_currencies``), and policies.services sends such a remedy to a manager when the budget has an amount.


@dataclass(frozen=True)
class BudgetPeriodSpan:
    start: date  # first day
    end: date  # first day of the next period (exclusive)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes at local midnight (the shop's time zone)."""
        zone = timezone.get_current_timezone()
        return (datetime.combine(self.start, time.min, tzinfo=zone), datetime.combine(self.end, time.min, tzinfo=zone))

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def budget_period(period: str, *, at: date) -> BudgetPeriodSpan:
    """The calendar month or quarter that contains the day ``at``."""
    first_month = at.month if period == BudgetPeriod.MONTH else 3 * ((at.month - 1) // 3) + 1
    start = date(at.year, first_month, 1)
    months = 1 if period == BudgetPeriod.MONTH else 3
    year, month = divmod(start.month - 1 + months, 12)
    return BudgetPeriodSpan(start, date(start.year + year, month + 1, 1))


@dataclass(frozen=True)
class BudgetBalance:
    budget: Budget
    period: BudgetPeriodSpan
    currency: str
    amount: Decimal | None  # None: no limit
    spent: Decimal
    committed: Decimal
    other_currencies: dict = field(default_factory=dict)  # currency -> {"spent": Decimal, "committed": Decimal}

    @property
    def remaining(self) -> Decimal | None:
        """What is left of the amount after what is spent and committed (negative when a manager went over)."""
        return None if self.amount is None else self.amount - self.spent - self.committed

    def leaves(self, cost: Decimal) -> Decimal | None:
        """What a further remedy of ``cost`` (in the budget's currency) would leave; None without a limit."""
        return None if self.amount is None else self.remaining - cost

    def as_dict(self) -> dict:
        money = lambda value: None if value is None else str(value)  # noqa: E731
        return {
            "slug": self.budget.slug, "name": self.budget.display_name, "currency": self.currency,
            "period": self.budget.period, "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(), "amount": money(self.amount), "spent": money(self.spent),
            "committed": money(self.committed), "remaining": money(self.remaining),
            "other_currencies": {currency: {key: money(value) for key, value in sums.items()}
                                 for currency, sums in sorted(self.other_currencies.items())},
        }


COMMITTED_STATUSES = (RemedyStatus.PENDING_APPROVAL, RemedyStatus.APPROVED)


def _period_sums(budgets, *, at: date):
    """{(slug, currency): {"spent": x, "committed": y}} for each budget's period containing ``at``; two queries."""
    today = timezone.localdate()
    sums: dict = {}
    spent_q, committed_q = Q(pk__in=[]), Q(pk__in=[])
    for budget in budgets:
        span = budget_period(budget.period, at=at)
        start, end = span.bounds()
        spent_q |= Q(budget=budget.slug, applied_at__gte=start, applied_at__lt=end)
        # A remedy still waiting will be spent in the current period when approved: it is committed there
        # whenever it was proposed; in a past period, only what was proposed in it (and still waits).
        waiting = Q(budget=budget.slug, proposed_at__lt=end)
        if not span.contains(today):
            waiting &= Q(proposed_at__gte=start)
        committed_q |= waiting
    for label, query, statuses in (("spent", spent_q, (RemedyStatus.APPLIED,)),
                                   ("committed", committed_q, COMMITTED_STATUSES)):
        rows = (Remedy.objects.filter(query, status__in=statuses).values("budget", "currency")
                .annotate(total=Sum("amount")).order_by())
        for row in rows:
            entry = sums.setdefault((row["budget"], row["currency"]), {"spent": ZERO, "committed": ZERO})
            entry[label] = row["total"] or ZERO
    return sums


def _balance(budget: Budget, sums: dict, at: date) -> BudgetBalance:
    own = sums.get((budget.slug, budget.currency), {"spent": ZERO, "committed": ZERO})
    others = {currency: values for (slug, currency), values in sums.items()
              if slug == budget.slug and currency != budget.currency}
    return BudgetBalance(budget=budget, period=budget_period(budget.period, at=at), currency=budget.currency,
                         amount=budget.amount, spent=own["spent"], committed=own["committed"],
                         other_currencies=others)


def budget_balance(budget: Budget, *, at: date | None = None) -> BudgetBalance:
    """Spent, committed and remaining of one budget in its period containing ``at`` (default: today)."""
    at = at or timezone.localdate()
    return _balance(budget, _period_sums([budget], at=at), at)


def budget_balances(*, at: date | None = None, slugs=None, active_only: bool = False) -> dict[str, BudgetBalance]:
    """The balance of every budget (or those with these slugs), by slug, in three queries whatever their number."""
    at = at or timezone.localdate()
    budgets = Budget.objects.select_related("owner").order_by("slug")
    if slugs is not None:
        budgets = budgets.filter(slug__in=list(slugs))
    if active_only:
        budgets = budgets.filter(is_active=True)
    budgets = list(budgets)
    _names_remember(budgets, complete=slugs is None and not active_only)
    if not budgets:
        return {}
    sums = _period_sums(budgets, at=at)
    return {budget.slug: _balance(budget, sums, at) for budget in budgets}


def budgets_all() -> QuerySet[Budget]:
    return Budget.objects.select_related("owner").order_by("-is_active", "slug")


def budget_changes(*, budget: Budget) -> QuerySet[BudgetChange]:
    return budget.changes.select_related("changed_by").order_by("-changed_at", "-id")


def budget_slugs() -> frozenset[str]:
    """The slugs policy rules may book to: every budget the shop has (an inactive one too: its rules then wait),
    and the four defaults, which are unlimited while they have no row (the data migration creates them; a test
    database flushed between transactions has none)."""
    return frozenset(Budget.objects.values_list("slug", flat=True)) | frozenset(DefaultBudget.values)


def budget_choices(*, active_only: bool = True) -> list[tuple[str, str]]:
    """(slug, name in the reader's language) for a form's select."""
    budgets = list(Budget.objects.order_by("slug"))  # all of them (a shop has a handful): the labels reuse them
    _names_remember(budgets)
    # The four defaults are offered while they have no row, as budget_slugs() accepts them (unlimited until then).
    known = {budget.slug for budget in budgets}
    budgets += [Budget(slug=slug, name=DEFAULT_BUDGET_NAMES[slug]) for slug in DefaultBudget.values if slug not in known]
    budgets.sort(key=lambda budget: budget.slug)
    return [(budget.slug, budget.display_name) for budget in budgets if budget.is_active or not active_only]


# Budget names by slug for rendering rationales and reports without a query per row: filled by any query that
# reads the budgets (the case page, the approvals, the forms), forgotten when a service changes one, and at most
# BUDGET_NAMES_SECONDS old in another process.
BUDGET_NAMES_SECONDS = 60
_NAMES: dict = {"at": 0.0, "names": None}


def _names_remember(budgets, *, complete: bool = True) -> None:
    names = {budget.slug: budget.name for budget in budgets}
    if not complete:
        if _NAMES["names"] is None:
            return
        names = _NAMES["names"] | names
    else:
        _NAMES["at"] = monotonic()
    _NAMES["names"] = names


def budget_names_forget() -> None:
    _NAMES["names"] = None


def budget_label(slug: str | None) -> str:
    """A budget's name in the reader's language (the defaults translated, a shop's own as entered)."""
    if not slug:
        return ""
    names = _NAMES["names"]
    if names is None or monotonic() - _NAMES["at"] > BUDGET_NAMES_SECONDS:
        _names_remember(list(Budget.objects.all()))
        names = _NAMES["names"]
    name = names.get(slug)
    if name is None:
        return gettext(str(DefaultBudget(slug).label)) if slug in DefaultBudget.values else slug
    return Budget(slug=slug, name=name).display_name


# --- Remedies carried out and told ----------------------------------------------------------------------------

PAYMENT_PROMISE_PREFIX = "remedy-payment:"


def remedy_payment_promise_key(remedy: Remedy) -> str:
    """The one to-do per remedy to pay it in the payment system (a Promise key, see cases.services)."""
    return f"{PAYMENT_PROMISE_PREFIX}{remedy.pk}"


def remedy_notice_key(remedy: Remedy) -> str:
    """The outbox key of the one email that tells the customer about a remedy."""
    return f"remedy-notice:{remedy.pk}"


def remedy_is_refund(remedy: Remedy) -> bool:
    """Money back to the customer: a refund, or a discount given as a refund rather than on a voucher."""
    if remedy.kind == RemedyKind.REFUND:
        return True
    return remedy.kind == RemedyKind.DISCOUNT and (remedy.parameters or {}).get("given_as", "voucher") != "voucher"


def remedy_is_cancellation(remedy: Remedy) -> bool:
    return (remedy.parameters or {}).get("action") == "cancel_order"


def remedy_needs_payment(remedy: Remedy) -> bool:
    """A remedy a person must carry out in the payment system: a refund, a free item, a manager's cancellation."""
    return remedy_is_refund(remedy) or remedy.kind == RemedyKind.FREE_ITEM or remedy_is_cancellation(remedy)


def remedies_awaiting_payment(*, now: datetime | None = None) -> list[Remedy]:
    """Applied refunds, free items and cancellations not yet paid, the longest waiting first, each with
    ``waited`` (a timedelta since it was applied)."""
    now = now or timezone.now()
    candidates = (
        Remedy.objects.filter(status=RemedyStatus.APPLIED, paid_at__isnull=True)
        .filter(Q(kind__in=[RemedyKind.REFUND, RemedyKind.FREE_ITEM, RemedyKind.DISCOUNT])
                | Q(parameters__action="cancel_order"))
        .select_related("case", "customer").order_by("applied_at", "id")
    )
    remedies = [remedy for remedy in candidates if remedy_needs_payment(remedy)]
    for remedy in remedies:
        remedy.waited = now - (remedy.applied_at or remedy.proposed_at)
    return remedies


def remedy_ledger_totals(*, start: datetime, end: datetime) -> list[dict]:
    """Per currency, for what must be paid out (refunds, free items, cancellations) applied in [start, end):
    committed (applied), paid (with a reference) and still to pay."""
    rows: dict[str, dict] = {}
    candidates = (Remedy.objects.filter(status=RemedyStatus.APPLIED, applied_at__gte=start, applied_at__lt=end)
                  .filter(Q(kind__in=[RemedyKind.REFUND, RemedyKind.FREE_ITEM, RemedyKind.DISCOUNT])
                          | Q(parameters__action="cancel_order"))
                  .order_by())  # sums: the model's ordering would sort every remedy of the period for nothing
    for remedy in candidates:
        if not remedy_needs_payment(remedy):
            continue
        row = rows.setdefault(remedy.currency, {"currency": remedy.currency, "committed": ZERO, "paid": ZERO,
                                                "unpaid": ZERO, "count": 0, "paid_count": 0})
        row["committed"] += remedy.amount
        row["count"] += 1
        if remedy.paid_at is not None:
            row["paid"] += remedy.amount
            row["paid_count"] += 1
        else:
            row["unpaid"] += remedy.amount
    return [rows[currency] for currency in sorted(rows)]
