"""Structured-log context: a request id that follows a request into the Celery tasks it enqueues, and the case
number where there is one.

- ``RequestIdMiddleware`` takes the caller's ``X-Request-ID`` (if it is a sane token) or makes one, answers with it,
  and binds the case number of ``/cases/<pk>/…`` and ``/api/v1/cases/<pk>/…`` URLs.
- ``health.signals`` puts both into the headers of every task published while they are bound, and binds them
  again in the worker around the task (``task_prerun`` / ``task_postrun``).
- ``ContextFilter`` adds ``request_id`` and ``case_number`` to every log record (``-`` when unbound), for the plain
  and the JSON formats alike (``LOG_FORMAT=plain|json`` in settings).
"""

import contextvars
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("caseapp_request_id", default=None)
case_number_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("caseapp_case_number", default=None)

HEADER_REQUEST_ID = "caseapp_request_id"
HEADER_CASE_NUMBER = "caseapp_case_number"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def bind(*, request_id: str | None = None, case_number: int | None = None) -> list:
    """Bind values for this thread/context; returns tokens for ``unbind``."""
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    if case_number is not None:
        tokens.append((case_number_var, case_number_var.set(int(case_number))))
    return tokens


def unbind(tokens: list) -> None:
    for var, token in reversed(tokens):
        try:
            var.reset(token)
        except ValueError:  # set in another context (a worker thread): forget it instead
            var.set(None)


def current() -> dict:
    return {"request_id": request_id_var.get(), "case_number": case_number_var.get()}


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or "-"
        if not hasattr(record, "case_number"):
            case_number = case_number_var.get()
            record.case_number = case_number if case_number is not None else "-"
        return True


CASE_URL_NAMES = {"case", "case_note", "case_reply", "case_promise", "promise_close", "case_status",
                  "case_reopen"}


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if SANE_REQUEST_ID.match(incoming) else new_request_id()
        tokens = bind(request_id=request.request_id)
        request._caseapp_log_tokens = tokens
        try:
            response = self.get_response(request)
        finally:
            unbind(request._caseapp_log_tokens)
        response["X-Request-ID"] = request.request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or "pk" not in view_kwargs:
            return None
        is_case = (match.url_name in CASE_URL_NAMES and match.namespace == "dashboard") or (
            match.namespace == "api-v1" and match.url_name and match.url_name.startswith("case-"))
        if is_case:
            try:
                request._caseapp_log_tokens += bind(case_number=int(view_kwargs["pk"]))
            except (TypeError, ValueError):
                pass
        return None
