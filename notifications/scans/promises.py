"""Overdue promises: the owner and a manager are alerted once (a guarded update of overdue_alerted_at)."""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from cases.models import CaseEventKind, Promise, PromiseStatus
from cases.services import case_event_append
from cases.timeline import say, say_text
from staff.selectors import staff_language

from .. import catalogue
from ..selectors import manager_pick, staff_recipients
from ..services import message_queue


def overdue_promises_queryset(*, now: datetime):
    return Promise.objects.filter(status=PromiseStatus.OPEN, due_at__lt=now, overdue_alerted_at__isnull=True)


@transaction.atomic
def promise_overdue_alert(*, promise_id: int, now: datetime | None = None) -> Promise | None:
    now = now or timezone.now()
    claimed = Promise.objects.filter(
        pk=promise_id, status=PromiseStatus.OPEN, due_at__lt=now, overdue_alerted_at__isnull=True
    ).update(overdue_alerted_at=now)
    if not claimed:  # not overdue, closed, or already alerted by another scan
        return None
    promise = Promise.objects.select_related("case__customer", "owner").get(pk=promise_id)
    case = promise.case
    recipients = staff_recipients(promise.owner, manager_pick(exclude=[promise.owner]))
    for user in recipients:
        message_queue(
            recipient=user.email, template=catalogue.PROMISE_OVERDUE, case=case,
            idempotency_key=f"promise-overdue:{promise.pk}:{user.pk}",
            language=staff_language(user), time_zone=settings.TIME_ZONE,
            context={
                "staff_name": user.get_full_name() or user.get_username(), "case_number": case.pk,
                "case_subject": case.subject, "customer_name": case.customer.name,
                "customer_email": case.customer.email, "customer_phone": case.customer.phone,
                "promise": promise.description, "due_at": promise.due_at.isoformat(),
                "owner": promise.owner.get_username(),
                "made_by": promise.made_by_name or (promise.made_by.get_username() if promise.made_by_id else ""),
            },
        )
    said = say(gettext_noop("Promise overdue: %(promise)s; alerted %(names)s"), promise=promise.description,
               names={"names": [user.get_username() for user in recipients]})
    case_event_append(
        case=case, kind=CaseEventKind.DETECTED, occurred_at=now, text=say_text(said),
        data={"promise_id": promise.pk, "overdue": True, "alerted": [user.get_username() for user in recipients],
              "say": said},
    )
    return promise
