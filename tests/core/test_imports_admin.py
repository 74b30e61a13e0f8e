"""Imports of spreadsheets in the admin: a file is previewed from "Import a spreadsheet", its page shows what
the dry run found (the invalid rows among it) and applies it with the SHA-256 it showed, or cancels it.
Every refusal is an error message, never a 500, and nothing is written.

The pages run under an English request, so that messages read as the code writes them."""
import re

import pytest
from django.contrib import messages as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assets.models import Device, DeviceEvent
from core.choices import ImportStatus
from core.models import ImportBatch
from core.roles import Role
from tests.core.test_imports_api import VALID, WITH_INVALID, sha
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/core/importbatch/"
UPLOAD = f"{LIST}upload/"


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def clerk(db):
    """A staff member of the IT office: the role may import suppliers, contracts and devices."""
    return UserFactory(roles=[Role.IT_OFFICE], first_name="Jan", last_name="Informatyk")


@pytest.fixture
def it_admin(clerk):
    return client_for(clerk)


def _messages(response, level=None) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if level is None or m.level == level]


def page(batch: ImportBatch) -> str:
    return f"{LIST}{batch.pk}/change/"


def upload(client, content: bytes, *, table: str = "devices", skip_invalid: bool = False, name: str = "sprzet.csv"):
    data = {"table": table, "file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if skip_invalid:
        data["skip_invalid"] = "on"
    return client.post(UPLOAD, data)


def test_the_list_links_to_the_upload_page_which_offers_the_tables_the_user_may_import(it_admin):
    listed = it_admin.get(LIST)
    assert listed.status_code == 200
    assert UPLOAD in listed.content.decode() and "Import a spreadsheet" in listed.content.decode()

    form_page = it_admin.get(UPLOAD)

    assert form_page.status_code == 200
    choices = {key for key, _label in form_page.context["form"].fields["table"].choices}
    assert choices == {"suppliers", "contracts", "devices", "snipeit_assets"}
    assert "inventory_number" in form_page.content.decode()  # the columns of each table


def test_the_upload_page_previews_then_the_preview_page_shows_the_invalid_rows_and_confirm_applies(it_admin, clerk):
    response = upload(it_admin, WITH_INVALID, skip_invalid=True)

    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == page(batch)
    assert not Device.objects.exists()  # only a dry run
    assert batch.created_by == clerk and batch.skip_invalid
    assert any("invalid rows" in m and "Nothing is written" in m
               for m in _messages(response, message_levels.WARNING))

    shown = it_admin.get(page(batch))

    assert shown.status_code == 200
    html = shown.content.decode()
    preview = shown.context["import_preview"]
    assert [(e["row"], e["column"], e["value"]) for e in preview["errors"]] == [(4, "kind", "toaster")]
    assert 'id="core-import-errors"' in html and "<code>toaster</code>" in html and "not one of" in html
    assert "Pokój" in html  # the column not kept
    assert "a device&#x27;s status changes only through its lifecycle" in html  # the ignored one, with why
    assert "UM/IMP/001" in html and "UM/IMP/002" in html  # the first records to create
    assert 'id="core-import-confirm"' in html and 'id="core-import-cancel"' in html
    assert re.search(rf'name="confirm-sha256" value="{batch.sha256}"', html)

    applied = it_admin.post(f"{LIST}{batch.pk}/confirm/", {"confirm-sha256": batch.sha256})

    assert applied.status_code == 302 and applied["Location"] == page(batch)
    assert any("applied" in m for m in _messages(applied, message_levels.SUCCESS))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.APPLIED and batch.decided_by == clerk
    assert set(Device.objects.values_list("inventory_number", flat=True)) == {"UM/IMP/001", "UM/IMP/002"}
    assert set(DeviceEvent.objects.values_list("import_batch", flat=True)) == {batch.pk}
    again = it_admin.get(page(batch)).content.decode()
    assert 'id="core-import-confirm"' not in again and 'id="core-import-errors"' in again


def test_a_preview_with_invalid_rows_not_skipped_offers_no_confirmation_and_refuses_one(it_admin):
    upload(it_admin, WITH_INVALID)
    batch = ImportBatch.objects.get()

    html = it_admin.get(page(batch)).content.decode()

    assert "it cannot be applied" in html
    assert 'id="core-import-confirm"' not in html and 'id="core-import-cancel"' in html
    refused = it_admin.post(f"{LIST}{batch.pk}/confirm/", {"confirm-sha256": batch.sha256}, follow=True)
    assert refused.status_code == 200
    assert any("invalid rows" in m for m in _messages(refused, message_levels.ERROR))
    assert not Device.objects.exists()
    assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED


def test_a_confirmation_naming_another_file_is_an_error_message_and_writes_nothing(it_admin):
    upload(it_admin, VALID)
    batch = ImportBatch.objects.get()

    refused = it_admin.post(f"{LIST}{batch.pk}/confirm/", {"confirm-sha256": sha(b"another file")}, follow=True)

    assert refused.status_code == 200
    assert any("not the file that was previewed" in m for m in _messages(refused, message_levels.ERROR))
    assert not Device.objects.exists()


def test_cancelling_a_preview_from_its_page(it_admin, clerk):
    upload(it_admin, VALID)
    batch = ImportBatch.objects.get()

    cancelled = it_admin.post(f"{LIST}{batch.pk}/cancel/", {}, follow=True)

    assert cancelled.status_code == 200
    assert any("cancelled" in m for m in _messages(cancelled, message_levels.SUCCESS))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED and batch.decided_by == clerk
    assert 'id="core-import-cancel"' not in cancelled.content.decode()
    again = it_admin.post(f"{LIST}{batch.pk}/confirm/", {"confirm-sha256": batch.sha256}, follow=True)
    assert any("cannot become" in m for m in _messages(again, message_levels.ERROR))
    assert not Device.objects.exists()


@pytest.mark.parametrize(("content", "name", "reason"), [
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "faktura.pdf", "neither CSV nor XLSX"),
    (b"Imi\xc4\x99;Nazwisko\nJan;Kowalski\n", "lista.csv", "None of the columns"),
])
def test_a_file_that_is_no_table_of_devices_is_shown_again_with_the_reason(it_admin, content, name, reason):
    response = upload(it_admin, content, name=name)

    assert response.status_code == 200
    assert any(reason in m for m in _messages(response, message_levels.ERROR))
    assert any(reason in str(e) for e in response.context["form"].errors["file"])
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_limit_is_refused_on_the_page(it_admin, settings):
    settings.IMPORT_MAX_UPLOAD_SIZE = 100
    response = upload(it_admin, VALID)
    assert response.status_code == 200 and "file" in response.context["form"].errors
    assert not ImportBatch.objects.exists()


