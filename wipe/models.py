"""Disk removal and certified wipes: what proves that no data left the office with a device.

A `Sanitization` is one wipe of one storage medium, with every field of the NIST SP 800-88 Appendix G
"Certificate of Sanitization". Once validated by a second person it is evidence and never changes; a
mistake is corrected by a new record that supersedes it. A `DiskRemoval` is a medium taken out of its
device, kept under a custody log until it is destroyed with a certificate. A `WipeSession` is a cart of
devices wiped together; `WipeEvidence` is a tool's report (nwipe/ShredOS) kept byte for byte.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assets.models import Device, StorageMedium
from assets.validators import validate_pdf
from core.models import StoredDocument, TimeStampedModel
from core.uploads import safe_filename, stored_name
from wipe.choices import (
    DataBackedUp,
    Destination,
    DestructionMethod,
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
    DataClassification,
)

__all__ = ["DeviceToSanitize", "WipeSession", "WipeSessionDevice", "WipeEvidence", "Sanitization", "NoMediaConfirmation",
           "DiskRemoval", "CustodyEntry", "WipeEvent"]

_USER = settings.AUTH_USER_MODEL


class WipeSession(TimeStampedModel):
    """Many devices wiped together (a cart of laptops on one bench), closed by a validator."""

    reference = models.CharField(_("reference"), max_length=40, unique=True)
    location = models.CharField(_("where the wipe takes place"), max_length=200)
    tool = models.CharField(_("tool"), max_length=100, blank=True)
    tool_version = models.CharField(_("tool version"), max_length=50, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=SessionStatus.choices, default=SessionStatus.OPEN)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    opened_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("closed and validated by"))
    retry_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="retries",
                                 verbose_name=_("second attempt of"))
    notes = models.TextField(_("notes"), blank=True)
    devices = models.ManyToManyField(Device, through="WipeSessionDevice", related_name="wipe_sessions",
                                     verbose_name=_("devices"))
    documents = GenericRelation(StoredDocument, content_type_field="subject_type", object_id_field="subject_id")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("wipe session")
        verbose_name_plural = _("wipe sessions")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                                   name="wipe_session_closes_after_opening"),
        ]

    def __str__(self) -> str:
        return self.reference


class WipeSessionDevice(models.Model):
    """A device on the session's cart, and how it came out: sanitized, or listed for a second attempt."""

    session = models.ForeignKey(WipeSession, on_delete=models.PROTECT, related_name="entries",
                                verbose_name=_("wipe session"))
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="wipe_session_entries",
                               verbose_name=_("device"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=SessionOutcome.choices,
                               default=SessionOutcome.PENDING)
    failure_reason = models.TextField(_("why it failed"), blank=True)

    class Meta:
        verbose_name = _("device in a wipe session")
        verbose_name_plural = _("devices in wipe sessions")
        ordering = ["device__inventory_number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "device"], name="wipe_session_device_once"),
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.device.inventory_number}"


def _evidence_path(instance: "WipeEvidence", filename: str) -> str:
    # A report is text: a log, or JSON; the client's name made safe (core.uploads).
    name = safe_filename(filename, extension="json" if instance.format == EvidenceFormat.NWIPE_JSON else "log",
                         default="report")
    return f"wipe/evidence/{timezone.now():%Y/%m}/{instance.sha256[:16]}-{name}"


