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
    Exists,
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
LANGUAGE_CONFIGS = ("en", "ro", "ru", "it")
_CASE_NUMBER = re.compile(r"^#?\s*(\d{1,12})$")
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


def _first_unique(*sources, limit=MAX_PER_KIND) -> list:
    """Hits from each source in turn (best kind of match first), without repeats, at most `limit`."""
    seen, hits, exact_found = set(), [], False
    for source in sources:
        if source is None or len(hits) >= limit:
            continue
        is_exact = isinstance(source, _Exact)
        if isinstance(source, _NearMiss) and exact_found:
            continue
        queryset = source.queryset if isinstance(source, _Exact | _NearMiss) else source
        if queryset is None:
            continue
        for obj in queryset[: limit - len(hits)]:
            if obj.pk not in seen:
                seen.add(obj.pk)
                obj.is_exact = is_exact
                exact_found |= is_exact
                hits.append(obj)
    return hits


def _newest_case(**filters) -> Subquery:
    """The case to open for a hit: its newest open case, else its newest case."""
    return Subquery(
        Case.objects.filter(**filters)
        .annotate(is_open=ExpressionWrapper(Q(status__in=OPEN_STATUSES), output_field=BooleanField()))
        .order_by("-is_open", "-arrival_number")
        .values("arrival_number")[:1]
    )


def _customers(q: str, pg: bool) -> list:
    base = Customer.objects.annotate(
        open_cases=Count("cases", filter=Q(cases__status__in=OPEN_STATUSES)),
        case_link=_newest_case(customer=OuterRef("pk")),
    )
    exact = None
    if "@" in q:
        exact = base.alias(email_lower=Lower("email")).filter(email_lower=q.lower())
    phone = None
    digits = normalize.digits_only(q)
    if len(digits) >= 7 and len(digits) >= len(q.replace(" ", "")) - 3:
        phone = base.alias(phone_key=Func(F("phone"), function="caseapp_phone_key", output_field=CharField()))
        phone = phone.filter(phone_key=normalize.phone_key(digits)).exclude(phone="")
    by_name = _customers_by_name(base, q, pg)
    latin = normalize.latin(q)
    by_latin_name = _customers_by_name(base, latin, pg) if latin != normalize.fold(q) else None
    return _first_unique(_Exact(exact), _Exact(phone), by_name, by_latin_name)


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
    if len(ident) >= MIN_IDENT_TYPO_CHARS:
        if pg:
            typo = (
                base.filter(ident_col__trigram_similar=idents[0])
                .annotate(score=TrigramSimilarity("ident_col", idents[0]))
                .order_by("-score", "pk")
            )
        else:
            typo = base.filter(ident_col__startswith=ident).order_by("pk")
    return exact, typo


def _orders(q: str, pg: bool) -> list:
    prefix = getattr(settings, "CASEAPP_ORDER_NUMBER_PREFIX", "")
    stripped = q.lstrip("#").strip()
    exact, typo = _identifier_matches(Order, "number", stripped, pg, extra_idents=[prefix + stripped] if prefix else [])
    decorate = lambda qs: (  # noqa: E731
        qs.select_related("customer").annotate(case_link=_newest_case(order=OuterRef("pk"))) if qs is not None else None
    )
    words = None
    if len(q) >= MIN_FUZZY_CHARS:
        if pg:
            lines = OrderLine.objects.filter(
                RawSQL("to_tsvector('caseapp_simple', name) @@ plainto_tsquery('caseapp_simple', %s)", [q],
                       output_field=BooleanField())
            )
        else:
            lines = OrderLine.objects.alias(folded=_fold(F("name"))).filter(folded__contains=normalize.fold(q))
        words = Order.objects.filter(Exists(lines.filter(order=OuterRef("pk")))).order_by("-placed_at", "pk")
    return _first_unique(_Exact(decorate(exact)), _NearMiss(decorate(typo)), decorate(words))


def _shipments(q: str, pg: bool) -> list:
    exact, typo = _identifier_matches(Shipment, "tracking_number", q, pg)
    decorate = lambda qs: (  # noqa: E731
        qs.select_related("courier", "order").annotate(
            case_link=_newest_case(order=OuterRef("order_id"))
        ) if qs is not None else None
    )
    return _first_unique(_Exact(decorate(exact)), _NearMiss(decorate(typo)))


def _vouchers(q: str, pg: bool) -> list:
    exact, typo = _identifier_matches(Voucher, "code", q, pg)
    decorate = lambda qs: (  # noqa: E731
        qs.select_related("holder").annotate(
            case_link=_newest_case(voucher=OuterRef("pk"))
        ) if qs is not None else None
    )
    return _first_unique(_Exact(decorate(exact)), _NearMiss(decorate(typo)))


def _cases(q: str, pg: bool) -> list:
    base = Case.objects.select_related("customer", "owner")
    by_number = None
    match = _CASE_NUMBER.match(q)
    if match and int(match.group(1)) < _MAX_CASE_NUMBER:
        by_number = base.filter(pk=int(match.group(1)))
    words = case_words(base, q, pg) if len(q) >= MIN_FUZZY_CHARS else None
    return _first_unique(_Exact(by_number), words)


def case_words(base, q: str, pg: bool):
    """Cases by words of their subject, description, timeline and promises, best first."""
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
        RawSQL(f"cases_case.arrival_number IN (SELECT d.case_id FROM search_casedocument d WHERE {condition})",
               [q] * len(LANGUAGE_CONFIGS), output_field=BooleanField())
    ).annotate(
        rank=RawSQL("(SELECT ts_rank(d.document, websearch_to_tsquery(search_case_config(d.language), %s)) "
                    "FROM search_casedocument d WHERE d.case_id = cases_case.arrival_number)", [q])
    ).order_by("-rank", "-arrival_number")


def search_everything(*, user, query: str | None) -> SearchResults:
    """What the box finds for this user. Agents and managers read every case; anybody else finds nothing."""
    q = normalize.clean_query(query)
    results = SearchResults(query=q)
    if not q or not is_agent(user):
        return results
    pg = _is_postgresql()
    results.cases = _cases(q, pg)
    results.customers = _customers(q, pg)
    results.orders = _orders(q, pg)
    results.shipments = _shipments(q, pg)
    results.vouchers = _vouchers(q, pg)
    return results
