"""GET /api/compliance/: who may read it, its filters, its pages, its languages, its place in the schema."""
from __future__ import annotations

from datetime import date

import pytest
from django.urls import path, reverse
from rest_framework.test import APIClient

from assets import services as asset_services
from core.roles import Role
from reports.compliance import GapKind
from tests.factories import lend_tablet, make_councillor, make_device

pytestmark = pytest.mark.django_db

URL = "/api/compliance/"


@pytest.fixture
def register(it_user):
    """Three devices in use past their life and one overdue loan of a tablet (itself not past its life)."""
    for year in (2009, 2010, 2011):
        device = make_device(purchase_date=date(year, 3, 1))
        asset_services.device_put_in_use(device=device, by=it_user)
    return lend_tablet(make_councillor(), planned_end_on=date(2020, 5, 1))


def test_the_url_is_named_compliance():
    assert reverse("compliance") == URL


@pytest.mark.parametrize("role, status", [
    (Role.IT_OFFICE, 200), (Role.LEGAL_OFFICE, 200), (Role.AUDITOR, 200),
    (Role.PROJECT_MANAGER, 403), (Role.COUNCILLOR, 403),
])
def test_the_it_and_legal_offices_and_the_auditor_read_it_and_nobody_else(api, make_user, role, status):
    assert api(make_user(role)).get(URL).status_code == status


def test_an_anonymous_caller_is_refused():
    assert APIClient().get(URL).status_code in (401, 403)


def test_a_summary_of_every_kind_and_the_gaps_with_their_records(api, auditor, register):
    data = api(auditor).get(URL).json()
    assert [row["kind"] for row in data["summary"]] == list(GapKind.values)
    counts = {row["kind"]: row["count"] for row in data["summary"]}
    assert counts[GapKind.PAST_EXPECTED_LIFE] == 3 and counts[GapKind.LOAN_OVERDUE] == 1
    assert sum(counts.values()) == data["count"] == 4
    loan_gap = data["results"][0]
    assert loan_gap["kind"] == GapKind.LOAN_OVERDUE
    assert loan_gap["record"] == {"model": "loans.loan", "id": register.pk, "label": loan_gap["record"]["label"],
                                  "url": f"/admin/loans/loan/{register.pk}/change/"}
    assert loan_gap["since"] == "2020-05-02"
    assert "01.05.2020" in loan_gap["problem"] and loan_gap["fix"]
    assert data["parameters"]["fault_open_days"] == 30 and data["parameters"]["disk_destroy_days"] == 90
    assert data["checked_at"]


def test_the_kind_filter_repeats(api, auditor, register):
    data = api(auditor).get(URL, {"kind": [GapKind.LOAN_OVERDUE, GapKind.FAULT_OPEN_TOO_LONG]}).json()
    assert [row["kind"] for row in data["summary"]] == [GapKind.LOAN_OVERDUE, GapKind.FAULT_OPEN_TOO_LONG]
    assert {gap["kind"] for gap in data["results"]} == {GapKind.LOAN_OVERDUE}
    assert data["parameters"]["kinds"] == [GapKind.LOAN_OVERDUE, GapKind.FAULT_OPEN_TOO_LONG]


def test_the_thresholds_are_parameters(api, auditor):
    data = api(auditor).get(URL, {"fault_open_days": 7, "disk_destroy_days": 0}).json()
    assert (data["parameters"]["fault_open_days"], data["parameters"]["disk_destroy_days"]) == (7, 0)


@pytest.mark.parametrize("query, field", [
    ({"kind": "everything"}, "kind"),
    ({"kind": [GapKind.LOAN_OVERDUE, "loans"]}, "kind"),
    ({"fault_open_days": "thirty"}, "fault_open_days"),
    ({"fault_open_days": -1}, "fault_open_days"),
    ({"disk_destroy_days": "1.5"}, "disk_destroy_days"),
    ({"disk_destroy_days": 10**9}, "disk_destroy_days"),
])
def test_a_bad_value_is_a_400_naming_the_parameter(api_en, auditor, query, field):
    response = api_en(auditor).get(URL, query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_gaps_come_a_page_at_a_time(api, auditor, register):
    client = api(auditor)
    first = client.get(URL, {"page_size": 3}).json()
    assert (first["count"], len(first["results"]), first["previous"]) == (4, 3, None)
    assert "page=2" in first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert second["summary"] == first["summary"]  # the summary covers every page
    seen = [gap["record"]["label"] for gap in first["results"] + second["results"]]
    assert len(set(seen)) == 4
    assert client.get(URL, {"page": 9}).status_code == 404


def test_labels_and_texts_in_polish_by_default_and_in_english_on_request(api, api_en, auditor, register):
    polish = api(auditor).get(URL, {"kind": GapKind.LOAN_OVERDUE}).json()
    assert polish["summary"][0]["label"] == "użyczenie po planowanym terminie zakończenia"
    assert polish["results"][0]["label"] == "użyczenie po planowanym terminie zakończenia"
    assert "miało się zakończyć 01.05.2020" in polish["results"][0]["problem"]
    english = api_en(auditor).get(URL, {"kind": GapKind.LOAN_OVERDUE}).json()
    assert english["summary"][0]["label"] == "loan past its planned end"
    assert "was to end on 01.05.2020" in english["results"][0]["problem"]
    assert english["results"][0]["fix"].startswith("Take the devices back from the councillor")


def test_the_endpoint_is_in_the_openapi_schema_without_warnings(api, auditor):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    from reports.api import compliance

    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=[path("api/", compliance.ComplianceView.as_view())]).get_schema(public=True)
    assert not GENERATOR_STATS, "drf-spectacular warned about the compliance endpoint"
    operation = schema["paths"]["/api/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"kind", "fault_open_days", "disk_destroy_days", "page",
                                                            "page_size"}
    kind = next(p for p in operation["parameters"] if p["name"] == "kind")
    assert kind["schema"]["type"] == "array"
    full = api(auditor).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert full["paths"][URL]["get"]["operationId"] == "compliance_check"
