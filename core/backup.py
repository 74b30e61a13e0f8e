"""Backup and restore of the whole register: every row of the database and every stored file.

A backup is one directory:

    manifest.json   what the backup holds: its date, the database it came from, the applied migrations,
                    the number of records of every model, every issued document's code and SHA-256, and
                    the SHA-256 and size of every file below (data.jsonl included)
    data.jsonl      every row of every model, one JSON object a line (Django's serialisation, primary
                    keys kept as they are, so content type ids and GenericForeignKey subjects stay right)
    files/...       every file of the media storage (issued documents, scans, photos, imports) by its name

Django's serialisation is used rather than the database's own tools (the sqlite3 backup API, pg_dump)
because it is the same on SQLite and PostgreSQL, it can move a register from one to the other, it goes
through the configured storage for the files (a file system or anything else), and it can be checked
record by record. Rows are read in one transaction (REPEATABLE READ on PostgreSQL), so the data file is
one consistent picture; the counts and the document list of the manifest are taken from the rows
written, never counted apart.

A restore needs a database migrated to the same migrations and empty: the content types, permissions
and groups that `migrate` creates are replaced by the backup's, with their ids; any other record is a
refusal. It loads the rows in one transaction (Django's loaddata: no save() or history record runs,
sequences are reset), writes the files, and then checks the result against the manifest.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

import django
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.storage import open_stream

FORMAT = 1
MANIFEST = "manifest.json"
DATA = "data.jsonl"
FILES = "files"
CHUNK = 2000
# Rows `migrate` itself creates: replaced by the backup's, so they do not make a database "not empty".
SEEDED = (ContentType, Permission, Group)


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why."""


def sha256_of(stream) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def backed_up_models() -> list[type[models.Model]]:
    """Every concrete model with a table of its own (many-to-many links travel with their model)."""
    return [model for model in apps.get_models() if model._meta.managed and not model._meta.proxy]


def applied_migrations(using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connections[using]).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def storage_files(storage=None, directory: str = "") -> Iterator[str]:
    """The names of every file in the storage, walked from its root."""
    storage = storage or default_storage
    try:
        subdirectories, files = storage.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for name in sorted(subdirectories):
        yield from storage_files(storage, f"{directory}/{name}" if directory else name)


