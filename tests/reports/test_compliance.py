"""The compliance check, gap by gap: each is created the way it arises, reported with its fix, fixed the way a
clerk fixes it (through the app's service wherever one exists) and then no longer reported.

Where the services refuse to let a gap arise, it is created as it arises in life, by data imported from an
older system: direct writes to the database, said so in the test's docstring.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from assets import services as asset_services
from assets.choices import DeviceKind, DeviceStatus, MediumKind, RetirementReason
from assets.models import Device, StorageMedium
from core.exceptions import GuardFailed, InvalidInput
from core.roles import Role
from donations import services as donation_services
from donations.choices import OrderKind, TransferStatus
from faults import services as fault_services
from loans import services as loan_services
from loans.choices import LoanPurpose, LoanStatus, RecipientKind
from loans.documents import loan_agreement_issue
from loans.models import Loan, LoanItem
from reports.compliance import GapKind, run_check
from tests.factories import (
    allocate,
    lend_tablet,
    make_beneficiary,
    make_councillor,
    make_device,
    make_medium,
    make_order,
    make_project,
    make_retired,
    make_set,
    sanitize,
)
from wipe import services as wipe_services

pytestmark = pytest.mark.django_db

AFTER_DURABILITY = date(2021, 7, 1)  # make_project's durability ends on 31.03.2021


@pytest.fixture
def validator(make_user):
    return make_user(Role.IT_OFFICE, first_name="Wera", last_name="Weryfikator")


@pytest.fixture
def lawyer(make_user):
    return make_user(Role.LEGAL_OFFICE, first_name="Maria", last_name="Prawnik")


def check(kind: str, **parameters):
    """The gaps of one kind, in English (the texts the code writes)."""
    with translation.override("en"):
        return run_check(kinds=[kind], **parameters).gaps


def labels(kind: str, **parameters) -> list[str]:
    return [gap.record.label for gap in check(kind, **parameters)]


def scrap(order, devices, *, on=date(2021, 9, 1)):
    return donation_services.liquidation_record(
        order=order, devices=devices, by=None, handed_over_on=on, collector_name="Eko-Leszno Sp. z o.o.",
        collector_bdo="000012345", kpo_number=f"KPO/{on:%Y}/{next(_kpo):06d}", mass_kg=Decimal("9.200"))


_kpo = iter(range(1, 10**6))


def hand_over(beneficiary, loan, order, *, on, it_user, lawyer, override_reason=""):
    """The project's set goes to the beneficiary who holds it: prepared, submitted, approved, completed."""
    transfer = donation_services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=on,
                                                 by=it_user, kits=[loan.kit])
    donation_services.transfer_submit(transfer=transfer, by=it_user)
    donation_services.transfer_approve(transfer=transfer, by=lawyer, override_reason=override_reason)
    return donation_services.transfer_complete(transfer=transfer, by=it_user)


# --- 1. data that may have left the office --------------------------------------------------------

