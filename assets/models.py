"""The register: who sold the office what, under which contract, and each device with its media."""
from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assets.choices import (
    DEVICE_TRANSITIONS,
    DeviceKind,
    DeviceStatus,
    FundingSource,
    ManagedBy,
    MediumKind,
    RetirementReason,
)
from assets.validators import validate_nip, validate_not_future, validate_pdf, validate_regon
from core.models import ImportBatch, StoredDocument, TimeStampedModel
from core.uploads import stored_name

__all__ = ["Supplier", "Contract", "Kit", "Device", "StorageMedium", "DeviceEvent"]


class Supplier(TimeStampedModel):
    """A company the office bought devices or services from (a vendor, a helpdesk firm)."""

    name = models.CharField(_("name"), max_length=255)
    nip = models.CharField(_("NIP"), max_length=10, unique=True, validators=[validate_nip],
                           help_text=_("Tax identification number, 10 digits."))
    regon = models.CharField(_("REGON"), max_length=14, blank=True, validators=[validate_regon])
    address = models.CharField(_("address"), max_length=255)
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _contract_scan_path(instance: "Contract", filename: str) -> str:
    # The client's name made safe, with the extension of what the file is (core.uploads).
    return f"contracts/{timezone.now():%Y/%m}/{stored_name(filename, instance.scan, default='contract')}"


class Contract(TimeStampedModel):
    """A purchase or service contract: what was paid, from which money, on which legal basis."""

    number = models.CharField(_("contract number"), max_length=100)
    signed_on = models.DateField(_("signed on"), validators=[validate_not_future])
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("supplier"))
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    value = models.DecimalField(_("value (PLN)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    funding_source = models.CharField(_("funding source"), max_length=20, choices=FundingSource.choices)
    funding_details = models.CharField(_("funding details"), max_length=255, blank=True,
                                       help_text=_("Programme, grant agreement or budget line."))
    procurement_basis = models.CharField(_("procurement basis"), max_length=255, blank=True,
                                         help_text=_("For example: art. 6 ustawy z 2 marca 2020 (COVID-19)."))
    scan = models.FileField(_("scan of the signed contract"), upload_to=_contract_scan_path, blank=True,
                            validators=[validate_pdf])
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()
    checks_validated_elsewhere = frozenset({"contract_value_not_negative"})

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-signed_on", "number"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "number"], name="contract_number_unique_per_supplier"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="contract_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.supplier})"


