"""The same delivery arriving twice at the same moment changes things once (the unique constraint decides)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from intake.models import SourceKind, WebhookDelivery, WebhookSource
from orders.models import Order, OrderLine
from tests.intake.test_webhooks import SECRET, generic_order, post_signed


def _at_once(event_ids):
    barrier, answers = threading.Barrier(len(event_ids)), []

    def deliver(event_id):
        try:
            barrier.wait()
            answers.append(post_signed(Client(), "/api/v1/webhooks/backoffice/", generic_order(), event_id=event_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(event_id,)) for event_id in event_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_deliveries_at_once_create_one_order_and_one_delivery():
    # given a generic source
    WebhookSource.objects.create(name="backoffice", kind=SourceKind.GENERIC_ORDERS, secret=SECRET)
    # when the sender delivers the same event twice at once
    answers = _at_once(["same", "same"])
    # then both are answered 200, one processed it, and the order exists once with its lines once
    assert sorted(a.status_code for a in answers) == [200, 200]
    assert sorted(a.json()["status"] for a in answers) == ["duplicate", "processed"]
    assert WebhookDelivery.objects.count() == 1
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_new_order_at_once_create_it_once():
    # given a generic source and two events (create, update) of one new order arriving together
    WebhookSource.objects.create(name="backoffice", kind=SourceKind.GENERIC_ORDERS, secret=SECRET)
    answers = _at_once(["create", "update"])
    # then both are processed: one created the order and its customer, the other found it unchanged
    assert sorted(a.json()["result"]["outcome"] for a in answers) == ["created", "unchanged"]
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1
    assert WebhookDelivery.objects.count() == 2
