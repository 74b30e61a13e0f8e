"""Donations documents: the free transfer protocol, the liquidation protocol and the durability report,
built from real records through the services (the Leszno e-Inclusion case), read back from the PDF."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from pypdf import PdfReader

from assets.choices import DeviceKind, DeviceStatus
from assets.models import DeviceEvent
from core import pdf
from core.choices import DocumentKind
from core.roles import Role
from donations import services
from donations.choices import BeneficiaryKind, ObligationKind, OrderKind
from donations.documents import durability_report_issue, format_kg, transfer_protocol_issue
from donations.models import TransferItem
from loans import services as loan_services
from tests.factories import (
    allocate,
    make_beneficiary,
    make_device,
    make_order,
    make_project,
    make_retired,
    sanitize,
)
from tests.pdf_helpers import assert_contains, pdf_bytes, pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db

AFTER = date(2021, 7, 1)  # the project's durability period ends on 31.03.2021
MAYOR = "Łukasz Borowski, Prezydent Miasta Leszna"
PROJECT = "Przeciwdziałanie wykluczeniu cyfrowemu – e-Inclusion na terenie Miasta Leszna"
HOUSEHOLD = "Gospodarstwo domowe Łukaszewiczów"
ADDRESS = "ul. Słowiańska 5, 64-100 Leszno"
LAWYER = "Zofia Żak-Łęcka"
SENIOR_LAWYER = "Grzegorz Brzęczyszczykiewicz"
OVERRIDE = ("Monitor zestawu pominięto w załączniku omyłkowo; zestaw przekazuje się w całości, zgodnie z § 1 "
            "zarządzenia – opinia radcy prawnego nr BP.0114.12.2021.")
COLLECTOR = "Elektroodzysk Wielkopolska Sp. z o.o."


@pytest.fixture
def lawyer(make_user):
    first, last = LAWYER.split(" ", 1)
    return make_user(Role.LEGAL_OFFICE, first_name=first, last_name=last)


@pytest.fixture
def senior_lawyer(make_user):
    """A lawyer who may approve despite failed checks (the role's permissions are not set yet)."""
    first, last = SENIOR_LAWYER.split(" ", 1)
    user = make_user(Role.LEGAL_OFFICE, first_name=first, last_name=last)
    user.user_permissions.add(Permission.objects.get(codename="override_transfer_check"))
    return user


@pytest.fixture
def household():
    """A Leszno household holding its e-Inclusion set since 2014."""
    project = make_project(name=PROJECT)
    beneficiary = make_beneficiary(project, name=HOUSEHOLD, address=ADDRESS)
    loan = allocate(beneficiary)
    return beneficiary, loan.kit


def transfer_done(beneficiary, kit, order, *, by, approver, override_reason=""):
    """Create, submit, approve and complete a transfer of the beneficiary's set, dated 01.07.2021."""
    transfer = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER, by=by,
                                        kits=[kit])
    services.transfer_submit(transfer=transfer, by=by)
    services.transfer_approve(transfer=transfer, by=approver, override_reason=override_reason)
    transfer = services.transfer_complete(transfer=transfer, by=by)
    transfer.refresh_from_db()
    return transfer


def devices_of(kit):
    return sorted(kit.devices.all(), key=lambda d: d.inventory_number)


# --- the free transfer protocol --------------------------------------------------------------------------

