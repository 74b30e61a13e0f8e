"""Loans in the admin: the add form starts a loan and every action moves it through loans.services."""
from datetime import date, timedelta

import pytest
from django.contrib import messages as message_levels
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.utils import timezone

from assets.choices import DeviceStatus
from assets.models import DeviceEvent
from core.roles import Role
from loans import services
from loans.choices import FindingStatus, LoanEventKind, LoanPurpose, LoanStatus, RecipientKind, SetupStep
from loans.models import CouncilTerm, Loan, LoanEvent, LoanFinding, Recipient
from tests.factories import UserFactory, make_device

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def it_client(client, it_user):
    client.force_login(it_user)
    return client


@pytest.fixture
def term():
    return services.council_term_create(by=None, council="Rada Miasta Kielce", name="kadencja 2018–2023",
                                        starts_on=date(2018, 11, 22), ends_on=date(2023, 11, 21))


@pytest.fixture
def councillor():
    user = UserFactory(is_staff=False, first_name="Ewa", last_name="Radna", email="ewa.radna@example.pl")
    return services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name="Ewa Radna", user=user)


def lend(recipient, term=None, **overrides):
    data = {"recipient": recipient, "purpose": LoanPurpose.COUNCIL_SESSIONS, "council_term": term,
            "starts_on": date(2020, 4, 16), "condition_at_handover": "nowy, w folii",
            "accessories": [{"kind": "charger", "quantity": 1}, {"kind": "case", "quantity": 2}]}
    if term is None:
        data.update(purpose=LoanPurpose.STAFF_WORK, planned_end_on=TODAY() + timedelta(days=100))
    data.update(overrides)
    if "devices" not in data and "kit" not in data:
        data["devices"] = [make_device(kind="tablet")]
    return services.loan_start(by=None, **data)


def _action(client, url, action, objects, **form):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **form}
    return client.post(url, data, follow=True)


def _messages(response, level=None):
    return [m for m in get_messages(response.wsgi_request) if level is None or m.level == level]


# --- pages ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["recipient", "councilterm", "loan", "loanfinding"])
def test_every_loans_page_lists_and_searches(it_client, councillor, term, model):
    loan = lend(councillor, term)
    services.loan_return(loan=loan, by=None, condition="ok", returned_on=date(2023, 11, 30))
    assert it_client.get(f"/admin/loans/{model}/").status_code == 200
    assert it_client.get(f"/admin/loans/{model}/", {"q": "Radna"}).status_code == 200


def test_loan_list_search_by_inventory_number_and_columns(it_client, councillor, term):
    loan = lend(councillor, term)
    other = lend(councillor, term)
    number = loan.items.get().device.inventory_number
    page = it_client.get("/admin/loans/loan/", {"q": number})
    assert list(page.context["cl"].result_list) == [loan]
    row = page.context["cl"].result_list[0]
    assert row.device_count == 1 and other not in page.context["cl"].result_list


