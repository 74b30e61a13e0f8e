"""Writes of loans. Each runs in one transaction, locks the loan and its devices, and writes the loan's
event and history; devices move through assets.services.device_transition, which writes theirs."""
from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets.choices import DeviceStatus
from assets.models import Device, Kit
from assets.services import device_transition
from core.audit import actor as _actor
from core.audit import save_audited as _save
from core.choices import DocumentKind
from core.exceptions import GuardFailed, InvalidInput, TransitionNotAllowed
from core.middleware import current_request_id
from core.models import StoredDocument
from core.privacy import refuse_if_anonymised
from loans.choices import LOAN_TRANSITIONS, FindingStatus, LoanEventKind, LoanPurpose, LoanStatus, SetupStep
from loans.documents import handover_protocol_issue, loan_agreement_issue, return_protocol_issue
from loans.models import (
    CouncilTerm,
    Loan,
    LoanAccessory,
    LoanEvent,
    LoanFinding,
    LoanItem,
    LoanSetupStep,
    Recipient,
)

User = AbstractBaseUser




def _event(loan: Loan, kind: str, *, by: User | None, from_status: str = "", reason: str = "",
           planned_end_before: date | None = None) -> LoanEvent:
    return LoanEvent.objects.create(
        loan=loan, kind=kind, actor=_actor(by), from_status=from_status, to_status=loan.status, reason=reason,
        planned_end_before=planned_end_before, planned_end_after=loan.planned_end_on, request_id=current_request_id(),
    )


@transaction.atomic
def recipient_create(*, by: User | None, **data: Any) -> Recipient:
    """Register who may borrow: a councillor (with their user account), a household, a school, ..."""
    recipient = Recipient(**data)
    _save(recipient, by=by)
    return recipient


RECIPIENT_FIELDS = {"kind", "name", "user", "address", "email", "phone", "notes"}


@transaction.atomic
def recipient_update(*, recipient: Recipient, by: User | None, **data: Any) -> Recipient:
    recipient = Recipient.objects.select_for_update().get(pk=recipient.pk)
    refuse_if_anonymised(recipient)
    unknown = set(data) - RECIPIENT_FIELDS
    if unknown:
        raise InvalidInput(_("This field cannot be changed here."), field=sorted(unknown)[0])
    for field, value in data.items():
        setattr(recipient, field, value)
    _save(recipient, by=by)
    return recipient


@transaction.atomic
def council_term_create(*, by: User | None, **data: Any) -> CouncilTerm:
    term = CouncilTerm(**data)
    _save(term, by=by)
    return term


@transaction.atomic
def council_term_change_end(*, term: CouncilTerm, ends_on: date, by: User | None, reason: str = "") -> CouncilTerm:
    """Move a term's end; every open loan tied to the term moves its planned end with it."""
    term = CouncilTerm.objects.select_for_update().get(pk=term.pk)
    term.ends_on = ends_on
    _save(term, by=by, reason=reason)
    for loan in Loan.objects.select_for_update().filter(council_term=term, status=LoanStatus.OPEN):
        before = loan.planned_end_on
        loan.planned_end_on = ends_on
        _save(loan, by=by, reason=reason or _("council term end moved"))
        _event(loan, LoanEventKind.TERM_MOVED, by=by, from_status=loan.status, reason=reason,
               planned_end_before=before)
    return term


