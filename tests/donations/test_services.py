"""The services of grant projects, orders, transfers, donations and scrapping: what each writes, and each
refusal leaving nothing half-written."""
from __future__ import annotations

import io
import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from assets import services as asset_services
from assets.choices import DeviceStatus, FundingSource, RetirementReason
from assets.models import Device, DeviceEvent
from core.exceptions import GuardFailed, InvalidInput, TransitionNotAllowed
from core.roles import Role
from donations import services
from donations.choices import TRANSFER_TRANSITIONS, BeneficiaryKind, ObligationKind, OrderKind, TransferStatus
from donations.models import (
    Beneficiary,
    DonationOffer,
    Liquidation,
    MayoralOrder,
    ObligationRecord,
    OrderAnnexBeneficiary,
    OrderAnnexDevice,
    Transfer,
    TransferItem,
)
from donations.selectors import obligation_gaps
from loans.choices import LoanStatus, RecipientKind
from loans.models import Loan
from loans import services as loan_services
from tests.factories import (
    allocate,
    make_beneficiary,
    make_device,
    make_order,
    make_project,
    make_retired,
    make_set,
    sanitize,
    wipe_facts,
)
from wipe import services as wipe_services

pytestmark = pytest.mark.django_db

AFTER = date(2021, 7, 1)


@pytest.fixture
def lawyer(make_user):
    user = make_user(Role.LEGAL_OFFICE, first_name="Maria", last_name="Prawnik")
    user.user_permissions.add(Permission.objects.get(codename="override_transfer_check"))
    return user


@pytest.fixture
def household():
    project = make_project()
    beneficiary = make_beneficiary(project)
    loan = allocate(beneficiary)
    order = make_order(project=project, annex_beneficiaries=[beneficiary])
    return beneficiary, loan, order


def en(call, *args, **kwargs):
    with translation.override("en"):
        return call(*args, **kwargs)


# --- projects, beneficiaries, allocation ----------------------------------------------------------

def test_the_durability_period_ends_the_given_years_after_the_final_payment():
    project = make_project(final_payment_on=date(2016, 2, 29), durability_years=5)
    assert project.durability_ends_on == date(2021, 2, 28)
    project = services.project_update(project=project, by=None, durability_years=3)
    assert project.durability_ends_on == date(2019, 2, 28)
    assert project.history.count() == 2


def test_a_beneficiary_keeps_only_the_data_needed_on_its_recipient():
    project = make_project()
    beneficiary = make_beneficiary(project, kind=BeneficiaryKind.CARE_CENTRE, name="Świetlica terapeutyczna „Promyk”")
    assert beneficiary.recipient.kind == RecipientKind.CARE_CENTRE
    assert beneficiary.recipient.name == "Świetlica terapeutyczna „Promyk”"
    assert not {f.name for f in Beneficiary._meta.fields} & {"pesel", "national_id"}
    with pytest.raises(InvalidInput) as refused:
        make_beneficiary(project, eligibility_basis=" ")
    assert refused.value.field == "eligibility_basis"


def test_a_household_holds_one_set_for_the_whole_durability_period(household):
    beneficiary, loan, _order = household
    assert (loan.planned_end_on, loan.purpose) == (date(2021, 3, 31), "grant_project")
    assert {d.status for d in Device.objects.filter(loan_items__loan=loan)} == {DeviceStatus.ON_LOAN}
    second = make_set(beneficiary.project)
    loans_before = Loan.objects.count()
    with pytest.raises(GuardFailed) as refused:
        en(allocate, beneficiary, second)
    assert refused.value.field == "beneficiary"
    assert "one allocation per household" in refused.value.message
    assert Loan.objects.count() == loans_before
    assert {d.status for d in second.devices.all()} == {DeviceStatus.IN_STOCK}


def test_a_school_holds_many_sets_and_only_the_projects_devices_are_allocated():
    project = make_project()
    school = make_beneficiary(project, kind=BeneficiaryKind.SCHOOL, name="Szkoła Podstawowa nr 2 w Lesznie")
    allocate(school)
    allocate(school)
    assert Loan.objects.filter(recipient=school.recipient, status=LoanStatus.OPEN).count() == 2
    stray = make_device()
    with pytest.raises(GuardFailed) as refused:
        services.beneficiary_allocate(beneficiary=school, devices=[stray], starts_on=date(2014, 4, 1), by=None)
    assert refused.value.field == "devices"


