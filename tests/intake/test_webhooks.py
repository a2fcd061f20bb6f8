"""Webhooks in: signatures and freshness, replays, each source's payload shape, bad bodies, courier events."""

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from intake.models import DeliveryOutcome, SourceKind, WebhookDelivery, WebhookSource
from intake.services import webhook_payloads_purge
from intake.signatures import caseapp_signature
from notifications.models import Detection
from orders.models import Order, OrderStatus, PaymentMethod, ShipmentEvent, ShipmentStatus
from tests.factories import CourierFactory, OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db
SECRET = "s3cret-from-the-shop"


def _source(kind, name=None, **extra):
    return WebhookSource.objects.create(name=name or kind.replace("_", "-"), kind=kind, secret=SECRET, **extra)


def shopify_payload(**overrides):
    payload = {
        "id": 5700000001, "name": "#1001", "order_number": 1001, "email": "Elena.Popescu@Mail.Example",
        "created_at": "2026-11-28T10:15:22+02:00", "currency": "RON", "financial_status": "paid",
        "fulfillment_status": None, "cancelled_at": None, "total_price": "435.00", "subtotal_price": "420.00",
        "total_tax": "69.45", "total_discounts": "0.00", "taxes_included": True,
        "total_shipping_price_set": {"shop_money": {"amount": "15.00", "currency_code": "RON"}},
        "payment_gateway_names": ["Cash on Delivery (COD)"],
        "note_attributes": [{"name": "Delivery date", "value": "2026-12-05"}],
        "customer": {"id": 1, "email": "elena.popescu@mail.example", "first_name": "Elena", "last_name": "Popescu"},
        "shipping_address": {"first_name": "Elena", "last_name": "Popescu", "name": "Elena Popescu",
                             "address1": "Strada Florilor 12", "address2": "", "city": "București", "zip": "010101",
                             "country_code": "RO", "phone": "+40 721 000 111"},
        "line_items": [
            {"id": 1, "sku": "TEA-01", "title": "Ceai de tei", "variant_title": None, "quantity": 2, "price": "45.00"},
            {"id": 2, "sku": "MUG-BL", "title": "Cană ceramică", "variant_title": "Albastru", "quantity": 1,
             "price": "80.00"},
            {"id": 3, "sku": "GIFT-SET", "title": "Set cadou", "variant_title": None, "quantity": 1, "price": "250.00"},
        ],
    }
    payload.update(overrides)
    return payload


def post_shopify(client, body, *, webhook_id="wh-1", topic="orders/create", secret=SECRET, triggered_at=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"HTTP_X_SHOPIFY_HMAC_SHA256": base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256)
                                                              .digest()).decode(),
               "HTTP_X_SHOPIFY_TOPIC": topic, "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id}
    if triggered_at:
        headers["HTTP_X_SHOPIFY_TRIGGERED_AT"] = triggered_at
    return client.post("/api/v1/webhooks/shopify/", raw, content_type="application/json", **headers)


def post_signed(client, url, body, *, event_id="ev-1", timestamp=None, secret=SECRET, topic=""):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = str(int(timestamp if timestamp is not None else time.time()))
    return client.post(url, raw, content_type="application/json",
                       HTTP_X_CASEAPP_TIMESTAMP=timestamp, HTTP_X_CASEAPP_SIGNATURE=caseapp_signature(secret, timestamp, raw),
                       HTTP_X_CASEAPP_EVENT_ID=event_id, HTTP_X_CASEAPP_TOPIC=topic)


# --- Shopify -----------------------------------------------------------------------------------------------

def test_a_signed_shopify_order_is_created_with_its_customer_cod_quote_and_promised_date(client):
    # given the shop's Shopify source
    _source(SourceKind.SHOPIFY, name="shopify")
    # when Shopify sends orders/create
    response = post_shopify(client, shopify_payload())
    # then the order is there, as the shop sees it
    assert response.status_code == 200, response.content
    assert response.json()["result"]["outcome"] == "created"
    order = Order.objects.get(number="#1001")
    assert (order.total, order.payment_method, order.cod_quoted_amount) == (
        Decimal("435.00"), PaymentMethod.CASH_ON_DELIVERY, Decimal("435.00"))
    assert str(order.promised_delivery_date) == "2026-12-05" and order.lines.count() == 3
    assert order.customer.email == "Elena.Popescu@Mail.Example" and order.shipping_city == "București"
    assert WebhookDelivery.objects.get().outcome == DeliveryOutcome.PROCESSED


