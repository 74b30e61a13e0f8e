"""The export half of import and export: every table as CSV, XLSX and JSON, headed by the field names,
natural keys instead of ids, dates in ISO form and exact amounts, and a CSV that core.tabular reads back
with the same values (the round trip the import relies on). From the resources and from the admin."""
import io
import json
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assets.choices import DeviceKind, FundingSource, MediumKind
from assets.models import Contract, Device, Supplier
from core.roles import Role
from core.tabular import ColumnMap, read_rows
from donations.models import Beneficiary, MayoralOrder
from assets.resources import ContractResource, DeviceResource, SupplierResource
from donations.resources import BeneficiaryResource, OrderAnnexResource
from tests.factories import (
    make_beneficiary,
    make_contract,
    make_councillor,
    make_device,
    make_medium,
    make_order,
    make_project,
    make_supplier,
)

pytestmark = pytest.mark.django_db

DEVICE_HEADERS = ["inventory_number", "kind", "manufacturer", "model", "serial_number", "purchase_date",
                  "purchase_price", "contract", "supplier", "funding_source", "warranty_ends_on", "location",
                  "managed_by", "managing_vendor", "expected_life_years", "kit", "status", "notes", "media"]
FORMATS = {"csv": "0", "xlsx": "1", "json": "2"}  # the admin form's choices, in RegisterExportMixin's order


@pytest.fixture
def register():
    """A supplier and a contract with Polish names, a device bought under it with two disks, and one without."""
    supplier = make_supplier(name="Przedsiębiorstwo Handlowe „Łódź” Sp. z o.o.", address="ul. Żółkiewskiego 5, Łódź")
    contract = make_contract(supplier=supplier, number="ZP/271/ąę/2020", value=Decimal("12345.67"),
                             subject="Dostawa laptopów dla uczniów", funding_source=FundingSource.EU_FUNDS)
    device = make_device(inventory_number="UM/2020/ŁÓDŹ/1", kind=DeviceKind.LAPTOP, manufacturer="Dell",
                         model="Latitude 5410", purchase_date=date(2020, 4, 15), purchase_price=Decimal("2890.10"),
                         contract=contract, location="Pokój 12, Wydział Świadczeń", notes="Zażółć gęślą jaźń")
    make_medium(device=device, kind=MediumKind.HDD, capacity_gb=500, serial_number="WD-Ą1")
    make_medium(device=device, kind=MediumKind.SSD, capacity_gb=256, serial_number="S4|X")
    bare = make_device(inventory_number="UM/2020/2", purchase_price=Decimal("100.00"), location="")
    return {"supplier": supplier, "contract": contract, "device": device, "bare": bare}


