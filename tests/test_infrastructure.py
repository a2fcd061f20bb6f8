"""CI must run against the real PostgreSQL and Redis, not silently fall back to the embedded defaults."""

import os

import pytest
import redis
from django.conf import settings
from django.db import connection

requires_real_services = pytest.mark.skipif(
    not os.environ.get("CASEAPP_REQUIRE_REAL_SERVICES"),
    reason="only when CASEAPP_REQUIRE_REAL_SERVICES is set (as .ci/run does)",
)


@requires_real_services
@pytest.mark.django_db
def test_ci_runs_on_postgresql_not_sqlite():
    # given the environment .ci/run sets
    # when the tests open the database connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
    # then it is PostgreSQL
    assert connection.vendor == "postgresql", f"CI fell back to {connection.vendor}"
    assert version.startswith("PostgreSQL")


@requires_real_services
def test_ci_broker_is_the_real_redis():
    assert settings.CELERY_BROKER_URL.startswith("redis://"), settings.CELERY_BROKER_URL
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.ping() is True


def test_embedded_defaults_need_no_server(tmp_path):
    """With nothing set, settings pick SQLite in var/ and kombu's filesystem broker."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CASEAPP_VAR_DIR"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c",
         "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','caseapp.settings'); django.setup();"
         "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE']); print(s.CELERY_BROKER_URL)"],
        env=env, capture_output=True, text=True, check=True, cwd=settings.BASE_DIR,
    ).stdout.split()
    assert out == ["django.db.backends.sqlite3", "filesystem://"]
    assert (tmp_path / "broker" / "in").is_dir()


def test_production_settings_pass_the_deploy_check():
    """`manage.py check --deploy` is the baseline for production: with HTTPS settings and a real key, nothing."""
    import secrets
    import subprocess
    import sys

    env = {**os.environ, "CASEAPP_HTTPS": "true", "SECRET_KEY": secrets.token_urlsafe(50), "DEBUG": "false",
           "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
