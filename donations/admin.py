"""Admin of the donations app: grant projects with their beneficiaries and obligations for the project
manager, mayoral orders and free transfers for the legal office, donations from residents and scrapping
for the IT office.

Every write calls donations.services, as the API does; a refusal is an error message (and, on a form, the
reason beside its field), never a 500, and nothing is written. Transfers past their draft, liquidations,
obligation records and transfer events are evidence: their pages are read-only and nothing here deletes.
History is shown but never reverted (core.admin.HistoryAdmin).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q, QuerySet
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
from core.admin import HistoryAdmin, ReadOnlyAdminMixin
from core.admin_privacy import PERSONAL_DATA_ACTIONS, PersonalDataAdminMixin
from core.admin_utils import run_service
from core.exceptions import DomainError
from donations import privacy, selectors, services
from donations.choices import TRANSFER_OPEN, DonationStatus, TransferStatus
from donations.forms import (
    BENEFICIARY_FORM_FIELDS,
    CONTACT_FORM_FIELDS,
    LIQUIDATION_FORM_FIELDS,
    OFFER_FORM_FIELDS,
    ORDER_FORM_FIELDS,
    PROJECT_FORM_FIELDS,
    AllocateForm,
    AnnexImportForm,
    ApproveForm,
    BeneficiaryForm,
    ConfirmForm,
    DonationAcceptForm,
    DonationOfferForm,
    LiquidationForm,
    ObligationForm,
    OrderForm,
    ProjectDevicesForm,
    ProjectForm,
    ReasonForm,
    RecordMonthForm,
    TransferForm,
    TransfersForProjectForm,
    service_data,
)
from donations.legal import legal_check
from donations.models import (
    Beneficiary,
    DonationOffer,
    GrantProject,
    Liquidation,
    LiquidationItem,
    MayoralOrder,
    ObligationRecord,
    OrderAnnexBeneficiary,
    OrderAnnexDevice,
    ProjectDevice,
    ProjectObligation,
    Transfer,
    TransferEvent,
    TransferItem,
)
from core.admin_export import RegisterExportMixin
from donations.resources import BeneficiaryResource, OrderAnnexResource
from wipe.admin import PageForm, PageFormsMixin, ServiceFormAdminMixin
from wipe.forms import add_refusal, refusal_text

# --- shared pieces ---------------------------------------------------------------------------------


def _run(request, label: str, func: Callable, /, *args, **kwargs):
    """Call a service for one record; a refusal becomes an error message naming the record."""
    try:
        return func(*args, **kwargs)
    except (DomainError, ValidationError) as exc:
        messages.error(request, gettext("%(record)s: %(reason)s") % {"record": label, "reason": refusal_text(exc)})
        return None


def _link(url: str, text) -> str:
    return format_html('<a href="{}">{}</a>', url, text)


def _change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _download_url(document) -> str:
    return reverse("document-download", kwargs={"code": document.code})


def _documents(documents: Iterable) -> str:
    """Links to download issued PDFs, one a line."""
    rows = [(_download_url(d), d.title, d.code, timezone.localtime(d.issued_at).strftime("%d.%m.%Y %H:%M"))
            for d in documents if d is not None]
    if not rows:
        return "—"
    return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> ({}, {})', rows)


def _day(value) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def _issued_message(text: str, document) -> str:
    """A success message with the link to the issued PDF."""
    return format_html('{} <a href="{}">{}</a>', text, _download_url(document), gettext("Download the PDF"))


def _action_page(modeladmin, request, *, name: str, title, objects: list, form: forms.Form | None,
                 describe: Callable[[object], str] = str, note: str = "") -> TemplateResponse:
    """The intermediate page of an action: the selected records, the action's form, and the selection
    carried back to the same action when it is submitted."""
    media = modeladmin.media + (form.media if form is not None else forms.Media())
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "note": note,
        "rows": [(obj, describe(obj)) for obj in objects],
        "form": form,
        "media": media,
        "action_name": name,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/core/action_form.html", context)


def _form_action(*, name: str, label, call: Callable, done: Callable[[int], str], permission: str,
                 form_class: type[forms.Form] = ConfirmForm, form_kwargs: Callable | None = None,
                 describe: Callable[[object], str] = str, prepare: Callable[[QuerySet], QuerySet] = lambda qs: qs,
                 one_at_a_time: bool = False, note=""):
    """An action that asks for `form_class` once, then runs `call(obj, request, form)` for each selected
    record, each service call its own transaction: a refused record is an error message naming it and
    stays as it was, the others go on. `one_at_a_time` is for a form that fits one record only (an
    inventory number, a kit for one beneficiary)."""

    def action(modeladmin, request, queryset: QuerySet):
        objects = list(prepare(queryset).order_by("pk"))
        if one_at_a_time and len(objects) != 1:
            messages.warning(request, gettext("Choose one record for “%(action)s”.") % {"action": label})
            return None
        applying = "apply" in request.POST
        extra = form_kwargs(request, objects) if form_kwargs is not None else {}
        form = form_class(request.POST if applying else None, **extra)
        if applying and form.is_valid():
            count = sum(_run(request, describe(obj), call, obj, request, form) is not None for obj in objects)
            if count:
                messages.success(request, done(count))
            return None
        return _action_page(modeladmin, request, name=name, title=label, objects=objects, form=form,
                            describe=describe, note=note)

    action.__name__ = name
    return admin.action(description=label, permissions=[permission])(action)


class EvidenceInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A part of a record written only by services, shown to whoever may see the record."""

    extra = 0
    parent_view_permission = ""

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm(self.parent_view_permission)


