"""Replay of a policy version over 100,000 past cases on PostgreSQL.

Two ways to get the cases, both inside one transaction that is rolled back at the end (the database is left as it
was, so the shared shape database may be used):

- by default, loads customers, orders, shipments, vouchers and cases with SQL bulk inserts (INSERT … SELECT
  generate_series) into the database given:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_<yours> .venv/bin/python bench/policy_replay.py [--cases 100000]

- ``--shape``: replays the cases already in a database loaded by bench/shape.py (the realistic shape: 30 % open,
  1,000,000 orders with lines, shipments with tracking events, remedies on 10 % of cases), over the whole span of
  their arrival dates:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_bench_100k .venv/bin/python bench/policy_replay.py --shape

Prints wall and CPU time (time.process_time) of the facts alone and of the replay, the queries of the replay, the
load average and the process's max RSS (resource.getrusage). ``--repeat N`` runs the replay N times; ``--profile``
prints the top of a cProfile of one more replay.
"""

import argparse
import cProfile
import os
import pstats
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from policies.engine import default_policy_document  # noqa: E402
from policies.replay import cases_facts_between  # noqa: E402
from policies.services import policy_default_ensure, policy_replay, policy_version_create  # noqa: E402

LOAD_SQL = """
-- ids far above anything real; the whole load is rolled back at the end
INSERT INTO vouchers_validityrule (id, code, name, validity_months, effective_from)
VALUES (%(base)s, 'bench-six-months', 'bench 6 months', 6, '2000-01-01');
INSERT INTO orders_courier (id, name, claims_email, claims_phone)
SELECT %(base)s + g, 'BenchCourier' || g, '', '' FROM generate_series(1, 3) g;
INSERT INTO customers_customer (id, name, email, phone, preferred_language, country, time_zone, customer_since,
                                created_at)
SELECT %(base)s + g, 'Bench customer ' || g, 'bench' || g || '@bench.example', '', 'en', 'RO', 'UTC',
       date '2018-01-01' + (g * 7919 %% 2900), now()
FROM generate_series(1, %(customers)s) g;
-- one order per case ...
INSERT INTO orders_order (id, number, placed_at, currency, shipping_amount, total, payment_method, cod_quoted_amount,
                          promised_delivery_date, is_date_critical, occasion, is_non_refundable, is_special_order,
                          sold_by, status, customer_id)
SELECT %(base)s + g, 'BENCH-' || g, p.placed_at, (ARRAY['EUR','RON','RUB','USD'])[g %% 4 + 1], 0, p.total,
       CASE WHEN g %% 5 = 0 THEN 'cod' ELSE 'card' END, CASE WHEN g %% 5 = 0 THEN p.total END,
       p.placed_at::date + 5, g %% 20 = 0, '', false, false, '', 'shipped', %(base)s + 1 + g %% %(customers)s
FROM generate_series(1, %(cases)s) g,
     LATERAL (SELECT timestamptz '2026-01-01 09:00+00' + (g %% 300) * interval '1 day' + (g %% 480) * interval '1 minute'
                     AS placed_at,
                     (20 + (g * 37 %% 2000))::numeric + 0.90 AS total) p;
-- ... and as much order history before 2026
INSERT INTO orders_order (id, number, placed_at, currency, shipping_amount, total, payment_method, cod_quoted_amount,
                          promised_delivery_date, is_date_critical, occasion, is_non_refundable, is_special_order,
                          sold_by, status, customer_id)
SELECT %(base)s + %(cases)s + g, 'BENCH-H' || g, timestamptz '2020-01-01 10:00+00' + (g %% 2100) * interval '1 day',
       (ARRAY['EUR','RON','RUB','USD'])[g %% 4 + 1], 0, (10 + g %% 500)::numeric, 'card', NULL, NULL, false, '',
       false, false, '', 'delivered', %(base)s + 1 + g %% %(customers)s
FROM generate_series(1, %(cases)s) g;
INSERT INTO orders_shipment (id, tracking_number, handed_over_at, estimated_delivery, delivered_at, status, cod_amount,
                             is_replacement, created_at, courier_id, order_id)
SELECT %(base)s + g, 'BENCH' || g, o.placed_at + interval '1 day', o.promised_delivery_date + (g %% 7 - 2),
       CASE WHEN s.status = 'delivered' THEN o.placed_at + (2 + g %% 8) * interval '1 day' END, s.status,
       CASE WHEN o.payment_method = 'cod' THEN o.cod_quoted_amount + CASE WHEN g %% 15 = 0 THEN 20 ELSE 0 END END,
       false, o.placed_at, %(base)s + 1 + g %% 3, o.id
FROM generate_series(1, %(cases)s) g
JOIN orders_order o ON o.id = %(base)s + g,
     LATERAL (SELECT (ARRAY['lost','delayed','delayed','not_collected','delivered','delivered','in_transit',
                            'delivered','in_transit','delivered'])[g %% 10 + 1] AS status) s;
INSERT INTO vouchers_voucher (id, code, value, balance, currency, issued_at, valid_until, status, created_at,
                              holder_id, purchaser_id, validity_rule_id)
SELECT %(base)s + g, 'BENCHV' || g, 100, 100, o.currency, o.placed_at - interval '200 days',
       (o.placed_at + interval '7 days')::date - (g %% 40), 'expired', now(), o.customer_id, NULL, %(base)s
FROM generate_series(1, %(cases)s) g JOIN orders_order o ON o.id = %(base)s + g
WHERE g %% 10 = 7;
INSERT INTO cases_case (arrival_number, category, channel, status, subject, description, arrived_at,
                        first_response_due_at, resolution_due_at, first_responded_at, resolved_at, updated_at,
                        customer_id, order_id, owner_id, shipment_id, voucher_id)
SELECT %(base)s + g,
       (ARRAY['lost_parcel','late_delivery','late_delivery','not_collected','wrong_item','incomplete_order',
              'cod_mismatch','voucher_expired','broken_promise','other'])[g %% 10 + 1],
       'email', 'resolved', 'bench case ' || g, '', o.placed_at + interval '7 days',
       o.placed_at + interval '7 days 8 hours', o.placed_at + interval '10 days', NULL, NULL, now(),
       o.customer_id, o.id, NULL, CASE WHEN g %% 2 = 0 THEN %(base)s + g END,
       CASE WHEN g %% 10 = 7 THEN %(base)s + g END
FROM generate_series(1, %(cases)s) g JOIN orders_order o ON o.id = %(base)s + g;
ANALYZE customers_customer; ANALYZE orders_order; ANALYZE orders_shipment; ANALYZE vouchers_voucher;
ANALYZE cases_case;
"""


