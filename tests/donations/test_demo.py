"""The Leszno e-Inclusion demo, end to end: the demo loads the project as the Leszno answer describes it, and
under the President's order each of the 120 households receives its set after the durability period.

The full load runs once for this module, inside a transaction rolled back at the end; each test runs in
its own savepoint on top of it.
"""
from __future__ import annotations

import time
from datetime import date
from io import StringIO
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import translation

from assets.choices import DEVICE_GONE, DeviceKind, DeviceStatus, RetirementReason
from assets.models import Device, DeviceEvent
from core.choices import DocumentKind
from core.exceptions import GuardFailed, TransitionNotAllowed
from core.models import StoredDocument
from core.roles import Role
from donations import demo as einclusion
from donations import services
from donations.choices import BeneficiaryKind, DonationStatus, ObligationKind, OrderKind, TransferStatus
from donations.models import (
    Beneficiary,
    DonationOffer,
    GrantProject,
    MayoralOrder,
    ObligationRecord,
    ProjectDevice,
    ProjectObligation,
    Transfer,
    TransferItem,
)
from donations.selectors import obligation_gaps
from loans.choices import LoanPurpose, LoanStatus
from loans.models import Loan, LoanItem
from tests.factories import make_order

pytestmark = pytest.mark.django_db

User = get_user_model()

DURABILITY_ENDS = date(2021, 3, 31)
TRANSFER_DAY = date(2021, 6, 21)  # a week after the order of 14.06.2021


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        started = time.monotonic()
        out = StringIO()
        with override_settings(DEBUG=True):
            call_command("load_demo", stdout=out)
        yield SimpleNamespace(output=out.getvalue(), seconds=time.monotonic() - started)
        transaction.set_rollback(True)


@pytest.fixture
def project(demo):
    return GrantProject.objects.get(agreement_number=einclusion.PROJECT["agreement_number"])


@pytest.fixture
def order(demo):
    return MayoralOrder.objects.get(number=einclusion.ORDER["number"])


def account(username: str, role: str):
    user = User.objects.get(username=username)
    assert list(user.groups.values_list("name", flat=True)) == [role]
    return user


def households(project):
    return Beneficiary.objects.filter(project=project, kind=BeneficiaryKind.HOUSEHOLD)


def state_of_sets(project, kinds) -> dict:
    """Each device of the beneficiaries of `kinds`: its status, its events, its open loan item."""
    devices = Device.objects.filter(loan_items__loan__recipient__beneficiary__project=project,
                                    loan_items__loan__recipient__beneficiary__kind__in=kinds)
    return {
        "devices": dict(devices.values_list("inventory_number", "status")),
        "events": DeviceEvent.objects.filter(device__in=devices).count(),
        "open items": LoanItem.objects.filter(device__in=devices, is_open=True).count(),
        "loans": dict(Loan.objects.filter(recipient__beneficiary__project=project,
                                          recipient__beneficiary__kind__in=kinds).values_list("pk", "status")),
    }


# --- what the demo holds -------------------------------------------------------------------------------

def test_the_project_as_the_leszno_answer_describes_it(project):
    assert project.name == "Przeciwdziałanie wykluczeniu cyfrowemu e-Inclusion na terenie Miasta Leszna"
    assert "POIG" in project.programme and "8.3" in project.programme
    assert (project.starts_on.year, project.ends_on.year) == (2013, 2015)
    assert project.final_payment_on == date(2016, 3, 31)
    assert project.durability_years == 5 and project.durability_ends_on == DURABILITY_ENDS
    assert "PRZYKŁADOWE" in project.notes  # the invented details say so
    assert project.manager.username == "kierownik"
    assert ProjectDevice.objects.filter(project=project).count() == 120 * 3 + 330 * 2 + 10 * 2


