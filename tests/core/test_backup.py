"""Backup and restore: the whole register and its files come back, altered backups and full databases are refused."""
import hashlib
import json

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import translation

from assets.documents import device_card_issue
from core.backup import database_records, storage_files
from core.models import StoredDocument
from core.roles import Role, sync_roles
from tests.factories import (UserFactory, lend_tablet, make_councillor, make_device, make_medium, make_retired,
                             sanitize)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def build_register():
    """Devices, a loan with its agreement, a wiped and certified laptop, a record card and an import file."""
    it_user = UserFactory(roles=[Role.IT_OFFICE], first_name="Tomasz", last_name="Technik")
    validator = UserFactory(roles=[Role.IT_OFFICE], first_name="Wanda", last_name="Walidator")
    lend_tablet(make_councillor("Ewa Radna"), by=it_user)
    sanitize(make_retired(by=it_user), technician=it_user, validator=validator)
    device = make_device(by=it_user, kind="laptop", notes="Zażółć gęślą jaźń")
    make_medium(device=device, kind="ssd", capacity_gb=256)
    device_card_issue(device=device, by=it_user)
    default_storage.save("imports/2026/11/inwentarz.csv", ContentFile("numer;opis\nUM/1;laptop\n".encode()))


def documents_in_storage():
    """Every issued document: its code, subject, SHA-256 on record and the SHA-256 of its stored file."""
    found = {}
    for doc in StoredDocument.objects.order_by("code"):
        with default_storage.open(doc.file.name, "rb") as source:
            found[doc.code] = (str(doc.subject), doc.sha256, hashlib.sha256(source.read()).hexdigest())
    return found


def renumber_content_types():
    """What `migrate` leaves in a new database, numbered as if migrated in another order: content types,
    permissions and the role groups with their permissions."""
    names = list(ContentType.objects.order_by("-pk").values_list("app_label", "model"))
    ContentType.objects.all().delete()
    ContentType.objects.clear_cache()
    for app_label, model in names:
        ContentType.objects.create(app_label=app_label, model=model)
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role in (Role.IT_OFFICE, Role.PROJECT_MANAGER, Role.LEGAL_OFFICE, Role.COUNCILLOR, Role.AUDITOR):
        Group.objects.get_or_create(name=role)
    sync_roles()


def empty_storage():
    for name in list(storage_files()):
        default_storage.delete(name)


def media_contents():
    result = {}
    for name in storage_files():
        with default_storage.open(name, "rb") as source:
            result[name] = source.read()
    return result


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_restored_into_an_emptied_database_gives_back_every_record_and_document(tmp_path, capsys):
    build_register()
    counts = database_records()
    documents = documents_in_storage()
    media = media_contents()
    assert len(documents) >= 3 and all(on_record == stored for _subject, on_record, stored in documents.values())

    call_command("backup", output=str(tmp_path / "b"))
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert {label: n for label, n in manifest["counts"].items() if n} == {k: n for k, n in counts.items() if n}
    assert {doc["code"]: doc["sha256"] for doc in manifest["documents"]} == {
        code: sha for code, (_subject, sha, _stored) in documents.items()}
    assert manifest["created_at"] and manifest["migrations"]["core"]
    call_command("backup", check=str(tmp_path / "b"))
    assert "complete and unaltered" in capsys.readouterr().out

    call_command("flush", interactive=False, verbosity=0)
    empty_storage()
    assert StoredDocument.objects.count() == 0 and not list(storage_files())
    # A database migrated elsewhere numbers its content types differently from the one backed up.
    loan_type = ContentType.objects.get(app_label="loans", model="loan").pk
    renumber_content_types()
    assert ContentType.objects.get(app_label="loans", model="loan").pk != loan_type
    assert Group.objects.get(name=Role.IT_OFFICE).permissions.exists()

    call_command("restore", input=str(tmp_path / "b"))
    out = capsys.readouterr().out
    assert f"issued documents matching their SHA-256: {len(documents)}." in out
    assert database_records() == counts
    # The same documents, each about the same subject (content type ids came back), each file intact.
    assert documents_in_storage() == documents
    assert media_contents() == media
    # The register goes on: new records get new ids (on PostgreSQL the sequences were moved past the backup's).
    make_device(kind="tablet")
    assert database_records()["assets.Device"] == counts["assets.Device"] + 1


@pytest.mark.django_db
def test_a_changed_file_in_a_backup_is_detected_and_the_backup_is_not_restored(tmp_path):
    build_register()
    call_command("backup", output=str(tmp_path / "b"))
    document = StoredDocument.objects.filter(kind__contains="loan").first() or StoredDocument.objects.first()
    pdf = tmp_path / "b" / "files" / document.file.name
    pdf.write_bytes(pdf.read_bytes().replace(b"Ewa", b"Eva", 1) + b"%")

    with pytest.raises(CommandError, match="fails its check"):
        call_command("backup", check=str(tmp_path / "b"))
    with pytest.raises(CommandError) as refused:
        call_command("restore", input=str(tmp_path / "b"))
    assert document.file.name in str(refused.value) and document.code in str(refused.value)


@pytest.mark.django_db
def test_a_changed_data_file_is_detected(tmp_path):
    build_register()
    call_command("backup", output=str(tmp_path / "b"))
    data = tmp_path / "b" / "data.jsonl"
    data.write_text(data.read_text(encoding="utf-8").replace("Ewa Radna", "Ewa Inna"), encoding="utf-8")
    with pytest.raises(CommandError, match="fails its check"):
        call_command("backup", check=str(tmp_path / "b"))


@pytest.mark.django_db
def test_a_restore_into_a_database_holding_records_is_refused_and_changes_nothing(tmp_path):
    build_register()
    call_command("backup", output=str(tmp_path / "b"))
    make_device(kind="tablet")
    counts = database_records()
    with pytest.raises(CommandError, match="not empty") as refused:
        call_command("restore", input=str(tmp_path / "b"))
    assert "assets.Device" in str(refused.value)
    with translation.override("pl"), pytest.raises(CommandError, match="nie jest pusta"):
        call_command("restore", input=str(tmp_path / "b"))
    assert database_records() == counts


@pytest.mark.django_db
def test_a_backup_is_never_written_over_an_existing_one(tmp_path):
    call_command("backup", output=str(tmp_path / "b"))
    with pytest.raises(CommandError, match="not an empty directory"):
        call_command("backup", output=str(tmp_path / "b"))
