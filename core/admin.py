from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import TokenProxy
from simple_history.admin import SimpleHistoryAdmin

from core.admin_utils import run_service
from core.choices import ImportStatus, JobStatus
from core.exceptions import DomainError
from core.imports import (
    Importer,
    get_importer,
    import_cancel,
    import_confirm,
    import_preview,
    importers,
    visible_batches,
)
from core.jobs import job_resume, job_start, kind_label, visible_jobs
from core.models import Anonymisation, ImportBatch, Job, JobEvent, JobItem, StoredDocument
from core.selectors import visible_documents
from core.tokens import token_ending, token_revoke


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

    def get_queryset(self, request):
        # A role sees the documents about records it may see, as on the API and the download page.
        return visible_documents(request.user, super().get_queryset(request))

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


# --- imports of spreadsheets ----------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    """The file to preview and the table it goes into; only the tables the user may import are offered."""

    table = forms.ChoiceField(label=_("table"))
    file = forms.FileField(label=_("file"), help_text=_(
        "CSV (UTF-8 or Windows-1250, separated by ; , tab or |) or XLSX; the first non-empty row is the header."))
    only_new = forms.BooleanField(label=_("new records only"), required=False, help_text=_(
        "A row whose key is already registered is invalid, instead of updating that record: for a delivery list, "
        "whose inventory numbers must all be new."))
    skip_invalid = forms.BooleanField(label=_("skip invalid rows"), required=False, help_text=_(
        "Apply the valid rows and report the invalid ones; otherwise any invalid row stops the import."))

    def __init__(self, *args, tables: list[Importer], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["table"].choices = [(importer.key, importer.label) for importer in tables]


class ImportConfirmForm(forms.Form):
    """The confirmation names the file it confirms by the SHA-256 the preview showed."""

    sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    background = forms.BooleanField(widget=forms.HiddenInput, required=False)


class ImportCancelForm(forms.Form):
    pass


def _importer_or_none(table: str) -> Importer | None:
    try:
        return get_importer(table)
    except DomainError:
        return None  # a table no app imports any more: its record is still shown


def _refusal(form: forms.Form, exc: DomainError | ValidationError) -> str:
    """Put a service's refusal beside the field it names (or on top of the form); return its text."""
    if isinstance(exc, DomainError):
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return exc.message
    form.add_error(None, exc.messages)
    return "; ".join(exc.messages)


def _counts(batch: ImportBatch) -> dict[str, int]:
    return {"total": batch.rows_total, "created": batch.rows_created, "updated": batch.rows_updated,
            "unchanged": batch.rows_unchanged, "invalid": batch.rows_invalid}


class ImportTableFilter(admin.SimpleListFilter):
    title = _("table")
    parameter_name = "table"

    def lookups(self, request, model_admin):
        return [(importer.key, importer.label) for importer in importers()]

    def queryset(self, request, queryset):
        return queryset.filter(table=self.value()) if self.value() else queryset


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Imports of spreadsheets: the record of each file and its dry run, read-only. A file is previewed from
    "Import a spreadsheet"; the preview's page applies it (with the SHA-256 it showed) or cancels it."""

    list_display = ["number", "file_name", "table_label", "status", "rows_total", "rows_created", "rows_updated",
                    "rows_unchanged", "rows_invalid", "created_by", "created_at", "decided_by", "decided_at"]
    list_display_links = ["number", "file_name"]
    list_filter = ["status", ImportTableFilter, "only_new", "skip_invalid", "created_at"]
    search_fields = ["file_name", "sha256"]
    list_select_related = ["created_by", "decided_by"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["table_label", "file_name", "size", "sha256", "file_format", "status", "only_new",
                           "skip_invalid"]}),
        (_("Who and when"), {"fields": ["created_at", "created_by", "decided_at", "decided_by"]}),
        (_("What the dry run found"), {"fields": ["rows_total", "rows_created", "rows_updated", "rows_unchanged",
                                                  "rows_invalid"]}),
    ]
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]
    change_list_template = "admin/core/importbatch/change_list.html"
    change_form_template = "admin/core/importbatch/change_form.html"

    def get_queryset(self, request):
        return visible_batches(request.user, super().get_queryset(request))

    @admin.display(description=_("import"), ordering="pk")
    def number(self, obj: ImportBatch) -> str:
        return f"#{obj.pk}"

    @admin.display(description=_("table"), ordering="table")
    def table_label(self, obj: ImportBatch) -> str:
        importer = _importer_or_none(obj.table)
        return str(importer.label) if importer is not None else obj.table

    @admin.display(description=_("file format"))
    def file_format(self, obj: ImportBatch) -> str:
        found = (obj.preview or {}).get("format") or {}
        if found.get("kind") == "csv":
            encoding = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1250": "Windows-1250"}.get(found.get("encoding"))
            delimiter = {"\t": "tab"}.get(found.get("delimiter"), found.get("delimiter"))
            return f"CSV ({encoding or found.get('encoding')}, {delimiter})"
        return (found.get("kind") or "—").upper()

    def may_import(self, request, batch: ImportBatch | None = None) -> list[Importer]:
        """The importers the user may use (for `batch`: its own, if they may)."""
        if batch is not None:
            importer = _importer_or_none(batch.table)
            return [importer] if importer is not None and importer.user_may_import(request.user) else []
        return [importer for importer in importers() if importer.user_may_import(request.user)]

    # --- the record's page: the preview, and the forms to apply or cancel it ---

    @staticmethod
    def preview_context(batch: ImportBatch) -> dict:
        preview = batch.preview or {}
        errors = preview.get("errors", [])
        return {
            "batch": batch,
            "kept": [(header, name) for name, header in preview.get("columns", {}).items()],  # in the file's order
            "ignored": preview.get("ignored_columns", []),
            "unknown": preview.get("unknown_columns", []),
            "created": preview.get("created", []),
            "updated": preview.get("updated", []),
            "errors": errors,
            "errors_total": preview.get("errors_total", len(errors)),
            "previewed": batch.status == ImportStatus.PREVIEWED,
            "blocked": batch.status == ImportStatus.PREVIEWED and batch.rows_invalid and not batch.skip_invalid,
        }

    def page_forms(self, request, batch: ImportBatch) -> list[dict]:
        """The forms of admin/core/includes/page_forms.html: apply and cancel, while the batch is a preview."""
        if batch.status != ImportStatus.PREVIEWED or not self.may_import(request, batch):
            return []
        counts = _counts(batch)
        forms_ = []
        if not (batch.rows_invalid and not batch.skip_invalid):
            note = gettext("Writes exactly what the preview says: to create %(created)s, to update %(updated)s, "
                           "unchanged %(unchanged)s.") % counts
            if batch.rows_invalid:
                note += " " + gettext("The invalid rows (%(invalid)s) are skipped and stay reported here.") % counts
            forms_.append({"id": "core-import-confirm", "title": gettext("Apply the import"), "note": note,
                           "url": self.move_url(batch, "confirm"), "button": gettext("Confirm and apply"),
                           "form": ImportConfirmForm(initial={"sha256": batch.sha256}, prefix="confirm")})
            forms_.append({"id": "core-import-confirm-background", "title": gettext("Apply it in the background"),
                           "note": gettext("For a large file: a background job applies it, exactly as above, and its "
                                           "page shows how far it got."),
                           "url": self.move_url(batch, "confirm"), "button": gettext("Apply in the background"),
                           "form": ImportConfirmForm(initial={"sha256": batch.sha256, "background": True},
                                                     prefix="confirm")})
        forms_.append({"id": "core-import-cancel", "title": gettext("Cancel the import"),
                       "note": gettext("Nothing is written; the record of the preview stays."),
                       "url": self.move_url(batch, "cancel"), "button": gettext("Cancel the import"),
                       "form": ImportCancelForm(prefix="cancel")})
        return forms_

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        batch = self.get_object(request, unquote(object_id))
        if batch is not None and self.has_view_permission(request, batch):
            extra_context["import_preview"] = self.preview_context(batch)
            extra_context["page_forms"] = self.page_forms(request, batch)
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["may_import"] = bool(self.may_import(request))
        return super().changelist_view(request, extra_context)

    # --- the views: upload (the dry run), confirm, cancel ---

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name=f"{name}_upload"),
            path("<int:pk>/confirm/", self.admin_site.admin_view(self.confirm_view), name=f"{name}_confirm"),
            path("<int:pk>/cancel/", self.admin_site.admin_view(self.cancel_view), name=f"{name}_cancel"),
            *super().get_urls(),
        ]

    def move_url(self, batch: ImportBatch, move: str) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{move}", args=[batch.pk])

    def back_to_page(self, batch: ImportBatch) -> HttpResponseRedirect:
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[batch.pk]))

    def upload_view(self, request):
        """Preview a spreadsheet: the dry run writes nothing; its page shows what the import would do."""
        tables = self.may_import(request)
        if not tables or not self.has_view_permission(request):
            raise PermissionDenied
        posted = request.method == "POST"
        form = ImportUploadForm(request.POST if posted else None, request.FILES if posted else None, tables=tables)
        if posted and form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            try:
                batch = import_preview(table=data["table"], file=upload, file_name=upload.name, by=request.user,
                                       skip_invalid=data["skip_invalid"], only_new=data["only_new"],
                                       size=upload.size)
            except (DomainError, ValidationError) as exc:
                messages.error(request, _refusal(form, exc))
            else:
                counts = _counts(batch)
                if batch.rows_invalid:
                    messages.warning(request, gettext(
                        "Dry run of %(file)s: %(invalid)s invalid rows of %(total)s; to create %(created)s, to update "
                        "%(updated)s, unchanged %(unchanged)s. Nothing is written until you confirm.")
                        % {"file": batch.file_name, **counts})
                else:
                    messages.success(request, gettext(
                        "Dry run of %(file)s: to create %(created)s, to update %(updated)s, unchanged %(unchanged)s. "
                        "Nothing is written until you confirm.") % {"file": batch.file_name, **counts})
                return self.back_to_page(batch)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import a spreadsheet"),
            "form": form,
            "tables": [{"label": importer.label, "columns": importer.template_header()} for importer in tables],
            "media": self.media + form.media,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/core/importbatch/upload.html", context)

    def _posted(self, request, pk: int) -> tuple[ImportBatch, bool]:
        """The batch of a move's URL; the move needs a POST and the right to import into the batch's table."""
        batch = get_object_or_404(ImportBatch, pk=pk)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        if request.method != "POST":
            return batch, False
        if not self.may_import(request, batch):
            raise PermissionDenied
        return batch, True

    def confirm_view(self, request, pk: int):
        batch, posted = self._posted(request, pk)
        if not posted:
            return self.back_to_page(batch)
        form = ImportConfirmForm(request.POST, prefix="confirm")
        if not form.is_valid():
            messages.error(request, gettext("Confirm the import from its page, with the SHA-256 of the previewed "
                                            "file."))
            return self.back_to_page(batch)
        if form.cleaned_data["background"]:
            job = run_service(request, job_start, kind="core.import_confirm", by=request.user,
                              params={"batch": batch.pk, "sha256": form.cleaned_data["sha256"]})
            if job is None:
                return self.back_to_page(batch)
            messages.success(request, gettext("Job #%(id)s applies import #%(import)s in the background; this page "
                                              "shows how far it got.") % {"id": job.pk, "import": batch.pk})
            return HttpResponseRedirect(reverse("admin:core_job_change", args=[job.pk]))
        applied = run_service(request, import_confirm, batch=batch, by=request.user, sha256=form.cleaned_data["sha256"])
        if applied is not None:
            counts = _counts(applied)
            message = gettext("Import #%(id)s applied: created %(created)s, updated %(updated)s, unchanged "
                              "%(unchanged)s.") % {"id": applied.pk, **counts}
            if applied.rows_invalid:
                message += " " + gettext("Invalid rows skipped: %(invalid)s.") % counts
            messages.success(request, message)
        return self.back_to_page(batch)

    def cancel_view(self, request, pk: int):
        batch, posted = self._posted(request, pk)
        if posted:
            run_service(request, import_cancel, batch=batch, by=request.user,
                        success=gettext("Import #%(id)s cancelled; nothing was written.") % {"id": batch.pk})
        return self.back_to_page(batch)