def test_120_households_22_schools_with_15_sets_each_and_10_centres_each_holding_on_loan(project):
    counts = dict(Beneficiary.objects.filter(project=project).values_list("kind").annotate(n=Count("id")))
    assert counts == {BeneficiaryKind.HOUSEHOLD: 120, BeneficiaryKind.SCHOOL: 22, BeneficiaryKind.CARE_CENTRE: 10}
    codes = set(Beneficiary.objects.filter(project=project).values_list("code", flat=True))
    assert codes == ({f"EI/GD/{n:03d}" for n in range(1, 121)} | {f"EI/SZ/{n:02d}" for n in range(1, 23)}
                     | {f"EI/SW/{n:02d}" for n in range(1, 11)})

    loans = Loan.objects.filter(recipient__beneficiary__project=project)
    assert loans.count() == 152  # one loan each, a school's lab under one loan
    assert set(loans.values_list("status", "purpose", "planned_end_on")) == {
        (LoanStatus.OPEN, LoanPurpose.GRANT_PROJECT, DURABILITY_ENDS)}
    assert {start.year for start in loans.values_list("starts_on", flat=True)} == {2014}
    per_beneficiary = dict(LoanItem.objects.filter(loan__in=loans, device__kind=DeviceKind.DESKTOP)
                           .values_list("loan__recipient__beneficiary__code").annotate(n=Count("id")))
    assert len(per_beneficiary) == 152
    assert {per_beneficiary[f"EI/SZ/{n:02d}"] for n in range(1, 23)} == {15}
    assert {per_beneficiary[f"EI/SW/{n:02d}"] for n in range(1, 11)} == {1}
    assert {per_beneficiary[f"EI/GD/{n:03d}"] for n in range(1, 121)} == {1}
    # Each household holds its own kit: the computer with its disk, the monitor, the LTE router.
    household_kinds = set(LoanItem.objects.filter(loan__recipient__beneficiary__kind=BeneficiaryKind.HOUSEHOLD,
                                                  loan__in=loans).values_list("device__kind", flat=True))
    assert household_kinds == {DeviceKind.DESKTOP, DeviceKind.MONITOR, DeviceKind.ROUTER}
    project_devices = Device.objects.filter(project_device__project=project)
    assert set(project_devices.values_list("status", flat=True)) == {DeviceStatus.ON_LOAN}
    # No real person: households are numbered, with a Leszno street and no house number.
    household = households(project).select_related("recipient").get(code="EI/GD/001")
    assert household.recipient.name == "Gospodarstwo domowe nr 1"
    assert household.recipient.address.endswith("64-100 Leszno") and not any(
        ch.isdigit() for ch in household.recipient.address.split(",")[0])


def test_obligation_gaps_are_exactly_those_left_on_purpose(project):
    obligations = {o.kind: o for o in ProjectObligation.objects.filter(project=project)}
    assert set(obligations) == {ObligationKind.SERVICING, ObligationKind.INTERNET}
    for obligation in obligations.values():
        assert (obligation.starts_on, obligation.ends_on) == (date(2016, 4, 1), DURABILITY_ENDS)
        assert len(obligation.months()) == 60
    assert obligations[ObligationKind.INTERNET].applies_to == BeneficiaryKind.HOUSEHOLD
    assert obligations[ObligationKind.SERVICING].applies_to == ""

    gaps = {(g.obligation.kind, g.beneficiary.code, g.month) for g in obligation_gaps(project=project)}

    assert gaps == {(ObligationKind.INTERNET, "EI/GD/017", date(2019, 2, 1)),
                    (ObligationKind.INTERNET, "EI/GD/017", date(2019, 3, 1)),
                    (ObligationKind.INTERNET, "EI/GD/058", date(2020, 11, 1)),
                    (ObligationKind.SERVICING, "EI/GD/103", date(2017, 7, 1))}
    records = ObligationRecord.objects.filter(obligation__project=project)
    assert records.count() == 60 * (152 + 120) - 4
    assert set(records.values_list("recorded_by__username", flat=True)) == {"kierownik"}  # the project manager


