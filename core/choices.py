from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    """What an issued PDF certifies. Each app adds the kinds it issues here, at the bottom of the stack."""

    DEVICE_CARD = "device_card", _("device record card")
    LOAN_AGREEMENT = "loan_agreement", _("loan agreement")
    HANDOVER_PROTOCOL = "handover_protocol", _("handover protocol")
    RETURN_PROTOCOL = "return_protocol", _("return protocol")
    SANITIZATION_CERTIFICATE = "sanitization_certificate", _("certificate of sanitization")
    DISK_REMOVAL_PROTOCOL = "disk_removal_protocol", _("disk removal and destruction protocol")
    WIPE_SESSION_SUMMARY = "wipe_session_summary", _("wipe session summary")
    TRANSFER_PROTOCOL = "transfer_protocol", _("free transfer protocol")
    LIQUIDATION_PROTOCOL = "liquidation_protocol", _("liquidation protocol")
    DURABILITY_REPORT = "durability_report", _("durability report")
    INVENTORY_REGISTER = "inventory_register", _("inventory register")
    EOL_FORECAST = "eol_forecast", _("end-of-life forecast")
    DISPOSAL_REPORT = "disposal_report", _("annual disposal report")


class ImportStatus(models.TextChoices):
    """Where an import stands: previewed (a dry run, nothing written), then applied or cancelled."""

    PREVIEWED = "previewed", _("previewed")
    APPLIED = "applied", _("applied")
    CANCELLED = "cancelled", _("cancelled")


IMPORT_TRANSITIONS: dict[str, set[str]] = {
    ImportStatus.PREVIEWED: {ImportStatus.APPLIED, ImportStatus.CANCELLED},
    ImportStatus.APPLIED: set(),
    ImportStatus.CANCELLED: set(),
}


class RowAction(models.TextChoices):
    """What an import does with one row of the file."""

    CREATE = "create", _("created")
    UPDATE = "update", _("updated")
    UNCHANGED = "unchanged", _("unchanged")
    INVALID = "invalid", _("invalid")


class JobStatus(models.TextChoices):
    """Where a background job stands. A running job whose worker died is put back in the queue (resumed)."""

    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


JOB_TRANSITIONS: dict[str, set[str]] = {
    JobStatus.QUEUED: {JobStatus.RUNNING},
    # back to the queue: its worker stopped answering (the heartbeat is stale) and the job is resumed
    JobStatus.RUNNING: {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.QUEUED},
    JobStatus.SUCCEEDED: set(),
    # a failed job may be run again: what it already did is recorded item by item and is not done twice
    JobStatus.FAILED: {JobStatus.QUEUED},
}


class JobItemOutcome(models.TextChoices):
    """What a job did with one unit of its work."""

    DONE = "done", _("done")
    SKIPPED = "skipped", _("skipped")
