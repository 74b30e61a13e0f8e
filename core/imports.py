"""Imports of spreadsheets: the dry run, the confirmation, and the record of both (ImportBatch).

An app declares what it can import as an `Importer` (assets: suppliers, contracts, devices with their
media; donations: beneficiaries) and registers it in its AppConfig.ready(); the admin, the API and the
`import_table` command find them here by key.

How one import goes:

1. `import_preview` reads the uploaded file through core.tabular, a chunk of rows at a time, and hands
   each chunk to the importer, which validates it against the database in a few queries and writes what
   is valid, exactly as it would for real, inside a transaction that is then rolled back. So the preview
   is what the import does, not a guess, and memory does not grow with the file. The file and the
   preview are kept as an `ImportBatch`: counts of rows to create, update and leave alone, every invalid
   row with its row number, column, value and reason, the columns not kept, and a digest of the plan.
2. `import_confirm` checks that the file is the one previewed (its SHA-256), runs the same import again
   for real and keeps it only if its plan has the same digest as the preview's: if the register changed
   in between so that a row would now do something else, nothing is written and the user previews again.
3. Any invalid row means nothing is written, unless the batch was previewed with `skip_invalid`.
"""
from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import actor as _actor
from core.choices import IMPORT_TRANSITIONS, ImportStatus, RowAction
from core.exceptions import GuardFailed, InvalidInput, TransitionNotAllowed
from core.models import ImportBatch, ImportRow
from core.tabular import ColumnMap, Reading, Row, read_rows

__all__ = [
    "ImportContext",
    "Importer",
    "Issue",
    "RowResult",
    "get_importer",
    "import_cancel",
    "import_confirm",
    "import_preview",
    "importers",
    "register",
    "visible_batches",
]

User = AbstractBaseUser

# What the preview keeps of a large file: every count, but only the first rows of each list.
PREVIEW_ERRORS = 1000
PREVIEW_SAMPLES = 100


@dataclass(frozen=True, slots=True)
class Issue:
    """Why a row cannot be imported: its row number in the file, the column as headed there, the value."""

    row: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass(slots=True)
class RowResult:
    """What the import does with one row: its key (None when the row has none it may claim) and action."""

    row: int
    key: str | None
    action: str
    issues: list[Issue] = field(default_factory=list)
    changed: tuple[str, ...] = ()


@dataclass
class ImportContext:
    """What an importer needs beyond the rows: the batch, the person, the file's columns, the time."""

    batch: ImportBatch
    by: User | None
    mapping: dict[str, str]  # field -> header as written in the file
    columns: ColumnMap
    now: Any = field(default_factory=timezone.now)
    # What an importer keeps for the length of one run (looked-up references, converted cells): an
    # importer itself is shared by every run and keeps nothing, since messages are in the caller's language.
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def user_id(self) -> int | None:
        person = _actor(self.by)
        return person.pk if person is not None else None

    def column(self, name: str) -> str:
        """The column as the file heads it, or as the import names it when the file has no such column."""
        return self.mapping.get(name) or self.columns.label(name)

    def issue(self, row: Row | int, name: str, value: Any, reason: str) -> Issue:
        number = row.number if isinstance(row, Row) else row
        return Issue(number, self.column(name), "" if value is None else str(value), str(reason))

    @property
    def only_new(self) -> bool:
        return self.batch.only_new

    def already_registered(self, row: Row | int, name: str, key: str, record: Any) -> Issue:
        """The refusal of a row naming an existing record when the import takes new records only."""
        return self.issue(row, name, key, _("already registered (%(record)s); this import takes new records only")
                          % {"record": record})

    def reason(self, row: int) -> str:
        """The change reason in the history of a record written from `row`."""
        return f"import #{self.batch.pk}, row {row}"

    def earlier_rows(self, keys: Iterable[str]) -> dict[str, int]:
        """Keys already claimed by an earlier chunk of this file, with the row that claimed them."""
        from core.bulk import fetch_in, table

        return dict(fetch_in(f"SELECT key, row FROM {table(ImportRow)} WHERE batch_id = %s AND key IN ({{values}})",
                             list(keys), before=[self.batch.pk]))


