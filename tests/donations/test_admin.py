"""The donations app in the admin: every add form and every action goes through donations.services, a
refusal is a message (and the reason beside its field) with nothing written, a transfer past its draft is
evidence no page changes, and the legal check is shown item by item on the transfer's page.

The flows run under an English request (Accept-Language: en), so that the service's reasons read the same
once the Polish catalogue is added; the pages are opened in Polish too."""
import hashlib
from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib import messages as message_levels
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assets import services as asset_services
from assets.choices import DeviceStatus, FundingSource, RetirementReason
from assets.models import Device, DeviceEvent, Kit
from core.roles import Role
from donations import forms as donation_forms
from donations import services
from donations.choices import (
    BeneficiaryKind,
    DonationStatus,
    LegalCheck,
    ObligationKind,
    OrderKind,
    TransferEventKind,
    TransferStatus,
)
from donations.models import (
    Beneficiary,
    DonationOffer,
    GrantProject,
    Liquidation,
    MayoralOrder,
    ObligationRecord,
    OrderAnnexBeneficiary,
    OrderAnnexDevice,
    ProjectDevice,
    ProjectObligation,
    Transfer,
    TransferEvent,
)
from loans.models import Loan, Recipient
from tests.factories import (
    UserFactory,
    allocate,
    make_beneficiary,
    make_device,
    make_order,
    make_project,
    make_retired,
    make_set,
    sanitize,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
AFTER_DURABILITY = date(2021, 7, 1)  # the e-Inclusion sets' period ended on 31.03.2021; orders from 14.06.2021


# --- users, clients, helpers -----------------------------------------------------------------------

def user_with(*perms: str, **fields):
    """A staff user holding exactly `perms` ("app.codename"), fresh from the database (no cached perms)."""
    user = UserFactory(**fields)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def manager():
    return UserFactory(is_superuser=True, first_name="Piotr", last_name="Projektowy")


@pytest.fixture
def su(manager):
    """The admin as a superuser, in English."""
    return client_for(manager)


@pytest.fixture
def technician():
    return UserFactory(first_name="Tomasz", last_name="Technik")


@pytest.fixture
def validator():
    return UserFactory(first_name="Wanda", last_name="Walidator")


def _messages(response, level=None) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if level is None or m.level == level]


def _levels(response) -> list[int]:
    return [m.level for m in get_messages(response.wsgi_request)]


def _action(client, url, action, objects, **form):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **form}
    return client.post(url, data, follow=True)


def _inline_data(page) -> dict:
    """What a browser posts back for the page's (read-only) inlines: management forms and hidden ids."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        for form in formset.forms:
            data.update({field.html_name: field.value() or "" for field in form if field.is_hidden})
    return data


def _history_user(obj):
    return obj.history.latest("history_id").history_user


@pytest.fixture
def held():
    """A household of an e-Inclusion project holding its set since 2014; the project's period is over."""
    project = make_project()
    beneficiary = make_beneficiary(project)
    kit = make_set(project)
    allocate(beneficiary, kit)
    return SimpleNamespace(project=project, beneficiary=beneficiary, kit=kit,
                           devices=list(Device.objects.filter(kit=kit).order_by("inventory_number")))


def lawful_transfer(held, **overrides) -> Transfer:
    """A transfer of the household's set to it, under an order listing the household: every check passes."""
    order = overrides.pop("order", None) or make_order(project=held.project, annex_beneficiaries=[held.beneficiary])
    return services.transfer_create(order=order, recipient=held.beneficiary.recipient, by=None, kits=[held.kit],
                                    transfer_date=overrides.pop("transfer_date", AFTER_DURABILITY), **overrides)


def unlisted_transfer(held) -> Transfer:
    """The same set under an order whose annex is empty: the annex check fails (a lawyer may override it)."""
    return services.transfer_create(order=make_order(), recipient=held.beneficiary.recipient, by=None,
                                    kits=[held.kit], transfer_date=AFTER_DURABILITY)


def submitted(transfer: Transfer) -> Transfer:
    return services.transfer_submit(transfer=transfer, by=None)


def a_sanitized_device(technician, validator) -> Device:
    return sanitize(make_retired(kinds=("hdd",)), technician=technician, validator=validator)


def an_offer(**overrides) -> DonationOffer:
    data = {"donor_name": "Jan Darczyńca", "donor_contact": "ul. Leszczyńska 1, Leszno", "kind": "laptop",
            "manufacturer": "Dell", "model": "Latitude E7450", "serial_number": "CN0DELL7450",
            "legal_source": "invoice", "legal_source_reference": "FV 12/2016", "free_of_charge_declared": True,
            "software_licences": "Windows 10 Pro OEM, klucz na naklejce"}
    data.update(overrides)
    return services.donation_offer_create(by=None, **data)


# --- the forms offer what the services take ---------------------------------------------------------

def test_each_form_offers_exactly_the_fields_its_service_accepts():
    assert set(donation_forms.PROJECT_FORM_FIELDS) == services.PROJECT_FIELDS
    assert set(donation_forms.BENEFICIARY_FORM_FIELDS) == services.BENEFICIARY_FIELDS
    assert set(donation_forms.CONTACT_FORM_FIELDS) == services.CONTACT_FIELDS
    assert set(donation_forms.ORDER_FORM_FIELDS) == services.ORDER_FIELDS
    assert set(donation_forms.OFFER_FORM_FIELDS) == services.OFFER_FIELDS
    assert set(donation_forms.LIQUIDATION_FORM_FIELDS) == services.LIQUIDATION_FIELDS


# --- pages -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", [
    "grantproject/", "grantproject/add/", "beneficiary/", "beneficiary/add/", "projectobligation/",
    "projectobligation/add/", "obligationrecord/", "mayoralorder/", "mayoralorder/add/", "transfer/", "transfer/add/",
    "transfer/for-project/", "donationoffer/", "donationoffer/add/", "liquidation/", "liquidation/add/"])
def test_every_donations_page_opens_and_searches_in_polish(manager, held, page):
    client = client_for(manager, "pl")
    obligation = services.obligation_create(project=held.project, kind=ObligationKind.INTERNET,
                                            description="Internet dla gospodarstw", by=None)
    services.obligation_record_month(obligation=obligation, month=date(2019, 3, 1), proof_reference="FV/1", by=None)
    submitted(lawful_transfer(held))
    an_offer()
    response = client.get(f"/admin/donations/{page}")
    assert response.status_code == 200
    if not page.endswith(("add/", "for-project/")):
        assert client.get(f"/admin/donations/{page}", {"q": "EI"}).status_code == 200


