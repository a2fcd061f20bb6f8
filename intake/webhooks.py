"""The webhook endpoints: verify, parse, hand to intake.services. No business rule here."""

import json
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import formats
from .models import TRACKING_KINDS, DeliveryOutcome, SourceKind, WebhookSource
from .serializers import OrderIn, TrackingEventIn, validated
from .services import DeliveryIgnored, order_ingest, tracking_event_ingest, webhook_delivery_receive
from .signatures import SignatureRefused, verify

ORDER_TOPICS = {"orders/create", "orders/updated", "order.created", "order.updated", ""}
MAPPERS = {
    SourceKind.SHOPIFY: formats.shopify_order,
    SourceKind.WOOCOMMERCE: formats.woocommerce_order,
    SourceKind.GENERIC_ORDERS: lambda payload: payload,
    SourceKind.AFTERSHIP: formats.aftership_event,
    SourceKind.GENERIC_TRACKING: lambda payload: payload,
}


def _error(status: int, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status=status)


def _payload(body: bytes) -> dict:
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValidationError({"non_field_errors": [f"The body is not JSON: {str(exc)[:200]}"]}) from exc
    if not isinstance(payload, dict):
        raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    return payload


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _topic(request) -> str:
    return (request.headers.get("X-Shopify-Topic") or request.headers.get("X-WC-Webhook-Topic")
            or request.headers.get("X-Caseapp-Topic") or "").strip()


def _process(source: WebhookSource, body: bytes, topic: str):
    def process() -> dict:
        payload = _payload(body)
        if source.kind in TRACKING_KINDS:
            if source.kind == SourceKind.AFTERSHIP and payload.get("event") not in (None, "tracking_update"):
                raise DeliveryIgnored(f"AfterShip event {str(payload.get('event'))[:50]} is not a tracking update.")
            data = validated(TrackingEventIn, _mapped(source.kind, payload))
            return tracking_event_ingest(data=data, courier=source.courier)
        if topic not in ORDER_TOPICS:
            raise DeliveryIgnored(f"Topic {topic[:50]} is not an order creation or update.")
        data = validated(OrderIn, _mapped(source.kind, payload))
        order, outcome = order_ingest(data=data)
        return {"order": order.number, "id": order.pk, "outcome": str(outcome)}

    return process


def _mapped(kind: str, payload: dict) -> dict:
    try:
        return MAPPERS[kind](payload)
    except (AttributeError, TypeError, KeyError) as exc:  # a list where an object belongs, and the like
        label = SourceKind(kind).label
        raise ValidationError({"non_field_errors": [f"The body does not have the shape of {label}."]}) from exc


@csrf_exempt
@require_POST
def webhook_receive(request, source_name: str):
    """POST /api/v1/webhooks/<source>/ — 200 processed (or already processed, or ignored), 400 with field
    errors (kept as a rejected delivery; a retry is processed again), 401 bad or old signature, 413 too big."""
    source = get_object_or_404(WebhookSource, name=source_name, is_active=True)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.INTAKE_WEBHOOK_MAX_BYTES:
        return _error(413, f"The body is larger than {settings.INTAKE_WEBHOOK_MAX_BYTES} bytes.")
    body = request.read(settings.INTAKE_WEBHOOK_MAX_BYTES + 1)
    if len(body) > settings.INTAKE_WEBHOOK_MAX_BYTES:
        return _error(413, f"The body is larger than {settings.INTAKE_WEBHOOK_MAX_BYTES} bytes.")
    try:
        event_id = verify(kind=source.kind, secret=source.secret, headers=request.headers, body=body,
                          now=time.time(), tolerance=settings.INTAKE_WEBHOOK_TOLERANCE_SECONDS)
    except SignatureRefused as exc:
        return _error(401, str(exc))
    if not event_id:
        return _error(400, "The delivery carries no event id (X-Caseapp-Event-Id, X-Shopify-Webhook-Id, …).")
    topic = _topic(request)
    delivery, is_new = webhook_delivery_receive(
        source=source, event_id=event_id[:200], topic=topic, body=body.decode("utf-8", errors="replace"),
        process=_process(source, body, topic),
    )
    if not is_new:
        return JsonResponse({"status": "duplicate", "delivery": delivery.pk, "result": delivery.result})
    if delivery.outcome == DeliveryOutcome.REJECTED:
        return JsonResponse({"status": "rejected", "delivery": delivery.pk, "errors": delivery.errors}, status=400)
    return JsonResponse({"status": delivery.outcome, "delivery": delivery.pk, "result": delivery.result})