class Kit(TimeStampedModel):
    """Devices handed over together, such as a desktop computer with its monitor and router."""

    code = models.CharField(_("kit code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("kit")
        verbose_name_plural = _("kits")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Device(TimeStampedModel):
    """One tracked item of equipment (środek trwały), identified by its inventory number.

    `status` changes only through the move services in assets.services, each of which writes a
    DeviceEvent; editing a device never changes its status.
    """

    inventory_number = models.CharField(_("inventory number"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=DeviceKind.choices)
    manufacturer = models.CharField(_("manufacturer"), max_length=100)
    model = models.CharField(_("model"), max_length=150)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    purchase_date = models.DateField(_("purchase date"), validators=[validate_not_future])
    purchase_price = models.DecimalField(_("purchase price (PLN)"), max_digits=12, decimal_places=2,
                                         validators=[MinValueValidator(0)])
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="devices", verbose_name=_("contract"))
    warranty_ends_on = models.DateField(_("warranty ends on"), null=True, blank=True)
    funding_source = models.CharField(
        _("funding source"), max_length=20, choices=FundingSource.choices, blank=True,
        help_text=_("For a device without a purchase contract, such as a donation; otherwise the contract's."))
    location = models.CharField(_("location"), max_length=200, blank=True)
    managed_by = models.CharField(_("managed by"), max_length=20, choices=ManagedBy.choices, default=ManagedBy.IT_OFFICE)
    managing_vendor = models.ForeignKey(Supplier, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="managed_devices", verbose_name=_("managing vendor"))
    expected_life_years = models.PositiveSmallIntegerField(
        _("expected life (years)"), default=10, validators=[MinValueValidator(1), MaxValueValidator(50)])
    kit = models.ForeignKey(Kit, on_delete=models.PROTECT, null=True, blank=True, related_name="devices",
                            verbose_name=_("kit"))
    status = models.CharField(_("status"), max_length=20, choices=DeviceStatus.choices,
                              default=DeviceStatus.IN_STOCK, editable=False)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now, editable=False)
    retirement_reason = models.CharField(_("retirement reason"), max_length=20, choices=RetirementReason.choices,
                                         blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()
    # The status is never typed in: only services set it, from DeviceStatus.
    checks_validated_elsewhere = frozenset(
        {"device_price_not_negative", "device_life_positive", "device_status_valid"})

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["inventory_number"]
        permissions = [
            ("move_device", _("Can move devices through their lifecycle")),
            ("issue_device_card", _("Can issue device record cards")),
        ]
        # The list's filters with its order (inventory number), so that a page of one status or kind is read
        # from the index in order, without sorting every match; the status index's prefix serves status alone.
        # The `q` and location searches (icontains) use trigram indexes on PostgreSQL (migration 0006).
        indexes = [
            models.Index(fields=["status", "inventory_number"], name="device_status_number_idx"),
            models.Index(fields=["kind", "inventory_number"], name="device_kind_number_idx"),
            # Counting a page's status and kind together from the index alone, without reading the rows.
            models.Index(fields=["status", "kind"], name="device_status_kind_idx"),
            models.Index(fields=["status_changed_at"], name="device_status_changed_idx"),
            models.Index(fields=["purchase_date"], name="device_purchase_date_idx"),
            models.Index(Lower("manufacturer"), name="device_manufacturer_ci_idx"),
        ]
        constraints = [
            models.UniqueConstraint(Lower("manufacturer"), Lower("serial_number"),
                                    condition=~models.Q(serial_number=""),
                                    name="device_serial_unique_per_manufacturer"),
            models.CheckConstraint(condition=models.Q(purchase_price__gte=0), name="device_price_not_negative"),
            models.CheckConstraint(condition=models.Q(expected_life_years__gte=1), name="device_life_positive"),
            models.CheckConstraint(condition=models.Q(status__in=DeviceStatus.values), name="device_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.inventory_number} — {self.manufacturer} {self.model}"

    @property
    def allowed_transitions(self) -> list[str]:
        return sorted(DEVICE_TRANSITIONS[self.status])

    def age_years(self, today: date | None = None) -> int:
        today = today or timezone.localdate()
        years = today.year - self.purchase_date.year
        return years - ((today.month, today.day) < (self.purchase_date.month, self.purchase_date.day))

    @staticmethod
    def rule_errors(values, *, contract_signed_on: date | None = None) -> dict[str, str]:
        """The rules between a device's fields, on its values by attname (``contract_id``), with no query.

        clean() applies them to a device; the import applies them to each row. The rule that a serial
        number is unique per manufacturer needs the database: clean() asks it per device, the import per
        chunk of rows.
        """
        errors: dict[str, str] = {}
        managed_by, vendor = values.get("managed_by"), values.get("managing_vendor_id")
        if managed_by == ManagedBy.VENDOR and not vendor:
            errors["managing_vendor"] = _("Name the vendor that manages this device.")
        if managed_by == ManagedBy.IT_OFFICE and vendor:
            errors["managing_vendor"] = _("A device managed by the IT office has no managing vendor.")
        warranty, purchased = values.get("warranty_ends_on"), values.get("purchase_date")
        if warranty and purchased and warranty < purchased:
            errors["warranty_ends_on"] = _("The warranty cannot end before the purchase date.")
        if values.get("contract_id") and values.get("funding_source"):
            errors["funding_source"] = _("The contract states the funding source; leave this empty.")
        if values.get("contract_id") and purchased and contract_signed_on and purchased < contract_signed_on:
            errors["purchase_date"] = _("The purchase date cannot be earlier than the contract's signing date.")
        return errors

    def clean(self) -> None:
        values = {name: getattr(self, name) for name in (
            "managed_by", "managing_vendor_id", "warranty_ends_on", "purchase_date", "contract_id", "funding_source")}
        errors = self.rule_errors(values, contract_signed_on=self.contract.signed_on if self.contract_id else None)
        if self.serial_number and self.manufacturer:
            clash = Device.objects.filter(manufacturer__iexact=self.manufacturer,
                                          serial_number__iexact=self.serial_number).exclude(pk=self.pk)
            if clash.exists():
                errors["serial_number"] = _("Another device of this manufacturer has this serial number.")
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None) -> None:
        # clean() reports a duplicate serial on the field itself; skip the constraint's generic message.
        exclude = set(exclude or ()) | {"serial_number"}
        super().validate_constraints(exclude=exclude)


class StorageMediumQuerySet(models.QuerySet):
    def inside(self) -> "StorageMediumQuerySet":
        """Media still in their device: a removed disk carries no data out with the device."""
        return self.filter(removed_at__isnull=True)


class StorageMedium(TimeStampedModel):
    """A disk, SSD, eMMC or card inside a device: what may carry data out of the office."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="media", verbose_name=_("device"))
    kind = models.CharField(_("kind"), max_length=20, choices=MediumKind.choices)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=150, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    capacity_gb = models.PositiveIntegerField(_("capacity (GB)"), validators=[MinValueValidator(1)])
    may_hold_personal_data = models.BooleanField(_("may hold personal data"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    removed_at = models.DateTimeField(
        _("taken out of the device"), null=True, blank=True, editable=False,
        help_text=_("Set when the medium is removed (wipe app): it no longer counts as inside the device."))
    history = HistoricalRecords()

    objects = StorageMediumQuerySet.as_manager()

    class Meta:
        verbose_name = _("storage medium")
        verbose_name_plural = _("storage media")
        ordering = ["device__inventory_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["serial_number"], condition=~models.Q(serial_number=""),
                                    name="storage_medium_serial_unique",
                                    violation_error_message=_("A storage medium with this serial number is already registered.")),
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        return f"{label} {self.capacity_gb} GB {self.serial_number}".strip()


class DeviceEvent(models.Model):
    """One step of a device's life: who moved it, when, from which state to which, why, with what proof.

    Append only. Registration is the event with an empty `from_status`.
    """

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="events", verbose_name=_("device"))
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("who"))
    from_status = models.CharField(_("from"), max_length=20, choices=DeviceStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=DeviceStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True,
                                 help_text=_("Police report, incident or order number."))
    document = models.ForeignKey(StoredDocument, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("document"))
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    import_batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("import"), help_text=_("The import that registered the device."))

    class Meta:
        verbose_name = _("device event")
        verbose_name_plural = _("device events")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["device", "occurred_at"], name="device_event_device_idx")]

    def __str__(self) -> str:
        return f"{self.device.inventory_number}: {self.from_status or '—'} → {self.to_status}"
