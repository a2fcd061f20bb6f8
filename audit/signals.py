"""Celery tasks change rows under their own name: the audit context of a task is its name and id."""

from celery.signals import task_postrun, task_prerun

from .context import audit_context

_open = {}


@task_prerun.connect
def _enter_task_context(task_id=None, task=None, **kwargs):
    manager = audit_context(task=task.name, task_id=task_id)
    manager.__enter__()
    _open[task_id] = manager


@task_postrun.connect
def _exit_task_context(task_id=None, **kwargs):
    manager = _open.pop(task_id, None)
    if manager is not None:
        manager.__exit__(None, None, None)
