"""The permission matrix: every role × every URL of the URLconf × the state of the object it acts on.

Roles: anonymous, a signed-in user with no role, two agents (alice, bob) and a manager. Objects: an unowned
case, alice's case and bob's case, each with its order, shipment and promise; so every agent meets an unowned
object, their own and another agent's. Each operation is a read (GET) or a write (POST, sent with a valid CSRF
token, and once more without one). The rules below are written out here, independently of
caseapp.permissions, which the views and services go through:

- anonymous: a page redirects to the login, the API answers 401/403;
- a signed-in user without a role: 403;
- an agent reads every case and works unowned cases and their own; another agent's case answers 403;
- a manager may do everything, and alone reaches the managers' pages;
- a refused write (403, or a missing CSRF token) changes nothing in the database.

The URL patterns are read from the URLconf: a URL added without an entry in ENDPOINTS (or EXEMPT, with the
reason) fails test_every_url_is_classified. Endpoints are keyed by their view, so the same view mounted twice
(e.g. under /api/v1/) is tested at both URLs. The world is built once per module; every request runs in its own
savepoint, rolled back after the test.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
import yaml
from django.conf import settings
from django.db import transaction
from django.middleware.csrf import CSRF_ALLOWED_CHARS
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent, Promise
from claims.models import Claim
from claims.services import claim_open_for_remedy
from notifications.models import Message
from orders.models import Order, Shipment, ShipmentEvent
from policies.models import PolicyVersion, Remedy, RemedyStatus
from policies.services import policy_version_activate, policy_version_create
from tests.factories import (
    CaseFactory,
    CustomerFactory,
    OrderFactory,
    PromiseFactory,
    ShipmentFactory,
    UserFactory,
)
from vouchers.models import Voucher

ACTORS = ("anonymous", "no_role", "alice", "bob", "manager")
STATES = ("unowned", "alice's", "bob's")  # who owns the case the URL acts on
OWNER_OF_STATE = {"unowned": None, "alice's": "alice", "bob's": "bob"}
AGENTS = ("alice", "bob", "manager")  # managers work cases too


# Who may do it, as a function of the actor and the owner of the object (None: unowned, or no object).
def anyone(actor, owner):
    return True


def signed_in(actor, owner):
    return actor != "anonymous"


def agent(actor, owner):
    return actor in AGENTS


def manager(actor, owner):
    return actor == "manager"


def works_case(actor, owner):
    """Managers any case; agents unowned cases and their own."""
    return actor == "manager" or (actor in ("alice", "bob") and owner in (None, actor))


def owns_case(actor, owner):
    """Handing a case back to the queue: managers any; agents only their own."""
    return actor == "manager" or (actor in ("alice", "bob") and owner == actor)


@dataclass(frozen=True)
class Op:
    method: str  # "GET" or "POST"
    allowed: Callable[[str, str | None], bool]
    ok: frozenset[int]  # the answers when allowed
    kwargs: Callable = lambda world, state: {}
    query: Callable = lambda world, state: {}
    data: Callable = lambda world, state, actor: {}
    changes: bool | None = None  # an allowed write must change the database (None: it may not)
    json: bool = False

    @property
    def is_write(self) -> bool:
        return self.method == "POST"


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "page" (dashboard, login redirect) or "api" (401/403)
    ops: tuple[Op, ...]
    per_object: bool = False  # parametrized over STATES
    note: str = ""


def case_kwargs(world, state):
    return {"pk": world.cases[state].pk}


def shipment_kwargs(world, state):
    return {"shipment_id": world.shipments[state].pk}


PAGE_OK = frozenset({200})
REDIRECT = frozenset({302})


def _future(hours=24):
    return (timezone.localtime() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("rug.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, content_type="image/png")


def _attachment(world, state):
    """A file on the state's case (made inside the test's savepoint)."""
    from django.core.files.base import ContentFile

    from cases.models import Attachment

    attachment = Attachment(case=world.cases[state], filename="rug.png", content_type="image/png",
                            safe_content_type="image/png", size=40, sha256="0" * 64, source="inbound_email")
    attachment.file.save("rug.png", ContentFile(b"\x89PNG\r\n\x1a\n" + b"\0" * 32), save=True)
    return attachment


def _refund(world, state):
    """An applied refund on the state's case, not yet paid (made inside the test's savepoint)."""
    case = world.cases[state]
    return Remedy.objects.create(
        case=case, customer=case.customer, kind="refund", amount=Decimal("10.00"), currency="EUR",
        budget="customer_care", rule_id="matrix", rationale="For the matrix.", proposal_key=f"matrix/refund/{state}",
        status=RemedyStatus.APPLIED, applied_at=timezone.now(),
    )


def _remedy_email(world, state):
    """A queued email about a remedy on the state's case."""
    case = world.cases[state]
    return Message.objects.create(idempotency_key=f"matrix/notice/{state}", recipient="customer@mail.example",
                                  template="remedy_notice", case=case,
                                  next_attempt_at=timezone.now() + timedelta(minutes=10))


