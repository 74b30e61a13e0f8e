"""Writes to the register and the device lifecycle. Every view, admin action and command calls these.

Each service validates, runs in one transaction, locks the rows it changes and, for a move, writes the
DeviceEvent and the history row; a refused request raises a DomainError and writes nothing.
"""
from __future__ import annotations

from typing import Any, Callable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets.choices import DEVICE_GONE, DEVICE_TRANSITIONS, DeviceStatus, RetirementReason
from assets.models import Contract, Device, DeviceEvent, Kit, StorageMedium, Supplier
from core.audit import actor as _actor
from core.audit import history_reason
from core.audit import save_audited as _save
from core.exceptions import GuardFailed, InvalidInput, TransitionNotAllowed
from core.middleware import current_request_id
from core.models import StoredDocument

User = AbstractBaseUser




def _assign(instance, data: dict[str, Any], *, allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(_("This field cannot be changed here."), field=field)
    for field, value in data.items():
        setattr(instance, field, value)


# --- suppliers and contracts ---------------------------------------------------------------------

SUPPLIER_FIELDS = {"name", "nip", "regon", "address", "contact_person", "email", "phone", "notes"}
CONTRACT_FIELDS = {"number", "signed_on", "supplier", "subject", "value", "funding_source", "funding_details",
                   "procurement_basis", "scan", "notes"}


def _normalize_supplier(data: dict[str, Any]) -> dict[str, Any]:
    from stdnum.pl import nip, regon

    data = dict(data)
    if data.get("nip"):
        data["nip"] = nip.compact(data["nip"])
    if data.get("regon"):
        data["regon"] = regon.compact(data["regon"])
    return data


@transaction.atomic
def supplier_create(*, by: User | None, **data: Any) -> Supplier:
    """Register a supplier; the NIP is stored as its 10 digits."""
    supplier = Supplier()
    _assign(supplier, _normalize_supplier(data), allowed=SUPPLIER_FIELDS)
    _save(supplier, by=by)
    return supplier


@transaction.atomic
def supplier_update(*, supplier: Supplier, by: User | None, **data: Any) -> Supplier:
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    _assign(supplier, _normalize_supplier(data), allowed=SUPPLIER_FIELDS)
    _save(supplier, by=by)
    return supplier


@transaction.atomic
def contract_create(*, by: User | None, **data: Any) -> Contract:
    """Register a contract with its value, funding source, procurement basis and optional signed scan."""
    contract = Contract()
    _assign(contract, data, allowed=CONTRACT_FIELDS)
    _save(contract, by=by)
    return contract


@transaction.atomic
def contract_update(*, contract: Contract, by: User | None, **data: Any) -> Contract:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    _assign(contract, data, allowed=CONTRACT_FIELDS)
    _save(contract, by=by)
    return contract


# --- devices, media and kits ---------------------------------------------------------------------

DEVICE_FIELDS = {"inventory_number", "kind", "manufacturer", "model", "serial_number", "purchase_date",
                 "purchase_price", "contract", "warranty_ends_on", "funding_source", "location", "managed_by", "managing_vendor",
                 "expected_life_years", "kit", "notes"}
MEDIUM_FIELDS = {"device", "kind", "manufacturer", "model", "serial_number", "capacity_gb",
                 "may_hold_personal_data", "notes"}


def _strip(data: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {k: (v.strip() if k in fields and isinstance(v, str) else v) for k, v in data.items()}


@transaction.atomic
def device_register(*, by: User | None, reason: str = "", **data: Any) -> Device:
    """Enter a purchased device into the register, in stock, with its registration event."""
    data = _strip(data, "inventory_number", "manufacturer", "model", "serial_number")
    device = Device(status=DeviceStatus.IN_STOCK, status_changed_at=timezone.now())
    _assign(device, data, allowed=DEVICE_FIELDS)
    _save(device, by=by, reason=reason or _("registered"))
    DeviceEvent.objects.create(device=device, actor=_actor(by), from_status="", to_status=device.status,
                               occurred_at=device.status_changed_at, reason=reason or _("registered"),
                               request_id=current_request_id())
    return device


# What may still be corrected on a device that has left the register: the record of it, not the device.
GONE_DEVICE_FIELDS = frozenset({"notes"})


def device_change_refusal(status: str, fields) -> str | None:
    """Why the `fields` of a device in `status` may not change (None if they may): the rule of device_update,
    which the import applies to each row."""
    if status in DEVICE_GONE and set(fields) - GONE_DEVICE_FIELDS:
        return _("The device has left the register (%(status)s); only its notes can be changed.") % {
            "status": DeviceStatus(status).label}
    return None


@transaction.atomic
def device_update(*, device: Device, by: User | None, reason: str = "", **data: Any) -> Device:
    """Correct or complete a device's data. The status is never changed here: that is what moves do."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    refusal = device_change_refusal(device.status, data)
    if refusal:
        raise GuardFailed(refusal)
    _assign(device, _strip(data, "inventory_number", "manufacturer", "model", "serial_number"), allowed=DEVICE_FIELDS)
    _save(device, by=by, reason=reason)
    return device


@transaction.atomic
def storage_medium_add(*, by: User | None, **data: Any) -> StorageMedium:
    """Record a storage medium found in a device."""
    medium = StorageMedium()
    _assign(medium, _strip(data, "serial_number"), allowed=MEDIUM_FIELDS)
    if medium.device_id:
        device = Device.objects.select_for_update().get(pk=medium.device_id)
        if device.status in DEVICE_GONE:
            raise GuardFailed(_("The device has left the register; its media cannot be changed."), field="device")
    _save(medium, by=by)
    return medium


@transaction.atomic
def storage_medium_update(*, medium: StorageMedium, by: User | None, **data: Any) -> StorageMedium:
    medium = StorageMedium.objects.select_for_update(of=("self",)).select_related("device").get(pk=medium.pk)
    if medium.device.status in DEVICE_GONE:
        raise GuardFailed(_("The device has left the register; its media cannot be changed."))
    _assign(medium, _strip(data, "serial_number"), allowed=MEDIUM_FIELDS)
    _save(medium, by=by)
    return medium


def storage_medium_take_out(*, medium: StorageMedium, by: User | None, at=None, reason: str = "") -> StorageMedium:
    """Mark a medium as taken out of its device; the caller (the wipe app's disk removal) holds the lock
    and records the custody. From then on the medium does not count as inside the device."""
    medium = StorageMedium.objects.select_for_update(of=("self",)).select_related("device").get(pk=medium.pk)
    if medium.removed_at is not None:
        raise GuardFailed(_("This medium was already taken out of its device."), field="medium")
    if medium.device.status in DEVICE_GONE:
        raise GuardFailed(_("The device has left the register; its media cannot be changed."), field="medium")
    medium.removed_at = at or timezone.now()
    _save(medium, by=by, reason=reason or _("taken out of the device"))
    return medium


def _set_kit_devices(kit: Kit, devices: list[Device], *, by: User | None) -> None:
    wanted = {d.pk for d in devices}
    locked = list(Device.objects.select_for_update().filter(pk__in=wanted | set(kit.devices.values_list("pk", flat=True))))
    for device in locked:
        if device.pk in wanted:
            if device.kit_id not in (None, kit.pk):
                raise GuardFailed(_("Device %(number)s already belongs to another kit.")
                                  % {"number": device.inventory_number}, field="devices")
            if device.status in DEVICE_GONE:
                raise GuardFailed(_("Device %(number)s has left the register.")
                                  % {"number": device.inventory_number}, field="devices")
            if device.kit_id != kit.pk:
                device.kit = kit
                _save(device, by=by, reason=_("added to kit %(code)s") % {"code": kit.code})
        elif device.kit_id == kit.pk:
            device.kit = None
            _save(device, by=by, reason=_("removed from kit %(code)s") % {"code": kit.code})


@transaction.atomic
def kit_create(*, code: str, name: str, devices: list[Device], by: User | None, notes: str = "") -> Kit:
    """Group devices handed over together; a device belongs to at most one kit."""
    kit = Kit(code=code.strip(), name=name, notes=notes)
    _save(kit, by=by)
    _set_kit_devices(kit, devices, by=by)
    return kit


@transaction.atomic
def kit_update(*, kit: Kit, by: User | None, devices: list[Device] | None = None, **data: Any) -> Kit:
    kit = Kit.objects.select_for_update().get(pk=kit.pk)
    _assign(kit, data, allowed={"code", "name", "notes"})
    _save(kit, by=by)
    if devices is not None:
        _set_kit_devices(kit, devices, by=by)
    return kit


# --- the lifecycle -------------------------------------------------------------------------------

def _check_move(device: Device, to_status: str) -> None:
    """Refuse a move the transition table does not allow from the device's (locked) status."""
    if to_status not in DEVICE_TRANSITIONS[device.status]:
        raise TransitionNotAllowed(
            _("A device that is %(from)s cannot become %(to)s.")
            % {"from": device.get_status_display(), "to": DeviceStatus(to_status).label}
        )


def device_transition(
    *,
    device: Device,
    to_status: str,
    by: User | None,
    reason: str = "",
    reference: str = "",
    document: StoredDocument | None = None,
    changes: dict[str, Any] | None = None,
    guard: Callable[[Device], None] | None = None,
) -> Device:
    """The one gate of every move: lock the device, check the transition table, write event and history.

    `guard` receives the locked device once the table allows the move and raises to refuse it. Call a
    move service (device_retire, ...) rather than this: each passes its own guard. Later apps' services
    (loans, wipes, transfers) call this inside their own transaction.
    """
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if to_status not in DeviceStatus.values:
            raise InvalidInput(_("Unknown status “%(status)s”.") % {"status": to_status}, field="status")
        _check_move(locked, to_status)
        if guard is not None:
            guard(locked)
        from_status = locked.status
        now = timezone.now()
        for field, value in (changes or {}).items():
            setattr(locked, field, value)
        locked.status = to_status
        locked.status_changed_at = now
        _save(locked, by=by, reason=reason or str(DeviceStatus(to_status).label))
        DeviceEvent.objects.create(device=locked, actor=_actor(by), occurred_at=now, from_status=from_status,
                                   to_status=to_status, reason=reason, reference=reference, document=document,
                                   request_id=current_request_id())
    device.refresh_from_db()
    return locked


def devices_transition(
    *,
    devices: list[Device],
    to_status: str,
    by: User | None,
    reason: str = "",
    reference: str = "",
    document: StoredDocument | None = None,
) -> list[Device]:
    """device_transition for many devices moving together (the devices of one transfer, under one protocol),
    set-based: one lock, the same table check for each device, one update, and every device's history row
    and DeviceEvent written in bulk, so the cost does not grow with the devices by a query each. Nothing
    but the status moves, so there is nothing else to validate; a caller with guards checks them first on
    the locked devices. Returns the devices as locked and moved, in id order."""
    if to_status not in DeviceStatus.values:
        raise InvalidInput(_("Unknown status “%(status)s”.") % {"status": to_status}, field="status")
    with transaction.atomic():
        locked = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in devices]).order_by("pk"))
        for device in locked:
            _check_move(device, to_status)
        if not locked:
            return locked
        now = timezone.now()
        who = _actor(by)
        moves = [(device, device.status) for device in locked]
        Device.objects.filter(pk__in=[d.pk for d in locked]).update(status=to_status, status_changed_at=now,
                                                                    updated_at=now)
        for device in locked:
            device.status, device.status_changed_at, device.updated_at = to_status, now, now
        Device.history.bulk_history_create(locked, update=True, default_user=who, default_date=now,
                                           default_change_reason=history_reason(
                                               reason or str(DeviceStatus(to_status).label)))
        DeviceEvent.objects.bulk_create([
            DeviceEvent(device=device, actor=who, occurred_at=now, from_status=from_status, to_status=to_status,
                        reason=reason, reference=reference, document=document, request_id=current_request_id())
            for device, from_status in moves])
    return locked


