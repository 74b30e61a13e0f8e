"""Writes of the wipe app: sanitization records, disk removal and custody, wipe sessions, tool reports,
and the gate that lets a retired device become "sanitized".

Every service validates, runs in one transaction, locks what it changes, and writes a WipeEvent and the
history row; a refusal raises a DomainError (or a ValidationError naming the fields) and writes nothing.
Fitness is decided only by wipe.fitness; the device moves only through assets.services.device_transition.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assets.choices import DEVICE_GONE, DeviceStatus
from assets.models import Device, StorageMedium
from assets.services import device_transition, storage_medium_take_out
from assets.validators import validate_pdf
from core.audit import actor as _actor
from core.audit import save_audited as _save
from core.exceptions import DomainError, GuardFailed, InvalidInput, TransitionNotAllowed
from core.middleware import current_request_id
from core import pdf
from core.services import save_numbered
from wipe import fitness
from wipe.choices import (
    LEAVING_DESTINATIONS,
    REMOVAL_TRANSITIONS,
    SANITIZATION_TRANSITIONS,
    SESSION_TRANSITIONS,
    Destination,
    EvidenceFormat,
    MethodClass,
    RemovalStatus,
    SanitizationStatus,
    SessionOutcome,
    SessionStatus,
    Technique,
    Verification,
    VerificationResult,
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
    WipeSessionDevice,
)

User = AbstractBaseUser

# What a technician states about a wipe; the rest of a record (status, validation, fitness) is the
# services' to write.
SANITIZATION_FIELDS = {
    "data_classification", "data_backed_up", "backup_location", "method_class", "technique", "overwrite_passes",
    "pattern", "encryption_enabled", "method_details", "tool", "tool_version", "started_at", "finished_at",
    "verification", "verification_result", "post_classification", "notes", "destination", "destination_details",
    "organization", "location", "performed_by", "performer_title", "performer_phone",
}


def _event(kind: str, *, by: User | None, reason: str = "", from_status: str = "", to_status: str = "",
           document=None, **subject: Any) -> WipeEvent:
    return WipeEvent.objects.create(kind=kind, actor=_actor(by), from_status=from_status, to_status=to_status,
                                    reason=reason, document=document, request_id=current_request_id(), **subject)


def _check_move(table: dict[str, frozenset[str]], current: str, wanted: str, labels) -> None:
    if wanted not in table[current]:
        raise TransitionNotAllowed(_("A record that is %(from)s cannot become %(to)s.")
                                   % {"from": labels(current).label, "to": labels(wanted).label})


def _require(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, field=field)
    return value



def medium_label(medium: StorageMedium) -> str:
    """A medium as a message names it: its kind and serial number."""
    return f"{medium.get_kind_display()} {medium.serial_number or _('without serial number')}"


# Devices that left the office with a recipient or a collector, who can still send back the proof of a wipe
# or of no medium: that evidence is recorded late. A lost device has nobody to ask.
LEFT_THE_OFFICE = DEVICE_GONE - {DeviceStatus.LOST}

# Where the media of a device that left the office went: out with it, never back into the office's use.
OUTSIDE_THE_OFFICE = LEAVING_DESTINATIONS | {Destination.DESTRUCTION}


def _late_note(device: Device) -> str:
    """The reason of a wipe event written about a device that left the office: evidence recorded late."""
    return _("evidence recorded after the device left the office (%(status)s on %(date)s)") % {
        "status": device.get_status_display(),
        "date": pdf.format_date(timezone.localdate(device.status_changed_at))}


def _refuse_staying(record: Sanitization) -> None:
    """A wipe recorded about a device that left the office names a destination outside the office."""
    if record.device.status in DEVICE_GONE and record.destination not in OUTSIDE_THE_OFFICE:
        raise InvalidInput(_("Device %(number)s has left the office (%(status)s): its media went with it, so the "
                             "destination is leaving the office, recycling or destruction, not internal reuse.")
                           % {"number": record.device.inventory_number, "status": record.device.get_status_display()},
                           field="destination")


# --- sanitization records ------------------------------------------------------------------------

def _assess(record: Sanitization) -> None:
    """Refuse a record that does not fit the rules, naming every field at fault."""
    if record.started_at and record.finished_at and record.finished_at < record.started_at:
        raise ValidationError({"finished_at": [_("The end is before the start.")]})
    if record.finished_at and record.finished_at > timezone.now() + timezone.timedelta(minutes=5):
        raise ValidationError({"finished_at": [_("The wipe cannot end in the future.")]})
    refusals = fitness.assess(
        kind=record.medium.kind, technique=record.technique, method_class=record.method_class,
        encryption_enabled=record.encryption_enabled, overwrite_passes=record.overwrite_passes,
        verification=record.verification, verification_result=record.verification_result,
        destination=record.destination,
    )
    if refusals:
        errors: dict[str, list[str]] = {}
        for refusal in refusals:
            errors.setdefault(refusal.field, []).append(refusal.reason)
        raise ValidationError(errors)


def _lock_medium(medium: StorageMedium, device: Device | None, *, late: bool = False) -> StorageMedium:
    """Lock a medium still inside `device` (when given) in the register; with `late`, also one inside a device
    that left the office (LEFT_THE_OFFICE), for evidence recorded after it left."""
    locked = StorageMedium.objects.select_for_update(of=("self",)).select_related("device").get(pk=medium.pk)
    if device is not None and locked.device_id != device.pk:
        raise InvalidInput(_("This medium belongs to device %(number)s, not to %(device)s.")
                           % {"number": locked.device.inventory_number, "device": device.inventory_number},
                           field="medium")
    if locked.removed_at is not None:
        raise GuardFailed(_("This medium was taken out of its device; record its custody and destruction instead."),
                          field="medium")
    if locked.device.status in DEVICE_GONE and not (late and locked.device.status in LEFT_THE_OFFICE):
        raise GuardFailed(_("The device has left the register (%(status)s).")
                          % {"status": locked.device.get_status_display()}, field="medium")
    return locked


def _fill(record: Sanitization, data: dict[str, Any], *, by: User | None) -> None:
    unknown = set(data) - SANITIZATION_FIELDS
    if unknown:
        raise InvalidInput(_("This field cannot be changed here."), field=sorted(unknown)[0])
    for name, value in data.items():
        setattr(record, name, value.strip() if isinstance(value, str) else value)
    if not record.performed_by_id:
        if _actor(by) is None:
            raise InvalidInput(_("Say who performed the wipe."), field="performed_by")
        record.performed_by = by
    if not record.organization:
        record.organization = settings.ORGANIZATION_NAME
    if record.technique != Technique.OVERWRITE:
        record.overwrite_passes = None
    _assess(record)


@transaction.atomic
def sanitization_record(*, by: User | None, medium: StorageMedium, device: Device | None = None,
                        session: WipeSession | None = None, evidence: WipeEvidence | None = None,
                        evidence_drive: str = "", **data: Any) -> Sanitization:
    """Record one wipe of one medium, as the technician states it; a second person validates it later.

    A medium still inside a device that left the office (transferred or scrapped) takes the evidence its
    recipient or collector sends back, recorded late (not on a wipe session or from a tool's report): its
    destination is outside the office, and its event says it was recorded after the device left.

    Refused: a medium of another device, a removed medium, a lost device or any other that left the
    register, an end before the start, a failed verification, and anything wipe.fitness does not accept.
    """
    medium = _lock_medium(medium, device, late=session is None and evidence is None)
    record = Sanitization(medium=medium, device=medium.device, session=session, evidence=evidence,
                          evidence_drive=evidence_drive)
    _fill(record, data, by=by)
    _refuse_staying(record)
    _save(record, by=by, reason=_("wipe recorded"))
    late = medium.device.status in DEVICE_GONE
    _event(WipeEventKind.RECORDED, by=by, to_status=record.status, sanitization=record,
           reason=_late_note(medium.device) if late else (evidence.original_name if evidence else ""))
    return record


def _lock_record(record: Sanitization) -> Sanitization:
    return (Sanitization.objects.select_for_update(of=("self",)).select_related("medium", "device", "performed_by")
            .get(pk=record.pk))


def _wrote(user: User, records) -> bool:
    """Whether `user` performed, recorded or edited any of `records`: then they may not validate them."""
    return records.filter(
        Q(performed_by=user)
        | Q(events__actor=user, events__kind__in=[WipeEventKind.RECORDED, WipeEventKind.EDITED])
    ).exists()


def never_deleted_message() -> str:
    return _("Sanitization records are evidence and are never deleted: reject a recorded one, or record a "
             "correction of a validated one.")


def _refuse_if_final(record: Sanitization) -> None:
    if record.status != SanitizationStatus.RECORDED:
        raise GuardFailed(_("This sanitization record is %(status)s: it is evidence and cannot be edited or "
                            "deleted. Record a correction that supersedes it.")
                          % {"status": record.get_status_display()})


@transaction.atomic
def sanitization_update(*, sanitization: Sanitization, by: User | None, **data: Any) -> Sanitization:
    """Correct a record while it awaits validation; a validated record is evidence and is refused."""
    record = _lock_record(sanitization)
    _refuse_if_final(record)
    _fill(record, data, by=by)
    _refuse_staying(record)
    _save(record, by=by, reason=_("wipe record edited"))
    _event(WipeEventKind.EDITED, by=by, from_status=record.status, to_status=record.status, sanitization=record)
    return record


@transaction.atomic
def sanitization_validate(*, sanitization: Sanitization, by: User | None, validator_title: str = "",
                          validator_phone: str = "") -> Sanitization:
    """A second person confirms the wipe (NIST SP 800-88 Rev. 2 validation); the record becomes evidence.

    A record correcting an earlier one supersedes it now, so the medium is never without a valid record.
    """
    record = _lock_record(sanitization)
    _check_move(SANITIZATION_TRANSITIONS, record.status, SanitizationStatus.VALIDATED, SanitizationStatus)
    if _actor(by) is None:
        raise InvalidInput(_("Only a signed-in person can validate a wipe."), field="validated_by")
    if record.performed_by_id == by.pk:
        raise GuardFailed(_("The validator must be someone other than the person who wiped the medium (%(name)s).")
                          % {"name": pdf.person(record.performed_by)}, field="validated_by")
    if _wrote(by, Sanitization.objects.filter(pk=record.pk)):
        raise GuardFailed(_("You recorded or edited this wipe; another person validates it."), field="validated_by")
    _assess(record)  # the rules as they stand at validation
    record.status = SanitizationStatus.VALIDATED
    record.validated_by = by
    record.validated_at = timezone.now()
    record.validator_title = validator_title.strip()
    record.validator_phone = validator_phone.strip()
    record.fit_to_leave = fitness.fit_to_leave(method_class=record.method_class, verification=record.verification,
                                               verification_result=record.verification_result)
    _save(record, by=by, reason=_("wipe validated"))
    _event(WipeEventKind.VALIDATED, by=by, from_status=SanitizationStatus.RECORDED, to_status=record.status,
           sanitization=record)
    if record.supersedes_id:
        old = Sanitization.objects.select_for_update().get(pk=record.supersedes_id)
        _check_move(SANITIZATION_TRANSITIONS, old.status, SanitizationStatus.SUPERSEDED, SanitizationStatus)
        old.status = SanitizationStatus.SUPERSEDED
        _save(old, by=by, reason=_("superseded by a correction"))
        _event(WipeEventKind.SUPERSEDED, by=by, from_status=SanitizationStatus.VALIDATED, to_status=old.status,
               sanitization=old, reason=record.correction_reason)
    return record


@transaction.atomic
def sanitization_reject(*, sanitization: Sanitization, by: User | None, reason: str) -> Sanitization:
    """The validator refuses a recorded wipe, saying why; it stays visible and never counts."""
    reason = _require(reason, "reason", _("Say why the wipe is rejected."))
    record = _lock_record(sanitization)
    _check_move(SANITIZATION_TRANSITIONS, record.status, SanitizationStatus.REJECTED, SanitizationStatus)
    record.status = SanitizationStatus.REJECTED
    _save(record, by=by, reason=reason)
    _event(WipeEventKind.REJECTED, by=by, from_status=SanitizationStatus.RECORDED, to_status=record.status,
           sanitization=record, reason=reason)
    return record


@transaction.atomic
def sanitization_correct(*, sanitization: Sanitization, by: User | None, correction_reason: str,
                         **data: Any) -> Sanitization:
    """Correct a validated record: a new record with the corrected facts, which supersedes the old one
    once it is itself validated. Both stay visible; the old one counts until then."""
    correction_reason = _require(correction_reason, "correction_reason", _("Say what the correction corrects."))
    old = _lock_record(sanitization)
    if old.status != SanitizationStatus.VALIDATED:
        raise GuardFailed(_("Only a validated record is corrected; a recorded one is edited, a rejected or "
                            "superseded one stays as it is."))
    if Sanitization.objects.filter(supersedes=old).exists():
        raise GuardFailed(_("A correction of this record already exists."))
    facts = {name: getattr(old, name) for name in SANITIZATION_FIELDS}
    facts.update(data)
    new = Sanitization(medium=old.medium, device=old.device, session=old.session, evidence=old.evidence,
                       evidence_drive=old.evidence_drive, supersedes=old, correction_reason=correction_reason)
    _fill(new, facts, by=by)
    _save(new, by=by, reason=_("correction recorded"))
    _event(WipeEventKind.RECORDED, by=by, to_status=new.status, sanitization=new, reason=correction_reason)
    return new


# --- the gate --------------------------------------------------------------------------------------

def media_not_cleared(device: Device) -> list[StorageMedium]:
    """The media inside `device` that hold no validated record fit for leaving the office."""
    from wipe.selectors import media_inside_not_cleared

    return list(media_inside_not_cleared().filter(device=device).order_by("id"))


def gate_refusal(device: Device) -> GuardFailed | None:
    """Why `device` may not become sanitized, or None: every medium inside sanitized fit or removed, and a
    device with no media on record confirmed to have none by a named person."""
    if not device.media.exists():
        if NoMediaConfirmation.objects.filter(device=device).exists():
            return None
        return GuardFailed(_("Device %(number)s has no storage media on record. Record its media, or have a named "
                             "person confirm it has none.") % {"number": device.inventory_number},
                           field="media", details={"media_missing": []})
    missing = media_not_cleared(device)
    if not missing:
        return None
    return GuardFailed(
        _("Device %(number)s still has media that are neither sanitized fit for leaving the office nor removed: "
          "%(media)s.") % {"number": device.inventory_number, "media": ", ".join(medium_label(m) for m in missing)},
        field="media",
        details={"media_missing": [{"id": m.pk, "kind": m.kind, "serial_number": m.serial_number} for m in missing]},
    )


@transaction.atomic
def device_sanitize(*, device: Device, by: User | None, reason: str = "") -> Device:
    """Move a retired device to "sanitized" through the gate, issuing its certificate of sanitization."""
    from wipe.documents import sanitization_certificate_issue

    locked = Device.objects.select_for_update().get(pk=device.pk)
    if locked.status != DeviceStatus.RETIRED:
        raise TransitionNotAllowed(_("A device that is %(from)s cannot become %(to)s.")
                                   % {"from": locked.get_status_display(), "to": DeviceStatus.SANITIZED.label})
    refusal = gate_refusal(locked)
    if refusal is not None:
        raise refusal

    def guard(current: Device) -> None:
        again = gate_refusal(current)
        if again is not None:
            raise again

    certificate = sanitization_certificate_issue(device=locked, by=by)
    return device_transition(device=device, to_status=DeviceStatus.SANITIZED, by=by,
                             reason=reason or _("all storage media sanitized or removed"),
                             reference=certificate.code, document=certificate, guard=guard)


@transaction.atomic
def no_media_confirm(*, device: Device, by: User | None, how_checked: str) -> NoMediaConfirmation:
    """A named person states that the device holds no storage medium, and how they checked.

    For a device that left the office (transferred or scrapped) this is recorded late, from the written
    answer of its recipient or collector; a lost device is refused.
    """
    how_checked = _require(how_checked, "how_checked", _("Say how you checked that the device holds no medium."))
    if _actor(by) is None:
        raise InvalidInput(_("Only a signed-in person can confirm this."), field="confirmed_by")
    locked = Device.objects.select_for_update().get(pk=device.pk)
    if locked.status in DEVICE_GONE - LEFT_THE_OFFICE:
        raise GuardFailed(_("The device has left the register (%(status)s).")
                          % {"status": locked.get_status_display()})
    media = list(locked.media.all())
    if media:
        raise GuardFailed(_("Device %(number)s has storage media on record: %(media)s.")
                          % {"number": locked.inventory_number, "media": ", ".join(medium_label(m) for m in media)},
                          field="device")
    if NoMediaConfirmation.objects.filter(device=locked).exists():
        raise GuardFailed(_("This device's lack of media is already confirmed."), field="device")
    confirmation = NoMediaConfirmation(device=locked, confirmed_by=by, how_checked=how_checked)
    _save(confirmation, by=by, reason=_("no storage media confirmed"))
    late = locked.status in LEFT_THE_OFFICE
    _event(WipeEventKind.NO_MEDIA, by=by, device=locked,
           reason=f"{_late_note(locked)} · {how_checked}" if late else how_checked)
    return confirmation


# --- disk removal and custody ---------------------------------------------------------------------

def _protocol(removal: DiskRemoval, by: User | None):
    from wipe.documents import disk_removal_protocol_issue

    return disk_removal_protocol_issue(removal=removal, by=by)


@transaction.atomic
def disk_remove(*, medium: StorageMedium, by: User | None, kept_at: str, held_by: str,
                device: Device | None = None, removed_at: datetime | None = None, notes: str = "") -> DiskRemoval:
    """Take a medium out of its device into recorded custody; the protocol of removal is issued."""
    kept_at = _require(kept_at, "kept_at", _("Say where the medium is kept."))
    held_by = _require(held_by, "held_by", _("Say who holds the medium."))
    if _actor(by) is None:
        raise InvalidInput(_("Only a signed-in person can remove a disk."), field="removed_by")
    removed_at = removed_at or timezone.now()
    if removed_at > timezone.now() + timezone.timedelta(minutes=5):
        raise InvalidInput(_("The removal cannot be in the future."), field="removed_at")
    locked = _lock_medium(medium, device)
    storage_medium_take_out(medium=locked, by=by, at=removed_at,
                            reason=_("disk removed from %(number)s") % {"number": locked.device.inventory_number})
    removal = DiskRemoval(medium=locked, device=locked.device, removed_at=removed_at, removed_by=by,
                          kept_at=kept_at, held_by=held_by, notes=notes.strip())
    _save(removal, by=by, reason=_("disk removed"))
    CustodyEntry.objects.create(removal=removal, at=removed_at, kept_at=kept_at, handed_to=held_by,
                                recorded_by=_actor(by), notes=_("taken out of the device"))
    document = _protocol(removal, by)
    _event(WipeEventKind.REMOVED, by=by, to_status=removal.status, removal=removal, document=document,
           reason=_("from %(number)s") % {"number": locked.device.inventory_number})
    return removal


def _lock_removal(removal: DiskRemoval) -> DiskRemoval:
    return (DiskRemoval.objects.select_for_update(of=("self",)).select_related("medium", "device")
            .get(pk=removal.pk))


@transaction.atomic
def custody_record(*, removal: DiskRemoval, by: User | None, kept_at: str, handed_to: str,
                   at: datetime | None = None, notes: str = "") -> CustodyEntry:
    """Add a link to the chain of custody: the medium moved to a place, or was handed to someone."""
    kept_at = _require(kept_at, "kept_at", _("Say where the medium is kept."))
    handed_to = _require(handed_to, "handed_to", _("Say who holds the medium now."))
    locked = _lock_removal(removal)
    if locked.status != RemovalStatus.HELD:
        raise GuardFailed(_("The medium was destroyed; its custody log is closed."))
    at = at or timezone.now()
    last = locked.custody.order_by("-at", "-id").first()
    if at < locked.removed_at or (last and at < last.at):
        raise InvalidInput(_("A custody entry cannot be earlier than the previous one."), field="at")
    if at > timezone.now() + timezone.timedelta(minutes=5):
        raise InvalidInput(_("A custody entry cannot be in the future."), field="at")
    entry = CustodyEntry.objects.create(removal=locked, at=at, kept_at=kept_at, handed_to=handed_to,
                                        recorded_by=_actor(by), notes=notes.strip())
    locked.kept_at, locked.held_by = kept_at, handed_to
    _save(locked, by=by, reason=_("custody changed"))
    _event(WipeEventKind.CUSTODY, by=by, from_status=locked.status, to_status=locked.status, removal=locked,
           reason=f"{kept_at} · {handed_to}")
    return entry


@transaction.atomic
def disk_destroy(*, removal: DiskRemoval, by: User | None, destroyed_on: date, destruction_method: str,
                 destruction_company: str, certificate_number: str, certificate_scan=None) -> DiskRemoval:
    """Record the destruction of a removed medium, with the company's certificate; the protocol of
    removal and destruction is issued."""
    from wipe.choices import DestructionMethod

    destruction_company = _require(destruction_company, "destruction_company",
                                   _("Name the company that destroyed the medium."))
    certificate_number = _require(certificate_number, "certificate_number",
                                  _("Give the number of the destruction certificate."))
    if destruction_method not in DestructionMethod.values:
        raise InvalidInput(_("Choose how the medium was destroyed."), field="destruction_method")
    locked = _lock_removal(removal)
    _check_move(REMOVAL_TRANSITIONS, locked.status, RemovalStatus.DESTROYED, RemovalStatus)
    if destroyed_on is None:
        raise InvalidInput(_("Give the date of destruction."), field="destroyed_on")
    if destroyed_on < timezone.localdate(locked.removed_at):
        raise InvalidInput(_("The medium cannot be destroyed before it was removed."), field="destroyed_on")
    if destroyed_on > timezone.localdate():
        raise InvalidInput(_("The date cannot be in the future."), field="destroyed_on")
    if certificate_scan:
        try:
            validate_pdf(certificate_scan)
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), field="certificate_scan") from exc
        locked.certificate_scan = certificate_scan
    locked.status = RemovalStatus.DESTROYED
    locked.destroyed_on = destroyed_on
    locked.destruction_method = destruction_method
    locked.destruction_company = destruction_company
    locked.certificate_number = certificate_number
    locked.destruction_recorded_by = _actor(by)
    _save(locked, by=by, reason=_("medium destroyed"))
    document = _protocol(locked, by)
    _event(WipeEventKind.DESTROYED, by=by, from_status=RemovalStatus.HELD, to_status=locked.status,
           removal=locked, document=document, reason=certificate_number)
    return locked


# --- wipe sessions --------------------------------------------------------------------------------

@transaction.atomic
def session_open(*, by: User | None, devices: list[Device], location: str, tool: str = "", tool_version: str = "",
                 notes: str = "", retry_of: WipeSession | None = None) -> WipeSession:
    """Open a wipe session for a cart of retired devices; a device is on one open session at a time."""
    location = _require(location, "location", _("Say where the wipe takes place."))
    if _actor(by) is None:
        raise InvalidInput(_("Only a signed-in person can open a wipe session."), field="opened_by")
    if not devices:
        raise InvalidInput(_("Choose the devices to wipe."), field="devices")
    locked = list(Device.objects.select_for_update().filter(pk__in={d.pk for d in devices}).order_by("inventory_number"))
    for device in locked:
        if device.status != DeviceStatus.RETIRED:
            raise GuardFailed(_("Device %(number)s is %(status)s; only retired devices are wiped in a session.")
                              % {"number": device.inventory_number, "status": device.get_status_display()},
                              field="devices")
    busy = (WipeSessionDevice.objects.filter(device__in=locked, session__status=SessionStatus.OPEN)
            .select_related("device", "session").first())
    if busy:
        raise GuardFailed(_("Device %(number)s is already in the open session %(session)s.")
                          % {"number": busy.device.inventory_number, "session": busy.session.reference},
                          field="devices")
    now = timezone.now()
    session = WipeSession(location=location, tool=tool.strip(), tool_version=tool_version.strip(),
                          notes=notes.strip(), opened_at=now, opened_by=by, retry_of=retry_of)
    try:  # two clerks opening sessions at the same moment may draw the same number: the second draws again
        save_numbered(session, field="reference", prefix=f"WS/{now:%Y}/",
                      save=lambda: _save(session, by=by, reason=_("wipe session opened")))
    except IntegrityError as exc:
        raise GuardFailed(_("Another session was opened at the same moment; try again.")) from exc
    WipeSessionDevice.objects.bulk_create([WipeSessionDevice(session=session, device=d) for d in locked])
    _event(WipeEventKind.OPENED, by=by, to_status=session.status, session=session,
           reason=", ".join(d.inventory_number for d in locked))
    return session


def _lock_session(session: WipeSession) -> WipeSession:
    return WipeSession.objects.select_for_update().get(pk=session.pk)


def _open_entry(session: WipeSession, device: Device) -> WipeSessionDevice:
    if session.status != SessionStatus.OPEN:
        raise GuardFailed(_("The session %(session)s is closed.") % {"session": session.reference})
    entry = WipeSessionDevice.objects.filter(session=session, device_id=device.pk).first()
    if entry is None:
        raise InvalidInput(_("Device %(number)s is not in this session.") % {"number": device.inventory_number},
                           field="medium")
    return entry


@transaction.atomic
def session_record_result(*, session: WipeSession, by: User | None, medium: StorageMedium, passed: bool,
                          failure_reason: str = "", **data: Any) -> Sanitization | None:
    """Record the result for one medium on the session's cart: a wipe that passed becomes a record
    awaiting validation; a failure is noted on the device for the second attempt."""
    session = _lock_session(session)
    medium = StorageMedium.objects.select_related("device").get(pk=medium.pk)
    entry = _open_entry(session, medium.device)
    if not passed:
        failure_reason = _require(failure_reason, "failure_reason", _("Say how the wipe failed."))
        line = f"{medium_label(medium)}: {failure_reason}"
        entry.failure_reason = "\n".join(filter(None, [entry.failure_reason, line]))
        entry.save(update_fields=["failure_reason"])
        _event(WipeEventKind.FAILED, by=by, session=session, device=medium.device, reason=line)
        return None
    data.setdefault("tool", session.tool)
    data.setdefault("tool_version", session.tool_version)
    data.setdefault("location", session.location)
    if data.get("verification", Verification.NONE) != Verification.NONE:
        data.setdefault("verification_result", VerificationResult.PASSED)
    return sanitization_record(by=by, medium=medium, device=medium.device, session=session, **data)


@dataclass
class SessionResult:
    session: WipeSession
    passed: list[Device] = field(default_factory=list)
    failed: list[tuple[Device, str]] = field(default_factory=list)


@transaction.atomic
def session_close(*, session: WipeSession, by: User | None, validator_title: str = "",
                  validator_phone: str = "") -> SessionResult:
    """Close the session: the closer validates every wipe recorded in it (a wipe they did themselves is
    refused), the devices whose media all pass move to "sanitized" together, each with its certificate,
    and the rest are listed with the reason for a second attempt. The summary is issued."""
    from wipe.documents import wipe_session_summary_issue

    session = _lock_session(session)
    _check_move(SESSION_TRANSITIONS, session.status, SessionStatus.CLOSED, SessionStatus)
    if _actor(by) is None:
        raise InvalidInput(_("Only a signed-in person can close a wipe session."), field="closed_by")
    if _wrote(by, session.sanitizations.filter(status=SanitizationStatus.RECORDED)):
        raise GuardFailed(_("You recorded wipes in this session; another person closes it and validates them."),
                          field="closed_by")
    refused: dict[int, list[str]] = {}
    for record in session.sanitizations.filter(status=SanitizationStatus.RECORDED).select_related("medium"):
        try:
            with transaction.atomic():
                sanitization_validate(sanitization=record, by=by, validator_title=validator_title,
                                      validator_phone=validator_phone)
        except (DomainError, ValidationError) as exc:
            message = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
            refused.setdefault(record.device_id, []).append(f"{medium_label(record.medium)}: {message}")
    result = SessionResult(session=session)
    for entry in session.entries.select_related("device").order_by("device__inventory_number"):
        reasons = list(refused.get(entry.device_id, []))
        try:
            with transaction.atomic():
                device_sanitize(device=entry.device, by=by,
                                reason=_("wipe session %(session)s") % {"session": session.reference})
        except DomainError as exc:
            reasons.append(exc.message)
        if reasons:
            if entry.failure_reason:
                reasons.insert(0, entry.failure_reason)
            entry.outcome, entry.failure_reason = SessionOutcome.FAILED, "\n".join(reasons)
            result.failed.append((entry.device, entry.failure_reason))
        else:
            entry.outcome = SessionOutcome.PASSED
            result.passed.append(entry.device)
        entry.save(update_fields=["outcome", "failure_reason"])
    session.status = SessionStatus.CLOSED
    session.closed_at = timezone.now()
    session.closed_by = by
    _save(session, by=by, reason=_("wipe session closed"))
    document = wipe_session_summary_issue(session=session, by=by)
    _event(WipeEventKind.CLOSED, by=by, from_status=SessionStatus.OPEN, to_status=session.status, session=session,
           document=document,
           reason=_("%(passed)d passed, %(failed)d to wipe again") % {"passed": len(result.passed),
                                                                     "failed": len(result.failed)})
    return result


@transaction.atomic
def session_retry(*, session: WipeSession, by: User | None, location: str = "") -> WipeSession:
    """Open the second attempt: a new session with the devices that failed in a closed one."""
    session = _lock_session(session)
    if session.status != SessionStatus.CLOSED:
        raise GuardFailed(_("Close the session first; its failures are known only then."))
    earlier = session.retries.first()
    if earlier is not None:
        raise GuardFailed(_("The second attempt of this session is %(session)s.") % {"session": earlier.reference})
    failed = [e.device for e in session.entries.filter(outcome=SessionOutcome.FAILED).select_related("device")
              if e.device.status == DeviceStatus.RETIRED]
    if not failed:
        raise GuardFailed(_("No device of this session waits for a second attempt."))
    return session_open(by=by, devices=failed, location=location or session.location, tool=session.tool,
                        tool_version=session.tool_version, retry_of=session,
                        notes=_("Second attempt of %(session)s") % {"session": session.reference})


# --- tool reports (nwipe / ShredOS) -----------------------------------------------------------------

@dataclass
class ImportPlan:
    """What a report would create and what it leaves out, line by line (never guessed)."""

    format: str
    tool_version: str
    sha256: str
    records: list[dict[str, Any]] = field(default_factory=list)  # one per matched, erased, fitting drive
    problems: list[dict[str, Any]] = field(default_factory=list)  # {"line", "text", "reason"}

    def as_report(self) -> dict[str, Any]:
        return {
            "format": self.format, "tool_version": self.tool_version, "sha256": self.sha256,
            "imported": [{"line": r["line"], "drive": r["evidence_drive"], "serial_number": r["medium"].serial_number,
                          "medium": r["medium"].pk, "device": r["medium"].device.inventory_number}
                         for r in self.records],
            "problems": self.problems,
        }


_NWIPE_VERIFICATION = {"off": Verification.NONE, "last": Verification.FULL, "all": Verification.FULL}


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment)


def _plan(content: bytes, *, filename: str, destination: str, session: WipeSession | None,
          stated_verification: str = "") -> ImportPlan:
    from wipe import nwipe

    try:
        parsed = nwipe.parse(content, filename=filename)
    except nwipe.NotAReport as exc:
        raise InvalidInput(_("The file is not a report of nwipe or ShredOS: %(reason)s") % {"reason": exc},
                           field="file") from exc
    plan = ImportPlan(format=parsed.format, tool_version=parsed.tool_version,
                      sha256=hashlib.sha256(content).hexdigest())
    plan.problems.extend({"line": p.line, "text": p.text, "reason": p.reason} for p in parsed.problems)
    serials = {d.serial.strip().upper() for d in parsed.drives if d.serial.strip()}
    matches = Q(pk__in=[])
    for serial in serials:  # a report covers a cart of drives at most: one OR of exact, case-blind matches
        matches |= Q(serial_number__iexact=serial)
    media = {m.serial_number.strip().upper(): m for m in StorageMedium.objects.select_related("device").filter(matches)}
    in_session = set(session.entries.values_list("device_id", flat=True)) if session else None
    for drive in parsed.drives:
        text = f"{drive.device_path} {drive.model} {drive.serial}".strip()

        def problem(reason: str) -> None:
            plan.problems.append({"line": drive.line, "text": text, "reason": reason})

        if not drive.serial.strip():
            problem(_("the report gives no serial number for this drive"))
            continue
        medium = media.get(drive.serial.strip().upper())
        if medium is None:
            problem(_("serial number %(serial)s matches no storage medium in the register")
                    % {"serial": drive.serial})
            continue
        if medium.removed_at is not None:
            problem(_("medium %(serial)s was taken out of its device; it is not wiped in place")
                    % {"serial": medium.serial_number})
            continue
        if medium.device.status in DEVICE_GONE:
            problem(_("device %(number)s has left the register") % {"number": medium.device.inventory_number})
            continue
        if in_session is not None and medium.device_id not in in_session:
            problem(_("device %(number)s is not in session %(session)s")
                    % {"number": medium.device.inventory_number, "session": session.reference})
            continue
        if drive.outcome != "erased":
            problem(_("the wipe did not finish (%(outcome)s): wipe the medium again") % {"outcome": drive.outcome})
            continue
        if drive.errors:
            problem(_("the tool reported %(count)d errors: wipe the medium again") % {"count": drive.errors})
            continue
        if drive.started_at is None or drive.ended_at is None:
            problem(_("the report gives no start or end time for this drive"))
            continue
        if drive.ended_at < drive.started_at:
            problem(_("the report ends this wipe before it starts"))
            continue
        if _aware(drive.ended_at) > timezone.now() + timezone.timedelta(minutes=5):
            problem(_("the report ends this wipe in the future; check the clock of the wiping computer"))
            continue
        passes = drive.overwrite_passes if drive.overwrite_passes is not None else drive.rounds
        if not passes:
            problem(_("the report shows no completed overwrite pass"))
            continue
        # The log says how nwipe verified; the JSON report does not, and then only the uploader's
        # statement of the options they ran counts, never a guess.
        if drive.verification:
            verification = _NWIPE_VERIFICATION.get(drive.verification, Verification.NONE)
        else:
            verification = stated_verification or Verification.NONE
        details = drive.method or _("method not given in the report")
        if drive.rounds:
            details += " · " + _("rounds: %(rounds)d") % {"rounds": drive.rounds}
        if not drive.verification and stated_verification:
            details += " · " + _("verification as stated by the person importing the report")
        facts = {
            "medium": medium, "line": drive.line, "evidence_drive": drive.device_path[:100],
            "technique": Technique.OVERWRITE,
            # Leaving needs Purge: claim it, so that a refusal says why an overwrite is not Purge here.
            "method_class": (MethodClass.PURGE if destination in LEAVING_DESTINATIONS
                             else fitness.achievable_class(medium.kind, Technique.OVERWRITE) or MethodClass.CLEAR),
            "overwrite_passes": passes, "pattern": (drive.pattern or drive.method)[:100],
            "method_details": details, "tool": "nwipe", "tool_version": drive.tool_version or parsed.tool_version,
            "started_at": _aware(drive.started_at), "finished_at": _aware(drive.ended_at),
            "verification": verification,
            "verification_result": VerificationResult.PASSED if verification != Verification.NONE else "",
            "destination": destination,
        }
        refusals = fitness.assess(kind=medium.kind, technique=facts["technique"], method_class=facts["method_class"],
                                  overwrite_passes=facts["overwrite_passes"], verification=verification,
                                  verification_result=facts["verification_result"], destination=destination)
        if refusals:
            problem("; ".join(r.reason for r in refusals))
            continue
        plan.records.append(facts)
    return plan


@transaction.atomic
def evidence_import(*, by: User | None, file, destination: str = Destination.LEAVES_OFFICE,
                    session: WipeSession | None = None, location: str = "", verification: str = "",
                    dry_run: bool = False) -> tuple[WipeEvidence | None, ImportPlan]:
    """Import an nwipe/ShredOS log or JSON report: keep the file with its SHA-256 and turn each drive it
    proves erased, matched by serial number, into a sanitization record awaiting validation.

    Drives that match nothing, wipes that failed or were aborted, and unreadable lines are reported line
    by line. A report that yields no record at all is refused and nothing is kept. `verification` is
    the uploader's statement of how nwipe verified, used only where the report does not say (JSON).
    """
    if destination not in Destination.values:
        raise InvalidInput(_("Choose the destination of the media."), field="destination")
    if session is None and not location.strip():
        raise InvalidInput(_("Say where the wipe took place."), field="location")
    if _actor(by) is None:
        raise InvalidInput(_("Only a signed-in person can import a report."), field="uploaded_by")
    if file is None or not getattr(file, "size", 0):
        raise InvalidInput(_("The file is empty."), field="file")
    if file.size > settings.MAX_UPLOAD_SIZE:
        raise InvalidInput(_("The file is too large; the limit is %(limit)d MB.")
                           % {"limit": settings.MAX_UPLOAD_SIZE // 2**20}, field="file")
    file.seek(0)
    content = file.read()
    name = (getattr(file, "name", "") or "report").rsplit("/", 1)[-1][:200]
    if session is not None:
        session = _lock_session(session)
        if session.status != SessionStatus.OPEN:
            raise GuardFailed(_("The session %(session)s is closed.") % {"session": session.reference},
                              field="session")
    if verification and verification not in Verification.values:
        raise InvalidInput(_("Choose how the wipe was verified."), field="verification")
    plan = _plan(content, filename=name, destination=destination, session=session,
                 stated_verification=verification)
    earlier = WipeEvidence.objects.filter(sha256=plan.sha256).first()
    if earlier is not None:
        raise GuardFailed(_("This report was already imported on %(when)s.")
                          % {"when": timezone.localtime(earlier.uploaded_at).strftime("%d.%m.%Y %H:%M")},
                          field="file")
    if not plan.records:
        raise InvalidInput(_("Nothing in this report can be imported: no drive was both erased and matched to a "
                             "storage medium in the register."), field="file", details={"report": plan.as_report()})
    if dry_run:
        return None, plan
    evidence = WipeEvidence(original_name=name, sha256=plan.sha256, size=len(content),
                            format=plan.format if plan.format in EvidenceFormat.values else EvidenceFormat.NWIPE_LOG,
                            tool_version=plan.tool_version[:50], session=session, uploaded_by=by,
                            report=plan.as_report())
    evidence.full_clean(exclude=["file"])
    evidence.file.save(name, ContentFile(content), save=False)
    try:
        evidence.save()
        _import_records(plan, evidence, by=by, session=session, location=location)
    except BaseException:
        evidence.file.delete(save=False)  # the transaction rolls back; the stored file must go with it
        raise
    return evidence, plan


def _import_records(plan: ImportPlan, evidence: WipeEvidence, *, by: User | None, session: WipeSession | None,
                    location: str) -> None:
    for facts in plan.records:
        facts = dict(facts)
        medium, drive = facts.pop("medium"), facts.pop("evidence_drive")
        facts.pop("line")
        facts["location"] = location.strip() or session.location
        sanitization_record(by=by, medium=medium, device=medium.device, session=session, evidence=evidence,
                            evidence_drive=drive, **facts)