class Importer:
    """What one table's import knows: its columns, and how to validate and write a chunk of rows.

    `columns` map header names to fields; `ignored` are fields recognised in a file but never imported,
    with the reason the preview shows (a device's status changes only through its lifecycle).
    `process` gets a chunk of rows and returns a RowResult for each, in order; it writes the valid rows
    (the engine rolls the writes back for a dry run) and never writes an invalid one.
    """

    key: str = ""
    label = gettext_lazy("table")
    columns: ColumnMap
    ignored: dict[str, Any] = {}
    permissions: tuple[str, ...] = ()  # needed to import into this table
    # Needed to see this table's imports at all: their files and previews carry the table's data (the
    # beneficiaries' names and addresses), so whoever may not read the table may not read its imports.
    view_permission: str = ""
    chunk_size = 2000

    def process(self, rows: list[Row], ctx: ImportContext) -> list[RowResult]:
        raise NotImplementedError

    def user_may_import(self, user) -> bool:
        return bool(user and user.is_active and user.has_perm("core.apply_importbatch")
                    and user.has_perms(self.permissions))

    # Whether a file for this import is headed by the other system's names (Snipe-IT's "Asset Tag")
    # rather than by the register's field names.
    foreign_headers = False

    def template_header(self) -> list[str]:
        """The columns of an empty file to fill in: the field names, or the other system's headers."""
        names = [name for name in self.columns.fields if name not in self.ignored]
        return [self.columns.label(name) for name in names] if self.foreign_headers else names


_REGISTRY: dict[str, Importer] = {}


def visible_batches(user, queryset=None):
    """The imports `user` may read: those of the tables whose records they may read."""
    queryset = ImportBatch.objects.all() if queryset is None else queryset
    if not (user and user.is_active and user.has_perm("core.view_importbatch")):
        return queryset.none()
    return queryset.filter(table__in=[i.key for i in _REGISTRY.values() if user.has_perm(i.view_permission)])


def register(importer: Importer) -> Importer:
    _REGISTRY[importer.key] = importer
    return importer


def importers() -> list[Importer]:
    return list(_REGISTRY.values())


def get_importer(table: str) -> Importer:
    try:
        return _REGISTRY[table]
    except KeyError:
        raise InvalidInput(_("There is no import for “%(table)s”; choose one of: %(tables)s.")
                           % {"table": table, "tables": ", ".join(sorted(_REGISTRY))}, field="table") from None


# -- the engine -----------------------------------------------------------------------------------------


@dataclass
class _Summary:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: list[dict] = field(default_factory=list)
    errors_total: int = 0
    created_keys: list[dict] = field(default_factory=list)
    updated_keys: list[dict] = field(default_factory=list)
    digest: Any = field(default_factory=hashlib.sha256)

    def add(self, result: RowResult) -> None:
        self.total += 1
        action = result.action
        if action == RowAction.CREATE:
            self.created += 1
            if len(self.created_keys) < PREVIEW_SAMPLES:
                self.created_keys.append({"row": result.row, "key": result.key})
        elif action == RowAction.UPDATE:
            self.updated += 1
            if len(self.updated_keys) < PREVIEW_SAMPLES:
                self.updated_keys.append({"row": result.row, "key": result.key, "fields": list(result.changed)})
        elif action == RowAction.UNCHANGED:
            self.unchanged += 1
        else:
            self.invalid += 1
            self.errors_total += len(result.issues)
            room = PREVIEW_ERRORS - len(self.errors)
            if room > 0:
                self.errors.extend(issue.as_dict() for issue in result.issues[:room])
        self.digest.update(f"{result.row}\t{action}\t{result.key or ''}\t{','.join(result.changed)}\n".encode())


