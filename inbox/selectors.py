"""Reads of inbound email for the dashboard."""

from django.db.models import Q, QuerySet

from .models import InboundMessage, InboundStatus

LIST_FIELDS = ("id", "message_id", "source", "status", "reason", "from_address", "from_name", "subject",
               "received_at", "case_id")


def inbound_unprocessed() -> QuerySet[InboundMessage]:
    """The messages caseapp could not read (kept raw), newest first, without their raw bytes."""
    return (InboundMessage.objects.filter(status=InboundStatus.UNPROCESSED).only(*LIST_FIELDS)
            .order_by("-received_at", "-id"))


def inbound_of_case(case) -> QuerySet[InboundMessage]:
    return InboundMessage.objects.filter(case=case).defer("raw").order_by("received_at", "id")


def inbound_visible_to(*, user) -> QuerySet[InboundMessage]:
    """The messages a user may read, without their raw bytes: those on the cases they may see; a message on no
    case (unprocessed, or an auto-reply) only for managers."""
    from caseapp.permissions import cases_visible_to, is_agent, is_manager
    from cases.models import Case

    messages = InboundMessage.objects.defer("raw").order_by("-id")
    if not is_agent(user):
        return messages.none()
    visible = Q(case__in=cases_visible_to(user, Case.objects.all()).values("pk"))
    if is_manager(user):
        visible |= Q(case__isnull=True)
    return messages.filter(visible)


def inbound_attachments(*, message: InboundMessage):
    """The files kept from one message (on its case), oldest first."""
    from cases.models import Attachment

    ids = [value for value in (message.data or {}).get("attachment_ids", []) if isinstance(value, int)]
    if not ids or message.case_id is None:
        return []
    return list(Attachment.objects.filter(pk__in=ids, case_id=message.case_id).order_by("created_at", "id"))
