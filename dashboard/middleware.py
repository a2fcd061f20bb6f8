"""Show times in the user's own time zone: the browser reports it in the "tz" cookie (static/dashboard/app.js).
And keep signed-in pages out of the browser's cache (NoStoreForSignedInMiddleware)."""

import zoneinfo
from urllib.parse import unquote

from django.utils import timezone
from django.utils.cache import add_never_cache_headers

TIMEZONE_COOKIE = "tz"


def user_time_zone(request):
    name = unquote(request.COOKIES.get(TIMEZONE_COOKIE, ""))
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = user_time_zone(request)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class NoStoreForSignedInMiddleware:
    """Every page answered to a signed-in user is `Cache-Control: no-store`: after logout, the browser's Back
    button must ask the server again (and land on the login page) instead of showing a cached case page with the
    customer's data. Static files are served by whitenoise before this runs, so they stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in = _signed_in(request)
        response = self.get_response(request)
        if signed_in or _signed_in(request):  # before the view (logout) or after it (login)
            add_never_cache_headers(response)
        return response


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)
