"""Grant projects, beneficiaries, mayoral orders, free transfers, donations from residents and scrapping.

A `GrantProject` bought devices with a grant and may not let them change owner before its durability
period ends; its `Beneficiary` records hold the sets as loans (loans app) meanwhile, and its obligations
are proven month by month. A `MayoralOrder` (zarządzenie) is the legal act that allows a free transfer,
a liquidation or a sale of the devices (or beneficiaries) in its annex. A `Transfer` gives devices away
under an order once the legal office approved its item-by-item check; a `Liquidation` hands e-waste to an
authorised collector. A `DonationOffer` is a resident's device offered for a person in need.
"""
from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from assets.models import Device
from assets.validators import validate_pdf
from core.models import StoredDocument, TimeStampedModel
from core.uploads import stored_name
from donations.choices import (
    DEFAULT_WASTE_CODE,
    BeneficiaryKind,
    DonationStatus,
    LegalSource,
    ObligationKind,
    OrderKind,
    TransferEventKind,
    TransferStatus,
)
from loans.models import Recipient

__all__ = ["GrantProject", "ProjectDevice", "Beneficiary", "ProjectObligation", "ObligationRecord", "MayoralOrder",
           "OrderAnnexDevice", "OrderAnnexBeneficiary", "Transfer", "TransferItem", "TransferEvent", "DonationOffer",
           "Liquidation", "LiquidationItem", "add_years"]

_USER = settings.AUTH_USER_MODEL


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _dated(folder: str, filename: str, content=None) -> str:
    # The client's name made safe, with the extension of what the file is (core.uploads).
    return f"donations/{folder}/{timezone.now():%Y/%m}/{stored_name(filename, content, default=folder)}"


def upload_order_scan(instance, filename: str) -> str:
    return _dated("orders", filename, instance.scan)


def upload_eligibility(instance, filename: str) -> str:
    return _dated("eligibility", filename, instance.eligibility_document)


def upload_offer(instance, filename: str) -> str:
    return _dated("offers", filename, instance.legal_source_document)


def upload_proof(instance, filename: str) -> str:
    return _dated("proofs", filename, instance.proof_file)


def upload_kpo(instance, filename: str) -> str:
    return _dated("kpo", filename, instance.kpo_scan)


class GrantProject(TimeStampedModel):
    """A grant-funded project such as e-Inclusion: its devices may not change owner until its durability
    period (counted from the final payment) is over."""

    name = models.CharField(_("name"), max_length=255)
    programme = models.CharField(_("funding programme"), max_length=255,
                                 help_text=_("For example: POIG 8.3 Przeciwdziałanie wykluczeniu cyfrowemu – eInclusion."))
    agreement_number = models.CharField(_("grant agreement number"), max_length=100, unique=True)
    starts_on = models.DateField(_("implementation starts on"))
    ends_on = models.DateField(_("implementation ends on"))
    final_payment_on = models.DateField(_("final payment received on"))
    durability_years = models.PositiveSmallIntegerField(
        _("durability period (years)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(20)])
    durability_ends_on = models.DateField(_("durability period ends on"), editable=False,
                                          help_text=_("The final payment date plus the durability period."))
    manager = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("project manager"))
    notes = models.TextField(_("notes"), blank=True)
    devices = models.ManyToManyField(Device, through="ProjectDevice", related_name="grant_projects", blank=True,
                                     verbose_name=_("devices"))
    documents = GenericRelation("core.StoredDocument", content_type_field="subject_type",
                                object_id_field="subject_id", related_query_name="grant_project")
    history = HistoricalRecords()
    checks_validated_elsewhere = frozenset({"project_dates", "project_durability_positive"})

    class Meta:
        verbose_name = _("grant project")
        verbose_name_plural = _("grant projects")
        ordering = ["-starts_on", "name"]
        permissions = [("log_obligation", _("Can log the obligations of grant projects"))]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="project_dates"),
            models.CheckConstraint(condition=Q(durability_years__gte=1), name="project_durability_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The project cannot end before it starts.")
        if self.starts_on and self.final_payment_on and self.final_payment_on < self.starts_on:
            errors["final_payment_on"] = _("The final payment cannot come before the project starts.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        self.durability_ends_on = add_years(self.final_payment_on, self.durability_years)
        super().save(*args, **kwargs)

    def full_clean(self, *args, **kwargs) -> None:
        if self.final_payment_on and self.durability_years:
            self.durability_ends_on = add_years(self.final_payment_on, self.durability_years)
        super().full_clean(*args, **kwargs)

    def durability_over_on(self, day: date) -> bool:
        """Whether the devices may change owner on `day`: the day after the period's last day at the earliest."""
        return day > self.durability_ends_on


class ProjectDevice(models.Model):
    """A device bought by a project. A device belongs to at most one project."""

    project = models.ForeignKey(GrantProject, on_delete=models.PROTECT, related_name="project_devices",
                                verbose_name=_("project"))
    device = models.OneToOneField(Device, on_delete=models.PROTECT, related_name="project_device",
                                  verbose_name=_("device"))
    added_at = models.DateTimeField(_("added at"), default=timezone.now)
    # Who recorded the device as bought by the project: from then on it may not change owner before the
    # durability period ends, so the record names the person who tied it to the grant.
    added_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("added by"))

    class Meta:
        verbose_name = _("project device")
        verbose_name_plural = _("project devices")
        ordering = ["device__inventory_number"]

    def __str__(self) -> str:
        return str(self.device)