def test_a_medium_added_after_the_wipe_leaves_with_the_scrapped_device(it_user, validator):
    """Imported history: a laptop whose wipe covered its HDD went to the collector with a second disk recorded
    after that wipe, as the older system let it (the services refuse it now: a medium recorded after the
    wipe stops the liquidation, tests/donations/test_services.py), so its scrapping is written to the
    database directly. The fix goes through the wipe services: the collector's certificate of the wipe is
    recorded late (its destination outside the office) and validated by a second person, and the gap is
    closed."""
    laptop = make_retired(kinds=("hdd",))
    sanitize(laptop, technician=it_user, validator=validator)
    wiped = laptop.media.get()
    added = make_medium(device=laptop, kind=MediumKind.SSD, serial_number="SSD-ADDED-01", capacity_gb=512)
    with pytest.raises(GuardFailed):
        scrap(make_order(kind=OrderKind.LIQUIDATION, annex_devices=[laptop]), [laptop])
    Device.objects.filter(pk=laptop.pk).update(status=DeviceStatus.SCRAPPED, status_changed_at=timezone.now())

    [gap] = check(GapKind.DATA_LEFT_OFFICE)
    assert gap.record.label == laptop.inventory_number
    assert gap.record.url == f"/admin/assets/device/{laptop.pk}/change/"
    assert "SSD-ADDED-01" in gap.problem and wiped.serial_number not in gap.problem
    assert "scrapped on" in gap.problem
    assert "certificate of their wipe or destruction" in gap.fix
    assert gap.since == timezone.localdate()

    wipe = wiped.sanitizations.get()
    record = wipe_services.sanitization_record(
        by=it_user, medium=added, device=laptop, method_class="purge", technique="crypto_erase",
        tool="collector's tool", started_at=wipe.started_at, finished_at=wipe.finished_at, verification="full",
        verification_result="passed", destination="recycling", organization="Eko-Leszno Sp. z o.o.",
        location="Leszno")
    assert check(GapKind.DATA_LEFT_OFFICE) != []  # a record awaiting validation proves nothing yet
    wipe_services.sanitization_validate(sanitization=record, by=validator)
    assert check(GapKind.DATA_LEFT_OFFICE) == []


def test_an_imported_gone_device_without_media_on_record_is_a_gap_until_someone_confirms_it_has_none(it_user):
    """Imported history: devices registered as already scrapped by an older system (the services never let a
    device leave without its media accounted for), written to the database directly. A device with no media
    on record and nobody confirming it has none is a gap; one whose disk was taken out, or whose disk holds a
    validated wipe fit for leaving, is not. The collector's written answer that it holds no medium is then
    confirmed through the wipe service, recorded late, and the gap is closed."""
    silent = make_device(kind=DeviceKind.MONITOR, inventory_number="UM/IMP/001")
    removed = make_device(inventory_number="UM/IMP/002")
    make_medium(device=removed).__class__.objects.filter(device=removed).update(removed_at=timezone.now())
    Device.objects.filter(pk__in=[silent.pk, removed.pk]).update(status=DeviceStatus.SCRAPPED)

    gaps = check(GapKind.DATA_LEFT_OFFICE)
    assert [g.record.label for g in gaps] == ["UM/IMP/001"]
    assert "no storage medium on record" in gaps[0].problem
    assert "written answer" in gaps[0].fix

    wipe_services.no_media_confirm(device=silent, by=it_user,
                                   how_checked="pismo firmy Eko-Leszno: monitor nie zawiera nośnika danych")
    assert check(GapKind.DATA_LEFT_OFFICE) == []


def test_the_beneficiary_exception_is_no_gap(it_user, lawyer):
    """Through the services: a household's set (a computer with an unwiped disk, a monitor without media)
    passes to the household that has held it since it was bought; the transfer records the exception, and
    neither device is a gap, nor is the transfer (its beneficiary is in the annex and held the set)."""
    project = make_project()
    household = make_beneficiary(project)
    loan = allocate(household)
    order = make_order(project=project, annex_beneficiaries=[household])
    done = hand_over(household, loan, order, on=AFTER_DURABILITY, it_user=it_user, lawyer=lawyer)
    assert set(done.items.values_list("exception_applied", flat=True)) == {True}
    report = run_check(kinds=[GapKind.DATA_LEFT_OFFICE, GapKind.TRANSFER_NOT_COVERED, GapKind.DURABILITY_BREACH])
    assert report.gaps == []
    assert report.counts == {GapKind.DATA_LEFT_OFFICE: 0, GapKind.TRANSFER_NOT_COVERED: 0,
                             GapKind.DURABILITY_BREACH: 0}


# --- 2. transfers their order does not cover ------------------------------------------------------

@pytest.fixture
def held_set():
    project = make_project()
    household = make_beneficiary(project)
    return household, allocate(household)


