from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Analytics, report PDFs and the compliance check: reads everything, changes no record."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from django.contrib import admin

        # The admin's first page opens with the signed-in person's dashboard (reports.dashboards), above
        # the usual list of apps.
        admin.site.index_template = "reports/dashboard_index.html"

        from reports.jobs import register_jobs

        register_jobs()