def test_a_device_belongs_to_one_project():
    first, second = make_project(), make_project()
    kit = make_set(first)
    with pytest.raises(GuardFailed) as refused:
        services.project_add_devices(project=second, kits=[kit], by=None)
    assert refused.value.field == "devices"
    assert second.project_devices.count() == 0


# --- obligations ----------------------------------------------------------------------------------

def test_obligations_are_logged_per_beneficiary_and_month_and_the_gaps_are_listed(household):
    beneficiary, _loan, _order = household
    project = beneficiary.project
    school = make_beneficiary(project, kind=BeneficiaryKind.SCHOOL, name="Gimnazjum nr 1")
    internet = services.obligation_create(project=project, kind=ObligationKind.INTERNET, by=None,
                                          description="dostęp do Internetu", applies_to=BeneficiaryKind.HOUSEHOLD)
    assert (internet.starts_on, internet.ends_on) == (date(2016, 3, 31), date(2021, 3, 31))
    assert len(internet.months()) == 61
    done = services.obligation_record_month(obligation=internet, month=date(2016, 4, 1), proof_reference="FV 4/2016",
                                            by=None)
    assert [r.beneficiary for r in done] == [beneficiary]  # the school has no internet obligation
    assert services.obligation_record_month(obligation=internet, month=date(2016, 4, 15), proof_reference="FV 4/2016",
                                            by=None) == []  # already recorded: left as it is
    with pytest.raises(GuardFailed):
        services.obligation_record(obligation=internet, beneficiary=beneficiary, month=date(2016, 4, 1),
                                   proof_reference="FV 4/2016", by=None)
    with pytest.raises(InvalidInput) as not_applicable:
        services.obligation_record(obligation=internet, beneficiary=school, month=date(2016, 5, 1),
                                   proof_reference="FV", by=None)
    assert not_applicable.value.field == "beneficiary"
    with pytest.raises(InvalidInput) as outside:
        services.obligation_record(obligation=internet, beneficiary=beneficiary, month=date(2021, 5, 1),
                                   proof_reference="FV", by=None)
    assert outside.value.field == "month"
    gaps = obligation_gaps(obligation=internet, until=date(2016, 6, 30))
    assert [(g.beneficiary, g.month) for g in gaps] == [(beneficiary, date(2016, 3, 1)), (beneficiary, date(2016, 5, 1)),
                                                        (beneficiary, date(2016, 6, 1))]
    assert ObligationRecord.objects.count() == 1


# --- orders and annexes ---------------------------------------------------------------------------

def test_an_order_number_is_registered_once():
    make_order(number="148/2019")
    with pytest.raises(InvalidInput) as refused:
        en(make_order, number=" 148/2019 ")
    assert refused.value.field == "number"
    assert refused.value.message == "An order with this number is already registered."
    assert MayoralOrder.objects.count() == 1


def test_an_order_keeps_the_sha256_of_its_signed_scan():
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"%PDF-1.4 zarzadzenie 148/2019\n%%EOF\n"
    order = make_order(scan=SimpleUploadedFile("zarzadzenie.pdf", content, content_type="application/pdf"))
    assert order.scan_sha256 == hashlib.sha256(content).hexdigest()


def _annex_csv(lines, *, header="Lp.;Numer inwentarzowy;Beneficjent", encoding="utf-8-sig"):
    return ("\n".join([header, *lines]) + "\n").encode(encoding)


def test_an_annex_imports_from_csv_with_polish_headers(household):
    beneficiary, loan, _order = household
    order = make_order(project=beneficiary.project)
    computer, monitor = sorted(loan.kit.devices.all(), key=lambda d: d.inventory_number)
    content = _annex_csv([f"1;{computer.inventory_number};", f"2;{monitor.inventory_number} ;", f"3;;{beneficiary.code}",
                          ";;"], encoding="cp1250")
    report = services.order_annex_import(order=order, content=content, filename="załącznik.csv", by=None)
    assert report.as_dict() == {"devices_added": 2, "beneficiaries_added": 1, "already_listed": 0, "problems": []}
    assert list(order.annex_device_rows.values_list("line", flat=True)) == [2, 3]
    again = services.order_annex_import(order=order, content=content, filename="załącznik.csv", by=None)
    assert again.as_dict()["already_listed"] == 3 and OrderAnnexDevice.objects.filter(order=order).count() == 2


