"""Fault reports: the holder of a loaned device tells the IT office what is wrong and follows the repair."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assets.models import Device
from core.models import TimeStampedModel
from core.uploads import detect_extension
from faults.choices import FaultCategory, FaultStatus
from loans.models import Loan

__all__ = ["FaultReport", "FaultReply", "FaultEvent"]


def photo_path(instance: FaultReport, filename: str) -> str:
    # Under faults/: served only through the portal (to the reporter) or to the IT office.
    # The extension is the image's own format, never the client's (core.uploads).
    suffix = detect_extension(instance.photo)
    return f"faults/{timezone.now():%Y/%m}/{instance.device_id}-{timezone.now():%H%M%S%f}.{suffix}"


class FaultReport(TimeStampedModel):
    """A fault reported on a loaned device by the person who holds it (zgłoszenie usterki)."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="faults", verbose_name=_("device"))
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="faults", verbose_name=_("loan"))
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fault_reports",
                                 verbose_name=_("reported by"))
    category = models.CharField(_("category"), max_length=20, choices=FaultCategory.choices)
    description = models.TextField(_("description"))
    photo = models.ImageField(_("photo"), upload_to=photo_path, blank=True)
    contact = models.CharField(_("how to contact the reporter"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=FaultStatus.choices, default=FaultStatus.NEW,
                              editable=False)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now, editable=False)
    replacement = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("replacement device"), editable=False)
    replacement_loan = models.ForeignKey(Loan, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                         verbose_name=_("loan of the replacement"), editable=False)
    history = HistoricalRecords()
    checks_validated_elsewhere = frozenset({"fault_status_valid"})

    class Meta:
        verbose_name = _("fault report")
        verbose_name_plural = _("fault reports")
        ordering = ["-created_at", "-id"]
        permissions = [("handle_fault", _("Can acknowledge, work on and close fault reports"))]
        indexes = [models.Index(fields=["status", "created_at"], name="fault_status_created_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=FaultStatus.values), name="fault_status_valid"),
        ]

    def __str__(self) -> str:
        return _("Fault %(id)s: %(device)s") % {"id": self.pk, "device": self.device}


class FaultReply(models.Model):
    """A message on a fault, from the IT office or from the reporter; the reporter sees every one."""

    fault = models.ForeignKey(FaultReport, on_delete=models.PROTECT, related_name="replies",
                              verbose_name=_("fault report"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("author"))
    from_office = models.BooleanField(_("from the IT office"), default=True)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:80]


class FaultEvent(models.Model):
    """One status change of a fault: who, when, from, to, why."""

    fault = models.ForeignKey(FaultReport, on_delete=models.PROTECT, related_name="events",
                              verbose_name=_("fault report"))
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("who"))
    from_status = models.CharField(_("from"), max_length=20, choices=FaultStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=FaultStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("fault event")
        verbose_name_plural = _("fault events")
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.fault_id}: {self.get_from_status_display() or '—'} → {self.get_to_status_display()}"
