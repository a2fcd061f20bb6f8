"""schemathesis against /api/v1/schema/, in-process on the WSGI app, authenticated as a manager's token.

Bounded: a few examples per operation (positive and negative data). It fails on any 5xx and on any response
that does not match the schema. Half of the generated ids are swapped for ids of real rows, so the writes reach
the services with generated bodies instead of stopping at a 404.
"""

from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from apitokens.services import api_token_create
from cases.services import case_open, promise_record
from inbox.services import inbound_email_receive
from tests.factories import (
    OrderFactory,
    ShipmentFactory,
    UserFactory,
    ValidityRuleFactory,
    VoucherFactory,
)

MAX_EXAMPLES = 12

APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", APP)
schema.config.phases.coverage.enabled = False  # its boundary cases multiply the requests far past the budget


@pytest.fixture
def shop(db, django_settings_overrides):
    """A manager's token and one row of each resource."""
    manager = UserFactory(username="maria", role="manager")
    agent = UserFactory(username="alice", role="agent")
    _token, secret = api_token_create(user=manager, name="schemathesis", by=manager)
    shipment = ShipmentFactory(order=OrderFactory())
    customer = shipment.order.customer
    voucher = VoucherFactory(holder=customer, validity_rule=ValidityRuleFactory())
    case = case_open(customer=customer, order=shipment.order, shipment=shipment, category="late_delivery",
                     channel="email", subject="Where is my parcel?", opened_by=agent)
    promise = promise_record(case=case, description="Call back", due_at=timezone.now() + timedelta(days=1),
                             owner=agent, made_by=agent)
    email, _created = inbound_email_receive(  # the customer's email on the case: an email_in event links to it
        (f"From: {customer.email}\r\nTo: care@shop.example\r\nSubject: Re: [#{case.pk}] parcel\r\n"
         "Message-ID: <schemathesis-1@mail.example>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
         "<p>Still <b>nothing</b>.</p>").encode(), source="file")
    return {"secret": secret, "ids": {"customers": customer.pk, "orders": shipment.order.pk, "shipments": shipment.pk,
                                      "vouchers": voucher.pk, "cases": case.pk, "promises": promise.pk,
                                      "remedies": 1, "promise_id": promise.pk, "shipment_id": shipment.pk,
                                      "inbound-messages": email.pk}}


@pytest.fixture
def django_settings_overrides(settings):
    settings.API_TOKEN_THROTTLE_RATE = ""  # fairness throttling would only slow the run down
    # The WSGI handler closes "old" connections per request; inside the test's transaction that would drop it.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _real_ids(case, ids):
    resource = case.path.split("/")[3]
    for name, value in list((case.path_parameters or {}).items()):
        if isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = ids.get(name if name != "id" else resource, value)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_v1_answers_as_its_schema_says_and_never_with_a_5xx(case, shop):
    _real_ids(case, shop["ids"])
    response = case.call(headers={"Authorization": f"Bearer {shop['secret']}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance,
                                             content_type_conformance])