ENDPOINTS: dict[str, Endpoint] = {
    # The dashboard
    "dashboard.views.queue.queue": Endpoint("page", (Op("GET", agent, PAGE_OK),)),
    "dashboard.views.queue.take_next": Endpoint("page", (Op("POST", agent, REDIRECT, changes=True),)),
    "dashboard.views.cases.case_detail": Endpoint("page", (Op("GET", agent, PAGE_OK, kwargs=case_kwargs),),
                                                  per_object=True),
    "dashboard.views.cases.case_note": Endpoint("page", (Op(
        "POST", works_case, REDIRECT, kwargs=case_kwargs, changes=True,
        data=lambda w, s, a: {"kind": "note", "text": f"Note by {a}"}),), per_object=True),
    "dashboard.views.cases.case_reply": Endpoint("page", (Op(
        "POST", works_case, REDIRECT, kwargs=case_kwargs, changes=True,
        data=lambda w, s, a: {"text": "We are on it.", "nonce": uuid.uuid4().hex}),), per_object=True),
    "dashboard.views.cases.case_promise": Endpoint("page", (Op(
        "POST", works_case, REDIRECT, kwargs=case_kwargs, changes=True,
        data=lambda w, s, a: {"description": "Call back", "due_at": _future(), "owner": w.users["alice"].pk,
                              "made_by_name": "Clerk"}),), per_object=True),
    "dashboard.views.cases.promise_close": Endpoint("page", (Op(
        "POST", works_case, REDIRECT, changes=True,
        kwargs=lambda w, s: {"pk": w.cases[s].pk, "promise_pk": w.promises[s].pk},
        data=lambda w, s, a: {"kept": "1"}),), per_object=True),
    "dashboard.views.cases.case_status": Endpoint("page", (Op(
        "POST", works_case, REDIRECT, kwargs=case_kwargs, changes=True,
        data=lambda w, s, a: {"status": "waiting_on_customer"}),), per_object=True),
    "dashboard.views.cases.case_reopen": Endpoint("page", (Op(
        "POST", works_case, REDIRECT, kwargs=case_kwargs, changes=True,  # a new case becomes open
        data=lambda w, s, a: {"reason": "The parcel came back."}),), per_object=True),
    "dashboard.views.cases.case_take": Endpoint("page", (Op("POST", works_case, REDIRECT, kwargs=case_kwargs),),
                                                per_object=True),
    "dashboard.views.cases.case_assign": Endpoint("page", (Op(
        "POST", owns_case, REDIRECT, kwargs=case_kwargs, data=lambda w, s, a: {"owner": ""}),), per_object=True),
    "dashboard.views.proposals.proposal_apply": Endpoint("page", (Op(
        "POST", works_case, REDIRECT, kwargs=case_kwargs, data=lambda w, s, a: {"key": "no-such-proposal"}),),
        per_object=True, note="the key is unknown, so an allowed apply changes nothing; the gate is what counts"),
    "dashboard.views.proposals.case_override": Endpoint("page", (Op(
        "POST", manager, REDIRECT, kwargs=case_kwargs, changes=True,
        data=lambda w, s, a: {"kind": "manager_override", "budget": "customer_care", "amount": "5",
                              "currency": "EUR", "reason": "Goodwill"}),), per_object=True),
    "dashboard.views.cases.case_delivery_check": Endpoint("page", (Op(
        "POST", works_case, frozenset({200, 302, 400}), kwargs=case_kwargs,
        data=lambda w, s, a: {"shipment": w.shipments[s].pk}),), per_object=True,
        note="what arrived, from the case page: the gate is what counts"),
    "dashboard.views.cases.case_special_delivery": Endpoint("page", (Op(
        "POST", works_case, frozenset({200, 302, 400}), kwargs=case_kwargs,
        data=lambda w, s, a: {"tracking_number": ""}),), per_object=True,
        note="an incomplete form: an allowed user gets its errors, a refused one 403"),
    "dashboard.views.cases.remedy_payment": Endpoint("page", (Op(
        "POST", works_case, frozenset({400}), kwargs=lambda w, s: {"pk": w.cases[s].pk, "remedy_pk": _refund(w, s).pk},
        data=lambda w, s, a: {}),), per_object=True,
        note="no reference: an allowed user gets the field error, a refused one 403"),
    "dashboard.views.cases.message_hold": Endpoint("page", (Op(
        "POST", works_case, frozenset({400}),
        kwargs=lambda w, s: {"pk": w.cases[s].pk, "message_pk": _remedy_email(w, s).pk},
        data=lambda w, s, a: {}),), per_object=True,
        note="no reason: an allowed user gets the field error, a refused one 403"),
    "dashboard.views.attachments.attachment_upload": Endpoint("page", (Op(
        "POST", works_case, REDIRECT, kwargs=case_kwargs, changes=True,
        data=lambda w, s, a: {"file": _upload()}),), per_object=True),
    "dashboard.views.attachments.attachment_download": Endpoint("page", (Op(
        "GET", agent, PAGE_OK, kwargs=lambda w, s: {"pk": _attachment(w, s).pk}),), per_object=True,
        note="a file is served to whoever may see its case"),
    "dashboard.views.settings.staff_settings": Endpoint("page", (Op("GET", agent, PAGE_OK),)),
    "dashboard.views.imports.order_import": Endpoint("page", (Op("GET", manager, PAGE_OK),)),
    "dashboard.views.staff.staff_list": Endpoint("page", (Op("GET", manager, PAGE_OK),)),
    "dashboard.views.staff.staff_unlock": Endpoint("page", (Op(
        "POST", manager, REDIRECT, kwargs=lambda w, s: {"user_pk": w.users["alice"].pk}),)),
    "apitokens.views.token_list": Endpoint("page", (Op("GET", manager, PAGE_OK),)),
    "apitokens.views.token_revoke": Endpoint("page", (Op(
        "POST", manager, frozenset({302, 404}), kwargs=lambda w, s: {"token_pk": 999_999}),),
        note="no such token: a manager gets 404, anybody else is refused first"),
    "dashboard.views.managers.approvals": Endpoint("page", (Op("GET", manager, PAGE_OK),)),
    "dashboard.views.managers.approval_decide": Endpoint("page", (Op(
        "POST", manager, REDIRECT, changes=True, kwargs=lambda w, s: {"remedy_pk": w.remedy.pk},
        data=lambda w, s, a: {"decision": "reject", "reason": "Not this time."}),)),
    "dashboard.views.claims.claims": Endpoint("page", (Op("GET", manager, PAGE_OK),)),
    "dashboard.views.claims.claim_act": Endpoint("page", (Op(
        "POST", manager, REDIRECT, changes=True, kwargs=lambda w, s: {"claim_pk": w.claim.pk},
        data=lambda w, s, a: {"action": "file", "reference": f"MATRIX-{a}"}),)),
    "dashboard.views.managers.policy_versions": Endpoint("page", (Op("GET", manager, PAGE_OK),)),
    "dashboard.views.managers.policy_compare": Endpoint("page", (Op(
        "GET", manager, PAGE_OK, query=lambda w, s: {"a": w.active_version.pk, "b": w.new_version.pk}),)),
    "dashboard.views.managers.policy_version_detail": Endpoint("page", (Op(
        "GET", manager, PAGE_OK, kwargs=lambda w, s: {"version_pk": w.new_version.pk}),)),
    "dashboard.views.managers.policy_version_activate": Endpoint("page", (Op(
        "POST", manager, REDIRECT, changes=True, kwargs=lambda w, s: {"version_pk": w.new_version.pk}),)),
    "dashboard.views.managers.policy_version_replay": Endpoint("page", (Op(
        "GET", manager, PAGE_OK, kwargs=lambda w, s: {"version_pk": w.new_version.pk},
        query=lambda w, s: {"date_from": str(timezone.localdate() - timedelta(days=7)),
                            "date_to": str(timezone.localdate())}),)),
    "dashboard.views.reports.remedy_report": Endpoint("page", (Op("GET", manager, PAGE_OK),)),
    "dashboard.views.reports.remedy_report_csv": Endpoint("page", (Op(
        "GET", manager, PAGE_OK, kwargs=lambda w, s: {"table": "kind"}),)),
    "dashboard.views.reports.remedy_report_earned_csv": Endpoint("page", (Op("GET", manager, PAGE_OK),)),
    # The JSON API
    "cases.api.views.CaseListCreateApi": Endpoint("api", (
        Op("GET", agent, PAGE_OK),
        Op("POST", agent, frozenset({201}), changes=True, json=True,
           data=lambda w, s, a: {"customer": w.customers["unowned"].pk, "category": "other", "channel": "email",
                                 "subject": f"Opened by {a}"}),
    )),
    "orders.api.views.ShipmentEventRecordApi": Endpoint("api", (Op(
        "POST", works_case, frozenset({201}), changes=True, json=True,
        data=lambda w, s, a: {"tracking_number": w.shipments[s].tracking_number, "external_id": f"ev-{a}",
                              "code": "delayed", "occurred_at": timezone.now().isoformat()}),),
        per_object=True, note="the shipment's open case is owned as the state says"),
    "cases.api.views.DeliveryCheckApi": Endpoint("api", (Op(
        "POST", works_case, PAGE_OK, kwargs=shipment_kwargs, changes=True, json=True,
        data=lambda w, s, a: {"received": [{"sku": "SOMETHING-ELSE"}]}),), per_object=True),
    # Signing in and out, the language menu, the health check
    "django.contrib.auth.views.LoginView": Endpoint("page", (Op(
        "GET", anyone, frozenset({200, 302})),), note="a signed-in user is sent on"),
    "django.contrib.auth.views.LogoutView": Endpoint("page", (Op("POST", anyone, frozenset({200, 302})),)),
    "django.contrib.auth.views.PasswordChangeView": Endpoint("page", (Op("GET", signed_in, PAGE_OK),)),
    "django.contrib.auth.views.PasswordChangeDoneView": Endpoint("page", (Op("GET", signed_in, PAGE_OK),)),
    "django.views.i18n.set_language": Endpoint("page", (Op(
        "POST", anyone, REDIRECT, data=lambda w, s, a: {"language": "ro", "next": "/"}),)),
    "caseapp.urls.health": Endpoint("page", (Op("GET", anyone, PAGE_OK),)),
    # The search box: agents and managers read every case, so they find everything; nobody else finds anything
    "search.views.search_page": Endpoint("page", (Op("GET", agent, PAGE_OK, query=lambda w, s: {"q": "case"}),)),
    "search.views.SearchApi": Endpoint("api", (Op("GET", agent, PAGE_OK, query=lambda w, s: {"q": "case"}),)),
}

