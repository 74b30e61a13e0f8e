"""Loans through the API: start, moves, refusals as 400/409, roles and list costs."""
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.choices import DeviceStatus
from core.roles import Role
from loans import services
from loans.choices import LoanPurpose, LoanStatus, RecipientKind
from loans.models import Loan, LoanFinding
from tests.factories import UserFactory, make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def term():
    return services.council_term_create(by=None, council="Rada Miasta Kielce", name="kadencja 2018–2023",
                                        starts_on=date(2018, 11, 22), ends_on=date(2023, 11, 21))


@pytest.fixture
def councillor():
    return services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name="Ewa Radna",
                                     user=UserFactory(is_staff=False))


def start_payload(recipient, term, devices, **overrides):
    data = {"recipient": recipient.pk, "purpose": LoanPurpose.COUNCIL_SESSIONS, "council_term": term.pk,
            "devices": [d.pk for d in devices], "starts_on": "2020-04-16", "condition_at_handover": "nowy",
            "accessories": [{"kind": "charger"}, {"kind": "case", "description": "skórzane"}]}
    data.update(overrides)
    return data


def test_the_it_office_lends_a_tablet_and_takes_it_back(api, it_user, councillor, term):
    client = api(it_user)
    tablet = make_device(kind="tablet")
    started = client.post("/api/loans/", start_payload(councillor, term, [tablet]), format="json")
    assert started.status_code == 201, started.data
    assert started.data["planned_end_on"] == "2023-11-21" and started.data["status"] == LoanStatus.OPEN
    assert {m["action"] for m in started.data["allowed_moves"]} == {"return", "mark-lost", "extend", "setup-step"}
    loan_id = started.data["id"]
    step = client.post(f"/api/loans/{loan_id}/setup-step/", {"step": "personalised", "done_on": "2020-04-20"},
                       format="json")
    assert step.status_code == 200 and step.data["setup_steps"][0]["done_by"] == it_user.username
    charger = next(a for a in started.data["accessories"] if a["kind"] == "charger")
    returned = client.post(f"/api/loans/{loan_id}/return/", {
        "condition": "sprawny, rysa na ekranie", "returned_on": "2023-11-30",
        "accessories_returned": [{"accessory": charger["id"], "returned_quantity": 1}]}, format="json")
    assert returned.status_code == 200, returned.data
    assert returned.data["status"] == LoanStatus.RETURNED and len(returned.data["findings"]) == 1
    tablet.refresh_from_db()
    assert tablet.status == DeviceStatus.IN_STOCK
    finding = returned.data["findings"][0]["id"]
    settled = client.post(f"/api/loan-findings/{finding}/settle/", {"settlement": "etui oddane"}, format="json")
    assert settled.status_code == 200 and settled.data["status"] == "settled"


def test_refusals_name_the_reason_and_change_nothing(api, it_user, councillor, term):
    client = api(it_user)
    tablet = make_device(kind="tablet")
    assert client.post("/api/loans/", start_payload(councillor, term, [tablet]), format="json").status_code == 201
    second = client.post("/api/loans/", start_payload(councillor, term, [tablet]), format="json")
    assert second.status_code == 409 and "devices" in second.data
    no_term = client.post("/api/loans/", start_payload(councillor, term, [make_device()], council_term=None),
                          format="json")
    assert no_term.status_code == 400 and "council_term" in no_term.data
    bad_kind = client.post("/api/loans/", start_payload(councillor, term, [make_device()],
                                                        accessories=[{"kind": "umbrella"}]), format="json")
    assert bad_kind.status_code == 400 and "accessories" in bad_kind.data
    assert Loan.objects.count() == 1
    loan = Loan.objects.get()
    no_condition = client.post(f"/api/loans/{loan.pk}/return/", {"condition": ""}, format="json")
    assert no_condition.status_code == 400 and "condition" in no_condition.data
    earlier = client.post(f"/api/loans/{loan.pk}/extend/", {"planned_end_on": "2021-01-01"}, format="json")
    assert earlier.status_code == 400 and "planned_end_on" in earlier.data
    loan.refresh_from_db()
    assert (loan.status, loan.planned_end_on) == (LoanStatus.OPEN, date(2023, 11, 21))
    assert not LoanFinding.objects.exists()


def test_moving_the_term_end_through_the_api(api, it_user, councillor, term):
    loan = services.loan_start(recipient=councillor, purpose=LoanPurpose.COUNCIL_SESSIONS, council_term=term,
                               devices=[make_device(kind="tablet")], starts_on=date(2020, 4, 16),
                               condition_at_handover="nowy", by=None)
    response = api(it_user).post(f"/api/council-terms/{term.pk}/change-end/", {"ends_on": "2024-04-30"},
                                 format="json")
    assert response.status_code == 200
    loan.refresh_from_db()
    assert loan.planned_end_on == date(2024, 4, 30)


@pytest.mark.parametrize(("role", "can_read", "can_lend"), [
    (Role.IT_OFFICE, True, True),
    (Role.PROJECT_MANAGER, True, False),
    (Role.AUDITOR, True, False),
    (Role.LEGAL_OFFICE, True, False),
    (Role.COUNCILLOR, False, False),
])
def test_roles(api, make_user, councillor, term, role, can_read, can_lend):
    client = api(make_user(role))
    services.loan_start(recipient=councillor, purpose=LoanPurpose.COUNCIL_SESSIONS, council_term=term,
                        devices=[make_device()], starts_on=date(2020, 4, 16), condition_at_handover="nowy", by=None)
    listed = client.get("/api/loans/")
    # Every role may ask; a councillor without the role sees only loans to themselves (none of this one).
    assert listed.status_code == 200 and (listed.data["count"] == 1) is can_read
    response = client.post("/api/loans/", start_payload(councillor, term, [make_device()]), format="json")
    assert (response.status_code == 201) is can_lend
    if not can_lend:
        assert response.status_code == 403 and Loan.objects.count() == 1


def _queries(client, url, page_size):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200 and len(response.data["results"]) == page_size
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/api/loans/", "/api/recipients/", "/api/loan-findings/"])
def test_list_query_count_does_not_grow_with_page_size(api, auditor, term, url):
    for n in range(12):
        recipient = services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name=f"Radny {n}",
                                              user=UserFactory(is_staff=False))
        loan = services.loan_start(recipient=recipient, purpose=LoanPurpose.COUNCIL_SESSIONS, council_term=term,
                                   devices=[make_device(kind="tablet"), make_device(kind="phone")],
                                   starts_on=date(2020, 4, 16), condition_at_handover="nowy", by=None,
                                   accessories=[{"kind": "charger", "quantity": 2}])
        services.loan_record_setup_step(loan=loan, step="personalised", done_on=date(2020, 4, 20), by=None)
        services.loan_return(loan=loan, by=None, condition="ok", findings=["brak rysika"])
    client = api(auditor)
    assert _queries(client, url, 2) == _queries(client, url, 10)


def test_a_loan_cannot_end_before_it_starts(api, it_user, councillor, term):
    response = api(it_user).post("/api/loans/", start_payload(councillor, term, [make_device()],
                                                              planned_end_on="2020-01-01"), format="json")
    assert response.status_code == 400 and "planned_end_on" in response.data
    assert not Loan.objects.exists()
