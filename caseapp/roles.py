"""The two roles, as Django groups created by cases/migrations/0002."""

AGENT = "agent"
MANAGER = "manager"


def is_manager(user) -> bool:
    from caseapp.permissions import is_manager as _is_manager

    return _is_manager(user)


def is_agent(user) -> bool:
    """Managers work cases too."""
    from caseapp.permissions import is_agent as _is_agent

    return _is_agent(user)
