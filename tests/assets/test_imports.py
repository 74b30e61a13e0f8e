"""Importing devices from the files offices arrive with, as a clerk sees it: the preview's counts, each
invalid row with its row number as in the file, its column as headed there, the value and the reason;
the confirmation writing exactly what the preview said; and nothing written by a dry run or a refusal.

The files in tests/assets/import_samples/ are real bytes as an office would upload them (make_samples.py
there says how they were made).
"""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from assets import services
from assets.choices import DeviceKind, DeviceStatus, FundingSource, MediumKind, RetirementReason
from assets.models import Contract, Device, DeviceEvent, StorageMedium, Supplier
from core.choices import ImportStatus
from core.exceptions import GuardFailed, InvalidInput
from core.imports import import_confirm, import_preview
from core.models import ImportBatch
from core.roles import Role
from tests.factories import make_contract, make_device, make_medium, make_order, make_supplier, sanitize

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parent / "import_samples"

NIP_REGISTERED = "7251000018"  # as written in the samples: 725-100-00-18
SUPPLIER_NAME = "Przedsiębiorstwo Informatyczne „Łódź” Sp. z o.o."


@pytest.fixture(autouse=True)
def english():
    """The reasons as the code writes them (the Polish catalogue is the translators' part)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """A batch keeps the uploaded file."""
    settings.MEDIA_ROOT = tmp_path / "media"


# -- helpers ------------------------------------------------------------------------------------------------


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def preview(name: str, *, by=None, table: str = "devices", content: bytes | None = None,
            skip_invalid: bool = False) -> ImportBatch:
    """The dry run of a sample file (or of `content` under its name), as the upload form starts it."""
    data = sample(name) if content is None else content
    return import_preview(table=table, file=io.BytesIO(data), file_name=name, by=by, skip_invalid=skip_invalid)


def confirm(batch: ImportBatch, *, by=None) -> ImportBatch:
    return import_confirm(batch=batch, by=by, sha256=batch.sha256)


def _tracked(record, model) -> dict:
    """A record's (or a history row's) values of the model's own fields, its id and timestamps included."""
    return {field.attname: getattr(record, field.attname) for field in model._meta.concrete_fields}


def counts(batch: ImportBatch) -> dict[str, int]:
    return {"total": batch.rows_total, "created": batch.rows_created, "updated": batch.rows_updated,
            "unchanged": batch.rows_unchanged, "invalid": batch.rows_invalid}


def register_state() -> dict:
    """Everything an import may write, to the last value and timestamp."""
    return {
        "devices": list(Device.objects.order_by("id").values()),
        "media": list(StorageMedium.objects.order_by("id").values()),
        "suppliers": list(Supplier.objects.order_by("id").values()),
        "contracts": list(Contract.objects.order_by("id").values()),
        "events": DeviceEvent.objects.count(),
        "device history": Device.history.count(),
        "media history": StorageMedium.history.count(),
        "supplier history": Supplier.history.count(),
        "contract history": Contract.history.count(),
    }


def media_of(device: Device) -> list[tuple[str, int, str]]:
    return list(device.media.order_by("id").values_list("kind", "capacity_gb", "serial_number"))


DEFAULTS = {"status": DeviceStatus.IN_STOCK, "funding_source": "", "warranty_ends_on": None, "contract": None,
            "managed_by": "it_office", "managing_vendor": None, "expected_life_years": 10, "kit": None,
            "notes": "", "media": []}
FIELDS = ("kind", "manufacturer", "model", "serial_number", "purchase_date", "purchase_price", "location", *DEFAULTS)


def device_values(number: str) -> dict:
    device = Device.objects.select_related("contract").get(inventory_number=number)
    values = {name: getattr(device, name) for name in FIELDS if name not in ("contract", "media")}
    values["contract"] = device.contract.number if device.contract else None
    values["media"] = media_of(device)
    return values


def expect(row: int, kind: str, **values) -> tuple[int, dict]:
    """A device as the sample's row `row` describes it, with the register's defaults for what it leaves out."""
    return row, {**DEFAULTS, "kind": kind, **values}