class WipeEvidence(models.Model):
    """A wiping tool's own report, kept byte for byte with its SHA-256, and what the import made of it."""

    file = models.FileField(_("file"), upload_to=_evidence_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size in bytes"))
    format = models.CharField(_("format"), max_length=20, choices=EvidenceFormat.choices)
    tool_version = models.CharField(_("tool version"), max_length=50, blank=True)
    session = models.ForeignKey(WipeSession, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="evidence", verbose_name=_("wipe session"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    uploaded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("uploaded by"))
    report = models.JSONField(_("import report"), default=dict, blank=True,
                              help_text=_("Each drive found and each line that was not imported, with the reason."))

    class Meta:
        verbose_name = _("wipe report file")
        verbose_name_plural = _("wipe report files")
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="wipe_evidence_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class Sanitization(TimeStampedModel):
    """One wipe of one storage medium: the NIST SP 800-88 Appendix G certificate fields, and its fitness.

    Written only by wipe.services, which checks wipe.fitness. Validated, rejected and superseded records
    are evidence: no service edits or deletes them.
    """

    # Media information (NIST: make, model, serial, property number, media type, source)
    medium = models.ForeignKey(StorageMedium, on_delete=models.PROTECT, related_name="sanitizations",
                               verbose_name=_("storage medium"))
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="sanitizations",
                               verbose_name=_("device (source)"))
    data_classification = models.CharField(_("classification of the data"), max_length=20,
                                           choices=DataClassification.choices, default=DataClassification.PERSONAL)
    data_backed_up = models.CharField(_("data backed up"), max_length=10, choices=DataBackedUp.choices,
                                      default=DataBackedUp.UNKNOWN)
    backup_location = models.CharField(_("backup location"), max_length=200, blank=True)
    # Sanitization details
    method_class = models.CharField(_("method type"), max_length=10, choices=MethodClass.choices)
    technique = models.CharField(_("method used"), max_length=20, choices=Technique.choices)
    overwrite_passes = models.PositiveSmallIntegerField(_("overwrite passes"), null=True, blank=True)
    pattern = models.CharField(_("pattern"), max_length=100, blank=True,
                               help_text=_("What was written: zeros, random data, DoD 5220.22-M, ..."))
    encryption_enabled = models.BooleanField(_("storage was encrypted"), default=False,
                                             help_text=_("Required for a factory reset to count."))
    method_details = models.TextField(_("method details"), blank=True)
    tool = models.CharField(_("tool used"), max_length=100)
    tool_version = models.CharField(_("tool version"), max_length=50, blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    verification = models.CharField(_("verification method"), max_length=10, choices=Verification.choices)
    verification_result = models.CharField(_("verification result"), max_length=10,
                                           choices=VerificationResult.choices, blank=True)
    post_classification = models.CharField(_("classification after sanitization"), max_length=20,
                                           choices=DataClassification.choices, default=DataClassification.NONE)
    notes = models.TextField(_("notes"), blank=True)
    # Media destination
    destination = models.CharField(_("destination"), max_length=20, choices=Destination.choices)
    destination_details = models.CharField(_("destination details"), max_length=200, blank=True)
    # Person performing sanitization, and the validation by a second person
    organization = models.CharField(_("organization"), max_length=200)
    location = models.CharField(_("location"), max_length=200)
    performed_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("performed by"))
    performer_title = models.CharField(_("performer's title"), max_length=100, blank=True)
    performer_phone = models.CharField(_("performer's phone"), max_length=40, blank=True)
    validated_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("validated by"))
    validator_title = models.CharField(_("validator's title"), max_length=100, blank=True)
    validator_phone = models.CharField(_("validator's phone"), max_length=40, blank=True)
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    # The record's own life
    status = models.CharField(_("status"), max_length=20, choices=SanitizationStatus.choices,
                              default=SanitizationStatus.RECORDED)
    fit_to_leave = models.BooleanField(
        _("fit for leaving the office"), default=False, editable=False,
        help_text=_("Purge or Destroy with a verification that passed (wipe.fitness)."))
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by", verbose_name=_("corrects record"))
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    session = models.ForeignKey(WipeSession, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="sanitizations", verbose_name=_("wipe session"))
    evidence = models.ForeignKey(WipeEvidence, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="sanitizations", verbose_name=_("tool's report"))
    evidence_drive = models.CharField(_("drive in the report"), max_length=100, blank=True)
    history = HistoricalRecords()

    checks_validated_elsewhere = frozenset({"sanitization_ends_after_start", "sanitization_two_people"})

    class Meta:
        verbose_name = _("sanitization")
        verbose_name_plural = _("sanitizations")
        permissions = [("validate_sanitization", _("Can validate a wipe as the second person"))]
        ordering = ["-finished_at", "-id"]
        indexes = [models.Index(fields=["medium", "status"], name="sanitization_medium_idx"),
                   models.Index(fields=["device", "status"], name="sanitization_device_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(finished_at__gte=F("started_at")), name="sanitization_ends_after_start"),
            models.CheckConstraint(condition=Q(validated_by__isnull=True) | ~Q(validated_by=F("performed_by")),
                                   name="sanitization_two_people"),
            models.CheckConstraint(condition=~Q(status=SanitizationStatus.VALIDATED) | Q(validated_by__isnull=False),
                                   name="sanitization_validated_has_validator"),
        ]

    def __str__(self) -> str:
        return f"{self.device.inventory_number} · {self.medium} · {self.get_method_class_display()}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        if self.started_at and self.finished_at and self.finished_at < self.started_at:
            errors["finished_at"] = _("The end is before the start.")
        if self.validated_by_id and self.validated_by_id == self.performed_by_id:
            errors["validated_by"] = _("The validator must be someone other than the person who wiped the medium.")
        if errors:
            raise ValidationError(errors)


class NoMediaConfirmation(models.Model):
    """A named person's statement that a device holds no storage medium: never assumed."""

    device = models.OneToOneField(Device, on_delete=models.PROTECT, related_name="no_media_confirmation",
                                  verbose_name=_("device"))
    confirmed_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), default=timezone.now)
    how_checked = models.TextField(_("how it was checked"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("confirmation of no storage media")
        verbose_name_plural = _("confirmations of no storage media")

    def __str__(self) -> str:
        return self.device.inventory_number


def _certificate_path(instance: "DiskRemoval", filename: str) -> str:
    name = stored_name(filename, instance.certificate_scan, default="certificate")
    return f"wipe/certificates/{timezone.now():%Y/%m}/{instance.medium_id}-{name}"


class DiskRemoval(TimeStampedModel):
    """A medium taken out of its device, kept under a custody log until it is destroyed."""

    medium = models.OneToOneField(StorageMedium, on_delete=models.PROTECT, related_name="removal",
                                  verbose_name=_("storage medium"))
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="disk_removals",
                               verbose_name=_("taken out of"))
    removed_at = models.DateTimeField(_("removed at"))
    removed_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("removed by"))
    status = models.CharField(_("status"), max_length=20, choices=RemovalStatus.choices, default=RemovalStatus.HELD)
    kept_at = models.CharField(_("kept at"), max_length=200, help_text=_("Where the medium is now (custody log)."))
    held_by = models.CharField(_("held by"), max_length=200, help_text=_("Who holds it now (custody log)."))
    notes = models.TextField(_("notes"), blank=True)
    destroyed_on = models.DateField(_("destroyed on"), null=True, blank=True)
    destruction_method = models.CharField(_("destruction method"), max_length=20, choices=DestructionMethod.choices,
                                          blank=True)
    destruction_company = models.CharField(_("destroyed by (company)"), max_length=200, blank=True)
    certificate_number = models.CharField(_("destruction certificate number"), max_length=100, blank=True)
    certificate_scan = models.FileField(_("scan of the destruction certificate"), upload_to=_certificate_path,
                                        blank=True, max_length=255, validators=[validate_pdf])
    destruction_recorded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True,
                                                related_name="+", verbose_name=_("destruction recorded by"))
    documents = GenericRelation(StoredDocument, content_type_field="subject_type", object_id_field="subject_id")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("disk removal")
        verbose_name_plural = _("disk removals")
        ordering = ["-removed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=RemovalStatus.HELD) | (Q(destroyed_on__isnull=False) & ~Q(certificate_number="")),
                name="disk_removal_destroyed_has_certificate"),
        ]

    def __str__(self) -> str:
        return f"{self.medium} ← {self.device.inventory_number}"


