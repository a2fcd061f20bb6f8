"""Per-request overhead of the dashboard: one signed-in request through the WSGI handler as gunicorn calls it
(caseapp.wsgi.application with a real environ and the session cookie), in process, no network.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_bench_100k \
        .venv/bin/python bench/web_overhead_bench.py [--requests 50] [--profile queue] [--path /]

Prints, per page: the queries one request runs, and CPU time per request (time.process_time, median of
--requests), with the load average. --profile NAME prints the cProfile of that page's requests (top 40 by
cumulative time). It reads the database only, apart from the one session row it logs the bench manager into.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")
os.environ.setdefault("DEBUG", "false")

PAGES = {
    "queue": "/",
    "queue page 40": "/?page=40",
    "queue resolved": "/?status=resolved",
    "health": "/health/",
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--profile", default="", help="a page name: print its cProfile")
    parser.add_argument("--path", default="", help="measure this path only")
    args = parser.parse_args()

    from importlib import import_module

    wsgi = import_module("caseapp.wsgi")  # first: Django set up as gunicorn does (and keeps connections as it does)

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.db import connection

    user = User.objects.get(username="bench-agent")
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={store.session_key}"

    def request(path):
        path_info, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path_info, "QUERY_STRING": query, "SERVER_NAME": "localhost",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost", "HTTP_COOKIE": cookie,
            "HTTP_ACCEPT": "text/html", "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http", "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }
        status = []
        body = wsgi.application(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
        assert status[0].startswith("200"), (path, status[0])

    pages = {"path": args.path} if args.path else PAGES
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'page':16} {'queries':>8} {'cpu ms p50':>11} {'cpu ms min':>11}")
    for name, path in pages.items():
        for _ in range(3):
            request(path)
        queries = []

        def logged(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(logged):
            request(path)
        profiler = cProfile.Profile() if args.profile == name else None
        spent = []
        for _ in range(args.requests):
            if profiler:
                profiler.enable()
            started = time.process_time()
            request(path)
            spent.append((time.process_time() - started) * 1000)
            if profiler:
                profiler.disable()
        print(f"{name:16} {len(queries):8d} {statistics.median(spent):11.1f} {min(spent):11.1f}")
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(int(os.environ.get("TOP", "40")))
        if os.environ.get("SHOW_QUERIES"):
            for sql in queries:
                print("   ", sql[:160])


if __name__ == "__main__":
    main()
