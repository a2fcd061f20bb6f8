from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.services import delivery_check
from orders.models import PaymentMethod
from policies.services import policy_default_ensure
from tests.factories import (
    CaseFactory,
    CourierFactory,
    CustomerFactory,
    OrderFactory,
    ShipmentFactory,
    ValidityRuleFactory,
)


@pytest.fixture
def policy(db):
    """The default policy, active (version 1 from the migration, or created on first use)."""
    ValidityRuleFactory()  # credit vouchers are issued under the rule in force
    return policy_default_ensure()


@pytest.fixture
def late_case(policy):
    """Story 5: an order promised three days ago, still on its way."""
    today = timezone.localdate()
    order = OrderFactory(total=Decimal("79.90"), placed_at=timezone.now() - timedelta(days=8),
                         promised_delivery_date=today - timedelta(days=3))
    shipment = ShipmentFactory(order=order, status="delayed", estimated_delivery=today + timedelta(days=1))
    return CaseFactory(customer=order.customer, order=order, shipment=shipment, category="late_delivery",
                       channel="system")


@pytest.fixture
def wrong_item_case(policy):
    order = OrderFactory(total=Decimal("60.00"))
    shipment = ShipmentFactory(order=order, status="delivered", delivered_at=timezone.now() - timedelta(hours=5),
                               courier=CourierFactory(name="Cargus"))
    case = CaseFactory(customer=order.customer, order=order, shipment=shipment, category="wrong_item")
    # what arrived, recorded on the case: another item than the one ordered (so the replacement costs that item)
    delivery_check(shipment=shipment, received=[{"sku": "SKU-9", "quantity": 1}], case=case)
    return case


@pytest.fixture
def cod_case(policy, agent):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, currency="RON", total=Decimal("180.00"),
                         payment_method=PaymentMethod.CASH_ON_DELIVERY, cod_quoted_amount=Decimal("180.00"))
    shipment = ShipmentFactory(order=order, cod_amount=Decimal("200.00"), courier=CourierFactory(name="Cargus"))
    return CaseFactory(customer=customer, order=order, shipment=shipment, category="cod_mismatch", owner=agent)
