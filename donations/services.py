"""Writes of grant projects, beneficiaries, orders, transfers, donations and scrapping.

Each service runs in one transaction, locks what it changes, writes the event and history rows, and
raises a DomainError (nothing written) when a rule refuses. Devices move only through
assets.services.device_transition; loans start and end only through loans.services.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from assets.choices import DEVICE_GONE, DeviceStatus, FundingSource, RetirementReason
from assets.models import Device, Kit
from assets.services import (
    device_register,
    device_retire,
    device_transition,
    devices_transition,
    storage_medium_add,
)
from core.audit import actor as _actor
from core.audit import save_audited as _save
from core.exceptions import GuardFailed, InvalidInput, TransitionNotAllowed
from core.privacy import refuse_if_anonymised
from core.services import save_numbered
from core.tabular import ColumnMap, read_rows
from core.middleware import current_request_id
from donations.choices import (
    DONATION_TRANSITIONS,
    LIQUIDATION_ORDER_KINDS,
    TRANSFER_OPEN,
    TRANSFER_TRANSITIONS,
    BeneficiaryKind,
    DonationStatus,
    LegalCheck,
    TransferEventKind,
    TransferStatus,
)
from donations.legal import CheckResult, failures, legal_check
from donations.models import (
    Beneficiary,
    DonationOffer,
    GrantProject,
    Liquidation,
    LiquidationItem,
    MayoralOrder,
    ObligationRecord,
    OrderAnnexBeneficiary,
    OrderAnnexDevice,
    ProjectDevice,
    ProjectObligation,
    Transfer,
    TransferEvent,
    TransferItem,
)
from loans.choices import LoanPurpose, LoanStatus, RecipientKind
from loans.models import Loan, LoanItem, Recipient
from loans.services import loan_items_transfer, loan_start

User = AbstractBaseUser


def _assign(instance: Model, data: dict[str, Any], *, allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise InvalidInput(_("This field cannot be changed here."), field=sorted(unknown)[0])
    for name, value in data.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def _require(value: str, field_name: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, field=field_name)
    return value


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _save_numbered(instance: Model, prefix: str, *, by: User | None, reason: str) -> None:
    try:
        save_numbered(instance, field="number", prefix=prefix, save=lambda: _save(instance, by=by, reason=reason))
    except IntegrityError as exc:
        raise GuardFailed(_("Another record was numbered at the same moment; try again.")) from exc


def _devices_of(devices: list[Device] | None, kits: list[Kit] | None) -> list[Device]:
    """The devices named, with every device of the kits named; each once."""
    wanted = {d.pk for d in devices or ()}
    if kits:
        wanted |= set(Device.objects.filter(kit__in=kits).values_list("pk", flat=True))
    return list(Device.objects.filter(pk__in=wanted).order_by("inventory_number"))


# --- grant projects -------------------------------------------------------------------------------

PROJECT_FIELDS = {"name", "programme", "agreement_number", "starts_on", "ends_on", "final_payment_on",
                  "durability_years", "manager", "notes"}


@transaction.atomic
def project_create(*, by: User | None, **data: Any) -> GrantProject:
    """Register a grant project; its durability period ends the given number of years after the final payment."""
    project = GrantProject()
    _assign(project, data, allowed=PROJECT_FIELDS)
    _save(project, by=by, reason=_("project registered"))
    return project


@transaction.atomic
def project_update(*, project: GrantProject, by: User | None, **data: Any) -> GrantProject:
    project = GrantProject.objects.select_for_update().get(pk=project.pk)
    _assign(project, data, allowed=PROJECT_FIELDS)
    _save(project, by=by)
    return project


@transaction.atomic
def project_add_devices(*, project: GrantProject, by: User | None, devices: list[Device] | None = None,
                        kits: list[Kit] | None = None) -> list[ProjectDevice]:
    """Record devices (or whole kits) as bought by the project; a device belongs to one project at most."""
    wanted = _devices_of(devices, kits)
    if not wanted:
        raise InvalidInput(_("Choose the devices or kits the project bought."), field="devices")
    locked = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in wanted]).order_by("pk"))
    other = (ProjectDevice.objects.filter(device__in=locked).exclude(project=project)
             .select_related("device", "project").first())
    if other is not None:
        raise GuardFailed(_("Device %(device)s already belongs to the project %(project)s.")
                          % {"device": other.device.inventory_number, "project": other.project.name}, field="devices")
    gone = next((d for d in locked if d.status in DEVICE_GONE), None)
    if gone is not None:
        raise GuardFailed(_("Device %(device)s has left the register (%(status)s).")
                          % {"device": gone.inventory_number, "status": gone.get_status_display()}, field="devices")
    have = set(ProjectDevice.objects.filter(project=project).values_list("device_id", flat=True))
    who = _actor(by)
    rows = ProjectDevice.objects.bulk_create([ProjectDevice(project=project, device=d, added_by=who) for d in locked
                                              if d.pk not in have])
    return rows


# --- beneficiaries --------------------------------------------------------------------------------

_RECIPIENT_KIND = {
    BeneficiaryKind.HOUSEHOLD: RecipientKind.HOUSEHOLD,
    BeneficiaryKind.SCHOOL: RecipientKind.SCHOOL,
    BeneficiaryKind.CARE_CENTRE: RecipientKind.CARE_CENTRE,
    BeneficiaryKind.NGO: RecipientKind.INSTITUTION,
    BeneficiaryKind.OTHER: RecipientKind.INSTITUTION,
}
CONTACT_FIELDS = {"name", "address", "email", "phone"}
BENEFICIARY_FIELDS = {"code", "kind", "eligibility_basis", "eligibility_document", "eligibility_reference",
                      "qualified_on", "is_active", "notes"}


def _unique_code(project: GrantProject, code: str | None, *, exclude: int | None = None) -> None:
    code = (code or "").strip()
    if code and Beneficiary.objects.filter(project=project, code=code).exclude(pk=exclude).exists():
        raise InvalidInput(_("The project already has a beneficiary with this code."), field="code")


@transaction.atomic
def beneficiary_create(*, project: GrantProject, by: User | None, name: str, address: str = "", email: str = "",
                       phone: str = "", **data: Any) -> Beneficiary:
    """Register a beneficiary of a project with only what is needed to hand over and reach them."""
    kind = data.get("kind")
    if kind not in BeneficiaryKind.values:
        raise InvalidInput(_("Choose the kind of beneficiary."), field="kind")
    _require(data.get("eligibility_basis", ""), "eligibility_basis", _("State the basis of eligibility."))
    _unique_code(project, data.get("code"))
    recipient = Recipient(kind=_RECIPIENT_KIND[kind], name=(name or "").strip(), address=address.strip(),
                          email=email.strip(), phone=phone.strip())
    _save(recipient, by=by, reason=_("beneficiary registered"))
    beneficiary = Beneficiary(project=project, recipient=recipient)
    _assign(beneficiary, data, allowed=BENEFICIARY_FIELDS)
    _save(beneficiary, by=by, reason=_("beneficiary registered"))
    return beneficiary


@transaction.atomic
def beneficiary_update(*, beneficiary: Beneficiary, by: User | None, **data: Any) -> Beneficiary:
    beneficiary = Beneficiary.objects.select_for_update(of=("self",)).select_related("recipient").get(pk=beneficiary.pk)
    refuse_if_anonymised(beneficiary)
    contact = {k: data.pop(k) for k in list(data) if k in CONTACT_FIELDS}
    if "code" in data:
        _unique_code(beneficiary.project, data["code"], exclude=beneficiary.pk)
    if "kind" in data and data["kind"] != beneficiary.kind:
        if data["kind"] not in BeneficiaryKind.values:
            raise InvalidInput(_("Choose the kind of beneficiary."), field="kind")
        contact["kind"] = _RECIPIENT_KIND[data["kind"]]
    _assign(beneficiary, data, allowed=BENEFICIARY_FIELDS)
    _save(beneficiary, by=by)
    if contact:
        recipient = Recipient.objects.select_for_update().get(pk=beneficiary.recipient_id)
        _assign(recipient, contact, allowed=CONTACT_FIELDS | {"kind"})
        _save(recipient, by=by)
    return beneficiary


def beneficiary_open_loans(beneficiary: Beneficiary):
    return Loan.objects.filter(recipient_id=beneficiary.recipient_id, status=LoanStatus.OPEN,
                               purpose=LoanPurpose.GRANT_PROJECT)


@transaction.atomic
def beneficiary_allocate(*, beneficiary: Beneficiary, starts_on: date, by: User | None,
                         devices: list[Device] | None = None, kit: Kit | None = None,
                         condition_at_handover: str = "", accessories: list[dict[str, Any]] | None = None,
                         notes: str = "") -> Loan:
    """Lend a project's set to its beneficiary for the whole durability period (loans app: agreement and
    handover protocol). A household holds one set at a time; schools and centres may hold many."""
    beneficiary = (Beneficiary.objects.select_for_update(of=("self",)).select_related("project", "recipient")
                   .get(pk=beneficiary.pk))
    project = beneficiary.project
    if not beneficiary.is_active:
        raise GuardFailed(_("Beneficiary %(code)s is not active.") % {"code": beneficiary.code}, field="beneficiary")
    if beneficiary.kind == BeneficiaryKind.HOUSEHOLD and beneficiary_open_loans(beneficiary).exists():
        raise GuardFailed(_("Household %(code)s already holds a set of the project; one allocation per household.")
                          % {"code": beneficiary.code}, field="beneficiary")
    chosen = _devices_of(devices, [kit] if kit else None)
    if not chosen:
        raise InvalidInput(_("Choose the set to hand over."), field="devices")
    outside = set(d.pk for d in chosen) - set(
        ProjectDevice.objects.filter(project=project, device__in=chosen).values_list("device_id", flat=True))
    if outside:
        number = next(d.inventory_number for d in chosen if d.pk in outside)
        raise GuardFailed(_("Device %(device)s is not a device of the project %(project)s.")
                          % {"device": number, "project": project.name}, field="devices")
    if starts_on > project.durability_ends_on:
        raise InvalidInput(_("The durability period ended on %(date)s.") % {"date": _day(project.durability_ends_on)},
                           field="starts_on")
    return loan_start(
        recipient=beneficiary.recipient, purpose=LoanPurpose.GRANT_PROJECT, starts_on=starts_on,
        planned_end_on=project.durability_ends_on, by=by,
        devices=None if kit else chosen, kit=kit,
        condition_at_handover=condition_at_handover.strip() or _("New, complete, in working order."),
        accessories=accessories, notes=notes or _("Project %(project)s, beneficiary %(code)s.")
        % {"project": project.name, "code": beneficiary.code})


# --- obligations ----------------------------------------------------------------------------------

@transaction.atomic
def obligation_create(*, project: GrantProject, kind: str, description: str, by: User | None, applies_to: str = "",
                      starts_on: date | None = None, ends_on: date | None = None) -> ProjectObligation:
    """An obligation of the durability period; by default it runs from the final payment to the period's end."""
    obligation = ProjectObligation(project=project, kind=kind, description=(description or "").strip(),
                                   applies_to=applies_to, starts_on=starts_on or project.final_payment_on,
                                   ends_on=ends_on or project.durability_ends_on)
    _save(obligation, by=by, reason=_("obligation registered"))
    return obligation


