"""Content-Security-Policy and Permissions-Policy on every page (issue 9)."""

import pytest

from tests.dashboard.conftest import login

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("url", ["/", "/reports/remedies/", "/policies/"])
def test_pages_carry_a_strict_content_security_policy(client, manager, url):
    # given a manager, when a page is opened
    login(client, manager)
    response = client.get(url)
    # then only our own scripts and styles may run: no inline script, no eval, no framing
    assert response.status_code == 200
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_the_login_page_and_the_api_carry_both_headers(client):
    for url in ("/login/", "/api/cases/"):
        response = client.get(url)
        assert "Content-Security-Policy" in response.headers
        assert "camera=()" in response.headers["Permissions-Policy"]
        assert "geolocation=()" in response.headers["Permissions-Policy"]


def test_no_page_has_an_inline_handler_or_script_the_policy_would_block(client, manager):
    login(client, manager)
    for url in ("/", "/reports/remedies/", "/policies/", "/approvals/"):
        body = client.get(url).content.decode()
        assert " onchange=" not in body and " onclick=" not in body and " onsubmit=" not in body
        assert "<script>" not in body and ' style="' not in body
