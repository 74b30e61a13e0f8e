"""Evidence import: real nwipe logs and JSON reports uploaded through the API, matched to the register's
media by serial number, and everything else reported line by line, never guessed."""
import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.roles import Role
from tests.factories import UserFactory, make_medium, make_retired
from wipe import services
from wipe.models import Sanitization, WipeEvidence

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_en):
    """The API in English, so that the reasons asserted below read as in the code (Polish is tested apart)."""
    return api_en

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def clerk():
    return UserFactory(roles=[Role.IT_OFFICE])


def laptop_with(serial, kind="hdd"):
    device = make_retired(kinds=())
    return make_medium(device=device, kind=kind, serial_number=serial, capacity_gb=250)


def upload(client, name, content=None, **fields):
    content = (SAMPLES / name).read_bytes() if content is None else content
    data = {"file": SimpleUploadedFile(Path(name).name, content), "location": "Biuro Informatyki, pok. 12", **fields}
    return client.post("/api/wipe-reports/", data, format="multipart")


def nothing_written():
    return not WipeEvidence.objects.exists() and not Sanitization.objects.exists()


def test_a_real_log_imports_the_registered_drive_and_reports_the_one_not_in_the_register(api, clerk):
    """zero_2drives: both loop devices erased with zeros, blanked and verified (nwipe 0.33)."""
    medium = laptop_with("S3Z1NB0K100001")
    content = (SAMPLES / "zero_2drives.serials.log").read_bytes()
    response = upload(api(clerk), "zero_2drives.serials.log")
    assert response.status_code == 201, response.data
    report = response.data["report"]
    assert [(r["drive"], r["serial_number"]) for r in report["imported"]] == [("/dev/loop0", "S3Z1NB0K100001")]
    (unknown,) = [p for p in report["problems"] if "WD-WCC4E1000002" in p["reason"]]
    assert unknown["line"] > 0 and "matches no storage medium" in unknown["reason"]
    evidence = WipeEvidence.objects.get()
    assert evidence.sha256 == hashlib.sha256(content).hexdigest() == response.data["evidence"]["sha256"]
    assert evidence.file.read() == content and evidence.format == "nwipe-log" and evidence.tool_version == "0.33"
    record = Sanitization.objects.get()
    assert (record.medium, record.evidence, record.status, record.technique, record.method_class) == (
        medium, evidence, "recorded", "overwrite", "purge")
    assert (record.verification, record.verification_result, record.tool, record.tool_version) == (
        "full", "passed", "nwipe", "0.33")
    assert record.overwrite_passes == 2 and "zeros" in record.pattern  # the zero pass and the blanking pass
    assert record.started_at <= record.finished_at and record.evidence_drive == "/dev/loop0"
    assert record.performed_by == clerk


def test_a_log_with_bytes_that_are_not_utf8_still_imports(api, clerk):
    content = (SAMPLES / "zero_2drives.serials.nonutf8.log").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    laptop_with("S3Z1NB0K100001")
    laptop_with("WD-WCC4E1000002")
    response = upload(api(clerk), "zero_2drives.serials.nonutf8.log")
    assert response.status_code == 201, response.data
    assert len(response.data["report"]["imported"]) == 2


def test_failed_and_aborted_wipes_are_reported_never_imported(api, clerk):
    erased, failed = laptop_with("S3Z1NB0K100006"), laptop_with("ZA1000007")
    response = upload(api(clerk), "failed_one_of_two.serials.log")
    assert response.status_code == 201, response.data
    assert [r["serial_number"] for r in response.data["report"]["imported"]] == ["S3Z1NB0K100006"]
    assert any("did not finish (failed)" in p["reason"] and p["line"] > 0 for p in response.data["report"]["problems"])
    assert list(Sanitization.objects.values_list("medium", flat=True)) == [erased.pk]
    assert not failed.sanitizations.exists()

    laptop_with("WD-WCC4E1000004")
    aborted = upload(api(clerk), "aborted_sigint.serials.log")
    assert aborted.status_code == 400 and "file" in aborted.data
    assert any("aborted" in p["reason"] for p in aborted.data["report"]["problems"])
    assert WipeEvidence.objects.count() == 1  # the refused file is not kept


def test_a_report_whose_serials_match_nothing_is_refused_and_nothing_is_kept(api, clerk):
    laptop_with("SOMETHING-ELSE")
    response = upload(api(clerk), "prng_2rounds_noblank.serials.log")
    assert response.status_code == 400
    assert "Nothing in this report can be imported" in response.data["file"][0]
    assert any("NOT-IN-REGISTER-001" in p["reason"] for p in response.data["report"]["problems"])
    assert nothing_written()


def test_a_truncated_log_proves_nothing_for_the_drives_it_cuts_off(api, clerk):
    laptop_with("S3Z1NB0K100001")
    laptop_with("WD-WCC4E1000002")
    response = upload(api(clerk), "zero_2drives.serials.truncated.log")
    assert response.status_code == 400
    problems = response.data["report"]["problems"]
    assert problems and all(p["line"] >= 0 and p["reason"] for p in problems)
    assert nothing_written()


