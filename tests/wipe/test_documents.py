"""Wipe documents: the certificate of sanitization (NIST SP 800-88 Appendix G), the disk removal and
destruction protocol, and the wipe session summary, built from real records through wipe.services."""
import hashlib
import io
from datetime import date

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from pypdf import PdfReader

from assets import services as asset_services
from assets.models import Device
from core import pdf
from core.choices import DocumentKind
from core.models import StoredDocument
from tests.pdf_helpers import pdf_bytes, pdf_text
from tests.factories import UserFactory, make_device, make_medium, make_retired, wipe_facts
from wipe import services
from wipe.documents import sanitization_certificate_issue
from wipe.models import DiskRemoval, WipeEvidence

pytestmark = pytest.mark.django_db

TECHNICIAN = "Łukasz Żółkiewski"
VALIDATOR = "Grażyna Świątek"
PLACE = "Biuro Informatyki, pokój 12 – Łódź"


# --- helpers ---------------------------------------------------------------------------------------





def assert_contains(text: str, *words: str) -> None:
    for word in words:
        assert word in text, word


def documents_of(subject, kind: str):
    return StoredDocument.objects.filter(subject_type=ContentType.objects.get_for_model(subject),
                                         subject_id=subject.pk, kind=kind).order_by("issued_at", "id")


def retired(*media: dict, **device_fields) -> tuple[Device, list]:
    """A retired laptop with the storage media described by `media` (make_medium arguments)."""
    device_fields.setdefault("purchase_date", date(2010, 5, 18))
    device = make_device(**device_fields)
    made = [make_medium(device=device, **spec) for spec in media]
    asset_services.device_retire(device=device, by=None, retirement_reason="end_of_life")
    device.refresh_from_db()
    return device, made


def tool_report(name: str, *, session=None) -> WipeEvidence:
    """A wiping tool's report kept byte for byte (the nwipe import is tested with the import itself)."""
    content = f"[2025/03/12 10:00:00] nwipe: info: {name}\n".encode()
    return WipeEvidence.objects.create(file=ContentFile(content, name=name), original_name=name,
                                       sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                                       format="nwipe-log", tool_version="0.34", session=session)


def wiped(medium, *, by, validator, **facts):
    record = services.sanitization_record(by=by, medium=medium, device=medium.device, **wipe_facts(**facts))
    return services.sanitization_validate(sanitization=record, by=validator)


@pytest.fixture
def technician():
    first, last = TECHNICIAN.split()
    return UserFactory(first_name=first, last_name=last)


@pytest.fixture
def validator():
    first, last = VALIDATOR.split()
    return UserFactory(first_name=first, last_name=last)


# --- the certificate of sanitization -----------------------------------------------------------------

