"""Evidence recorded after a device left the office: the proof of a wipe, or of no medium, that the recipient or
the collector sends back closes the compliance gap "data may have left the office" through the API, with every
other rule of the wipe app kept (fitness, two people, a destination outside the office, a lost device refused,
the media of a gone device never edited or taken out)."""
from datetime import datetime

import pytest
from django.utils import timezone

from assets import services as asset_services
from assets.choices import DeviceKind, DeviceStatus, MediumKind
from assets.models import Device, DeviceEvent
from core.exceptions import GuardFailed
from core.roles import Role
from reports.compliance import run_check
from tests.factories import UserFactory, make_device, make_medium, make_retired, sanitize, wipe_facts
from wipe.choices import WipeEventKind
from wipe.models import DiskRemoval, NoMediaConfirmation, Sanitization, WipeEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def technician():
    return UserFactory(roles=[Role.IT_OFFICE], first_name="Łukasz", last_name="Żółkiewski")


@pytest.fixture
def validator():
    return UserFactory(roles=[Role.IT_OFFICE], first_name="Grażyna", last_name="Śliwińska")


def gaps() -> list[str]:
    """The devices the compliance check reports as "data may have left the office"."""
    return [gap.record.label for gap in run_check(kinds=["data_left_office"]).gaps]


def today() -> str:
    return timezone.localdate().strftime("%d.%m.%Y")


def collector_proof(medium, **overrides) -> dict:
    """The collector's certificate of a cryptographic erase of an SSD, as the clerk types it in."""
    facts = wipe_facts(technique="crypto_erase", destination="recycling", organization="Eko-Leszno Sp. z o.o.",
                       location="Leszno, ul. Przemysłowa 3", tool="Blancco Drive Eraser", tool_version="7.9",
                       notes="zaświadczenie nr EKO/2021/0815")
    del facts["overwrite_passes"], facts["pattern"]
    facts.update(overrides)
    return {"medium": medium.pk, **{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in facts.items()}}


def scrapped_with_an_unwiped_ssd(technician, validator):
    """Imported history: a sanitized laptop with a second disk recorded after its wipe, scrapped with it by an
    older system (the liquidation refuses it now), written to the database directly."""
    laptop = make_retired(kinds=("hdd",))
    sanitize(laptop, technician=technician, validator=validator)
    added = make_medium(device=laptop, kind=MediumKind.SSD, serial_number="SSD-ADDED-01", capacity_gb=512)
    laptop = imported_as(DeviceStatus.SCRAPPED, laptop)
    return laptop, added


def imported_as(status: str, device: Device) -> Device:
    """Imported history: an older system registered the device as already gone (no service lets a device
    leave with its media unaccounted for), written to the database directly."""
    Device.objects.filter(pk=device.pk).update(status=status, status_changed_at=timezone.now())
    device.refresh_from_db()
    return device


def test_the_collectors_proof_of_a_wipe_is_recorded_and_validated_late_and_the_gap_is_closed(
        api_en, technician, validator):
    laptop, added = scrapped_with_an_unwiped_ssd(technician, validator)
    assert gaps() == [laptop.inventory_number]
    device_events = DeviceEvent.objects.filter(device=laptop).count()

    recorded = api_en(technician).post("/api/sanitizations/", collector_proof(added, device=laptop.pk), format="json")
    assert recorded.status_code == 201, recorded.data
    assert recorded.data["status"] == "recorded" and recorded.data["device_inventory_number"] == laptop.inventory_number
    event = WipeEvent.objects.get(sanitization_id=recorded.data["id"], kind=WipeEventKind.RECORDED)
    assert event.reason == f"evidence recorded after the device left the office (scrapped on {today()})"
    assert gaps() == [laptop.inventory_number]  # a record awaiting validation proves nothing yet

    url = f"/api/sanitizations/{recorded.data['id']}/validate/"
    own = api_en(technician).post(url, {}, format="json")
    assert own.status_code == 409 and "validated_by" in own.data  # still two different people
    validated = api_en(validator).post(url, {"validator_title": "kierownik Biura Informatyki"}, format="json")
    assert validated.status_code == 200, validated.data
    assert validated.data["status"] == "validated" and validated.data["fit_to_leave"] is True

    assert gaps() == []
    laptop.refresh_from_db()
    assert laptop.status == DeviceStatus.SCRAPPED  # validation moves no device
    assert DeviceEvent.objects.filter(device=laptop).count() == device_events


def test_a_late_record_is_judged_by_the_same_fitness_rules(api_en, technician, validator):
    laptop, added = scrapped_with_an_unwiped_ssd(technician, validator)
    # An overwrite is only Clear on an SSD: not enough for a medium that left the office.
    response = api_en(technician).post("/api/sanitizations/", collector_proof(
        added, technique="overwrite", method_class="purge", overwrite_passes=1), format="json")
    assert response.status_code == 400 and "method_class" in response.data
    assert not Sanitization.objects.filter(medium=added).exists()
    assert gaps() == [laptop.inventory_number]


def test_a_gone_device_s_media_cannot_be_said_to_stay_in_the_office(api_en, technician, validator):
    laptop, added = scrapped_with_an_unwiped_ssd(technician, validator)
    client = api_en(technician)

    response = client.post("/api/sanitizations/", collector_proof(added, destination="internal_reuse"), format="json")
    assert response.status_code == 400 and "destination" in response.data
    assert "has left the office (scrapped)" in str(response.data["destination"])
    assert not Sanitization.objects.filter(medium=added).exists()

    # Nor by editing a late record while it awaits validation.
    recorded = client.post("/api/sanitizations/", collector_proof(added, destination="destruction"), format="json")
    assert recorded.status_code == 201, recorded.data
    edited = client.patch(f"/api/sanitizations/{recorded.data['id']}/", {"destination": "internal_reuse"},
                          format="json")
    assert edited.status_code == 400 and "destination" in edited.data
    assert Sanitization.objects.get(pk=recorded.data["id"]).destination == "destruction"


