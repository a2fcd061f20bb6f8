"""anymail's inbound webhooks (/anymail/<esp>/inbound/, caseapp.webhooks): the same service as the other ways in."""

from anymail.signals import inbound
from django.dispatch import receiver

from .models import InboundSource
from .services import inbound_email_receive


@receiver(inbound, dispatch_uid="caseapp-inbox-inbound")
def inbound_email_webhook_receive(sender, event, esp_name, **kwargs):
    message = event.message
    raw = message.as_bytes() if message is not None else b""
    inbound_email_receive(raw, source=InboundSource.WEBHOOK)