@transaction.atomic
def loan_start(
    *,
    recipient: Recipient,
    purpose: str,
    starts_on: date,
    condition_at_handover: str,
    by: User | None,
    devices: list[Device] | None = None,
    kit: Kit | None = None,
    planned_end_on: date | None = None,
    council_term: CouncilTerm | None = None,
    accessories: list[dict[str, Any]] | None = None,
    notes: str = "",
) -> Loan:
    """Hand devices over for use: a kit (all its devices) or a list of devices, each in stock.

    A councillor's loan for council sessions ends with the council term unless another end is given.
    Issues the loan agreement and the handover protocol; each device's move to "on loan" points at the
    handover protocol.
    """
    if bool(devices) == bool(kit):
        raise InvalidInput(_("Lend either a kit or a list of devices."), field="devices")
    # Locked: an anonymisation running now (core.privacy) finishes first, and then refuses this loan.
    recipient = Recipient.objects.select_for_update().get(pk=recipient.pk)
    refuse_if_anonymised(recipient, field="recipient")
    if kit is not None:
        devices = list(Device.objects.filter(kit=kit).order_by("inventory_number"))
        if not devices:
            raise GuardFailed(_("Kit %(code)s has no devices.") % {"code": kit.code}, field="kit")
    if purpose == LoanPurpose.COUNCIL_SESSIONS and council_term is None:
        raise InvalidInput(_("A loan for council sessions belongs to a council term."), field="council_term")
    if planned_end_on is None:
        if council_term is None:
            raise InvalidInput(_("Give the planned end of the loan."), field="planned_end_on")
        planned_end_on = council_term.ends_on
    locked = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in devices]).order_by("pk"))
    for device in locked:
        if device.status != DeviceStatus.IN_STOCK:
            raise GuardFailed(_("Device %(number)s is %(status)s, not in stock; it cannot be lent.")
                              % {"number": device.inventory_number, "status": device.get_status_display()},
                              field="devices")
    loan = Loan(recipient=recipient, purpose=purpose, council_term=council_term, kit=kit, starts_on=starts_on,
                planned_end_on=planned_end_on, condition_at_handover=condition_at_handover, notes=notes)
    _save(loan, by=by, reason=_("loan started"))
    try:
        with transaction.atomic():
            LoanItem.objects.bulk_create([LoanItem(loan=loan, device=device) for device in locked])
    except IntegrityError as exc:  # a concurrent loan won the race for one of these devices
        raise GuardFailed(_("One of the devices is already on an open loan."), field="devices") from exc
    for item in accessories or ():
        accessory = LoanAccessory(loan=loan, **item)
        accessory.full_clean()
        accessory.save()
    _event(loan, LoanEventKind.STARTED, by=by)
    loan_agreement_issue(loan=loan, by=by)
    handover = handover_protocol_issue(loan=loan, by=by)
    reason = _("loan %(id)s to %(recipient)s") % {"id": loan.pk, "recipient": recipient.name}
    for device in locked:
        device_transition(device=device, to_status=DeviceStatus.ON_LOAN, by=by, reason=reason, document=handover)
    return loan


def _check_move(loan: Loan, to_status: str) -> None:
    """Refuse a move the transition table does not allow from the loan's (locked) status."""
    if to_status not in LOAN_TRANSITIONS[loan.status]:
        raise TransitionNotAllowed(_("The loan is %(status)s; it cannot become %(to)s.")
                                   % {"status": loan.get_status_display(), "to": LoanStatus(to_status).label})


def _lock_open(loan: Loan, to_status: str) -> Loan:
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    _check_move(loan, to_status)
    return loan


@transaction.atomic
def loan_extend(*, loan: Loan, planned_end_on: date, by: User | None, reason: str = "") -> Loan:
    """Move the planned end of an open loan later."""
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    if loan.status != LoanStatus.OPEN:
        raise TransitionNotAllowed(_("Only an open loan can be extended."))
    if planned_end_on <= loan.planned_end_on:
        raise InvalidInput(_("The new end must be later than the current one (%(date)s).")
                           % {"date": loan.planned_end_on.strftime("%d.%m.%Y")}, field="planned_end_on")
    before = loan.planned_end_on
    loan.planned_end_on = planned_end_on
    _save(loan, by=by, reason=reason or _("loan extended"))
    _event(loan, LoanEventKind.EXTENDED, by=by, from_status=loan.status, reason=reason, planned_end_before=before)
    return loan


def _close_items(loan: Loan, *, on: date) -> list[Device]:
    items = list(loan.items.select_for_update(of=("self",)).filter(is_open=True).select_related("device"))
    LoanItem.objects.filter(pk__in=[i.pk for i in items]).update(is_open=False, closed_on=on)
    return [item.device for item in items]