def test_an_annex_imports_from_xlsx(household):
    import pandas as pd

    beneficiary, _loan, _order = household
    order = make_order()
    buffer = io.BytesIO()
    pd.DataFrame({"inventory_number": [d.inventory_number for d in beneficiary.project.devices.all()]}).to_excel(
        buffer, index=False)
    report = services.order_annex_import(order=order, content=buffer.getvalue(), filename="annex.xlsx", by=None)
    assert report.as_dict()["devices_added"] == 2


def test_an_annex_with_unknown_numbers_is_refused_line_by_line_and_nothing_is_added(household):
    beneficiary, loan, _order = household
    order = make_order(project=beneficiary.project)
    computer = loan.kit.devices.order_by("inventory_number").first()
    content = _annex_csv([f"1;{computer.inventory_number};", "2;UM/1999/404;", f"3;{computer.inventory_number};",
                          "4;;EI/GD/999"])
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        services.order_annex_import(order=order, content=content, filename="annex.csv", by=None)
    assert refused.value.field == "file"
    assert refused.value.details["problems"] == [
        {"line": 3, "column": "Numer inwentarzowy", "value": "UM/1999/404", "reason": "no device with this inventory number"},
        {"line": 4, "column": "Numer inwentarzowy", "value": computer.inventory_number, "reason": "listed twice (line 2)"},
        {"line": 5, "column": "Beneficjent", "value": "EI/GD/999", "reason": "no beneficiary with this code"},
    ]
    assert not OrderAnnexDevice.objects.filter(order=order).exists()
    assert not OrderAnnexBeneficiary.objects.filter(order=order).exists()


@pytest.mark.parametrize(("content", "filename"), [
    (b"", "annex.csv"), (b"kolor;rozmiar\nczerwony;XL\n", "annex.csv"), (b"GIF89a", "annex.gif"),
    (b"not a zip", "annex.xlsx"),
])
def test_an_annex_that_is_not_one_is_refused(content, filename):
    order = make_order()
    with pytest.raises(InvalidInput) as refused:
        services.order_annex_import(order=order, content=content, filename=filename, by=None)
    assert refused.value.field == "file"


# --- transfers ------------------------------------------------------------------------------------

def test_a_device_is_in_one_open_transfer_at_a_time(household, lawyer):
    beneficiary, loan, order = household
    first = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER, by=None,
                                     kits=[loan.kit])
    with translation.override("en"), pytest.raises(GuardFailed) as refused:
        services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER, by=None,
                                 kits=[loan.kit])
    assert refused.value.field == "devices"
    assert f"is already in the open transfer {first.number}" in refused.value.message
    assert Transfer.objects.count() == 1
    services.transfer_submit(transfer=first, by=None)
    services.transfer_reject(transfer=first, by=lawyer, reason="Brak podpisu beneficjenta na wniosku.")
    second = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER, by=None,
                                      kits=[loan.kit])  # a rejected transfer frees its devices
    assert second.items.count() == 2


def test_rejecting_needs_reasons(household, lawyer):
    beneficiary, loan, order = household
    transfer = services.transfer_submit(transfer=services.transfer_create(
        order=order, recipient=beneficiary.recipient, transfer_date=AFTER, by=None, kits=[loan.kit]), by=None)
    with pytest.raises(InvalidInput) as refused:
        services.transfer_reject(transfer=transfer, by=lawyer, reason="  ")
    assert refused.value.field == "reason"
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED


def _move(target, transfer, lawyer):
    if target == TransferStatus.SUBMITTED:
        return services.transfer_submit(transfer=transfer, by=None)
    if target == TransferStatus.APPROVED:
        return services.transfer_approve(transfer=transfer, by=lawyer)
    if target == TransferStatus.REJECTED:
        return services.transfer_reject(transfer=transfer, by=lawyer, reason="Nie.")
    if target == TransferStatus.COMPLETED:
        return services.transfer_complete(transfer=transfer, by=None)
    return services.transfer_cancel(transfer=transfer, by=None, reason="Wniosek wycofany.")


