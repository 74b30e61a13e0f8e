"""The issued reports' `year` filter: a year a date cannot have is a 400 naming it, not a 500."""
import pytest

from reports.services import report_issue

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", ["-6433", "0", "99999"])
def test_a_year_no_date_can_have_is_a_400(api, it_user, year):
    # Found by the API fuzzing: the year lookup builds 1 January of the year, and the list answered 500.
    answer = api(it_user).get("/api/issued-reports/", {"year": year})
    assert answer.status_code == 400 and list(answer.data) == ["year"]


def test_the_year_filter_still_finds_the_reports_of_that_year(api, it_user):
    report = report_issue(kind="disposal_report", year=2023, by=it_user)
    office = api(it_user)
    assert [row["id"] for row in office.get("/api/issued-reports/", {"year": 2023}).data["results"]] == [report.pk]
    assert office.get("/api/issued-reports/", {"year": 2024}).data["count"] == 0
