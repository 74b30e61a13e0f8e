"""The legal check of a free transfer, item by item (DESIGN.md §4, "Transfers" and "No data leaves").

`legal_check(transfer)` reads the order, the annex, the project, the holder and the wipe record of each
device and says, for each check, whether it passes and why. It writes nothing: the services decide with
it (approve, complete), the API and the admin show it, the protocol prints it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from django.utils.translation import gettext as _

from assets.choices import DeviceStatus
from assets.models import Device, DeviceEvent, StorageMedium
from donations.choices import OVERRIDABLE_CHECKS, TRANSFER_ORDER_KINDS, LegalCheck
from donations.models import Beneficiary, MayoralOrder, OrderAnnexBeneficiary, OrderAnnexDevice, ProjectDevice
from loans.models import LoanItem, Recipient
from wipe.selectors import media_inside_not_cleared
from wipe.services import medium_label

_D = DeviceStatus


@dataclass(frozen=True)
class CheckResult:
    check: str
    passed: bool
    message: str
    device_id: int | None = None
    device: str = ""  # the inventory number
    exception_applied: bool = False

    @property
    def overridable(self) -> bool:
        return self.check in OVERRIDABLE_CHECKS

    def as_dict(self) -> dict:
        return {**asdict(self), "label": str(LegalCheck(self.check).label), "overridable": self.overridable}


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _exceptions(devices: list[Device], recipient: Recipient, holders: dict[int, Recipient]) -> set[int]:
    """The devices for which the beneficiary exception applies: `recipient` holds the device now and nobody
    else has used it since it was last sanitized (or, if it never was, since it was registered): no use in
    the office, no other loan. Two queries for any number of devices."""
    ids = [d.pk for d in devices if d.status == _D.ON_LOAN and (holder := holders.get(d.pk)) is not None
           and holder.pk == recipient.pk]
    if not ids:
        return set()
    last_wipe: dict[int, object] = {}
    used: dict[int, list] = {}
    for device_id, to_status, at in (DeviceEvent.objects.filter(device_id__in=ids,
                                                                to_status__in=[_D.SANITIZED, _D.IN_USE])
                                     .values_list("device_id", "to_status", "occurred_at")):
        if to_status == _D.SANITIZED:
            last_wipe[device_id] = max(at, last_wipe.get(device_id, at))
        else:
            used.setdefault(device_id, []).append(at)
    spoilt = {device_id for device_id, moments in used.items()
              if device_id not in last_wipe or any(at > last_wipe[device_id] for at in moments)}
    for device_id, closed_on in (LoanItem.objects.filter(device_id__in=ids).exclude(loan__recipient=recipient)
                                 .values_list("device_id", "closed_on")):
        wipe = last_wipe.get(device_id)
        if wipe is None or closed_on is None or closed_on >= wipe.date():
            spoilt.add(device_id)
    return set(ids) - spoilt


def _media_left(devices: list[Device]) -> dict[int, list[StorageMedium]]:
    """For the sanitized devices: the media inside that hold no validated record fit for leaving the office
    (wipe.selectors.media_inside_not_cleared, the gate's rule), in one query for any number of devices."""
    ids = [d.pk for d in devices if d.status == _D.SANITIZED]
    found: dict[int, list[StorageMedium]] = {}
    if ids:
        for medium in media_inside_not_cleared().filter(device_id__in=ids).order_by("id"):
            found.setdefault(medium.device_id, []).append(medium)
    return found


def check_devices(*, order: MayoralOrder, recipient: Recipient, on: date, devices: list[Device]) -> list[CheckResult]:
    """Every check for a transfer of `devices` to `recipient` under `order` on `on`, from a fixed number of
    queries: a transfer of thirty devices is checked in as many as a transfer of two."""
    results: list[CheckResult] = []
    if order.in_force_on(on):
        results.append(CheckResult(LegalCheck.ORDER_IN_FORCE, True,
                                   _("Order no. %(number)s is in force on %(date)s.")
                                   % {"number": order.number, "date": _day(on)}))
    else:
        until = (_(" until %(date)s") % {"date": _day(order.in_force_until)}) if order.in_force_until else ""
        results.append(CheckResult(LegalCheck.ORDER_IN_FORCE, False,
                                   _("Order no. %(number)s is in force from %(from)s%(until)s; the transfer is "
                                     "dated %(date)s.") % {"number": order.number, "from": _day(order.in_force_from),
                                                           "until": until, "date": _day(on)}))
    if order.kind in TRANSFER_ORDER_KINDS:
        results.append(CheckResult(LegalCheck.ORDER_KIND, True,
                                   _("Order no. %(number)s orders a %(kind)s.")
                                   % {"number": order.number, "kind": order.get_kind_display()}))
    else:
        results.append(CheckResult(LegalCheck.ORDER_KIND, False,
                                   _("Order no. %(number)s is about %(kind)s; a free transfer needs an order of "
                                     "free transfer or donation.")
                                   % {"number": order.number, "kind": order.get_kind_display()}))

    ids = [d.pk for d in devices]
    in_annex = set(OrderAnnexDevice.objects.filter(order=order, device_id__in=ids).values_list("device_id", flat=True))
    beneficiary = Beneficiary.objects.filter(recipient=recipient).first()
    beneficiary_listed = beneficiary is not None and OrderAnnexBeneficiary.objects.filter(
        order=order, beneficiary=beneficiary).exists()
    projects = {pd.device_id: pd.project for pd in ProjectDevice.objects.filter(device_id__in=ids)
                .select_related("project")}
    holders = {item.device_id: item.loan.recipient for item in LoanItem.objects.filter(
        device_id__in=ids, is_open=True).select_related("loan__recipient")}
    excepted = _exceptions(devices, recipient, holders)
    uncleared = _media_left(devices)

    for device in devices:
        number = device.inventory_number
        holder = holders.get(device.pk)
        project = projects.get(device.pk)

        def add(check: str, passed: bool, message: str, exception: bool = False) -> None:
            results.append(CheckResult(check, passed, message, device.pk, number, exception))

        if device.pk in in_annex:
            add(LegalCheck.IN_ANNEX, True, _("%(device)s is listed in the annex.") % {"device": number})
        elif beneficiary_listed and holder is not None and holder.pk == recipient.pk:
            add(LegalCheck.IN_ANNEX, True, _("%(device)s is held by %(beneficiary)s, listed in the annex.")
                % {"device": number, "beneficiary": beneficiary.code})
        else:
            add(LegalCheck.IN_ANNEX, False, _("%(device)s is not in the annex of order no. %(number)s, nor is the "
                                              "beneficiary who holds it.") % {"device": number, "number": order.number})

        if project is not None:
            if holder is not None and holder.pk == recipient.pk:
                add(LegalCheck.RECIPIENT_MATCHES, True, _("%(device)s is held by the recipient, %(name)s.")
                    % {"device": number, "name": recipient.name})
            elif holder is None:
                add(LegalCheck.RECIPIENT_MATCHES, False,
                    _("%(device)s is a device of the project %(project)s and no beneficiary holds it; it passes only "
                      "to the beneficiary who uses it.") % {"device": number, "project": project.name})
            else:
                add(LegalCheck.RECIPIENT_MATCHES, False,
                    _("%(device)s is held by %(holder)s, not by the recipient %(name)s.")
                    % {"device": number, "holder": holder.name, "name": recipient.name})
            if project.durability_over_on(on):
                add(LegalCheck.DURABILITY_OVER, True,
                    _("The durability period of %(project)s ended on %(end)s.")
                    % {"project": project.name, "end": _day(project.durability_ends_on)})
            else:
                add(LegalCheck.DURABILITY_OVER, False,
                    _("%(device)s was bought by the project %(project)s, whose durability period lasts until "
                      "%(end)s: it cannot change owner on %(date)s.")
                    % {"device": number, "project": project.name, "end": _day(project.durability_ends_on),
                       "date": _day(on)})
        else:
            add(LegalCheck.RECIPIENT_MATCHES, True, _("%(device)s belongs to no grant project.") % {"device": number})
            add(LegalCheck.DURABILITY_OVER, True, _("%(device)s belongs to no grant project.") % {"device": number})

        if device.status == _D.SANITIZED and (found := uncleared.get(device.pk)):
            # The status says the media were wiped; a medium recorded since then was not.
            add(LegalCheck.DATA_GONE, False,
                _("%(device)s was sanitized, but a storage medium recorded since then is neither sanitized fit for "
                  "leaving the office nor removed (%(media)s): sanitize it or take it out first.")
                % {"device": number, "media": ", ".join(medium_label(m) for m in found)})
        elif device.status == _D.SANITIZED:
            add(LegalCheck.DATA_GONE, True, _("%(device)s is sanitized.") % {"device": number})
        elif device.status == _D.ON_LOAN and device.pk in excepted:
            add(LegalCheck.DATA_GONE, True,
                _("%(device)s has been held by %(name)s without a break since it was last sanitized or registered: "
                  "it carries only their data (the beneficiary exception).") % {"device": number, "name": recipient.name},
                exception=True)
        else:
            add(LegalCheck.DATA_GONE, False,
                _("%(device)s is %(status)s and not sanitized, and the beneficiary exception does not apply: sanitize "
                  "its media or take them out first.") % {"device": number, "status": device.get_status_display()})

        if device.status == _D.ON_LOAN and holder is not None and holder.pk != recipient.pk:
            add(LegalCheck.AVAILABLE, False, _("%(device)s is on loan to %(holder)s.")
                % {"device": number, "holder": holder.name})
        elif device.status in {_D.ON_LOAN, _D.SANITIZED, _D.RETIRED}:
            add(LegalCheck.AVAILABLE, True, _("%(device)s is %(status)s.")
                % {"device": number, "status": device.get_status_display()})
        else:
            add(LegalCheck.AVAILABLE, False, _("%(device)s is %(status)s; it cannot be handed over.")
                % {"device": number, "status": device.get_status_display()})
    return results


def legal_check(transfer, *, devices: list[Device] | None = None) -> list[CheckResult]:
    """The checks of a saved transfer, with its devices as they are now (or as the caller locked them)."""
    if devices is None:
        devices = list(Device.objects.filter(transfer_items__transfer=transfer).order_by("inventory_number"))
    else:
        devices = sorted(devices, key=lambda d: d.inventory_number)
    return check_devices(order=transfer.order, recipient=transfer.recipient, on=transfer.transfer_date,
                         devices=devices)


def failures(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.passed]