def _csv_rows(data: str | bytes, headers: list[str]) -> list[dict]:
    """The rows as the import will read them: through core.tabular with the field names as the column map."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    with read_rows(io.BytesIO(content), filename="export.csv", columns=ColumnMap({h: [] for h in headers})) as reading:
        return [row.values for row in reading]


def _xlsx_rows(content: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _device_row(dataset, inventory_number: str) -> dict:
    return next(row for row in dataset.dict if row["inventory_number"] == inventory_number)


# -- the resources --------------------------------------------------------------------------------------


def test_device_export_headers_values_and_natural_keys(register):
    dataset = DeviceResource().export(Device.objects.all())
    assert dataset.headers == DEVICE_HEADERS
    row = _device_row(dataset, "UM/2020/ŁÓDŹ/1")
    assert row["purchase_date"] == "2020-04-15"
    assert row["purchase_price"] == "2890.10"
    assert row["contract"] == "ZP/271/ąę/2020"
    assert row["supplier"] == register["supplier"].nip
    assert row["kind"] == "laptop" and row["status"] == register["device"].status
    assert row["kit"] == "" and row["managing_vendor"] == "" and row["warranty_ends_on"] == ""
    assert row["media"] == "hdd:500:WD-Ą1|ssd:256:S4\\|X"  # a "|" inside a serial is escaped
    bare = _device_row(dataset, "UM/2020/2")
    assert bare["media"] == "" and bare["contract"] == "" and bare["supplier"] == ""
    ids = {str(register["contract"].pk), str(register["supplier"].pk)}
    assert not ids & {row["contract"], row["supplier"]}


def test_removed_media_are_not_exported(register):
    medium = register["device"].media.get(serial_number="WD-Ą1")
    type(medium).objects.filter(pk=medium.pk).update(removed_at="2024-01-01T00:00:00Z")
    assert _device_row(DeviceResource().export(Device.objects.all()), "UM/2020/ŁÓDŹ/1")["media"] == "ssd:256:S4\\|X"


def test_device_csv_reads_back_through_tabular(register):
    dataset = DeviceResource().export(Device.objects.all())
    rows = _csv_rows(dataset.csv, DEVICE_HEADERS)
    # core.tabular strips and turns empty cells into None; otherwise every value comes back as exported.
    expected = [{key: (value or None) for key, value in row.items()} for row in dataset.dict]
    assert rows == expected
    assert any(row["notes"] == "Zażółć gęślą jaźń" for row in rows)


def test_device_xlsx_and_json_keep_polish_text(register):
    dataset = DeviceResource().export(Device.objects.all())
    sheet = _xlsx_rows(dataset.xlsx)
    assert sheet[0] == DEVICE_HEADERS
    cells = {row[0]: row for row in sheet[1:]}
    row = cells["UM/2020/ŁÓDŹ/1"]
    assert row[DEVICE_HEADERS.index("location")] == "Pokój 12, Wydział Świadczeń"
    assert row[DEVICE_HEADERS.index("purchase_price")] == "2890.10"
    assert row[DEVICE_HEADERS.index("purchase_date")] == "2020-04-15"
    with io.BytesIO(dataset.xlsx) as file, read_rows(file, filename="export.xlsx",
                                                     columns=ColumnMap({h: [] for h in DEVICE_HEADERS})) as reading:
        assert {r.values["inventory_number"] for r in reading} == {"UM/2020/ŁÓDŹ/1", "UM/2020/2"}
    records = json.loads(dataset.json)
    assert {r["inventory_number"]: r["notes"] for r in records}["UM/2020/ŁÓDŹ/1"] == "Zażółć gęślą jaźń"


@pytest.mark.parametrize("count", [2, 6])
def test_device_export_runs_a_fixed_number_of_queries(register, count, django_assert_num_queries):
    for _ in range(count - 2):
        make_medium(device=make_device())
    assert Device.objects.count() == count
    # a count for the paging, the devices with their contract, supplier, vendor and kit, and their media
    with django_assert_num_queries(3):
        dataset = DeviceResource().export(Device.objects.all())
    assert len(dataset) == count


def test_supplier_and_contract_exports(register):
    suppliers = SupplierResource().export(Supplier.objects.all())
    assert suppliers.headers == ["name", "nip", "regon", "address", "contact_person", "email", "phone", "notes"]
    assert suppliers.dict[0]["name"] == "Przedsiębiorstwo Handlowe „Łódź” Sp. z o.o."
    contracts = ContractResource().export(Contract.objects.all())
    assert contracts.headers == ["number", "supplier", "signed_on", "subject", "value", "funding_source",
                                 "funding_details", "procurement_basis", "notes"]
    row = contracts.dict[0]
    assert row["supplier"] == register["supplier"].nip and row["value"] == "12345.67"
    assert row["signed_on"] == "2020-04-10" and row["funding_source"] == "eu_funds"
    assert _csv_rows(contracts.csv, contracts.headers)[0]["number"] == "ZP/271/ąę/2020"
    assert _xlsx_rows(suppliers.xlsx)[1][3] == "ul. Żółkiewskiego 5, Łódź"


def test_beneficiary_export_has_contact_but_no_pesel():
    project = make_project(agreement_number="POIG.08.03.00-30-042/12")
    make_beneficiary(project, code="EI/GD/007", name="Gospodarstwo Łukasza Żółtego", email="zolty@example.pl",
                     qualified_on=date(2013, 9, 2))
    dataset = BeneficiaryResource().export(Beneficiary.objects.all())
    assert dataset.headers == ["project", "code", "kind", "name", "address", "email", "phone", "eligibility_basis",
                               "eligibility_reference", "qualified_on", "is_active"]
    row = dataset.dict[0]
    assert row["project"] == "POIG.08.03.00-30-042/12" and row["code"] == "EI/GD/007"
    assert row["name"] == "Gospodarstwo Łukasza Żółtego" and row["address"] == "ul. Słowiańska 5, 64-100 Leszno"
    assert row["qualified_on"] == "2013-09-02" and row["is_active"] == "true"
    assert not any("pesel" in header.lower() for header in dataset.headers)
    assert _csv_rows(dataset.csv, dataset.headers)[0]["name"] == "Gospodarstwo Łukasza Żółtego"


def test_order_annex_export_lists_devices_then_beneficiaries():
    project = make_project()
    devices = [make_device(inventory_number=f"UM/ANX/{n}") for n in (2, 1)]
    beneficiary = make_beneficiary(project, code="EI/GD/900")
    order = make_order(number="148/2021", project=project, annex_devices=devices, annex_beneficiaries=[beneficiary])
    make_order(number="149/2021", annex_devices=[make_device(inventory_number="UM/ANX/OTHER")])
    dataset = OrderAnnexResource().export(MayoralOrder.objects.filter(pk=order.pk))
    assert dataset.headers == ["order", "line", "inventory_number", "beneficiary"]
    assert [(r["order"], r["inventory_number"], r["beneficiary"]) for r in dataset.dict] == [
        ("148/2021", "UM/ANX/1", ""), ("148/2021", "UM/ANX/2", ""), ("148/2021", "", "EI/GD/900")]
    assert json.loads(dataset.json)[2]["beneficiary"] == "EI/GD/900"


def test_resources_refuse_to_import(register):
    with pytest.raises(NotImplementedError):
        DeviceResource().import_data(DeviceResource().export(Device.objects.all()))


# -- the admin ------------------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_export_action_downloads_the_selected_devices(register, it_user):
    client = _client(it_user)
    device = register["device"]
    page = client.post("/admin/assets/device/", {"action": "export_admin_action",
                                                 ACTION_CHECKBOX_NAME: [device.pk]})
    assert page.status_code == 200 and b'name="format"' in page.content
    for name, index in FORMATS.items():
        response = client.post("/admin/assets/device/export/", {"format": index, "resource": "0",
                                                                  "export_items": [device.pk]})
        assert response.status_code == 200, name
        assert response["Content-Disposition"].endswith(f'.{name}"')
        if name == "csv":
            assert response.content.startswith(b"\xef\xbb\xbf")  # a BOM, so that Polish Excel reads UTF-8
            rows = _csv_rows(response.content, DEVICE_HEADERS)
            assert [r["inventory_number"] for r in rows] == ["UM/2020/ŁÓDŹ/1"]
            assert rows[0]["media"] == "hdd:500:WD-Ą1|ssd:256:S4\\|X"
        elif name == "xlsx":
            sheet = _xlsx_rows(response.content)
            assert sheet[0] == DEVICE_HEADERS and sheet[1][0] == "UM/2020/ŁÓDŹ/1" and len(sheet) == 2
        else:
            assert [r["purchase_price"] for r in json.loads(response.content)] == ["2890.10"]


@pytest.mark.parametrize(("url", "first_header"), [
    ("/admin/assets/supplier/", "name"), ("/admin/assets/contract/", "number"),
    ("/admin/donations/beneficiary/", "project"), ("/admin/donations/mayoralorder/", "order")])
def test_other_tables_export_from_the_admin(register, it_user, make_user, url, first_header):
    project = make_project()
    order = make_order(project=project, annex_devices=[register["device"]],
                       annex_beneficiaries=[make_beneficiary(project, name="Szkoła Podstawowa nr 3 w Łodzi")])
    user = make_user(Role.IT_OFFICE, Role.PROJECT_MANAGER, Role.LEGAL_OFFICE)
    client = _client(user)
    assert client.get(url).status_code == 200
    response = client.post(f"{url}export/", {"format": FORMATS["csv"]})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].split(",")[0] == first_header
    if "mayoralorder" in url:
        assert order.number in text and register["device"].inventory_number in text


def test_auditor_exports_and_councillor_cannot(register, auditor, make_user):
    client = _client(auditor)
    listing = client.get("/admin/assets/device/")
    assert listing.status_code == 200 and b"/admin/assets/device/export/" in listing.content
    response = client.post("/admin/assets/device/export/", {"format": FORMATS["xlsx"]})
    assert response.status_code == 200
    assert {row[0] for row in _xlsx_rows(response.content)[1:]} == {"UM/2020/ŁÓDŹ/1", "UM/2020/2"}
    # a councillor is not staff: the admin sends them to log in, and nothing is exported
    councillor = make_councillor().user
    response = _client(councillor).post("/admin/assets/device/export/", {"format": FORMATS["csv"]})
    assert response.status_code == 302 and "/login/" in response["Location"]
    # staff without the view permission: no export either
    staff = make_user(Role.COUNCILLOR)
    assert _client(staff).post("/admin/assets/device/export/", {"format": FORMATS["csv"]}).status_code == 403


def test_device_admin_export_query_count_is_constant(register, it_user):
    client = _client(it_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.post("/admin/assets/device/export/", {"format": FORMATS["csv"]}).status_code == 200
        return len(captured)

    before = queries()
    for _ in range(4):
        make_medium(device=make_device())
    assert queries() == before