def _month(value: date) -> date:
    return value.replace(day=1)


def _check_month(obligation: ProjectObligation, month: date) -> date:
    month = _month(month)
    if not obligation.starts_on.replace(day=1) <= month <= obligation.ends_on:
        raise InvalidInput(_("The obligation runs from %(from)s to %(to)s.")
                           % {"from": _day(obligation.starts_on), "to": _day(obligation.ends_on)}, field="month")
    return month


def _applies(obligation: ProjectObligation):
    beneficiaries = Beneficiary.objects.filter(project_id=obligation.project_id)
    if obligation.applies_to:
        beneficiaries = beneficiaries.filter(kind=obligation.applies_to)
    return beneficiaries


@transaction.atomic
def obligation_record(*, obligation: ProjectObligation, beneficiary: Beneficiary, month: date, proof_reference: str,
                      by: User | None, proof_file=None, note: str = "") -> ObligationRecord:
    """Prove that an obligation was met for one beneficiary in one month."""
    obligation = ProjectObligation.objects.select_for_update().get(pk=obligation.pk)
    month = _check_month(obligation, month)
    if not _applies(obligation).filter(pk=beneficiary.pk).exists():
        raise InvalidInput(_("The obligation does not apply to beneficiary %(code)s.") % {"code": beneficiary.code},
                           field="beneficiary")
    proof_reference = _require(proof_reference, "proof_reference", _("Name the proof (invoice, service report)."))
    if ObligationRecord.objects.filter(obligation=obligation, beneficiary=beneficiary, month=month).exists():
        raise GuardFailed(_("%(month)s is already recorded for beneficiary %(code)s.")
                          % {"month": month.strftime("%m.%Y"), "code": beneficiary.code}, field="month")
    record = ObligationRecord(obligation=obligation, beneficiary=beneficiary, month=month,
                              proof_reference=proof_reference, proof_file=proof_file or "", note=note.strip(),
                              recorded_by=_actor(by))
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def obligation_record_month(*, obligation: ProjectObligation, month: date, proof_reference: str, by: User | None,
                            beneficiaries: list[Beneficiary] | None = None, note: str = "") -> list[ObligationRecord]:
    """Prove one month for many beneficiaries at once (one invoice of the internet provider for every
    household). Beneficiaries already recorded for that month are left as they are."""
    obligation = ProjectObligation.objects.select_for_update().get(pk=obligation.pk)
    month = _check_month(obligation, month)
    proof_reference = _require(proof_reference, "proof_reference", _("Name the proof (invoice, service report)."))
    applies = _applies(obligation)
    if beneficiaries is not None:
        chosen = {b.pk for b in beneficiaries}
        stray = chosen - set(applies.filter(pk__in=chosen).values_list("pk", flat=True))
        if stray:
            raise InvalidInput(_("The obligation does not apply to some of the chosen beneficiaries."),
                               field="beneficiaries")
        applies = applies.filter(pk__in=chosen)
    done = set(ObligationRecord.objects.filter(obligation=obligation, month=month).values_list("beneficiary_id",
                                                                                               flat=True))
    who = _actor(by)
    rows = [ObligationRecord(obligation=obligation, beneficiary_id=pk, month=month, proof_reference=proof_reference,
                             note=note.strip(), recorded_by=who)
            for pk in applies.exclude(pk__in=done).values_list("pk", flat=True)]
    return ObligationRecord.objects.bulk_create(rows)