def test_an_approved_transfer_outside_the_annex_is_a_gap_until_the_annex_lists_it(held_set, it_user, lawyer):
    """Through the services: the legal office approves, with an override, a transfer whose beneficiary the
    order's annex does not list; the annex is then completed (donations.services.order_annex_add)."""
    household, loan = held_set
    order = make_order(project=household.project)
    transfer = donation_services.transfer_create(order=order, recipient=household.recipient,
                                                 transfer_date=AFTER_DURABILITY, by=it_user, kits=[loan.kit])
    donation_services.transfer_submit(transfer=transfer, by=it_user)
    donation_services.transfer_approve(transfer=transfer, by=lawyer, override_reason="Załącznik w uzupełnieniu.")

    [gap] = check(GapKind.TRANSFER_NOT_COVERED)
    assert gap.record.label == transfer.number
    assert gap.record.url == f"/admin/donations/transfer/{transfer.pk}/change/"
    computer, monitor = sorted(loan.kit.devices.values_list("inventory_number", flat=True))
    assert f"nor held by a beneficiary listed in it: {computer}, {monitor}." in gap.problem
    assert f"order no. {order.number}" in gap.problem
    assert "with an override: Załącznik w uzupełnieniu." in gap.problem
    assert f"add the devices (or the beneficiary who holds them) to the annex of order no. {order.number}" in gap.fix
    assert gap.since == AFTER_DURABILITY

    donation_services.order_annex_add(order=order, by=lawyer, beneficiaries=[household])
    assert check(GapKind.TRANSFER_NOT_COVERED) == []


def test_an_approved_transfer_under_an_order_of_another_kind_or_period_is_a_gap_until_cancelled(held_set, it_user,
                                                                                               lawyer):
    """Through the services: approved with an override under a liquidation order that ran out before the
    transfer date; cancelling the transfer (donations.services.transfer_cancel) ends the gap."""
    household, loan = held_set
    order = make_order(project=household.project, kind=OrderKind.LIQUIDATION, in_force_until=date(2021, 6, 30),
                       annex_beneficiaries=[household])
    transfer = donation_services.transfer_create(order=order, recipient=household.recipient,
                                                 transfer_date=AFTER_DURABILITY, by=it_user, kits=[loan.kit])
    donation_services.transfer_submit(transfer=transfer, by=it_user)
    donation_services.transfer_approve(transfer=transfer, by=lawyer, override_reason="Pilne.")

    [gap] = check(GapKind.TRANSFER_NOT_COVERED)
    assert "is in force from 14.06.2021 until 30.06.2021; the transfer is dated 01.07.2021" in gap.problem
    assert "is about liquidation" in gap.problem
    assert "annex" not in gap.problem  # its beneficiary is listed and holds the set
    assert gap.fix.startswith("Do not complete it: cancel the transfer")

    donation_services.transfer_cancel(transfer=transfer, by=it_user, reason="Złe zarządzenie.")
    assert check(GapKind.TRANSFER_NOT_COVERED) == []


def test_a_completed_transfer_stays_a_gap_and_says_the_devices_have_left(held_set, it_user, lawyer):
    """Through the services: completed with an override, outside the annex. The annex of an order devices left
    under is closed (the services refuse to change it), so no service can cover it afterwards: the fix says
    what the office does (an amending order)."""
    household, loan = held_set
    order = make_order(project=household.project)
    done = hand_over(household, loan, order, on=AFTER_DURABILITY, it_user=it_user, lawyer=lawyer,
                     override_reason="Zarządzenie zmieniające w przygotowaniu.")
    assert done.status == TransferStatus.COMPLETED
    [gap] = check(GapKind.TRANSFER_NOT_COVERED)
    assert "(completed, dated 01.07.2021)" in gap.problem
    assert gap.fix.startswith("The devices have already left")
    with pytest.raises(GuardFailed):
        donation_services.order_annex_add(order=order, by=lawyer, beneficiaries=[household])
    assert len(check(GapKind.TRANSFER_NOT_COVERED)) == 1


