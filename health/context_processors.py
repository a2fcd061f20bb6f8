from caseapp import permissions

from .selectors import overdue_scans


def scan_warning(request):
    """Managers see a banner when the scheduled scans stopped (one query, only for managers)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not permissions.is_manager(user):
        return {}
    return {"overdue_scans": overdue_scans()}
