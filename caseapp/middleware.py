"""Two guards around every request: bad characters in, tracebacks out.

``BadInputMiddleware`` answers 400 to a NUL character or a lone surrogate in a query parameter or a form field
(name or value) before any view runs: no caseapp text contains one, and PostgreSQL refuses them (DataError,
ValueError, UnicodeEncodeError). JSON bodies are checked by the API's parser (caseapp.parsers).

``ServerErrorMiddleware`` turns an exception that still slips through a view into a logged 500 page
(``templates/500.html``) or, under /api/, a JSON body, with an incident id to quote; never a traceback, even with
DEBUG on. The traceback goes to the log with the same id.
"""

import logging
import re
import uuid

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponseBadRequest, HttpResponseServerError, JsonResponse
from django.template import loader

logger = logging.getLogger("caseapp.errors")

UNSAFE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_unsafe_characters(query_dict) -> bool:
    return any(UNSAFE_CHARACTERS.search(key) or any(UNSAFE_CHARACTERS.search(value) for value in values)
               for key, values in query_dict.lists())


# The search box cleans its own query (search.normalize.clean_query): whatever is typed there, NUL or a lone
# surrogate included, gives results or none, never an error (issue 13).
QUERY_CLEANED_BY_VIEW = ("/search/", "/api/v1/search/")


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_unsafe_characters(request.GET) and not request.path.startswith(QUERY_CLEANED_BY_VIEW):
            return HttpResponseBadRequest("A query parameter contains a NUL character or a lone surrogate.",
                                          content_type="text/plain; charset=utf-8")
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES \
                and _has_unsafe_characters(request.POST):
            return HttpResponseBadRequest("A form field contains a NUL character or a lone surrogate.",
                                          content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ServerErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404 | PermissionDenied | SuspiciousOperation):
            return None  # Django answers these with their 404, 403 and 400
        incident = uuid.uuid4().hex[:12]
        logger.error("incident %s: %s %s raised %s", incident, request.method, request.path,
                     type(exception).__name__, exc_info=exception)
        return server_error_response(request, incident=incident)


def server_error_response(request, *, incident: str = ""):
    """The 500 page without the request's context: rendering must not depend on what may have failed (the DB)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error.", "incident": incident}, status=500)
    try:
        body = loader.get_template("500.html").render({"incident": incident})
    except Exception:  # a broken error page must not hide the error's own response
        body = f"Server error. Incident {incident}."
    return HttpResponseServerError(body)


def server_error(request):
    """handler500: what Django itself renders when an error happens outside a view (DEBUG off)."""
    return server_error_response(request)


class PermissionsPolicyMiddleware:
    """Sends settings.PERMISSIONS_POLICY (browser features caseapp never uses, switched off) on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
