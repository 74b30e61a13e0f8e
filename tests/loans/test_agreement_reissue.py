"""The loan agreement issued late for a loan imported without one, through the service, the API and the admin.

Such a loan arises only from data imported from an older system (loan_start always issues the agreement), so
each test builds it as the import leaves it: the loan and its items written straight to the database, with
no document and no event.
"""
from __future__ import annotations

from datetime import date

import pytest
from django.contrib import messages as message_levels
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.utils import translation

from assets.choices import DeviceStatus
from assets.models import Device
from core.choices import DocumentKind
from core.exceptions import GuardFailed
from core.models import StoredDocument
from core.roles import Role
from loans import services
from loans.choices import LoanEventKind, LoanPurpose, LoanStatus, RecipientKind
from loans.models import Loan, LoanEvent, LoanItem
from reports.compliance import run_check
from tests.factories import lend_tablet, make_councillor, make_device
from tests.pdf_helpers import assert_contains, pdf_text

pytestmark = pytest.mark.django_db


def imported_loan(status: str = LoanStatus.OPEN) -> Loan:
    """A loan as an import from the older system leaves it: rows only, no agreement, no event."""
    recipient = services.recipient_create(by=None, kind=RecipientKind.STAFF, name="Adam Pracownik",
                                          address="ul. Rynek 1, 25-303 Kielce")
    device = make_device()
    ended = status != LoanStatus.OPEN
    loan = Loan.objects.create(recipient=recipient, purpose=LoanPurpose.STAFF_WORK, starts_on=date(2019, 2, 1),
                               planned_end_on=date(2030, 1, 31), condition_at_handover="używany",
                               status=status, ended_on=date(2021, 3, 1) if ended else None)
    LoanItem.objects.create(loan=loan, device=device, is_open=not ended, closed_on=date(2021, 3, 1) if ended else None)
    if not ended:
        Device.objects.filter(pk=device.pk).update(status=DeviceStatus.ON_LOAN)
    return loan


def agreements(loan: Loan) -> list[StoredDocument]:
    return list(loan.documents.filter(kind=DocumentKind.LOAN_AGREEMENT))


def gaps() -> list:
    return run_check(kinds=["loan_without_agreement"]).gaps


@pytest.fixture
def it_client(client, it_user):
    client.force_login(it_user)
    return client


def _action(client, loans):
    return client.post("/admin/loans/loan/", {"action": "loan_agreement_issue_missing",
                                              ACTION_CHECKBOX_NAME: [loan.pk for loan in loans]}, follow=True)


def _messages(response, level):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == level]


# --- the service ---------------------------------------------------------------------------------

def test_the_service_issues_the_agreement_of_an_imported_loan_and_records_it(it_user):
    loan = imported_loan()
    device = loan.items.get().device
    assert [g.record.id for g in gaps()] == [loan.pk]

    with translation.override("en"):
        document = services.loan_agreement_issue_missing(loan=loan, by=it_user)

    assert agreements(loan) == [document] and document.issued_by == it_user
    assert_contains(pdf_text(document), f"Loan agreement no. {loan.pk}", "Adam Pracownik", device.inventory_number,
                    "01.02.2019", "31.01.2030")
    [event] = LoanEvent.objects.filter(loan=loan)
    assert event.kind == LoanEventKind.AGREEMENT_ISSUED and event.actor == it_user
    assert event.from_status == event.to_status == LoanStatus.OPEN
    assert document.code in event.reason and "issued late" in event.reason
    loan.refresh_from_db()
    device.refresh_from_db()
    assert loan.status == LoanStatus.OPEN and device.status == DeviceStatus.ON_LOAN  # nothing else moves
    assert gaps() == []


@pytest.mark.parametrize("status", [LoanStatus.RETURNED, LoanStatus.LOST, LoanStatus.TRANSFERRED])
def test_an_ended_loan_gets_its_agreement_late_and_keeps_its_status(it_user, status):
    loan = imported_loan(status)
    document = services.loan_agreement_issue_missing(loan=loan, by=it_user)
    assert_contains(pdf_text(document), loan.items.get().device.inventory_number)
    event = LoanEvent.objects.get(loan=loan, kind=LoanEventKind.AGREEMENT_ISSUED)
    assert event.from_status == event.to_status == status
    loan.refresh_from_db()
    assert loan.status == status and gaps() == []