@transaction.atomic
def loan_return(
    *,
    loan: Loan,
    by: User | None,
    condition: str,
    returned_on: date | None = None,
    accessories_returned: dict[int, int] | None = None,
    findings: list[str] | None = None,
) -> Loan:
    """Take the devices back into stock, recording their condition and which accessories came back.

    Every accessory not fully returned, and every finding given, becomes an open finding. Issues the
    return protocol; each device's move back to stock points at it.
    """
    loan = _lock_open(loan, LoanStatus.RETURNED)
    condition = (condition or "").strip()
    if not condition:
        raise InvalidInput(_("Describe the condition of the returned devices."), field="condition")
    returned_on = returned_on or timezone.localdate()
    if returned_on < loan.starts_on:
        raise InvalidInput(_("The return cannot be earlier than the start of the loan."), field="returned_on")
    returned = accessories_returned or {}
    accessories = list(loan.accessories.all())
    unknown = set(returned) - {a.pk for a in accessories}
    if unknown:
        raise InvalidInput(_("Accessory %(id)s does not belong to this loan.") % {"id": sorted(unknown)[0]},
                           field="accessories_returned")
    descriptions = [text.strip() for text in findings or () if text.strip()]
    for accessory in accessories:
        count = returned.get(accessory.pk, 0)
        if not 0 <= count <= accessory.quantity:
            raise InvalidInput(_("%(accessory)s: between 0 and %(quantity)d can come back.")
                               % {"accessory": accessory, "quantity": accessory.quantity},
                               field="accessories_returned")
        accessory.returned_quantity = count
        accessory.save(update_fields=["returned_quantity"])
        if count < accessory.quantity:
            label = " ".join(filter(None, [str(accessory.get_kind_display()), accessory.description]))
            descriptions.append(_("Not returned: %(accessory)s (%(missing)d of %(quantity)d).")
                                % {"accessory": label, "missing": accessory.quantity - count,
                                   "quantity": accessory.quantity})
    for description in descriptions:
        LoanFinding.objects.create(loan=loan, description=description, found_on=returned_on)
    devices = _close_items(loan, on=returned_on)
    loan.status = LoanStatus.RETURNED
    loan.ended_on = returned_on
    loan.condition_at_return = condition
    _save(loan, by=by, reason=_("loan returned"))
    _event(loan, LoanEventKind.RETURNED, by=by, from_status=LoanStatus.OPEN, reason=condition)
    protocol = return_protocol_issue(loan=loan, by=by, devices=devices, returned_on=returned_on)
    reason = _("returned from loan %(id)s") % {"id": loan.pk}
    for device in devices:
        device_transition(device=device, to_status=DeviceStatus.IN_STOCK, by=by, reason=reason, document=protocol)
    return loan