def _chunks(reading: Reading, size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in reading:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _record_rows(batch: ImportBatch, results: list[RowResult]) -> None:
    from core.bulk import BulkWriter

    BulkWriter(ImportRow).insert([{"batch_id": batch.pk, "row": r.row, "key": r.key[:255], "action": r.action}
                                  for r in results if r.key is not None])


def _run(batch: ImportBatch, file: IO[bytes], *, importer: Importer, by: User | None,
         progress: Callable[[int], None] | None) -> tuple[_Summary, Reading]:
    """Read, validate and write the whole file; the caller's transaction decides whether it stays."""
    # An import allocates millions of short-lived objects; each of Python's full collections would walk
    # the whole heap of the process (Django, the app) again. Frozen, the heap is left out of them: a
    # fifth of the time of a large import. The rows' own garbage is still collected as usual.
    gc.freeze()
    try:
        return _read_and_write(batch, file, importer=importer, by=by, progress=progress)
    finally:
        gc.unfreeze()


def _read_and_write(batch: ImportBatch, file: IO[bytes], *, importer: Importer, by: User | None,
                    progress: Callable[[int], None] | None) -> tuple[_Summary, Reading]:
    with read_rows(file, filename=batch.file_name, columns=importer.columns) as reading:
        ctx = ImportContext(batch=batch, by=by, mapping=dict(reading.mapping), columns=importer.columns)
        summary = _Summary()
        for chunk in _chunks(reading, importer.chunk_size):
            results = importer.process(chunk, ctx)
            _record_rows(batch, results)
            for result in results:
                summary.add(result)
            if progress is not None:
                progress(summary.total)
    return summary, reading


def _preview_of(summary: _Summary, reading: Reading, importer: Importer) -> dict[str, Any]:
    fmt = reading.format
    ignored = [{"column": reading.mapping[name], "reason": str(reason)}
               for name, reason in importer.ignored.items() if name in reading.mapping]
    return {
        "format": {"kind": fmt.kind, "encoding": fmt.encoding, "delimiter": fmt.delimiter},
        "columns": {name: header for name, header in reading.mapping.items() if name not in importer.ignored},
        "ignored_columns": ignored,
        "unknown_columns": list(reading.unknown_columns),
        "created": summary.created_keys,
        "updated": summary.updated_keys,
        "errors": summary.errors,
        "errors_total": summary.errors_total,
    }


class _DryRun(Exception):
    """Raised at the end of a dry run to roll its writes back."""


def _hash(file: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for block in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(block)
        size += len(block)
    file.seek(0)
    return digest.hexdigest(), size


def _check_size(size: int) -> None:
    limit = settings.IMPORT_MAX_UPLOAD_SIZE
    if size > limit:
        raise InvalidInput(
            _("The file is %(size)s MB; an import takes at most %(limit)s MB. Split it, or ask the administrator "
              "to run it with the import_table command.") % {"size": f"{size / 2**20:.1f}", "limit": f"{limit / 2**20:.0f}"},
            code="file_too_large", field="file")


def _apply_counts(batch: ImportBatch, summary: _Summary) -> None:
    batch.rows_total = summary.total
    batch.rows_created = summary.created
    batch.rows_updated = summary.updated
    batch.rows_unchanged = summary.unchanged
    batch.rows_invalid = summary.invalid


def import_preview(*, table: str, file: IO[bytes], file_name: str, by: User | None, skip_invalid: bool = False,
                   only_new: bool = False,
                   size: int | None = None, progress: Callable[[int], None] | None = None,
                   check_size: bool = True) -> ImportBatch:
    """Dry-run an import of `file` into `table` and keep the file with what the run found.

    Raises InvalidInput (on `file`) for a file too large, empty, not a table or whose header matches
    nothing: then nothing is kept. Invalid rows do not raise: they are the preview. The size limit
    (IMPORT_MAX_UPLOAD_SIZE) is for uploads; the import_table command, run by an administrator on the
    server, turns it off with `check_size=False`.
    """
    importer = get_importer(table)
    sha256, measured = _hash(file)
    if check_size:
        _check_size(size if size is not None else measured)
    name = (file_name or "import").replace("\\", "/").rsplit("/", 1)[-1][:200] or "import"
    with transaction.atomic():
        batch = ImportBatch(table=importer.key, file_name=name, size=measured, sha256=sha256,
                            skip_invalid=skip_invalid, only_new=only_new, created_by=_actor(by))
        batch.save()
        try:
            with transaction.atomic():
                summary, reading = _run(batch, file, importer=importer, by=by, progress=progress)
                raise _DryRun
        except _DryRun:
            pass
        except IntegrityError:
            raise GuardFailed(_("The register changed while the import ran; preview the file again."),
                              code="register_changed") from None
        file.seek(0)
        _apply_counts(batch, summary)
        batch.preview = _preview_of(summary, reading, importer)
        batch.plan_digest = summary.digest.hexdigest()
        batch.file = File(file, name=name)  # stored on save, named by its content (core.models._import_path)
        batch.save()
    return batch


def _transition(batch: ImportBatch, to: str) -> None:
    if to not in IMPORT_TRANSITIONS[batch.status]:
        raise TransitionNotAllowed(_("Import #%(id)s is %(status)s; it cannot become %(to)s.")
                                   % {"id": batch.pk, "status": batch.get_status_display(),
                                      "to": ImportStatus(to).label}, field="status")


def import_confirm(*, batch: ImportBatch, by: User | None, sha256: str = "", file: IO[bytes] | None = None,
                   progress: Callable[[int], None] | None = None) -> ImportBatch:
    """Apply a previewed import, exactly as previewed.

    The caller proves which file it confirms: the SHA-256 shown in the preview, or the file itself again.
    Refused (409) when the batch is not a preview any more, when the file differs from the previewed one,
    when the preview had invalid rows and was not made to skip them, and when the register has changed
    so that the import would now do something else than the preview said.
    """
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        _transition(batch, ImportStatus.APPLIED)
        if file is not None:
            sha256, _size = _hash(file)
        if not sha256:
            raise InvalidInput(_("Confirm with the SHA-256 of the previewed file, or send the file again."),
                               field="sha256")
        if sha256.strip().lower() != batch.sha256:
            raise GuardFailed(_("This is not the file that was previewed (its SHA-256 differs): the file has "
                                "changed since. Preview it again."), code="file_changed", field="sha256")
        if batch.rows_invalid and not batch.skip_invalid:
            raise GuardFailed(
                _("The preview found %(count)s invalid rows: correct the file and preview it again, or preview it "
                  "again choosing to skip invalid rows.") % {"count": batch.rows_invalid},
                code="invalid_rows", field="skip_invalid")
        importer = get_importer(batch.table)
        with batch.file.open("rb") as stored:
            stored_sha, _size = _hash(stored)
            if stored_sha != batch.sha256:
                raise GuardFailed(_("The stored file no longer matches its SHA-256; preview the file again."),
                                  code="file_changed", field="sha256")
            try:
                with transaction.atomic():
                    summary, _reading = _run(batch, stored, importer=importer, by=by, progress=progress)
            except IntegrityError:
                # Another import or a clerk registered the same record while this one ran.
                raise GuardFailed(_("The register changed while the import ran; preview the file again."),
                                  code="register_changed") from None
        if summary.digest.hexdigest() != batch.plan_digest:
            raise GuardFailed(
                _("The register has changed since the preview: the import would now do something else than "
                  "the preview said (it would create %(created)s, update %(updated)s, leave %(unchanged)s "
                  "unchanged and find %(invalid)s invalid). Preview the file again.")
                % {"created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged,
                   "invalid": summary.invalid}, code="register_changed")
        batch.status = ImportStatus.APPLIED
        batch.decided_at = timezone.now()
        batch.decided_by = _actor(by)
        batch.save(update_fields=["status", "decided_at", "decided_by"])
    return batch


def import_cancel(*, batch: ImportBatch, by: User | None) -> ImportBatch:
    """Drop a preview that will not be applied; the record stays, with who cancelled it."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        _transition(batch, ImportStatus.CANCELLED)
        batch.status = ImportStatus.CANCELLED
        batch.decided_at = timezone.now()
        batch.decided_by = _actor(by)
        batch.save(update_fields=["status", "decided_at", "decided_by"])
    return batch


# -- applying an import in the background (core.jobs) -------------------------------------------------------

def _confirm_job_clean(params: dict, by: User | None) -> dict:
    """The batch to apply and the SHA-256 that proves the file: checked now, so that a mistake is a 400/409
    at once rather than a failed job later; the job runs `import_confirm`, which checks them all again."""
    raw = params.get("batch")
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidInput(_("Name the import to apply by its number."), field="batch")
    batch = visible_batches(by).filter(pk=raw).first() if by is not None else ImportBatch.objects.filter(pk=raw).first()
    if batch is None:
        raise InvalidInput(_("There is no import #%(id)s you may apply.") % {"id": raw}, field="batch")
    _transition(batch, ImportStatus.APPLIED)
    sha256 = str(params.get("sha256") or "").strip().lower()
    if not sha256:
        raise InvalidInput(_("Confirm with the SHA-256 of the previewed file, or send the file again."),
                           field="sha256")
    if sha256 != batch.sha256:
        raise GuardFailed(_("This is not the file that was previewed (its SHA-256 differs): the file has "
                            "changed since. Preview it again."), code="file_changed", field="sha256")
    return {"batch": batch.pk, "sha256": sha256}


def _confirm_job_may_start(user, params: dict) -> bool:
    batch = ImportBatch.objects.filter(pk=params.get("batch")).first() if isinstance(params.get("batch"), int) else None
    return batch is None or get_importer(batch.table).user_may_import(user)


def _confirm_job_run(ctx) -> dict:
    """One unit: the whole import, in its one transaction (a worker dying in it leaves nothing written)."""
    batch = ImportBatch.objects.get(pk=ctx.params["batch"])
    units = max(batch.rows_total, 1)
    ctx.set_total(units)
    ctx.run_item(f"import:{batch.pk}", lambda: import_confirm(batch=batch, by=ctx.by, sha256=ctx.params["sha256"],
                                                               progress=ctx.progress),
                 label=str(batch), skip_refused=False, units=units)
    batch.refresh_from_db()
    return {"import": batch.pk, "status": batch.status, "created": batch.rows_created,
            "updated": batch.rows_updated, "unchanged": batch.rows_unchanged, "invalid": batch.rows_invalid}


def confirm_job_kind():
    from core.jobs import JobKind

    return JobKind(name="core.import_confirm", label=gettext_lazy("apply an import"), run=_confirm_job_run,
                   clean=_confirm_job_clean, permissions=("core.apply_importbatch",),
                   may_start=_confirm_job_may_start)
