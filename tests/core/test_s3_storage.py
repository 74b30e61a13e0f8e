"""Documents and scans in an S3-compatible bucket (STORAGE_BACKEND=s3), as several app workers share them.

A real S3 server runs on loopback (moto's, started here on a free port: CI has no network), and the
settings are made by the same function the deployment's settings call (config.storages), with a key
prefix. What the office relies on is checked end to end: an issued PDF lands in the bucket, /verify/
confirms it and the permission-checked download streams it; an upload is kept there and served back;
another worker process reads what this one wrote and the other way round; backup and restore bring every
document back byte for byte; anonymisation removes the photo from the bucket; a bad configuration stops
the service at start.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
from datetime import date
from types import SimpleNamespace

import boto3
import environ
import pytest
from botocore.exceptions import ClientError
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from assets.models import Contract, Device
from config.storages import storages_from_env
from core.backup import create_backup, restore_backup, storage_files
from core.models import ImportBatch, StoredDocument
from core.roles import Role
from core.storage import S3Stream, open_stream
from faults import services as fault_services
from faults.models import FaultReport
from loans import privacy
from loans import services as loan_services
from loans.documents import handover_protocol_issue, loan_agreement_issue
from reports.compliance import GapKind, run_check
from tests.factories import (UserFactory, lend_tablet, make_councillor, make_device, make_supplier, make_term,
                             png_bytes)

PREFIX = "sprzet"
REGION = "eu-central-1"
SCAN = b"%PDF-1.4\n%skan umowy\n" + b"0" * 300_000 + b"\n%%EOF\n"  # big enough to stream in many chunks


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on 127.0.0.1 and a free port, for this module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, settings, monkeypatch):
    """A new empty bucket, and the media storage switched to it as a deployment would configure it."""
    bucket = f"sprzet-{secrets.token_hex(6)}"
    env = {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint, "S3_REGION": REGION,
           "S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret", "S3_PREFIX": PREFIX}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("NO_PROXY", "no_proxy"):  # a proxy set for the outside world must not catch loopback
        monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, aws_access_key_id="test-key",
                          aws_secret_access_key="test-secret")
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    # The settings fixture sends setting_changed, so Django drops the cached default storage.
    settings.STORAGES = storages_from_env(environ.Env())
    assert isinstance(storages["default"], S3Storage) and storages["default"].bucket_name == bucket
    return SimpleNamespace(bucket=bucket, client=client, env=env, endpoint=s3_endpoint)


def bucket_object(s3, name: str) -> bytes:
    """The object under the media name `name`, read by a client of its own (as another worker would)."""
    return s3.client.get_object(Bucket=s3.bucket, Key=f"{PREFIX}/{name}")["Body"].read()


def bucket_keys(s3) -> set[str]:
    listing = s3.client.list_objects_v2(Bucket=s3.bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def browser(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def private_download(response, content_type: str) -> bytes:
    """The body of a 200 a browser saves rather than shows, kept by no shared cache; its length announced."""
    assert response.status_code == 200
    assert response.streaming  # sent as it is read from the bucket, never read whole first
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    return body


def run_worker(s3, code: str, tmp_path) -> subprocess.CompletedProcess:
    """Another application worker: the real settings (config.settings.base) and only the environment."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", str(tmp_path)),
           "DJANGO_SETTINGS_MODULE": "config.settings.base", "SECRET_KEY": secrets.token_urlsafe(50),
           "SITE_URL": "http://testserver", "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
           "MEDIA_ROOT": str(tmp_path / "media"), **s3.env}
    return subprocess.run([sys.executable, "-c", code], cwd=django_settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def councillor_loan():
    user = UserFactory(roles=[Role.COUNCILLOR], is_staff=False, first_name="Ewa", last_name="Radna")
    recipient = loan_services.recipient_create(by=None, kind="councillor", name="Ewa Radna", user=user,
                                               address="ul. Sienkiewicza 12/4, 25-002 Kielce")
    return recipient, lend_tablet(recipient)


# --- issued documents --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_issued_pdf_is_kept_in_the_bucket_verifies_and_is_downloaded_through_the_app(s3, councillor_loan,
                                                                                        it_user):
    recipient, loan = councillor_loan
    document = loan_agreement_issue(loan=loan, by=it_user)

    assert document.file.name.startswith("documents/") and document.file.name.endswith(f"{document.code}.pdf")
    stored = bucket_object(s3, document.file.name)
    assert stored.startswith(b"%PDF-") and hashlib.sha256(stored).hexdigest() == document.sha256
    assert len(stored) == document.size
    # Private: no grant to everyone, and no address of the object anywhere but through the application.
    grants = s3.client.get_object_acl(Bucket=s3.bucket, Key=f"{PREFIX}/{document.file.name}")["Grants"]
    assert not [g for g in grants if "AllUsers" in g["Grantee"].get("URI", "")]

    page = browser().post(f"/verify/{document.code}/", {"file": SimpleUploadedFile("u.pdf", stored, "application/pdf")})
    assert page.status_code == 200 and page.context["matches"] is True
    forged = browser().post(f"/verify/{document.code}/", {"file": SimpleUploadedFile("u.pdf", stored + b" ")})
    assert forged.context["matches"] is False

    for url in (f"/documents/{document.code}/download/", f"/my/documents/{document.code}/"):
        assert browser(make_councillor("Jan Inny").user).get(url).status_code == 404
        assert private_download(browser(recipient.user).get(url), "application/pdf") == stored
    assert private_download(browser(it_user).get(f"/media/{document.file.name}"), "application/pdf") == stored

    # The compliance check hashes the kept file too: a changed object in the bucket is reported.
    assert not run_check(kinds=[GapKind.DOCUMENT_ALTERED]).gaps
    tampered = stored[:200] + bytes([stored[200] ^ 1]) + stored[201:]  # same size: only its hash tells
    s3.client.put_object(Bucket=s3.bucket, Key=f"{PREFIX}/{document.file.name}", Body=tampered)
    [gap] = run_check(kinds=[GapKind.DOCUMENT_ALTERED]).gaps
    assert gap.record.label == document.code


