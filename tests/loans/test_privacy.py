"""A councillor's personal data: the export holds everything the register keeps about them; the
anonymisation waits for the retention period and the end of their loans, then leaves no personal value in
any row or history row, while the issued documents still verify and other people stay as they were."""
import hashlib
import io
import json
from datetime import date

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token

from assets.choices import DeviceKind
from core.models import Anonymisation, StoredDocument
from core.roles import Role
from faults import services as fault_services
from loans import privacy, services
from loans.models import Recipient
from tests.factories import lend_tablet, make_councillor, make_device, make_term, png_bytes

pytestmark = pytest.mark.django_db

NAME = "Zofia Prywatna-Testowa"
ADDRESS = "ul. Tajemnicza 13, 25-001 Kielce"
PHONE = "+48 600 111 222"
CONTACT = "dzwonić 600-111-222 po 17"
DESCRIPTION = "Ekran pękł, gdy wnuczka Helenka upuściła tablet"
REPLY = "Pani Zofio, proszę przynieść tablet we wtorek"
PERSONAL = [NAME, ADDRESS, PHONE, CONTACT, DESCRIPTION, REPLY, "Zofia", "Prywatna-Testowa"]


@pytest.fixture
def councillor_history(it_user):
    """A councillor of the 2018–2023 term: a tablet lent, a fault reported with a photo and answered, the
    tablet returned complete in 2023; their record edited once (the address moved into the history)."""
    term = make_term(name="kadencja 2018–2023", starts_on=date(2018, 11, 22), ends_on=date(2023, 11, 21))
    recipient = make_councillor(NAME)
    services.recipient_update(recipient=recipient, by=it_user, address="ul. Stara 1, Kielce", phone=PHONE)
    services.recipient_update(recipient=recipient, by=it_user, address=ADDRESS, notes="prosi o kontakt SMS")
    tablet = make_device(kind=DeviceKind.TABLET, location=f"u radnej: {NAME}, {ADDRESS}")
    loan = lend_tablet(recipient, term=term, by=it_user, starts_on=date(2019, 1, 10), devices=[tablet])
    device = loan.items.get().device
    fault = fault_services.fault_report(by=recipient.user, device=device, category="hardware", description=DESCRIPTION,
                                        contact=CONTACT, photo=SimpleUploadedFile("f.png", png_bytes(), "image/png"))
    fault_services.fault_acknowledge(fault=fault, by=it_user, reply=REPLY)
    services.loan_return(loan=loan, by=it_user, condition="sprawny", returned_on=date(2023, 11, 30),
                         accessories_returned={a.pk: a.quantity for a in loan.accessories.all()})
    recipient.refresh_from_db()
    fault.refresh_from_db()
    return recipient, loan, fault


def _dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def test_the_export_holds_the_record_the_account_the_loans_the_documents_and_the_faults(councillor_history):
    recipient, loan, fault = councillor_history
    data = json.loads(json.dumps(privacy.recipient_export(recipient)))  # plain JSON, nothing else
    assert data["subject"] == {"type": "recipient", "id": recipient.pk}
    assert data["recipient"]["name"] == NAME and data["recipient"]["address"] == ADDRESS
    assert {row["address"] for row in data["recipient"]["history"]} >= {"ul. Stara 1, Kielce", ADDRESS}
    assert data["user_account"]["username"] == recipient.user.username
    assert data["user_account"]["roles"] == [Role.COUNCILLOR]
    [exported_loan] = data["loans"]
    assert exported_loan["id"] == loan.pk and exported_loan["status"] == "returned"
    assert exported_loan["council_term"]["name"] == "kadencja 2018–2023"
    assert [d["inventory_number"] for d in exported_loan["devices"]] == [loan.items.get().device.inventory_number]
    codes = set(StoredDocument.objects.filter(loan=loan).values_list("code", flat=True))
    assert {d["code"] for d in exported_loan["documents"]} == codes and len(codes) == 3
    assert {e["kind"] for e in exported_loan["events"]} == {"started", "returned"}
    assert exported_loan["history"]
    [exported_fault] = data["fault_reports"]
    assert exported_fault["description"] == DESCRIPTION and exported_fault["contact"] == CONTACT
    assert exported_fault["photo"] == fault.photo.name
    assert [r["body"] for r in exported_fault["replies"]] == [REPLY]
    assert data["beneficiary"] is None and data["transfers"] == []
    assert data["anonymisation"] is None


def test_anonymisation_waits_for_the_retention_period(councillor_history, settings):
    recipient, _loan, _fault = councillor_history
    settings.PRIVACY_RETENTION_YEARS_COUNCILLOR = 1
    # The loan came back on 30.11.2023: the data may go from 1.12.2024.
    assert privacy.recipient_retention_ends_on(recipient) == date(2024, 11, 30)
    with pytest.raises(Exception) as refused:
        privacy.recipient_anonymise(recipient=recipient, by=None, today=date(2024, 11, 30))
    assert refused.value.code == "retention_not_over"
    assert "30.11.2024" in refused.value.message
    recipient.refresh_from_db()
    assert recipient.name == NAME and not Anonymisation.objects.exists()


