"""The header search box at a real shop's size: 1,000,000 orders, 200,000 customers, 100,000 cases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_search_bench \
        .venv/bin/python bench/search_bench.py --load --runs 200

--load migrates and bulk-loads the data with INSERT ... SELECT generate_series (it empties the customer, order,
voucher and case tables of that database first: never point it at a database you care about). Names are drawn
from Romanian, Russian (in Cyrillic), Italian and English first and last names; order lines, tracking numbers,
voucher codes, case subjects and notes in the four languages. The case search documents are written by the
triggers of search/migrations/0001 as the rows go in, like any other write.

Then it times search_everything (what the box and GET /api/v1/search/ run: every kind, all its queries) in
process, for three kinds of query, each `--runs` times with a different target, and prints p50/p95/max and the
EXPLAIN plan of the query that matters for each kind.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

FIRST = {
    "ro": ["Elena", "Andrei", "Ioana", "Mihai", "Ștefan", "Alexandra", "Bogdan", "Cristina", "Răzvan", "Ilinca"],
    "ru": ["Дмитрий", "Ольга", "Павел", "Анна", "Сергей", "Наталья", "Алексей", "Мария", "Иван", "Екатерина"],
    "it": ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Sofia", "Lorenzo", "Giorgia", "Niccolò"],
    "en": ["Karen", "John", "Emily", "Michael", "Sarah", "David", "Laura", "James", "Megan", "Robert"],
}
LAST = {
    "ro": ["Popescu", "Ionescu", "Mureșan", "Dumitrescu", "Stănescu", "Popa", "Constantinescu", "Țurcanu"],
    "ru": ["Соколов", "Петрова", "Иванов", "Смирнова", "Кузнецов", "Попова", "Волков", "Фёдорова"],
    "it": ["Rossi", "Bianchi", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco"],
    "en": ["Miller", "Smith", "Johnson", "Brown", "Taylor", "Anderson", "Thomas", "Moore"],
}
ITEMS = ["Herringbone wool rug", "Kilim rug", "Brass lamp", "Gold ring with sapphire", "Silver earrings",
         "Porcelain plates", "Cast iron pan", "Linen tablecloth", "Oak cutting board", "Copper kettle",
         "Ceramic vase", "Cookbook", "Gift box", "Wine glasses", "Espresso cups"]
SUBJECTS = {
    "ro": ["Mulțumesc, dar coletul a întârziat", "Voucherul a expirat", "Comanda este incompletă",
           "Am primit alt produs decât cel comandat"],
    "ru": ["Посылка не доставлена вовремя", "Сертификат просрочен", "Заказ пришёл неполным",
           "Курьер потерял посылку"],
    "it": ["Il pacco è in ritardo", "Il buono è scaduto", "Ordine incompleto", "Articolo sbagliato consegnato"],
    "en": ["Parcel arrived late", "Gift voucher expired", "Order arrived incomplete", "Wrong style delivered"],
}
LANGS = ["ro", "ru", "it", "en"]


def _array(values):
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def load_sql(customers: int, orders: int, cases: int, vouchers: int) -> str:
    first = {lang: _array(names) for lang, names in FIRST.items()}
    last = {lang: _array(names) for lang, names in LAST.items()}
    name_expr = "CASE g % 4 " + " ".join(
        f"WHEN {i} THEN ({first[lang]})[1 + (g / 4) % {len(FIRST[lang])}] || ' ' || "
        f"({last[lang]})[1 + (g / 40) % {len(LAST[lang])}]" for i, lang in enumerate(LANGS)) + " END"
    subject_expr = "CASE cu.preferred_language " + " ".join(
        f"WHEN '{lang}' THEN ({_array(SUBJECTS[lang])})[1 + c.g % {len(SUBJECTS[lang])}]" for lang in LANGS) + " END"
    return f"""
TRUNCATE search_casedocument, policies_remedy, cases_promise, cases_caseevent, cases_case, orders_shipmentevent,
    orders_shipment, orders_orderline, orders_order, vouchers_voucherredemption, vouchers_voucherextension,
    vouchers_voucherreminder, vouchers_voucher, customers_customer RESTART IDENTITY CASCADE;