# --- mayoral orders and their annexes -------------------------------------------------------------

ORDER_FIELDS = {"number", "signed_on", "signatory", "title", "legal_basis", "kind", "in_force_from", "in_force_until",
                "project", "scan", "notes"}


def _scan_digest(order: MayoralOrder, data: dict[str, Any]) -> None:
    scan = data.get("scan")
    if scan:
        position = scan.tell() if hasattr(scan, "tell") else 0
        scan.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: scan.read(1024 * 1024), b""):
            digest.update(chunk)
        order.scan_sha256 = digest.hexdigest()
        scan.seek(position)


def _order_used(order: MayoralOrder) -> bool:
    return (order.transfers.filter(status=TransferStatus.COMPLETED).exists()
            or order.liquidations.exists())


@transaction.atomic
def order_create(*, by: User | None, **data: Any) -> MayoralOrder:
    """Register a mayor's order; the signed scan's SHA-256 is kept."""
    number = (data.get("number") or "").strip()
    if number and MayoralOrder.objects.filter(number__iexact=number).exists():
        raise InvalidInput(_("An order with this number is already registered."), field="number")
    order = MayoralOrder()
    _assign(order, data, allowed=ORDER_FIELDS)
    _scan_digest(order, data)
    _save(order, by=by, reason=_("order registered"))
    return order


@transaction.atomic
def order_update(*, order: MayoralOrder, by: User | None, **data: Any) -> MayoralOrder:
    """Correct an order. Once devices left under it, only its notes and its scan may change."""
    order = MayoralOrder.objects.select_for_update().get(pk=order.pk)
    changed = {name for name, value in data.items() if name not in {"notes", "scan"}
               and (value.strip() if isinstance(value, str) else value) != getattr(order, name)}
    if _order_used(order) and changed:
        raise GuardFailed(_("Devices have already left under order no. %(number)s; only its notes and scan can "
                            "change.") % {"number": order.number}, field=sorted(changed)[0])
    number = (data.get("number") or "").strip()
    if number and MayoralOrder.objects.filter(number__iexact=number).exclude(pk=order.pk).exists():
        raise InvalidInput(_("An order with this number is already registered."), field="number")
    _assign(order, data, allowed=ORDER_FIELDS)
    _scan_digest(order, data)
    _save(order, by=by)
    return order