# What each real-world sample registers: inventory number -> (row in the file, the device's values).
REAL_WORLD = {
    "spis_utf8_bom_srednik.csv": {
        "UM/IT/2019/0012": expect(
            2, DeviceKind.LAPTOP, manufacturer="Lenovo", model="ThinkPad T490", serial_number="PF1ABC12",
            purchase_date=date(2019, 5, 15), purchase_price=Decimal("3999.00"), location="Biuro Rady Miasta, pok. 12",
            notes="Zażółć gęślą jaźń", media=[(MediumKind.SSD, 256, "S4EWNX0M123456")]),
        "UM/IT/2019/0013": expect(
            3, DeviceKind.DESKTOP, manufacturer="Dell", model="OptiPlex 7070", serial_number="5XJ8K53",
            purchase_date=date(2019, 9, 2), purchase_price=Decimal("4250.50"),
            location="Wydział Komunikacji, ul. Piotrkowska 104, Łódź",
            media=[(MediumKind.HDD, 1000, "WD-WCC6Y0ABCDEF"), (MediumKind.SSD, 512, "S4EWNX0M654321")]),
        "UM/IT/2020/0101": expect(
            6, DeviceKind.MONITOR, manufacturer="HP", model="E24 G4", serial_number="CNC0123XYZ",
            purchase_date=date(2020, 1, 20), purchase_price=Decimal("899.99"),
            location="Sekretariat Prezydenta, pok. 3"),
        "UM/IT/2020/0102": expect(
            7, DeviceKind.TABLET, manufacturer="Lenovo", model="Tab M10", serial_number="HGA1B2C3",
            purchase_date=date(2020, 3, 31), purchase_price=Decimal("1049.00"), location="Biuro Rady Miasta, pok. 12",
            notes="dla radnej Żanety Łęckiej", media=[(MediumKind.EMMC, 32, "")]),
    },
    "spis_cp1250.csv": {
        "UM/IT/2018/0450": expect(
            2, DeviceKind.LAPTOP, manufacturer="Dell", model="Latitude 5490", serial_number="7HBKLM2",
            purchase_date=date(2018, 11, 12), purchase_price=Decimal("3199.00"),
            location="Wydział Księgowości, pok. 215", funding_source=FundingSource.OWN_BUDGET,
            notes="Użytkownik: Łucja Żółkiewska", media=[(MediumKind.SSD, 256, "S3YJNX0K998877")]),
        "UM/IT/2018/0451": expect(
            3, DeviceKind.DESKTOP, manufacturer="Lenovo", model="ThinkCentre M720s", serial_number="MJ0ABC12",
            purchase_date=date(2018, 11, 12), purchase_price=Decimal("2870.40"),
            location="Urząd Stanu Cywilnego, ul. Żeromskiego 7, Łódź", funding_source=FundingSource.OWN_BUDGET,
            media=[(MediumKind.HDD, 500, "Z9A1B2C3")]),
        "UM/IT/2018/0452": expect(
            4, DeviceKind.PHONE, manufacturer="Samsung", model="Galaxy A40", serial_number="R58M12ABCDE",
            purchase_date=date(2018, 12, 3), purchase_price=Decimal("899.00"),
            location="Straż Miejska, ul. Księży Młyn 2, Łódź", funding_source=FundingSource.EU_FUNDS,
            notes="Służbowy, komendant", media=[(MediumKind.EMMC, 64, "")]),
    },
    "spis_utf8_przecinek.csv": {
        "UM/IT/2022/0007": expect(
            2, DeviceKind.LAPTOP, manufacturer="HP", model="ProBook 450 G8", serial_number="5CD1234ABC",
            purchase_date=date(2022, 2, 14), purchase_price=Decimal("2499.99"), location="Biuro Rady Miasta, pok. 12",
            notes="Żółta naklejka na klapie", media=[(MediumKind.NVME, 512, "S5H7NX0R445566")]),
        "UM/IT/2022/0008": expect(
            3, DeviceKind.TABLET, manufacturer="Lenovo", model="Tab P11", serial_number="HA1XYZ98",
            purchase_date=date(2022, 3, 1), purchase_price=Decimal("1399.00"), location="Biuro Prezydenta",
            media=[(MediumKind.EMMC, 128, "")]),
        "UM/IT/2022/0009": expect(
            4, DeviceKind.ROUTER, manufacturer="TP-Link", model="Archer MR600", serial_number="22153A0012345",
            purchase_date=date(2022, 3, 1), purchase_price=Decimal("459.90"),
            location="Filia biblioteki, ul. Łąkowa 3, Łódź"),
    },
    "spis.xlsx": {
        "UM/IT/2019/0301": expect(
            2, DeviceKind.LAPTOP, manufacturer="Dell", model="Latitude 5400", serial_number="3QK9BX2",
            purchase_date=date(2019, 5, 1), purchase_price=Decimal("3999.00"), warranty_ends_on=date(2022, 5, 1),
            location="Wydział Edukacji, pok. 210", notes="Zażółć gęślą jaźń",
            media=[(MediumKind.SSD, 256, "S4EWNX0R111222")]),
        "UM/IT/2019/0302": expect(
            3, DeviceKind.DESKTOP, manufacturer="HP", model="EliteDesk 800 G4", serial_number="CZC9012345",
            purchase_date=date(2019, 6, 17), purchase_price=Decimal("2449.99"), warranty_ends_on=date(2022, 6, 17),
            location="Biuro Rady Miasta, pok. 12", media=[(MediumKind.HDD, 1000, "WD-WX11A2B3C4D5")]),
        "UM/IT/2020/0303": expect(
            5, DeviceKind.MONITOR, manufacturer="Lenovo", model="ThinkVision T24i", serial_number="20123456",
            purchase_date=date(2020, 2, 3), purchase_price=Decimal("749.50"), warranty_ends_on=date(2023, 2, 3),
            location="Sekretariat Prezydenta, pok. 3"),
    },
}


