"""The admin's two actions on people (core.privacy): "Export personal data (JSON)" downloads everything held
about the selected people; "Anonymise" shows what will happen and, once confirmed, erases each one whose
retention period is over (a refusal is a message naming the reason; the others go on)."""
from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from core.admin_utils import run_service
from core.api.privacy import personal_data_response


class PersonalDataAdminMixin:
    """Set the services and permissions; add PERSONAL_DATA_ACTIONS to `actions`."""

    personal_data_export = None  # export(subject) -> dict
    personal_data_anonymise = None  # anonymise(subject, by=user)
    personal_data_retention = None  # retention_ends_on(subject) -> date
    personal_data_name = "subject"
    export_permission = ""
    anonymise_permission = ""

    def has_export_personal_data_permission(self, request) -> bool:
        return request.user.has_perm(self.export_permission)

    def has_anonymise_permission(self, request) -> bool:
        return request.user.has_perm(self.anonymise_permission)


@admin.action(description=gettext_lazy("Export personal data (JSON)"), permissions=["export_personal_data"])
def export_personal_data(modeladmin, request, queryset):
    export = type(modeladmin).personal_data_export
    subjects = [export(subject) for subject in queryset.order_by("pk")]
    name = modeladmin.personal_data_name
    if len(subjects) == 1:
        name = f"{name}-{subjects[0]['subject']['id']}"
    return personal_data_response({"subjects": subjects}, name=name, by=request.user)


@admin.action(description=gettext_lazy("Anonymise"), permissions=["anonymise"])
def anonymise(modeladmin, request, queryset):
    subjects = list(queryset.order_by("pk"))
    if "apply" in request.POST:
        erase = type(modeladmin).personal_data_anonymise
        done = sum(run_service(request, erase, subject, by=request.user) is not None for subject in subjects)
        if done:
            messages.success(request, ngettext("The personal data of %(count)d person was anonymised.",
                                               "The personal data of %(count)d people was anonymised.", done)
                             % {"count": done})
        return None
    retention = type(modeladmin).personal_data_retention
    rows = [(subject, _("%(subject)s: retention period ends on %(date)s")
             % {"subject": subject, "date": retention(subject).strftime("%d.%m.%Y")}, None) for subject in subjects]
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Anonymise"),
        "rows": rows,
        "form": None,
        "note": _("Names, addresses, contact details, notes, eligibility scans and fault photos are erased for good, "
                  "in the records and their history, and a councillor's account is closed. The issued documents "
                  "are kept unaltered. A person whose retention period is not over, or who still holds a device, "
                  "is refused."),
        "media": modeladmin.media,
        "action_name": "anonymise",
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/core/action_form.html", context)


PERSONAL_DATA_ACTIONS = [export_personal_data, anonymise]
