"""Admin of the reports app: the reports issued, to read. They are issued from /reports/documents/ (and the
API), through reports.services.report_issue, never added or edited here."""
from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin
from reports.models import IssuedReport


@admin.register(IssuedReport)
class IssuedReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The report PDFs issued: kind, period, when and by whom, and the PDF by its verification code."""

    list_display = ["kind", "period", "issued_at", "issued_by", "document_link"]
    list_filter = ["kind", "year", "issued_at"]
    list_select_related = ["issued_by", "document"]
    search_fields = ["document__code", "document__title"]
    date_hierarchy = "issued_at"
    fields = ["kind", "as_of", "year", "issued_at", "issued_by", "document_link", "verify_link"]
    readonly_fields = fields

    @admin.display(description=_("period"), ordering="as_of")
    def period(self, obj: IssuedReport) -> str:
        return str(obj.year) if obj.year else obj.as_of.strftime("%d.%m.%Y")

    @admin.display(description=_("verification code"), ordering="document__code")
    def document_link(self, obj: IssuedReport) -> str:
        if not obj.document:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("document-download", kwargs={"code": obj.document.code}),
                           obj.document.code)

    @admin.display(description=_("verification page"))
    def verify_link(self, obj: IssuedReport) -> str:
        if not obj.document:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("verify", kwargs={"code": obj.document.code}), _("verify"))

