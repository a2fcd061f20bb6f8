"""Throttling per token (or per signed-in user). For fairness between integrations, not security."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class ApiRateThrottle(SimpleRateThrottle):
    """Each token has its own budget (API_TOKEN_THROTTLE_RATE); a dashboard session its user's (API_USER_THROTTLE_RATE)."""

    scope = "api"

    def __init__(self):  # the rate is read per request, so settings overrides apply
        pass

    def allow_request(self, request, view):
        self.rate = (settings.API_TOKEN_THROTTLE_RATE if isinstance(request.auth, ApiToken)
                     else settings.API_USER_THROTTLE_RATE)
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            # the token's own hash, never reused (a row id can be, after a delete or a rolled-back test)
            ident = f"token-{request.auth.key_hash[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
