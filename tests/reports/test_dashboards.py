"""The first page after login: each role's panels of what needs them now, on the admin's index, in the
councillor's portal and in the API (GET /api/dashboard/), with exact counts and a fixed number of queries."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from donations import services as donation_services
from donations.choices import BeneficiaryKind, ObligationKind
from donations.selectors import obligation_gaps
from faults import services as fault_services
from reports.dashboards import PANEL_SIZE, dashboard_panels
from tests.factories import (
    UserFactory,
    allocate,
    lend_tablet,
    make_beneficiary,
    make_councillor,
    make_order,
    make_project,
    make_retired,
    make_set,
    sanitize,
)

pytestmark = pytest.mark.django_db

IT_PANELS = ["new_faults", "devices_to_wipe", "overdue_loans"]
LEGAL_PANELS = ["transfers_to_review", "orders_expiring"]
PM_PANELS = ["proof_gaps", "durability_ending"]
COUNCILLOR_PANELS = ["my_devices", "my_open_faults"]
AFTER_DURABILITY = date(2021, 7, 1)  # make_project's period ended on 31.03.2021; make_order's orders from 14.06.2021


def _today() -> date:
    return timezone.localdate()


def _month(day: date, back: int) -> date:
    """The first day of the month `back` months before `day`'s."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _browser(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _panels(api, user) -> dict[str, dict]:
    response = api(user).get("/api/dashboard/")
    assert response.status_code == 200
    return {panel["key"]: panel for panel in response.json()["panels"]}


# --- what each office has waiting ------------------------------------------------------------------

def _report_fault(recipient, device, text="Ekran nie reaguje na dotyk."):
    return fault_services.fault_report(by=recipient.user, device=device, category="hardware", description=text,
                                       contact="600 100 200")


def it_office_work(clerk):
    """Two new faults and one acknowledged, two overdue loans and one running, two retired devices and
    one already sanitized."""
    today = _today()
    ewa, jan = make_councillor("Ewa Radna"), make_councillor("Jan Radny")
    running = lend_tablet(ewa)
    overdue = [lend_tablet(jan, planned_end_on=today - timedelta(days=10)),
               lend_tablet(make_councillor("Olga Radna"), planned_end_on=today - timedelta(days=3))]
    tablet = running.items.get().device
    new = [_report_fault(ewa, tablet), _report_fault(jan, overdue[0].items.get().device, "Nie ładuje się.")]
    seen = fault_services.fault_acknowledge(fault=_report_fault(ewa, tablet, "Brak dźwięku."), by=clerk)
    retired = [make_retired(kinds=("hdd",)), make_retired(kinds=("ssd",))]
    validator = UserFactory(roles=[Role.IT_OFFICE])
    gone = sanitize(make_retired(kinds=("hdd",)), technician=clerk, validator=validator)
    return SimpleNamespace(new=new, seen=seen, running=running, overdue=overdue, retired=retired, sanitized=gone)


def legal_office_work():
    """One submitted transfer and one draft; an order expiring in 10 days, one in 40 days, one not yet in force."""
    today = _today()
    project = make_project()
    transfers = []
    for _ in range(2):
        beneficiary = make_beneficiary(project)
        kit = make_set(project)
        allocate(beneficiary, kit)
        order = make_order(project=project, annex_beneficiaries=[beneficiary])
        transfers.append(donation_services.transfer_create(order=order, recipient=beneficiary.recipient, by=None,
                                                           kits=[kit], transfer_date=AFTER_DURABILITY))
    submitted = donation_services.transfer_submit(transfer=transfers[0], by=None)
    expiring = make_order(in_force_until=today + timedelta(days=10))
    later = make_order(in_force_until=today + timedelta(days=40))
    future = make_order(signed_on=today, in_force_from=today + timedelta(days=5), in_force_until=today + timedelta(days=20))
    return SimpleNamespace(submitted=submitted, draft=transfers[1], expiring=expiring, later=later, future=future)


