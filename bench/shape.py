"""The realistic bench shape every dashboard/API/peer figure is measured on (issue 15).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_bench_100k \
        .venv/bin/python bench/shape.py --cases 100000 --orders 1000000

It EMPTIES the customer, order, voucher, case and remedy tables of that database first (never point it at a
database you care about), then loads with one INSERT ... SELECT generate_series per table (PostgreSQL only) and
runs ANALYZE after each bulk load (autovacuum may be off: without statistics the later joins go quadratic):

- customers: orders / 5 (200,000 for 1,000,000 orders), four languages;
- orders: 1-5 lines each; every fifth order has a shipment with 3-12 tracking events; 1 % date-critical;
- vouchers: 2 per case (200,000 at 100,000 cases), 85 % active;
- cases: 30 % open (the share django-helpdesk's seed has), a third of the open ones owned by the bench agent,
  half of them never answered; each on one of its customer's shipped orders, with 5-30 timeline events;
  remedies on 10 % of the cases, promises on one case in seven.

The cases' search trigger is off while they go in (its per-row lookups were planned on the empty table's statistics
and went quadratic: 100,000 cases took 542 s); their search documents are written at the end, with the timeline and
the promises in them. The audit trail's insert triggers are off for customers, orders, shipments and vouchers while they go in (see
UNAUDITED_BULK_TABLES). The timeline's search trigger (one search-document update per event) is switched off while the generated events
go in: their text is not searchable in the bench (the cases' own subject and description are, by their trigger).
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

OPEN_SHARE_TENTHS = 3  # 30 % open

# The audit trail's insert triggers (pghistory: one audit row per inserted row) are off while these bulk tables go in
# (1,000,000 orders took minutes for their audit rows alone); cases, promises and remedies keep theirs, so the case
# page's "What changed" panel reads what a real case has.
UNAUDITED_BULK_TABLES = ("customers_customer", "orders_order", "orders_shipment", "vouchers_voucher")

STEPS = [
    ("empty", """
TRUNCATE policies_remedy, cases_promise, cases_caseevent, cases_case, orders_shipmentevent, orders_shipment,
    orders_orderline, orders_order, vouchers_voucherreminder, vouchers_voucherredemption, vouchers_voucherextension,
    vouchers_voucher, customers_customer RESTART IDENTITY CASCADE;
INSERT INTO orders_courier (name, claims_email, claims_phone, claim_window_days) VALUES
    ('Bench Courier A', 'claims-a@courier.example', '', 30), ('Bench Courier B', 'claims-b@courier.example', '', 30),
    ('Bench Courier C', '', '+40 21 000 0000', 30) ON CONFLICT (name) DO NOTHING;
INSERT INTO vouchers_validityrule (code, name, validity_months, effective_from)
    VALUES ('bench-12', 'Twelve months', 12, DATE '2019-01-01') ON CONFLICT (code) DO NOTHING
"""),
    ("customers", """
INSERT INTO customers_customer (name, email, phone, preferred_language, country, time_zone, customer_since, created_at)
SELECT (ARRAY['Ana','Ion','Maria','Olga','Giulia','Marco','James','Elena'])[1 + g % 8] || ' '
       || (ARRAY['Popescu','Ivanova','Rossi','Smith','Ionescu','Bianchi','Petrov'])[1 + (g / 8) % 7] || ' ' || g,
       'customer' || g || '@bench.example', '+40 7' || lpad((g % 100000000)::text, 8, '0'),
       (ARRAY['en','ro','ru','it'])[1 + g % 4], 'RO', 'Europe/Bucharest', DATE '2019-01-01' + (g % 2000), now()
FROM generate_series(1, {customers}) g
"""),
    ("orders", """
INSERT INTO orders_order (number, customer_id, placed_at, currency, shipping_amount, total, tax_amount,
    discount_amount, payment_method, cod_quoted_amount, promised_delivery_date, is_date_critical, occasion,
    is_non_refundable, is_special_order, sold_by, status, shipping_name, shipping_street, shipping_city,
    shipping_postcode, shipping_country)
SELECT 'B-' || g, 1 + (g::bigint * 7919 % {customers}), now() - make_interval(days => g % 900, mins => g % 1440), 'RON',
       15, (10 + g % 500)::numeric(12,2), 0, 0,
       CASE WHEN g % 10 = 0 THEN 'cod' ELSE 'card' END, CASE WHEN g % 10 = 0 THEN (10 + g % 500) END,
       (now() + make_interval(days => 3 - (g % 900)))::date, g % 100 = 0,
       CASE WHEN g % 100 = 0 THEN 'birthday' ELSE '' END, false, false, '',
       CASE WHEN g % 5 = 0 THEN (ARRAY['shipped','delivered'])[1 + (g / 5) % 2]
            ELSE (ARRAY['placed','paid','delivered','cancelled','delivered'])[1 + g % 5] END,
       'Customer', 'Strada Exemplu 1', 'Bucuresti', '010101', 'RO'
