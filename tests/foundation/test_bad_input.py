"""Bad input is refused with a message naming the field; the database stops what slips past clean()."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from caseapp.money import to_money, validate_currency
from customers.models import Customer
from orders.models import Order, Shipment, ShipmentEvent
from orders.services import order_create, shipment_event_record
from tests.factories import CustomerFactory, ShipmentFactory, ValidityRuleFactory, VoucherFactory
from vouchers.models import Voucher
from vouchers.services import voucher_issue

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ["-", "abc", "1,5", "NaN", "Infinity", "", "12.345"])
def test_malformed_amounts_are_refused(raw):
    with pytest.raises(ValidationError):
        to_money(raw)


def test_floats_are_refused_as_money():
    with pytest.raises(ValidationError) as exc:
        to_money(0.1)
    assert exc.value.code == "float_amount"


def test_unknown_currency_names_the_code():
    with pytest.raises(ValidationError) as exc:
        validate_currency("EUX")
    assert "EUX" in exc.value.messages[0]
    validate_currency("RON")  # a real one passes


def test_voucher_valid_until_before_issue_is_refused_by_clean_and_by_the_database():
    # given a voucher whose validity ends before it was issued
    voucher = VoucherFactory.build(
        holder=CustomerFactory(), validity_rule=ValidityRuleFactory(), issued_at=timezone.now(),
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    # when it is validated, then clean() names the field
    with pytest.raises(ValidationError) as exc:
        voucher.full_clean()
    assert "valid_until" in exc.value.message_dict
    # and when clean() is skipped, the database constraint stops it
    with pytest.raises(IntegrityError), transaction.atomic():
        voucher.save()
    assert not Voucher.objects.filter(code=voucher.code).exists()


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [({"value": Decimal("0.00"), "balance": Decimal("0.00")}, "voucher_value_positive"),
     ({"balance": Decimal("-1.00")}, "voucher_balance_not_negative"),
     ({"balance": Decimal("500.00")}, "voucher_balance_le_value"),
     ({"currency": "eur"}, "voucher_currency_iso")],
)
def test_voucher_constraints_stop_what_slips_past_clean(changes, constraint):
    voucher = VoucherFactory()
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        Voucher.objects.filter(pk=voucher.pk).update(**changes)
    assert constraint in str(exc.value)


def test_voucher_issue_refuses_negative_value_and_unknown_currency():
    ValidityRuleFactory()
    holder = CustomerFactory()
    with pytest.raises(ValidationError):
        voucher_issue(code="NEG", value="-10", currency="EUR", holder=holder, issued_at=timezone.now())
    with pytest.raises(ValidationError):
        voucher_issue(code="CUR", value="10", currency="XXQ", holder=holder, issued_at=timezone.now())
    assert not Voucher.objects.filter(code__in=["NEG", "CUR"]).exists()


def test_duplicate_email_in_another_case_is_refused():
    CustomerFactory(email="Elena.Popescu@mail.example")
    duplicate = Customer(name="Elena again", email="elena.popescu@MAIL.example")
    with pytest.raises(ValidationError) as exc:
        duplicate.full_clean()
    assert "email" in exc.value.message_dict
    with pytest.raises(IntegrityError) as db_exc, transaction.atomic():
        duplicate.save()
    assert "customer_email_unique_ci" in str(db_exc.value)


def test_order_with_a_bad_line_is_not_half_saved():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        order_create(
            number="HALF-1", customer=customer, placed_at=timezone.now(), currency="RON", payment_method="card",
            lines=[{"sku": "A", "name": "ok", "quantity": 1, "unit_price": "10.00"},
                   {"sku": "B", "name": "bad", "quantity": 1, "unit_price": "-3"}],
        )
    assert "Line 2" in exc.value.message_dict["lines"][0]
    assert not Order.objects.filter(number="HALF-1").exists()


def test_cod_order_needs_its_quoted_amount():
    with pytest.raises(ValidationError) as exc:
        order_create(number="COD-1", customer=CustomerFactory(), placed_at=timezone.now(), currency="RON",
                     payment_method="cod", lines=[{"sku": "A", "name": "x", "quantity": 1, "unit_price": "5"}])
    assert "cod_quoted_amount" in exc.value.message_dict


def test_order_total_is_computed_from_lines_and_shipping():
    order = order_create(
        number="TOT-1", customer=CustomerFactory(), placed_at=timezone.now(), currency="RON", payment_method="cod",
        cod_quoted_amount="180.00", shipping_amount="20.00",
        lines=[{"sku": "PAN", "name": "Pan", "quantity": 2, "unit_price": "80.00"}],
    )
    assert order.total == Decimal("180.00")
    assert order.lines.count() == 1


def test_shipment_event_for_unknown_tracking_number_is_refused():
    with pytest.raises(ValidationError) as exc:
        shipment_event_record(tracking_number="NOPE-1", external_id="e1", occurred_at=timezone.now(), code="delayed")
    assert "tracking_number" in exc.value.message_dict
    assert ShipmentEvent.objects.count() == 0


def test_shipment_event_is_stored_once_and_moves_the_status():
    shipment = ShipmentFactory()
    new_eta = timezone.localdate() + timedelta(days=3)
    first, created = shipment_event_record(
        tracking_number=shipment.tracking_number, external_id="ev-9", occurred_at=timezone.now(), code="delayed",
        estimated_delivery=new_eta,
    )
    again, created_again = shipment_event_record(
        tracking_number=shipment.tracking_number, external_id="ev-9", occurred_at=timezone.now(), code="delayed"
    )
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    shipment.refresh_from_db()
    assert shipment.status == "delayed"
    assert shipment.estimated_delivery == new_eta
    with pytest.raises(IntegrityError), transaction.atomic():
        ShipmentEvent.objects.create(shipment=shipment, external_id="ev-9", occurred_at=timezone.now(), code="x")


def test_negative_cod_label_amount_is_stopped_by_the_database():
    shipment = ShipmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Shipment.objects.filter(pk=shipment.pk).update(cod_amount=Decimal("-1"))


def test_admin_voucher_form_says_which_field_is_wrong(admin_client):
    rule = ValidityRuleFactory()
    holder = CustomerFactory()
    response = admin_client.post("/admin/vouchers/voucher/add/", {
        "code": "ADM-1", "holder": holder.pk, "value": "-10", "balance": "5", "currency": "EUR",
        "issued_at_0": "2026-01-10", "issued_at_1": "10:00:00", "valid_until": "2025-01-01",
        "validity_rule": rule.pk, "status": "active",
        "redemptions-TOTAL_FORMS": "0", "redemptions-INITIAL_FORMS": "0",
        "extensions-TOTAL_FORMS": "0", "extensions-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200  # the form is shown again, not saved
    errors = response.context["adminform"].form.errors
    assert "value" in errors
    assert "valid_until" in errors or "__all__" in errors
    assert not Voucher.objects.filter(code="ADM-1").exists()


def test_order_cancel_needs_a_reason_and_refuses_a_delivered_order():
    from orders.services import order_cancel

    order = order_create(number="CAN-1", customer=CustomerFactory(), placed_at=timezone.now(), currency="EUR",
                         payment_method="card", lines=[{"sku": "A", "name": "x", "quantity": 1, "unit_price": "5"}])
    with pytest.raises(ValidationError) as exc:
        order_cancel(order=order, reason=" ")
    assert "reason" in exc.value.message_dict
    assert order_cancel(order=order, reason="customer asked").status == "cancelled"
    Order.objects.filter(pk=order.pk).update(status="delivered")
    with pytest.raises(ValidationError):
        order_cancel(order=order, reason="too late")
