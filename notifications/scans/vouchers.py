"""Vouchers about to expire: one reminder per voucher per offset, ever (VoucherReminder's unique constraint)."""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from vouchers.models import Voucher, VoucherReminder, VoucherStatus

from .. import catalogue
from ..selectors import local_today
from ..services import message_queue

REMINDABLE_STATUSES = (VoucherStatus.ACTIVE, VoucherStatus.EXTENDED)


def reminder_offset_due(*, valid_until: date, today: date, offsets: list[int]) -> int | None:
    """The offset whose reminder is due: the smallest offset not below the days left (a missed one is caught up,
    but an earlier, longer one is never sent after a shorter one)."""
    days_left = (valid_until - today).days
    if days_left < 0:
        return None
    for offset in sorted(offsets):
        if days_left <= offset:
            return offset
    return None


def expiring_vouchers_scan(*, enqueue: Callable[[list[int]], object], now: datetime | None = None,
                           batch_size: int | None = None) -> int:
    """Find the vouchers with a reminder due and hand their ids to `enqueue`, in batches. Returns how many.

    Walks the (status, valid_until) index one status and one day at a time (equality on both columns), by id
    within the day, over the window [today - 1, today + largest offset + 1] (a day either side for the holders'
    time zones). The holder's own date decides which offset is due; existing reminders are skipped.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.NOTIFICATIONS_SCAN_BATCH_SIZE
    offsets = settings.VOUCHER_REMINDER_OFFSETS_DAYS
    if not offsets:
        return 0
    server_today = timezone.localdate(now)
    days = [server_today + timedelta(days=n) for n in range(-1, max(offsets) + 2)]
    pending: list[int] = []
    found = 0
    for status in REMINDABLE_STATUSES:
        for day in days:
            last_id = 0
            while True:
                rows = list(
                    Voucher.objects.filter(status=status, valid_until=day, pk__gt=last_id,
                                           holder__isnull=False, balance__gt=0)
                    .order_by("pk").values_list("pk", "holder__time_zone")[:batch_size]
                )
                if not rows:
                    break
                last_id = rows[-1][0]
                due = {}
                for voucher_id, time_zone in rows:
                    offset = reminder_offset_due(valid_until=day, today=local_today(now, time_zone), offsets=offsets)
                    if offset is not None:
                        due[voucher_id] = offset
                if due:
                    sent = set(
                        VoucherReminder.objects.filter(voucher_id__in=list(due))
                        .values_list("voucher_id", "offset_days")
                    )
                    pending.extend(vid for vid, offset in due.items() if (vid, offset) not in sent)
                while len(pending) >= batch_size:
                    enqueue(pending[:batch_size])
                    found += batch_size
                    pending = pending[batch_size:]
                if len(rows) < batch_size:
                    break
    if pending:
        enqueue(pending)
        found += len(pending)
    return found


@transaction.atomic
def voucher_reminder_queue(*, voucher_id: int, now: datetime | None = None) -> VoucherReminder | None:
    """Record the due reminder and queue its email, in one transaction; None when nothing is due (any more)."""
    now = now or timezone.now()
    voucher = Voucher.objects.select_related("holder").filter(pk=voucher_id).first()
    if voucher is None or voucher.status not in REMINDABLE_STATUSES or voucher.holder is None or voucher.balance <= 0:
        return None
    holder = voucher.holder
    offset = reminder_offset_due(
        valid_until=voucher.valid_until, today=local_today(now, holder.time_zone),
        offsets=settings.VOUCHER_REMINDER_OFFSETS_DAYS,
    )
    if offset is None:
        return None
    try:
        with transaction.atomic():
            reminder = VoucherReminder.objects.create(
                voucher=voucher, offset_days=offset, valid_until=voucher.valid_until
            )
    except IntegrityError:  # already reminded at this offset (another scan got there first)
        return None
    message_queue(
        recipient=holder.email, template=catalogue.VOUCHER_REMINDER,
        idempotency_key=f"voucher-reminder:{voucher.pk}:{offset}",
        language=holder.preferred_language, time_zone=holder.time_zone,
        context={
            "customer_name": holder.name, "voucher_code": voucher.code, "balance": str(voucher.balance),
            "currency": voucher.currency, "expiry_date": voucher.valid_until.isoformat(),
            "days_left": (voucher.valid_until - local_today(now, holder.time_zone)).days,
            "where_to_use": settings.NOTIFICATIONS_VOUCHER_WHERE_TO_USE, "offset_days": offset,
        },
    )
    return reminder