@pytest.mark.parametrize(("name", "content"), [
    ("empty.log", b""),
    ("garbage.log", bytes(range(256)) * 8),
    ("scan.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
    ("other.json", b'{"name": "not an nwipe report"}'),
    ("readme.txt", "Zażółć gęślą jaźń — to nie jest raport nwipe.\n".encode()),
])
def test_a_file_that_is_not_a_report_is_refused_on_the_file_field(api, clerk, name, content):
    laptop_with("S3Z1NB0K100001")
    response = upload(api(clerk), name, content)
    assert response.status_code == 400 and "file" in response.data
    assert nothing_written()


def test_a_json_report_imports_with_the_verification_the_uploader_states(api, clerk):
    medium = laptop_with("WD-WCC2E1000011")
    laptop_with("Z1D1000012")
    name = "json/nwipe_report_WD-WCC2E1000011_2026-11-20_10-41-38.json"
    unverified = upload(api(clerk), name)
    assert unverified.status_code == 400  # the JSON does not say how nwipe verified: leaving needs it
    assert any("verified" in p["reason"] for p in unverified.data["report"]["problems"])
    response = upload(api(clerk), name, verification="full")
    assert response.status_code == 201, response.data
    record = Sanitization.objects.get()
    assert record.medium == medium and record.evidence.format == "nwipe-json" and record.tool_version == "0.38"
    assert (record.finished_at - record.started_at).total_seconds() == 5195
    assert "stated by the person importing" in record.method_details
    failure = upload(api(clerk), "json/nwipe_report_Z1D1000012_2026-11-20_09-52-11.json", verification="full")
    assert failure.status_code == 400 and any("failed" in p["reason"] for p in failure.data["report"]["problems"])
    unknown = upload(api(clerk), "json/nwipe_report_NOT-IN-REGISTER-002_2026-11-20_09-48-00.json",
                     verification="full")
    assert unknown.status_code == 400
    assert any("NOT-IN-REGISTER-002" in p["reason"] for p in unknown.data["report"]["problems"])


def test_a_dry_run_previews_and_the_same_file_is_not_imported_twice(api, clerk):
    laptop_with("ZA1000003")
    preview = upload(api(clerk), "dodshort_verify_all.serials.log", dry_run="true")
    assert preview.status_code == 200 and preview.data["dry_run"] and preview.data["evidence"] is None
    assert [r["serial_number"] for r in preview.data["report"]["imported"]] == ["ZA1000003"]
    assert nothing_written()
    assert upload(api(clerk), "dodshort_verify_all.serials.log").status_code == 201
    record = Sanitization.objects.get()
    assert record.overwrite_passes == 4 and record.verification == "full"  # DoD short: 3 passes and blanking
    again = upload(api(clerk), "dodshort_verify_all.serials.log")
    assert again.status_code == 409 and "already imported" in again.data["file"][0]
    assert Sanitization.objects.count() == 1


def test_an_overwrite_of_an_ssd_in_a_report_is_not_purge_and_is_reported(api, clerk):
    laptop_with("S3Z1NB0K100001", kind="ssd")
    laptop_with("WD-WCC4E1000002", kind="hdd")
    response = upload(api(clerk), "zero_2drives.serials.log")
    assert response.status_code == 201
    assert [r["serial_number"] for r in response.data["report"]["imported"]] == ["WD-WCC4E1000002"]
    assert any("S3Z1NB0K100001" in p["text"] and "remaps blocks" in p["reason"]
               for p in response.data["report"]["problems"])


def test_an_import_into_a_session_takes_only_the_session_devices_and_the_session_closes_them(api, clerk):
    in_cart, elsewhere = laptop_with("S3Z1NB0K100001"), laptop_with("WD-WCC4E1000002")
    session = services.session_open(by=clerk, devices=[in_cart.device], location="pok. 12", tool="nwipe")
    response = upload(api(clerk), "zero_2drives.serials.log", session=session.pk)
    assert response.status_code == 201
    assert any("not in session" in p["reason"] for p in response.data["report"]["problems"])
    assert list(session.sanitizations.values_list("medium", flat=True)) == [in_cart.pk]
    assert not elsewhere.sanitizations.exists()
    closed = api(UserFactory(roles=[Role.IT_OFFICE])).post(f"/api/wipe-sessions/{session.pk}/close/", {},
                                                            format="json")
    assert closed.data["passed"] == [in_cart.device.inventory_number]


def test_the_location_is_required_without_a_session(api, clerk):
    laptop_with("S3Z1NB0K100001")
    response = upload(api(clerk), "zero_2drives.serials.log", location="")
    assert response.status_code == 400 and "location" in response.data
    assert nothing_written()
