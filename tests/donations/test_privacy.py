"""A beneficiary's personal data (a household in a hard financial situation): the export holds the record,
the eligibility, the loans, the obligation records and the transfer; the anonymisation waits for the
retention period after the durability period and leaves no personal value in any row or history row,
deletes the eligibility scan, keeps the code, the transfer and every issued document verifiable."""
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

from core.models import Anonymisation, StoredDocument
from core.roles import Role
from donations import privacy, services
from donations.choices import ObligationKind, TransferStatus
from donations.models import Beneficiary, OrderAnnexBeneficiary
from loans.models import Loan
from tests.factories import allocate, make_beneficiary, make_order, make_project

pytestmark = pytest.mark.django_db

MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF\n")
NAME = "Rodzina Kwiatkowskich-Ubogich"
ADDRESS = "ul. Biedna 7 m. 3, 64-100 Leszno"
PHONE = "+48 655 123 987"
BASIS = "syn Tomek, uczeń SP 4, rodzina w pomocy społecznej od 2012"
REFERENCE = "MOPS.8310.777.2013"
PERSONAL = [NAME, ADDRESS, PHONE, BASIS, REFERENCE, "Kwiatkowskich-Ubogich"]
AFTER = date(2021, 7, 1)


@pytest.fixture
def lawyer(make_user):
    from django.contrib.auth.models import Permission

    user = make_user(Role.LEGAL_OFFICE)
    user.user_permissions.add(Permission.objects.get(codename="override_transfer_check"))
    return user


@pytest.fixture
def manager(make_user):
    return make_user(Role.PROJECT_MANAGER, is_staff=True)


@pytest.fixture
def transferred(lawyer, it_user, manager):
    """A household of e-Inclusion (durability over on 31.03.2021) with an eligibility scan, its set held since
    2014, an internet obligation proven, the set given to it under an order on 1.07.2021."""
    project = make_project()
    beneficiary = make_beneficiary(project, name=NAME, address=ADDRESS, phone=PHONE, eligibility_basis=BASIS,
                                   eligibility_reference=REFERENCE, notes=f"kontakt: {NAME}, {PHONE}",
                                   eligibility_document=SimpleUploadedFile("decyzja.pdf", MINIMAL_PDF,
                                                                           "application/pdf"))
    services.beneficiary_update(beneficiary=beneficiary, by=manager, address="ul. Dawna 2, Leszno")
    services.beneficiary_update(beneficiary=beneficiary, by=manager, address=ADDRESS)
    loan = allocate(beneficiary)
    internet = services.obligation_create(project=project, kind=ObligationKind.INTERNET, by=None,
                                          description="dostęp do Internetu")
    services.obligation_record(obligation=internet, beneficiary=beneficiary, month=date(2016, 4, 1),
                               proof_reference="FV 4/2016", by=manager, note=f"umowa na {NAME}")
    order = make_order(project=project, annex_beneficiaries=[beneficiary])
    transfer = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=AFTER,
                                        by=it_user, kits=[loan.kit], notes=f"odbiór osobiście, {PHONE}")
    services.transfer_submit(transfer=transfer, by=it_user)
    services.transfer_approve(transfer=transfer, by=lawyer)
    transfer = services.transfer_complete(transfer=transfer, by=it_user)
    beneficiary.refresh_from_db()
    return beneficiary, loan, transfer


def _dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def test_the_export_holds_the_beneficiary_its_loans_obligations_annex_and_transfer(transferred):
    beneficiary, loan, transfer = transferred
    data = json.loads(json.dumps(privacy.beneficiary_export(beneficiary)))
    assert data["subject"] == {"type": "beneficiary", "id": beneficiary.pk}
    assert data["recipient"]["name"] == NAME and data["recipient"]["address"] == ADDRESS
    exported = data["beneficiary"]
    assert exported["code"] == beneficiary.code and exported["eligibility_basis"] == BASIS
    assert exported["eligibility_reference"] == REFERENCE
    assert exported["eligibility_document"] == beneficiary.eligibility_document.name
    assert exported["project"]["durability_ends_on"] == "2021-03-31"
    assert [(r["month"], r["proof_reference"]) for r in exported["obligation_records"]] == [("2016-04-01", "FV 4/2016")]
    assert [a["order"] for a in exported["order_annexes"]] == [transfer.order.number]
    assert exported["history"]
    [exported_loan] = data["loans"]
    assert exported_loan["id"] == loan.pk and exported_loan["status"] == "transferred"
    assert {d["code"] for d in exported_loan["documents"]} == set(loan.documents.values_list("code", flat=True))
    [exported_transfer] = data["transfers"]
    assert exported_transfer["number"] == transfer.number and exported_transfer["status"] == TransferStatus.COMPLETED
    assert [d["code"] for d in exported_transfer["documents"]] == [transfer.protocol.code]
    assert exported_transfer["devices"] == sorted(loan.items.values_list("device__inventory_number", flat=True))


