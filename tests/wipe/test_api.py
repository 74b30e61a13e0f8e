"""Wipes through the API: the journey of a retired laptop with an HDD and an SSD through a wipe session to
"sanitized", every refusal on the way (400/409 naming the field, nothing written), immutability of
validated records, disk removal with custody and destruction, and who may do what."""
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assets.choices import DeviceStatus
from assets.models import DeviceEvent, StorageMedium
from core.models import StoredDocument
from core.roles import Role
from tests.factories import UserFactory, make_device, make_medium, make_retired, wipe_facts
from wipe import services
from wipe.models import CustodyEntry, DiskRemoval, Sanitization, WipeEvent, WipeEvidence, WipeSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_en):
    """The API in English, so that the reasons asserted below read as in the code (Polish is tested apart)."""
    return api_en

MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF\n")


def iso(moment):
    return moment.isoformat()


def result(medium, **overrides):
    """A session result payload for `medium` that passes, built from the shared wipe facts."""
    data = {key: (iso(value) if hasattr(value, "isoformat") else value) for key, value in wipe_facts().items()}
    data.update({"medium": medium.pk, "passed": True})
    data.update(overrides)
    return data


@pytest.fixture
def technician():
    return UserFactory(roles=[Role.IT_OFFICE], first_name="Łukasz", last_name="Żółkiewski")


@pytest.fixture
def validator():
    return UserFactory(roles=[Role.IT_OFFICE], first_name="Grażyna", last_name="Śliwińska")


def written():
    return (Sanitization.objects.count(), WipeEvent.objects.count(), DeviceEvent.objects.count(),
            StoredDocument.objects.count())


def test_a_retired_laptop_with_an_hdd_and_an_ssd_goes_through_a_wipe_session_to_sanitized(api, technician, validator):
    laptop = make_retired(kinds=("hdd", "ssd"), inventory_number="UML/2010/KOMP/001")
    hdd, ssd = laptop.media.order_by("id")
    other = make_retired(kinds=("hdd",), inventory_number="UML/2010/KOMP/002")
    (other_hdd,) = other.media.all()
    tech, val = api(technician), api(validator)

    opened = tech.post("/api/wipe-sessions/", {"devices": [laptop.pk], "location": "Biuro Informatyki, pok. 12",
                                               "tool": "nwipe", "tool_version": "0.34"}, format="json")
    assert opened.status_code == 201, opened.data
    session = opened.data["id"]
    url = f"/api/wipe-sessions/{session}/record-result/"
    before = written()

    # An end before the start.
    start = timezone.now() - timedelta(hours=1)
    response = tech.post(url, result(hdd, started_at=iso(start), finished_at=iso(start - timedelta(minutes=5))),
                         format="json")
    assert response.status_code == 400 and "finished_at" in response.data
    # A medium of another device (not on this session's cart; and named with the wrong device directly).
    response = tech.post(url, result(other_hdd), format="json")
    assert response.status_code == 400 and "medium" in response.data
    response = tech.post("/api/sanitizations/", {**result(other_hdd), "device": laptop.pk}, format="json")
    assert response.status_code == 400 and "UML/2010/KOMP/002" in response.data["medium"][0]
    # Overwrite claimed as Purge on the SSD: the fitness rules refuse it, with the reason.
    response = tech.post(url, result(ssd), format="json")
    assert response.status_code == 400 and "remaps blocks" in response.data["method_class"][0]
    # A failed verification is not a sanitization.
    response = tech.post(url, result(ssd, technique="crypto_erase", verification_result="failed"), format="json")
    assert response.status_code == 400 and "verification_result" in response.data
    # Tool reports that prove nothing for this cart: serials that match nothing, a truncated log, garbage.
    samples = Path(__file__).parent / "samples"
    for name, content in [("prng_2rounds_noblank.serials.log", None), ("zero_2drives.serials.truncated.log", None),
                          ("garbage.log", bytes(range(256)) * 4)]:
        content = (samples / name).read_bytes() if content is None else content
        response = tech.post("/api/wipe-reports/", {"file": SimpleUploadedFile(name, content), "session": session},
                             format="multipart")
        assert response.status_code == 400 and "file" in response.data, name
    assert written() == before and not WipeEvidence.objects.exists()  # nothing half-saved

    # The SSD's first attempt failed: noted on the cart for the second attempt.
    response = tech.post(url, {"medium": ssd.pk, "passed": False, "failure_reason": "błąd odczytu sektora"},
                         format="json")
    assert response.status_code == 200, response.data
    assert "błąd odczytu sektora" in response.data["entries"][0]["failure_reason"]

    # The HDD passes; the gate still refuses the laptop and lists the SSD.
    assert tech.post(url, result(hdd), format="json").status_code == 200
    hdd_record = Sanitization.objects.get(medium=hdd)
    gate = val.post(f"/api/devices-to-sanitize/{laptop.pk}/sanitize/", {}, format="json")
    assert gate.status_code == 409
    assert [m["serial_number"] for m in gate.data["media_missing"]] == [hdd.serial_number, ssd.serial_number]
    # The validator who is the technician.
    response = tech.post(f"/api/sanitizations/{hdd_record.pk}/validate/", {}, format="json")
    assert response.status_code == 409 and "validated_by" in response.data
    hdd_record.refresh_from_db()
    assert hdd_record.status == "recorded"

    # The SSD wiped again, by cryptographic erase, which is Purge for flash.
    assert tech.post(url, result(ssd, technique="crypto_erase", overwrite_passes=None, pattern=""),
                     format="json").status_code == 200

    closed = val.post(f"/api/wipe-sessions/{session}/close/", {"validator_title": "Kierownik Biura Informatyki"},
                      format="json")
    assert closed.status_code == 200, closed.data
    assert closed.data["passed"] == ["UML/2010/KOMP/001"] and closed.data["failed"] == []
    assert closed.data["session"]["status"] == "closed"
    assert [d["kind"] for d in closed.data["session"]["documents"]] == ["wipe_session_summary"]
    laptop.refresh_from_db()
    assert laptop.status == DeviceStatus.SANITIZED
    event = laptop.events.first()
    assert event.to_status == DeviceStatus.SANITIZED and event.actor == validator
    assert event.document.kind == "sanitization_certificate" and event.document.subject == laptop
    records = Sanitization.objects.filter(device=laptop)
    assert {(r.medium_id, r.status, r.fit_to_leave, r.validated_by_id) for r in records} == {
        (hdd.pk, "validated", True, validator.pk), (ssd.pk, "validated", True, validator.pk)}
    assert val.get(f"/verify/{event.document.code}/").status_code == 200

    # A validated record is evidence: no edit, no delete, through the API.
    response = tech.patch(f"/api/sanitizations/{hdd_record.pk}/", {"notes": "poprawka"}, format="json")
    assert response.status_code == 409 and "evidence" in response.data["detail"]
    assert tech.delete(f"/api/sanitizations/{hdd_record.pk}/").status_code == 409
    hdd_record.refresh_from_db()
    assert hdd_record.notes == "" and hdd_record.status == "validated"


