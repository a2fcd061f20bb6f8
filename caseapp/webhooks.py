"""anymail's tracking webhooks, mounted only for the ESPs caseapp is configured for, and never a 5xx to a body.

``include("anymail.urls")`` mounts every provider's inbound and tracking URLs; an unconfigured one (no signing
key) answers an unauthenticated request with a 500, and a malformed body (``{``, ``[]``) to a configured one does
too. Here only the tracking URLs are routed (caseapp receives no inbound mail through them), each answers 404 unless
its ESP is in ``ANYMAIL_WEBHOOK_ESPS`` and anymail can build its view with the settings given, and whatever a body
makes anymail's parser raise is a logged 400, not a 500. Database errors still propagate: the provider retries.
"""

import logging
import warnings

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailInsecureWebhookWarning
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import DatabaseError
from django.http import Http404, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

TRACKING_SUFFIX = "_tracking_webhook"
# anymail's names for the URL of each ESP's tracking webhook ("mandrill_webhook" is Mandrill's combined one).
TRACKING_PATTERNS = {
    pattern.name: pattern
    for pattern in anymail_urls.urlpatterns
    if pattern.name.endswith(TRACKING_SUFFIX) or pattern.name == "mandrill_webhook"
}


def esp_of_pattern(name: str) -> str:
    return name.removesuffix(TRACKING_SUFFIX).removesuffix("_webhook")


KNOWN_ESPS = frozenset(esp_of_pattern(name) for name in TRACKING_PATTERNS)


def view_problem(esp: str) -> str:
    """Why anymail cannot build this ESP's tracking view with the current settings ("" when it can)."""
    for name, pattern in TRACKING_PATTERNS.items():
        if esp_of_pattern(name) != esp:
            continue
        callback = pattern.callback
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AnymailInsecureWebhookWarning)
                callback.view_class(**callback.view_initkwargs)
        except (ImproperlyConfigured, ImportError) as exc:  # anymail's configuration and "not installed" errors
            return str(exc)
        return ""
    return f"anymail has no tracking webhook for {esp!r} (known: {', '.join(sorted(KNOWN_ESPS))})"


def mounted_esps() -> list[str]:
    """The ESPs whose tracking webhook answers: configured in ANYMAIL_WEBHOOK_ESPS and buildable by anymail."""
    return [esp for esp in settings.ANYMAIL_WEBHOOK_ESPS if esp in KNOWN_ESPS and not view_problem(esp)]


def _guarded(esp: str, view):
    @csrf_exempt
    def tracking_webhook(request, *args, **kwargs):
        if esp not in mounted_esps():
            raise Http404("No such webhook.")
        try:
            return view(request, *args, **kwargs)
        except (SuspiciousOperation, DatabaseError):
            raise  # a refused signature is Django's 400; a database failure is a 5xx the provider retries
        except Exception:  # anymail's parsers raise KeyError, TypeError, ValueError... on a malformed body
            logger.warning("refused a malformed %s tracking webhook body", esp, exc_info=True)
            return HttpResponseBadRequest("Malformed webhook body.", content_type="text/plain")

    tracking_webhook.login_required = False
    return tracking_webhook


app_name = "anymail"
urlpatterns = [
    path(str(pattern.pattern), _guarded(esp_of_pattern(name), pattern.callback), name=name)
    for name, pattern in TRACKING_PATTERNS.items()
]