def test_a_table_the_user_may_not_import_is_not_offered(make_user):
    manager = client_for(make_user(Role.PROJECT_MANAGER))  # imports beneficiaries, not devices
    response = upload(manager, VALID)
    assert response.status_code == 200 and "table" in response.context["form"].errors
    assert not ImportBatch.objects.exists()


def test_who_may_not_import_gets_no_upload_page_and_no_buttons(make_user, it_admin):
    upload(it_admin, VALID)
    batch = ImportBatch.objects.get()
    auditor = client_for(make_user(Role.AUDITOR))  # reads the imports, imports nothing

    assert auditor.get(UPLOAD).status_code == 403
    assert UPLOAD not in auditor.get(LIST).content.decode()
    html = auditor.get(page(batch)).content.decode()
    assert "UM/IMP/001" in html and 'id="core-import-confirm"' not in html
    assert auditor.post(f"{LIST}{batch.pk}/confirm/", {"confirm-sha256": batch.sha256}).status_code == 403
    assert auditor.post(f"{LIST}{batch.pk}/cancel/").status_code == 403
    assert client_for(make_user(is_staff=True)).get(LIST).status_code == 403  # staff without a role
    assert not Device.objects.exists() and ImportBatch.objects.get().status == ImportStatus.PREVIEWED


def test_the_list_shows_each_import_with_its_counts_and_the_pages_open_in_polish(it_admin, clerk):
    upload(it_admin, WITH_INVALID)
    listed = it_admin.get(LIST)
    assert listed.status_code == 200
    rows = list(listed.context["cl"].result_list)
    assert [(b.file_name, b.rows_total, b.rows_created, b.rows_invalid, b.created_by) for b in rows] == [
        ("sprzet.csv", 3, 2, 1, clerk)]
    polish = client_for(clerk, "pl")
    assert polish.get(LIST).status_code == 200
    assert polish.get(UPLOAD).status_code == 200
    assert polish.get(page(rows[0])).status_code == 200
