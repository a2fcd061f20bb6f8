"""Readiness checks: each returns None when fine, or a short reason (for operators, not translated)."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

CHECK_TIMEOUT_SECONDS = 3


def database_problem() -> str | None:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure to reach it is the answer, not an error of ours
        connection.close_if_unusable_or_obsolete()
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


def migrations_problem() -> str | None:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
        return f"{len(names)} not applied: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
    return None


def broker_problem() -> str | None:
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
                                 socket_timeout=CHECK_TIMEOUT_SECONDS).ping()
        else:
            from kombu import Connection

            with Connection(url, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                            connect_timeout=CHECK_TIMEOUT_SECONDS) as connection:
                connection.ensure_connection(max_retries=0)
    except Exception as exc:  # unreachable, refused, timed out: all mean "not ready"
        return f"{type(exc).__name__}: {exc}"
    return None