def test_an_approved_transfer_whose_beneficiary_gave_the_set_back_is_no_longer_covered(it_user, lawyer):
    """Through the services: covered through its beneficiary while the household held the set, not once the
    loan was returned (donations.legal: the listed beneficiary must hold the device)."""
    project = make_project()
    household = make_beneficiary(project)
    loan = allocate(household)
    order = make_order(project=project, annex_beneficiaries=[household])
    transfer = donation_services.transfer_create(order=order, recipient=household.recipient,
                                                 transfer_date=AFTER_DURABILITY, by=it_user, kits=[loan.kit])
    donation_services.transfer_submit(transfer=transfer, by=it_user)
    donation_services.transfer_approve(transfer=transfer, by=lawyer)
    assert check(GapKind.TRANSFER_NOT_COVERED) == []
    loan_services.loan_return(loan=loan, by=it_user, condition="kompletny", returned_on=date(2021, 6, 20))
    assert len(check(GapKind.TRANSFER_NOT_COVERED)) == 1


# --- 3. owner changed within the durability period -------------------------------------------------

def test_a_project_set_given_away_or_scrapped_within_the_durability_period(it_user, validator, lawyer):
    """Through the services: a household's set transferred on 15.03.2021 with an override, and a school's
    computer scrapped on 01.03.2021, while the durability period lasts until 31.03.2021. The project's final
    payment date was recorded wrongly: corrected (donations.services.project_update), the period ended on
    31.01.2021 and neither is a gap."""
    project = make_project(final_payment_on=date(2016, 3, 31))
    household = make_beneficiary(project)
    loan = allocate(household)
    order = make_order(project=project, annex_beneficiaries=[household], signed_on=date(2021, 1, 4),
                       in_force_from=date(2021, 1, 4))
    hand_over(household, loan, order, on=date(2021, 3, 15), it_user=it_user, lawyer=lawyer,
              override_reason="Trwałość w praktyce zakończona.")
    lab = make_set(project)
    computer = lab.devices.get(kind=DeviceKind.DESKTOP)
    asset_services.device_retire(device=computer, by=it_user, retirement_reason=RetirementReason.DAMAGED,
                                 reason="zalany")
    computer.refresh_from_db()
    sanitize(computer, technician=it_user, validator=validator)
    liquidation = scrap(make_order(kind=OrderKind.LIQUIDATION, annex_devices=[computer], signed_on=date(2021, 1, 4),
                                   in_force_from=date(2021, 1, 4)), [computer], on=date(2021, 3, 1))

    gaps = check(GapKind.DURABILITY_BREACH)
    held = sorted(loan.kit.devices.values_list("inventory_number", flat=True))
    assert [g.record.label for g in gaps] == sorted([*held, computer.inventory_number])
    scrapped = next(g for g in gaps if g.record.label == computer.inventory_number)
    assert f"changed owner on 01.03.2021 (liquidation {liquidation.number})" in scrapped.problem
    assert "lasts until 31.03.2021" in scrapped.problem
    assert scrapped.since == date(2021, 3, 1)
    assert "correct it on the project; otherwise tell the funding body" in scrapped.fix
    given = next(g for g in gaps if g.record.label == held[0])
    assert "changed owner on 15.03.2021 (transfer PN/2021/" in given.problem

    donation_services.project_update(project=project, by=None, final_payment_on=date(2016, 1, 31))
    assert check(GapKind.DURABILITY_BREACH) == []


def test_a_change_of_owner_on_the_last_day_of_the_period_is_a_breach(held_set, it_user, lawyer):
    """donations.legal: the devices may change owner the day after the period's last day at the earliest."""
    household, loan = held_set
    order = make_order(project=household.project, annex_beneficiaries=[household], signed_on=date(2021, 1, 4),
                       in_force_from=date(2021, 1, 4))
    hand_over(household, loan, order, on=date(2021, 3, 31), it_user=it_user, lawyer=lawyer,
              override_reason="Ostatni dzień okresu trwałości.")
    assert len(check(GapKind.DURABILITY_BREACH)) == 2  # the computer and its monitor


