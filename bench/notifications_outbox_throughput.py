"""Messages per second through the outbox to a local SMTP listener (aiosmtpd, in this process).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_notify REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/notifications_outbox_throughput.py --messages 1000 --concurrency 2

1. in-process: message_send() called for each row in turn (claim, render, SMTP, mark sent): one sender.
2. worker: `celery -A caseapp worker -c N` started here; one send_message_task per row is published (as the
   on-commit hand-over does) and the clock stops when every row is sent.
Rows are voucher reminders rendered in the four languages; each send opens its own SMTP connection.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from notifications import catalogue  # noqa: E402
from notifications.models import Message, MessageStatus  # noqa: E402
from notifications.services import message_send  # noqa: E402
from notifications.tasks import send_message_task  # noqa: E402


class CountingHandler:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rows(prefix: str, count: int) -> list[int]:
    Message.objects.filter(idempotency_key__startswith="bench:").delete()
    languages = ["en", "ro", "ru", "it"]
    Message.objects.bulk_create(
        Message(idempotency_key=f"bench:{prefix}:{n}", recipient=f"bench{n}@bench.example",
                template=catalogue.VOUCHER_REMINDER, language=languages[n % 4], time_zone="Europe/Bucharest",
                context={"customer_name": f"Customer {n}", "voucher_code": f"GIFT-{n}", "balance": "80.00",
                         "currency": "EUR", "expiry_date": "2027-03-14", "where_to_use": ""})
        for n in range(count)
    )
    return list(Message.objects.filter(idempotency_key__startswith=f"bench:{prefix}:").values_list("pk", flat=True))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--conn-max-age", type=int, default=0,
                        help="the worker's DATABASE_URL ?conn_max_age= (0: a new connection per task, the default)")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run this on PostgreSQL (set DATABASE_URL)"
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        # 1. in-process
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        ids = rows("inproc", args.messages)
        started = time.perf_counter()
        for message_id in ids:
            message_send(message_id=message_id)
        elapsed = time.perf_counter() - started
        assert Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).count() == len(ids)
        print(f"in-process, one sender: {len(ids)} messages in {elapsed:.2f} s = {len(ids) / elapsed:.0f} msg/s")

        # 2. real worker
        ids = rows("worker", args.messages)
        database_url = os.environ["DATABASE_URL"]
        if args.conn_max_age:
            database_url += ("&" if "?" in database_url else "?") + f"conn_max_age={args.conn_max_age}"
        env = {**os.environ, "DATABASE_URL": database_url, "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
               "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(controller.port), "LOG_LEVEL": "WARNING"}
        with tempfile.TemporaryDirectory() as workdir:
            log = open(Path(workdir) / "worker.log", "wb")  # noqa: SIM115
            worker = subprocess.Popen(
                [str(Path(sys.executable).with_name("celery")), "-A", "caseapp", "worker", "-l", "INFO",
                 "-c", str(args.concurrency), "-n", "bench@%h", "--without-gossip", "--without-mingle",
                 "--without-heartbeat"], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
            try:
                deadline = time.monotonic() + 90
                while b" ready." not in (Path(workdir) / "worker.log").read_bytes():
                    assert time.monotonic() < deadline and worker.poll() is None, "worker did not start"
                    time.sleep(0.2)
                started = time.perf_counter()
                for message_id in ids:
                    send_message_task.delay(message_id)
                published = time.perf_counter() - started
                while Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).count() < len(ids):
                    time.sleep(0.05)
                elapsed = time.perf_counter() - started
            finally:
                os.killpg(worker.pid, 15)
                worker.wait(timeout=60)
                log.close()
            runtimes = [float(x) for x in re.findall(rb"send_message_task\[[-0-9a-f]+\] succeeded in ([0-9.]+)s",
                                                      (Path(workdir) / "worker.log").read_bytes())]
        print(f"worker -c {args.concurrency}, conn_max_age={args.conn_max_age}: {len(ids)} messages in {elapsed:.2f} s = {len(ids) / elapsed:.0f} msg/s "
              f"(publishing the {len(ids)} tasks took {published:.2f} s; mean task run time "
              f"{1000 * sum(runtimes) / max(len(runtimes), 1):.1f} ms over {len(runtimes)} tasks)")
        print(f"SMTP listener received {handler.count} messages in all (expected {2 * args.messages})")
    finally:
        controller.stop()
        Message.objects.filter(idempotency_key__startswith="bench:").delete()


if __name__ == "__main__":
    main()