TARGETS = [s for s in TransferStatus.values if s != TransferStatus.DRAFT]  # nothing moves a transfer back to draft


@pytest.mark.parametrize(("source", "target"), list(itertools.product(TransferStatus.values, TARGETS)))
def test_every_pair_of_the_transfer_table(household, lawyer, source, target):
    beneficiary, loan, order = household
    transfer = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER, by=None,
                                        kits=[loan.kit])
    Transfer.objects.filter(pk=transfer.pk).update(status=source)  # test set-up: start from `source`
    transfer.refresh_from_db()
    events, history = transfer.events.count(), transfer.history.count()
    if target in TRANSFER_TRANSITIONS[source]:
        moved = _move(target, transfer, lawyer)
        assert moved.status == target
        last = moved.events.latest("id")
        assert (last.from_status, last.to_status) == (source, target)
    else:
        with pytest.raises(TransitionNotAllowed):
            _move(target, transfer, lawyer)
        transfer.refresh_from_db()
        assert transfer.status == source
        assert (transfer.events.count(), transfer.history.count()) == (events, history)


def test_completing_issues_the_protocol_and_the_devices_leave_the_register(household, lawyer, it_user):
    beneficiary, loan, order = household
    transfer = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER, by=it_user,
                                        kits=[loan.kit])
    services.transfer_submit(transfer=transfer, by=it_user)
    services.transfer_approve(transfer=transfer, by=lawyer)
    with pytest.raises(TransitionNotAllowed):  # only an approved transfer is completed, once
        services.transfer_approve(transfer=transfer, by=lawyer)
    done = services.transfer_complete(transfer=transfer, by=it_user)
    assert done.status == TransferStatus.COMPLETED
    assert done.protocol.kind == "transfer_protocol"
    devices = list(Device.objects.filter(transfer_items__transfer=done))
    assert {d.status for d in devices} == {DeviceStatus.TRANSFERRED}
    for device in devices:
        event = DeviceEvent.objects.filter(device=device).latest("id")
        assert (event.from_status, event.to_status, event.document) == (
            DeviceStatus.ON_LOAN, DeviceStatus.TRANSFERRED, done.protocol)
        assert order.number in event.reference
    assert set(TransferItem.objects.filter(transfer=done).values_list("exception_applied", flat=True)) == {True}
    loan.refresh_from_db()
    assert (loan.status, loan.ended_on) == (LoanStatus.TRANSFERRED, AFTER)
    assert loan.events.latest("id").kind == "transferred"
    assert not loan.items.filter(is_open=True).exists()
    with pytest.raises(TransitionNotAllowed):
        services.transfer_complete(transfer=done, by=it_user)


def test_completing_a_transfer_costs_the_same_queries_for_two_devices_as_for_twelve(household, lawyer, it_user):
    """A worker completes a project's transfers one by one: the check, the loans' end and the devices' moves
    are set-based, so a school's twelve devices cost the queries of a household's set of two; every device
    still gets its event and history row."""
    beneficiary, loan, order = household
    school = make_beneficiary(beneficiary.project, kind=BeneficiaryKind.SCHOOL, name="Szkoła Podstawowa nr 3")
    laptops = [make_device(purchase_date=date(2014, 3, 3)) for _ in range(12)]
    classroom = asset_services.kit_create(code="SP3-PRACOWNIA", name="Pracownia", devices=laptops, by=None)
    services.project_add_devices(project=beneficiary.project, kits=[classroom], by=None)
    services.beneficiary_allocate(beneficiary=school, kit=classroom, starts_on=date(2014, 4, 1), by=None)
    services.order_annex_add(order=order, by=None, beneficiaries=[school])

    def approved(recipient, devices):
        transfer = services.transfer_create(order=order, recipient=recipient, transfer_date=AFTER, by=it_user,
                                            devices=devices)
        services.transfer_submit(transfer=transfer, by=it_user)
        return services.transfer_approve(transfer=transfer, by=lawyer)

    small = approved(beneficiary.recipient, list(loan.kit.devices.all()))
    large = approved(school.recipient, laptops)
    ContentType.objects.get_for_model(Transfer)  # cached once per process, not part of a completion
    with CaptureQueriesContext(connection) as two:
        services.transfer_complete(transfer=small, by=it_user)
    with CaptureQueriesContext(connection) as twelve:
        services.transfer_complete(transfer=large, by=it_user)
    assert len(twelve.captured_queries) == len(two.captured_queries) <= 49
    large.refresh_from_db()
    for device in laptops:
        device.refresh_from_db()
        assert device.status == DeviceStatus.TRANSFERRED
        event = device.events.latest("id")
        assert (event.from_status, event.to_status, event.document, event.actor) == (
            DeviceStatus.ON_LOAN, DeviceStatus.TRANSFERRED, large.protocol, it_user)
        history = device.history.first()
        assert (history.status, history.history_type, history.history_user) == (DeviceStatus.TRANSFERRED, "~", it_user)
        assert history.history_change_reason.startswith(event.reason[:99])  # history keeps 100 characters
    assert set(TransferItem.objects.filter(transfer=large).values_list("exception_applied", flat=True)) == {True}
    assert Loan.objects.get(recipient=school.recipient).status == LoanStatus.TRANSFERRED