@transaction.atomic
def loan_replace_device(*, loan: Loan, device: Device, replacement: Device, by: User | None, reason: str) -> Loan:
    """A loaned device broke and its holder gets another in one step: the broken one comes back (return
    protocol) and goes to repair, the replacement goes out under a new loan (agreement and handover
    protocol) for the same recipient, purpose, council term and planned end.

    When the broken device was the last one held under the loan, the loan is returned and its accessories
    move to the new loan. Returns the new loan.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the device is replaced."), field="reason")
    loan = Loan.objects.select_for_update(of=("self",)).select_related("recipient", "council_term").get(pk=loan.pk)
    if loan.status != LoanStatus.OPEN:
        raise GuardFailed(_("The loan is %(status)s; only a device on an open loan can be replaced.")
                          % {"status": loan.get_status_display()}, field="loan")
    today = timezone.localdate()
    if loan.planned_end_on < today:
        raise GuardFailed(_("The loan was to end on %(date)s; extend it before replacing a device.")
                          % {"date": loan.planned_end_on.strftime("%d.%m.%Y")}, field="loan")
    locked = {d.pk: d for d in Device.objects.select_for_update().filter(pk__in=[device.pk, replacement.pk])
              .order_by("pk")}
    broken, replacement = locked[device.pk], locked[replacement.pk]
    item = loan.items.select_for_update().filter(device=broken, is_open=True).first()
    if item is None:
        raise GuardFailed(_("Device %(number)s is not held under this loan.") % {"number": broken.inventory_number},
                          field="device")
    if replacement.status != DeviceStatus.IN_STOCK:
        raise GuardFailed(_("Device %(number)s is %(status)s, not in stock; it cannot be lent.")
                          % {"number": replacement.inventory_number, "status": replacement.get_status_display()},
                          field="replacement")
    LoanItem.objects.filter(pk=item.pk).update(is_open=False, closed_on=today)
    last = not loan.items.filter(is_open=True).exists()
    accessories = list(loan.accessories.select_for_update()) if last else []
    new_loan = loan_start(
        recipient=loan.recipient, purpose=loan.purpose, council_term=loan.council_term, starts_on=today,
        planned_end_on=loan.planned_end_on, devices=[replacement], by=by,
        condition_at_handover=_("Replaces the device %(number)s (%(reason)s).")
        % {"number": broken.inventory_number, "reason": reason},
        accessories=[{"kind": a.kind, "description": a.description, "quantity": a.quantity} for a in accessories],
        notes=_("Continues loan no. %(id)s.") % {"id": loan.pk},
    )
    _event(loan, LoanEventKind.REPLACED, by=by, from_status=loan.status,
           reason=_("%(broken)s replaced with %(replacement)s under loan no. %(new)s: %(reason)s")
           % {"broken": broken.inventory_number, "replacement": replacement.inventory_number, "new": new_loan.pk,
              "reason": reason})
    if last:  # nothing is held under the old loan any more: it ends, its accessories went to the new one
        for accessory in accessories:
            accessory.returned_quantity = accessory.quantity
            accessory.save(update_fields=["returned_quantity"])
        loan.status = LoanStatus.RETURNED
        loan.ended_on = today
        loan.condition_at_return = reason
        _save(loan, by=by, reason=_("device replaced"))
        _event(loan, LoanEventKind.RETURNED, by=by, from_status=LoanStatus.OPEN, reason=reason)
    note = _("The device %(broken)s was replaced with the device %(replacement)s, handed over under loan "
             "no. %(new)s.") % {"broken": broken.inventory_number, "replacement": replacement.inventory_number,
                                "new": new_loan.pk}
    protocol = return_protocol_issue(loan=loan, by=by, devices=[broken], returned_on=today, condition=reason,
                                     note=note)
    if broken.status == DeviceStatus.ON_LOAN:  # a device already in repair (a fault report) stays there
        device_transition(device=broken, to_status=DeviceStatus.IN_REPAIR, by=by, reason=reason, document=protocol)
    return new_loan


@transaction.atomic
def loan_mark_lost(*, loan: Loan, by: User | None, reference: str, reason: str = "") -> Loan:
    """The recipient lost the devices (or they were stolen): the loan ends, each device is lost."""
    loan = _lock_open(loan, LoanStatus.LOST)
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(_("Give the police report or incident number."), field="reference")
    today = timezone.localdate()
    for device in _close_items(loan, on=today):
        device_transition(device=device, to_status=DeviceStatus.LOST, by=by, reason=reason, reference=reference)
    loan.status = LoanStatus.LOST
    loan.ended_on = today
    _save(loan, by=by, reason=reason or _("loan lost"))
    _event(loan, LoanEventKind.LOST, by=by, from_status=LoanStatus.OPEN, reason=f"{reference} {reason}".strip())
    return loan


def loan_items_transfer(*, devices: list[Device], recipient: Recipient, on: date, by: User | None,
                        reason: str) -> list[Loan]:
    """The devices held by `recipient` pass into its ownership (the donations app's transfer, which moves
    the devices and issues the protocol): their loan items close without a return, and each loan with
    nothing left open ends as transferred. Call inside the caller's transaction, devices locked.
    Returns the loans that ended."""
    items = list(LoanItem.objects.select_for_update(of=("self",)).select_related("loan")
                 .filter(device__in=devices, is_open=True))
    for item in items:
        if item.loan.recipient_id != recipient.pk:
            raise GuardFailed(_("Device %(number)s is on loan to someone else.")
                              % {"number": item.device.inventory_number}, field="devices")
    LoanItem.objects.filter(pk__in=[i.pk for i in items]).update(is_open=False, closed_on=on)
    ended = []
    # The loans of these items, locked at once; those with nothing left open end (a fixed number of queries
    # for a household's set of two devices or a school's forty).
    loans = list(Loan.objects.select_for_update().filter(pk__in={item.loan_id for item in items}).order_by("pk"))
    still_open = set(LoanItem.objects.filter(loan__in=loans, is_open=True).values_list("loan_id", flat=True))
    for loan in loans:
        if loan.pk in still_open:
            continue
        _check_move(loan, LoanStatus.TRANSFERRED)
        loan.status = LoanStatus.TRANSFERRED
        loan.ended_on = on
        _save(loan, by=by, reason=_("devices transferred to the holder"))
        _event(loan, LoanEventKind.TRANSFERRED, by=by, from_status=LoanStatus.OPEN, reason=reason)
        ended.append(loan)
    return ended


@transaction.atomic
def loan_record_setup_step(*, loan: Loan, step: str, done_on: date, by: User | None, note: str = "") -> LoanSetupStep:
    """Record a set-up step (accounts, temporary password, training, personalisation) once per loan."""
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    if loan.status != LoanStatus.OPEN:
        raise TransitionNotAllowed(_("Set-up steps are recorded on open loans only."))
    if step not in SetupStep.values:
        raise InvalidInput(_("Unknown set-up step."), field="step")
    if loan.setup_steps.filter(step=step).exists():
        raise GuardFailed(_("This step is already recorded for the loan."), field="step")
    record = LoanSetupStep(loan=loan, step=step, done_on=done_on, done_by=_actor(by), note=note)
    record.full_clean()
    record.save()
    _event(loan, LoanEventKind.SETUP_STEP, by=by, from_status=loan.status, reason=SetupStep(step).label)
    return record


@transaction.atomic
def loan_finding_settle(*, finding: LoanFinding, by: User | None, settlement: str) -> LoanFinding:
    """Close a finding, saying how (the charger was brought back, the damage was paid for, ...)."""
    finding = LoanFinding.objects.select_for_update().get(pk=finding.pk)
    if finding.status != FindingStatus.OPEN:
        raise TransitionNotAllowed(_("The finding is already settled."))
    settlement = (settlement or "").strip()
    if not settlement:
        raise InvalidInput(_("Say how the finding was settled."), field="settlement")
    finding.status = FindingStatus.SETTLED
    finding.settled_on = timezone.localdate()
    finding.settled_by = _actor(by)
    finding.settlement = settlement
    _save(finding, by=by)
    loan = finding.loan
    _event(loan, LoanEventKind.FINDING_SETTLED, by=by, from_status=loan.status, reason=settlement)
    return finding


@transaction.atomic
def loan_agreement_issue_missing(*, loan: Loan, by: User | None) -> StoredDocument:
    """Issue, late, the loan agreement of a loan that has none: a loan registered by an older system and
    imported here (loan_start always issues it). The compliance check reports such a loan until this runs.

    Every status may get it (open, returned, lost, transferred): the agreement documents the loan as it
    was made, with every device it ever held. A loan that already has its agreement is refused, naming the
    agreement's code; one agreement per loan, as loans.selectors.loan_has_agreement counts it.
    """
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    existing = (loan.documents.filter(kind=DocumentKind.LOAN_AGREEMENT).order_by("issued_at", "id")
                .values_list("code", flat=True).first())
    if existing is not None:
        raise GuardFailed(_("Loan %(id)s already has its loan agreement, %(code)s.")
                          % {"id": loan.pk, "code": existing}, field="loan")
    document = loan_agreement_issue(loan=loan, by=by)
    _event(loan, LoanEventKind.AGREEMENT_ISSUED, by=by, from_status=loan.status,
           reason=_("Loan agreement %(code)s issued late: the loan was registered without one.")
           % {"code": document.code})
    return document


def loan_allowed_moves(loan: Loan) -> list[tuple[str, str]]:
    """The moves a loan allows now, as (API action, resulting status), from LOAN_TRANSITIONS."""
    ending = {"return": LoanStatus.RETURNED, "mark-lost": LoanStatus.LOST}
    moves = [(name, target) for name, target in ending.items() if target in LOAN_TRANSITIONS[loan.status]]
    if LOAN_TRANSITIONS[loan.status]:  # an open loan can still change without ending
        moves += [("extend", loan.status), ("setup-step", loan.status)]
    return moves
