import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def it_user(db):
    return UserFactory(roles=[Role.IT_OFFICE], first_name="Jan", last_name="Informatyk")


@pytest.fixture
def auditor(db):
    return UserFactory(roles=[Role.AUDITOR])


@pytest.fixture
def make_user(db):
    def make(*roles, **kwargs):
        return UserFactory(roles=list(roles), **kwargs)

    return make


@pytest.fixture
def api(db):
    """An API client logged in by token as the given user: api(user)."""

    def client_for(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request activates its language in the thread and nothing deactivates it; without this, a test
    asking for English would leave English on for every test after it (the browser test read 'resolved')."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def api_en(api):
    """Like `api`, asking for English: for tests that read the reasons as the code writes them."""

    def client_for(user):
        client = api(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return client_for