def test_completion_checks_again_and_refuses_a_device_lost_since_approval(household, lawyer, it_user):
    beneficiary, loan, order = household
    transfer = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER, by=it_user,
                                        kits=[loan.kit])
    services.transfer_submit(transfer=transfer, by=it_user)
    services.transfer_approve(transfer=transfer, by=lawyer)
    loan_services.loan_mark_lost(loan=loan, by=it_user, reference="KMP Leszno RSD-77/21")
    with translation.override("en"), pytest.raises(GuardFailed) as refused:
        services.transfer_complete(transfer=transfer, by=it_user)
    assert "lost or stolen; it cannot be handed over" in refused.value.message
    transfer.refresh_from_db()
    assert (transfer.status, transfer.protocol) == (TransferStatus.APPROVED, None)


def test_bulk_transfers_one_per_beneficiary_of_the_project(household, it_user):
    beneficiary, _loan, order = household
    project = beneficiary.project
    others = [make_beneficiary(project) for _ in range(2)]
    for other in others:
        allocate(other)
    services.order_annex_add(order=order, by=None, beneficiaries=others)
    idle = make_beneficiary(project)  # holds nothing
    school = make_beneficiary(project, kind=BeneficiaryKind.SCHOOL, name="SP 1")
    allocate(school)
    result = services.transfers_for_project(order=order, project=project, transfer_date=AFTER, by=it_user,
                                            kinds=[BeneficiaryKind.HOUSEHOLD], submit=True)
    assert sorted(t.recipient_id for t in result.created) == sorted(b.recipient_id for b in [beneficiary, *others])
    assert {t.status for t in result.created} == {TransferStatus.SUBMITTED}
    assert all(t.items.count() == 2 for t in result.created)
    assert [s["beneficiary"] for s in result.skipped] == [idle.code]
    again = services.transfers_for_project(order=order, project=project, transfer_date=AFTER, by=it_user,
                                           kinds=[BeneficiaryKind.HOUSEHOLD])
    assert again.created == [] and len(again.skipped) == 4  # each device already in an open transfer, or nothing held


# --- donations from residents ---------------------------------------------------------------------

def _offer(**overrides):
    data = {"donor_name": "Jadwiga Mieszkańczyk", "donor_contact": "ul. Leszczyńska 1", "kind": "laptop",
            "manufacturer": "HP", "model": "ProBook 450 G5", "serial_number": "5CD81234XY", "legal_source": "invoice",
            "legal_source_reference": "FV 112/2018 Komputronik", "software_licences": "Windows 10 Pro OEM",
            "free_of_charge_declared": True}
    data.update(overrides)
    return services.donation_offer_create(by=None, **data)


