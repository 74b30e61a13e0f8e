"""Documents the register issues: the device record card (karta urządzenia)."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib.units import mm

from assets.models import Device
from assets.selectors import device_history
from core import pdf
from core.choices import DocumentKind
from core.exceptions import GuardFailed
from core.models import StoredDocument
from core.services import document_issue

DEVICE_CARD_TEMPLATE = "device-card/1"


def _card_story(device: Device, stamp: pdf.Stamp) -> list:
    contract = device.contract
    rows = [
        (_("Inventory number"), device.inventory_number),
        (_("Kind"), device.get_kind_display()),
        (_("Manufacturer and model"), f"{device.manufacturer} {device.model}"),
        (_("Serial number"), device.serial_number or "—"),
        (_("Purchase date"), pdf.format_date(device.purchase_date)),
        (_("Purchase price"), pdf.format_pln(device.purchase_price)),
        (_("Contract"), f"{contract.number} ({pdf.format_date(contract.signed_on)})" if contract else "—"),
        (_("Supplier"), contract.supplier.name if contract else "—"),
        (_("Funding source"), contract.get_funding_source_display() if contract
         else (device.get_funding_source_display() or "—")),
        (_("Procurement basis"), (contract.procurement_basis or "—") if contract else "—"),
        (_("Warranty ends on"), pdf.format_date(device.warranty_ends_on)),
        (_("Location"), device.location or "—"),
        (_("Managed by"), device.get_managed_by_display()
         + (f": {device.managing_vendor.name}" if device.managing_vendor else "")),
        (_("Expected life"), ngettext("%(years)d year", "%(years)d years", device.expected_life_years)
         % {"years": device.expected_life_years}),
        (_("Kit"), str(device.kit) if device.kit else "—"),
        (_("Status"), device.get_status_display()
         + (f" ({device.get_retirement_reason_display()})" if device.retirement_reason else "")),
    ]
    if device.notes:
        rows.append((_("Notes"), device.notes))
    story = [
        pdf.para(_("Device record card"), "title"),
        pdf.para(_("Inventory number %(number)s, as of %(when)s.")
                 % {"number": device.inventory_number, "when": pdf.format_date(stamp.issued_at)}, "body"),
        pdf.para(_("Device"), "h2"),
        pdf.key_value_table(rows),
        pdf.para(_("Storage media"), "h2"),
    ]
    media = list(device.media.all())
    if media:
        story.append(pdf.grid_table(
            [_("Kind"), _("Manufacturer and model"), _("Serial number"), _("Capacity"), _("May hold personal data")],
            [[m.get_kind_display(), f"{m.manufacturer} {m.model}".strip() or "—", m.serial_number or "—",
              f"{m.capacity_gb} GB", _("yes") if m.may_hold_personal_data else _("no")] for m in media],
            [22 * mm, 50 * mm, 40 * mm, 22 * mm, 36 * mm],
        ))
    else:
        story.append(pdf.para(_("No storage media recorded."), "body"))
    story.append(pdf.para(_("History"), "h2"))
    story.append(pdf.grid_table(
        [_("When"), _("From"), _("To"), _("Reason"), _("Reference"), _("Who")],
        [[pdf.format_date(e.occurred_at), e.get_from_status_display() or "—", e.get_to_status_display(),
          e.reason or "—", e.reference or "—", (e.actor.get_full_name() or e.actor.get_username()) if e.actor else "—"]
         for e in device_history(device)],
        [25 * mm, 22 * mm, 22 * mm, 50 * mm, 25 * mm, 26 * mm],
    ))
    return story


def device_card_issue(*, device: Device, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the record card of a device: its data, media and history, verifiable by its QR code."""
    device = (Device.objects.select_related("contract__supplier", "managing_vendor", "kit")
              .prefetch_related("media").get(pk=device.pk))
    if not device.events.exists():
        raise GuardFailed(_("The device has no history yet."))
    title = _("Device record card, inventory number %(number)s") % {"number": device.inventory_number}
    return document_issue(
        kind=DocumentKind.DEVICE_CARD,
        title=title,
        subject=device,
        by=by,
        template_version=DEVICE_CARD_TEMPLATE,
        build=lambda stamp: pdf.render(title=_("Device record card"), story=_card_story(device, stamp), stamp=stamp),
    )