FROM generate_series(1, {orders}) g
"""),
    ("order lines", """
INSERT INTO orders_orderline (order_id, sku, name, quantity, unit_price, variant)
SELECT o, 'SKU-' || (o * 13 + n) % 5000, (ARRAY['Kilim rug','Ceramic mug','Linen shirt','Wool scarf',
       'Leather wallet'])[1 + (o + n) % 5], 1 + (o + n) % 3, (5 + (o * n) % 200)::numeric(12,2),
       CASE WHEN n % 2 = 0 THEN 'blue' ELSE '' END
FROM generate_series(1, {orders}) o, LATERAL generate_series(1, 1 + (o * 31) % 5) n
"""),
    ("shipments", """
INSERT INTO orders_shipment (order_id, courier_id, tracking_number, handed_over_at, estimated_delivery, delivered_at,
    status, cod_amount, is_replacement, created_at)
SELECT o.id, (SELECT min(id) FROM orders_courier) + (o.id / 5) % 3, 'TRK' || lpad(o.id::text, 10, '0'),
       o.placed_at + interval '1 day', (o.placed_at + interval '3 days')::date,
       CASE WHEN o.status = 'delivered' THEN o.placed_at + interval '3 days' END,
       CASE WHEN o.status = 'delivered' THEN 'delivered'
            ELSE (ARRAY['in_transit','delayed','in_transit','lost'])[1 + (o.id / 5) % 4] END,
       o.cod_quoted_amount, false, o.placed_at + interval '1 day'
FROM orders_order o WHERE o.id % 5 = 0 ORDER BY o.id
"""),
    ("tracking events", """
INSERT INTO orders_shipmentevent (shipment_id, external_id, occurred_at, code, text, location, raw, received_at)
SELECT s.id, 'E' || n, s.handed_over_at + make_interval(hours => (6 * n)::int),
       CASE WHEN n = 1 THEN 'handed_over' WHEN n = last AND s.status = 'delivered' THEN 'delivered'
            ELSE (ARRAY['in_transit','arrived_at_depot','out_for_delivery','delayed'])[1 + n % 4] END,
       'Parcel scanned', (ARRAY['Bucuresti','Cluj','Iasi','Brasov'])[1 + n % 4], '{{}}'::jsonb,
       s.handed_over_at + make_interval(hours => (6 * n)::int)
FROM orders_shipment s, LATERAL (SELECT 3 + (s.id * 7) % 10 AS last) l, LATERAL generate_series(1, l.last) n
"""),
    ("vouchers", """
INSERT INTO vouchers_voucher (code, holder_id, purchaser_id, value, balance, currency, issued_at, valid_until,
    validity_rule_id, status, created_at)
SELECT 'BV-' || lpad(g::text, 9, '0'), 1 + (g::bigint * 104729 % {customers}), NULL, 100, CASE WHEN g % 20 = 1 THEN 0 ELSE 100 END,
       'RON', now() - make_interval(days => g % 730), (now() - make_interval(days => g % 730))::date + 365,
       (SELECT id FROM vouchers_validityrule WHERE code = 'bench-12'),
       CASE WHEN g % 20 = 1 THEN 'redeemed' WHEN g % 20 = 2 THEN 'void' WHEN g % 20 = 3 THEN 'extended'
            ELSE 'active' END, now()
FROM generate_series(1, {vouchers}) g
"""),
    ("cases", """
ALTER TABLE cases_case DISABLE TRIGGER search_case_changed;
INSERT INTO cases_case (customer_id, order_id, shipment_id, voucher_id, category, channel, status, subject,
    description, owner_id, arrived_at, reported_at, first_response_due_at, resolution_due_at, first_responded_at,
    resolved_at, updated_at)
SELECT o.customer_id, o.id, o.id / 5,
       CASE WHEN c.g % 5 = 3 THEN 1 + (c.g * 2) % {vouchers} END,
       (ARRAY['late_delivery','lost_parcel','wrong_item','voucher_expired','other'])[1 + c.g % 5],
       (ARRAY['email','phone','web','counter'])[1 + c.g % 4],
       CASE WHEN c.g % 10 < {open_tenths} THEN (ARRAY['new','open','waiting_on_shop','waiting_on_customer'])[1 + (c.g / 10) % 4]
            ELSE (ARRAY['resolved','closed'])[1 + c.g % 2] END,
       'Bench case ' || c.g, 'The parcel has not arrived and the customer asks where it is.',
       CASE WHEN c.g % 10 < {open_tenths} AND c.g % 3 = 0 THEN {agent}
            WHEN c.g % 10 < {open_tenths} AND c.g % 3 = 1 THEN NULL ELSE {agent2} END,
       c.arrived, NULL, c.arrived + interval '8 hours', c.arrived + interval '72 hours',
       CASE WHEN (c.g / 10) % 2 = 0 THEN c.arrived + interval '1 hour' END,
       CASE WHEN c.g % 10 >= {open_tenths} THEN c.arrived + interval '2 days' END, now()