def test_anonymisation_is_refused_while_a_loan_is_open(it_user):
    recipient = make_councillor(NAME)
    lend_tablet(recipient, term=make_term(starts_on=date(2014, 11, 1), ends_on=date(2018, 11, 1)),
                starts_on=date(2015, 1, 5))
    with pytest.raises(Exception) as refused:
        privacy.recipient_anonymise(recipient=recipient, by=it_user, today=date(2030, 1, 1))
    assert refused.value.code == "open_loan"
    recipient.refresh_from_db()
    assert recipient.name == NAME and recipient.user.is_active


def test_after_anonymisation_no_personal_value_is_left_and_the_documents_still_verify(councillor_history, it_user,
                                                                                       client):
    recipient, loan, fault = councillor_history
    other = make_councillor("Jan Sąsiad-Inny")
    lend_tablet(other, by=it_user)
    user = recipient.user
    username = user.username
    photo = fault.photo.name
    assert default_storage.exists(photo)
    documents = list(StoredDocument.objects.filter(loan=loan))
    Token.objects.create(user=user)
    client.force_login(user)
    dump = _dump()
    assert all(value in dump for value in PERSONAL)  # the search below would find them

    erasure = privacy.recipient_anonymise(recipient=recipient, by=it_user)

    dump = _dump()
    for value in [*PERSONAL, username, user.email, "ul. Stara 1", "prosi o kontakt SMS"]:
        assert value.lower() not in dump.lower(), value
    assert "Jan Sąsiad-Inny" in dump  # someone else's data stays
    assert not default_storage.exists(photo)
    recipient.refresh_from_db()
    user.refresh_from_db()
    assert recipient.name == "[anonymised]" and recipient.email == ""
    assert not user.is_active and not user.has_usable_password() and not user.groups.exists()
    assert not Token.objects.filter(user=user).exists()
    assert client.get("/my/").status_code == 302  # signed out: the session is gone
    assert erasure.anonymised_by == it_user
    assert erasure.label == f"biorący nr {recipient.pk}"  # in the office's language
    assert erasure.summary["fault_photos"] == 1 and erasure.summary["user_accounts"] == 1
    # The evidence is kept: the loan, its devices and events, and every issued document byte for byte.
    loan.refresh_from_db()
    assert loan.status == "returned" and loan.items.count() == 1 and loan.events.count() == 2
    for document in documents:
        document.refresh_from_db()
        with document.file.open("rb") as handle:
            content = handle.read()
        assert hashlib.sha256(content).hexdigest() == document.sha256
        page = client.post(reverse("verify", kwargs={"code": document.code}),
                           {"file": SimpleUploadedFile("d.pdf", content, "application/pdf")})
        assert page.status_code == 200 and page.context["matches"] is True


def test_a_second_anonymisation_is_refused_as_already_done(councillor_history):
    recipient, _loan, _fault = councillor_history
    privacy.recipient_anonymise(recipient=recipient, by=None)
    with pytest.raises(Exception) as refused:
        privacy.recipient_anonymise(recipient=recipient, by=None)
    assert refused.value.code == "already_anonymised"
    assert Anonymisation.objects.count() == 1


def test_an_anonymised_recipient_can_no_longer_be_edited_or_lent_to(councillor_history, it_user):
    recipient, _loan, _fault = councillor_history
    privacy.recipient_anonymise(recipient=recipient, by=None)
    with pytest.raises(Exception) as refused:
        services.recipient_update(recipient=recipient, by=it_user, name=NAME)
    assert refused.value.code == "already_anonymised"
    with pytest.raises(Exception) as refused:
        lend_tablet(recipient, by=it_user)
    assert refused.value.code == "already_anonymised"
    recipient.refresh_from_db()
    assert recipient.name == "[anonymised]"


# --- the command for cron ---------------------------------------------------------------------------

def test_the_command_lists_by_default_and_anonymises_with_apply(councillor_history, it_user):
    recipient, _loan, _fault = councillor_history
    current = make_councillor("Adam Bieżący")
    lend_tablet(current, by=it_user)
    out = io.StringIO()
    with translation.override("en"):
        call_command("anonymise_expired", stdout=out)
    assert f"would anonymise: recipient #{recipient.pk}" in out.getvalue()
    assert f"recipient #{current.pk}" not in out.getvalue()
    recipient.refresh_from_db()
    assert recipient.name == NAME  # a dry run changes nothing

    out = io.StringIO()
    call_command("anonymise_expired", "--apply", stdout=out)
    assert f"zanonimizowano: biorący nr {recipient.pk}" in out.getvalue()  # in Polish by default
    recipient.refresh_from_db()
    assert recipient.name == "[anonymised]"
    assert Recipient.objects.get(pk=current.pk).name == "Adam Bieżący"
    out = io.StringIO()
    with translation.override("en"):
        call_command("anonymise_expired", stdout=out)
    assert "Past their retention period: 0." in out.getvalue()


