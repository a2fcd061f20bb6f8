"""No secret with a usable default in production.

``secret_problems()`` names each secret that is missing, a known default or too weak; ``manage.py check
--deploy`` shows them as errors (caseapp.E001-E004), and without DEBUG the web app refuses to start with the same
messages (``require_production_secrets``, called from wsgi.py and asgi.py, so gunicorn and runserver both stop).
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Defaults that were ever public (in this repository's settings, README or docker-compose.yml).
PUBLIC_SECRET_KEYS = frozenset({"insecure-dev-key-change-me-in-production-0123456789abcdef", "change-me"})
PUBLIC_WEBHOOK_SECRETS = frozenset({"caseapp-webhook:change-me"})
WEBHOOK_PASSWORD_MIN_LENGTH = 16


def secret_problems() -> list[tuple[str, str]]:
    """(check id, message) for each secret that must be set before production."""
    from caseapp.webhooks import INBOUND_PATTERNS, KNOWN_ESPS, KNOWN_INBOUND_ESPS, view_problem

    problems = []
    key = settings.SECRET_KEY or ""
    if not key or key == settings.DEVELOPMENT_SECRET_KEY or key in PUBLIC_SECRET_KEYS \
            or key.startswith("django-insecure-"):
        problems.append(("caseapp.E001", "SECRET_KEY is not set (or is a public development default): set it to a "
                                         "long random value, e.g. python -c 'import secrets; "
                                         "print(secrets.token_urlsafe(50))'."))
    esps = list(settings.ANYMAIL_WEBHOOK_ESPS)
    inbound_esps = list(getattr(settings, "ANYMAIL_INBOUND_ESPS", []))
    if esps or inbound_esps:
        secret = settings.ANYMAIL.get("WEBHOOK_SECRET") or ""
        _, _, password = secret.partition(":")
        if not secret or secret == settings.UNUSABLE_WEBHOOK_SECRET or secret in PUBLIC_WEBHOOK_SECRETS:
            problems.append(("caseapp.E002", f"ANYMAIL_WEBHOOK_SECRET is not set (or is a public default) while the "
                                             f"webhooks of {', '.join(dict.fromkeys(esps + inbound_esps))} are mounted: set it to "
                                             f"'user:long-random-password' and give the same to the ESP."))
        elif len(password) < WEBHOOK_PASSWORD_MIN_LENGTH:
            problems.append(("caseapp.E003", f"ANYMAIL_WEBHOOK_SECRET must look like 'user:password' with a password "
                                             f"of at least {WEBHOOK_PASSWORD_MIN_LENGTH} characters."))
    for esp in esps:
        if esp not in KNOWN_ESPS:
            problems.append(("caseapp.E004", f"ANYMAIL_WEBHOOK_ESPS names {esp!r}, which anymail has no tracking "
                                             f"webhook for (known: {', '.join(sorted(KNOWN_ESPS))})."))
        elif problem := view_problem(esp):
            problems.append(("caseapp.E004", f"The {esp} tracking webhook is not mounted: {problem}"))
    for esp in inbound_esps:
        if esp not in KNOWN_INBOUND_ESPS:
            problems.append(("caseapp.E004", f"ANYMAIL_INBOUND_ESPS names {esp!r}, which anymail has no inbound "
                                             f"webhook for (known: {', '.join(sorted(KNOWN_INBOUND_ESPS))})."))
        elif problem := view_problem(esp, INBOUND_PATTERNS):
            problems.append(("caseapp.E004", f"The {esp} inbound webhook is not mounted: {problem}"))
    return problems


@checks.register(checks.Tags.security, deploy=True)
def check_production_secrets(app_configs, **kwargs):
    return [checks.Error(message, id=check_id) for check_id, message in secret_problems()]


def require_production_secrets() -> None:
    """Without DEBUG, refuse to serve with a missing or default secret."""
    if settings.DEBUG:
        return
    problems = secret_problems()
    if problems:
        raise ImproperlyConfigured(
            "caseapp will not start without DEBUG until these are fixed:\n"
            + "\n".join(f"  - {message}" for _, message in problems)
        )