@dataclass
class AnnexReport:
    """What an annex import found, line by line (line numbers as in the file, the header being line 1)."""

    devices: list[Device] = field(default_factory=list)
    beneficiaries: list[Beneficiary] = field(default_factory=list)
    already_listed: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)  # value -> its line, per column

    def as_dict(self) -> dict[str, Any]:
        return {"devices_added": len(self.devices), "beneficiaries_added": len(self.beneficiaries),
                "already_listed": self.already_listed, "problems": self.problems}


# The annex's columns: the inventory number of a device, or the code of a beneficiary (either or both).
ANNEX_COLUMNS = ColumnMap({
    "inventory_number": ["numer inwentarzowy", "inventory number", "nr inwentarzowy", "nr inw", "numer inw",
                         "inventory no"],
    "beneficiary": ["beneficjent", "beneficiary code", "kod beneficjenta", "nr beneficjenta"],
})


def _plan_annex(order: MayoralOrder, content: bytes, filename: str) -> AnnexReport:
    report = AnnexReport()
    numbers: dict[str, int] = {}
    codes: dict[str, int] = {}
    with read_rows(io.BytesIO(content), filename=filename, columns=ANNEX_COLUMNS) as reading:
        device_col = reading.mapping.get("inventory_number", "")
        beneficiary_col = reading.mapping.get("beneficiary", "")
        for row in reading:
            number = str(row.values.get("inventory_number") or "").strip()
            code = str(row.values.get("beneficiary") or "").strip()
            for value, seen, column in ((number, numbers, device_col), (code, codes, beneficiary_col)):
                if not value:
                    continue
                if value in seen:
                    report.problems.append({"line": row.number, "column": column, "value": value,
                                            "reason": _("listed twice (line %(line)d)") % {"line": seen[value]}})
                seen.setdefault(value, row.number)
    if not numbers and not codes:
        raise InvalidInput(_("The annex lists nothing."), field="file")
    devices = {d.inventory_number: d for d in Device.objects.filter(inventory_number__in=list(numbers))}
    listed = set(OrderAnnexDevice.objects.filter(order=order).values_list("device_id", flat=True))
    for number, line in numbers.items():
        device = devices.get(number)
        if device is None:
            report.problems.append({"line": line, "column": device_col, "value": number,
                                    "reason": _("no device with this inventory number")})
        elif device.pk in listed:
            report.already_listed += 1
        else:
            report.devices.append(device)
    if codes:
        scope = Beneficiary.objects.filter(code__in=list(codes))
        if order.project_id:
            scope = scope.filter(project_id=order.project_id)
        found: dict[str, list[Beneficiary]] = {}
        for beneficiary in scope:
            found.setdefault(beneficiary.code, []).append(beneficiary)
        listed_b = set(OrderAnnexBeneficiary.objects.filter(order=order).values_list("beneficiary_id", flat=True))
        for code, line in codes.items():
            matches = found.get(code, [])
            if not matches:
                report.problems.append({"line": line, "column": beneficiary_col, "value": code,
                                        "reason": _("no beneficiary with this code")})
            elif len(matches) > 1:
                report.problems.append({"line": line, "column": beneficiary_col, "value": code,
                                        "reason": _("the code is used in several projects; link the order to its "
                                                    "project")})
            elif matches[0].pk in listed_b:
                report.already_listed += 1
            else:
                report.beneficiaries.append(matches[0])
    report.problems.sort(key=lambda p: p["line"])
    report.lines = {"devices": numbers, "beneficiaries": codes}
    return report


@transaction.atomic
def order_annex_import(*, order: MayoralOrder, content: bytes, filename: str, by: User | None,
                       dry_run: bool = False) -> AnnexReport:
    """Add the devices (by inventory number) and beneficiaries (by code) of a CSV or XLSX annex to an order.

    Any line in error (an unknown number, a line listed twice) refuses the whole file with a report line
    by line, and nothing is added. With `dry_run`, reports what would be added.
    """
    order = MayoralOrder.objects.select_for_update().get(pk=order.pk)
    if _order_used(order):
        raise GuardFailed(_("Devices have already left under order no. %(number)s; its annex is closed.")
                          % {"number": order.number}, field="file")
    report = _plan_annex(order, content, filename)
    if report.problems:
        raise InvalidInput(
            _("%(count)d line(s) of the annex cannot be accepted; nothing was added. First: line %(line)d, "
              "%(value)s: %(reason)s.") % {"count": len(report.problems), **report.problems[0]},
            field="file", details={"problems": report.problems})
    if dry_run:
        return report
    lines = report.lines
    OrderAnnexDevice.objects.bulk_create([OrderAnnexDevice(order=order, device=d, line=lines["devices"][d.inventory_number])
                                          for d in report.devices])
    OrderAnnexBeneficiary.objects.bulk_create([OrderAnnexBeneficiary(order=order, beneficiary=b,
                                                                     line=lines["beneficiaries"][b.code])
                                               for b in report.beneficiaries])
    _save(order, by=by, reason=_("annex imported from %(file)s") % {"file": filename[:60]})
    return report


