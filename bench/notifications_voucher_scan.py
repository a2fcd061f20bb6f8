"""Voucher-expiry scan over N vouchers on PostgreSQL: time and peak memory to find and enqueue the due reminders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_notify REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/notifications_voucher_scan.py --vouchers 1000000

Loads the data with SQL generate_series (once; --reload to start again; the audit trail's triggers are off
while the bench rows go in or out: 1M audit rows took more than 20 minutes), then runs the scan the beat runs:
expiring_vouchers_scan, publishing one queue_voucher_reminders_task per batch of ids to the real broker, and
prints its max RSS. The published tasks are removed from the broker afterwards (no worker consumes them here).

Then the batch task's handler on --handle due vouchers, interleaved with the row-by-row handler it replaced
(A, B, A, B: --rounds), each from no reminders: reminders/s on one process, CPU seconds and queries.
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
from django.db import IntegrityError, connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from notifications import catalogue  # noqa: E402
from notifications.models import Message  # noqa: E402
from notifications.scans.vouchers import (  # noqa: E402
    REMINDABLE_STATUSES,
    expiring_vouchers_scan,
    reminder_offset_due,
    voucher_reminders_queue,
)
from notifications.selectors import local_today  # noqa: E402
from notifications.services import message_queue  # noqa: E402
from notifications.tasks import queue_voucher_reminders_task  # noqa: E402
from vouchers.models import Voucher, VoucherReminder  # noqa: E402

BENCH_CUSTOMERS = 200_000


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"

ZONES = ["Europe/Bucharest", "Europe/Moscow", "Europe/Rome", "UTC", "America/New_York", "Pacific/Kiritimati"]
LANGUAGES = ["ro", "ru", "it", "en"]


def audit_triggers_off(cursor) -> list[tuple[str, str]]:
    """Switch off the audit trail's triggers on the bench's tables (in the caller's transaction)."""
    cursor.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger_%%'"
        " AND tgrelid::regclass::text = ANY(%s)", [["customers_customer", "vouchers_voucher"]])
    triggers = cursor.fetchall()
    for table, trigger in triggers:
        cursor.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{trigger}"')
    return triggers


def audit_triggers_on(cursor, triggers) -> None:
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign-key checks first: ALTER TABLE waits
    for table, trigger in triggers:
        cursor.execute(f'ALTER TABLE {table} ENABLE TRIGGER "{trigger}"')


@transaction.atomic
def load(vouchers: int) -> None:
    with connection.cursor() as cursor:
        triggers = audit_triggers_off(cursor)
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
        audit_triggers_on(cursor, triggers)
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("ANALYZE vouchers_voucher")


def reminders_clear() -> None:
    Message.objects.filter(idempotency_key__startswith="voucher-reminder:",
                           recipient__endswith="@bench.example").delete()
    VoucherReminder.objects.filter(voucher__code__startswith="BENCH-").delete()


@transaction.atomic
def row_by_row_reminder_queue(*, voucher_id: int, now=None):
    """The handler before issue 15, for the comparison: one voucher, its reminder and its email per transaction."""
    now = now or timezone.now()
    voucher = Voucher.objects.select_related("holder").filter(pk=voucher_id).first()
    if voucher is None or voucher.status not in REMINDABLE_STATUSES or voucher.holder is None or voucher.balance <= 0:
        return None
    holder = voucher.holder
    offset = reminder_offset_due(valid_until=voucher.valid_until, today=local_today(now, holder.time_zone),
                                 offsets=settings.VOUCHER_REMINDER_OFFSETS_DAYS)
    if offset is None:
        return None
    try:
        with transaction.atomic():
            reminder = VoucherReminder.objects.create(voucher=voucher, offset_days=offset,
                                                      valid_until=voucher.valid_until)
    except IntegrityError:
        return None
    message_queue(
        recipient=holder.email, template=catalogue.VOUCHER_REMINDER,
        idempotency_key=f"voucher-reminder:{voucher.pk}:{offset}", language=holder.preferred_language,
        time_zone=holder.time_zone,
        context={"customer_name": holder.name, "voucher_code": voucher.code, "balance": str(voucher.balance),
                 "currency": voucher.currency, "expiry_date": voucher.valid_until.isoformat(),
                 "days_left": (voucher.valid_until - local_today(now, holder.time_zone)).days,
                 "where_to_use": settings.NOTIFICATIONS_VOUCHER_WHERE_TO_USE, "offset_days": offset},
    )
    return reminder


def row_by_row(sample: list[int]) -> int:
    made = 0
    for voucher_id in sample:
        try:
            made += row_by_row_reminder_queue(voucher_id=voucher_id) is not None
        except IntegrityError:
            pass
    return made


def in_batches(sample: list[int]) -> int:
    size = settings.NOTIFICATIONS_SCAN_BATCH_SIZE
    return sum(len(voucher_reminders_queue(voucher_ids=sample[start:start + size]))
               for start in range(0, len(sample), size))


class QueryCount:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vouchers", type=int, default=1_000_000)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--handle", type=int, default=5000,
                        help="then run the batch task's handler (reminder rows + outbox rows, handed over on commit) "
                             "for this many of the due vouchers, and report reminders per second")
    parser.add_argument("--rounds", type=int, default=2, help="before/after rounds of the handler, interleaved")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run this on PostgreSQL (set DATABASE_URL)"
    present = Voucher.objects.filter(code__startswith="BENCH-").count()
    if args.reload or present != args.vouchers:
        started = time.perf_counter()
        load(args.vouchers)
        print(f"loaded {args.vouchers:,} vouchers in {time.perf_counter() - started:.1f} s", flush=True)
    reminders_clear()
    total = Voucher.objects.count()
    print(f"vouchers in the table: {total:,}; batch size {settings.NOTIFICATIONS_SCAN_BATCH_SIZE}; "
          f"offsets {settings.VOUCHER_REMINDER_OFFSETS_DAYS}; broker {settings.CELERY_BROKER_URL}; load {load_average()}")
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
        print(line, flush=True)
    if args.handle:
        due: list[int] = []
        expiring_vouchers_scan(enqueue=due.extend, now=timezone.now())
        bench = set(Voucher.objects.filter(code__startswith="BENCH-", pk__in=due).values_list("pk", flat=True))
        sample = [voucher_id for voucher_id in due if voucher_id in bench][: args.handle]
        print(f"handler on {len(sample):,} due vouchers (batches of {settings.NOTIFICATIONS_SCAN_BATCH_SIZE}, "
              f"emails handed over on commit to {settings.CELERY_BROKER_URL}), load {load_average()}")
        for round_ in range(1, args.rounds + 1):
            for name, handle in (("row by row (before)", row_by_row), ("in batches (after)", in_batches)):
                reminders_clear()
                counter = QueryCount()
                cpu, started = time.process_time(), time.perf_counter()
                with connection.execute_wrapper(counter):
                    queued = handle(sample)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
                assert queued == len(sample) == VoucherReminder.objects.filter(
                    voucher__code__startswith="BENCH-").count(), (queued, len(sample))
                print(f"  round {round_}, {name}: {queued:,} reminders and emails in {elapsed:.2f} s = "
                      f"{queued / elapsed:,.0f} reminders/s; CPU {cpu:.2f} s; {counter.count:,} queries")
        reminders_clear()
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")  # the bench's published tasks


if __name__ == "__main__":
    main()
