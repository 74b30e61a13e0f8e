"""The analytics: each report's figures exact against a small register built here, the same figures as JSON,
CSV and XLSX, the query count flat in the number of devices, the pages with their charts, and the rights."""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assets import services as asset_services
from assets.choices import DeviceKind, FundingSource
from core.roles import Role
from donations import services as donation_services
from donations.choices import BeneficiaryKind, ObligationKind
from donations.models import ProjectObligation
from donations.selectors import obligation_coverage
from faults import services as fault_services
from faults.models import FaultEvent, FaultReport
from loans import services as loan_services
from loans.choices import LoanPurpose, RecipientKind
from reports import analytics
from reports.charts import HEIGHT_IN, WIDTH_IN, DPI
from tests.factories import (
    UserFactory,
    allocate,
    lend_tablet,
    make_beneficiary,
    make_contract,
    make_councillor,
    make_device,
    make_order,
    make_project,
    make_retired,
    make_set,
    make_term,
    wipe_facts,
)
from wipe import services as wipe_services

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"
TODAY = timezone.localdate()
Y = TODAY.year


def month_start(back: int) -> date:
    return TODAY.replace(day=1) - relativedelta(months=back)


def mid_month(back: int) -> datetime:
    """Noon on the 15th of the month `back` months before this one, in the office's time zone."""
    return timezone.make_aware(datetime.combine(month_start(back) + timedelta(days=14), time(12)))


def month_of(moment: datetime) -> date:
    return timezone.localtime(moment).date().replace(day=1)


def rows(payload: dict, table: str) -> list[dict]:
    return next(t for t in payload["tables"] if t["name"] == table)["rows"]


def by(rows_: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows_}


# --- a small register ---------------------------------------------------------------------------------

@pytest.fixture
def register(it_user):
    """Six devices: four in use (one past its life), one retired, one lost; all bought on 1 January, so
    their ages in full years are the same whatever day the test runs."""
    contract = make_contract(signed_on=date(Y - 12, 1, 1), funding_source=FundingSource.MAYORS_RESERVE)
    make_device(kind=DeviceKind.LAPTOP, purchase_date=date(Y - 12, 1, 1), expected_life_years=10,
                purchase_price=Decimal("3999.00"), location="pokój 101", contract=contract)
    tablet = make_device(kind=DeviceKind.TABLET, purchase_date=date(Y - 5, 1, 1), expected_life_years=5,
                         purchase_price=Decimal("1234.56"), location="magazyn", funding_source=FundingSource.EU_FUNDS)
    asset_services.device_put_in_use(device=tablet, by=it_user)
    desktop = make_device(kind=DeviceKind.DESKTOP, purchase_date=date(Y - 7, 1, 1), expected_life_years=10,
                          purchase_price=Decimal("2500.10"), location="magazyn",
                          funding_source=FundingSource.OWN_BUDGET)
    asset_services.device_send_to_repair(device=desktop, by=it_user, reason="nie włącza się")
    monitor = make_device(kind=DeviceKind.MONITOR, purchase_date=date(Y - 20, 1, 1), expected_life_years=10,
                          purchase_price=Decimal("800.00"), location="")
    asset_services.device_retire(device=monitor, by=it_user, retirement_reason="end_of_life")
    lost = make_device(kind=DeviceKind.LAPTOP, purchase_date=date(Y - 3, 1, 1), expected_life_years=5,
                       purchase_price=Decimal("5000.00"), location="pokój 101")
    asset_services.device_report_lost(device=lost, by=it_user, reference="KMP-123/24")
    make_device(kind=DeviceKind.LAPTOP, purchase_date=date(Y - 1, 1, 1), expected_life_years=30,
                purchase_price=Decimal("0.01"), location="pokój 101", funding_source=FundingSource.DONATION)


