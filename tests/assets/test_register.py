"""The register's own rules, enforced by the services whoever calls them."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assets import services
from assets.choices import ManagedBy
from assets.models import Device, Kit, Supplier
from core.exceptions import DomainError
from tests.factories import make_contract, make_device, make_supplier, valid_nip

pytestmark = pytest.mark.django_db


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


def test_nip_is_checked_and_stored_as_ten_digits():
    nip = valid_nip(42)
    formatted = f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}"
    supplier = make_supplier(nip=formatted)
    assert supplier.nip == nip
    broken = nip[:-1] + str((int(nip[-1]) + 1) % 10)
    assert "nip" in errors_of(lambda: make_supplier(nip=broken))
    assert "nip" in errors_of(lambda: make_supplier(nip=formatted))  # the same NIP twice
    assert Supplier.objects.count() == 1


def test_device_serial_is_unique_per_manufacturer_whatever_the_case():
    make_device(manufacturer="Lenovo", serial_number="PF-1234")
    assert "serial_number" in errors_of(lambda: make_device(manufacturer="LENOVO", serial_number="pf-1234"))
    make_device(manufacturer="Dell", serial_number="PF-1234")  # another manufacturer may reuse it
    assert Device.objects.filter(serial_number__iexact="pf-1234").count() == 2


@pytest.mark.parametrize(("field", "value"), [
    ("purchase_date", date.today() + timedelta(days=2)),
    ("purchase_price", Decimal("-1.00")),
    ("expected_life_years", 0),
    ("kind", "toaster"),
])
def test_bad_device_data_is_refused_and_nothing_written(field, value):
    assert field in errors_of(lambda: make_device(**{field: value}))
    assert not Device.objects.exists()


def test_vendor_managed_device_names_its_vendor():
    assert "managing_vendor" in errors_of(lambda: make_device(managed_by=ManagedBy.VENDOR))
    infover = make_supplier(name="Infover S.A.")
    device = make_device(managed_by=ManagedBy.VENDOR, managing_vendor=infover, kind="tablet")
    assert device.managing_vendor == infover


def test_warranty_and_contract_dates_are_consistent():
    contract = make_contract(signed_on=date(2020, 4, 10))
    assert "purchase_date" in errors_of(lambda: make_device(contract=contract, purchase_date=date(2020, 4, 1)))
    assert "warranty_ends_on" in errors_of(
        lambda: make_device(purchase_date=date(2020, 4, 15), warranty_ends_on=date(2020, 4, 1)))


def test_status_cannot_be_set_by_editing():
    device = make_device()
    with pytest.raises(DomainError) as refused:
        services.device_update(device=device, by=None, status="scrapped")
    assert refused.value.field == "status"


def test_a_device_that_left_the_register_keeps_its_data():
    device = make_device()
    Device.objects.filter(pk=device.pk).update(status="transferred")
    with pytest.raises(DomainError):
        services.device_update(device=device, by=None, location="gdzie indziej")
    services.device_update(device=device, by=None, notes="przekazany beneficjentowi")
    device.refresh_from_db()
    assert device.notes == "przekazany beneficjentowi"


def test_kits_group_devices_each_in_one_kit_only():
    pc, monitor, router = make_device(kind="desktop"), make_device(kind="monitor"), make_device(kind="router")
    kit = services.kit_create(code="EINC-D-001", name="Zestaw dla gospodarstwa domowego",
                              devices=[pc, monitor, router], by=None)
    assert set(kit.devices.all()) == {pc, monitor, router}
    with pytest.raises(DomainError) as refused:
        services.kit_create(code="EINC-D-002", name="drugi", devices=[pc], by=None)
    assert refused.value.field == "devices"
    assert not Kit.objects.filter(code="EINC-D-002").exists()
    services.kit_update(kit=kit, by=None, devices=[pc, monitor])
    router.refresh_from_db()
    assert router.kit is None
    assert router.history.latest("history_id").kit_id is None


def test_storage_media_serials_are_unique():
    device = make_device()
    services.storage_medium_add(by=None, device=device, kind="hdd", serial_number="WD-1", capacity_gb=500)
    errors = errors_of(lambda: services.storage_medium_add(by=None, device=device, kind="hdd",
                                                           serial_number="WD-1", capacity_gb=500))
    assert errors
    assert device.media.count() == 1


@pytest.mark.parametrize(("field", "value"), [("purchase_price", -1), ("expected_life_years", 0), ("status", "melted")])
def test_the_database_refuses_what_validation_would(field, value):
    from django.db import IntegrityError, transaction

    device = make_device()
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.filter(pk=device.pk).update(**{field: value})


def test_a_device_without_a_contract_states_its_funding_source_and_one_with_a_contract_does_not():
    donated = make_device(funding_source="donation", purchase_price=Decimal("0.00"))
    assert Device.objects.get(pk=donated.pk).funding_source == "donation"
    assert "funding_source" in errors_of(lambda: make_device(contract=make_contract(), purchase_date=date(2020, 5, 1),
                                                             funding_source="donation"))