def test_orders_updated_changes_the_order_and_a_repeated_delivery_changes_it_once(client):
    _source(SourceKind.SHOPIFY, name="shopify")
    post_shopify(client, shopify_payload())
    # when Shopify sends orders/updated (refunded), twice with the same webhook id
    refunded = shopify_payload(financial_status="refunded")
    first = post_shopify(client, refunded, webhook_id="wh-2", topic="orders/updated")
    # meanwhile an agent's own correction happens
    Order.objects.filter(number="#1001").update(status=OrderStatus.PAID)
    repeat = post_shopify(client, refunded, webhook_id="wh-2", topic="orders/updated")
    # then the first changed it, the repeat changed nothing
    assert first.json()["result"]["outcome"] == "changed"
    assert repeat.status_code == 200 and repeat.json()["status"] == "duplicate"
    assert Order.objects.get(number="#1001").status == OrderStatus.PAID
    assert WebhookDelivery.objects.count() == 2


@pytest.mark.parametrize("tamper", ["bad-secret", "changed-body", "unsigned"])
def test_a_bad_signature_gets_401_and_changes_nothing(client, tamper):
    _source(SourceKind.SHOPIFY, name="shopify")
    raw = json.dumps(shopify_payload()).encode()
    if tamper == "bad-secret":
        response = post_shopify(client, raw, secret="guess")
    elif tamper == "changed-body":
        signature = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
        response = client.post("/api/v1/webhooks/shopify/", raw.replace(b"435.00", b"0.01"),
                               content_type="application/json", HTTP_X_SHOPIFY_HMAC_SHA256=signature,
                               HTTP_X_SHOPIFY_WEBHOOK_ID="wh-1", HTTP_X_SHOPIFY_TOPIC="orders/create")
    else:
        response = client.post("/api/v1/webhooks/shopify/", raw, content_type="application/json")
    assert response.status_code == 401
    assert not Order.objects.exists() and not WebhookDelivery.objects.exists()


def test_an_old_shopify_delivery_and_an_old_signed_timestamp_get_401(client):
    _source(SourceKind.SHOPIFY, name="shopify")
    _source(SourceKind.GENERIC_ORDERS, name="backoffice")
    old = (timezone.now() - timedelta(hours=1)).isoformat()
    assert post_shopify(client, shopify_payload(), triggered_at=old).status_code == 401
    response = post_signed(client, "/api/v1/webhooks/backoffice/", generic_order(), timestamp=time.time() - 3600)
    assert response.status_code == 401
    assert not Order.objects.exists()


# --- WooCommerce and generic -----------------------------------------------------------------------------

def woocommerce_payload():
    return {
        "id": 727, "number": "2041", "status": "processing", "currency": "RON",
        "date_created_gmt": "2026-11-28T09:12:00", "total": "190.00", "total_tax": "0.00", "shipping_total": "20.00",
        "discount_total": "0.00", "payment_method": "cod", "payment_method_title": "Cash on delivery",
        "billing": {"first_name": "Ion", "last_name": "Ionescu", "email": "ion.ionescu@mail.example", "phone": "+40 722"},
        "shipping": {"first_name": "Ion", "last_name": "Ionescu", "address_1": "Bd. Unirii 3", "address_2": "",
                     "city": "Cluj-Napoca", "postcode": "400001", "country": "RO"},
        "line_items": [{"id": 1, "name": "Șosete de lână", "sku": "SOCK-3", "quantity": 3, "price": 30},
                       {"id": 2, "name": "Căciulă", "sku": "HAT-1", "quantity": 1, "price": 80.0}],
        "meta_data": [{"id": 9, "key": "_delivery_date", "value": "2026-12-03"}],
    }


def test_a_woocommerce_order_signed_natively_is_created(client):
    _source(SourceKind.WOOCOMMERCE, name="woo")
    raw = json.dumps(woocommerce_payload()).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    response = client.post("/api/v1/webhooks/woo/", raw, content_type="application/json",
                           HTTP_X_WC_WEBHOOK_SIGNATURE=signature, HTTP_X_WC_WEBHOOK_DELIVERY_ID="d-1",
                           HTTP_X_WC_WEBHOOK_TOPIC="order.created")
    assert response.status_code == 200, response.content
    order = Order.objects.get(number="2041")
    assert (order.status, order.payment_method, order.total, str(order.promised_delivery_date)) == (
        OrderStatus.PAID, PaymentMethod.CASH_ON_DELIVERY, Decimal("190.00"), "2026-12-03")
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines.order_by("id")] == [
        ("SOCK-3", 3, Decimal("30.00")), ("HAT-1", 1, Decimal("80.00"))]


def generic_order(**overrides):
    payload = {"number": "BO-77", "placed_at": "2026-11-29T12:00:00+02:00", "currency": "EUR", "status": "paid",
               "customer": {"email": "giulia@mail.example", "name": "Giulia Bianchi", "language": "it"},
               "lines": [{"sku": "CUP", "name": "Tazza", "quantity": 2, "unit_price": "19.90"}],
               "payment_method": "card", "shipping_amount": "5.00",
               "shipping_address": {"city": "Milano", "country": "IT"}}
    payload.update(overrides)
    return payload


