"""Each check of a free transfer, refusing with its reason (DESIGN.md §4, "Transfers"), and the approval
that reads them: only when every check passes, or with a lawyer's reasoned override of the checks a
lawyer may weigh; never over data leaving the office or a device that is not there."""
from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from assets import services as asset_services
from assets.choices import DeviceStatus
from core.exceptions import GuardFailed, InvalidInput
from core.roles import Role
from donations import services
from donations.choices import LegalCheck, OrderKind, TransferStatus
from donations.legal import check_devices
from tests.factories import (
    allocate,
    make_beneficiary,
    make_device,
    make_order,
    make_project,
    make_retired,
    make_set,
    sanitize,
)

pytestmark = pytest.mark.django_db

AFTER = date(2021, 7, 1)  # the project's durability period ends on 31.03.2021


@pytest.fixture
def household():
    """A household holding its set since 2014, and an order listing it, in force from 14.06.2021."""
    project = make_project()
    beneficiary = make_beneficiary(project)
    loan = allocate(beneficiary)
    order = make_order(project=project, annex_beneficiaries=[beneficiary])
    return beneficiary, loan, order


@pytest.fixture
def lawyer(make_user):
    user = make_user(Role.LEGAL_OFFICE, first_name="Maria", last_name="Prawnik")
    user.user_permissions.add(Permission.objects.get(codename="override_transfer_check"))
    return user


def devices_of(loan):
    return sorted((item.device for item in loan.items.select_related("device")), key=lambda d: d.inventory_number)


def check(order, recipient, on, devices):
    with translation.override("en"):
        return check_devices(order=order, recipient=recipient, on=on, devices=devices)


def failed(results, name):
    return [r for r in results if r.check == name and not r.passed]


def test_a_household_holding_its_set_after_the_durability_period_passes_every_check(household):
    beneficiary, loan, order = household
    results = check(order, beneficiary.recipient, AFTER, devices_of(loan))
    assert [r.check for r in results if not r.passed] == []
    per_device = {LegalCheck.IN_ANNEX, LegalCheck.RECIPIENT_MATCHES, LegalCheck.DURABILITY_OVER, LegalCheck.DATA_GONE,
                  LegalCheck.AVAILABLE}
    for device in devices_of(loan):  # item by item: each device has each check
        assert {r.check for r in results if r.device_id == device.pk} == per_device
    data = [r for r in results if r.check == LegalCheck.DATA_GONE]
    assert all(r.exception_applied for r in data)
    assert "beneficiary exception" in data[0].message


def test_the_order_must_be_in_force_on_the_transfer_date(household):
    beneficiary, loan, _order = household
    order = make_order(in_force_until=date(2021, 6, 30), annex_beneficiaries=[beneficiary])
    [refusal] = failed(check(order, beneficiary.recipient, AFTER, devices_of(loan)), LegalCheck.ORDER_IN_FORCE)
    assert refusal.message == (f"Order no. {order.number} is in force from 14.06.2021 until 30.06.2021; the transfer "
                               f"is dated 01.07.2021.")


def test_a_transfer_dated_before_the_order_is_in_force_is_refused_at_once(household):
    beneficiary, loan, order = household
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=date(2021, 6, 13),
                                 by=None, kits=[loan.kit])
    assert refused.value.field == "transfer_date"
    assert "comes into force on 14.06.2021" in refused.value.message
    assert not order.transfers.exists()


def test_the_order_must_be_of_a_kind_that_allows_a_free_transfer(household):
    beneficiary, loan, _order = household
    order = make_order(kind=OrderKind.SALE, annex_beneficiaries=[beneficiary])
    [refusal] = failed(check(order, beneficiary.recipient, AFTER, devices_of(loan)), LegalCheck.ORDER_KIND)
    assert refusal.message.startswith(f"Order no. {order.number} is about sale")
    assert "needs an order of free transfer or donation" in refusal.message
    donation = make_order(kind=OrderKind.DONATION, annex_beneficiaries=[beneficiary])
    assert not failed(check(donation, beneficiary.recipient, AFTER, devices_of(loan)), LegalCheck.ORDER_KIND)