@pytest.fixture
def certified(technician, validator):
    """A laptop with two disks wiped in place (one record corrected), one disk removed and destroyed and one
    removed and still held, moved to "sanitized" through the gate, which issues the certificate."""
    device, (hdd, ssd, destroyed, held) = retired(
        {"kind": "hdd", "manufacturer": "Seagate", "model": "ST500LM021", "serial_number": "W6A0XK2B",
         "capacity_gb": 500},
        {"kind": "ssd", "manufacturer": "Samsung", "model": "860 EVO", "serial_number": "S3Z9NB0K12345",
         "capacity_gb": 250},
        {"kind": "hdd", "manufacturer": "WD", "model": "WD5000LPVX", "serial_number": "WXJ1A8765432"},
        {"kind": "hdd", "manufacturer": "Toshiba", "model": "MQ01ABD100", "serial_number": "Z5TKP0ABCD"},
        inventory_number="UML/2010/KOMP/001", manufacturer="Dell", model="Latitude E6410",
        serial_number="CN-0HXF7G",
    )
    report = tool_report("nwipe_2025-03-12_Łódź.log")
    with translation.override("en"):
        first = wiped(hdd, by=technician, validator=validator, pattern="zera", overwrite_passes=1, location=PLACE,
                      performer_title="informatyk", performer_phone="+48 42 638 40 12",
                      data_classification="personal", data_backed_up="yes", backup_location="serwer NAS – pokój 3",
                      method_details="nwipe --method=zero --verify=last", notes="bez uwag; Zażółć gęślą jaźń",
                      destination_details="przekazanie szkole podstawowej nr 5")
        correction = services.sanitization_correct(sanitization=first, by=technician, overwrite_passes=3,
                                                   correction_reason="błędna liczba przejść w pierwszym zapisie")
        services.sanitization_validate(sanitization=correction, by=validator,
                                       validator_title="kierownik Biura Informatyki",
                                       validator_phone="+48 42 638 40 00")
        services.sanitization_record(
            by=technician, medium=ssd, device=device, evidence=report, evidence_drive="/dev/sdb",
            **wipe_facts(technique="crypto_erase", overwrite_passes=None, pattern="", encryption_enabled=True,
                         verification="sample", tool="hdparm", tool_version="9.65", location=PLACE))
        services.sanitization_validate(sanitization=ssd.sanitizations.get(), by=validator)
        removal = services.disk_remove(medium=destroyed, by=technician, kept_at="sejf, pokój 12",
                                       held_by="Marek Wójcik")
        services.custody_record(removal=removal, by=technician, kept_at="szafa pancerna – archiwum",
                                handed_to="Zofia Nowak", notes="przekazano do zniszczenia")
        services.disk_destroy(removal=removal, by=technician, destroyed_on=timezone.localdate(),
                              destruction_method="shred", destruction_company="Niszczarnia Świętokrzyska Sp. z o.o.",
                              certificate_number="CN/2025/0042")
        services.disk_remove(medium=held, by=technician, kept_at="sejf, pokój 12", held_by="Marek Wójcik")
        services.device_sanitize(device=device, by=validator)
    device.refresh_from_db()
    first.refresh_from_db()
    correction.refresh_from_db()
    return device, first, correction, report


def test_the_certificate_gives_every_nist_field_of_each_medium_wiped_in_place(certified):
    device, first, correction, report = certified
    certificate = documents_of(device, DocumentKind.SANITIZATION_CERTIFICATE).get()
    text = pdf_text(certificate)
    assert_contains(
        text, "Certificate of sanitization", "NIST SP 800-88, Appendix G",
        # Person performing sanitization
        "Person performing sanitization", "Name", TECHNICIAN, "Title", "informatyk", "Organization",
        settings.ORGANIZATION_NAME, "Location", PLACE, "Phone", "+48 42 638 40 12",
        # Media information
        "Media information", "Make / vendor", "Seagate", "Model", "ST500LM021", "Serial number", "W6A0XK2B",
        "Media property number", "UML/2010/KOMP/001", "Media type", "HDD, 500 GB", "Source",
        "UML/2010/KOMP/001, laptop, Dell Latitude E6410, serial number CN-0HXF7G", "Classification",
        "personal data", "Data backed up", "Backup location", "serwer NAS – pokój 3",
        # Sanitization details
        "Sanitization details", "Method type", "Purge", "Method used", "overwrite", "Method details",
        "Overwrite passes: 3", "Pattern: zera", "nwipe --method=zero --verify=last",
        "Tool used (including version)", "nwipe 0.34", "Started", pdf.format_date(correction.started_at),
        "Finished", pdf.format_date(correction.finished_at), "Verification method and result", "full: passed",
        "Post-sanitization classification", "no data", "Notes", "bez uwag; Zażółć gęślą jaźń",
        # Media destination, the performer's signature, the validation
        "Media destination", "leaves the office", "Destination details", "przekazanie szkole podstawowej nr 5",
        "I attest that the information provided on this statement is accurate to the best of my knowledge.",
        "Signature", "Date", "Validation", VALIDATOR, "kierownik Biura Informatyki", "+48 42 638 40 00",
        pdf.format_date(correction.validated_at),
    )
    # The correction says what it corrects; the superseded facts are not certified.
    assert_contains(text, f"This record corrects the earlier record no. {first.pk} of "
                          f"{pdf.format_date(first.finished_at)}.",
                    "Reason for the correction: błędna liczba przejść w pierwszym zapisie")
    assert "Overwrite passes: 1" not in text
    # The SSD: cryptographic erase with encryption on, imported from a tool's report.
    assert_contains(text, "S3Z9NB0K12345", "Samsung", "860 EVO", "SSD (SATA), 250 GB", "cryptographic erase",
                    "Storage was encrypted: yes", "hdparm 9.65", "by sample: passed", "Tool's report",
                    "nwipe_2025-03-12_Łódź.log", "/dev/sdb", "SHA-256 of the report", report.sha256)