# --- 4. and 5. loans ------------------------------------------------------------------------------

def test_an_imported_loan_without_its_agreement_is_a_gap_until_the_agreement_is_issued(it_user):
    """Imported history: a loan registered by an older system, with no agreement issued here (loan_start always
    issues it). Issuing the agreement (loans.documents.loan_agreement_issue) ends the gap."""
    recipient = loan_services.recipient_create(by=None, kind=RecipientKind.STAFF, name="Adam Pracownik")
    device = make_device()
    loan = Loan.objects.create(recipient=recipient, purpose=LoanPurpose.STAFF_WORK, starts_on=date(2019, 2, 1),
                               planned_end_on=date(2030, 1, 31), condition_at_handover="używany")
    LoanItem.objects.create(loan=loan, device=device)
    Device.objects.filter(pk=device.pk).update(status=DeviceStatus.ON_LOAN)
    lend_tablet(make_councillor())  # through the services: its agreement is issued at once

    [gap] = check(GapKind.LOAN_WITHOUT_AGREEMENT)
    assert gap.record.label == f"Loan {loan.pk} to Adam Pracownik"
    assert gap.record.url == f"/admin/loans/loan/{loan.pk}/change/"
    assert "(open, from 01.02.2019)" in gap.problem
    assert gap.fix.startswith("Issue the loan agreement")
    assert gap.since == date(2019, 2, 1)

    loan_agreement_issue(loan=loan, by=it_user)
    assert check(GapKind.LOAN_WITHOUT_AGREEMENT) == []


def test_an_overdue_loan_is_a_gap_until_returned_or_extended(it_user):
    ewa, jan = make_councillor("Ewa Radna"), make_councillor("Jan Radny")
    ends = date(2029, 5, 6)
    returned = lend_tablet(ewa, planned_end_on=ends)
    extended = lend_tablet(jan, planned_end_on=ends)
    assert check(GapKind.LOAN_OVERDUE, today=ends) == []  # the last day is not overdue

    later = ends + timedelta(days=3)
    gaps = check(GapKind.LOAN_OVERDUE, today=later)
    assert [g.record.id for g in gaps] == [returned.pk, extended.pk]
    assert "was to end on 06.05.2029; it is 3 days overdue." in gaps[0].problem
    assert "Take the devices back from the councillor" in gaps[0].fix
    assert gaps[0].since == ends + timedelta(days=1)

    loan_services.loan_return(loan=returned, by=it_user, condition="bez uwag", returned_on=date(2029, 5, 6),
                              accessories_returned={a.pk: a.quantity for a in returned.accessories.all()})
    loan_services.loan_extend(loan=extended, planned_end_on=date(2029, 12, 31), by=it_user, reason="nowa kadencja")
    assert check(GapKind.LOAN_OVERDUE, today=later) == []


# --- 6. faults open too long ----------------------------------------------------------------------

def test_a_fault_open_longer_than_the_limit_is_a_gap_until_resolved(it_user):
    councillor = make_councillor()
    loan = lend_tablet(councillor)
    tablet = loan.items.get().device
    fault = fault_services.fault_report(by=councillor.user, device=tablet, category="login",
                                        description="Nie działa hasło.", contact="tel. 600 000 000")
    fault_services.fault_acknowledge(fault=fault, by=it_user, reply="Sprawdzamy.")
    reported = timezone.localdate(fault.created_at)
    assert check(GapKind.FAULT_OPEN_TOO_LONG, today=reported + timedelta(days=30)) == []  # 30 days: not more

    [gap] = check(GapKind.FAULT_OPEN_TOO_LONG, today=reported + timedelta(days=31))
    assert gap.record.label == f"Fault {fault.pk}: {tablet.inventory_number}"
    assert gap.record.url == f"/admin/faults/faultreport/{fault.pk}/change/"
    assert "is still acknowledged after 31 days (the limit is 30)" in gap.problem
    assert gap.fix.startswith("Resolve it, replace the device, or reject the report")
    assert gap.since == reported + timedelta(days=31)
    assert check(GapKind.FAULT_OPEN_TOO_LONG, today=reported + timedelta(days=31), fault_open_days=45) == []

    fault_services.fault_resolve(fault=fault, by=it_user, reply="Hasło zresetowane.")
    assert check(GapKind.FAULT_OPEN_TOO_LONG, today=reported + timedelta(days=31)) == []