# -- the real-world formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REAL_WORLD))
def test_a_real_world_file_previews_every_row_to_create_and_writes_nothing(name, it_user):
    before = register_state()

    batch = preview(name, by=it_user)

    expected = REAL_WORLD[name]
    assert counts(batch) == {"total": len(expected), "created": len(expected), "updated": 0, "unchanged": 0,
                             "invalid": 0}
    assert batch.preview["created"] == [{"row": row, "key": key} for key, (row, _values) in expected.items()]
    assert batch.preview["errors"] == [] and batch.preview["errors_total"] == 0
    assert batch.preview["unknown_columns"] == [] and batch.preview["ignored_columns"] == []
    assert batch.status == ImportStatus.PREVIEWED and batch.created_by == it_user
    assert register_state() == before


def test_the_preview_names_the_columns_as_the_file_heads_them(it_user):
    cp1250 = preview("spis_cp1250.csv", by=it_user).preview
    assert cp1250["format"] == {"kind": "csv", "encoding": "cp1250", "delimiter": ";"}
    assert cp1250["columns"]["kind"] == "Rodzaj sprzętu"
    assert cp1250["columns"]["purchase_price"] == "Wartość początkowa"
    assert cp1250["columns"]["location"] == "Miejsce użytkowania"
    assert cp1250["columns"]["funding_source"] == "Źródło finansowania"
    assert cp1250["columns"]["media"] == "Nośniki danych"
    bom = preview("spis_utf8_bom_srednik.csv", by=it_user).preview
    assert bom["format"] == {"kind": "csv", "encoding": "utf-8-sig", "delimiter": ";"}
    assert bom["columns"]["inventory_number"] == "Numer inwentarzowy"  # no BOM left in the first name
    assert preview("spis_utf8_przecinek.csv").preview["format"] == {"kind": "csv", "encoding": "utf-8",
                                                                     "delimiter": ","}
    xlsx = preview("spis.xlsx").preview
    assert xlsx["format"]["kind"] == "xlsx" and xlsx["columns"]["warranty_ends_on"] == "Gwarancja do"


@pytest.mark.parametrize("name", list(REAL_WORLD))
def test_confirming_a_real_world_file_registers_each_device_as_written(name, it_user):
    batch = preview(name, by=it_user)

    applied = confirm(batch, by=it_user)

    assert applied.status == ImportStatus.APPLIED and applied.decided_by == it_user
    expected = REAL_WORLD[name]
    assert Device.objects.count() == len(expected)
    for number, (row, values) in expected.items():
        assert device_values(number) == values, number
        device = Device.objects.get(inventory_number=number)
        reason = f"import #{batch.pk}, row {row}"
        created = device.history.get()
        assert (created.history_type, created.history_change_reason, created.history_user) == ("+", reason, it_user)
        assert _tracked(created, Device) == _tracked(device, Device), "the history row holds the device as written"
        event = device.events.get()
        assert (event.from_status, event.to_status, event.actor, event.import_batch) == (
            "", DeviceStatus.IN_STOCK, it_user, batch)
        assert event.reason == f"registered by import #{batch.pk}, row {row}"
        for medium in device.media.all():
            assert [h.history_change_reason for h in medium.history.all()] == [reason]
            assert _tracked(medium.history.get(), StorageMedium) == _tracked(medium, StorageMedium)
    assert DeviceEvent.objects.count() == len(expected)
    assert StorageMedium.objects.count() == sum(len(values["media"]) for _row, values in expected.values())


def test_prices_and_dates_are_exact(it_user):
    confirm(preview("spis.xlsx", by=it_user), by=it_user)
    device = Device.objects.get(inventory_number="UM/IT/2019/0302")
    # 2449.99 is a float in the workbook; the register keeps the amount the clerk saw, not its binary cousin.
    assert device.purchase_price == Decimal("2449.99") and isinstance(device.purchase_price, Decimal)
    assert device.warranty_ends_on == date(2022, 6, 17)  # an Excel serial number (44729) in the sheet
    assert Device.objects.get(inventory_number="UM/IT/2020/0303").serial_number == "20123456"  # not "20123456.0"


@pytest.mark.parametrize("name", [*REAL_WORLD, "snipeit_assets.csv"])
def test_importing_the_same_file_again_changes_nothing(name, it_user):
    table = "snipeit_assets" if name.startswith("snipeit") else "devices"
    if table == "snipeit_assets":
        register_infolab_contract()
    confirm(preview(name, by=it_user, table=table), by=it_user)
    before = register_state()

    again = preview(name, by=it_user, table=table)

    assert counts(again) == {"total": again.rows_total, "created": 0, "updated": 0, "unchanged": again.rows_total,
                             "invalid": 0}
    assert again.rows_total == Device.objects.count()
    confirm(again, by=it_user)
    assert register_state() == before