def _inside(root: Path, name: str) -> Path:
    """`root/name`, refusing a name that would leave `root` (an absolute path, `..`)."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BackupError(_("The backup names a file outside its directory: %(name)s") % {"name": name})
    return root.joinpath(*relative.parts)


def _counted(queryset, counts: Counter, label: str, keep: Callable[[Any], None] | None = None):
    for obj in queryset.iterator(chunk_size=CHUNK):
        counts[label] += 1
        if keep:
            keep(obj)
        yield obj


@contextmanager
def _snapshot(using: str):
    """A transaction that sees one moment of the database for all its reads."""
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def create_backup(directory: Path | str, *, using: str = DEFAULT_DB_ALIAS, storage=None) -> dict[str, Any]:
    """Write a backup of the database and the media storage into `directory` (new or empty); the manifest."""
    storage = storage or default_storage
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(_("%(path)s exists and is not an empty directory.") % {"path": directory})
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        try:
            return _write_backup(directory, using=using, storage=storage)
        except DatabaseError as error:
            message = _("The database could not be read (is it migrated?): %(error)s") % {"error": error}
            raise BackupError(message) from error
    except BaseException:
        # Leave no half-written backup behind: what was written here is removed.
        for name in (MANIFEST, DATA):
            (directory / name).unlink(missing_ok=True)
        shutil.rmtree(directory / FILES, ignore_errors=True)
        if created:
            directory.rmdir()
        raise


def _write_backup(directory: Path, *, using: str, storage) -> dict[str, Any]:
    from core.models import StoredDocument

    counts: Counter = Counter()
    documents: list[dict[str, str]] = []

    def keep_document(doc) -> None:
        documents.append({"code": doc.code, "file": doc.file.name, "sha256": doc.sha256})

    with _snapshot(using):
        started = timezone.now()
        migrations = applied_migrations(using)
        with open(directory / DATA, "w", encoding="utf-8") as out:
            for model in backed_up_models():
                label = model._meta.label
                queryset = model._base_manager.using(using).order_by(model._meta.pk.name)
                m2m = [field.name for field in model._meta.many_to_many
                       if field.remote_field.through._meta.auto_created]
                if m2m:
                    queryset = queryset.prefetch_related(*m2m)
                rows = _counted(queryset, counts, label, keep_document if model is StoredDocument else None)
                serializers.serialize("jsonl", rows, stream=out)
    files: dict[str, dict[str, Any]] = {}
    for name in storage_files(storage):
        target = _inside(directory / FILES, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open_stream(storage, name) as source, open(target, "wb") as copy:
            shutil.copyfileobj(source, copy, 1024 * 1024)
        with open(target, "rb") as copy:
            files[name] = {"sha256": sha256_of(copy), "size": target.stat().st_size}
    with open(directory / DATA, "rb") as data:
        data_sha256 = sha256_of(data)
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(),
        "django": django.get_version(),
        "database": connections[using].vendor,
        "migrations": migrations,
        "data": {"name": DATA, "sha256": data_sha256, "size": (directory / DATA).stat().st_size},
        "counts": {label: counts.get(label, 0) for label in sorted(m._meta.label for m in backed_up_models())},
        "documents": documents,
        "files": files,
    }
    with open(directory / MANIFEST, "w", encoding="utf-8") as out:
        json.dump(manifest, out, ensure_ascii=False, indent=1)
    return manifest


def read_manifest(directory: Path | str) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        with open(path, encoding="utf-8") as source:
            manifest = json.load(source)
    except FileNotFoundError:
        raise BackupError(_("%(path)s is not a backup: it has no manifest.") % {"path": directory}) from None
    except ValueError:
        raise BackupError(_("The backup's manifest is not valid JSON.")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("The backup's manifest is of an unknown format."))
    return manifest


def made_at(manifest: dict[str, Any]) -> str:
    """When the backup was made, in local time: DD.MM.YYYY HH:MM."""
    moment = parse_datetime(manifest.get("created_at") or "")
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M") if moment else "?"


def document_problems(documents: list[dict[str, str]], hash_of: Callable[[str], str | None]) -> list[str]:
    """Every document whose file is missing or does not hash to its SHA-256; `hash_of(name)` reads one file."""
    problems = []
    for doc in documents:
        actual = hash_of(doc["file"])
        if actual is None:
            problems.append(_("Document %(code)s: its file %(file)s is missing.") % doc)
        elif actual != doc["sha256"]:
            problems.append(_("Document %(code)s: its file %(file)s does not match its SHA-256.") % doc)
    return problems


def verify_backup(directory: Path | str) -> list[str]:
    """What is wrong with the backup in `directory` (an empty list: it is complete and unaltered)."""
    directory = Path(directory)
    try:
        manifest = read_manifest(directory)
    except BackupError as error:
        return [str(error)]
    problems = []
    data = directory / DATA
    if not data.is_file():
        return [_("The backup has no data file.")]
    with open(data, "rb") as source:
        if sha256_of(source) != manifest["data"]["sha256"]:
            problems.append(_("The data file does not match its SHA-256: it was changed."))
    counts: Counter = Counter()
    with open(data, encoding="utf-8") as source:
        for line in source:
            if line.strip():
                try:
                    counts[json.loads(line)["model"]] += 1
                except (ValueError, KeyError, TypeError):
                    problems.append(_("The data file has a line that is not a record."))
                    break
    for label, expected in manifest["counts"].items():
        if counts.get(label.lower(), 0) != expected:
            problems.append(_("%(model)s: in the data file %(found)d, in the manifest %(expected)d.")
                            % {"model": label, "found": counts.get(label.lower(), 0), "expected": expected})
    root = directory / FILES
    actual: dict[str, str] = {}
    for name, facts in manifest["files"].items():
        try:
            path = _inside(root, name)
        except BackupError as error:
            problems.append(str(error))
            continue
        if not path.is_file():
            problems.append(_("File %(name)s is missing.") % {"name": name})
            continue
        with open(path, "rb") as source:
            actual[name] = sha256_of(source)
        if actual[name] != facts["sha256"] or path.stat().st_size != facts["size"]:
            problems.append(_("File %(name)s does not match its SHA-256: it was changed.") % {"name": name})
    if root.is_dir():
        listed = set(manifest["files"])
        for path in sorted(root.rglob("*")):
            name = path.relative_to(root).as_posix()
            if path.is_file() and name not in listed:
                problems.append(_("File %(name)s is not in the manifest.") % {"name": name})
    problems += document_problems(manifest["documents"], actual.get)
    return problems


def database_records(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """The number of records of every backed-up model now in the database."""
    return {model._meta.label: model._base_manager.using(using).count() for model in backed_up_models()}


def not_empty(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The models that already hold records (other than what `migrate` creates)."""
    return [model._meta.label for model in backed_up_models()
            if model not in SEEDED and model._base_manager.using(using).exists()]


