from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.exceptions import DomainError
from core.models import StoredDocument


class ServiceAdminMixin:
    """Admin whose writes go through services: a refusal at save time becomes a message, not a 500.

    The admin's change view runs in one transaction, so a refused service call leaves nothing behind.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (DomainError, ValidationError) as exc:
            messages.error(request, exc.message if isinstance(exc, DomainError) else "; ".join(exc.messages))
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyAdminMixin:
    """For records written only by services (events, issued documents): look, never touch."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StoredDocument)
class StoredDocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "kind", "title", "issued_at", "issued_by", "download_link", "verify_link"]
    list_filter = ["kind", "issued_at"]
    search_fields = ["code", "title", "sha256"]
    list_select_related = ["issued_by"]
    date_hierarchy = "issued_at"
    fields = ["code", "kind", "title", "sha256", "size", "template_version", "issued_at", "issued_by",
              "subject_type", "subject_id", "download_link", "verify_link"]
    readonly_fields = fields

    @admin.display(description=_("PDF"))
    def download_link(self, obj: StoredDocument) -> str:
        return format_html('<a href="{}">{}</a>', reverse("document-download", kwargs={"code": obj.code}), _("download"))

    @admin.display(description=_("verification page"))
    def verify_link(self, obj: StoredDocument) -> str:
        return format_html('<a href="{}">{}</a>', reverse("verify", kwargs={"code": obj.code}), _("verify"))


class HistoryAdmin(SimpleHistoryAdmin):
    """History is evidence to read. simple-history's revert (a POST on an old version's page) would save
    the record directly, around the services, their rules and events, and it asks only for the view
    permission; so every admin here reads history and never reverts."""

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