# URL prefixes outside the role matrix, with the reason.
EXEMPT = {
    "admin/": "Django's admin: every view is wrapped in admin_view (is_staff); test_admin_is_staff_only",
    "api/v1/": "the versioned API has its own role x endpoint x object matrix (tests/api/test_v1_matrix.py); its "
               "webhooks are authenticated by signature (tests/intake/test_webhooks.py); search by role "
               "(tests/search/test_search.py)",
    "favicon.ico": "a permanent redirect to a static file, public by design",
    "anymail/": "ESP tracking webhooks, authenticated by the provider's secret, not by a role "
                "(tests/notifications/test_tracking_webhook.py)",
    "health/live": "liveness for load balancers and orchestrators: public by design, says only 'ok' "
                   "(tests/stack/test_health.py)",
    "health/ready": "readiness for load balancers: public by design, names what is down, never data or secrets "
                    "(tests/stack/test_health.py)",
}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, route, ns)
        elif isinstance(entry, URLPattern):
            yield route, f"{namespace}{entry.name}" if entry.name else None, entry


def view_key(pattern: URLPattern) -> str:
    callback = pattern.callback
    target = getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback
    return f"{target.__module__}.{target.__qualname__}"


def url_patterns():
    """(route, name, view key, argument names) of every URL, outside the EXEMPT prefixes."""
    seen = set()
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if any(route.startswith(prefix) for prefix in EXEMPT):
            continue
        arguments = frozenset(pattern.pattern.converters) if hasattr(pattern.pattern, "converters") else frozenset(
            pattern.pattern.regex.groupindex)
        if "format" in arguments:  # DRF's format-suffix twin of a URL tested without it
            continue
        if (name, view_key(pattern)) in seen:
            continue
        seen.add((name, view_key(pattern)))
        yield route, name, view_key(pattern), arguments


