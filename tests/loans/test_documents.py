"""Loan documents: the agreement, the handover and return protocols, their verification, and the device
replacement that issues all three in one step."""
import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from pypdf import PdfReader

from assets import services as asset_services
from assets.choices import DeviceStatus
from assets.models import DeviceEvent
from core.choices import DocumentKind
from core.exceptions import GuardFailed, InvalidInput
from core.models import StoredDocument
from loans import services
from loans.choices import AccessoryKind, LoanEventKind, LoanPurpose, LoanStatus, RecipientKind, SetupStep
from loans.documents import handover_protocol_issue, loan_agreement_issue, return_protocol_issue
from loans.models import Loan, LoanEvent
from tests.pdf_helpers import pdf_bytes, pdf_text
from tests.factories import UserFactory, make_device

pytestmark = pytest.mark.django_db

NAME = "Zażółć Gęślą Jaźń"
ADDRESS = "ul. Źródłowa 5/12, 25-001 Kielce"


@pytest.fixture
def term():
    return services.council_term_create(by=None, council="Rada Miasta Kielce", name="kadencja 2018–2023",
                                        starts_on=date(2018, 11, 22), ends_on=date(2023, 11, 21))


@pytest.fixture
def current_term():
    """A term running now, so that a replacement loan starting today still ends with it."""
    today = timezone.localdate()
    return services.council_term_create(by=None, council="Rada Miasta Kielce", name="kadencja bieżąca",
                                        starts_on=today - timedelta(days=400), ends_on=today + timedelta(days=800))


@pytest.fixture
def councillor():
    user = UserFactory(is_staff=False, first_name="Zażółć", last_name="Gęślą Jaźń")
    return services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name=NAME, user=user, address=ADDRESS)


def lend(recipient, term, *, by=None, devices=None, **overrides):
    data = {"recipient": recipient, "purpose": LoanPurpose.COUNCIL_SESSIONS, "council_term": term,
            "starts_on": overrides.pop("starts_on", term.starts_on + timedelta(days=146)),
            "condition_at_handover": "nowy, w folii; Zażółć gęślą jaźń",
            "accessories": [{"kind": AccessoryKind.CHARGER, "quantity": 1},
                            {"kind": AccessoryKind.CASE, "description": "etui z klawiaturą", "quantity": 2}]}
    data.update(overrides)
    if "kit" not in data:
        data["devices"] = devices or [make_device(kind="tablet", manufacturer="Samsung", model="Galaxy Tab S6 Lite")]
    return services.loan_start(by=by, **data)






def only(loan: Loan, kind: str) -> StoredDocument:
    return loan.documents.get(kind=kind)


def assert_contains(text: str, *words: str) -> None:
    for word in words:
        assert word in text, word


def test_the_agreement_names_the_parties_devices_period_and_the_civil_code_obligations(councillor, term, it_user):
    devices = [make_device(kind="tablet", manufacturer="Samsung", model="Galaxy Tab S6 Lite"), make_device()]
    with translation.override("en"):
        loan = lend(councillor, term, by=it_user, devices=devices, starts_on=date(2020, 4, 16))
    agreement = only(loan, DocumentKind.LOAN_AGREEMENT)
    assert (agreement.subject, agreement.template_version, agreement.issued_by) == (loan, "loan-agreement/1", it_user)
    assert agreement.title == f"Loan agreement no. {loan.pk}" and NAME not in agreement.title
    text = pdf_text(agreement)
    assert_contains(text, NAME, ADDRESS, "Rada Miasta Kielce, kadencja 2018–2023", "16.04.2020", "21.11.2023",
                    "etui z klawiaturą", "Samsung Galaxy Tab S6 Lite", "Lenovo ThinkPad T14", agreement.code,
                    *(d.inventory_number for d in devices), *(d.serial_number for d in devices))
    assert_contains(text, f"Loan agreement no. {loan.pk}", "Parties", "Lender", "Borrower", "Devices", "Accessories",
                    "Purpose", "council sessions (eSesja)", "Period", "ends with the council term",
                    "Borrower's obligations", "Civil Code art. 710–719", "only for the purpose",
                    "not pass the devices to third persons", "art. 712", "ordinary costs", "art. 713",
                    "report any fault, loss or theft", "art. 714", "demand the return", "art. 716",
                    "wear resulting from proper use is excepted", "art. 718", "Final provisions",
                    "Lender's signature", "Borrower's signature")


