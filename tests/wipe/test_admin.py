"""The wipe app in the admin: every write goes through wipe.services, every refusal is a message (and
the reason beside its field), and a validated record is evidence that no page can change or delete."""
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib import messages as message_levels
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from django.utils.html import escape

from assets.choices import DeviceStatus
from assets.models import StorageMedium
from core.models import StoredDocument
from core.roles import Role
from tests.factories import UserFactory, make_medium, make_retired, wipe_facts
from wipe import fitness, services
from wipe.choices import (
    RemovalStatus,
    SanitizationStatus,
    SessionOutcome,
    SessionStatus,
    WipeEventKind,
)
from wipe.models import (
    CustodyEntry,
    DiskRemoval,
    NoMediaConfirmation,
    Sanitization,
    WipeEvent,
    WipeEvidence,
    WipeSession,
)

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "samples"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def technician():
    return UserFactory(roles=[Role.IT_OFFICE], first_name="Tomasz", last_name="Technik")


@pytest.fixture
def validator():
    return UserFactory(roles=[Role.IT_OFFICE], first_name="Wanda", last_name="Walidator")


@pytest.fixture
def tech_client(client, technician):
    client.force_login(technician)
    return client


@pytest.fixture
def validator_client(technician, validator):
    from django.test import Client

    other = Client()
    other.force_login(validator)
    return other


def _messages(response, level=None):
    return [m for m in get_messages(response.wsgi_request) if level is None or m.level == level]


def _levels(response):
    return [m.level for m in _messages(response)]


def _action(client, url, action, objects, **form):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **form}
    return client.post(url, data, follow=True)


def _moment(moment, name: str, prefix: str = "") -> dict:
    local = timezone.localtime(moment)
    return {f"{prefix}{name}_0": local.strftime("%d.%m.%Y"), f"{prefix}{name}_1": local.strftime("%H:%M:%S")}


def _facts_form(prefix: str = "", **overrides) -> dict:
    """What the technician types into the admin form, for wipe_facts(**overrides)."""
    facts = wipe_facts(**overrides)
    data = {"data_classification": "personal", "data_backed_up": "unknown", "post_classification": "none",
            "organization": "", "backup_location": "", "method_details": "", "notes": "",
            "destination_details": "", "performer_title": "", "performer_phone": ""}
    data.update({k: ("" if v is None else v) for k, v in facts.items() if k not in ("started_at", "finished_at")})
    if data.pop("encryption_enabled", False):
        data["encryption_enabled"] = "on"
    data = {f"{prefix}{k}": v for k, v in data.items()}
    data.update(_moment(facts["started_at"], "started_at", prefix))
    data.update(_moment(facts["finished_at"], "finished_at", prefix))
    return data


