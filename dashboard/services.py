"""The dashboard's own writes: an agent's email reply, and the special delivery, through the notifications outbox."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from caseapp import permissions
from cases.models import Case, CaseEventKind
from cases.services import (
    ACT_REPLIED,
    ACT_WORKED,
    case_event_append,
    case_mark_first_response,
    case_status_follow,
    promise_record,
)
from notifications.catalogue import AGENT_REPLY, SPECIAL_DELIVERY
from notifications.selectors import end_of_day
from notifications.services import message_queue
from orders.models import Courier, Shipment
from orders.services import shipment_create
from policies.models import Remedy, RemedyKind, RemedyStatus


@transaction.atomic
def case_reply_send(*, case: Case, text: str, by, nonce: str):
    """Queue a reply to the customer in their language and put it on the timeline, in one transaction.

    The form's nonce makes the idempotency key: a double submit queues one message and one timeline event.
    """
    permissions.require(permissions.can_work_case(by, case))
    text = (text or "").strip()
    errors = {}
    if not text:
        errors["text"] = "Write the reply first."
    if not (nonce or "").strip():
        errors["nonce"] = "The form is missing its one-time key; reload the page."
    if not case.customer.email:
        errors["text"] = "This customer has no email address."
    if errors:
        raise ValidationError(errors)
    customer = case.customer
    message, created = message_queue(
        recipient=customer.email, template=AGENT_REPLY, idempotency_key=f"case-{case.pk}/reply/{nonce.strip()}",
        context={"customer_name": customer.name, "case_number": case.pk,
                 "reply_text": text, "agent_name": by.get_full_name() or by.get_username()},
        language=customer.preferred_language, time_zone=customer.time_zone, case=case,
    )
    if created:
        case_event_append(case=case, kind=CaseEventKind.EMAIL_OUT, actor=by, text=text,
                          data={"message_id": message.pk, "language": customer.preferred_language})
        case_mark_first_response(case=case)
        case_status_follow(case=case, act=ACT_REPLIED, by=by)
    return message, created


def special_delivery_remedy(case: Case) -> Remedy | None:
    """The applied absorb-cost remedy of this case (the shop pays for saving the delivery), if any."""
    return (Remedy.objects.filter(case=case, kind=RemedyKind.ABSORB_COST, status=RemedyStatus.APPLIED)
            .order_by("applied_at", "id").first())


@transaction.atomic
def special_delivery_record(*, case: Case, courier: Courier, tracking_number: str, arrives_on: date, by):
    """After the absorb-cost remedy: the special delivery that saves the date (a replacement shipment with its own
    courier and tracking number, through orders.services), a promise to deliver it on that day, and an email to the
    customer in their language. The same courier and tracking number again returns the shipment already recorded.

    Returns (shipment, created)."""
    tracking_number = (tracking_number or "").strip()
    errors = {}
    if not case.order_id:
        errors["tracking_number"] = "This case has no order to deliver."
    if not tracking_number:
        errors["tracking_number"] = "Give the special delivery's own tracking number."
    if special_delivery_remedy(case) is None:
        errors["courier"] = "Apply the remedy that absorbs the special delivery's cost first."
    if arrives_on and arrives_on < timezone.localdate():
        errors["arrives_on"] = "The special delivery cannot arrive in the past."
    if errors:
        raise ValidationError(errors)
    order, customer = case.order, case.customer
    existing = Shipment.objects.filter(courier=courier, tracking_number=tracking_number).first()
    if existing is not None:
        if existing.order_id != order.pk or not existing.is_replacement:
            raise ValidationError({"tracking_number": "This tracking number is already another shipment's."})
        return existing, False
    shipment = shipment_create(order=order, courier=courier, tracking_number=tracking_number,
                               estimated_delivery=arrives_on, is_replacement=True, handed_over_at=timezone.now())
    case_event_append(case=case, kind=CaseEventKind.NOTE, actor=by,
                      text=f"Special delivery: {courier.name} {tracking_number}, arriving {arrives_on:%Y-%m-%d}",
                      data={"special_delivery": shipment.pk, "courier": courier.name,
                            "tracking_number": tracking_number, "arrives_on": arrives_on.isoformat()})
    owner = case.owner or by
    promise_record(case=case, owner=owner, made_by=by, key=f"special-delivery:{order.pk}",
                   description=f"Deliver order {order.number} by special delivery ({courier.name} {tracking_number}) "
                               f"on {arrives_on:%Y-%m-%d}",
                   due_at=end_of_day(arrives_on, customer.time_zone))
    if customer.email:
        message, created = message_queue(
            recipient=customer.email, template=SPECIAL_DELIVERY, idempotency_key=f"special-delivery:{shipment.pk}",
            context={"customer_name": customer.name, "order_number": order.number, "new_date": arrives_on.isoformat(),
                     "courier": courier.name, "tracking_number": tracking_number},
            language=customer.preferred_language, time_zone=customer.time_zone, case=case,
        )
        if created:
            case_event_append(case=case, kind=CaseEventKind.EMAIL_OUT, actor=by,
                              text=f"Special delivery on {arrives_on:%Y-%m-%d} announced to {customer.email}",
                              data={"message_id": message.pk, "language": customer.preferred_language})
            case_mark_first_response(case=case)
    case_status_follow(case=case, act=ACT_WORKED, by=by)
    return shipment, True
