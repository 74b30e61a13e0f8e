"""The reports app's background job (core.jobs): issuing a report PDF too large to wait for in a request
(the inventory register of a whole city, the disposal report of a year). One unit: the report and its stored
PDF, in one transaction with the job's record of it, so a dead worker leaves no half-issued report."""
from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import InvalidInput
from core.jobs import JobContext, JobKind, register
from reports.services import _validated, report_issue

__all__ = ["ISSUE_REPORT", "register_jobs"]

ISSUE_REPORT = "reports.report_issue"


def _clean(params: dict, by) -> dict:
    as_of = params.get("as_of")
    if isinstance(as_of, str) and as_of:
        try:
            as_of = date.fromisoformat(as_of)
        except ValueError:
            raise InvalidInput(_("Give the day as a date."), field="as_of") from None
    elif as_of in ("", None):
        as_of = None
    kind = params.get("kind")
    if not isinstance(kind, str):
        raise InvalidInput(_("Choose the report to issue."), field="kind")
    year = params.get("year")
    # the same checks as an issue in the request (a future day, a missing year, ...)
    _validated(kind, as_of, year)
    language = params.get("language") or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    return {"kind": kind, "as_of": as_of.isoformat() if as_of else None, "year": year, "language": language}


def _run(ctx: JobContext) -> dict:
    params = ctx.params
    as_of = date.fromisoformat(params["as_of"]) if params.get("as_of") else None
    issued = {}

    def issue():
        issued["report"] = report_issue(kind=params["kind"], by=ctx.by, as_of=as_of, year=params.get("year"),
                                        language=params.get("language"))
        return issued["report"]

    ctx.set_total(1)
    ctx.run_item("report", issue, skip_refused=False)
    report = issued.get("report")
    if report is None:  # issued by an earlier run of this job
        item = ctx.job.items.get(key="report")
        from reports.models import IssuedReport

        report = IssuedReport.objects.select_related("document").get(pk=item.object_id)
    return {"report": report.pk, "code": report.document.code if report.document else None}


def register_jobs() -> None:
    register(JobKind(name=ISSUE_REPORT, label=gettext_lazy("issue a report PDF"), run=_run, clean=_clean,
                     permissions=("reports.issue_report",)))
