"""The register's own export, imported back, changes nothing: every row unchanged, every record as it was.

Suppliers, contracts, devices with their media, beneficiaries and orders' annexes, as CSV and as XLSX.
The demo register (about 1,100 devices: in stock, lent, in repair, retired, sanitized, scrapped, in kits,
managed by vendors, with their disks) is loaded once for this module, inside a transaction rolled back at
the end; each test runs in its own savepoint on top of it.
"""
from __future__ import annotations

import io
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from assets.models import Contract, Device, DeviceEvent, Kit, StorageMedium, Supplier
from assets.resources import ContractResource, DeviceResource, SupplierResource
from core.choices import ImportStatus
from core.imports import import_confirm, import_preview
from donations.models import Beneficiary, MayoralOrder, OrderAnnexBeneficiary, OrderAnnexDevice
from donations.resources import BeneficiaryResource, OrderAnnexResource
from loans.models import Recipient

pytestmark = pytest.mark.django_db

User = get_user_model()

# table: (resource, what it exports, how many rows that makes)
TABLES = {
    "suppliers": (SupplierResource, Supplier.objects.all, Supplier.objects.count),
    "contracts": (ContractResource, Contract.objects.all, Contract.objects.count),
    "devices": (DeviceResource, Device.objects.all, Device.objects.count),
    "beneficiaries": (BeneficiaryResource, Beneficiary.objects.all, Beneficiary.objects.count),
    "order_annexes": (OrderAnnexResource, MayoralOrder.objects.all,
                      lambda: OrderAnnexDevice.objects.count() + OrderAnnexBeneficiary.objects.count()),
}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEBUG=True):
            call_command("load_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """A batch keeps the uploaded file."""
    settings.MEDIA_ROOT = tmp_path / "media"


def snapshot() -> dict:
    """Every value of every record an import may touch, and how many history rows and events there are."""
    state = {}
    for model in (Supplier, Contract, Kit, Device, StorageMedium, Beneficiary, Recipient, MayoralOrder):
        name = model._meta.model_name
        state[name] = list(model.objects.order_by("id").values())
        state[f"{name} history"] = model.history.count()
    for model in (OrderAnnexDevice, OrderAnnexBeneficiary):
        state[model._meta.model_name] = list(model.objects.order_by("id").values())
    state["device events"] = DeviceEvent.objects.count()
    return state


def exported(table: str, file_format: str) -> bytes:
    resource, records, _count = TABLES[table]
    content = resource().export(records()).export(file_format)
    return content.encode("utf-8") if isinstance(content, str) else content


def test_the_demo_register_has_what_the_round_trip_needs(demo):
    """Records of every kind the export flattens: contracts, disks, kits, vendors, devices gone from the register."""
    assert Device.objects.count() > 1000
    assert Device.objects.filter(contract__isnull=False).exists()
    assert Device.objects.filter(kit__isnull=False).exists()
    assert Device.objects.filter(managing_vendor__isnull=False).exists()
    assert Device.objects.filter(media__isnull=False).exists()
    assert Device.objects.exclude(status__in=["in_stock", "in_use"]).exists()
    assert Supplier.objects.count() > 1 and Contract.objects.count() > 1
    assert Beneficiary.objects.count() > 100 and OrderAnnexBeneficiary.objects.exists()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("table", list(TABLES))
def test_an_exported_table_imports_back_unchanged(demo, table, file_format):
    clerk = User.objects.get(username="informatyk")
    _resource, _records, count = TABLES[table]
    content = exported(table, file_format)
    before = snapshot()

    batch = import_preview(table=table, file=io.BytesIO(content), file_name=f"{table}.{file_format}", by=clerk)

    assert batch.preview["errors"] == [], batch.preview["errors"][:5]
    assert batch.preview["unknown_columns"] == []
    total = count()
    assert total > 0
    assert (batch.rows_total, batch.rows_created, batch.rows_updated, batch.rows_unchanged, batch.rows_invalid) == (
        total, 0, 0, total, 0), batch.preview["updated"][:5]
    assert snapshot() == before

    applied = import_confirm(batch=batch, by=clerk, sha256=batch.sha256)

    assert applied.status == ImportStatus.APPLIED
    assert (applied.rows_created, applied.rows_updated, applied.rows_unchanged) == (0, 0, total)
    assert snapshot() == before


def test_the_device_export_lists_its_status_as_not_imported(demo):
    batch = import_preview(table="devices", file=io.BytesIO(exported("devices", "csv")), file_name="devices.csv",
                           by=None)
    assert [column["column"] for column in batch.preview["ignored_columns"]] == ["status"]
    assert "status" not in batch.preview["columns"]


def test_a_device_changed_since_the_export_is_the_one_update(demo):
    """The control: the comparison is not blind. A clerk corrects a device after the export; importing the
    older file would put the old notes back, and the preview says so for that device alone."""
    from assets import services

    content = exported("devices", "xlsx")
    device = Device.objects.filter(media__isnull=False).order_by("inventory_number").first()
    services.device_update(device=device, by=None, notes=f"{device.notes} (sprawdzony 2024)".strip())

    batch = import_preview(table="devices", file=io.BytesIO(content), file_name="devices.xlsx", by=None)

    total = Device.objects.count()
    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged, batch.rows_invalid) == (0, 1, total - 1, 0)
    row = list(Device.objects.order_by("inventory_number").values_list("id", flat=True)).index(device.pk) + 2
    assert batch.preview["updated"] == [{"row": row, "key": device.inventory_number, "fields": ["notes"]}]
