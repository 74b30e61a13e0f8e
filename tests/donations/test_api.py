"""Donations through the API: grant projects and their beneficiaries, obligations with their proof, the
mayor's orders with their annexes, free transfers from draft to the protocol that verifies, residents'
donations and scrapping; every refusal a 400/409 naming the field with nothing written; who may do what;
lists that cost the same queries at any length; a schema that generates without warnings."""
import hashlib
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.choices import DeviceStatus
from assets.models import Device, DeviceEvent
from core.models import StoredDocument
from core.roles import Role
from donations import services
from donations.choices import BeneficiaryKind, OrderKind, TransferStatus
from donations.models import (
    Beneficiary,
    DonationOffer,
    Liquidation,
    MayoralOrder,
    ObligationRecord,
    OrderAnnexBeneficiary,
    OrderAnnexDevice,
    ProjectDevice,
    Transfer,
    TransferEvent,
)
from loans.models import Loan, Recipient
from tests.factories import (
    UserFactory,
    allocate,
    make_beneficiary,
    make_councillor,
    make_device,
    make_order,
    make_project,
    make_retired,
    make_set,
    sanitize,
)

pytestmark = pytest.mark.django_db

MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF\n")


@pytest.fixture
def api(api_en):
    """The API in English, so that the reasons asserted below read as in the code (Polish is tested apart)."""
    return api_en


@pytest.fixture
def lawyer(make_user):
    return make_user(Role.LEGAL_OFFICE, first_name="Barbara", last_name="Prawnik")


@pytest.fixture
def manager(make_user):
    return make_user(Role.PROJECT_MANAGER, first_name="Piotr", last_name="Projektowy")


@pytest.fixture
def councillor():
    return make_councillor("Ewa Radna").user


@pytest.fixture
def household():
    """A household of e-Inclusion (durability over on 31.03.2021) holding its set since 2014."""
    project = make_project()
    beneficiary = make_beneficiary(project)
    kit = make_set(project)
    allocate(beneficiary, kit)
    return beneficiary, kit