# --- 7. removed disks not destroyed ---------------------------------------------------------------

def test_a_removed_disk_held_past_the_limit_is_a_gap_until_its_destruction_is_recorded(it_user):
    laptop = make_retired(kinds=("hdd",))
    disk = laptop.media.get()
    removal = wipe_services.disk_remove(medium=disk, by=it_user, kept_at="sejf, pok. 12", held_by="Jan Informatyk",
                                        removed_at=timezone.now() - timedelta(days=91))
    assert check(GapKind.DISK_NOT_DESTROYED, disk_destroy_days=91) == []

    [gap] = check(GapKind.DISK_NOT_DESTROYED)
    assert gap.record.label == f"HDD 250 GB {disk.serial_number} ← {laptop.inventory_number}"
    assert gap.record.url == f"/admin/wipe/diskremoval/{removal.pk}/change/"
    assert ("still held at sejf, pok. 12 by Jan Informatyk, not destroyed, after 91 days (the limit is 90)"
            in gap.problem)
    assert "certificate's number" in gap.fix

    wipe_services.disk_destroy(removal=removal, by=it_user, destroyed_on=timezone.localdate(),
                               destruction_method="shred", destruction_company="Niszczarnia Sp. z o.o.",
                               certificate_number="CN/2026/77")
    assert check(GapKind.DISK_NOT_DESTROYED) == []


# --- 8. documents missing or altered --------------------------------------------------------------

def test_a_stored_document_changed_or_lost_is_a_gap_until_its_bytes_are_restored():
    """No service rewrites an issued file (that is the point); the clerk restores it from the backup, which
    here is the storage given the original bytes back."""
    loan = lend_tablet(make_councillor())
    agreement, handover = loan.documents.order_by("id")[:2]
    storage = agreement.file.storage
    original = storage.open(agreement.file.name, "rb").read()
    storage.delete(agreement.file.name)
    storage.save(agreement.file.name, ContentFile(original.replace(b"%%EOF", b"%%EOF\n% tampered")))
    storage.delete(handover.file.name)

    gaps = {g.record.label: g for g in check(GapKind.DOCUMENT_ALTERED)}
    assert set(gaps) == {agreement.code, handover.code}
    assert "no longer matches the SHA-256" in gaps[agreement.code].problem
    assert gaps[handover.code].problem.startswith(f"The stored file of the handover protocol {handover.code}")
    assert gaps[handover.code].problem.endswith("is missing.")
    assert gaps[agreement.code].record.url == f"/admin/core/storeddocument/{agreement.pk}/change/"
    assert "backup copy" in gaps[agreement.code].fix and gaps[agreement.code].since is None

    storage.delete(agreement.file.name)
    storage.save(agreement.file.name, ContentFile(original))
    assert labels(GapKind.DOCUMENT_ALTERED) == [handover.code]


# --- 9. devices in use past their expected life ---------------------------------------------------

