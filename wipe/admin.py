"""Admin of the wipe app: the IT office's tool for proving that no data leaves the office with a device.

Every write calls wipe.services, as the API does; a refusal is an error message (and, on a form, the
reason beside its field), never a 500. Validated, rejected and superseded sanitization records are
evidence: their pages are read-only and nothing here deletes a record. Custody entries and wipe events
are only ever shown. History is shown but never reverted: a revert would write around the services.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assets.choices import DeviceStatus
from assets.models import Device, StorageMedium
from core.admin import HistoryAdmin, ReadOnlyAdminMixin
from core.exceptions import DomainError
from wipe import selectors, services
from wipe.choices import RemovalStatus, SanitizationStatus, SessionOutcome, SessionStatus
from wipe.forms import (
    FACT_FIELDS,
    CustodyForm,
    DestructionForm,
    DiskRemovalForm,
    EvidenceImportForm,
    NoMediaForm,
    RejectForm,
    SanitizationForm,
    SessionCloseForm,
    SessionResultForm,
    SessionRetryForm,
    ValidateForm,
    WipeSessionForm,
    add_refusal,
    device_label,
    media_inside_the_register,
    refusal_text,
)
from wipe.models import (
    CustodyEntry,
    DeviceToSanitize,
    DiskRemoval,
    NoMediaConfirmation,
    Sanitization,
    WipeEvent,
    WipeEvidence,
    WipeSession,
    WipeSessionDevice,
)

VALIDATE_PERMISSION = "wipe.validate_sanitization"


# --- shared pieces ---------------------------------------------------------------------------------

@dataclass
class PageForm:
    """A form shown below a record's page, posting to one of the admin's own URLs."""

    id: str
    title: str
    form: forms.Form
    url: str
    button: str
    note: str = ""


def _run(request, label: str, func: Callable, /, **kwargs):
    """Call a service for one record; a refusal becomes an error message naming the record."""
    try:
        return func(**kwargs)
    except (DomainError, ValidationError) as exc:
        messages.error(request, gettext("%(record)s: %(reason)s") % {"record": label, "reason": refusal_text(exc)})
        return None


def _link(url: str, text) -> str:
    return format_html('<a href="{}">{}</a>', url, text)


def _change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _documents(documents: Iterable) -> str:
    """Links to download issued PDFs, one a line."""
    rows = [(reverse("document-download", kwargs={"code": d.code}), d.title, d.code,
             timezone.localtime(d.issued_at).strftime("%d.%m.%Y %H:%M")) for d in documents]
    if not rows:
        return "—"
    return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> ({}, {})', rows)


class ServiceFormAdminMixin:
    """The add (or edit) form hands its data to a service in `save_model`. When the service refuses, the
    admin's transaction has rolled back; the form is shown again with what was typed, the reason as a
    message and beside the field it names."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_wipe_refusal", None)
        if refusal is not None:
            form_class = type(form_class.__name__, (form_class,), {"refusal": refusal})
        return form_class

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (DomainError, ValidationError) as exc:
            if request.method != "POST" or getattr(request, "_wipe_refusal", None) is not None:
                raise
            messages.error(request, refusal_text(exc))
            request._wipe_refusal = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing to save: a record's parts (events, custody, the cart) are written by its services. The
        lists are what the admin's change message reads."""
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "medium":
            kwargs["queryset"] = media_inside_the_register()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "medium" and formfield is not None and hasattr(formfield.widget, "can_add_related"):
            # A medium is registered on its device's page, not in the middle of recording a wipe.
            formfield.widget.can_add_related = formfield.widget.can_change_related = False
            formfield.widget.can_delete_related = False
        return formfield


