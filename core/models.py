"""What every app stands on: a timestamped base model and the registry of issued documents."""
from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.choices import (
    IMPORT_TRANSITIONS,
    JOB_TRANSITIONS,
    DocumentKind,
    ImportStatus,
    JobItemOutcome,
    JobStatus,
    RowAction,
)
from core.uploads import stored_name

__all__ = ["TimeStampedModel", "StoredDocument", "ImportBatch", "ImportRow", "Anonymisation", "Job", "JobEvent",
           "JobItem"]


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    # Names of CheckConstraints that a field validator or the model's clean() already checks, with a
    # message on the field; the database enforces them, so full_clean() need not re-check each with a
    # query of its own. A constraint not listed here is still validated by Django.
    checks_validated_elsewhere: frozenset[str] = frozenset()

    def get_constraints(self):
        skip = self.checks_validated_elsewhere
        return [(model, [c for c in constraints if c.name not in skip])
                for model, constraints in super().get_constraints()]


def _document_path(instance: "StoredDocument", filename: str) -> str:
    return f"documents/{instance.issued_at:%Y/%m}/{instance.code}.pdf"


class StoredDocument(models.Model):
    """A PDF the office issued, kept byte for byte so that anyone holding a printout can check it.

    The verification code is printed (and QR-encoded) on the document; `/verify/<code>/` shows the
    public facts below and compares an uploaded file's SHA-256 with `sha256`. `title` is public: it
    must never carry personal data.
    """

    code = models.CharField(_("verification code"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=40, choices=DocumentKind.choices)
    title = models.CharField(
        _("what it certifies"), max_length=255, help_text=_("Shown publicly on the verification page; no personal data.")
    )
    file = models.FileField(_("file"), upload_to=_document_path)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size in bytes"))
    template_version = models.CharField(_("template version"), max_length=40)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by"), null=True,
        blank=True,  # documents issued by the system (a command, a service called without a user)
    )
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("subject type"))
    subject_id = models.PositiveBigIntegerField(_("subject id"))
    subject = GenericForeignKey("subject_type", "subject_id")

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="document_subject_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="document_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"

    def get_verify_url(self) -> str:
        from django.urls import reverse

        return settings.SITE_URL + reverse("verify", kwargs={"code": self.code})


def _import_path(instance: "ImportBatch", filename: str) -> str:
    from django.utils import timezone

    # A spreadsheet: XLSX by its ZIP signature, CSV for text; the client's name made safe.
    name = stored_name(filename, instance.file, default="import", text="csv")
    return f"imports/{timezone.now():%Y/%m}/{instance.sha256[:16]}-{name}"