def test_the_certificate_gives_the_custody_and_destruction_of_removed_media(certified):
    device, *_rest = certified
    text = pdf_text(documents_of(device, DocumentKind.SANITIZATION_CERTIFICATE).get())
    today = pdf.format_date(timezone.localdate())
    assert_contains(text, "Storage media", "Medium 1 of 4", "Medium 4 of 4", "W6A0XK2B", "S3Z9NB0K12345",
                    "WXJ1A8765432", "Z5TKP0ABCD", "Removal and custody", "Removed at", "Removed by", TECHNICIAN,
                    "Kept at", "szafa pancerna – archiwum", "Held by", "Zofia Nowak", "Destruction",
                    "Destroyed on", today, "Destruction method", "shred", "Destroyed by (company)",
                    "Niszczarnia Świętokrzyska Sp. z o.o.", "Destruction certificate number", "CN/2025/0042",
                    f"removed, destroyed on {today}", "removed, held in custody", "sejf, pokój 12", "Marek Wójcik",
                    "Held in custody, not yet destroyed.")
    assert_contains(text, "Every storage medium of device UML/2010/KOMP/001 was either sanitized",
                    "NIST SP 800-88 Rev. 1 and Rev. 2 (2025)", "IEEE 2883-2022", "ISO/IEC 27001:2022",
                    "7.14", "8.10", "Person responsible for the IT office (signature)", "Validator (signature)")


def test_the_certificate_is_registered_and_verifiable_without_personal_data(certified, client):
    device, *_rest = certified
    certificate = documents_of(device, DocumentKind.SANITIZATION_CERTIFICATE).get()
    content = pdf_bytes(certificate)
    assert (certificate.subject, certificate.template_version) == (device, "sanitization-certificate/1")
    assert certificate.title == "Certificate of sanitization of device UML/2010/KOMP/001"
    assert certificate.sha256 == hashlib.sha256(content).hexdigest() and certificate.size == len(content)
    # The device's move to "sanitized" points at its certificate.
    assert device.status == "sanitized" and device.events.latest("id").document == certificate
    assert certificate.code in pdf_text(certificate)
    page = client.get(f"/verify/{certificate.code}/")
    assert page.status_code == 200 and page.context["document"] == certificate
    html = page.content.decode()
    assert certificate.title in html and certificate.sha256 in html
    for personal in ["Żółkiewski", "Świątek", "Wójcik", "Zofia Nowak"]:
        assert personal not in html


def test_a_device_without_media_prints_who_confirmed_it_and_how(technician, validator):
    device = make_retired(kinds=(), inventory_number="UML/2011/MON/007", kind="monitor")
    with translation.override("en"):
        services.no_media_confirm(device=device, by=technician,
                                  how_checked="obudowa otwarta: brak dysku, brak karty pamięci")
        services.device_sanitize(device=device, by=validator)
    confirmation = device.no_media_confirmation
    text = pdf_text(documents_of(device, DocumentKind.SANITIZATION_CERTIFICATE).get())
    assert_contains(text, "UML/2011/MON/007", "The device holds no storage medium, as confirmed by a named person",
                    "Confirmed by", TECHNICIAN, "Confirmed at", pdf.format_date(confirmation.confirmed_at),
                    "How it was checked", "obudowa otwarta: brak dysku, brak karty pamięci")
    assert "Medium 1" not in text


