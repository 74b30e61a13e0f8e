"""Admin of fault reports: the IT office reads each report and moves it along from its page; every
move calls faults.services, as the API does."""
from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import HistoryAdmin, ReadOnlyAdminMixin
from core.admin_utils import run_service
from faults import services
from faults.choices import FAULT_CLOSED
from faults.forms import FaultHandleForm
from faults.models import FaultEvent, FaultReply, FaultReport

SERVICES = {
    "acknowledge": services.fault_acknowledge,
    "start-work": services.fault_start_work,
    "resolve": services.fault_resolve,
    "replace": services.fault_replace,
    "reject": services.fault_reject,
}


class OpenFilter(admin.SimpleListFilter):
    title = _("open")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("open")), ("no", _("closed"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(status__in=FAULT_CLOSED)
        if self.value() == "no":
            return queryset.filter(status__in=FAULT_CLOSED)
        return queryset


class FaultReplyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FaultReply
    fields = ["created_at", "author", "from_office", "body"]
    readonly_fields = fields
    extra = 0


class FaultEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FaultEvent
    fields = ["occurred_at", "actor", "from_status", "to_status", "reason"]
    readonly_fields = fields
    extra = 0


@admin.register(FaultReport)
class FaultReportAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ["id", "created_at", "device", "recipient", "category", "status", "status_changed_at"]
    list_filter = [OpenFilter, "status", "category", "created_at"]
    search_fields = ["description", "device__inventory_number", "loan__recipient__name", "contact"]
    list_select_related = ["device", "loan__recipient"]
    date_hierarchy = "created_at"
    fields = ["device", "loan", "recipient", "reporter", "category", "description", "photo_link", "contact",
              "status", "status_changed_at", "replacement", "replacement_loan", "created_at"]
    readonly_fields = fields
    inlines = [FaultReplyInline, FaultEventInline]
    change_form_template = "admin/faults/faultreport/change_form.html"

    @admin.display(description=_("recipient"), ordering="loan__recipient__name")
    def recipient(self, obj: FaultReport) -> str:
        return obj.loan.recipient.name

    @admin.display(description=_("photo"))
    def photo_link(self, obj: FaultReport) -> str:
        if not obj.photo:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("protected-media", kwargs={"path": obj.photo.name}),
                           _("open the photo"))

    def get_urls(self):
        return [path("<int:pk>/handle/", self.admin_site.admin_view(self.handle_view), name="faults_faultreport_handle"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        fault = self.get_object(request, object_id)
        if fault is not None and request.user.has_perm("faults.handle_fault"):
            moves = [name for name, _target in services.fault_allowed_moves(fault)]
            extra_context["handle_form"] = FaultHandleForm(moves=moves)
            extra_context["handle_url"] = reverse("admin:faults_faultreport_handle", args=[fault.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def handle_view(self, request, pk: int):
        """Apply the chosen move (or send only the message) through the service; refusals are messages."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:faults_faultreport_change", args=[pk]))
        if not request.user.has_perm("faults.handle_fault"):
            raise PermissionDenied
        fault = get_object_or_404(FaultReport, pk=pk)
        moves = [name for name, _target in services.fault_allowed_moves(fault)]
        form = FaultHandleForm(request.POST, moves=moves)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
            return HttpResponseRedirect(reverse("admin:faults_faultreport_change", args=[pk]))
        move, reply = form.cleaned_data["move"], form.cleaned_data["reply"]
        if move == "reply":
            run_service(request, services.fault_reply, fault=fault, by=request.user, body=reply,
                        success=_("The message was sent to the reporter."))
        else:
            kwargs = {"fault": fault, "by": request.user, "reply": reply}
            if move == "start-work":
                kwargs["take_into_repair"] = form.cleaned_data.get("take_into_repair", False)
            if move == "replace":
                if not form.cleaned_data.get("replacement"):
                    messages.error(request, _("Choose the replacement device."))
                    return HttpResponseRedirect(reverse("admin:faults_faultreport_change", args=[pk]))
                kwargs["replacement"] = form.cleaned_data["replacement"]
            run_service(request, SERVICES[move], **kwargs, success=_("Fault report %(id)s is now: %(status)s.") % {
                "id": fault.pk, "status": services.FAULT_MOVES[move].label})
        return HttpResponseRedirect(reverse("admin:faults_faultreport_change", args=[pk]))

