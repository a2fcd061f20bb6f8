"""Messages per second through the outbox to a local SMTP listener (aiosmtpd, in this process).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_notify REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/notifications_outbox_throughput.py --messages 1000 --concurrency 2

1. in-process: message_send() called for each row in turn (claim, render, SMTP, mark sent): one sender.
2. worker: `celery -A caseapp worker -c N` started here, the clock stops when every row is sent; interleaved
   (--rounds), before: one send_message_task per row (as message_queue's hand-over does), an SMTP connection per
   row, a database connection per task (WORKER_DB_CONN_MAX_AGE=0); after: one send_messages_task per
   NOTIFICATIONS_SEND_BATCH_SIZE rows (as the reminder batches' hand-over does), one SMTP session per batch,
   persistent database connections (WORKER_DB_CONN_MAX_AGE=--conn-max-age).
Rows are voucher reminders rendered in the four languages.
"""

import argparse
import logging
import os
import re
import resource
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
from notifications.services import message_send, message_send_batch  # noqa: E402
from notifications.tasks import send_message_task, send_messages_task  # noqa: E402


class CountingHandler:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.count += 1
        return "250 OK"


logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO


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


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def worker_run(name: str, args, port: int, *, batch: int, conn_max_age: int) -> None:
    """Start `celery worker -c N`, publish the rows (one task per row, or per batch), stop when all are sent."""
    ids = rows("worker", args.messages)
    env = {**os.environ, "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
           "EMAIL_PORT": str(port), "LOG_LEVEL": "WARNING", "WORKER_DB_CONN_MAX_AGE": str(conn_max_age)}
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
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
            if batch > 1:
                for start in range(0, len(ids), batch):
                    send_messages_task.delay(ids[start:start + batch])
            else:
                for message_id in ids:
                    send_message_task.delay(message_id)
            published = time.perf_counter() - started
            while Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).count() < len(ids):
                assert worker.poll() is None, "the worker died"
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
        finally:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=60)
            log.close()
        text = (Path(workdir) / "worker.log").read_bytes()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    runtimes = [float(x) for x in re.findall(rb"send_messages?_task\[[-0-9a-f]+\] succeeded in ([0-9.]+)s", text)]
    assert Message.objects.filter(pk__in=ids).exclude(status=MessageStatus.SENT).count() == 0
    print(f"worker -c {args.concurrency}, {name}: batch {batch}, WORKER_DB_CONN_MAX_AGE={conn_max_age}: "
          f"{len(ids)} messages in {elapsed:.2f} s = {len(ids) / elapsed:.0f} msg/s (publishing "
          f"{published:.2f} s; {len(runtimes)} tasks, mean run {1000 * sum(runtimes) / max(len(runtimes), 1):.1f} ms; "
          f"worker CPU {cpu:.1f} s incl. start-up; load {load_average()})", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--conn-max-age", type=int, default=300,
                        help="the worker's WORKER_DB_CONN_MAX_AGE in the batch runs (the per-row runs use 0)")
    parser.add_argument("--rounds", type=int, default=2, help="before/after rounds through the worker, interleaved")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run this on PostgreSQL (set DATABASE_URL)"
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        # 1. in-process, one sender: row by row (a connection per row) and in batches (one session per batch)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        sent_total = [0]
        size = settings.NOTIFICATIONS_SEND_BATCH_SIZE
        for name, send in (("row by row (before)", lambda ids: [message_send(message_id=i) for i in ids]),
                           ("in batches (after)", lambda ids: [message_send_batch(message_ids=ids[n:n + size])
                                                               for n in range(0, len(ids), size)])):
            ids = rows("inproc", args.messages)
            cpu, started = time.process_time(), time.perf_counter()
            send(ids)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            assert Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).count() == len(ids)
            sent_total[0] += len(ids)
            print(f"in-process, one sender, {name}: {len(ids)} messages in {elapsed:.2f} s = "
                  f"{len(ids) / elapsed:.0f} msg/s; CPU {cpu:.2f} s; load {load_average()}", flush=True)

        # 2. real worker, interleaved: the way before (a task and an SMTP connection per row, a new database
        # connection per task) and after (batches over one SMTP session, persistent database connections)
        modes = [("per row (before)", 1, 0), ("batches (after)", settings.NOTIFICATIONS_SEND_BATCH_SIZE,
                                              args.conn_max_age)]
        for round_ in range(1, args.rounds + 1):
            for name, batch, conn_max_age in modes:
                worker_run(f"{name}, round {round_}", args, controller.port, batch=batch, conn_max_age=conn_max_age)
                sent_total[0] += args.messages
        print(f"SMTP listener received {handler.count} messages in all (expected {sent_total[0]}); "
              f"load {load_average()}")
    finally:
        controller.stop()
        Message.objects.filter(idempotency_key__startswith="bench:").delete()


if __name__ == "__main__":
    main()