class DonationsPageMixin(ServiceFormAdminMixin, PageFormsMixin):
    """A record page whose add/edit form goes through a service and whose moves are forms below it."""

    change_form_template = "admin/donations/change_form.html"

    def _posted(self, request, pk: int, permission: str | tuple[str, ...], queryset=None):
        """The record of a move's URL; the move needs a POST and `permission` (or each of several)."""
        obj = get_object_or_404(queryset if queryset is not None else self.model._default_manager, pk=pk)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        if request.method != "POST":
            return obj, False
        if not request.user.has_perms((permission,) if isinstance(permission, str) else permission):
            raise PermissionDenied
        return obj, True

    def _page_move(self, request, pk: int, *, key: str, permission: str | tuple[str, ...],
                   form: Callable[[object], forms.Form], call: Callable,
                   success: Callable[[object, object], str], queryset=None):
        """A move posted from the record's page: a form error or a refusal shows the page again with the
        form as filled in and the reason beside its field; a success goes back to the page."""
        obj, posted = self._posted(request, pk, permission, queryset)
        if not posted:
            return self.back_to_page(obj)
        bound = form(obj)
        if bound.is_valid():
            try:
                result = call(obj, request, bound)
            except (DomainError, ValidationError) as exc:
                messages.error(request, add_refusal(bound, exc))
            else:
                messages.success(request, success(obj, result))
                return self.back_to_page(obj)
        return self.show_page(request, obj, bound={key: bound})

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# The permissions of the moves, as the API asks for them (donations.api.views).
CHANGE_PROJECT = "donations.change_grantproject"
LOG_OBLIGATION = "donations.log_obligation"
ALLOCATE = "donations.change_beneficiary"
CHANGE_ORDER = "donations.change_mayoralorder"
MOVE_TRANSFER = "donations.move_transfer"
DECIDE_TRANSFER = "donations.decide_transfer"
OVERRIDE_TRANSFER = "donations.override_transfer_check"
MOVE_DEVICE = "assets.move_device"  # completing a transfer makes the devices leave the register
DECIDE_OFFER = "donations.decide_donationoffer"
RECORD_LIQUIDATION = "donations.record_liquidation"


# --- grant projects --------------------------------------------------------------------------------