def test_forecast_counts_each_year_with_the_overdue_in_this_year_and_exact_money(register):
    frame = analytics.eol_forecast(years=5)
    assert list(frame.columns) == ["year", "devices", "overdue", "replacement_cost"]
    assert frame.to_dict("records") == [
        # the laptop past its life since Y-2 and the tablet reaching it this year; the retired monitor and
        # the lost laptop are not the office's to replace, the donated laptop lives 30 years
        {"year": Y, "devices": 2, "overdue": 1, "replacement_cost": Decimal("5233.56")},
        {"year": Y + 1, "devices": 0, "overdue": 0, "replacement_cost": Decimal("0.00")},
        {"year": Y + 2, "devices": 0, "overdue": 0, "replacement_cost": Decimal("0.00")},
        {"year": Y + 3, "devices": 1, "overdue": 0, "replacement_cost": Decimal("2500.10")},
        {"year": Y + 4, "devices": 0, "overdue": 0, "replacement_cost": Decimal("0.00")},
    ]
    assert all(isinstance(value, Decimal) for value in frame["replacement_cost"])
    assert str(frame["year"].dtype) == "int64" and str(frame["overdue"].dtype) == "int64"
    assert analytics.eol_forecast_by_kind(years=5).to_dict("records") == [
        {"year": Y, "kind": "laptop", "devices": 1, "replacement_cost": Decimal("3999.00")},
        {"year": Y, "kind": "tablet", "devices": 1, "replacement_cost": Decimal("1234.56")},
        {"year": Y + 3, "kind": "desktop", "devices": 1, "replacement_cost": Decimal("2500.10")},
    ]
    # Another day: from Y+4 the desktop is overdue too, and the donated laptop still far away.
    later = analytics.eol_forecast(today=date(Y + 4, 6, 30), years=1)
    assert later.to_dict("records") == [
        {"year": Y + 4, "devices": 3, "overdue": 3, "replacement_cost": Decimal("7733.66")}]


def test_forecast_refuses_a_bad_number_of_years(register):
    from core.exceptions import InvalidInput

    for years in (0, 51, "5", 2.5):
        with pytest.raises(InvalidInput) as refusal:
            analytics.eol_forecast(years=years)
        assert refusal.value.field == "years"


def test_inventory_by_kind_status_location_funding_and_age(register):
    tables = analytics.inventory()
    records = {name: frame.to_dict("records") for name, frame in tables.items()}
    kinds = {row["kind"]: (row["devices"], row["value"]) for row in records["by_kind"]}
    assert kinds == {"laptop": (2, Decimal("3999.01")), "tablet": (1, Decimal("1234.56")),
                     "desktop": (1, Decimal("2500.10")), "monitor": (1, Decimal("800.00")),
                     "router": (0, Decimal("0.00")), "phone": (0, Decimal("0.00")), "other": (0, Decimal("0.00"))}
    statuses = {row["status"]: row["devices"] for row in records["by_status"]}
    assert statuses == {"in_stock": 2, "in_use": 1, "on_loan": 0, "in_repair": 1, "retired": 1, "sanitized": 0}
    assert [(row["location"], row["devices"], row["value"]) for row in records["by_location"]] == [
        ("magazyn", 2, Decimal("3734.66")), ("pokój 101", 2, Decimal("3999.01")), ("", 1, Decimal("800.00"))]
    funding = {row["funding"]: (row["devices"], row["value"]) for row in records["by_funding"] if row["devices"]}
    # the old laptop's funding is its contract's; the monitor has none stated
    assert funding == {"mayors_reserve": (1, Decimal("3999.00")), "own_budget": (1, Decimal("2500.10")),
                       "eu_funds": (1, Decimal("1234.56")), "donation": (1, Decimal("0.01")),
                       "": (1, Decimal("800.00"))}
    assert [(row["age_band"], row["devices"]) for row in records["by_age"]] == [
        ("0-1", 0), ("1-3", 1), ("3-5", 0), ("5-7", 1), ("7-10", 1), ("10+", 2)]
    assert sum(row["devices"] for row in records["by_kind_status"]) == 5


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def test_forecast_and_inventory_queries_do_not_grow_with_the_devices(register):
    counts = (_queries(lambda: analytics.eol_forecast()), _queries(lambda: analytics.inventory()),
              _queries(lambda: analytics.run("forecast")))
    for n in range(30):
        make_device(kind=list(DeviceKind.values)[n % 7], purchase_date=date(Y - n % 15, 1 + n % 12, 1 + n % 28),
                    expected_life_years=1 + n % 9, purchase_price=Decimal(n), location=f"pokój {n % 4}")
    assert (_queries(lambda: analytics.eol_forecast()), _queries(lambda: analytics.inventory()),
            _queries(lambda: analytics.run("forecast"))) == counts
    assert counts == (1, 4, 1)