@transaction.atomic
def order_annex_add(*, order: MayoralOrder, by: User | None, devices: list[Device] | None = None,
                    beneficiaries: list[Beneficiary] | None = None, lines: dict[str, dict[int, int]] | None = None,
                    ) -> MayoralOrder:
    """Add devices or beneficiaries to an order's annex by hand, or from a spreadsheet with their annex lines
    (`lines`: {"devices": {device id: line}, "beneficiaries": {beneficiary id: line}})."""
    order = MayoralOrder.objects.select_for_update().get(pk=order.pk)
    if _order_used(order):
        raise GuardFailed(_("Devices have already left under order no. %(number)s; its annex is closed.")
                          % {"number": order.number}, field="devices" if devices else "beneficiaries")
    if not devices and not beneficiaries:
        raise InvalidInput(_("Choose the devices or beneficiaries to add."), field="devices")
    if order.project_id and beneficiaries:
        stray = next((b for b in beneficiaries if b.project_id != order.project_id), None)
        if stray is not None:
            raise InvalidInput(_("Beneficiary %(code)s is not in the order's project.") % {"code": stray.code},
                               field="beneficiaries")
    have_d = set(order.annex_device_rows.values_list("device_id", flat=True))
    have_b = set(order.annex_beneficiary_rows.values_list("beneficiary_id", flat=True))
    device_lines = (lines or {}).get("devices", {})
    beneficiary_lines = (lines or {}).get("beneficiaries", {})
    OrderAnnexDevice.objects.bulk_create([OrderAnnexDevice(order=order, device=d, line=device_lines.get(d.pk))
                                          for d in devices or () if d.pk not in have_d])
    OrderAnnexBeneficiary.objects.bulk_create([
        OrderAnnexBeneficiary(order=order, beneficiary=b, line=beneficiary_lines.get(b.pk))
        for b in beneficiaries or () if b.pk not in have_b])
    _save(order, by=by, reason=_("annex completed"))
    return order


# --- transfers ------------------------------------------------------------------------------------

def _transfer_event(transfer: Transfer, kind: str, *, by: User | None, from_status: str = "", reason: str = "",
                    document=None) -> TransferEvent:
    return TransferEvent.objects.create(transfer=transfer, kind=kind, actor=_actor(by), from_status=from_status,
                                        to_status=transfer.status, reason=reason, document=document,
                                        request_id=current_request_id())


def _lock_transfer(transfer: Transfer, to_status: str) -> Transfer:
    locked = Transfer.objects.select_for_update(of=("self",)).select_related("order", "recipient").get(pk=transfer.pk)
    if to_status not in TRANSFER_TRANSITIONS[locked.status]:
        raise TransitionNotAllowed(_("The transfer is %(status)s; it cannot become %(to)s.")
                                   % {"status": locked.get_status_display(), "to": TransferStatus(to_status).label})
    return locked


def _claim(devices: list[Device], *, transfer: Transfer | None = None) -> None:
    """Refuse devices that another open transfer already holds (the devices are locked by the caller)."""
    busy = TransferItem.objects.filter(device__in=devices, transfer__status__in=TRANSFER_OPEN)
    if transfer is not None:
        busy = busy.exclude(transfer=transfer)
    busy = busy.select_related("device", "transfer").first()
    if busy is not None:
        raise GuardFailed(_("Device %(device)s is already in the open transfer %(number)s.")
                          % {"device": busy.device.inventory_number, "number": busy.transfer.number}, field="devices")


def _check_date(order: MayoralOrder, transfer_date: date) -> None:
    if transfer_date < order.in_force_from:
        raise InvalidInput(_("Order no. %(number)s comes into force on %(date)s; a transfer under it cannot be dated "
                             "earlier.") % {"number": order.number, "date": _day(order.in_force_from)},
                           field="transfer_date")


@transaction.atomic
def transfer_create(*, order: MayoralOrder, recipient: Recipient, transfer_date: date, by: User | None,
                    devices: list[Device] | None = None, kits: list[Kit] | None = None, notes: str = "") -> Transfer:
    """Prepare a free transfer of devices (or whole kits) to one recipient under an order, as a draft."""
    _check_date(order, transfer_date)
    chosen = _devices_of(devices, kits)
    if not chosen:
        raise InvalidInput(_("Choose the devices or kits to transfer."), field="devices")
    locked = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in chosen]).order_by("pk"))
    _claim(locked)
    transfer = Transfer(order=order, recipient=recipient, transfer_date=transfer_date, notes=notes.strip(),
                        created_by=_actor(by))
    _save_numbered(transfer, f"PN/{transfer_date:%Y}/", by=by, reason=_("transfer prepared"))
    TransferItem.objects.bulk_create([TransferItem(transfer=transfer, device=d) for d in locked])
    _transfer_event(transfer, TransferEventKind.CREATED, by=by,
                    reason=", ".join(d.inventory_number for d in sorted(locked, key=lambda d: d.inventory_number)))
    return transfer


@transaction.atomic
def transfer_update(*, transfer: Transfer, by: User | None, transfer_date: date | None = None,
                    devices: list[Device] | None = None, kits: list[Kit] | None = None,
                    notes: str | None = None) -> Transfer:
    """Change a draft: its date, its devices, its notes."""
    transfer = Transfer.objects.select_for_update(of=("self",)).select_related("order").get(pk=transfer.pk)
    if transfer.status != TransferStatus.DRAFT:
        raise TransitionNotAllowed(_("Only a draft transfer can be changed; this one is %(status)s.")
                                   % {"status": transfer.get_status_display()})
    if transfer_date is not None:
        _check_date(transfer.order, transfer_date)
        transfer.transfer_date = transfer_date
    if notes is not None:
        transfer.notes = notes.strip()
    if devices is not None or kits is not None:
        chosen = _devices_of(devices, kits)
        if not chosen:
            raise InvalidInput(_("Choose the devices or kits to transfer."), field="devices")
        locked = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in chosen]).order_by("pk"))
        _claim(locked, transfer=transfer)
        transfer.items.exclude(device__in=locked).delete()
        have = set(transfer.items.values_list("device_id", flat=True))
        TransferItem.objects.bulk_create([TransferItem(transfer=transfer, device=d) for d in locked if d.pk not in have])
    _save(transfer, by=by, reason=_("transfer changed"))
    return transfer


