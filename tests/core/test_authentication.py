"""Signing in: lockout after repeated failures (django-axes), each person's API token (see, issue, revoke),
Django's password rules, and the Content-Security-Policy on the pages."""
import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.roles import Role
from core.security import client_ip
from tests.factories import UserFactory, make_councillor

PASSWORD = "test-password-123"  # UserFactory's


@pytest.fixture
def clerk(db):
    return UserFactory(username="informatyk", roles=[Role.IT_OFFICE])


def _fail(client, path, username, times, **extra):
    for _ in range(times):
        response = client.post(path, {"username": username, "password": "zle-haslo"}, **extra)
    return response


def test_five_wrong_passwords_lock_the_sign_in_even_with_the_right_one(clerk, settings):
    client = Client()
    response = _fail(client, "/login/", clerk.username, settings.AXES_FAILURE_LIMIT - 1)
    assert response.status_code == 200  # the form again, with its error
    response = _fail(client, "/login/", clerk.username, 1)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Logowanie zablokowane" in page and "60 minut" in page
    assert response["Retry-After"] == "3600"

    response = client.post("/login/", {"username": clerk.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_for_the_name_from_that_address_only(clerk, settings):
    _fail(Client(REMOTE_ADDR="10.0.0.7"), "/login/", clerk.username, settings.AXES_FAILURE_LIMIT)
    elsewhere = Client(REMOTE_ADDR="10.0.0.8")
    response = elsewhere.post("/login/", {"username": clerk.username, "password": PASSWORD})
    assert response.status_code == 302 and elsewhere.session["_auth_user_id"] == str(clerk.pk)


def test_a_success_clears_the_failures(clerk, settings):
    client = Client()
    _fail(client, "/login/", clerk.username, settings.AXES_FAILURE_LIMIT - 1)
    assert client.post("/login/", {"username": clerk.username, "password": PASSWORD}).status_code == 302
    client.logout()
    assert _fail(client, "/login/", clerk.username, settings.AXES_FAILURE_LIMIT - 1).status_code == 200
    assert client.post("/login/", {"username": clerk.username, "password": PASSWORD}).status_code == 302


def test_the_admin_sign_in_is_locked_too(clerk, settings):
    client = Client()
    response = _fail(client, "/admin/login/", clerk.username, settings.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    response = client.post("/admin/login/", {"username": clerk.username, "password": PASSWORD})
    assert response.status_code == 429


def test_the_api_token_sign_in_locks_with_a_json_reason(clerk, settings):
    client = APIClient()
    response = _fail(client, "/api/auth/token/", clerk.username, settings.AXES_FAILURE_LIMIT - 1)
    assert response.status_code == 400
    response = _fail(client, "/api/auth/token/", clerk.username, 1)
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    response = client.post("/api/auth/token/", {"username": clerk.username, "password": PASSWORD})
    assert response.status_code == 429 and not Token.objects.filter(user=clerk).exists()


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(rf, settings):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9", REMOTE_ADDR="127.0.0.1")
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client_ip(request) == "203.0.113.9"  # the first entry is whatever the client claimed
    settings.SECURE_PROXY_SSL_HEADER = None
    assert client_ip(request) == "127.0.0.1"  # without a proxy, a forged header counts for nothing


def test_weak_passwords_are_refused(clerk):
    for weak in ("12345678", "password", "informatyk1", "krótkie"):
        with pytest.raises(ValidationError):
            validate_password(weak, user=clerk)
    validate_password("Zielony-Rower-Na-Rynku-7", user=clerk)


# --- each person's API token


def test_a_token_is_obtained_seen_by_its_ending_and_revoked(clerk):
    client = APIClient()
    key = client.post("/api/auth/token/", {"username": clerk.username, "password": PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    info = client.get("/api/auth/token/").json()
    assert info["has_token"] is True and info["ending"] == f"…{key[-4:]}" and info["created"]
    assert key not in str(info)
    assert client.get("/api/devices/").status_code == 200

    assert client.delete("/api/auth/token/").status_code == 204
    assert not Token.objects.filter(user=clerk).exists()
    refused = client.get("/api/devices/")  # the revoked token no longer signs in
    assert refused.status_code == 403 and refused.json() == {"detail": "Niepoprawny token."}


def test_revoking_without_a_token_says_so_and_anonymous_callers_see_nothing(clerk):
    client = APIClient()
    client.force_authenticate(clerk)
    response = client.delete("/api/auth/token/")
    assert response.status_code == 404 and "token" in response.json()["detail"].lower()
    assert client.get("/api/auth/token/").json() == {"has_token": False, "ending": "", "created": None}
    assert APIClient().get("/api/auth/token/").status_code == 403
    assert APIClient().delete("/api/auth/token/").status_code == 403


def test_the_portal_issues_a_token_once_and_revokes_it(clerk):
    client = Client()
    client.force_login(clerk)
    assert "Nie masz tokenu API" in client.get("/my/token/").content.decode()

    response = client.post("/my/token/", {"action": "issue"})
    key = Token.objects.get(user=clerk).key
    assert key in response.content.decode() and response["Cache-Control"] == "no-store"
    page = client.get("/my/token/").content.decode()
    assert key not in page and f"…{key[-4:]}" in page  # shown whole once only

    client.post("/my/token/", {"action": "issue"})
    assert Token.objects.get(user=clerk).key != key  # a new token replaces the old one

    response = client.post("/my/token/", {"action": "revoke"}, follow=True)
    assert not Token.objects.filter(user=clerk).exists()
    assert "unieważniony" in response.content.decode()
    assert Client().get("/my/token/").status_code == 302  # anonymous: to the sign-in page


def test_the_it_office_lists_tokens_by_their_ending_and_revokes_them(clerk, make_user):
    councillor = make_councillor("Ewa Radna").user
    token = Token.objects.create(user=councillor)
    client = Client()
    client.force_login(clerk)
    page = client.get("/admin/authtoken/tokenproxy/").content.decode()
    assert f"…{token.key[-4:]}" in page and token.key not in page

    assert f'value="{councillor.pk}"' in page  # each row's checkbox names the user, not the key
    response = client.post("/admin/authtoken/tokenproxy/",
                           {"action": "revoke", "_selected_action": [councillor.pk]}, follow=True)
    assert response.status_code == 200 and not Token.objects.filter(user=councillor).exists()

    manager = make_user(Role.PROJECT_MANAGER)
    client.force_login(manager)
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 403


# --- Content-Security-Policy


def _policy(response) -> dict[str, list[str]]:
    return {name: values for name, *values in
            (part.split() for part in response["Content-Security-Policy"].split(";") if part.strip())}


@pytest.mark.parametrize("path", ["/login/", "/verify/", "/admin/login/"])
def test_pages_allow_only_their_own_scripts_and_their_nonced_styles(db, path):
    response = Client().get(path)
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["style-src"]
    page = response.content.decode()
    for nonce in re.findall(r'<style nonce="([^"]+)"', page):
        assert f"'nonce-{nonce}'" in policy["style-src"]
    assert not re.search(r"<style>|<script>| on[a-z]+=\"", page)  # no inline block or handler without nonce


def test_the_api_docs_keep_the_strict_policy_and_redoc_alone_allows_inline_styles(clerk):
    client = Client()
    client.force_login(clerk)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and "'unsafe-inline'" not in docs["Content-Security-Policy"]
    assert "<script>" not in docs.content.decode()
    redoc = client.get("/api/redoc/")
    policy = _policy(redoc)
    assert "'unsafe-inline'" in policy["style-src"] and "'unsafe-inline'" not in policy["script-src"]
    assert "fonts.googleapis.com" not in redoc.content.decode()


def test_the_it_office_unlocks_a_locked_user_name_in_the_admin(clerk, make_user, settings):
    from axes.models import AccessAttempt

    _fail(Client(), "/login/", clerk.username, settings.AXES_FAILURE_LIMIT)
    attempt = AccessAttempt.objects.get(username=clerk.username)
    office = Client()
    office.force_login(make_user(Role.IT_OFFICE))
    assert clerk.username in office.get("/admin/axes/accessattempt/").content.decode()
    office.post("/admin/axes/accessattempt/",
                {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"})
    assert not AccessAttempt.objects.exists()
    assert Client().post("/login/", {"username": clerk.username, "password": PASSWORD}).status_code == 302
