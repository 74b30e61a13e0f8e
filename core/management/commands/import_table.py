"""Import a spreadsheet from the server's disk: the dry run, its preview, and with --apply the import itself.

    manage.py import_table devices /srv/inventory.csv                 # dry run: what the import would do
    manage.py import_table devices /srv/inventory.csv --apply         # the same, then applied
    manage.py import_table devices /srv/inventory.csv --apply --skip-invalid --user informatyk

The same import as in the admin and the API (core.imports), for files too large to upload: the upload
limit (IMPORT_MAX_UPLOAD_SIZE) does not apply here. The file is kept with its preview as an ImportBatch;
--apply confirms that batch with the file's SHA-256, so what is applied is what was just previewed. The
actor is the account named by --user (which must be allowed to import into the table), or the system.
Invalid rows are part of the preview; a refusal (a file that is no table, or with --apply invalid rows
without --skip-invalid, a register that changed in between) ends the command with its reason and exit
code 1, and nothing is written to the register.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.imports import Importer, get_importer, import_confirm, import_preview
from core.models import ImportBatch

# How many of the invalid rows' problems the preview prints; the admin's preview lists up to 1000.
SHOWN_ISSUES = 20
LONGEST_VALUE = 60


class Progress:
    """A progress line on stderr, redrawn in place with a carriage return: rows done, rows per second."""

    def __init__(self, stream: OutputWrapper, label: str) -> None:
        self.stream = stream
        self.label = label
        self.started = time.perf_counter()
        self.finished: float | None = None
        self.rows = 0
        self.width = 0

    @property
    def elapsed(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    def __call__(self, rows: int) -> None:
        self.rows = rows
        elapsed = self.elapsed
        rate = rows / elapsed if elapsed > 0 else 0.0
        line = _("%(label)s: %(rows)d rows, %(rate)d rows/s, %(seconds).0f s") % {
            "label": self.label, "rows": rows, "rate": rate, "seconds": elapsed}
        self.width = max(self.width, len(line))
        self.stream.write("\r" + line.ljust(self.width), ending="")
        self.stream.flush()

    def close(self) -> None:
        """Stop the clock and end the line, so that what follows starts on its own."""
        self.finished = time.perf_counter()
        if self.width:
            self.stream.write("")


def _value(value: str) -> str:
    return value if len(value) <= LONGEST_VALUE else value[:LONGEST_VALUE - 1] + "…"


class Command(BaseCommand):
    help = ("Import a CSV or XLSX file into a table of the register: a dry run that prints what it would do, "
            "and with --apply the import itself.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("table", help="what to import: suppliers, contracts, devices, snipeit_assets, ...")
        parser.add_argument("path", help="the CSV or XLSX file")
        parser.add_argument("--skip-invalid", action="store_true",
                            help="apply the valid rows and leave the invalid ones out (otherwise any invalid row "
                                 "stops the import)")
        parser.add_argument("--only-new", action="store_true",
                            help="new records only: a row whose key is already registered is invalid instead of "
                                 "updating that record")
        parser.add_argument("--apply", action="store_true", help="apply the import after the dry run")
        parser.add_argument("--user", metavar="USERNAME",
                            help="the account the import is recorded as made by (default: the system)")

    def handle(self, *args, table: str, path: str, skip_invalid: bool, only_new: bool, apply: bool, user: str | None,
               **options) -> None:
        try:
            importer = get_importer(table)
            by = self._user(user, importer) if user else None
            file_path = Path(path)
            try:
                file = file_path.open("rb")
            except OSError as error:
                raise CommandError(_("Cannot read %(path)s: %(error)s") % {
                    "path": path, "error": error.strerror or error}) from None
            with file:
                progress = Progress(self.stderr, _("Dry run"))
                try:
                    batch = import_preview(table=importer.key, file=file, file_name=file_path.name, by=by,
                                           skip_invalid=skip_invalid, only_new=only_new, progress=progress,
                                           check_size=False)
                finally:
                    progress.close()
            self._print_preview(batch, importer, seconds=progress.elapsed)
            if not apply:
                self.stdout.write(_("Dry run: nothing was written. Run the command again with --apply to apply "
                                    "the import."))
                return
            progress = Progress(self.stderr, _("Applying the import"))
            try:
                batch = import_confirm(batch=batch, by=by, sha256=batch.sha256, progress=progress)
            finally:
                progress.close()
        except DomainError as error:
            message = error.message
            if error.code == "invalid_rows":
                message += " " + _("(Run the command with --skip-invalid to apply the valid rows only.)")
            raise CommandError(message) from error
        self._print_applied(batch, seconds=progress.elapsed)

    def _user(self, username: str, importer: Importer) -> Any:
        User = get_user_model()
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(_("There is no account “%(username)s”.") % {"username": username}) from None
        if not importer.user_may_import(user):
            raise CommandError(_("The account “%(username)s” may not import %(table)s.")
                               % {"username": username, "table": importer.label})
        return user

    def _print_preview(self, batch: ImportBatch, importer: Importer, *, seconds: float) -> None:
        preview: dict[str, Any] = batch.preview
        write = self.stdout.write
        fmt = preview.get("format", {})
        kind = (fmt.get("kind") or "").upper()
        if fmt.get("kind") == "csv":
            kind = _("%(kind)s (%(encoding)s, separator “%(delimiter)s”)") % {
                "kind": kind, "encoding": fmt.get("encoding"),
                "delimiter": "TAB" if fmt.get("delimiter") == "\t" else fmt.get("delimiter")}
        write(_("Import #%(id)s of %(file)s into %(table)s: %(size)s, %(format)s") % {
            "id": batch.pk, "file": batch.file_name, "table": importer.label, "size": filesizeformat(batch.size),
            "format": kind})
        write(_("SHA-256: %(sha256)s") % {"sha256": batch.sha256})
        rate = batch.rows_total / seconds if seconds > 0 else 0.0
        write(_("Rows: %(total)d (dry run in %(seconds).1f s, %(rate)d rows/s): to create %(created)d, to update "
                "%(updated)d, unchanged %(unchanged)d, invalid %(invalid)d") % {
            "total": batch.rows_total, "seconds": seconds, "rate": rate, "created": batch.rows_created,
            "updated": batch.rows_updated, "unchanged": batch.rows_unchanged, "invalid": batch.rows_invalid})
        kept = [header if header == name else f"{header} ({name})"
                for name, header in preview.get("columns", {}).items()]
        write(_("Columns kept: %(columns)s") % {"columns": ", ".join(kept) or _("none")})
        write(_("Columns not kept (they mean nothing to this import): %(columns)s")
              % {"columns": ", ".join(preview.get("unknown_columns", [])) or _("none")})
        for ignored in preview.get("ignored_columns", []):
            write(_("Column ignored: %(column)s: %(reason)s") % ignored)
        issues = preview.get("errors", [])
        if issues:
            write(_("Invalid rows:"))
            for issue in issues[:SHOWN_ISSUES]:
                write("  " + _("row %(row)s, column %(column)s, value “%(value)s”: %(reason)s") % {
                    **issue, "value": _value(issue["value"])})
            more = preview.get("errors_total", len(issues)) - min(len(issues), SHOWN_ISSUES)
            if more > 0:
                write("  " + _("… and %(count)d more") % {"count": more})
            if batch.skip_invalid:
                write(_("With --skip-invalid, the invalid rows are left out and the others applied."))

    def _print_applied(self, batch: ImportBatch, *, seconds: float) -> None:
        rate = batch.rows_total / seconds if seconds > 0 else 0.0
        self.stdout.write(self.style.SUCCESS(
            _("Applied import #%(id)s in %(seconds).1f s (%(rate)d rows/s): created %(created)d, updated "
              "%(updated)d, left %(unchanged)d unchanged, skipped %(invalid)d invalid rows.") % {
                "id": batch.pk, "seconds": seconds, "rate": rate, "created": batch.rows_created,
                "updated": batch.rows_updated, "unchanged": batch.rows_unchanged, "invalid": batch.rows_invalid}))
