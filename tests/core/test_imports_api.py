"""Imports of spreadsheets through the API: the dry run writes nothing and keeps the file with what it found;
the confirmation applies exactly that, proven by the file's SHA-256; every refusal is a 400 or 409 naming
its field, with nothing written.

The clients ask for English (api_en), so that the engine's reasons read as the code writes them."""
import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.choices import DeviceStatus
from assets.models import Device, DeviceEvent
from core.choices import ImportStatus
from core.models import ImportBatch
from core.roles import Role
from tests.factories import UserFactory, make_device

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parent / "samples"
URL = "/api/imports/"

HEADER = "inventory_number;kind;manufacturer;model;serial_number;purchase_date;purchase_price;status;Pokój\n"
VALID = (HEADER
         + "UM/IMP/001;laptop;Dell;Latitude 5400;DL-001;2021-03-01;3500,00;w użyciu;12\n"
         + "UM/IMP/002;tablet;Samsung;Galaxy Tab S6;SM-002;01.02.2021;1899,00;;\n").encode()
# Row 3 is fine; row 4 names no kind the register knows.
WITH_INVALID = (HEADER
                + "UM/IMP/001;laptop;Dell;Latitude 5400;DL-001;2021-03-01;3500,00;;\n"
                + "UM/IMP/002;tablet;Samsung;Galaxy Tab S6;SM-002;01.02.2021;1899,00;;\n"
                + "UM/IMP/003;toaster;HP;X;HP-003;2021-01-01;100;;\n").encode()


@pytest.fixture
def clerk(db):
    """An IT office clerk: the role may import suppliers, contracts and devices."""
    return UserFactory(roles=[Role.IT_OFFICE], username="j.informatyk")


