"""Loans: start, extend, return with findings, loss, set-up steps, and council terms moving open loans."""
from datetime import date

import pytest
from django.db import IntegrityError, transaction

from assets import services as asset_services
from assets.choices import DeviceStatus
from assets.models import Device, DeviceEvent
from core.exceptions import DomainError, GuardFailed, InvalidInput, TransitionNotAllowed
from loans import services
from loans.choices import AccessoryKind, FindingStatus, LoanEventKind, LoanPurpose, LoanStatus, RecipientKind, SetupStep
from loans.models import Loan, LoanItem
from tests.factories import UserFactory, make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def term():
    return services.council_term_create(by=None, council="Rada Miasta Kielce", name="kadencja 2018–2023",
                                        starts_on=date(2018, 11, 22), ends_on=date(2023, 11, 21))


@pytest.fixture
def councillor():
    user = UserFactory(is_staff=False, first_name="Ewa", last_name="Radna")
    return services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name="Ewa Radna", user=user)


def lend_tablet(recipient, term, by=None, **overrides):
    data = {"recipient": recipient, "purpose": LoanPurpose.COUNCIL_SESSIONS, "council_term": term,
            "starts_on": date(2020, 4, 16), "condition_at_handover": "nowy, w folii",
            "accessories": [{"kind": "charger", "quantity": 1}, {"kind": "case", "quantity": 1}]}
    data.update(overrides)
    if "devices" not in data and "kit" not in data:
        data["devices"] = [make_device(kind="tablet")]
    return services.loan_start(by=by, **data)


def test_a_councillors_loan_ends_with_the_term_and_puts_the_tablet_on_loan(councillor, term, it_user):
    loan = lend_tablet(councillor, term, by=it_user)
    device = loan.items.get().device
    assert (loan.status, loan.planned_end_on) == (LoanStatus.OPEN, term.ends_on)
    assert device.status == DeviceStatus.ON_LOAN
    assert device.events.latest("id").actor == it_user
    assert loan.events.get().kind == LoanEventKind.STARTED


def test_a_kit_is_lent_whole(councillor, term):
    kit = asset_services.kit_create(code="EI/DOM/001", name="zestaw", by=None,
                                    devices=[make_device(kind="desktop"), make_device(kind="monitor"),
                                             make_device(kind="router")])
    household = services.recipient_create(by=None, kind=RecipientKind.HOUSEHOLD, name="Gospodarstwo nr 1")
    loan = services.loan_start(recipient=household, purpose=LoanPurpose.GRANT_PROJECT, kit=kit, by=None,
                               starts_on=date(2014, 9, 1), planned_end_on=date(2020, 9, 1),
                               condition_at_handover="nowy")
    assert loan.items.count() == 3
    assert set(Device.objects.filter(kit=kit).values_list("status", flat=True)) == {DeviceStatus.ON_LOAN}


def test_only_devices_in_stock_can_be_lent_and_nothing_is_written_otherwise(councillor, term):
    device = make_device(kind="tablet")
    asset_services.device_send_to_repair(device=device, by=None, reason="ekran")
    events_before = DeviceEvent.objects.count()
    with pytest.raises(GuardFailed) as refused:
        lend_tablet(councillor, term, devices=[device])
    assert refused.value.field == "devices"
    assert not Loan.objects.exists() and DeviceEvent.objects.count() == events_before


def test_a_device_has_at_most_one_open_loan(councillor, term):
    loan = lend_tablet(councillor, term)
    device = loan.items.get().device
    with pytest.raises(DomainError):
        lend_tablet(councillor, term, devices=[device])
    assert Loan.objects.count() == 1
    other = Loan.objects.create(recipient=councillor, purpose=LoanPurpose.STAFF_WORK, starts_on=date(2020, 5, 1),
                                planned_end_on=date(2020, 6, 1), condition_at_handover="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        LoanItem.objects.create(loan=other, device=device)  # the database holds the line too


def test_return_records_condition_and_missing_accessories_as_open_findings(councillor, term, it_user):
    loan = lend_tablet(councillor, term)
    charger = loan.accessories.get(kind="charger")
    returned = services.loan_return(loan=loan, by=it_user, condition="rysy na obudowie",
                                    returned_on=date(2023, 11, 30), accessories_returned={charger.pk: 1})
    device = returned.items.get().device
    device.refresh_from_db()
    assert (returned.status, returned.ended_on, device.status) == (LoanStatus.RETURNED, date(2023, 11, 30),
                                                                   DeviceStatus.IN_STOCK)
    finding = returned.findings.get()
    assert finding.status == FindingStatus.OPEN
    assert str(AccessoryKind.CASE.label) in finding.description and "(1" in finding.description
    with pytest.raises(InvalidInput):
        services.loan_finding_settle(finding=finding, by=it_user, settlement=" ")
    services.loan_finding_settle(finding=finding, by=it_user, settlement="radna oddała etui 05.12.2023")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.SETTLED and finding.settled_by == it_user


def test_returning_twice_or_a_lost_loan_is_refused(councillor, term):
    loan = lend_tablet(councillor, term)
    services.loan_mark_lost(loan=loan, by=None, reference="KMP Kielce RSD-1/21")
    device = loan.items.get().device
    device.refresh_from_db()
    assert device.status == DeviceStatus.LOST
    with pytest.raises(TransitionNotAllowed):
        services.loan_return(loan=loan, by=None, condition="ok")


def test_extension_moves_the_end_later_only(councillor, term):
    loan = lend_tablet(councillor, term)
    with pytest.raises(InvalidInput):
        services.loan_extend(loan=loan, planned_end_on=date(2020, 1, 1), by=None)
    services.loan_extend(loan=loan, planned_end_on=date(2024, 4, 30), by=None, reason="do końca kadencji")
    loan.refresh_from_db()
    assert loan.planned_end_on == date(2024, 4, 30)
    assert loan.events.latest("id").planned_end_before == term.ends_on


def test_moving_the_term_end_moves_every_open_loan_tied_to_it(term):
    loans = [lend_tablet(services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name=f"Radny {n}",
                                                   user=UserFactory(is_staff=False)), term) for n in range(3)]
    services.loan_return(loan=loans[2], by=None, condition="ok", returned_on=date(2021, 1, 4))
    # The 2018 term was prolonged by law to 30 April 2024.
    services.council_term_change_end(term=term, ends_on=date(2024, 4, 30), by=None, reason="ustawa z 2022 r.")
    ends = {loan.pk: Loan.objects.get(pk=loan.pk).planned_end_on for loan in loans}
    assert ends[loans[0].pk] == ends[loans[1].pk] == date(2024, 4, 30)
    assert ends[loans[2].pk] == date(2023, 11, 21)
    assert loans[0].events.filter(kind=LoanEventKind.TERM_MOVED).count() == 1