PATTERNS = list(url_patterns())


def test_every_url_is_classified():
    unclassified = [
        f"  {route!r} (name {name!r}, view {key})" for route, name, key, _ in PATTERNS
        if key not in ENDPOINTS or name is None
    ]
    assert not unclassified, (
        "These URLs are not in the permission matrix. Classify each in tests/security/test_permission_matrix.py: "
        "add its view to ENDPOINTS (who may read or write it, on which objects, the answer when allowed) or "
        "its prefix to EXEMPT with the reason (and give the URL a name):\n" + "\n".join(unclassified)
    )


def _cases():
    for route, name, key, _ in PATTERNS:
        endpoint = ENDPOINTS.get(key)
        if endpoint is None or name is None:
            continue
        for index, op in enumerate(endpoint.ops):
            for actor in ACTORS:
                for state in STATES if endpoint.per_object else ("-",):
                    yield pytest.param(name, key, index, actor, state, True,
                                       id=f"{route}-{op.method}-{actor}-{state}")
            if op.is_write and endpoint.kind in ("page", "api") and op.allowed("manager", None) \
                    and op.allowed is not anyone:
                for actor in ("alice", "manager"):
                    if op.allowed(actor, None):
                        yield pytest.param(name, key, index, actor, "unowned" if endpoint.per_object else "-",
                                           False, id=f"{route}-{op.method}-{actor}-no-csrf")


