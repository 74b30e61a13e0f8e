"""Kept files (scans, photos, issued PDFs, wipe reports) are never public: each is sent by a view that
checks who asks, as a download (attachment) a browser will not render or sniff, typed by what the file
is and never as HTML, and kept out of shared caches. /verify/ shows only what a printout shows."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, resolve
from django.views.static import serve
from PIL import Image, PngImagePlugin

from core import views as core_views
from core.roles import Role
from faults.models import FaultReport
from loans import services as loan_services
from loans.choices import RecipientKind
from loans.documents import handover_protocol_issue, loan_agreement_issue
from tests.factories import UserFactory, lend_tablet, make_contract, make_councillor, make_medium, make_retired
from wipe.models import WipeEvidence

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
SCRIPT = "<html><body><script>alert(document.cookie)</script></body></html>"
WIPE_SAMPLES = Path(__file__).resolve().parents[1] / "wipe" / "samples"


def browser(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def assert_private_download(response, content_type: str) -> bytes:
    """A 200 that a browser saves rather than shows, typed as `content_type`, kept by no shared cache."""
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert re.search(r'filename="[A-Za-z0-9_.-]+"', response["Content-Disposition"]), response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    return b"".join(response.streaming_content)


def png_with_html() -> bytes:
    """A real PNG whose text chunk is a web page: harmless as an image, a script if served as HTML."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


# --- /media/: uploaded scans -----------------------------------------------------------------------

def test_a_scan_is_sent_only_to_those_allowed_and_only_as_a_download(make_user):
    contract = make_contract(scan=SimpleUploadedFile("umowa.pdf", PDF))
    url = f"/media/{contract.scan.name}"
    anonymous = browser().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert browser(make_user(Role.COUNCILLOR)).get(url).status_code == 403
    assert assert_private_download(browser(make_user(Role.LEGAL_OFFICE)).get(url), "application/pdf") == PDF
    assert browser(make_user(Role.LEGAL_OFFICE)).get("/media/contracts/../../db.sqlite3").status_code == 404
    assert browser(make_user(Role.LEGAL_OFFICE)).get("/media/imports/2026/01/x.csv").status_code == 404


def test_a_kept_file_named_html_is_never_served_as_html(make_user):
    """A file kept before names were made safe (or put there by hand) is a plain download."""
    name = default_storage.save("contracts/2020/01/strona.html", ContentFile(SCRIPT.encode()))
    response = browser(make_user(Role.LEGAL_OFFICE)).get(f"/media/{name}")
    assert_private_download(response, "application/octet-stream")
    assert response["Content-Disposition"].endswith('.html"')


def test_nothing_else_serves_media_whatever_debug_says(settings):
    settings.DEBUG = True
    assert resolve("/" + settings.MEDIA_URL.lstrip("/") + "contracts/2020/01/umowa.pdf").func is core_views.protected_media

    def callbacks(resolver):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from callbacks(pattern)
            else:
                yield pattern.callback

    assert serve not in set(callbacks(get_resolver()))


# --- fault photos ----------------------------------------------------------------------------------

def test_a_fault_photo_holding_a_web_page_is_sent_as_an_image_to_its_reporter_and_the_office(api, it_user):
    recipient = make_councillor()
    device = lend_tablet(recipient).items.get().device
    created = api(recipient.user).post("/api/faults/", {
        "device": device.pk, "category": "hardware", "description": "Ekran miga.", "contact": "600 100 200",
        "photo": SimpleUploadedFile("zdjecie.html", png_with_html(), "text/html")}, format="multipart")
    assert created.status_code == 201, created.data
    fault = FaultReport.objects.get()
    assert fault.photo.name.endswith(".png")

    url = f"/my/faults/{fault.pk}/photo/"
    assert browser().get(url).status_code == 302
    assert browser(make_councillor("Jan Inny").user).get(url).status_code == 404
    assert assert_private_download(browser(recipient.user).get(url), "image/png") == png_with_html()
    media = f"/media/{fault.photo.name}"
    assert browser(recipient.user).get(media).status_code == 403  # the portal is the reporter's way in
    assert_private_download(browser(it_user).get(media), "image/png")


# --- wipe reports ----------------------------------------------------------------------------------

def test_a_wipe_report_with_a_script_in_it_is_served_as_text(api, it_user, make_user):
    make_medium(device=make_retired(kinds=()), kind="hdd", serial_number="S3Z1NB0K100001", capacity_gb=250)
    content = (WIPE_SAMPLES / "zero_2drives.serials.log").read_bytes() + f"\n{SCRIPT}\n".encode()
    imported = api(it_user).post("/api/wipe-reports/", {
        "file": SimpleUploadedFile("raport.html", content, "text/html"), "location": "Biuro Informatyki"},
        format="multipart")
    assert imported.status_code == 201, imported.data
    url = f"/media/{WipeEvidence.objects.get().file.name}"
    assert browser(make_user(Role.COUNCILLOR)).get(url).status_code == 403
    assert assert_private_download(browser(it_user).get(url), "text/plain; charset=utf-8") == content


# --- issued documents ------------------------------------------------------------------------------

@pytest.fixture
def councillor_loan():
    user = UserFactory(roles=[Role.COUNCILLOR], is_staff=False, first_name="Ewa", last_name="Radna")
    recipient = loan_services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name="Ewa Radna", user=user,
                                               address="ul. Sienkiewicza 12/4, 25-002 Kielce",
                                               email="ewa.radna@kielce.test")
    loan = lend_tablet(recipient)
    return recipient, loan, loan_agreement_issue(loan=loan, by=None)


def test_an_issued_document_is_downloaded_by_the_office_and_its_borrower_only(councillor_loan, it_user):
    recipient, _loan, document = councillor_loan
    for url in (f"/documents/{document.code}/download/", f"/my/documents/{document.code}/"):
        assert browser().get(url).status_code == 302
        assert browser(make_councillor("Jan Inny").user).get(url).status_code == 404
        body = assert_private_download(browser(recipient.user).get(url), "application/pdf")
        assert body.startswith(b"%PDF-")
    assert_private_download(browser(it_user).get(f"/documents/{document.code}/download/"), "application/pdf")


def test_the_verification_page_shows_what_the_printout_shows_and_no_personal_data(councillor_loan):
    recipient, loan, agreement = councillor_loan
    for document in (agreement, handover_protocol_issue(loan=loan, by=None)):
        page = browser().get(f"/verify/{document.code}/").content.decode()
        assert document.code in page and document.sha256 in page and document.title in page
        for personal in ("Ewa", "Radna", "Sienkiewicza", "ewa.radna@kielce.test", recipient.user.username):
            assert personal not in page, personal
        assert f"/media/{document.file.name}" not in page and "/download/" not in page


def test_media_root_is_not_under_the_static_files():
    assert not str(settings.MEDIA_ROOT).startswith(str(settings.STATIC_ROOT))