def test_the_transfer_protocol_names_the_order_the_parties_and_the_devices(household, it_user, lawyer):
    beneficiary, kit = household
    order = make_order(project=beneficiary.project, annex_beneficiaries=[beneficiary])
    transfer = transfer_done(beneficiary, kit, order, by=it_user, approver=lawyer)
    protocol = transfer.protocol
    assert (protocol.kind, protocol.template_version, protocol.subject, protocol.issued_by) == (
        DocumentKind.TRANSFER_PROTOCOL, "transfer-protocol/1", transfer, it_user)
    assert transfer.number in protocol.title and HOUSEHOLD not in protocol.title  # the title is public
    devices = devices_of(kit)
    # The devices left the register pointing at the protocol; the exception is recorded item by item.
    for device in devices:
        device.refresh_from_db()
        assert device.status == DeviceStatus.TRANSFERRED
        assert device.events.latest("id").document == protocol
    assert set(TransferItem.objects.filter(transfer=transfer).values_list("exception_applied", flat=True)) == {True}
    text = pdf_text(protocol)
    assert_contains(text, transfer.number, order.number, MAYOR, "w sprawie nieodpłatnego przekazania sprzętu "
                    "komputerowego", "art. 30 ust. 2 pkt 3 ustawy o samorządzie gminnym", "14.06.2021", "01.07.2021",
                    settings.ORGANIZATION_NAME, HOUSEHOLD, ADDRESS, beneficiary.code, PROJECT,
                    beneficiary.project.agreement_number, "31.03.2021", "Dell OptiPlex 3020", "Dell E2214H", LAWYER,
                    protocol.code, *(d.inventory_number for d in devices), *(d.serial_number for d in devices))
    # The document's own words, in Polish with their diacritics (the catalogue is the default language).
    assert_contains(text, f"Protokół nieodpłatnego przekazania nr {transfer.number}", "Strony", "Przekazujący",
                    "Przejmujący", "Przekazane urządzenia (2)", "Kontrola prawna, pozycja po pozycji", "wyjątek beneficjenta")


def test_the_transfer_protocol_reads_in_english_with_each_check_and_the_exception(household, it_user, lawyer):
    beneficiary, kit = household
    with translation.override("en"):
        order = make_order(project=beneficiary.project, annex_beneficiaries=[beneficiary])
        transfer = transfer_done(beneficiary, kit, order, by=it_user, approver=lawyer)
        assert transfer.protocol.title == f"Free transfer protocol no. {transfer.number}"
    computer, monitor = devices_of(kit)
    text = pdf_text(transfer.protocol)
    assert_contains(
        text, f"Free transfer protocol no. {transfer.number}", "free transfer of ownership", "Order", "Order no.",
        "Signed on", "Signed by", "Legal basis", "from 14.06.2021 until repealed", "Parties", "Giving party",
        "Recipient", HOUSEHOLD, "household", "Beneficiary code", "Grant project", "Durability period ends on",
        "Transfer date", "Devices transferred (2)", "Inventory number", "Serial number", "Data on the device",
        "beneficiary exception *", "* Beneficiary exception: the recipient has held the device without a break",
        # the check, item by item
        "Legal check, item by item", "the order is in force on the transfer date", "the whole transfer",
        "the order's kind allows a free transfer", "the device or its beneficiary is in the order's annex",
        "the recipient is the beneficiary who holds the device", "the project's durability period is over",
        "the device is sanitized, or the beneficiary exception applies", "passed (beneficiary exception)",
        f"{computer.inventory_number} is held by {beneficiary.code}, listed in the annex.",
        f"{monitor.inventory_number} has been held by {HOUSEHOLD} without a break",
        # the decision, the statement and the signatures
        "Approval by the legal office", "Every check passed", "Decided by", LAWYER, "Decided at",
        "On 01.07.2021 the giving party transfers to the recipient, free of charge, the ownership of the devices "
        f"listed above (2), under order no. {order.number}", "two identical copies",
        "For the giving party (signature)", "Recipient (signature)",
    )
    assert "failed" not in text and "Reasoned override" not in text
    assert text.count("Recipient (signature)") == 1


