"""Vouchers about to expire: one reminder per voucher per offset, ever (VoucherReminder's unique constraint)."""

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vouchers.models import Voucher, VoucherReminder, VoucherStatus

from .. import catalogue
from ..selectors import local_today
from ..services import MessageDraft, insert_ignoring_conflicts, message_errors, message_queue_many

logger = logging.getLogger(__name__)

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


def voucher_reminder_queue(*, voucher_id: int, now: datetime | None = None) -> VoucherReminder | None:
    """Record the due reminder and queue its email, in one transaction; None when nothing is due (any more)."""
    made = voucher_reminders_queue(voucher_ids=[voucher_id], now=now, raise_errors=True)
    if not made:
        return None
    return VoucherReminder.objects.get(voucher_id=voucher_id, offset_days=made[voucher_id])


@transaction.atomic
def voucher_reminders_queue(*, voucher_ids: list[int], now: datetime | None = None,
                            raise_errors: bool = False) -> dict[int, int]:
    """Record the due reminders of a batch of vouchers and queue their emails, in one transaction.

    Re-checks each voucher (still remindable, the offset due in the holder's time zone), then one INSERT of the
    reminder rows, ON CONFLICT (voucher, offset) DO NOTHING: the unique constraint is the guard, so a batch run
    twice, or by two workers at once, reminds each voucher once per offset. Outbox rows are written (one INSERT)
    only for the reminders this run inserted, and handed over in batches when the transaction commits.
    A voucher whose email message_queue would refuse (say, a holder's address that is not one) gets no reminder
    and is logged; the rest of the batch goes on (``raise_errors``: raise the ValidationError instead).
    Returns {voucher id: offset} of the reminders made.
    """
    now = now or timezone.now()
    offsets = settings.VOUCHER_REMINDER_OFFSETS_DAYS
    vouchers = (
        Voucher.objects.filter(pk__in=list(voucher_ids), status__in=REMINDABLE_STATUSES, holder__isnull=False,
                               balance__gt=0)
        .order_by("pk")
        .values_list("pk", "code", "balance", "currency", "valid_until", "holder__name", "holder__email",
                     "holder__preferred_language", "holder__time_zone")
    )
    due = {}
    for voucher_id, code, balance, currency, valid_until, name, email, language, time_zone in vouchers:
        today = local_today(now, time_zone)
        offset = reminder_offset_due(valid_until=valid_until, today=today, offsets=offsets)
        if offset is None:
            continue
        draft = MessageDraft(
            recipient=email, template=catalogue.VOUCHER_REMINDER,
            idempotency_key=f"voucher-reminder:{voucher_id}:{offset}", language=language, time_zone=time_zone,
            context={
                "customer_name": name, "voucher_code": code, "balance": str(balance), "currency": currency,
                "expiry_date": valid_until.isoformat(), "days_left": (valid_until - today).days,
                "where_to_use": settings.NOTIFICATIONS_VOUCHER_WHERE_TO_USE, "offset_days": offset,
            },
        )
        errors = message_errors(recipient=draft.recipient, template=draft.template,
                                idempotency_key=draft.idempotency_key, language=draft.language)
        if errors:
            if raise_errors:
                raise ValidationError(errors)
            logger.error("Voucher %s: no reminder, its email cannot be queued: %s", voucher_id, errors)
            continue
        due[voucher_id] = (offset, valid_until, draft)
    if not due:
        return {}
    created_at = timezone.now()
    made = insert_ignoring_conflicts(
        VoucherReminder,
        [{"voucher": voucher_id, "offset_days": offset, "valid_until": valid_until, "created_at": created_at}
         for voucher_id, (offset, valid_until, _) in due.items()],
        conflict_fields=["voucher", "offset_days"], returning=["voucher", "offset_days"],
    )
    made = dict(made)
    message_queue_many(drafts=[due[voucher_id][2] for voucher_id in sorted(made)])
    return made