def test_a_session_lists_its_failures_and_opens_a_second_attempt(api, technician, validator):
    good = make_retired(kinds=("hdd",))
    bad = make_retired(kinds=("hdd", "ssd"))
    session = services.session_open(by=technician, devices=[good, bad], location="Biuro Informatyki")
    for medium in [*good.media.all(), bad.media.get(kind="hdd")]:
        services.session_record_result(session=session, by=technician, medium=medium, passed=True, **wipe_facts())
    services.session_record_result(session=session, by=technician, medium=bad.media.get(kind="ssd"), passed=False,
                                   failure_reason="nwipe: aborted")
    closed = api(validator).post(f"/api/wipe-sessions/{session.pk}/close/", {}, format="json")
    assert closed.data["passed"] == [good.inventory_number]
    (failure,) = closed.data["failed"]
    assert failure["inventory_number"] == bad.inventory_number
    assert "nwipe: aborted" in failure["reason"] and bad.media.get(kind="ssd").serial_number in failure["reason"]
    retry = api(technician).post(f"/api/wipe-sessions/{session.pk}/retry/", {}, format="json")
    assert retry.status_code == 201
    assert [e["inventory_number"] for e in retry.data["entries"]] == [bad.inventory_number]
    assert retry.data["retry_of"] == session.pk
    # A device sits on one open session at a time; a closed session takes no more results.
    again = api(technician).post("/api/wipe-sessions/", {"devices": [bad.pk], "location": "x"}, format="json")
    assert again.status_code == 409 and "devices" in again.data
    late = api(technician).post(f"/api/wipe-sessions/{session.pk}/record-result/",
                                result(bad.media.get(kind="ssd")), format="json")
    assert late.status_code == 409


def test_only_retired_devices_are_wiped_in_a_session(api, technician):
    in_use = make_device()
    response = api(technician).post("/api/wipe-sessions/", {"devices": [in_use.pk], "location": "x"}, format="json")
    assert response.status_code == 409 and "devices" in response.data
    assert not WipeSession.objects.exists()


