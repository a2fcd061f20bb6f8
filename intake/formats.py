"""Each shop system's shape of an order or tracking event, mapped onto the generic one (intake.serializers).

Mapping only: nothing here writes, and nothing here decides what is valid (the serializer does, with field
errors). A value the mapping cannot read is passed on as it is, so the error names it."""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from orders.models import OrderStatus, PaymentMethod

# --- statuses and payment methods ------------------------------------------------------------------------

SHOPIFY_FINANCIAL = {
    "pending": OrderStatus.PLACED, "authorized": OrderStatus.PLACED, "partially_paid": OrderStatus.PLACED,
    "paid": OrderStatus.PAID, "partially_refunded": OrderStatus.PARTIALLY_REFUNDED,
    "refunded": OrderStatus.REFUNDED, "voided": OrderStatus.VOIDED, "expired": OrderStatus.VOIDED,
}
WOOCOMMERCE_STATUS = {
    "pending": OrderStatus.PLACED, "on-hold": OrderStatus.PLACED, "processing": OrderStatus.PAID,
    "completed": OrderStatus.SHIPPED, "cancelled": OrderStatus.CANCELLED, "refunded": OrderStatus.REFUNDED,
    "failed": OrderStatus.VOIDED,
}


def _key(value) -> str:
    return str(value or "").strip().lower().replace("_", "-").replace(" ", "-")


def shopify_status(financial: str, fulfillment: str = "", cancelled: bool = False) -> str:
    """Refunds and voids are kept as such; otherwise a cancelled order is cancelled, a fulfilled one shipped."""
    status = SHOPIFY_FINANCIAL.get(str(financial or "").strip().lower().replace(" ", "_"), financial or "placed")
    if status in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.VOIDED):
        return status
    if cancelled:
        return OrderStatus.CANCELLED
    if str(fulfillment or "").strip().lower() == "fulfilled" and status in (OrderStatus.PLACED, OrderStatus.PAID):
        return OrderStatus.SHIPPED
    return status


def woocommerce_status(value: str) -> str:
    value = str(value or "").strip().lower()
    value = value.removeprefix("wc-")
    return WOOCOMMERCE_STATUS.get(value, value or OrderStatus.PLACED)


def payment_method(value: str) -> str:
    """A gateway's name or code as our payment method; an unknown gateway that takes money is a card payment."""
    key = _key(value)
    if not key:
        return PaymentMethod.CARD
    if key in ("cod", "cash-on-delivery", "cash-on-delivery-(cod)", "ramburs", "plata-ramburs", "contrassegno",
               "nalozhennyy-platezh", "наложенный-платеж", "наложенный-платёж") or "cash-on-delivery" in key \
            or "(cod)" in key:
        return PaymentMethod.CASH_ON_DELIVERY
    if key in ("bacs", "bank-transfer", "bank-deposit", "direct-bank-transfer", "transfer-bancar", "bonifico"):
        return PaymentMethod.BANK_TRANSFER
    return PaymentMethod.CARD


# --- dates and amounts -----------------------------------------------------------------------------------

DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                    "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S")
PROMISED_DATE_KEYS = ("delivery date", "delivery-date", "delivery_date", "promised delivery date",
                      "promised_delivery_date", "_delivery_date", "deliver on", "data livrare")


def timestamp(value):
    """An export's or payload's time as ISO 8601; a time without an offset is UTC (as WooCommerce's *_gmt)."""
    text = str(value or "").strip()
    for pattern in DATETIME_FORMATS:
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.isoformat()
    return text or None  # the serializer says what is wrong with it


