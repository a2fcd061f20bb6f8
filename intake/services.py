"""Taking a shop's data in: orders and tracking events through the owning apps' services, and the webhook
deliveries that carried them. Each function is one transaction; keyword-only arguments."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from caseapp.upsert import Outcome
from customers.services import customer_upsert
from orders.models import Courier, Order
from orders.services import order_upsert, shipment_event_record

from .models import DeliveryOutcome, WebhookDelivery, WebhookSource

logger = logging.getLogger(__name__)


class DeliveryIgnored(Exception):
    """A well-formed delivery about something caseapp does not keep (another topic, an unknown parcel)."""


@transaction.atomic(savepoint=False)  # no savepoint of its own (two queries an order): its failure fails the caller's
def order_ingest(*, data: dict) -> tuple[Order, Outcome]:  # transaction, so call it outermost or in a savepoint
    """One order from the shop (intake.serializers.OrderIn's validated data): its customer found by email or
    created, then the order created or updated by its number. All of it or nothing."""
    customer_data, address = data["customer"], data.get("shipping_address") or {}
    placed_on = min(timezone.localdate(data["placed_at"]), timezone.localdate())
    # The services' own bodies (__wrapped__, without their savepoints: four queries an order): this function's
    # transaction is theirs, and any error still undoes the whole order.
    customer, _ = customer_upsert.__wrapped__(
        email=customer_data["email"], name=customer_data.get("name") or address.get("name", ""),
        phone=customer_data.get("phone", ""), country=address.get("country", ""),
        preferred_language=customer_data.get("language", ""), customer_since=placed_on,
    )
    return order_upsert.__wrapped__(
        number=data["number"], customer=customer, placed_at=data["placed_at"], currency=data["currency"],
        lines=data["lines"], payment_method=data["payment_method"], status=data["status"],
        shipping_amount=data["shipping_amount"], tax_amount=data["tax_amount"],
        discount_amount=data["discount_amount"], total=data["total"], cod_quoted_amount=data["cod_quoted_amount"],
        promised_delivery_date=data["promised_delivery_date"], shipping_name=address.get("name", ""),
        shipping_street=address.get("street", ""), shipping_city=address.get("city", ""),
        shipping_postcode=address.get("postcode", ""), shipping_country=address.get("country", ""),
    )


def _late_check_enqueue(shipment_id: int) -> None:
    from notifications.tasks import handle_late_shipments_task

    handle_late_shipments_task.delay([shipment_id])


@transaction.atomic
def tracking_event_ingest(*, data: dict, courier: Courier | None = None) -> dict:
    """One courier event (intake.serializers.TrackingEventIn's validated data), stored once per shipment and
    event id through orders.services.shipment_event_record. When the parcel now looks late or at risk, the
    late-delivery check runs at once (on commit) instead of waiting for the next scan."""
    from notifications.scans.shipments import shipment_late_reasons

    try:
        event, created = shipment_event_record(
            tracking_number=data["tracking_number"], external_id=data["event_id"], occurred_at=data["occurred_at"],
            code=data["code"], courier=courier, text=data.get("text", ""), location=data.get("location", ""),
            estimated_delivery=data.get("estimated_delivery"), raw={"source": "webhook"},
        )
    except ValidationError as exc:
        if "tracking_number" in getattr(exc, "message_dict", {}):
            raise DeliveryIgnored(exc.message_dict["tracking_number"][0]) from exc
        raise
    shipment = event.shipment
    woken = bool(created and shipment_late_reasons(shipment, now=timezone.now()))
    if woken:
        transaction.on_commit(lambda: _late_check_enqueue(shipment.pk))
    return {"shipment": shipment.pk, "event": event.pk, "created": created, "status": shipment.status,
            "late_check": woken}


@transaction.atomic
def webhook_delivery_receive(
    *, source: WebhookSource, event_id: str, topic: str, body: str, process: Callable[[], dict],
) -> tuple[WebhookDelivery, bool]:
    """Record a verified delivery and do what it says, once per (source, event id), in one transaction.

    ``process`` maps, validates and ingests the body; it raises ValidationError (the delivery is kept as
    rejected with its errors, nothing else is written, and a later retry of the same id is processed again)
    or DeliveryIgnored. Returns (delivery, is_new): a delivery already processed or ignored answers is_new=False
    and writes nothing."""
    body = body.replace("\x00", "\ufffd")  # PostgreSQL text holds no NUL
    delivery, created = WebhookDelivery.objects.get_or_create(
        source=source, event_id=event_id,
        defaults={"topic": topic[:100], "body": body, "outcome": DeliveryOutcome.REJECTED},
    )
    if not created:
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.outcome != DeliveryOutcome.REJECTED:
            return delivery, False
        delivery.body, delivery.topic = body, topic[:100]
    delivery.errors, delivery.result = {}, {}
    try:
        with transaction.atomic():
            delivery.result = process()
        delivery.outcome = DeliveryOutcome.PROCESSED
    except DeliveryIgnored as exc:
        delivery.outcome, delivery.result = DeliveryOutcome.IGNORED, {"reason": str(exc)}
    except ValidationError as exc:
        delivery.outcome = DeliveryOutcome.REJECTED
        delivery.errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    delivery.errors, delivery.result = _without_nul(delivery.errors), _without_nul(delivery.result)
    delivery.save()
    return delivery, True


def _without_nul(value):
    """An error may quote the input; jsonb holds no NUL character."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def webhook_payloads_purge(*, now=None) -> int:
    """Blank the raw bodies older than INTAKE_WEBHOOK_PAYLOAD_RETENTION_DAYS (the rows stay, so a replay is
    still recognised). A second run finds nothing to do."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.INTAKE_WEBHOOK_PAYLOAD_RETENTION_DAYS)
    return WebhookDelivery.objects.filter(received_at__lt=cutoff, body_purged_at__isnull=True).update(
        body="", body_purged_at=now
    )
