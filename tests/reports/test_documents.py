"""The report PDFs: the inventory register as of a day, the end-of-life forecast and the annual disposal report,
issued through the API and the page from records built by the services, then read back from the stored PDF."""
from __future__ import annotations

import hashlib
import io
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assets import services as asset_services
from assets.choices import DeviceKind, DeviceStatus, FundingSource, MediumKind
from assets.models import Device, DeviceEvent
from core import pdf
from core.choices import DocumentKind
from core.models import StoredDocument
from core.roles import Role
from donations import services as donation_services
from donations.choices import OrderKind
from loans import services as loan_services
from loans.choices import RecipientKind
from reports.analytics import eol_forecast
from reports.models import IssuedReport, ReportKind
from reports.services import report_issue
from tests.factories import (
    allocate,
    make_beneficiary,
    make_contract,
    make_councillor,
    make_device,
    make_medium,
    make_order,
    make_project,
    make_retired,
    sanitize,
)
from tests.pdf_helpers import assert_contains, pdf_bytes, pdf_fonts, pdf_text
from wipe import services as wipe_services

pytestmark = pytest.mark.django_db

URL = "/api/issued-reports/"
HOUSEHOLD = "Gospodarstwo domowe Łukaszewiczów"
SCHOOL = "Szkoła Podstawowa nr 3 im. Jana Śniadeckiego w Lesznie"
COLLECTOR = "Elektroodzysk Wielkopolska Sp. z o.o."


@pytest.fixture
def lawyer(make_user):
    return make_user(Role.LEGAL_OFFICE, first_name="Zofia", last_name="Żak-Łęcka")


@pytest.fixture
def wipers(make_user):
    return (make_user(Role.IT_OFFICE, first_name="Łukasz", last_name="Żółkiewski"),
            make_user(Role.IT_OFFICE, first_name="Grażyna", last_name="Świątek"))


def issue(api, user, **payload):
    response = api(user).post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def stored(answer: dict) -> StoredDocument:
    return StoredDocument.objects.get(code=answer["code"])


def assert_genuine(client, document: StoredDocument, kind: str) -> None:
    """Stored once with the SHA-256 of its bytes, verifiable by its code, DejaVu embedded for the Polish letters."""
    assert document.kind == kind
    assert hashlib.sha256(pdf_bytes(document)).hexdigest() == document.sha256
    assert document.size == len(pdf_bytes(document))
    page = client.get(reverse("verify", kwargs={"code": document.code}))
    assert page.status_code == 200 and document.title in page.content.decode()
    assert any("DejaVuSans" in font for font in pdf_fonts(document))


def money(value: Decimal) -> str:
    """How the PDF prints an amount once pdf_text has made the no-break spaces plain ones."""
    return pdf.format_pln(value).replace("\u00a0", " ")


def last_page_text(document: StoredDocument) -> str:
    reader = PdfReader(io.BytesIO(pdf_bytes(document)))
    return " ".join(reader.pages[-1].extract_text().replace("\u00a0", " ").split())


# --- the inventory register ----------------------------------------------------------------------

@pytest.fixture
def register(it_user):
    """Laptops and tablets of the register, a monitor bought under a contract, and devices that left it."""
    contract = make_contract(funding_source=FundingSource.EU_FUNDS)
    laptops = [make_device(inventory_number=f"UM/ŁÓDŹ/2020/{n:03d}", purchase_price=Decimal("3999.00"),
                           location="pokój 101 — Wydział Świadczeń", funding_source=FundingSource.MAYORS_RESERVE)
               for n in (1, 2)]
    tablets = [make_device(inventory_number=f"UM/TAB/2021/{n:03d}", kind=DeviceKind.TABLET, manufacturer="Samsung",
                           model="Galaxy Tab S6 Lite", purchase_price=Decimal("1234.56"),
                           purchase_date=date(2021, 3, 1), location="Biuro Rady Miasta") for n in (1, 2, 3)]
    monitor = make_device(inventory_number="UM/MON/2020/001", kind=DeviceKind.MONITOR, manufacturer="Dell",
                          model="P2419H", purchase_price=Decimal("899.99"), contract=contract)
    asset_services.device_put_in_use(device=tablets[0], by=it_user, location="Sala sesyjna")
    lost = make_device(inventory_number="UM/ZGUB/2020/001")
    asset_services.device_report_lost(device=lost, by=it_user, reference="KMP Kielce RSD-77/24")
    gone = make_retired(inventory_number="UM/LIK/2010/001")
    return laptops, tablets, monitor, lost, gone


