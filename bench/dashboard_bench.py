"""Dashboard pages under load: the queue and the case page, on the realistic shape (bench/shape.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_bench_100k \
        .venv/bin/python bench/dashboard_bench.py --requests 200
    DATABASE_URL=... .venv/bin/python bench/dashboard_bench.py --clients 8 --seconds 15      # throughput

The database must hold the shape already (bench/shape.py loads it and creates the bench-agent login); the bench
only reads it, apart from the logins' sessions. --load loads the shape first (it EMPTIES that database's case,
order, voucher and customer tables: never point it at a database you care about); --old-load the earlier shape
(2 % open, empty cases). Then it starts gunicorn (2 sync workers), logs in as the bench manager with a real HTTP
client (requests), and:

- without --clients: one client, --requests requests a page kind after 5 warm-ups; p50/p95/max as the client sees
  them, with the queries each page runs and its CPU time in process (Django's test client against the same
  database, median of 10);
- with --clients N: N client threads, each with its own logged-in session (requests.Session: keep-alive on the
  client side; gunicorn's sync workers close after each response), each page kind for --seconds in turn;
  requests per second and p50/p95 per page kind.

--pages queue (the queue's kinds only), case (the case page only) or all (default).
"""

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

LOAD_SQL = """
TRUNCATE policies_remedy, cases_promise, cases_caseevent, cases_case, orders_shipmentevent, orders_shipment,
    orders_orderline, orders_order, vouchers_voucherredemption, vouchers_voucherextension, vouchers_voucher,
    customers_customer RESTART IDENTITY CASCADE;

INSERT INTO customers_customer (name, email, phone, preferred_language, country, time_zone, customer_since, created_at)
SELECT 'Customer ' || g, 'customer' || g || '@bench.example', '', (ARRAY['en','ro','ru','it'])[1 + g % 4], 'RO',
       'Europe/Bucharest', DATE '2020-01-01' + (g % 2000), now()
FROM generate_series(1, %(customers)s) g;

INSERT INTO orders_order (number, customer_id, placed_at, currency, shipping_amount, total, payment_method,
    cod_quoted_amount, promised_delivery_date, is_date_critical, occasion, is_non_refundable, is_special_order,
    sold_by, status)
SELECT 'B-' || g, 1 + (g %% %(customers)s), now() - make_interval(days => (g %% 900)), 'RON', 15,
       (10 + (g %% 500))::numeric(12,2), 'card', NULL, (now() + make_interval(days => 3 - (g %% 900)))::date,
       g %% 97 = 0, '', false, false, '', (ARRAY['placed','paid','shipped','delivered'])[1 + g %% 4]
FROM generate_series(1, %(orders)s) g;

INSERT INTO cases_case (customer_id, order_id, shipment_id, voucher_id, category, channel, status, subject,
    description, owner_id, arrived_at, first_response_due_at, resolution_due_at, first_responded_at, resolved_at,
    updated_at)
SELECT c.customer_id, (SELECT min(o.id) FROM orders_order o WHERE o.customer_id = c.customer_id), NULL, NULL,
       (ARRAY['late_delivery','lost_parcel','wrong_item','voucher_expired','other'])[1 + c.g %% 5],
       (ARRAY['email','phone','web','counter'])[1 + c.g %% 4],
       CASE WHEN c.g %% 50 = 0 THEN (ARRAY['new','open','waiting_on_shop','waiting_on_customer'])[1 + (c.g / 50) %% 4]
            ELSE (ARRAY['resolved','closed'])[1 + c.g %% 2] END,
       'Bench case ' || c.g, 'Generated for the dashboard benchmark.',
       CASE WHEN c.g %% 3 = 0 THEN %(agent)s ELSE NULL END,
       c.arrived, c.arrived + interval '8 hours', c.arrived + interval '72 hours',
       CASE WHEN (c.g / 50) %% 2 = 0 THEN c.arrived + interval '1 hour' END,
       CASE WHEN c.g %% 50 <> 0 THEN c.arrived + interval '2 days' END, now()
FROM (
    SELECT g, 1 + (g * 7919 %% %(customers)s) AS customer_id,
           now() - make_interval(mins => (%(cases)s - g) * 5) AS arrived
    FROM generate_series(1, %(cases)s) g
) c;

INSERT INTO cases_caseevent (case_id, kind, actor_id, occurred_at, text, data)
SELECT arrival_number, 'created', NULL, arrived_at, subject, '{}'::jsonb FROM cases_case;
INSERT INTO cases_caseevent (case_id, kind, actor_id, occurred_at, text, data)
SELECT arrival_number, 'note', %(agent)s, arrived_at + interval '30 minutes', 'Looked into it.', '{}'::jsonb
FROM cases_case WHERE arrival_number %% 2 = 0;
INSERT INTO cases_promise (case_id, description, made_by_id, made_by_name, made_at, due_at, owner_id, status,
    closed_at, overdue_alerted_at)
SELECT arrival_number, 'Call back', %(agent)s, '', arrived_at, arrived_at + interval '2 days', %(agent)s,
       CASE WHEN status IN ('resolved','closed') THEN 'kept' ELSE 'open' END, NULL, NULL
FROM cases_case WHERE arrival_number %% 7 = 0;
ANALYZE;
"""


