"""The dashboard's one write of its own: an agent's email reply, through the notifications outbox."""

from django.core.exceptions import ValidationError
from django.db import transaction

from caseapp import permissions
from cases.models import Case, CaseEventKind
from cases.services import case_event_append, case_mark_first_response
from notifications.catalogue import AGENT_REPLY
from notifications.services import message_queue


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
    return message, created