def project_manager_work():
    """A project whose durability period ends in 100 days, with an internet obligation for its households
    since three months ago: one household proved every month, the other only the first; a school it does not
    apply to; a servicing obligation that starts next month. Another project ends in 200 days, another ended."""
    today = _today()
    ending = make_project(final_payment_on=today + timedelta(days=100) - timedelta(days=5 * 365 + 1),
                          starts_on=date(2015, 1, 2), ends_on=date(2015, 12, 31))
    ending.refresh_from_db()
    assert today < ending.durability_ends_on <= today + timedelta(days=180)
    later = make_project(final_payment_on=today + timedelta(days=200) - timedelta(days=5 * 365 + 1),
                         starts_on=date(2015, 1, 2), ends_on=date(2015, 12, 31))
    ended = make_project()
    proved, partly = make_beneficiary(ending), make_beneficiary(ending)
    make_beneficiary(ending, kind=BeneficiaryKind.SCHOOL)
    internet = donation_services.obligation_create(
        project=ending, kind=ObligationKind.INTERNET, description="Internet dla gospodarstw domowych", by=None,
        applies_to=BeneficiaryKind.HOUSEHOLD, starts_on=_month(today, 3), ends_on=ending.durability_ends_on)
    donation_services.obligation_create(project=ending, kind=ObligationKind.SERVICING, description="Serwis", by=None,
                                        starts_on=_month(today, -1), ends_on=ending.durability_ends_on)
    for back in range(4):
        donation_services.obligation_record(obligation=internet, beneficiary=proved, month=_month(today, back),
                                            proof_reference=f"FV/{back}/2025", by=None)
    donation_services.obligation_record(obligation=internet, beneficiary=partly, month=_month(today, 3),
                                        proof_reference="FV/3/2025", by=None)
    return SimpleNamespace(ending=ending, later=later, ended=ended, internet=internet, partly=partly)


# --- the admin's first page ------------------------------------------------------------------------

def test_the_it_office_first_page_lists_new_faults_overdue_loans_and_devices_to_wipe(it_user):
    work = it_office_work(it_user)
    response = _browser(it_user).get(reverse("admin:index"))
    assert response.status_code == 200
    text = response.content.decode()
    for key in IT_PANELS:
        assert f'id="panel-{key}"' in text
    for key in LEGAL_PANELS + PM_PANELS + COUNCILLOR_PANELS:
        assert f'id="panel-{key}"' not in text
    assert 'id="panel-new_faults" data-count="2"' in text
    assert 'id="panel-overdue_loans" data-count="2"' in text
    assert 'id="panel-devices_to_wipe" data-count="2"' in text
    for fault in work.new:
        assert reverse("admin:faults_faultreport_change", args=[fault.pk]) in text
    assert reverse("admin:faults_faultreport_change", args=[work.seen.pk]) not in text
    for loan in work.overdue:
        assert reverse("admin:loans_loan_change", args=[loan.pk]) in text
    assert reverse("admin:loans_loan_change", args=[work.running.pk]) not in text
    assert "10 dni" in text  # the most overdue loan says by how much, in Polish by default
    for device in work.retired:
        assert reverse("admin:wipe_devicetosanitize_change", args=[device.pk]) in text
    assert work.sanitized.inventory_number not in text
    assert "Nowe zgłoszenia usterek" in text
    # The admin's list of apps stays, below the panels.
    assert text.index('id="dashboard"') < text.index(reverse("admin:app_list", args=["assets"]))


def test_the_it_office_see_all_links_open_the_filtered_lists(it_user):
    work = it_office_work(it_user)
    panels = {p.key: p for p in dashboard_panels(it_user)}
    browser = _browser(it_user)
    faults = browser.get(panels["new_faults"].more_url)
    assert faults.status_code == 200
    assert all(reverse("admin:faults_faultreport_change", args=[f.pk]) in faults.content.decode() for f in work.new)
    assert reverse("admin:faults_faultreport_change", args=[work.seen.pk]) not in faults.content.decode()
    loans = browser.get(panels["overdue_loans"].more_url).content.decode()
    assert all(reverse("admin:loans_loan_change", args=[loan.pk]) in loans for loan in work.overdue)
    assert reverse("admin:loans_loan_change", args=[work.running.pk]) not in loans
    wipes = browser.get(panels["devices_to_wipe"].more_url).content.decode()
    assert all(device.inventory_number in wipes for device in work.retired)


def test_a_legal_officer_sees_the_submitted_transfer_and_the_expiring_order(make_user):
    lawyer = make_user(Role.LEGAL_OFFICE)
    work = legal_office_work()
    browser = _browser(lawyer)
    text = browser.get(reverse("admin:index")).content.decode()
    assert 'id="panel-transfers_to_review" data-count="1"' in text
    assert 'id="panel-orders_expiring" data-count="1"' in text
    for key in IT_PANELS + PM_PANELS + COUNCILLOR_PANELS:
        assert f'id="panel-{key}"' not in text
    assert reverse("admin:donations_transfer_change", args=[work.submitted.pk]) in text
    assert work.submitted.number in text and work.draft.number not in text
    assert reverse("admin:donations_mayoralorder_change", args=[work.expiring.pk]) in text
    for order in (work.later, work.future):
        assert reverse("admin:donations_mayoralorder_change", args=[order.pk]) not in text
    panels = {p.key: p for p in dashboard_panels(lawyer)}
    orders = browser.get(panels["orders_expiring"].more_url)
    assert orders.status_code == 200  # the lookups are the admin's own: no "?e=1" redirect
    listed = orders.content.decode()
    assert work.expiring.number in listed and work.later.number not in listed and work.future.number not in listed
    transfers = browser.get(panels["transfers_to_review"].more_url).content.decode()
    assert work.submitted.number in transfers and work.draft.number not in transfers


