"""Choices of fault reports, with their transition table beside them."""
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FaultCategory(models.TextChoices):
    HARDWARE = "hardware", _("hardware")
    SOFTWARE = "software", _("software")
    LOGIN = "login", _("login or account")
    NETWORK = "network", _("network")
    ACCESSORY = "accessory", pgettext_lazy("fault category", "accessory")


class FaultStatus(models.TextChoices):
    NEW = "new", _("new")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    IN_PROGRESS = "in_progress", _("in progress")
    RESOLVED = "resolved", _("resolved")
    REPLACED = "replaced", _("device replaced")
    REJECTED = "rejected", _("rejected")


F = FaultStatus

# A fault is acknowledged before anything is done about it; it ends resolved, with the device replaced,
# or rejected (not a fault, a duplicate, misuse). A closed fault stays closed: a new problem is a new report.
FAULT_TRANSITIONS: dict[str, frozenset[str]] = {
    F.NEW: frozenset({F.ACKNOWLEDGED, F.REJECTED}),
    F.ACKNOWLEDGED: frozenset({F.IN_PROGRESS, F.RESOLVED, F.REPLACED, F.REJECTED}),
    F.IN_PROGRESS: frozenset({F.RESOLVED, F.REPLACED, F.REJECTED}),
    F.RESOLVED: frozenset(),
    F.REPLACED: frozenset(),
    F.REJECTED: frozenset(),
}

FAULT_CLOSED = frozenset({F.RESOLVED, F.REPLACED, F.REJECTED})
