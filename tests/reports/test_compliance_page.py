"""/reports/compliance/: the summary, the gaps with links to their records, the form, in the admin's frame."""
from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from core.roles import Role
from reports.compliance import GapKind
from tests.factories import lend_tablet, make_councillor

pytestmark = pytest.mark.django_db

URL = "/reports/compliance/"


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def overdue():
    return lend_tablet(make_councillor("Ewa Radna"), planned_end_on=date(2020, 5, 1))


def test_the_url_is_named_reports_compliance():
    assert reverse("reports:compliance") == URL


def test_the_legal_office_reads_it_in_polish(make_user, overdue):
    response = browser(make_user(Role.LEGAL_OFFICE)).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kontrola zgodności" in html  # the title, in the admin's breadcrumbs and header
    assert "Użyczenie po planowanym terminie zakończenia" in html  # the summary's label, capitalised
    assert f'href="?kind={GapKind.LOAN_OVERDUE}&amp;fault_open_days=30&amp;disk_destroy_days=90"' in html
    assert f'href="/admin/loans/loan/{overdue.pk}/change/"' in html
    assert "miało się zakończyć 01.05.2020" in html  # the problem
    assert "Odbierz urządzenia od radnego" in html  # the fix
    assert "02.05.2020" in html  # since
    assert 'name="fault_open_days"' in html and 'name="disk_destroy_days"' in html and 'name="kind"' in html


@pytest.mark.parametrize("role", [Role.IT_OFFICE, Role.AUDITOR])
def test_the_it_office_and_the_auditor_read_it_too(make_user, role):
    response = browser(make_user(role)).get(URL)
    assert response.status_code == 200
    assert "Nie znaleziono nieprawidłowości" in response.content.decode()


@pytest.mark.parametrize("role", [Role.COUNCILLOR, Role.PROJECT_MANAGER])
def test_anyone_else_gets_a_403(make_user, role):
    assert browser(make_user(role)).get(URL).status_code == 403


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_form_filters_the_kinds_and_sets_the_thresholds(make_user, overdue):
    html = browser(make_user(Role.LEGAL_OFFICE)).get(
        URL, {"kind": GapKind.FAULT_OPEN_TOO_LONG, "fault_open_days": 5}).content.decode()
    assert "Usterka otwarta zbyt długo" in html
    assert "Użyczenie po planowanym terminie zakończenia" not in html  # not asked
    assert 'value="5"' in html


def test_a_bad_value_is_a_message_not_an_error(make_user, overdue):
    response = browser(make_user(Role.LEGAL_OFFICE)).get(URL, {"fault_open_days": "dużo"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<ul class="messagelist">' in html
    assert "usterka jest otwarta zbyt długo po (dniach): wpisz liczbę całkowitą." in html.lower()  # names the field
    assert "miało się zakończyć" not in html  # nothing is checked with a value that means nothing


def test_the_gaps_come_a_page_at_a_time(make_user, it_user):
    from assets import services as asset_services
    from reports.views import compliance
    from tests.factories import make_device

    for n in range(compliance.PER_PAGE + 1):
        device = make_device(inventory_number=f"UM/2009/{n:05d}", purchase_date=date(2009, 3, 1))
        asset_services.device_put_in_use(device=device, by=it_user)
    client = browser(make_user(Role.AUDITOR))
    first = client.get(URL).content.decode()
    assert "UM/2009/00000" in first and f"UM/2009/{compliance.PER_PAGE:05d}" not in first
    assert "strona 1 z 2" in first
    second = client.get(URL, {"page": 2}).content.decode()
    assert f"UM/2009/{compliance.PER_PAGE:05d}" in second and "UM/2009/00000" not in second
