from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Analytics, report PDFs and the compliance check: reads everything, changes no record."""

    name = "reports"
    verbose_name = _("Reports")