def test_the_loan_page_is_read_only_with_its_parts(it_client, councillor, term):
    loan = lend(councillor, term)
    services.loan_record_setup_step(loan=loan, step=SetupStep.PERSONALISED, done_on=date(2020, 4, 20), by=None)
    page = it_client.get(f"/admin/loans/loan/{loan.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert loan.items.get().device.inventory_number in content
    assert 'name="condition_at_handover"' not in content
    shown = {formset.opts.model._meta.model_name for formset in page.context["inline_admin_formsets"]}
    assert shown == {"loanitem", "loanaccessory", "loansetupstep", "loanfinding", "loanevent"}
    assert it_client.get(f"/admin/loans/loan/{loan.pk}/history/").status_code == 200


# --- starting a loan -----------------------------------------------------------------------------

def _start_form(recipient, term, devices, **overrides):
    data = {"recipient": recipient.pk, "purpose": LoanPurpose.COUNCIL_SESSIONS, "council_term": term.pk,
            "devices": [d.pk for d in devices], "starts_on": "16.04.2020", "planned_end_on": "",
            "condition_at_handover": "nowy, w folii", "notes": "",
            "accessory_0_kind": "charger", "accessory_0_description": "USB-C", "accessory_0_quantity": "1",
            "accessory_1_kind": "case", "accessory_1_quantity": "2"}
    data.update(overrides)
    return data


def test_the_add_form_offers_devices_in_stock_only(it_client):
    free, lent_out = make_device(kind="tablet"), make_device(kind="tablet")
    from assets import services as asset_services

    asset_services.device_send_to_repair(device=lent_out, by=None, reason="ekran")
    page = it_client.get("/admin/loans/loan/add/")
    assert page.status_code == 200
    offered = set(page.context["adminform"].form.fields["devices"].queryset)
    assert free in offered and lent_out not in offered


def test_the_add_form_starts_a_loan_through_the_service(it_client, it_user, councillor, term):
    tablet = make_device(kind="tablet")
    response = it_client.post("/admin/loans/loan/add/", _start_form(councillor, term, [tablet]))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    loan = Loan.objects.get()
    assert (loan.recipient, loan.status, loan.planned_end_on) == (councillor, LoanStatus.OPEN, term.ends_on)
    assert loan.starts_on == date(2020, 4, 16)
    assert loan.events.get().kind == LoanEventKind.STARTED and loan.events.get().actor == it_user
    assert loan.history.latest("history_id").history_user == it_user
    assert sorted(loan.accessories.values_list("kind", "description", "quantity")) == [
        ("case", "", 2), ("charger", "USB-C", 1)]
    tablet.refresh_from_db()
    assert tablet.status == DeviceStatus.ON_LOAN and tablet.events.latest("id").actor == it_user


def test_a_refused_start_is_a_message_keeps_the_input_and_writes_nothing(it_client, councillor, term):
    tablet = make_device(kind="tablet")
    events_before = DeviceEvent.objects.count()
    # A loan for council sessions belongs to a term: loan_start refuses it, naming the field.
    response = it_client.post("/admin/loans/loan/add/", _start_form(councillor, term, [tablet], council_term=""))
    assert response.status_code == 200
    assert [m.level for m in _messages(response)] == [message_levels.ERROR]
    form = response.context["adminform"].form
    assert "council_term" in form.errors
    assert form.data["condition_at_handover"] == "nowy, w folii"
    assert not Loan.objects.exists() and DeviceEvent.objects.count() == events_before
    tablet.refresh_from_db()
    assert tablet.status == DeviceStatus.IN_STOCK


def test_a_kit_and_devices_together_are_refused(it_client, councillor, term):
    from assets import services as asset_services

    kit = asset_services.kit_create(code="K/1", name="zestaw", by=None, devices=[make_device(kind="desktop")])
    tablet = make_device(kind="tablet")
    response = it_client.post("/admin/loans/loan/add/", _start_form(councillor, term, [tablet], kit=kit.pk))
    assert response.status_code == 200 and _messages(response, message_levels.ERROR)
    assert not Loan.objects.exists()


# --- return --------------------------------------------------------------------------------------

def test_the_return_form_asks_for_each_accessory_prefilled(it_client, councillor, term):
    loan = lend(councillor, term)
    page = _action(it_client, "/admin/loans/loan/", "loan_return", [loan])
    assert page.status_code == 200
    (form,) = [row_form for _obj, _label, row_form in page.context["rows"]]
    charger, case = loan.accessories.order_by("kind").reverse()
    assert form[f"accessory_{charger.pk}"].initial == 1 and form[f"accessory_{case.pk}"].initial == 2


def test_the_return_action_records_findings_and_brings_devices_back(it_client, it_user, councillor, term):
    loan = lend(councillor, term)
    tablet = loan.items.get().device
    charger = loan.accessories.get(kind="charger")
    case = loan.accessories.get(kind="case")
    p = f"loan-{loan.pk}-"
    done = _action(it_client, "/admin/loans/loan/", "loan_return", [loan], apply="1", **{
        p + "condition": "sprawny", p + "returned_on": "30.11.2023", p + f"accessory_{charger.pk}": "1",
        p + f"accessory_{case.pk}": "1", p + "findings": "rysa na ekranie\n\n"})
    assert [m.level for m in _messages(done)] == [message_levels.SUCCESS]
    loan.refresh_from_db()
    assert (loan.status, loan.ended_on, loan.condition_at_return) == (LoanStatus.RETURNED, date(2023, 11, 30),
                                                                     "sprawny")
    assert loan.events.latest("id").actor == it_user
    charger.refresh_from_db()
    case.refresh_from_db()
    assert (charger.returned_quantity, case.returned_quantity) == (1, 1)
    findings = list(loan.findings.order_by("id").values_list("description", flat=True))
    assert len(findings) == 2 and findings[0] == "rysa na ekranie" and "(1" in findings[1]
    tablet.refresh_from_db()
    assert tablet.status == DeviceStatus.IN_STOCK


def test_a_refused_return_is_a_message_and_changes_nothing(it_client, councillor, term):
    loan = lend(councillor, term)
    charger = loan.accessories.get(kind="charger")
    case = loan.accessories.get(kind="case")
    p = f"loan-{loan.pk}-"
    too_many = _action(it_client, "/admin/loans/loan/", "loan_return", [loan], apply="1", **{
        p + "condition": "sprawny", p + "returned_on": "30.11.2023", p + f"accessory_{charger.pk}": "5",
        p + f"accessory_{case.pk}": "0", p + "findings": "rysa"})
    assert too_many.status_code == 200
    assert [m.level for m in _messages(too_many)] == [message_levels.ERROR]
    loan.refresh_from_db()
    case.refresh_from_db()
    assert loan.status == LoanStatus.OPEN and loan.events.count() == 1
    assert case.returned_quantity is None and not LoanFinding.objects.exists()
    assert loan.items.get().device.status == DeviceStatus.ON_LOAN


def test_returning_a_returned_loan_is_refused(it_client, councillor, term):
    loan = lend(councillor, term, accessories=[])
    services.loan_return(loan=loan, by=None, condition="ok", returned_on=date(2023, 11, 30))
    p = f"loan-{loan.pk}-"
    again = _action(it_client, "/admin/loans/loan/", "loan_return", [loan], apply="1", **{
        p + "condition": "znowu", p + "returned_on": "01.12.2023"})
    assert [m.level for m in _messages(again)] == [message_levels.ERROR]
    loan.refresh_from_db()
    assert (loan.ended_on, loan.condition_at_return, loan.events.count()) == (date(2023, 11, 30), "ok", 2)


def test_a_return_form_with_bad_input_is_shown_again(it_client, councillor, term):
    loan = lend(councillor, term)
    page = _action(it_client, "/admin/loans/loan/", "loan_return", [loan], apply="1",
                   **{f"loan-{loan.pk}-condition": "", f"loan-{loan.pk}-returned_on": "30.11.2023"})
    assert page.status_code == 200 and page.context["rows"][0][2].errors
    loan.refresh_from_db()
    assert loan.status == LoanStatus.OPEN


# --- list filter ---------------------------------------------------------------------------------

def test_the_overdue_filter_lists_only_overdue_open_loans(it_client, councillor):
    today = TODAY()
    overdue = lend(councillor, starts_on=today - timedelta(days=60), planned_end_on=today - timedelta(days=1))
    current = lend(councillor, starts_on=today - timedelta(days=60), planned_end_on=today)
    returned = lend(councillor, starts_on=today - timedelta(days=60), planned_end_on=today - timedelta(days=5))
    services.loan_return(loan=returned, by=None, condition="ok", accessories_returned={
        a.pk: a.quantity for a in returned.accessories.all()})
    yes = it_client.get("/admin/loans/loan/", {"overdue": "yes"})
    assert list(yes.context["cl"].result_list) == [overdue]
    assert yes.context["cl"].result_list[0].is_overdue
    no = it_client.get("/admin/loans/loan/", {"overdue": "no"})
    assert set(no.context["cl"].result_list) == {current, returned}


# --- council term --------------------------------------------------------------------------------

def test_changing_the_term_end_moves_its_open_loans(it_client, it_user, councillor, term):
    open_loan = lend(councillor, term)
    returned = lend(councillor, term)
    services.loan_return(loan=returned, by=None, condition="ok", returned_on=date(2021, 1, 4))
    elsewhere = lend(councillor)
    page = _action(it_client, "/admin/loans/councilterm/", "change_end", [term])
    assert page.status_code == 200 and 'name="ends_on"' in page.content.decode()
    done = _action(it_client, "/admin/loans/councilterm/", "change_end", [term], apply="1",
                   ends_on="30.04.2024", reason="wydłużenie kadencji ustawą")
    assert [m.level for m in _messages(done)] == [message_levels.SUCCESS]
    term.refresh_from_db()
    assert term.ends_on == date(2024, 4, 30)
    for loan in (open_loan, returned, elsewhere):
        loan.refresh_from_db()
    assert open_loan.planned_end_on == date(2024, 4, 30)
    event = open_loan.events.latest("id")
    assert (event.kind, event.actor, event.planned_end_before) == (LoanEventKind.TERM_MOVED, it_user,
                                                                   date(2023, 11, 21))
    assert returned.planned_end_on == date(2023, 11, 21)
    assert elsewhere.planned_end_on == TODAY() + timedelta(days=100)


def test_a_refused_term_end_is_a_message(it_client, councillor, term):
    lend(councillor, term)
    done = _action(it_client, "/admin/loans/councilterm/", "change_end", [term], apply="1",
                   ends_on="01.01.2010", reason="")
    assert [m.level for m in _messages(done)] == [message_levels.ERROR]
    term.refresh_from_db()
    assert term.ends_on == date(2023, 11, 21)
    assert Loan.objects.get().planned_end_on == date(2023, 11, 21)


def test_a_council_term_is_added_through_the_service(it_client, it_user):
    response = it_client.post("/admin/loans/councilterm/add/", {
        "council": "Rada Miasta Kielce", "name": "kadencja 2024–2029", "starts_on": "07.05.2024",
        "ends_on": "30.04.2029"})
    assert response.status_code == 302
    term = CouncilTerm.objects.get()
    assert term.history.get().history_user == it_user


def test_a_recipient_is_added_and_changed_through_the_services(it_client, it_user):
    added = it_client.post("/admin/loans/recipient/add/", {"kind": "household", "name": "Gospodarstwo nr 7",
                                                           "email": "", "address": "", "phone": "", "notes": ""})
    assert added.status_code == 302
    recipient = Recipient.objects.get()
    changed = it_client.post(f"/admin/loans/recipient/{recipient.pk}/change/", {
        "kind": "household", "name": "Gospodarstwo nr 7", "email": "dom7@example.pl", "address": "",
        "phone": "", "notes": ""})
    assert changed.status_code == 302
    recipient.refresh_from_db()
    assert recipient.email == "dom7@example.pl"
    assert [h.history_user for h in recipient.history.order_by("history_id")] == [it_user, it_user]
    councillor = it_client.post("/admin/loans/recipient/add/", {"kind": "councillor", "name": "Bez konta"})
    assert councillor.status_code == 200 and "user" in councillor.context["adminform"].form.errors


# --- other moves ---------------------------------------------------------------------------------

def test_the_extend_action(it_client, it_user, councillor, term):
    loan = lend(councillor, term)
    page = _action(it_client, "/admin/loans/loan/", "loan_extend", [loan])
    assert page.status_code == 200 and 'name="planned_end_on"' in page.content.decode()
    done = _action(it_client, "/admin/loans/loan/", "loan_extend", [loan], apply="1",
                   planned_end_on="31.12.2023", reason="sesja budżetowa")
    assert [m.level for m in _messages(done)] == [message_levels.SUCCESS]
    loan.refresh_from_db()
    assert loan.planned_end_on == date(2023, 12, 31)
    event = loan.events.latest("id")
    assert (event.kind, event.actor, event.reason) == (LoanEventKind.EXTENDED, it_user, "sesja budżetowa")
    earlier = _action(it_client, "/admin/loans/loan/", "loan_extend", [loan], apply="1",
                      planned_end_on="01.12.2023")
    assert [m.level for m in _messages(earlier)] == [message_levels.ERROR]
    loan.refresh_from_db()
    assert loan.planned_end_on == date(2023, 12, 31)


def test_the_mark_lost_action(it_client, it_user, councillor, term):
    loan = lend(councillor, term)
    device = loan.items.get().device
    missing = _action(it_client, "/admin/loans/loan/", "loan_mark_lost", [loan], apply="1", reference="")
    assert missing.status_code == 200 and "reference" in missing.context["form"].errors
    done = _action(it_client, "/admin/loans/loan/", "loan_mark_lost", [loan], apply="1",
                   reference="KMP Kielce RSD-123/23", reason="kradzież z samochodu")
    assert [m.level for m in _messages(done)] == [message_levels.SUCCESS]
    loan.refresh_from_db()
    device.refresh_from_db()
    assert loan.status == LoanStatus.LOST and device.status == DeviceStatus.LOST
    assert loan.events.latest("id").actor == it_user


def test_the_setup_step_action(it_client, it_user, councillor, term):
    loan = lend(councillor, term)
    done = _action(it_client, "/admin/loans/loan/", "loan_record_setup_step", [loan], apply="1",
                   step=SetupStep.TRAINING_ATTENDED, done_on="20.04.2020", note="sala sesyjna")
    assert [m.level for m in _messages(done)] == [message_levels.SUCCESS]
    step = loan.setup_steps.get()
    assert (step.step, step.done_on, step.done_by, step.note) == (SetupStep.TRAINING_ATTENDED, date(2020, 4, 20),
                                                                  it_user, "sala sesyjna")
    twice = _action(it_client, "/admin/loans/loan/", "loan_record_setup_step", [loan], apply="1",
                    step=SetupStep.TRAINING_ATTENDED, done_on="21.04.2020")
    assert [m.level for m in _messages(twice)] == [message_levels.ERROR]
    assert loan.setup_steps.count() == 1


def test_the_settle_action(it_client, it_user, councillor, term):
    loan = lend(councillor, term)
    services.loan_return(loan=loan, by=None, condition="ok", returned_on=date(2023, 11, 30),
                         findings=["brak etui"])
    finding = LoanFinding.objects.get(description="brak etui")
    listed = it_client.get("/admin/loans/loanfinding/", {"status__exact": FindingStatus.OPEN})
    assert finding in listed.context["cl"].result_list
    done = _action(it_client, "/admin/loans/loanfinding/", "settle", [finding], apply="1",
                   settlement="etui oddane 05.12.2023")
    assert [m.level for m in _messages(done)] == [message_levels.SUCCESS]
    finding.refresh_from_db()
    assert (finding.status, finding.settled_by, finding.settlement) == (FindingStatus.SETTLED, it_user,
                                                                        "etui oddane 05.12.2023")
    again = _action(it_client, "/admin/loans/loanfinding/", "settle", [finding], apply="1", settlement="x")
    assert [m.level for m in _messages(again)] == [message_levels.ERROR]
    finding.refresh_from_db()
    assert finding.settlement == "etui oddane 05.12.2023"


# --- roles ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.AUDITOR, Role.LEGAL_OFFICE, Role.PROJECT_MANAGER])
def test_read_only_roles_see_lists_but_cannot_add_or_move(client, make_user, councillor, term, role):
    client.force_login(make_user(role))
    loan = lend(councillor, term)
    page = client.get("/admin/loans/loan/")
    assert page.status_code == 200 and loan in page.context["cl"].result_list
    assert page.context["action_form"] is None and not page.context["has_add_permission"]
    assert client.get("/admin/loans/loan/add/").status_code == 403
    assert client.get("/admin/loans/recipient/add/").status_code == 403
    assert client.get("/admin/loans/councilterm/add/").status_code == 403
    assert client.get(f"/admin/loans/loan/{loan.pk}/change/").status_code == 200
    terms = client.get("/admin/loans/councilterm/")
    assert terms.status_code == 200 and terms.context["action_form"] is None
    _action(client, "/admin/loans/loan/", "loan_extend", [loan], apply="1", planned_end_on="31.12.2024")
    _action(client, "/admin/loans/councilterm/", "change_end", [term], apply="1", ends_on="31.12.2024")
    loan.refresh_from_db()
    term.refresh_from_db()
    assert loan.planned_end_on == term.ends_on == date(2023, 11, 21)
    assert LoanEvent.objects.filter(loan=loan).count() == 1


def test_the_it_office_sees_the_add_button_and_the_moves(it_client, councillor, term):
    lend(councillor, term)
    page = it_client.get("/admin/loans/loan/")
    assert page.context["has_add_permission"]
    offered = {name for name, _label in page.context["action_form"].fields["action"].choices}
    assert {"loan_return", "loan_extend", "loan_mark_lost", "loan_record_setup_step"} <= offered