def test_a_transfer_approved_with_an_override_prints_the_lawyers_reasons(household, it_user, senior_lawyer):
    beneficiary, kit = household
    computer, monitor = devices_of(kit)
    with translation.override("en"):
        # The annex lists the computer of the set but not its monitor, nor the beneficiary.
        order = make_order(project=beneficiary.project, annex_devices=[computer])
        transfer = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER,
                                            by=it_user, kits=[kit])
        services.transfer_submit(transfer=transfer, by=it_user)
        services.transfer_approve(transfer=transfer, by=senior_lawyer, override_reason=OVERRIDE)
        services.transfer_complete(transfer=transfer, by=it_user)
    transfer.refresh_from_db()
    text = pdf_text(transfer.protocol)
    assert_contains(text, "Approval by the legal office", "not every check passed, with the reasoned override",
                    "Decided by", SENIOR_LAWYER, "Decided at", pdf.format_date(transfer.decided_at),
                    "Checks overridden", "the device or its beneficiary is in the order's annex",
                    "Reasoned override", OVERRIDE, "failed; overridden with reasons",
                    f"{monitor.inventory_number} is not in the annex of order no. {order.number}",
                    f"{computer.inventory_number} is listed in the annex.")
    # In the office's language the lawyer's words and the data read the same, diacritics intact.
    with translation.override("pl"):
        polish = pdf_text(transfer_protocol_issue(transfer=transfer, by=it_user))
    assert_contains(polish, OVERRIDE, SENIOR_LAWYER, HOUSEHOLD, ADDRESS, order.number, MAYOR)


# --- the liquidation protocol ----------------------------------------------------------------------------

@pytest.fixture
def wipers(make_user):
    return (make_user(Role.IT_OFFICE, first_name="Łukasz", last_name="Żółkiewski"),
            make_user(Role.IT_OFFICE, first_name="Grażyna", last_name="Świątek"))


@pytest.fixture
def scrapped(wipers, it_user):
    """Two sanitized laptops past their life, handed over as e-waste under a liquidation order."""
    technician, validator = wipers
    laptops = [sanitize(make_retired(inventory_number=f"UML/2010/KOMP/{n:03d}", serial_number=f"CNU{n}ŁÓDŹ"),
                        technician=technician, validator=validator) for n in (41, 42)]
    order = make_order(kind=OrderKind.LIQUIDATION, title="w sprawie likwidacji zużytego sprzętu komputerowego",
                       annex_devices=laptops)
    liquidation = services.liquidation_record(
        order=order, devices=laptops, by=it_user, handed_over_on=timezone.localdate(), collector_name=COLLECTOR,
        collector_bdo="000123456", kpo_number="KPO/2025/000042/ZSEE", mass_kg=Decimal("12.500"))
    liquidation.refresh_from_db()
    return liquidation, laptops, order


def certificate_of(device):
    return DeviceEvent.objects.filter(device=device, to_status=DeviceStatus.SANITIZED).latest("occurred_at").document


def test_the_liquidation_protocol_names_the_waste_the_collector_and_each_certificate(scrapped, it_user):
    liquidation, laptops, order = scrapped
    protocol = liquidation.protocol
    assert (protocol.kind, protocol.template_version, protocol.subject) == (
        DocumentKind.LIQUIDATION_PROTOCOL, "liquidation-protocol/1", liquidation)
    for device in laptops:
        device.refresh_from_db()
        assert device.status == DeviceStatus.SCRAPPED and device.events.latest("id").document == protocol
    text = pdf_text(protocol)
    assert_contains(text, liquidation.number, order.number, MAYOR, "w sprawie likwidacji zużytego sprzętu",
                    pdf.format_date(timezone.localdate()), COLLECTOR, "000123456", "KPO/2025/000042/ZSEE", "16 02 14",
                    "12,5 kg", "Lenovo ThinkPad T14", "Jan Informatyk",
                    protocol.code)
    assert_contains(text, f"Protokół likwidacji nr {liquidation.number}", "Przekazanie odpadów", "Kod odpadu")
    for device in laptops:
        assert_contains(text, device.inventory_number, device.serial_number, certificate_of(device).code)


