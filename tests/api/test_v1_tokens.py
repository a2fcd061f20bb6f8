"""API tokens: created and revoked by a manager, stored hashed, shown once, last use recorded; sessions keep CSRF;
throttling per token."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from apitokens.models import ApiToken
from apitokens.services import api_token_create, api_token_revoke
from cases.models import CaseEvent
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def bearer(secret) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_only_a_fingerprint_of_the_secret_is_stored(manager, agent):
    token, secret = api_token_create(user=agent, name="back office", by=manager)
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in [str(value) for value in row.values()]
    assert secret.startswith(row["prefix"]) and len(secret) > 40


@pytest.mark.parametrize("who", ["agent", "nobody"])
def test_only_a_manager_creates_or_revokes_tokens(request, manager, agent, who):
    by = request.getfixturevalue(who) if who != "nobody" else None
    with pytest.raises(PermissionDenied):
        api_token_create(user=agent, name="x", by=by)
    token, _secret = api_token_create(user=agent, name="x", by=manager)
    with pytest.raises(PermissionDenied):
        api_token_revoke(token=token, by=by)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_token_is_for_an_agent_or_manager_and_has_a_name(manager):
    with pytest.raises(ValidationError) as error:
        api_token_create(user=UserFactory(username="visitor"), name=" ", by=manager)
    assert set(error.value.message_dict) == {"user", "name"}
    assert ApiToken.objects.count() == 0


def test_a_token_authenticates_records_its_last_use_and_stops_when_revoked(manager, agent):
    CaseFactory()
    token, secret = api_token_create(user=agent, name="script", by=manager)
    assert token.last_used_at is None
    assert bearer(secret).get("/api/v1/cases/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    api_token_revoke(token=token, by=manager)
    refused = bearer(secret).get("/api/v1/cases/")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer ca_not-a-real-one", "Bearer caf\u00e9",
                                    "Token ca_nope"])
def test_a_malformed_or_unknown_token_is_a_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/cases/").status_code == 401


def test_a_deactivated_users_token_stops_working(manager, agent):
    _token, secret = api_token_create(user=agent, name="script", by=manager)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert bearer(secret).get("/api/v1/cases/").status_code == 401


def test_a_session_must_send_its_csrf_token_a_token_need_not(manager, agent):
    case = CaseFactory()
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(agent)
    refused = session.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "hello"}, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not CaseEvent.objects.filter(kind="note").exists()
    _token, secret = api_token_create(user=agent, name="script", by=manager)
    assert bearer(secret).post(f"/api/v1/cases/{case.pk}/notes/", {"text": "hello"}, format="json").status_code == 201


def test_each_token_has_its_own_throttle(settings, manager, agent):
    settings.API_TOKEN_THROTTLE_RATE = "3/minute"
    _a, first = api_token_create(user=agent, name="a", by=manager)
    _b, second = api_token_create(user=agent, name="b", by=manager)
    codes = [bearer(first).get("/api/v1/customers/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert bearer(second).get("/api/v1/customers/").status_code == 200


# --- The managers' page ----------------------------------------------------------------------------------------


@pytest.fixture
def manager_browser(client, manager):
    client.force_login(manager)
    return client


def test_a_manager_creates_a_token_on_the_page_and_sees_its_secret_once(manager_browser, agent):
    page = manager_browser.get("/tokens/")
    assert page.status_code == 200
    created = manager_browser.post("/tokens/", {"user": agent.pk, "name": "chat widget"})
    assert created.status_code == 201
    token = ApiToken.objects.get(name="chat widget")
    html = created.content.decode()
    start = html.index('id="token-secret">') + len('id="token-secret">')
    secret = html[start:html.index("</code>", start)]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.key_hash
    assert "no-store" in created["Cache-Control"]
    assert secret not in manager_browser.get("/tokens/").content.decode()  # never again
    assert bearer(secret).get("/api/v1/cases/").status_code == 200


def test_the_page_refuses_bad_input_and_revokes(manager_browser, manager, agent):
    refused = manager_browser.post("/tokens/", {"user": "", "name": ""})
    assert refused.status_code == 400 and ApiToken.objects.count() == 0
    token, secret = api_token_create(user=agent, name="old", by=manager)
    assert manager_browser.post(f"/tokens/{token.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_by == manager
    assert bearer(secret).get("/api/v1/cases/").status_code == 401


def test_agents_do_not_reach_the_token_page(client, agent):
    client.force_login(agent)
    assert client.get("/tokens/").status_code == 403
    assert client.post("/tokens/", {"user": agent.pk, "name": "mine"}).status_code == 403
    assert ApiToken.objects.count() == 0


def test_the_admin_creates_a_token_and_shows_its_secret_once(client, agent):
    admin_user = UserFactory(username="boss", role="manager", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    response = client.post("/admin/apitokens/apitoken/add/", {"user": agent.pk, "name": "shop back office"},
                           follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get(name="shop back office")
    shown = [str(m) for m in response.context["messages"]]
    secret = next(m for m in shown if "ca_" in m).split(": ", 1)[1]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.key_hash
    assert token.created_by == admin_user


@pytest.mark.parametrize("language,words", [("ro", ["Tokenuri API", "Token nou", "Acționează ca"]),
                                            ("ru", ["API-токены", "Новый токен", "Действует как"]),
                                            ("it", ["Token API", "Nuovo token", "Agisce come"])])
def test_the_token_page_speaks_the_staffs_language(manager_browser, language, words):
    manager_browser.cookies["django_language"] = language
    html = manager_browser.get("/tokens/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert all(word in html for word in words)
    assert "What uses it" not in html


@pytest.mark.parametrize("role", ["agent", "manager", "superuser", "agent-and-manager"])
def test_the_token_lookup_reads_the_user_and_the_roles_in_one_query(manager, role, django_assert_num_queries):
    from django.contrib.auth.models import Group

    from apitokens.selectors import api_token_active
    from caseapp.permissions import roles_of

    # given a token of a user with this role
    user = UserFactory(username=f"holder-{role}", role="manager" if role == "manager" else "agent",
                       is_superuser=role == "superuser")
    if role == "agent-and-manager":
        user.groups.add(Group.objects.get_or_create(name="manager")[0])
    token, secret = api_token_create(user=user, name="script", by=manager)
    # when it is looked up, then one query gives the token, its user and the user's roles
    with django_assert_num_queries(1):
        found = api_token_active(key_hash=token.key_hash)
        roles = roles_of(found.user)
    # and they are what the ORM reads
    fresh = ApiToken.objects.select_related("user").get(pk=token.pk)
    assert [getattr(found, f.attname) for f in ApiToken._meta.concrete_fields] == [
        getattr(fresh, f.attname) for f in ApiToken._meta.concrete_fields]
    assert [getattr(found.user, f.attname) for f in type(user)._meta.concrete_fields] == [
        getattr(fresh.user, f.attname) for f in type(user)._meta.concrete_fields]
    assert roles == roles_of(type(user).objects.get(pk=user.pk))
    # and a revoked or unknown token is none
    api_token_revoke(token=token, by=manager)
    assert api_token_active(key_hash=token.key_hash) is None
    assert api_token_active(key_hash="0" * 64) is None


def test_a_request_is_not_a_write_last_use_is_recorded_at_most_once_a_minute(manager, agent):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token, secret = api_token_create(user=agent, name="script", by=manager)
    client = bearer(secret)
    with CaptureQueriesContext(connection) as first:
        assert client.get("/api/v1/cases/").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get("/api/v1/cases/").status_code == 200
    assert sum(q["sql"].startswith("UPDATE") for q in first.captured_queries) == 1
    assert not any(q["sql"].startswith("UPDATE") for q in second.captured_queries)
    # a minute later, the next request records it again
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=ApiToken.objects.get(pk=token.pk).last_used_at
                                                - timedelta(minutes=2))
    with CaptureQueriesContext(connection) as later:
        assert client.get("/api/v1/cases/").status_code == 200
    assert sum(q["sql"].startswith("UPDATE") for q in later.captured_queries) == 1


def test_a_role_taken_away_counts_at_the_next_request(manager, agent):
    from django.contrib.auth.models import Group

    _token, secret = api_token_create(user=agent, name="script", by=manager)
    assert bearer(secret).get("/api/v1/cases/").status_code == 200
    agent.groups.remove(Group.objects.get(name="agent"))
    assert bearer(secret).get("/api/v1/cases/").status_code == 403
