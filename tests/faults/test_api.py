"""The faults API: a councillor reports with a photo, the IT office moves the fault along; admin handling."""
import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from faults import services
from faults.choices import FaultStatus
from faults.models import FaultReport
from tests.factories import lend_tablet, make_councillor, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(db):
    recipient = make_councillor()
    loan = lend_tablet(recipient)
    return recipient, loan, loan.items.get().device


def test_a_councillor_reports_with_a_photo_and_the_it_office_resolves(api, it_user, held,
                                                                       django_capture_on_commit_callbacks):
    recipient, loan, device = held
    councillor = api(recipient.user)
    with django_capture_on_commit_callbacks(execute=True):
        created = councillor.post("/api/faults/", {
            "device": device.pk, "category": "hardware", "description": "Pęknięta szybka, ekran miga.",
            "contact": "600 100 200", "photo": SimpleUploadedFile("szybka.png", png_bytes(), "image/png"),
        }, format="multipart")
    assert created.status_code == 201, created.data
    assert created.data["status"] == FaultStatus.NEW and created.data["has_photo"] is True
    assert created.data["allowed_moves"] == []  # the reporter does not move faults
    assert mail.outbox[-1].to == ["it@testserver"]
    fault_id = created.data["id"]
    office = api(it_user)
    assert {m["action"] for m in office.get(f"/api/faults/{fault_id}/").data["allowed_moves"]} == {
        "acknowledge", "reject"}
    assert councillor.post(f"/api/faults/{fault_id}/acknowledge/", {}, format="json").status_code == 403
    assert office.post(f"/api/faults/{fault_id}/acknowledge/", {}, format="json").status_code == 200
    refused = office.post(f"/api/faults/{fault_id}/resolve/", {"reply": ""}, format="json")
    assert refused.status_code == 400 and "reply" in refused.data
    resolved = office.post(f"/api/faults/{fault_id}/resolve/", {"reply": "Wymieniono szybkę."}, format="json")
    assert resolved.status_code == 200 and resolved.data["status"] == FaultStatus.RESOLVED
    seen = councillor.get(f"/api/faults/{fault_id}/").data
    assert seen["status"] == FaultStatus.RESOLVED and seen["replies"][-1]["body"] == "Wymieniono szybkę."
    again = office.post(f"/api/faults/{fault_id}/reject/", {"reply": "?"}, format="json")
    assert again.status_code == 409 and FaultReport.objects.get().status == FaultStatus.RESOLVED


def test_bad_reports_get_a_400_naming_the_field(api, held):
    recipient, _loan, device = held
    councillor = api(recipient.user)
    not_image = councillor.post("/api/faults/", {
        "device": device.pk, "category": "hardware", "description": "x", "contact": "y",
        "photo": SimpleUploadedFile("wirus.png", b"MZ\x90\x00 not a picture", "image/png")}, format="multipart")
    assert not_image.status_code == 400 and "photo" in not_image.data
    other = lend_tablet(make_councillor("Jan Inny")).items.get().device
    not_theirs = councillor.post("/api/faults/", {"device": other.pk, "category": "network", "description": "x",
                                                  "contact": "y"}, format="json")
    assert not_theirs.status_code == 400 and "device" in not_theirs.data
    assert not FaultReport.objects.exists()


def test_the_reporter_and_the_office_exchange_messages(api, it_user, held):
    recipient, _loan, device = held
    fault = services.fault_report(by=recipient.user, device=device, category="software", description="Aplikacja",
                                  contact="mail")
    assert api(recipient.user).post(f"/api/faults/{fault.pk}/reply/", {"body": "Nadal nie działa."},
                                    format="json").status_code == 201
    answer = api(it_user).post(f"/api/faults/{fault.pk}/reply/", {"body": "Proszę o telefon."}, format="json")
    assert answer.status_code == 201
    assert [(r["from_office"], r["body"]) for r in answer.data["replies"]] == [
        (False, "Nadal nie działa."), (True, "Proszę o telefon.")]


def test_fault_list_query_count_does_not_grow_with_page_size(api, it_user):
    for n in range(8):
        recipient = make_councillor(f"Radny {n}")
        device = lend_tablet(recipient).items.get().device
        fault = services.fault_report(by=recipient.user, device=device, category="hardware", description="x",
                                      contact="y")
        services.fault_reply(fault=fault, by=it_user, body="ok")
    client = api(it_user)
    counts = []
    for size in (2, 8):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/faults/", {"page_size": size})
        assert response.status_code == 200 and len(response.data["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_the_it_office_handles_a_fault_from_its_admin_page(it_user, held):
    recipient, _loan, device = held
    fault = services.fault_report(by=recipient.user, device=device, category="login",
                                  description="Nie pamiętam hasła tymczasowego.", contact="600 100 200")
    browser = Client()
    browser.force_login(it_user)
    page = browser.get(f"/admin/faults/faultreport/{fault.pk}/change/")
    assert page.status_code == 200 and b"fault-handle" in page.content
    url = f"/admin/faults/faultreport/{fault.pk}/handle/"
    acknowledged = browser.post(url, {"move": "acknowledge", "reply": ""}, follow=True)
    assert [m.level_tag for m in acknowledged.context["messages"]] == ["success"]
    refused = browser.post(url, {"move": "resolve", "reply": ""}, follow=True)
    assert [m.level_tag for m in refused.context["messages"]] == ["error"]
    fault.refresh_from_db()
    assert fault.status == FaultStatus.ACKNOWLEDGED
    browser.post(url, {"move": "resolve", "reply": "Hasło zresetowane, SMS wysłany."})
    fault.refresh_from_db()
    assert fault.status == FaultStatus.RESOLVED and fault.replies.get().author == it_user


def test_read_only_roles_see_faults_but_cannot_handle_them(make_user, held):
    recipient, _loan, device = held
    fault = services.fault_report(by=recipient.user, device=device, category="network", description="Wi-Fi",
                                  contact="y")
    browser = Client()
    browser.force_login(make_user(Role.AUDITOR))
    page = browser.get(f"/admin/faults/faultreport/{fault.pk}/change/")
    assert page.status_code == 200 and b"fault-handle" not in page.content
    assert browser.post(f"/admin/faults/faultreport/{fault.pk}/handle/", {"move": "acknowledge"}).status_code == 403
    fault.refresh_from_db()
    assert fault.status == FaultStatus.NEW


def test_history_cannot_be_reverted_around_the_services(it_user, held):
    """Regression: simple-history's revert form saved an old version with only the view permission,
    moving a fault back to "new" without an event. History is read, never reverted, in every admin."""
    recipient, _loan, device = held
    fault = services.fault_report(by=recipient.user, device=device, category="login", description="Brak logowania.",
                                  contact="600 100 200")
    services.fault_acknowledge(fault=fault, by=it_user, reply="")
    first = fault.history.order_by("history_id").first()
    browser = Client()
    browser.force_login(it_user)
    url = f"/admin/faults/faultreport/{fault.pk}/history/{first.history_id}/"
    assert browser.get(url).status_code == 200
    assert browser.post(url, {}).status_code == 403
    fault.refresh_from_db()
    assert fault.status == FaultStatus.ACKNOWLEDGED and fault.events.count() == 2