def test_the_liquidation_protocol_reads_in_english(wipers, it_user):
    technician, validator = wipers
    laptop = sanitize(make_retired(), technician=technician, validator=validator)
    with translation.override("en"):
        order = make_order(kind=OrderKind.LIQUIDATION, annex_devices=[laptop])
        liquidation = services.liquidation_record(
            order=order, devices=[laptop], by=it_user, handed_over_on=timezone.localdate(), collector_name=COLLECTOR,
            collector_bdo="000123456", kpo_number="KPO/2025/7", mass_kg=Decimal("1234.125"), notes="bez baterii")
    liquidation.refresh_from_db()
    text = pdf_text(liquidation.protocol)
    assert_contains(text, f"Liquidation protocol no. {liquidation.number}", "waste electrical and electronic equipment",
                    "Order", "Handover of the waste", "Handed over on", "Collector", "Collector's BDO registry number",
                    "Waste transfer card (KPO) number", "Waste code",
                    "16 02 14 – discarded equipment other than that mentioned in 16 02 09 to 16 02 13", "Mass",
                    "1 234,125 kg", "Number of devices", "Notes", "bez baterii", "Devices scrapped (1)",
                    "Certificate of sanitization", certificate_of(laptop).code,
                    "The liquidation commission confirms", "Chair of the liquidation commission (signature)",
                    "Member of the commission (signature)", "For the collector (signature)")
    assert text.count("Member of the commission (signature)") == 2


@pytest.mark.parametrize(("mass", "printed"), [
    (Decimal("12.500"), "12,5\u00a0kg"), (Decimal("3.000"), "3\u00a0kg"),
    (Decimal("1234.125"), "1\u00a0234,125\u00a0kg"), (Decimal("0.001"), "0,001\u00a0kg"),
])
def test_a_mass_is_printed_with_a_decimal_comma(mass, printed):
    assert format_kg(mass) == printed


# --- the durability report -------------------------------------------------------------------------------

INTERNET = "Dostęp do Internetu dla gospodarstw domowych (umowa z dostawcą)"
SERVICING = "Serwis sprzętu komputerowego zakupionego w ramach Projektu"


def record_months(obligation, months, *, skip=(), only=None):
    """Prove each month of `months` for every beneficiary the obligation applies to: none in the months of
    `skip`, and only the beneficiaries listed in `only` in its months."""
    for month in months:
        if month in skip:
            continue
        services.obligation_record_month(obligation=obligation, month=month, by=None,
                                         proof_reference=f"FV/{month:%m/%Y}/ŁĄCZE",
                                         beneficiaries=(only or {}).get(month))


