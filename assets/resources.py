"""The register's tables as files (suppliers, contracts, devices with their media): see core.resources."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from import_export import fields

from assets.models import Contract, Device, StorageMedium, Supplier
from core.resources import ExportResource
from core.resources import column as _column

__all__ = ["ContractResource", "DeviceResource", "SupplierResource", "format_media"]


class SupplierResource(ExportResource):
    """Suppliers, one row each; the NIP is their natural key."""

    name = _column("name")
    nip = _column("nip")
    regon = _column("regon")
    address = _column("address")
    contact_person = _column("contact_person")
    email = _column("email")
    phone = _column("phone")
    notes = _column("notes")

    class Meta:
        model = Supplier
        fields = ("name", "nip", "regon", "address", "contact_person", "email", "phone", "notes")
        export_order = fields

    def filter_export(self, queryset: QuerySet, **kwargs) -> QuerySet:
        return queryset.order_by("name", "nip")


class ContractResource(ExportResource):
    """Contracts, one row each; a contract is known by its number together with its supplier's NIP."""

    number = _column("number")
    supplier = _column("supplier", "supplier__nip")
    signed_on = _column("signed_on")
    subject = _column("subject")
    value = _column("value")
    funding_source = _column("funding_source")
    funding_details = _column("funding_details")
    procurement_basis = _column("procurement_basis")
    notes = _column("notes")

    class Meta:
        model = Contract
        fields = ("number", "supplier", "signed_on", "subject", "value", "funding_source", "funding_details",
                  "procurement_basis", "notes")
        export_order = fields

    def filter_export(self, queryset: QuerySet, **kwargs) -> QuerySet:
        return queryset.select_related("supplier").order_by("signed_on", "number", "supplier__nip")


# The storage media of a device in one cell: entries "kind:capacity_gb:serial_number" joined by "|".
MEDIA_SEPARATOR = "|"


def format_media(media) -> str:
    """The media inside a device as one cell, e.g. ``hdd:500:WD-WCC4E1234567|ssd:256:S4EWNX0N123456``.

    Each entry is the medium's kind (its stored value), its capacity in GB and its serial number (empty if
    it has none), separated by ``:``; entries are separated by ``|``, in the order the media were added.
    Kind and capacity never contain ``:``, so everything after the second ``:`` is the serial number. A
    ``|`` or ``\\`` inside a serial number is written with a backslash before it (``\\|``, ``\\\\``).
    Media already taken out of the device are not listed: they no longer leave with it.
    """
    entries = []
    for medium in media:
        serial = medium.serial_number.replace("\\", "\\\\").replace(MEDIA_SEPARATOR, "\\" + MEDIA_SEPARATOR)
        entries.append(f"{medium.kind}:{medium.capacity_gb}:{serial}")
    return MEDIA_SEPARATOR.join(entries)


class DeviceResource(ExportResource):
    """Devices of the register, one row each, with their storage media flattened into the `media` column.

    `contract` is the contract's number and `supplier` its supplier's NIP (together they name the
    contract); `managing_vendor` is a NIP, `kit` a kit code; `media` is described in `format_media`.
    `status` is exported for information only: an import never sets it, a status changes only through the
    lifecycle services. The export runs a fixed number of queries whatever the number of devices.
    """

    inventory_number = _column("inventory_number")
    kind = _column("kind")
    manufacturer = _column("manufacturer")
    model = _column("model")
    serial_number = _column("serial_number")
    purchase_date = _column("purchase_date")
    purchase_price = _column("purchase_price")
    contract = _column("contract", "contract__number")
    supplier = _column("supplier", "contract__supplier__nip")
    funding_source = _column("funding_source")
    warranty_ends_on = _column("warranty_ends_on")
    location = _column("location")
    managed_by = _column("managed_by")
    managing_vendor = _column("managing_vendor", "managing_vendor__nip")
    expected_life_years = _column("expected_life_years")
    kit = _column("kit", "kit__code")
    status = _column("status")
    notes = _column("notes")
    media = fields.Field(column_name="media", readonly=True)

    class Meta:
        model = Device
        fields = ("inventory_number", "kind", "manufacturer", "model", "serial_number", "purchase_date",
                  "purchase_price", "contract", "supplier", "funding_source", "warranty_ends_on", "location",
                  "managed_by", "managing_vendor", "expected_life_years", "kit", "status", "notes", "media")
        export_order = fields

    def filter_export(self, queryset: QuerySet, **kwargs) -> QuerySet:
        return (queryset.select_related("contract__supplier", "managing_vendor", "kit")
                .prefetch_related(Prefetch("media", queryset=StorageMedium.objects.inside().order_by("id"),
                                           to_attr="media_inside"))
                .order_by("inventory_number"))

    def dehydrate_media(self, device: Device) -> str:
        media = getattr(device, "media_inside", None)
        if media is None:  # a device that did not come through filter_export
            media = device.media.inside().order_by("id")
        return format_media(media)