def test_a_device_in_use_past_its_expected_life_is_a_gap_until_retired(it_user):
    old = make_device(purchase_date=date(2014, 5, 19), expected_life_years=10)
    asset_services.device_put_in_use(device=old, by=it_user)
    make_device(purchase_date=date(2010, 1, 4))  # in stock: not in use
    young = make_device(purchase_date=date(2020, 4, 15), expected_life_years=10)
    asset_services.device_put_in_use(device=young, by=it_user)
    assert check(GapKind.PAST_EXPECTED_LIFE, today=date(2024, 5, 19)) == []  # its last day

    [gap] = check(GapKind.PAST_EXPECTED_LIFE, today=date(2024, 5, 20))
    assert gap.record.label == old.inventory_number
    assert gap.problem == (f"{old.inventory_number}, bought on 19.05.2014, reached its expected life of 10 years on "
                           "19.05.2024 and is still in use.")
    assert gap.fix.startswith("Plan its replacement and retire it")
    assert gap.since == date(2024, 5, 20)

    asset_services.device_retire(device=old, by=it_user, retirement_reason=RetirementReason.END_OF_LIFE)
    assert check(GapKind.PAST_EXPECTED_LIFE, today=date(2024, 5, 20)) == []


def test_the_expected_life_ends_on_the_same_calendar_day_or_on_28_february(it_user):
    """Bought on 29.02.2024 with a year of life: its life ends on 28.02.2025 (donations.models.add_years)."""
    leap = make_device(purchase_date=date(2024, 2, 29), expected_life_years=1)
    asset_services.device_put_in_use(device=leap, by=it_user)
    assert check(GapKind.PAST_EXPECTED_LIFE, today=date(2025, 2, 28)) == []
    [gap] = check(GapKind.PAST_EXPECTED_LIFE, today=date(2025, 3, 1))
    assert "reached its expected life of 1 year on 28.02.2025" in gap.problem
    assert gap.since == date(2025, 3, 1)


# --- the report ---------------------------------------------------------------------------------

def test_the_report_counts_every_kind_asked_and_orders_the_gaps_by_kind_then_record(it_user):
    for number in ("UM/2010/00002", "UM/2010/00001"):
        device = make_device(inventory_number=number, purchase_date=date(2010, 1, 4))
        asset_services.device_put_in_use(device=device, by=it_user)
    lend_tablet(make_councillor(), planned_end_on=date(2020, 5, 1))
    report = run_check()
    assert list(report.counts) == list(GapKind.values)
    assert report.counts[GapKind.PAST_EXPECTED_LIFE] == 2 and report.counts[GapKind.LOAN_OVERDUE] == 1
    assert sum(report.counts.values()) == len(report.gaps)
    assert [g.kind for g in report.gaps] == [GapKind.LOAN_OVERDUE, GapKind.PAST_EXPECTED_LIFE,
                                             GapKind.PAST_EXPECTED_LIFE]
    assert [g.record.label for g in report.gaps[1:]] == ["UM/2010/00001", "UM/2010/00002"]
    assert report.parameters == {"today": timezone.localdate().isoformat(), "fault_open_days": 30,
                                 "disk_destroy_days": 90, "kinds": list(GapKind.values)}
    assert report.checked_at <= timezone.now()
    only = run_check(kinds=[GapKind.PAST_EXPECTED_LIFE, GapKind.DATA_LEFT_OFFICE])
    assert only.counts == {GapKind.DATA_LEFT_OFFICE: 0, GapKind.PAST_EXPECTED_LIFE: 2}
    with translation.override("pl"):
        assert report.summary()[4]["label"] == "użyczenie po planowanym terminie zakończenia"
    with translation.override("en"):
        assert report.summary()[4]["label"] == "loan past its planned end"


@pytest.mark.parametrize("parameters, field", [
    ({"kinds": ["loans"]}, "kind"),
    ({"fault_open_days": -1}, "fault_open_days"),
    ({"fault_open_days": "trzydzieści"}, "fault_open_days"),
    ({"disk_destroy_days": -5}, "disk_destroy_days"),
])
def test_a_bad_parameter_is_refused_naming_it(parameters, field):
    with pytest.raises(InvalidInput) as refused:
        run_check(**parameters)
    assert refused.value.field == field