# The world, built once per module


@dataclass
class World:
    users: dict = field(default_factory=dict)
    customers: dict = field(default_factory=dict)
    cases: dict = field(default_factory=dict)
    shipments: dict = field(default_factory=dict)
    promises: dict = field(default_factory=dict)
    remedy: Remedy | None = None
    claim: Claim | None = None
    active_version: PolicyVersion | None = None
    new_version: PolicyVersion | None = None


def _default_policy() -> PolicyVersion:
    """The migration's default policy, when a transactional test before this module flushed it."""
    document = yaml.safe_load((settings.BASE_DIR / "policies" / "default_policy.yaml").read_text(encoding="utf-8"))
    version = policy_version_create(document=json.loads(json.dumps(document, default=str)), note="matrix")
    return policy_version_activate(version=version)


def _build_world() -> World:
    world = World()
    world.users = {
        "no_role": UserFactory(username="matrix-nobody"),
        "alice": UserFactory(username="matrix-alice", role="agent"),
        "bob": UserFactory(username="matrix-bob", role="agent"),
        "manager": UserFactory(username="matrix-maria", role="manager"),
    }
    for state in STATES:
        owner = world.users.get(OWNER_OF_STATE[state] or "")
        customer = CustomerFactory()
        order = OrderFactory(customer=customer)
        shipment = ShipmentFactory(order=order)
        case = CaseFactory(customer=customer, order=order, shipment=shipment, owner=owner,
                           arrived_at=timezone.now() - timedelta(hours=2))
        world.customers[state] = customer
        world.shipments[state] = shipment
        world.cases[state] = case
        world.promises[state] = PromiseFactory(case=case, owner=owner or world.users["alice"],
                                               due_at=timezone.now() + timedelta(days=1))
    unowned = world.cases["unowned"]
    world.remedy = Remedy.objects.create(
        case=unowned, customer=unowned.customer, kind="discount", amount=Decimal("10.00"), currency="EUR",
        budget="customer_care", rule_id="matrix", rationale="For the matrix.", proposal_key="matrix/pending",
        status=RemedyStatus.PENDING_APPROVAL, needs_approval=True, proposed_by=world.users["alice"],
    )
    absorbed = Remedy.objects.create(
        case=unowned, customer=unowned.customer, kind="absorb_cost", amount=Decimal("20.00"), currency="EUR",
        budget="logistics", rule_id="matrix", rationale="Courier's fault.", proposal_key="matrix/absorbed",
        status=RemedyStatus.APPLIED, applied_at=timezone.now(), recoverable_from=world.shipments["unowned"].courier,
    )
    world.claim = claim_open_for_remedy(absorbed)
    world.active_version = PolicyVersion.objects.filter(is_active=True).first() or _default_policy()
    world.new_version = policy_version_create(document=world.active_version.document, note="matrix")
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once inside an outer transaction; each test's own transaction is a savepoint in it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