def test_every_device_must_be_in_the_annex_itself_or_through_its_beneficiary(household):
    beneficiary, loan, _order = household
    computer, monitor = devices_of(loan)
    order = make_order(annex_devices=[computer])  # the monitor is forgotten, the household is not listed
    refusals = failed(check(order, beneficiary.recipient, AFTER, [computer, monitor]), LegalCheck.IN_ANNEX)
    assert [r.device for r in refusals] == [monitor.inventory_number]
    assert refusals[0].message == (f"{monitor.inventory_number} is not in the annex of order no. {order.number}, "
                                   f"nor is the beneficiary who holds it.")


def test_a_project_device_passes_only_to_the_beneficiary_who_holds_it(household):
    beneficiary, loan, order = household
    neighbour = make_beneficiary(beneficiary.project, name="Gospodarstwo domowe Żółkiewskich")
    allocate(neighbour)
    services.order_annex_add(order=order, by=None, beneficiaries=[neighbour])
    results = check(order, neighbour.recipient, AFTER, devices_of(loan))
    mismatch = failed(results, LegalCheck.RECIPIENT_MATCHES)
    assert len(mismatch) == 2
    assert mismatch[0].message == (f"{mismatch[0].device} is held by {beneficiary.recipient.name}, not by the "
                                   f"recipient Gospodarstwo domowe Żółkiewskich.")
    elsewhere = failed(results, LegalCheck.AVAILABLE)
    assert elsewhere[0].message == f"{elsewhere[0].device} is on loan to {beneficiary.recipient.name}."


def test_project_devices_do_not_change_owner_inside_the_durability_period(household):
    beneficiary, loan, _order = household
    early = make_order(signed_on=date(2021, 1, 4), in_force_from=date(2021, 1, 4), annex_beneficiaries=[beneficiary])
    refusals = failed(check(early, beneficiary.recipient, date(2021, 3, 31), devices_of(loan)), LegalCheck.DURABILITY_OVER)
    assert len(refusals) == 2
    assert refusals[0].message == (f"{refusals[0].device} was bought by the project {beneficiary.project.name}, whose "
                                   f"durability period lasts until 31.03.2021: it cannot change owner on 31.03.2021.")
    assert not failed(check(early, beneficiary.recipient, date(2021, 4, 1), devices_of(loan)), LegalCheck.DURABILITY_OVER)


def test_a_device_leaves_only_sanitized_or_under_the_beneficiary_exception(household, it_user, make_user):
    beneficiary, _loan, order = household
    # A laptop used in the office and then lent: the office's data may be on it; the exception does not apply.
    laptop = make_device()
    asset_services.device_put_in_use(device=laptop, by=it_user)
    asset_services.device_return_to_stock(device=laptop, by=it_user)
    from loans import services as loan_services
    loan_services.loan_start(recipient=beneficiary.recipient, purpose="grant_project", starts_on=date(2020, 1, 2),
                             planned_end_on=date(2021, 3, 31), devices=[laptop], by=None, condition_at_handover="ok")
    services.order_annex_add(order=order, by=None, devices=[laptop])
    laptop.refresh_from_db()
    [refusal] = failed(check(order, beneficiary.recipient, AFTER, [laptop]), LegalCheck.DATA_GONE)
    assert refusal.message == (f"{laptop.inventory_number} is on loan and not sanitized, and the beneficiary exception "
                               f"does not apply: sanitize its media or take them out first.")
    # A retired laptop, not yet wiped, then the same laptop after its certified wipe.
    retired = make_retired(kinds=("hdd",))
    services.order_annex_add(order=order, by=None, devices=[retired])
    assert failed(check(order, beneficiary.recipient, AFTER, [retired]), LegalCheck.DATA_GONE)
    sanitize(retired, technician=it_user, validator=make_user(Role.IT_OFFICE))
    assert not failed(check(order, beneficiary.recipient, AFTER, [retired]), LegalCheck.DATA_GONE)