class PageFormsMixin:
    """A read-only (or editable) record page with the forms of its moves below it.

    Each move posts to its own URL; a refusal or a form error shows the page again with the form as it
    was filled in, the reason beside the field and as a message; a success redirects back to the page.
    """

    change_form_template = "admin/wipe/change_form.html"

    def page_forms(self, request, obj, bound: dict) -> list[PageForm]:
        return []

    def page_links(self, request, obj) -> list[tuple[str, str]]:
        return []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        bound = extra_context.pop("bound", {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_or_change_permission(request, obj):
            extra_context["page_forms"] = self.page_forms(request, obj, bound)
            extra_context["page_links"] = self.page_links(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, *args, **kwargs):
        for page_form in context.get("page_forms", ()):
            context["media"] = context["media"] + page_form.form.media
        return super().render_change_form(request, context, *args, **kwargs)

    def show_page(self, request, obj, **extra_context):
        """The record's page (answering a POST to one of its moves), with `extra_context`."""
        as_get = copy.copy(request)
        as_get.method = "GET"
        return self.change_view(as_get, str(obj.pk), extra_context=extra_context)

    def back_to_page(self, obj) -> HttpResponseRedirect:
        return HttpResponseRedirect(_change_url(obj))

    def move_url(self, obj, move: str) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{move}", args=[obj.pk])

    def move_urls(self, moves: dict[str, Callable]) -> list:
        opts = self.model._meta
        return [path(f"<int:pk>/{move.replace('_', '-')}/", self.admin_site.admin_view(view),
                     name=f"{opts.app_label}_{opts.model_name}_{move}")
                for move, view in moves.items()]


def _action_page(modeladmin, request, *, name: str, title, objects: list, form: forms.Form | None = None,
                 describe: Callable[[object], str] = str) -> TemplateResponse:
    """The intermediate page of an action: the selected records, the action's form, and the selection
    carried back to the same action when it is submitted."""
    media = modeladmin.media + (form.media if form is not None else forms.Media())
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "rows": [(obj, describe(obj)) for obj in objects],
        "form": form,
        "media": media,
        "action_name": name,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/core/action_form.html", context)


def _form_action(*, name: str, label, form_class: type[forms.Form], call: Callable, done: Callable[[int], str],
                 permission: str, describe: Callable[[object], str] = str):
    """An action that asks for `form_class` once, then runs `call(obj=..., request=..., **cleaned_data)` for
    each selected record, each service call its own transaction: a refused record is a message naming it."""

    def action(modeladmin, request, queryset: QuerySet):
        objects = list(queryset.order_by("pk"))
        applying = "apply" in request.POST
        form = form_class(request.POST if applying else None)
        if applying and form.is_valid():
            count = sum(_run(request, describe(obj), call, obj=obj, request=request, **form.cleaned_data) is not None
                        for obj in objects)
            if count:
                messages.success(request, done(count))
            return None
        return _action_page(modeladmin, request, name=name, title=label, objects=objects, form=form,
                            describe=describe)

    action.__name__ = name
    return admin.action(description=label, permissions=[permission])(action)


class WipeEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WipeEvent
    fields = ["occurred_at", "kind", "from_status", "to_status", "reason", "actor", "document_link"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]
    extra = 0
    verbose_name_plural = _("events")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "document")

    @admin.display(description=_("document"))
    def document_link(self, obj: WipeEvent) -> str:
        return _documents([obj.document]) if obj.document_id else "—"


# --- sanitization records --------------------------------------------------------------------------

SANITIZATION_FIELDSETS = [
    (_("Media"), ["data_classification", "data_backed_up", "backup_location"]),
    (_("Sanitization"), ["method_class", "technique", "overwrite_passes", "pattern", "encryption_enabled",
                         "method_details", "tool", "tool_version", "started_at", "finished_at", "verification",
                         "verification_result", "post_classification", "notes"]),
    (_("Destination of the medium"), ["destination", "destination_details"]),
    (_("Person performing the sanitization"), ["organization", "location", "performer_title", "performer_phone"]),
]
RECORD_FIELDS = ["status", "fit_to_leave", "performed_by", "validated_by", "validator_title", "validator_phone",
                 "validated_at", "corrects", "corrected_by", "correction_reason", "session", "evidence",
                 "evidence_drive", "created_at", "updated_at"]


def _describe_sanitization(record: Sanitization) -> str:
    return gettext("%(record)s, performed by %(person)s, %(status)s") % {
        "record": record, "person": record.performed_by.get_full_name() or record.performed_by.get_username(),
        "status": record.get_status_display()}


def _validate(*, obj: Sanitization, request, validator_title: str, validator_phone: str) -> Sanitization:
    return services.sanitization_validate(sanitization=obj, by=request.user, validator_title=validator_title,
                                          validator_phone=validator_phone)


def _reject(*, obj: Sanitization, request, reason: str) -> Sanitization:
    return services.sanitization_reject(sanitization=obj, by=request.user, reason=reason)


@admin.register(Sanitization)
class SanitizationAdmin(ServiceFormAdminMixin, PageFormsMixin, HistoryAdmin):
    """Wipes of storage media. Recorded by the technician, validated (or rejected) by a second person;
    a validated record is corrected only by a new record that supersedes it."""

    form = SanitizationForm
    list_display = ["device__inventory_number", "medium", "method_class", "technique", "verification_result",
                    "status", "fit_to_leave", "finished_at", "performed_by", "validated_by"]
    list_display_links = ["device__inventory_number", "medium"]
    list_filter = ["status", "method_class", "technique", "destination", "fit_to_leave", "verification_result"]
    search_fields = ["device__inventory_number", "medium__serial_number"]
    list_select_related = ["device", "medium", "performed_by", "validated_by"]
    date_hierarchy = "finished_at"
    inlines = [WipeEventInline]
    actions = [
        _form_action(name="validate", label=_("Validate (as the second person)"), form_class=ValidateForm,
                     call=_validate, permission="validate", describe=_describe_sanitization,
                     done=lambda n: ngettext("%(count)d wipe validated.", "%(count)d wipes validated.", n)
                     % {"count": n}),
        _form_action(name="reject", label=_("Reject"), form_class=RejectForm, call=_reject, permission="validate",
                     describe=_describe_sanitization,
                     done=lambda n: ngettext("%(count)d wipe rejected.", "%(count)d wipes rejected.", n)
                     % {"count": n}),
    ]

    # --- permissions: a record is edited only while it awaits validation, and never deleted ---

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != SanitizationStatus.RECORDED:
            return False  # evidence: Django shows the page read-only and refuses a POST
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_validate_permission(self, request) -> bool:
        return request.user.has_perm(VALIDATE_PERMISSION)

    # --- the page ---

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "medium" and formfield is not None:
            # Also a medium inside a device that left the office: the proof of its wipe that the recipient or
            # the collector sends back is recorded late (wipe.services refuses a lost device).
            formfield.queryset = (StorageMedium.objects.inside().exclude(device__status=DeviceStatus.LOST)
                                  .select_related("device").order_by("device__inventory_number", "id"))
        return formfield

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            first = [(None, {"fields": ["medium"]})]
        else:
            first = [(None, {"fields": ["device", "medium"]})]
        facts = [(name, {"fields": fields}) for name, fields in SANITIZATION_FIELDSETS]
        if obj is None:
            return first + facts
        return first + facts + [(_("The record"), {"fields": RECORD_FIELDS})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["device", "medium", *RECORD_FIELDS]

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description=_("corrects record"))
    def corrects(self, obj: Sanitization) -> str:
        if not obj.supersedes_id:
            return "—"
        old = obj.supersedes
        return _link(_change_url(old), gettext("record %(id)s (%(status)s)")
                     % {"id": old.pk, "status": old.get_status_display()})

    @admin.display(description=_("superseded by"))
    def corrected_by(self, obj: Sanitization) -> str:
        new = Sanitization.objects.filter(supersedes=obj).first()
        if new is None:
            return "—"
        return _link(_change_url(new), gettext("record %(id)s (%(status)s)")
                     % {"id": new.pk, "status": new.get_status_display()})

    # --- writes ---

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if change:
            facts = {name: data[name] for name in form.changed_data if name in FACT_FIELDS}
            saved = services.sanitization_update(sanitization=obj, by=request.user, **facts)
        else:
            facts = {name: data[name] for name in FACT_FIELDS if name in data}
            saved = services.sanitization_record(by=request.user, medium=data["medium"], **facts)
        obj.pk = saved.pk
        obj.refresh_from_db()


    # --- moves from the page: validate, reject, correct ---

    def get_urls(self):
        return [*self.move_urls({"validate": self.validate_view, "reject": self.reject_view,
                                 "correct": self.correct_view}), *super().get_urls()]

    def page_forms(self, request, obj: Sanitization, bound: dict) -> list[PageForm]:
        if obj.status != SanitizationStatus.RECORDED or not self.has_validate_permission(request):
            return []
        return [
            PageForm("wipe-validate", _("Validate the wipe"), bound.get("validate") or ValidateForm(prefix="validate"),
                     self.move_url(obj, "validate"), _("Validate"),
                     _("You confirm, as the second person, that the wipe was done and verified as recorded.")),
            PageForm("wipe-reject", _("Reject the wipe"), bound.get("reject") or RejectForm(prefix="reject"),
                     self.move_url(obj, "reject"), _("Reject")),
        ]

    def page_links(self, request, obj: Sanitization) -> list[tuple[str, str]]:
        if (obj.status == SanitizationStatus.VALIDATED and request.user.has_perm("wipe.add_sanitization")
                and not Sanitization.objects.filter(supersedes=obj).exists()):
            return [(self.move_url(obj, "correct"), _("Record a correction"))]
        return []

    def _record(self, request, pk: int) -> Sanitization:
        record = get_object_or_404(Sanitization.objects.select_related("device", "medium", "performed_by"), pk=pk)
        if not self.has_view_or_change_permission(request, record):
            raise PermissionDenied
        return record

    def validate_view(self, request, pk: int):
        record = self._record(request, pk)
        if request.method != "POST":
            return self.back_to_page(record)
        if not self.has_validate_permission(request):
            raise PermissionDenied
        form = ValidateForm(request.POST, prefix="validate")
        if not form.is_valid():
            return self.show_page(request, record, bound={"validate": form})
        if _run(request, str(record), _validate, obj=record, request=request, **form.cleaned_data) is not None:
            messages.success(request, gettext("The wipe of %(record)s is validated.") % {"record": record})
        return self.back_to_page(record)

    def reject_view(self, request, pk: int):
        record = self._record(request, pk)
        if request.method != "POST":
            return self.back_to_page(record)
        if not self.has_validate_permission(request):
            raise PermissionDenied
        form = RejectForm(request.POST, prefix="reject")
        if form.is_valid():
            try:
                _reject(obj=record, request=request, **form.cleaned_data)
            except (DomainError, ValidationError) as exc:
                messages.error(request, add_refusal(form, exc))
            else:
                messages.success(request, gettext("The wipe of %(record)s is rejected.") % {"record": record})
                return self.back_to_page(record)
        return self.show_page(request, record, bound={"reject": form})

    def correct_view(self, request, pk: int):
        """A correction of a validated record: its facts prefilled, what is corrected and why."""
        old = self._record(request, pk)
        if not request.user.has_perm("wipe.add_sanitization"):
            raise PermissionDenied
        form_class = super().get_form(request, None, fields=[*FACT_FIELDS, "correction_reason"])
        initial = {name: getattr(old, name) for name in FACT_FIELDS}
        if request.method == "POST":
            form = form_class(request.POST, initial=initial)
            if form.is_valid():
                changed = {name: form.cleaned_data[name] for name in form.changed_data if name in FACT_FIELDS}
                try:
                    new = services.sanitization_correct(sanitization=old, by=request.user,
                                                        correction_reason=form.cleaned_data["correction_reason"],
                                                        **changed)
                except (DomainError, ValidationError) as exc:
                    messages.error(request, add_refusal(form, exc))
                else:
                    messages.success(request, gettext(
                        "The correction is recorded as record %(id)s. It supersedes record %(old)s once a second "
                        "person validates it.") % {"id": new.pk, "old": old.pk})
                    return self.back_to_page(new)
        else:
            form = form_class(initial=initial)
        fieldsets = [(name, {"fields": fields}) for name, fields in SANITIZATION_FIELDSETS]
        fieldsets.append((_("The correction"), {"fields": ["correction_reason"]}))
        adminform = helpers.AdminForm(form, fieldsets, {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Correct record %(id)s") % {"id": old.pk},
            "subtitle": str(old),
            "original": old,
            "adminform": adminform,
            "errors": helpers.AdminErrorList(form, []),
            "media": self.media + adminform.media,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/wipe/sanitization/correct.html", context)


# --- disk removal and custody ----------------------------------------------------------------------

class CustodyEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CustodyEntry
    fields = ["at", "kept_at", "handed_to", "recorded_by", "notes"]
    readonly_fields = fields
    extra = 0


@admin.register(DiskRemoval)
class DiskRemovalAdmin(ServiceFormAdminMixin, PageFormsMixin, HistoryAdmin):
    """Media taken out of their device, held under a custody log until destroyed with a certificate."""

    form = DiskRemovalForm
    list_display = ["medium", "device", "status", "kept_at", "held_by", "removed_at", "destroyed_on"]
    list_filter = ["status", "destruction_method", "removed_at", "destroyed_on"]
    search_fields = ["device__inventory_number", "medium__serial_number", "kept_at", "held_by", "certificate_number"]
    list_select_related = ["device", "medium"]
    date_hierarchy = "removed_at"
    inlines = [CustodyEntryInline, WipeEventInline]
    add_fields = ["medium", "kept_at", "held_by", "removed_at", "notes"]
    view_fields = ["medium", "device", "removed_at", "removed_by", "status", "kept_at", "held_by", "notes",
                   "destroyed_on", "destruction_method", "destruction_company", "certificate_number",
                   "certificate_link", "destruction_recorded_by", "issued_documents"]

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": self.add_fields if obj is None else self.view_fields})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.view_fields

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the facts never change; custody and destruction are recorded by the forms below

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("scan of the destruction certificate"))
    def certificate_link(self, obj: DiskRemoval) -> str:
        if not obj.certificate_scan:
            return "—"
        return _link(reverse("protected-media", kwargs={"path": obj.certificate_scan.name}), _("open the scan"))

    @admin.display(description=_("issued documents"))
    def issued_documents(self, obj: DiskRemoval) -> str:
        return _documents(obj.documents.order_by("issued_at", "id"))

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        removal = services.disk_remove(medium=data["medium"], by=request.user, kept_at=data["kept_at"],
                                       held_by=data["held_by"], removed_at=data.get("removed_at"),
                                       notes=data.get("notes", ""))
        obj.pk = removal.pk
        obj.refresh_from_db()

    # --- custody and destruction ---

    def get_urls(self):
        return [*self.move_urls({"custody": self.custody_view, "destroy": self.destroy_view}), *super().get_urls()]

    def _may_move(self, request) -> bool:
        return request.user.has_perm("wipe.change_diskremoval")

    def page_forms(self, request, obj: DiskRemoval, bound: dict) -> list[PageForm]:
        if obj.status != RemovalStatus.HELD or not self._may_move(request):
            return []
        return [
            PageForm("wipe-custody", _("Record a custody change"),
                     bound.get("custody") or CustodyForm(prefix="custody"), self.move_url(obj, "custody"),
                     _("Record the custody change")),
            PageForm("wipe-destroy", _("Record destruction"), bound.get("destroy") or DestructionForm(prefix="destroy"),
                     self.move_url(obj, "destroy"), _("Record destruction"),
                     _("The medium is gone for good: give the company's certificate.")),
        ]

    def _removal(self, request, pk: int) -> DiskRemoval:
        removal = get_object_or_404(DiskRemoval.objects.select_related("medium", "device"), pk=pk)
        if not self.has_view_or_change_permission(request, removal):
            raise PermissionDenied
        return removal

    def _move(self, request, pk: int, *, key: str, form_class, call: Callable, success: Callable[[DiskRemoval], str]):
        removal = self._removal(request, pk)
        if request.method != "POST":
            return self.back_to_page(removal)
        if not self._may_move(request):
            raise PermissionDenied
        form = form_class(request.POST, request.FILES, prefix=key)
        if form.is_valid():
            try:
                call(removal, form.cleaned_data)
            except (DomainError, ValidationError) as exc:
                messages.error(request, add_refusal(form, exc))
            else:
                messages.success(request, success(removal))
                return self.back_to_page(removal)
        return self.show_page(request, removal, bound={key: form})

    def custody_view(self, request, pk: int):
        return self._move(
            request, pk, key="custody", form_class=CustodyForm,
            call=lambda removal, data: services.custody_record(removal=removal, by=request.user, **data),
            success=lambda removal: gettext("The custody change of %(medium)s is recorded.")
            % {"medium": removal.medium})

    def destroy_view(self, request, pk: int):
        return self._move(
            request, pk, key="destroy", form_class=DestructionForm,
            call=lambda removal, data: services.disk_destroy(removal=removal, by=request.user, **data),
            success=lambda removal: gettext("The destruction of %(medium)s is recorded; the protocol is issued.")
            % {"medium": removal.medium})


# --- wipe sessions ---------------------------------------------------------------------------------

class WipeSessionDeviceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WipeSessionDevice
    fields = ["device", "device_status", "media_inside", "outcome", "failure_reason"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("devices on the cart")

    def get_queryset(self, request):
        inside = StorageMedium.objects.inside().order_by("id")
        return (super().get_queryset(request).select_related("device")
                .prefetch_related(Prefetch("device__media", queryset=inside, to_attr="inside_media")))

    @admin.display(description=_("device status"))
    def device_status(self, obj: WipeSessionDevice) -> str:
        return obj.device.get_status_display()

    @admin.display(description=_("media inside"))
    def media_inside(self, obj: WipeSessionDevice) -> str:
        return ", ".join(f"{m.get_kind_display()} {m.serial_number or '—'}" for m in obj.device.inside_media) or "—"


class SessionSanitizationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Sanitization
    fk_name = "session"
    fields = ["device", "medium", "method_class", "technique", "verification_result", "status", "fit_to_leave",
              "performed_by", "validated_by"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name_plural = _("sanitization records of the session")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device", "medium", "performed_by", "validated_by")


@admin.register(WipeSession)
class WipeSessionAdmin(ServiceFormAdminMixin, PageFormsMixin, HistoryAdmin):
    """A cart of retired devices wiped together, closed by a second person who validates the wipes."""

    form = WipeSessionForm
    list_display = ["reference", "status", "location", "tool", "device_count", "opened_at", "opened_by",
                    "closed_at", "closed_by"]
    list_filter = ["status", "opened_at"]
    search_fields = ["reference", "location", "entries__device__inventory_number"]
    list_select_related = ["opened_by", "closed_by"]
    date_hierarchy = "opened_at"
    inlines = [WipeSessionDeviceInline, SessionSanitizationInline, WipeEventInline]
    add_fields = ["devices_to_wipe", "location", "tool", "tool_version", "notes"]
    view_fields = ["reference", "status", "location", "tool", "tool_version", "opened_at", "opened_by", "closed_at",
                   "closed_by", "retry_of", "second_attempts", "notes", "report_files", "issued_documents"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(device_count=Count("entries"))

    @admin.display(description=_("devices"), ordering="device_count")
    def device_count(self, obj: WipeSession) -> int:
        return obj.device_count

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": self.add_fields if obj is None else self.view_fields})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.view_fields

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if "devices_to_wipe" in initial:  # ?devices_to_wipe=1,2,3 from the devices to sanitize
            initial["devices_to_wipe"] = [pk for pk in str(initial["devices_to_wipe"]).split(",") if pk.isdigit()]
        return initial

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a session moves only through the forms on its page

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("second attempts"))
    def second_attempts(self, obj: WipeSession) -> str:
        retries = list(obj.retries.order_by("opened_at"))
        if not retries:
            return "—"
        return format_html_join(", ", '<a href="{}">{}</a>', [(_change_url(r), r.reference) for r in retries])

    @admin.display(description=_("tool reports"))
    def report_files(self, obj: WipeSession) -> str:
        files = list(obj.evidence.order_by("uploaded_at"))
        if not files:
            return "—"
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a>',
                                [(_change_url(e), e.original_name) for e in files])

    @admin.display(description=_("issued documents"))
    def issued_documents(self, obj: WipeSession) -> str:
        return _documents(obj.documents.order_by("issued_at", "id"))

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        session = services.session_open(by=request.user, devices=list(data["devices_to_wipe"]),
                                        location=data["location"], tool=data.get("tool", ""),
                                        tool_version=data.get("tool_version", ""), notes=data.get("notes", ""))
        obj.pk = session.pk
        obj.refresh_from_db()

    # --- results, reports, closing, second attempt ---

    def get_urls(self):
        return [*self.move_urls({"result": self.result_view, "import": self.import_view, "close": self.close_view,
                                 "retry": self.retry_view}), *super().get_urls()]

    def _may_move(self, request) -> bool:
        return request.user.has_perm("wipe.change_wipesession")

    def page_forms(self, request, obj: WipeSession, bound: dict) -> list[PageForm]:
        page: list[PageForm] = []
        if obj.status == SessionStatus.OPEN:
            if self._may_move(request) and request.user.has_perm("wipe.add_sanitization"):
                page.append(PageForm(
                    "wipe-result", _("Record a result"),
                    bound.get("result") or SessionResultForm(session=obj), self.move_url(obj, "result"),
                    _("Record the result"),
                    _("One medium at a time: a wipe that passed becomes a record awaiting validation; a failure is "
                      "noted on the device for the second attempt.")))
            if self._may_move(request) and request.user.has_perm("wipe.add_wipeevidence"):
                page.append(PageForm(
                    "wipe-import", _("Import a tool report (nwipe/ShredOS)"),
                    bound.get("import") or EvidenceImportForm(prefix="import"), self.move_url(obj, "import"),
                    _("Import the report"),
                    _("Each drive the report proves erased, matched by serial number to a medium of this session's "
                      "devices, becomes a record awaiting validation. The file is kept as it is.")))
            if self._may_move(request) and request.user.has_perm(VALIDATE_PERMISSION):
                page.append(PageForm(
                    "wipe-close", _("Close and validate"),
                    bound.get("close") or SessionCloseForm(prefix="close"), self.move_url(obj, "close"),
                    _("Close and validate"),
                    _("You validate, as the second person, every wipe recorded in this session (not your own). "
                      "The devices whose media all passed become sanitized; the others are listed for a second "
                      "attempt.")))
        elif (self._may_move(request) and not obj.retries.exists()
              and obj.entries.filter(outcome=SessionOutcome.FAILED, device__status=DeviceStatus.RETIRED).exists()):
            page.append(PageForm(
                "wipe-retry", _("Second attempt"), bound.get("retry") or SessionRetryForm(prefix="retry"),
                self.move_url(obj, "retry"), _("Open the second attempt"),
                _("A new session with the devices that failed in this one.")))
        return page

    def _session(self, request, pk: int) -> WipeSession:
        session = get_object_or_404(WipeSession, pk=pk)
        if not self.has_view_or_change_permission(request, session):
            raise PermissionDenied
        return session

    def _posted(self, request, pk: int, *perms: str) -> tuple[WipeSession, bool]:
        session = self._session(request, pk)
        if request.method != "POST":
            return session, False
        if not self._may_move(request) or not all(request.user.has_perm(p) for p in perms):
            raise PermissionDenied
        return session, True

    def result_view(self, request, pk: int):
        session, posted = self._posted(request, pk, "wipe.add_sanitization")
        if not posted:
            return self.back_to_page(session)
        form = SessionResultForm(request.POST, session=session)
        if form.is_valid():
            try:
                record = services.session_record_result(session=session, by=request.user, **form.service_kwargs())
            except (DomainError, ValidationError) as exc:
                messages.error(request, add_refusal(form, exc))
            else:
                medium = form.cleaned_data["medium"]
                if record is None:
                    messages.warning(request, gettext("The failure of %(medium)s is noted for the second attempt.")
                                     % {"medium": medium})
                else:
                    messages.success(request, gettext("The wipe of %(medium)s is recorded; it awaits validation.")
                                     % {"medium": medium})
                return self.back_to_page(session)
        return self.show_page(request, session, bound={"result": form})

    def import_view(self, request, pk: int):
        session, posted = self._posted(request, pk, "wipe.add_wipeevidence")
        if not posted:
            return self.back_to_page(session)
        form = EvidenceImportForm(request.POST, request.FILES, prefix="import")
        if not form.is_valid():
            return self.show_page(request, session, bound={"import": form})
        data = form.cleaned_data
        try:
            evidence, plan = services.evidence_import(by=request.user, file=data["file"],
                                                      destination=data["destination"], session=session,
                                                      verification=data["verification"], dry_run=data["dry_run"])
        except (DomainError, ValidationError) as exc:
            messages.error(request, add_refusal(form, exc))
            report = exc.details.get("report") if isinstance(exc, DomainError) else None
            return self.show_page(request, session, bound={"import": form}, import_report=report)
        report = plan.as_report()
        summary = {"imported": len(report["imported"]), "problems": len(report["problems"])}
        if evidence is None:
            messages.info(request, gettext(
                "Only a check: %(imported)d drives would be recorded, %(problems)d lines are left out. Nothing was "
                "stored; import the file again without the check to record it.") % summary)
            return self.show_page(request, session, import_report=report, import_dry_run=True)
        messages.success(request, gettext(
            "The report %(name)s is kept: %(imported)d drives recorded, awaiting validation; %(problems)d lines "
            "left out.") % {"name": evidence.original_name, **summary})
        for problem in report["problems"]:
            messages.warning(request, gettext("Line %(line)s: %(text)s — %(reason)s") % {
                "line": problem.get("line") or "—", "text": problem.get("text", ""),
                "reason": problem.get("reason", "")})
        return self.back_to_page(session)

    def close_view(self, request, pk: int):
        session, posted = self._posted(request, pk, VALIDATE_PERMISSION)
        if not posted:
            return self.back_to_page(session)
        form = SessionCloseForm(request.POST, prefix="close")
        if not form.is_valid():
            return self.show_page(request, session, bound={"close": form})
        result = _run(request, session.reference, services.session_close, session=session, by=request.user,
                      **form.cleaned_data)
        if result is not None:
            total = len(result.passed) + len(result.failed)
            messages.success(request, ngettext(
                "Session %(session)s closed: %(passed)d of %(total)d device is sanitized.",
                "Session %(session)s closed: %(passed)d of %(total)d devices are sanitized.", total)
                % {"session": session.reference, "passed": len(result.passed), "total": total})
            for device, reason in result.failed:
                messages.warning(request, gettext("%(number)s is to be wiped again: %(reason)s")
                                 % {"number": device.inventory_number, "reason": reason})
        return self.back_to_page(session)

    def retry_view(self, request, pk: int):
        session, posted = self._posted(request, pk)
        if not posted:
            return self.back_to_page(session)
        form = SessionRetryForm(request.POST, prefix="retry")
        if not form.is_valid():
            return self.show_page(request, session, bound={"retry": form})
        retry = _run(request, session.reference, services.session_retry, session=session, by=request.user,
                     location=form.cleaned_data["location"])
        if retry is None:
            return self.back_to_page(session)
        messages.success(request, gettext("The second attempt %(session)s is open.") % {"session": retry.reference})
        return self.back_to_page(retry)


# --- tool reports ----------------------------------------------------------------------------------

@admin.register(WipeEvidence)
class WipeEvidenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Reports of nwipe/ShredOS, kept byte for byte, with what their import made of each line."""

    list_display = ["original_name", "format", "tool_version", "session", "uploaded_at", "uploaded_by",
                    "imported_count", "problem_count"]
    list_filter = ["format", "uploaded_at"]
    search_fields = ["original_name", "sha256", "session__reference"]
    list_select_related = ["session", "uploaded_by"]
    date_hierarchy = "uploaded_at"
    fields = ["original_name", "file_link", "format", "tool_version", "sha256", "size", "session", "uploaded_at",
              "uploaded_by", "records", "import_report"]
    readonly_fields = fields

    @admin.display(description=_("drives recorded"))
    def imported_count(self, obj: WipeEvidence) -> int:
        return len((obj.report or {}).get("imported", []))

    @admin.display(description=_("lines left out"))
    def problem_count(self, obj: WipeEvidence) -> int:
        return len((obj.report or {}).get("problems", []))

    @admin.display(description=_("file"))
    def file_link(self, obj: WipeEvidence) -> str:
        if not obj.file:
            return "—"
        return _link(reverse("protected-media", kwargs={"path": obj.file.name}), _("open the file"))

    @admin.display(description=_("sanitization records"))
    def records(self, obj: WipeEvidence) -> str:
        rows = [(_change_url(r), str(r), r.get_status_display())
                for r in obj.sanitizations.select_related("device", "medium").order_by("id")]
        if not rows:
            return "—"
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> ({})', rows)

    @admin.display(description=_("import report"))
    def import_report(self, obj: WipeEvidence) -> str:
        return render_to_string("admin/wipe/includes/import_report.html", {"report": obj.report or {}})


# --- devices to sanitize ---------------------------------------------------------------------------

def _confirm_no_media(*, obj: Device, request, how_checked: str):
    return services.no_media_confirm(device=obj, by=request.user, how_checked=how_checked)


@admin.register(DeviceToSanitize)
class DeviceToSanitizeAdmin(admin.ModelAdmin):
    """Retired devices and what each still needs before it may become sanitized (and then leave)."""

    list_display = ["inventory_number", "kind", "make_and_model", "media_inside", "what_is_missing"]
    list_filter = ["kind"]
    search_fields = ["inventory_number", "serial_number", "media__serial_number"]
    fields = ["inventory_number", "kind", "manufacturer", "model", "serial_number", "status", "location",
              "media_inside", "what_is_missing"]
    readonly_fields = fields
    actions = [
        "sanitize",
        _form_action(name="confirm_no_media", label=_("Confirm no storage media"), form_class=NoMediaForm,
                     call=_confirm_no_media, permission="confirm", describe=device_label,
                     done=lambda n: ngettext("No storage media confirmed for %(count)d device.",
                                             "No storage media confirmed for %(count)d devices.", n)
                     % {"count": n}),
        "open_session",
    ]

    def get_queryset(self, request):
        return selectors.devices_to_sanitize()

    @admin.display(description=_("manufacturer and model"))
    def make_and_model(self, obj: Device) -> str:
        return f"{obj.manufacturer} {obj.model}".strip()

    @admin.display(description=_("media inside"))
    def media_inside(self, obj: Device) -> str:
        return ", ".join(f"{m.get_kind_display()} {m.serial_number or '—'}" for m in self._inside(obj)) or "—"

    @staticmethod
    def _inside(obj: Device) -> list[StorageMedium]:
        return [m for m in obj.media.all() if m.removed_at is None]  # prefetched by the selector

    def get_list_display(self, request):
        """On the list, each medium inside links to recording its wipe or its removal, for whoever may."""
        may_wipe = request.user.has_perm("wipe.add_sanitization")
        may_remove = request.user.has_perm("wipe.add_diskremoval")

        @admin.display(description=_("media inside"))
        def media_inside(obj: Device) -> str:
            rows = []
            for medium in self._inside(obj):
                links = []
                if may_wipe and not getattr(medium, "cleared", False):
                    links.append(_link(f"{reverse('admin:wipe_sanitization_add')}?medium={medium.pk}",
                                       gettext("record a wipe")))
                if may_remove:
                    links.append(_link(f"{reverse('admin:wipe_diskremoval_add')}?medium={medium.pk}",
                                       gettext("take out")))
                rows.append(format_html("{} {} {}", medium.get_kind_display(), medium.serial_number or "—",
                                        format_html("({})", mark_safe(" · ".join(links))) if links else ""))
            return mark_safe("<br>".join(rows)) if rows else "—"

        return [media_inside if name == "media_inside" else name for name in self.list_display]

    @admin.display(description=_("what is missing"))
    def what_is_missing(self, obj: Device) -> str:
        missing = selectors.prefetched_missing(obj)  # from the list's prefetch: no query per device
        if missing is None:
            return gettext("no storage media on record: confirm that it has none")
        if missing:
            return gettext("to wipe or take out: %(media)s") % {
                "media": ", ".join(f"{m.get_kind_display()} {m.serial_number or '—'}" for m in missing)}
        return gettext("ready")

    # The IT office reads this list with the wipe app's permissions; the proxy's own ones are optional.
    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm("wipe.view_sanitization")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_sanitize_permission(self, request) -> bool:
        return request.user.has_perm("assets.move_device") and request.user.has_perm("wipe.view_sanitization")

    def has_confirm_permission(self, request) -> bool:
        return request.user.has_perm("wipe.add_nomediaconfirmation")

    def has_open_session_permission(self, request) -> bool:
        return request.user.has_perm("wipe.add_wipesession")

    @admin.action(description=_("Move to sanitized"), permissions=["sanitize"])
    def sanitize(self, request, queryset: QuerySet[Device]) -> None:
        """Through the gate, one device at a time: each success and each refusal is its own message."""
        for device in queryset.order_by("inventory_number"):
            done = _run(request, device.inventory_number, services.device_sanitize, device=device, by=request.user)
            if done is not None:
                messages.success(request, gettext("%(number)s is sanitized; its certificate of sanitization is "
                                                  "issued.") % {"number": device.inventory_number})

    @admin.action(description=_("Open a wipe session"), permissions=["open_session"])
    def open_session(self, request, queryset: QuerySet[Device]):
        pks = ",".join(str(pk) for pk in queryset.order_by("inventory_number").values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('admin:wipe_wipesession_add')}?devices_to_wipe={pks}")


# --- confirmations of no storage media --------------------------------------------------------------

@admin.register(NoMediaConfirmation)
class NoMediaConfirmationAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ["device", "confirmed_by", "confirmed_at", "how_checked"]
    search_fields = ["device__inventory_number", "how_checked"]
    list_select_related = ["device", "confirmed_by"]
    date_hierarchy = "confirmed_at"
    fields = ["device", "confirmed_by", "confirmed_at", "how_checked"]
    readonly_fields = fields