# --- API --------------------------------------------------------------------------------------------

@pytest.fixture
def lawyer(make_user):
    return make_user(Role.LEGAL_OFFICE)


def test_the_legal_office_downloads_the_export_and_anonymises_through_the_api(councillor_history, lawyer, api_en,
                                                                              caplog):
    recipient, _loan, _fault = councillor_history
    client = api_en(lawyer)
    url = f"/api/recipients/{recipient.pk}/"
    with caplog.at_level("INFO", logger="core.privacy"):
        response = client.get(url + "personal-data/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"] and ".json" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    assert json.loads(response.content)["recipient"]["name"] == NAME
    # who took a copy of whose data is on record, though the export writes no row
    assert f"personal data of recipient {recipient.pk} exported by user {lawyer.pk}" in caplog.messages

    response = client.post(url + "anonymise/")
    assert response.status_code == 200, response.content
    assert response.json()["label"] == f"biorący nr {recipient.pk}"  # as stored: in the office's language
    response = client.post(url + "anonymise/")
    assert response.status_code == 409
    assert response.json()["code"] == "already_anonymised"
    assert "anonymised on" in response.json()["detail"]


def test_the_api_refuses_with_409_and_the_reason_before_the_retention_period(lawyer, api_en, it_user):
    recipient = make_councillor(NAME)
    lend_tablet(recipient, by=it_user)
    response = api_en(lawyer).post(f"/api/recipients/{recipient.pk}/anonymise/")
    assert response.status_code == 409
    assert response.json()["code"] == "open_loan" and "loan no." in response.json()["detail"]


@pytest.mark.parametrize("role", [Role.IT_OFFICE, Role.PROJECT_MANAGER, Role.AUDITOR, Role.COUNCILLOR])
def test_roles_without_the_right_get_403(councillor_history, make_user, api_en, role):
    recipient, _loan, _fault = councillor_history
    client = api_en(make_user(role))
    assert client.get(f"/api/recipients/{recipient.pk}/personal-data/").status_code == 403
    assert client.post(f"/api/recipients/{recipient.pk}/anonymise/").status_code == 403
    recipient.refresh_from_db()
    assert recipient.name == NAME


# --- admin ------------------------------------------------------------------------------------------

def _admin_action(client, action, recipient, **extra):
    return client.post(reverse("admin:loans_recipient_changelist"),
                       {"action": action, "_selected_action": [recipient.pk], **extra})


def test_the_admin_exports_and_anonymises_after_a_confirmation(councillor_history, make_user, client):
    recipient, _loan, _fault = councillor_history
    lawyer = make_user(Role.LEGAL_OFFICE, is_staff=True)
    client.force_login(lawyer)
    response = _admin_action(client, "export_personal_data", recipient)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["subjects"][0]["recipient"]["name"] == NAME

    page = _admin_action(client, "anonymise", recipient)
    assert page.status_code == 200 and page.context["rows"][0][0] == recipient
    assert "30.11.2024" in page.context["rows"][0][1]  # the retention period's end, on the confirmation page
    recipient.refresh_from_db()
    assert recipient.name == NAME  # the confirmation page changes nothing
    response = _admin_action(client, "anonymise", recipient, apply="1")
    assert response.status_code == 302
    recipient.refresh_from_db()
    assert recipient.name == "[anonymised]"
    response = _admin_action(client, "anonymise", recipient, apply="1")
    messages = list(response.wsgi_request._messages)
    assert [m.level_tag for m in messages] == ["success", "error"]  # the first one's success, then the refusal
    assert Anonymisation.objects.count() == 1


def test_the_admin_actions_need_their_permission(councillor_history, it_user, client):
    recipient, _loan, _fault = councillor_history
    client.force_login(it_user)
    page = client.get(reverse("admin:loans_recipient_changelist"))
    form = page.context["action_form"]  # none at all when the user may run no action
    actions = [value for value, _label in form.fields["action"].choices] if form else []
    assert "anonymise" not in actions and "export_personal_data" not in actions
    _admin_action(client, "anonymise", recipient, apply="1")
    recipient.refresh_from_db()
    assert recipient.name == NAME


# --- the councillor's own export in the portal ------------------------------------------------------

def test_a_councillor_downloads_their_own_data_from_the_portal_and_no_one_elses(councillor_history, client,
                                                                                 make_user):
    recipient, _loan, _fault = councillor_history
    client.force_login(recipient.user)
    assert "/my/personal-data/" in client.get("/my/").content.decode()
    response = client.get("/my/personal-data/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["recipient"]["id"] == recipient.pk and data["recipient"]["name"] == NAME
    client.force_login(make_user(Role.IT_OFFICE))  # staff without a loan of their own: nothing to download
    assert client.get("/my/personal-data/").status_code == 404
