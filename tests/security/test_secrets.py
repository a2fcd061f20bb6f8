"""No secret with a usable default in production (issue 9, points 1 and 2).

Each case starts a fresh interpreter, as gunicorn would, since settings are read once from the environment.
"""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

GOOD_KEY = secrets.token_urlsafe(50)
GOOD_WEBHOOK_SECRET = "postmark:" + secrets.token_urlsafe(24)


def run(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("SECRET_KEY", "DEBUG", "EMAIL_BACKEND") and not k.startswith("ANYMAIL_")}
    return subprocess.run([sys.executable, *code.split()] if code.startswith("manage.py") else
                          [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                          cwd=settings.BASE_DIR, timeout=120)


def start_web(**env) -> subprocess.CompletedProcess:
    """What gunicorn and runserver do first: import the WSGI application."""
    return run("import caseapp.wsgi", **env)


def test_the_development_key_carries_djangos_insecure_prefix():
    assert settings.DEVELOPMENT_SECRET_KEY.startswith("django-insecure-")


def test_without_debug_a_missing_secret_key_stops_the_start_with_a_clear_message():
    # given no SECRET_KEY and DEBUG off, when the web app starts
    result = start_web(DEBUG="false")
    # then it stops, naming the setting
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("key", ["insecure-dev-key-change-me-in-production-0123456789abcdef", "change-me",
                                 "django-insecure-" + "x" * 50])
def test_without_debug_a_known_default_secret_key_stops_the_start(key):
    result = start_web(DEBUG="false", SECRET_KEY=key)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_with_debug_the_embedded_defaults_still_start():
    # the README's two-command start runs with DEBUG on and nothing set
    result = start_web(DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_with_a_real_key_and_no_esp_the_web_app_starts():
    result = start_web(DEBUG="false", SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("webhook_secret", [None, "caseapp-webhook:change-me", "short:pw"])
def test_without_debug_an_esp_needs_its_own_webhook_secret(webhook_secret):
    # given Postmark as the ESP (its tracking webhook is mounted) and a missing, public or weak webhook secret
    env = {"DEBUG": "false", "SECRET_KEY": GOOD_KEY, "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
           "ANYMAIL_POSTMARK_SERVER_TOKEN": "pm-token"}
    if webhook_secret:
        env["ANYMAIL_WEBHOOK_SECRET"] = webhook_secret
    # when the web app starts, then it stops naming ANYMAIL_WEBHOOK_SECRET
    result = start_web(**env)
    assert result.returncode != 0
    assert "ANYMAIL_WEBHOOK_SECRET" in result.stderr
    # and with a real one it starts
    assert start_web(**{**env, "ANYMAIL_WEBHOOK_SECRET": GOOD_WEBHOOK_SECRET}).returncode == 0


def test_the_deploy_check_names_each_missing_secret():
    # given an ESP and neither secret set
    result = run("manage.py check --deploy", DEBUG="false",
                 EMAIL_BACKEND="anymail.backends.postmark.EmailBackend")
    # then check --deploy fails and names both, Django's own warning on the key included
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "caseapp.E001" in output and "SECRET_KEY" in output
    assert "caseapp.E002" in output and "ANYMAIL_WEBHOOK_SECRET" in output
    assert "security.W009" in output


def test_the_old_public_webhook_secret_is_gone_from_the_readme_and_compose_file():
    readme = (settings.BASE_DIR / "README.md").read_text()
    compose = (settings.BASE_DIR / "docker-compose.yml").read_text()
    assert "change-me" not in readme
    assert "change-me" not in compose
