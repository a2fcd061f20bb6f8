"""One box, every kind: customers, orders, shipments, vouchers and cases matching a query, best first.

Exact identifiers come first (order and tracking numbers, voucher codes, case numbers, emails, phones), then
near misses (trigram similarity on PostgreSQL), then words (full-text search in the customer's language on
PostgreSQL; a plain contains on the embedded SQLite). Every query is bounded by MAX_PER_KIND and runs on an
index (search/migrations/0001); see bench/README.md for the plans at a million orders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest, Lower

from caseapp.permissions import is_agent
from cases.models import OPEN_STATUSES, Case
from customers.models import Customer
from orders.models import Order, OrderLine, Shipment
from vouchers.models import Voucher

from . import normalize

MAX_PER_KIND = 8
MIN_FUZZY_CHARS = 3
MIN_IDENT_TYPO_CHARS = 5
RANKED_CASES = 200  # full text: the newest matching cases are ranked, so a common word costs no more than a rare one
LANGUAGE_CONFIGS = ("en", "ro", "ru", "it")
_CASE_NUMBER = re.compile(r"^#?\s*(\d{1,12})$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")
_MAX_CASE_NUMBER = 2**62


def _fold(expression):
    return Func(expression, function="caseapp_fold", output_field=CharField())


def _ident(expression):
    return Func(expression, function="caseapp_ident", output_field=CharField())


@dataclass
class SearchResults:
    query: str
    customers: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    shipments: list = field(default_factory=list)
    vouchers: list = field(default_factory=list)
    cases: list = field(default_factory=list)

    KINDS = ("cases", "customers", "orders", "shipments", "vouchers")

    def groups(self) -> list[tuple[str, list]]:
        return [(kind, getattr(self, kind)) for kind in self.KINDS if getattr(self, kind)]

    @property
    def total(self) -> int:
        return sum(len(hits) for _, hits in self.groups())

    def single(self):
        """What Enter opens: the one exact identifier hit (a code, a number, an email), else the only hit."""
        exact = [hit for _, hits in self.groups() for hit in hits if getattr(hit, "is_exact", False)]
        if len(exact) == 1:
            return exact[0]
        groups = self.groups()
        if len(groups) == 1 and len(groups[0][1]) == 1:
            return groups[0][1][0]
        return None


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class _Exact:
    """Hits of an exact identifier (a code, a number, an email): marked, and they make near misses moot."""

    queryset: object


@dataclass(frozen=True)
class _NearMiss:
    """Hits by similarity: only looked for when no exact identifier matched."""

    queryset: object


def _collect(hits: list, seen: set, queryset, is_exact: bool, limit=MAX_PER_KIND) -> None:
    """Add (pk, is exact) of a source's hits, without repeats, up to `limit`. Sources select primary keys only;
    the few hits of a kind are then read once, with what the results show."""
    if queryset is None or len(hits) >= limit:
        return
    for pk in queryset.values_list("pk", flat=True)[: limit - len(hits)]:
        if pk not in seen:
            seen.add(pk)
            hits.append((pk, is_exact))


def _read(queryset, hits: list[tuple[int, bool]]) -> list:
    """The hits' rows, in the hits' order, marked exact or not (one query)."""
    if not hits:
        return []
    rows = queryset.in_bulk([pk for pk, _ in hits])
    found = []
    for pk, is_exact in hits:
        if pk in rows:
            rows[pk].is_exact = is_exact
            found.append(rows[pk])
    return found


def _newest_case(**filters) -> Subquery:
    """The case to open for a hit: its newest open case, else its newest case."""
    return Subquery(
        Case.objects.filter(**filters)
        .annotate(is_open=ExpressionWrapper(Q(status__in=OPEN_STATUSES), output_field=BooleanField()))
        .order_by("-is_open", "-arrival_number")
        .values("arrival_number")[:1]
    )


def _customers(q: str, pg: bool):
    base = Customer.objects.all()
    exact = None
    if "@" in q:
        exact = base.alias(email_lower=Lower("email")).filter(email_lower=q.lower())
    phone = None
    if _PHONE.match(q):
        phone = base.alias(phone_key=Func(F("phone"), function="caseapp_phone_key", output_field=CharField()))
        phone = phone.filter(phone_key=normalize.phone_key(q))
    by_name = _customers_by_name(base, q, pg)
    latin = normalize.latin(q)
    by_latin_name = _customers_by_name(base, latin, pg) if latin != normalize.fold(q) else None
    return (_Exact(exact), _Exact(phone), by_name, by_latin_name), Customer.objects.annotate(
        open_cases=Count("cases", filter=Q(cases__status__in=OPEN_STATUSES)),
        case_link=_newest_case(customer=OuterRef("pk")),
    )


def _customers_by_name(base, q: str, pg: bool):
    """Names by folded contains, and on PostgreSQL by trigram word similarity (a typo or two)."""
    by_name = None
    folded = normalize.fold(q)
    if len(folded) >= MIN_FUZZY_CHARS:
        named = base.alias(folded_name=_fold(F("name")))
        if pg:
            fq = _fold(Value(q))
            by_name = (
                named.filter(Q(folded_name__contains=folded) | Q(folded_name__trigram_word_similar=fq))
                .annotate(score=Greatest(TrigramSimilarity("folded_name", fq), TrigramWordSimilarity(fq, "folded_name")))
                .order_by("-score", "name", "pk")
            )
        else:
            by_name = named.filter(folded_name__contains=folded).order_by("name", "pk")
    return by_name


def _identifier_matches(model, column: str, q: str, pg: bool, extra_idents=()):
    """Exact identifier (folded) first, then, on PostgreSQL, near misses by trigram similarity."""
    ident = normalize.ident(q)
    if not ident:
        return None, None
    base = model.objects.alias(ident_col=_ident(F(column)))
    idents = [_ident(Value(q)), *(_ident(Value(extra)) for extra in extra_idents)]
    exact_q = Q()
    for value in idents:
        exact_q |= Q(ident_col=value)
    exact = base.filter(exact_q)
    typo = None
    if len(ident) >= MIN_IDENT_TYPO_CHARS and any(ch.isdigit() for ch in ident):  # codes carry digits
        if pg:
            typo = (
                base.filter(ident_col__trigram_similar=idents[0])
                .annotate(score=TrigramSimilarity("ident_col", idents[0]))
                .order_by("-score", "pk")
            )
        else:
            typo = base.filter(ident_col__startswith=ident).order_by("pk")
    return exact, typo


def _orders(q: str, pg: bool):
    prefix = getattr(settings, "CASEAPP_ORDER_NUMBER_PREFIX", "")
    stripped = q.lstrip("#").strip()
    exact, typo = _identifier_matches(Order, "number", stripped, pg, extra_idents=[prefix + stripped] if prefix else [])
    words = None
    if len(q) >= MIN_FUZZY_CHARS and any(ch.isalpha() for ch in q):
        if pg:
            # The lines' GIN index finds the lines (OFFSET 0 keeps the planner from walking the orders instead),
            # the newest orders among them come first.
            words = Order.objects.filter(RawSQL(
                "orders_order.id IN (SELECT m.order_id FROM (SELECT l.order_id FROM orders_orderline l "
                "WHERE to_tsvector('caseapp_simple', l.name) @@ plainto_tsquery('caseapp_simple', %s) OFFSET 0) m "
                f"ORDER BY m.order_id DESC LIMIT {MAX_PER_KIND * 4})", [q], output_field=BooleanField(),
            )).order_by("-placed_at", "pk")
        else:
            lines = OrderLine.objects.alias(folded=_fold(F("name"))).filter(folded__contains=normalize.fold(q))
            words = Order.objects.filter(pk__in=Subquery(lines.values("order_id"))).order_by("-placed_at", "pk")
    return (_Exact(exact), _NearMiss(typo), words), Order.objects.select_related("customer").annotate(
        case_link=_newest_case(order=OuterRef("pk")))


def _shipments(q: str, pg: bool):
    exact, typo = _identifier_matches(Shipment, "tracking_number", q, pg)
    return (_Exact(exact), _NearMiss(typo)), Shipment.objects.select_related("courier", "order").annotate(
        case_link=_newest_case(order=OuterRef("order_id")))


def _vouchers(q: str, pg: bool):
    exact, typo = _identifier_matches(Voucher, "code", q, pg)
    return (_Exact(exact), _NearMiss(typo)), Voucher.objects.select_related("holder").annotate(
        case_link=_newest_case(voucher=OuterRef("pk")))


def _cases(q: str, pg: bool):
    base = Case.objects.all()
    by_number = None
    match = _CASE_NUMBER.match(q)
    if match and int(match.group(1)) < _MAX_CASE_NUMBER:
        by_number = base.filter(pk=int(match.group(1)))
    words = case_words(base, q, pg) if len(q) >= MIN_FUZZY_CHARS else None
    return (_Exact(by_number), words), Case.objects.select_related("customer", "owner")


def case_words(base, q: str, pg: bool):
    """Cases by words of their subject, description, timeline and promises: of the RANKED_CASES newest that match,
    the best ranked first (a word in the subject outranks one in a note)."""
    if not pg:
        folded = normalize.fold(q)
        return base.alias(fs=_fold(F("subject")), fd=_fold(F("description"))).filter(
            Q(fs__contains=folded) | Q(fd__contains=folded)
        ).order_by("-arrival_number")
    # One condition per language with a constant configuration, so each runs on the document's GIN index.
    condition = " OR ".join(
        f"(d.language = '{code}' AND d.document @@ websearch_to_tsquery('caseapp_{code}', %s))"
        for code in LANGUAGE_CONFIGS
    )
    return base.filter(
        RawSQL(f"cases_case.arrival_number IN (SELECT d.case_id FROM search_casedocument d WHERE {condition} "
               f"ORDER BY d.case_id DESC LIMIT {RANKED_CASES})",
               [q] * len(LANGUAGE_CONFIGS), output_field=BooleanField())
    ).annotate(
        rank=RawSQL("(SELECT ts_rank(d.document, websearch_to_tsquery(search_case_config(d.language), %s)) "
                    "FROM search_casedocument d WHERE d.case_id = cases_case.arrival_number)", [q])
    ).order_by("-rank", "-arrival_number")


KINDS = {"cases": _cases, "customers": _customers, "orders": _orders, "shipments": _shipments,
         "vouchers": _vouchers}


def search_everything(*, user, query: str | None) -> SearchResults:
    """What the box finds for this user. Agents and managers read every case; anybody else finds nothing.

    Each kind plans its sources (best kind of match first). Exact identifiers of every kind are looked up first;
    when one matched anywhere (an order number, a voucher code, an email), near misses are not looked for: that
    identifier is the answer. Then the words and names. Each kind's few hits are read in one query."""
    q = normalize.clean_query(query)
    results = SearchResults(query=q)
    if not q or not is_agent(user):
        return results
    pg = _is_postgresql()
    plans = {kind: plan(q, pg) for kind, plan in KINDS.items()}
    hits = {kind: [] for kind in plans}
    seen = {kind: set() for kind in plans}
    for kind, (sources, _) in plans.items():
        for source in sources:
            if isinstance(source, _Exact):
                _collect(hits[kind], seen[kind], source.queryset, True)
    exact_anywhere = any(hits.values())
    for kind, (sources, _) in plans.items():
        for source in sources:
            if isinstance(source, _Exact) or (isinstance(source, _NearMiss) and exact_anywhere):
                continue
            _collect(hits[kind], seen[kind], source.queryset if isinstance(source, _NearMiss) else source, False)
    for kind, (_, rows) in plans.items():
        setattr(results, kind, _read(rows, hits[kind]))
    return results