def test_a_loan_with_a_fixed_end_gives_its_dates(it_user):
    household = services.recipient_create(by=None, kind=RecipientKind.HOUSEHOLD, name="Gospodarstwo Łęczyckich")
    with translation.override("en"):
        loan = services.loan_start(recipient=household, purpose=LoanPurpose.GRANT_PROJECT, by=it_user,
                                   devices=[make_device(kind="desktop")], starts_on=date(2014, 9, 1),
                                   planned_end_on=date(2020, 9, 1), condition_at_handover="nowy")
    text = pdf_text(only(loan, DocumentKind.LOAN_AGREEMENT))
    assert_contains(text, "Gospodarstwo Łęczyckich", "starts on 01.09.2014 and ends on 01.09.2020", "grant project",
                    "No accessories.")
    assert "Council term" not in text


def test_the_pdfs_embed_dejavu_sans(councillor, term):
    loan = lend(councillor, term)
    services.loan_return(loan=loan, by=None, condition="ok")
    for document in loan.documents.all():
        fonts = set()
        for page in PdfReader(io.BytesIO(pdf_bytes(document))).pages:
            for font in page["/Resources"]["/Font"].values():
                fonts.add(str(font.get_object()["/BaseFont"]))
        assert any("DejaVuSans" in name for name in fonts), document.kind


def test_the_handover_protocol_records_condition_accessories_and_setup_steps(councillor, term, it_user):
    with translation.override("en"):
        loan = lend(councillor, term, by=it_user, starts_on=date(2020, 4, 16))
        at_start = only(loan, DocumentKind.HANDOVER_PROTOCOL)
        services.loan_record_setup_step(loan=loan, step=SetupStep.PERSONALISED, done_on=date(2020, 4, 20),
                                        by=it_user, note="konto eSesja")
        later = handover_protocol_issue(loan=loan, by=it_user)
    device = loan.items.get().device
    first = pdf_text(at_start)
    assert_contains(first, "Handover protocol", "16.04.2020", f"loan agreement no. {loan.pk}", "Parties",
                    "Handing over", "Receiving", NAME, "Devices", device.inventory_number, device.serial_number,
                    "Accessories", "charger", "etui z klawiaturą", "Condition at handover",
                    "nowy, w folii; Zażółć gęślą jaźń", "Set-up steps", "No set-up steps recorded yet.",
                    "Handed over by (signature)", "Received by (signature)")
    second = pdf_text(later)
    assert_contains(second, "personalised", "20.04.2020", "Jan Informatyk", "konto eSesja")
    assert "No set-up steps recorded yet." not in second
    assert loan.documents.filter(kind=DocumentKind.HANDOVER_PROTOCOL).count() == 2


def test_the_return_protocol_records_condition_accessories_and_open_findings(councillor, term, it_user):
    with translation.override("en"):
        loan = lend(councillor, term, by=it_user, starts_on=date(2020, 4, 16))
        charger = loan.accessories.get(kind=AccessoryKind.CHARGER)
        services.loan_return(loan=loan, by=it_user, condition="rysa na ekranie; Zażółć gęślą jaźń",
                             returned_on=date(2023, 11, 30), accessories_returned={charger.pk: 1},
                             findings=["pęknięty rysik"])
    protocol = only(loan, DocumentKind.RETURN_PROTOCOL)
    assert protocol.template_version == "return-protocol/1"
    device = loan.items.get().device
    text = pdf_text(protocol)
    assert_contains(text, "Return protocol", "30.11.2023", "16.04.2020", NAME, "Returning", "Receiving",
                    "Devices returned", device.inventory_number, device.serial_number, "Condition at return",
                    "rysa na ekranie; Zażółć gęślą jaźń", "Accessories", "Handed over", "Returned",
                    "etui z klawiaturą", "Open findings", "pęknięty rysik", "Not returned: case etui z klawiaturą",
                    "Returned by (signature)", "Received by (signature)")
    # The device's move back to stock points at the protocol that records it.
    assert device.events.latest("id").document == protocol


def test_a_return_protocol_covers_only_devices_that_came_back(councillor, term):
    loan = lend(councillor, term)
    device = loan.items.get().device
    with pytest.raises(GuardFailed) as refused:
        return_protocol_issue(loan=loan, by=None, devices=[device])
    assert refused.value.field == "devices"
    with pytest.raises(GuardFailed):
        return_protocol_issue(loan=loan, by=None)
    assert not loan.documents.filter(kind=DocumentKind.RETURN_PROTOCOL).exists()


