import pytest

from tests.factories import UserFactory


@pytest.fixture
def agent(db):
    return UserFactory(username="alice", role="agent")


@pytest.fixture
def other_agent(db):
    return UserFactory(username="bob", role="agent")


@pytest.fixture
def manager(db):
    return UserFactory(username="maria", role="manager")


@pytest.fixture
def other_manager(db):
    return UserFactory(username="marco", role="manager")
