"""Who may do what: the one permission model for the dashboard, the API, commands and services.

Two roles (Django groups, see caseapp.roles): agents work cases; managers work cases too, and also approve
remedies, override, edit policies, read reports and manage users and tokens.
One owner per case (story 3): a case owned by one agent is read-only to the other agents; managers may act
on any case. Unowned cases may be worked by any agent. Every signed-in agent or manager may *read* every
case (the queue is shared); anybody else reads nothing.

Objects that hang off a case (its shipment, order, voucher, promises, remedies) follow the case: acting on
them through a case needs `can_work_case`. A shipment or order that belongs to cases owned by others may be
acted on only by a manager or by the owner of one of those cases (`can_work_shipment`).

Only managers approve or reject a remedy, and never one they proposed themselves. Only a manager gives a case
to somebody else; an agent may take an unowned case and hand their own back to the queue.

The roles are read once per user object (one query) and cached on it, so a page or an API request keeps a
fixed number of queries. Views adapt these with dashboard.permissions (decorators) and caseapp.api (DRF);
services that act for a person take `by=` and call `require(...)`, so the API, the dashboard, commands and
imports meet the same rule (`by=None` is caseapp itself: a scan, an import, a courier's webhook).
tests/security/test_permission_matrix.py checks every URL against these rules.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from caseapp.roles import AGENT, MANAGER

NOT_YOUR_CASE = _("This case belongs to another agent. Ask a manager to reassign it.")

_CACHE_ATTR = "_caseapp_roles"


def roles_of(user) -> frozenset[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        roles = frozenset({AGENT, MANAGER})
    else:
        roles = frozenset(user.groups.filter(name__in=(AGENT, MANAGER)).values_list("name", flat=True))
    setattr(user, _CACHE_ATTR, roles)
    return roles


def role_annotations(user_field: str = "pk") -> dict:
    """Annotations that read a user's roles in the query that reads the user (the API token's lookup, with
    ``user_field="user_id"``); hand their values to ``roles_remember`` so that ``roles_of`` needs no query."""
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef

    memberships = get_user_model().groups.through.objects.filter(user_id=OuterRef(user_field))
    return {f"has_role_{role}": Exists(memberships.filter(group__name=role)) for role in (AGENT, MANAGER)}


def roles_remember(user, values: dict) -> None:
    """Cache on ``user`` the roles that ``role_annotations`` read into ``values`` (a superuser has every role)."""
    if not user.is_superuser:
        setattr(user, _CACHE_ATTR, frozenset(role for role in (AGENT, MANAGER) if values[f"has_role_{role}"]))


def is_manager(user) -> bool:
    return MANAGER in roles_of(user)


def is_agent(user) -> bool:
    """Managers work cases too."""
    return bool(roles_of(user) & {AGENT, MANAGER})


def can_view_case(user, case) -> bool:
    return is_agent(user)


def can_work_case(user, case) -> bool:
    """An agent acts on unowned cases and their own; a manager on any."""
    if is_manager(user):
        return True
    return is_agent(user) and case.owner_id in (None, user.pk)


def cases_visible_to(user, queryset):
    """A case list filtered by what the user may read (lists must filter: object checks do not run there)."""
    return queryset if is_agent(user) else queryset.none()


def can_assign_case(user, case, owner) -> bool:
    """A manager gives a case to anyone (or nobody); an agent takes an unowned case for themself, or hands
    their own case back to the queue."""
    if is_manager(user):
        return True
    if not is_agent(user):
        return False
    owner_id = owner.pk if owner is not None else None
    if case.owner_id is None:
        return owner_id == user.pk
    return case.owner_id == user.pk and owner_id in (None, user.pk)


def can_decide_remedy(user, remedy) -> bool:
    """Managers approve or reject remedies that wait for approval, never one they proposed themselves."""
    return is_manager(user) and remedy.proposed_by_id != user.pk


def require(allowed: bool, message: str = NOT_YOUR_CASE) -> None:
    """Raise PermissionDenied (a 403 in the dashboard and the API) unless allowed."""
    if not allowed:
        raise PermissionDenied(message)


def can_work_shipment(user, shipment) -> bool:
    """A manager; or an agent, unless an open case about the shipment (or its order) is owned by another agent."""
    if is_manager(user):
        return True
    if not is_agent(user):
        return False
    from django.db.models import Q

    from cases.models import OPEN_STATUSES, Case  # cases knows orders, not the other way round

    about = Q(shipment_id=shipment.pk) | Q(order_id=shipment.order_id)
    return not (
        Case.objects.filter(about, status__in=OPEN_STATUSES)
        .exclude(owner_id=None).exclude(owner_id=user.pk).exists()
    )


def can_take_case(user, case) -> bool:
    """Taking a case for oneself: an agent takes an unowned case (or keeps their own); a manager any case."""
    return can_assign_case(user, case, user)