def _require(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, field=field)
    return value


def device_put_in_use(*, device: Device, by: User | None, reason: str = "", location: str = "") -> Device:
    """Hand a device to its user inside the office (a desk, a meeting room), optionally at a new place."""
    changes = {"location": location.strip()} if location and location.strip() else None
    return device_transition(device=device, to_status=DeviceStatus.IN_USE, by=by, reason=reason, changes=changes)


def device_return_to_stock(*, device: Device, by: User | None, reason: str = "") -> Device:
    """Take a device back into the store: after use, after repair, or when a lost one is found.

    A device on loan comes back through its loan's return, which records condition and accessories.
    """
    def guard(locked: Device) -> None:
        if locked.status == DeviceStatus.ON_LOAN:
            raise GuardFailed(_("A device on loan comes back through the return of its loan."))
        if locked.status == DeviceStatus.LOST:
            _require(reason, "reason", _("Say where and how the lost device was found."))

    return device_transition(device=device, to_status=DeviceStatus.IN_STOCK, by=by, reason=reason.strip(),
                             guard=guard)


def device_send_to_repair(*, device: Device, by: User | None, reason: str) -> Device:
    """Send a device for repair, describing the fault."""
    reason = _require(reason, "reason", _("Describe the fault."))
    return device_transition(device=device, to_status=DeviceStatus.IN_REPAIR, by=by, reason=reason)