class ImportBatch(models.Model):
    """One import of a spreadsheet: who brought which file (kept, with its SHA-256), what the dry run found.

    The dry run stores the file and the preview: counts, the columns kept and not kept, every invalid row
    with its column, value and reason. Confirming re-reads the stored file, which must still have the
    previewed SHA-256, and applies it only if it does exactly what the preview said. Every record the
    import writes names it in its history (``import #N, row R``) and every device it registers has an
    event pointing at it.
    """

    table = models.CharField(_("table"), max_length=40)
    file = models.FileField(_("file"), upload_to=_import_path)
    file_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=ImportStatus.choices,
                              default=ImportStatus.PREVIEWED, editable=False)
    only_new = models.BooleanField(
        _("new records only"), default=False,
        help_text=_("A row whose key is already registered is invalid, instead of updating that record: for a "
                    "delivery list, whose inventory numbers must all be new."))
    skip_invalid = models.BooleanField(
        _("skip invalid rows"), default=False,
        help_text=_("Apply the valid rows and report the invalid ones; otherwise any invalid row stops the import."))
    created_at = models.DateTimeField(_("previewed at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("previewed by"))
    decided_at = models.DateTimeField(_("applied or cancelled at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("applied or cancelled by"))
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_created = models.PositiveIntegerField(_("to create"), default=0)
    rows_updated = models.PositiveIntegerField(_("to update"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_invalid = models.PositiveIntegerField(_("invalid"), default=0)
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    plan_digest = models.CharField(
        _("digest of the plan"), max_length=64, editable=False,
        help_text=_("SHA-256 of what the dry run would do with each row; the confirmation must do the same."))

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        permissions = [("apply_importbatch", _("Can import spreadsheets"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="import_sha256_hex"),
            models.CheckConstraint(condition=models.Q(status__in=ImportStatus.values), name="import_status_valid"),
        ]

    def __str__(self) -> str:
        return _("import #%(id)s (%(file)s)") % {"id": self.pk, "file": self.file_name}

    @property
    def allowed_transitions(self) -> list[str]:
        return sorted(IMPORT_TRANSITIONS[self.status])


class ImportRow(models.Model):
    """What an import did with one row of its file, by the row's key (an inventory number, a NIP).

    Written for every row that names a key, in the dry run (rolled back with it) and when applied: it is
    how a key repeated further down a large file is found without holding the file's keys in memory,
    and afterwards it says which row of which file each record came from.
    """

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows", verbose_name=_("import"))
    row = models.PositiveIntegerField(_("row"))
    key = models.CharField(_("key"), max_length=255)
    action = models.CharField(_("action"), max_length=10, choices=RowAction.choices)

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        ordering = ["batch", "row"]
        constraints = [models.UniqueConstraint(fields=["batch", "key"], name="import_row_key_once")]

    def __str__(self) -> str:
        return f"#{self.batch_id}:{self.row} {self.key} ({self.action})"


class Anonymisation(models.Model):
    """The personal data of one person (a loan recipient, a beneficiary) was erased: by whom, when, and the
    end of the retention period that allowed it (core.privacy). One per subject: a second is refused.

    The label names the subject without personal data ("beneficiary EI/GD/001", "recipient #12").
    """

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("subject type"))
    subject_id = models.PositiveBigIntegerField(_("subject id"))
    subject = GenericForeignKey("subject_type", "subject_id")
    label = models.CharField(_("subject"), max_length=100)
    anonymised_at = models.DateTimeField(_("anonymised at"), default=timezone.now)
    anonymised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("anonymised by"))
    retention_ended_on = models.DateField(_("retention period ended on"))
    summary = models.JSONField(_("what was erased"), default=dict, blank=True)

    class Meta:
        verbose_name = _("anonymisation")
        verbose_name_plural = _("anonymisations")
        ordering = ["-anonymised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["subject_type", "subject_id"], name="anonymisation_once")]

    def __str__(self) -> str:
        return self.label


class Job(models.Model):
    """Work too big for a request (completing a project's transfers, applying a large import, issuing a large
    report), run by a background worker (core.jobs) on behalf of the person who started it.

    `kind` names a registered JobKind and `params` its validated input. Progress is `done` and `skipped` of
    `total` units; each unit is recorded as a JobItem in the same transaction as its work, so a worker that
    dies mid-unit leaves neither, and the resumed job skips every unit already recorded. `heartbeat_at` is
    refreshed while a worker runs the job: a running job whose heartbeat is older than JOB_STALE_AFTER has
    lost its worker and is resumed (`jobs_resume`). `attempts` counts the runs; a run that finds the count
    moved on (the job was resumed elsewhere) stops writing.
    """

    kind = models.CharField(_("kind"), max_length=60)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED,
                              editable=False)
    total = models.PositiveIntegerField(_("total"), null=True, blank=True, help_text=_("Units of work, once known."))
    done = models.PositiveIntegerField(_("done"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("started by a person at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("started by"))
    started_at = models.DateTimeField(_("first run at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("runs"), default=0)
    task_id = models.CharField(_("task id"), max_length=64, blank=True,
                               help_text=_("The queue's id of the latest run (django-tasks)."))

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-id"]
        permissions = [("view_all_jobs", _("Can see everyone's background jobs")),
                       ("resume_job", _("Can resume a stalled or failed background job"))]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=JobStatus.values), name="job_status_valid"),
        ]

    def __str__(self) -> str:
        from core.jobs import kind_label

        return _("job #%(id)s (%(kind)s)") % {"id": self.pk, "kind": kind_label(self.kind)}

    @property
    def percent(self) -> int | None:
        """How much of the work is behind it, in whole percent (None while the amount of work is unknown)."""
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.total:
            return None
        return min(100, (self.done + self.skipped) * 100 // self.total)

    @property
    def allowed_transitions(self) -> list[str]:
        return sorted(JOB_TRANSITIONS[self.status])


class JobEvent(models.Model):
    """One step of a job: queued, started, succeeded, failed, resumed; who (or on whose behalf), and why."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events", verbose_name=_("job"))
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("who"))
    from_status = models.CharField(_("from"), max_length=20, choices=JobStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=JobStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("job event")
        verbose_name_plural = _("job events")
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.from_status or '-'} -> {self.to_status}"


class JobItem(models.Model):
    """One unit of a job's work (a transfer completed, an import applied), written in the transaction of the
    work itself: its key is recorded once per job, so no run of the job does that unit again."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items", verbose_name=_("job"))
    key = models.CharField(_("key"), max_length=100)
    outcome = models.CharField(_("outcome"), max_length=10, choices=JobItemOutcome.choices)
    label = models.CharField(_("what"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why the unit was skipped."))
    object_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("record type"))
    object_id = models.PositiveBigIntegerField(_("record id"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    attempt = models.PositiveSmallIntegerField(_("run"), default=1)
    units = models.PositiveIntegerField(
        _("units of work"), default=1, help_text=_("What the unit counts for in the job's progress (an import's rows)."))

    class Meta:
        verbose_name = _("job item")
        verbose_name_plural = _("job items")
        ordering = ["job", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="job_item_key_once")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.key} ({self.outcome})"
