"""Apology emails per second through the whole process set, and the time from a late tracking event to the email.

The stack test's harness (tests/stack/harness.py): the Procfile's release once, web ×2 (two gunicorn processes,
two workers each), worker ×2 (concurrency 2 each), beat ×1, on a database of its own on DATABASE_URL's server
(dropped at the end) and a redis-server of its own, email to a local SMTP listener.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/stack_throughput.py \
        [--count 200] [--kill-after 60] [--runs 1]

Latency: from the moment the API answered the "delayed" courier event to the moment the listener accepted the
email. The late check runs on the beat's scan (every NOTIFICATIONS_SCAN_SHIPMENTS_SECONDS, 2 s here), so that
interval is part of it. Throughput: emails over the time from the first event sent to the last email accepted.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.stack.harness import Stack, figures, late_shipments_run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--kill-after", type=int, default=None, help="SIGKILL one worker after this many emails")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--logs", type=Path, default=None, help="copy the processes' logs here")
    args = parser.parse_args()
    for n in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="caseapp-stack-") as workdir:
            stack = Stack(Path(workdir))
            began = time.monotonic()
            try:
                stack.start()
                started = time.monotonic()
                run = late_shipments_run(stack, count=args.count, kill_after=args.kill_after)
                result = {"run": n + 1, "load_average": os.getloadavg()[0], "stack_start_seconds":
                          round(started - began, 1), **run.phases, **figures(stack, run)}
                print(json.dumps(result))
            finally:
                stack.stop()
                if args.logs:
                    args.logs.mkdir(parents=True, exist_ok=True)
                    for log in Path(workdir).glob("*.log"):
                        shutil.copy(log, args.logs / f"run{n + 1}-{log.name}")


if __name__ == "__main__":
    main()