def test_anonymisation_waits_for_the_retention_period_after_the_durability_period(transferred, settings):
    beneficiary, _loan, _transfer = transferred
    settings.PRIVACY_RETENTION_YEARS_BENEFICIARY = 5
    # The set passed to the household on 1.07.2021, after the durability period (31.03.2021).
    assert privacy.beneficiary_retention_ends_on(beneficiary) == date(2026, 7, 1)
    with pytest.raises(Exception) as refused:
        privacy.beneficiary_anonymise(beneficiary=beneficiary, by=None, today=date(2026, 7, 1))
    assert refused.value.code == "retention_not_over" and "01.07.2026" in refused.value.message
    beneficiary.refresh_from_db()
    assert beneficiary.eligibility_basis == BASIS and not Anonymisation.objects.exists()


def test_anonymisation_is_refused_while_the_household_holds_its_set():
    beneficiary = make_beneficiary(make_project(), name=NAME)
    allocate(beneficiary)
    with pytest.raises(Exception) as refused:
        privacy.beneficiary_anonymise(beneficiary=beneficiary, by=None, today=date(2040, 1, 1))
    assert refused.value.code == "open_loan"
    assert Beneficiary.objects.get(pk=beneficiary.pk).recipient.name == NAME


def test_after_anonymisation_nothing_personal_is_left_and_the_evidence_still_verifies(transferred, manager, client):
    beneficiary, loan, transfer = transferred
    other = make_beneficiary(beneficiary.project, name="Rodzina Sąsiednia", address="ul. Inna 1, Leszno")
    scan = beneficiary.eligibility_document.name
    assert default_storage.exists(scan)
    documents = list(StoredDocument.objects.filter(pk__in=[*loan.documents.values_list("pk", flat=True),
                                                           transfer.protocol_id]))
    dump = _dump()
    assert all(value in dump for value in PERSONAL)

    erasure = privacy.beneficiary_anonymise(beneficiary=beneficiary, by=manager)

    dump = _dump()
    for value in [*PERSONAL, "ul. Dawna 2"]:
        assert value.lower() not in dump.lower(), value
    assert "Rodzina Sąsiednia" in dump and "ul. Inna 1, Leszno" in dump
    assert not default_storage.exists(scan)
    beneficiary.refresh_from_db()
    assert beneficiary.recipient.name == "[anonymised]" and not beneficiary.is_active
    assert not beneficiary.eligibility_document
    # Kept: the code in the project's list and in the order's annex, the obligation proof, the transfer.
    assert OrderAnnexBeneficiary.objects.filter(beneficiary=beneficiary, order=transfer.order).exists()
    assert beneficiary.obligation_records.get().proof_reference == "FV 4/2016"
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED and transfer.items.count() == 2
    assert Loan.objects.get(pk=loan.pk).status == "transferred"
    assert erasure.label == f"beneficjent {beneficiary.code}" and erasure.anonymised_by == manager
    assert erasure.summary["eligibility_scans"] == 1
    assert privacy.privacy.is_anonymised(beneficiary.recipient)
    for document in documents:
        document.refresh_from_db()
        with document.file.open("rb") as handle:
            content = handle.read()
        assert hashlib.sha256(content).hexdigest() == document.sha256
        page = client.post(reverse("verify", kwargs={"code": document.code}),
                           {"file": SimpleUploadedFile("d.pdf", content, "application/pdf")})
        assert page.context["matches"] is True
    other.refresh_from_db()
    assert other.recipient.name == "Rodzina Sąsiednia"