def test_a_generic_order_is_created_and_the_same_order_again_is_unchanged(client):
    _source(SourceKind.GENERIC_ORDERS, name="backoffice")
    first = post_signed(client, "/api/v1/webhooks/backoffice/", generic_order(), event_id="a")
    again = post_signed(client, "/api/v1/webhooks/backoffice/", generic_order(), event_id="b")
    assert first.json()["result"]["outcome"] == "created" and again.json()["result"]["outcome"] == "unchanged"
    order = Order.objects.get(number="BO-77")
    assert order.total == Decimal("44.80") and order.customer.preferred_language == "it"


@pytest.mark.parametrize(("body", "field"), [
    (b"{not json", "non_field_errors"),
    (b"[1, 2]", "non_field_errors"),
    (json.dumps(generic_order(currency="EUQ")).encode(), "currency"),
    (json.dumps(generic_order(shipping_amount="1.005")).encode(), "shipping_amount"),
    (json.dumps(generic_order(lines=[{"name": "x", "quantity": "two", "unit_price": "1.00"}])).encode(),
     "lines[1].quantity"),
    (json.dumps({k: v for k, v in generic_order().items() if k != "customer"}).encode(), "customer"),
    (json.dumps(generic_order(customer="giulia@mail.example")).encode(), "customer.non_field_errors"),
    (json.dumps(generic_order(placed_at="yesterday")).encode(), "placed_at"),
    (b'{"number": NaN}', "non_field_errors"),
    (b"[" * 100_000 + b"]" * 100_000, "non_field_errors"),
])
def test_bad_bodies_get_400_with_field_errors_and_write_no_order(client, body, field):
    _source(SourceKind.GENERIC_ORDERS, name="backoffice")
    response = post_signed(client, "/api/v1/webhooks/backoffice/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Order.objects.exists()
    assert WebhookDelivery.objects.get().outcome == DeliveryOutcome.REJECTED  # kept for debugging


def test_a_rejected_delivery_is_processed_when_the_sender_retries_it_fixed(client):
    _source(SourceKind.GENERIC_ORDERS, name="backoffice")
    assert post_signed(client, "/api/v1/webhooks/backoffice/", generic_order(currency="EUQ")).status_code == 400
    assert post_signed(client, "/api/v1/webhooks/backoffice/", generic_order()).status_code == 200
    assert Order.objects.filter(number="BO-77").exists()


def test_a_ten_megabyte_body_gets_413(client):
    _source(SourceKind.GENERIC_ORDERS, name="backoffice")
    response = post_signed(client, "/api/v1/webhooks/backoffice/", b"{" + b" " * 10_000_000 + b"}")
    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


def test_an_unknown_or_inactive_source_is_404(client):
    WebhookSource.objects.create(name="old", kind=SourceKind.GENERIC_ORDERS, secret=SECRET, is_active=False)
    assert post_signed(client, "/api/v1/webhooks/old/", generic_order()).status_code == 404
    assert post_signed(client, "/api/v1/webhooks/nobody/", generic_order()).status_code == 404


def test_a_delivery_without_an_event_id_is_refused(client):
    _source(SourceKind.GENERIC_ORDERS, name="backoffice")
    assert post_signed(client, "/api/v1/webhooks/backoffice/", generic_order(), event_id="").status_code == 400
    assert not Order.objects.exists()


# --- courier events ----------------------------------------------------------------------------------------

@pytest.fixture
def late_parcel(db):
    courier = CourierFactory(name="FAN Courier")
    order = OrderFactory(promised_delivery_date=timezone.localdate() + timedelta(days=1))
    shipment = ShipmentFactory(order=order, courier=courier, tracking_number="FAN123",
                               status=ShipmentStatus.IN_TRANSIT, handed_over_at=timezone.now() - timedelta(days=1))
    return shipment


def aftership_payload(tag="AttemptFail", checkpoint_time="2026-12-01T09:30:00+02:00", expected=None):
    return {"event": "tracking_update", "event_id": "af-evt-1", "is_tracking_first_tag": False, "ts": int(time.time()),
            "msg": {"id": "trk-1", "tracking_number": "FAN123", "slug": "fan-courier", "tag": tag,
                    "expected_delivery": expected,
                    "checkpoints": [
                        {"checkpoint_time": "2026-11-30T18:00:00+02:00", "tag": "InTransit", "message": "Plecat din depozit",
                         "location": "București"},
                        {"checkpoint_time": checkpoint_time, "tag": tag, "subtag": f"{tag}_001",
                         "message": "Destinatar absent", "location": "Cluj-Napoca"}]}}


def test_an_aftership_event_moves_the_shipment_and_wakes_the_late_check_on_commit(
        client, late_parcel, django_capture_on_commit_callbacks):
    # given the courier's AfterShip source
    _source(SourceKind.AFTERSHIP, name="aftership")
    raw = json.dumps(aftership_payload(expected=str(timezone.localdate() + timedelta(days=4)))).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    # when AfterShip reports a failed delivery attempt with a new estimate past the promised date
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/api/v1/webhooks/aftership/", raw, content_type="application/json",
                               HTTP_AFTERSHIP_HMAC_SHA256=signature)
    # then the shipment is delayed, and the late-delivery check was handed to the worker on commit
    assert response.status_code == 200, response.content
    assert response.json()["result"]["late_check"] is True
    late_parcel.refresh_from_db()
    assert late_parcel.status == ShipmentStatus.DELAYED
    assert ShipmentEvent.objects.get(shipment=late_parcel).location == "Cluj-Napoca"
    assert len(callbacks) == 1
    # and what the worker then does is the late-delivery handling, once
    from notifications.tasks import handle_late_shipments_task

    assert handle_late_shipments_task([late_parcel.pk]) == 1
    assert Detection.objects.filter(shipment=late_parcel).count() == 1