# -- files that are no table --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "code"), [
    ("not_a_table.pdf", "not_a_table"),
    ("image.png", "not_a_table"),
    ("empty.csv", "empty_file"),
    ("only_blank_lines.csv", "empty_file"),
    ("header_matches_nothing.csv", "no_known_columns"),
])
def test_a_file_that_is_no_inventory_is_refused_on_the_file_and_nothing_is_kept(name, code, it_user):
    make_device()
    before = register_state()

    with pytest.raises(InvalidInput) as refused:
        preview(name, by=it_user)

    assert (refused.value.field, refused.value.code) == ("file", code)
    assert refused.value.message
    assert register_state() == before
    assert not ImportBatch.objects.exists()


def test_the_refusal_says_what_is_wrong_with_the_file():
    messages = {}
    for name in ("not_a_table.pdf", "empty.csv", "header_matches_nothing.csv"):
        with pytest.raises(InvalidInput) as refused:
            preview(name)
        messages[name] = refused.value.message
    assert messages["not_a_table.pdf"] == "The file is neither CSV nor XLSX."
    assert messages["empty.csv"] == "The file is empty."
    assert messages["header_matches_nothing.csv"].startswith(
        "None of the columns “Kolor”, “Waga”, “Rozmiar” matches")
    assert "numer inwentarzowy" in messages["header_matches_nothing.csv"]


# -- rows that are wrong ------------------------------------------------------------------------------------


def assert_refused_and_nothing_written(batch: ImportBatch, before: dict) -> None:
    """A preview with invalid rows wrote nothing, and its confirmation is refused and writes nothing either."""
    assert register_state() == before
    with pytest.raises(GuardFailed) as refused:
        confirm(batch)
    assert (refused.value.code, refused.value.field) == ("invalid_rows", "skip_invalid")
    assert str(batch.rows_invalid) in refused.value.message
    assert register_state() == before
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEWED


def test_cells_that_are_no_date_price_kind_or_disk_are_reported_by_row_and_column(it_user):
    before = register_state()

    batch = preview("bledne_wartosci.csv", by=it_user)

    assert counts(batch) == {"total": 7, "created": 2, "updated": 0, "unchanged": 0, "invalid": 5}
    assert batch.preview["errors"] == [
        {"row": 3, "column": "Data zakupu", "value": "31.02.2020", "reason": "no such day in the calendar"},
        {"row": 4, "column": "Cena zakupu", "value": "-150,00",
         "reason": "Ensure this value is greater than or equal to 0."},
        {"row": 5, "column": "Cena zakupu", "value": "dużo", "reason": "not a number"},
        {"row": 6, "column": "Rodzaj", "value": "Drukarka 3D",
         "reason": "not one of: laptop, tablet, desktop, monitor, router, phone, other"},
        {"row": 7, "column": "Nośniki", "value": "ssd:dużo:S4EVNX0N700005", "reason": "“ssd:dużo:S4EVNX0N700005” needs a capacity in GB of at least 1"},
    ]
    assert batch.preview["errors_total"] == 5
    assert batch.preview["created"] == [{"row": 2, "key": "UM/IT/2020/0700"}, {"row": 8, "key": "UM/IT/2020/0706"}]
    assert_refused_and_nothing_written(batch, before)


def test_an_inventory_number_twice_in_the_file_names_both_rows(it_user):
    before = register_state()

    batch = preview("duplicates_in_file.csv", by=it_user)

    assert counts(batch) == {"total": 4, "created": 2, "updated": 0, "unchanged": 0, "invalid": 2}
    assert batch.preview["errors"] == [
        {"row": 4, "column": "Numer seryjny", "value": "cn0f1g2h",
         "reason": "another device of this manufacturer has this serial number, in row 3"},
        {"row": 5, "column": "Numer inwentarzowy", "value": "UM/IT/2021/0001",
         "reason": "the inventory number is already in row 2 of this file"},
    ]
    assert_refused_and_nothing_written(batch, before)


def test_a_serial_number_already_registered_for_the_manufacturer_is_refused(it_user):
    make_device(inventory_number="UM/IT/2017/0099", kind=DeviceKind.DESKTOP, manufacturer="DELL",
                model="OptiPlex 3050", serial_number="5xj8k53")
    # The same serial number from another manufacturer is another device.
    make_device(inventory_number="UM/IT/2017/0100", manufacturer="HP", serial_number="PF1ABC12")
    before = register_state()

    batch = preview("spis_utf8_bom_srednik.csv", by=it_user)

    assert counts(batch) == {"total": 4, "created": 3, "updated": 0, "unchanged": 0, "invalid": 1}
    assert batch.preview["errors"] == [
        {"row": 3, "column": "Numer seryjny", "value": "5XJ8K53",
         "reason": "another device of this manufacturer has this serial number: UM/IT/2017/0099"},
    ]
    assert_refused_and_nothing_written(batch, before)


def test_a_disk_already_registered_in_another_device_is_refused(it_user):
    other = make_device(inventory_number="UM/IT/2017/0101", kind=DeviceKind.DESKTOP, manufacturer="Dell")
    make_medium(device=other, kind=MediumKind.SSD, capacity_gb=512, serial_number="S4EWNX0M654321")
    before = register_state()

    batch = preview("spis_utf8_bom_srednik.csv", by=it_user)

    assert counts(batch) == {"total": 4, "created": 3, "updated": 0, "unchanged": 0, "invalid": 1}
    assert batch.preview["errors"] == [
        {"row": 3, "column": "Nośniki", "value": "S4EWNX0M654321",
         "reason": "a storage medium with this serial number is already registered, in UM/IT/2017/0101"},
    ]
    assert_refused_and_nothing_written(batch, before)