@pytest.mark.django_db
def test_another_worker_process_reads_what_this_one_wrote_and_the_other_way_round(s3, councillor_loan, tmp_path):
    _recipient, loan = councillor_loan
    document = handover_protocol_issue(loan=loan, by=None)
    code = f"""
import hashlib, json
import django
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from core.storage import open_stream
with open_stream(default_storage, {document.file.name!r}) as stream:
    sha256 = hashlib.sha256(stream.read()).hexdigest()
written = default_storage.save("imports/2026/11/z-innego-procesu.csv", ContentFile(b"numer;opis\\nUM/7;laptop\\n"))
print(json.dumps({{"backend": type(default_storage._wrapped).__name__, "sha256": sha256, "written": written}}))
"""
    result = run_worker(s3, code, tmp_path)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["backend"] == "S3Storage"
    assert seen["sha256"] == document.sha256
    with open_stream(default_storage, seen["written"]) as stream:
        assert stream.read() == b"numer;opis\nUM/7;laptop\n"
    assert f"{PREFIX}/{seen['written']}" in bucket_keys(s3)
    # Nothing went to either process's local disk.
    assert not (tmp_path / "media").exists()


# --- uploads -----------------------------------------------------------------------------------------

def post_contract(client, number: str, scan: bytes):
    return client.post("/api/contracts/", {
        "number": number, "signed_on": "2020-04-10", "supplier": make_supplier().pk, "value": "99000.00",
        "funding_source": "mayors_reserve", "procurement_basis": "art. 6 ustawy z 2 marca 2020 (COVID-19)",
        "scan": SimpleUploadedFile("umowa.pdf", scan, "application/pdf")}, format="multipart")


@pytest.mark.django_db
def test_uploaded_contract_scans_are_kept_in_the_bucket_and_served_to_the_office_only(s3, api, it_user, make_user):
    other = SCAN.replace(b"skan umowy", b"inna umowa")
    for number, scan in (("BRM.271.1.2020", SCAN), ("BRM.271.2.2020", other)):
        created = post_contract(api(it_user), number, scan)
        assert created.status_code == 201, created.data
    first, second = Contract.objects.order_by("number")
    # Both were sent as "umowa.pdf" in the same month: the second is kept beside the first, never over it.
    assert first.scan.name != second.scan.name
    assert first.scan.name.startswith("contracts/") and second.scan.name.endswith(".pdf")
    assert bucket_object(s3, first.scan.name) == SCAN and bucket_object(s3, second.scan.name) == other

    assert browser(make_user(Role.COUNCILLOR)).get(f"/media/{first.scan.name}").status_code == 403
    assert private_download(browser(it_user).get(f"/media/{first.scan.name}"), "application/pdf") == SCAN
    assert private_download(browser(it_user).get(f"/media/{second.scan.name}"), "application/pdf") == other
    assert browser(it_user).get("/media/contracts/nie-ma-takiego.pdf").status_code == 404


