"""Claims near their deadline: the case owner and a manager are alerted once (a guarded update of
deadline_alerted_at, like overdue promises in notifications.scans.promises)."""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from cases.models import CaseEventKind
from cases.services import case_event_append
from cases.timeline import say, say_text
from notifications import catalogue
from notifications.selectors import manager_pick, staff_recipients
from notifications.services import message_queue
from staff.selectors import staff_language

from .models import Claim, ClaimStatus


def _warn_until(today: date) -> date:
    return today + timedelta(days=settings.CLAIMS_DEADLINE_WARNING_DAYS)


def claims_near_deadline_queryset(*, today: date | None = None):
    """Claims still to file whose deadline is within the warning days (or already passed), not yet alerted."""
    today = today or timezone.localdate()
    return Claim.objects.filter(status=ClaimStatus.TO_FILE, deadline__lte=_warn_until(today),
                                deadline_alerted_at__isnull=True)


@transaction.atomic
def claim_deadline_alert(*, claim_id: int, today: date | None = None) -> Claim | None:
    now = timezone.now()
    today = today or timezone.localdate()
    claimed = claims_near_deadline_queryset(today=today).filter(pk=claim_id).update(deadline_alerted_at=now)
    if not claimed:  # filed meanwhile, not near its deadline, or already alerted by another scan
        return None
    claim = Claim.objects.select_related("case__customer", "case__owner", "courier").get(pk=claim_id)
    case = claim.case
    recipients = staff_recipients(case.owner, manager_pick(exclude=[case.owner]))
    for user in recipients:
        message_queue(
            recipient=user.email, template=catalogue.CLAIM_DEADLINE, case=case,
            idempotency_key=f"claim-deadline:{claim.pk}:{user.pk}",
            language=staff_language(user), time_zone=settings.TIME_ZONE,
            context={
                "staff_name": user.get_full_name() or user.get_username(), "case_number": case.pk,
                "case_subject": case.subject, "customer_name": case.customer.name, "courier": claim.courier.name,
                "courier_email": claim.courier.claims_email, "courier_phone": claim.courier.claims_phone,
                "claim_amount": str(claim.amount), "claim_currency": claim.currency,
                "claim_deadline_date": claim.deadline.isoformat(),
            },
        )
    said = say(gettext_noop("Claim against %(courier)s to file by %(deadline)s; alerted %(names)s"),
               courier=claim.courier.name, deadline={"date": claim.deadline.isoformat()},
               names={"names": [user.get_username() for user in recipients]})
    case_event_append(
        case=case, kind=CaseEventKind.DETECTED, occurred_at=now, text=say_text(said),
        data={"claim_id": claim.pk, "deadline_alert": True, "alerted": [user.get_username() for user in recipients],
              "say": said},
    )
    return claim
