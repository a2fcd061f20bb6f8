"""The two roles, as Django groups created by cases/migrations/0002."""

AGENT = "agent"
MANAGER = "manager"


def is_manager(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.groups.filter(name=MANAGER).exists()))


def is_agent(user) -> bool:
    """Managers work cases too."""
    return bool(
        user and user.is_authenticated
        and (user.is_superuser or user.groups.filter(name__in=(AGENT, MANAGER)).exists())
    )