class Rollback(Exception):
    pass


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def load_average() -> str:
    with open("/proc/loadavg") as file:
        return " ".join(file.read().split()[:3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--shape", action="store_true",
                        help="replay the cases already in the database (bench/shape.py) instead of loading some")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one more replay")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run this against PostgreSQL (set DATABASE_URL)"
    print(f"load average before: {load_average()}; max RSS {max_rss_mib():.0f} MiB")
    try:
        with transaction.atomic():
            policy_default_ensure()
            if args.shape:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*), min(arrived_at), max(arrived_at) FROM cases_case")
                    count, first, last = cursor.fetchone()
                span = (timezone.localdate(first), timezone.localdate(last))
                print(f"shape database: {count:,} cases arrived {span[0]} to {span[1]}")
            else:
                start = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(LOAD_SQL, {"base": 10**12, "cases": args.cases, "customers": args.customers})
                load = time.perf_counter() - start
                span = (date(2026, 1, 1), date(2026, 12, 31))
                print(f"loaded {args.cases:,} cases ({args.cases * 2:,} orders, {args.cases:,} shipments, "
                      f"{args.customers:,} customers) with SQL in {load:.1f} s")
            document = default_policy_document()
            rule = next(r for r in document["rules"] if r["id"] == "late-delivery-discount")
            rule["remedy"]["parameters"]["amount"]["percent"] = "10"
            candidate = policy_version_create(document=document, note="bench: 10% late discount")

            start, cpu = time.perf_counter(), time.process_time()
            facts = sum(1 for _ in cases_facts_between(date_from=span[0], date_to=span[1]))
            print(f"facts only: {facts:,} cases in {time.perf_counter() - start:.2f} s "
                  f"(CPU {time.process_time() - cpu:.2f} s); max RSS {max_rss_mib():.0f} MiB")

            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as queries:
                    start, cpu = time.perf_counter(), time.process_time()
                    report = policy_replay(version=candidate, date_from=span[0], date_to=span[1])
                    replay_time, replay_cpu = time.perf_counter() - start, time.process_time() - cpu
                print(f"policy_replay v{report.version} vs active v{report.compared_with}: {report.cases:,} cases in "
                      f"{replay_time:.2f} s, CPU {replay_cpu:.2f} s ({report.cases / replay_time:,.0f} cases/s, "
                      f"two evaluations each), {len(queries)} queries; "
                      f"{sum(report.remedies_by_kind.values()):,} remedies, {report.differing_cases:,} cases differ; "
                      f"load average {load_average()}; max RSS {max_rss_mib():.0f} MiB")
            print(f"  remedies by kind: {report.remedies_by_kind}")
            print(f"  cost per currency: { {k: str(v) for k, v in report.cost_by_currency.items()} }")
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(policy_replay, version=candidate, date_from=span[0], date_to=span[1])
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            raise Rollback
    except Rollback:
        print("rolled back: nothing left in the database")


if __name__ == "__main__":
    main()