# --- a fixed number of queries ---------------------------------------------------------------------

def _one_of_every_gap(n: int, *, it_user, validator, lawyer) -> None:
    """One gap of every kind (several records each), numbered `n`."""
    # 1 and 3: a sanitized project computer scrapped within the durability period, with a second disk that
    # the older system recorded as having gone with it (imported history: the services refuse it)
    project = make_project()
    kit = make_set(project)
    computer = kit.devices.get(kind=DeviceKind.DESKTOP)
    asset_services.device_retire(device=computer, by=it_user, retirement_reason=RetirementReason.DAMAGED,
                                 reason="zalany")
    computer.refresh_from_db()
    sanitize(computer, technician=it_user, validator=validator)
    scrap(make_order(kind=OrderKind.LIQUIDATION, annex_devices=[computer], signed_on=date(2021, 1, 4),
                     in_force_from=date(2021, 1, 4)), [computer], on=date(2021, 3, 1))
    StorageMedium.objects.create(device=computer, kind=MediumKind.SSD, serial_number=f"SSD-IMPORTED-{n}-{computer.pk}",
                                 capacity_gb=256)
    # 2 (and 5: the household's loan ended with the durability period): approved outside the annex
    household = make_beneficiary(project)
    loan = allocate(household)
    transfer = donation_services.transfer_create(order=make_order(project=project), recipient=household.recipient,
                                                 transfer_date=AFTER_DURABILITY, by=it_user, kits=[loan.kit])
    donation_services.transfer_submit(transfer=transfer, by=it_user)
    donation_services.transfer_approve(transfer=transfer, by=lawyer, override_reason="Uzupełnimy załącznik.")
    # 4: an imported loan
    imported = Loan.objects.create(recipient=household.recipient, purpose=LoanPurpose.STAFF_WORK,
                                   starts_on=date(2019, 2, 1), planned_end_on=date(2019, 12, 31),
                                   condition_at_handover="używany", status=LoanStatus.RETURNED)
    LoanItem.objects.create(loan=imported, device=make_device(), is_open=False, closed_on=date(2019, 12, 31))
    # 6 and 9: a fault on an old tablet
    councillor = make_councillor(f"Radny {n}")
    tablet = make_device(kind=DeviceKind.TABLET, purchase_date=date(2015, 1, 5), expected_life_years=5)
    lent = lend_tablet(councillor, devices=[tablet])
    fault = fault_services.fault_report(by=councillor.user, device=tablet, category="hardware",
                                        description="Pęknięty ekran.", contact="tel. 600 000 000")
    type(fault).objects.filter(pk=fault.pk).update(created_at=timezone.now() - timedelta(days=40))
    # 7: a disk held too long
    old = make_retired(kinds=("hdd",))
    wipe_services.disk_remove(medium=old.media.get(), by=it_user, kept_at="sejf", held_by="Jan Informatyk",
                              removed_at=timezone.now() - timedelta(days=120))
    # 8: a document altered
    agreement = lent.documents.order_by("id").first()
    agreement.file.storage.delete(agreement.file.name)


def test_the_query_count_does_not_grow_with_the_register(it_user, validator, lawyer):
    _one_of_every_gap(1, it_user=it_user, validator=validator, lawyer=lawyer)
    run_check()  # anything cached once per process (content types, translations) is cached now
    with CaptureQueriesContext(connection) as small:
        few = run_check()
    for n in (2, 3):
        _one_of_every_gap(n, it_user=it_user, validator=validator, lawyer=lawyer)
    with CaptureQueriesContext(connection) as large:
        many = run_check()
    assert all(few.counts.values()), few.counts  # some of every gap
    assert many.counts == {kind: 3 * count for kind, count in few.counts.items()}
    assert len(large.captured_queries) == len(small.captured_queries) <= 2 * len(GapKind.values)
