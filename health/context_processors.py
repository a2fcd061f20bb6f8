import time

from django.conf import settings

from caseapp import permissions

from .selectors import overdue_scans

# The banner's answer, kept per process for settings.HEALTH_BANNER_SECONDS: a scan that stops shows up seconds
# later instead of costing a query on every manager's page. (monotonic time it was read, the answer)
_kept: tuple[float, object] | None = None


def forget_overdue_scans() -> None:
    """Read the heartbeats again on the next page (after a heartbeat in this process, and between tests)."""
    global _kept
    _kept = None


def kept_overdue_scans():
    global _kept
    now = time.monotonic()
    if _kept is not None and now - _kept[0] < settings.HEALTH_BANNER_SECONDS:
        return _kept[1]
    answer = overdue_scans()
    _kept = (now, answer)
    return answer


def scan_warning(request):
    """Managers see a banner when the scheduled scans stopped (one query every HEALTH_BANNER_SECONDS per process,
    only for managers)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not permissions.is_manager(user):
        return {}
    return {"overdue_scans": kept_overdue_scans()}