def _certificate_queries(device: Device) -> int:
    with CaptureQueriesContext(connection) as ctx:
        sanitization_certificate_issue(device=device, by=None)
    return len(ctx.captured_queries)


def _evidenced_and_corrected(medium, *, by, validator):
    """A medium wiped with a tool's report and its record corrected: every relation a record prints."""
    record = services.sanitization_record(by=by, medium=medium, device=medium.device,
                                          evidence=tool_report(f"nwipe_{medium.serial_number}.log"),
                                          evidence_drive="/dev/sda", **wipe_facts())
    services.sanitization_validate(sanitization=record, by=validator)
    correction = services.sanitization_correct(sanitization=record, by=by, correction_reason="literówka",
                                               pattern="zera")
    services.sanitization_validate(sanitization=correction, by=validator)


def test_the_certificate_costs_the_same_queries_for_one_medium_as_for_four(technician, validator):
    one, (single,) = retired({"kind": "hdd"})
    four, media = retired(*({"kind": "hdd"} for _ in range(4)))
    for medium in [single, *media]:
        _evidenced_and_corrected(medium, by=technician, validator=validator)
    # Removed media (with their custody log and destruction) cost no more either.
    one_removed, (kept, out) = retired({"kind": "hdd"}, {"kind": "hdd"})
    four_removed, (a, b, c, d) = retired(*({"kind": "hdd"} for _ in range(4)))
    for medium in (kept, a, b):
        wiped(medium, by=technician, validator=validator)
    for medium in (out, c, d):
        services.disk_remove(medium=medium, by=technician, kept_at="sejf", held_by="Marek Wójcik")
    removal = DiskRemoval.objects.get(medium=d)
    services.custody_record(removal=removal, by=technician, kept_at="archiwum", handed_to="Zofia Nowak")
    services.disk_destroy(removal=removal, by=technician, destroyed_on=timezone.localdate(),
                          destruction_method="shred", destruction_company="Niszczarnia", certificate_number="1/2025")
    sanitization_certificate_issue(device=one, by=None)  # warm caches (content types)
    assert _certificate_queries(one) == _certificate_queries(four)
    assert _certificate_queries(one_removed) == _certificate_queries(four_removed)


# --- the disk removal and destruction protocol ---------------------------------------------------------

