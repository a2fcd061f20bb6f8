import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

app = Celery("caseapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _close_old_database_connections(sender=None, **kwargs):
    """Before and after each task, as Django does around a request: close a connection that is broken, left in a
    transaction or older than its CONN_MAX_AGE, and keep the others (checked again before their next query)."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
def _worker_keeps_database_connections(**kwargs):
    """In a worker (main process, before the pool forks: the children inherit it), database connections live
    WORKER_DB_CONN_MAX_AGE seconds instead of one task: a task no longer pays for a new PostgreSQL connection."""
    from django.conf import settings

    age = settings.WORKER_DB_CONN_MAX_AGE
    if not age:
        return
    for database in settings.DATABASES.values():  # the dicts the connections are made from
        database["CONN_MAX_AGE"] = age
    task_prerun.connect(_close_old_database_connections, weak=False)
    task_postrun.connect(_close_old_database_connections, weak=False)