def test_the_record_pages_open_with_their_parts(su, held):
    obligation = services.obligation_create(project=held.project, kind=ObligationKind.SERVICING,
                                            description="Serwis zestawów", by=None)
    order = make_order(project=held.project, annex_beneficiaries=[held.beneficiary], annex_devices=held.devices[:1])
    transfer = lawful_transfer(held, order=order)
    offer = an_offer()
    pages = [(held.project, {"projectobligation"}), (held.beneficiary, set()), (obligation, set()),
             (order, {"orderannexdevice", "orderannexbeneficiary"}), (transfer, {"transferitem", "transferevent"}),
             (offer, set())]
    for obj, inlines in pages:
        page = su.get(f"/admin/donations/{obj._meta.model_name}/{obj.pk}/change/")
        assert page.status_code == 200, obj
        assert {f.opts.model._meta.model_name for f in page.context["inline_admin_formsets"]} == inlines
        assert su.get(f"/admin/donations/{obj._meta.model_name}/{obj.pk}/history/").status_code == 200
    order_page = su.get(f"/admin/donations/mayoralorder/{order.pk}/change/").content.decode()
    assert held.devices[0].inventory_number in order_page and held.beneficiary.code in order_page
    # A project's devices are counted by state on its page and listed, a page at a time, by the link.
    project_page = su.get(f"/admin/donations/grantproject/{held.project.pk}/change/").content.decode()
    assert f"/admin/donations/projectdevice/?project__id__exact={held.project.pk}" in project_page
    listed = su.get("/admin/donations/projectdevice/", {"project__id__exact": held.project.pk})
    assert {row.device for row in listed.context["cl"].result_list} == set(held.devices)
    beneficiary_page = su.get(f"/admin/donations/beneficiary/{held.beneficiary.pk}/change/").content.decode()
    assert all(d.inventory_number in beneficiary_page for d in held.devices)  # what the household holds now


# --- grant projects --------------------------------------------------------------------------------

def _project_form(**overrides) -> dict:
    data = {"name": "e-Inclusion Leszno", "programme": "POIG 8.3", "agreement_number": "POIG.08.03.00-30-099/12",
            "starts_on": "2013-01-02", "ends_on": "2015-12-31", "final_payment_on": "2016-03-31",
            "durability_years": "5", "manager": "", "notes": ""}
    data.update(overrides)
    return data


def test_the_project_add_form_registers_through_the_service(su, manager):
    response = su.post("/admin/donations/grantproject/add/", _project_form(manager=manager.pk))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    project = GrantProject.objects.get()
    assert (project.durability_ends_on, project.manager) == (date(2021, 3, 31), manager)
    assert _history_user(project) == manager
    assert project.history.latest("history_id").history_change_reason == "project registered"


def test_a_project_refused_by_its_rules_keeps_the_form_and_writes_nothing(su):
    response = su.post("/admin/donations/grantproject/add/", _project_form(ends_on="2012-12-31"))
    assert response.status_code == 200
    assert _levels(response) == [message_levels.ERROR]
    form = response.context["adminform"].form
    assert form.errors["ends_on"] == ["The project cannot end before it starts."]
    assert form.data["name"] == "e-Inclusion Leszno"
    assert not GrantProject.objects.exists()


def test_the_project_change_form_updates_through_the_service(su, manager, held):
    url = f"/admin/donations/grantproject/{held.project.pk}/change/"
    page = su.get(url)
    data = {**_project_form(name=held.project.name, agreement_number=held.project.agreement_number,
                            durability_years="6"), **_inline_data(page)}
    response = su.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    held.project.refresh_from_db()
    assert (held.project.durability_years, held.project.durability_ends_on) == (6, date(2022, 3, 31))
    assert _history_user(held.project) == manager


def test_the_project_list_counts_devices_and_beneficiaries(su, held):
    make_beneficiary(held.project)
    row = su.get("/admin/donations/grantproject/").context["cl"].result_list[0]
    assert (row.devices_count, row.beneficiaries_count, row.durability_ends_on) == (2, 2, date(2021, 3, 31))
    over = su.get("/admin/donations/grantproject/", {"durability": "over"}).context["cl"].result_list
    running = su.get("/admin/donations/grantproject/", {"durability": "running"}).context["cl"].result_list
    assert list(over) == [held.project] and not list(running)


def _free_kit(n: int = 2) -> Kit:
    devices = [make_device(kind="desktop") for _ in range(n)]
    return asset_services.kit_create(code=f"ZK-{devices[0].pk}", name="Zestaw", devices=devices, by=None)


def test_adding_kits_and_devices_to_a_project_by_the_action(su, manager):
    project = make_project()
    kit, loose = _free_kit(), make_device()
    page = _action(su, "/admin/donations/grantproject/", "add_devices", [project])
    assert page.status_code == 200 and loose in page.context["form"].fields["devices"].queryset
    response = _action(su, "/admin/donations/grantproject/", "add_devices", [project], apply="1",
                       kits=[kit.pk], devices=[loose.pk])
    assert _levels(response) == [message_levels.SUCCESS]
    assert set(ProjectDevice.objects.filter(project=project).values_list("device_id", flat=True)) == {
        loose.pk, *kit.devices.values_list("pk", flat=True)}


def test_a_kit_of_another_project_is_refused_with_a_message_and_nothing_is_added(su, held):
    other = make_project()
    stray = make_device()
    response = _action(su, "/admin/donations/grantproject/", "add_devices", [other], apply="1",
                       kits=[held.kit.pk], devices=[stray.pk])
    assert _levels(response) == [message_levels.ERROR]
    assert f"already belongs to the project {held.project.name}" in _messages(response)[0]
    assert not ProjectDevice.objects.filter(project=other).exists()


def test_adding_devices_is_for_one_project_at_a_time(su):
    first, second = make_project(), make_project()
    response = _action(su, "/admin/donations/grantproject/", "add_devices", [first, second])
    assert _levels(response) == [message_levels.WARNING]