# --- the API: JSON, CSV, XLSX ------------------------------------------------------------------------

def test_api_lists_the_reports_and_answers_one_as_json(register, api, it_user):
    listed = api(it_user).get("/api/reports/")
    assert listed.status_code == 200
    assert [r["name"] for r in listed.json()] == ["inventory", "forecast", "wipes", "loans", "faults", "einclusion"]
    assert listed.json()[1]["title"] == "Prognoza końca okresu użytkowania"
    assert listed.json()[1]["url"].endswith("/api/reports/forecast/")

    answer = api(it_user).get("/api/reports/forecast/", {"years": 4})
    assert answer.status_code == 200
    data = answer.json()
    assert (data["name"], data["as_of"]) == ("forecast", TODAY.isoformat())
    by_year = data["tables"][0]
    assert by_year["columns"] == [
        {"key": "year", "label": "rok", "type": "year"},
        {"key": "devices", "label": "urządzenia kończące okres użytkowania", "type": "int"},
        {"key": "overdue", "label": "w tym po upływie okresu użytkowania", "type": "int"},
        {"key": "replacement_cost", "label": "koszt wymiany w cenach zakupu", "type": "money"}]
    assert by_year["rows"] == [
        {"year": Y, "devices": 2, "overdue": 1, "replacement_cost": "5233.56"},
        {"year": Y + 1, "devices": 0, "overdue": 0, "replacement_cost": "0.00"},
        {"year": Y + 2, "devices": 0, "overdue": 0, "replacement_cost": "0.00"},
        {"year": Y + 3, "devices": 1, "overdue": 0, "replacement_cost": "2500.10"}]
    kinds = rows(data, "by_kind")
    assert kinds[0] == {"year": Y, "kind": "laptop", "kind_label": "laptop", "devices": 1,
                        "replacement_cost": "3999.00"}
    assert kinds[2]["kind_label"] == "komputer stacjonarny"

    inventory = api(it_user).get("/api/reports/inventory/").json()
    assert by(rows(inventory, "by_location"), "location")[""]["location_label"] == "(bez lokalizacji)"
    assert by(rows(inventory, "by_funding"), "funding")["mayors_reserve"]["value"] == "3999.00"


def test_api_refuses_bad_parameters_naming_them(register, api, it_user):
    client = api(it_user)
    for url, params, field in [("/api/reports/forecast/", {"years": "dziesięć"}, "years"),
                               ("/api/reports/forecast/", {"years": 0}, "years"),
                               ("/api/reports/forecast/", {"years": 51, "format": "csv"}, "years"),
                               ("/api/reports/wipes/", {"months": "-1"}, "months"),
                               ("/api/reports/faults/", {"months": "1.5", "format": "xlsx"}, "months"),
                               ("/api/reports/loans/", {"months": 121}, "months"),
                               ("/api/reports/einclusion/", {"project": 99999}, "project"),
                               ("/api/reports/einclusion/", {"project": "x"}, "project"),
                               ("/api/reports/inventory/", {"table": "by_colour"}, "table")]:
        answer = client.get(url, params)
        assert answer.status_code == 400, (url, params)
        assert answer["Content-Type"] == "application/json"
        assert field in answer.json(), (url, params, answer.json())
    assert "od 1 do 50" in client.get("/api/reports/forecast/", {"years": 0}).json()["years"][0]
    assert client.get("/api/reports/colours/").status_code == 404