@pytest.mark.parametrize(("kind", "label"), [
    (DocumentKind.LOAN_AGREEMENT, "Loan agreement"),
    (DocumentKind.HANDOVER_PROTOCOL, "Handover protocol"),
    (DocumentKind.RETURN_PROTOCOL, "Return protocol"),
])
def test_each_document_verifies_and_a_changed_byte_does_not_match(councillor, term, client, kind, label):
    loan = lend(councillor, term)
    services.loan_return(loan=loan, by=None, condition="ok")
    document = only(loan, kind)
    page = client.get(f"/verify/{document.code}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"<dd>{label}</dd>" in html and document.title in html and document.sha256 in html
    assert "Gęślą" not in html  # the public page names no person
    original = pdf_bytes(document)
    same = client.post(f"/verify/{document.code}/", {"file": SimpleUploadedFile("x.pdf", original)})
    assert same.status_code == 200 and same.context["matches"] is True
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 0x01
    changed = client.post(f"/verify/{document.code}/", {"file": SimpleUploadedFile("x.pdf", bytes(altered))})
    assert changed.status_code == 200 and changed.context["matches"] is False


def test_a_ten_device_kit_has_one_agreement_with_one_signature_block(it_user):
    devices = [make_device(kind=kind) for kind in ["desktop", "monitor", "router", "laptop", "tablet", "phone",
                                                  "desktop", "monitor", "laptop", "tablet"]]
    kit = asset_services.kit_create(code="EI/DOM/010", name="zestaw szkolny", by=None, devices=devices)
    school = services.recipient_create(by=None, kind=RecipientKind.SCHOOL, name="Szkoła Podstawowa nr 5 w Łodzi",
                                       address="ul. Żeromskiego 1, 90-001 Łódź")
    with translation.override("en"):
        loan = services.loan_start(recipient=school, purpose=LoanPurpose.GRANT_PROJECT, kit=kit, by=it_user,
                                   starts_on=date(2021, 9, 1), planned_end_on=date(2026, 8, 31),
                                   condition_at_handover="nowe", accessories=[{"kind": "cable", "quantity": 10}])
    assert loan.documents.filter(kind=DocumentKind.LOAN_AGREEMENT).count() == 1
    assert loan.documents.filter(kind=DocumentKind.HANDOVER_PROTOCOL).count() == 1
    agreement = pdf_text(only(loan, DocumentKind.LOAN_AGREEMENT))
    assert_contains(agreement, "Szkoła Podstawowa nr 5 w Łodzi", "following devices (10)",
                    *(d.inventory_number for d in devices), *(d.serial_number for d in devices))
    assert agreement.count("Borrower's signature") == 1 and agreement.count("Lender's signature") == 1
    handover = pdf_text(only(loan, DocumentKind.HANDOVER_PROTOCOL))
    assert_contains(handover, *(d.inventory_number for d in devices))
    assert handover.count("Received by (signature)") == 1


def test_issuing_costs_the_same_queries_for_one_device_or_ten(it_user, term):
    def queries(count):
        recipient = services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name=f"Radny {count}",
                                              user=UserFactory(is_staff=False))
        loan = lend(recipient, term, devices=[make_device() for _ in range(count)])
        services.loan_record_setup_step(loan=loan, step=SetupStep.PERSONALISED, done_on=date(2020, 4, 20), by=it_user)
        with CaptureQueriesContext(connection) as ctx:
            loan_agreement_issue(loan=loan, by=it_user)
            handover_protocol_issue(loan=loan, by=it_user)
        return len(ctx.captured_queries)

    assert queries(1) == queries(10)