def test_a_loan_with_its_agreement_is_refused_naming_the_agreement_and_nothing_is_written(it_user):
    started = lend_tablet(make_councillor())  # loan_start issued its agreement
    imported = imported_loan()
    first = services.loan_agreement_issue_missing(loan=imported, by=it_user)
    for loan, code in [(started, agreements(started)[0].code), (imported, first.code)]:
        documents, events = StoredDocument.objects.count(), LoanEvent.objects.count()
        with pytest.raises(GuardFailed) as refused:
            services.loan_agreement_issue_missing(loan=loan, by=it_user)
        assert refused.value.field == "loan" and code in refused.value.message
        assert (StoredDocument.objects.count(), LoanEvent.objects.count()) == (documents, events)
        assert len(agreements(loan)) == 1


# --- the API -------------------------------------------------------------------------------------

def test_the_api_issues_the_agreement_once_and_the_compliance_gap_ends(api, client, it_user):
    loan = imported_loan()
    rest = api(it_user)
    issued = rest.post(f"/api/loans/{loan.pk}/issue-agreement/", HTTP_X_REQUEST_ID="import-fix-1")
    assert issued.status_code == 201, issued.data
    [document] = agreements(loan)
    assert issued.data["kind"] == DocumentKind.LOAN_AGREEMENT and issued.data["code"] == document.code
    assert issued.data["verify_url"].endswith(f"/verify/{document.code}/")
    assert issued.data["download_url"].startswith("http://testserver/")
    assert client.get(f"/verify/{document.code}/").status_code == 200
    client.force_login(it_user)
    download = client.get(issued.data["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    event = LoanEvent.objects.get(loan=loan)
    assert (event.kind, event.actor, event.request_id) == (LoanEventKind.AGREEMENT_ISSUED, it_user, "import-fix-1")
    assert gaps() == []

    shown = rest.get(f"/api/loans/{loan.pk}/")
    assert [d["code"] for d in shown.data["documents"]] == [document.code]

    again = rest.post(f"/api/loans/{loan.pk}/issue-agreement/")
    assert again.status_code == 409 and document.code in again.data["loan"][0]
    assert len(agreements(loan)) == 1 and LoanEvent.objects.filter(loan=loan).count() == 1


def test_without_the_right_to_move_loans_the_api_refuses_and_writes_nothing(api, make_user):
    loan = imported_loan()
    for role in [Role.AUDITOR, Role.PROJECT_MANAGER, Role.LEGAL_OFFICE]:
        user = make_user(role)
        assert not user.has_perm("loans.move_loan")
        assert api(user).post(f"/api/loans/{loan.pk}/issue-agreement/").status_code == 403
    assert agreements(loan) == [] and not LoanEvent.objects.filter(loan=loan).exists()
    assert [g.record.id for g in gaps()] == [loan.pk]


def test_an_unknown_loan_is_a_404(api, it_user):
    assert api(it_user).post("/api/loans/999999/issue-agreement/").status_code == 404


# --- the admin -----------------------------------------------------------------------------------

def test_the_admin_action_issues_the_missing_agreements_and_names_the_refused(it_client, it_user):
    imported = imported_loan()
    started = lend_tablet(make_councillor())
    existing = agreements(started)[0].code

    page = _action(it_client, [imported, started])

    assert page.status_code == 200
    [document] = agreements(imported)
    assert document.issued_by == it_user
    [success] = _messages(page, message_levels.SUCCESS)
    assert document.code in success and existing not in success
    [error] = _messages(page, message_levels.ERROR)
    assert existing in error
    assert len(agreements(started)) == 1
    assert LoanEvent.objects.filter(loan=imported, kind=LoanEventKind.AGREEMENT_ISSUED, actor=it_user).count() == 1
    assert not LoanEvent.objects.filter(loan=started, kind=LoanEventKind.AGREEMENT_ISSUED).exists()
    assert gaps() == []

    again = _action(it_client, [imported])
    assert _messages(again, message_levels.SUCCESS) == []
    assert [document.code in text for text in _messages(again, message_levels.ERROR)] == [True]
    assert len(agreements(imported)) == 1 and LoanEvent.objects.filter(loan=imported).count() == 1


def test_the_admin_offers_the_action_only_to_who_may_move_loans(client, it_client, make_user):
    loan = imported_loan()
    assert "loan_agreement_issue_missing" in dict(
        it_client.get("/admin/loans/loan/").context["action_form"].fields["action"].choices)
    client.force_login(make_user(Role.AUDITOR))
    listing = client.get("/admin/loans/loan/")
    assert listing.status_code == 200
    action_form = listing.context["action_form"]
    assert action_form is None or "loan_agreement_issue_missing" not in dict(action_form.fields["action"].choices)
    _action(client, [loan])
    assert agreements(loan) == [] and not LoanEvent.objects.filter(loan=loan).exists()