def test_the_inventory_register_lists_every_device_in_the_register_with_totals_per_kind(api, it_user, register,
                                                                                       client):
    laptops, tablets, monitor, lost, retired = register
    answer = issue(api, it_user, kind=ReportKind.INVENTORY_REGISTER)
    today = timezone.localdate()
    assert answer["kind"] == "inventory_register" and answer["as_of"] == today.isoformat()
    assert answer["verify_url"].endswith(f"/verify/{answer['code']}/")
    assert answer["download_url"].endswith(f"/documents/{answer['code']}/download/")
    document = stored(answer)
    report = IssuedReport.objects.get(pk=answer["id"])
    assert (report.document, report.issued_by, document.subject, document.issued_by) == (document, it_user, report,
                                                                                           it_user)
    assert document.title == f"Księga inwentarzowa na dzień {pdf.format_date(today)}"
    assert_genuine(client, document, DocumentKind.INVENTORY_REGISTER)
    text = pdf_text(document)
    in_register = [*laptops, *tablets, monitor, retired]
    assert_contains(text, "Księga inwentarzowa na dzień", "Numer inwentarzowy", "Źródło finansowania", "Lokalizacja",
                    "Cena zakupu", "Rejestr według rodzajów", "Razem", "zł",
                    *(d.inventory_number for d in in_register), *(d.serial_number for d in in_register),
                    "Galaxy Tab S6 Lite", "Biuro Rady Miasta", "Sala sesyjna", "środki UE",
                    "rezerwa celowa Prezydenta Miasta", "w użyciu", "wycofane z użytku", "15.04.2020", "01.03.2021",
                    money(Decimal("1234.56")), money(Decimal("899.99")))
    # Devices that left the register (lost; a retired one is still in it) are not listed.
    assert lost.inventory_number not in text
    # Totals per kind: the count and the purchase value of each, and of the whole register.
    laptops_value = sum((d.purchase_price for d in [*laptops, retired]), Decimal(0))
    assert f"laptop 3 {money(laptops_value)}" in text
    assert f"tablet 3 {money(Decimal('1234.56') * 3)}" in text
    total = sum((d.purchase_price for d in in_register), Decimal(0))
    assert f"Razem {len(in_register)} {money(total)}" in text
    # The register's ten columns need the page lying down; each row carries its ordinal (Lp.).
    pages = PdfReader(io.BytesIO(pdf_bytes(document))).pages
    assert all(page.mediabox.width > page.mediabox.height for page in pages)
    last = max(d.inventory_number for d in in_register)
    assert "Lp. Numer inwentarzowy" in text and f"{len(in_register)} {last}" in text


def test_the_register_as_of_a_past_day_counts_what_the_office_held_that_day(api, it_user, register):
    laptops, tablets, monitor, lost, retired = register
    day = timezone.localdate() - timedelta(days=30)
    # Registered long before that day; the loss was reported after it; one laptop was put in use before it and
    # taken back since.
    DeviceEvent.objects.filter(from_status="").update(occurred_at=timezone.now() - timedelta(days=100))
    DeviceEvent.objects.filter(device=lost, to_status=DeviceStatus.LOST).update(
        occurred_at=timezone.now() - timedelta(days=10))
    asset_services.device_put_in_use(device=laptops[0], by=it_user)
    DeviceEvent.objects.filter(device=laptops[0], to_status=DeviceStatus.IN_USE).update(
        occurred_at=timezone.now() - timedelta(days=60))
    asset_services.device_return_to_stock(device=laptops[0], by=it_user)
    late = make_device(inventory_number="UM/NOWY/001", purchase_date=timezone.localdate())
    text = pdf_text(stored(issue(api, it_user, kind=ReportKind.INVENTORY_REGISTER, as_of=day.isoformat())))
    assert_contains(text, f"Księga inwentarzowa na dzień {pdf.format_date(day)}", lost.inventory_number,
                    laptops[0].inventory_number)
    assert late.inventory_number not in text  # bought after the day
    row = text[text.index(laptops[0].inventory_number):]
    assert row.index("w użyciu") < row.index(laptops[1].inventory_number)  # its status on that day


