"""The deployment's security settings: production passes `check --deploy`, the demo stays on plain HTTP.

The settings read the environment once, at start, so the production and demo cases run the real settings
module (`config.settings.base`, what `manage.py` uses) in a subprocess with exactly the environment the
README documents; the headers of a normal page are checked in process with the test settings.
"""
import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

# The environment an office sets in production (README, "Production deployment"), minus the database:
# `check --deploy` does not connect to it, and a request that is redirected never reaches it.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
    "DEBUG": "off",
    "SITE_URL": "https://sprzet.example.gov.pl",
    "ALLOWED_HOSTS": "sprzet.example.gov.pl",
    "CSRF_TRUSTED_ORIGINS": "https://sprzet.example.gov.pl",
    "BEHIND_TLS_PROXY": "on",
}
# What `make run` writes into .env for the local demo.
DEMO_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
    "DEBUG": "on",
    "SITE_URL": "http://127.0.0.1:8000",
}

# Two requests through Django's test client: plain HTTP, then HTTPS (as the TLS proxy reports it).
REQUESTS = """
import json, sys
import django
django.setup()
from django.test import Client
host = sys.argv[1]
client = Client(HTTP_HOST=host)
plain = client.get("/login/")
secure = client.get("/login/", HTTP_X_FORWARDED_PROTO="https", secure=True)
csrf = plain.cookies.get("csrftoken")
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location"),
    "secure_status": secure.status_code,
    "hsts": secure.headers.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(csrf["secure"]) if csrf is not None else None,
}))
"""


def _run(env: dict, args: list[str], tmp_path) -> subprocess.CompletedProcess:
    """Run the project's Python with only `env` (plus PATH/HOME and a new SECRET_KEY), from the repository."""
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_with_the_production_environment_prints_no_warning(tmp_path):
    result = _run(PRODUCTION_ENV, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout, output
    assert "WARNINGS" not in output
    assert "security." not in output


def test_production_redirects_plain_http_to_https_and_sends_hsts(tmp_path):
    result = _run(PRODUCTION_ENV, ["-c", REQUESTS, "sprzet.example.gov.pl"], tmp_path)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://sprzet.example.gov.pl/login/"
    assert seen["secure_status"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_demo_with_debug_on_stays_on_plain_http_without_hsts(tmp_path):
    result = _run(DEMO_ENV, ["-c", REQUESTS, "127.0.0.1:8000"], tmp_path)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain_status"] == 200
    assert seen["plain_location"] is None
    assert seen["hsts"] is None  # not even over HTTPS: a browser never learns to refuse the demo
    assert seen["csrf_cookie_secure"] is False  # the login form works over http://127.0.0.1:8000


def _assert_security_headers(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] in ("DENY", "SAMEORIGIN")
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_carry_the_security_headers_and_cookies_are_httponly(client, it_user):
    login_page = client.get("/login/")
    assert login_page.status_code == 200
    _assert_security_headers(login_page)
    assert login_page.cookies["csrftoken"]["httponly"] is True

    logged_in = client.post("/login/", {"username": it_user.username, "password": "test-password-123"})
    assert logged_in.status_code == 302
    assert logged_in.cookies["sessionid"]["httponly"] is True

    for url in ("/admin/", "/my/", "/verify/"):
        page = client.get(url, follow=True)
        assert page.status_code == 200, url
        _assert_security_headers(page)


def test_api_responses_carry_the_security_headers(api, it_user):
    response = api(it_user).get("/api/devices/")
    assert response.status_code == 200
    _assert_security_headers(response)