def test_starting_and_returning_issue_the_documents_and_the_api_lists_them(api, client, it_user, councillor, term):
    rest = api(it_user)
    tablet = make_device(kind="tablet")
    started = rest.post("/api/loans/", {
        "recipient": councillor.pk, "purpose": LoanPurpose.COUNCIL_SESSIONS, "council_term": term.pk,
        "devices": [tablet.pk], "starts_on": "2020-04-16", "condition_at_handover": "nowy",
        "accessories": [{"kind": "charger"}]}, format="json")
    assert started.status_code == 201, started.data
    assert [d["kind"] for d in started.data["documents"]] == [DocumentKind.LOAN_AGREEMENT,
                                                              DocumentKind.HANDOVER_PROTOCOL]
    agreement = started.data["documents"][0]
    assert set(agreement) == {"kind", "code", "title", "issued_at", "verify_url", "download_url"}
    assert agreement["verify_url"].endswith(f"/verify/{agreement['code']}/")
    assert agreement["download_url"].startswith("http://testserver/")
    client.force_login(it_user)
    download = client.get(agreement["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    tablet.refresh_from_db()
    assert tablet.events.latest("id").document.kind == DocumentKind.HANDOVER_PROTOCOL
    loan_id = started.data["id"]
    returned = rest.post(f"/api/loans/{loan_id}/return/", {"condition": "sprawny"}, format="json")
    assert returned.status_code == 200, returned.data
    detail = rest.get(f"/api/loans/{loan_id}/")
    assert [d["kind"] for d in detail.data["documents"]] == [DocumentKind.LOAN_AGREEMENT,
                                                             DocumentKind.HANDOVER_PROTOCOL,
                                                             DocumentKind.RETURN_PROTOCOL]
    assert {d["code"] for d in detail.data["documents"]} == set(
        StoredDocument.objects.filter(loan__pk=loan_id).values_list("code", flat=True))


def _list_queries(client, page_size):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/loans/", {"page_size": page_size})
    assert response.status_code == 200 and len(response.data["results"]) == page_size
    assert all(len(loan["documents"]) == 3 for loan in response.data["results"])
    return len(ctx.captured_queries)


def test_listing_loans_with_their_documents_costs_the_same_at_any_page_size(api, auditor, term):
    for n in range(10):
        recipient = services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name=f"Radny {n}",
                                              user=UserFactory(is_staff=False))
        loan = lend(recipient, term)
        services.loan_return(loan=loan, by=None, condition="ok")
    client = api(auditor)
    assert _list_queries(client, 2) == _list_queries(client, 10)


# Replacing a broken device ------------------------------------------------------------------------------


def test_replacing_the_only_device_returns_the_loan_and_lends_the_replacement(councillor, current_term, it_user):
    broken = make_device(kind="tablet")
    loan = lend(councillor, current_term, by=it_user, devices=[broken])
    replacement = make_device(kind="tablet")
    today = timezone.localdate()
    new = services.loan_replace_device(loan=loan, device=broken, replacement=replacement, by=it_user,
                                       reason="pęknięty ekran")
    loan.refresh_from_db()
    broken.refresh_from_db()
    replacement.refresh_from_db()
    assert (loan.status, loan.ended_on, loan.condition_at_return) == (LoanStatus.RETURNED, today, "pęknięty ekran")
    assert not loan.items.filter(is_open=True).exists() and loan.items.get().closed_on == today
    assert (broken.status, replacement.status) == (DeviceStatus.IN_REPAIR, DeviceStatus.ON_LOAN)
    assert {a.returned_quantity for a in loan.accessories.all()} == {1, 2}
    assert all(a.returned_quantity == a.quantity for a in loan.accessories.all())
    assert not loan.findings.exists()
    assert new.pk != loan.pk and new.status == LoanStatus.OPEN and new.starts_on == today
    assert (new.recipient, new.purpose, new.council_term, new.planned_end_on) == (
        loan.recipient, loan.purpose, loan.council_term, loan.planned_end_on)
    assert [i.device for i in new.items.filter(is_open=True)] == [replacement]
    assert sorted(new.accessories.values_list("kind", "description", "quantity")) == sorted(
        loan.accessories.values_list("kind", "description", "quantity"))
    assert broken.inventory_number in new.condition_at_handover
    assert set(loan.events.values_list("kind", flat=True)) == {LoanEventKind.STARTED, LoanEventKind.REPLACED,
                                                               LoanEventKind.RETURNED}
    assert replacement.inventory_number in loan.events.get(kind=LoanEventKind.REPLACED).reason
    assert sorted(loan.documents.values_list("kind", flat=True)) == sorted(
        [DocumentKind.LOAN_AGREEMENT, DocumentKind.HANDOVER_PROTOCOL, DocumentKind.RETURN_PROTOCOL])
    assert sorted(new.documents.values_list("kind", flat=True)) == sorted(
        [DocumentKind.LOAN_AGREEMENT, DocumentKind.HANDOVER_PROTOCOL])
    protocol = only(loan, DocumentKind.RETURN_PROTOCOL)
    assert_contains(pdf_text(protocol), broken.inventory_number, replacement.inventory_number, "pęknięty ekran",
                    today.strftime("%d.%m.%Y"), NAME)
    assert broken.events.latest("id").document == protocol
    assert_contains(pdf_text(only(new, DocumentKind.HANDOVER_PROTOCOL)), replacement.inventory_number,
                    broken.inventory_number, NAME)


def test_replacing_one_device_of_a_kit_keeps_the_loan_open(councillor, current_term):
    devices = [make_device(kind="desktop"), make_device(kind="monitor"), make_device(kind="router")]
    loan = lend(councillor, current_term, devices=devices)
    replacement = make_device(kind="router")
    with translation.override("en"):
        new = services.loan_replace_device(loan=loan, device=devices[2], replacement=replacement, by=None,
                                           reason="nie działa Wi-Fi")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.OPEN and loan.ended_on is None
    assert set(loan.items.filter(is_open=True).values_list("device", flat=True)) == {devices[0].pk, devices[1].pk}
    assert {a.returned_quantity for a in loan.accessories.all()} == {None}  # still held under the old loan
    assert not new.accessories.exists() and [i.device for i in new.items.all()] == [replacement]
    assert not loan.events.filter(kind=LoanEventKind.RETURNED).exists()
    assert loan.events.filter(kind=LoanEventKind.REPLACED).count() == 1
    text = pdf_text(only(loan, DocumentKind.RETURN_PROTOCOL))
    assert_contains(text, devices[2].inventory_number, "nie działa Wi-Fi", replacement.inventory_number,
                    "still held under the loan")
    assert devices[0].inventory_number not in text and devices[1].inventory_number not in text


def test_a_device_already_in_repair_stays_there(councillor, current_term):
    broken = make_device(kind="tablet")
    loan = lend(councillor, current_term, devices=[broken])
    asset_services.device_transition(device=broken, to_status=DeviceStatus.IN_REPAIR, by=None, reason="usterka")
    events = broken.events.count()
    services.loan_replace_device(loan=loan, device=broken, replacement=make_device(kind="tablet"), by=None,
                                 reason="naprawa potrwa miesiąc")
    broken.refresh_from_db()
    assert broken.status == DeviceStatus.IN_REPAIR and broken.events.count() == events


def _counts():
    return (Loan.objects.count(), LoanEvent.objects.count(), StoredDocument.objects.count(),
            DeviceEvent.objects.count())


def test_refusals_name_the_field_and_change_nothing(councillor, current_term, term):
    broken = make_device(kind="tablet")
    loan = lend(councillor, current_term, devices=[broken])
    elsewhere = lend(services.recipient_create(by=None, kind=RecipientKind.STAFF, name="Pracownik"), current_term,
                     purpose=LoanPurpose.STAFF_WORK)
    in_repair = make_device(kind="tablet")
    asset_services.device_send_to_repair(device=in_repair, by=None, reason="bateria")
    ended = lend(councillor, term)
    services.loan_return(loan=ended, by=None, condition="ok")
    spare = make_device()
    attempts = [
        ("device", dict(loan=loan, device=make_device(kind="tablet"), replacement=make_device())),
        ("device", dict(loan=loan, device=elsewhere.items.get().device, replacement=make_device())),
        ("replacement", dict(loan=loan, device=broken, replacement=in_repair)),
        ("replacement", dict(loan=loan, device=broken, replacement=elsewhere.items.get().device)),
        ("replacement", dict(loan=loan, device=broken, replacement=broken)),
        ("loan", dict(loan=ended, device=ended.items.get().device, replacement=make_device())),
    ]
    before = _counts()
    for field, kwargs in attempts:
        with pytest.raises(GuardFailed) as refused:
            services.loan_replace_device(by=None, reason="zepsuty", **kwargs)
        assert refused.value.field == field, kwargs
    with pytest.raises(InvalidInput) as no_reason:
        services.loan_replace_device(loan=loan, device=broken, replacement=spare, by=None, reason=" ")
    assert no_reason.value.field == "reason"
    assert _counts() == before
    broken.refresh_from_db()
    loan.refresh_from_db()
    assert broken.status == DeviceStatus.ON_LOAN and loan.status == LoanStatus.OPEN
    assert loan.items.get().is_open


def test_an_overdue_loan_is_extended_before_a_device_is_replaced(councillor, term):
    loan = lend(councillor, term)  # planned to end with the 2018–2023 term, long past
    spare = make_device()
    before = _counts()
    with pytest.raises(GuardFailed) as refused:
        services.loan_replace_device(loan=loan, device=loan.items.get().device, replacement=spare, by=None,
                                     reason="zepsuty")
    assert refused.value.field == "loan" and _counts() == before