def test_an_inventory_number_already_registered_is_an_update_of_that_device(it_user):
    existing = make_device(inventory_number="UM/IT/2019/0012", kind=DeviceKind.LAPTOP, manufacturer="Lenovo",
                           model="ThinkPad T490", serial_number="PF1ABC12", purchase_date=date(2019, 5, 15),
                           purchase_price=Decimal("3999.00"), location="Magazyn IT, pok. 1",
                           notes="Zażółć gęślą jaźń")

    batch = preview("spis_utf8_bom_srednik.csv", by=it_user)

    assert counts(batch) == {"total": 4, "created": 3, "updated": 1, "unchanged": 0, "invalid": 0}
    assert batch.preview["updated"] == [{"row": 2, "key": "UM/IT/2019/0012", "fields": ["location", "media"]}]
    confirm(batch, by=it_user)
    assert device_values("UM/IT/2019/0012") == REAL_WORLD["spis_utf8_bom_srednik.csv"]["UM/IT/2019/0012"][1]
    assert existing.events.count() == 1  # still only its registration: an update is no move
    latest = existing.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_change_reason, latest.history_user) == (
        "~", f"import #{batch.pk}, row 2", it_user)


def test_with_new_records_only_an_inventory_number_already_registered_is_refused_and_nothing_written(it_user):
    make_device(inventory_number="UM/IT/2019/0012", manufacturer="Lenovo", model="ThinkPad T490",
                serial_number="PF1ABC12")
    before = register_state()

    batch = import_preview(table="devices", file=io.BytesIO(sample("spis_utf8_bom_srednik.csv")),
                           file_name="dostawa.csv", by=it_user, only_new=True)

    assert counts(batch) == {"total": 4, "created": 3, "updated": 0, "unchanged": 0, "invalid": 1}
    assert batch.preview["errors"] == [{
        "row": 2, "column": "Numer inwentarzowy", "value": "UM/IT/2019/0012",
        "reason": "already registered (UM/IT/2019/0012 — Lenovo ThinkPad T490); this import takes new records only"}]
    with pytest.raises(GuardFailed) as refused:
        confirm(batch, by=it_user)
    assert refused.value.field == "skip_invalid"
    assert register_state() == before


def test_a_contract_not_registered_is_reported_on_its_column(it_user):
    supplier = make_supplier(nip=NIP_REGISTERED, name=SUPPLIER_NAME)
    make_contract(supplier=supplier, number="BRM/271/7/2020", signed_on=date(2020, 4, 10))
    make_contract(number="BRM/271/8/2020", signed_on=date(2020, 4, 10))  # the same number, another supplier's
    before = register_state()

    batch = preview("unknown_contract.csv", by=it_user)

    assert counts(batch) == {"total": 3, "created": 1, "updated": 0, "unchanged": 0, "invalid": 2}
    assert batch.preview["errors"] == [
        {"row": 3, "column": "Numer umowy", "value": "BRM/271/8/2020",
         "reason": "this supplier has no contract with this number"},
        {"row": 4, "column": "Numer umowy", "value": "ZP/999/2020",
         "reason": "no contract with this number is registered"},
    ]
    assert_refused_and_nothing_written(batch, before)


def test_a_supplier_not_registered_is_reported_on_its_column(it_user):
    make_contract(supplier=make_supplier(nip=NIP_REGISTERED, name=SUPPLIER_NAME), number="BRM/271/7/2020",
                  signed_on=date(2020, 4, 10))
    before = register_state()

    batch = preview("unknown_supplier.csv", by=it_user)

    assert counts(batch) == {"total": 2, "created": 0, "updated": 0, "unchanged": 0, "invalid": 2}
    assert batch.preview["errors"] == [
        {"row": 2, "column": "Dostawca", "value": "525-100-00-75",
         "reason": "no supplier with this NIP or name is registered"},
        {"row": 3, "column": "Dostawca", "value": "Hurtownia Komputerowa „Bałtyk” s.c.",
         "reason": "no supplier with this NIP or name is registered"},
    ]
    assert_refused_and_nothing_written(batch, before)


def test_a_contract_by_its_number_and_the_nip_written_with_dashes(it_user):
    supplier = make_supplier(nip=NIP_REGISTERED, name=SUPPLIER_NAME)
    contract = make_contract(supplier=supplier, number="BRM/271/7/2020", signed_on=date(2020, 4, 10))

    batch = preview("unknown_contract.csv", by=it_user, skip_invalid=True)
    confirm(batch, by=it_user)

    device = Device.objects.get(inventory_number="UM/IT/2020/0500")
    assert device.contract == contract
    assert not Device.objects.filter(inventory_number__in=["UM/IT/2020/0501", "UM/IT/2020/0502"]).exists()


