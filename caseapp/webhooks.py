"""anymail's tracking webhooks, mounted only for the ESPs caseapp is configured for, and never a 5xx to a body.

``include("anymail.urls")`` mounts every provider's inbound and tracking URLs; an unconfigured one (no signing
key) answers an unauthenticated request with a 500, and a malformed body (``{``, ``[]``) to a configured one does
too. Here the tracking URLs are routed, each answering 404 unless its ESP is in ``ANYMAIL_WEBHOOK_ESPS`` and
anymail can build its view with the settings given; the inbound URLs (``/anymail/<esp>/inbound/``: mail to the
support address, handed to inbox.services.inbound_email_receive by inbox.webhooks) likewise answer only for the ESPs
in ``ANYMAIL_INBOUND_ESPS``, authenticated the same way (basic auth with ANYMAIL WEBHOOK_SECRET plus the ESP's own
signature). Whatever a body makes anymail's parser raise is a logged 400, not a 500. Database errors still
propagate: the provider retries.
"""

import logging
import warnings

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailInsecureWebhookWarning
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import DatabaseError
from django.http import Http404, HttpResponseBadRequest
from django.urls import path, re_path
from django.urls.resolvers import RegexPattern
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

TRACKING_SUFFIX = "_tracking_webhook"
# anymail's names for the URL of each ESP's tracking webhook ("mandrill_webhook" is Mandrill's combined one).
TRACKING_PATTERNS = {
    pattern.name: pattern
    for pattern in anymail_urls.urlpatterns
    if pattern.name.endswith(TRACKING_SUFFIX) or pattern.name == "mandrill_webhook"
}


INBOUND_SUFFIX = "_inbound_webhook"
INBOUND_PATTERNS = {pattern.name: pattern for pattern in anymail_urls.urlpatterns
                    if pattern.name.endswith(INBOUND_SUFFIX)}


def esp_of_pattern(name: str) -> str:
    return name.removesuffix(TRACKING_SUFFIX).removesuffix(INBOUND_SUFFIX).removesuffix("_webhook")


KNOWN_ESPS = frozenset(esp_of_pattern(name) for name in TRACKING_PATTERNS)
KNOWN_INBOUND_ESPS = frozenset(esp_of_pattern(name) for name in INBOUND_PATTERNS)


def view_problem(esp: str, patterns: dict | None = None) -> str:
    """Why anymail cannot build this ESP's tracking (or inbound) view with the current settings ("" when it can)."""
    for name, pattern in (TRACKING_PATTERNS if patterns is None else patterns).items():
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


def mounted_inbound_esps() -> list[str]:
    """The ESPs whose inbound webhook answers: in ANYMAIL_INBOUND_ESPS and buildable by anymail."""
    return [esp for esp in getattr(settings, "ANYMAIL_INBOUND_ESPS", [])
            if esp in KNOWN_INBOUND_ESPS and not view_problem(esp, INBOUND_PATTERNS)]


def _guarded(esp: str, view, mounted=mounted_esps):
    @csrf_exempt
    def tracking_webhook(request, *args, **kwargs):
        if esp not in mounted():
            raise Http404("No such webhook.")
        try:
            return view(request, *args, **kwargs)
        except (SuspiciousOperation, DatabaseError):
            raise  # a refused signature is Django's 400; a database failure is a 5xx the provider retries
        except Exception:  # anymail's parsers raise KeyError, TypeError, ValueError... on a malformed body
            logger.warning("refused a malformed %s webhook body", esp, exc_info=True)
            return HttpResponseBadRequest("Malformed webhook body.", content_type="text/plain")

    tracking_webhook.login_required = False
    return tracking_webhook


def _route(pattern, view, name):
    if isinstance(pattern.pattern, RegexPattern):  # mailgun's inbound(_mime)?
        return re_path(str(pattern.pattern), view, name=name)
    return path(str(pattern.pattern), view, name=name)


app_name = "anymail"
urlpatterns = [
    _route(pattern, _guarded(esp_of_pattern(name), pattern.callback), name)
    for name, pattern in TRACKING_PATTERNS.items()
] + [
    _route(pattern, _guarded(esp_of_pattern(name), pattern.callback, mounted=mounted_inbound_esps), name)
    for name, pattern in INBOUND_PATTERNS.items()
]
