"""Pages of the reports: the compliance check (/reports/compliance/, URL name `reports:compliance`).

A summary table (kind, count, a link that shows only that kind), then the gaps a page at a time, each with a
link to its record's admin page, the problem and the fix; above them a small GET form for the kinds and the
two day thresholds. For whoever holds `reports.view_compliance_check` (the IT and legal offices, the
auditor); anyone else gets a 403.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import DomainError
from reports.compliance import GapKind, run_check
from reports.views.base import page

__all__ = ["compliance", "ComplianceForm", "urlpatterns"]

PER_PAGE = 100


class ComplianceForm(forms.Form):
    """What to check: the kinds of gap (all when none is ticked) and the two thresholds in days."""

    kind = forms.MultipleChoiceField(label=gettext_lazy("kinds of gap"), choices=GapKind.choices, required=False,
                                     widget=forms.CheckboxSelectMultiple,
                                     help_text=gettext_lazy("None ticked: every kind."))
    fault_open_days = forms.IntegerField(
        label=gettext_lazy("a fault is open too long after (days)"), required=False, min_value=0, max_value=36500,
        widget=forms.NumberInput(attrs={"placeholder": settings.COMPLIANCE_FAULT_OPEN_DAYS}))
    disk_destroy_days = forms.IntegerField(
        label=gettext_lazy("a removed disk must be destroyed within (days)"), required=False, min_value=0,
        max_value=36500, widget=forms.NumberInput(attrs={"placeholder": settings.COMPLIANCE_DISK_DESTROY_DAYS}))


def _query(**values) -> str:
    return "?" + urlencode([(key, value) for key, value in values.items() if value not in (None, "", [])],
                           doseq=True)


@login_required
def compliance(request: HttpRequest) -> HttpResponse:
    """Run the check with the form's parameters (defaults when the form is empty) and show what it found."""
    if not request.user.has_perm("reports.view_compliance_check"):
        raise PermissionDenied
    form = ComplianceForm(request.GET or None, initial={"fault_open_days": settings.COMPLIANCE_FAULT_OPEN_DAYS,
                                                       "disk_destroy_days": settings.COMPLIANCE_DISK_DESTROY_DAYS})
    report = gaps = None
    if form.is_bound and not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for message in errors:
                messages.error(request, f"{label}: {message}" if label else message)
    else:
        data = form.cleaned_data if form.is_bound else {}
        try:
            report = run_check(kinds=data.get("kind") or None, fault_open_days=data.get("fault_open_days"),
                               disk_destroy_days=data.get("disk_destroy_days"))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            gaps = Paginator(report.gaps, PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "report": report, "gaps": gaps}
    if report is not None:
        days = {"fault_open_days": report.parameters["fault_open_days"],
                "disk_destroy_days": report.parameters["disk_destroy_days"]}
        asked = report.parameters["kinds"]
        context["summary"] = [{**row, "link": _query(kind=row["kind"], **days)} for row in report.summary()]
        context["page_query"] = _query(kind=asked if len(asked) < len(GapKind.values) else [], **days)
    return page(request, "reports/compliance.html", context, title=_("Compliance check"))


urlpatterns = [path("compliance/", compliance, name="compliance")]
