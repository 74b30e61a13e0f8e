"""Pages of the reports: the report PDFs (/reports/documents/): a form to issue each of the three reports and
the list of those issued, with their codes and downloads."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import DomainError
from reports.models import IssuedReport, ReportKind
from reports.services import FIRST_YEAR, report_issue
from reports.views.base import page

__all__ = ["documents", "IssueReportForm", "urlpatterns"]

RECENT = 50  # issued reports listed on the page; the admin's list has them all


class IssueReportForm(forms.Form):
    """One of the three reports, with its day (the register, the forecast) or its year (the disposals)."""

    kind = forms.ChoiceField(label=gettext_lazy("report"), choices=ReportKind.choices)
    as_of = forms.DateField(label=gettext_lazy("as of"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            input_formats=["%Y-%m-%d", "%d.%m.%Y"],
                            help_text=gettext_lazy("The inventory register and the forecast: the day they describe "
                                                   "(today if left empty)."))
    year = forms.IntegerField(label=gettext_lazy("year"), required=False, min_value=FIRST_YEAR, max_value=9999,
                              help_text=gettext_lazy("The annual disposal report: its calendar year."))
    background = forms.BooleanField(
        label=gettext_lazy("in the background"), required=False,
        help_text=gettext_lazy("For a large register: a background job issues it, and its page shows how far it got "
                               "and, once done, the report."))


def _errors(form: forms.Form) -> list[str]:
    return [f"{form.fields[name].label}: {message}" if name in form.fields else message
            for name, errors in form.errors.items() for message in errors]


def _issue_in_background(request: HttpRequest, data: dict, annual: bool) -> HttpResponse:
    """Start the report's background job (reports.jobs) and go to its page, which shows its progress."""
    from core.jobs import job_start
    from reports.jobs import ISSUE_REPORT

    as_of = None if annual else data["as_of"]
    try:
        job = job_start(kind=ISSUE_REPORT, by=request.user,
                        params={"kind": data["kind"], "as_of": as_of.isoformat() if as_of else None,
                                "year": data["year"] if annual else None, "language": get_language()})
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reports:documents")
    messages.success(request, _("Job #%(id)s issues the report in the background; this page shows how far it got.")
                     % {"id": job.pk})
    return redirect("admin:core_job_change", job.pk)


@login_required
def documents(request: HttpRequest) -> HttpResponse:
    """The report PDFs: issue one (reports.issue_report) and read the list of those issued
    (reports.view_issuedreport). Anyone without either right gets a 403."""
    may_issue = request.user.has_perm("reports.issue_report")
    may_view = request.user.has_perm("reports.view_issuedreport")
    if not (may_issue or may_view):
        raise PermissionDenied
    if request.method == "POST":
        if not may_issue:
            raise PermissionDenied
        form = IssueReportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            # The form offers a day and a year to every report; each report takes the one it is for.
            annual = data["kind"] == ReportKind.DISPOSAL_REPORT
            if data["background"]:
                return _issue_in_background(request, data, annual)
            try:
                report = report_issue(kind=data["kind"], by=request.user, as_of=None if annual else data["as_of"],
                                      year=data["year"] if annual else None, language=get_language())
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                document = report.document
                messages.success(request, format_html(
                    '{} <a href="{}">{}</a>',
                    _("%(title)s is issued, verification code %(code)s.") % {"title": document.title,
                                                                            "code": document.code},
                    reverse("document-download", kwargs={"code": document.code}), _("Download the PDF")))
                return redirect("reports:documents")
        else:
            for message in _errors(form):
                messages.error(request, message)
    else:
        form = IssueReportForm(initial={"as_of": timezone.localdate(), "year": timezone.localdate().year - 1})
    reports = (IssuedReport.objects.select_related("issued_by", "document")[:RECENT] if may_view else [])
    return page(request, "reports/documents.html", {"form": form if may_issue else None, "reports": reports,
                                                    "may_view": may_view},
                title=_("Report PDFs"))


urlpatterns = [path("documents/", documents, name="documents")]