def test_the_presidents_order_lists_the_120_households_and_no_transfer_is_made_yet(project, order):
    assert order.kind == OrderKind.FREE_TRANSFER and order.project == project
    assert order.signatory.startswith("Łukasz Borowski")
    assert order.signed_on > DURABILITY_ENDS and order.in_force_on(TRANSFER_DAY)
    assert "nieodpłatnego przekazania na własność" in order.title
    assert "art. 30 ust. 2 pkt 3" in order.legal_basis and "PRZYKŁADOWE" in order.notes
    listed = set(order.annex_beneficiary_rows.values_list("beneficiary__code", flat=True))
    assert listed == {f"EI/GD/{n:03d}" for n in range(1, 121)}
    assert not order.annex_device_rows.exists()
    assert order.history.earliest().history_user.username == "prawnik"  # registered by the legal office
    assert not Transfer.objects.exists()  # left for the visitor to make


def test_donation_offers_one_registered_waiting_for_its_wipe_one_still_offered(demo):
    offers = {o.status: o for o in DonationOffer.objects.select_related("device")}

    assert set(offers) == {DonationStatus.ACCEPTED, DonationStatus.OFFERED}
    device = offers[DonationStatus.ACCEPTED].device
    assert (device.status, device.retirement_reason) == (DeviceStatus.RETIRED, RetirementReason.TO_GIVE_AWAY)
    assert device.funding_source == "donation" and device.contract is None
    assert device.media.inside().get().kind == "hdd"  # to be wiped before it goes to a person in need
    assert offers[DonationStatus.OFFERED].device is None
    assert all(o.free_of_charge_declared and o.software_licences for o in offers.values())


def test_second_run_creates_nothing_new(demo, settings):
    def counts():
        return {model.__name__: model.objects.count() for model in (
            GrantProject, Beneficiary, ProjectDevice, ProjectObligation, ObligationRecord, MayoralOrder,
            DonationOffer, Transfer, Loan, Device, DeviceEvent, StoredDocument)}

    before = counts()
    out = StringIO()
    settings.DEBUG = True

    call_command("load_demo", stdout=out)

    assert counts() == before


# --- the journey: transfer of ownership to the 120 households ------------------------------------------