def test_adding_devices_from_the_project_page(su, manager):
    project = make_project()
    kit = _free_kit()
    response = su.post(f"/admin/donations/grantproject/{project.pk}/add-devices/", {"add_devices-kits": [kit.pk]},
                       follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/donations/grantproject/{project.pk}/change/"
    assert ProjectDevice.objects.filter(project=project).count() == 2


def test_the_months_without_proof_for_the_project_manager(su, held):
    household = held.beneficiary
    school = make_beneficiary(held.project, kind=BeneficiaryKind.SCHOOL, code="EI/SZ/001")
    internet = services.obligation_create(project=held.project, kind=ObligationKind.INTERNET,
                                          description="Internet dla gospodarstw", applies_to=BeneficiaryKind.HOUSEHOLD,
                                          starts_on=date(2020, 1, 1), ends_on=date(2020, 3, 31), by=None)
    services.obligation_record(obligation=internet, beneficiary=household, month=date(2020, 2, 1),
                               proof_reference="FV/2020/02", by=None)
    page = su.get(f"/admin/donations/grantproject/{held.project.pk}/gaps/")
    assert page.status_code == 200 and page.context["total"] == 2
    (group,) = page.context["groups"]
    assert group["obligation"] == internet
    assert [(month, [b.code for b in who]) for month, who in group["months"]] == [
        (date(2020, 1, 1), [household.code]), (date(2020, 3, 1), [household.code])]
    assert school.code not in page.content.decode()
    project_page = su.get(f"/admin/donations/grantproject/{held.project.pk}/change/").content.decode()
    assert f"/admin/donations/grantproject/{held.project.pk}/gaps/" in project_page


def test_issuing_the_durability_report_by_the_action_and_from_the_page(su, manager, held):
    response = _action(su, "/admin/donations/grantproject/", "issue_durability_report", [held.project])
    assert _levels(response) == [message_levels.SUCCESS]
    document = held.project.documents.get()
    assert document.issued_by == manager
    assert f'href="/documents/{document.code}/download/"' in response.content.decode()
    page = su.post(f"/admin/donations/grantproject/{held.project.pk}/report/", {}, follow=True)
    assert _levels(page) == [message_levels.SUCCESS]
    assert held.project.documents.count() == 2
    assert f"/documents/{document.code}/download/" in page.content.decode()  # the issued documents on the page


# --- beneficiaries ---------------------------------------------------------------------------------

def _beneficiary_form(project, **overrides) -> dict:
    data = {"project": project.pk, "code": "EI/GD/101", "kind": BeneficiaryKind.HOUSEHOLD, "name": "Maria Nowak",
            "address": "ul. Słowiańska 5, 64-100 Leszno", "email": "maria.nowak@example.pl",
            "phone": "+48 65 111 22 33",
            "eligibility_basis": "uczeń w rodzinie korzystającej z pomocy społecznej", "eligibility_reference": "",
            "qualified_on": "2013-09-02", "is_active": "on", "notes": ""}
    data.update(overrides)
    return data


def test_the_beneficiary_add_form_registers_with_the_recipient(su, manager):
    project = make_project()
    response = su.post("/admin/donations/beneficiary/add/", _beneficiary_form(project))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    beneficiary = Beneficiary.objects.get()
    recipient = beneficiary.recipient
    assert (recipient.name, recipient.address, recipient.email, recipient.phone, recipient.kind) == (
        "Maria Nowak", "ul. Słowiańska 5, 64-100 Leszno", "maria.nowak@example.pl", "+48 65 111 22 33", "household")
    assert (beneficiary.project, beneficiary.code, beneficiary.qualified_on) == (project, "EI/GD/101",
                                                                                 date(2013, 9, 2))
    assert _history_user(beneficiary) == manager and _history_user(recipient) == manager


def test_a_second_beneficiary_with_the_same_code_is_refused_and_no_recipient_is_left(su, held):
    recipients = Recipient.objects.count()
    response = su.post("/admin/donations/beneficiary/add/", _beneficiary_form(held.project, code=held.beneficiary.code))
    assert response.status_code == 200
    assert _levels(response) == [message_levels.ERROR]
    assert "already has a beneficiary with this code" in _messages(response)[0]
    assert Beneficiary.objects.count() == 1 and Recipient.objects.count() == recipients


def test_the_beneficiary_change_form_updates_the_contact(su, manager, held):
    url = f"/admin/donations/beneficiary/{held.beneficiary.pk}/change/"
    page = su.get(url)
    form = page.context["adminform"].form
    assert form["name"].value() == held.beneficiary.recipient.name  # the contact is read from the recipient
    data = _beneficiary_form(held.project, code=held.beneficiary.code, name="Gospodarstwo Kowalskich",
                             phone="+48 600 000 000")
    data.pop("project")  # read-only on the page
    response = su.post(url, {**data, **_inline_data(page)})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    recipient = Recipient.objects.get(pk=held.beneficiary.recipient_id)
    assert (recipient.name, recipient.phone) == ("Gospodarstwo Kowalskich", "+48 600 000 000")
    assert _history_user(recipient) == manager


def test_the_beneficiary_list_filters_by_project_kind_and_activity(su, held):
    school = make_beneficiary(held.project, kind=BeneficiaryKind.SCHOOL)
    other = make_beneficiary(make_project(), is_active=False)
    listing = su.get("/admin/donations/beneficiary/")
    assert {row.pk: row.held for row in listing.context["cl"].result_list} == {
        held.beneficiary.pk: 2, school.pk: 0, other.pk: 0}

    def listed(**query):
        return set(su.get("/admin/donations/beneficiary/", query).context["cl"].result_list)

    assert listed(project__id__exact=held.project.pk) == {held.beneficiary, school}
    assert listed(kind__exact="school") == {school}
    assert listed(is_active__exact="0") == {other}


def test_allocating_a_set_by_the_action(su, manager):
    project = make_project()
    beneficiary = make_beneficiary(project)
    kit, lent = make_set(project), make_set(project)
    allocate(make_beneficiary(project), lent)
    page = _action(su, "/admin/donations/beneficiary/", "allocate", [beneficiary])
    offered = set(page.context["form"].fields["kit"].queryset)
    assert kit in offered and lent not in offered  # a kit already lent is not offered
    response = _action(su, "/admin/donations/beneficiary/", "allocate", [beneficiary], apply="1", kit=kit.pk,
                       starts_on="2014-04-01", condition_at_handover="nowy, kompletny", notes="")
    assert _levels(response) == [message_levels.SUCCESS]
    loan = Loan.objects.get(recipient=beneficiary.recipient)
    assert (loan.kit, loan.starts_on, loan.planned_end_on, loan.condition_at_handover) == (
        kit, date(2014, 4, 1), date(2021, 3, 31), "nowy, kompletny")
    assert loan.events.get().actor == manager
    assert set(Device.objects.filter(kit=kit).values_list("status", flat=True)) == {DeviceStatus.ON_LOAN}


def test_a_second_set_for_a_household_is_refused_with_a_message(su, held):
    second = make_set(held.project)
    loans = Loan.objects.count()
    response = _action(su, "/admin/donations/beneficiary/", "allocate", [held.beneficiary], apply="1",
                       kit=second.pk, starts_on="2015-01-05")
    assert _levels(response) == [message_levels.ERROR]
    assert "already holds a set of the project; one allocation per household" in _messages(response)[0]
    assert Loan.objects.count() == loans
    assert set(Device.objects.filter(kit=second).values_list("status", flat=True)) == {DeviceStatus.IN_STOCK}


# --- obligations -----------------------------------------------------------------------------------

def test_adding_an_obligation_runs_for_the_durability_period_by_default(su, manager, held):
    response = su.post("/admin/donations/projectobligation/add/", {
        "project": held.project.pk, "kind": ObligationKind.INTERNET, "description": "Dostęp do internetu",
        "applies_to": BeneficiaryKind.HOUSEHOLD, "starts_on": "", "ends_on": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    obligation = ProjectObligation.objects.get()
    assert (obligation.starts_on, obligation.ends_on) == (date(2016, 3, 31), date(2021, 3, 31))
    assert _history_user(obligation) == manager
    page = su.get(f"/admin/donations/projectobligation/{obligation.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # no update service


def test_recording_a_month_by_the_action(su, manager, held):
    second = make_beneficiary(held.project)
    obligation = services.obligation_create(project=held.project, kind=ObligationKind.INTERNET,
                                            description="Internet", by=None)
    response = _action(su, "/admin/donations/projectobligation/", "record_month", [obligation], apply="1",
                       month="03.2019", proof_reference="FV/2019/03/117", note="")
    assert _levels(response) == [message_levels.SUCCESS]
    records = ObligationRecord.objects.filter(obligation=obligation)
    assert set(records.values_list("beneficiary_id", "month", "proof_reference", "recorded_by")) == {
        (held.beneficiary.pk, date(2019, 3, 1), "FV/2019/03/117", manager.pk),
        (second.pk, date(2019, 3, 1), "FV/2019/03/117", manager.pk)}
    coverage = su.get(f"/admin/donations/projectobligation/{obligation.pk}/change/").content.decode()
    assert "03.2019" in coverage


def test_a_month_outside_the_obligation_is_refused_with_a_message(su, held):
    obligation = services.obligation_create(project=held.project, kind=ObligationKind.INTERNET,
                                            description="Internet", by=None)
    response = _action(su, "/admin/donations/projectobligation/", "record_month", [obligation], apply="1",
                       month="01.2030", proof_reference="FV/2030/01")
    assert _levels(response) == [message_levels.ERROR]
    assert "The obligation runs from 31.03.2016 to 31.03.2021." in _messages(response)[0]
    assert not ObligationRecord.objects.exists()


def test_recording_a_month_from_the_obligation_page_keeps_the_form_on_a_refusal(su, held):
    obligation = services.obligation_create(project=held.project, kind=ObligationKind.SERVICING,
                                            description="Serwis", by=None)
    url = f"/admin/donations/projectobligation/{obligation.pk}/record-month/"
    refused = su.post(url, {"record_month-month": "01.2030", "record_month-proof_reference": "FV/1"})
    assert refused.status_code == 200
    (page_form,) = refused.context["page_forms"]
    assert page_form.form.errors["month"] == ["The obligation runs from 31.03.2016 to 31.03.2021."]
    assert not ObligationRecord.objects.exists()
    done = su.post(url, {"record_month-month": "04.2019", "record_month-proof_reference": "Raport serwisowy 4/2019"})
    assert done.status_code == 302
    assert ObligationRecord.objects.get().month == date(2019, 4, 1)


def test_obligation_records_are_read_only(su, held):
    obligation = services.obligation_create(project=held.project, kind=ObligationKind.INTERNET,
                                            description="Internet", by=None)
    (record,) = services.obligation_record_month(obligation=obligation, month=date(2019, 3, 1),
                                                 proof_reference="FV/1", by=None)
    url = f"/admin/donations/obligationrecord/{record.pk}/change/"
    page = su.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert su.post(url, {"proof_reference": "FV/2"}).status_code == 403
    assert su.get("/admin/donations/obligationrecord/add/").status_code == 403
    record.refresh_from_db()
    assert record.proof_reference == "FV/1"


# --- mayoral orders --------------------------------------------------------------------------------

def _order_form(**overrides) -> dict:
    data = {"number": "148/2021", "signed_on": "2021-06-14", "signatory": "Łukasz Borowski, Prezydent Miasta Leszna",
            "title": "w sprawie nieodpłatnego przekazania sprzętu komputerowego",
            "legal_basis": "art. 30 ust. 2 pkt 3 ustawy o samorządzie gminnym", "kind": OrderKind.FREE_TRANSFER,
            "in_force_from": "2021-06-14", "in_force_until": "", "project": "", "notes": ""}
    data.update(overrides)
    return data


def test_the_order_add_form_registers_with_the_digest_of_its_scan(su, manager):
    scan = SimpleUploadedFile("zarzadzenie-148-2021.pdf", PDF, content_type="application/pdf")
    response = su.post("/admin/donations/mayoralorder/add/", {**_order_form(), "scan": scan})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    order = MayoralOrder.objects.get()
    assert (order.number, order.kind, order.in_force_from) == ("148/2021", OrderKind.FREE_TRANSFER, date(2021, 6, 14))
    assert order.scan_sha256 == hashlib.sha256(PDF).hexdigest()
    assert _history_user(order) == manager
    page = su.get(f"/admin/donations/mayoralorder/{order.pk}/change/").content.decode()
    assert order.scan_sha256 in page


def test_an_order_number_already_registered_is_refused_beside_the_field(su):
    make_order(number="148/2021")
    response = su.post("/admin/donations/mayoralorder/add/", _order_form())
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["number"] == ["An order with this number is already registered."]
    assert MayoralOrder.objects.count() == 1


def test_the_order_change_form_updates_through_the_service(su, manager):
    order = make_order()
    url = f"/admin/donations/mayoralorder/{order.pk}/change/"
    page = su.get(url)
    response = su.post(url, {**_order_form(number=order.number, in_force_until="2021-12-31"), **_inline_data(page)})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    order.refresh_from_db()
    assert order.in_force_until == date(2021, 12, 31) and _history_user(order) == manager


def _annex(text: str, name: str = "zalacznik.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_the_annex_is_checked_then_imported_and_shown_read_only(su, manager, held):
    order = make_order(project=held.project)
    url = f"/admin/donations/mayoralorder/{order.pk}/annex-import/"
    csv = f"lp;numer inwentarzowy\n1;{held.devices[0].inventory_number}\n2;{held.devices[1].inventory_number}\n"
    check = su.post(url, {"annex-file": _annex(csv), "annex-dry_run": "on"})
    assert check.status_code == 200
    assert _levels(check) == [message_levels.INFO]
    assert check.context["annex_report"]["devices"] == [d.inventory_number for d in held.devices]
    assert not OrderAnnexDevice.objects.exists()
    done = su.post(url, {"annex-file": _annex(csv)}, follow=True)
    assert _levels(done) == [message_levels.SUCCESS]
    assert list(OrderAnnexDevice.objects.filter(order=order).order_by("line").values_list("device_id", "line")) == [
        (held.devices[0].pk, 2), (held.devices[1].pk, 3)]
    assert _history_user(order) == manager
    annex = done.context["inline_admin_formsets"][0]
    assert annex.opts.model is OrderAnnexDevice and not annex.has_change_permission  # the annex is shown, read only
    beneficiaries = su.post(url, {"annex-file": _annex(f"lp;beneficjent\n1;{held.beneficiary.code}\n")},
                            follow=True)
    assert _levels(beneficiaries) == [message_levels.SUCCESS]
    assert OrderAnnexBeneficiary.objects.get(order=order).beneficiary == held.beneficiary


def test_an_annex_with_lines_in_error_is_refused_line_by_line(su, held):
    order = make_order()
    csv = (f"lp;numer inwentarzowy\n1;{held.devices[0].inventory_number}\n2;UM/NIE/ISTNIEJE\n"
           f"3;{held.devices[0].inventory_number}\n")
    response = su.post(f"/admin/donations/mayoralorder/{order.pk}/annex-import/", {"annex-file": _annex(csv)})
    assert response.status_code == 200
    assert _levels(response) == [message_levels.ERROR]
    problems = response.context["annex_report"]["problems"]
    assert [(p["line"], p["value"]) for p in problems] == [
        (3, "UM/NIE/ISTNIEJE"), (4, held.devices[0].inventory_number)]
    content = response.content.decode()
    assert "no device with this inventory number" in content and "listed twice (line 2)" in content
    assert not OrderAnnexDevice.objects.exists()


# --- transfers: the draft --------------------------------------------------------------------------

def test_the_transfer_add_form_prepares_a_draft_through_the_service(su, manager, held):
    order = make_order(project=held.project, annex_beneficiaries=[held.beneficiary])
    page = su.get("/admin/donations/transfer/add/")
    assert set(held.devices) <= set(page.context["adminform"].form.fields["devices"].queryset)
    response = su.post("/admin/donations/transfer/add/", {
        "order": order.pk, "recipient": held.beneficiary.recipient_id, "transfer_date": "2021-07-01",
        "kits": [held.kit.pk], "notes": "przekazanie po okresie trwałości"})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.number, transfer.created_by) == (TransferStatus.DRAFT, "PN/2021/0001", manager)
    assert set(transfer.devices.all()) == set(held.devices)
    event = transfer.events.get()
    assert (event.kind, event.actor) == (TransferEventKind.CREATED, manager)
    assert _history_user(transfer) == manager


def test_a_transfer_dated_before_its_order_is_refused_beside_the_date(su, held):
    order = make_order()
    response = su.post("/admin/donations/transfer/add/", {
        "order": order.pk, "recipient": held.beneficiary.recipient_id, "transfer_date": "2021-01-04",
        "devices": [held.devices[0].pk], "notes": ""})
    assert response.status_code == 200
    assert "comes into force on 14.06.2021" in response.context["adminform"].form.errors["transfer_date"][0]
    assert not Transfer.objects.exists() and not TransferEvent.objects.exists()


def test_a_draft_is_changed_through_the_service(su, manager, held):
    transfer = lawful_transfer(held)
    url = f"/admin/donations/transfer/{transfer.pk}/change/"
    page = su.get(url)
    assert page.context["adminform"].form["devices"].value() == [d.pk for d in held.devices]
    data = {"transfer_date": "2021-07-02", "devices": [held.devices[0].pk], "kits": [], "notes": "tylko komputer",
            **_inline_data(page)}
    response = su.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    transfer.refresh_from_db()
    assert (transfer.transfer_date, transfer.notes) == (date(2021, 7, 2), "tylko komputer")
    assert list(transfer.devices.all()) == [held.devices[0]]
    assert transfer.history.latest("history_id").history_change_reason == "transfer changed"


def test_the_legal_check_is_a_table_on_the_transfer_page(su, held):
    transfer = unlisted_transfer(held)
    content = su.get(f"/admin/donations/transfer/{transfer.pk}/change/").content.decode()
    assert "donations-legal-check" in content
    assert str(LegalCheck.IN_ANNEX.label).replace("'", "&#x27;") in content
    failed = (f"{held.devices[0].inventory_number} is not in the annex of order no. {transfer.order.number}, nor is "
              "the beneficiary who holds it.")
    assert failed in content
    assert content.count('class="donations-check-failed"') == 2  # the annex check, for each device of the set
    assert "2 checks fail." in content
    assert "beneficiary exception" in content and content.count('alt="yes"') == 2  # the exception applies to both


# --- transfers: the moves --------------------------------------------------------------------------

def test_submit_and_approve_by_the_actions(su, manager, held):
    transfer = lawful_transfer(held)
    response = _action(su, "/admin/donations/transfer/", "transfer_submit", [transfer], apply="1")
    assert _levels(response) == [message_levels.SUCCESS]
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED and len(transfer.checks) == 12
    response = _action(su, "/admin/donations/transfer/", "transfer_approve", [transfer], apply="1",
                       reason="Zgodnie z zarządzeniem.")
    assert _levels(response) == [message_levels.SUCCESS]
    transfer.refresh_from_db()
    assert (transfer.status, transfer.decided_by, transfer.decision_reason) == (
        TransferStatus.APPROVED, manager, "Zgodnie z zarządzeniem.")
    assert list(transfer.events.order_by("id").values_list("kind", "actor")) == [
        (TransferEventKind.CREATED, None), (TransferEventKind.SUBMITTED, manager.pk),
        (TransferEventKind.APPROVED, manager.pk)]


def test_an_approval_with_a_failed_check_and_no_override_is_refused_with_a_message(held):
    lawyer = user_with("donations.view_transfer", "donations.decide_transfer")
    client = client_for(lawyer)
    transfer = submitted(unlisted_transfer(held))
    page = _action(client, "/admin/donations/transfer/", "transfer_approve", [transfer])
    assert "override_reason" not in page.context["form"].fields  # offered only to whoever may override
    response = _action(client, "/admin/donations/transfer/", "transfer_approve", [transfer], apply="1",
                       override_reason="próba obejścia")
    assert _levels(response) == [message_levels.ERROR]
    assert "Not every check passes; approve only with a reasoned override" in _messages(response)[0]
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED and not transfer.override_reason
    assert not transfer.events.filter(kind__in=[TransferEventKind.APPROVED, TransferEventKind.OVERRIDDEN]).exists()


def test_a_lawyer_approves_despite_a_failed_check_with_a_reasoned_override(held):
    lawyer = user_with("donations.view_transfer", "donations.decide_transfer", "donations.override_transfer_check")
    client = client_for(lawyer)
    transfer = submitted(unlisted_transfer(held))
    page = client.get(f"/admin/donations/transfer/{transfer.pk}/change/")
    approve = next(f for f in page.context["page_forms"] if f.id == "donations-transfer-approve")
    assert "override_reason" in approve.form.fields
    assert {f.id for f in page.context["page_forms"]} == {"donations-transfer-approve",
                                                          "donations-transfer-reject"}  # no move_transfer
    response = client.post(f"/admin/donations/transfer/{transfer.pk}/approve/",
                           {"approve-reason": "", "approve-override_reason": "Zestaw wymieniony w uchwale rady."})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert (transfer.status, transfer.override_reason) == (TransferStatus.APPROVED,
                                                          "Zestaw wymieniony w uchwale rady.")
    assert transfer.events.latest("id").kind == TransferEventKind.OVERRIDDEN


def test_rejecting_needs_the_reasons(su, manager, held):
    transfer = submitted(unlisted_transfer(held))
    empty = _action(su, "/admin/donations/transfer/", "transfer_reject", [transfer], apply="1", reason="")
    assert empty.status_code == 200 and empty.context["form"].errors["reason"]
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED
    from_page = su.post(f"/admin/donations/transfer/{transfer.pk}/reject/", {"reject-reason": "  "})
    assert from_page.status_code == 200
    reject = next(f for f in from_page.context["page_forms"] if f.id == "donations-transfer-reject")
    assert reject.form.errors["reason"]
    response = _action(su, "/admin/donations/transfer/", "transfer_reject", [transfer], apply="1",
                       reason="Zestaw nie jest wymieniony w załączniku.")
    assert _levels(response) == [message_levels.SUCCESS]
    transfer.refresh_from_db()
    assert (transfer.status, transfer.decision_reason) == (TransferStatus.REJECTED,
                                                          "Zestaw nie jest wymieniony w załączniku.")
    assert transfer.events.latest("id").actor == manager


def test_cancelling_with_a_reason_and_a_closed_transfer_refuses_another_move(su, held):
    transfer = lawful_transfer(held)
    response = _action(su, "/admin/donations/transfer/", "transfer_cancel", [transfer], apply="1",
                       reason="Beneficjent zrezygnował.")
    assert _levels(response) == [message_levels.SUCCESS]
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED
    again = _action(su, "/admin/donations/transfer/", "transfer_submit", [transfer], apply="1")
    assert _levels(again) == [message_levels.ERROR]
    assert transfer.number in _messages(again)[0]
    assert transfer.events.count() == 2


def test_submitting_from_the_transfer_page(su, held):
    transfer = lawful_transfer(held)
    page = su.get(f"/admin/donations/transfer/{transfer.pk}/change/")
    assert {f.id for f in page.context["page_forms"]} == {"donations-transfer-submit", "donations-transfer-cancel"}
    response = su.post(f"/admin/donations/transfer/{transfer.pk}/submit/", {}, follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/donations/transfer/{transfer.pk}/change/"
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED


def test_bulk_approval_calls_the_service_per_transfer_and_reports_each_failure(su, held):
    passing = submitted(lawful_transfer(held))
    other = SimpleNamespace(project=held.project, beneficiary=make_beneficiary(held.project))
    other.kit = make_set(held.project)
    allocate(other.beneficiary, other.kit)
    failing = submitted(unlisted_transfer(other))
    response = _action(su, "/admin/donations/transfer/", "transfer_approve", [passing, failing], apply="1", reason="")
    assert sorted(_levels(response)) == [message_levels.SUCCESS, message_levels.ERROR]
    (error,) = _messages(response, message_levels.ERROR)
    assert error.startswith(failing.number) and "override" in error
    assert _messages(response, message_levels.SUCCESS) == ["1 transfer approved."]
    passing.refresh_from_db()
    failing.refresh_from_db()
    assert (passing.status, failing.status) == (TransferStatus.APPROVED, TransferStatus.SUBMITTED)


def test_a_transfer_past_its_draft_is_read_only(su, held):
    transfer = submitted(lawful_transfer(held))
    url = f"/admin/donations/transfer/{transfer.pk}/change/"
    page = su.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert su.post(url, {"transfer_date": "2021-08-01", "notes": "zmiana"}).status_code == 403
    transfer.refresh_from_db()
    assert (transfer.transfer_date, transfer.notes) == (AFTER_DURABILITY, "")


def test_creating_the_transfers_of_a_project(su, manager, held):
    second = make_beneficiary(held.project)
    allocate(second)
    idle = make_beneficiary(held.project)  # holds no set
    order = make_order(project=held.project, annex_beneficiaries=[held.beneficiary, second, idle])
    assert "/admin/donations/transfer/for-project/" in su.get("/admin/donations/transfer/").content.decode()
    response = su.post("/admin/donations/transfer/for-project/", {
        "order": order.pk, "project": held.project.pk, "transfer_date": "2021-07-01", "submit": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/donations/transfer/"
    transfers = list(Transfer.objects.order_by("number"))
    assert [(t.recipient, t.status, t.created_by) for t in transfers] == [
        (held.beneficiary.recipient, TransferStatus.SUBMITTED, manager),
        (second.recipient, TransferStatus.SUBMITTED, manager)]
    assert _messages(response, message_levels.SUCCESS) == [
        f"2 transfers created: {transfers[0].number}, {transfers[1].number}."]
    assert _messages(response, message_levels.WARNING) == [
        f"Beneficiary {idle.code} skipped: holds no device of the project"]


def test_transfers_for_a_project_dated_before_the_order_are_refused_on_the_form(su, held):
    order = make_order(project=held.project, annex_beneficiaries=[held.beneficiary])
    response = su.post("/admin/donations/transfer/for-project/", {
        "order": order.pk, "project": held.project.pk, "transfer_date": "2021-06-01"})
    assert response.status_code == 200 and _levels(response) == [message_levels.ERROR]
    assert "comes into force on 14.06.2021" in response.context["form"].errors["transfer_date"][0]
    assert not Transfer.objects.exists()


def test_completing_a_transfer_issues_the_protocol_and_the_page_is_evidence(su, manager, held):
    transfer = services.transfer_approve(transfer=submitted(lawful_transfer(held)), by=manager)
    response = _action(su, "/admin/donations/transfer/", "transfer_complete", [transfer], apply="1")
    assert _levels(response) == [message_levels.SUCCESS], _messages(response)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED and transfer.protocol is not None
    assert set(Device.objects.filter(kit=held.kit).values_list("status", flat=True)) == {DeviceStatus.TRANSFERRED}
    listing = su.get("/admin/donations/transfer/").content.decode()
    assert f"/documents/{transfer.protocol.code}/download/" in listing
    url = f"/admin/donations/transfer/{transfer.pk}/change/"
    page = su.get(url)
    content = page.content.decode()
    assert f"/documents/{transfer.protocol.code}/download/" in content
    assert "As recorded when the transfer was completed." in content
    assert 'name="_save"' not in content and page.context["page_forms"] == []
    assert su.post(url, {"transfer_date": "2021-08-01", "notes": "zmiana", **_inline_data(page)}).status_code == 403
    late = su.post(f"/admin/donations/transfer/{transfer.pk}/cancel/", {"cancel-reason": "x"})
    assert late.status_code == 200 and _levels(late) == [message_levels.ERROR]
    assert "The transfer is completed; it cannot become cancelled." in _messages(late)[0]
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED and transfer.notes == ""


def test_bulk_completion_reports_the_transfer_not_yet_approved(su, manager, held):
    approved = services.transfer_approve(transfer=submitted(lawful_transfer(held)), by=manager)
    other = make_beneficiary(held.project)
    kit = make_set(held.project)
    allocate(other, kit)
    waiting = submitted(services.transfer_create(
        order=approved.order, recipient=other.recipient, transfer_date=AFTER_DURABILITY, kits=[kit], by=None))
    response = _action(su, "/admin/donations/transfer/", "transfer_complete", [approved, waiting], apply="1")
    (error,) = _messages(response, message_levels.ERROR)
    assert error.startswith(waiting.number)
    approved.refresh_from_db()
    waiting.refresh_from_db()
    assert (approved.status, waiting.status) == (TransferStatus.COMPLETED, TransferStatus.SUBMITTED)


# --- donations from residents ----------------------------------------------------------------------

def _offer_form(**overrides) -> dict:
    data = {"donor_name": "Jan Darczyńca", "donor_contact": "tel. 600 100 200", "offered_on": "2024-03-04",
            "kind": "laptop", "manufacturer": "Dell", "model": "Latitude E7450", "serial_number": "CN0DELL7450",
            "description": "sprawny, z zasilaczem", "legal_source": "invoice", "legal_source_reference": "FV 12/2016",
            "software_licences": "Windows 10 Pro OEM", "free_of_charge_declared": "on"}
    data.update(overrides)
    return data


def test_an_offer_is_taken_in_and_changed_while_offered(su, manager):
    response = su.post("/admin/donations/donationoffer/add/", _offer_form())
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    offer = DonationOffer.objects.get()
    assert (offer.status, offer.free_of_charge_declared) == (DonationStatus.OFFERED, True)
    assert _history_user(offer) == manager
    response = su.post(f"/admin/donations/donationoffer/{offer.pk}/change/", _offer_form(model="Latitude E7470"))
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.model == "Latitude E7470"


def test_accepting_an_offer_registers_the_device_with_its_medium(su, manager):
    offer = an_offer()
    response = _action(su, "/admin/donations/donationoffer/", "accept", [offer], apply="1",
                       inventory_number="UM/DAR/2024/001", location="magazyn BI", medium_kind="ssd",
                       medium_capacity_gb="256", medium_serial_number="S3Z9NB0K123", reason="Faktura sprawdzona.")
    assert _levels(response) == [message_levels.SUCCESS]
    offer.refresh_from_db()
    device = offer.device
    assert (offer.status, offer.decided_by, device.inventory_number) == (DonationStatus.ACCEPTED, manager,
                                                                         "UM/DAR/2024/001")
    assert (device.status, device.retirement_reason, device.funding_source) == (
        DeviceStatus.RETIRED, RetirementReason.TO_GIVE_AWAY, FundingSource.DONATION)
    assert list(device.media.values_list("kind", "capacity_gb", "serial_number")) == [("ssd", 256, "S3Z9NB0K123")]
    assert DeviceEvent.objects.filter(device=device).latest("id").actor == manager
    page = su.get(f"/admin/donations/donationoffer/{offer.pk}/change/")
    assert 'name="_save"' not in page.content.decode()  # decided: read only
    assert su.post(f"/admin/donations/donationoffer/{offer.pk}/change/", _offer_form()).status_code == 403


def test_an_offer_without_the_declaration_is_refused_with_a_message(su):
    offer = an_offer(free_of_charge_declared=False)
    devices = Device.objects.count()
    response = _action(su, "/admin/donations/donationoffer/", "accept", [offer], apply="1",
                       inventory_number="UM/DAR/2024/002", medium_kind="")
    assert _levels(response) == [message_levels.ERROR]
    assert "has not signed the declaration" in _messages(response)[0]
    offer.refresh_from_db()
    assert offer.status == DonationStatus.OFFERED and Device.objects.count() == devices


def test_refusing_offers_needs_a_reason(su, manager):
    first, second = an_offer(), an_offer(serial_number="CN0OTHER")
    empty = _action(su, "/admin/donations/donationoffer/", "refuse", [first, second], apply="1", reason="")
    assert empty.context["form"].errors["reason"]
    response = _action(su, "/admin/donations/donationoffer/", "refuse", [first, second], apply="1",
                       reason="Brak dowodu pochodzenia.")
    assert _messages(response, message_levels.SUCCESS) == ["2 offers refused."]
    assert set(DonationOffer.objects.values_list("status", "decided_by")) == {(DonationStatus.REFUSED, manager.pk)}
    again = _action(su, "/admin/donations/donationoffer/", "refuse", [first], apply="1", reason="Jeszcze raz.")
    assert _levels(again) == [message_levels.ERROR]
    assert "The offer is refused; it cannot become refused." in _messages(again)[0]
    first.refresh_from_db()
    assert first.decision_reason == "Brak dowodu pochodzenia."


# --- scrapping -------------------------------------------------------------------------------------

def _liquidation_form(order, devices, **overrides) -> dict:
    data = {"order": order.pk, "devices": [d.pk for d in devices], "handed_over_on": "2021-07-20",
            "collector_name": "Elektro-Recykling Sp. z o.o.", "collector_bdo": "000012345",
            "kpo_number": "KPO/2021/07/0012", "waste_code": "16 02 14", "mass_kg": "12.5", "notes": ""}
    data.update(overrides)
    return data


def test_the_liquidation_form_offers_the_default_waste_code():
    assert donation_forms.LiquidationForm().fields["waste_code"].initial == "16 02 14"


def test_a_liquidation_is_recorded_through_the_service_and_then_read_only(su, manager, technician, validator):
    device = a_sanitized_device(technician, validator)
    order = make_order(kind=OrderKind.LIQUIDATION, annex_devices=[device])
    kpo = SimpleUploadedFile("kpo.pdf", PDF, content_type="application/pdf")
    response = su.post("/admin/donations/liquidation/add/", {**_liquidation_form(order, [device]), "kpo_scan": kpo})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    liquidation = Liquidation.objects.get()
    assert (liquidation.number, liquidation.recorded_by, str(liquidation.mass_kg)) == ("LIK/2021/0001", manager,
                                                                                       "12.500")
    assert liquidation.protocol is not None and _history_user(liquidation) == manager
    device.refresh_from_db()
    assert device.status == DeviceStatus.SCRAPPED and device.events.latest("id").actor == manager
    url = f"/admin/donations/liquidation/{liquidation.pk}/change/"
    page = su.get(url)
    content = page.content.decode()
    assert f"/documents/{liquidation.protocol.code}/download/" in content and 'name="_save"' not in content
    assert su.post(url, {"kpo_number": "inny"}).status_code == 403


def test_a_device_that_is_not_sanitized_is_refused_and_nothing_is_written(su):
    device = make_retired(kinds=("hdd",))
    order = make_order(kind=OrderKind.LIQUIDATION, annex_devices=[device])
    response = su.post("/admin/donations/liquidation/add/", _liquidation_form(order, [device]))
    assert response.status_code == 200
    assert _levels(response) == [message_levels.ERROR]
    assert "is not sanitized; no data leaves the office" in response.context["adminform"].form.errors["devices"][0]
    assert not Liquidation.objects.exists()
    device.refresh_from_db()
    assert device.status == DeviceStatus.RETIRED


# --- permissions -----------------------------------------------------------------------------------

def test_moves_need_their_permissions(held):
    viewer = user_with("donations.view_transfer", "donations.view_grantproject", "donations.view_beneficiary",
                       "donations.view_donationoffer", "donations.view_projectobligation")
    client = client_for(viewer)
    transfer = submitted(lawful_transfer(held))
    listing = client.get("/admin/donations/transfer/")
    assert listing.status_code == 200 and "/for-project/" not in listing.content.decode()
    assert listing.context["action_form"] is None  # no action is offered
    page = client.get(f"/admin/donations/transfer/{transfer.pk}/change/")
    assert page.context["page_forms"] == []
    assert client.post(f"/admin/donations/transfer/{transfer.pk}/approve/", {}).status_code == 403
    assert client.get("/admin/donations/transfer/for-project/").status_code == 403
    assert client.post(f"/admin/donations/grantproject/{held.project.pk}/report/", {}).status_code == 403
    for model in ("grantproject", "beneficiary", "donationoffer", "projectobligation"):
        assert client.get(f"/admin/donations/{model}/").context["action_form"] is None, model
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED and not held.project.documents.exists()


def test_completing_needs_the_move_of_devices_too(held, manager):
    clerk = user_with("donations.view_transfer", "donations.move_transfer")
    client = client_for(clerk)
    transfer = services.transfer_approve(transfer=submitted(lawful_transfer(held)), by=manager)
    page = client.get(f"/admin/donations/transfer/{transfer.pk}/change/")
    assert {f.id for f in page.context["page_forms"]} == {"donations-transfer-cancel"}
    assert client.post(f"/admin/donations/transfer/{transfer.pk}/complete/", {}).status_code == 403
    actions = {name for name, _label in client.get("/admin/donations/transfer/").context["action_form"]
               .fields["action"].choices if name}
    assert actions == {"transfer_submit", "transfer_cancel"}
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.APPROVED


def test_preparing_transfers_for_a_project_without_the_move_only_prepares_drafts(held):
    preparer = user_with("donations.view_transfer", "donations.add_transfer")
    client = client_for(preparer)
    page = client.get("/admin/donations/transfer/for-project/")
    assert page.status_code == 200 and "submit" not in page.context["form"].fields
    order = make_order(project=held.project, annex_beneficiaries=[held.beneficiary])
    client.post("/admin/donations/transfer/for-project/", {
        "order": order.pk, "project": held.project.pk, "transfer_date": "2021-07-01", "submit": "on"})
    assert Transfer.objects.get().status == TransferStatus.DRAFT


def test_the_roles_take_a_project_set_from_the_draft_to_the_completed_transfer(held):
    """The project manager prepares and submits, the legal office decides, the IT office hands over."""
    pm, legal, it = (client_for(UserFactory(roles=[role]))
                     for role in (Role.PROJECT_MANAGER, Role.LEGAL_OFFICE, Role.IT_OFFICE))
    order = make_order(project=held.project, annex_beneficiaries=[held.beneficiary])
    assert legal.get("/admin/donations/transfer/for-project/").status_code == 403
    pm.post("/admin/donations/transfer/for-project/", {
        "order": order.pk, "project": held.project.pk, "transfer_date": "2021-07-01", "submit": "on"})
    transfer = Transfer.objects.get()
    url = f"/admin/donations/transfer/{transfer.pk}/"

    def moves(client) -> set[str]:
        page = client.get(f"{url}change/")
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert "donations-legal-check" in page.content.decode()
        return {f.id.removeprefix("donations-transfer-") for f in page.context["page_forms"]}

    assert (moves(pm), moves(legal), moves(it)) == ({"cancel"}, {"approve", "reject"}, {"cancel"})
    assert pm.post(f"{url}approve/", {}).status_code == 403
    approve = next(f for f in legal.get(f"{url}change/").context["page_forms"] if f.id.endswith("approve"))
    assert "override_reason" in approve.form.fields  # the legal office may override, with reasons
    assert legal.post(f"{url}approve/", {"approve-reason": "Zgodnie z zarządzeniem."}).status_code == 302
    assert (moves(pm), moves(legal), moves(it)) == ({"cancel"}, set(), {"complete", "cancel"})
    assert legal.post(f"{url}complete/", {}).status_code == 403
    assert it.post(f"{url}complete/", {}).status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED and transfer.protocol is not None


def test_the_roles_reach_their_donations_pages(held):
    pm, legal, it, auditor = (client_for(UserFactory(roles=[role])) for role in (
        Role.PROJECT_MANAGER, Role.LEGAL_OFFICE, Role.IT_OFFICE, Role.AUDITOR))
    project = held.project.pk
    expected = {
        # the project manager: projects, beneficiaries, obligations and their proof, the months without proof
        # (which name beneficiaries: as on the API, only for those who may read the obligations' records)
        f"/admin/donations/grantproject/{project}/gaps/": {pm: 200, legal: 403, it: 403, auditor: 200},
        "/admin/donations/grantproject/add/": {pm: 200, legal: 403, it: 403, auditor: 403},
        "/admin/donations/beneficiary/add/": {pm: 200, legal: 403, it: 403, auditor: 403},
        "/admin/donations/projectobligation/add/": {pm: 200, legal: 403, it: 403, auditor: 403},
        # the legal office: orders; the IT office: offers and scrapping
        "/admin/donations/mayoralorder/add/": {pm: 403, legal: 200, it: 403, auditor: 403},
        "/admin/donations/donationoffer/add/": {pm: 403, legal: 403, it: 200, auditor: 403},
        "/admin/donations/liquidation/add/": {pm: 403, legal: 403, it: 200, auditor: 403},
        "/admin/donations/transfer/": {pm: 200, legal: 200, it: 200, auditor: 200},
    }
    answers = {url: {client: client.get(url).status_code for client in wanted} for url, wanted in expected.items()}
    assert answers == expected
    pm_actions = {name for name, _label in pm.get("/admin/donations/grantproject/").context["action_form"]
                  .fields["action"].choices if name}
    assert pm_actions == {"issue_durability_report", "add_devices"}
    assert auditor.get("/admin/donations/grantproject/").context["action_form"] is None


# --- query counts ----------------------------------------------------------------------------------

LISTS = ["grantproject", "beneficiary", "projectobligation", "obligationrecord", "mayoralorder", "transfer",
         "donationoffer"]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_lists_cost_the_same_queries_for_two_rows_and_for_six(su):
    def add_row():
        project = make_project()
        beneficiary = make_beneficiary(project)
        kit = make_set(project)
        allocate(beneficiary, kit)
        obligation = services.obligation_create(project=project, kind=ObligationKind.INTERNET,
                                                description="Internet", by=None)
        services.obligation_record_month(obligation=obligation, month=date(2019, 3, 1), proof_reference="FV",
                                         by=None)
        order = make_order(project=project, annex_beneficiaries=[beneficiary])
        submitted(services.transfer_create(order=order, recipient=beneficiary.recipient,
                                           transfer_date=AFTER_DURABILITY, kits=[kit], by=None))
        an_offer(serial_number=f"SN-{project.pk}")

    for _ in range(2):
        add_row()
    two = {name: _queries(su, f"/admin/donations/{name}/") for name in LISTS}
    for _ in range(4):
        add_row()
    assert {name: _queries(su, f"/admin/donations/{name}/") for name in LISTS} == two
    assert su.get("/admin/donations/transfer/").context["cl"].result_count == 6


def test_the_liquidation_list_costs_the_same_queries_for_two_rows_and_for_six(su, technician, validator):
    def add_row():
        device = a_sanitized_device(technician, validator)
        order = make_order(kind=OrderKind.LIQUIDATION, annex_devices=[device])
        services.liquidation_record(order=order, devices=[device], by=None, handed_over_on=date(2021, 7, 20),
                                    collector_name="Elektro-Recykling", collector_bdo="000012345",
                                    kpo_number=f"KPO/{device.pk}", mass_kg="3.2")

    for _ in range(2):
        add_row()
    two = _queries(su, "/admin/donations/liquidation/")
    for _ in range(4):
        add_row()
    assert _queries(su, "/admin/donations/liquidation/") == two