def _snapshot(results: list[CheckResult]) -> list[dict]:
    return [r.as_dict() for r in results]


def _refusal(message: str, results: list[CheckResult], field_name: str | None = None) -> GuardFailed:
    failed = failures(results)
    listed = " ".join(r.message for r in failed)
    return GuardFailed(f"{message} {listed}".strip(), field=field_name,
                       details={"checks": _snapshot(results), "failed": [r.check for r in failed]})


@transaction.atomic
def transfer_submit(*, transfer: Transfer, by: User | None) -> Transfer:
    """Send a draft to the legal office; the check as it stands is kept with it."""
    transfer = _lock_transfer(transfer, TransferStatus.SUBMITTED)
    locked = list(Device.objects.select_for_update().filter(transfer_items__transfer=transfer).order_by("pk"))
    _claim(locked, transfer=transfer)
    transfer.checks = _snapshot(legal_check(transfer))
    transfer.status = TransferStatus.SUBMITTED
    _save(transfer, by=by, reason=_("submitted for legal review"))
    _transfer_event(transfer, TransferEventKind.SUBMITTED, by=by, from_status=TransferStatus.DRAFT)
    return transfer


@transaction.atomic
def transfer_approve(*, transfer: Transfer, by: User | None, override_reason: str = "", reason: str = "") -> Transfer:
    """The legal office approves: only when every check passes, or, for the checks a lawyer may weigh (not
    data leaving the office, not a device that is not there), with a reasoned override the protocol prints."""
    transfer = _lock_transfer(transfer, TransferStatus.APPROVED)
    results = legal_check(transfer)
    failed = failures(results)
    override_reason = (override_reason or "").strip()
    hard = [r for r in failed if not r.overridable]
    if hard:
        raise _refusal(_("The transfer cannot be approved:"), results)
    if failed and not override_reason:
        raise _refusal(_("Not every check passes; approve only with a reasoned override:"), results,
                       "override_reason")
    if failed and (by is None or not by.has_perm("donations.override_transfer_check")):
        raise GuardFailed(_("Only a lawyer of the legal office may approve a transfer despite failed checks."),
                          field="override_reason", details={"checks": _snapshot(results)})
    previous = transfer.status
    transfer.status = TransferStatus.APPROVED
    transfer.checks = _snapshot(results)
    transfer.override_reason = override_reason if failed else ""
    transfer.decision_reason = (reason or "").strip()
    transfer.decided_at = timezone.now()
    transfer.decided_by = _actor(by)
    _save(transfer, by=by, reason=_("approved"))
    if failed:
        overridden = ", ".join(sorted({str(LegalCheck(r.check).label) for r in failed}))
        _transfer_event(transfer, TransferEventKind.OVERRIDDEN, by=by, from_status=previous,
                        reason=_("%(reason)s (overridden: %(checks)s)") % {"reason": override_reason,
                                                                          "checks": overridden})
    else:
        _transfer_event(transfer, TransferEventKind.APPROVED, by=by, from_status=previous, reason=reason)
    return transfer


@transaction.atomic
def transfer_reject(*, transfer: Transfer, by: User | None, reason: str) -> Transfer:
    """The legal office refuses, with reasons; the devices are free for another transfer."""
    reason = _require(reason, "reason", _("Give the reasons for rejecting the transfer."))
    transfer = _lock_transfer(transfer, TransferStatus.REJECTED)
    previous = transfer.status
    transfer.status = TransferStatus.REJECTED
    transfer.checks = _snapshot(legal_check(transfer))
    transfer.decision_reason = reason
    transfer.decided_at = timezone.now()
    transfer.decided_by = _actor(by)
    _save(transfer, by=by, reason=_("rejected"))
    _transfer_event(transfer, TransferEventKind.REJECTED, by=by, from_status=previous, reason=reason)
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, by: User | None, reason: str) -> Transfer:
    reason = _require(reason, "reason", _("Say why the transfer is cancelled."))
    transfer = _lock_transfer(transfer, TransferStatus.CANCELLED)
    previous = transfer.status
    transfer.status = TransferStatus.CANCELLED
    _save(transfer, by=by, reason=_("cancelled"))
    _transfer_event(transfer, TransferEventKind.CANCELLED, by=by, from_status=previous, reason=reason)
    return transfer


