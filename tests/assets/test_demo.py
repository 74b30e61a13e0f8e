"""The demo data: what `make run` shows a visitor, loaded through the services, safe to load twice.

The full load (about 1,100 devices) runs once for this module, inside a transaction rolled back at the
end; each test runs in its own savepoint on top of it.
"""
from __future__ import annotations

import time
from io import StringIO
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Q
from django.test import override_settings

from assets.choices import DeviceKind, DeviceStatus, FundingSource, ManagedBy, MediumKind, RetirementReason
from assets.models import Contract, Device, DeviceEvent, Kit, StorageMedium, Supplier
from core.roles import Role

pytestmark = pytest.mark.django_db

User = get_user_model()

DEMO_USERS = {
    "informatyk": Role.IT_OFFICE,
    "weryfikator": Role.IT_OFFICE,
    "kierownik": Role.PROJECT_MANAGER,
    "prawnik": Role.LEGAL_OFFICE,
    "radny": Role.COUNCILLOR,
    "audytor": Role.AUDITOR,
}


def run_load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def printed_accounts(output: str) -> dict[str, str]:
    """username -> password from the table the command prints (username first, password and token last)."""
    accounts = {}
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0] in {*DEMO_USERS, "admin"} and len(cells) >= 4:
            accounts[cells[0]] = cells[-2]
    return accounts


def register_counts() -> dict[str, int]:
    return {
        "suppliers": Supplier.objects.count(),
        "contracts": Contract.objects.count(),
        "kits": Kit.objects.count(),
        "devices": Device.objects.count(),
        "media": StorageMedium.objects.count(),
        "events": DeviceEvent.objects.count(),
        "device history": Device.history.count(),
        "users": User.objects.count(),
    }


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        started = time.monotonic()
        with override_settings(DEBUG=True):
            output = run_load_demo()
        yield SimpleNamespace(output=output, seconds=time.monotonic() - started)
        transaction.set_rollback(True)


def test_refused_entirely_when_debug_is_off(settings):
    settings.DEBUG = False
    before = register_counts()

    with pytest.raises(CommandError, match="DEBUG"):
        run_load_demo()

    assert register_counts() == before


def test_kielce_tablets_one_per_councillor_managed_by_infover(demo):
    tablets = Device.objects.filter(kind=DeviceKind.TABLET, inventory_number__startswith="UMK/2020/TAB/")

    assert tablets.count() == 25
    assert set(tablets.values_list("managed_by", flat=True)) == {ManagedBy.VENDOR}
    assert set(tablets.values_list("managing_vendor__name", flat=True)) == {"Infover Spółka Akcyjna"}
    assert set(tablets.values_list("location", flat=True)) == {"Biuro Rady Miasta Kielce"}
    assert set(tablets.values_list("status", flat=True)) == {DeviceStatus.ON_LOAN}  # each lent to a councillor
    contract = Contract.objects.get(devices__in=tablets[:1])
    assert contract.funding_source == FundingSource.MAYORS_RESERVE
    assert contract.procurement_basis.startswith("art. 6 ustawy z dnia 2 marca 2020 r.")
    media = StorageMedium.objects.filter(device__in=tablets)
    assert media.count() == 25
    assert set(media.values_list("kind", "may_hold_personal_data")) == {(MediumKind.EMMC, True)}
    assert Supplier.objects.filter(name__startswith="Helpdesk", contracts__isnull=False).exists()


