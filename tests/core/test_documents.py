"""Issued documents: the record card's Polish text, and /verify/ telling genuine from altered."""
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from pypdf import PdfReader

from assets import services
from assets.documents import device_card_issue
from core.models import StoredDocument
from tests.factories import make_contract, make_device, make_medium

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(it_user):
    contract = make_contract(number="BRM/12/2020", signed_on=date(2020, 4, 10))
    device = make_device(by=it_user, kind="tablet", manufacturer="Samsung", model="Galaxy Tab S6 Lite",
                         contract=contract, location="Biuro Rady Miasta — sala obrad",
                         notes="Zażółć gęślą jaźń: tablet radnej po szkoleniu 16.04.2020.")
    make_medium(device=device, kind="emmc", capacity_gb=64)
    services.device_send_to_repair(device=device, by=it_user, reason="pęknięty ekran, wymiana szybki")
    with translation.override("pl"):
        document = device_card_issue(device=device, by=it_user)
    return device, document


def pdf_text(document: StoredDocument) -> str:
    document.file.open("rb")
    try:
        reader = PdfReader(io.BytesIO(document.file.read()))
    finally:
        document.file.close()
    return "\n".join(page.extract_text() for page in reader.pages)


def test_record_card_is_in_polish_with_correct_diacritics(card):
    device, document = card
    text = pdf_text(document)
    for words in ["Karta urządzenia", "Numer inwentarzowy", "Nośniki danych", "Historia", "Źródło finansowania",
                  "rezerwa celowa", "w naprawie", "pęknięty ekran, wymiana szybki", "Zażółć gęślą jaźń",
                  "Biuro Rady Miasta — sala obrad", "15.04.2020", "3 999,00 zł", "Kod weryfikacyjny", document.code,
                  device.inventory_number]:
        assert words in text.replace("\u00a0", " "), words


def test_record_card_is_registered_with_its_hash_and_embeds_its_font(card):
    _device, document = card
    document.file.open("rb")
    content = document.file.read()
    document.file.close()
    import hashlib

    assert document.sha256 == hashlib.sha256(content).hexdigest() and document.size == len(content)
    fonts = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("DejaVuSans" in name for name in fonts)
    assert document.get_verify_url() in pdf_text(document)


def test_verify_page_confirms_the_document_without_personal_data(card, client):
    device, document = card
    page = client.get(f"/verify/{document.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert document.title in html and document.sha256 in html
    assert device.inventory_number in html
    for personal in ["Informatyk", "Jan", "pęknięty ekran"]:  # who issued it, what happened to it
        assert personal not in html


def test_a_typed_code_is_forgiven_case_and_dashes(card, client):
    _device, document = card
    typed = document.code.replace("-", "").lower()
    assert client.get(f"/verify/{typed}/").status_code == 200
    assert client.get("/verify/", {"code": typed}).status_code == 302


def test_unknown_code_is_not_genuine(client, db):
    response = client.get("/verify/ZZZZZ-ZZZZZ/")
    assert response.status_code == 404
    assert "ZZZZZ-ZZZZZ" in response.content.decode()


def test_uploaded_file_is_compared_byte_for_byte(card, client):
    _device, document = card
    document.file.open("rb")
    original = document.file.read()
    document.file.close()
    same = client.post(f"/verify/{document.code}/", {"file": SimpleUploadedFile("karta.pdf", original)})
    assert same.status_code == 200 and same.context["matches"] is True
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 0x01
    changed = client.post(f"/verify/{document.code}/", {"file": SimpleUploadedFile("karta.pdf", bytes(altered))})
    assert changed.status_code == 200 and changed.context["matches"] is False
    assert 'id="file-result"' in changed.content.decode()


def test_an_oversized_upload_is_refused_with_a_message(card, client, settings):
    _device, document = card
    settings.MAX_UPLOAD_SIZE = 10
    response = client.post(f"/verify/{document.code}/", {"file": SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * 50)})
    assert response.status_code == 200 and response.context["matches"] is None
    assert response.context["form"].errors["file"]


def test_the_qr_code_drawn_on_each_page_is_the_one_reportlab_encodes_for_the_verification_address():
    """The footer draws the QR code as one path (a third of the time of reportlab's widget); the matrix
    it draws must be exactly the one reportlab's QR widget would draw for the same address."""
    from reportlab.graphics.barcode.qr import QrCodeWidget

    from core.pdf import _qr_modules

    url = "http://127.0.0.1:8000/verify/ABCDE-FGHJK/"
    widget = QrCodeWidget(url, barLevel="M")
    widget.qr.make()
    expected = [[bool(module) for module in row] for row in widget.qr.modules]
    assert _qr_modules(url) == expected
    assert len(expected) >= 21 and any(any(row) for row in expected)


@pytest.mark.django_db
def test_record_numbers_go_on_past_those_taken():
    """Record numbers (WS/2026/0001, PN/2021/0001): the next free one, even with gaps taken out of order."""
    from core.services import next_serial, save_numbered
    from wipe.models import WipeSession
    from tests.factories import UserFactory

    who = UserFactory()
    for reference in ["WS/2026/0001", "WS/2026/0003"]:
        WipeSession.objects.create(reference=reference, location="pok. 12", opened_by=who)
    assert next_serial(WipeSession, "reference", "WS/2026/") == "WS/2026/0004"  # 2 taken: 0003 is, 0004 is not
    assert next_serial(WipeSession, "reference", "WS/2027/") == "WS/2027/0001"
    session = WipeSession(location="pok. 12", opened_by=who)
    save_numbered(session, field="reference", prefix="WS/2026/", save=session.save)
    assert WipeSession.objects.get(pk=session.pk).reference == "WS/2026/0004"
