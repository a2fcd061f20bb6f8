"""Login, logout, password change, rate limiting, and who may open which page."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def test_anonymous_visitor_is_sent_to_login(client):
    # when
    response = client.get(reverse("dashboard:queue"))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_agent_logs_in_with_password_and_lands_on_queue(client, agent):
    # given
    page = client.get(reverse("login"))
    assert b'name="csrfmiddlewaretoken"' in page.content
    # when
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True)
    # then
    assert response.redirect_chain[-1][0] == "/"
    assert b"Take next case" in response.content


def test_login_is_locked_after_too_many_failures(client, agent, settings):
    # given: the configured limit of wrong passwords
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    # when: even the right password is refused for a while
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    # then
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session


def test_login_form_is_csrf_protected(agent):
    # given a client that enforces CSRF like a browser
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    # when
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    # then
    assert response.status_code == 403


def test_logout_needs_post_and_ends_session(agent_client):
    # when
    response = agent_client.post(reverse("logout"))
    # then
    assert response.status_code == 302
    assert agent_client.get(reverse("dashboard:queue")).status_code == 302


def test_password_change(client, agent):
    # given
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    # when
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "a-much-better-secret-42", "new_password2": "a-much-better-secret-42",
    })
    # then
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("a-much-better-secret-42")


def test_user_without_a_role_is_refused_the_queue(client):
    # given a user in no group
    from tests.dashboard.conftest import login

    login(client, UserFactory(username="stranger"))
    # when
    response = client.get(reverse("dashboard:queue"))
    # then
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["dashboard:approvals", "dashboard:policies", "dashboard:remedy_report"])
def test_agent_is_refused_manager_pages(agent_client, name):
    # when
    response = agent_client.get(reverse(name))
    # then
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["dashboard:approvals", "dashboard:policies", "dashboard:remedy_report"])
def test_manager_opens_manager_pages(manager_client, name):
    # when
    response = manager_client.get(reverse(name))
    # then
    assert response.status_code == 200


@pytest.mark.parametrize("language, phrase, category", [
    ("ro", "Preia următorul caz", "Altele"),
    ("ru", "Взять следующее обращение", "Другое"),
    ("it", "Prendi il prossimo caso", "Altro"),
])
def test_pages_are_translated(agent_client, language, phrase, category):
    # given a case, and the interface in another language
    from tests.factories import CaseFactory

    CaseFactory()
    agent_client.post(reverse("set_language"), {"language": language, "next": "/"})
    # when
    html = agent_client.get(reverse("dashboard:queue")).content.decode()
    # then: the interface and the case's category are translated
    assert f'lang="{language}"' in html
    assert phrase in html
    assert f"<td>{category}</td>" in html
