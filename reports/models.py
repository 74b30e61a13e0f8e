"""Records of the reports app: each report PDF the office issued, with what it was asked for.

The reports app reads every other app and changes none of their records; the only rows it writes are
these, one per issued report, so that the stored PDF has a subject to point at and the list of issued
reports can be filtered by kind and period.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import StoredDocument

__all__ = ["ReportKind", "IssuedReport"]


class ReportKind(models.TextChoices):
    INVENTORY_REGISTER = "inventory_register", _("inventory register")
    EOL_FORECAST = "eol_forecast", _("end-of-life forecast")
    DISPOSAL_REPORT = "disposal_report", _("annual disposal report")


class IssuedReport(models.Model):
    """One report PDF issued from the register as it stood at `issued_at`: kind, period, who asked."""

    kind = models.CharField(_("kind"), max_length=30, choices=ReportKind.choices)
    as_of = models.DateField(_("as of"), default=timezone.localdate,
                             help_text=_("The day the figures describe."))
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True,
                                            help_text=_("The calendar year of an annual report."))
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("issued by"))
    document = models.OneToOneField(StoredDocument, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("document"))

    class Meta:
        verbose_name = _("issued report")
        verbose_name_plural = _("issued reports")
        ordering = ["-issued_at", "-id"]
        permissions = [
            ("view_compliance_check", _("Can run the compliance check")),
            ("view_analytics", _("Can read the analytics")),
            ("issue_report", _("Can issue report PDFs")),
        ]

    def __str__(self) -> str:
        period = self.year or self.as_of
        return f"{self.get_kind_display()} ({period})"
