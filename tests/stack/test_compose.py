"""docker-compose.yml, the Dockerfile and the Procfile, checked by reading them (no Docker engine runs here)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def command(service) -> str:
    value = service.get("command", "")
    return " ".join(value) if isinstance(value, list) else value


def test_the_app_services_wait_for_a_one_shot_migrate(services):
    migrate = services["migrate"]
    assert "migrate" in command(migrate) and migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert "migrate" not in command(services[name]), f"{name} must not migrate on start"


def test_one_beat_and_any_number_of_workers(services):
    beats = [name for name, service in services.items() if " beat" in command(service) and "worker" not in
             command(service)]
    assert beats == ["beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert "-B" not in command(services["worker"]).split() and "--beat" not in command(services["worker"])
    assert "gunicorn caseapp.wsgi" in command(services["web"])


def test_every_long_running_service_has_a_health_check(services):
    for name, service in services.items():
        if name == "migrate":
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert "/health/ready" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "ping" in " ".join(services["redis"]["healthcheck"]["test"])


def test_named_volumes_for_the_database_and_the_uploaded_files(compose, services):
    named = set(compose["volumes"])
    def mounts(service):
        return {v.split(":")[0]: v.split(":")[1] for v in service.get("volumes", [])}
    assert mounts(services["db"])["pgdata"] == "/var/lib/postgresql/data" and "pgdata" in named
    for name in APP_SERVICES:
        assert mounts(services[name])["media"] == services[name]["environment"]["MEDIA_ROOT"], name
    assert "media" in named
    assert "--appendonly" in services["redis"]["command"] and "redisdata" in mounts(services["redis"])


def test_mail_goes_to_mailpit_and_the_production_settings_are_used(services):
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    env = services["web"]["environment"]
    assert env["EMAIL_HOST"].endswith("mailpit}") and env["DJANGO_SETTINGS_MODULE"] == "caseapp.settings_production"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "no default secret"
    assert services["postgres" if "postgres" in services else "db"]["image"].startswith("postgres:")


def test_the_image_runs_as_a_user_collects_static_and_builds_psycopg2():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "collectstatic" in dockerfile and "--require-hashes" in dockerfile
    assert "requirements/production.txt" in dockerfile and "libpq-dev" in dockerfile
    production = (ROOT / "requirements" / "production.txt").read_text()
    assert re.search(r"^psycopg2==", production, re.MULTILINE) and "psycopg2-binary" not in production
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)


def test_the_procfile_runs_the_same_processes_as_compose(services):
    procfile = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                    if line and not line.startswith("#"))
    assert set(procfile) == {"release", "web", "worker", "beat"}
    assert "migrate" in procfile["release"]
    for name, words in (("web", 2), ("worker", 4), ("beat", 4)):
        assert command(services[name]).split()[:words] == procfile[name].split()[:words], name
