"""/health/live and /health/ready: real database, real broker, real outages (own PostgreSQL cluster, own Redis)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_live_answers_without_a_login(client):
    response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_when_the_database_is_migrated_and_the_broker_answers(client):
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_not_ready_when_redis_is_down(client, own_redis):
    settings_broker = settings.CELERY_BROKER_URL
    try:
        settings.CELERY_BROKER_URL = own_redis.url
        assert client.get("/health/ready").status_code == 200
        own_redis.kill()
        response = client.get("/health/ready")
    finally:
        settings.CELERY_BROKER_URL = settings_broker
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and set(body["failed"]) == {"broker"}
    assert "Connection" in body["failed"]["broker"] or "refused" in body["failed"]["broker"].lower()


def ready_in_a_process(database_url: str) -> tuple[int, dict]:
    """GET /health/ready in a fresh process whose default database is `database_url`."""
    code = ("import json, django; django.setup(); from django.test import Client; "
            "r = Client().get('/health/ready'); print(json.dumps([r.status_code, r.json()]))")
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "caseapp.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    status, body = json.loads(done.stdout.strip().splitlines()[-1])
    return status, body


@pytest.mark.postgres
def test_not_ready_before_migrations_and_when_the_database_is_down(own_postgres):
    # an empty database that answers: the migrations are what is missing
    status, body = ready_in_a_process(own_postgres.url)
    assert status == 503 and set(body["failed"]) == {"migrations"}, body
    assert "not applied" in body["failed"]["migrations"] and "auth.0001_initial" in body["failed"]["migrations"]
    # the same server stopped: the database is what failed
    own_postgres.stop()
    status, body = ready_in_a_process(own_postgres.url)
    assert status == 503 and set(body["failed"]) == {"database"}, body
    assert "OperationalError" in body["failed"]["database"]
