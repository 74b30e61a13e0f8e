"""The compliance check from the command line, for a nightly cron job.

    manage.py compliance_check                                   # the summary, then each gap
    manage.py compliance_check --kind loan_overdue --kind fault_open_too_long --fault-open-days 14
    manage.py compliance_check --json                            # the same as JSON, for a program
    manage.py compliance_check --fail-on-gaps                    # exit code 1 when any gap is found

Prints, per kind of gap, how many were found, then each gap: its record (with the admin page), the problem
and the fix. Written in the office's language (settings.LANGUAGE_CODE) unless --language says otherwise.
Exit codes: 0 done, 1 gaps found with --fail-on-gaps, 2 a bad option.
"""
from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.exceptions import DomainError
from reports.compliance import ComplianceReport, GapKind, run_check


class Command(BaseCommand):
    help = ("Check the whole register for compliance gaps (data that left the office, transfers without cover, "
            "overdue loans, ...) and print each with what would fix it.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", action="extend", nargs="+", default=None, metavar="KIND",
                            help="only these kinds of gap (repeatable): " + ", ".join(GapKind.values))
        parser.add_argument("--fault-open-days", type=int, default=None, metavar="N",
                            help="a fault not closed is a gap once reported more than N days ago "
                                 f"(default {settings.COMPLIANCE_FAULT_OPEN_DAYS})")
        parser.add_argument("--disk-destroy-days", type=int, default=None, metavar="N",
                            help="a removed disk is a gap once not destroyed N days after its removal "
                                 f"(default {settings.COMPLIANCE_DISK_DESTROY_DAYS})")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")
        parser.add_argument("--fail-on-gaps", action="store_true", help="exit with code 1 when any gap is found")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default=settings.LANGUAGE_CODE, help="the language of the texts (default: the office's)")

    def handle(self, *args, kind, fault_open_days, disk_destroy_days, as_json: bool, fail_on_gaps: bool,
               language: str, **options) -> None:
        with translation.override(language):
            try:
                report = run_check(kinds=kind, fault_open_days=fault_open_days, disk_destroy_days=disk_destroy_days)
            except DomainError as exc:
                option = "--" + (exc.field or "kind").replace("_", "-")
                raise CommandError(f"{option}: {exc.message}", returncode=2) from exc
            if as_json:
                self._json(report)
            else:
                self._text(report)
        if fail_on_gaps and report.total:
            self.stdout.flush()
            sys.exit(1)

    def _json(self, report: ComplianceReport) -> None:
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))

    def _text(self, report: ComplianceReport) -> None:
        parameters = report.parameters
        self.stdout.write(_("Compliance check of %(date)s (a fault is open too long after %(faults)d days, a removed "
                            "disk must be destroyed within %(disks)d days)") % {
            "date": timezone.localtime(report.checked_at).strftime("%d.%m.%Y %H:%M"),
            "faults": parameters["fault_open_days"], "disks": parameters["disk_destroy_days"]})
        width = max(len(row["label"]) for row in report.summary())
        for row in report.summary():
            self.stdout.write(f"  {row['label']:<{width}}  {row['count']:>6}")
        self.stdout.write(ngettext("%(count)d gap in all.", "%(count)d gaps in all.", report.total)
                          % {"count": report.total})
        site = settings.SITE_URL.rstrip("/")
        for gap in report.gaps:
            record = gap.record
            where = f" ({site}{record.url})" if record.url else ""
            self.stdout.write("")
            self.stdout.write(f"[{gap.label}] {record.label}{where}")
            self.stdout.write("  " + _("Problem: %(text)s") % {"text": gap.problem})
            self.stdout.write("  " + _("Fix: %(text)s") % {"text": gap.fix})
            if gap.since:
                self.stdout.write("  " + _("Since: %(date)s") % {"date": gap.since.strftime("%d.%m.%Y")})