def test_the_kielce_setup_checklist(councillor, term, it_user):
    loan = lend_tablet(councillor, term)
    for step, day in [(SetupStep.ACCOUNTS_CREATED, 14), (SetupStep.TRAINING_ATTENDED, 16),
                      (SetupStep.TEMPORARY_PASSWORD_CHANGED, 16), (SetupStep.PERSONALISED, 20)]:
        services.loan_record_setup_step(loan=loan, step=step, done_on=date(2020, 4, day), by=it_user)
    assert set(loan.setup_steps.values_list("step", flat=True)) == set(SetupStep.values)
    with pytest.raises(GuardFailed):
        services.loan_record_setup_step(loan=loan, step=SetupStep.PERSONALISED, done_on=date(2020, 4, 21), by=None)


def test_a_councillor_recipient_needs_an_account():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name="Bez konta")


@pytest.mark.parametrize("ended", [LoanStatus.RETURNED, LoanStatus.LOST])
def test_an_ended_loan_refuses_every_move_and_stays_as_it_was(councillor, term, ended):
    loan = lend_tablet(councillor, term)
    if ended == LoanStatus.RETURNED:
        services.loan_return(loan=loan, by=None, condition="ok", accessories_returned={
            a.pk: a.quantity for a in loan.accessories.all()})
    else:
        services.loan_mark_lost(loan=loan, by=None, reference="RSD-9/22")
    loan.refresh_from_db()
    before = (loan.status, loan.planned_end_on, loan.events.count(), loan.history.count())
    for attempt in [
        lambda: services.loan_return(loan=loan, by=None, condition="ok"),
        lambda: services.loan_mark_lost(loan=loan, by=None, reference="X"),
        lambda: services.loan_extend(loan=loan, planned_end_on=date(2030, 1, 1), by=None),
        lambda: services.loan_record_setup_step(loan=loan, step=SetupStep.PERSONALISED, done_on=date(2020, 4, 20),
                                                by=None),
    ]:
        with pytest.raises(TransitionNotAllowed):
            attempt()
    loan.refresh_from_db()
    assert (loan.status, loan.planned_end_on, loan.events.count(), loan.history.count()) == before


def test_the_device_cannot_leave_a_loan_except_through_it(councillor, term):
    device = lend_tablet(councillor, term).items.get().device
    with pytest.raises(GuardFailed):
        asset_services.device_return_to_stock(device=device, by=None, reason="oddany")
    device.refresh_from_db()
    assert device.status == DeviceStatus.ON_LOAN


def test_a_term_that_ends_before_it_starts_is_one_message_on_the_field():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.council_term_create(by=None, council="Rada", name="x", starts_on=date(2024, 5, 1),
                                     ends_on=date(2024, 4, 1))
    assert list(refused.value.message_dict) == ["ends_on"]


def test_a_long_reason_fits_the_history_and_stays_whole_in_the_event(term, councillor):
    # PostgreSQL refused the demo's statute text as a history reason (100 characters at most).
    loan = lend_tablet(councillor, term)
    reason = "Ustawa z 26 stycznia 2022 r. przedłużyła kadencję rad gmin wybranych w 2018 r. do 30 kwietnia 2024 r."
    assert len(reason) > 100
    services.council_term_change_end(term=term, ends_on=date(2024, 4, 30), by=None, reason=reason)
    recorded = term.history.first().history_change_reason
    assert len(recorded) <= 100 and reason.startswith(recorded.rstrip("…"))
    assert loan.events.get(kind=LoanEventKind.TERM_MOVED).reason == reason
