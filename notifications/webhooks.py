"""anymail's tracking webhooks (signed: basic auth with ANYMAIL WEBHOOK_SECRET plus each ESP's own signature)."""

from anymail.signals import tracking
from django.dispatch import receiver

from .services import message_tracking_record


@receiver(tracking, dispatch_uid="caseapp-notifications-tracking")
def message_tracking_receive(sender, event, esp_name, **kwargs):
    message_tracking_record(
        esp_message_id=event.message_id or "", event_type=event.event_type,
        description=event.description or event.mta_response or event.reject_reason or "",
        occurred_at=event.timestamp,
    )
