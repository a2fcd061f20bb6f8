"""The pages around the work: no cached pages after logout, friendly error pages, a favicon, and a manager who
can unlock a locked-out colleague."""

import logging

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults

from tests.dashboard.conftest import login
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


# --- Cache-Control: no-store ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["dashboard:queue", "dashboard:case", "password_change"])
def test_every_signed_in_page_is_no_store(agent_client, name):
    # given a case, and an agent signed in
    case = CaseFactory()
    url = reverse(name, args=[case.pk]) if name == "dashboard:case" else reverse(name)
    # when
    response = agent_client.get(url)
    # then the browser may not keep it (the Back button after logout must ask the server again)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_page_that_answers_a_login_is_no_store_too(client, agent):
    # when the agent logs in and follows the redirect
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True)
    # then
    assert "no-store" in response["Cache-Control"]


def test_after_logout_the_case_page_is_not_served_again(agent_client):
    # given an agent who read a case, then logged out
    case = CaseFactory()
    assert agent_client.get(reverse("dashboard:case", args=[case.pk])).status_code == 200
    agent_client.post(reverse("logout"))
    # when the same URL is asked for again (what Back does once the page was not stored)
    response = agent_client.get(reverse("dashboard:case", args=[case.pk]))
    # then the customer's data is not shown: the login page is
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_static_files_stay_cacheable(agent_client):
    # when a signed-in browser fetches the stylesheet
    response = agent_client.get("/static/dashboard/dashboard.css")
    # then whitenoise serves it without no-store
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# --- error pages ------------------------------------------------------------------------------------------------

def test_404_is_a_friendly_page_with_the_header_and_a_way_back(agent_client):
    # when
    response = agent_client.get("/cases/999999/")
    # then
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html
    assert 'class="top"' in html and reverse("dashboard:queue") in html
    assert 'id="error-page"' in html


def test_403_is_a_friendly_page(agent_client):
    # when an agent opens a manager's page
    response = agent_client.get(reverse("dashboard:approvals"))
    # then a page in the dashboard's frame says so, with a way back
    html = response.content.decode()
    assert response.status_code == 403
    assert "You may not open this page" in html and 'class="top"' in html
    assert reverse("dashboard:queue") in html


def test_an_ordinary_403_is_logged_in_one_line_without_a_traceback(agent_client, caplog):
    # when an agent opens a manager's page
    with caplog.at_level(logging.WARNING, logger="django.request"):
        agent_client.get(reverse("dashboard:approvals"))
    # then the log has the one line, not a traceback
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert "Forbidden" in record.getMessage()
    assert record.exc_info is None and not record.exc_text


def test_500_page_renders_without_a_request_context(settings):
    # given the page Django renders when a view fails (with no context, so it cannot fail itself)
    request = RequestFactory().get("/")
    # when
    response = defaults.server_error(request)
    # then
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html and 'class="top"' in html


@pytest.mark.parametrize("language, phrase", [
    ("ro", "Pagina nu a fost găsită"), ("ru", "Страница не найдена"), ("it", "Pagina non trovata"),
])
def test_error_pages_are_translated(agent_client, language, phrase):
    # given the interface in another language
    agent_client.post(reverse("set_language"), {"language": language, "next": "/"})
    # when
    html = agent_client.get("/no-such-page/").content.decode()
    # then
    assert phrase in html


def test_favicon_is_linked_and_served(client):
    # when
    html = client.get(reverse("login")).content.decode()
    favicon = client.get("/favicon.ico", follow=True)
    # then
    assert 'rel="icon"' in html and "favicon.svg" in html
    assert favicon.status_code == 200 and b"<svg" in b"".join(favicon.streaming_content)


# --- the staff list and unlocking a login -------------------------------------------------------------------------

def lock_out(username, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(reverse("login"), {"username": username, "password": "wrong"})


def test_manager_sees_who_is_locked_out(manager_client, agent, other_agent, settings):
    # given alice locked out after too many wrong passwords
    lock_out("alice", settings)
    # when
    response = manager_client.get(reverse("dashboard:staff"))
    # then every agent and manager is listed, and alice is shown locked out with an unlock button
    html = response.content.decode()
    assert response.status_code == 200
    for username in ("alice", "bob", "maria"):
        assert f">{username}<" in html
    assert html.count("Locked out") == 1
    assert reverse("dashboard:staff_unlock", args=[agent.pk]) in html
    assert reverse("dashboard:staff_unlock", args=[other_agent.pk]) not in html


def test_manager_unlocks_and_the_agent_logs_in_at_once(manager_client, agent, settings):
    # given alice locked out: even her right password is refused
    lock_out("alice", settings)
    assert Client().post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 429
    # when a manager unlocks her
    response = manager_client.post(reverse("dashboard:staff_unlock", args=[agent.pk]), follow=True)
    # then she logs in with her password
    assert "alice can log in again." in response.content.decode()
    alice = Client()
    assert alice.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
    assert "_auth_user_id" in alice.session


def test_an_agent_may_not_see_the_staff_list_nor_unlock(agent_client, other_agent, settings):
    # given bob locked out
    lock_out("bob", settings)
    # when alice (an agent) tries
    listing = agent_client.get(reverse("dashboard:staff"))
    unlock = agent_client.post(reverse("dashboard:staff_unlock", args=[other_agent.pk]))
    # then both are refused, and bob stays locked
    assert listing.status_code == 403 and unlock.status_code == 403
    assert Client().post(reverse("login"), {"username": "bob", "password": PASSWORD}).status_code == 429


def test_unlock_needs_post_and_csrf(manager, agent, settings):
    # given a manager in a browser that enforces CSRF
    browser = login(Client(enforce_csrf_checks=True), manager)
    # when the unlock is a GET, or a POST without the token
    get = browser.get(reverse("dashboard:staff_unlock", args=[agent.pk]))
    post = browser.post(reverse("dashboard:staff_unlock", args=[agent.pk]))
    # then neither unlocks anything
    assert get.status_code == 405 and post.status_code == 403


def test_unlocking_someone_who_is_not_staff_is_404(manager_client):
    # given a user with no role
    stranger = UserFactory(username="stranger")
    # when
    response = manager_client.post(reverse("dashboard:staff_unlock", args=[stranger.pk]))
    # then
    assert response.status_code == 404


def test_staff_page_is_translated(manager_client, agent, settings):
    # given alice locked out, and the manager reading Russian
    lock_out("alice", settings)
    manager_client.post(reverse("set_language"), {"language": "ru", "next": "/"})
    # when
    html = manager_client.get(reverse("dashboard:staff")).content.decode()
    # then
    assert "Сотрудники" in html and "Заблокирован" in html and "Разблокировать" in html


# --- form errors keep what was typed --------------------------------------------------------------------------------

def test_an_override_refused_by_the_service_keeps_what_the_manager_typed(manager_client):
    # given a case about an order in USD
    from tests.factories import OrderFactory

    order = OrderFactory(currency="USD")
    case = CaseFactory(customer=order.customer, order=order)
    # when the manager's override names another currency
    response = manager_client.post(reverse("dashboard:case_override", args=[case.pk]), {
        "kind": "free_item", "budget": "customer_care", "amount": "410.00", "currency": "EUR",
        "reason": "The general manager gives the rug for free.",
    })
    # then the page comes back with the error on the field and everything typed still in the form
    html = response.content.decode()
    assert response.status_code == 400
    assert "This case is in USD, not EUR." in html
    assert "The general manager gives the rug for free.</textarea>" in html
    assert 'value="410.00"' in html
    assert case.remedies.count() == 0