def test_a_correction_supersedes_a_validated_record_once_validated_and_both_stay_visible(api, technician, validator):
    laptop = make_retired(kinds=("hdd",))
    (hdd,) = laptop.media.all()
    record = services.sanitization_record(by=technician, medium=hdd, **wipe_facts(pattern="zera"))
    services.sanitization_validate(sanitization=record, by=validator)
    client = api(technician)
    refused = client.post(f"/api/sanitizations/{record.pk}/correct/", {"pattern": "losowe"}, format="json")
    assert refused.status_code == 400 and "correction_reason" in refused.data
    corrected = client.post(f"/api/sanitizations/{record.pk}/correct/",
                            {"pattern": "dane losowe (PRNG)", "correction_reason": "błędnie wpisany wzorzec"},
                            format="json")
    assert corrected.status_code == 201, corrected.data
    assert corrected.data["supersedes"] == record.pk and corrected.data["status"] == "recorded"
    assert client.get(f"/api/sanitizations/{record.pk}/").data["status"] == "validated"  # counts until then
    assert api(validator).post(f"/api/sanitizations/{corrected.data['id']}/validate/", {},
                               format="json").status_code == 200
    listed = {r["id"]: r for r in client.get(f"/api/sanitizations/?device_id={laptop.pk}").data["results"]}
    assert listed[record.pk]["status"] == "superseded" and listed[record.pk]["superseded_by"] == corrected.data["id"]
    assert listed[corrected.data["id"]]["pattern"] == "dane losowe (PRNG)"
    second = client.post(f"/api/sanitizations/{record.pk}/correct/", {"correction_reason": "jeszcze raz"},
                         format="json")
    assert second.status_code == 409


def test_a_recorded_wipe_can_be_edited_or_rejected_with_a_reason(api, technician, validator):
    laptop = make_retired(kinds=("hdd",))
    record = services.sanitization_record(by=technician, medium=laptop.media.get(), **wipe_facts())
    edited = api(technician).patch(f"/api/sanitizations/{record.pk}/", {"overwrite_passes": 3}, format="json")
    assert edited.status_code == 200 and edited.data["overwrite_passes"] == 3
    bad = api(technician).patch(f"/api/sanitizations/{record.pk}/", {"verification": "none"}, format="json")
    assert bad.status_code == 400 and "verification" in bad.data
    assert api(validator).post(f"/api/sanitizations/{record.pk}/reject/", {}, format="json").status_code == 400
    rejected = api(validator).post(f"/api/sanitizations/{record.pk}/reject/", {"reason": "brak raportu narzędzia"},
                                   format="json")
    assert rejected.status_code == 200 and rejected.data["status"] == "rejected"
    assert api(technician).patch(f"/api/sanitizations/{record.pk}/", {"notes": "x"}, format="json").status_code == 409
    assert api(validator).post(f"/api/sanitizations/{record.pk}/validate/", {}, format="json").status_code == 409


def test_a_removed_disk_is_held_in_custody_then_destroyed_with_a_certificate(api, technician, validator):
    laptop = make_retired(kinds=("hdd",))
    (hdd,) = laptop.media.all()
    client = api(technician)
    removed = client.post("/api/disk-removals/", {"medium": hdd.pk, "device": laptop.pk,
                                                  "kept_at": "sejf w pok. 12", "held_by": "Łukasz Żółkiewski"},
                          format="json")
    assert removed.status_code == 201, removed.data
    removal = removed.data["id"]
    assert removed.data["status"] == "held" and len(removed.data["custody"]) == 1
    assert [d["kind"] for d in removed.data["documents"]] == ["disk_removal_protocol"]
    hdd.refresh_from_db()
    assert hdd.removed_at is not None
    assert not StorageMedium.objects.filter(device=laptop).inside().exists()
    # A removed medium is not wiped in place, nor removed twice.
    assert client.post("/api/sanitizations/", result(hdd), format="json").status_code == 409
    assert client.post("/api/disk-removals/", {"medium": hdd.pk, "kept_at": "x", "held_by": "y"},
                       format="json").status_code == 409
    # The laptop passes the gate: its only medium is out.
    assert api(validator).post(f"/api/devices-to-sanitize/{laptop.pk}/sanitize/", {},
                               format="json").status_code == 200

    handed = client.post(f"/api/disk-removals/{removal}/custody/", {"kept_at": "magazyn Wydziału Administracyjnego",
                                                                   "handed_to": "Grażyna Śliwińska"}, format="json")
    assert handed.status_code == 200 and handed.data["held_by"] == "Grażyna Śliwińska"
    assert len(handed.data["custody"]) == 2
    today = timezone.localdate()
    not_pdf = client.post(f"/api/disk-removals/{removal}/record-destruction/", {
        "destroyed_on": today.isoformat(), "destruction_method": "shred", "destruction_company": "Eko-Niszczarnia",
        "certificate_number": "CN/2026/118", "certificate_scan": SimpleUploadedFile("cert.pdf", b"<html>", "text/html"),
    }, format="multipart")
    assert not_pdf.status_code == 400 and "certificate_scan" in not_pdf.data
    future = client.post(f"/api/disk-removals/{removal}/record-destruction/", {
        "destroyed_on": (today + timedelta(days=1)).isoformat(), "destruction_method": "shred",
        "destruction_company": "Eko-Niszczarnia", "certificate_number": "CN/2026/118"}, format="multipart")
    assert future.status_code == 400 and "destroyed_on" in future.data
    assert DiskRemoval.objects.get(pk=removal).status == "held"
    destroyed = client.post(f"/api/disk-removals/{removal}/record-destruction/", {
        "destroyed_on": today.isoformat(), "destruction_method": "shred", "destruction_company": "Eko-Niszczarnia",
        "certificate_number": "CN/2026/118",
        "certificate_scan": SimpleUploadedFile("cert.pdf", MINIMAL_PDF, "application/pdf"),
    }, format="multipart")
    assert destroyed.status_code == 200, destroyed.data
    assert destroyed.data["status"] == "destroyed" and destroyed.data["has_certificate_scan"]
    assert len(destroyed.data["documents"]) == 2
    late = client.post(f"/api/disk-removals/{removal}/custody/", {"kept_at": "x", "handed_to": "y"}, format="json")
    assert late.status_code == 409
    assert CustodyEntry.objects.filter(removal_id=removal).count() == 2


