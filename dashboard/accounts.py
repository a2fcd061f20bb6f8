"""The staff list for managers: who works here, in which role, and who is locked out of logging in.

django-axes counts failed logins (AccessAttempt rows, per username and address) and locks a username out for
AXES_COOLOFF_TIME after AXES_FAILURE_LIMIT failures. The locked-out page tells the person to ask a manager;
`staff_login_unlock` is what the manager presses (axes.utils.reset, which deletes the username's attempts).
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from caseapp.roles import AGENT, MANAGER

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffMember:
    user: object
    is_manager: bool
    failures: int
    locked_until: datetime | None

    @property
    def is_locked_out(self) -> bool:
        return self.locked_until is not None


def staff_users():
    return (get_user_model().objects.filter(groups__name__in=(AGENT, MANAGER)).distinct()
            .prefetch_related("groups").order_by("username"))


def staff_lockouts(*, now: datetime | None = None) -> dict[str, tuple[int, datetime | None]]:
    """{username: (failures within the cool-off, locked until or None)}, from axes' attempt rows."""
    now = now or timezone.now()
    cool_off = settings.AXES_COOLOFF_TIME
    rows = (AccessAttempt.objects.filter(attempt_time__gte=now - cool_off).exclude(username=None)
            .values("username").annotate(failures=Max("failures_since_start"), last=Max("attempt_time")))
    result = {}
    for row in rows:
        locked = row["failures"] >= settings.AXES_FAILURE_LIMIT
        result[row["username"]] = (row["failures"], row["last"] + cool_off if locked else None)
    return result


def staff_members(*, now: datetime | None = None) -> list[StaffMember]:
    lockouts = staff_lockouts(now=now)
    members = []
    for user in staff_users():
        failures, locked_until = lockouts.get(user.get_username(), (0, None))
        members.append(StaffMember(user=user, failures=failures, locked_until=locked_until,
                                   is_manager=user.is_superuser or any(g.name == MANAGER for g in user.groups.all())))
    return members


@transaction.atomic
def staff_login_unlock(*, user, by) -> int:
    """Forget the user's failed logins, so they can log in again at once. Returns how many attempts were removed."""
    removed = axes_reset(username=user.get_username())
    logger.info("%s unlocked the login of %s (%d failed attempts forgotten)", by.get_username(),
                user.get_username(), removed)
    return removed