def test_the_protocol_is_issued_at_removal_and_again_at_destruction(technician):
    device, (disk,) = retired({"kind": "hdd", "manufacturer": "Seagate", "model": "ST1000LM035",
                               "serial_number": "WL1ZQ9XY", "capacity_gb": 1000},
                              inventory_number="UML/2012/KOMP/042", manufacturer="HP", model="ProBook 450 G1",
                              serial_number="5CG4321XYZ")
    with translation.override("en"):
        removal = services.disk_remove(medium=disk, by=technician, kept_at="sejf, pokój 12",
                                       held_by="Marek Wójcik", notes="dysk wymontowany śrubokrętem T8")
        at_removal = documents_of(removal, DocumentKind.DISK_REMOVAL_PROTOCOL).get()
        services.custody_record(removal=removal, by=technician, kept_at="szafa pancerna – archiwum",
                                handed_to="Zofia Nowak", notes="przed odbiorem przez niszczarnię")
        services.disk_destroy(removal=removal, by=technician, destroyed_on=timezone.localdate(),
                              destruction_method="degauss_and_shred",
                              destruction_company="Niszczarnia Świętokrzyska Sp. z o.o.",
                              certificate_number="CN/2025/0042")
    removal.refresh_from_db()
    first, at_destruction = documents_of(removal, DocumentKind.DISK_REMOVAL_PROTOCOL)
    assert first == at_removal and at_destruction.template_version == "disk-removal-protocol/1"
    assert at_destruction.title == f"Disk removal and destruction protocol no. {removal.pk}, device UML/2012/KOMP/042"
    assert removal.events.get(kind="destroyed").document == at_destruction
    common = ["Disk removal and destruction protocol", "Storage medium", "HDD", "Seagate", "ST1000LM035", "WL1ZQ9XY",
              "1000 GB", "Taken out of the device", "UML/2012/KOMP/042", "laptop", "HP ProBook 450 G1",
              "5CG4321XYZ", "Removed at", pdf.format_date(removal.removed_at), "Removed by", TECHNICIAN,
              "dysk wymontowany śrubokrętem T8", "Chain of custody", "When", "Kept at", "Handed to", "Recorded by",
              "sejf, pokój 12", "Marek Wójcik", "taken out of the device", "Destruction",
              "Removed by (signature)", "Custody received by (signature)"]
    text = pdf_text(at_removal)
    assert_contains(text, *common, "Not yet destroyed: the medium is held in custody at sejf, pokój 12 by Marek "
                                   "Wójcik.")
    assert "CN/2025/0042" not in text
    text = pdf_text(at_destruction)
    assert_contains(text, *common, "szafa pancerna – archiwum", "Zofia Nowak", "przed odbiorem przez niszczarnię",
                    "Destroyed on", pdf.format_date(timezone.localdate()), "Destruction method",
                    "degauss, then shred", "Destroyed by (company)", "Niszczarnia Świętokrzyska Sp. z o.o.",
                    "Destruction certificate number", "CN/2025/0042", "Scan of the certificate on file", "no",
                    "Destruction recorded by")
    assert "Not yet destroyed" not in text


# --- the wipe session summary --------------------------------------------------------------------------

def test_the_session_summary_lists_devices_records_reports_and_the_validator(technician, validator):
    cart = [make_retired(kinds=("hdd",), inventory_number="UML/2010/KOMP/101"),
            make_retired(kinds=("hdd", "ssd"), inventory_number="UML/2010/KOMP/102")]
    passed_disk = cart[0].media.get()
    good, bad = cart[1].media.order_by("id")
    facts = {k: v for k, v in wipe_facts(pattern="zera", overwrite_passes=2).items()
             if k not in {"tool", "tool_version", "location", "verification_result"}}
    with translation.override("en"):
        session = services.session_open(by=technician, devices=cart, location=PLACE, tool="ShredOS",
                                        tool_version="2024.02.2")
        report = tool_report("shredos_2025-03-12.log", session=session)
        services.session_record_result(session=session, by=technician, medium=passed_disk, passed=True, **facts)
        services.session_record_result(session=session, by=technician, medium=good, passed=True, **facts)
        services.session_record_result(session=session, by=technician, medium=bad, passed=False,
                                       failure_reason="błąd odczytu sektora 1 234 567")
        result = services.session_close(session=session, by=validator)
    session.refresh_from_db()
    assert [d.inventory_number for d in result.passed] == ["UML/2010/KOMP/101"]
    summary = documents_of(session, DocumentKind.WIPE_SESSION_SUMMARY).get()
    assert summary.template_version == "wipe-session-summary/1"
    assert summary.title == f"Wipe session summary {session.reference}"
    text = pdf_text(summary)
    assert_contains(
        text, "Wipe session summary", session.reference, "Location", PLACE, "Tool and version", "ShredOS 2024.02.2",
        "Opened at", pdf.format_date(session.opened_at), "Opened by", TECHNICIAN, "Closed at",
        pdf.format_date(session.closed_at), "Closed and validated by", VALIDATOR, "1 passed, 1 failed",
        # devices
        "Inventory number", "Storage media", "Outcome", "Why it failed", "UML/2010/KOMP/101", "UML/2010/KOMP/102",
        passed_disk.serial_number, good.serial_number, bad.serial_number, "passed: sanitized", "failed: wipe again",
        "błąd odczytu sektora 1 234 567",
        # sanitization records
        "Sanitization records", "Medium serial number", "Method type", "Method used", "Passes", "Verification",
        "Performed by", "Status", "Purge", "overwrite", "full: passed", "validated",
        # tool reports and the signature
        "Tool reports", "shredos_2025-03-12.log", report.sha256, "Closed and validated by (signature)",
    )


