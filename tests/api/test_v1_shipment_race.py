"""POST /api/v1/shipments/ twice at the same moment: the unique constraint on (courier, tracking number) decides,
and both callers get the one shipment (orders.services.shipment_receive), on PostgreSQL."""

import threading

import pytest
from django.db import connection

from orders.models import Courier, Shipment
from orders.services import shipment_receive
from tests.factories import CourierFactory, OrderFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_shop_systems_reporting_one_shipment_at_once_make_one_shipment():
    order = OrderFactory(number="BO-90")
    courier = CourierFactory(name="FastCourier")
    barrier, results, errors = threading.Barrier(2), [], []

    def report():
        try:
            barrier.wait(timeout=10)
            results.append(shipment_receive(order_number="BO-90", courier=Courier.objects.get(pk=courier.pk),
                                            tracking_number="RO-RACE-1", estimated_delivery=None))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=report) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert Shipment.objects.filter(order=order).count() == 1
    assert {shipment.pk for shipment, _created in results} == {Shipment.objects.get().pk}
    assert sorted(created for _shipment, created in results) == [False, True]
