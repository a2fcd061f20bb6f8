import pytest
from rest_framework.test import APIClient

from apitokens.services import api_token_create, api_token_revoke
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The factories set a password on every user; the production hasher's cost is not what these tests test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def token_client(user, *, by) -> APIClient:
    _token, secret = api_token_create(user=user, name=f"{user.username} script", by=by)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def as_manager(manager):
    return token_client(manager, by=manager)


@pytest.fixture
def as_agent(agent, manager):
    return token_client(agent, by=manager)


@pytest.fixture
def as_other_agent(other_agent, manager):
    return token_client(other_agent, by=manager)


@pytest.fixture
def as_revoked(agent, manager):
    token, secret = api_token_create(user=agent, name="old script", by=manager)
    api_token_revoke(token=token, by=manager)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def as_no_role(db):
    client = APIClient()
    client.force_login(UserFactory(username="no-role"))
    return client


@pytest.fixture
def as_anonymous():
    return APIClient()
