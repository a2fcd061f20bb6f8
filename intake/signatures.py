"""Is this webhook body from the source it claims, and fresh? HMAC-SHA256 over the raw bytes, per source kind.

- Shopify: ``X-Shopify-Hmac-Sha256`` = base64(HMAC(secret, body)); the event id is ``X-Shopify-Webhook-Id``.
  Shopify signs no time, so the window is checked on ``X-Shopify-Triggered-At`` when sent, and a replay is
  stopped by the webhook id (kept for ever, see intake.models.WebhookDelivery).
- Everyone (and the only scheme of the generic sources): ``X-Caseapp-Timestamp`` (Unix seconds) and
  ``X-Caseapp-Signature: sha256=<hex HMAC(secret, timestamp + "." + body)>``; the event id is
  ``X-Caseapp-Event-Id``. A timestamp outside INTAKE_WEBHOOK_TOLERANCE_SECONDS is refused.
- WooCommerce may instead sign natively: ``X-WC-Webhook-Signature`` = base64(HMAC(secret, body)), event id
  ``X-WC-Webhook-Delivery-ID`` (no signed time: replays are stopped by the delivery id).
- AfterShip may instead sign natively: ``aftership-hmac-sha256`` = base64(HMAC(secret, body)); the window is
  checked on the body's signed ``ts`` and the event id is the body's ``event_id``.
"""

import base64
import hashlib
import hmac
import json
from datetime import datetime

from .models import SourceKind


class SignatureRefused(Exception):
    """401: the body is not from the source, or too old. The message says which (never the expected value)."""


def _digest(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _base64_matches(secret: str, body: bytes, given: str) -> bool:
    expected = base64.b64encode(_digest(secret, body)).decode()
    return hmac.compare_digest(expected.encode(), (given or "").strip().encode())


def caseapp_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Caseapp-Signature for this body (senders and tests compute it the same way)."""
    return "sha256=" + _digest(secret, timestamp.encode() + b"." + body).hex()


def _fresh(moment: float, *, now: float, tolerance: int) -> None:
    if abs(now - moment) > tolerance:
        raise SignatureRefused("The timestamp is outside the allowed window.")


def _unix(value: str) -> float:
    try:
        return float(int(str(value).strip()))
    except (TypeError, ValueError) as exc:
        raise SignatureRefused("The timestamp is not Unix seconds.") from exc


def verify(*, kind: str, secret: str, headers, body: bytes, now: float, tolerance: int) -> str:
    """Check the signature and freshness; return the sender's event id ('' when it sent none)."""
    if headers.get("X-Caseapp-Signature"):
        timestamp = headers.get("X-Caseapp-Timestamp", "")
        moment = _unix(timestamp)
        expected = caseapp_signature(secret, timestamp.strip(), body)
        if not hmac.compare_digest(expected.encode(), headers["X-Caseapp-Signature"].strip().encode()):
            raise SignatureRefused("The signature does not match the body.")
        _fresh(moment, now=now, tolerance=tolerance)
        return headers.get("X-Caseapp-Event-Id", "").strip()
    if kind == SourceKind.SHOPIFY and headers.get("X-Shopify-Hmac-Sha256"):
        if not _base64_matches(secret, body, headers["X-Shopify-Hmac-Sha256"]):
            raise SignatureRefused("The signature does not match the body.")
        triggered = headers.get("X-Shopify-Triggered-At")
        if triggered:
            try:
                moment = datetime.fromisoformat(triggered.strip().replace("Z", "+00:00")).timestamp()
            except ValueError as exc:
                raise SignatureRefused("X-Shopify-Triggered-At is not a time.") from exc
            _fresh(moment, now=now, tolerance=tolerance)
        return headers.get("X-Shopify-Webhook-Id", "").strip()
    if kind == SourceKind.WOOCOMMERCE and headers.get("X-WC-Webhook-Signature"):
        if not _base64_matches(secret, body, headers["X-WC-Webhook-Signature"]):
            raise SignatureRefused("The signature does not match the body.")
        return headers.get("X-WC-Webhook-Delivery-ID", "").strip()
    if kind == SourceKind.AFTERSHIP and headers.get("aftership-hmac-sha256"):
        if not _base64_matches(secret, body, headers["aftership-hmac-sha256"]):
            raise SignatureRefused("The signature does not match the body.")
        try:
            signed = json.loads(body)
            moment, event_id = _unix(signed.get("ts")), str(signed.get("event_id") or "")
        except (ValueError, AttributeError, RecursionError) as exc:
            raise SignatureRefused("An AfterShip body carries its signed time in ts.") from exc
        _fresh(moment, now=now, tolerance=tolerance)
        return event_id.strip()
    raise SignatureRefused("The request is not signed.")
