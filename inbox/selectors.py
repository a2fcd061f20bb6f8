"""Reads of inbound email for the dashboard."""

from django.db.models import QuerySet

from .models import InboundMessage, InboundStatus

LIST_FIELDS = ("id", "message_id", "source", "status", "reason", "from_address", "from_name", "subject",
               "received_at", "case_id")


def inbound_unprocessed() -> QuerySet[InboundMessage]:
    """The messages caseapp could not read (kept raw), newest first, without their raw bytes."""
    return (InboundMessage.objects.filter(status=InboundStatus.UNPROCESSED).only(*LIST_FIELDS)
            .order_by("-received_at", "-id"))


def inbound_of_case(case) -> QuerySet[InboundMessage]:
    return InboundMessage.objects.filter(case=case).defer("raw").order_by("received_at", "id")