def test_a_donated_device_enters_the_register_is_wiped_and_goes_to_a_person_in_need(it_user, make_user, lawyer):
    offer = services.donation_accept(offer=_offer(), by=it_user, inventory_number="UML/DAR/2021/001",
                                     media=[{"kind": "ssd", "capacity_gb": 256, "serial_number": "S3Z9NB0K"}])
    device = offer.device
    assert (device.funding_source, device.purchase_price, device.status) == (
        FundingSource.DONATION, Decimal("0.00"), DeviceStatus.RETIRED)
    assert device.retirement_reason == RetirementReason.TO_GIVE_AWAY
    assert device.media.count() == 1
    sanitize(device, technician=it_user, validator=make_user(Role.IT_OFFICE))
    person = loan_services.recipient_create(by=None, kind=RecipientKind.HOUSEHOLD, name="Rodzina Nowaków",
                                            address="Leszno")
    order = make_order(kind=OrderKind.DONATION, annex_devices=[device])
    transfer = services.transfer_create(order=order, recipient=person, transfer_date=AFTER, by=it_user, devices=[device])
    services.transfer_submit(transfer=transfer, by=it_user)
    services.transfer_approve(transfer=transfer, by=lawyer)
    services.transfer_complete(transfer=transfer, by=it_user)
    device.refresh_from_db()
    assert device.status == DeviceStatus.TRANSFERRED
    assert TransferItem.objects.get(device=device).exception_applied is False


@pytest.mark.parametrize(("overrides", "field"), [
    ({"free_of_charge_declared": False}, "free_of_charge_declared"),
    ({"legal_source_reference": ""}, "legal_source_reference"),
    ({"software_licences": " "}, "software_licences"),
])
def test_an_offer_without_its_proofs_is_not_accepted(it_user, overrides, field):
    offer = _offer(**overrides)
    with pytest.raises(GuardFailed) as refused:
        services.donation_accept(offer=offer, by=it_user, inventory_number="UML/DAR/2021/002")
    assert refused.value.field == field
    offer.refresh_from_db()
    assert (offer.status, offer.device) == ("offered", None)
    assert not Device.objects.filter(inventory_number="UML/DAR/2021/002").exists()


def test_a_refused_offer_stays_refused(it_user):
    offer = services.donation_refuse(offer=_offer(), by=it_user, reason="Brak dowodu zakupu.")
    assert offer.status == "refused"
    with pytest.raises(TransitionNotAllowed):
        services.donation_accept(offer=offer, by=it_user, inventory_number="X/1")
    assert DonationOffer.objects.get().decision_reason == "Brak dowodu zakupu."


# --- scrapping ------------------------------------------------------------------------------------

def _scrap(order, devices, **overrides):
    data = {"handed_over_on": date(2021, 9, 1), "collector_name": "Eko-Leszno Sp. z o.o.", "collector_bdo": "000012345",
            "kpo_number": "KPO/2021/000123", "mass_kg": Decimal("18.400")}
    data.update(overrides)
    return services.liquidation_record(order=order, devices=devices, by=None, **data)


def test_scrapping_needs_a_liquidation_order_listing_sanitized_devices(it_user, make_user):
    laptop = make_retired(kinds=("hdd",))
    order = make_order(kind=OrderKind.LIQUIDATION, annex_devices=[laptop])
    with translation.override("en"), pytest.raises(GuardFailed) as not_wiped:
        _scrap(order, [laptop])
    assert not_wiped.value.field == "devices"
    assert "no data leaves the office, not even as e-waste" in not_wiped.value.message
    assert not_wiped.value.details["media_missing"]
    sanitize(laptop, technician=it_user, validator=make_user(Role.IT_OFFICE))
    with pytest.raises(GuardFailed) as wrong_kind:
        _scrap(make_order(annex_devices=[laptop]), [laptop])
    assert wrong_kind.value.field == "order"
    with pytest.raises(GuardFailed) as not_listed:
        _scrap(make_order(kind=OrderKind.LIQUIDATION), [laptop])
    assert not_listed.value.field == "devices"
    with pytest.raises(ValidationError) as bad_bdo:
        _scrap(order, [laptop], collector_bdo="12-34")
    assert set(bad_bdo.value.message_dict) == {"collector_bdo"}
    laptop.refresh_from_db()
    assert laptop.status == DeviceStatus.SANITIZED
    liquidation = _scrap(order, [laptop])
    laptop.refresh_from_db()
    assert laptop.status == DeviceStatus.SCRAPPED
    assert liquidation.waste_code == "16 02 14"
    assert liquidation.number.startswith("LIK/2021/")
    assert DeviceEvent.objects.filter(device=laptop).latest("id").document == liquidation.protocol
    assert liquidation.history.first().protocol_id == liquidation.protocol.pk  # the history knows it too


