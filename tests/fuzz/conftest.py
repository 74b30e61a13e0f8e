"""Fixtures of the API fuzzing (test_api_fuzz.py): a small register, one user per role, and the tally
printed in pytest's summary: `schemathesis: N cases, N operations, N roles, N failures`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.db import transaction
from rest_framework.authtoken.models import Token

from core.roles import Role
from tests import factories as f

ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, Role.IT_OFFICE, Role.PROJECT_MANAGER, Role.LEGAL_OFFICE, Role.COUNCILLOR, Role.AUDITOR)
# Generated cases per operation and role (the fuzzing phase; Hypothesis stops sooner when an operation has
# fewer distinct inputs). 5 keeps the module near 3 minutes on SQLite on a busy 2-core machine.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))


@dataclass
class Tally:
    """What the fuzzing sent: every request counts, the shrinking of a failure included."""

    cases: int = 0
    operations: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    failures: set[tuple[str, str]] = field(default_factory=set)  # (role, operation)


TALLY = Tally()


def pytest_terminal_summary(terminalreporter):
    if TALLY.cases:
        terminalreporter.write_line(
            f"schemathesis: {TALLY.cases} cases, {len(TALLY.operations)} operations, {len(TALLY.roles)} roles, "
            f"{len(TALLY.failures)} failures")


@pytest.fixture(scope="module")
def fuzz_register(django_db_setup, django_db_blocker):
    """A small register with one of everything, so that lists and details answer with real objects, and
    an API token for each role's user (the councillor's is the one holding the tablet).

    Built once for the module inside a transaction that is rolled back at its end; every case runs in a
    savepoint of its own that is rolled back too, so no case sees what another wrote (a revoked token, a
    returned loan) and the run is the same each time."""
    from donations import services as donation_services
    from faults import services as fault_services
    from loans import services as loan_services
    from reports import services as report_services
    from wipe import services as wipe_services

    with django_db_blocker.unblock(), transaction.atomic():
        it = f.UserFactory(roles=[Role.IT_OFFICE])
        validator = f.UserFactory(roles=[Role.IT_OFFICE])
        # A councillor with a tablet on loan and a fault reported on it; an earlier loan came back short.
        councillor = f.make_councillor()
        device = f.lend_tablet(councillor).items.get().device
        fault_services.fault_report(by=councillor.user, device=device, category="hardware",
                                    description="Ekran miga.", contact="600 100 200")
        returned = f.lend_tablet(f.make_councillor("Jan Radny"))
        loan_services.loan_return(loan=returned, by=it, condition="rysy na obudowie", returned_on=date(2024, 5, 6),
                                  accessories_returned={}, findings=["brak etui"])
        # Devices in stock, with and without a contract (the project sets below are kits).
        f.make_device()
        f.make_device(contract=f.make_contract())
        # A retired laptop wiped and sanitized, and one waiting for the wipe with its SSD taken out.
        retired = f.sanitize(f.make_retired(), technician=it, validator=validator)
        waiting = f.make_retired()
        wipe_services.disk_remove(medium=waiting.media.get(kind="ssd"), by=it, kept_at="sejf, pok. 12",
                                  held_by="Jan Nowak")
        wipe_services.session_open(by=it, devices=[waiting], location="pok. 12", tool="nwipe")
        # A grant project with a beneficiary holding a set, an obligation and its proof for one month.
        project = f.make_project()
        beneficiary = f.make_beneficiary(project)
        f.allocate(beneficiary)
        obligation = donation_services.obligation_create(project=project, kind="internet", by=None,
                                                         description="Dostęp do internetu w gospodarstwie")
        donation_services.obligation_record(obligation=obligation, beneficiary=beneficiary, month=date(2017, 1, 1),
                                            proof_reference="FV 1/2017", by=None)
        # The mayor's order and a draft transfer under it; a resident's offer waiting for a decision.
        order = f.make_order(annex_devices=[retired])
        donation_services.transfer_create(order=order, recipient=councillor, transfer_date=date(2021, 7, 1), by=it,
                                          devices=[retired])
        donation_services.donation_offer_create(by=it, donor_name="Piotr Mieszkaniec", kind="laptop",
                                                manufacturer="Dell", model="Latitude 5490", serial_number="D5490X",
                                                legal_source="invoice", legal_source_reference="FV 12/2019",
                                                software_licences="Windows 10 Pro OEM", free_of_charge_declared=True)
        report_services.report_issue(kind="inventory_register", by=it)
        users = {role: f.UserFactory(roles=[role]) for role in ROLES if role not in (ANONYMOUS, Role.COUNCILLOR)}
        users[Role.COUNCILLOR] = councillor.user
        headers = {ANONYMOUS: {}}
        for role, user in users.items():
            headers[role] = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
        yield {"headers": headers}
        transaction.set_rollback(True)
