"""Choices of sanitization, disk removal and wipe sessions, with their transition tables beside them.

The words follow NIST SP 800-88 (Rev. 1 and Rev. 2) and IEEE 2883-2022: a method *class* (Clear,
Purge, Destroy) is what a wipe achieved; a *technique* is how it was done.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MethodClass(models.TextChoices):
    CLEAR = "clear", pgettext_lazy("method class", "Clear")
    PURGE = "purge", pgettext_lazy("method class", "Purge")
    DESTROY = "destroy", pgettext_lazy("method class", "Destroy")


class Technique(models.TextChoices):
    OVERWRITE = "overwrite", _("overwrite")
    ATA_SECURE_ERASE = "ata_secure_erase", _("ATA secure erase")
    NVME_SANITIZE = "nvme_sanitize", _("NVMe sanitize")
    NVME_FORMAT = "nvme_format", _("NVMe format")
    CRYPTO_ERASE = "crypto_erase", _("cryptographic erase")
    FACTORY_RESET = "factory_reset", _("factory reset (encryption on)")
    BLOCK_ERASE = "block_erase", _("block erase")
    DEGAUSS = "degauss", _("degauss")
    SHRED = "shred", _("shred")
    DISINTEGRATE = "disintegrate", _("disintegrate")
    OTHER = "other", pgettext_lazy("technique", "other")


# Techniques that leave nothing to reuse: the medium itself is gone.
DESTRUCTIVE_TECHNIQUES = frozenset({Technique.SHRED, Technique.DISINTEGRATE})


class Verification(models.TextChoices):
    NONE = "none", pgettext_lazy("verification", "none")
    SAMPLE = "sample", _("by sample")
    FULL = "full", _("full")


class VerificationResult(models.TextChoices):
    PASSED = "passed", _("passed")
    FAILED = "failed", _("failed")


class Destination(models.TextChoices):
    INTERNAL_REUSE = "internal_reuse", _("internal reuse")
    LEAVES_OFFICE = "leaves_office", _("leaves the office")
    RECYCLING = "recycling", _("recycling")
    DESTRUCTION = "destruction", _("destruction")


# Destinations after which the medium is outside the office's custody.
LEAVING_DESTINATIONS = frozenset({Destination.LEAVES_OFFICE, Destination.RECYCLING})


class DataBackedUp(models.TextChoices):
    YES = "yes", _("yes")
    NO = "no", _("no")
    UNKNOWN = "unknown", _("unknown")


class SanitizationStatus(models.TextChoices):
    RECORDED = "recorded", _("recorded, awaiting validation")
    VALIDATED = "validated", _("validated")
    REJECTED = "rejected", _("rejected")
    SUPERSEDED = "superseded", _("superseded by a correction")


SS = SanitizationStatus

# A recorded wipe is the technician's draft: it may be edited or withdrawn. Validation makes it
# evidence: from then on it only ever becomes superseded, by a correction that is itself validated.
SANITIZATION_TRANSITIONS: dict[str, frozenset[str]] = {
    SS.RECORDED: frozenset({SS.VALIDATED, SS.REJECTED}),
    SS.VALIDATED: frozenset({SS.SUPERSEDED}),
    SS.REJECTED: frozenset(),
    SS.SUPERSEDED: frozenset(),
}

# Records that are evidence and can no longer be edited or deleted.
SANITIZATION_FINAL = frozenset({SS.VALIDATED, SS.REJECTED, SS.SUPERSEDED})


class WipeEventKind(models.TextChoices):
    RECORDED = "recorded", _("recorded")
    EDITED = "edited", _("edited")
    VALIDATED = "validated", _("validated")
    REJECTED = "rejected", _("rejected")
    SUPERSEDED = "superseded", _("superseded")
    FAILED = "failed", _("wipe failed")
    REMOVED = "removed", _("disk removed")
    CUSTODY = "custody", _("custody changed")
    DESTROYED = "destroyed", _("destroyed")
    OPENED = "opened", _("session opened")
    CLOSED = "closed", _("session closed")
    NO_MEDIA = "no_media", _("no media confirmed")


class DataClassification(models.TextChoices):
    """What the medium may hold (NIST: classification), in the terms of a Polish office."""

    PUBLIC = "public", _("public information")
    INTERNAL = "internal", _("internal information")
    PERSONAL = "personal", _("personal data")
    SPECIAL = "special", _("special categories of personal data (GDPR art. 9)")
    NONE = "none", _("no data")


class RemovalStatus(models.TextChoices):
    HELD = "held", _("held in custody")
    DESTROYED = "destroyed", _("destroyed")


REMOVAL_TRANSITIONS: dict[str, frozenset[str]] = {
    RemovalStatus.HELD: frozenset({RemovalStatus.DESTROYED}),
    RemovalStatus.DESTROYED: frozenset(),
}


class DestructionMethod(models.TextChoices):
    SHRED = "shred", _("shred")
    DISINTEGRATE = "disintegrate", _("disintegrate")
    PULVERIZE = "pulverize", _("pulverize")
    INCINERATE = "incinerate", _("incinerate")
    DEGAUSS_AND_SHRED = "degauss_and_shred", _("degauss, then shred")


class SessionStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


SESSION_TRANSITIONS: dict[str, frozenset[str]] = {
    SessionStatus.OPEN: frozenset({SessionStatus.CLOSED}),
    SessionStatus.CLOSED: frozenset(),
}


class SessionOutcome(models.TextChoices):
    PENDING = "pending", _("pending")
    PASSED = "passed", _("passed: sanitized")
    FAILED = "failed", _("failed: wipe again")


class EvidenceFormat(models.TextChoices):
    NWIPE_LOG = "nwipe-log", _("nwipe / ShredOS log")
    NWIPE_JSON = "nwipe-json", _("nwipe / ShredOS JSON report")