def _storage_hash(storage) -> Callable[[str], str | None]:
    def hash_of(name: str) -> str | None:
        if not name or not storage.exists(name):
            return None
        with open_stream(storage, name) as source:
            return sha256_of(source)
    return hash_of


def check_restored(manifest: dict[str, Any], *, using: str = DEFAULT_DB_ALIAS, storage=None) -> list[str]:
    """What differs between the database and storage now and the backup's manifest."""
    from core.models import StoredDocument

    storage = storage or default_storage
    problems = []
    records = database_records(using)
    for label, expected in manifest["counts"].items():
        if records.get(label) != expected:
            problems.append(_("%(model)s: restored %(found)s, in the backup %(expected)d.")
                            % {"model": label, "found": records.get(label, _("no table")), "expected": expected})
    stored = [{"code": doc.code, "file": doc.file.name, "sha256": doc.sha256}
              for doc in StoredDocument.objects.using(using).order_by("pk").iterator(chunk_size=CHUNK)]
    expected_docs = {doc["code"]: doc for doc in manifest["documents"]}
    if {doc["code"]: doc for doc in stored} != expected_docs:
        problems.append(_("The issued documents differ from the backup's list."))
    problems += document_problems(stored, _storage_hash(storage))
    return problems


def restore_backup(directory: Path | str, *, using: str = DEFAULT_DB_ALIAS, storage=None) -> list[str]:
    """Restore the backup in `directory` into the empty database and storage; what the check found wrong.

    Refuses (BackupError, nothing written) a backup that fails its own check, a database with other
    migrations applied or holding records, and a storage holding a different file under a backed-up name.
    """
    storage = storage or default_storage
    directory = Path(directory)
    problems = verify_backup(directory)
    if problems:
        raise BackupError(_("The backup fails its check:") + "\n" + "\n".join(problems))
    manifest = read_manifest(directory)
    if manifest["migrations"] != applied_migrations(using):
        raise BackupError(_("The database's migrations differ from the backup's: migrate it to the same "
                            "migrations (the manifest lists them) first."))
    filled = not_empty(using)
    if filled:
        raise BackupError(_("The database is not empty (records in %(models)s): a backup is restored only "
                            "into an empty database.") % {"models": ", ".join(filled)})
    hash_of = _storage_hash(storage)
    to_write = []
    for name, facts in manifest["files"].items():
        present = hash_of(name)
        if present is None:
            to_write.append(name)
        elif present != facts["sha256"]:
            raise BackupError(_("The media storage already holds a different file %(name)s.") % {"name": name})
    with transaction.atomic(using=using):
        # What `migrate` created is replaced by the backup's rows, ids included.
        Group.objects.using(using).all().delete()
        Permission.objects.using(using).all().delete()
        ContentType.objects.using(using).all().delete()
        ContentType.objects.clear_cache()
        call_command("loaddata", str(directory / DATA), database=using, verbosity=0)
    ContentType.objects.clear_cache()
    root = directory / FILES
    for name in to_write:
        with open(_inside(root, name), "rb") as source:
            saved = storage.save(name, File(source, name=name))
        if saved != name:
            raise BackupError(_("The media storage saved %(name)s as %(saved)s.") % {"name": name, "saved": saved})
    return check_restored(manifest, using=using, storage=storage)