class JobEventInline(admin.TabularInline):
    model = JobEvent
    fields = ["occurred_at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("steps")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class JobItemInline(JobEventInline):
    model = JobItem
    fields = ["recorded_at", "label", "outcome", "reason", "attempt"]
    readonly_fields = fields
    verbose_name_plural = _("units of work")

    def get_queryset(self, request):
        return admin.TabularInline.get_queryset(self, request)


@admin.register(Job)
class JobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Background jobs (core.jobs), read-only: a person sees those they started, the IT office everyone's.
    The page of a running job reloads itself to show its progress; "resume" queues again a failed job or one
    whose worker stopped answering (it goes on from the last unit recorded)."""

    list_display = ["number", "kind_name", "status", "progress", "created_by", "created_at", "started_at",
                    "finished_at"]
    list_display_links = ["number", "kind_name"]
    list_filter = ["status", "kind", "created_at"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"
    fields = ["kind_name", "params", "status", "progress", "result", "error", "created_by", "created_at",
              "started_at", "finished_at", "heartbeat_at", "attempts", "task_id"]
    readonly_fields = fields
    inlines = [JobEventInline, JobItemInline]
    actions = ["resume_jobs"]
    change_form_template = "admin/core/job/change_form.html"

    def get_queryset(self, request):
        return visible_jobs(request.user, super().get_queryset(request))

    @admin.display(description=_("job"), ordering="pk")
    def number(self, obj: Job) -> str:
        return f"#{obj.pk}"

    @admin.display(description=_("kind"), ordering="kind")
    def kind_name(self, obj: Job) -> str:
        return kind_label(obj.kind)

    @admin.display(description=_("progress"))
    def progress(self, obj: Job) -> str:
        if obj.total is None:
            return "—"
        return f"{obj.done + obj.skipped} / {obj.total} ({obj.percent}%)"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        job = self.get_object(request, unquote(object_id))
        extra_context["job_in_progress"] = job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def has_resume_permission(self, request) -> bool:
        return request.user.has_perm("core.resume_job")

    @admin.action(description=_("Resume the selected jobs (failed, or silent workers)"), permissions=["resume"])
    def resume_jobs(self, request, queryset):
        resumed = 0
        for job in queryset:
            if run_service(request, job_resume, job=job, by=request.user) is not None:
                resumed += 1
        if resumed:
            messages.success(request, ngettext("%(count)d job queued again.", "%(count)d jobs queued again.", resumed)
                             % {"count": resumed})


# DRF's own token admin lists every key whole; this one shows whose token it is, how it ends and when it
# was issued, and revokes selected tokens. A token is never named by its key here: rows, checkboxes and
# their labels use the user (a key in a page would be a key handed out). Issuing is each person's own
# act (/my/token/ or POST /api/auth/token/), so the admin adds none and opens no token.
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(admin.ModelAdmin):
    list_display = ("user", "ending", "created")
    list_display_links = None
    list_select_related = ("user",)
    search_fields = ("user__username", "user__last_name")
    ordering = ("-created",)
    actions = ["revoke"]

    @admin.display(description=_("token ending"))
    def ending(self, token) -> str:
        return token_ending(token)

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, token):
        label = format_html(gettext("Select the API token of {}"), token.user)
        checkbox = forms.CheckboxInput({"class": "action-select", "aria-label": label}, lambda value: False)
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, str(token.user_id))

    def response_action(self, request, queryset):
        # The checkboxes carry user ids; the action runs on those users' tokens.
        users = [value for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if value.isdigit()]
        request.POST = request.POST.copy()
        request.POST.setlist(helpers.ACTION_CHECKBOX_NAME,
                             list(queryset.filter(user_id__in=users).values_list("key", flat=True)))
        return super().response_action(request, queryset)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_view_permission(request)  # the list only: no page per token

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "revoke" says what deleting a token means
        return actions

    @admin.action(description=_("Revoke the selected API tokens"), permissions=["delete"])
    def revoke(self, request, queryset):
        revoked = 0
        tokens = list(queryset.select_related("user"))
        # Who revoked whose token: the admin's log entry names the acting user (the token row is gone).
        self.log_deletions(request, tokens)
        for token in tokens:
            revoked += token_revoke(token.user)
        self.message_user(request, ngettext("%(count)d API token revoked.", "%(count)d API tokens revoked.",
                                           revoked) % {"count": revoked}, messages.SUCCESS)


@admin.register(Anonymisation)
class AnonymisationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Whose personal data was erased, by whom, when (core.privacy); written only by the anonymisation."""

    list_display = ["label", "anonymised_at", "anonymised_by", "retention_ended_on"]
    list_filter = ["subject_type"]
    search_fields = ["label"]
    list_select_related = ["anonymised_by", "subject_type"]
    fields = ["label", "subject_type", "subject_id", "anonymised_at", "anonymised_by", "retention_ended_on", "summary"]


# django-axes' failed sign-ins, re-registered with a clean-up that works from the admin and is logged.
from core import admin_axes  # noqa: E402,F401