def test_a_supplier_named_with_polish_capitals_is_found_by_its_name(it_user):
    """A supplier by its name exactly as registered, "Łódź" and all (the contract's number alone is not enough:
    another supplier has one with the same number)."""
    supplier = make_supplier(nip=NIP_REGISTERED, name=SUPPLIER_NAME)
    contract = make_contract(supplier=supplier, number="BRM/271/7/2020", signed_on=date(2020, 4, 10))
    make_contract(number="BRM/271/7/2020", signed_on=date(2020, 4, 10))

    batch = preview("supplier_by_name.csv", by=it_user)

    assert batch.preview["errors"] == []
    assert counts(batch) == {"total": 2, "created": 2, "updated": 0, "unchanged": 0, "invalid": 0}
    confirm(batch, by=it_user)
    assert set(Device.objects.values_list("contract", flat=True)) == {contract.pk}


def test_a_supplier_name_is_found_in_any_case_in_every_row(it_user):
    """"by their exact name (case aside)": two rows naming the same supplier in two cases both find it."""
    supplier = make_supplier(nip=NIP_REGISTERED, name="Infolab Sp. z o.o.")
    contract = make_contract(supplier=supplier, number="BRM/271/7/2020", signed_on=date(2020, 4, 10))
    make_contract(number="BRM/271/7/2020", signed_on=date(2020, 4, 10))

    batch = preview("supplier_name_case.csv", by=it_user)

    assert batch.preview["errors"] == []
    assert counts(batch) == {"total": 2, "created": 2, "updated": 0, "unchanged": 0, "invalid": 0}
    confirm(batch, by=it_user)
    assert set(Device.objects.values_list("contract", flat=True)) == {contract.pk}


def test_a_supplier_nip_is_found_in_any_notation_in_every_row(it_user):
    """Two rows naming the same supplier by its NIP, with and without dashes, both find it."""
    supplier = make_supplier(nip=NIP_REGISTERED, name=SUPPLIER_NAME)
    contract = make_contract(supplier=supplier, number="BRM/271/7/2020", signed_on=date(2020, 4, 10))
    make_contract(number="BRM/271/7/2020", signed_on=date(2020, 4, 10))

    batch = preview("supplier_nip_notations.csv", by=it_user)

    assert batch.preview["errors"] == []
    assert counts(batch) == {"total": 2, "created": 2, "updated": 0, "unchanged": 0, "invalid": 0}
    confirm(batch, by=it_user)
    assert set(Device.objects.values_list("contract", flat=True)) == {contract.pk}


# -- skipping invalid rows ----------------------------------------------------------------------------------


def test_skip_invalid_writes_the_valid_rows_and_keeps_the_invalid_ones_in_the_batch(it_user):
    before = register_state()
    batch = preview("bledne_wartosci.csv", by=it_user, skip_invalid=True)
    assert counts(batch) == {"total": 7, "created": 2, "updated": 0, "unchanged": 0, "invalid": 5}
    assert register_state() == before

    applied = confirm(batch, by=it_user)

    assert applied.status == ImportStatus.APPLIED
    assert sorted(Device.objects.values_list("inventory_number", flat=True)) == ["UM/IT/2020/0700", "UM/IT/2020/0706"]
    assert device_values("UM/IT/2020/0700")["media"] == [(MediumKind.SSD, 256, "S4EVNX0N700001")]
    assert device_values("UM/IT/2020/0706")["media"] == [(MediumKind.EMMC, 64, "")]
    assert DeviceEvent.objects.count() == 2 and StorageMedium.objects.count() == 2
    assert [error["row"] for error in applied.preview["errors"]] == [3, 4, 5, 6, 7]
    assert applied.rows_invalid == 5 and applied.rows_created == 2
    assert [h.history_change_reason for h in Device.history.order_by("history_id")] == [
        f"import #{batch.pk}, row 2", f"import #{batch.pk}, row 8"]


# -- updating by inventory number ---------------------------------------------------------------------------


def changed_cell(name: str, old: str, new: str, *, encoding: str = "utf-8") -> bytes:
    content = sample(name)
    assert content.count(old.encode(encoding)) == 1
    return content.replace(old.encode(encoding), new.encode(encoding))


