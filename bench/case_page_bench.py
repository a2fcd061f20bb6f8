"""The case page on full cases (issue 15: p50 < 35 ms at 100k, >= 3x django-helpdesk's ticket page).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_bench_100k \\
        .venv/bin/python bench/case_page_bench.py --requests 200 [--compare /path/to/other/checkout]

Read only: it needs bench/shape.py's shape loaded in that database (its users bench-agent, a manager, and
bench-agent2, an agent). It starts gunicorn (2 sync workers, DEBUG off) from this checkout, logs in as the manager
with a real HTTP client (requests, keep-alive), warms up, and asks for the case page of full cases (open, with order
lines, a shipment with tracking events, a voucher, a remedy, an open promise and timeline events:
dashboard_bench.full_case_ids) one request at a time, in rounds. With --compare it starts a second gunicorn from
another checkout (e.g. `git worktree add /tmp/before <rev>` with the same .venv) on the same database and
interleaves the rounds (A, B, A, B ...), so both see the same machine. It prints p50/p95 per server, the queries
one page runs (counted in-process with Django's test client) and the load average.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

from dashboard_bench import free_port, full_case_ids, percentile  # noqa: E402


def start(root: Path):
    import requests

    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "caseapp.wsgi:application", "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"], cwd=root, env=dict(os.environ, DEBUG="false"),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            requests.get(f"{base}/health/", timeout=5)
            break
        except requests.RequestException:
            time.sleep(0.2)
    session = requests.Session()
    session.get(f"{base}/login/")
    response = session.post(f"{base}/login/", data={
        "username": "bench-agent", "password": "bench-password", "csrfmiddlewaretoken": session.cookies["csrftoken"],
    }, headers={"Referer": f"{base}/login/"}, allow_redirects=False)
    assert response.status_code == 302, response.status_code
    return server, base, session


def count_queries(path: str) -> int:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="bench-agent"), backend="django.contrib.auth.backends.ModelBackend")
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="requests per server")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--compare", type=Path, help="another checkout to measure interleaved with this one")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    ids = full_case_ids()
    paths = [f"/cases/{pk}/" for pk in ids]
    roots = {"this checkout": ROOT}
    if args.compare:
        roots["--compare"] = args.compare.resolve()
    servers = {name: start(root) for name, root in roots.items()}
    timings = {name: [] for name in roots}
    loads = []
    try:
        for _, base, session in servers.values():
            for path in paths[:10]:  # warm-up: both workers, the kept forms, the compiled policy
                assert session.get(base + path).status_code == 200
        per_round = max(args.requests // args.rounds, 1)
        for round_number in range(args.rounds):
            for name, (_, base, session) in servers.items():
                for i in range(per_round):
                    url = base + paths[(round_number * per_round + i) % len(paths)]
                    started = time.perf_counter()
                    response = session.get(url)
                    timings[name].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (url, response.status_code)
            loads.append(os.getloadavg()[0])
    finally:
        for server, _, _ in servers.values():
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print(f"case page on {len(ids)} full cases, {args.rounds} interleaved rounds; load average (1 min) per round: "
          f"{' '.join(f'{x:.1f}' for x in loads)}")
    print(f"{'server':16} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for name, values in timings.items():
        queries = count_queries(paths[0]) if name == "this checkout" else "-"
        print(f"{name:16} {statistics.median(values):8.1f} {percentile(values, 0.95):8.1f} {max(values):8.1f} "
              f"{queries:>8}")


if __name__ == "__main__":
    main()