INSERT INTO customers_customer (name, email, phone, preferred_language, country, time_zone, customer_since, created_at)
SELECT {name_expr}, 'customer' || g || '@bench.example', '+40 7' || lpad((g * 7)::text, 8, '0'),
       (ARRAY['ro','ru','it','en'])[1 + g % 4], 'RO', 'Europe/Bucharest', DATE '2020-01-01' + (g % 2000), now()
FROM generate_series(1, {customers}) g;
ANALYZE customers_customer;

INSERT INTO orders_order (number, customer_id, placed_at, currency, shipping_amount, total, payment_method,
    cod_quoted_amount, promised_delivery_date, is_date_critical, occasion, is_non_refundable, is_special_order,
    sold_by, status)
SELECT 'SO-' || lpad(g::text, 7, '0'), 1 + (g % {customers}), now() - make_interval(days => (g % 900)), 'RON', 15,
       (10 + (g % 500))::numeric(12,2), 'card', NULL, (now() + make_interval(days => 3 - (g % 900)))::date,
       g % 97 = 0, '', false, false, '', (ARRAY['placed','paid','shipped','delivered'])[1 + g % 4]
FROM generate_series(1, {orders}) g;
ANALYZE orders_order;

INSERT INTO orders_orderline (order_id, sku, name, quantity, unit_price, variant)
SELECT o.id, 'SKU-' || (o.id % 1000), ({_array(ITEMS)})[1 + ((o.id * 31 + n) % {len(ITEMS)})], 1,
       (5 + (o.id % 300))::numeric(12,2), ''
FROM orders_order o, generate_series(1, 1 + (random() * 2)::int) n;
ANALYZE orders_orderline;

INSERT INTO orders_courier (name, claims_email, claims_phone)
SELECT 'Bench courier ' || g, '', '' FROM generate_series(1, 4) g ON CONFLICT DO NOTHING;
INSERT INTO orders_shipment (order_id, courier_id, tracking_number, handed_over_at, estimated_delivery, delivered_at,
    status, cod_amount, is_replacement, created_at)
SELECT o.id, (SELECT min(id) FROM orders_courier) + o.id % 4, 'EW-' || lpad((o.id * 13)::text, 9, '0') || '-RO',
       o.placed_at + interval '1 day', o.promised_delivery_date, NULL, 'in_transit', NULL, false, now()
FROM orders_order o WHERE o.id % 2 = 0;
ANALYZE orders_shipment;

INSERT INTO vouchers_validityrule (code, name, validity_months, effective_from)
SELECT 'bench-12', 'Bench 12 months', 12, DATE '2020-01-01' WHERE NOT EXISTS (SELECT 1 FROM vouchers_validityrule);
INSERT INTO vouchers_voucher (code, holder_id, purchaser_id, value, balance, currency, issued_at, valid_until,
    validity_rule_id, status, created_at)
SELECT 'GIFT-' || upper(substr(md5(g::text), 1, 4)) || '-' || lpad(g::text, 6, '0'),
       1 + (g * 3) % {customers}, NULL, 100, 100, 'RON', now() - interval '30 days', (now() + interval '300 days')::date,
       (SELECT min(id) FROM vouchers_validityrule), 'active', now()
FROM generate_series(1, {vouchers}) g;
ANALYZE vouchers_voucher;

INSERT INTO cases_case (customer_id, order_id, shipment_id, voucher_id, category, channel, status, subject,
    description, owner_id, arrived_at, first_response_due_at, resolution_due_at, first_responded_at, resolved_at,
    updated_at)
SELECT c.customer_id, NULL, NULL, NULL, 'other', 'email',
       CASE WHEN c.g % 10 < 3 THEN 'open' ELSE 'resolved' END,
       {subject_expr} || ' (' || c.g || ')', 'Generated for the search benchmark.', NULL,
       c.arrived, c.arrived + interval '8 hours', c.arrived + interval '72 hours', NULL,
       CASE WHEN c.g % 10 >= 3 THEN c.arrived + interval '2 days' END, now()