def device_retire(*, device: Device, by: User | None, retirement_reason: str, reason: str = "") -> Device:
    """Withdraw a device from use, recording why: past its expected life, damaged, or obsolete.

    "Past its expected life" is accepted only when the device is at least as old as its expected life.
    """
    if retirement_reason not in RetirementReason.values:
        raise InvalidInput(_("Choose why the device is retired."), field="retirement_reason")
    if retirement_reason == RetirementReason.DAMAGED:
        reason = _require(reason, "reason", _("Describe the damage."))

    def guard(locked: Device) -> None:
        if retirement_reason == RetirementReason.END_OF_LIFE and locked.age_years() < locked.expected_life_years:
            raise GuardFailed(
                _("The device is %(age)d years old; its expected life is %(life)d years.")
                % {"age": locked.age_years(), "life": locked.expected_life_years},
                field="retirement_reason",
            )

    return device_transition(device=device, to_status=DeviceStatus.RETIRED, by=by,
                             reason=reason or str(RetirementReason(retirement_reason).label),
                             changes={"retirement_reason": retirement_reason}, guard=guard)


def device_report_lost(*, device: Device, by: User | None, reference: str, reason: str = "") -> Device:
    """Record a device as lost or stolen, with the police report or incident number."""
    reference = _require(reference, "reference", _("Give the police report or incident number."))
    return device_transition(device=device, to_status=DeviceStatus.LOST, by=by, reason=reason, reference=reference)


# The moves this app performs, by the name the API and the admin use for them.
DEVICE_MOVES = {
    "put-in-use": (DeviceStatus.IN_USE, device_put_in_use),
    "return-to-stock": (DeviceStatus.IN_STOCK, device_return_to_stock),
    "send-to-repair": (DeviceStatus.IN_REPAIR, device_send_to_repair),
    "retire": (DeviceStatus.RETIRED, device_retire),
    "report-lost": (DeviceStatus.LOST, device_report_lost),
}
