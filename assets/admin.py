"""Admin of the register. Saving and every lifecycle action call assets.services, as the API does."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import models
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assets import services
from assets.choices import DEVICE_GONE, RetirementReason
from assets.documents import device_card_issue
from assets.models import Contract, Device, DeviceEvent, Kit, StorageMedium, Supplier
from core.admin import HistoryAdmin, ReadOnlyAdminMixin, ServiceAdminMixin
from core.admin_utils import run_service
from core.admin_export import RegisterExportMixin
from assets.resources import ContractResource, DeviceResource, SupplierResource


def _form_data(form, fields) -> dict:
    """The form's cleaned values for `fields`; a cleared file field (False in Django forms) becomes ''."""
    data = {name: form.cleaned_data[name] for name in fields if name in form.cleaned_data}
    return {name: ("" if value is False and isinstance(form.fields[name], forms.FileField) else value)
            for name, value in data.items()}


class ServiceSavedAdmin(ServiceAdminMixin, HistoryAdmin):
    """Create and update through `create_service` / `update_service`, never `obj.save()` here."""

    create_service = None
    update_service = None
    update_kwarg = ""
    # Polish clerks type 2890,00: money is entered and shown in the active language's format.
    formfield_overrides = {models.DecimalField: {"localize": True}}

    def save_model(self, request, obj, form, change) -> None:
        data = _form_data(form, form.base_fields if not change else form.changed_data)
        if change:
            saved = type(self).update_service(**{self.update_kwarg: obj}, by=request.user, **data)
        else:
            saved = type(self).create_service(by=request.user, **data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Supplier)
class SupplierAdmin(RegisterExportMixin, ServiceSavedAdmin):
    resource_classes = [SupplierResource]
    list_display = ["name", "nip", "address", "contact_person", "phone"]
    list_filter = ["contracts__funding_source", "created_at"]
    search_fields = ["name", "nip", "regon", "address", "contact_person"]
    create_service = services.supplier_create
    update_service = services.supplier_update
    update_kwarg = "supplier"


@admin.register(Contract)
class ContractAdmin(RegisterExportMixin, ServiceSavedAdmin):
    resource_classes = [ContractResource]
    list_display = ["number", "supplier", "signed_on", "value", "funding_source", "procurement_basis"]
    list_filter = ["funding_source", "signed_on", "supplier"]
    search_fields = ["number", "subject", "supplier__name", "procurement_basis", "funding_details"]
    list_select_related = ["supplier"]
    autocomplete_fields = ["supplier"]
    date_hierarchy = "signed_on"
    create_service = services.contract_create
    update_service = services.contract_update
    update_kwarg = "contract"


class StorageMediumInline(admin.TabularInline):
    model = StorageMedium
    extra = 0
    can_delete = False
    fields = ["kind", "manufacturer", "model", "serial_number", "capacity_gb", "may_hold_personal_data", "notes"]


class DeviceEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeviceEvent
    extra = 0
    fields = ["occurred_at", "from_status", "to_status", "reason", "reference", "actor", "document"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]


# --- lifecycle actions ---------------------------------------------------------------------------

class MoveForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PutInUseForm(MoveForm):
    location = forms.CharField(label=_("New location"), required=False, max_length=200)


class RepairForm(MoveForm):
    reason = forms.CharField(label=_("Fault"), widget=forms.Textarea(attrs={"rows": 3}))


class RetireForm(MoveForm):
    retirement_reason = forms.ChoiceField(label=_("Why is it retired"), choices=RetirementReason.choices)


class ReportLostForm(MoveForm):
    reference = forms.CharField(label=_("Police report or incident number"), max_length=200)


def _move_action(move: str, form_class: type[forms.Form], label):
    target, service = services.DEVICE_MOVES[move]

    def action(modeladmin, request, queryset: QuerySet[Device]):
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            moved = 0
            for device in queryset.order_by("inventory_number"):
                done = run_service(request, lambda d=device: service(device=d, by=request.user, **form.cleaned_data))
                moved += done is not None
            if moved:
                messages.success(request, ngettext("%(count)d device moved.", "%(count)d devices moved.", moved)
                                 % {"count": moved})
            return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": label,
            "form": form,
            "devices": queryset.order_by("inventory_number"),
            "action_name": f"move_{move.replace('-', '_')}",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
        }
        return TemplateResponse(request, "admin/assets/device/move.html", context)

    action.__name__ = f"move_{move.replace('-', '_')}"
    return admin.action(description=label, permissions=["move"])(action)


