"""Settings of the load benchmark: the test settings (fixed harmless secrets, DEBUG off) with the URL conf
of bench/loadbench_urls.py, which adds the bare floor view. Kept out of config/ so that the permission
matrix and the API schema never see that view. The database comes from DATABASE_URL, as always."""
from config.settings.test import *  # noqa: F403

ROOT_URLCONF = "bench.loadbench_urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
CONN_MAX_AGE = 600  # a gunicorn worker keeps its connection, as a deployment behind a pooler does
DATABASES["default"]["CONN_MAX_AGE"] = CONN_MAX_AGE  # noqa: F405
AXES_ENABLED = False  # the benchmark signs in by token only; no lockout bookkeeping per request
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"handlers": [], "level": "WARNING"}}
