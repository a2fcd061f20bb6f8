"""What slips through every bound is a logged 500 page with an incident number, never a traceback (issue 9)."""

import logging

import pytest

from tests.dashboard.conftest import login

pytestmark = pytest.mark.django_db


def boom(*args, **kwargs):
    raise RuntimeError("secret detail: SELECT * FROM customers")


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_on_a_page_is_a_plain_500_page_with_an_incident_number(
        client, manager, settings, monkeypatch, caplog, debug):
    # given a page whose query fails unexpectedly, with DEBUG on or off
    settings.DEBUG = debug
    monkeypatch.setattr("dashboard.views.managers.policy_selectors.policy_versions", boom)
    login(client, manager)
    # when a manager opens it
    with caplog.at_level(logging.ERROR, logger="caseapp.errors"):
        response = client.get("/policies/")
    # then a 500 page says so without any detail, and the log has the traceback under the same incident
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "Traceback" not in body and "secret detail" not in body and "RuntimeError" not in body
    [record] = [r for r in caplog.records if r.name == "caseapp.errors"]
    incident = record.getMessage().split()[1].rstrip(":")
    assert incident in body
    assert record.exc_info and "secret detail" in str(record.exc_info[1])


def test_an_unexpected_error_in_the_api_is_a_json_500(client, agent, monkeypatch):
    monkeypatch.setattr("cases.api.views.CaseListCreateApi.get_queryset", boom)
    login(client, agent)
    response = client.get("/api/cases/")
    assert response.status_code == 500
    assert response.json()["detail"] == "Server error."
    assert "secret detail" not in response.content.decode()


def test_not_found_and_forbidden_stay_what_they_are(client, agent):
    login(client, agent)
    assert client.get("/policies/987654/").status_code in (403, 404)
    assert client.get("/cases/987654/").status_code == 404


def test_the_handler500_page_renders_without_a_request_context(rf):
    from caseapp.middleware import server_error

    response = server_error(rf.get("/anything/"))
    assert response.status_code == 500 and b"Something went wrong" in response.content
