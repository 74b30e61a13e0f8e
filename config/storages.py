"""Where the media files live, read from the environment: the local disk or an S3-compatible bucket.

Issued PDFs, scans, photos, wipe reports and imported spreadsheets all go through Django's default
storage. One machine keeps them in MEDIA_ROOT; several application workers on several machines must
see the same files, so they either share that directory (a network volume) or keep the files in an
S3-compatible bucket (AWS S3, MinIO, Ceph) through django-storages. Either way no file is ever public:
every download goes through the permission-checking views (core.uploads.private_file_response), so
the bucket stays private and no presigned or public URL is ever handed out.

This module imports nothing of the project's apps: the settings call it before Django is set up.
"""
from __future__ import annotations

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

__all__ = ["BACKENDS", "S3_REQUIRED", "storages_from_env"]

BACKENDS = ("local", "s3")
# Without a default: a deployment that chose S3 and forgot one of these must not start.
S3_REQUIRED = ("S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
ADDRESSING_STYLES = ("auto", "path", "virtual")
ACLS = ("none", "private")
# A file read from the bucket that is opened for seeking (an import's spreadsheet) is spooled in memory up
# to this size and to a temporary file beyond it; django-storages' default keeps it all in memory.
S3_MAX_MEMORY_SIZE = 2621440
STATICFILES = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


def _choice(env: environ.Env, name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.str(name, default=default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)} (see README, Configuration).")
    return value


def storages_from_env(env: environ.Env) -> dict[str, dict[str, Any]]:
    """The STORAGES setting: FileSystemStorage in MEDIA_ROOT, or S3Storage when STORAGE_BACKEND=s3.

    Static files always stay on the local disk (collectstatic, served by the web server). Raises
    ImproperlyConfigured, naming every missing or wrong variable, so a bad configuration fails at start.
    """
    backend = _choice(env, "STORAGE_BACKEND", BACKENDS, "local")
    if backend == "local":
        return {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "staticfiles": STATICFILES}
    missing = [name for name in S3_REQUIRED if not env.str(name, default="").strip()]
    if missing:
        raise ImproperlyConfigured(
            f"STORAGE_BACKEND=s3 needs {', '.join(missing)}: the bucket that keeps the documents and scans and "
            f"the access key to it (see README, Configuration, \"Files: local disk or S3-compatible storage\").")
    endpoint_url = env.str("S3_ENDPOINT_URL", default="").strip() or None
    options = {
        "bucket_name": env.str("S3_BUCKET").strip(),
        "access_key": env.str("S3_ACCESS_KEY_ID").strip(),
        "secret_key": env.str("S3_SECRET_ACCESS_KEY").strip(),
        "endpoint_url": endpoint_url,
        "region_name": env.str("S3_REGION", default="").strip() or None,
        # Every object under this prefix ("sprzet/" keeps them apart from others in a shared bucket).
        "location": env.str("S3_PREFIX", default="").strip().strip("/"),
        # MinIO, Ceph and most servers of one's own answer at one host name: path style by default there.
        "addressing_style": _choice(env, "S3_ADDRESSING_STYLE", ADDRESSING_STYLES, "path" if endpoint_url else "auto"),
        # "none" leaves access to the bucket's policy (and works with AWS's "ACLs disabled" buckets).
        "default_acl": None if _choice(env, "S3_DEFAULT_ACL", ACLS, "none") == "none" else "private",
        # Files are served by the application only: no signed or public URL of an object is ever made.
        "querystring_auth": False,
        # A new file never replaces another of the same name (two photos both called "zdjecie.jpg"):
        # it gets a free name, as on the local disk.
        "file_overwrite": False,
        "max_memory_size": S3_MAX_MEMORY_SIZE,
    }
    return {"default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}, "staticfiles": STATICFILES}