def test_one_changed_cell_is_exactly_one_update_with_its_row_in_the_history(it_user):
    first = confirm(preview("spis_utf8_bom_srednik.csv", by=it_user), by=it_user)
    monitor = Device.objects.get(inventory_number="UM/IT/2020/0101")
    others = {d.pk: d.history.count() for d in Device.objects.exclude(pk=monitor.pk)}
    events = DeviceEvent.objects.count()
    media = list(StorageMedium.objects.order_by("id").values())
    content = changed_cell("spis_utf8_bom_srednik.csv", "Sekretariat Prezydenta, pok. 3 ;",
                           "Sekretariat Prezydenta, pok. 4;")

    batch = preview("spis_utf8_bom_srednik.csv", by=it_user, content=content)

    assert counts(batch) == {"total": 4, "created": 0, "updated": 1, "unchanged": 3, "invalid": 0}
    assert batch.preview["updated"] == [{"row": 6, "key": "UM/IT/2020/0101", "fields": ["location"]}]
    assert Device.objects.get(pk=monitor.pk).location == "Sekretariat Prezydenta, pok. 3"  # a dry run
    confirm(batch, by=it_user)
    monitor.refresh_from_db()
    assert monitor.location == "Sekretariat Prezydenta, pok. 4"
    assert batch.pk != first.pk
    latest = monitor.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_change_reason, latest.history_user) == (
        "~", f"import #{batch.pk}, row 6", it_user)
    assert monitor.history.count() == 2
    assert {d.pk: d.history.count() for d in Device.objects.exclude(pk=monitor.pk)} == others
    assert DeviceEvent.objects.count() == events
    assert list(StorageMedium.objects.order_by("id").values()) == media


def test_a_new_disk_in_a_known_device_is_added_and_none_taken_away(it_user):
    confirm(preview("spis_utf8_bom_srednik.csv", by=it_user), by=it_user)
    content = changed_cell("spis_utf8_bom_srednik.csv", ";emmc:32:", ";emmc:32:|flash_card:128:SD-ŁÓDŹ-01")

    batch = preview("spis_utf8_bom_srednik.csv", by=it_user, content=content)

    assert batch.preview["updated"] == [{"row": 7, "key": "UM/IT/2020/0102", "fields": ["media"]}]
    confirm(batch, by=it_user)
    tablet = Device.objects.get(inventory_number="UM/IT/2020/0102")
    assert media_of(tablet) == [(MediumKind.EMMC, 32, ""), (MediumKind.FLASH_CARD, 128, "SD-ŁÓDŹ-01")]
    added = tablet.media.get(serial_number="SD-ŁÓDŹ-01")
    assert added.history.get().history_change_reason == f"import #{batch.pk}, row 7"
    # A file without the media column leaves every disk where it is.
    without_media = "\r\n".join(line.rsplit(";", 1)[0] for line in content.decode("utf-8-sig").split("\r\n"))
    again = preview("spis_utf8_bom_srednik.csv", by=it_user, content=without_media.encode("utf-8"))
    assert counts(again)["unchanged"] == 4


def scrap(device: Device, *, it_user, make_user) -> Device:
    """Take a device out of the register the way the office does: retire, wipe, hand over as e-waste."""
    from donations import services as donation_services
    from donations.choices import OrderKind

    services.device_retire(device=device, by=it_user, retirement_reason=RetirementReason.OBSOLETE)
    sanitize(device, technician=it_user, validator=make_user(Role.IT_OFFICE))
    order = make_order(kind=OrderKind.LIQUIDATION, annex_devices=[device])
    donation_services.liquidation_record(
        order=order, devices=[device], by=it_user, handed_over_on=date(2021, 9, 1),
        collector_name="Eko-Łódź Sp. z o.o.", collector_bdo="000012345", kpo_number="KPO/2021/000123",
        mass_kg=Decimal("2.100"))
    device.refresh_from_db()
    assert device.status == DeviceStatus.SCRAPPED
    return device


def test_a_device_that_has_left_the_register_takes_only_a_change_of_notes(it_user, make_user):
    confirm(preview("spis_utf8_bom_srednik.csv", by=it_user), by=it_user)
    laptop = scrap(Device.objects.get(inventory_number="UM/IT/2019/0012"), it_user=it_user, make_user=make_user)
    assert counts(preview("spis_utf8_bom_srednik.csv", by=it_user))["unchanged"] == 4  # as it was: nothing to refuse
    before = register_state()

    moved = preview("spis_utf8_bom_srednik.csv", by=it_user, content=changed_cell(
        "spis_utf8_bom_srednik.csv", "Biuro Rady Miasta, pok. 12 ;", "Magazyn IT, pok. 1;"))
    new_disk = preview("spis_utf8_bom_srednik.csv", by=it_user, content=changed_cell(
        "spis_utf8_bom_srednik.csv", ";ssd:256:S4EWNX0M123456", ";ssd:256:S4EWNX0M123456|hdd:500:WD-NOWY-01"))

    refusal = "The device has left the register (scrapped); only its notes can be changed."
    assert counts(moved) == {"total": 4, "created": 0, "updated": 0, "unchanged": 3, "invalid": 1}
    assert moved.preview["errors"] == [
        {"row": 2, "column": "Lokalizacja", "value": "Magazyn IT, pok. 1", "reason": refusal}]
    assert new_disk.preview["errors"] == [
        {"row": 2, "column": "Nośniki", "value": "ssd:256:S4EWNX0M123456|hdd:500:WD-NOWY-01", "reason": refusal}]
    assert_refused_and_nothing_written(moved, before)

    noted = preview("spis_utf8_bom_srednik.csv", by=it_user, content=changed_cell(
        "spis_utf8_bom_srednik.csv", "Zażółć gęślą jaźń;", "Zezłomowany, protokół LIK/2021;"))
    assert noted.preview["updated"] == [{"row": 2, "key": "UM/IT/2019/0012", "fields": ["notes"]}]
    confirm(noted, by=it_user)
    laptop.refresh_from_db()
    assert (laptop.notes, laptop.status, laptop.location) == (
        "Zezłomowany, protokół LIK/2021", DeviceStatus.SCRAPPED, "Biuro Rady Miasta, pok. 12")


