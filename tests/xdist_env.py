"""Loaded first (`-p tests.xdist_env` in pytest's addopts), before Django reads its settings.

Under pytest-xdist each worker process gets what the tests must not share with another worker: its own Redis
database (the broker that real Celery workers in the tests consume from: two pytest workers on one database
would steal each other's tasks) and its own var folder (the filesystem broker, written mail, screenshots).
pytest-django already gives each worker its own test database (test_<name>_gw<N>). The changes are written to
os.environ so that processes the tests start (Celery workers, `manage.py` runs) inherit the same values, and
marked done so those processes, which may run pytest-xdist's variables too, do not shift them twice."""

import os
import re

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and not os.environ.get("CASEAPP_XDIST_ENV_APPLIED"):
    number = int(_worker[2:])
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        match = re.fullmatch(r"(redis://[^/]+)(?:/(\d+))?", redis_url)
        if not match:
            raise RuntimeError(f"REDIS_URL {redis_url!r}: expected redis://host:port/db for pytest-xdist workers")
        db = int(match.group(2) or 0) + 1 + number
        if db > 15:
            raise RuntimeError(f"pytest-xdist worker {_worker} would use Redis db {db}: lower REDIS_URL's db or -n")
        os.environ["REDIS_URL"] = f"{match.group(1)}/{db}"
    var_dir = os.environ.get("CASEAPP_VAR_DIR") or os.path.join(os.path.dirname(os.path.dirname(__file__)), "var")
    os.environ["CASEAPP_VAR_DIR"] = os.path.join(var_dir, _worker)
    os.environ["CASEAPP_XDIST_ENV_APPLIED"] = "1"
