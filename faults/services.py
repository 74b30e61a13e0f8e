"""Writes of fault reports. Each runs in one transaction, locks the fault, checks FAULT_TRANSITIONS,
writes the fault's event and history, and e-mails after the commit: the IT office on a new fault and on
the reporter's messages, the reporter on every status change and every reply from the office.

Devices move only through assets.services.device_transition (into repair and back) and loans through
loans.services (a replacement closes the broken device's loan and opens one for the new device).
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assets.choices import DeviceStatus
from assets.models import Device
from assets.services import device_transition
from core import uploads
from core.audit import actor as _actor
from core.audit import save_audited as _save
from core.exceptions import GuardFailed, InvalidInput, TransitionNotAllowed
from core.middleware import current_request_id
from core.notify import it_office_addresses, send_on_commit
from faults.choices import FAULT_TRANSITIONS, FaultCategory, FaultStatus
from faults.models import FaultEvent, FaultReply, FaultReport
from loans.models import LoanItem
from loans.services import loan_replace_device

User = AbstractBaseUser

# The API action of each move, as `allowed_moves` lists them.
FAULT_MOVES = {
    "acknowledge": FaultStatus.ACKNOWLEDGED,
    "start-work": FaultStatus.IN_PROGRESS,
    "resolve": FaultStatus.RESOLVED,
    "replace": FaultStatus.REPLACED,
    "reject": FaultStatus.REJECTED,
}


def validate_photo(photo: UploadedFile) -> None:
    """A photo of the fault: an image (JPEG, PNG or WebP) within MAX_PHOTO_SIZE, or refused.

    The checks are core.uploads.validate_image; here they become an answer on the `photo` field."""
    if photo.size > settings.MAX_PHOTO_SIZE:
        raise InvalidInput(_("The photo is too large (%(size)s); the limit is %(limit)s.")
                           % {"size": filesizeformat(photo.size), "limit": filesizeformat(settings.MAX_PHOTO_SIZE)},
                           field="photo")
    try:
        uploads.validate_image(photo)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="photo") from exc


def _portal_url(fault: FaultReport) -> str:
    return settings.SITE_URL + reverse("portal:fault", kwargs={"pk": fault.pk})


def _reporter_addresses(fault: FaultReport) -> list[str]:
    return [fault.reporter.email or fault.loan.recipient.email]


def _notify_office_of_new(fault: FaultReport) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("New fault report %(id)s: %(device)s") % {"id": fault.pk, "device": fault.device.inventory_number}
        body = _("%(reporter)s reported a fault (%(category)s) on %(device)s %(model)s.\n\n%(description)s\n\n"
                 "Contact: %(contact)s\nIn the admin: %(url)s") % {
            "reporter": fault.loan.recipient.name, "category": fault.get_category_display(),
            "device": fault.device.inventory_number, "model": f"{fault.device.manufacturer} {fault.device.model}",
            "description": fault.description, "contact": fault.contact,
            "url": settings.SITE_URL + reverse("admin:faults_faultreport_change", args=[fault.pk]),
        }
    send_on_commit(subject=subject, body=body, to=it_office_addresses())


def _notify_reporter(fault: FaultReport, message: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your fault report %(id)s: %(status)s") % {"id": fault.pk, "status": fault.get_status_display()}
        body = _("The status of your fault report %(id)s (%(device)s) is now: %(status)s.\n\n%(message)s\n\n"
                 "Details and replies: %(url)s") % {
            "id": fault.pk, "device": fault.device.inventory_number, "status": fault.get_status_display(),
            "message": message or "", "url": _portal_url(fault),
        }
    send_on_commit(subject=subject, body=body, to=_reporter_addresses(fault))


def _event(fault: FaultReport, *, by: User | None, from_status: str, reason: str = "") -> FaultEvent:
    return FaultEvent.objects.create(fault=fault, actor=_actor(by), from_status=from_status, to_status=fault.status,
                                     reason=reason, request_id=current_request_id())


@transaction.atomic
def fault_report(
    *,
    by: User,
    device: Device,
    category: str,
    description: str,
    contact: str,
    photo: UploadedFile | None = None,
) -> FaultReport:
    """The holder of a loaned device reports what is wrong with it; the IT office is told at once."""
    item = (LoanItem.objects.select_for_update(of=("self",)).select_related("loan__recipient")
            .filter(device=device, is_open=True, loan__recipient__user=_actor(by)).first())
    if item is None:
        raise InvalidInput(_("You hold no device with this number on loan."), field="device")
    if category not in FaultCategory.values:
        raise InvalidInput(_("Choose what kind of fault it is."), field="category")
    description = (description or "").strip()
    if not description:
        raise InvalidInput(_("Describe what is wrong."), field="description")
    contact = (contact or "").strip()
    if not contact:
        raise InvalidInput(_("Say how the IT office can reach you (phone or e-mail)."), field="contact")
    if photo:
        validate_photo(photo)
    fault = FaultReport(device=device, loan=item.loan, reporter=by, category=category, description=description,
                        contact=contact)
    if photo:
        fault.photo = photo
    _save(fault, by=by, reason=_("fault reported"))
    _event(fault, by=by, from_status="", reason=description)
    _notify_office_of_new(fault)
    return fault


def _lock(fault: FaultReport, to_status: str) -> FaultReport:
    locked = FaultReport.objects.select_for_update(of=("self",)).select_related("device", "loan__recipient", "reporter").get(
        pk=fault.pk)
    if to_status not in FAULT_TRANSITIONS[locked.status]:
        raise TransitionNotAllowed(_("The fault report is %(status)s; it cannot become %(to)s.")
                                   % {"status": locked.get_status_display(), "to": FaultStatus(to_status).label})
    return locked


def _move(fault: FaultReport, to_status: str, *, by: User | None, reply: str) -> FaultReport:
    """Write the move once the caller has checked the table and done the move's own work."""
    if reply and _actor(by) is None:
        raise InvalidInput(_("Only a signed-in person of the IT office can reply to the reporter."), field="reply")
    from_status = fault.status
    fault.status = to_status
    fault.status_changed_at = timezone.now()
    _save(fault, by=by, reason=str(FaultStatus(to_status).label))
    _event(fault, by=by, from_status=from_status, reason=reply)
    if reply:
        FaultReply.objects.create(fault=fault, author=by, from_office=True, body=reply)
    _notify_reporter(fault, reply)
    return fault