def test_the_register_costs_the_same_queries_whatever_its_size(it_user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            report_issue(kind=ReportKind.INVENTORY_REGISTER, by=it_user)
        return len(captured)

    for n in range(3):
        make_device(kind=DeviceKind.TABLET if n % 2 else DeviceKind.LAPTOP)
    small = queries()
    for n in range(25):
        make_device(kind=[DeviceKind.DESKTOP, DeviceKind.MONITOR, DeviceKind.ROUTER][n % 3])
    assert queries() == small


def test_a_register_of_five_thousand_devices_builds_in_seconds(it_user):
    now = timezone.now()
    Device.objects.bulk_create([
        Device(inventory_number=f"UM/MASA/{n:05d}", kind=[DeviceKind.LAPTOP, DeviceKind.TABLET][n % 2],
               manufacturer="Lenovo", model="ThinkPad T14", serial_number=f"MASA{n:06d}",
               purchase_date=date(2020, 4, 15), purchase_price=Decimal("3999.00"), location=f"pokój {n % 40}",
               funding_source=FundingSource.OWN_BUDGET, status_changed_at=now)
        for n in range(5000)], batch_size=1000)
    started = time.monotonic()
    report = report_issue(kind=ReportKind.INVENTORY_REGISTER, by=it_user)
    elapsed = time.monotonic() - started
    assert elapsed < 30, elapsed
    assert_contains(last_page_text(report.document), "UM/MASA/04999", "obejmuje 5 000 urządzeń",
                    money(Decimal("3999.00") * 5000))


# --- the end-of-life forecast --------------------------------------------------------------------

def test_the_forecast_gives_each_year_its_devices_overdue_and_replacement_cost(api, it_user, client):
    this_year = timezone.localdate().year
    old = [make_device(purchase_date=date(this_year - 12, 5, 1), purchase_price=Decimal("2500.00")) for _ in range(2)]
    due = make_device(kind=DeviceKind.TABLET, purchase_date=date(this_year - 3, 2, 1), expected_life_years=5,
                      purchase_price=Decimal("1234.56"))
    make_device(purchase_date=date(this_year - 1, 1, 1), expected_life_years=15)  # beyond the ten years
    answer = issue(api, it_user, kind=ReportKind.EOL_FORECAST)
    document = stored(answer)
    last = this_year + 9
    assert document.title == (f"Prognoza wycofań z użytku na lata {this_year}–{last} na dzień "
                              f"{pdf.format_date(timezone.localdate())}")
    assert_genuine(client, document, DocumentKind.EOL_FORECAST)
    text = pdf_text(document)
    forecast = eol_forecast(today=timezone.localdate(), years=10)
    assert list(forecast["year"]) == list(range(this_year, last + 1))
    assert_contains(text, "Prognoza wycofań z użytku", "Rok", "w tym przeterminowane", "Koszt wymiany", "Razem",
                    "zł", "przeterminowane")
    for row in forecast.itertuples(index=False):
        overdue = str(row.overdue) if row.overdue else "—"
        assert f"{row.year} {row.devices} {overdue} {money(row.replacement_cost)}" in text
    old_cost = sum((d.purchase_price for d in old), Decimal(0))
    assert f"{this_year} {len(old)} {len(old)} {money(old_cost)}" in text
    assert f"{this_year + 2} 1 — {money(due.purchase_price)}" in text
    total = old_cost + due.purchase_price
    assert f"Razem {len(old) + 1} {len(old)} {money(total)}" in text


# --- the annual disposal report ------------------------------------------------------------------

def _complete(transfer, *, by, approver):
    donation_services.transfer_submit(transfer=transfer, by=by)
    donation_services.transfer_approve(transfer=transfer, by=approver)
    transfer = donation_services.transfer_complete(transfer=transfer, by=by)
    transfer.refresh_from_db()
    return transfer


def _certificate(device) -> StoredDocument:
    return DeviceEvent.objects.filter(device=device, to_status=DeviceStatus.SANITIZED).latest("occurred_at").document


@pytest.fixture
def year_of_disposals(it_user, lawyer, wipers):
    """2021 in Leszno: a household kept its e-Inclusion set (beneficiary exception), a school received two
    sanitized laptops, and e-waste went to a collector twice (one laptop's disk removed and destroyed);
    in 2022 one more transfer and one more liquidation, which the 2021 report must not list."""
    technician, validator = wipers
    project = make_project()
    household = make_beneficiary(project, name=HOUSEHOLD)
    kit = allocate(household).kit
    order = make_order(project=project, annex_beneficiaries=[household])
    kept = _complete(donation_services.transfer_create(order=order, recipient=household.recipient,
                                                       transfer_date=date(2021, 7, 1), by=it_user, kits=[kit]),
                     by=it_user, approver=lawyer)

    def wiped(number):
        return sanitize(make_retired(inventory_number=number, serial_number=f"5CG{number[-3:]}ŁÓ"), technician=technician,
                        validator=validator)

    school = loan_services.recipient_create(by=None, kind=RecipientKind.SCHOOL, name=SCHOOL,
                                            address="ul. Prochowa 1, 64-100 Leszno")
    given = [wiped("UML/2010/KOMP/011"), wiped("UML/2010/KOMP/012")]
    school_order = make_order(annex_devices=given, number="148/2021")
    to_school = _complete(donation_services.transfer_create(order=school_order, recipient=school,
                                                            transfer_date=date(2021, 9, 15), by=it_user,
                                                            devices=given), by=it_user, approver=lawyer)
    # A laptop whose SSD was taken out and destroyed; the certificate of sanitization covers its removal.
    opened = make_retired(inventory_number="UML/2010/KOMP/021", kinds=("hdd",))
    ssd = make_medium(device=opened, kind=MediumKind.SSD, capacity_gb=128, serial_number="SSD-ŻÓŁW-1")
    removal = wipe_services.disk_remove(medium=ssd, by=technician, kept_at="sejf BI", held_by="Łukasz Żółkiewski")
    wipe_services.disk_destroy(removal=removal, by=validator, destroyed_on=timezone.localdate(),
                               destruction_method="shred", destruction_company="Niszczarnia Śląska",
                               certificate_number="CN/2021/ŚL/77")
    scrapped = [sanitize(opened, technician=technician, validator=validator), wiped("UML/2010/KOMP/022")]
    scrap_order = make_order(kind=OrderKind.LIQUIDATION, number="211/2021", annex_devices=scrapped,
                             title="w sprawie likwidacji zużytego sprzętu komputerowego")
    liquidation = donation_services.liquidation_record(
        order=scrap_order, devices=scrapped, by=it_user, handed_over_on=date(2021, 11, 30), collector_name=COLLECTOR,
        collector_bdo="000123456", kpo_number="KPO/2021/000042/ZSEE", mass_kg=Decimal("12.500"))
    later = [wiped("UML/2011/KOMP/031")]
    later_order = make_order(annex_devices=later, number="15/2022", in_force_from=date(2022, 1, 10),
                             signed_on=date(2022, 1, 10))
    later_transfer = _complete(donation_services.transfer_create(order=later_order, recipient=school,
                                                                 transfer_date=date(2022, 2, 1), by=it_user,
                                                                 devices=later), by=it_user, approver=lawyer)
    later_scrap = [wiped("UML/2011/KOMP/041")]
    later_scrap_order = make_order(kind=OrderKind.LIQUIDATION, number="16/2022", annex_devices=later_scrap,
                                   in_force_from=date(2022, 1, 10), signed_on=date(2022, 1, 10))
    later_liquidation = donation_services.liquidation_record(
        order=later_scrap_order, devices=later_scrap, by=it_user, handed_over_on=date(2022, 3, 1),
        collector_name=COLLECTOR, collector_bdo="000123456", kpo_number="KPO/2022/000007/ZSEE",
        mass_kg=Decimal("3.000"))
    return {"kept": kept, "kit": kit, "to_school": to_school, "given": given, "liquidation": liquidation,
            "scrapped": scrapped, "later_transfer": later_transfer, "later_liquidation": later_liquidation,
            "later": later + later_scrap}


def test_the_disposal_report_lists_the_years_transfers_and_liquidations_with_their_evidence(
        api, lawyer, year_of_disposals, client):
    facts = year_of_disposals
    answer = issue(api, lawyer, kind=ReportKind.DISPOSAL_REPORT, year=2021)
    assert (answer["year"], answer["as_of"]) == (2021, "2021-12-31")
    document = stored(answer)
    assert document.title == "Roczne sprawozdanie z rozchodu sprzętu za rok 2021"
    assert HOUSEHOLD not in document.title and SCHOOL not in document.title
    assert_genuine(client, document, DocumentKind.DISPOSAL_REPORT)
    text = pdf_text(document)
    kept, to_school, liquidation = facts["kept"], facts["to_school"], facts["liquidation"]
    assert_contains(text, "Roczne sprawozdanie z rozchodu sprzętu za rok 2021", "01.01.2021–31.12.2021",
                    "Podsumowanie według sposobu rozchodu", "nieodpłatne przekazanie", "likwidacja",
                    "Nieodpłatne przekazania (2)", "Likwidacje (1)",
                    # each transfer: number, date, order and its date, recipient, protocol's code
                    kept.number, "01.07.2021", kept.order.number, kept.protocol.code, HOUSEHOLD, "gospodarstwo domowe",
                    to_school.number, "15.09.2021", "148/2021 z dnia 14.06.2021", to_school.protocol.code, SCHOOL,
                    "szkoła",
                    # the liquidation: number, date, order, collector, KPO, protocol's code
                    liquidation.number, "30.11.2021", "211/2021", COLLECTOR, "000123456", "KPO/2021/000042/ZSEE",
                    "12,5 kg", liquidation.protocol.code)
    # Every device, with the evidence that its data was gone.
    for device in facts["kit"].devices.all():
        assert_contains(text, device.inventory_number)
    assert text.count("wyjątek beneficjenta") >= facts["kit"].devices.count()
    for device in [*facts["given"], *facts["scrapped"]]:
        assert_contains(text, device.inventory_number, device.serial_number, _certificate(device).code)
    assert_contains(text, "SSD-ŻÓŁW-1", "CN/2021/ŚL/77")
    # Totals per way out: operations, devices, their purchase value.
    transferred = [*facts["kit"].devices.all(), *facts["given"]]
    value = sum((d.purchase_price for d in transferred), Decimal(0))
    assert f"nieodpłatne przekazanie 2 {len(transferred)} {money(value)} 2 {len(transferred) - 2} 0" in text
    scrapped_value = sum((d.purchase_price for d in facts["scrapped"]), Decimal(0))
    assert f"likwidacja (ZSEE) 1 2 {money(scrapped_value)} 2 0 0" in text
    # Nothing of 2022.
    for record in (facts["later_transfer"], facts["later_liquidation"]):
        assert record.number not in text
    for device in facts["later"]:
        assert device.inventory_number not in text
    assert "KPO/2022/000007/ZSEE" not in text


def test_the_next_years_report_lists_only_that_year_at_the_same_cost_in_queries(lawyer, year_of_disposals):
    facts = year_of_disposals
    report_issue(kind=ReportKind.DISPOSAL_REPORT, by=lawyer, year=2020)  # warm the caches (content types)
    costs = {}
    for year in (2021, 2022):
        with CaptureQueriesContext(connection) as captured:
            report = report_issue(kind=ReportKind.DISPOSAL_REPORT, by=lawyer, year=year)
        costs[year] = len(captured)
    assert costs[2021] == costs[2022]  # three disposals of six devices cost what two of two cost
    text = pdf_text(report.document)
    assert_contains(text, facts["later_transfer"].number, facts["later_liquidation"].number, "KPO/2022/000007/ZSEE",
                    *(d.inventory_number for d in facts["later"]), "Nieodpłatne przekazania (1)", "Likwidacje (1)")
    for record in (facts["kept"], facts["to_school"], facts["liquidation"]):
        assert record.number not in text


def test_a_year_without_disposals_says_so(lawyer):
    text = pdf_text(report_issue(kind=ReportKind.DISPOSAL_REPORT, by=lawyer, year=2019).document)
    assert_contains(text, "Roczne sprawozdanie z rozchodu sprzętu za rok 2019", "Nieodpłatne przekazania (0)",
                    "Likwidacje (0)", "W 2019 r. nie zakończono żadnego nieodpłatnego przekazania.")


def test_the_report_reads_in_english_when_asked(api_en, it_user):
    make_device()
    answer = api_en(it_user).post(URL, {"kind": ReportKind.INVENTORY_REGISTER}, format="json").json()
    assert answer["title"].startswith("Inventory register as of ")
    assert_contains(pdf_text(stored(answer)), "Inventory register as of", "The register by kind", "Inventory number")


# --- the API: list, filters, refusals ------------------------------------------------------------

@pytest.mark.parametrize("payload, field", [
    ({"kind": "balance_sheet"}, "kind"),
    ({}, "kind"),
    ({"kind": ReportKind.DISPOSAL_REPORT}, "year"),
    ({"kind": ReportKind.DISPOSAL_REPORT, "year": "dwa tysiące"}, "year"),
    ({"kind": ReportKind.DISPOSAL_REPORT, "year": 1900}, "year"),
    ({"kind": ReportKind.DISPOSAL_REPORT, "year": "NEXT"}, "year"),
    ({"kind": ReportKind.DISPOSAL_REPORT, "year": 2021, "as_of": "2021-12-31"}, "as_of"),
    ({"kind": ReportKind.INVENTORY_REGISTER, "as_of": "31.12.2021"}, "as_of"),
    ({"kind": ReportKind.INVENTORY_REGISTER, "as_of": "TOMORROW"}, "as_of"),
    ({"kind": ReportKind.EOL_FORECAST, "year": 2021}, "year"),
])
def test_bad_input_is_a_400_naming_the_field(api, it_user, payload, field):
    tomorrow = timezone.localdate() + timedelta(days=1)
    payload = {key: {"NEXT": timezone.localdate().year + 1, "TOMORROW": tomorrow.isoformat()}.get(value, value)
               for key, value in payload.items()}
    response = api(it_user).post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not IssuedReport.objects.exists() and not StoredDocument.objects.exists()


def test_the_list_filters_by_kind_and_year(api, it_user, auditor, make_user):
    register = report_issue(kind=ReportKind.INVENTORY_REGISTER, by=it_user, as_of=date(2021, 6, 30))
    disposals = report_issue(kind=ReportKind.DISPOSAL_REPORT, by=it_user, year=2020)
    forecast = report_issue(kind=ReportKind.EOL_FORECAST, by=it_user)
    listed = api(auditor).get(URL).json()
    assert listed["count"] == 3 and [r["id"] for r in listed["results"]] == [forecast.pk, disposals.pk, register.pk]
    first = listed["results"][-1]
    assert (first["code"], first["kind_display"], first["issued_by"]) == (
        register.document.code, "księga inwentarzowa", it_user.username)
    assert [r["id"] for r in api(auditor).get(URL, {"kind": ReportKind.DISPOSAL_REPORT}).json()["results"]] == [
        disposals.pk]
    assert [r["id"] for r in api(auditor).get(URL, {"year": 2021}).json()["results"]] == [register.pk]
    assert [r["id"] for r in api(auditor).get(URL, {"year": 2020}).json()["results"]] == [disposals.pk]
    assert api(auditor).get(URL, {"kind": "balance_sheet"}).status_code == 400
    # The project manager reads the list but issues nothing; the auditor neither.
    manager = make_user(Role.PROJECT_MANAGER)
    assert api(manager).get(URL).status_code == 200
    assert api(manager).post(URL, {"kind": ReportKind.EOL_FORECAST}, format="json").status_code == 403
    assert api(auditor).post(URL, {"kind": ReportKind.EOL_FORECAST}, format="json").status_code == 403
    assert IssuedReport.objects.count() == 3


def test_a_councillor_may_neither_list_nor_issue_reports(api, client):
    councillor = make_councillor().user
    assert api(councillor).get(URL).status_code == 403
    assert api(councillor).post(URL, {"kind": ReportKind.INVENTORY_REGISTER}, format="json").status_code == 403
    client.force_login(councillor)
    assert client.get(reverse("reports:documents")).status_code == 403
    assert client.post(reverse("reports:documents"), {"kind": ReportKind.INVENTORY_REGISTER}).status_code == 403
    assert not IssuedReport.objects.exists()


# --- the page and the admin ----------------------------------------------------------------------

def test_the_page_issues_each_report_and_lists_them(client, lawyer, year_of_disposals):
    client.force_login(lawyer)
    page = client.get(reverse("reports:documents"))
    assert page.status_code == 200
    assert_contains(page.content.decode(), "Raporty PDF", "Wydaj raport", "księga inwentarzowa",
                    "roczne sprawozdanie z rozchodu sprzętu")
    response = client.post(reverse("reports:documents"), {"kind": ReportKind.DISPOSAL_REPORT, "year": "2021",
                                                          "as_of": timezone.localdate().isoformat()}, follow=True)
    report = IssuedReport.objects.get()
    assert (report.kind, report.year, report.issued_by) == (ReportKind.DISPOSAL_REPORT, 2021, lawyer)
    messages = [str(m) for m in get_messages(response.wsgi_request)] or [
        m.message for m in response.context["messages"]]
    assert any(report.document.code in m for m in messages), messages
    content = response.content.decode()
    assert_contains(content, report.document.code, reverse("document-download", kwargs={"code": report.document.code}))
    client.post(reverse("reports:documents"), {"kind": ReportKind.INVENTORY_REGISTER, "as_of": "2021-06-30",
                                               "year": "2021"})
    assert IssuedReport.objects.filter(kind=ReportKind.INVENTORY_REGISTER, as_of=date(2021, 6, 30)).exists()


def test_the_project_manager_reads_the_page_without_the_form(client, make_user):
    report = report_issue(kind=ReportKind.EOL_FORECAST, by=None)
    client.force_login(make_user(Role.PROJECT_MANAGER))
    page = client.get(reverse("reports:documents"))
    assert page.status_code == 200 and page.context["form"] is None
    assert_contains(page.content.decode(), report.document.code, "Wydane raporty")
    assert client.post(reverse("reports:documents"), {"kind": ReportKind.EOL_FORECAST}).status_code == 403
    assert IssuedReport.objects.count() == 1


def test_the_page_shows_bad_input_as_messages(client, it_user):
    client.force_login(it_user)
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    for data in ({"kind": ReportKind.DISPOSAL_REPORT, "year": ""}, {"kind": ReportKind.INVENTORY_REGISTER,
                                                                     "as_of": future},
                 {"kind": "balance_sheet"}, {"kind": ReportKind.DISPOSAL_REPORT, "year": "rok"}):
        response = client.post(reverse("reports:documents"), data)
        assert response.status_code == 200
        assert [m for m in response.context["messages"] if m.level_tag == "error"], data
    assert not IssuedReport.objects.exists()


def test_the_admin_lists_issued_reports_with_their_codes(client, it_user, auditor):
    report = report_issue(kind=ReportKind.EOL_FORECAST, by=it_user)
    for user in (it_user, auditor):
        client.force_login(user)
        page = client.get(reverse("admin:reports_issuedreport_changelist"))
        assert page.status_code == 200
        assert_contains(page.content.decode(), report.document.code,
                        reverse("document-download", kwargs={"code": report.document.code}))
        assert client.get(reverse("admin:reports_issuedreport_add")).status_code == 403
