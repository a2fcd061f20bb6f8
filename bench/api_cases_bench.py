"""Authenticated GET /api/v1/cases/ under gunicorn (2 sync workers), on the bench shape (bench/shape.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_bench_100k \
        .venv/bin/python bench/api_cases_bench.py --seconds 15 --clients 8

It loads nothing: point it at a database loaded by bench/shape.py (its manager "bench-agent" holds the token). The
only rows it writes are its own API token (made through apitokens.services, deleted at the end) and that token's
last_used_at. gunicorn serves with the throttle raised out of the way (it would otherwise cap one token at
API_TOKEN_THROTTLE_RATE) and, unless --conn-max-age 0, with persistent database connections (conn_max_age in
DATABASE_URL, as a deployment sets it): without them every request opens a PostgreSQL connection.

N client threads (http.client, light on the shared CPU) request in turn the first page, page 200 reached by
following the cursor, and ?status=open&owner=none (50 cases each) for --seconds. Printed: requests per second,
p50/p95 per page, the queries each page runs (counted in-process with Django's test client against the same
database) and whether any counts the table, the CPU seconds of the gunicorn workers and of the client, and the load
average before and after.
"""

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

from dashboard_bench import free_port, percentile  # noqa: E402

BENCH_MANAGER = "bench-agent"  # bench/shape.py's manager


def token_create():
    import django

    django.setup()
    from django.contrib.auth.models import User

    from apitokens.services import api_token_create

    manager = User.objects.get(username=BENCH_MANAGER)
    return api_token_create(user=manager, name="api bench", by=manager)


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
        client.get(path)  # warm
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert len(response.json()["results"]) == 50, path
        counts[name] = (len(queries), any("COUNT(" in q["sql"].upper() for q in queries.captured_queries))
    return counts


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children (gunicorn's workers: read before they exit)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def with_conn_max_age(url: str, seconds: int) -> str:
    if not seconds or "conn_max_age" in url:
        return url
    return f"{url}{'&' if urlsplit(url).query else '?'}conn_max_age={seconds}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--conn-max-age", type=int, default=60,
                        help="seconds gunicorn's workers keep their database connection (0: one per request)")
    args = parser.parse_args()

    token, secret = token_create()
    try:
        run(args, secret)
    finally:
        from apitokens.models import ApiToken

        ApiToken.objects.filter(pk=token.pk).delete()


def run(args, secret: str) -> None:
    paths = {
        "first page": "/api/v1/cases/?page_size=50",
        "page 200 by cursor": deep_cursor(secret, 199),
        "open and unowned": "/api/v1/cases/?status=open&owner=none&page_size=50",
    }
    counts = count_queries(secret, paths)

    port = free_port()
    env = dict(os.environ, DEBUG="false", API_TOKEN_THROTTLE_RATE="1000000/minute",
               DATABASE_URL=with_conn_max_age(os.environ["DATABASE_URL"], args.conn_max_age))
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "caseapp.wsgi:application", "--workers", str(args.workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True,
    )
    timings = {name: [] for name in paths}
    errors = []
    names = list(paths)
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        for _ in range(150):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/health/")
                connection.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)

        def get(connection, path):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status

        def client(index, deadline):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            turn = index
            while time.perf_counter() < deadline:
                name = names[turn % len(names)]
                turn += 1
                started = time.perf_counter()
                status = get(connection, paths[name])
                timings[name].append((time.perf_counter() - started) * 1000)
                if status != 200:
                    errors.append(status)

        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(4 * args.workers):  # every worker imports, connects and warms its caches
            for name in names:
                assert get(warm, paths[name]) == 200, name
        workers = worker_pids(server.pid)
        load_before = loadavg()
        server_cpu = sum(cpu_seconds(pid) for pid in workers)
        client_cpu = time.process_time()
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i, started + args.seconds)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = sum(cpu_seconds(pid) for pid in workers) - server_cpu
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    total = sum(len(t) for t in timings.values())
    print(f"{total:,} requests in {elapsed:.1f} s with {args.clients} clients on {args.workers} gunicorn workers "
          f"(conn_max_age {args.conn_max_age}): {total / elapsed:,.0f} requests/s, {len(errors)} not 200")
    print(f"CPU per request: gunicorn workers {server_cpu / total * 1000:.2f} ms, client {client_cpu / total * 1000:.2f}"
          f" ms; load average {load_before} before, {loadavg()} after")
    print(f"{'page (50 cases)':22} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'COUNT(*)':>9}")
    for name, values in timings.items():
        queries, counted = counts[name]
        print(f"{name:22} {statistics.median(values):8.1f} {percentile(values, 0.95):8.1f} {queries:8d} "
              f"{'yes' if counted else 'no':>9}")


if __name__ == "__main__":
    main()
