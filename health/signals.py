"""Celery signals: the beat's heartbeat (each scheduled task records its run) and the log context carried from
the request that enqueued a task into the worker that runs it (caseapp.logcontext)."""

import logging

from celery import signals
from django.db import DatabaseError

from caseapp import logcontext

logger = logging.getLogger(__name__)


@signals.before_task_publish.connect(dispatch_uid="caseapp-log-context-out")
def _context_into_headers(headers=None, **kwargs):
    if headers is None:
        return
    context = logcontext.current()
    if context["request_id"]:
        headers.setdefault(logcontext.HEADER_REQUEST_ID, context["request_id"])
    if context["case_number"] is not None:
        headers.setdefault(logcontext.HEADER_CASE_NUMBER, context["case_number"])


def _header(task, name):
    value = getattr(task.request, name, None)
    if value is None and isinstance(getattr(task.request, "headers", None), dict):
        value = task.request.headers.get(name)
    return value


@signals.task_prerun.connect(dispatch_uid="caseapp-task-prerun")
def _task_starts(task_id=None, task=None, **kwargs):
    if task is None:
        return
    task.request._caseapp_log_tokens = logcontext.bind(
        request_id=_header(task, logcontext.HEADER_REQUEST_ID) or f"task-{task_id}",
        case_number=_header(task, logcontext.HEADER_CASE_NUMBER),
    )
    from .selectors import scheduled_intervals

    if task.name in scheduled_intervals():
        from .services import scan_heartbeat_beat

        try:
            scan_heartbeat_beat(task=task.name)
        except DatabaseError:  # the scan itself will fail loudly on the same database; never stop it here
            logger.exception("heartbeat of %s not written", task.name)


@signals.task_postrun.connect(dispatch_uid="caseapp-task-postrun")
def _task_ends(task=None, **kwargs):
    tokens = getattr(getattr(task, "request", None), "_caseapp_log_tokens", None)
    if tokens:
        logcontext.unbind(tokens)