class DurabilityFilter(admin.SimpleListFilter):
    title = _("durability period")
    parameter_name = "durability"

    def lookups(self, request, model_admin):
        return [("running", _("running")), ("over", _("over"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "running":
            return queryset.filter(durability_ends_on__gte=today)
        if self.value() == "over":
            return queryset.filter(durability_ends_on__lt=today)
        return queryset


class ObligationInline(EvidenceInline):
    model = ProjectObligation
    fields = ["kind", "description", "applies_to", "starts_on", "ends_on"]
    readonly_fields = fields
    show_change_link = True
    parent_view_permission = "donations.view_grantproject"
    verbose_name_plural = _("obligations of the durability period")


@admin.register(ProjectDevice)
class ProjectDeviceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The devices a project bought, as a list that pages: a project holds hundreds (e-Inclusion: 1,079)."""

    list_display = ["device", "device_kind", "device_status", "kit", "project", "added_at", "added_by"]
    list_filter = ["project", "device__status", "device__kind"]
    search_fields = ["device__inventory_number", "device__serial_number", "device__kit__code"]
    list_select_related = ["device__kit", "project", "added_by"]

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm("donations.view_grantproject")

    @admin.display(description=_("kind"), ordering="device__kind")
    def device_kind(self, obj: ProjectDevice) -> str:
        return obj.device.get_kind_display()

    @admin.display(description=_("device status"), ordering="device__status")
    def device_status(self, obj: ProjectDevice) -> str:
        return obj.device.get_status_display()

    @admin.display(description=_("kit"), ordering="device__kit__code")
    def kit(self, obj: ProjectDevice) -> str:
        return obj.device.kit.code if obj.device.kit_id else "—"


def _add_devices(project: GrantProject, request, form: ProjectDevicesForm) -> list[ProjectDevice]:
    return services.project_add_devices(project=project, by=request.user, devices=list(form.cleaned_data["devices"]),
                                        kits=list(form.cleaned_data["kits"]))


def _devices_added(rows: list[ProjectDevice]) -> str:
    return ngettext("%(count)d device added to the project.", "%(count)d devices added to the project.",
                    len(rows)) % {"count": len(rows)}


def _issue_durability_report(project: GrantProject, request, form=None):
    from donations.documents import durability_report_issue

    return durability_report_issue(project=project, by=request.user)


def _report_issued(project: GrantProject, document) -> str:
    return _issued_message(gettext("The durability report of %(project)s is issued, verification code %(code)s.")
                           % {"project": project.name, "code": document.code}, document)


@admin.register(GrantProject)
class GrantProjectAdmin(DonationsPageMixin, HistoryAdmin):
    """Grant projects: the durability period, the devices, the beneficiaries, the obligations and the
    report for the funding body; the months without proof for the project manager."""

    form = ProjectForm
    list_display = ["name", "agreement_number", "programme", "final_payment_on", "durability_ends_on",
                    "devices_count", "beneficiaries_count", "manager"]
    list_filter = [DurabilityFilter, "durability_ends_on"]
    search_fields = ["name", "agreement_number", "programme"]
    list_select_related = ["manager"]
    date_hierarchy = "starts_on"
    inlines = [ObligationInline]
    record_fields = ["durability_ends_on", "devices_summary", "beneficiaries_link", "issued_documents", "created_at",
                     "updated_at"]
    actions = [
        "issue_durability_report",
        _form_action(name="add_devices", label=_("Add devices or kits"), form_class=ProjectDevicesForm,
                     call=_add_devices, permission="manage", one_at_a_time=True,
                     done=lambda n: gettext("The devices are added to the project.")),
    ]

    def get_queryset(self, request):
        return selectors.project_list()

    @admin.display(description=_("devices"), ordering="devices_count")
    def devices_count(self, obj: GrantProject) -> int:
        return obj.devices_count

    @admin.display(description=_("beneficiaries"), ordering="beneficiaries_count")
    def beneficiaries_count(self, obj: GrantProject) -> int:
        return obj.beneficiaries_count

    @admin.display(description=_("beneficiaries"))
    def beneficiaries_link(self, obj: GrantProject) -> str:
        url = f"{reverse('admin:donations_beneficiary_changelist')}?project__id__exact={obj.pk}"
        return _link(url, ngettext("%(count)d beneficiary", "%(count)d beneficiaries", obj.beneficiaries_count)
                     % {"count": obj.beneficiaries_count})

    @admin.display(description=_("devices bought by the project"))
    def devices_summary(self, obj: GrantProject) -> str:
        """How many devices in each state, and the list of them (one query, whatever the size)."""
        states = dict(DeviceStatus.choices)
        counts = (ProjectDevice.objects.filter(project=obj).values_list("device__status").annotate(n=Count("pk"))
                  .order_by("device__status"))
        summary = ", ".join(f"{states.get(status, status)}: {n}" for status, n in counts) or "—"
        url = f"{reverse('admin:donations_projectdevice_changelist')}?project__id__exact={obj.pk}"
        return format_html("{} ({})", summary, _link(url, gettext("the list")))

    @admin.display(description=_("issued documents"))
    def issued_documents(self, obj: GrantProject) -> str:
        return _documents(obj.documents.order_by("issued_at", "id"))

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["name", "programme", "agreement_number", "manager", "notes"]}),
            (_("Dates"), {"fields": ["starts_on", "ends_on", "final_payment_on", "durability_years"]}),
        ]
        if obj is not None:
            fieldsets.append((_("The record"), {"fields": self.record_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.record_fields

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm(CHANGE_PROJECT)

    def has_report_permission(self, request) -> bool:
        return request.user.has_perm(LOG_OBLIGATION)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            saved = services.project_update(project=obj, by=request.user, **service_data(form, form.changed_data))
        else:
            saved = services.project_create(by=request.user, **service_data(form, PROJECT_FORM_FIELDS))
        obj.pk = saved.pk
        obj.refresh_from_db()

    # --- the report, the devices, the months without proof ---

    @admin.action(description=_("Issue the durability report"), permissions=["report"])
    def issue_durability_report(self, request, queryset: QuerySet[GrantProject]) -> None:
        for project in queryset.order_by("name"):
            document = _run(request, project.name, _issue_durability_report, project, request)
            if document is not None:
                messages.success(request, _report_issued(project, document))

    def get_urls(self):
        opts = self.model._meta
        return [*self.move_urls({"report": self.report_view, "add_devices": self.add_devices_view}),
                path("<int:pk>/gaps/", self.admin_site.admin_view(self.gaps_view),
                     name=f"{opts.app_label}_{opts.model_name}_gaps"),
                *super().get_urls()]

    def page_links(self, request, obj: GrantProject) -> list[tuple[str, str]]:
        links = []
        if request.user.has_perm("donations.view_obligationrecord"):
            links.append((self.move_url(obj, "gaps"), gettext("Months without proof")))
        if request.user.has_perm("donations.add_projectobligation"):
            links.append((f"{reverse('admin:donations_projectobligation_add')}?project={obj.pk}",
                          gettext("Add an obligation")))
        if request.user.has_perm("donations.add_beneficiary"):
            links.append((f"{reverse('admin:donations_beneficiary_add')}?project={obj.pk}",
                          gettext("Add a beneficiary")))
        return links

    def page_forms(self, request, obj: GrantProject, bound: dict) -> list[PageForm]:
        page = []
        if self.has_report_permission(request):
            page.append(PageForm(
                "donations-report", _("Durability report"), bound.get("report") or ConfirmForm(prefix="report"),
                self.move_url(obj, "report"), _("Issue the durability report"),
                _("The PDF for the funding body: the devices, who holds them and the obligations proven month by "
                  "month.")))
        if self.has_manage_permission(request):
            page.append(PageForm(
                "donations-add-devices", _("Add devices or kits"),
                bound.get("add_devices") or ProjectDevicesForm(prefix="add_devices"),
                self.move_url(obj, "add_devices"), _("Add to the project")))
        return page

    def report_view(self, request, pk: int):
        return self._page_move(
            request, pk, key="report", permission=LOG_OBLIGATION,
            form=lambda obj: ConfirmForm(request.POST, prefix="report"), call=_issue_durability_report,
            success=_report_issued, queryset=GrantProject.objects.all())

    def add_devices_view(self, request, pk: int):
        return self._page_move(
            request, pk, key="add_devices", permission=CHANGE_PROJECT,
            form=lambda obj: ProjectDevicesForm(request.POST, prefix="add_devices"), call=_add_devices,
            success=lambda obj, rows: _devices_added(rows), queryset=GrantProject.objects.all())

    def gaps_view(self, request, pk: int):
        """Every month of every obligation without proof for a beneficiary, up to today: per obligation,
        per month, the beneficiaries missing."""
        project = get_object_or_404(GrantProject, pk=pk)
        # The gaps name beneficiaries: the same right as their records, as on the API (READ_GAPS).
        if not (self.has_view_or_change_permission(request, project)
                and request.user.has_perm("donations.view_obligationrecord")):
            raise PermissionDenied
        gaps = selectors.obligation_gaps(project=project)
        grouped: dict[int, dict] = {}
        for gap in gaps:
            group = grouped.setdefault(gap.obligation.pk, {"obligation": gap.obligation, "months": defaultdict(list)})
            group["months"][gap.month].append(gap.beneficiary)
        groups = [{"obligation": g["obligation"], "url": _change_url(g["obligation"]),
                   "months": sorted(g["months"].items())} for g in grouped.values()]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Months without proof"),
            "subtitle": project.name,
            "original": project,
            "opts": self.model._meta,
            "groups": groups,
            "total": len(gaps),
            "today": timezone.localdate(),
            "has_obligations": project.obligations.exists(),
        }
        return TemplateResponse(request, "admin/donations/grantproject/gaps.html", context)


# --- beneficiaries ---------------------------------------------------------------------------------

def _allocate(beneficiary: Beneficiary, request, form: AllocateForm):
    data = form.cleaned_data
    return services.beneficiary_allocate(beneficiary=beneficiary, by=request.user, kit=data["kit"],
                                         starts_on=data["starts_on"],
                                         condition_at_handover=data["condition_at_handover"], notes=data["notes"])


def _describe_beneficiary(beneficiary: Beneficiary) -> str:
    return gettext("%(beneficiary)s (%(kind)s), project %(project)s") % {
        "beneficiary": beneficiary, "kind": beneficiary.get_kind_display(), "project": beneficiary.project.name}


def _anonymise_beneficiary(beneficiary: Beneficiary, *, by):
    return privacy.beneficiary_anonymise(beneficiary=beneficiary, by=by)


@admin.register(Beneficiary)
class BeneficiaryAdmin(PersonalDataAdminMixin, DonationsPageMixin, RegisterExportMixin, HistoryAdmin):
    """Households, schools and centres of a project, with only what is needed to hand over and reach them."""

    form = BeneficiaryForm
    resource_classes = [BeneficiaryResource]
    list_display = ["code", "recipient__name", "project", "kind", "is_active", "devices_held", "qualified_on"]
    list_display_links = ["code", "recipient__name"]
    list_filter = ["project", "kind", "is_active"]
    search_fields = ["code", "recipient__name", "recipient__address", "eligibility_reference"]
    list_select_related = ["project", "recipient"]
    record_fields = ["held_now", "created_at", "updated_at"]
    actions = [
        _form_action(name="allocate", label=_("Allocate a set"), form_class=AllocateForm, call=_allocate,
                     permission="allocate", one_at_a_time=True, describe=_describe_beneficiary,
                     prepare=lambda qs: qs.select_related("project", "recipient"),
                     form_kwargs=lambda request, objects: {"beneficiary": objects[0]},
                     done=lambda n: gettext("The set is lent to the beneficiary until the end of the durability "
                                            "period; the loan agreement and the handover protocol are in Loans.")),
        *PERSONAL_DATA_ACTIONS,
    ]
    # A beneficiary's personal data: the project manager's (donations.privacy).
    personal_data_export = privacy.beneficiary_export
    personal_data_anonymise = _anonymise_beneficiary
    personal_data_retention = privacy.beneficiary_retention_ends_on
    personal_data_name = "beneficiary"
    export_permission = "donations.export_personal_data_beneficiary"
    anonymise_permission = "donations.anonymise_beneficiary"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            held=Count("recipient__loans__items", filter=Q(recipient__loans__items__is_open=True)))

    @admin.display(description=_("devices held"), ordering="held")
    def devices_held(self, obj: Beneficiary) -> int:
        return obj.held

    @admin.display(description=_("holds now"))
    def held_now(self, obj: Beneficiary) -> str:
        from loans.models import LoanItem

        items = (LoanItem.objects.filter(loan__recipient_id=obj.recipient_id, is_open=True)
                 .select_related("device", "loan").order_by("device__inventory_number"))
        rows = [(_change_url(item.loan), item.device.inventory_number, item.device.get_kind_display(),
                 _day(item.loan.starts_on)) for item in items]
        if not rows:
            return "—"
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> ({}, {})', rows)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["project", "code", "kind", "is_active", "notes"]}),
            (_("Name, address and contact"), {"fields": CONTACT_FORM_FIELDS}),
            (_("Eligibility"), {"fields": ["eligibility_basis", "eligibility_document", "eligibility_reference",
                                           "qualified_on"]}),
        ]
        if obj is not None:
            fieldsets.append((_("The record"), {"fields": self.record_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["project", *self.record_fields]

    def has_allocate_permission(self, request) -> bool:
        return request.user.has_perm(ALLOCATE)

    def save_model(self, request, obj, form, change) -> None:
        fields = [*CONTACT_FORM_FIELDS, *BENEFICIARY_FORM_FIELDS]
        if change:
            saved = services.beneficiary_update(
                beneficiary=obj, by=request.user,
                **service_data(form, [name for name in form.changed_data if name in fields]))
        else:
            saved = services.beneficiary_create(project=form.cleaned_data["project"], by=request.user,
                                                **service_data(form, fields))
        obj.pk = saved.pk
        obj.refresh_from_db()


# --- obligations -----------------------------------------------------------------------------------

def _record_month(obligation: ProjectObligation, request, form: RecordMonthForm):
    data = form.cleaned_data
    return services.obligation_record_month(obligation=obligation, month=data["month"], by=request.user,
                                            proof_reference=data["proof_reference"], note=data["note"])


def _month_recorded(obligation: ProjectObligation, rows) -> str:
    return ngettext("%(count)d beneficiary recorded for the month.", "%(count)d beneficiaries recorded for the month.",
                    len(rows)) % {"count": len(rows)}


@admin.register(ProjectObligation)
class ProjectObligationAdmin(DonationsPageMixin, HistoryAdmin):
    """What the office promised for the durability period, proven month by month."""

    form = ObligationForm
    list_display = ["description", "project", "kind", "applies_to", "starts_on", "ends_on", "records_count"]
    list_filter = ["project", "kind", "applies_to"]
    search_fields = ["description", "project__name"]
    list_select_related = ["project"]
    view_fields = ["project", "kind", "description", "applies_to", "starts_on", "ends_on", "coverage"]
    actions = [
        _form_action(name="record_month", label=_("Record a month"), form_class=RecordMonthForm, call=_record_month,
                     permission="log",
                     done=lambda n: ngettext("The month is recorded for %(count)d obligation.",
                                             "The month is recorded for %(count)d obligations.", n) % {"count": n}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(records_total=Count("records"))

    @admin.display(description=_("months proven (beneficiary × month)"), ordering="records_total")
    def records_count(self, obj: ProjectObligation) -> int:
        return obj.records_total

    @admin.display(description=_("proof month by month"))
    def coverage(self, obj: ProjectObligation) -> str:
        rows = [{**row, "missing": row["expected"] - row["recorded"]} for row in selectors.obligation_coverage(obj)]
        return render_to_string("admin/donations/includes/coverage.html", {"rows": rows})

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": self.form._meta.fields})]
        return [(None, {"fields": self.view_fields})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.view_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_log_permission(self, request) -> bool:
        return request.user.has_perm(LOG_OBLIGATION)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        saved = services.obligation_create(project=data["project"], kind=data["kind"], description=data["description"],
                                           applies_to=data["applies_to"], starts_on=data["starts_on"],
                                           ends_on=data["ends_on"], by=request.user)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def get_urls(self):
        return [*self.move_urls({"record_month": self.record_month_view}), *super().get_urls()]

    def page_links(self, request, obj: ProjectObligation) -> list[tuple[str, str]]:
        return [(reverse("admin:donations_grantproject_gaps", args=[obj.project_id]), gettext("Months without proof")),
                (f"{reverse('admin:donations_obligationrecord_changelist')}?obligation__id__exact={obj.pk}",
                 gettext("Records"))]

    def page_forms(self, request, obj: ProjectObligation, bound: dict) -> list[PageForm]:
        if not self.has_log_permission(request):
            return []
        return [PageForm("donations-record-month", _("Record a month"),
                         bound.get("record_month") or RecordMonthForm(prefix="record_month"),
                         self.move_url(obj, "record_month"), _("Record the month"),
                         _("One proof for every beneficiary the obligation applies to; those already recorded for "
                           "the month are left as they are."))]

    def record_month_view(self, request, pk: int):
        return self._page_move(
            request, pk, key="record_month", permission=LOG_OBLIGATION,
            form=lambda obj: RecordMonthForm(request.POST, prefix="record_month"), call=_record_month,
            success=_month_recorded)


@admin.register(ObligationRecord)
class ObligationRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Proof of an obligation for one beneficiary and month: evidence, read only."""

    list_display = ["month_label", "beneficiary", "obligation", "proof_reference", "recorded_at", "recorded_by"]
    list_filter = ["obligation__project", "obligation__kind", "obligation"]
    search_fields = ["beneficiary__code", "beneficiary__recipient__name", "proof_reference"]
    list_select_related = ["beneficiary__recipient", "obligation", "recorded_by"]
    date_hierarchy = "month"
    fields = ["obligation", "beneficiary", "month_label", "proof_reference", "proof_file", "note", "recorded_at",
              "recorded_by"]
    readonly_fields = fields

    @admin.display(description=_("month"), ordering="month")
    def month_label(self, obj: ObligationRecord) -> str:
        return obj.month.strftime("%m.%Y")


# --- mayoral orders --------------------------------------------------------------------------------

class AnnexDeviceInline(EvidenceInline):
    model = OrderAnnexDevice
    fields = ["line", "device", "device_kind", "device_status"]
    readonly_fields = fields
    parent_view_permission = "donations.view_mayoralorder"
    verbose_name_plural = _("devices in the annex")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device")

    @admin.display(description=_("kind"))
    def device_kind(self, obj: OrderAnnexDevice) -> str:
        return obj.device.get_kind_display()

    @admin.display(description=_("device status"))
    def device_status(self, obj: OrderAnnexDevice) -> str:
        return obj.device.get_status_display()


class AnnexBeneficiaryInline(EvidenceInline):
    model = OrderAnnexBeneficiary
    fields = ["line", "beneficiary", "beneficiary_kind"]
    readonly_fields = fields
    parent_view_permission = "donations.view_mayoralorder"
    verbose_name_plural = _("beneficiaries in the annex")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("beneficiary__recipient")

    @admin.display(description=_("kind"))
    def beneficiary_kind(self, obj: OrderAnnexBeneficiary) -> str:
        return obj.beneficiary.get_kind_display()


def _annex_report(report: services.AnnexReport, *, dry_run: bool) -> dict:
    return {"dry_run": dry_run, "devices": [d.inventory_number for d in report.devices],
            "beneficiaries": [str(b) for b in report.beneficiaries], "already_listed": report.already_listed,
            "problems": report.problems}


@admin.register(MayoralOrder)
class MayoralOrderAdmin(DonationsPageMixin, RegisterExportMixin, HistoryAdmin):
    """Orders of the mayor, with the devices and beneficiaries of their annex."""

    form = OrderForm
    resource_classes = [OrderAnnexResource]
    list_display = ["number", "signed_on", "kind", "title", "in_force_from", "in_force_until", "project",
                    "annex_devices_count", "annex_beneficiaries_count"]
    list_filter = ["kind", "project", "signed_on"]
    search_fields = ["number", "title", "signatory"]
    list_select_related = ["project"]
    date_hierarchy = "signed_on"
    inlines = [AnnexDeviceInline, AnnexBeneficiaryInline]
    record_fields = ["scan_sha256", "transfers_link", "created_at", "updated_at"]

    def get_queryset(self, request):
        return selectors.order_list()

    @admin.display(description=_("devices in the annex"), ordering="annex_devices_count")
    def annex_devices_count(self, obj: MayoralOrder) -> int:
        return obj.annex_devices_count

    @admin.display(description=_("beneficiaries in the annex"), ordering="annex_beneficiaries_count")
    def annex_beneficiaries_count(self, obj: MayoralOrder) -> int:
        return obj.annex_beneficiaries_count

    @admin.display(description=_("transfers and liquidations"))
    def transfers_link(self, obj: MayoralOrder) -> str:
        transfers = f"{reverse('admin:donations_transfer_changelist')}?order__id__exact={obj.pk}"
        liquidations = f"{reverse('admin:donations_liquidation_changelist')}?order__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>', transfers, gettext("transfers"),
                           liquidations, gettext("liquidations"))

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["number", "signed_on", "signatory", "title", "legal_basis", "kind"]}),
            (_("In force"), {"fields": ["in_force_from", "in_force_until", "project"]}),
            (_("Scan and notes"), {"fields": ["scan", "notes"]}),
        ]
        if obj is not None:
            fieldsets.append((_("The record"), {"fields": self.record_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.record_fields

    def save_model(self, request, obj, form, change) -> None:
        if change:
            saved = services.order_update(order=obj, by=request.user, **service_data(form, form.changed_data))
        else:
            saved = services.order_create(by=request.user, **service_data(form, ORDER_FORM_FIELDS))
        obj.pk = saved.pk
        obj.refresh_from_db()

    # --- the annex import ---

    def get_urls(self):
        return [*self.move_urls({"annex_import": self.annex_import_view}), *super().get_urls()]

    def page_forms(self, request, obj: MayoralOrder, bound: dict) -> list[PageForm]:
        if not request.user.has_perm(CHANGE_ORDER):
            return []
        return [PageForm("donations-annex-import", _("Import the annex"),
                         bound.get("annex_import") or AnnexImportForm(prefix="annex"),
                         self.move_url(obj, "annex_import"), _("Import"),
                         _("Every line is checked first: one line in error refuses the whole file, and nothing is "
                           "added."))]

    def annex_import_view(self, request, pk: int):
        order, posted = self._posted(request, pk, CHANGE_ORDER, MayoralOrder.objects.all())
        if not posted:
            return self.back_to_page(order)
        form = AnnexImportForm(request.POST, request.FILES, prefix="annex")
        if not form.is_valid():
            return self.show_page(request, order, bound={"annex_import": form})
        upload, dry_run = form.cleaned_data["file"], form.cleaned_data["dry_run"]
        try:
            report = services.order_annex_import(order=order, content=upload.read(), filename=upload.name,
                                                 by=request.user, dry_run=dry_run)
        except (DomainError, ValidationError) as exc:
            messages.error(request, add_refusal(form, exc))
            problems = exc.details.get("problems", []) if isinstance(exc, DomainError) else []
            return self.show_page(request, order, bound={"annex_import": form},
                                  annex_report={"refused": True, "problems": problems} if problems else None)
        summary = {"devices": len(report.devices), "beneficiaries": len(report.beneficiaries),
                   "listed": report.already_listed}
        if dry_run:
            messages.info(request, gettext(
                "Only a check: the annex would add %(devices)d devices and %(beneficiaries)d beneficiaries "
                "(%(listed)d already listed). Nothing was added.") % summary)
            return self.show_page(request, order, annex_report=_annex_report(report, dry_run=True))
        messages.success(request, gettext(
            "The annex is imported: %(devices)d devices and %(beneficiaries)d beneficiaries added (%(listed)d already "
            "listed).") % summary)
        return self.back_to_page(order)


# --- transfers -------------------------------------------------------------------------------------

class TransferItemInline(EvidenceInline):
    model = TransferItem
    fields = ["device", "device_kind", "device_status", "exception_applied"]
    readonly_fields = fields
    parent_view_permission = "donations.view_transfer"
    verbose_name_plural = _("devices transferred")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device")

    @admin.display(description=_("kind"))
    def device_kind(self, obj: TransferItem) -> str:
        return obj.device.get_kind_display()

    @admin.display(description=_("device status"))
    def device_status(self, obj: TransferItem) -> str:
        return obj.device.get_status_display()


class TransferEventInline(EvidenceInline):
    model = TransferEvent
    fields = ["occurred_at", "kind", "from_status", "to_status", "reason", "actor", "document_link"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]
    parent_view_permission = "donations.view_transfer"
    verbose_name_plural = _("events")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "document")

    @admin.display(description=_("document"))
    def document_link(self, obj: TransferEvent) -> str:
        return _documents([obj.document]) if obj.document_id else "—"


def _submit(transfer: Transfer, request, form=None) -> Transfer:
    return services.transfer_submit(transfer=transfer, by=request.user)


def _approve(transfer: Transfer, request, form: ApproveForm) -> Transfer:
    data = form.cleaned_data
    return services.transfer_approve(transfer=transfer, by=request.user, reason=data["reason"],
                                     override_reason=data.get("override_reason", ""))


def _reject(transfer: Transfer, request, form: ReasonForm) -> Transfer:
    return services.transfer_reject(transfer=transfer, by=request.user, reason=form.cleaned_data["reason"])


def _complete(transfer: Transfer, request, form=None) -> Transfer:
    return services.transfer_complete(transfer=transfer, by=request.user)


def _cancel(transfer: Transfer, request, form: ReasonForm) -> Transfer:
    return services.transfer_cancel(transfer=transfer, by=request.user, reason=form.cleaned_data["reason"])


def _approve_form_kwargs(request, objects=None) -> dict:
    return {"may_override": request.user.has_perm(OVERRIDE_TRANSFER)}


def _describe_transfer(transfer: Transfer) -> str:
    return gettext("%(number)s to %(recipient)s under order no. %(order)s, dated %(date)s, %(count)d devices "
                   "(%(status)s)") % {"number": transfer.number, "recipient": transfer.recipient.name,
                                      "order": transfer.order.number, "date": _day(transfer.transfer_date),
                                      "count": len(transfer.items.all()), "status": transfer.get_status_display()}


def _transfers_for_action(queryset: QuerySet[Transfer]) -> QuerySet[Transfer]:
    return queryset.select_related("order", "recipient").prefetch_related("items")


def _transfer_done(move) -> Callable[[int], str]:
    messages_ = {
        "submit": lambda n: ngettext("%(count)d transfer submitted for legal review.",
                                     "%(count)d transfers submitted for legal review.", n),
        "approve": lambda n: ngettext("%(count)d transfer approved.", "%(count)d transfers approved.", n),
        "reject": lambda n: ngettext("%(count)d transfer rejected.", "%(count)d transfers rejected.", n),
        "complete": lambda n: ngettext("%(count)d transfer completed; its protocol is issued and its devices have "
                                       "left the register.",
                                       "%(count)d transfers completed; their protocols are issued and their devices "
                                       "have left the register.", n),
        "cancel": lambda n: ngettext("%(count)d transfer cancelled.", "%(count)d transfers cancelled.", n),
    }
    return lambda n: messages_[move](n) % {"count": n}


# Each move of a transfer: (label, function, form class, the admin's name of its permission, the permissions).
TRANSFER_MOVES: dict[str, tuple] = {
    "submit": (_("Submit for legal review"), _submit, ConfirmForm, "move", (MOVE_TRANSFER,)),
    "approve": (_("Approve"), _approve, ApproveForm, "decide", (DECIDE_TRANSFER,)),
    "reject": (_("Reject"), _reject, ReasonForm, "decide", (DECIDE_TRANSFER,)),
    "complete": (_("Complete the transfer"), _complete, ConfirmForm, "complete", (MOVE_TRANSFER, MOVE_DEVICE)),
    "cancel": (_("Cancel"), _cancel, ReasonForm, "move", (MOVE_TRANSFER,)),
}
TRANSFER_MOVE_NOTES = {
    "approve": _("Every check must pass; a lawyer of the legal office may approve despite the checks a lawyer may "
                 "weigh, with a reasoned override. Data leaving the office and a device that is not there are never "
                 "overridden."),
    "complete": _("The check runs again; the transfer protocol is issued and the devices leave the register."),
}


def _transfer_action(move: str):
    label, call, form_class, permission, _perm = TRANSFER_MOVES[move]
    return _form_action(name=f"transfer_{move}", label=label, call=call, form_class=form_class,
                        form_kwargs=_approve_form_kwargs if move == "approve" else None, permission=permission,
                        describe=_describe_transfer, prepare=_transfers_for_action, done=_transfer_done(move),
                        note=TRANSFER_MOVE_NOTES.get(move, ""))


@admin.register(Transfer)
class TransferAdmin(DonationsPageMixin, HistoryAdmin):
    """Free transfers of ownership under an order: prepared as drafts, checked item by item by the legal
    office, completed with the transfer protocol. Past the draft, a transfer is evidence."""

    form = TransferForm
    list_display = ["number", "recipient", "order", "transfer_date", "status", "device_numbers", "protocol_link"]
    list_filter = ["status", "order", "transfer_date"]
    search_fields = ["number", "recipient__name", "order__number", "items__device__inventory_number"]
    date_hierarchy = "transfer_date"
    autocomplete_fields = ["recipient"]
    change_list_template = "admin/donations/transfer/change_list.html"
    inlines = [TransferItemInline, TransferEventInline]
    draft_fields = ["transfer_date", "devices", "kits", "notes"]
    record_fields = ["number", "status", "order", "recipient", "created_by", "created_at", "decided_at", "decided_by",
                     "decision_reason", "override_reason", "completed_at", "protocol_link"]
    actions = [*(_transfer_action(move) for move in TRANSFER_MOVES), "transfer_complete_background"]

    def get_queryset(self, request):
        return selectors.transfer_list()

    @admin.action(description=_("Complete the transfers in the background (one protocol each)"),
                  permissions=["complete"])
    def transfer_complete_background(self, request, queryset):
        """Many transfers at once (a whole project's): a background job completes each approved one in turn;
        its page shows the progress, and a transfer the check refuses is skipped there with the reason."""
        from core.jobs import job_start
        from donations.jobs import COMPLETE_TRANSFERS

        job = run_service(request, job_start, kind=COMPLETE_TRANSFERS, by=request.user,
                          params={"transfers": sorted(queryset.values_list("pk", flat=True))})
        if job is None:
            return None
        messages.success(request, gettext("Job #%(id)s completes the selected approved transfers in the background; "
                                          "this page shows how far it got.") % {"id": job.pk})
        return HttpResponseRedirect(reverse("admin:core_job_change", args=[job.pk]))

    @admin.display(description=_("devices"))
    def device_numbers(self, obj: Transfer) -> str:
        numbers = [item.device.inventory_number for item in obj.items.all()]  # prefetched by the selector
        shown = ", ".join(numbers[:4])
        return f"{shown}, … ({len(numbers)})" if len(numbers) > 4 else (shown or "—")

    @admin.display(description=_("transfer protocol"))
    def protocol_link(self, obj: Transfer) -> str:
        return _link(_download_url(obj.protocol), obj.protocol.code) if obj.protocol_id else "—"

    @staticmethod
    def legal_check_rows(obj: Transfer) -> dict:
        """The check item by item: as it stands now while the transfer is open, as recorded once it is closed."""
        if obj.status in TRANSFER_OPEN:
            rows, live = [result.as_dict() for result in legal_check(obj)], True
        else:
            rows, live = obj.checks, False
        return {"rows": rows, "live": live, "status": obj.get_status_display(),
                "failed": sum(1 for row in rows if not row["passed"])}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_or_change_permission(request, obj):
            extra_context["legal_check"] = self.legal_check_rows(obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_fieldsets(self, request, obj=None):
        what = (_("What is transferred"), {"fields": ["devices", "kits", "notes"]})
        if obj is None:
            return [(None, {"fields": ["order", "recipient", "transfer_date"]}), what]
        if obj.status == TransferStatus.DRAFT:
            return [(None, {"fields": ["number", "status", "order", "recipient", "transfer_date"]}), what]
        return [(None, {"fields": ["number", "status", "order", "recipient", "transfer_date", "notes"]}),
                (_("The record"), {"fields": [name for name in self.record_fields
                                              if name not in {"number", "status", "order", "recipient"}]})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.status == TransferStatus.DRAFT:
            return ["number", "status", "order", "recipient"]
        return [*self.record_fields, "transfer_date", "notes"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and obj.status == TransferStatus.DRAFT:
            kwargs["fields"] = self.draft_fields
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != TransferStatus.DRAFT:
            return False  # evidence: Django shows the page read-only and refuses a POST
        return super().has_change_permission(request, obj)

    def has_move_permission(self, request) -> bool:
        return request.user.has_perm(MOVE_TRANSFER)

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm(DECIDE_TRANSFER)

    def has_complete_permission(self, request) -> bool:
        return request.user.has_perms(TRANSFER_MOVES["complete"][4])

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if change:
            changed = set(form.changed_data)
            kwargs = {name: data[name] for name in ("transfer_date", "notes") if name in changed}
            if changed & {"devices", "kits"}:
                kwargs.update(devices=list(data["devices"]), kits=list(data["kits"]))
            saved = services.transfer_update(transfer=obj, by=request.user, **kwargs)
        else:
            saved = services.transfer_create(order=data["order"], recipient=data["recipient"],
                                             transfer_date=data["transfer_date"], devices=list(data["devices"]),
                                             kits=list(data["kits"]), notes=data["notes"], by=request.user)
        obj.pk = saved.pk
        obj.refresh_from_db()

    # --- the moves from the page, and the transfers of a whole project ---

    def get_urls(self):
        opts = self.model._meta
        views = {move: (lambda move: lambda request, pk: self.move_view(request, pk, move))(move)
                 for move in TRANSFER_MOVES}
        return [*self.move_urls(views),
                path("for-project/", self.admin_site.admin_view(self.for_project_view),
                     name=f"{opts.app_label}_{opts.model_name}_for_project"),
                *super().get_urls()]

    def _move_form(self, request, move: str, data=None) -> forms.Form:
        form_class = TRANSFER_MOVES[move][2]
        kwargs = _approve_form_kwargs(request) if move == "approve" else {}
        return form_class(data, prefix=move, **kwargs)

    def page_forms(self, request, obj: Transfer, bound: dict) -> list[PageForm]:
        page = []
        allowed = {move for move, _status in services.transfer_allowed_moves(obj)}
        for move, (label, _call, _form, _action_perm, permissions) in TRANSFER_MOVES.items():
            if move in allowed and request.user.has_perms(permissions):
                page.append(PageForm(f"donations-transfer-{move}", label,
                                     bound.get(move) or self._move_form(request, move),
                                     self.move_url(obj, move), label, TRANSFER_MOVE_NOTES.get(move, "")))
        return page

    def move_view(self, request, pk: int, move: str):
        label, call, _form, _action_perm, permissions = TRANSFER_MOVES[move]
        return self._page_move(
            request, pk, key=move, permission=permissions, queryset=Transfer.objects.select_related("recipient"),
            form=lambda obj: self._move_form(request, move, request.POST), call=call,
            success=lambda obj, saved: gettext("%(transfer)s: %(status)s.")
            % {"transfer": saved.number, "status": saved.get_status_display()})

    def for_project_view(self, request):
        """One transfer per beneficiary of a project, of the project's devices each holds now."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TransfersForProjectForm(request.POST if request.method == "POST" else None,
                                       may_submit=request.user.has_perm(MOVE_TRANSFER))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                result = services.transfers_for_project(
                    order=data["order"], project=data["project"], transfer_date=data["transfer_date"],
                    by=request.user, kinds=data["kinds"] or None, submit=data.get("submit", False))
            except (DomainError, ValidationError) as exc:
                messages.error(request, add_refusal(form, exc))
            else:
                created = ", ".join(t.number for t in result.created)
                if result.created:
                    messages.success(request, ngettext(
                        "%(count)d transfer created: %(numbers)s.", "%(count)d transfers created: %(numbers)s.",
                        len(result.created)) % {"count": len(result.created), "numbers": created})
                else:
                    messages.warning(request, gettext("No transfer was created."))
                for skipped in result.skipped:
                    messages.warning(request, gettext("Beneficiary %(beneficiary)s skipped: %(reason)s")
                                     % skipped)
                return HttpResponseRedirect(reverse("admin:donations_transfer_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Create transfers for a project"),
            "form": form,
            "media": self.media + form.media,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/donations/transfer/for_project.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["may_create_for_project"] = self.has_add_permission(request)
        return super().changelist_view(request, extra_context)


# --- donations from residents ----------------------------------------------------------------------

def _accept(offer: DonationOffer, request, form: DonationAcceptForm) -> DonationOffer:
    return services.donation_accept(offer=offer, by=request.user, **form.service_kwargs())


def _refuse(offer: DonationOffer, request, form: ReasonForm) -> DonationOffer:
    return services.donation_refuse(offer=offer, by=request.user, reason=form.cleaned_data["reason"])


def _describe_offer(offer: DonationOffer) -> str:
    return gettext("%(offer)s, serial number %(serial)s, offered on %(date)s (%(status)s)") % {
        "offer": offer, "serial": offer.serial_number, "date": _day(offer.offered_on),
        "status": offer.get_status_display()}


@admin.register(DonationOffer)
class DonationOfferAdmin(DonationsPageMixin, HistoryAdmin):
    """Devices offered by residents for people in need, verified by the IT office."""

    form = DonationOfferForm
    list_display = ["__str__", "kind", "serial_number", "offered_on", "legal_source", "free_of_charge_declared",
                    "status", "device"]
    list_filter = ["status", "kind", "legal_source", "free_of_charge_declared"]
    search_fields = ["donor_name", "manufacturer", "model", "serial_number", "legal_source_reference",
                     "device__inventory_number"]
    list_select_related = ["device"]
    date_hierarchy = "offered_on"
    record_fields = ["status", "decided_at", "decided_by", "decision_reason", "device", "created_at", "updated_at"]
    actions = [
        _form_action(name="accept", label=_("Accept"), form_class=DonationAcceptForm, call=_accept,
                     permission="decide", one_at_a_time=True, describe=_describe_offer,
                     note=_("The device enters the register as a donation and is withdrawn at once, to be wiped "
                            "before it is given to a person in need."),
                     done=lambda n: gettext("The offer is accepted; the device is in the register, retired to be "
                                            "given away.")),
        _form_action(name="refuse", label=_("Refuse"), form_class=ReasonForm, call=_refuse, permission="decide",
                     describe=_describe_offer,
                     done=lambda n: ngettext("%(count)d offer refused.", "%(count)d offers refused.", n)
                     % {"count": n}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (_("Donor"), {"fields": ["donor_name", "donor_contact", "offered_on"]}),
            (_("Device"), {"fields": ["kind", "manufacturer", "model", "serial_number", "description"]}),
            (_("Legal source, licences, declaration"), {"fields": ["legal_source", "legal_source_reference",
                                                                  "legal_source_document", "software_licences",
                                                                  "free_of_charge_declared"]}),
        ]
        if obj is not None:
            fieldsets.append((_("Verification"), {"fields": self.record_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.status != DonationStatus.OFFERED:
            return [*OFFER_FORM_FIELDS, *self.record_fields]
        return self.record_fields

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != DonationStatus.OFFERED:
            return False
        return super().has_change_permission(request, obj)

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm(DECIDE_OFFER)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            saved = services.donation_offer_update(offer=obj, by=request.user, **service_data(form, form.changed_data))
        else:
            saved = services.donation_offer_create(by=request.user, **service_data(form, OFFER_FORM_FIELDS))
        obj.pk = saved.pk
        obj.refresh_from_db()


# --- scrapping -------------------------------------------------------------------------------------

class LiquidationItemInline(EvidenceInline):
    model = LiquidationItem
    fields = ["device", "device_kind", "device_status"]
    readonly_fields = fields
    parent_view_permission = "donations.view_liquidation"
    verbose_name_plural = _("devices handed over")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device")

    @admin.display(description=_("kind"))
    def device_kind(self, obj: LiquidationItem) -> str:
        return obj.device.get_kind_display()

    @admin.display(description=_("device status"))
    def device_status(self, obj: LiquidationItem) -> str:
        return obj.device.get_status_display()


@admin.register(Liquidation)
class LiquidationAdmin(DonationsPageMixin, HistoryAdmin):
    """E-waste handed to an authorised collector, with the KPO and the liquidation protocol; read only."""

    form = LiquidationForm
    list_display = ["number", "order", "handed_over_on", "collector_name", "kpo_number", "waste_code", "mass_kg",
                    "devices_count", "protocol_link"]
    list_filter = ["order", "waste_code", "handed_over_on"]
    search_fields = ["number", "kpo_number", "collector_name", "collector_bdo", "items__device__inventory_number"]
    list_select_related = ["order", "protocol"]
    date_hierarchy = "handed_over_on"
    inlines = [LiquidationItemInline]
    formfield_overrides = {models.DecimalField: {"localize": True}}
    view_fields = ["number", "order", *LIQUIDATION_FORM_FIELDS, "recorded_by", "created_at", "protocol_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(devices_total=Count("items"))

    @admin.display(description=_("devices"), ordering="devices_total")
    def devices_count(self, obj: Liquidation) -> int:
        return obj.devices_total

    @admin.display(description=_("liquidation protocol"))
    def protocol_link(self, obj: Liquidation) -> str:
        return _link(_download_url(obj.protocol), obj.protocol.code) if obj.protocol_id else "—"

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["order", "devices"]}),
                    (_("Handover"), {"fields": LIQUIDATION_FORM_FIELDS})]
        return [(None, {"fields": self.view_fields})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.view_fields

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm(RECORD_LIQUIDATION)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the handover is a fact; it is recorded once

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        saved = services.liquidation_record(order=data["order"], devices=list(data["devices"]), by=request.user,
                                            **service_data(form, LIQUIDATION_FORM_FIELDS))
        obj.pk = saved.pk
        obj.refresh_from_db()
