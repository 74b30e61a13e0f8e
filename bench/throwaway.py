"""The throw-away database every benchmark runs on, so that none ever touches real data.

A temporary SQLite file, or with DATABASE_URL a test database (``test_<name>``) beside the one it names;
migrated when the benchmark starts, dropped when it ends, with the temporary folder.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


@contextmanager
def throwaway_database() -> Iterator[Path]:
    """Set Django up on a fresh, migrated database; yields a temporary folder the benchmark may use."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        yield tmp
    finally:
        teardown_databases(old, verbosity=0)
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
