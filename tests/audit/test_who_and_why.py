"""Who and why on PostgreSQL: an API token's user, and the reason a service was given."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import CustomerAudit, OrderAudit, VoucherAudit
from orders.models import OrderStatus
from orders.services import order_cancel
from tests.api.conftest import token_client
from tests.factories import OrderFactory, VoucherFactory
from vouchers.services import voucher_extend

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_an_api_write_records_the_tokens_user(agent, manager):
    # given a script with an agent's token (DRF authenticates it in the view, after the middleware)
    client = token_client(agent, by=manager)
    # when
    response = client.post("/api/v1/customers/", {"email": "elena@mail.example", "name": "Elena"}, format="json")
    # then
    assert response.status_code == 201, response.content
    event = CustomerAudit.objects.select_related("pgh_context").get(email="elena@mail.example", pgh_label="insert")
    assert event.pgh_context.metadata["username"] == agent.username
    assert event.pgh_context.metadata["url"] == "/api/v1/customers/"


def test_a_services_reason_is_recorded_with_the_change(agent):
    # given
    voucher = VoucherFactory()
    order = OrderFactory(status=OrderStatus.PLACED)
    # when
    voucher_extend(voucher=voucher, until=timezone.localdate() + timedelta(days=400), reason="Courier lost it")
    order_cancel(order=order, reason="Customer changed her mind")
    # then
    extended = VoucherAudit.objects.filter(pgh_obj=voucher).select_related("pgh_context").latest("pgh_id")
    assert extended.pgh_context.metadata["reason"] == "Courier lost it"
    cancelled = OrderAudit.objects.filter(pgh_obj=order).select_related("pgh_context").latest("pgh_id")
    assert (cancelled.status, cancelled.pgh_context.metadata["reason"]) == (OrderStatus.CANCELLED,
                                                                          "Customer changed her mind")