@transaction.atomic
def transfer_complete(*, transfer: Transfer, by: User | None) -> Transfer:
    """Hand the devices over: the check runs again on the locked devices; the transfer protocol is issued;
    each device becomes "transferred" (out of the active register) and its loan ends without a return.

    A fixed number of queries whatever the number of devices (the check, the loans' end and the devices'
    moves are set-based, each device still with its event and history row): a worker completing a project's
    transfers one by one spends its time on the protocols, not on round trips."""
    from donations.documents import transfer_protocol_issue

    transfer = _lock_transfer(transfer, TransferStatus.COMPLETED)
    devices = list(Device.objects.select_for_update().filter(transfer_items__transfer=transfer).order_by("pk"))
    results = legal_check(transfer, devices=devices)
    failed = failures(results)
    if [r for r in failed if not r.overridable] or (failed and not transfer.override_reason):
        raise _refusal(_("The transfer cannot be completed:"), results)
    exceptions = {r.device_id for r in results if r.exception_applied}
    if exceptions:
        TransferItem.objects.filter(transfer=transfer, device_id__in=exceptions).update(exception_applied=True)
    transfer.status = TransferStatus.COMPLETED
    transfer.checks = _snapshot(results)
    transfer.completed_at = timezone.now()
    protocol = transfer_protocol_issue(transfer=transfer, by=by)
    transfer.protocol = protocol
    _save(transfer, by=by, reason=_("completed"))
    reason = _("transferred free of charge to %(name)s under order no. %(number)s (%(transfer)s)") % {
        "name": transfer.recipient.name, "number": transfer.order.number, "transfer": transfer.number}
    loan_items_transfer(devices=devices, recipient=transfer.recipient, on=transfer.transfer_date, by=by, reason=reason)
    devices_transition(devices=devices, to_status=DeviceStatus.TRANSFERRED, by=by, reason=reason,
                       reference=_("order no. %(number)s") % {"number": transfer.order.number}, document=protocol)
    _transfer_event(transfer, TransferEventKind.COMPLETED, by=by, from_status=TransferStatus.APPROVED,
                    document=protocol)
    return transfer


@dataclass
class BulkResult:
    created: list[Transfer] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


def transfers_for_project(*, order: MayoralOrder, project: GrantProject, transfer_date: date, by: User | None,
                          kinds: list[str] | None = None, submit: bool = False) -> BulkResult:
    """One transfer per beneficiary of the project under one order: the project's devices each holds now.

    Each is its own transaction: a beneficiary whose transfer is refused (a device already in an open
    transfer, say) is reported and skipped, the others go on.
    """
    _check_date(order, transfer_date)
    result = BulkResult()
    beneficiaries = Beneficiary.objects.filter(project=project, is_active=True).select_related("recipient")
    if kinds:
        beneficiaries = beneficiaries.filter(kind__in=kinds)
    held: dict[int, list[int]] = {}
    for recipient_id, device_id in LoanItem.objects.filter(
            is_open=True, device__project_device__project=project,
            loan__recipient__beneficiary__in=beneficiaries).values_list("loan__recipient_id", "device_id"):
        held.setdefault(recipient_id, []).append(device_id)
    for beneficiary in beneficiaries.order_by("code"):
        device_ids = held.get(beneficiary.recipient_id)
        if not device_ids:
            result.skipped.append({"beneficiary": beneficiary.code, "reason": _("holds no device of the project")})
            continue
        try:
            transfer = transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=transfer_date,
                                       by=by, devices=list(Device.objects.filter(pk__in=device_ids)))
            if submit:
                transfer = transfer_submit(transfer=transfer, by=by)
        except (GuardFailed, InvalidInput, TransitionNotAllowed) as exc:
            result.skipped.append({"beneficiary": beneficiary.code, "reason": exc.message})
            continue
        result.created.append(transfer)
    return result


def transfer_allowed_moves(transfer: Transfer) -> list[tuple[str, str]]:
    """The moves a transfer allows now, as (API action, resulting status), from TRANSFER_TRANSITIONS."""
    actions = {TransferStatus.SUBMITTED: "submit", TransferStatus.APPROVED: "approve",
               TransferStatus.REJECTED: "reject", TransferStatus.COMPLETED: "complete",
               TransferStatus.CANCELLED: "cancel"}
    return [(actions[target], target) for target in sorted(TRANSFER_TRANSITIONS[transfer.status])]


# --- donations from residents ---------------------------------------------------------------------

OFFER_FIELDS = {"donor_name", "donor_contact", "offered_on", "kind", "manufacturer", "model", "serial_number",
                "description", "legal_source", "legal_source_reference", "legal_source_document",
                "software_licences", "free_of_charge_declared"}


@transaction.atomic
def donation_offer_create(*, by: User | None, **data: Any) -> DonationOffer:
    """Take in a resident's offer of a device for a person in need."""
    offer = DonationOffer()
    _assign(offer, data, allowed=OFFER_FIELDS)
    _save(offer, by=by, reason=_("donation offered"))
    return offer


@transaction.atomic
def donation_offer_update(*, offer: DonationOffer, by: User | None, **data: Any) -> DonationOffer:
    offer = DonationOffer.objects.select_for_update().get(pk=offer.pk)
    if offer.status != DonationStatus.OFFERED:
        raise TransitionNotAllowed(_("The offer is %(status)s; it can no longer be changed.")
                                   % {"status": offer.get_status_display()})
    _assign(offer, data, allowed=OFFER_FIELDS)
    _save(offer, by=by)
    return offer


def _lock_offer(offer: DonationOffer, to_status: str) -> DonationOffer:
    offer = DonationOffer.objects.select_for_update().get(pk=offer.pk)
    if to_status not in DONATION_TRANSITIONS[offer.status]:
        raise TransitionNotAllowed(_("The offer is %(status)s; it cannot become %(to)s.")
                                   % {"status": offer.get_status_display(), "to": DonationStatus(to_status).label})
    return offer