def test_a_second_anonymisation_and_any_later_edit_are_refused(transferred, manager):
    beneficiary, _loan, _transfer = transferred
    privacy.beneficiary_anonymise(beneficiary=beneficiary, by=manager)
    with pytest.raises(Exception) as refused:
        privacy.beneficiary_anonymise(beneficiary=beneficiary, by=manager)
    assert refused.value.code == "already_anonymised"
    with pytest.raises(Exception) as refused:
        services.beneficiary_update(beneficiary=beneficiary, by=manager, name=NAME)
    assert refused.value.code == "already_anonymised"
    assert Beneficiary.objects.get(pk=beneficiary.pk).recipient.name == "[anonymised]"


def test_its_recipient_is_not_anonymised_apart_from_the_beneficiary(transferred):
    from loans import privacy as loan_privacy

    beneficiary, _loan, _transfer = transferred
    with pytest.raises(Exception) as refused:
        loan_privacy.recipient_anonymise(recipient=beneficiary.recipient, by=None)
    assert refused.value.code == "is_beneficiary" and beneficiary.code in refused.value.message


def test_the_command_anonymises_beneficiaries_past_retention(transferred):
    beneficiary, _loan, _transfer = transferred
    holding = make_beneficiary(beneficiary.project, name="Rodzina Trzymająca")
    allocate(holding)
    out = io.StringIO()
    with translation.override("en"):
        call_command("anonymise_expired", stdout=out)
    assert f"would anonymise: beneficiary {beneficiary.code}" in out.getvalue()
    assert holding.code not in out.getvalue()
    call_command("anonymise_expired", "--apply", stdout=io.StringIO())
    beneficiary.refresh_from_db()
    assert beneficiary.recipient.name == "[anonymised]"
    assert Beneficiary.objects.get(pk=holding.pk).recipient.name == "Rodzina Trzymająca"


# --- API and admin ----------------------------------------------------------------------------------

def test_the_project_manager_exports_and_anonymises_through_the_api(transferred, manager, api_en):
    beneficiary, _loan, _transfer = transferred
    client = api_en(manager)
    url = f"/api/beneficiaries/{beneficiary.pk}/"
    response = client.get(url + "personal-data/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["beneficiary"]["eligibility_basis"] == BASIS
    response = client.post(url + "anonymise/")
    assert response.status_code == 200 and response.json()["label"] == f"beneficjent {beneficiary.code}"
    response = client.post(url + "anonymise/")
    assert response.status_code == 409 and response.json()["code"] == "already_anonymised"


@pytest.mark.parametrize("role", [Role.IT_OFFICE, Role.LEGAL_OFFICE, Role.AUDITOR])
def test_roles_without_the_right_get_403(transferred, make_user, api_en, role):
    beneficiary, _loan, _transfer = transferred
    client = api_en(make_user(role))
    assert client.get(f"/api/beneficiaries/{beneficiary.pk}/personal-data/").status_code == 403
    assert client.post(f"/api/beneficiaries/{beneficiary.pk}/anonymise/").status_code == 403
    assert Beneficiary.objects.get(pk=beneficiary.pk).eligibility_basis == BASIS


def test_the_admin_actions_export_and_anonymise(transferred, manager, client):
    beneficiary, _loan, _transfer = transferred
    client.force_login(manager)
    url = reverse("admin:donations_beneficiary_changelist")
    response = client.post(url, {"action": "export_personal_data", "_selected_action": [beneficiary.pk]})
    assert json.loads(response.content)["subjects"][0]["beneficiary"]["code"] == beneficiary.code
    page = client.post(url, {"action": "anonymise", "_selected_action": [beneficiary.pk]})
    assert page.status_code == 200 and "01.07.2026" in page.context["rows"][0][1]
    assert Beneficiary.objects.get(pk=beneficiary.pk).eligibility_basis == BASIS
    response = client.post(url, {"action": "anonymise", "_selected_action": [beneficiary.pk], "apply": "1"})
    assert response.status_code == 302
    assert Beneficiary.objects.get(pk=beneficiary.pk).eligibility_basis == "[anonymised]"
