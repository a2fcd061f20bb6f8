"""Who may do what in the dashboard.

Agents work cases; managers work cases too, and also approve remedies, edit policies and read reports.
A case owned by one agent is read-only to the other agents: one owner per case (story 3); managers may act on any.
The role is read once per request (one query) so that pages keep a fixed number of queries.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from caseapp.roles import AGENT, MANAGER


def roles_of(request) -> frozenset[str]:
    cached = getattr(request, "_dashboard_roles", None)
    if cached is not None:
        return cached
    user = request.user
    if not user.is_authenticated:
        roles = frozenset()
    elif user.is_superuser:
        roles = frozenset({AGENT, MANAGER})
    else:
        roles = frozenset(user.groups.filter(name__in=(AGENT, MANAGER)).values_list("name", flat=True))
    request._dashboard_roles = roles
    return roles


def request_is_manager(request) -> bool:
    return MANAGER in roles_of(request)


def request_is_agent(request) -> bool:
    """Managers work cases too."""
    return bool(roles_of(request) & {AGENT, MANAGER})


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
    """An agent acts on unowned cases and their own; a manager on any."""
    if request_is_manager(request):
        return True
    return request_is_agent(request) and case.owner_id in (None, request.user.pk)


def check_can_work_case(request, case) -> None:
    if not can_work_case(request, case):
        raise PermissionDenied("This case belongs to another agent. Ask a manager to reassign it.")