# -- Snipe-IT -----------------------------------------------------------------------------------------------


def register_infolab_contract() -> Contract:
    supplier = make_supplier(nip="9591000018", name="Infolab Sp. z o.o.")
    return make_contract(supplier=supplier, number="ZP/271/15/2021", signed_on=date(2021, 3, 1))


SNIPEIT = {
    "UMŁ/IT/2021/0001": expect(
        2, DeviceKind.LAPTOP, manufacturer="Lenovo", model="ThinkPad E14 Gen 2", serial_number="PF2XK1L7",
        purchase_date=date(2021, 3, 15), purchase_price=Decimal("3299.00"), contract="ZP/271/15/2021",
        warranty_ends_on=date(2024, 3, 15), location="Biuro Rady Miasta, pok. 12",
        notes="Radna Żaneta Łęcka, sesje rady"),
    "UMŁ/IT/2021/0002": expect(
        3, DeviceKind.MONITOR, manufacturer="Dell", model="P2422H", serial_number="CN0ABC12",
        purchase_date=date(2021, 3, 15), purchase_price=Decimal("1299.00"), contract="ZP/271/15/2021",
        warranty_ends_on=date(2024, 3, 15), location="Biuro Rady Miasta, pok. 12"),
    "UMŁ/IT/2021/0003": expect(
        4, DeviceKind.TABLET, manufacturer="Samsung", model="Galaxy Tab S6 Lite", serial_number="R52R30ABCDE",
        purchase_date=date(2021, 6, 1), purchase_price=Decimal("849.00"), warranty_ends_on=date(2023, 6, 1),
        location="Sekretariat Prezydenta, pok. 3", notes="Zażółć gęślą jaźń"),
    "UMŁ/IT/2020/0107": expect(
        5, DeviceKind.DESKTOP, manufacturer="HP", model="ProDesk 400 G7", serial_number="CZC0123ABC",
        purchase_date=date(2020, 11, 30), purchase_price=Decimal("2450.50"),
        location="Wydział Komunikacji, ul. Piotrkowska 104, Łódź"),
}


def test_a_snipeit_asset_export_imports_through_its_own_columns(it_user):
    register_infolab_contract()
    before = register_state()

    batch = preview("snipeit_assets.csv", by=it_user, table="snipeit_assets")

    assert register_state() == before
    assert counts(batch) == {"total": 4, "created": 4, "updated": 0, "unchanged": 0, "invalid": 0}
    assert batch.preview["created"] == [{"row": row, "key": key} for key, (row, _values) in SNIPEIT.items()]
    assert batch.preview["unknown_columns"] == ["Company", "Name", "Model Number"]
    assert batch.preview["ignored_columns"] == [{
        "column": "Status",
        "reason": "a device's status changes only through its lifecycle (loans, repairs, retirement…), "
                  "never by an import"}]
    assert "Status" not in batch.preview["columns"].values()
    assert batch.preview["columns"]["kind"] == "Category" and batch.preview["columns"]["contract"] == "Order Number"

    confirm(batch, by=it_user)

    for number, (_row, values) in SNIPEIT.items():
        assert device_values(number) == values, number  # in stock whatever Snipe-IT's status said
    kept = [str(value) for row in Device.objects.values() for value in row.values()]
    for dropped in ("Urząd Miasta Łodzi", "LAP-BRM-01", "20TA002MPB", "Deployed"):
        assert not any(dropped in value for value in kept)


def test_a_snipeit_order_number_must_be_a_registered_contract(it_user):
    make_supplier(nip="9591000018", name="Infolab Sp. z o.o.")
    before = register_state()

    batch = preview("snipeit_assets.csv", by=it_user, table="snipeit_assets")

    assert counts(batch) == {"total": 4, "created": 2, "updated": 0, "unchanged": 0, "invalid": 2}
    assert batch.preview["errors"] == [
        {"row": row, "column": "Order Number", "value": "ZP/271/15/2021",
         "reason": "this supplier has no contract with this number"} for row in (2, 3)]
    assert_refused_and_nothing_written(batch, before)


def test_a_purchase_date_before_the_devices_own_contract_is_refused_when_the_file_leaves_the_contract_out(it_user):
    contract = make_contract(signed_on=date(2020, 3, 1))
    make_device(inventory_number="UM/IT/2020/0500", contract=contract, purchase_date=date(2020, 4, 15))
    content = "inventory_number;purchase_date\nUM/IT/2020/0500;15.01.2020\n".encode()

    batch = preview("korekta.csv", content=content, by=it_user)

    assert batch.preview["errors"] == [{
        "row": 2, "column": "purchase_date", "value": "15.01.2020",
        "reason": "The purchase date cannot be earlier than the contract's signing date."}]