@pytest.mark.django_db
def test_a_fault_photo_sent_through_the_api_is_kept_in_the_bucket_and_goes_back_to_its_reporter(s3, api):
    recipient = make_councillor("Anna Pierwsza")
    device = lend_tablet(recipient).items.get().device
    photo = png_bytes((12, 12))
    created = api(recipient.user).post("/api/faults/", {
        "device": device.pk, "category": "hardware", "description": "Ekran miga.", "contact": "600 100 200",
        "photo": SimpleUploadedFile("zdjecie.png", photo, "image/png")}, format="multipart")
    assert created.status_code == 201, created.data
    fault = FaultReport.objects.get()
    assert bucket_object(s3, fault.photo.name) == photo
    url = f"/my/faults/{fault.pk}/photo/"
    assert browser(make_councillor("Bogdan Drugi").user).get(url).status_code == 404
    assert private_download(browser(recipient.user).get(url), "image/png") == photo


@pytest.mark.django_db
def test_an_import_previewed_by_one_request_is_applied_from_the_file_kept_in_the_bucket(s3, api_en, it_user):
    rows = ("inventory_number;kind;manufacturer;model;serial_number;purchase_date;purchase_price\n"
            "UM/S3/001;laptop;Dell;Latitude 5400;DL-S3-1;2021-03-01;3500,00\n").encode()
    client = api_en(it_user)
    previewed = client.post("/api/imports/", {"table": "devices", "file": SimpleUploadedFile("sprzet.csv", rows)},
                            format="multipart")
    assert previewed.status_code == 201, previewed.data
    batch = ImportBatch.objects.get(pk=previewed.data["id"])
    assert bucket_object(s3, batch.file.name) == rows and batch.rows_invalid == 0, previewed.data

    confirmed = client.post(f"/api/imports/{batch.pk}/confirm/", {"sha256": hashlib.sha256(rows).hexdigest()},
                            format="json")
    assert confirmed.status_code == 200, confirmed.data
    assert Device.objects.get(inventory_number="UM/S3/001").serial_number == "DL-S3-1"


