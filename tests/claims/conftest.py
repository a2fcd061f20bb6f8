from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import ShipmentEvent
from policies.services import case_proposals, policy_default_ensure, remedy_apply
from tests.factories import CaseFactory, CourierFactory, OrderFactory, ShipmentFactory, ValidityRuleFactory


@pytest.fixture
def policy(db):
    ValidityRuleFactory()
    return policy_default_ensure()


def lost_parcel_case(*, total="120.00", owner=None, lost_days_ago=3, window_days=21, courier_name="SlowPost"):
    """A parcel the courier lost (its tracking says so) on a case owned by ``owner``."""
    courier = CourierFactory(name=courier_name)
    if courier.claim_window_days != window_days:
        courier.claim_window_days = window_days
        courier.save(update_fields=["claim_window_days"])
    order = OrderFactory(total=Decimal(total), placed_at=timezone.now() - timedelta(days=10))
    shipment = ShipmentFactory(order=order, courier=courier, status="lost")
    ShipmentEvent.objects.create(shipment=shipment, external_id="ev-1", code="in_transit",
                                 occurred_at=timezone.now() - timedelta(days=lost_days_ago + 2))
    ShipmentEvent.objects.create(shipment=shipment, external_id="ev-2", code="lost", text="Parcel lost",
                                 occurred_at=timezone.now() - timedelta(days=lost_days_ago))
    return CaseFactory(customer=order.customer, order=order, shipment=shipment, category="lost_parcel", owner=owner)


def apply_refund(case, by):
    (proposal,) = [p for p in case_proposals(case=case) if p.rule_id == "refund-lost-parcel"]
    return remedy_apply(case=case, proposal=proposal, by=by)


@pytest.fixture
def lost_case(policy, agent):
    return lost_parcel_case(owner=agent)
