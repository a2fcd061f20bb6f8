"""Voucher-expiry scan over N vouchers on PostgreSQL: time and peak memory to find and enqueue the due reminders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_notify REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/notifications_voucher_scan.py --vouchers 1000000

Loads the data with SQL generate_series (once; --reload to start again), then runs the scan the beat runs:
expiring_vouchers_scan, publishing one queue_voucher_reminders_task per batch of ids to the real broker.
The published tasks are removed from the broker afterwards (no worker consumes them here).
"""

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from notifications.models import Message  # noqa: E402
from notifications.scans.vouchers import expiring_vouchers_scan, voucher_reminder_queue  # noqa: E402
from notifications.tasks import queue_voucher_reminders_task  # noqa: E402
from vouchers.models import Voucher, VoucherReminder  # noqa: E402

BENCH_CUSTOMERS = 200_000
ZONES = ["Europe/Bucharest", "Europe/Moscow", "Europe/Rome", "UTC", "America/New_York", "Pacific/Kiritimati"]
LANGUAGES = ["ro", "ru", "it", "en"]


def load(vouchers: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM vouchers_voucherreminder WHERE voucher_id IN "
                       "(SELECT id FROM vouchers_voucher WHERE code LIKE 'BENCH-%%')")
        cursor.execute("DELETE FROM vouchers_voucher WHERE code LIKE 'BENCH-%%'")
        cursor.execute("DELETE FROM customers_customer WHERE email LIKE 'bench-%%@bench.example'")
        cursor.execute(
            "INSERT INTO vouchers_validityrule (code, name, validity_months, effective_from) "
            "VALUES ('bench-12', 'Bench 12 months', 12, '2000-01-01') ON CONFLICT (code) DO NOTHING"
        )
        cursor.execute("SELECT id FROM vouchers_validityrule WHERE code = 'bench-12'")
        rule_id = cursor.fetchone()[0]
        zones = "ARRAY[" + ",".join(f"'{z}'" for z in ZONES) + "]"
        languages = "ARRAY[" + ",".join(f"'{code}'" for code in LANGUAGES) + "]"
        cursor.execute(f"""
            INSERT INTO customers_customer (name, email, phone, preferred_language, country, time_zone,
                                            customer_since, created_at)
            SELECT 'Bench customer ' || n, 'bench-' || n || '@bench.example', '',
                   ({languages})[1 + n % {len(LANGUAGES)}], 'RO', ({zones})[1 + n % {len(ZONES)}],
                   CURRENT_DATE - 400, now()
            FROM generate_series(1, {BENCH_CUSTOMERS}) AS n
        """)
        cursor.execute("SELECT min(id) FROM customers_customer WHERE email LIKE 'bench-%%@bench.example'")
        first_customer = cursor.fetchone()[0]
        # Expiry dates spread evenly over three years around today; 85% active, the rest redeemed/expired/extended.
        cursor.execute(f"""
            INSERT INTO vouchers_voucher (code, holder_id, purchaser_id, value, balance, currency, issued_at,
                                          valid_until, validity_rule_id, status, created_at)
            SELECT 'BENCH-' || n, {first_customer} + n % {BENCH_CUSTOMERS}, NULL, 100.00,
                   CASE WHEN n % 20 = 0 THEN 0 ELSE 100.00 END, 'EUR',
                   (CURRENT_DATE - 400 - (n % 300))::timestamptz,
                   CURRENT_DATE - 365 + (n % 1095),
                   {rule_id},
                   CASE WHEN n % 20 = 0 THEN 'redeemed' WHEN n % 20 = 1 THEN 'extended'
                        WHEN n % 20 = 2 THEN 'void' ELSE 'active' END,
                   now()
            FROM generate_series(1, {vouchers}) AS n
        """)
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("ANALYZE vouchers_voucher")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vouchers", type=int, default=1_000_000)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--handle", type=int, default=2000,
                        help="then run the batch task's handler (reminder row + outbox row, handed over on commit) "
                             "for this many of the due vouchers, and report reminders per second")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run this on PostgreSQL (set DATABASE_URL)"
    present = Voucher.objects.filter(code__startswith="BENCH-").count()
    if args.reload or present != args.vouchers:
        started = time.perf_counter()
        load(args.vouchers)
        print(f"loaded {args.vouchers:,} vouchers in {time.perf_counter() - started:.1f} s")
    VoucherReminder.objects.filter(voucher__code__startswith="BENCH-").delete()
    total = Voucher.objects.count()
    print(f"vouchers in the table: {total:,}; batch size {settings.NOTIFICATIONS_SCAN_BATCH_SIZE}; "
          f"offsets {settings.VOUCHER_REMINDER_OFFSETS_DAYS}; broker {settings.CELERY_BROKER_URL}")
    published = []

    def enqueue(ids):
        queue_voucher_reminders_task.delay(ids)
        published.append(len(ids))

    # Timed runs without tracemalloc (it slows Python down several times), then one run under tracemalloc.
    for run in range(1, args.runs + 2):
        traced = run == args.runs + 1
        published.clear()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        found = expiring_vouchers_scan(enqueue=enqueue, now=timezone.now())
        elapsed = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        line = (f"run {run}{' (under tracemalloc)' if traced else ''}: found and enqueued {found:,} due reminders "
                f"in {len(published)} tasks, {elapsed:.2f} s; max RSS {rss_after / 1024:.0f} MiB "
                f"(+{(rss_after - rss_before) / 1024:.0f} MiB)")
        if traced:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            line += f"; tracemalloc peak {peak / 2**20:.2f} MiB"
        print(line)
    if args.handle:
        due: list[int] = []
        expiring_vouchers_scan(enqueue=due.extend, now=timezone.now())
        sample = due[: args.handle]
        started = time.perf_counter()
        queued = sum(voucher_reminder_queue(voucher_id=voucher_id) is not None for voucher_id in sample)
        elapsed = time.perf_counter() - started
        print(f"handler: {queued:,} reminders recorded and their emails queued (one transaction each, handed "
              f"over on commit) in {elapsed:.2f} s = {queued / elapsed:.0f} reminders/s on one process")
        Message.objects.filter(idempotency_key__startswith="voucher-reminder:",
                               recipient__endswith="@bench.example").delete()
        VoucherReminder.objects.filter(voucher__code__startswith="BENCH-").delete()
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")  # the bench's published tasks


if __name__ == "__main__":
    main()