def pdf(name="skan.pdf"):
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def csv(text, name="zalacznik.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def order_form(**overrides):
    data = {"number": "148/2021", "signed_on": "2021-06-14", "signatory": "Łukasz Borowski, Prezydent Miasta Leszna",
            "title": "w sprawie nieodpłatnego przekazania sprzętu komputerowego",
            "legal_basis": "art. 30 ust. 2 pkt 3 ustawy o samorządzie gminnym", "kind": OrderKind.FREE_TRANSFER,
            "in_force_from": "2021-06-14"}
    data.update(overrides)
    return data


def transfer_counts():
    return (Transfer.objects.count(), TransferEvent.objects.count(), DeviceEvent.objects.count(),
            StoredDocument.objects.count())


# --- grant projects -------------------------------------------------------------------------------

def test_the_project_manager_registers_a_project_and_records_its_devices(api, manager):
    client = api(manager)
    response = client.post("/api/projects/", {
        "name": "Przeciwdziałanie wykluczeniu cyfrowemu w Gminie Leszno", "programme": "POIG 8.3 eInclusion",
        "agreement_number": "POIG.08.03.00-30-077/12", "starts_on": "2013-01-02", "ends_on": "2015-12-31",
        "final_payment_on": "2016-03-31", "durability_years": 5, "manager": manager.pk}, format="json")
    assert response.status_code == 201, response.data
    project = response.data
    assert project["durability_ends_on"] == "2021-03-31" and project["devices_count"] == 0
    assert project["manager_name"] == "Piotr Projektowy"

    kit = make_set(make_project())  # a set of another project cannot be added
    laptop, other_laptop = make_device(), make_device()
    response = client.post(f"/api/projects/{project['id']}/add-devices/", {"devices": [laptop.pk]}, format="json")
    assert response.status_code == 200 and response.data["added"] == 1
    assert response.data["project"]["devices_count"] == 1
    response = client.post(f"/api/projects/{project['id']}/add-devices/", {"kits": [kit.pk]}, format="json")
    assert response.status_code == 409 and "already belongs to the project" in response.data["devices"][0]
    response = client.post(f"/api/projects/{project['id']}/add-devices/", {}, format="json")
    assert response.status_code == 400 and "devices" in response.data
    assert ProjectDevice.objects.filter(project_id=project["id"]).count() == 1

    response = client.patch(f"/api/projects/{project['id']}/", {"durability_years": 6}, format="json")
    assert response.status_code == 200 and response.data["durability_ends_on"] == "2022-03-31"
    response = client.patch(f"/api/projects/{project['id']}/", {"ends_on": "2012-01-01"}, format="json")
    assert response.status_code == 400 and "ends_on" in response.data
    # The list, filtered.
    assert client.get("/api/projects/", {"q": "077/12"}).data["count"] == 1
    assert client.get("/api/projects/", {"durability_over": "false"}).data["count"] == 0
    # The IT office and the legal office read projects; they do not register them.
    for role in (Role.IT_OFFICE, Role.LEGAL_OFFICE):
        other = api(UserFactory(roles=[role]))
        assert other.get(f"/api/projects/{project['id']}/").status_code == 200
        assert other.post(f"/api/projects/{project['id']}/add-devices/", {"devices": [other_laptop.pk]},
                          format="json").status_code == 403


def test_obligations_are_proven_month_by_month_and_the_gaps_listed(api, manager, lawyer):
    project = make_project()
    first, second = make_beneficiary(project), make_beneficiary(project)
    make_beneficiary(project, kind=BeneficiaryKind.SCHOOL)
    client = api(manager)

    response = client.post("/api/obligations/", {"project": project.pk, "kind": "internet",
                                                 "description": "Internet w gospodarstwach domowych",
                                                 "applies_to": "household"}, format="json")
    assert response.status_code == 201, response.data
    obligation = response.data
    assert (obligation["starts_on"], obligation["ends_on"]) == ("2016-03-31", "2021-03-31")
    url = f"/api/obligations/{obligation['id']}"
    response = client.post("/api/obligations/", {"project": project.pk, "kind": "internet", "description": "x",
                                                 "applies_to": "everyone"}, format="json")
    assert response.status_code == 400 and "applies_to" in response.data

    # One household's April, with the scan of the invoice.
    response = client.post(f"{url}/record/", {"beneficiary": first.pk, "month": "2016-04",
                                              "proof_reference": "FV 12/04/2016", "proof_file": pdf("fv.pdf")},
                           format="multipart")
    assert response.status_code == 201, response.data
    assert response.data["month"] == "2016-04" and response.data["beneficiary_code"] == first.code
    assert response.data["proof_file"]
    # The same month again, a month outside the period, a bad month, no proof: refused, nothing written.
    for payload, code, field in [
        ({"beneficiary": first.pk, "month": "2016-04-20", "proof_reference": "FV 13"}, 409, "month"),
        ({"beneficiary": first.pk, "month": "2022-01", "proof_reference": "FV 14"}, 400, "month"),
        ({"beneficiary": first.pk, "month": "04.2016", "proof_reference": "FV 15"}, 400, "month"),
        ({"beneficiary": first.pk, "month": "2016-05", "proof_reference": ""}, 400, "proof_reference"),
    ]:
        response = client.post(f"{url}/record/", payload, format="json")
        assert response.status_code == code and field in response.data, (payload, response.data)
    assert ObligationRecord.objects.count() == 1

    # May for every household at once (the school is not concerned).
    response = client.post(f"{url}/record-month/", {"month": "2016-05", "proof_reference": "FV zbiorcza 5/2016"},
                           format="json")
    assert response.status_code == 201 and response.data["recorded"] == 2
    assert sorted(r["beneficiary_code"] for r in response.data["records"]) == sorted([first.code, second.code])

    response = client.get(f"{url}/coverage/", {"until": "2016-06-30"})
    assert response.status_code == 200
    assert [(row["month"], row["expected"], row["recorded"], row["missing"]) for row in response.data] == [
        ("2016-03", 2, 0, 2), ("2016-04", 2, 1, 1), ("2016-05", 2, 2, 0), ("2016-06", 2, 0, 2)]

    response = client.get(f"/api/projects/{project.pk}/obligation-gaps/", {"until": "2016-06-30"})
    assert response.status_code == 200 and response.data["count"] == 5
    gaps = {(gap["beneficiary_code"], gap["month"]) for gap in response.data["results"]}
    assert (first.code, "2016-04") not in gaps and (second.code, "2016-04") in gaps
    assert {gap["obligation"] for gap in response.data["results"]} == {obligation["id"]}

    response = client.get(f"/api/projects/{project.pk}/obligation-gaps/", {"obligation": 999999})
    assert response.status_code == 400 and "obligation" in response.data
    records = client.get("/api/obligation-records/", {"beneficiary_id": first.pk})
    assert records.status_code == 200 and records.data["count"] == 2
    # The legal office does not keep the project's obligations.
    assert api(lawyer).post(f"{url}/record-month/", {"month": "2016-06", "proof_reference": "FV"},
                            format="json").status_code == 403
    assert api(lawyer).get("/api/obligations/").status_code == 403


def test_the_durability_report_is_issued_by_the_project_manager(api, manager, client, household):
    beneficiary, _kit = household
    url = f"/api/projects/{beneficiary.project_id}/durability-report/"
    assert api(UserFactory(roles=[Role.LEGAL_OFFICE])).post(url, {}, format="json").status_code == 403
    response = api(manager).post(url, {"on": "2021-04-01"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["kind"] == "durability_report" and response.data["download_url"]
    assert client.get(response.data["verify_url"]).status_code == 200


# --- beneficiaries --------------------------------------------------------------------------------

def test_beneficiaries_are_registered_with_their_contact_and_take_one_set(api, manager):
    project = make_project()
    kit, second_kit = make_set(project), make_set(project)
    client = api(manager)
    response = client.post("/api/beneficiaries/", {
        "project": project.pk, "code": "EI/GD/001", "kind": "household", "name": "Gospodarstwo Nowaków",
        "address": "ul. Słowiańska 5, 64-100 Leszno", "email": "nowak@example.test", "phone": "+48 65 000 00 01",
        "eligibility_basis": "uczeń w rodzinie korzystającej z pomocy społecznej", "pesel": "44051401359",
        "eligibility_document": pdf("decyzja.pdf")}, format="multipart")
    assert response.status_code == 201, response.data
    beneficiary = response.data
    assert beneficiary["name"] == "Gospodarstwo Nowaków" and beneficiary["holds_set"] is False
    assert "pesel" not in beneficiary and "44051401359" not in str(beneficiary)
    recipient = Recipient.objects.get(pk=beneficiary["recipient"])
    assert (recipient.address, recipient.email, recipient.kind) == ("ul. Słowiańska 5, 64-100 Leszno",
                                                                     "nowak@example.test", "household")
    # The same code in the project again: refused, nothing written (not even a recipient).
    recipients = Recipient.objects.count()
    response = client.post("/api/beneficiaries/", {"project": project.pk, "code": "EI/GD/001", "kind": "household",
                                                   "name": "Inni", "eligibility_basis": "MOPS"}, format="json")
    assert response.status_code == 400 and Recipient.objects.count() == recipients
    response = client.post("/api/beneficiaries/", {"project": project.pk, "code": "EI/GD/002", "kind": "household",
                                                   "name": "Inni", "eligibility_basis": ""}, format="json")
    assert response.status_code == 400 and "eligibility_basis" in response.data

    url = f"/api/beneficiaries/{beneficiary['id']}"
    response = client.patch(f"{url}/", {"phone": "+48 600 000 000", "notes": "dzwonić po 16"}, format="json")
    assert response.status_code == 200 and response.data["phone"] == "+48 600 000 000"
    recipient.refresh_from_db()
    assert recipient.phone == "+48 600 000 000"
    response = client.patch(f"{url}/", {"project": make_project().pk}, format="json")
    assert response.status_code == 400 and "project" in response.data

    response = client.post(f"{url}/allocate/", {"kit": kit.pk, "starts_on": "2014-04-01",
                                                "accessories": [{"kind": "other", "description": "router"}]},
                           format="json")
    assert response.status_code == 201, response.data
    assert response.data["status"] == "open" and len(response.data["devices"]) == 2
    assert {d["kind"] for d in response.data["documents"]} == {"loan_agreement", "handover_protocol"}
    assert Loan.objects.get(pk=response.data["loan"]).recipient_id == recipient.pk
    assert client.get(f"{url}/").data["holds_set"] is True
    # A second set for the household: 409 naming the beneficiary, no loan written.
    loans = Loan.objects.count()
    response = client.post(f"{url}/allocate/", {"kit": second_kit.pk, "starts_on": "2014-04-01"}, format="json")
    assert response.status_code == 409 and "one allocation per household" in response.data["beneficiary"][0]
    assert Loan.objects.count() == loans
    assert Device.objects.filter(kit=second_kit, status=DeviceStatus.IN_STOCK).count() == 2

    # Filters: by project, kind, active.
    make_beneficiary(project, kind=BeneficiaryKind.SCHOOL, is_active=False)
    assert client.get("/api/beneficiaries/", {"project_id": project.pk}).data["count"] == 2
    assert client.get("/api/beneficiaries/", {"kind": "school"}).data["count"] == 1
    assert client.get("/api/beneficiaries/", {"is_active": "true", "project_id": project.pk}).data["count"] == 1
    # The IT office does not allocate through the project; the legal office reads, but does not register.
    assert api(UserFactory(roles=[Role.IT_OFFICE])).post(
        f"{url}/allocate/", {"kit": second_kit.pk, "starts_on": "2014-04-01"}, format="json").status_code == 403
    legal = api(UserFactory(roles=[Role.LEGAL_OFFICE]))
    assert legal.get(f"{url}/").status_code == 200
    assert legal.patch(f"{url}/", {"notes": "x"}, format="json").status_code == 403


# --- mayoral orders -------------------------------------------------------------------------------

def test_the_legal_office_registers_an_order_with_its_scan_and_annex(api, lawyer, it_user):
    client = api(lawyer)
    project = make_project()
    kit = make_set(project)
    beneficiary = make_beneficiary(project)
    numbers = list(Device.objects.filter(kit=kit).order_by("inventory_number").values_list("inventory_number",
                                                                                            flat=True))
    # The IT office does not register orders.
    assert api(it_user).post("/api/orders/", {**order_form(), "scan": pdf()}, format="multipart").status_code == 403

    response = client.post("/api/orders/", {**order_form(project=project.pk), "scan": pdf("zarzadzenie.pdf")},
                           format="multipart")
    assert response.status_code == 201, response.data
    order = response.data
    assert order["scan_sha256"] == hashlib.sha256(MINIMAL_PDF).hexdigest()
    assert order["annex"] == {"devices": [], "beneficiaries": []}
    url = f"/api/orders/{order['id']}"

    # The number again (in another case too): 400 on "number", nothing written.
    for number in ("148/2021", " 148/2021 "):
        response = client.post("/api/orders/", order_form(number=number), format="json")
        assert response.status_code == 400 and "already registered" in response.data["number"][0]
    response = client.post("/api/orders/", order_form(number="149/2021", in_force_from="2021-06-01"), format="json")
    assert response.status_code == 400 and "in_force_from" in response.data
    response = client.post("/api/orders/", {**order_form(number="150/2021"), "scan": SimpleUploadedFile(
        "skan.pdf", b"not a pdf")}, format="multipart")
    assert response.status_code == 400 and "scan" in response.data
    assert MayoralOrder.objects.count() == 1

    # An annex with unknown inventory numbers and a line twice: refused line by line, nothing added.
    text = (f"lp;numer inwentarzowy;beneficjent\n1;{numbers[0]};{beneficiary.code}\n2;UM/NIE/ISTNIEJE;\n"
            f"3;{numbers[0]};\n4;UM/TEZ/NIE;\n")
    response = client.post(f"{url}/annex-import/", {"file": csv(text)}, format="multipart")
    assert response.status_code == 400, response.data
    assert "file" in response.data
    assert [(p["line"], p["value"]) for p in response.data["problems"]] == [
        (3, "UM/NIE/ISTNIEJE"), (4, numbers[0]), (5, "UM/TEZ/NIE")]
    assert "no device with this inventory number" in response.data["problems"][0]["reason"]
    response = client.post(f"{url}/annex-import/", {"file": csv("kolumna\nx\n", name="a.txt")}, format="multipart")
    assert response.status_code == 400 and "file" in response.data
    assert not OrderAnnexDevice.objects.exists() and not OrderAnnexBeneficiary.objects.exists()

    # A good annex: previewed, then imported.
    text = f"numer inwentarzowy;beneficjent\n{numbers[0]};{beneficiary.code}\n{numbers[1]};\n"
    response = client.post(f"{url}/annex-import/", {"file": csv(text), "dry_run": "true"}, format="multipart")
    assert response.status_code == 200 and response.data["dry_run"] is True
    assert (response.data["devices_added"], response.data["beneficiaries_added"]) == (2, 1)
    assert not OrderAnnexDevice.objects.exists()
    response = client.post(f"{url}/annex-import/", {"file": csv(text)}, format="multipart")
    assert response.status_code == 200 and response.data["devices_added"] == 2
    annex = client.get(f"{url}/").data["annex"]
    assert [(row["line"], row["inventory_number"]) for row in annex["devices"]] == [(2, numbers[0]), (3, numbers[1])]
    assert [row["code"] for row in annex["beneficiaries"]] == [beneficiary.code]

    # Adding by hand; a beneficiary of another project is refused.
    laptop = make_device()
    response = client.post(f"{url}/annex-add/", {"devices": [laptop.pk]}, format="json")
    assert response.status_code == 200 and response.data["annex_devices_count"] == 3
    response = client.post(f"{url}/annex-add/", {"beneficiaries": [make_beneficiary(make_project()).pk]},
                           format="json")
    assert response.status_code == 400 and "beneficiaries" in response.data

    # The list: filtered, without the annex.
    listed = client.get("/api/orders/", {"device_id": laptop.pk, "in_force_on": "2021-07-01"}).data
    assert listed["count"] == 1 and listed["results"][0]["annex"] is None
    assert client.get("/api/orders/", {"in_force_on": "2021-06-01"}).data["count"] == 0
    # The project manager and the IT office read orders; only the legal office changes them.
    for user in (UserFactory(roles=[Role.PROJECT_MANAGER]), it_user):
        assert api(user).get(f"{url}/").status_code == 200
        assert api(user).post(f"{url}/annex-add/", {"devices": [laptop.pk]}, format="json").status_code == 403


# --- transfers ------------------------------------------------------------------------------------

def test_a_transfer_goes_from_draft_to_the_protocol_that_verifies(api, manager, lawyer, it_user, client, household):
    beneficiary, kit = household
    order = make_order(annex_beneficiaries=[beneficiary])
    pm, legal, it = api(manager), api(lawyer), api(it_user)

    response = pm.post("/api/transfers/", {"order": order.pk, "recipient": beneficiary.recipient_id,
                                           "transfer_date": "2021-07-01", "kits": [kit.pk], "notes": "w domu"},
                       format="json")
    assert response.status_code == 201, response.data
    transfer = response.data
    assert transfer["status"] == "draft" and transfer["number"].startswith("PN/2021/")
    assert len(transfer["items"]) == 2
    assert {m["action"] for m in transfer["allowed_moves"]} == {"submit", "cancel"}
    url = f"/api/transfers/{transfer['id']}"

    check = pm.get(f"{url}/check/")
    assert check.status_code == 200 and check.data["passed"] is True and check.data["failed"] == []
    data_gone = [c for c in check.data["checks"] if c["check"] == "data_gone"]
    assert len(data_gone) == 2 and all(c["exception_applied"] for c in data_gone)

    response = pm.patch(f"{url}/", {"notes": "odbiór w domu beneficjenta"}, format="json")
    assert response.status_code == 200 and response.data["notes"] == "odbiór w domu beneficjenta"
    response = pm.post(f"{url}/submit/", {}, format="json")
    assert response.status_code == 200 and response.data["status"] == "submitted"
    assert response.data["checks"]  # the check as it stood, kept with the submission
    # A draft only is changed; the project manager does not decide; the lawyer does not hand over.
    assert pm.patch(f"{url}/", {"notes": "x"}, format="json").status_code == 409
    assert pm.post(f"{url}/approve/", {}, format="json").status_code == 403
    assert it.post(f"{url}/approve/", {}, format="json").status_code == 403
    assert it.post(f"{url}/complete/", {}, format="json").status_code == 409  # not approved yet

    response = legal.post(f"{url}/approve/", {"reason": "zgodnie z zarządzeniem"}, format="json")
    assert response.status_code == 200 and response.data["status"] == "approved"
    assert response.data["decided_by"] == lawyer.username and response.data["override_reason"] == ""
    assert legal.post(f"{url}/complete/", {}, format="json").status_code == 403
    assert pm.post(f"{url}/complete/", {}, format="json").status_code == 403  # devices leave: the IT office

    response = it.post(f"{url}/complete/", {}, format="json")
    assert response.status_code == 200, response.data
    done = response.data
    assert done["status"] == "completed" and done["allowed_moves"] == []
    assert all(item["exception_applied"] and item["device_status"] == "transferred" for item in done["items"])
    assert [e["kind"] for e in done["events"]] == ["created", "submitted", "approved", "completed"]
    assert set(Device.objects.filter(kit=kit).values_list("status", flat=True)) == {DeviceStatus.TRANSFERRED}
    protocol = done["protocol"]
    assert protocol["kind"] == "transfer_protocol"
    page = client.get(f"/verify/{protocol['code']}/")
    assert page.status_code == 200
    assert client.get(protocol["verify_url"]).status_code == 200
    # Finished: nothing more to do with it.
    assert it.post(f"{url}/cancel/", {"reason": "pomyłka"}, format="json").status_code == 409
    assert it.get("/api/transfers/", {"status": "completed", "device_id": Device.objects.filter(kit=kit)[0].pk}
                  ).data["count"] == 1


def test_transfer_input_refused_with_the_field_and_nothing_written(api, manager, household):
    beneficiary, kit = household
    order = make_order(annex_beneficiaries=[beneficiary])
    pm = api(manager)
    payload = {"order": order.pk, "recipient": beneficiary.recipient_id, "transfer_date": "2021-07-01",
               "kits": [kit.pk]}
    before = transfer_counts()

    response = pm.post("/api/transfers/", {**payload, "transfer_date": "2021-06-13"}, format="json")
    assert response.status_code == 400 and "comes into force on 14.06.2021" in response.data["transfer_date"][0]
    response = pm.post("/api/transfers/", {**payload, "kits": []}, format="json")
    assert response.status_code == 400 and "devices" in response.data
    response = pm.post("/api/transfers/", {**payload, "recipient": 999999}, format="json")
    assert response.status_code == 400 and "recipient" in response.data
    assert transfer_counts() == before

    first = pm.post("/api/transfers/", payload, format="json")
    assert first.status_code == 201
    before = transfer_counts()
    device = Device.objects.filter(kit=kit).first()
    response = pm.post("/api/transfers/", {**payload, "kits": [], "devices": [device.pk]}, format="json")
    assert response.status_code == 409 and first.data["number"] in response.data["devices"][0]
    assert transfer_counts() == before

    url = f"/api/transfers/{first.data['id']}"
    response = pm.patch(f"{url}/", {"transfer_date": "2021-01-01"}, format="json")
    assert response.status_code == 400 and "transfer_date" in response.data
    response = pm.post(f"{url}/cancel/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.data
    response = pm.post(f"{url}/cancel/", {"reason": "zły termin"}, format="json")
    assert response.status_code == 200 and response.data["status"] == "cancelled"
    # Cancelled, the devices are free again.
    assert pm.post("/api/transfers/", payload, format="json").status_code == 201


def test_approval_is_refused_while_checks_fail_and_a_lawyer_overrides_with_reasons(api, manager, lawyer):
    # Final payment in 2017: the durability period lasts until 31.03.2022, after the transfer date.
    project = make_project(final_payment_on=date(2017, 3, 31))
    beneficiary = make_beneficiary(project)
    kit = make_set(project)
    allocate(beneficiary, kit)
    order = make_order(annex_beneficiaries=[beneficiary])
    transfer = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=date(2021, 7, 1),
                                        kits=[kit], by=manager)
    services.transfer_submit(transfer=transfer, by=manager)
    url = f"/api/transfers/{transfer.pk}"
    legal = api(lawyer)

    check = legal.get(f"{url}/check/").data
    assert check["passed"] is False and check["overridable"] is True and check["failed"] == ["durability_over"]
    events = TransferEvent.objects.count()
    response = legal.post(f"{url}/approve/", {}, format="json")
    assert response.status_code == 409 and "reasoned override" in response.data["override_reason"][0]
    assert "durability_over" in response.data["failed"]
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED and TransferEvent.objects.count() == events

    response = legal.post(f"{url}/reject/", {"reason": ""}, format="json")
    assert response.status_code == 400 and "reason" in response.data
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED

    response = legal.post(f"{url}/approve/", {"override_reason": "Instytucja Pośrednicząca zgodziła się pismem "
                                                                 "z 10.06.2021 na wcześniejsze przekazanie."},
                          format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "approved" and "Instytucja" in response.data["override_reason"]
    assert response.data["events"][-1]["kind"] == "overridden"
    failed = [c for c in response.data["checks"] if not c["passed"]]
    assert [c["check"] for c in failed] == ["durability_over", "durability_over"]


def test_data_on_a_device_is_never_overridden(api, manager, lawyer, it_user):
    laptop = make_retired(kinds=("ssd",))  # retired, not wiped
    order = make_order(annex_devices=[laptop])
    school = services.beneficiary_create(project=make_project(), by=None, code="SP/1", kind="school",
                                         name="Szkoła Podstawowa nr 1", eligibility_basis="szkoła publiczna")
    transfer = services.transfer_create(order=order, recipient=school.recipient, transfer_date=date(2021, 7, 1),
                                        devices=[laptop], by=manager)
    services.transfer_submit(transfer=transfer, by=manager)
    response = api(lawyer).post(f"/api/transfers/{transfer.pk}/approve/", {"override_reason": "pilne"},
                                format="json")
    assert response.status_code == 409 and "data_gone" in response.data["failed"]
    response = api(lawyer).post(f"/api/transfers/{transfer.pk}/reject/", {"reason": "dane nieusunięte"},
                                format="json")
    assert response.status_code == 200 and response.data["status"] == "rejected"
    assert response.data["decision_reason"] == "dane nieusunięte"


def test_transfers_for_a_whole_project_skip_with_reasons(api, manager):
    project = make_project()
    holders = [make_beneficiary(project) for _ in range(2)]
    for beneficiary in holders:
        allocate(beneficiary)
    empty = make_beneficiary(project)
    order = make_order(annex_beneficiaries=[*holders, empty])
    response = api(manager).post("/api/transfers/for-project/", {
        "order": order.pk, "project": project.pk, "transfer_date": "2021-07-01", "kinds": ["household"],
        "submit": True}, format="json")
    assert response.status_code == 201, response.data
    assert len(response.data["created"]) == 2
    assert {t["status"] for t in response.data["created"]} == {"submitted"}
    assert response.data["skipped"] == [{"beneficiary": empty.code, "reason": "holds no device of the project"}]
    response = api(manager).post("/api/transfers/for-project/", {
        "order": order.pk, "project": project.pk, "transfer_date": "2021-07-01", "kinds": ["castle"]}, format="json")
    assert response.status_code == 400 and "kinds" in response.data
    response = api(manager).post("/api/transfers/for-project/", {
        "order": order.pk, "project": project.pk, "transfer_date": "2020-07-01"}, format="json")
    assert response.status_code == 400 and "transfer_date" in response.data
    assert Transfer.objects.count() == 2
    assert api(UserFactory(roles=[Role.IT_OFFICE])).post("/api/transfers/for-project/", {
        "order": order.pk, "project": project.pk, "transfer_date": "2021-07-01"}, format="json").status_code == 403


# --- donations from residents ---------------------------------------------------------------------

def offer_form(**overrides):
    data = {"donor_name": "Jan Darczyńca", "donor_contact": "jan@example.test", "offered_on": "2021-09-01",
            "kind": "laptop", "manufacturer": "Dell", "model": "Latitude E7470", "serial_number": "5CG7123ABC",
            "legal_source": "invoice", "legal_source_reference": "FV 2017/03/118",
            "software_licences": "Windows 10 Pro OEM, klucz na naklejce", "free_of_charge_declared": "true"}
    data.update(overrides)
    return data


def test_the_it_office_takes_in_verifies_and_accepts_a_donated_laptop(api, it_user, lawyer):
    client = api(it_user)
    assert api(lawyer).post("/api/donation-offers/", offer_form(), format="json").status_code == 403
    response = client.post("/api/donation-offers/", {**offer_form(), "legal_source_document": pdf("faktura.pdf")},
                           format="multipart")
    assert response.status_code == 201, response.data
    offer = response.data
    assert offer["status"] == "offered" and {m["action"] for m in offer["allowed_moves"]} == {"accept", "refuse"}
    url = f"/api/donation-offers/{offer['id']}"
    response = client.patch(f"{url}/", {"description": "bez zasilacza"}, format="json")
    assert response.status_code == 200 and response.data["description"] == "bez zasilacza"

    response = client.post(f"{url}/accept/", {"inventory_number": "UML/DAR/2021/001", "location": "magazyn",
                                              "media": [{"kind": "ssd", "capacity_gb": 256,
                                                         "serial_number": "S3Z9NB0K123"}],
                                              "reason": "dokumenty sprawdzone"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "accepted" and response.data["device_inventory_number"] == "UML/DAR/2021/001"
    device = Device.objects.get(pk=response.data["device"])
    assert device.status == DeviceStatus.RETIRED and device.media.get().serial_number == "S3Z9NB0K123"
    # Decided: no more changes, no second decision.
    assert client.patch(f"{url}/", {"description": "x"}, format="json").status_code == 409
    assert client.post(f"{url}/refuse/", {"reason": "x"}, format="json").status_code == 409
    assert api(lawyer).get(f"{url}/").status_code == 200


def test_an_offer_without_the_declaration_is_not_accepted_and_a_refusal_needs_reasons(api, it_user):
    client = api(it_user)
    offer = client.post("/api/donation-offers/", offer_form(free_of_charge_declared="false"), format="json").data
    url = f"/api/donation-offers/{offer['id']}"
    devices = Device.objects.count()
    response = client.post(f"{url}/accept/", {"inventory_number": "UML/DAR/2021/002"}, format="json")
    assert response.status_code == 409 and "free_of_charge_declared" in response.data
    response = client.post(f"{url}/refuse/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.data
    assert Device.objects.count() == devices
    assert DonationOffer.objects.get(pk=offer["id"]).status == "offered"
    response = client.post(f"{url}/refuse/", {"reason": "brak oświadczenia darczyńcy"}, format="json")
    assert response.status_code == 200 and response.data["status"] == "refused"
    assert client.get("/api/donation-offers/", {"status": "refused"}).data["count"] == 1


# --- scrapping ------------------------------------------------------------------------------------

def test_the_it_office_hands_sanitized_devices_over_for_scrapping(api, it_user, manager, client):
    validator = UserFactory(roles=[Role.IT_OFFICE])
    wiped = sanitize(make_retired(kinds=("hdd",)), technician=it_user, validator=validator)
    not_wiped = make_retired(kinds=("hdd",))
    order = make_order(kind=OrderKind.LIQUIDATION, title="w sprawie likwidacji sprzętu",
                       annex_devices=[wiped, not_wiped])
    form = {"order": order.pk, "handed_over_on": "2021-07-15", "collector_name": "Eko-Recykling Sp. z o.o.",
            "collector_bdo": "000012345", "kpo_number": "KPO/2021/07/0042", "mass_kg": "12.500"}
    it = api(it_user)
    assert api(manager).post("/api/liquidations/", {**form, "devices": [wiped.pk]}, format="json").status_code == 403

    before = (Liquidation.objects.count(), DeviceEvent.objects.count(), StoredDocument.objects.count())
    response = it.post("/api/liquidations/", {**form, "devices": [wiped.pk, not_wiped.pk]}, format="json")
    assert response.status_code == 409 and "not sanitized" in response.data["devices"][0]
    response = it.post("/api/liquidations/", {**form, "devices": [wiped.pk], "collector_bdo": "12"}, format="json")
    assert response.status_code == 400 and "collector_bdo" in response.data
    response = it.post("/api/liquidations/", {**form, "devices": [wiped.pk], "handed_over_on": "2021-01-01"},
                       format="json")
    assert response.status_code == 409 and "handed_over_on" in response.data
    assert (Liquidation.objects.count(), DeviceEvent.objects.count(), StoredDocument.objects.count()) == before

    response = it.post("/api/liquidations/", {**form, "devices": [wiped.pk], "kpo_scan": pdf("kpo.pdf")},
                       format="multipart")
    assert response.status_code == 201, response.data
    assert response.data["number"].startswith("LIK/2021/") and response.data["kpo_scan"]
    assert [i["inventory_number"] for i in response.data["items"]] == [wiped.inventory_number]
    assert response.data["protocol"]["kind"] == "liquidation_protocol"
    assert client.get(f"/verify/{response.data['protocol']['code']}/").status_code == 200
    wiped.refresh_from_db()
    assert wiped.status == DeviceStatus.SCRAPPED
    assert it.get("/api/liquidations/", {"device_id": wiped.pk}).data["count"] == 1


# --- who may do what ------------------------------------------------------------------------------

def test_uploaded_scans_are_served_to_those_who_may_read_their_records(client, manager, lawyer, it_user, councillor):
    order = make_order(scan=pdf("zarzadzenie.pdf"))
    beneficiary = make_beneficiary(make_project(), eligibility_document=pdf("decyzja.pdf"))
    offer = services.donation_offer_create(by=None, **{**offer_form(), "offered_on": date(2021, 9, 1),
                                                       "free_of_charge_declared": True,
                                                       "legal_source_document": pdf("faktura.pdf")})
    scans = {order.scan.name: {lawyer, manager, it_user}, beneficiary.eligibility_document.name: {lawyer, manager},
             offer.legal_source_document.name: {lawyer, it_user}}
    for name, allowed in scans.items():
        assert name.startswith("donations/")
        for user in (lawyer, manager, it_user, councillor):
            client.force_login(user)
            assert client.get(f"/media/{name}").status_code == (200 if user in allowed else 403), (name, user)


LISTS = ["/api/projects/", "/api/beneficiaries/", "/api/obligations/", "/api/obligation-records/", "/api/orders/",
         "/api/transfers/", "/api/donation-offers/", "/api/liquidations/"]


def test_a_councillor_gets_403_everywhere(api, councillor, household):
    beneficiary, kit = household
    order = make_order(annex_beneficiaries=[beneficiary])
    transfer = services.transfer_create(order=order, recipient=beneficiary.recipient, transfer_date=date(2021, 7, 1),
                                        kits=[kit], by=None)
    client = api(councillor)
    for url in LISTS:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}, format="json").status_code == 403, url
    for url in [f"/api/transfers/{transfer.pk}/", f"/api/transfers/{transfer.pk}/check/",
                f"/api/projects/{beneficiary.project_id}/obligation-gaps/"]:
        assert client.get(url).status_code == 403, url
    for url in [f"/api/transfers/{transfer.pk}/submit/", f"/api/transfers/{transfer.pk}/approve/",
                f"/api/transfers/{transfer.pk}/cancel/", "/api/transfers/for-project/",
                f"/api/beneficiaries/{beneficiary.pk}/allocate/", f"/api/orders/{order.pk}/annex-add/",
                f"/api/projects/{beneficiary.project_id}/durability-report/"]:
        assert client.post(url, {}, format="json").status_code == 403, url
    assert client.patch(f"/api/transfers/{transfer.pk}/", {"notes": "x"}, format="json").status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.DRAFT and transfer.notes == ""


@pytest.mark.parametrize("url", LISTS)
def test_the_auditor_reads_every_list_and_writes_nothing(api, auditor, url):
    client = api(auditor)
    assert client.get(url).status_code == 200
    assert client.post(url, {}, format="json").status_code == 403


def test_unauthenticated_requests_get_nothing(client, db):
    for url in LISTS:
        assert client.get(url).status_code in (401, 403)


# --- lists cost the same queries at any length ------------------------------------------------------

def queries(client, url, rows) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": rows})
    assert response.status_code == 200 and len(response.data["results"]) == rows, response.data
    return len(ctx.captured_queries)


def test_the_transfers_list_costs_the_same_queries_for_2_and_6_rows(api, auditor, manager, lawyer):
    project = make_project()
    order = make_order()
    for n in range(6):
        beneficiary = make_beneficiary(project)
        kit = make_set(project)
        allocate(beneficiary, kit)
        services.order_annex_add(order=order, by=None, beneficiaries=[beneficiary])
        transfer = services.transfer_create(order=order, recipient=beneficiary.recipient,
                                            transfer_date=date(2021, 7, 1), kits=[kit], by=manager)
        if n % 2:
            transfer = services.transfer_submit(transfer=transfer, by=manager)
            services.transfer_approve(transfer=transfer, by=lawyer)
    client = api(auditor)
    assert queries(client, "/api/transfers/", 2) == queries(client, "/api/transfers/", 6)


def test_the_beneficiaries_list_costs_the_same_queries_for_2_and_6_rows(api, auditor):
    project = make_project()
    for n in range(6):
        beneficiary = make_beneficiary(project, kind=BeneficiaryKind.HOUSEHOLD if n % 2 else BeneficiaryKind.SCHOOL)
        if n % 3 == 0:
            allocate(beneficiary)
    client = api(auditor)
    assert queries(client, "/api/beneficiaries/", 2) == queries(client, "/api/beneficiaries/", 6)
    assert Beneficiary.objects.count() == 6


@pytest.mark.parametrize("url", ["/api/projects/", "/api/orders/", "/api/obligation-records/",
                                 "/api/donation-offers/"])
def test_other_lists_cost_the_same_queries_at_any_length(api, auditor, url):
    project = make_project()
    beneficiary = make_beneficiary(project)
    obligation = services.obligation_create(project=project, kind="servicing", description="serwis", by=None)
    for n in range(6):
        make_project()
        make_order(project=project, annex_beneficiaries=[beneficiary])
        services.obligation_record(obligation=obligation, beneficiary=beneficiary, month=date(2016, 4 + n, 1),
                                   proof_reference=f"protokół serwisu {n}", by=None)
        services.donation_offer_create(by=None, **{**offer_form(), "offered_on": date(2021, 9, 1),
                                                   "free_of_charge_declared": True, "serial_number": f"SN-{n}"})
    client = api(auditor)
    assert queries(client, url, 2) == queries(client, url, 6)


# --- the schema ---------------------------------------------------------------------------------------

def test_the_openapi_schema_lists_the_donations_endpoints_and_generates_without_warnings(api, auditor, tmp_path):
    paths = api(auditor).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in ["/api/projects/{id}/durability-report/", "/api/beneficiaries/{id}/allocate/",
                 "/api/obligations/{id}/record-month/", "/api/orders/{id}/annex-import/",
                 "/api/transfers/{id}/approve/", "/api/transfers/for-project/", "/api/donation-offers/{id}/accept/",
                 "/api/liquidations/"]:
        assert path in paths, path
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_the_months_without_proof_are_read_only_by_those_who_read_the_proofs(api, manager, it_user):
    project = make_project()
    make_beneficiary(project)
    url = f"/api/projects/{project.pk}/obligation-gaps/"
    assert api(manager).get(url).status_code == 200
    assert api(it_user).get(url).status_code == 403  # it names beneficiaries, which the IT office does not read
