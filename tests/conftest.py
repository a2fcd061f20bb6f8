import pytest
from django.utils import translation

from tests.factories import UserFactory


@pytest.fixture
def agent(db):
    return UserFactory(username="alice", role="agent")


@pytest.fixture
def other_agent(db):
    return UserFactory(username="bob", role="agent")


@pytest.fixture
def manager(db):
    return UserFactory(username="maria", role="manager")


@pytest.fixture
def other_manager(db):
    return UserFactory(username="marco", role="manager")


def pytest_collection_modifyitems(config, items):
    """Tests that start a real Celery worker process share the test database with it, so they need PostgreSQL
    (pytest-django's SQLite test database lives in memory, out of another process's reach) and a redis-server;
    tests marked `postgres` test what only PostgreSQL does. On the embedded defaults both are skipped with the
    reason; CI runs them against the real services (and test_infrastructure fails if it is not on them)."""
    import shutil

    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip_worker = pytest.mark.skip(reason="starts a real worker: needs DATABASE_URL on PostgreSQL and redis-server "
                                          "(as .ci/run sets up)")
    skip_postgres = pytest.mark.skip(reason="PostgreSQL only (row locks, triggers, concurrent transactions): "
                                            "set DATABASE_URL (as .ci/run does)")
    for item in items:
        if "worker" in item.keywords and not (on_postgres and shutil.which("redis-server")):
            item.add_marker(skip_worker)
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_postgres)


@pytest.fixture(autouse=True)
def _no_language_leaks_between_tests():
    """Each test starts in the site's language: a test (or a command it runs) that activates another language
    must not change the words the next test reads."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_health_banner_leaks_between_tests():
    """The scans banner's answer is kept per process for a few seconds (health.context_processors): each test
    reads its own heartbeats."""
    from health.context_processors import forget_overdue_scans

    forget_overdue_scans()
    yield
    forget_overdue_scans()