@transaction.atomic
def donation_accept(*, offer: DonationOffer, by: User | None, inventory_number: str, location: str = "",
                    media: list[dict[str, Any]] | None = None, reason: str = "") -> DonationOffer:
    """The IT office verified the proof of source, the licences and the declaration: the device enters the
    register (funding source: donation) with its storage media, withdrawn at once "to be given away" so
    that it is wiped before it leaves by transfer to a person in need."""
    offer = _lock_offer(offer, DonationStatus.ACCEPTED)
    if not offer.free_of_charge_declared:
        raise GuardFailed(_("The donor has not signed the declaration that the device goes free of charge to a "
                            "person in need."), field="free_of_charge_declared")
    if not offer.legal_source_reference.strip():
        raise GuardFailed(_("There is no proof of the device's legal source."), field="legal_source_reference")
    if not offer.software_licences.strip():
        raise GuardFailed(_("The software licences are not stated."), field="software_licences")
    inventory_number = _require(inventory_number, "inventory_number", _("Give the inventory number."))
    today = timezone.localdate()
    device = device_register(
        by=by, reason=_("donation from %(donor)s") % {"donor": offer.donor_name}, inventory_number=inventory_number,
        kind=offer.kind, manufacturer=offer.manufacturer, model=offer.model, serial_number=offer.serial_number,
        purchase_date=min(offer.offered_on, today), purchase_price=Decimal("0.00"),
        funding_source=FundingSource.DONATION, location=location.strip(),
        notes=_("Donated by %(donor)s; licences: %(licences)s") % {"donor": offer.donor_name,
                                                                    "licences": offer.software_licences})
    for medium in media or ():
        storage_medium_add(by=by, device=device, **medium)
    device_retire(device=device, by=by, retirement_reason=RetirementReason.TO_GIVE_AWAY,
                  reason=_("donation to be passed on to a person in need"))
    offer.status = DonationStatus.ACCEPTED
    offer.device = device
    offer.decided_at = timezone.now()
    offer.decided_by = _actor(by)
    offer.decision_reason = (reason or "").strip()
    _save(offer, by=by, reason=_("donation accepted"))
    return offer


@transaction.atomic
def donation_refuse(*, offer: DonationOffer, by: User | None, reason: str) -> DonationOffer:
    reason = _require(reason, "reason", _("Say why the offer is refused."))
    offer = _lock_offer(offer, DonationStatus.REFUSED)
    offer.status = DonationStatus.REFUSED
    offer.decided_at = timezone.now()
    offer.decided_by = _actor(by)
    offer.decision_reason = reason
    _save(offer, by=by, reason=_("donation refused"))
    return offer


# --- scrapping ------------------------------------------------------------------------------------

LIQUIDATION_FIELDS = {"handed_over_on", "collector_name", "collector_bdo", "kpo_number", "waste_code", "mass_kg",
                      "kpo_scan", "notes"}


@transaction.atomic
def liquidation_record(*, order: MayoralOrder, devices: list[Device], by: User | None, **data: Any) -> Liquidation:
    """Hand devices no one takes to an authorised collector as e-waste, under a liquidation order: each
    device must be listed in the order's annex and sanitized (the gate of the wipe app); the liquidation
    protocol is issued and the devices become "scrapped"."""
    from donations.documents import liquidation_protocol_issue
    from wipe.services import gate_refusal

    if not devices:
        raise InvalidInput(_("Choose the devices handed over for scrapping."), field="devices")
    liquidation = Liquidation(order=order, recorded_by=_actor(by))
    _assign(liquidation, data, allowed=LIQUIDATION_FIELDS)
    on = liquidation.handed_over_on
    if order.kind not in LIQUIDATION_ORDER_KINDS:
        raise GuardFailed(_("Order no. %(number)s is about %(kind)s, not a liquidation.")
                          % {"number": order.number, "kind": order.get_kind_display()}, field="order")
    if on and not order.in_force_on(on):
        raise GuardFailed(_("Order no. %(number)s is not in force on %(date)s.")
                          % {"number": order.number, "date": _day(on)}, field="handed_over_on")
    locked = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in devices]).order_by("pk"))
    listed = set(OrderAnnexDevice.objects.filter(order=order, device__in=locked).values_list("device_id", flat=True))
    for device in sorted(locked, key=lambda d: d.inventory_number):
        if device.pk not in listed:
            raise GuardFailed(_("Device %(device)s is not in the annex of order no. %(number)s.")
                              % {"device": device.inventory_number, "number": order.number}, field="devices")
        # The gate again for a sanitized device too: a medium recorded after its wipe holds data no one erased.
        refusal = gate_refusal(device) if device.status in {DeviceStatus.RETIRED, DeviceStatus.SANITIZED} else None
        if device.status != DeviceStatus.SANITIZED or refusal is not None:
            why = refusal.message if refusal else _("it is %(status)s") % {"status": device.get_status_display()}
            raise GuardFailed(_("Device %(device)s is not sanitized; no data leaves the office, not even as e-waste: "
                                "%(why)s") % {"device": device.inventory_number, "why": why}, field="devices",
                              details=refusal.details if refusal else None)
    _save_numbered(liquidation, f"LIK/{on:%Y}/" if on else "LIK/", by=by, reason=_("handed over for scrapping"))
    LiquidationItem.objects.bulk_create([LiquidationItem(liquidation=liquidation, device=d) for d in locked])
    protocol = liquidation_protocol_issue(liquidation=liquidation, by=by)
    liquidation.protocol = protocol
    _save(liquidation, by=by, reason=_("liquidation protocol issued"))
    reason = _("handed over as e-waste to %(collector)s, KPO %(kpo)s") % {"collector": liquidation.collector_name,
                                                                         "kpo": liquidation.kpo_number}
    for device in locked:
        device_transition(device=device, to_status=DeviceStatus.SCRAPPED, by=by, reason=reason,
                          reference=_("order no. %(number)s") % {"number": order.number}, document=protocol)
    return liquidation
