"""Every file a person can upload is checked by what it holds, not by its name, through the entry point
people use (the API, the admin, the portal): a web page or a program renamed to .pdf, .png or .log and
a file over the limit are refused with a message naming the field and what was expected; a good file
is kept under a name the service made (no folders, no odd characters, the extension of its content)."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from assets.models import Contract
from core import uploads
from core.models import ImportBatch
from core.roles import Role
from donations.choices import OrderKind
from donations.models import Beneficiary, DonationOffer, Liquidation, MayoralOrder, ObligationRecord
from faults.models import FaultReport
from tests.factories import (
    UserFactory,
    allocate,
    lend_tablet,
    make_beneficiary,
    make_councillor,
    make_medium,
    make_order,
    make_project,
    make_retired,
    make_supplier,
    png_bytes,
    sanitize,
)
from wipe import services as wipe_services
from wipe.models import DiskRemoval, WipeEvidence

pytestmark = pytest.mark.django_db

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + b"\x00" * 47
       + b"This program cannot be run in DOS mode.\r\r\n$")
# What a careless or hostile client may call a file; the multipart parser already drops folders.
ODD_NAME = "Skan umowy nr 1 (Łódź) <b>.exe"
# The storage adds _ and 7 characters to a name already taken (files stay between test runs).
TAKEN = r"(_[A-Za-z0-9]{7})?"
SAFE = re.compile(r"^[A-Za-z0-9_-]+\.[a-z]+$")
WIPE_SAMPLES = Path(__file__).resolve().parents[1] / "wipe" / "samples"


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_basename(field_file) -> str:
    return PurePosixPath(field_file.name).name


# --- the checks themselves -------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "code"), [
    (HTML, "not_pdf"), (EXE, "not_pdf"), (b"%PDF-1.4 cut off in the middle", "not_pdf"), (b"", "empty"),
    (png_bytes(), "not_pdf"),
])
def test_validate_pdf_reads_the_content_not_the_name(content, code):
    with pytest.raises(ValidationError) as refused:
        uploads.validate_pdf(upload("skan.pdf", content))
    assert refused.value.code == code
    uploads.validate_pdf(upload("skan.exe", PDF))  # the name does not matter either way


def test_validate_pdf_leaves_the_file_where_it_was_for_the_next_reader():
    scan = upload("skan.pdf", PDF)
    scan.read(3)
    uploads.validate_pdf(scan)
    assert scan.tell() == 3


def test_validate_image_accepts_jpeg_png_and_webp_only():
    def image(fmt: str) -> SimpleUploadedFile:
        buffer = io.BytesIO()
        Image.new("RGB", (4, 4)).save(buffer, format=fmt)
        return upload("x", buffer.getvalue(), "image/*")

    assert [uploads.validate_image(image(fmt)) for fmt in ("JPEG", "PNG", "WEBP")] == ["jpg", "png", "webp"]
    for refused in (image("GIF"), upload("x.png", HTML), upload("x.jpg", EXE)):
        with pytest.raises(ValidationError):
            uploads.validate_image(refused)


def test_the_stored_extension_follows_the_content():
    assert [uploads.detect_extension(content, text="csv") for content in (PDF, png_bytes(), b"PK\x03\x04..",
                                                                          "numer;nazwa\n".encode(), EXE)] == [
        "pdf", "png", "xlsx", "csv", "bin"]


@given(st.text(max_size=300))
def test_a_safe_filename_is_one_plain_name_whatever_the_client_sent(name):
    safe = uploads.safe_filename(name, extension="pdf")
    assert SAFE.match(safe) and len(safe) <= 84


def test_a_safe_filename_keeps_what_a_person_recognises():
    assert uploads.safe_filename("..\\..\\umowa Łódź.pdf.exe", extension="pdf") == "umowa-Lodz-pdf.pdf"
    assert uploads.safe_filename("", extension="log", default="report") == "report.log"


# --- PDF scans through the API ---------------------------------------------------------------------
# Each entry point: the user allowed to upload, the request and the record the file lands on.

def _contract(api):
    data = {"number": "BRM.271.1.2020", "signed_on": "2020-04-10", "supplier": make_supplier().pk,
            "value": "99000.00", "funding_source": "mayors_reserve", "procurement_basis": "art. 6 ustawy COVID-19"}
    return api(UserFactory(roles=[Role.IT_OFFICE])), "/api/contracts/", data, "scan", lambda: getattr(Contract.objects.first(), "scan", None)


def _order(api):
    data = {"number": "148/2021", "signed_on": "2021-06-14", "signatory": "Łukasz Borowski, Prezydent Miasta Leszna",
            "title": "w sprawie nieodpłatnego przekazania sprzętu komputerowego",
            "legal_basis": "art. 30 ust. 2 pkt 3 ustawy o samorządzie gminnym", "kind": OrderKind.FREE_TRANSFER,
            "in_force_from": "2021-06-14"}
    return (api(UserFactory(roles=[Role.LEGAL_OFFICE])), "/api/orders/", data, "scan",
            lambda: getattr(MayoralOrder.objects.first(), "scan", None))


def _beneficiary(api):
    data = {"project": make_project().pk, "code": "EI/GD/001", "kind": "household", "name": "Gospodarstwo Nowaków",
            "address": "ul. Słowiańska 5, 64-100 Leszno", "eligibility_basis": "decyzja MOPS"}
    return (api(UserFactory(roles=[Role.PROJECT_MANAGER])), "/api/beneficiaries/", data, "eligibility_document",
            lambda: getattr(Beneficiary.objects.first(), "eligibility_document", None))


def _offer(api):
    data = {"donor_name": "Jan Darczyńca", "donor_contact": "jan@example.test", "offered_on": "2021-09-01",
            "kind": "laptop", "manufacturer": "Dell", "model": "Latitude E7470", "serial_number": "5CG7123ABC",
            "legal_source": "invoice", "legal_source_reference": "FV 2017/03/118",
            "software_licences": "Windows 10 Pro OEM", "free_of_charge_declared": "true"}
    return (api(UserFactory(roles=[Role.IT_OFFICE])), "/api/donation-offers/", data, "legal_source_document",
            lambda: getattr(DonationOffer.objects.first(), "legal_source_document", None))


def _liquidation(api):
    it_user = UserFactory(roles=[Role.IT_OFFICE])
    wiped = sanitize(make_retired(kinds=("hdd",)), technician=it_user, validator=UserFactory(roles=[Role.IT_OFFICE]))
    order = make_order(kind=OrderKind.LIQUIDATION, title="w sprawie likwidacji sprzętu", annex_devices=[wiped])
    data = {"order": order.pk, "handed_over_on": "2021-07-15", "collector_name": "Eko-Recykling Sp. z o.o.",
            "collector_bdo": "000012345", "kpo_number": "KPO/2021/07/0042", "mass_kg": "12.500", "devices": [wiped.pk]}
    return api(it_user), "/api/liquidations/", data, "kpo_scan", lambda: getattr(Liquidation.objects.first(), "kpo_scan", None)


def _obligation_record(api):
    manager = UserFactory(roles=[Role.PROJECT_MANAGER])
    project = make_project()
    beneficiary = make_beneficiary(project)
    allocate(beneficiary)
    client = api(manager)
    obligation = client.post("/api/obligations/", {"project": project.pk, "kind": "internet",
                                                   "description": "Internet w gospodarstwach domowych",
                                                   "applies_to": "household"}, format="json").data
    data = {"beneficiary": beneficiary.pk, "month": "2016-04", "proof_reference": "FV 12/04/2016"}
    return (client, f"/api/obligations/{obligation['id']}/record/", data, "proof_file",
            lambda: getattr(ObligationRecord.objects.first(), "proof_file", None))


def _destruction(api):
    technician = UserFactory(roles=[Role.IT_OFFICE])
    medium = make_medium(device=make_retired(kinds=()), kind="hdd")
    removal = wipe_services.disk_remove(medium=medium, by=technician, kept_at="sejf", held_by="Jan Informatyk")
    data = {"destroyed_on": timezone.localdate().isoformat(), "destruction_method": "shred",
            "destruction_company": "Eko-Niszczarnia", "certificate_number": "CN/2026/118"}
    return (api(technician), f"/api/disk-removals/{removal.pk}/record-destruction/", data, "certificate_scan",
            lambda: DiskRemoval.objects.get().certificate_scan)


PDF_ENTRY_POINTS = [_contract, _order, _beneficiary, _offer, _liquidation, _obligation_record, _destruction]


@pytest.mark.parametrize("entry", PDF_ENTRY_POINTS, ids=lambda entry: entry.__name__.strip("_"))
def test_each_pdf_scan_refuses_pages_programs_and_oversize_files_and_keeps_a_good_one_safely_named(
        entry, api_en, settings):
    client, url, data, field, stored = entry(api_en)
    settings.MAX_UPLOAD_SIZE = 4096
    for content, reason in [(HTML, "not a PDF document"), (EXE, "not a PDF document"),
                            (PDF + b"%" * 5000 + b"\n%%EOF\n", "too large")]:
        refused = client.post(url, {**data, field: upload("skan.pdf", content)}, format="multipart")
        assert refused.status_code == 400, refused.data
        assert reason in str(refused.data[field]), refused.data
    assert not stored()  # nothing kept
    accepted = client.post(url, {**data, field: upload(ODD_NAME, PDF)}, format="multipart")
    assert accepted.status_code in (200, 201), accepted.data
    name = stored_basename(stored())
    assert re.fullmatch(rf"(\d+-)?Skan-umowy-nr-1-Lodz-b{TAKEN}\.pdf", name), name
    with stored().open("rb") as kept:
        assert kept.read() == PDF


def test_the_refusal_is_in_polish_for_a_polish_user(api):
    client, url, data, field, _stored = _contract(api)
    refused = client.post(url, {**data, field: upload("umowa.pdf", HTML)}, format="multipart")
    assert refused.status_code == 400
    assert "nie jest dokumentem PDF" in str(refused.data[field])


# --- PDF scans through the admin -------------------------------------------------------------------

def test_the_admin_refuses_a_web_page_named_pdf_beside_the_field_and_keeps_a_pdf_safely_named():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(UserFactory(is_superuser=True))
    data = {"number": "148/2021", "signed_on": "2021-06-14", "signatory": "Prezydent Miasta", "title": "w sprawie",
            "legal_basis": "art. 30", "kind": OrderKind.FREE_TRANSFER, "in_force_from": "2021-06-14",
            "in_force_until": "", "project": "", "notes": ""}
    refused = client.post("/admin/donations/mayoralorder/add/", {**data, "scan": upload("zarzadzenie.pdf", HTML)})
    assert refused.status_code == 200
    assert "not a PDF document" in str(refused.context["adminform"].form.errors["scan"])
    assert not MayoralOrder.objects.exists()
    accepted = client.post("/admin/donations/mayoralorder/add/", {**data, "scan": upload("zarządzenie.PDF.exe", PDF)})
    assert accepted.status_code == 302
    assert re.fullmatch(rf"zarzadzenie-PDF{TAKEN}\.pdf", stored_basename(MayoralOrder.objects.get().scan))


def test_the_contract_admin_refuses_a_program_named_pdf():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(UserFactory(is_superuser=True))
    data = {"number": "BRM/1/2020", "signed_on": "2020-04-10", "supplier": make_supplier().pk, "value": "100.00",
            "funding_source": "mayors_reserve", "procurement_basis": "art. 6", "funding_details": "", "subject": "",
            "notes": ""}
    refused = client.post("/admin/assets/contract/add/", {**data, "scan": upload("umowa.pdf", EXE)})
    assert refused.status_code == 200
    assert "not a PDF document" in str(refused.context["adminform"].form.errors["scan"])
    accepted = client.post("/admin/assets/contract/add/", {**data, "scan": upload("umowa.pdf", PDF)})
    assert accepted.status_code == 302, accepted.context["adminform"].form.errors if accepted.context else ""
    assert re.fullmatch(rf"contracts/\d{{4}}/\d{{2}}/umowa{TAKEN}\.pdf", Contract.objects.get().scan.name)


# --- photos of faults ------------------------------------------------------------------------------

@pytest.fixture
def holder():
    recipient = make_councillor()
    return recipient, lend_tablet(recipient).items.get().device


def test_a_fault_photo_through_the_api_is_an_image_by_content(api_en, holder, settings):
    recipient, device = holder
    client = api_en(recipient.user)
    report = {"device": device.pk, "category": "hardware", "description": "Pęknięta szybka.", "contact": "600 100 200"}
    for content, reason in [(HTML, "JPEG, PNG or WebP"), (EXE, "JPEG, PNG or WebP")]:
        refused = client.post("/api/faults/", {**report, "photo": upload("szybka.png", content, "image/png")},
                              format="multipart")
        assert refused.status_code == 400 and reason in str(refused.data["photo"]), refused.data
    settings.MAX_PHOTO_SIZE = 10
    too_large = client.post("/api/faults/", {**report, "photo": upload("szybka.png", png_bytes(), "image/png")},
                            format="multipart")
    assert too_large.status_code == 400 and "too large" in str(too_large.data["photo"])
    assert not FaultReport.objects.exists()
    settings.MAX_PHOTO_SIZE = 5 * 2**20
    accepted = client.post("/api/faults/", {**report, "photo": upload("szybka.html", png_bytes(), "text/html")},
                           format="multipart")
    assert accepted.status_code == 201, accepted.data
    assert re.fullmatch(r"faults/\d{4}/\d{2}/\d+-\d+\.png", FaultReport.objects.get().photo.name)


def test_a_fault_photo_in_the_portal_is_refused_with_a_message(holder):
    recipient, device = holder
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(recipient.user)
    report = {"device": device.pk, "category": "hardware", "description": "x", "contact": "y"}
    refused = browser.post("/my/faults/new/", {**report, "photo": upload("x.jpg", HTML, "image/jpeg")})
    assert refused.status_code == 200 and refused.context["form"].errors["photo"]
    assert not FaultReport.objects.exists()
    browser.post("/my/faults/new/", {**report, "photo": upload("zdjęcie.jpg", png_bytes(), "image/jpeg")})
    assert FaultReport.objects.get().photo.name.endswith(".png")  # what it is, not what it was called


# --- wipe reports ----------------------------------------------------------------------------------

def test_a_wipe_report_is_refused_unless_it_is_one_and_is_kept_as_a_log(api_en, settings):
    technician = UserFactory(roles=[Role.IT_OFFICE])
    make_medium(device=make_retired(kinds=()), kind="hdd", serial_number="S3Z1NB0K100001", capacity_gb=250)
    client = api_en(technician)
    content = (WIPE_SAMPLES / "zero_2drives.serials.log").read_bytes()

    def send(name, data):
        return client.post("/api/wipe-reports/", {"file": upload(name, data, "text/plain"),
                                                  "location": "Biuro Informatyki"}, format="multipart")

    for name, data in [("nwipe.log", HTML), ("nwipe.log", EXE), ("nwipe.log", PDF)]:
        refused = send(name, data)
        assert refused.status_code == 400 and "not a report of nwipe" in str(refused.data["file"]), refused.data
    settings.MAX_UPLOAD_SIZE = 100
    assert "too large" in str(send("nwipe.log", content).data["file"])
    assert not WipeEvidence.objects.exists()
    settings.MAX_UPLOAD_SIZE = 20 * 2**20
    accepted = send("raport <b>.html", content)
    assert accepted.status_code == 201, accepted.data
    name = stored_basename(WipeEvidence.objects.get().file)
    assert re.fullmatch(rf"[0-9a-f]{{16}}-raport-b{TAKEN}\.log", name), name


# --- spreadsheets to import ------------------------------------------------------------------------

def test_a_spreadsheet_to_import_is_recognised_by_content_and_kept_under_a_safe_name(api_en, settings):
    client = api_en(UserFactory(roles=[Role.IT_OFFICE]))
    csv = "inventory_number;kind;manufacturer;model;serial_number\nUM/1;laptop;Dell;Latitude;SN1\n".encode()

    def send(name, data):
        return client.post("/api/imports/", {"table": "devices", "file": upload(name, data, "text/csv")},
                           format="multipart")

    archive = io.BytesIO()  # a ZIP that is no workbook: a Java program, say
    with zipfile.ZipFile(archive, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Main-Class: Evil\n")
    for name, data in [("sprzet.csv", HTML), ("sprzet.xlsx", EXE), ("sprzet.csv", PDF),
                       ("sprzet.xlsx", archive.getvalue())]:
        refused = send(name, data)
        assert refused.status_code == 400 and "file" in refused.data, refused.data
    settings.IMPORT_MAX_UPLOAD_SIZE = 10
    assert send("sprzet.csv", csv).status_code == 400
    assert not ImportBatch.objects.exists()
    settings.IMPORT_MAX_UPLOAD_SIZE = 2**20
    accepted = send("sprzęt <b>.xlsx", csv)  # a CSV whatever its name says
    assert accepted.status_code == 201, accepted.data
    assert re.fullmatch(rf"[0-9a-f]{{16}}-sprzet-b{TAKEN}\.csv", stored_basename(ImportBatch.objects.get().file))


def test_an_annex_over_the_limit_is_refused_in_the_admin_before_it_is_read(settings):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(UserFactory(is_superuser=True))
    order = make_order()
    settings.MAX_UPLOAD_SIZE = 10
    response = client.post(f"/admin/donations/mayoralorder/{order.pk}/annex-import/",
                           {"annex-file": upload("zalacznik.csv", b"lp;numer inwentarzowy\n1;UM/1\n", "text/csv")})
    assert response.status_code == 200
    (form,) = [f.form for f in response.context["page_forms"] if "file" in f.form.fields]
    assert "too large" in str(form.errors["file"])
    assert not order.annex_device_rows.exists()
