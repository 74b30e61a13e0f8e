"""Settings for every deployment, read from the environment (see README, "Configuration").

Required values have no default, so a deployment that forgets one fails at start instead of running
with an insecure guess. `make run` writes a local `.env` for the demo; production sets real values.
"""
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from config.storages import storages_from_env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute address printed in QR codes on issued documents; the /verify/ page must be reachable there.
SITE_URL = env.str("SITE_URL").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "core",
    "assets",
    "loans",
    "faults",
    "portal",
    "wipe",
    "donations",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.organization",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Row locks do not exist in SQLite; IMMEDIATE makes a writing transaction take the database lock
    # at its start, so two concurrent moves serialise instead of failing half way.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out sign-in before the password is even checked, in the login
# page, the admin's and the API's token endpoint alike.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "pl"
LANGUAGES = [("pl", _("Polish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Warsaw"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Documents and scans: on the local disk in MEDIA_ROOT (STORAGE_BACKEND=local, the default) or in an
# S3-compatible bucket (STORAGE_BACKEND=s3 and the S3_* variables), never public (config/storages.py).
STORAGES = storages_from_env(env)
# Largest upload accepted (a contract scan), in bytes.
MAX_UPLOAD_SIZE = env.int("MAX_UPLOAD_SIZE", default=20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_SIZE
# Largest spreadsheet the admin and the API import, in bytes; larger files go through `import_table`.
IMPORT_MAX_UPLOAD_SIZE = env.int("IMPORT_MAX_UPLOAD_SIZE", default=50 * 1024 * 1024)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

# E-mail: the console by default (the demo prints messages), SMTP in production, for example
# EMAIL_URL=smtp+tls://user:password@smtp.example.gov.pl:587 (see README, Configuration).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sprzet@localhost")
# Where notices for the IT office go (new faults, reminders); when empty, to the e-mail addresses of
# the active users in the IT office role.
IT_OFFICE_EMAILS = env.list("IT_OFFICE_EMAILS", default=[])
# Largest photo a councillor may attach to a fault report, in bytes.
MAX_PHOTO_SIZE = env.int("MAX_PHOTO_SIZE", default=5 * 1024 * 1024)

# The compliance check: a fault open longer than this many days is a gap, and so is a removed disk
# still not destroyed this many days after its removal. A request may ask for other values.
COMPLIANCE_FAULT_OPEN_DAYS = env.int("COMPLIANCE_FAULT_OPEN_DAYS", default=30)
COMPLIANCE_DISK_DESTROY_DAYS = env.int("COMPLIANCE_DISK_DESTROY_DAYS", default=90)

# Personal data (core.privacy): how many whole years after its end the office keeps a person's data
# before `anonymise_expired` may erase it (issued documents are kept unaltered either way).
# A beneficiary: counted from the end of the project's durability period. Five years, because the
# funding body may still audit the project after that period (grant agreements of the EU programmes
# require the documentation to stay available) and the accounting evidence of the project's fixed
# assets is kept five years (Accounting Act art. 74(2)). Set it to what the grant agreement says.
PRIVACY_RETENTION_YEARS_BENEFICIARY = env.int("PRIVACY_RETENTION_YEARS_BENEFICIARY", default=5)
# A councillor (and any other borrower): counted from the end of their council term or their last loan,
# whichever is later. One year, because the lender's claims for damage to a loaned device are
# time-barred one year after its return (Civil Code art. 719); the signed agreements and protocols stay.
PRIVACY_RETENTION_YEARS_COUNCILLOR = env.int("PRIVACY_RETENTION_YEARS_COUNCILLOR", default=1)

# Secure by default; a local demo over plain HTTP turns these off through DEBUG in its .env. With
# DEBUG off and these defaults, `manage.py check --deploy` prints no warning (see README, "Production
# deployment"). With DEBUG on (`make run`, http://127.0.0.1:8000) nothing redirects to HTTPS and no HSTS
# header is sent, so a browser never learns to refuse the plain-HTTP demo.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# No page reads the CSRF cookie from JavaScript: forms, the admin, the browsable API and Swagger UI
# carry the token in the page itself.
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# HSTS: sent only on HTTPS responses. One year (what browsers' preload lists ask for) unless DEBUG;
# a deployment trying HTTPS out may start lower (e.g. 3600) and raise it once everything works.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
# includeSubDomains covers the service's own host name and its subdomains (not the parent domain).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# The preload directive only allows a submission to the browsers' list; nothing is submitted by it.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT failed attempts for one user name from one
# address, that pair is refused for AXES_COOLOFF_HOURS even with the right password, and the lockout
# page says so. Locking the name and the address together keeps someone guessing from locking a
# colleague out from elsewhere. A success resets the count; `manage.py axes_reset_username NAME` lifts a
# lockout at once. Behind the TLS proxy the address is the last hop of X-Forwarded-For, which the
# proxy sets (core.security.client_ip).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(hours=env.float("AXES_COOLOFF_HOURS", default=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/lockout.html"
AXES_LOCKOUT_CALLABLE = "core.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.security.client_ip"
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): scripts, styles, images and fonts from the service itself only;
# the pages' own <style> blocks carry the request's nonce; charts are data: images. Nothing may frame
# the service, post forms elsewhere or load plugins. The ReDoc page alone widens it (config/api.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.RolePermissions"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "core.api.renderers.BrowsableAPIRenderer",  # allowed inline styles under the CSP
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DATE_FORMAT": "iso-8601",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Sprzęt gminy — API",
    "DESCRIPTION": "Device lifecycle, loans, wipes and free transfers of a city office.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DeviceStatusEnum": "assets.choices.DeviceStatus",
        "DeviceKindEnum": "assets.choices.DeviceKind",
        "MediumKindEnum": "assets.choices.MediumKind",
        "DocumentKindEnum": "core.choices.DocumentKind",
        "RecipientKindEnum": "loans.choices.RecipientKind",
        "AccessoryKindEnum": "loans.choices.AccessoryKind",
        "LoanStatusEnum": "loans.choices.LoanStatus",
        "BeneficiaryKindEnum": "donations.choices.BeneficiaryKind",
        "TransferStatusEnum": "donations.choices.TransferStatus",
        "DataClassificationEnum": "wipe.choices.DataClassification",
        "ComplianceGapKindEnum": "reports.compliance.GapKind",
        "ReportKindEnum": "reports.models.ReportKind",
        "JobStatusEnum": "core.choices.JobStatus",
    },
}

# Background jobs (core.jobs, README "Background jobs"): Django's tasks API through django-tasks' database
# backend, so the queue is a table of this database (no broker); `manage.py db_worker` runs the tasks.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A running job refreshes its heartbeat every JOB_HEARTBEAT seconds; one silent for JOB_STALE_AFTER seconds
# has lost its worker and `manage.py jobs_resume` puts it back in the queue.
JOB_HEARTBEAT = env.int("JOB_HEARTBEAT", default=30)
JOB_STALE_AFTER = env.int("JOB_STALE_AFTER", default=300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

FORMAT_MODULE_PATH = ["config.formats"]

# django-import-export (export only, see core.admin_export): who may view a table may export it.
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# The office that issues documents, printed in every PDF's header.
ORGANIZATION_NAME = env.str("ORGANIZATION_NAME", default="Urząd Miasta")
# Its address, printed beside its name where it is a party (loan agreements, protocols).
ORGANIZATION_ADDRESS = env.str("ORGANIZATION_ADDRESS", default="")
