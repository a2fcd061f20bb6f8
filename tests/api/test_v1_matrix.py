"""Who may do what in /api/v1/: role × endpoint × another agent's object.

The objects belong to a case owned by bob (an agent). Every agent and manager reads everything; acting on bob's
case is for bob and managers; approving, rejecting and overriding are for managers. Anonymous callers and revoked
tokens get 401, a signed-in user without a role 403, whatever the endpoint.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apitokens.services import api_token_create, api_token_revoke
from cases.models import Case, CaseEvent
from cases.services import case_open, promise_record
from claims.services import claim_open_for_remedy
from inbox.models import InboundMessage, InboundProblem, InboundSource, InboundStatus
from orders.models import Shipment
from policies.models import Remedy, RemedyStatus
from tests.factories import OrderFactory, ShipmentFactory, UserFactory, ValidityRuleFactory, VoucherFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "revoked_token", "no_role", "another_agent", "owner_agent", "manager"]

# What each kind of endpoint answers each role: None means "the endpoint's own success code".
READ = {"anonymous": 401, "revoked_token": 401, "no_role": 403, "another_agent": None, "owner_agent": None,
        "manager": None}
ANY_AGENT = READ
WORK = {**READ, "another_agent": 403}  # acting on bob's case: bob and managers
MANAGE = {**WORK, "owner_agent": 403}  # managers only
MANAGER_READS = {**READ, "another_agent": 404, "owner_agent": 404}  # a list filtered for agents: not found


@pytest.fixture
def world(db):
    manager = UserFactory(username="maria", role="manager")
    bob = UserFactory(username="bob", role="agent")
    alice = UserFactory(username="alice", role="agent")
    ValidityRuleFactory()
    shipment = ShipmentFactory(order=OrderFactory())
    order = shipment.order
    customer = order.customer
    voucher = VoucherFactory(holder=customer)
    case = case_open(customer=customer, order=order, shipment=shipment, category="late_delivery",
                     channel="email", subject="Parcel late", owner=bob, opened_by=bob)
    promise = promise_record(case=case, description="Call back tomorrow", owner=bob, made_by=bob,
                             due_at=timezone.now() + timedelta(days=1))
    remedy = Remedy.objects.create(  # a remedy bob proposed, above his threshold: it waits for a manager
        case=case, customer=customer, kind="refund", amount=Decimal("50.00"), currency="EUR",
        rationale="lost parcel: refund", proposal_key=f"case-{case.pk}/rule-test/refund",
        status=RemedyStatus.PENDING_APPROVAL, needs_approval=True, proposed_by=bob,
    )
    absorbed = Remedy.objects.create(  # applied, recoverable from the courier: it opened a claim
        case=case, customer=customer, kind="absorb_cost", amount=Decimal("20.00"), currency="EUR",
        rationale="courier's fault", proposal_key=f"case-{case.pk}/rule-test/absorb", status=RemedyStatus.APPLIED,
        applied_at=timezone.now(), recoverable_from=shipment.courier,
    )
    claim = claim_open_for_remedy(absorbed)
    email = InboundMessage.objects.create(  # the customer's email on bob's case
        message_id="<late-parcel@mail.example>", raw=b"Subject: Parcel late\r\n\r\nWhere is it?",
        source=InboundSource.FILE, status=InboundStatus.PROCESSED, from_address=customer.email, case=case,
        subject="Parcel late", text="Where is it?", text_reply="Where is it?")
    unreadable = InboundMessage.objects.create(  # kept raw, on no case: for managers
        message_id="<broken@mail.example>", raw=b"garbage", source=InboundSource.PIPE,
        status=InboundStatus.UNPROCESSED, problem=InboundProblem.NO_SENDER, reason="no sender")
    return {"manager": manager, "bob": bob, "alice": alice, "case": case, "order": order, "shipment": shipment,
            "customer": customer, "voucher": voucher, "promise": promise, "remedy": remedy, "claim": claim,
            "email": email, "unreadable": unreadable}


def client_for(role: str, world) -> APIClient:
    client = APIClient()
    user = {"another_agent": world["alice"], "owner_agent": world["bob"], "manager": world["manager"]}.get(role)
    if role == "revoked_token":
        token, secret = api_token_create(user=world["bob"], name="old", by=world["manager"])
        api_token_revoke(token=token, by=world["manager"])
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    elif role == "no_role":
        client.force_login(UserFactory(username="visitor"))
    elif user is not None:
        _token, secret = api_token_create(user=user, name=f"{role} script", by=world["manager"])
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _c(w):
    return w["case"].pk


ENDPOINTS = {
    # name: (method, url, body, who may, success code)
    "cases list": ("get", lambda w: "/api/v1/cases/", None, READ, 200),
    "case detail": ("get", lambda w: f"/api/v1/cases/{_c(w)}/", None, READ, 200),
    "case proposals": ("get", lambda w: f"/api/v1/cases/{_c(w)}/proposals/", None, READ, 200),
    "customers list": ("get", lambda w: "/api/v1/customers/", None, READ, 200),
    "customer detail": ("get", lambda w: f"/api/v1/customers/{w['customer'].pk}/", None, READ, 200),
    "vouchers list": ("get", lambda w: "/api/v1/vouchers/", None, READ, 200),
    "voucher detail": ("get", lambda w: f"/api/v1/vouchers/{w['voucher'].pk}/", None, READ, 200),
    "orders list": ("get", lambda w: "/api/v1/orders/", None, READ, 200),
    "order detail": ("get", lambda w: f"/api/v1/orders/{w['order'].pk}/", None, READ, 200),
    "shipments list": ("get", lambda w: "/api/v1/shipments/", None, READ, 200),
    "shipment detail": ("get", lambda w: f"/api/v1/shipments/{w['shipment'].pk}/", None, READ, 200),
    "promises list": ("get", lambda w: "/api/v1/promises/", None, READ, 200),
    "promise detail": ("get", lambda w: f"/api/v1/promises/{w['promise'].pk}/", None, READ, 200),
    "remedies list": ("get", lambda w: "/api/v1/remedies/", None, READ, 200),
    "remedy detail": ("get", lambda w: f"/api/v1/remedies/{w['remedy'].pk}/", None, READ, 200),
    "claims list": ("get", lambda w: "/api/v1/claims/", None, READ, 200),
    "claim detail": ("get", lambda w: f"/api/v1/claims/{w['claim'].pk}/", None, READ, 200),
    "inbound messages list": ("get", lambda w: "/api/v1/inbound-messages/", None, READ, 200),
    "inbound message detail": ("get", lambda w: f"/api/v1/inbound-messages/{w['email'].pk}/", None, READ, 200),
    "unprocessed inbound message": ("get", lambda w: f"/api/v1/inbound-messages/{w['unreadable'].pk}/", None,
                                    MANAGER_READS, 200),
    "open a case": ("post", lambda w: "/api/v1/cases/",
                    lambda w: {"customer": w["customer"].pk, "category": "other", "channel": "phone",
                               "subject": "A question"}, ANY_AGENT, 201),
    "take next": ("post", lambda w: "/api/v1/cases/take-next/", None, ANY_AGENT, 204),
    "add a note": ("post", lambda w: f"/api/v1/cases/{_c(w)}/notes/", lambda w: {"text": "Called the courier"},
                   WORK, 201),
    "record a promise": ("post", lambda w: f"/api/v1/cases/{_c(w)}/promises/",
                         lambda w: {"description": "Refund by Friday",
                                    "due_at": (timezone.now() + timedelta(days=2)).isoformat()}, WORK, 201),
    "close a promise": ("post", lambda w: f"/api/v1/cases/{_c(w)}/promises/{w['promise'].pk}/close/",
                        lambda w: {"kept": True}, WORK, 200),
    "change status": ("post", lambda w: f"/api/v1/cases/{_c(w)}/status/",
                      lambda w: {"status": "waiting_on_customer"}, WORK, 200),
    "take the case": ("post", lambda w: f"/api/v1/cases/{_c(w)}/take/", None, WORK, 200),
    "hand the case back": ("post", lambda w: f"/api/v1/cases/{_c(w)}/assign/", lambda w: {"owner": None}, WORK, 200),
    "apply a proposal": ("post", lambda w: f"/api/v1/cases/{_c(w)}/proposals/apply/",
                         lambda w: {"key": "case-0/rule-none/refund"}, WORK, 400),  # the check comes first
    "record a shipment": ("post", lambda w: "/api/v1/shipments/",
                          lambda w: {"order_number": w["order"].number, "courier": w["shipment"].courier.name,
                                     "tracking_number": "NEW-1", "estimated_delivery": "2026-12-10"},
                          ANY_AGENT, 201),
    "record a tracking event": ("post", lambda w: "/api/v1/shipment-events/",
                                lambda w: {"tracking_number": w["shipment"].tracking_number, "external_id": "ev-1",
                                           "code": "delayed", "occurred_at": timezone.now().isoformat()},
                                WORK, 201),
    "delivery check": ("post", lambda w: f"/api/v1/shipments/{w['shipment'].pk}/delivery-check/",
                       lambda w: {"received": [{"sku": "SKU-1", "quantity": 1}]}, WORK, 200),
    "assign to another": ("post", lambda w: f"/api/v1/cases/{_c(w)}/assign/", lambda w: {"owner": "alice"},
                          MANAGE, 200),
    "override": ("post", lambda w: f"/api/v1/cases/{_c(w)}/override/",
                 lambda w: {"kind": "free_item", "amount": "20.00", "reason": "The VP promised it"}, MANAGE, 201),
    "approve a remedy": ("post", lambda w: f"/api/v1/remedies/{w['remedy'].pk}/approve/", None, MANAGE, 200),
    "reject a remedy": ("post", lambda w: f"/api/v1/remedies/{w['remedy'].pk}/reject/",
                        lambda w: {"reason": "Already refunded by the courier"}, MANAGE, 200),
}


def _changes(world) -> tuple:
    """A fingerprint of everything a write could change."""
    case = Case.objects.get(pk=world["case"].pk)
    remedy = Remedy.objects.get(pk=world["remedy"].pk)
    return (Case.objects.count(), CaseEvent.objects.count(), Shipment.objects.count(), Remedy.objects.count(), case.owner_id, case.status,
            remedy.status, world["promise"].__class__.objects.get(pk=world["promise"].pk).status)


def _cases():
    for endpoint in ENDPOINTS:
        for role in ROLES:
            yield pytest.param(endpoint, role, id=f"{endpoint}-{role}")


@pytest.mark.parametrize("endpoint,role", list(_cases()))
def test_role_by_endpoint_on_another_agents_case(world, endpoint, role):
    # given bob's case, its promise, its waiting remedy, and a caller in this role
    method, url, body, allowed, success = ENDPOINTS[endpoint]
    client = client_for(role, world)
    before = _changes(world)
    # when
    response = getattr(client, method)(url(world), body(world) if body else None, format="json")
    # then
    expected = allowed[role] or success
    assert response.status_code == expected, (endpoint, role, response.content[:300])
    if expected in (401, 403):
        assert _changes(world) == before, "a refused request changed something"
        assert "detail" in response.json()
    if expected == 401:
        assert response.headers.get("WWW-Authenticate") == "Bearer"


@pytest.mark.parametrize("role,expected", [("another_agent", 403), ("owner_agent", 403), ("manager", 200)])
def test_nobody_approves_their_own_remedy(world, role, expected):
    # given a remedy the caller proposed
    user = {"another_agent": world["alice"], "owner_agent": world["bob"], "manager": world["manager"]}[role]
    Remedy.objects.filter(pk=world["remedy"].pk).update(proposed_by=user)
    client = client_for(role, world)
    # when
    response = client.post(f"/api/v1/remedies/{world['remedy'].pk}/approve/")
    # then: a manager approving their own remedy is refused too
    if role == "manager":
        assert response.status_code == 403
        assert Remedy.objects.get(pk=world["remedy"].pk).status == RemedyStatus.PENDING_APPROVAL
    else:
        assert response.status_code == expected


def test_another_cases_promise_is_not_found_through_this_case(world):
    other = case_open(customer=world["customer"], category="other", channel="phone", subject="Other",
                      owner=world["bob"])
    client = client_for("owner_agent", world)
    response = client.post(f"/api/v1/cases/{other.pk}/promises/{world['promise'].pk}/close/", {"kept": True},
                           format="json")
    assert response.status_code == 404
    assert world["promise"].__class__.objects.get(pk=world["promise"].pk).status == "open"
