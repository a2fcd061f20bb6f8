"""Authenticated GET /api/v1/cases/ under gunicorn (2 sync workers) on PostgreSQL with 100,000 cases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_h4 \
        .venv/bin/python bench/api_cases_bench.py --load --seconds 20 --clients 8

--load migrates and bulk-loads the data with INSERT ... SELECT generate_series: customers, one order per case, and
the cases (a third of them owned), each with its opening event (it EMPTIES the case, order and customer tables of
that database first: never point it at a database you care about). A manager's API token is created
through apitokens.services; gunicorn serves with the throttle raised out of the way (it would otherwise cap one
token at API_TOKEN_THROTTLE_RATE). N client threads, each with its own keep-alive connection, request the first
page, a page deep in the cursor chain, and a filtered page, for --seconds; requests per second and latencies are
printed with the queries each page runs (counted in-process with Django's test client against the same database).
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

from dashboard_bench import free_port, percentile  # noqa: E402

LOAD_SQL = """
TRUNCATE apitokens_apitoken, policies_remedy, cases_promise, cases_caseevent, cases_case, orders_shipmentevent,
    orders_shipment, orders_orderline, orders_order, vouchers_voucherredemption, vouchers_voucherextension,
    vouchers_voucher, customers_customer RESTART IDENTITY CASCADE;
INSERT INTO customers_customer (name, email, phone, preferred_language, country, time_zone, customer_since, created_at)
SELECT 'Customer ' || g, 'customer' || g || '@bench.example', '', 'ro', 'RO', 'Europe/Bucharest',
       DATE '2020-01-01' + (g % 2000), now()
FROM generate_series(1, {customers}) g;
INSERT INTO orders_order (number, customer_id, placed_at, currency, shipping_amount, total, payment_method,
    cod_quoted_amount, promised_delivery_date, is_date_critical, occasion, is_non_refundable, is_special_order,
    sold_by, status)
SELECT 'B-' || g, 1 + (g * 7919 % {customers}), now() - make_interval(days => g % 900), 'RON', 15,
       (10 + g % 500)::numeric(12,2), 'card', NULL, NULL, false, '', false, false, '', 'delivered'
FROM generate_series(1, {cases}) g;
INSERT INTO cases_case (customer_id, order_id, shipment_id, voucher_id, category, channel, status, subject,
    description, owner_id, arrived_at, first_response_due_at, resolution_due_at, first_responded_at, resolved_at,
    updated_at)
SELECT 1 + (g * 7919 % {customers}), g, NULL, NULL,
       (ARRAY['late_delivery','lost_parcel','wrong_item','voucher_expired','other'])[1 + g % 5],
       (ARRAY['email','phone','web','counter'])[1 + g % 4],
       (ARRAY['new','open','waiting_on_shop','resolved','closed'])[1 + g % 5], 'Bench case ' || g, '',
       CASE WHEN g % 3 = 0 THEN {manager} END, a.arrived, a.arrived + interval '8 hours',
       a.arrived + interval '72 hours', NULL, NULL, now()
FROM generate_series(1, {cases}) g, LATERAL (SELECT now() - make_interval(mins => ({cases} - g) * 5) AS arrived) a;
INSERT INTO cases_caseevent (case_id, kind, actor_id, occurred_at, text, data)
SELECT arrival_number, 'created', NULL, arrived_at, subject, '{{}}'::jsonb FROM cases_case;
ANALYZE
"""


def load(customers: int, cases: int) -> None:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    manager, _ = User.objects.get_or_create(username="bench-agent")
    manager.groups.add(Group.objects.get(name="manager"))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in LOAD_SQL.format(customers=customers, cases=cases, manager=manager.pk).split(";\n"):
            if statement.strip():
                cursor.execute(statement)
    print(f"loaded {customers:,} customers, {cases:,} orders and {cases:,} cases in "
          f"{time.perf_counter() - started:.0f} s")


def token_secret() -> str:
    import django

    django.setup()
    from django.contrib.auth.models import User

    from apitokens.services import api_token_create

    manager = User.objects.get(username="bench-agent")  # a manager (dashboard_bench's loader)
    _token, secret = api_token_create(user=manager, name="api bench", by=manager)
    return secret


def deep_cursor(secret: str, hops: int) -> str:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = "/api/v1/cases/?page_size=50"
    for _ in range(hops):
        url = client.get(url).json()["next"].split("testserver", 1)[1]
    return url


def count_queries(secret: str, paths: dict) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    counts = {}
    for name, path in paths.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[name] = (len(queries), any("COUNT(" in q["sql"].upper() for q in queries.captured_queries))
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    if args.load:
        load(args.customers, args.cases)
    secret = token_secret()
    paths = {
        "first page (50 cases)": "/api/v1/cases/?page_size=50",
        "page 200 by cursor": deep_cursor(secret, 200),
        "open and unowned": "/api/v1/cases/?status=open&owner=none",
    }
    counts = count_queries(secret, paths)

    import requests

    port = free_port()
    env = dict(os.environ, DEBUG="false", API_TOKEN_THROTTLE_RATE="1000000/minute")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "caseapp.wsgi:application", "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    timings = {name: [] for name in paths}
    errors = []
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/health/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        names = list(paths)

        def client(index):
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {secret}"
            for name in names:  # warm-up
                session.get(base + paths[name])
            deadline = time.perf_counter() + args.seconds
            turn = index
            while time.perf_counter() < deadline:
                name = names[turn % len(names)]
                turn += 1
                started = time.perf_counter()
                response = session.get(base + paths[name])
                timings[name].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors.append(response.status_code)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    total = sum(len(t) for t in timings.values())
    print(f"{total:,} requests in {elapsed:.1f} s with {args.clients} clients: {total / elapsed:,.0f} requests/s, "
          f"{len(errors)} not 200")
    print(f"{'page':26} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'COUNT(*)':>9}")
    for name, values in timings.items():
        queries, counted = counts[name]
        print(f"{name:26} {statistics.median(values):8.1f} {percentile(values, 0.95):8.1f} {queries:8d} "
              f"{'yes' if counted else 'no':>9}")


if __name__ == "__main__":
    main()