def test_a_medium_recorded_after_the_wipe_stops_the_scrapping_until_it_is_wiped(it_user, make_user):
    """A sanitized laptop in which a second disk is found and recorded: the liquidation refuses it (the data on
    that disk is not proven gone) until the disk too holds a validated wipe."""
    validator = make_user(Role.IT_OFFICE)
    laptop = make_retired(kinds=("hdd",))
    sanitize(laptop, technician=it_user, validator=validator)
    order = make_order(kind=OrderKind.LIQUIDATION, annex_devices=[laptop])
    found = asset_services.storage_medium_add(by=it_user, device=laptop, kind="ssd", serial_number="SSD-FOUND-02",
                                              capacity_gb=256)
    with translation.override("en"), pytest.raises(GuardFailed) as refused:
        _scrap(order, [laptop])
    assert refused.value.field == "devices"
    assert "no data leaves the office, not even as e-waste" in refused.value.message
    assert "SSD-FOUND-02" in refused.value.message
    assert [m["serial_number"] for m in refused.value.details["media_missing"]] == ["SSD-FOUND-02"]
    laptop.refresh_from_db()
    assert laptop.status == DeviceStatus.SANITIZED and not Liquidation.objects.exists()

    record = wipe_services.sanitization_record(by=it_user, medium=found, **wipe_facts(
        technique="crypto_erase", overwrite_passes=None, pattern=""))
    wipe_services.sanitization_validate(sanitization=record, by=validator)
    _scrap(order, [laptop])
    laptop.refresh_from_db()
    assert laptop.status == DeviceStatus.SCRAPPED


def test_a_beneficiary_code_is_used_once_per_project():
    project = make_project()
    first = make_beneficiary(project, code="EI/GD/001")
    with pytest.raises(InvalidInput) as refused:
        make_beneficiary(project, code="EI/GD/001")
    assert refused.value.field == "code"
    make_beneficiary(make_project(), code="EI/GD/001")  # another project may use it
    with pytest.raises(InvalidInput):
        services.beneficiary_update(beneficiary=make_beneficiary(project), by=None, code="EI/GD/001")
    assert Beneficiary.objects.filter(project=project).count() == 2 and first.code == "EI/GD/001"


def test_an_order_devices_left_under_keeps_its_content_but_takes_notes(household, lawyer, it_user):
    beneficiary, loan, order = household
    transfer = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER, by=it_user,
                                        kits=[loan.kit])
    services.transfer_submit(transfer=transfer, by=it_user)
    services.transfer_approve(transfer=transfer, by=lawyer)
    services.transfer_complete(transfer=transfer, by=it_user)
    same = {"number": order.number, "title": order.title, "kind": order.kind}
    order = services.order_update(order=order, by=lawyer, notes="Opublikowane w BIP.", **same)  # nothing else changes
    assert order.notes == "Opublikowane w BIP."
    with pytest.raises(GuardFailed) as refused:
        services.order_update(order=order, by=lawyer, in_force_until=date(2021, 12, 31))
    assert refused.value.field == "in_force_until"
    with pytest.raises(GuardFailed) as closed:
        services.order_annex_add(order=order, by=lawyer, devices=[make_device()])
    assert closed.value.field == "devices"


@pytest.mark.parametrize("header", ["beneficjent", "Beneficjent\t", "kod beneficjenta,"])
def test_an_annex_of_one_column_of_codes_imports(household, header):
    beneficiary, _loan, _order = household
    order = make_order(project=beneficiary.project)
    content = f"{header}\n{beneficiary.code}\n\n".encode()
    report = services.order_annex_import(order=order, content=content, filename="lista.csv", by=None)
    assert report.as_dict()["beneficiaries_added"] == 1
    assert list(order.annex_beneficiary_rows.values_list("beneficiary", flat=True)) == [beneficiary.pk]