def test_einclusion_sets_for_households_schools_and_therapy_centres(demo):
    # Plain querysets for the `__in` filters: an annotated (GROUP BY) subquery can get a nested-loop
    # plan on PostgreSQL's fresh, unanalysed test tables and take minutes.
    kits = Kit.objects.filter(code__startswith="UML/EI/")

    assert kits.count() == 460
    households = kits.filter(code__startswith="UML/EI/DOM/")
    schools = kits.filter(code__startswith="UML/EI/SZK/")
    centres = kits.filter(code__startswith="UML/EI/SWT/")
    assert (households.count(), schools.count(), centres.count()) == (120, 330, 10)
    for group, size in ((households, 3), (schools, 2), (centres, 2)):
        assert set(group.annotate(size=Count("devices")).values_list("size", flat=True)) == {size}
    household_kinds = Device.objects.filter(kit__in=households).values_list("kind", flat=True)
    assert sorted(set(household_kinds)) == sorted({DeviceKind.DESKTOP, DeviceKind.MONITOR, DeviceKind.ROUTER})

    # 22 schools with a 15-seat lab each, one set per therapy centre.
    per_school = (Device.objects.filter(kit__in=schools, kind=DeviceKind.DESKTOP)
                  .values("location").annotate(n=Count("id")))
    assert len(per_school) == 22
    assert {row["n"] for row in per_school} == {15}
    per_centre = (Device.objects.filter(kit__in=centres, kind=DeviceKind.DESKTOP)
                  .values("location").annotate(n=Count("id")))
    assert len(per_centre) == 10

    pcs = Device.objects.filter(kit__in=kits, kind=DeviceKind.DESKTOP)
    assert pcs.count() == 460
    assert set(pcs.annotate(disks=Count("media")).values_list("disks", flat=True)) == {1}
    assert not StorageMedium.objects.filter(device__in=pcs, may_hold_personal_data=False).exists()
    assert set(Contract.objects.filter(devices__kit__in=kits).values_list("funding_source", flat=True)) == {
        FundingSource.EU_FUNDS}


def test_leszno_office_computers_past_their_life_are_retired_with_events(demo):
    office = Device.objects.filter(inventory_number__regex=r"^UML/20\d\d/KOMP/")
    retired = office.filter(status__in=[DeviceStatus.RETIRED, DeviceStatus.SANITIZED],
                            retirement_reason=RetirementReason.END_OF_LIFE)

    assert retired.count() == 7
    assert set(retired.values_list("kind", flat=True)) == {DeviceKind.LAPTOP, DeviceKind.DESKTOP}
    for device in retired:
        assert device.age_years() >= device.expected_life_years
        moves = list(device.events.order_by("id").values_list("from_status", "to_status"))
        assert moves[:3] == [("", DeviceStatus.IN_STOCK), (DeviceStatus.IN_STOCK, DeviceStatus.IN_USE),
                             (DeviceStatus.IN_USE, DeviceStatus.RETIRED)]
        assert moves[3:] in ([], [(DeviceStatus.RETIRED, DeviceStatus.SANITIZED)])
        assert device.media.get().may_hold_personal_data
    assert office.filter(status=DeviceStatus.IN_USE).count() >= 2
    assert office.filter(status=DeviceStatus.IN_REPAIR).count() >= 1


def test_every_device_has_its_registration_event_and_history(demo):
    devices = Device.objects.annotate(registrations=Count("events", filter=Q(events__from_status="")))

    assert devices.count() > 1000
    assert set(devices.values_list("registrations", flat=True)) == {1}
    assert set(Device.history.values_list("id", flat=True)) == set(Device.objects.values_list("id", flat=True))
    # The last event of each device says where it is now.
    for device in Device.objects.prefetch_related("events"):
        assert max(device.events.all(), key=lambda e: (e.occurred_at, e.id)).to_status == device.status


def test_second_run_creates_nothing_new(demo, settings):
    settings.DEBUG = True
    before = register_counts()

    run_load_demo()

    assert register_counts() == before


def test_accounts_one_per_role_with_fresh_passwords_and_tokens(demo, settings):
    settings.DEBUG = True
    first = printed_accounts(demo.output)

    output = run_load_demo()

    second = printed_accounts(output)
    assert set(second) == {*DEMO_USERS, "admin"}
    for username, role in DEMO_USERS.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.is_staff is (role != Role.COUNCILLOR)
        assert not user.is_superuser
        assert user.auth_token.key in output
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    for username, password in second.items():
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert not user.check_password(first[username])  # reset on every run


