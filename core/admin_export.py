"""Export from the admin: the register's tables as CSV, XLSX or JSON, never an import.

Imports go through the services (dry run first, history and device events), so the admins get
django-import-export's export half only: an "Export" button on the change list (the filtered list) and an
"Export selected …" action. Who may see a table may export it (IMPORT_EXPORT_EXPORT_PERMISSION_CODE =
"view"), so the auditor exports; a user without the view permission gets neither the button nor the page.
A read-only user exports with the button (the list as filtered); the action is offered only to those who
may change the records, so a read-only change list keeps no action and no checkboxes, as before.
"""
from __future__ import annotations

import codecs

from import_export.admin import ExportActionMixin
from import_export.formats.base_formats import CSV, JSON, XLSX
from import_export.forms import ExportForm

__all__ = ["RegisterExportMixin"]


class RegisterExportMixin(ExportActionMixin):
    """Put before the admin's base class, after any mixin that sets the change form's template."""

    export_formats = [CSV, XLSX, JSON]
    # Every column, always: the file is the one the import reads back, not a report to trim.
    export_form_class = ExportForm
    # The record pages stay as they are (the donations admins have their own change form).
    change_form_template = None
    show_change_form_export = False

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        if isinstance(file_format, CSV):
            # Polish Excel opens a CSV without a BOM as Windows-1250 and garbles ą, ę, ł; core.tabular
            # reads UTF-8 with or without it.
            data = codecs.BOM_UTF8 + data if isinstance(data, bytes) else "\ufeff" + data
        return data

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            actions.pop("export_admin_action", None)
        return actions

    def get_valid_export_item_pks(self, request):
        # The selected records the user may see; the library's default is deprecated and reads the whole table.
        return self.get_queryset(request).values_list("pk", flat=True)
