from django.core.handlers.wsgi import WSGIRequest

from .context import audit_context, audit_note

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _user_metadata(user) -> dict:
    if user is None or not getattr(user, "is_authenticated", False):
        return {"user": None}
    return {"user": user.pk, "username": user.get_username()}


class _AuditedRequest(WSGIRequest):
    """DRF sets request.user in the view (token authentication): note that user in the context too."""

    def __setattr__(self, attr, value):
        if attr == "user":
            audit_note(**_user_metadata(value))
        super().__setattr__(attr, value)


class AuditContextMiddleware:
    """Like pghistory.middleware.HistoryMiddleware (the user and the URL of each write), on SQLite too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in WRITE_METHODS:
            return self.get_response(request)
        with audit_context(url=request.path, **_user_metadata(getattr(request, "user", None))):
            if type(request) is WSGIRequest:
                request.__class__ = _AuditedRequest
            return self.get_response(request)