def test_a_medium_recorded_after_the_wipe_keeps_a_sanitized_device_in_the_office(household, it_user, make_user):
    """A disk found in a sanitized laptop and recorded afterwards holds data no wipe certified: the status
    alone ("sanitized") is not proof that the data is gone."""
    beneficiary, _loan, order = household
    laptop = make_retired(kinds=("hdd",))
    sanitize(laptop, technician=it_user, validator=make_user(Role.IT_OFFICE))
    services.order_annex_add(order=order, by=None, devices=[laptop])
    asset_services.storage_medium_add(by=it_user, device=laptop, kind="ssd", serial_number="SSD-FOUND-01",
                                      capacity_gb=256)
    laptop.refresh_from_db()
    assert laptop.status == DeviceStatus.SANITIZED
    [refusal] = failed(check(order, beneficiary.recipient, AFTER, [laptop]), LegalCheck.DATA_GONE)
    assert refusal.message == (f"{laptop.inventory_number} was sanitized, but a storage medium recorded since then "
                               f"is neither sanitized fit for leaving the office nor removed (SSD (SATA) "
                               f"SSD-FOUND-01): sanitize it or take it out first.")


def test_a_lost_device_cannot_be_handed_over(household, it_user):
    beneficiary, _loan, order = household
    device = make_device()
    asset_services.device_report_lost(device=device, by=it_user, reference="KMP Leszno RSD-123/21")
    services.order_annex_add(order=order, by=None, devices=[device])
    [refusal] = failed(check(order, beneficiary.recipient, AFTER, [device]), LegalCheck.AVAILABLE)
    assert refusal.message == f"{device.inventory_number} is lost or stolen; it cannot be handed over."


def _submitted(order, recipient, on, **items):
    transfer = services.transfer_create(order=order, recipient=recipient, transfer_date=on, by=None, **items)
    return services.transfer_submit(transfer=transfer, by=None)


def test_approval_needs_every_check_or_a_lawyers_reasoned_override(household, lawyer, make_user):
    beneficiary, loan, _order = household
    order = make_order(kind=OrderKind.OTHER, annex_beneficiaries=[beneficiary])
    transfer = _submitted(order, beneficiary.recipient, AFTER, kits=[loan.kit])
    with translation.override("en"), pytest.raises(GuardFailed) as refused:
        services.transfer_approve(transfer=transfer, by=lawyer)
    assert refused.value.field == "override_reason"
    assert refused.value.details["failed"] == [LegalCheck.ORDER_KIND]
    assert "approve only with a reasoned override" in refused.value.message
    clerk = make_user(Role.PROJECT_MANAGER)
    with pytest.raises(GuardFailed) as not_a_lawyer:
        services.transfer_approve(transfer=transfer, by=clerk, override_reason="Zarządzenie obejmuje przekazanie.")
    assert not_a_lawyer.value.field == "override_reason"
    transfer.refresh_from_db()
    assert (transfer.status, transfer.events.count()) == (TransferStatus.SUBMITTED, 2)

    reason = "Zarządzenie „inne” przenosi własność; opinia radcy prawnego z 02.07.2021."
    approved = services.transfer_approve(transfer=transfer, by=lawyer, override_reason=reason)
    assert approved.status == TransferStatus.APPROVED
    assert approved.override_reason == reason
    assert approved.decided_by == lawyer
    event = approved.events.latest("id")
    assert event.kind == "overridden" and reason in event.reason


def test_no_override_lets_data_leave_the_office(household, lawyer):
    beneficiary, _loan, order = household
    retired = make_retired(kinds=("hdd",))
    services.order_annex_add(order=order, by=None, devices=[retired])
    transfer = _submitted(order, beneficiary.recipient, AFTER, devices=[retired])
    with translation.override("en"), pytest.raises(GuardFailed) as refused:
        services.transfer_approve(transfer=transfer, by=lawyer, override_reason="Proszę przekazać.")
    assert LegalCheck.DATA_GONE in refused.value.details["failed"]
    assert refused.value.message.startswith("The transfer cannot be approved:")
    assert f"{retired.inventory_number} is retired and not sanitized" in refused.value.message
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED


def test_every_check_result_is_kept_with_the_decision(household, lawyer):
    beneficiary, loan, order = household
    transfer = _submitted(order, beneficiary.recipient, AFTER, kits=[loan.kit])
    approved = services.transfer_approve(transfer=transfer, by=lawyer, reason="Zgodne z zarządzeniem.")
    assert {c["check"] for c in approved.checks} == set(LegalCheck.values)
    assert all(c["passed"] for c in approved.checks)
    assert approved.override_reason == ""
    assert DeviceStatus.ON_LOAN == devices_of(loan)[0].status