def test_a_project_manager_sees_the_months_without_proof_and_the_ending_durability_period(make_user):
    manager = make_user(Role.PROJECT_MANAGER)
    work = project_manager_work()
    today = _today()
    browser = _browser(manager)
    text = browser.get(reverse("admin:index")).content.decode()
    for key in IT_PANELS + LEGAL_PANELS + COUNCILLOR_PANELS:
        assert f'id="panel-{key}"' not in text
    # The household with proof of the first month only misses the three months since, this one included.
    assert len(obligation_gaps(until=today)) == 3
    assert 'id="panel-proof_gaps" data-count="3"' in text
    panels = {p.key: p for p in dashboard_panels(manager)}
    gaps = panels["proof_gaps"]
    assert [item.label.rsplit(", ", 1)[1] for item in gaps.items] == [
        _month(today, back).strftime("%m.%Y") for back in (0, 1, 2)]
    assert all(item.detail == "1 z 2 beneficjentów bez potwierdzenia" for item in gaps.items)
    assert reverse("admin:donations_grantproject_gaps", args=[work.ending.pk]) in text
    assert 'id="panel-durability_ending" data-count="1"' in text
    assert reverse("admin:donations_grantproject_change", args=[work.ending.pk]) in text
    for project in (work.later, work.ended):
        assert reverse("admin:donations_grantproject_change", args=[project.pk]) not in text
    listed = browser.get(panels["durability_ending"].more_url).content.decode()
    assert work.ending.name in listed and work.later.name not in listed and work.ended.name not in listed
    # Proof recorded for the missing months empties the panel.
    for back in (0, 1, 2):
        donation_services.obligation_record(obligation=work.internet, beneficiary=work.partly,
                                            month=_month(today, back), proof_reference="FV", by=None)
    gaps = {p.key: p for p in dashboard_panels(manager)}["proof_gaps"]
    assert (gaps.count, gaps.items) == (0, [])


def test_a_user_with_several_roles_sees_each_role_and_a_superuser_every_office(make_user):
    both = make_user(Role.IT_OFFICE, Role.LEGAL_OFFICE)
    assert [p.key for p in dashboard_panels(both)] == IT_PANELS + LEGAL_PANELS
    root = UserFactory(is_superuser=True)
    text = _browser(root).get(reverse("admin:index")).content.decode()
    for key in IT_PANELS + LEGAL_PANELS + PM_PANELS:
        assert f'id="panel-{key}"' in text
    assert [p.key for p in dashboard_panels(root)] == IT_PANELS + LEGAL_PANELS + PM_PANELS


def test_a_panel_shows_its_first_ten_records_and_counts_them_all(it_user):
    for _ in range(PANEL_SIZE + 2):
        make_retired(kinds=("hdd",))
    panel = {p.key: p for p in dashboard_panels(it_user)}["devices_to_wipe"]
    assert panel.count == PANEL_SIZE + 2 and len(panel.items) == PANEL_SIZE


# --- the councillor's portal -----------------------------------------------------------------------

def test_a_councillors_portal_shows_their_devices_and_open_faults_and_never_anothers():
    ewa, jan = make_councillor("Ewa Radna"), make_councillor("Jan Radny")
    mine = lend_tablet(ewa).items.get().device
    theirs = lend_tablet(jan).items.get().device
    open_fault = _report_fault(ewa, mine)
    closed = _report_fault(ewa, mine, "Stara usterka.")
    clerk = UserFactory(roles=[Role.IT_OFFICE])
    fault_services.fault_reject(fault=closed, by=clerk, reply="Zgłoszenie powtórzone.")
    their_fault = _report_fault(jan, theirs)
    text = _browser(ewa.user).get(reverse("portal:home")).content.decode()
    assert mine.inventory_number in text and theirs.inventory_number not in text
    assert "Masz 1 urządzenie." in text
    open_section = text[text.index('id="open-faults"'):text.index('id="closed-faults"')]
    assert reverse("portal:fault", args=[open_fault.pk]) in open_section
    assert reverse("portal:fault", args=[closed.pk]) not in open_section
    assert reverse("portal:fault", args=[closed.pk]) in text[text.index('id="closed-faults"'):]
    # The open fault is shown beside the device it concerns too.
    devices = text[text.index('class="held-devices"'):text.index('id="open-faults"')]
    assert reverse("portal:fault", args=[open_fault.pk]) in devices
    assert reverse("portal:fault", args=[their_fault.pk]) not in text