class CustodyEntry(models.Model):
    """One link of a removed medium's chain of custody: where it was put, handed to whom, when. Append only."""

    removal = models.ForeignKey(DiskRemoval, on_delete=models.PROTECT, related_name="custody",
                                verbose_name=_("disk removal"))
    at = models.DateTimeField(_("when"), default=timezone.now)
    kept_at = models.CharField(_("kept at"), max_length=200)
    handed_to = models.CharField(_("handed to"), max_length=200)
    recorded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("custody entry")
        verbose_name_plural = _("custody log")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%d.%m.%Y %H:%M} · {self.kept_at} · {self.handed_to}"


class WipeEvent(models.Model):
    """One step of a sanitization record, a disk removal or a wipe session: who, when, from, to, why, proof.

    Append only; exactly one of `sanitization`, `removal` and `session` is set.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=WipeEventKind.choices)
    sanitization = models.ForeignKey(Sanitization, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="events", verbose_name=_("sanitization"))
    removal = models.ForeignKey(DiskRemoval, on_delete=models.PROTECT, null=True, blank=True, related_name="events",
                                verbose_name=_("disk removal"))
    session = models.ForeignKey(WipeSession, on_delete=models.PROTECT, null=True, blank=True, related_name="events",
                                verbose_name=_("wipe session"))
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True, related_name="wipe_events",
                               verbose_name=_("device"))
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(_USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("who"))
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    document = models.ForeignKey(StoredDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("document"))
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("wipe event")
        verbose_name_plural = _("wipe events")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(sanitization__isnull=False, removal__isnull=True, session__isnull=True)
                           | Q(sanitization__isnull=True, removal__isnull=False, session__isnull=True)
                           | Q(sanitization__isnull=True, removal__isnull=True, session__isnull=False)
                           | Q(sanitization__isnull=True, removal__isnull=True, session__isnull=True,
                               device__isnull=False)),
                name="wipe_event_one_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.from_status or '—'} → {self.to_status or '—'}"


class DeviceToSanitize(Device):
    """The IT office's view of devices on their way out: retired ones and what each still needs before
    it may leave (media to wipe or remove, a confirmation of no media)."""

    class Meta:
        proxy = True
        verbose_name = _("device to sanitize")
        verbose_name_plural = _("devices to sanitize")