def _inline_data(page) -> dict:
    """What a browser posts back for the page's (read-only) inlines: management forms and hidden ids."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        for form in formset.forms:
            data.update({field.html_name: field.value() or "" for field in form if field.is_hidden})
    return data


def _record(medium, by, **overrides):
    return services.sanitization_record(by=by, medium=medium, device=medium.device, **wipe_facts(**overrides))


def _validated(medium, by, validator, **overrides):
    return services.sanitization_validate(sanitization=_record(medium, by, **overrides), by=validator)


# --- pages -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", [
    "sanitization/", "sanitization/add/", "diskremoval/", "diskremoval/add/", "wipesession/", "wipesession/add/",
    "wipeevidence/", "devicetosanitize/", "nomediaconfirmation/"])
def test_every_wipe_page_opens_and_searches(tech_client, technician, validator, page):
    device = make_retired(kinds=("hdd", "ssd"))
    hdd, ssd = device.media.order_by("id")
    _validated(hdd, technician, validator)
    services.disk_remove(medium=ssd, by=technician, kept_at="sejf, pok. 12", held_by="Jan Nowak")
    services.session_open(by=technician, devices=[make_retired(kinds=("hdd",))], location="pok. 12")
    response = tech_client.get(f"/admin/wipe/{page}")
    assert response.status_code == 200
    if not page.endswith("add/"):
        assert tech_client.get(f"/admin/wipe/{page}", {"q": device.inventory_number}).status_code == 200


def test_the_record_pages_open_with_their_parts(tech_client, technician, validator):
    device = make_retired(kinds=("hdd", "ssd"))
    hdd, ssd = device.media.order_by("id")
    record = _validated(hdd, technician, validator)
    removal = services.disk_remove(medium=ssd, by=technician, kept_at="sejf", held_by="Jan Nowak")
    session = services.session_open(by=technician, devices=[make_retired(kinds=("hdd",))], location="pok. 12")
    for obj, inlines in [(record, {"wipeevent"}), (removal, {"custodyentry", "wipeevent"}),
                         (session, {"wipesessiondevice", "sanitization", "wipeevent"})]:
        page = tech_client.get(f"/admin/wipe/{obj._meta.model_name}/{obj.pk}/change/")
        assert page.status_code == 200
        assert {f.opts.model._meta.model_name for f in page.context["inline_admin_formsets"]} == inlines
        assert tech_client.get(f"/admin/wipe/{obj._meta.model_name}/{obj.pk}/history/").status_code == 200
    device_page = tech_client.get(f"/admin/wipe/devicetosanitize/{device.pk}/change/")
    assert device_page.status_code == 200 and 'name="_save"' not in device_page.content.decode()


# --- recording a wipe ------------------------------------------------------------------------------

def test_the_add_form_offers_only_media_inside_devices_in_the_register(tech_client, technician):
    device = make_retired(kinds=("hdd", "ssd"))
    hdd, ssd = device.media.order_by("id")
    services.disk_remove(medium=ssd, by=technician, kept_at="sejf", held_by="Jan Nowak")
    page = tech_client.get("/admin/wipe/sanitization/add/")
    offered = set(page.context["adminform"].form.fields["medium"].queryset)
    assert hdd in offered and ssd not in offered
    assert device.inventory_number in page.content.decode()  # the choice names the device


def test_recording_a_wipe_through_the_add_form(tech_client, technician):
    device = make_retired(kinds=("hdd", "ssd"))
    hdd = device.media.get(kind="hdd")
    response = tech_client.post("/admin/wipe/sanitization/add/", {"medium": hdd.pk, **_facts_form()})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    record = Sanitization.objects.get()
    assert (record.medium, record.device, record.status, record.performed_by) == (
        hdd, device, SanitizationStatus.RECORDED, technician)
    assert (record.method_class, record.technique, record.overwrite_passes) == ("purge", "overwrite", 1)
    assert record.organization  # the service filled in the office's name
    event = record.events.get()
    assert (event.kind, event.actor) == (WipeEventKind.RECORDED, technician)
    assert record.history.latest("history_id").history_user == technician


def test_a_wipe_that_does_not_fit_is_refused_with_the_reason_and_nothing_is_written(tech_client):
    device = make_retired(kinds=("hdd", "ssd"))
    ssd = device.media.get(kind="ssd")
    # Overwriting an SSD is only Clear: claiming Purge is refused by wipe.fitness, through the service.
    response = tech_client.post("/admin/wipe/sanitization/add/", {"medium": ssd.pk, **_facts_form(pattern="zera")})
    assert response.status_code == 200
    assert _levels(response) == [message_levels.ERROR]
    form = response.context["adminform"].form
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        (refusal,) = fitness.assess(kind="ssd", technique="overwrite", method_class="purge", overwrite_passes=1,
                                    verification="full", verification_result="passed", destination="leaves_office")
    assert refusal.field == "method_class" and form.errors["method_class"] == [refusal.reason]
    assert refusal.reason in str(_messages(response)[0])
    assert form.data["pattern"] == "zera"  # what was typed is kept
    assert not Sanitization.objects.exists() and not WipeEvent.objects.exists()


def test_a_recorded_wipe_is_edited_through_the_service(tech_client, technician):
    device = make_retired(kinds=("hdd",))
    record = _record(device.media.get(), technician)
    page = tech_client.get(f"/admin/wipe/sanitization/{record.pk}/change/")
    assert 'name="_save"' in page.content.decode() and 'name="pattern"' in page.content.decode()
    data = {**_inline_data(page), **_facts_form(pattern="losowe dane")}
    data.update(_moment(record.started_at, "started_at"))
    data.update(_moment(record.finished_at, "finished_at"))
    response = tech_client.post(f"/admin/wipe/sanitization/{record.pk}/change/", data)
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.pattern == "losowe dane" and record.status == SanitizationStatus.RECORDED
    assert record.events.latest("id").kind == WipeEventKind.EDITED
    # A refused edit is a message and the reason beside the field; the record stays as it was.
    refused = tech_client.post(f"/admin/wipe/sanitization/{record.pk}/change/", {**data, "technique": "nvme_sanitize"})
    assert refused.status_code == 200 and len(_messages(refused, message_levels.ERROR)) == 1
    assert "technique" in refused.context["adminform"].form.errors
    record.refresh_from_db()
    assert record.technique == "overwrite"


# --- validation and rejection ----------------------------------------------------------------------

def test_the_validate_action_by_a_second_clerk(validator_client, technician, validator):
    record = _record(make_retired(kinds=("hdd",)).media.get(), technician)
    page = _action(validator_client, "/admin/wipe/sanitization/", "validate", [record])
    assert page.status_code == 200 and 'name="validator_title"' in page.content.decode()
    done = _action(validator_client, "/admin/wipe/sanitization/", "validate", [record], apply="1",
                   validator_title="inspektor", validator_phone="41 367 00 00")
    assert _levels(done) == [message_levels.SUCCESS]
    record.refresh_from_db()
    assert (record.status, record.validated_by, record.validator_title, record.fit_to_leave) == (
        SanitizationStatus.VALIDATED, validator, "inspektor", True)
    assert record.events.latest("id").actor == validator


def test_the_technician_cannot_validate_their_own_wipe(tech_client, technician):
    record = _record(make_retired(kinds=("hdd",)).media.get(), technician)
    done = _action(tech_client, "/admin/wipe/sanitization/", "validate", [record], apply="1")
    assert done.status_code == 200 and _levels(done) == [message_levels.ERROR]
    assert record.device.inventory_number in str(_messages(done)[0])  # the message names the record
    record.refresh_from_db()
    assert (record.status, record.validated_by) == (SanitizationStatus.RECORDED, None)
    # The same from the record's page.
    page = tech_client.post(f"/admin/wipe/sanitization/{record.pk}/validate/", {}, follow=True)
    assert page.status_code == 200 and _levels(page) == [message_levels.ERROR]
    record.refresh_from_db()
    assert record.status == SanitizationStatus.RECORDED and record.events.count() == 1


def test_validating_from_the_record_page(validator_client, technician, validator):
    record = _record(make_retired(kinds=("hdd",)).media.get(), technician)
    page = validator_client.get(f"/admin/wipe/sanitization/{record.pk}/change/")
    assert {f.id for f in page.context["page_forms"]} == {"wipe-validate", "wipe-reject"}
    done = validator_client.post(f"/admin/wipe/sanitization/{record.pk}/validate/",
                                 {"validate-validator_title": "kierownik"}, follow=True)
    assert _levels(done) == [message_levels.SUCCESS]
    record.refresh_from_db()
    assert (record.status, record.validated_by, record.validator_title) == (
        SanitizationStatus.VALIDATED, validator, "kierownik")


def test_the_reject_action_asks_for_the_reason(validator_client, technician, validator):
    record = _record(make_retired(kinds=("hdd",)).media.get(), technician)
    page = _action(validator_client, "/admin/wipe/sanitization/", "reject", [record])
    assert 'name="reason"' in page.content.decode()
    missing = _action(validator_client, "/admin/wipe/sanitization/", "reject", [record], apply="1", reason="")
    assert missing.status_code == 200 and "reason" in missing.context["form"].errors
    done = _action(validator_client, "/admin/wipe/sanitization/", "reject", [record], apply="1",
                   reason="brak weryfikacji na nośniku")
    assert _levels(done) == [message_levels.SUCCESS]
    record.refresh_from_db()
    assert record.status == SanitizationStatus.REJECTED
    event = record.events.latest("id")
    assert (event.kind, event.actor, event.reason) == (WipeEventKind.REJECTED, validator,
                                                       "brak weryfikacji na nośniku")
    # A rejected record is evidence too: rejecting it again is a message.
    again = _action(validator_client, "/admin/wipe/sanitization/", "reject", [record], apply="1", reason="x")
    assert _levels(again) == [message_levels.ERROR]


def test_rejecting_from_the_record_page_needs_a_reason(validator_client, technician):
    record = _record(make_retired(kinds=("hdd",)).media.get(), technician)
    empty = validator_client.post(f"/admin/wipe/sanitization/{record.pk}/reject/", {"reject-reason": ""})
    assert empty.status_code == 200
    (reject,) = [f.form for f in empty.context["page_forms"] if f.id == "wipe-reject"]
    assert "reason" in reject.errors
    done = validator_client.post(f"/admin/wipe/sanitization/{record.pk}/reject/", {"reject-reason": "zły nośnik"})
    assert done.status_code == 302
    record.refresh_from_db()
    assert record.status == SanitizationStatus.REJECTED


# --- a validated record is evidence ----------------------------------------------------------------

def test_a_validated_record_cannot_be_edited_or_deleted_through_the_admin(tech_client, technician, validator):
    record = _validated(make_retired(kinds=("hdd",)).media.get(), technician, validator)
    before = Sanitization.objects.filter(pk=record.pk).values().get()
    url = f"/admin/wipe/sanitization/{record.pk}/"

    page = tech_client.get(f"{url}change/")
    content = page.content.decode()
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert 'name="_save"' not in content and 'name="_continue"' not in content
    assert 'name="pattern"' not in content and 'name="technique"' not in content  # shown, not editable
    assert "zera" in content
    assert page.context["page_forms"] == []  # no validate/reject for evidence

    data = {**_inline_data(page), **_facts_form(pattern="sfałszowane")}
    assert tech_client.post(f"{url}change/", data).status_code == 403
    assert tech_client.get(f"{url}delete/").status_code == 403
    assert tech_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    listing = tech_client.get("/admin/wipe/sanitization/")
    offered = {name for name, _label in listing.context["action_form"].fields["action"].choices}
    assert "delete_selected" not in offered
    bulk = _action(tech_client, "/admin/wipe/sanitization/", "delete_selected", [record], post="yes")
    assert bulk.status_code == 200
    # Nor can an old version be restored over it from the history.
    version = record.history.earliest("history_id").history_id
    assert tech_client.post(f"{url}history/{version}/", data).status_code == 403
    assert tech_client.get(f"{url}history/{version}/").status_code == 200  # reading an old version is fine

    assert Sanitization.objects.filter(pk=record.pk).values().get() == before
    assert record.events.count() == 2  # recorded, validated: nothing else


@pytest.mark.parametrize("status", [SanitizationStatus.REJECTED, SanitizationStatus.SUPERSEDED])
def test_rejected_and_superseded_records_are_read_only_too(tech_client, technician, validator, status):
    medium = make_retired(kinds=("hdd",)).media.get()
    if status == SanitizationStatus.REJECTED:
        record = services.sanitization_reject(sanitization=_record(medium, technician), by=validator, reason="nie")
    else:
        record = _validated(medium, technician, validator)
        new = services.sanitization_correct(sanitization=record, by=technician, correction_reason="literówka",
                                            pattern="zera (0x00)")
        services.sanitization_validate(sanitization=new, by=validator)
        record.refresh_from_db()
    assert record.status == status
    page = tech_client.get(f"/admin/wipe/sanitization/{record.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert tech_client.post(f"/admin/wipe/sanitization/{record.pk}/change/", _facts_form()).status_code == 403


def test_a_correction_through_the_admin_supersedes_the_old_record_once_validated(
        tech_client, validator_client, technician, validator):
    old = _validated(make_retired(kinds=("hdd",)).media.get(), technician, validator, pattern="zera")
    page = tech_client.get(f"/admin/wipe/sanitization/{old.pk}/change/")
    correct_url = f"/admin/wipe/sanitization/{old.pk}/correct/"
    assert correct_url in page.content.decode()

    form_page = tech_client.get(correct_url)
    assert form_page.status_code == 200
    form = form_page.context["adminform"].form
    assert form["pattern"].value() == "zera" and form["technique"].value() == "overwrite"  # prefilled

    prefilled = {name: form[name].value() for name in ["data_classification", "data_backed_up",
                                                       "post_classification", "method_class", "technique",
                                                       "overwrite_passes", "tool", "tool_version", "verification",
                                                       "verification_result", "destination", "location",
                                                       "organization"]}
    data = {**prefilled, **_moment(old.started_at, "started_at"), **_moment(old.finished_at, "finished_at"),
            "pattern": "zera, jedno przejście", "correction_reason": ""}
    missing = tech_client.post(correct_url, data)
    assert missing.status_code == 200 and "correction_reason" in missing.context["adminform"].form.errors
    assert Sanitization.objects.count() == 1

    done = tech_client.post(correct_url, {**data, "correction_reason": "wzorzec wpisany niepełnie"})
    new = Sanitization.objects.exclude(pk=old.pk).get()
    assert done.status_code == 302 and done["Location"] == f"/admin/wipe/sanitization/{new.pk}/change/"
    assert (new.supersedes, new.status, new.pattern, new.correction_reason) == (
        old, SanitizationStatus.RECORDED, "zera, jedno przejście", "wzorzec wpisany niepełnie")
    assert new.started_at == old.started_at  # unchanged facts are carried over exactly
    old.refresh_from_db()
    assert old.status == SanitizationStatus.VALIDATED  # the old one counts until the correction is validated

    # A second correction of the same record is refused with a message.
    again = tech_client.post(correct_url, {**data, "correction_reason": "jeszcze raz"})
    assert again.status_code == 200 and len(_messages(again, message_levels.ERROR)) == 1
    assert Sanitization.objects.count() == 2

    validator_client.post(f"/admin/wipe/sanitization/{new.pk}/validate/", {})
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (SanitizationStatus.SUPERSEDED, SanitizationStatus.VALIDATED)
    listing = tech_client.get("/admin/wipe/sanitization/")
    assert set(listing.context["cl"].result_list) == {old, new}
    old_page = tech_client.get(f"/admin/wipe/sanitization/{old.pk}/change/").content.decode()
    assert f"/admin/wipe/sanitization/{new.pk}/change/" in old_page  # "superseded by"
    new_page = tech_client.get(f"/admin/wipe/sanitization/{new.pk}/change/").content.decode()
    assert f"/admin/wipe/sanitization/{old.pk}/change/" in new_page  # "corrects record"


def test_the_correction_page_is_only_for_validated_records(tech_client, technician):
    record = _record(make_retired(kinds=("hdd",)).media.get(), technician)
    page = tech_client.get(f"/admin/wipe/sanitization/{record.pk}/change/")
    assert page.context["page_links"] == []
    data = {**_facts_form(), "correction_reason": "po co"}
    refused = tech_client.post(f"/admin/wipe/sanitization/{record.pk}/correct/", data)
    assert refused.status_code == 200 and _levels(refused) == [message_levels.ERROR]
    assert Sanitization.objects.count() == 1


# --- disk removal, custody, destruction ------------------------------------------------------------

def test_disk_removal_custody_and_destruction(tech_client, technician):
    device = make_retired(kinds=("hdd", "ssd"))
    ssd = device.media.get(kind="ssd")
    added = tech_client.post("/admin/wipe/diskremoval/add/", {
        "medium": ssd.pk, "kept_at": "sejf, pok. 12", "held_by": "Jan Nowak", "removed_at_0": "",
        "removed_at_1": "", "notes": "wyjęty śrubokrętem"})
    assert added.status_code == 302, added.context["adminform"].form.errors if added.context else ""
    removal = DiskRemoval.objects.get()
    assert (removal.medium, removal.device, removal.status, removal.removed_by) == (
        ssd, device, RemovalStatus.HELD, technician)
    ssd.refresh_from_db()
    assert ssd.removed_at is not None and removal.custody.count() == 1
    protocol = StoredDocument.objects.get(kind="disk_removal_protocol")
    url = f"/admin/wipe/diskremoval/{removal.pk}/"

    page = tech_client.get(f"{url}change/")
    content = page.content.decode()
    assert f"/documents/{protocol.code}/download/" in content
    assert {f.id for f in page.context["page_forms"]} == {"wipe-custody", "wipe-destroy"}
    assert 'name="_save"' not in content and 'name="kept_at"' not in content.replace('name="custody-kept_at"', "")
    assert tech_client.post(f"{url}change/", {"kept_at": "gdzie indziej"}).status_code == 403

    moved = tech_client.post(f"{url}custody/", {"custody-kept_at": "szafa pancerna", "custody-handed_to": "Anna Lis",
                                                "custody-at_0": "", "custody-at_1": "", "custody-notes": ""})
    assert moved.status_code == 302
    removal.refresh_from_db()
    assert (removal.kept_at, removal.held_by, removal.custody.count()) == ("szafa pancerna", "Anna Lis", 2)
    assert CustodyEntry.objects.latest("id").recorded_by == technician
    refused = tech_client.post(f"{url}custody/", {"custody-kept_at": "", "custody-handed_to": "x"})
    assert refused.status_code == 200 and removal.custody.count() == 2

    destruction = {"destroy-destroyed_on": timezone.localdate().strftime("%d.%m.%Y"),
                   "destroy-destruction_method": "shred", "destroy-destruction_company": "Niszczarnia Sp. z o.o.",
                   "destroy-certificate_number": "CERT/2026/17"}
    not_pdf = tech_client.post(f"{url}destroy/", {
        **destruction, "destroy-certificate_scan": SimpleUploadedFile("cert.pdf", b"GIF89a nie pdf")})
    assert not_pdf.status_code == 200 and _levels(not_pdf) == [message_levels.ERROR]
    (destroy_form,) = [f.form for f in not_pdf.context["page_forms"] if f.id == "wipe-destroy"]
    assert "certificate_scan" in destroy_form.errors
    removal.refresh_from_db()
    assert removal.status == RemovalStatus.HELD and not removal.certificate_scan

    done = tech_client.post(f"{url}destroy/", {
        **destruction, "destroy-certificate_scan": SimpleUploadedFile("cert.pdf", PDF, "application/pdf")},
        follow=True)
    assert _levels(done) == [message_levels.SUCCESS]
    removal.refresh_from_db()
    assert (removal.status, removal.certificate_number, removal.destruction_recorded_by) == (
        RemovalStatus.DESTROYED, "CERT/2026/17", technician)
    assert removal.certificate_scan.read().startswith(b"%PDF-")
    content = done.content.decode()
    assert f"/media/{removal.certificate_scan.name}" in content
    assert done.context["page_forms"] == []  # custody is closed
    assert removal.documents.count() == 2  # the protocol of removal, then of destruction
    assert tech_client.get(f"/media/{removal.certificate_scan.name}").status_code == 200
    again = tech_client.post(f"{url}destroy/", {
        **destruction, "destroy-certificate_scan": SimpleUploadedFile("c.pdf", PDF)}, follow=True)
    assert _levels(again) == [message_levels.ERROR]


def test_a_refused_removal_keeps_the_form(tech_client, technician):
    device = make_retired(kinds=("hdd",))
    medium = device.media.get()
    future = timezone.now() + timedelta(days=2)
    response = tech_client.post("/admin/wipe/diskremoval/add/", {
        "medium": medium.pk, "kept_at": "sejf", "held_by": "Jan Nowak", **_moment(future, "removed_at")})
    assert response.status_code == 200 and _levels(response) == [message_levels.ERROR]
    assert "removed_at" in response.context["adminform"].form.errors
    assert not DiskRemoval.objects.exists()
    medium.refresh_from_db()
    assert medium.removed_at is None


# --- wipe sessions ---------------------------------------------------------------------------------

def _result(client, session, medium, *, passed=True, prefix="result-", **facts):
    data = {f"{prefix}medium": medium.pk, f"{prefix}passed": "1" if passed else "0"}
    if passed:
        form = _facts_form(prefix=prefix, **facts)
        keep = ["method_class", "technique", "overwrite_passes", "pattern", "encryption_enabled", "verification",
                "verification_result", "destination"]
        data.update({k: v for k, v in form.items()
                     if k.removeprefix(prefix) in keep or k.removeprefix(prefix).startswith(("started_at",
                                                                                            "finished_at"))})
    else:
        data[f"{prefix}failure_reason"] = facts.get("failure_reason", "")
    return client.post(f"/admin/wipe/wipesession/{session.pk}/result/", data)


def test_a_wipe_session_from_opening_to_the_second_attempt(tech_client, validator_client, technician, validator):
    laptop, other = make_retired(kinds=("hdd", "ssd")), make_retired(kinds=("ssd",))
    busy = make_retired(kinds=("hdd",))
    services.session_open(by=technician, devices=[busy], location="pok. 3")
    add = tech_client.get("/admin/wipe/wipesession/add/")
    offered = set(add.context["adminform"].form.fields["devices_to_wipe"].queryset)
    assert {laptop, other} <= offered and busy not in offered

    opened = tech_client.post("/admin/wipe/wipesession/add/", {
        "devices_to_wipe": [laptop.pk, other.pk], "location": "Biuro Informatyki, pok. 12", "tool": "nwipe",
        "tool_version": "0.34", "notes": ""})
    assert opened.status_code == 302, opened.context["adminform"].form.errors if opened.context else ""
    session = WipeSession.objects.get(location="Biuro Informatyki, pok. 12")
    assert session.opened_by == technician and set(session.devices.all()) == {laptop, other}
    page = tech_client.get(f"/admin/wipe/wipesession/{session.pk}/change/")
    assert [f.id for f in page.context["page_forms"]] == ["wipe-result", "wipe-import", "wipe-close"]
    (result_form,) = [f.form for f in page.context["page_forms"] if f.id == "wipe-result"]
    assert set(result_form.fields["medium"].queryset) == set(laptop.media.all()) | set(other.media.all())

    hdd, ssd = laptop.media.get(kind="hdd"), laptop.media.get(kind="ssd")
    # A passed wipe without its facts is shown again with the fields to fill in.
    bare = tech_client.post(f"/admin/wipe/wipesession/{session.pk}/result/",
                            {"result-medium": hdd.pk, "result-passed": "1"})
    assert bare.status_code == 200
    (bare_form,) = [f.form for f in bare.context["page_forms"] if f.id == "wipe-result"]
    assert {"method_class", "technique", "started_at"} <= set(bare_form.errors)
    # A claim the medium does not support is refused with wipe.fitness's reason.
    unfit = _result(tech_client, session, ssd)
    assert unfit.status_code == 200 and _levels(unfit) == [message_levels.ERROR]
    assert not Sanitization.objects.exists()

    assert _result(tech_client, session, hdd).status_code == 302
    assert _result(tech_client, session, ssd, technique="block_erase", overwrite_passes=None).status_code == 302
    failed = _result(tech_client, session, other.media.get(), passed=False,
                     failure_reason="weryfikacja przerwana na 37%")
    assert failed.status_code == 302
    assert Sanitization.objects.filter(session=session, status=SanitizationStatus.RECORDED).count() == 2

    closed = validator_client.post(f"/admin/wipe/wipesession/{session.pk}/close/", {}, follow=True)
    assert _levels(closed) == [message_levels.SUCCESS, message_levels.WARNING]
    assert other.inventory_number in str(_messages(closed)[1])
    session.refresh_from_db()
    laptop.refresh_from_db()
    other.refresh_from_db()
    assert (session.status, session.closed_by) == (SessionStatus.CLOSED, validator)
    assert (laptop.status, other.status) == (DeviceStatus.SANITIZED, DeviceStatus.RETIRED)
    outcomes = dict(session.entries.values_list("device__inventory_number", "outcome"))
    assert outcomes == {laptop.inventory_number: SessionOutcome.PASSED, other.inventory_number: SessionOutcome.FAILED}
    # As shown on the page: each device with its outcome, the failure's reason, the summary issued.
    (entries,) = [f for f in closed.context["inline_admin_formsets"] if f.opts.model._meta.model_name ==
                  "wipesessiondevice"]
    shown = {form.original.device.inventory_number: form.original.outcome for form in entries}
    assert shown == outcomes
    content = closed.content.decode()
    assert "weryfikacja przerwana na 37%" in content
    summary = StoredDocument.objects.get(kind="wipe_session_summary")
    assert f"/documents/{summary.code}/download/" in content
    assert [f.id for f in closed.context["page_forms"]] == ["wipe-retry"]
    # A closed session takes no more results.
    late = _result(tech_client, session, other.media.get(), passed=False, failure_reason="x")
    assert late.status_code == 200 and len(_messages(late, message_levels.ERROR)) == 1

    retry = tech_client.post(f"/admin/wipe/wipesession/{session.pk}/retry/", {"retry-location": ""})
    second = WipeSession.objects.get(retry_of=session)
    assert retry.status_code == 302 and retry["Location"] == f"/admin/wipe/wipesession/{second.pk}/change/"
    assert list(second.devices.all()) == [other] and second.status == SessionStatus.OPEN
    assert tech_client.get(f"/admin/wipe/wipesession/{session.pk}/change/").context["page_forms"] == []


def test_closing_a_session_by_the_technician_refuses_their_own_wipes(tech_client, technician):
    laptop = make_retired(kinds=("hdd",))
    session = services.session_open(by=technician, devices=[laptop], location="pok. 12", tool="nwipe")
    services.session_record_result(session=session, by=technician, medium=laptop.media.get(), passed=True,
                                   **{k: v for k, v in wipe_facts().items() if k not in ("location", "tool")})
    closed = tech_client.post(f"/admin/wipe/wipesession/{session.pk}/close/", {}, follow=True)
    assert _levels(closed) == [message_levels.ERROR]
    with translation.override(closed.wsgi_request.LANGUAGE_CODE):
        expected = translation.gettext("You recorded wipes in this session; another person closes it and "
                                       "validates them.")
    assert str(list(closed.context["messages"])[0]).endswith(expected)
    laptop.refresh_from_db()
    session.refresh_from_db()
    assert laptop.status == DeviceStatus.RETIRED and session.status == "open"  # still open for the validator
    assert Sanitization.objects.get().status == SanitizationStatus.RECORDED


def test_the_add_form_of_a_session_takes_devices_from_the_list_of_devices_to_sanitize(tech_client):
    first, second = make_retired(kinds=("hdd",)), make_retired(kinds=("hdd",))
    response = _action(tech_client, "/admin/wipe/devicetosanitize/", "open_session", [first, second])
    assert response.redirect_chain[-1][0].startswith("/admin/wipe/wipesession/add/?devices_to_wipe=")
    form = response.context["adminform"].form
    assert {str(pk) for pk in form["devices_to_wipe"].value()} == {str(first.pk), str(second.pk)}


# --- tool reports ----------------------------------------------------------------------------------

def _sample(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(Path(name).name, (SAMPLES / name).read_bytes(), "text/plain")


@pytest.fixture
def cart(technician):
    """A session of two retired laptops whose disks carry the serial numbers of failed_one_of_two.serials.log."""
    erased, failed = make_retired(kinds=()), make_retired(kinds=())
    make_medium(device=erased, kind="hdd", serial_number="S3Z1NB0K100006", capacity_gb=16)
    make_medium(device=failed, kind="hdd", serial_number="ZA1000007", capacity_gb=16)
    return services.session_open(by=technician, devices=[erased, failed], location="pok. 12", tool="nwipe")


def _import(client, session, name, *, dry_run=False, destination="leaves_office", verification=""):
    data = {"import-file": _sample(name), "import-destination": destination, "import-verification": verification}
    if dry_run:
        data["import-dry_run"] = "on"
    return client.post(f"/admin/wipe/wipesession/{session.pk}/import/", data, follow=True)


def test_a_tool_report_is_checked_then_imported_from_the_session_page(tech_client, technician, cart):
    checked = _import(tech_client, cart, "failed_one_of_two.serials.log", dry_run=True)
    assert _levels(checked) == [message_levels.INFO]
    report = checked.context["import_report"]
    assert [row["serial_number"] for row in report["imported"]] == ["S3Z1NB0K100006"]
    assert 64 in [row["line"] for row in report["problems"]]
    assert "ZA1000007" in checked.content.decode()
    assert not WipeEvidence.objects.exists() and not Sanitization.objects.exists()

    done = _import(tech_client, cart, "failed_one_of_two.serials.log")
    assert _levels(done)[0] == message_levels.SUCCESS
    assert len(_messages(done, message_levels.WARNING)) == len(report["problems"])  # one message per line left out
    evidence = WipeEvidence.objects.get()
    record = Sanitization.objects.get()
    assert (record.medium.serial_number, record.evidence, record.session, record.performed_by, record.status) == (
        "S3Z1NB0K100006", evidence, cart, technician, SanitizationStatus.RECORDED)
    assert evidence.file.read() == (SAMPLES / "failed_one_of_two.serials.log").read_bytes()

    page = tech_client.get(f"/admin/wipe/wipeevidence/{evidence.pk}/change/")
    content = page.content.decode()
    assert page.status_code == 200 and 'name="_save"' not in content
    assert f"/media/{evidence.file.name}" in content
    assert f"/admin/wipe/sanitization/{record.pk}/change/" in content
    for problem in evidence.report["problems"]:
        assert escape(problem["reason"]) in content
    assert tech_client.get(f"/media/{evidence.file.name}").status_code == 200

    twice = _import(tech_client, cart, "failed_one_of_two.serials.log")
    assert _levels(twice) == [message_levels.ERROR] and WipeEvidence.objects.count() == 1


def test_a_report_with_nothing_to_import_is_refused_with_its_lines(tech_client, technician):
    laptop = make_retired(kinds=())
    make_medium(device=laptop, kind="hdd", serial_number="WD-WCC4E1000004", capacity_gb=2)
    session = services.session_open(by=technician, devices=[laptop], location="pok. 12")
    refused = _import(tech_client, session, "aborted_sigint.serials.log")
    assert refused.status_code == 200 and _levels(refused) == [message_levels.ERROR]
    problems = refused.context["import_report"]["problems"]
    assert problems and all(escape(p["reason"]) in refused.content.decode() for p in problems)
    assert not WipeEvidence.objects.exists() and not Sanitization.objects.exists()

    garbage = tech_client.post(f"/admin/wipe/wipesession/{session.pk}/import/", {
        "import-file": SimpleUploadedFile("raport.txt", b"to nie jest raport"), "import-destination": "leaves_office"})
    assert garbage.status_code == 200 and _levels(garbage) == [message_levels.ERROR]
    assert not WipeEvidence.objects.exists()


def test_a_json_report_counts_the_verification_only_as_stated_by_the_importer(tech_client, technician):
    laptop = make_retired(kinds=())
    make_medium(device=laptop, kind="hdd", serial_number="WD-WCC2E1000011", capacity_gb=500)
    session = services.session_open(by=technician, devices=[laptop], location="pok. 12", tool="nwipe")
    name = "json/nwipe_report_WD-WCC2E1000011_2026-11-20_10-41-38.json"
    unverified = _import(tech_client, session, name)  # the JSON does not say how nwipe verified
    assert _levels(unverified) == [message_levels.ERROR] and unverified.context["import_report"]["problems"]
    assert not Sanitization.objects.exists()
    stated = _import(tech_client, session, name, verification="full")
    assert _levels(stated) == [message_levels.SUCCESS]
    record = Sanitization.objects.get()
    assert (record.medium.serial_number, record.verification, record.evidence.format) == (
        "WD-WCC2E1000011", "full", "nwipe-json")


# --- devices to sanitize ---------------------------------------------------------------------------

def test_the_devices_to_sanitize_show_what_is_missing_and_move_through_the_gate(tech_client, technician, validator):
    unfinished = make_retired(kinds=("hdd", "ssd"))
    empty = make_retired(kinds=())
    ready = make_retired(kinds=("hdd", "ssd"))
    _validated(unfinished.media.get(kind="hdd"), technician, validator)
    _validated(ready.media.get(kind="hdd"), technician, validator)
    services.disk_remove(medium=ready.media.get(kind="ssd"), by=technician, kept_at="sejf", held_by="Jan Nowak")
    listing = tech_client.get("/admin/wipe/devicetosanitize/")
    assert {unfinished, empty, ready} == set(listing.context["cl"].result_list)
    content = listing.content.decode()
    with translation.override(listing.wsgi_request.LANGUAGE_CODE):
        missing = translation.gettext("to wipe or take out: %(media)s") % {
            "media": f"{unfinished.media.get(kind='ssd').get_kind_display()} "
                     f"{unfinished.media.get(kind='ssd').serial_number}"}
        assert escape(missing) in content
        assert escape(translation.gettext("no storage media on record: confirm that it has none")) in content
        assert translation.gettext("ready") in content
    # The list says what the gate would say, without a query per device.
    assert services.gate_refusal(unfinished) is not None and services.gate_refusal(empty) is not None
    assert services.gate_refusal(ready) is None
    unwiped = unfinished.media.get(kind="ssd")
    assert unwiped.serial_number in content  # the media inside are listed, with what to do with them
    assert f"/admin/wipe/sanitization/add/?medium={unwiped.pk}" in content
    assert f"/admin/wipe/diskremoval/add/?medium={unwiped.pk}" in content
    assert f"/admin/wipe/sanitization/add/?medium={unfinished.media.get(kind='hdd').pk}" not in content  # cleared
    preset = tech_client.get(f"/admin/wipe/sanitization/add/?medium={unwiped.pk}")
    assert str(preset.context["adminform"].form["medium"].value()) == str(unwiped.pk)

    done = _action(tech_client, "/admin/wipe/devicetosanitize/", "sanitize", [unfinished, ready])
    assert _levels(done) == [message_levels.ERROR, message_levels.SUCCESS]  # one per device, by number
    assert unfinished.inventory_number in str(_messages(done)[0])
    unfinished.refresh_from_db()
    ready.refresh_from_db()
    assert (unfinished.status, ready.status) == (DeviceStatus.RETIRED, DeviceStatus.SANITIZED)
    assert ready not in set(tech_client.get("/admin/wipe/devicetosanitize/").context["cl"].result_list)

    form_page = _action(tech_client, "/admin/wipe/devicetosanitize/", "confirm_no_media", [empty])
    assert 'name="how_checked"' in form_page.content.decode()
    blank = _action(tech_client, "/admin/wipe/devicetosanitize/", "confirm_no_media", [empty], apply="1",
                    how_checked="")
    assert "how_checked" in blank.context["form"].errors
    confirmed = _action(tech_client, "/admin/wipe/devicetosanitize/", "confirm_no_media", [empty, unfinished],
                        apply="1", how_checked="obudowa otwarta, brak gniazda M.2 i SATA")
    assert sorted(_levels(confirmed)) == sorted([message_levels.ERROR, message_levels.SUCCESS])
    confirmation = NoMediaConfirmation.objects.get()
    assert (confirmation.device, confirmation.confirmed_by) == (empty, technician)
    assert _levels(_action(tech_client, "/admin/wipe/devicetosanitize/", "sanitize", [empty])) == [
        message_levels.SUCCESS]
    empty.refresh_from_db()
    assert empty.status == DeviceStatus.SANITIZED


def test_the_devices_to_sanitize_cannot_be_added_changed_or_deleted(tech_client):
    device = make_retired(kinds=("hdd",))
    listing = tech_client.get("/admin/wipe/devicetosanitize/")
    assert not listing.context["has_add_permission"]
    offered = {name for name, _label in listing.context["action_form"].fields["action"].choices}
    assert {"sanitize", "confirm_no_media", "open_session"} <= offered and "delete_selected" not in offered
    assert tech_client.get("/admin/wipe/devicetosanitize/add/").status_code == 403
    assert tech_client.post(f"/admin/wipe/devicetosanitize/{device.pk}/change/", {"model": "x"}).status_code == 403
    assert tech_client.get(f"/admin/wipe/devicetosanitize/{device.pk}/delete/").status_code == 403


# --- who may see and do what -----------------------------------------------------------------------

def _wipe_urls(technician, validator) -> list[str]:
    device = make_retired(kinds=("hdd", "ssd"))
    hdd, ssd = device.media.order_by("id")
    record = _validated(hdd, technician, validator)
    removal = services.disk_remove(medium=ssd, by=technician, kept_at="sejf", held_by="Jan Nowak")
    session = services.session_open(by=technician, devices=[make_retired(kinds=("hdd",))], location="pok. 12")
    return ["/admin/wipe/", "/admin/wipe/sanitization/", "/admin/wipe/sanitization/add/",
            f"/admin/wipe/sanitization/{record.pk}/change/", f"/admin/wipe/sanitization/{record.pk}/correct/",
            "/admin/wipe/diskremoval/", "/admin/wipe/diskremoval/add/", f"/admin/wipe/diskremoval/{removal.pk}/change/",
            "/admin/wipe/wipesession/", "/admin/wipe/wipesession/add/", f"/admin/wipe/wipesession/{session.pk}/change/",
            "/admin/wipe/wipeevidence/", "/admin/wipe/devicetosanitize/",
            f"/admin/wipe/devicetosanitize/{device.pk}/change/",
            "/admin/wipe/nomediaconfirmation/"]


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.COUNCILLOR])
def test_users_without_wipe_permissions_cannot_open_the_wipe_pages(client, make_user, technician, validator, role):
    user = make_user(role, is_staff=role != Role.COUNCILLOR)
    client.force_login(user)
    urls = _wipe_urls(technician, validator)
    for url in urls:
        response = client.get(url)
        if role == Role.COUNCILLOR:
            assert response.status_code == 302 and "/admin/login/" in response["Location"], url
        else:
            assert response.status_code in (403, 404), url
    record = Sanitization.objects.get()
    session = WipeSession.objects.get()
    for url in [f"/admin/wipe/sanitization/{record.pk}/correct/", f"/admin/wipe/wipesession/{session.pk}/close/",
                f"/admin/wipe/wipesession/{session.pk}/result/"]:
        assert client.post(url, {"correction_reason": "x"}).status_code in (302, 403)
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN and Sanitization.objects.count() == 1


def test_the_auditor_reads_but_has_no_moves(client, make_user, technician, validator):
    client.force_login(make_user(Role.AUDITOR))
    record = _record(make_retired(kinds=("hdd",)).media.get(), technician)
    session = services.session_open(by=technician, devices=[make_retired(kinds=("hdd",))], location="pok. 12")
    listing = client.get("/admin/wipe/sanitization/")
    assert listing.status_code == 200 and not listing.context["has_add_permission"]
    assert listing.context["action_form"] is None
    page = client.get(f"/admin/wipe/sanitization/{record.pk}/change/")
    assert page.status_code == 200 and page.context["page_forms"] == []
    assert client.post(f"/admin/wipe/sanitization/{record.pk}/validate/", {}).status_code == 403
    session_page = client.get(f"/admin/wipe/wipesession/{session.pk}/change/")
    assert session_page.status_code == 200 and session_page.context["page_forms"] == []
    assert client.post(f"/admin/wipe/wipesession/{session.pk}/close/", {}).status_code == 403
    record.refresh_from_db()
    session.refresh_from_db()
    assert record.status == SanitizationStatus.RECORDED and session.status == SessionStatus.OPEN
    assert StorageMedium.objects.count() == 2


def test_the_admin_lists_cost_the_same_queries_for_one_device_and_for_many(tech_client, technician, validator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add_device():
        laptop = make_retired(kinds=("hdd", "ssd"))
        hdd, ssd = laptop.media.order_by("id")
        _validated(hdd, technician, validator)
        services.disk_remove(medium=ssd, by=technician, kept_at="sejf", held_by="Jan Nowak")
        services.session_open(by=technician, devices=[laptop], location="pok. 12", tool="nwipe")
        make_retired(kinds=("hdd",))

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert tech_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    urls = ["/admin/wipe/sanitization/", "/admin/wipe/diskremoval/", "/admin/wipe/wipesession/",
            "/admin/wipe/devicetosanitize/"]
    add_device()
    one = {url: queries(url) for url in urls}
    for _ in range(4):
        add_device()
    assert {url: queries(url) for url in urls} == one