def amount(value, *, default="0"):
    """An amount as a string for the serializer: blank is the default; a number is kept exactly as written."""
    if value is None or str(value).strip() == "":
        return default
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def rounded(value, *, default="0"):
    """WooCommerce computes a line's unit price (total / quantity) and may send it with many decimals."""
    text = amount(value, default=default)
    try:
        return str(Decimal(text).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return text


def promised_date(pairs) -> str | None:
    """The shop's promised delivery date from its order attributes, e.g. Shopify's note attribute
    "Delivery date" or a WooCommerce meta "_delivery_date" (the common delivery-date plugins)."""
    for key, value in pairs:
        if str(key or "").strip().lower() in PROMISED_DATE_KEYS and str(value or "").strip():
            return str(value).strip()[:10]
    return None


def _name(*parts) -> str:
    return " ".join(str(p).strip() for p in parts if p and str(p).strip())


# --- Shopify ---------------------------------------------------------------------------------------------

def shopify_order(payload: dict) -> dict:
    """A Shopify `orders/create` or `orders/updated` webhook body (REST Admin API order resource)."""
    customer = payload.get("customer") or {}
    shipping = payload.get("shipping_address") or {}
    gateways = payload.get("payment_gateway_names") or [payload.get("gateway") or ""]
    shipping_amount = ((payload.get("total_shipping_price_set") or {}).get("shop_money") or {}).get("amount")
    if shipping_amount is None:
        shipping_amount = sum((Decimal(str(line.get("price") or 0)) for line in payload.get("shipping_lines") or []),
                              Decimal("0"))
    return {
        "number": str(payload.get("name") or payload.get("order_number") or ""),
        "placed_at": payload.get("created_at") or payload.get("processed_at"),
        "currency": payload.get("currency"),
        "status": shopify_status(payload.get("financial_status"), payload.get("fulfillment_status"),
                                 bool(payload.get("cancelled_at"))),
        "customer": {
            "email": payload.get("email") or payload.get("contact_email") or customer.get("email") or "",
            "name": _name(customer.get("first_name"), customer.get("last_name")) or shipping.get("name") or "",
            "phone": customer.get("phone") or payload.get("phone") or shipping.get("phone") or "",
        },
        "lines": [
            {"sku": line.get("sku") or "", "name": line.get("title") or line.get("name") or "",
             "quantity": line.get("quantity"), "unit_price": amount(line.get("price"), default=None),
             "variant": line.get("variant_title") or ""}
            for line in payload.get("line_items") or []
        ],
        "payment_method": payment_method(gateways[0] if gateways else ""),
        "shipping_amount": amount(shipping_amount),
        "tax_amount": amount(payload.get("total_tax")),
        "discount_amount": amount(payload.get("total_discounts")),
        "total": amount(payload.get("total_price"), default=None),
        "promised_delivery_date": promised_date(
            (attr.get("name"), attr.get("value")) for attr in payload.get("note_attributes") or []
        ),
        "shipping_address": {
            "name": shipping.get("name") or _name(shipping.get("first_name"), shipping.get("last_name")),
            "street": _name(shipping.get("address1"), shipping.get("address2")),
            "city": shipping.get("city") or "", "postcode": shipping.get("zip") or "",
            "country": shipping.get("country_code") or "",
        },
    }


# --- WooCommerce -----------------------------------------------------------------------------------------

def woocommerce_order(payload: dict) -> dict:
    """A WooCommerce `order.created` / `order.updated` webhook body (REST API v3 order resource)."""
    billing = payload.get("billing") or {}
    shipping = payload.get("shipping") or {}
    return {
        "number": str(payload.get("number") or payload.get("id") or ""),
        "placed_at": timestamp(payload.get("date_created_gmt") or payload.get("date_created")),
        "currency": payload.get("currency"),
        "status": woocommerce_status(payload.get("status")),
        "customer": {
            "email": billing.get("email") or "",
            "name": _name(billing.get("first_name"), billing.get("last_name")),
            "phone": billing.get("phone") or "",
        },
        "lines": [
            {"sku": line.get("sku") or "", "name": line.get("name") or "", "quantity": line.get("quantity"),
             "unit_price": rounded(line.get("price"), default=None), "variant": ""}
            for line in payload.get("line_items") or []
        ],
        "payment_method": payment_method(payload.get("payment_method") or payload.get("payment_method_title")),
        "shipping_amount": amount(payload.get("shipping_total")),
        "tax_amount": amount(payload.get("total_tax")),
        "discount_amount": amount(payload.get("discount_total")),
        "total": amount(payload.get("total"), default=None),
        "promised_delivery_date": promised_date(
            (meta.get("key"), meta.get("value")) for meta in payload.get("meta_data") or [] if isinstance(meta, dict)
        ),
        "shipping_address": {
            "name": _name(shipping.get("first_name"), shipping.get("last_name")),
            "street": _name(shipping.get("address_1"), shipping.get("address_2")),
            "city": shipping.get("city") or "", "postcode": shipping.get("postcode") or "",
            "country": shipping.get("country") or "",
        },
    }


# --- AfterShip -------------------------------------------------------------------------------------------

AFTERSHIP_TAG_CODE = {
    "InfoReceived": "info_received", "InTransit": "in_transit", "OutForDelivery": "out_for_delivery",
    "AttemptFail": "delayed", "Delivered": "delivered", "AvailableForPickup": "available_for_pickup",
    "Exception": "delayed", "Expired": "lost", "Pending": "pending",
}


def aftership_event(payload: dict) -> dict:
    """An AfterShip tracking webhook (`tracking_update`): the tracking's latest checkpoint is the event."""
    msg = payload.get("msg") or {}
    checkpoints = msg.get("checkpoints") or []
    latest = checkpoints[-1] if checkpoints else {}
    tag = latest.get("tag") or msg.get("tag") or ""
    occurred = latest.get("checkpoint_time") or msg.get("updated_at")
    expected = msg.get("expected_delivery") or (msg.get("courier_estimated_delivery_date") or {}).get(
        "estimated_delivery_date")
    return {
        "tracking_number": msg.get("tracking_number") or "",
        "event_id": f"aftership:{occurred}:{latest.get('subtag') or msg.get('subtag') or tag}"[:100],
        "occurred_at": occurred,
        "code": AFTERSHIP_TAG_CODE.get(tag, str(tag).lower()[:40]),
        "text": (latest.get("message") or msg.get("subtag_message") or "")[:300],
        "location": (latest.get("location") or latest.get("city") or "")[:120],
        "estimated_delivery": str(expected)[:10] if expected else None,
    }