# --- the API ---------------------------------------------------------------------------------------

def test_the_api_gives_each_role_its_panels(api, it_user, make_user):
    it_office_work(it_user)
    legal_office_work()
    project_manager_work()
    it = _panels(api, it_user)
    assert list(it) == IT_PANELS
    # The legal office's two households still hold their sets on loans that ended with the period in 2021:
    # overdue as well, beside the councillors' two.
    assert [it[key]["count"] for key in IT_PANELS] == [2, 2, 4]
    item = it["new_faults"]["items"][0]
    assert set(item) == {"label", "detail", "url"} and item["url"].startswith("http://testserver/admin/faults/")
    assert it["overdue_loans"]["more_url"] == "http://testserver" + reverse("admin:loans_loan_changelist") + "?overdue=yes"
    legal = _panels(api, make_user(Role.LEGAL_OFFICE))
    assert list(legal) == LEGAL_PANELS and [legal[k]["count"] for k in LEGAL_PANELS] == [1, 1]
    manager = _panels(api, make_user(Role.PROJECT_MANAGER))
    assert list(manager) == PM_PANELS and [manager[k]["count"] for k in PM_PANELS] == [3, 1]
    assert _panels(api, make_user(Role.AUDITOR)) == {}


def test_the_api_gives_a_councillor_only_their_devices_and_open_faults(api):
    ewa, jan = make_councillor("Ewa Radna"), make_councillor("Jan Radny")
    mine = lend_tablet(ewa).items.get().device
    theirs = lend_tablet(jan).items.get().device
    fault = _report_fault(ewa, mine)
    _report_fault(jan, theirs)
    panels = _panels(api, ewa.user)
    assert list(panels) == COUNCILLOR_PANELS
    assert panels["my_devices"]["count"] == 1
    assert panels["my_devices"]["items"][0]["url"] == "http://testserver" + reverse("portal:device", args=[mine.pk])
    assert mine.inventory_number in panels["my_devices"]["items"][0]["detail"]
    assert panels["my_open_faults"]["count"] == 1
    assert panels["my_open_faults"]["items"][0]["url"] == "http://testserver" + reverse("portal:fault", args=[fault.pk])
    dumped = str(panels)
    assert theirs.inventory_number not in dumped


def test_a_borrower_without_a_role_gets_what_they_hold(api, make_user):
    staff = make_user()
    assert {key: panel["count"] for key, panel in _panels(api, staff).items()} == {"my_devices": 0, "my_open_faults": 0}


def test_the_api_speaks_english_when_asked_and_needs_a_signed_in_user(api_en, it_user):
    response = api_en(it_user).get("/api/dashboard/")
    assert [p["title"] for p in response.json()["panels"]][0] == "New fault reports"
    assert Client().get("/api/dashboard/").status_code in (401, 403)


# --- a fixed number of queries ---------------------------------------------------------------------

def _everything(clerk):
    it_office_work(clerk)
    legal_office_work()
    project_manager_work()


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/dashboard/").status_code == 200
    return len(queries)


def test_the_dashboard_costs_the_same_queries_whatever_the_number_of_records(api, it_user):
    root = UserFactory(is_superuser=True)
    client = api(root)
    client.get("/api/dashboard/")  # caches (content types, sessions) warmed
    _everything(it_user)
    once = _queries(client)
    for _ in range(2):
        _everything(it_user)
    assert _queries(client) == once
    admin_page = _browser(root)
    admin_page.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as few:
        admin_page.get(reverse("admin:index"))
    _everything(it_user)
    with CaptureQueriesContext(connection) as more:
        admin_page.get(reverse("admin:index"))
    assert len(more) == len(few)


def test_the_councillors_dashboard_costs_the_same_queries_whatever_they_hold(api):
    ewa = make_councillor("Ewa Radna")
    device = lend_tablet(ewa).items.get().device
    _report_fault(ewa, device)
    client = api(ewa.user)
    client.get("/api/dashboard/")
    once = _queries(client)
    for _ in range(3):
        _report_fault(ewa, lend_tablet(ewa).items.get().device)
    assert _queries(client) == once


def test_the_admin_names_the_office_and_its_register_not_django(it_user, settings):
    client = Client(HTTP_ACCEPT_LANGUAGE="pl")
    client.force_login(it_user)
    html = client.get(reverse("admin:index")).content.decode()
    assert f"{settings.ORGANIZATION_NAME} — ewidencja sprzętu" in html
    assert "<title>Pulpit | Ewidencja sprzętu</title>" in html
    assert "Django" not in html.split("<body", 1)[1].split("</header>", 1)[0]