def test_register_only_with_debug_off_creates_no_accounts(demo, settings):
    settings.DEBUG = False
    passwords = printed_accounts(demo.output)
    before = register_counts()

    output = run_load_demo("--without-accounts")

    assert register_counts() == before
    assert printed_accounts(output) == {}
    assert User.objects.get(username="informatyk").check_password(passwords["informatyk"])


def test_every_kielce_councillor_holds_their_tablet_with_the_set_up_complete(demo):
    from datetime import date

    from loans.choices import LoanStatus, RecipientKind, SetupStep
    from loans.models import Loan

    tablets = Device.objects.filter(inventory_number__startswith="UMK/2020/TAB/")
    assert tablets.count() == 25
    assert set(tablets.values_list("status", flat=True)) == {DeviceStatus.ON_LOAN}
    loans = list(Loan.objects.filter(items__device__in=tablets).select_related("recipient__user", "council_term")
                 .prefetch_related("setup_steps", "documents").distinct())
    assert len(loans) == 25 and {loan.status for loan in loans} == {LoanStatus.OPEN}
    for loan in loans:
        assert loan.recipient.kind == RecipientKind.COUNCILLOR and loan.recipient.user is not None
        steps = {step.step: step.done_on for step in loan.setup_steps.all()}
        assert set(steps) == set(SetupStep.values)  # the checklist is complete
        assert steps[SetupStep.TRAINING_ATTENDED] == date(2020, 4, 16)
        assert date(2020, 4, 16) <= steps[SetupStep.PERSONALISED] < date(2020, 4, 23)
        # The term's end moved by statute, and the loan's planned end with it.
        assert loan.planned_end_on == loan.council_term.ends_on == date(2024, 4, 30)
        assert {d.kind for d in loan.documents.all()} >= {"loan_agreement", "handover_protocol"}
    assert "radny" in {loan.recipient.user.username for loan in loans}  # the demo account holds one


def test_one_councillor_fault_is_in_progress(demo):
    from faults.choices import FaultStatus
    from faults.models import FaultReport

    fault = FaultReport.objects.get()
    assert fault.status == FaultStatus.IN_PROGRESS and fault.reporter.username == "radny"
    assert fault.replies.count() == 2 and fault.events.count() == 3


def test_leszno_retired_computers_show_every_state_of_the_wipe_path(demo):
    """Waiting, wiped in a session (validated by a second person), failed and waiting for a second attempt,
    disk removed and held, disk destroyed with a certificate; each sanitized one with its certificate."""
    from wipe.models import DiskRemoval, Sanitization, WipeSession

    def status(number):
        return Device.objects.get(inventory_number=number).status

    session = WipeSession.objects.get()
    outcomes = dict(session.entries.values_list("device__inventory_number", "outcome"))
    assert outcomes == {"UML/2010/KOMP/001": "passed", "UML/2010/KOMP/002": "passed", "UML/2010/KOMP/004": "passed",
                        "UML/2011/KOMP/001": "failed"}
    assert session.status == "closed" and session.documents.get().kind == "wipe_session_summary"
    for number in ("UML/2010/KOMP/001", "UML/2010/KOMP/002", "UML/2010/KOMP/004"):
        record = Sanitization.objects.get(device__inventory_number=number)
        assert (record.status, record.fit_to_leave, record.performed_by.username, record.validated_by.username) == (
            "validated", True, "informatyk", "weryfikator")
        assert status(number) == DeviceStatus.SANITIZED
        assert Device.objects.get(inventory_number=number).events.first().document.kind == "sanitization_certificate"
    held = DiskRemoval.objects.get(device__inventory_number="UML/2010/KOMP/005")
    destroyed = DiskRemoval.objects.get(device__inventory_number="UML/2010/KOMP/006")
    assert held.status == "held" and held.custody.count() == 1
    assert destroyed.status == "destroyed" and destroyed.certificate_number and destroyed.custody.count() == 2
    assert status("UML/2010/KOMP/005") == status("UML/2010/KOMP/006") == DeviceStatus.SANITIZED
    for number in ("UML/2010/KOMP/003", "UML/2011/KOMP/003", "UML/2011/KOMP/001"):
        assert status(number) == DeviceStatus.RETIRED