def test_every_household_receives_its_set_under_the_order_after_the_durability_period(project, order, client):
    """The project manager prepares one transfer per household and submits them, the legal office approves
    each, the IT office completes each: 120 protocols, each verifiable; the households' devices leave the
    register and their loans end by transfer; the schools' and centres' sets stay as they were."""
    manager, lawyer, clerk = (account("kierownik", Role.PROJECT_MANAGER), account("prawnik", Role.LEGAL_OFFICE),
                              account("informatyk", Role.IT_OFFICE))
    institutions = state_of_sets(project, [BeneficiaryKind.SCHOOL, BeneficiaryKind.CARE_CENTRE])
    household_devices = list(Device.objects.filter(loan_items__loan__recipient__beneficiary__in=households(project))
                             .values_list("pk", flat=True))
    assert len(household_devices) == 360

    bulk = services.transfers_for_project(order=order, project=project, transfer_date=TRANSFER_DAY, by=manager,
                                          kinds=[BeneficiaryKind.HOUSEHOLD], submit=True)

    assert bulk.skipped == [] and len(bulk.created) == 120
    for transfer in bulk.created:
        services.transfer_approve(transfer=transfer, by=lawyer, reason="Zgodnie z zarządzeniem nr 212/2021.")
        services.transfer_complete(transfer=transfer, by=clerk)

    transfers = Transfer.objects.filter(order=order).select_related("protocol", "recipient__beneficiary")
    assert transfers.count() == 120
    assert {t.status for t in transfers} == {TransferStatus.COMPLETED}
    assert {t.recipient.beneficiary.code for t in transfers} == {f"EI/GD/{n:03d}" for n in range(1, 121)}
    assert {t.decided_by for t in transfers} == {lawyer} and not any(t.override_reason for t in transfers)
    # Each set went to the household that held it without a break: the beneficiary exception, recorded.
    items = TransferItem.objects.filter(transfer__order=order)
    assert items.count() == 360 and not items.filter(exception_applied=False).exists()

    protocols = [t.protocol for t in transfers]
    assert {p.kind for p in protocols} == {DocumentKind.TRANSFER_PROTOCOL}
    assert len({p.code for p in protocols}) == 120
    for protocol in protocols:
        page = client.get(f"/verify/{protocol.code}/")
        assert page.status_code == 200 and page.context["document"] == protocol

    devices = Device.objects.filter(pk__in=household_devices)
    assert set(devices.values_list("status", flat=True)) == {DeviceStatus.TRANSFERRED}
    assert not devices.exclude(status__in=DEVICE_GONE).exists()  # out of the active register
    client.force_login(clerk)  # ... as the register's list shows it
    active = client.get("/api/devices/", {"in_register": "true"}).json()["count"]
    left = client.get("/api/devices/", {"in_register": "false", "kind": "desktop"}).json()
    assert active == Device.objects.exclude(status__in=DEVICE_GONE).count() == Device.objects.count() - 360
    assert left["count"] == 120 and {row["status"] for row in left["results"]} == {DeviceStatus.TRANSFERRED}
    assert client.get("/admin/assets/device/", {"in_register": "0"}).context["cl"].result_count == 360
    moved = DeviceEvent.objects.filter(device__in=devices, to_status=DeviceStatus.TRANSFERRED)
    assert moved.count() == 360
    assert set(moved.values_list("document__kind", flat=True)) == {DocumentKind.TRANSFER_PROTOCOL}
    loans = Loan.objects.filter(recipient__beneficiary__in=households(project))
    assert set(loans.values_list("status", "ended_on")) == {(LoanStatus.TRANSFERRED, TRANSFER_DAY)}
    assert not LoanItem.objects.filter(loan__in=loans, is_open=True).exists()

    assert state_of_sets(project, [BeneficiaryKind.SCHOOL, BeneficiaryKind.CARE_CENTRE]) == institutions


def test_the_same_transfer_dated_inside_the_durability_period_is_refused_for_durability(project):
    """An order of the same kind in force in 2020, listing the same households: the transfers can be
    prepared, but the legal office cannot approve them (and so nobody can complete them), and the reason
    given is the durability period."""
    early = make_order(number="150/2020", signed_on=date(2020, 6, 1), in_force_from=date(2020, 6, 1),
                       project=project, annex_beneficiaries=list(households(project)))
    lawyer, clerk = account("prawnik", Role.LEGAL_OFFICE), account("informatyk", Role.IT_OFFICE)
    before = state_of_sets(project, [BeneficiaryKind.HOUSEHOLD])

    bulk = services.transfers_for_project(order=early, project=project, transfer_date=date(2020, 9, 1),
                                          by=account("kierownik", Role.PROJECT_MANAGER),
                                          kinds=[BeneficiaryKind.HOUSEHOLD], submit=True)
    assert len(bulk.created) == 120

    for transfer in bulk.created[:3]:
        with translation.override("en"), pytest.raises(GuardFailed) as refused:
            services.transfer_approve(transfer=transfer, by=lawyer, reason="")
        assert "whose durability period lasts until 31.03.2021: it cannot change owner on 01.09.2020" in (
            refused.value.message)
        assert refused.value.details["failed"] == ["durability_over"] * 3  # the three devices of the set
        with pytest.raises(TransitionNotAllowed):
            services.transfer_complete(transfer=transfer, by=clerk)
    assert state_of_sets(project, [BeneficiaryKind.HOUSEHOLD]) == before
    assert not Transfer.objects.filter(status=TransferStatus.COMPLETED).exists()