# --- backup and restore ------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_and_restore_bring_every_document_back_into_a_new_bucket(s3, tmp_path, settings, monkeypatch):
    it_user = UserFactory(roles=[Role.IT_OFFICE])
    recipient = make_councillor("Ewa Radna")
    loan = lend_tablet(recipient, by=it_user)
    loan_agreement_issue(loan=loan, by=it_user)
    handover_protocol_issue(loan=loan, by=it_user)
    default_storage.save("contracts/2020/umowa.pdf", SimpleUploadedFile("umowa.pdf", SCAN))
    documents = dict(StoredDocument.objects.values_list("code", "sha256"))
    files = sorted(storage_files())
    assert len(documents) >= 2 and "contracts/2020/umowa.pdf" in files

    manifest = create_backup(tmp_path / "b")
    assert sorted(manifest["files"]) == files

    # The office moves to a new, empty bucket and an empty database.
    new_bucket = f"sprzet-{secrets.token_hex(6)}"
    s3.client.create_bucket(Bucket=new_bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    monkeypatch.setenv("S3_BUCKET", new_bucket)
    settings.STORAGES = storages_from_env(environ.Env())
    assert not list(storage_files())
    call_command("flush", interactive=False, verbosity=0)

    assert restore_backup(tmp_path / "b") == []
    assert sorted(storage_files()) == files
    for document in StoredDocument.objects.all():
        stored = s3.client.get_object(Bucket=new_bucket, Key=f"{PREFIX}/{document.file.name}")["Body"].read()
        assert hashlib.sha256(stored).hexdigest() == documents[document.code] == document.sha256
    assert s3.client.get_object(Bucket=new_bucket, Key=f"{PREFIX}/contracts/2020/umowa.pdf")["Body"].read() == SCAN


# --- personal data -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_anonymisation_deletes_the_fault_photo_from_the_bucket_and_keeps_the_documents(s3, it_user):
    term = make_term(name="kadencja 2018–2023", starts_on=date(2018, 11, 22), ends_on=date(2023, 11, 21))
    recipient = make_councillor("Zofia Prywatna-Testowa")
    loan = lend_tablet(recipient, term=term, by=it_user, starts_on=date(2019, 1, 10),
                       devices=[make_device(kind="tablet")])
    fault = fault_services.fault_report(by=recipient.user, device=loan.items.get().device, category="hardware",
                                        description="Ekran pękł", contact="600 111 222",
                                        photo=SimpleUploadedFile("f.png", png_bytes(), "image/png"))
    loan_services.loan_return(loan=loan, by=it_user, condition="sprawny", returned_on=date(2023, 11, 30),
                              accessories_returned={a.pk: a.quantity for a in loan.accessories.all()})
    photo_key = f"{PREFIX}/{fault.photo.name}"
    documents = {f"{PREFIX}/{d.file.name}": d.sha256 for d in StoredDocument.objects.filter(loan=loan)}
    assert photo_key in bucket_keys(s3) and set(documents) <= bucket_keys(s3) and documents

    privacy.recipient_anonymise(recipient=recipient, by=it_user)

    with pytest.raises(ClientError) as missing:
        s3.client.head_object(Bucket=s3.bucket, Key=photo_key)
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    for key, sha256 in documents.items():
        body = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == sha256


# --- reading a stream --------------------------------------------------------------------------------

def test_a_missing_object_is_a_missing_file_and_a_stream_is_read_in_pieces(s3):
    with pytest.raises(FileNotFoundError):
        open_stream(default_storage, "documents/2026/nie-ma.pdf")
    name = default_storage.save("wipe/evidence/raport.log", SimpleUploadedFile("raport.log", SCAN))
    with open_stream(default_storage, name) as stream:
        assert isinstance(stream, S3Stream) and stream.size == len(SCAN)
        pieces = list(iter(lambda: stream.read(64 * 1024), b""))
    assert len(pieces) > 1 and b"".join(pieces) == SCAN
    assert stream.closed


# --- configuration -----------------------------------------------------------------------------------

S3_NAMES = ("STORAGE_BACKEND", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID",
            "S3_SECRET_ACCESS_KEY", "S3_PREFIX", "S3_ADDRESSING_STYLE", "S3_DEFAULT_ACL")


@pytest.fixture
def clean_env(monkeypatch):
    for name in S3_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_local_disk_is_the_default_and_static_files_always_stay_local(clean_env):
    storages = storages_from_env(environ.Env())
    assert storages["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert storages["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    clean_env.setenv("STORAGE_BACKEND", "s3")
    for name, value in (("S3_BUCKET", "b"), ("S3_ACCESS_KEY_ID", "k"), ("S3_SECRET_ACCESS_KEY", "s")):
        clean_env.setenv(name, value)
    storages = storages_from_env(environ.Env())
    assert storages["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    options = storages["default"]["OPTIONS"]
    # Never a public or signed URL, never an object replaced by a new file of the same name.
    assert options["querystring_auth"] is False and options["file_overwrite"] is False
    assert options["default_acl"] is None and options["addressing_style"] == "auto"


@pytest.mark.parametrize(("env", "named"), [
    ({}, ["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]),
    ({"S3_BUCKET": "sprzet", "S3_ACCESS_KEY_ID": "k"}, ["S3_SECRET_ACCESS_KEY"]),
    ({"S3_BUCKET": " ", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s"}, ["S3_BUCKET"]),
])
def test_choosing_s3_without_its_bucket_or_keys_fails_naming_what_is_missing(clean_env, env, named):
    clean_env.setenv("STORAGE_BACKEND", "s3")
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(ImproperlyConfigured) as refused:
        storages_from_env(environ.Env())
    message = str(refused.value)
    assert message.startswith("STORAGE_BACKEND=s3 needs ")
    assert re.findall(r"S3_[A-Z_]+", message.split(":")[0]) == named


@pytest.mark.parametrize(("name", "value"), [("STORAGE_BACKEND", "ftp"), ("S3_ADDRESSING_STYLE", "sideways"),
                                             ("S3_DEFAULT_ACL", "public-read")])
def test_a_value_out_of_its_choices_is_refused(clean_env, name, value):
    for required, given in (("S3_BUCKET", "b"), ("S3_ACCESS_KEY_ID", "k"), ("S3_SECRET_ACCESS_KEY", "s")):
        clean_env.setenv(required, given)
    clean_env.setenv("STORAGE_BACKEND", "s3")
    clean_env.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=f"{name}='{value}' is not one of"):
        storages_from_env(environ.Env())


def test_the_service_does_not_start_with_s3_chosen_and_no_bucket(s3, tmp_path):
    s3.env.pop("S3_BUCKET")
    result = run_worker(s3, "import django; django.setup()", tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured: STORAGE_BACKEND=s3 needs S3_BUCKET" in result.stderr