FROM (SELECT g, 1 + (g * 7919 % {customers}) AS customer_id, now() - make_interval(mins => ({cases} - g) * 5) AS arrived
      FROM generate_series(1, {cases}) g) c
JOIN customers_customer cu ON cu.id = c.customer_id;

INSERT INTO cases_caseevent (case_id, kind, actor_id, occurred_at, text, data)
SELECT arrival_number, 'note', NULL, arrived_at + interval '30 minutes',
       'Called the courier; tracking ' || arrival_number || ' checked in Isparta', '{{}}'::jsonb
FROM cases_case WHERE arrival_number % 2 = 0;
ANALYZE;
"""


def load(customers: int, orders: int, cases: int, vouchers: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(load_sql(customers, orders, cases, vouchers))
    # As autovacuum would (it is off on some machines): flush the GIN pending lists and refresh the statistics.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded {customers:,} customers, {orders:,} orders, {cases:,} cases, {vouchers:,} vouchers "
          f"in {time.perf_counter() - started:.0f} s")


def explain(sql_label: str, queryset) -> None:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    print(f"  plan ({sql_label}):")
    for line in plan[:14]:
        print("    " + line)


def measure(label, queries, runs, user):
    from search.selectors import search_everything

    timings = []
    hits = 0
    for query in queries[:runs]:
        started = time.perf_counter()
        results = search_everything(user=user, query=query)
        timings.append((time.perf_counter() - started) * 1000)
        hits += bool(results.total)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"{label:<34} runs {len(timings):>4}  p50 {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  "
          f"max {timings[-1]:6.1f} ms  found {hits}/{len(timings)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--vouchers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Value

    from customers.models import Customer
    from orders.models import Order, Shipment
    from search import selectors
    from vouchers.models import Voucher

    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database")
    if args.load:
        load(args.customers, args.orders, args.cases, args.vouchers)
    user, _ = get_user_model().objects.get_or_create(username="bench-search", defaults={"is_superuser": True})
    rng = random.Random(7)

    orders = list(Order.objects.order_by("?").values_list("number", flat=True)[: args.runs // 2])
    tracking = list(Shipment.objects.order_by("?").values_list("tracking_number", flat=True)[: args.runs // 4])
    codes = list(Voucher.objects.order_by("?").values_list("code", flat=True)[: args.runs // 4])
    identifiers = [o.lower() for o in orders] + [t.replace("-", " ") for t in tracking] + [c.lower() for c in codes]
    rng.shuffle(identifiers)
    names = list(Customer.objects.order_by("?").values_list("name", flat=True)[: args.runs])

    def typo(text: str) -> str:
        i = rng.randrange(1, len(text) - 1)
        return text[:i] + text[i + 1:]  # one letter dropped

    typos = [typo(n) for n in names]
    words = ["multumesc coletul", "посылки", "pacco ritardo", "voucher expired", "incompleta", "курьер",
             "wrong style", "Isparta", "buono scaduto", "comanda incompleta"]
    full_text = [rng.choice(words) for _ in range(args.runs)]

    print(f"PostgreSQL {connection.pg_version}, {Customer.objects.count():,} customers, "
          f"{Order.objects.count():,} orders, load {os.getloadavg()[0]:.1f}")
    measure("identifier (order/tracking/code)", identifiers, args.runs, user)
    measure("customer name with a typo", typos, args.runs, user)
    measure("full text in four languages", full_text, args.runs, user)

    print("query plans:")
    exact, _ = selectors._identifier_matches(Order, "number", orders[0], True)
    explain("order by number", exact[:8])
    _, typo_codes = selectors._identifier_matches(Voucher, "code", typo(codes[0]), True)
    explain("voucher code with a typo", typo_codes[:8])
    fq = selectors._fold(Value(typos[0]))
    explain("customer name with a typo", Customer.objects.alias(n=selectors._fold(selectors.F("name")))
            .filter(n__trigram_word_similar=fq)[:8])
    from cases.models import Case

    explain("cases, full text", selectors.case_words(Case.objects.all(), "multumesc coletul", True)[:8])


if __name__ == "__main__":
    main()