def load(customers: int, orders: int, cases: int) -> None:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    agent, _ = User.objects.get_or_create(username="bench-agent")
    agent.set_password("bench-password")
    agent.save()
    agent.groups.add(Group.objects.get(name="manager"))
    started = time.perf_counter()
    sql = LOAD_SQL.replace("%(customers)s", str(customers)).replace("%(orders)s", str(orders))
    sql = sql.replace("%(cases)s", str(cases)).replace("%(agent)s", str(agent.pk)).replace("%%", "%")
    with connection.cursor() as cursor:
        for statement in sql.split(";\n"):
            if statement.strip():
                cursor.execute(statement)
    print(f"loaded {customers:,} customers, {orders:,} orders, {cases:,} cases in "
          f"{time.perf_counter() - started:.0f} s")


FULL_CASES_SQL = """
SELECT c.arrival_number FROM cases_case c
WHERE c.status IN ('new', 'open', 'waiting_on_shop', 'waiting_on_customer')
  AND EXISTS (SELECT 1 FROM orders_orderline l WHERE l.order_id = c.order_id)
  AND EXISTS (SELECT 1 FROM orders_shipment s JOIN orders_shipmentevent e ON e.shipment_id = s.id
              WHERE s.order_id = c.order_id)
  AND (c.voucher_id IS NOT NULL OR EXISTS (SELECT 1 FROM vouchers_voucher v WHERE v.holder_id = c.customer_id))
  AND EXISTS (SELECT 1 FROM policies_remedy r WHERE r.case_id = c.arrival_number)
  AND EXISTS (SELECT 1 FROM cases_promise p WHERE p.case_id = c.arrival_number AND p.status = 'open')
  AND (SELECT count(*) FROM cases_caseevent e WHERE e.case_id = c.arrival_number) >= 5
ORDER BY c.arrival_number LIMIT %s
"""


def full_case_ids(limit: int = 50) -> list[int]:
    """Open cases with everything the case page shows (issue 15's "full case"): order lines, a shipment with
    tracking events, a voucher (the case's or the customer's), a remedy, an open promise, timeline events (the shape gives a case with a remedy 5)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(FULL_CASES_SQL, [limit])
        ids = [row[0] for row in cursor.fetchall()]
    assert ids, "no full case in this database: load bench/shape.py's shape first"
    return ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def count_queries(paths):
    """Queries and CPU time (median of 10, time.process_time) of each page, in process with Django's test client."""
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="bench-agent"), backend="django.contrib.auth.backends.ModelBackend")
    counts, cpu = {}, {}
    for name, path in paths:
        client.get(path)  # warm (and, for the queue, the counts snapshot taken)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[name] = len(queries)
        spent = []
        for _ in range(10):
            started = time.process_time()
            client.get(path)
            spent.append((time.process_time() - started) * 1000)
        cpu[name] = statistics.median(spent)
    return counts, cpu


def login(base):
    import requests

    session = requests.Session()
    login_page = session.get(f"{base}/login/")
    response = session.post(f"{base}/login/", data={
        "username": "bench-agent", "password": "bench-password",
        "csrfmiddlewaretoken": session.cookies["csrftoken"],
    }, headers={"Referer": f"{base}/login/"}, allow_redirects=False)
    assert response.status_code == 302, (login_page.status_code, response.status_code)
    return session