def _require_reply(reply: str, message: str) -> str:
    reply = (reply or "").strip()
    if not reply:
        raise InvalidInput(message, field="reply")
    return reply


def _back_from_repair(fault: FaultReport, *, by: User | None) -> None:
    """A device taken into repair for this fault goes back to its holder when the fault ends."""
    device = fault.device
    if device.status == DeviceStatus.IN_REPAIR and LoanItem.objects.filter(device=device, is_open=True).exists():
        device_transition(device=device, to_status=DeviceStatus.ON_LOAN, by=by,
                          reason=_("back from repair (fault report %(id)s)") % {"id": fault.pk})


@transaction.atomic
def fault_acknowledge(*, fault: FaultReport, by: User, reply: str = "") -> FaultReport:
    """The IT office has read the report and will deal with it."""
    fault = _lock(fault, FaultStatus.ACKNOWLEDGED)
    return _move(fault, FaultStatus.ACKNOWLEDGED, by=by, reply=(reply or "").strip())


@transaction.atomic
def fault_start_work(*, fault: FaultReport, by: User, reply: str = "", take_into_repair: bool = False) -> FaultReport:
    """Work on the fault begins; with `take_into_repair` the device leaves its holder for repair."""
    fault = _lock(fault, FaultStatus.IN_PROGRESS)
    if take_into_repair:
        device_transition(device=fault.device, to_status=DeviceStatus.IN_REPAIR, by=by,
                          reason=_("repair, fault report %(id)s") % {"id": fault.pk})
        fault.device.refresh_from_db()
    return _move(fault, FaultStatus.IN_PROGRESS, by=by, reply=(reply or "").strip())


@transaction.atomic
def fault_resolve(*, fault: FaultReport, by: User, reply: str) -> FaultReport:
    """The fault is fixed; a device taken into repair goes back to its holder. The reply says what was done."""
    fault = _lock(fault, FaultStatus.RESOLVED)
    reply = _require_reply(reply, _("Tell the reporter what was done."))
    _back_from_repair(fault, by=by)
    return _move(fault, FaultStatus.RESOLVED, by=by, reply=reply)


@transaction.atomic
def fault_reject(*, fault: FaultReport, by: User, reply: str) -> FaultReport:
    """Not a fault the office will act on (a duplicate, not a fault of the device); the reply says why."""
    fault = _lock(fault, FaultStatus.REJECTED)
    reply = _require_reply(reply, _("Tell the reporter why the report is rejected."))
    _back_from_repair(fault, by=by)
    return _move(fault, FaultStatus.REJECTED, by=by, reply=reply)


@transaction.atomic
def fault_replace(*, fault: FaultReport, by: User, replacement: Device, reply: str = "") -> FaultReport:
    """Replace the broken device in one step: its loan closes with a return protocol, a loan of the
    replacement opens with its agreement and handover protocol, and the broken device goes to repair."""
    fault = _lock(fault, FaultStatus.REPLACED)
    item = LoanItem.objects.filter(device=fault.device, is_open=True).select_related("loan").first()
    if item is None:
        raise GuardFailed(_("The device is no longer on loan; there is nothing to replace."), field="replacement")
    reason = _("replaced after fault report %(id)s") % {"id": fault.pk}
    new_loan = loan_replace_device(loan=item.loan, device=fault.device, replacement=replacement, by=by,
                                   reason=reason)
    fault.replacement = replacement
    fault.replacement_loan = new_loan
    reply = (reply or "").strip() or _("Your device was replaced with %(device)s %(model)s (%(number)s).") % {
        "device": replacement.get_kind_display(), "model": f"{replacement.manufacturer} {replacement.model}",
        "number": replacement.inventory_number}
    return _move(fault, FaultStatus.REPLACED, by=by, reply=reply)


@transaction.atomic
def fault_reply(*, fault: FaultReport, by: User, body: str) -> FaultReply:
    """A message on the fault: from the IT office to the reporter, or from the reporter to the office."""
    fault = FaultReport.objects.select_for_update(of=("self",)).select_related("device", "loan__recipient", "reporter").get(
        pk=fault.pk)
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("Write the message."), field="body")
    from_office = by.has_perm("faults.handle_fault")
    if not from_office and fault.reporter_id != by.pk:
        raise GuardFailed(_("Only the reporter and the IT office write on a fault report."))
    reply = FaultReply.objects.create(fault=fault, author=by, from_office=from_office, body=body)
    if from_office:
        _notify_reporter(fault, body)
    else:
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Fault report %(id)s: a message from the reporter") % {"id": fault.pk}
            text = "%s\n\n%s" % (body, settings.SITE_URL + reverse("admin:faults_faultreport_change", args=[fault.pk]))
        send_on_commit(subject=subject, body=text, to=it_office_addresses())
    return reply


def fault_allowed_moves(fault: FaultReport) -> list[tuple[str, str]]:
    """The moves a fault allows now, as (API action, resulting status), from FAULT_TRANSITIONS."""
    return [(name, target) for name, target in FAULT_MOVES.items() if target in FAULT_TRANSITIONS[fault.status]]
