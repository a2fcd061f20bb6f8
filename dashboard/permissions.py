"""Who may do what in the dashboard.

Agents work cases; managers work cases too, and also approve remedies, edit policies and read reports.
A case owned by one agent is read-only to the other agents: one owner per case (story 3); managers may act on any.
The rules themselves live in caseapp.permissions, shared with the API; this module adapts them to views.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from caseapp import permissions


def roles_of(request) -> frozenset[str]:
    return permissions.roles_of(request.user)


def request_is_manager(request) -> bool:
    return permissions.is_manager(request.user)


def request_is_agent(request) -> bool:
    """Managers work cases too."""
    return permissions.is_agent(request.user)


def _role_required(check):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"{_login_url()}?next={request.get_full_path()}")
            if not check(request):
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _login_url():
    from django.urls import reverse

    return reverse("login")


agent_required = _role_required(request_is_agent)
manager_required = _role_required(request_is_manager)


def can_work_case(request, case) -> bool:
    """An agent acts on unowned cases and their own; a manager on any (caseapp.permissions)."""
    return permissions.can_work_case(request.user, case)


def check_can_work_case(request, case) -> None:
    permissions.require(can_work_case(request, case))


def check_can_assign_case(request, case, owner) -> None:
    permissions.require(permissions.can_assign_case(request.user, case, owner),
                        _("Only a manager gives a case to somebody else."))


def check_can_decide_remedy(request, remedy) -> None:
    permissions.require(permissions.can_decide_remedy(request.user, remedy),
                        _("Nobody approves or rejects their own remedy."))