def fingerprint() -> tuple:
    """What a refused write must leave as it was."""
    return (
        list(Case.objects.order_by("pk").values_list("pk", "status", "owner_id", "updated_at", "first_responded_at")),
        CaseEvent.objects.count(),
        list(Promise.objects.order_by("pk").values_list("pk", "status")),
        list(Remedy.objects.order_by("pk").values_list("pk", "status")),
        list(Claim.objects.order_by("pk").values_list("pk", "status", "courier_reference", "recovered_amount")),
        ShipmentEvent.objects.count(),
        list(Shipment.objects.order_by("pk").values_list("pk", "status", "estimated_delivery")),
        list(Order.objects.order_by("pk").values_list("pk", "status")),
        list(Voucher.objects.order_by("pk").values_list("pk", "valid_until", "balance")),
        Message.objects.count(),
        list(PolicyVersion.objects.order_by("pk").values_list("pk", "is_active")),
    )


def _client(endpoint: Endpoint, world: World, actor: str):
    client = APIClient(enforce_csrf_checks=True)
    if actor != "anonymous":
        client.force_login(world.users[actor], backend="django.contrib.auth.backends.ModelBackend")
    return client


def _request(client, op: Op, url: str, data: dict, with_csrf: bool):
    headers = {}
    if op.is_write and with_csrf:
        token = get_random_string(32, CSRF_ALLOWED_CHARS)
        client.cookies[settings.CSRF_COOKIE_NAME] = token
        headers["HTTP_X_CSRFTOKEN"] = token
    if op.method == "GET":
        return client.get(url, data, **headers)
    if op.json:
        return client.post(url, data, format="json", **headers)
    return client.post(url, data, **headers)


@pytest.mark.django_db
@pytest.mark.parametrize("name, key, index, actor, state, with_csrf", list(_cases()))
def test_permission_matrix(world, settings, name, key, index, actor, state, with_csrf):
    settings.LANGUAGE_CODE = "en"
    endpoint = ENDPOINTS[key]
    op = endpoint.ops[index]
    state = state if endpoint.per_object else "unowned"
    owner = OWNER_OF_STATE[state] if endpoint.per_object else None
    url = reverse(name, kwargs=op.kwargs(world, state))
    client = _client(endpoint, world, actor)
    before = fingerprint() if op.is_write else None

    data = op.query(world, state) if op.method == "GET" else op.data(world, state, actor)
    response = _request(client, op, url, data, with_csrf)

    described = f"{op.method} {url} as {actor} on the {state} object{'' if with_csrf else ' without CSRF'}"
    if not with_csrf:
        assert response.status_code == 403, f"{described}: {response.status_code}, want 403 (CSRF)"
        assert fingerprint() == before, f"{described} was refused but changed the database"
        return
    if op.allowed(actor, owner):
        assert response.status_code in op.ok, (
            f"{described}: {response.status_code}, want {sorted(op.ok)}: {response.content[:300]!r}")
        if response.status_code == 302 and op.allowed is not anyone:
            assert not response["Location"].startswith(reverse("login")), f"{described}: sent to the login"
        if op.changes:
            assert fingerprint() != before, f"{described} was allowed but changed nothing"
        return
    if actor == "anonymous" and endpoint.kind == "page":
        assert response.status_code == 302, f"{described}: {response.status_code}, want the login redirect"
        assert response["Location"].startswith(reverse("login")), f"{described}: {response['Location']}"
    elif actor == "anonymous":
        assert response.status_code in (401, 403), f"{described}: {response.status_code}, want 401/403"
    else:
        assert response.status_code == 403, f"{described}: {response.status_code}, want 403"
    if op.is_write:
        assert fingerprint() == before, f"{described} was refused but changed the database"


@pytest.mark.django_db
def test_admin_is_staff_only(world, client):
    index = reverse("admin:index")
    assert client.get(index).status_code == 302  # anonymous: the admin's login
    for actor in ("no_role", "alice", "manager"):  # roles are not staff
        client.force_login(world.users[actor], backend="django.contrib.auth.backends.ModelBackend")
        response = client.get(index)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], actor
    staff = UserFactory(username="matrix-staff", is_staff=True, is_superuser=True)
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(index).status_code == 200


def matrix_size() -> dict:
    """The figure in README's security section: roles × endpoints × objects."""
    endpoints = sum(len(ENDPOINTS[key].ops) for _, _, key, _ in PATTERNS if key in ENDPOINTS)
    return {"roles": len(ACTORS), "endpoints": endpoints, "objects": len(STATES), "requests": len(list(_cases()))}