FROM (SELECT g, now() - make_interval(mins => ({cases} - g) * 5) AS arrived,
             5 * (1 + (g::bigint * 7919) % ({orders} / 5)) AS order_id
      FROM generate_series(1, {cases}) g) c
JOIN orders_order o ON o.id = c.order_id;
ALTER TABLE cases_case ENABLE TRIGGER search_case_changed
"""),
    ("timeline", """
ALTER TABLE cases_caseevent DISABLE TRIGGER search_case_event_added;
INSERT INTO cases_caseevent (case_id, kind, actor_id, occurred_at, text, data)
SELECT c.arrival_number,
       CASE WHEN n = 1 THEN 'created' ELSE (ARRAY['note','email_in','email_out','call','note'])[1 + n % 5] END,
       CASE WHEN n = 1 OR n % 5 = 2 THEN NULL ELSE {agent} END,
       c.arrived_at + make_interval(mins => (20 * (n - 1))::int),
       CASE WHEN n = 1 THEN c.subject ELSE 'Step ' || n || ': looked into it and wrote to the customer.' END,
       '{{}}'::jsonb
FROM cases_case c, LATERAL generate_series(1, 5 + (c.arrival_number * 13) % 26) n;
ALTER TABLE cases_caseevent ENABLE TRIGGER search_case_event_added
"""),
    ("remedies and promises", """
INSERT INTO policies_remedy (case_id, customer_id, kind, parameters, amount, currency, budget, rule_id, rationale,
    rationale_data, proposal_key, status, needs_approval, proposed_at, decided_at, decision_reason, applied_at,
    policy_version_id, payment_reference)
SELECT arrival_number, customer_id, 'discount', '{{"percent": 10}}'::jsonb, 5, 'RON', 'customer_care',
       'late-discount', 'Late delivery: 10 % off the next order.', '{{}}'::jsonb, 'bench-' || arrival_number,
       'applied', false, arrived_at + interval '1 hour', NULL, '', arrived_at + interval '1 hour',
       (SELECT min(id) FROM policies_policyversion), ''
FROM cases_case WHERE arrival_number % 10 = 0;
INSERT INTO cases_promise (case_id, description, made_by_id, made_by_name, made_at, due_at, owner_id, status,
    closed_at, overdue_alerted_at, key)
SELECT arrival_number, 'Call back with the courier''s answer', {agent}, '', arrived_at, arrived_at + interval '2 days',
       {agent}, CASE WHEN status IN ('resolved', 'closed') THEN 'kept' ELSE 'open' END,
       CASE WHEN status IN ('resolved', 'closed') THEN arrived_at + interval '1 day' END, NULL, ''
FROM cases_case WHERE arrival_number % 7 = 0
"""),
    ("search documents", """
ANALYZE cases_case, cases_caseevent, cases_promise;
SELECT count(search_casedocument_refresh(arrival_number)) FROM cases_case
"""),
]


def bench_users():
    from django.contrib.auth.models import Group, User

    users = []
    for name, group in (("bench-agent", "manager"), ("bench-agent2", "agent")):
        user, _ = User.objects.get_or_create(username=name)
        user.set_password("bench-password")
        user.save()
        user.groups.add(Group.objects.get(name=group))
        users.append(user)
    return users


def load(*, cases: int, orders: int, customers: int | None = None, vouchers: int | None = None,
         verbose: bool = True) -> float:
    """Empty and bulk-load the shape; returns the seconds it took (ANALYZE after each step included)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    agent, agent2 = bench_users()
    params = dict(cases=cases, orders=orders, customers=customers or max(orders // 5, 1),
                  vouchers=vouchers or cases * 2, agent=agent.pk, agent2=agent2.pk, open_tenths=OPEN_SHARE_TENTHS)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
            " AND tgname LIKE 'pgtrigger_insert_insert_%%' AND tgrelid::regclass::text = ANY(%s)",
            [list(UNAUDITED_BULK_TABLES)])
        audit_triggers = cursor.fetchall()
        for table, trigger in audit_triggers:
            cursor.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{trigger}"')
        for name, sql in STEPS:
            step = time.perf_counter()
            for statement in sql.format(**params).split(";\n"):
                if statement.strip():
                    cursor.execute(statement)
            cursor.execute("ANALYZE")
            if verbose:
                print(f"  {name}: {time.perf_counter() - step:.1f} s", flush=True)
        for table, trigger in audit_triggers:
            cursor.execute(f'ALTER TABLE {table} ENABLE TRIGGER "{trigger}"')
    elapsed = time.perf_counter() - started
    if verbose:
        print(f"loaded {cases:,} cases ({OPEN_SHARE_TENTHS * 10} % open), {orders:,} orders, "
              f"{params['customers']:,} customers, {params['vouchers']:,} vouchers in {elapsed:.0f} s "
              f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--vouchers", type=int, default=None)
    args = parser.parse_args()
    load(cases=args.cases, orders=args.orders, customers=args.customers, vouchers=args.vouchers)


if __name__ == "__main__":
    main()
