from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from macros.services import macro_save
from policies.models import Remedy, RemedyStatus
from tests.dashboard.conftest import agent_client, login, manager_client  # noqa: F401 (fixtures and the helper, shared)
from tests.factories import (
    CaseFactory,
    CourierFactory,
    CustomerFactory,
    OrderFactory,
    ShipmentFactory,
    VoucherFactory,
)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.MACRO_TRACKING_LINKS = {"Cargus": "https://track.cargus.example/?awb={tracking_number}"}


def full_case(*, language="ro", owner=None, category="late_delivery", name="Elena Popescu"):
    """A case with every placeholder's value: order, voucher (until 5 December 2026), a Cargus shipment and an
    applied 150.00 RON discount."""
    customer = CustomerFactory(name=name, preferred_language=language)
    order = OrderFactory(customer=customer, number="1004", currency="RON")
    shipment = ShipmentFactory(order=order, courier=CourierFactory(name="Cargus"), tracking_number="CG 77/1")
    voucher = VoucherFactory(holder=customer, code="GIFT-RO-1", issued_at=timezone.now() - timedelta(days=30),
                             valid_until=date(2026, 12, 5))
    case = CaseFactory(customer=customer, order=order, shipment=shipment, voucher=voucher, owner=owner,
                       category=category)
    Remedy.objects.create(
        case=case, customer=customer, kind="discount", amount=Decimal("150.00"), currency="RON",
        budget="customer_care", rule_id="test", rationale="For the test.", proposal_key=f"test/{case.pk}",
        status=RemedyStatus.APPLIED, applied_at=timezone.now())
    return case


ALL_PLACEHOLDERS = ("{customer_name}|{order_number}|{voucher_code}|{voucher_expiry}|{tracking_number}|"
                    "{tracking_link}|{remedy}|{remedy_amount}")


def make_macro(name="Late parcel", *, category="", texts=None, **fields):
    return macro_save(name=name, category=category, texts=texts if texts is not None else {
        "en": "Dear {customer_name}, order {order_number} is on its way.",
        "ro": "Bună ziua, {customer_name}, comanda {order_number} este pe drum.",
        "it": "Gentile {customer_name}, l'ordine {order_number} è in viaggio.",
    }, **fields)
