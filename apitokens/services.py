"""Creating, revoking and checking API tokens: each one transaction, keyword-only arguments."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caseapp.permissions import is_agent, is_manager

from .models import ApiToken
from .selectors import api_token_active

SECRET_PREFIX = "ca_"
PREFIX_LENGTH = 10
LAST_USED_PRECISION = timedelta(minutes=1)  # at most one write per token per minute, not one per request


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, by) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns (token, secret). The secret is not stored and cannot be shown again."""
    if by is None or not is_manager(by):
        raise PermissionDenied(_("Only a manager creates API tokens."))
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Say what the token is for.")
    if user is None or not user.is_active or not is_agent(user):
        errors["user"] = _("A token acts for an active agent or manager.")
    if errors:
        raise ValidationError(errors)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=secret[:PREFIX_LENGTH], key_hash=api_token_hash(secret), created_by=by,
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by) -> ApiToken:
    """Revoke a token at once; revoking it again changes nothing."""
    if by is None or not is_manager(by):
        raise PermissionDenied(_("Only a manager revokes API tokens."))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The active token with this secret (with its user and the user's roles, in one query), or None. Records when
    it was last used, at most once a minute (LAST_USED_PRECISION): a request is not a write."""
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = api_token_active(key_hash=api_token_hash(secret))
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