class InRegisterFilter(admin.SimpleListFilter):
    """The active register, or what has left it (transferred, scrapped, lost or stolen)."""

    title = _("register")
    parameter_name = "in_register"

    def lookups(self, request, model_admin):
        return [("1", _("in the active register")), ("0", _("left the register"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.exclude(status__in=DEVICE_GONE)
        if self.value() == "0":
            return queryset.filter(status__in=DEVICE_GONE)
        return queryset


@admin.register(Device)
class DeviceAdmin(RegisterExportMixin, ServiceSavedAdmin):
    resource_classes = [DeviceResource]
    list_display = ["inventory_number", "kind", "manufacturer", "model", "serial_number", "status", "location",
                    "purchase_date", "managed_by"]
    list_filter = [InRegisterFilter, "status", "kind", "managed_by", "retirement_reason", "purchase_date",
                   "contract__funding_source", "funding_source", "contract"]
    search_fields = ["inventory_number", "serial_number", "manufacturer", "model", "location", "notes",
                     "media__serial_number"]
    list_select_related = ["contract", "kit"]
    autocomplete_fields = ["contract", "managing_vendor", "kit"]
    readonly_fields = ["status", "status_changed_at", "retirement_reason"]
    date_hierarchy = "purchase_date"
    inlines = [StorageMediumInline, DeviceEventInline]
    fieldsets = [
        (None, {"fields": ["inventory_number", "kind", "manufacturer", "model", "serial_number"]}),
        (_("Purchase"), {"fields": ["purchase_date", "purchase_price", "contract", "funding_source",
                                    "warranty_ends_on", "expected_life_years"]}),
        (_("Where and who"), {"fields": ["location", "managed_by", "managing_vendor", "kit", "notes"]}),
        (_("Lifecycle"), {"fields": ["status", "status_changed_at", "retirement_reason"]}),
    ]
    actions = [
        _move_action("put-in-use", PutInUseForm, _("Put in use")),
        _move_action("return-to-stock", MoveForm, _("Return to stock")),
        _move_action("send-to-repair", RepairForm, _("Send to repair")),
        _move_action("retire", RetireForm, _("Retire")),
        _move_action("report-lost", ReportLostForm, _("Report lost or stolen")),
        "issue_record_card",
    ]
    create_service = services.device_register
    update_service = services.device_update
    update_kwarg = "device"


    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status in DEVICE_GONE:
            # The device has left the office: its record is kept as it was, only notes may be added.
            return [f.name for f in Device._meta.fields if f.name not in {"id", "notes"}]
        return self.readonly_fields

    def has_move_permission(self, request) -> bool:
        return request.user.has_perm("assets.move_device")

    def has_issue_card_permission(self, request) -> bool:
        return request.user.has_perm("assets.issue_device_card")

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not StorageMedium:
            return super().save_formset(request, form, formset, change)
        fields = StorageMediumInline.fields
        # The admin's change message reads these three lists, which formset.save() would have filled.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.cleaned_data:
                continue
            if inline_form.instance.pk:
                medium = services.storage_medium_update(medium=inline_form.instance, by=request.user,
                                                        **_form_data(inline_form, inline_form.changed_data))
                formset.changed_objects.append((medium, inline_form.changed_data))
            else:
                medium = services.storage_medium_add(device=form.instance, by=request.user,
                                                     **_form_data(inline_form, fields))
                formset.new_objects.append(medium)

    @admin.action(description=_("Issue record card (PDF)"), permissions=["issue_card"])
    def issue_record_card(self, request, queryset: QuerySet[Device]):
        for device in queryset.order_by("inventory_number")[:50]:
            document = run_service(request, device_card_issue, device=device, by=request.user)
            if document is not None:
                messages.success(request, _("Record card of %(number)s issued, verification code %(code)s.")
                                 % {"number": device.inventory_number, "code": document.code})


@admin.register(StorageMedium)
class StorageMediumAdmin(ServiceSavedAdmin):
    list_display = ["__str__", "device", "kind", "serial_number", "capacity_gb", "may_hold_personal_data"]
    list_filter = ["kind", "may_hold_personal_data", "device__status"]
    search_fields = ["serial_number", "manufacturer", "model", "device__inventory_number"]
    list_select_related = ["device"]
    autocomplete_fields = ["device"]
    create_service = services.storage_medium_add
    update_service = services.storage_medium_update
    update_kwarg = "medium"


class KitForm(forms.ModelForm):
    devices = forms.ModelMultipleChoiceField(
        label=_("devices"), queryset=Device.objects.exclude(status__in=DEVICE_GONE), required=False,
        widget=admin.widgets.FilteredSelectMultiple(_("devices"), is_stacked=False),
    )

    class Meta:
        model = Kit
        fields = ["code", "name", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Offer only what may join: devices in no kit, and this kit's own.
        free = self.fields["devices"].queryset.filter(kit__isnull=True)
        if self.instance.pk:
            self.fields["devices"].queryset = free | Device.objects.filter(kit=self.instance)
            self.fields["devices"].initial = list(self.instance.devices.values_list("pk", flat=True))
        else:
            self.fields["devices"].queryset = free


@admin.register(Kit)
class KitAdmin(ServiceSavedAdmin):
    form = KitForm
    list_display = ["code", "name", "device_count"]
    list_filter = ["devices__kind", "devices__status"]
    search_fields = ["code", "name", "devices__inventory_number"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(device_count=models.Count("devices"))

    @admin.display(description=_("devices"), ordering="device_count")
    def device_count(self, obj: Kit) -> int:
        return obj.device_count
    create_service = services.kit_create
    update_service = services.kit_update
    update_kwarg = "kit"

    def save_model(self, request, obj, form, change) -> None:
        data = _form_data(form, ["code", "name", "notes"])
        devices = list(form.cleaned_data["devices"])
        saved = (services.kit_update(kit=obj, by=request.user, devices=devices, **data) if change
                 else services.kit_create(by=request.user, devices=devices, **data))
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.register(DeviceEvent)
class DeviceEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "device", "from_status", "to_status", "reason", "reference", "actor"]
    list_filter = ["to_status", "from_status", "occurred_at"]
    search_fields = ["device__inventory_number", "reason", "reference", "request_id"]
    list_select_related = ["device", "actor"]
    date_hierarchy = "occurred_at"