def test_csv_is_utf8_with_bom_semicolons_and_polish_headers(register, api, it_user):
    answer = api(it_user).get("/api/reports/forecast/", {"format": "csv", "years": 4})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert answer["Content-Disposition"] == f'attachment; filename="forecast-{TODAY:%d.%m.%Y}.csv"'
    assert answer.content.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(answer.content), sep=";", decimal=",", encoding="utf-8-sig", dtype=str)
    assert list(frame.columns) == ["rok", "urządzenia kończące okres użytkowania",
                                   "w tym po upływie okresu użytkowania", "koszt wymiany w cenach zakupu"]
    assert frame.values.tolist() == [[str(Y), "2", "1", "5233,56"], [str(Y + 1), "0", "0", "0,00"],
                                     [str(Y + 2), "0", "0", "0,00"], [str(Y + 3), "1", "0", "2500,10"]]

    # One table by name, with the choice's label and the empty location's.
    answer = api(it_user).get("/api/reports/inventory/", {"table": "by_location"}, HTTP_ACCEPT="text/csv")
    assert answer["Content-Disposition"] == f'attachment; filename="inventory-by_location-{TODAY:%d.%m.%Y}.csv"'
    frame = pd.read_csv(io.BytesIO(answer.content), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(frame.columns) == ["lokalizacja", "urządzenia", "wartość w cenach zakupu"]
    assert frame.values.tolist() == [["magazyn", 2, 3734.66], ["pokój 101", 2, 3999.01],
                                     ["(bez lokalizacji)", 1, 800.0]]
    kinds = pd.read_csv(io.BytesIO(api(it_user).get("/api/reports/inventory/", {"format": "csv"}).content), sep=";",
                        decimal=",", encoding="utf-8-sig")
    assert kinds.iloc[2].tolist() == ["komputer stacjonarny", 1, 2500.10]


def test_csv_and_xlsx_keep_a_formula_like_location_as_text(api, it_user):
    make_device(location="=HYPERLINK(\"http://x\")", purchase_price=Decimal("1.00"))
    answer = api(it_user).get("/api/reports/inventory/", {"format": "csv", "table": "by_location"})
    assert "'=HYPERLINK" in answer.content.decode("utf-8-sig")
    workbook = openpyxl.load_workbook(io.BytesIO(api(it_user).get("/api/reports/inventory/",
                                                                 {"format": "xlsx"}).content))
    cell = workbook["Według lokalizacji"]["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_xlsx_has_a_sheet_per_table_with_labels_numbers_and_dates(register, api, it_user):
    answer = api(it_user).get("/api/reports/forecast/", {"format": "xlsx", "years": 4})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert answer["Content-Disposition"] == f'attachment; filename="forecast-{TODAY:%d.%m.%Y}.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert workbook.sheetnames == ["Według roku", "Według roku i rodzaju"]
    sheet = workbook["Według roku"]
    assert [c.value for c in sheet[1]] == ["rok", "urządzenia kończące okres użytkowania",
                                           "w tym po upływie okresu użytkowania", "koszt wymiany w cenach zakupu"]
    assert [c.value for c in sheet[2]] == [Y, 2, 1, 5233.56]
    assert sheet["D2"].number_format == "#,##0.00" and isinstance(sheet["D2"].value, float)
    frames = pd.read_excel(io.BytesIO(answer.content), sheet_name=None)
    assert frames["Według roku i rodzaju"].values.tolist() == [
        [Y, "laptop", 1, 3999.00], [Y, "tablet", 1, 1234.56], [Y + 3, "komputer stacjonarny", 1, 2500.10]]

    wipes = openpyxl.load_workbook(io.BytesIO(api(it_user).get("/api/reports/wipes/", {"format": "xlsx",
                                                                                       "months": 2}).content))
    month = wipes["W kolejnych miesiącach"]
    assert month["A1"].value == "miesiąc"
    assert month["A2"].value == datetime.combine(month_start(1), time())  # a real date, shown as MM.YYYY
    assert month["A2"].number_format == "MM.YYYY"


def test_analytics_need_the_right(register, api, make_user):
    for role in (Role.IT_OFFICE, Role.LEGAL_OFFICE, Role.PROJECT_MANAGER, Role.AUDITOR):
        assert api(make_user(role)).get("/api/reports/inventory/").status_code == 200, role
    councillor = make_user(Role.COUNCILLOR)
    assert api(councillor).get("/api/reports/").status_code == 403
    refused = api(councillor).get("/api/reports/inventory/", {"format": "csv"})
    assert refused.status_code == 403 and refused["Content-Type"] == "application/json"


# --- wipes, loans, faults, e-Inclusion ---------------------------------------------------------------

def test_wipes_per_month_by_result_and_technique(api, it_user):
    technician, validator = it_user, UserFactory(roles=[Role.IT_OFFICE])
    laptops = [make_retired(by=technician) for _ in range(4)]

    def wipe(device, kind, finished, **facts):
        medium = device.media.get(kind=kind)
        if kind == "ssd":
            facts.update(technique="crypto_erase", overwrite_passes=None, pattern="")
        return wipe_services.sanitization_record(by=technician, medium=medium, **wipe_facts(
            started_at=finished - timedelta(hours=2), finished_at=finished, **facts))

    validated = wipe(laptops[0], "hdd", mid_month(1))
    wipe_services.sanitization_validate(sanitization=validated, by=validator)
    wipe(laptops[0], "ssd", mid_month(2))  # awaiting validation
    rejected = wipe(laptops[1], "hdd", mid_month(1))
    wipe_services.sanitization_reject(sanitization=rejected, by=validator, reason="zły numer seryjny")
    corrected = wipe(laptops[2], "hdd", mid_month(2))
    wipe_services.sanitization_validate(sanitization=corrected, by=validator)
    correction = wipe_services.sanitization_correct(sanitization=corrected, by=technician,
                                                    correction_reason="liczba przebiegów", overwrite_passes=3)
    wipe_services.sanitization_validate(sanitization=correction, by=validator)  # the old one is superseded
    old = wipe(laptops[3], "hdd", mid_month(14))  # outside the period
    wipe_services.sanitization_validate(sanitization=old, by=validator)
    session = wipe_services.session_open(by=technician, devices=[laptops[3]], location="pok. 12", tool="nwipe")
    wipe_services.session_record_result(session=session, by=technician, medium=laptops[3].media.get(kind="ssd"),
                                        passed=False, failure_reason="weryfikacja: błąd odczytu sektora")

    tables = analytics.wipes(months=3)
    months = {row["month"]: row for row in tables["by_month"].to_dict("records")}
    assert list(months) == [month_start(2), month_start(1), month_start(0)]
    assert months[month_start(2)] == {"month": month_start(2), "validated": 1, "awaiting": 1, "rejected": 0,
                                      "failed": 0, "total": 2}
    assert months[month_start(1)] == {"month": month_start(1), "validated": 1, "awaiting": 0, "rejected": 1,
                                      "failed": 0, "total": 2}
    assert months[month_start(0)]["failed"] == 1 and months[month_start(0)]["total"] == 1
    techniques = {row["technique"]: row for row in tables["by_technique"].to_dict("records") if row["wipes"]}
    assert techniques == {
        "overwrite": {"technique": "overwrite", "wipes": 3, "validated": 2, "awaiting": 0, "rejected": 1},
        "crypto_erase": {"technique": "crypto_erase", "wipes": 1, "validated": 0, "awaiting": 1, "rejected": 0}}
    assert tables["by_result"].values.tolist() == [["validated", 2], ["awaiting", 1], ["rejected", 1], ["failed", 1]]
    assert analytics.wipes(months=15)["by_result"].values.tolist()[0] == ["validated", 3]

    data = api(it_user).get("/api/reports/wipes/", {"months": 3}).json()
    assert rows(data, "by_month")[1] == {"month": month_start(1).strftime("%Y-%m"), "validated": 1, "awaiting": 0,
                                         "rejected": 1, "failed": 0, "total": 2}
    assert rows(data, "by_result")[3] == {"result": "failed", "result_label": "weryfikacja nieudana", "wipes": 1}
    csv = pd.read_csv(io.BytesIO(api(it_user).get("/api/reports/wipes/", {"months": 3, "format": "csv"}).content),
                      sep=";", encoding="utf-8-sig", dtype=str)
    assert list(csv.columns) == ["miesiąc", "zatwierdzone", "czekające na zatwierdzenie", "odrzucone",
                                 "weryfikacja nieudana", "razem"]
    assert csv.values.tolist()[1] == [month_start(1).strftime("%m.%Y"), "1", "0", "1", "0", "2"]


@pytest.fixture
def loans_and_faults(it_user):
    """Three loans (an open one, an overdue staff loan, an old returned one) and seven faults on the open one."""
    term = make_term(starts_on=TODAY - timedelta(days=800), ends_on=TODAY + timedelta(days=365))
    councillor = make_councillor("Ewa Radna")
    open_loan = lend_tablet(councillor, term=term, starts_on=mid_month(1).date())
    staff = loan_services.recipient_create(by=None, kind=RecipientKind.STAFF, name="Jan Urzędnik")
    loan_services.loan_start(recipient=staff, purpose=LoanPurpose.STAFF_WORK, starts_on=mid_month(2).date(),
                             planned_end_on=TODAY - timedelta(days=10), condition_at_handover="dobry", by=it_user,
                             devices=[make_device()])
    returned = lend_tablet(make_councillor("Adam Radny"), term=term, starts_on=mid_month(14).date())
    loan_services.loan_return(loan=returned, by=it_user, condition="dobry", returned_on=mid_month(13).date())

    device = open_loan.items.get().device
    faults = []
    for category, outcome, reported, days in [("hardware", "resolve", mid_month(2), 1),
                                              ("hardware", "resolve", mid_month(1), 3),
                                              ("hardware", "resolve", mid_month(1), 8),
                                              ("software", "resolve", mid_month(1), 2),
                                              ("software", "resolve", mid_month(1), 5),
                                              ("network", "reject", mid_month(1), 1),
                                              ("login", None, mid_month(1), None)]:
        fault = fault_services.fault_report(by=councillor.user, device=device, category=category,
                                            description="nie działa", contact="600 000 000")
        FaultReport.objects.filter(pk=fault.pk).update(created_at=reported)
        if outcome:
            fault_services.fault_acknowledge(fault=fault, by=it_user)
            getattr(fault_services, f"fault_{outcome}")(fault=fault, by=it_user, reply="zrobione")
            FaultEvent.objects.filter(fault=fault, to_status__in=["resolved", "rejected"]).update(
                occurred_at=reported + timedelta(days=days))
        faults.append(fault)
    return faults


def test_loans_by_purpose_and_status_overdue_and_started_per_month(loans_and_faults, api, it_user):
    tables = analytics.loans(months=3)
    purposes = {row["purpose"]: row for row in tables["by_purpose"].to_dict("records")}
    assert purposes["council_sessions"] == {"purpose": "council_sessions", "open": 1, "overdue": 0, "returned": 1,
                                            "lost": 0, "transferred": 0, "total": 2}
    assert purposes["staff_work"] == {"purpose": "staff_work", "open": 1, "overdue": 1, "returned": 0, "lost": 0,
                                      "transferred": 0, "total": 1}
    assert purposes["grant_project"]["total"] == 0
    assert tables["by_month"].to_dict("records") == [
        {"month": month_start(2), "council_sessions": 0, "grant_project": 0, "staff_work": 1, "total": 1},
        {"month": month_start(1), "council_sessions": 1, "grant_project": 0, "staff_work": 0, "total": 1},
        {"month": month_start(0), "council_sessions": 0, "grant_project": 0, "staff_work": 0, "total": 0}]
    data = api(it_user).get("/api/reports/loans/", {"months": 3}).json()
    assert data["tables"][0]["columns"][2] == {"key": "overdue", "label": "otwarte po planowanym terminie",
                                               "type": "int"}
    assert by(rows(data, "by_purpose"), "purpose")["staff_work"]["overdue"] == 1


def test_faults_per_month_by_category_and_time_to_resolve(loans_and_faults, api, it_user):
    tables = analytics.faults(months=3)
    assert tables["by_month"].to_dict("records") == [
        {"month": month_start(2), "reported": 1, "closed": 1},
        {"month": month_start(1), "reported": 6, "closed": 5},
        {"month": month_start(0), "reported": 0, "closed": 0}]
    categories = {row["category"]: row for row in tables["by_category"].to_dict("records")}
    assert (categories["hardware"]["resolved"], categories["hardware"]["total"]) == (3, 3)
    assert (categories["network"]["rejected"], categories["login"]["new"],
            categories["accessory"]["total"]) == (1, 1, 0)
    times = {row["category"]: row for row in tables["time_to_resolve"].to_dict("records")}
    # hardware: 1, 3 and 8 days; software: 2 and 5; the rejected network report is no repair
    def figures(category):
        return times[category]["resolved"], times[category]["mean_days"], times[category]["median_days"]

    assert figures("hardware") == (3, 4.0, 3.0)
    assert figures("software") == (2, 3.5, 3.5)
    assert times["network"]["resolved"] == 0 and pd.isna(times["network"]["mean_days"])
    # the fault reported two months ago and resolved a day later is outside a one-month period
    assert analytics.faults(months=2)["time_to_resolve"].iloc[0]["resolved"] == 2

    data = api(it_user).get("/api/reports/faults/", {"months": 3}).json()
    assert by(rows(data, "time_to_resolve"), "category")["software"] == {
        "category": "software", "category_label": "oprogramowanie", "resolved": 2, "mean_days": 3.5,
        "median_days": 3.5}
    assert by(rows(data, "time_to_resolve"), "category")["login"]["median_days"] is None
    csv = pd.read_csv(io.BytesIO(api(it_user).get("/api/reports/faults/", {"months": 3, "format": "csv",
                                                                          "table": "time_to_resolve"}).content),
                      sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(csv.columns) == ["kategoria", "rozwiązane", "średnio (dni)", "mediana (dni)"]
    assert csv.values.tolist()[:2] == [["sprzęt", "3", "4,0", "3,0"], ["oprogramowanie", "2", "3,5", "3,5"]]


def test_einclusion_coverage_per_kind_of_beneficiary(api, it_user, make_user):
    lawyer = make_user(Role.LEGAL_OFFICE)
    project = make_project()
    household = make_beneficiary(project)
    allocate(household)
    idle = make_beneficiary(project)
    donation_services.beneficiary_update(beneficiary=idle, by=None, is_active=False)
    school = make_beneficiary(project, kind=BeneficiaryKind.SCHOOL)
    kit = make_set(project)
    allocate(school, kit)
    other_school = make_beneficiary(project, kind=BeneficiaryKind.SCHOOL)
    allocate(other_school)
    internet = donation_services.obligation_create(project=project, kind=ObligationKind.INTERNET, by=None,
                                                   description="internet", applies_to=BeneficiaryKind.HOUSEHOLD,
                                                   starts_on=date(2016, 4, 1), ends_on=date(2016, 6, 30))
    servicing = donation_services.obligation_create(project=project, kind=ObligationKind.SERVICING, by=None,
                                                    description="serwis", starts_on=date(2016, 4, 1),
                                                    ends_on=date(2016, 5, 31))
    for obligation, beneficiary, months in [(internet, household, (4, 5, 6)), (internet, idle, (4,)),
                                            (servicing, household, (4,)), (servicing, school, (4, 5))]:
        for month in months:
            donation_services.obligation_record(obligation=obligation, beneficiary=beneficiary,
                                                month=date(2016, month, 1), proof_reference=f"FV/{month}", by=None)
    order = make_order(annex_beneficiaries=[school])
    transfer = donation_services.transfer_create(order=order, recipient=school.recipient, by=it_user,
                                                 transfer_date=date(2021, 6, 21), kits=[kit])
    transfer = donation_services.transfer_submit(transfer=transfer, by=it_user)
    transfer = donation_services.transfer_approve(transfer=transfer, by=lawyer, reason="zgodnie z zarządzeniem")
    donation_services.transfer_complete(transfer=transfer, by=it_user)
    make_beneficiary(make_project())  # another project's household, outside ?project=

    tables = analytics.einclusion(project=project.pk)
    kinds = {row["kind"]: row for row in tables["by_kind"].to_dict("records")}
    assert kinds["household"] == {"kind": "household", "beneficiaries": 2, "active": 1, "holding": 1,
                                  "sets_transferred": 0, "months_due": 10, "months_proven": 5, "coverage": 50.0}
    # the school that owns its set now holds none on loan
    assert kinds["school"] == {"kind": "school", "beneficiaries": 2, "active": 2, "holding": 1,
                               "sets_transferred": 1, "months_due": 4, "months_proven": 2, "coverage": 50.0}
    assert kinds["ngo"]["beneficiaries"] == 0 and pd.isna(kinds["ngo"]["coverage"])
    obligations = tables["by_obligation"].to_dict("records")
    assert [(o["obligation"], o["months"], o["due"], o["proven"], o["coverage"]) for o in obligations] == [
        ("internet", 3, 6, 4, 66.7), ("servicing", 2, 8, 3, 37.5)]
    # the same figures as the donations app's own coverage, month by month
    for row, obligation in zip(obligations, ProjectObligation.objects.order_by("kind")):
        coverage = obligation_coverage(obligation)
        assert (row["due"], row["proven"]) == (sum(m["expected"] for m in coverage),
                                               sum(m["recorded"] for m in coverage))
    assert analytics.einclusion()["by_kind"].iloc[0]["beneficiaries"] == 3

    data = api(it_user).get("/api/reports/einclusion/", {"project": project.pk}).json()
    assert by(rows(data, "by_kind"), "kind")["school"]["kind_label"] == "szkoła"
    assert rows(data, "by_obligation")[0]["coverage"] == 66.7


# --- pages and charts ---------------------------------------------------------------------------------

def test_pages_show_tables_charts_and_downloads_in_polish(register, client, it_user, make_user):
    client.force_login(it_user)
    index = client.get("/reports/analytics/")
    assert index.status_code == 200
    html = index.content.decode()
    for spec in analytics.REPORTS.values():
        assert f'href="/reports/analytics/{spec.name}/"' in html
    assert "Prognoza końca okresu użytkowania" in html

    page = client.get("/reports/analytics/forecast/", {"years": 4})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<img class="chart" src="data:image/png;base64,') == 1
    assert "5\xa0233,56\xa0zł" in html and "2\xa0500,10\xa0zł" in html
    assert f"Stan na dzień {TODAY:%d.%m.%Y}." in html
    assert "Według roku i rodzaju" in html and "komputer stacjonarny" in html
    assert "/api/reports/forecast/?years=4&amp;format=xlsx" in html
    assert "/api/reports/forecast/?years=4&amp;format=csv&amp;table=by_year" in html

    inventory = client.get("/reports/analytics/inventory/").content.decode()
    assert inventory.count('<img class="chart"') == 2 and "(bez lokalizacji)" in inventory
    for name in ("wipes", "loans", "faults", "einclusion"):
        answer = client.get(f"/reports/analytics/{name}/")
        assert answer.status_code == 200 and b'<img class="chart"' in answer.content, name
    assert client.get("/reports/analytics/wipes/", {"months": 3}).content.decode().count("<tr>") >= 4

    refused = client.get("/reports/analytics/forecast/", {"years": "sto"})
    assert refused.status_code == 400 and "od 1 do 50" in refused.content.decode()

    client.force_login(make_user(Role.COUNCILLOR))
    assert client.get("/reports/analytics/").status_code == 403
    assert client.get("/reports/analytics/forecast/").status_code == 403
    client.logout()
    assert client.get("/reports/analytics/forecast/").status_code == 302


def test_the_einclusion_page_chooses_the_project_by_name(client, it_user):
    leszno, other = make_project(name="e-Inclusion Leszno"), make_project(name="Cyfrowa Gmina")
    make_beneficiary(leszno)
    make_beneficiary(other, kind=BeneficiaryKind.SCHOOL)
    client.force_login(it_user)

    html = client.get("/reports/analytics/einclusion/").content.decode()
    assert '<select name="project" id="id_project">' in html
    assert f'<option value="{leszno.pk}">e-Inclusion Leszno</option>' in html
    assert f'<option value="{other.pk}">Cyfrowa Gmina</option>' in html

    chosen = client.get("/reports/analytics/einclusion/", {"project": leszno.pk}).content.decode()
    assert f'<option value="{leszno.pk}" selected>e-Inclusion Leszno</option>' in chosen


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_charts_are_pngs_of_the_expected_size_saved_for_a_look(register, loans_and_faults, it_user):
    technician, validator = it_user, UserFactory(roles=[Role.IT_OFFICE])
    laptop = make_retired(by=technician)
    record = wipe_services.sanitization_record(by=technician, medium=laptop.media.get(kind="hdd"), **wipe_facts(
        started_at=mid_month(1) - timedelta(hours=2), finished_at=mid_month(1)))
    wipe_services.sanitization_validate(sanitization=record, by=validator)

    folder = Path("/tmp/charts")
    folder.mkdir(exist_ok=True)
    expected = (round(WIDTH_IN * DPI), round(HEIGHT_IN * DPI))
    for name, params in [("inventory", {}), ("forecast", {"years": 6}), ("wipes", {"months": 6}),
                         ("faults", {"months": 6}), ("loans", {"months": 6}), ("inventory_age", {}),
                         ("einclusion", {})]:
        png = analytics.chart_png(name, **params)
        assert png.startswith(PNG), name
        assert _png_size(png) == expected, name
        (folder / f"{name}.png").write_bytes(png)
    from core.exceptions import InvalidInput

    with pytest.raises(InvalidInput):
        analytics.chart_png("pie")