def test_a_generic_courier_event_is_stored_once_and_an_unknown_parcel_is_ignored(client, late_parcel):
    _source(SourceKind.GENERIC_TRACKING, name="courier", courier=late_parcel.courier)
    event = {"tracking_number": "FAN123", "event_id": "c-1", "occurred_at": timezone.now().isoformat(),
             "code": "delivered", "location": "Cluj-Napoca"}
    first = post_signed(client, "/api/v1/webhooks/courier/", event, event_id="x-1")
    second = post_signed(client, "/api/v1/webhooks/courier/", event, event_id="x-2")  # a new delivery, same event
    assert first.json()["result"]["created"] is True and second.json()["result"]["created"] is False
    late_parcel.refresh_from_db()
    assert late_parcel.status == ShipmentStatus.DELIVERED and late_parcel.events.count() == 1
    unknown = post_signed(client, "/api/v1/webhooks/courier/", {**event, "tracking_number": "NOPE"}, event_id="x-3")
    assert unknown.status_code == 200 and unknown.json()["status"] == DeliveryOutcome.IGNORED


def test_an_old_aftership_body_gets_401(client, late_parcel):
    _source(SourceKind.AFTERSHIP, name="aftership")
    body = aftership_payload()
    body["ts"] = int(time.time()) - 7200
    raw = json.dumps(body).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    response = client.post("/api/v1/webhooks/aftership/", raw, content_type="application/json",
                           HTTP_AFTERSHIP_HMAC_SHA256=signature)
    assert response.status_code == 401
    assert not ShipmentEvent.objects.exists()


# --- retention ---------------------------------------------------------------------------------------------

def test_raw_payloads_are_purged_after_the_retention_days_and_replays_still_recognised(client, settings):
    settings.INTAKE_WEBHOOK_PAYLOAD_RETENTION_DAYS = 7
    _source(SourceKind.GENERIC_ORDERS, name="backoffice")
    post_signed(client, "/api/v1/webhooks/backoffice/", generic_order(), event_id="old")
    post_signed(client, "/api/v1/webhooks/backoffice/", generic_order(number="BO-78"), event_id="new")
    WebhookDelivery.objects.filter(event_id="old").update(received_at=timezone.now() - timedelta(days=8))
    # when the beat task runs twice
    from intake.tasks import purge_webhook_payloads_task

    assert purge_webhook_payloads_task() == 1
    assert webhook_payloads_purge() == 0
    # then the old body is gone, the new one kept, and the old delivery sent again is still a duplicate
    assert WebhookDelivery.objects.get(event_id="old").body == ""
    assert "BO-78" in WebhookDelivery.objects.get(event_id="new").body
    with transaction.atomic():
        again = post_signed(client, "/api/v1/webhooks/backoffice/", generic_order(), event_id="old")
    assert again.json()["status"] == "duplicate"


def test_another_shopify_topic_is_acknowledged_as_ignored_and_writes_no_order(client):
    _source(SourceKind.SHOPIFY, name="shopify")
    response = post_shopify(client, {"id": 1, "title": "Ceai"}, topic="products/update")
    assert response.status_code == 200 and response.json()["status"] == DeliveryOutcome.IGNORED
    assert not Order.objects.exists()


@pytest.mark.parametrize("body", [
    b'{"number": "BO-1"\x00}',
    json.dumps(generic_order(currency="EU\u0000")).encode(),
    json.dumps(generic_order(customer={"email": "a@b.example", "name": "A\u0000"})).encode(),
])
def test_nul_characters_get_400_not_a_500(client, body):
    _source(SourceKind.GENERIC_ORDERS, name="backoffice")
    response = post_signed(client, "/api/v1/webhooks/backoffice/", body)
    assert response.status_code == 400, response.content
    assert not Order.objects.exists()
