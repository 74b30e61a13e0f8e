"""Fault reports: reporting, the transition table, repair through the device lifecycle, replacement, e-mail."""
import itertools

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from assets.choices import DeviceStatus
from assets.models import Device, DeviceEvent
from core.exceptions import GuardFailed, InvalidInput, TransitionNotAllowed
from core.models import StoredDocument
from faults import services
from faults.choices import FAULT_TRANSITIONS, FaultCategory, FaultStatus
from faults.models import FaultEvent, FaultReply, FaultReport
from loans.choices import LoanStatus
from loans.models import Loan
from tests.factories import UserFactory, lend_tablet, make_councillor, make_device, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(db):
    """A councillor holding a tablet: (recipient, loan, device)."""
    recipient = make_councillor()
    loan = lend_tablet(recipient)
    return recipient, loan, loan.items.get().device


def report(recipient, device, **overrides):
    data = {"by": recipient.user, "device": device, "category": FaultCategory.HARDWARE,
            "description": "Ekran nie reaguje na dotyk po aktualizacji.", "contact": "tel. 600 100 200, po 16:00"}
    data.update(overrides)
    return services.fault_report(**data)


def test_a_holder_reports_a_fault_and_the_it_office_is_told(held, django_capture_on_commit_callbacks):
    recipient, loan, device = held
    photo = SimpleUploadedFile("ekran.png", png_bytes(), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        fault = report(recipient, device, photo=photo)
    assert (fault.status, fault.loan, fault.reporter) == (FaultStatus.NEW, loan, recipient.user)
    assert fault.photo.name.startswith("faults/")
    event = fault.events.get()
    assert (event.from_status, event.to_status, event.actor) == ("", FaultStatus.NEW, recipient.user)
    assert fault.history.first().history_user == recipient.user
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["it@testserver"] and device.inventory_number in mail.outbox[0].subject
    assert "600 100 200" in mail.outbox[0].body


@pytest.mark.parametrize(("change", "field"), [
    ({"description": "  "}, "description"),
    ({"contact": ""}, "contact"),
    ({"category": "weather"}, "category"),
    ({"photo": SimpleUploadedFile("ekran.png", b"not an image at all", content_type="image/png")}, "photo"),
    ({"photo": SimpleUploadedFile("ekran.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif")},
     "photo"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(held, change, field):
    recipient, _loan, device = held
    with pytest.raises(InvalidInput) as refused:
        report(recipient, device, **change)
    assert refused.value.field == field
    assert not FaultReport.objects.exists() and not FaultEvent.objects.exists() and not mail.outbox


@override_settings(MAX_PHOTO_SIZE=1024)
def test_a_photo_over_the_limit_is_refused(held):
    recipient, _loan, device = held
    big = SimpleUploadedFile("duze.png", png_bytes((600, 600)), content_type="image/png")
    assert big.size > 1024
    with pytest.raises(InvalidInput) as refused:
        report(recipient, device, photo=big)
    assert refused.value.field == "photo"
    assert "1,0" in refused.value.message or "1.0" in refused.value.message  # the limit, 1 KB, is named
    assert not FaultReport.objects.exists()


def test_nobody_reports_on_a_device_they_do_not_hold(held):
    recipient, _loan, device = held
    other = make_councillor("Jan Inny")
    lend_tablet(other)
    in_stock = make_device()
    for who, what in [(other, device), (recipient, in_stock)]:
        with pytest.raises(InvalidInput) as refused:
            report(who, what)
        assert refused.value.field == "device"
    assert not FaultReport.objects.exists()


def _run(target, fault, it_user):
    if target == FaultStatus.ACKNOWLEDGED:
        return services.fault_acknowledge(fault=fault, by=it_user)
    if target == FaultStatus.IN_PROGRESS:
        return services.fault_start_work(fault=fault, by=it_user)
    if target == FaultStatus.RESOLVED:
        return services.fault_resolve(fault=fault, by=it_user, reply="Zaktualizowano oprogramowanie.")
    if target == FaultStatus.REJECTED:
        return services.fault_reject(fault=fault, by=it_user, reply="To nie usterka.")
    return services.fault_replace(fault=fault, by=it_user, replacement=make_device(kind="tablet"))


TARGETS = [s for s in FaultStatus.values if s != FaultStatus.NEW]  # nothing moves a fault back to new


@pytest.mark.parametrize(("source", "target"), list(itertools.product(FaultStatus.values, TARGETS)))
def test_every_pair_of_the_fault_table(held, it_user, source, target):
    recipient, _loan, device = held
    fault = report(recipient, device)
    FaultReport.objects.filter(pk=fault.pk).update(status=source)  # test set-up: start from `source`
    fault.refresh_from_db()
    events, replies, history = fault.events.count(), fault.replies.count(), fault.history.count()
    if target in FAULT_TRANSITIONS[source]:
        moved = _run(target, fault, it_user)
        assert moved.status == target
        last = moved.events.last()
        assert (last.from_status, last.to_status, last.actor) == (source, target, it_user)
        assert moved.history.first().history_user == it_user
    else:
        with pytest.raises(TransitionNotAllowed):
            _run(target, fault, it_user)
        fault.refresh_from_db()
        assert fault.status == source
        assert (fault.events.count(), fault.replies.count(), fault.history.count()) == (events, replies, history)


def test_repair_goes_through_the_device_lifecycle_and_the_reporter_hears_of_each_step(
        held, it_user, django_capture_on_commit_callbacks):
    recipient, loan, device = held
    fault = report(recipient, device)
    with django_capture_on_commit_callbacks(execute=True):
        services.fault_acknowledge(fault=fault, by=it_user, reply="Przyjęte, oddzwonimy.")
        services.fault_start_work(fault=fault, by=it_user, take_into_repair=True)
        device.refresh_from_db()
        assert device.status == DeviceStatus.IN_REPAIR
        assert loan.items.get().is_open  # the councillor still holds the loan while the tablet is repaired
        services.fault_resolve(fault=fault, by=it_user, reply="Wymieniono digitizer, tablet do odbioru.")
    device.refresh_from_db()
    assert device.status == DeviceStatus.ON_LOAN
    moves = list(DeviceEvent.objects.filter(device=device).order_by("occurred_at", "id").values_list("from_status", "to_status"))
    assert moves[-2:] == [(DeviceStatus.ON_LOAN, DeviceStatus.IN_REPAIR), (DeviceStatus.IN_REPAIR, DeviceStatus.ON_LOAN)]
    to_reporter = [m for m in mail.outbox if m.to == [recipient.user.email]]
    assert len(to_reporter) == 3
    assert "digitizer" in to_reporter[-1].body and f"/my/faults/{fault.pk}/" in to_reporter[-1].body
    assert list(fault.replies.values_list("body", flat=True)) == [
        "Przyjęte, oddzwonimy.", "Wymieniono digitizer, tablet do odbioru."]


def test_resolving_or_rejecting_needs_a_message_for_the_reporter(held, it_user):
    recipient, _loan, device = held
    fault = services.fault_acknowledge(fault=report(recipient, device), by=it_user)
    for service in (services.fault_resolve, services.fault_reject):
        with pytest.raises(InvalidInput) as refused:
            service(fault=fault, by=it_user, reply=" ")
        assert refused.value.field == "reply"
    fault.refresh_from_db()
    assert fault.status == FaultStatus.ACKNOWLEDGED and fault.events.count() == 2


def test_replacement_in_one_step_closes_one_loan_opens_another_and_issues_both_protocols(held, it_user):
    recipient, loan, device = held
    fault = services.fault_acknowledge(fault=report(recipient, device), by=it_user)
    spare = make_device(kind="tablet", manufacturer="Samsung", model="Galaxy Tab S6 Lite")
    fault = services.fault_replace(fault=fault, by=it_user, replacement=spare)
    assert fault.status == FaultStatus.REPLACED and fault.replacement == spare
    loan.refresh_from_db()
    assert loan.status == LoanStatus.RETURNED
    new_loan = fault.replacement_loan
    assert (new_loan.status, new_loan.recipient, new_loan.planned_end_on) == (
        LoanStatus.OPEN, recipient, loan.planned_end_on)
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_REPAIR
    assert Device.objects.get(pk=spare.pk).status == DeviceStatus.ON_LOAN
    kinds_old = set(StoredDocument.objects.filter(subject_id=loan.pk, subject_type__model="loan")
                    .values_list("kind", flat=True))
    kinds_new = set(StoredDocument.objects.filter(subject_id=new_loan.pk, subject_type__model="loan")
                    .values_list("kind", flat=True))
    assert "return_protocol" in kinds_old
    assert {"loan_agreement", "handover_protocol"} <= kinds_new
    assert spare.inventory_number in fault.replies.last().body


def test_a_refused_replacement_changes_nothing(held, it_user):
    recipient, loan, device = held
    fault = services.fault_acknowledge(fault=report(recipient, device), by=it_user)
    busy = make_device(kind="tablet")
    lend_tablet(make_councillor("Jan Inny"), devices=[busy])
    counts = (Loan.objects.count(), StoredDocument.objects.count(), DeviceEvent.objects.count(),
              FaultEvent.objects.count())
    with pytest.raises(GuardFailed) as refused:
        services.fault_replace(fault=fault, by=it_user, replacement=busy)
    assert refused.value.field == "replacement"
    fault.refresh_from_db()
    assert fault.status == FaultStatus.ACKNOWLEDGED
    assert (Loan.objects.count(), StoredDocument.objects.count(), DeviceEvent.objects.count(),
            FaultEvent.objects.count()) == counts


def test_messages_go_both_ways_and_only_between_reporter_and_office(held, it_user,
                                                                     django_capture_on_commit_callbacks):
    recipient, _loan, device = held
    fault = report(recipient, device)
    with django_capture_on_commit_callbacks(execute=True):
        services.fault_reply(fault=fault, by=recipient.user, body="Dodam, że bateria też szybko się rozładowuje.")
        services.fault_reply(fault=fault, by=it_user, body="Dziękujemy, sprawdzimy baterię.")
    assert [m.to for m in mail.outbox[-2:]] == [["it@testserver"], [recipient.user.email]]
    assert list(fault.replies.values_list("from_office", flat=True)) == [False, True]
    stranger = UserFactory(is_staff=False)
    with pytest.raises(GuardFailed):
        services.fault_reply(fault=fault, by=stranger, body="?")
    assert FaultReply.objects.count() == 2


def test_a_reply_needs_a_signing_person(held):
    recipient, _loan, device = held
    fault = report(recipient, device)
    with pytest.raises(InvalidInput) as refused:
        services.fault_acknowledge(fault=fault, by=None, reply="Przyjęte.")
    assert refused.value.field == "reply"
    fault.refresh_from_db()
    assert (fault.status, fault.replies.count(), fault.events.count()) == ("new", 0, 1)
