"""Writes of the reports app: issuing a report PDF. The only rows the app writes are its `IssuedReport`s."""
from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.exceptions import InvalidInput
from reports.models import IssuedReport, ReportKind

__all__ = ["report_issue", "FIRST_YEAR"]

FIRST_YEAR = 1990  # no device register reaches further back


def _issuers():
    from reports import documents

    return {
        ReportKind.INVENTORY_REGISTER: documents.inventory_register_issue,
        ReportKind.EOL_FORECAST: documents.eol_forecast_issue,
        ReportKind.DISPOSAL_REPORT: documents.disposal_report_issue,
    }


def _validated(kind: str, as_of: date | None, year: int | None) -> tuple[date, int | None]:
    """The report's day and year, or InvalidInput naming the field at fault."""
    today = timezone.localdate()
    if kind not in ReportKind.values:
        raise InvalidInput(_("Choose one of the reports: %(kinds)s.")
                           % {"kinds": ", ".join(str(label) for label in ReportKind.labels)}, field="kind")
    if isinstance(as_of, datetime):
        as_of = timezone.localdate(as_of) if timezone.is_aware(as_of) else as_of.date()
    if as_of is not None and not isinstance(as_of, date):
        raise InvalidInput(_("Give the day as a date."), field="as_of")
    if as_of is not None and as_of > today:
        raise InvalidInput(_("A report describes the register as it stands or stood: the day cannot be in the "
                             "future."), field="as_of")
    if kind != ReportKind.DISPOSAL_REPORT:
        if year is not None:
            raise InvalidInput(_("Only the annual disposal report is for a year; this report is as of a day."),
                               field="year")
        return as_of or today, None
    if as_of is not None:
        raise InvalidInput(_("The annual disposal report covers a calendar year: give the year, not a day."),
                           field="as_of")
    if year is None:
        raise InvalidInput(_("Give the calendar year of the disposal report."), field="year")
    if isinstance(year, bool) or not isinstance(year, int):
        raise InvalidInput(_("Give the year as a number, such as %(year)d.") % {"year": today.year}, field="year")
    if year > today.year:
        raise InvalidInput(_("The year cannot be in the future."), field="year")
    if year < FIRST_YEAR:
        raise InvalidInput(_("Give a year from %(first)d on.") % {"first": FIRST_YEAR}, field="year")
    # The figures of the current year run up to today; of a past year, to its last day.
    return min(today, date(year, 12, 31)), year


@transaction.atomic
def report_issue(*, kind: str, by: AbstractBaseUser | None, as_of: date | None = None, year: int | None = None,
                 language: str | None = None) -> IssuedReport:
    """Issue one of the report PDFs and record it: the inventory register as of `as_of` (today by default),
    the end-of-life forecast from `as_of`'s year, or the annual disposal report for `year`.

    The PDF is written in `language` (the request's), else in the office's (settings.LANGUAGE_CODE), stored
    with its SHA-256 and verification code, and linked from the returned `IssuedReport`. Raises InvalidInput
    naming the field for a kind that does not exist, a day in the future, or a missing or future year.
    """
    as_of, year = _validated(kind, as_of, year)
    actor = by if by is not None and by.is_authenticated else None
    language = language or settings.LANGUAGE_CODE
    report = IssuedReport.objects.create(kind=kind, as_of=as_of, year=year, issued_at=timezone.now(), issued_by=actor,
                                         parameters={"language": language})
    with translation.override(language):
        report.document = _issuers()[kind](report=report, by=actor)
    report.save(update_fields=["document"])
    return report
