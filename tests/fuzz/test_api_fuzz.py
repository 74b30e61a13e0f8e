"""Every operation of the OpenAPI schema at /api/schema/, for every role, with inputs schemathesis generates
from it (valid and invalid): the API never answers 500, and every documented answer matches its schema
and content type.

In process: the schema is loaded from the Django WSGI application and each case is sent to it, no server,
no network. Bounded and reproducible: FUZZ_MAX_EXAMPLES cases per operation and role (see conftest.py),
a fixed seed and derandomized Hypothesis. The count is printed in pytest's summary.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.fuzz.conftest import MAX_EXAMPLES, ROLES, TALLY

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

CONFIG = schemathesis.Config.from_dict({
    "seed": 20261121,
    # The function-scoped database fixture is meant: each case rolls its own writes back (fuzz_case).
    "suppress-health-check": ["all"],
    # The coverage phase sends a hundred boundary cases per operation whatever max-examples says: beyond the
    # time CI has. The fuzzing phase generates valid and invalid input alike.
    "phases": {"coverage": {"enabled": False}},
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all", "database": "none"},
})

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), config=CONFIG)


@contextmanager
def fuzz_case():
    """One case in a savepoint rolled back afterwards. Django's own test client keeps the connection open
    across a request the same way: on request_started/finished it would close a connection that is inside
    the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with transaction.atomic():
            try:
                yield
            finally:
                transaction.set_rollback(True)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.parametrize("fuzz_role", ROLES)
@schema.parametrize()
def test_api(case, fuzz_role, fuzz_register):
    TALLY.cases += 1
    TALLY.operations.add(case.operation.label)
    TALLY.roles.add(fuzz_role)
    with fuzz_case():
        try:
            case.call_and_validate(headers=fuzz_register["headers"][fuzz_role], checks=CHECKS)
        except Exception:
            TALLY.failures.add((fuzz_role, case.operation.label))
            raise