# The queue's page kinds: the default filter, the costliest flag, a deep page, two filters together, a category,
# and a list of resolved cases (counted by its own COUNT, not by the grouped counts).
QUEUE_PAGES = {
    "queue (default: all open)": "/",
    "queue (quiet cases)": "/?quiet=on",
    "queue (page 40)": "/?page=40",
    "queue (overdue, unowned)": "/?overdue=on&owner=unowned",
    "queue (category lost parcel)": "/?category=lost_parcel",
    "queue (resolved)": "/?status=resolved",
}


def _client_loop(session, base, path, deadline, timings, errors, lock):
    mine = []
    while time.perf_counter() < deadline:
        url = base + path()
        started = time.perf_counter()
        response = session.get(url)
        mine.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            errors.append((url, response.status_code))
    with lock:
        timings.extend(mine)


def throughput(base, pages, *, clients: int, seconds: float):
    """N threads, each with its own logged-in session, requesting one page kind for `seconds`; per kind."""
    import threading

    sessions = [login(base) for _ in range(clients)]
    results = {}
    for name, path in pages.items():
        for session in sessions:  # warm-up
            session.get(base + path())
        timings, errors = [], []
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        threads = [threading.Thread(target=_client_loop, args=(session, base, path, deadline, timings, errors, lock))
                   for session in sessions]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        assert not errors, errors[:3]
        results[name] = (len(timings) / elapsed, timings, os.getloadavg()[0])
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", action="store_true", help="load bench/shape.py's realistic shape first")
    parser.add_argument("--old-load", action="store_true", help="the earlier shape (2 %% open, empty cases)")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page kind (one client)")
    parser.add_argument("--clients", type=int, default=0, help="throughput mode: this many client threads")
    parser.add_argument("--seconds", type=float, default=15, help="throughput mode: seconds per page kind")
    parser.add_argument("--pages", choices=("all", "queue", "case"), default="all")
    args = parser.parse_args()
    if args.load:
        from shape import load as load_shape  # the realistic shape shared by every figure (bench/shape.py)

        load_shape(cases=args.cases, orders=args.orders)
    elif args.old_load:
        load(args.customers, args.orders, args.cases)

    import requests

    port = free_port()
    env = dict(os.environ, DEBUG="false")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "caseapp.wsgi:application", "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/health/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)

        import django

        django.setup()
        full_ids = full_case_ids()  # the case page on full cases (orders, tracking, vouchers, remedies, promises)
        rng = random.Random(7)
        pages = {}
        if args.pages in ("all", "queue"):
            pages.update({name: (lambda path=path: path) for name, path in QUEUE_PAGES.items()})
        if args.pages in ("all", "case"):
            pages["case page (full case)"] = lambda: f"/cases/{rng.choice(full_ids)}/"
        from cases.models import OPEN_STATUSES, Case

        print(f"{Case.objects.count():,} cases, {Case.objects.filter(status__in=OPEN_STATUSES).count():,} open")
        if args.clients:
            figures = throughput(base, pages, clients=args.clients, seconds=args.seconds)
        else:
            session = login(base)
            results = {}
            for name, path in pages.items():
                for _ in range(5):  # warm-up
                    session.get(base + path())
                timings = []
                for _ in range(args.requests):
                    url = base + path()
                    started = time.perf_counter()
                    response = session.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (url, response.status_code)
                results[name] = timings
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    if args.clients:
        print(f"{args.clients} clients, {args.seconds:g} s a page kind, gunicorn 2 sync workers")
        print(f"{'page':32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'requests':>9} {'load':>6}")
        for name, (rate, timings, loadavg) in figures.items():
            print(f"{name:32} {rate:8.1f} {statistics.median(timings):8.1f} {percentile(timings, 0.95):8.1f} "
                  f"{len(timings):9d} {loadavg:6.1f}")
        return
    counts, cpu = count_queries([(name, path()) for name, path in pages.items()])
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'cpu ms':>8}")
    for name, timings in results.items():
        print(f"{name:32} {statistics.median(timings):8.1f} {percentile(timings, 0.95):8.1f} "
              f"{max(timings):8.1f} {counts[name]:8d} {cpu[name]:8.1f}")


if __name__ == "__main__":
    main()