def test_a_device_with_no_media_on_record_needs_a_named_confirmation(api, technician, validator):
    monitor = make_retired(kinds=(), kind="monitor")
    refused = api(validator).post(f"/api/devices-to-sanitize/{monitor.pk}/sanitize/", {}, format="json")
    assert refused.status_code == 409 and "no storage media on record" in refused.data["media"][0]
    listed = api(technician).get(f"/api/devices-to-sanitize/{monitor.pk}/").data
    assert listed["ready"] is False and listed["no_media_confirmed"] is False
    assert api(technician).post(f"/api/devices-to-sanitize/{monitor.pk}/confirm-no-media/", {},
                                format="json").status_code == 400
    confirmed = api(technician).post(f"/api/devices-to-sanitize/{monitor.pk}/confirm-no-media/",
                                     {"how_checked": "obudowa otwarta, brak dysku i pamięci"}, format="json")
    assert confirmed.status_code == 200 and confirmed.data["ready"] is True
    assert monitor.no_media_confirmation.confirmed_by == technician
    assert api(validator).post(f"/api/devices-to-sanitize/{monitor.pk}/sanitize/", {}, format="json").status_code == 200
    # A device with media cannot be confirmed to have none.
    laptop = make_retired(kinds=("ssd",))
    response = api(technician).post(f"/api/devices-to-sanitize/{laptop.pk}/confirm-no-media/",
                                    {"how_checked": "nie sprawdzano"}, format="json")
    assert response.status_code == 409


@pytest.mark.parametrize(("role", "can_read", "can_record"), [
    (Role.IT_OFFICE, True, True),
    (Role.LEGAL_OFFICE, True, False),
    (Role.AUDITOR, True, False),
    (Role.PROJECT_MANAGER, False, False),
    (Role.COUNCILLOR, False, False),
])
def test_who_may_read_and_record_wipes(api, role, can_read, can_record):
    laptop = make_retired(kinds=("hdd",))
    client = api(UserFactory(roles=[role]))
    for url in ["/api/sanitizations/", "/api/disk-removals/", "/api/wipe-sessions/", "/api/wipe-reports/",
                "/api/devices-to-sanitize/"]:
        assert (client.get(url).status_code == 200) is can_read, url
    response = client.post("/api/sanitizations/", result(laptop.media.get()), format="json")
    assert (response.status_code == 201) is can_record
    if not can_record:
        assert response.status_code == 403 and not Sanitization.objects.exists()


def test_lists_cost_the_same_queries_for_one_record_and_for_many(api, technician, validator):
    client = api(technician)

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def add_device():
        laptop = make_retired(kinds=("hdd", "ssd"))
        hdd, ssd = laptop.media.order_by("id")
        record = services.sanitization_record(by=technician, medium=hdd, **wipe_facts())
        services.sanitization_validate(sanitization=record, by=validator)
        services.disk_remove(medium=ssd, by=technician, kept_at="sejf", held_by="Jan")
        services.session_open(by=technician, devices=[laptop], location="pok. 12")

    add_device()
    urls = ["/api/sanitizations/", "/api/disk-removals/", "/api/wipe-sessions/", "/api/devices-to-sanitize/"]
    one = {url: queries(url) for url in urls}
    for _ in range(4):
        add_device()
    assert {url: queries(url) for url in urls} == one