def upload(content: bytes, name: str = "sprzet.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def preview(client, content: bytes = VALID, *, table: str = "devices", name: str = "sprzet.csv", **extra):
    return client.post(URL, {"table": table, "file": upload(content, name), **extra}, format="multipart")


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- the dry run ------------------------------------------------------------------------------------

def test_a_dry_run_writes_no_device_but_keeps_the_batch_with_its_counts_and_errors(api_en, clerk):
    response = preview(api_en(clerk), WITH_INVALID)

    assert response.status_code == 201, response.data
    assert not Device.objects.exists() and not DeviceEvent.objects.exists()
    batch = ImportBatch.objects.get()
    assert response.data["id"] == batch.pk
    assert response.data["status"] == ImportStatus.PREVIEWED == batch.status
    assert response.data["table"] == "devices" and response.data["file_name"] == "sprzet.csv"
    assert response.data["sha256"] == sha(WITH_INVALID) and response.data["size"] == len(WITH_INVALID)
    assert response.data["created_by"] == "j.informatyk" and response.data["decided_by"] is None
    assert response.data["skip_invalid"] is False
    assert response.data["allowed_transitions"] == ["applied", "cancelled"]
    assert response.data["counts"] == {"rows_total": 3, "rows_created": 2, "rows_updated": 0, "rows_unchanged": 0,
                                       "rows_invalid": 1}
    errors = response.data["preview"]["errors"]
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [(4, "kind", "toaster")]
    assert "not one of" in errors[0]["reason"]
    assert response.data["preview"]["errors_total"] == 1
    assert [c["row"] for c in response.data["preview"]["created"]] == [2, 3]
    assert response.data["preview"]["unknown_columns"] == ["Pokój"]
    assert [c["column"] for c in response.data["preview"]["ignored_columns"]] == ["status"]
    assert "status" not in response.data["preview"]["columns"]
    # The file is kept as uploaded, to be applied from it.
    with batch.file.open("rb") as stored:
        assert stored.read() == WITH_INVALID


def test_the_detail_and_the_list_show_the_batch_filterable_by_table_and_status(api_en, clerk):
    client = api_en(clerk)
    first = preview(client).data
    preview(client, b"nip;nazwa\n5261040828;Infover\n", table="suppliers", name="dostawcy.csv")
    client.post(f"{URL}{first['id']}/cancel/")

    detail = client.get(f"{URL}{first['id']}/")
    assert detail.status_code == 200 and detail.data["status"] == ImportStatus.CANCELLED
    assert detail.data["decided_by"] == "j.informatyk" and detail.data["allowed_transitions"] == []

    listed = client.get(URL)
    assert listed.status_code == 200 and listed.data["count"] == 2
    assert {row["table"] for row in client.get(URL, {"table": "suppliers"}).data["results"]} == {"suppliers"}
    assert [row["id"] for row in client.get(URL, {"status": "cancelled"}).data["results"]] == [first["id"]]
    assert client.get(URL, {"status": "previewed", "table": "devices"}).data["count"] == 0


def test_the_list_costs_the_same_queries_at_any_length(api_en, clerk, make_user):
    client = api_en(clerk)
    other = api_en(make_user(Role.IT_OFFICE))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    preview(client)
    few = queries()
    for content in (VALID, WITH_INVALID):
        client.post(f"{URL}{preview(other, content).data['id']}/cancel/")
    assert queries() == few


# --- the confirmation -------------------------------------------------------------------------------

def test_confirming_with_the_previewed_sha256_registers_the_devices_naming_the_import(api_en, clerk):
    client = api_en(clerk)
    batch_id = preview(client, VALID).data["id"]

    response = client.post(f"{URL}{batch_id}/confirm/", {"sha256": sha(VALID)}, format="json")

    assert response.status_code == 200, response.data
    assert response.data["status"] == ImportStatus.APPLIED and response.data["allowed_transitions"] == []
    assert response.data["decided_by"] == "j.informatyk" and response.data["decided_at"]
    batch = ImportBatch.objects.get(pk=batch_id)
    devices = {d.inventory_number: d for d in Device.objects.all()}
    assert set(devices) == {"UM/IMP/001", "UM/IMP/002"}
    laptop = devices["UM/IMP/001"]
    assert laptop.status == DeviceStatus.IN_STOCK  # the file's "w użyciu" is not imported
    assert laptop.manufacturer == "Dell" and str(laptop.purchase_price) == "3500.00"
    record = laptop.history.get()
    assert record.history_change_reason == f"import #{batch_id}, row 2" and record.history_user == clerk
    assert devices["UM/IMP/002"].history.get().history_change_reason == f"import #{batch_id}, row 3"
    event = laptop.events.get()
    assert event.import_batch == batch and event.actor == clerk and event.to_status == DeviceStatus.IN_STOCK


def test_confirming_by_sending_the_same_file_again_applies_it(api_en, clerk):
    client = api_en(clerk)
    batch_id = preview(client, VALID).data["id"]
    response = client.post(f"{URL}{batch_id}/confirm/", {"file": upload(VALID)}, format="multipart")
    assert response.status_code == 200, response.data
    assert Device.objects.count() == 2


def test_a_wrong_sha256_is_a_409_naming_it_and_writes_nothing(api_en, clerk):
    client = api_en(clerk)
    batch_id = preview(client, VALID).data["id"]

    response = client.post(f"{URL}{batch_id}/confirm/", {"sha256": "0" * 64}, format="json")

    assert response.status_code == 409
    assert "sha256" in response.data and response.data["code"] == "file_changed"
    assert not Device.objects.exists()
    assert ImportBatch.objects.get(pk=batch_id).status == ImportStatus.PREVIEWED


def test_no_sha256_and_no_file_is_a_400_on_sha256(api_en, clerk):
    client = api_en(clerk)
    batch_id = preview(client, VALID).data["id"]
    response = client.post(f"{URL}{batch_id}/confirm/", {}, format="json")
    assert response.status_code == 400 and "sha256" in response.data
    assert not Device.objects.exists()


def test_a_changed_file_sent_at_confirmation_is_a_409(api_en, clerk):
    client = api_en(clerk)
    batch_id = preview(client, VALID).data["id"]
    changed = VALID.replace(b"Latitude 5400", b"Latitude 5410")

    response = client.post(f"{URL}{batch_id}/confirm/", {"file": upload(changed)}, format="multipart")

    assert response.status_code == 409 and "sha256" in response.data
    assert not Device.objects.exists()


def test_invalid_rows_refuse_the_confirmation_unless_the_preview_skips_them(api_en, clerk):
    client = api_en(clerk)
    strict = preview(client, WITH_INVALID).data

    refused = client.post(f"{URL}{strict['id']}/confirm/", {"sha256": strict["sha256"]}, format="json")

    assert refused.status_code == 409
    assert "skip_invalid" in refused.data and refused.data["code"] == "invalid_rows"
    assert not Device.objects.exists()

    skipping = preview(client, WITH_INVALID, skip_invalid="true").data
    assert skipping["skip_invalid"] is True
    applied = client.post(f"{URL}{skipping['id']}/confirm/", {"sha256": skipping["sha256"]}, format="json")

    assert applied.status_code == 200, applied.data
    assert set(Device.objects.values_list("inventory_number", flat=True)) == {"UM/IMP/001", "UM/IMP/002"}
    assert applied.data["counts"]["rows_invalid"] == 1
    assert [(e["row"], e["value"]) for e in applied.data["preview"]["errors"]] == [(4, "toaster")]
    assert ImportBatch.objects.get(pk=strict["id"]).status == ImportStatus.PREVIEWED


def test_a_second_confirmation_is_a_409_and_writes_nothing_more(api_en, clerk):
    client = api_en(clerk)
    batch_id = preview(client, VALID).data["id"]
    assert client.post(f"{URL}{batch_id}/confirm/", {"sha256": sha(VALID)}, format="json").status_code == 200

    again = client.post(f"{URL}{batch_id}/confirm/", {"sha256": sha(VALID)}, format="json")

    assert again.status_code == 409 and again.data["code"] == "transition_not_allowed"
    assert Device.objects.count() == 2 and DeviceEvent.objects.count() == 2
    assert client.post(f"{URL}{batch_id}/cancel/").status_code == 409


def test_a_register_changed_since_the_preview_refuses_the_confirmation(api_en, clerk):
    client = api_en(clerk)
    batch_id = preview(client, VALID).data["id"]
    make_device(inventory_number="UM/IMP/002", serial_number="OTHER-1")  # a clerk registered it meanwhile

    response = client.post(f"{URL}{batch_id}/confirm/", {"sha256": sha(VALID)}, format="json")

    assert response.status_code == 409 and response.data["code"] == "register_changed"
    assert list(Device.objects.values_list("inventory_number", flat=True)) == ["UM/IMP/002"]


def test_a_cancelled_preview_cannot_be_applied(api_en, clerk):
    client = api_en(clerk)
    batch_id = preview(client, VALID).data["id"]

    cancelled = client.post(f"{URL}{batch_id}/cancel/")

    assert cancelled.status_code == 200 and cancelled.data["status"] == ImportStatus.CANCELLED
    refused = client.post(f"{URL}{batch_id}/confirm/", {"sha256": sha(VALID)}, format="json")
    assert refused.status_code == 409 and not Device.objects.exists()


# --- files and tables refused -----------------------------------------------------------------------

def test_a_file_over_the_import_limit_is_a_400_on_file_and_keeps_no_batch(api_en, clerk, settings):
    settings.IMPORT_MAX_UPLOAD_SIZE = 100
    response = preview(api_en(clerk), VALID)
    assert response.status_code == 400 and "file" in response.data
    assert response.data["code"] == "file_too_large"
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(("sample", "code"), [
    ("invoice.pdf", "not_a_table"),
    ("scan.png", "not_a_table"),
    ("empty.csv", None),  # refused by the upload field itself, before the engine reads it
    ("header_matches_nothing.csv", "no_known_columns"),
])
def test_a_file_that_is_no_table_of_devices_is_a_400_on_file(api_en, clerk, sample, code):
    response = preview(api_en(clerk), (SAMPLES / sample).read_bytes(), name=sample)
    assert response.status_code == 400 and "file" in response.data, response.data
    assert response.data.get("code") == code
    assert not ImportBatch.objects.exists()


def test_an_unknown_table_is_a_400_on_table(api_en, clerk):
    response = preview(api_en(clerk), VALID, table="toasters")
    assert response.status_code == 400 and "table" in response.data
    assert not ImportBatch.objects.exists()


# --- who may ----------------------------------------------------------------------------------------

def test_importing_needs_the_import_permission_and_the_tables_own(api_en, make_user, clerk):
    lawyer = make_user(Role.LEGAL_OFFICE)  # reads devices, imports only orders' annexes
    manager = make_user(Role.PROJECT_MANAGER)  # imports beneficiaries, but adds no devices
    for user in (lawyer, manager):
        assert preview(api_en(user), VALID).status_code == 403
    assert not ImportBatch.objects.exists()
    # Nor may they confirm or cancel the IT office's preview.
    batch_id = preview(api_en(clerk), VALID).data["id"]
    for user in (lawyer, manager):
        client = api_en(user)
        assert client.post(f"{URL}{batch_id}/confirm/", {"sha256": sha(VALID)}, format="json").status_code == 403
        assert client.post(f"{URL}{batch_id}/cancel/").status_code == 403
    assert not Device.objects.exists()
    assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED


def test_reading_imports_needs_the_view_permission(api_en, make_user, auditor, clerk):
    batch_id = preview(api_en(clerk), VALID).data["id"]
    councillor = api_en(make_user(Role.COUNCILLOR))
    assert councillor.get(URL).status_code == 403
    assert councillor.get(f"{URL}{batch_id}/").status_code == 403
    # The legal office reads the register's devices, so it reads their imports too.
    assert api_en(make_user(Role.LEGAL_OFFICE)).get(f"{URL}{batch_id}/").status_code == 200
    assert api_en(auditor).get(URL).data["count"] == 1
    assert api_en(auditor).get(f"{URL}{batch_id}/").data["counts"]["rows_created"] == 2
    assert preview(api_en(auditor), VALID).status_code == 403


def test_the_tables_are_those_the_user_may_import_with_their_columns(api_en, make_user, clerk):
    tables = {row["key"]: row for row in api_en(clerk).get(f"{URL}tables/").data}
    assert set(tables) == {"suppliers", "contracts", "devices", "snipeit_assets"}
    devices = tables["devices"]
    assert devices["label"] and devices["columns"][0] == "inventory_number"
    assert "media" in devices["columns"] and "status" not in devices["columns"]
    manager = {row["key"] for row in api_en(make_user(Role.PROJECT_MANAGER)).get(f"{URL}tables/").data}
    assert manager == {"beneficiaries"}
    legal = {row["key"] for row in api_en(make_user(Role.LEGAL_OFFICE)).get(f"{URL}tables/").data}
    assert legal == {"order_annexes"}
    assert api_en(make_user(Role.COUNCILLOR)).get(f"{URL}tables/").data == []


def test_the_openapi_schema_lists_the_import_endpoints_and_generates_without_warnings(api, auditor, tmp_path):
    paths = api(auditor).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in [URL, f"{URL}{{id}}/", f"{URL}{{id}}/confirm/", f"{URL}{{id}}/cancel/", f"{URL}tables/"]:
        assert path in paths, path
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_a_beneficiaries_import_is_not_shown_to_the_it_office_which_does_not_read_beneficiaries(api, make_user):
    from core.imports import visible_batches
    from tests.factories import make_project

    project = make_project()
    manager = make_user(Role.PROJECT_MANAGER)
    it_office = make_user(Role.IT_OFFICE)
    text = f"project;code;kind;name;eligibility_basis\n{project.agreement_number};EI/GD/1;household;Jan Kowalski;MOPS\n"
    upload = SimpleUploadedFile("beneficjenci.csv", text.encode(), content_type="text/csv")
    response = api(manager).post("/api/imports/", {"table": "beneficiaries", "file": upload}, format="multipart")
    assert response.status_code == 201, response.data
    batch_id = response.data["id"]

    assert api(it_office).get(f"/api/imports/{batch_id}/").status_code == 404
    assert batch_id not in [row["id"] for row in api(it_office).get("/api/imports/").data["results"]]
    assert api(manager).get(f"/api/imports/{batch_id}/").data["preview"]["created"][0]["key"].endswith("EI/GD/1")
    assert not visible_batches(it_office).filter(pk=batch_id).exists()


def test_a_delivery_list_with_new_records_only_refuses_an_inventory_number_already_registered(api_en, clerk):
    make_device(inventory_number="UM/IT/2024/0001")
    content = (HEADER + "UM/IT/2024/0001;laptop;Dell;Latitude 5440;DL5440-01;02.01.2024;4 299,00;;\n").encode()

    response = preview(api_en(clerk), content, only_new="true")

    assert response.status_code == 201, response.data
    assert response.data["only_new"] is True
    assert response.data["counts"]["rows_invalid"] == 1
    assert response.data["preview"]["errors"][0]["reason"].startswith("already registered (UM/IT/2024/0001")