def test_the_recipients_written_answer_that_a_transferred_monitor_holds_no_medium_closes_the_gap(
        api_en, it_user):
    monitor = imported_as(DeviceStatus.TRANSFERRED, make_device(kind=DeviceKind.MONITOR, manufacturer="Dell",
                                                                model="E2214H"))
    assert gaps() == [monitor.inventory_number]
    client = api_en(it_user)
    listed = client.get("/api/devices-to-sanitize/")
    assert monitor.pk not in [row["id"] for row in listed.data["results"]]  # the list stays the retired devices

    url = f"/api/devices-to-sanitize/{monitor.pk}/confirm-no-media/"
    response = client.post(url, {"how_checked": "pismo Fundacji Komputer dla Ucznia z 12.03.2025: monitor bez "
                                                "nośnika danych"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "transferred" and response.data["no_media_confirmed"] is True

    assert gaps() == []
    event = WipeEvent.objects.get(device=monitor, kind=WipeEventKind.NO_MEDIA)
    assert event.reason.startswith(f"evidence recorded after the device left the office (transferred on {today()})")
    assert "pismo Fundacji" in event.reason
    again = client.post(url, {"how_checked": "jeszcze raz"}, format="json")
    assert again.status_code == 409  # confirmed once


def test_the_late_evidence_is_written_in_polish_for_a_polish_clerk(api, it_user):
    monitor = imported_as(DeviceStatus.SCRAPPED, make_device(kind=DeviceKind.MONITOR))
    response = api(it_user).post(f"/api/devices-to-sanitize/{monitor.pk}/confirm-no-media/",
                                 {"how_checked": "odpowiedź firmy odbierającej odpady"}, format="json")
    assert response.status_code == 200, response.data
    reason = WipeEvent.objects.get(device=monitor, kind=WipeEventKind.NO_MEDIA).reason
    assert reason.startswith(f"dowód zapisany po tym, jak urządzenie opuściło urząd (zlikwidowane dnia {today()})")


def test_a_lost_device_takes_no_late_evidence(api_en, it_user, technician):
    laptop = make_retired(kinds=("ssd",))
    (ssd,) = laptop.media.all()
    asset_services.device_report_lost(device=laptop, by=technician, reference="zgłoszenie policji RSD-123/21")
    monitor = make_device(kind=DeviceKind.MONITOR)
    asset_services.device_report_lost(device=monitor, by=technician, reference="zgłoszenie policji RSD-124/21")
    client = api_en(technician)

    response = client.post("/api/sanitizations/", collector_proof(ssd), format="json")
    assert response.status_code == 409 and "medium" in response.data
    assert "left the register (lost or stolen)" in str(response.data["medium"])
    response = api_en(it_user).post(f"/api/devices-to-sanitize/{monitor.pk}/confirm-no-media/",
                                    {"how_checked": "nie wiadomo"}, format="json")
    assert response.status_code == 409
    assert not Sanitization.objects.exists() and not NoMediaConfirmation.objects.exists()


def test_the_media_of_a_gone_device_are_still_never_taken_out_or_edited(api_en, technician, validator):
    laptop, added = scrapped_with_an_unwiped_ssd(technician, validator)
    response = api_en(technician).post("/api/disk-removals/", {"medium": added.pk, "kept_at": "sejf pok. 12",
                                                               "held_by": "Łukasz Żółkiewski"}, format="json")
    assert response.status_code == 409 and "medium" in response.data
    assert not DiskRemoval.objects.exists()
    with pytest.raises(GuardFailed):
        asset_services.storage_medium_update(medium=added, by=technician, serial_number="SSD-OTHER")
    with pytest.raises(GuardFailed):
        asset_services.storage_medium_add(by=technician, device=laptop, kind=MediumKind.HDD, capacity_gb=500)
    added.refresh_from_db()
    assert added.serial_number == "SSD-ADDED-01" and added.removed_at is None


def test_the_admin_records_the_wipe_of_a_gone_device_s_medium_but_offers_no_lost_one(client, technician,
                                                                                     validator):
    laptop, added = scrapped_with_an_unwiped_ssd(technician, validator)
    lost = make_retired(kinds=("hdd",))
    (lost_hdd,) = lost.media.all()
    asset_services.device_report_lost(device=lost, by=technician, reference="RSD-125/21")
    client.force_login(technician)

    page = client.get("/admin/wipe/sanitization/add/")
    offered = set(page.context["adminform"].form.fields["medium"].queryset)
    assert added in offered and lost_hdd not in offered

    proof = collector_proof(added)
    form = {name: value for name, value in proof.items() if name not in ("started_at", "finished_at")}
    for name in ("started_at", "finished_at"):
        moment = timezone.localtime(datetime.fromisoformat(proof[name]))
        form.update({f"{name}_0": moment.strftime("%d.%m.%Y"), f"{name}_1": moment.strftime("%H:%M:%S")})
    form.update({"data_classification": "personal", "data_backed_up": "unknown", "post_classification": "none"})
    response = client.post("/admin/wipe/sanitization/add/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    record = Sanitization.objects.get(medium=added)
    assert (record.device, record.destination, record.status) == (laptop, "recycling", "recorded")
    assert record.events.get().reason.startswith("dowód zapisany po tym, jak urządzenie opuściło urząd")
