"""Test settings: the base settings with fixed, harmless values for what a deployment must set."""
import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("SITE_URL", "http://testserver")

from .base import *  # noqa: E402,F403
from .base import BASE_DIR  # noqa: E402

DEBUG = False
SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / ".pytest_cache" / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
IT_OFFICE_EMAILS = ["it@testserver"]