class Beneficiary(TimeStampedModel):
    """A household, school or centre that uses a project's sets. Its name, address and contact are those of
    its loan recipient (loans app): only what is needed to hand over and reach them, never a PESEL."""

    project = models.ForeignKey(GrantProject, on_delete=models.PROTECT, related_name="beneficiaries",
                                verbose_name=_("project"))
    code = models.CharField(_("beneficiary code"), max_length=40,
                            help_text=_("The number in the project's list of beneficiaries, such as EI/GD/001."))
    kind = models.CharField(_("kind"), max_length=20, choices=BeneficiaryKind.choices)
    recipient = models.OneToOneField(Recipient, on_delete=models.PROTECT, related_name="beneficiary",
                                     verbose_name=_("recipient (name, address, contact)"))
    eligibility_basis = models.TextField(
        _("basis of eligibility"),
        help_text=_("For example: a pupil in a family receiving social assistance (decision of the MOPS)."))
    eligibility_document = models.FileField(_("supporting document"), upload_to=upload_eligibility, blank=True,
                                            validators=[validate_pdf])
    eligibility_reference = models.CharField(_("document reference"), max_length=200, blank=True)
    qualified_on = models.DateField(_("qualified on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        ordering = ["project", "code"]
        permissions = [
            ("export_personal_data_beneficiary", _("Can export the personal data of a beneficiary")),
            ("anonymise_beneficiary", _("Can anonymise a beneficiary after the retention period")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="beneficiary_code_unique_per_project",
                                    violation_error_message=_("The project already has a beneficiary with this code.")),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.recipient.name}"


class ProjectObligation(TimeStampedModel):
    """What the office promised for the durability period (servicing, internet for each household),
    proven month by month for each beneficiary it applies to."""

    project = models.ForeignKey(GrantProject, on_delete=models.PROTECT, related_name="obligations",
                                verbose_name=_("project"))
    kind = models.CharField(_("kind"), max_length=20, choices=ObligationKind.choices)
    description = models.CharField(_("description"), max_length=255)
    applies_to = models.CharField(_("applies to beneficiaries of kind"), max_length=20,
                                  choices=BeneficiaryKind.choices, blank=True,
                                  help_text=_("Empty: every beneficiary of the project."))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    history = HistoricalRecords()
    checks_validated_elsewhere = frozenset({"obligation_dates"})

    class Meta:
        verbose_name = _("project obligation")
        verbose_name_plural = _("project obligations")
        ordering = ["project", "kind"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="obligation_dates")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The obligation cannot end before it starts.")})

    def months(self) -> list[date]:
        """The first day of every month the obligation covers."""
        months, month = [], self.starts_on.replace(day=1)
        while month <= self.ends_on:
            months.append(month)
            month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
        return months


class ObligationRecord(models.Model):
    """Proof that an obligation was met for one beneficiary in one month (an invoice, a service report)."""

    obligation = models.ForeignKey(ProjectObligation, on_delete=models.PROTECT, related_name="records",
                                   verbose_name=_("obligation"))
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="obligation_records",
                                    verbose_name=_("beneficiary"))
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    proof_reference = models.CharField(_("proof"), max_length=255,
                                       help_text=_("Invoice number, service report, or another document."))
    proof_file = models.FileField(_("scan of the proof"), upload_to=upload_proof, blank=True, validators=[validate_pdf])
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("obligation record")
        verbose_name_plural = _("obligation records")
        ordering = ["-month", "beneficiary__code"]
        constraints = [
            models.UniqueConstraint(fields=["obligation", "beneficiary", "month"], name="obligation_record_once",
                                    violation_error_message=_("This month is already recorded for the beneficiary.")),
            models.CheckConstraint(condition=Q(month__day=1), name="obligation_record_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.beneficiary.code} {self.month:%m.%Y}"


class MayoralOrder(TimeStampedModel):
    """An order (zarządzenie) of the mayor: the legal act that lets the office dispose of the devices, or
    the beneficiaries' sets, listed in its annex."""

    number = models.CharField(_("number"), max_length=50, unique=True, help_text=_("For example: 148/2019."),
                              error_messages={"unique": _("An order with this number is already registered.")})
    signed_on = models.DateField(_("signed on"))
    signatory = models.CharField(_("signed by"), max_length=200)
    title = models.CharField(_("title"), max_length=500)
    legal_basis = models.TextField(_("legal basis"))
    kind = models.CharField(_("kind"), max_length=20, choices=OrderKind.choices)
    in_force_from = models.DateField(_("in force from"))
    in_force_until = models.DateField(_("in force until"), null=True, blank=True,
                                      help_text=_("Empty: until repealed."))
    project = models.ForeignKey(GrantProject, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="orders", verbose_name=_("grant project"))
    scan = models.FileField(_("scan of the signed order"), upload_to=upload_order_scan, blank=True,
                            validators=[validate_pdf])
    scan_sha256 = models.CharField(_("SHA-256 of the scan"), max_length=64, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    annex_devices = models.ManyToManyField(Device, through="OrderAnnexDevice", related_name="orders", blank=True,
                                           verbose_name=_("devices in the annex"))
    history = HistoricalRecords()
    checks_validated_elsewhere = frozenset({"order_in_force_dates"})

    class Meta:
        verbose_name = _("mayoral order")
        verbose_name_plural = _("mayoral orders")
        ordering = ["-signed_on", "number"]
        constraints = [
            models.CheckConstraint(condition=Q(in_force_until__isnull=True) | Q(in_force_until__gte=F("in_force_from")),
                                   name="order_in_force_dates"),
        ]

    def __str__(self) -> str:
        return _("Order no. %(number)s") % {"number": self.number}

    def clean(self) -> None:
        errors = {}
        if self.in_force_from and self.in_force_until and self.in_force_until < self.in_force_from:
            errors["in_force_until"] = _("The order cannot stop being in force before it comes into force.")
        if self.signed_on and self.in_force_from and self.in_force_from < self.signed_on:
            errors["in_force_from"] = _("An order comes into force on or after the day it is signed.")
        if errors:
            raise ValidationError(errors)

    def in_force_on(self, day: date) -> bool:
        return self.in_force_from <= day and (self.in_force_until is None or day <= self.in_force_until)


class OrderAnnexDevice(models.Model):
    """A device listed in an order's annex, by inventory number."""

    order = models.ForeignKey(MayoralOrder, on_delete=models.PROTECT, related_name="annex_device_rows",
                              verbose_name=_("order"))
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="order_annex_rows",
                               verbose_name=_("device"))
    line = models.PositiveIntegerField(_("annex line"), null=True, blank=True)

    class Meta:
        verbose_name = _("device in the annex")
        verbose_name_plural = _("devices in the annex")
        ordering = ["order", "line", "device__inventory_number"]
        constraints = [models.UniqueConstraint(fields=["order", "device"], name="order_annex_device_once")]

    def __str__(self) -> str:
        return str(self.device)


class OrderAnnexBeneficiary(models.Model):
    """A beneficiary listed in an order's annex: the sets it holds are covered."""

    order = models.ForeignKey(MayoralOrder, on_delete=models.PROTECT, related_name="annex_beneficiary_rows",
                              verbose_name=_("order"))
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="order_annex_rows",
                                    verbose_name=_("beneficiary"))
    line = models.PositiveIntegerField(_("annex line"), null=True, blank=True)

    class Meta:
        verbose_name = _("beneficiary in the annex")
        verbose_name_plural = _("beneficiaries in the annex")
        ordering = ["order", "line", "beneficiary__code"]
        constraints = [models.UniqueConstraint(fields=["order", "beneficiary"], name="order_annex_beneficiary_once")]

    def __str__(self) -> str:
        return str(self.beneficiary)


class Transfer(TimeStampedModel):
    """A free transfer of ownership (nieodpłatne przekazanie) of devices to one recipient under an order.

    `status` changes only through donations.services; `checks` keeps the legal check as it stood when the
    legal office decided and when the transfer was completed.
    """

    number = models.CharField(_("number"), max_length=40, unique=True, editable=False)
    order = models.ForeignKey(MayoralOrder, on_delete=models.PROTECT, related_name="transfers",
                              verbose_name=_("order"))
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="transfers",
                                  verbose_name=pgettext_lazy("transfer", "recipient"))
    transfer_date = models.DateField(_("transfer date"))
    status = models.CharField(_("status"), max_length=20, choices=TransferStatus.choices,
                              default=TransferStatus.DRAFT, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   editable=False, verbose_name=_("decided by"))
    decision_reason = models.TextField(_("reasons of the decision"), blank=True, editable=False)
    override_reason = models.TextField(_("reasoned override"), blank=True, editable=False,
                                       help_text=_("Why the legal office approved despite failed checks."))
    checks = models.JSONField(_("legal check"), default=list, blank=True, editable=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)
    protocol = models.ForeignKey(StoredDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 editable=False, verbose_name=_("transfer protocol"))
    created_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   editable=False, verbose_name=_("created by"))
    devices = models.ManyToManyField(Device, through="TransferItem", related_name="transfers", blank=True,
                                     verbose_name=_("devices"))
    documents = GenericRelation("core.StoredDocument", content_type_field="subject_type",
                                object_id_field="subject_id", related_query_name="transfer")
    history = HistoricalRecords()
    checks_validated_elsewhere = frozenset({"transfer_status_valid"})

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-transfer_date", "-id"]
        permissions = [
            ("move_transfer", _("Can prepare, submit, complete and cancel transfers")),
            ("decide_transfer", _("Can approve or reject transfers (legal office)")),
            ("override_transfer_check", _("Can approve a transfer despite failed checks, with reasons")),
        ]
        indexes = [models.Index(fields=["status", "transfer_date"], name="transfer_status_date_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TransferStatus.values), name="transfer_status_valid"),
        ]

    def __str__(self) -> str:
        return _("Transfer %(number)s to %(recipient)s") % {"number": self.number, "recipient": self.recipient}


class TransferItem(models.Model):
    """A device given away in a transfer; `exception_applied` records that it left without a wipe because
    the same beneficiary has held it without a break since it was last sanitized."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="items", verbose_name=_("transfer"))
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="transfer_items",
                               verbose_name=_("device"))
    exception_applied = models.BooleanField(_("beneficiary exception applied"), default=False)

    class Meta:
        verbose_name = _("transferred device")
        verbose_name_plural = _("transferred devices")
        ordering = ["transfer", "device__inventory_number"]
        constraints = [models.UniqueConstraint(fields=["transfer", "device"], name="transfer_item_once")]

    def __str__(self) -> str:
        return str(self.device)


class TransferEvent(models.Model):
    """One step of a transfer: created, submitted, approved (or overridden), rejected, completed, cancelled."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="events", verbose_name=_("transfer"))
    kind = models.CharField(_("kind"), max_length=20, choices=TransferEventKind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("who"))
    from_status = models.CharField(_("from"), max_length=20, choices=TransferStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=TransferStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    document = models.ForeignKey(StoredDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("document"))
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("transfer event")
        verbose_name_plural = _("transfer events")
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.get_kind_display()}"


class DonationOffer(TimeStampedModel):
    """A resident offers a device for a person in need: proof of its legal source, its software licences,
    and the declaration that it goes free of charge. The IT office verifies it, then accepts or refuses."""

    donor_name = models.CharField(_("donor"), max_length=200)
    donor_contact = models.CharField(_("donor's contact"), max_length=200, blank=True)
    offered_on = models.DateField(_("offered on"), default=timezone.localdate)
    kind = models.CharField(_("device kind"), max_length=20, choices=Device._meta.get_field("kind").choices)
    manufacturer = models.CharField(_("manufacturer"), max_length=100)
    model = models.CharField(_("model"), max_length=150)
    serial_number = models.CharField(_("serial number"), max_length=100)
    description = models.TextField(_("condition and contents"), blank=True)
    legal_source = models.CharField(_("proof of legal source"), max_length=20, choices=LegalSource.choices)
    legal_source_reference = models.CharField(_("document of the source"), max_length=200, blank=True,
                                              help_text=_("Invoice number, gift deed, or the like."))
    legal_source_document = models.FileField(_("scan of the proof of source"), upload_to=upload_offer, blank=True,
                                             validators=[validate_pdf])
    software_licences = models.TextField(_("software licences"), blank=True,
                                         help_text=_("The operating system and programs with their licences "
                                                     "(for example: Windows 10 Pro OEM, key on the sticker)."))
    free_of_charge_declared = models.BooleanField(
        _("declaration signed"), default=False,
        help_text=_("The donor declares that the device is given free of charge to a person in need."))
    status = models.CharField(_("status"), max_length=20, choices=DonationStatus.choices,
                              default=DonationStatus.OFFERED, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   editable=False, verbose_name=_("decided by"))
    decision_reason = models.TextField(_("verification notes"), blank=True, editable=False)
    device = models.OneToOneField(Device, on_delete=models.PROTECT, null=True, blank=True, editable=False,
                                  related_name="donation_offer", verbose_name=_("registered as"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("donation offer")
        verbose_name_plural = _("donation offers")
        ordering = ["-offered_on", "-id"]
        permissions = [("decide_donationoffer", _("Can verify donation offers"))]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.model} ({self.donor_name})"


class Liquidation(TimeStampedModel):
    """Scrapping: devices no one takes handed over as e-waste to an authorised collector, under an order."""

    number = models.CharField(_("number"), max_length=40, unique=True, editable=False)
    order = models.ForeignKey(MayoralOrder, on_delete=models.PROTECT, related_name="liquidations",
                              verbose_name=_("order"))
    handed_over_on = models.DateField(_("handed over on"))
    collector_name = models.CharField(_("collector"), max_length=255)
    collector_bdo = models.CharField(
        _("collector's BDO number"), max_length=9,
        validators=[RegexValidator(r"^\d{9}$", _("A BDO registry number has 9 digits."))])
    kpo_number = models.CharField(_("waste transfer card (KPO) number"), max_length=60)
    waste_code = models.CharField(_("waste code"), max_length=12, default=DEFAULT_WASTE_CODE,
                                  validators=[RegexValidator(r"^\d{2} \d{2} \d{2}\*?$",
                                                             _("A waste code reads like 16 02 14."))])
    mass_kg = models.DecimalField(_("mass (kg)"), max_digits=10, decimal_places=3,
                                  validators=[MinValueValidator(0.001)])
    kpo_scan = models.FileField(_("scan of the KPO"), upload_to=upload_kpo, blank=True, validators=[validate_pdf])
    notes = models.TextField(_("notes"), blank=True)
    protocol = models.ForeignKey(StoredDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 editable=False, verbose_name=_("liquidation protocol"))
    recorded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    editable=False, verbose_name=_("recorded by"))
    devices = models.ManyToManyField(Device, through="LiquidationItem", related_name="liquidations", blank=True,
                                     verbose_name=_("devices"))
    documents = GenericRelation("core.StoredDocument", content_type_field="subject_type",
                                object_id_field="subject_id", related_query_name="liquidation")
    history = HistoricalRecords()
    checks_validated_elsewhere = frozenset({"liquidation_mass_positive"})

    class Meta:
        verbose_name = _("liquidation")
        verbose_name_plural = _("liquidations")
        ordering = ["-handed_over_on", "-id"]
        permissions = [("record_liquidation", _("Can hand devices over for scrapping"))]
        constraints = [models.CheckConstraint(condition=Q(mass_kg__gt=0), name="liquidation_mass_positive")]

    def __str__(self) -> str:
        return _("Liquidation %(number)s") % {"number": self.number}


class LiquidationItem(models.Model):
    liquidation = models.ForeignKey(Liquidation, on_delete=models.PROTECT, related_name="items",
                                    verbose_name=_("liquidation"))
    device = models.OneToOneField(Device, on_delete=models.PROTECT, related_name="liquidation_item",
                                  verbose_name=_("device"))

    class Meta:
        verbose_name = _("scrapped device")
        verbose_name_plural = _("scrapped devices")
        ordering = ["liquidation", "device__inventory_number"]

    def __str__(self) -> str:
        return str(self.device)