def test_the_documents_embed_dejavu_sans(certified):
    device, *_rest = certified
    documents = [documents_of(device, DocumentKind.SANITIZATION_CERTIFICATE).get(),
                 *StoredDocument.objects.filter(kind=DocumentKind.DISK_REMOVAL_PROTOCOL)]
    session = services.session_open(by=UserFactory(), devices=[make_retired(kinds=("hdd",))], location=PLACE)
    services.session_close(session=session, by=UserFactory())
    documents.append(documents_of(session, DocumentKind.WIPE_SESSION_SUMMARY).get())
    assert {d.kind for d in documents} == {DocumentKind.SANITIZATION_CERTIFICATE, DocumentKind.DISK_REMOVAL_PROTOCOL,
                                           DocumentKind.WIPE_SESSION_SUMMARY}
    for document in documents:
        fonts = set()
        for page in PdfReader(io.BytesIO(pdf_bytes(document))).pages:
            for font in page["/Resources"]["/Font"].values():
                fonts.add(str(font.get_object()["/BaseFont"]))
        assert any("DejaVuSans" in name for name in fonts), document.kind


def test_the_certificate_reads_in_polish_and_verifies(client, technician, validator):
    """The office's language: every label of the certificate in Polish, the diacritics of the labels and
    of the data extracted intact, and the printout confirmed at /verify/<code>/."""
    device, (hdd,) = retired({"kind": "hdd", "manufacturer": "Seagate", "model": "ST500LM021",
                              "serial_number": "W6A0XK2B", "capacity_gb": 500}, inventory_number="UML/2010/KOMP/003")
    record = services.sanitization_record(by=technician, medium=hdd, device=device,
                                          **wipe_facts(location=PLACE, pattern="zera"))
    services.sanitization_validate(sanitization=record, by=validator, validator_title="kierownik Biura Informatyki")
    services.device_sanitize(device=device, by=validator)
    (certificate,) = documents_of(device, DocumentKind.SANITIZATION_CERTIFICATE)
    assert certificate.title == "Certyfikat sanityzacji urządzenia UML/2010/KOMP/003"
    text = pdf_text(certificate)
    assert_contains(text, "Certyfikat sanityzacji", "Nośniki danych", "Pojemność", "Osoba wykonująca sanityzację",
                    "Imię i nazwisko", "Informacje o nośniku", "Numer inwentarzowy nośnika", "Klasyfikacja",
                    "dane osobowe", "Szczegóły sanityzacji", "Typ metody", "Purge (usunięcie)", "Zastosowana metoda",
                    "nadpisanie", "Liczba przebiegów nadpisania: 1", "Użyte narzędzie (z wersją)",
                    "Metoda i wynik weryfikacji", "pełna: wynik pozytywny", "Przeznaczenie nośnika", "opuszcza urząd",
                    "Zatwierdzenie", "Podpis osoby weryfikującej", "Dokumenty powołane", "NIST SP 800-88",
                    "IEEE 2883-2022", "zabezpieczenia 7.14", "8.10 (usuwanie informacji)", certificate.code)
    assert_contains(text, TECHNICIAN, VALIDATOR, PLACE, "kierownik Biura Informatyki",
                    "W6A0XK2B", "UML/2010/KOMP/003", "Seagate", "zera")
    page = client.get(f"/verify/{certificate.code}/")
    assert page.status_code == 200 and certificate.code in page.content.decode()