def months_between(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    return months


@pytest.fixture
def leszno(it_user, lawyer):
    """The e-Inclusion project in Leszno after its durability period: two households (one received its set,
    one had a monitor replaced), a school (one of its sets stolen) and a therapy centre; both obligations
    proven month by month but for a month without internet and a month serviced at one place only."""
    project = make_project(name=PROJECT)
    transferred = make_beneficiary(project, name=HOUSEHOLD, address=ADDRESS)
    replaced = make_beneficiary(project, name="Gospodarstwo domowe Wójcików", address="ul. Żniwna 3, 64-100 Leszno")
    school = make_beneficiary(project, kind=BeneficiaryKind.SCHOOL, code="EI/SZ/003",
                              name="Szkoła Podstawowa nr 3 w Lesznie", address="ul. Prochowa 1, 64-100 Leszno")
    centre = make_beneficiary(project, kind=BeneficiaryKind.CARE_CENTRE, code="EI/ŚT/001",
                              name="Świetlica terapeutyczna „Promyk”", address="ul. Łazienna 9, 64-100 Leszno")
    kit = allocate(transferred).kit
    household_loan = allocate(replaced)
    allocate(school)
    stolen = allocate(school)
    allocate(centre)
    internet = services.obligation_create(project=project, kind=ObligationKind.INTERNET, description=INTERNET,
                                          applies_to=BeneficiaryKind.HOUSEHOLD, by=None)
    servicing = services.obligation_create(project=project, kind=ObligationKind.SERVICING, description=SERVICING,
                                           by=None)
    months = months_between(project.final_payment_on, project.durability_ends_on)
    record_months(internet, months, skip={date(2018, 5, 1)})
    record_months(servicing, months, only={date(2019, 11, 1): [school]})
    # A household's monitor broke: its loan is extended to replace it by a spare monitor of the project.
    loan_services.loan_extend(loan=household_loan, planned_end_on=timezone.localdate() + timedelta(days=365),
                              by=it_user)
    spare = make_device(kind=DeviceKind.MONITOR, manufacturer="Dell", model="E2214H", inventory_number="EI/ZAP/001/M")
    services.project_add_devices(project=project, devices=[spare], by=None)
    monitor = household_loan.items.get(device__kind=DeviceKind.MONITOR).device
    loan_services.loan_replace_device(loan=household_loan, device=monitor, replacement=spare, by=it_user,
                                      reason="pęknięta matryca")
    loan_services.loan_mark_lost(loan=stolen, by=it_user, reference="KMP Leszno RSD-1234/21",
                                 reason="kradzież z pracowni")
    order = make_order(project=project, annex_beneficiaries=[transferred])
    transfer = transfer_done(transferred, kit, order, by=it_user, approver=lawyer)
    return project, transfer, stolen


def test_the_durability_report_gives_the_project_the_sets_the_obligations_losses_and_transfers(leszno, it_user):
    project, transfer, stolen = leszno
    with translation.override("en"):
        report = durability_report_issue(project=project, by=it_user)
    assert (report.kind, report.template_version, report.subject) == (
        DocumentKind.DURABILITY_REPORT, "durability-report/1", project)
    assert report.title == (f"Durability report of project {project.agreement_number} as of "
                            f"{pdf.format_date(timezone.localdate())}")
    text = pdf_text(report)
    lost = sorted(stolen.items.values_list("device__inventory_number", flat=True))
    assert_contains(
        text, "Report on the durability period of the project", "For the funding body", PROJECT,
        # 1. the project
        "Funding programme", "POIG 8.3 eInclusion", "Grant agreement number", project.agreement_number,
        "02.01.2013 – 31.12.2015", "Final payment received on 31.03.2016", "5 years from the final payment",
        "Durability period ends on 31.03.2021", "over since 31.03.2021",
        # 2. its devices, by state (five sets and the spare monitor)
        "State of the device", "on loan 6", "in repair 1", "transferred 2", "lost or stolen 2", "Total 11",
        # 3. the beneficiaries by kind: count, active, held now, transferred to them
        "Kind of beneficiary", "household with a pupil 2 2 2 2", "school 1 1 2 0", "therapy or care centre 1 1 2 0",
        "Total 4 4 6 2",
        # 4. the obligations, a row a year, and the months with gaps
        f"Internet access: {INTERNET}", "Applies to: household with a pupil (2 a month); from 31.03.2016 to "
        "31.03.2021.", "2016 10 10 20 / 20 100,0 %", "2018 12 11 22 / 24 91,7 %", "Total 61 60 120 / 122 98,4 %",
        "Months with gaps (proofs recorded/expected): 05.2018 (0/2)",
        f"Servicing of the equipment: {SERVICING}", "Applies to: every beneficiary (4 a month)",
        "2019 12 11 45 / 48 93,8 %", "11.2019 (1/4)",
        # 5. lost and replaced
        "Lost or stolen", *lost, "KMP Leszno RSD-1234/21", "Replaced on a beneficiary's loan",
        "EI/ZAP/001/M", "pęknięta matryca", "Gospodarstwo domowe Wójcików",
        # 6. the transfers
        "Transfers of ownership", transfer.number, "01.07.2021", HOUSEHOLD, transfer.order.number,
        transfer.protocol.code, "Prepared by (signature)", "Approved for the office (signature)", report.code,
    )


def test_the_durability_report_in_polish_keeps_the_data_and_its_diacritics(leszno, it_user):
    project, transfer, _stolen = leszno
    text = pdf_text(durability_report_issue(project=project, by=it_user, on=date(2021, 12, 31)))
    assert_contains(text, PROJECT, INTERNET, SERVICING, "31.12.2021", "05.2018 (0/2)", "11.2019 (1/4)", "98,4 %",
                    transfer.number, HOUSEHOLD)
    assert_contains(text, f"Raport z okresu trwałości projektu {project.agreement_number}, stan na dzień 31.12.2021",
                    "4. Zobowiązania okresu trwałości", "Rodzaj beneficjenta", "Urządzenia projektu obecnie w posiadaniu")
    # Replaced and lost today: after the day the report is made for, so not in it.
    assert "pęknięta matryca" not in text and "KMP Leszno RSD-1234/21" not in text


def test_a_durability_report_before_the_first_proof_says_so(it_user):
    project = make_project()
    services.obligation_create(project=project, kind=ObligationKind.INTERNET, description=INTERNET, by=None)
    with translation.override("en"):
        text = pdf_text(durability_report_issue(project=project, by=it_user, on=date(2016, 1, 15)))
    assert_contains(text, "running: 1903 days left on 15.01.2016", "No device is recorded as bought by the project.",
                    "The project has no beneficiaries.", "No month of this obligation had begun by 15.01.2016.",
                    "No device of the project is lost or stolen.", "No device was replaced on a beneficiary's loan.",
                    "No device of the project has been transferred.")


def project_of(size: int, *, it_user, lawyer):
    """A project of `size` households, each holding a set, with a replacement, a loss and a transfer."""
    project = make_project()
    households = [make_beneficiary(project) for _ in range(size)]
    loans = [allocate(b) for b in households]
    obligation = services.obligation_create(project=project, kind=ObligationKind.INTERNET, description=INTERNET,
                                            applies_to=BeneficiaryKind.HOUSEHOLD, by=None)
    services.obligation_create(project=project, kind=ObligationKind.SERVICING, description=SERVICING, by=None)
    record_months(obligation, [date(2016, 3, 1), date(2016, 5, 1)])
    loan_services.loan_extend(loan=loans[0], planned_end_on=timezone.localdate() + timedelta(days=30), by=it_user)
    spare = make_device(kind=DeviceKind.MONITOR)
    services.project_add_devices(project=project, devices=[spare], by=None)
    monitor = loans[0].items.get(device__kind=DeviceKind.MONITOR).device
    replacement = loan_services.loan_replace_device(loan=loans[0], device=monitor, replacement=spare, by=it_user,
                                                    reason="zalany")
    loan_services.loan_mark_lost(loan=replacement, by=it_user, reference="RSD-1/21")
    order = make_order(project=project, annex_beneficiaries=households[1:])
    transfer_done(households[1], loans[1].kit, order, by=it_user, approver=lawyer)
    return project


def test_the_durability_report_costs_the_same_queries_for_two_households_or_six(it_user, lawyer):
    small, large = project_of(2, it_user=it_user, lawyer=lawyer), project_of(6, it_user=it_user, lawyer=lawyer)

    def queries(project):
        with CaptureQueriesContext(connection) as ctx:
            durability_report_issue(project=project, by=it_user)
        return len(ctx.captured_queries)

    durability_report_issue(project=small, by=it_user)  # warm the caches (content types)
    assert queries(small) == queries(large) <= 25


def test_the_transfer_protocol_costs_the_same_queries_for_one_set_or_three(it_user, lawyer):
    """A school receiving three sets is drawn in the queries of a household receiving one."""
    def queries(sets):
        project = make_project()
        school = make_beneficiary(project, kind=BeneficiaryKind.SCHOOL)
        kits = [allocate(school).kit for _ in range(sets)]
        order = make_order(project=project, annex_beneficiaries=[school])
        transfer = services.transfer_create(order=order, recipient=school.recipient, transfer_date=AFTER,
                                            by=it_user, kits=kits)
        services.transfer_submit(transfer=transfer, by=it_user)
        services.transfer_approve(transfer=transfer, by=lawyer)
        transfer = services.transfer_complete(transfer=transfer, by=it_user)
        with CaptureQueriesContext(connection) as ctx:
            transfer_protocol_issue(transfer=transfer, by=it_user)
        return len(ctx.captured_queries)

    assert queries(1) == queries(3)


# --- every document: its font and its verification -------------------------------------------------------

@pytest.fixture
def issued(household, scrapped, it_user, lawyer):
    beneficiary, kit = household
    order = make_order(project=beneficiary.project, annex_beneficiaries=[beneficiary])
    transfer = transfer_done(beneficiary, kit, order, by=it_user, approver=lawyer)
    liquidation, _laptops, _order = scrapped
    report = durability_report_issue(project=beneficiary.project, by=it_user)
    return {DocumentKind.TRANSFER_PROTOCOL: transfer.protocol, DocumentKind.LIQUIDATION_PROTOCOL: liquidation.protocol,
            DocumentKind.DURABILITY_REPORT: report}


def test_the_documents_embed_dejavu_sans(issued):
    for kind, document in issued.items():
        assert any("DejaVuSans" in name for name in pdf_fonts(document)), kind
        reader = PdfReader(io.BytesIO(pdf_bytes(document)))
        descriptors = [font.get_object()["/FontDescriptor"] for page in reader.pages
                       for font in page["/Resources"]["/Font"].values()
                       if "/FontDescriptor" in font.get_object()]
        assert descriptors and all("/FontFile2" in d for d in descriptors), kind  # embedded, not referenced


@pytest.mark.parametrize(("kind", "label"), [
    (DocumentKind.TRANSFER_PROTOCOL, "free transfer protocol"),
    (DocumentKind.LIQUIDATION_PROTOCOL, "liquidation protocol"),
    (DocumentKind.DURABILITY_REPORT, "durability report"),
])
def test_each_document_verifies_and_a_changed_byte_does_not_match(issued, client, kind, label):
    document = issued[kind]
    page = client.get(f"/verify/{document.code}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert document.code in html and document.sha256 in html and label in html.lower()
    assert HOUSEHOLD not in html and "Łukaszewicz" not in html  # the public page names no person
    original = pdf_bytes(document)
    same = client.post(f"/verify/{document.code}/", {"file": SimpleUploadedFile("x.pdf", original)})
    assert same.status_code == 200 and same.context["matches"] is True
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 0x01
    changed = client.post(f"/verify/{document.code}/", {"file": SimpleUploadedFile("x.pdf", bytes(altered))})
    assert changed.status_code == 200 and changed.context["matches"] is False


def test_the_giving_office_is_named_with_its_address_when_it_is_configured(household, it_user, lawyer, settings):
    settings.ORGANIZATION_ADDRESS = "ul. K. Karasia 15, 64-100 Leszno"
    beneficiary, kit = household
    order = make_order(project=beneficiary.project, annex_beneficiaries=[beneficiary])
    transfer = transfer_done(beneficiary, kit, order, by=it_user, approver=lawyer)
    assert f"{settings.ORGANIZATION_NAME}, ul. K. Karasia 15, 64-100 Leszno" in pdf_text(transfer.protocol)
    # The lender in a loan agreement issued now, too; one issued before the setting stays as it was issued.
    earlier = beneficiary.recipient.loans.get().documents.get(kind=DocumentKind.LOAN_AGREEMENT)
    assert "ul. K. Karasia 15" not in pdf_text(earlier)
    school = make_beneficiary(beneficiary.project, kind="school", name="Szkoła Podstawowa nr 2 w Lesznie")
    agreement = allocate(school).documents.get(kind=DocumentKind.LOAN_AGREEMENT)
    assert f"{settings.ORGANIZATION_NAME}, ul. K. Karasia 15, 64-100 Leszno" in pdf_text(agreement)
