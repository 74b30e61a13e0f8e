"""The device lifecycle: the transition table, each move's guards, and refusals that change nothing."""
from datetime import date
from itertools import product

import pytest

from assets import services
from assets.choices import DEVICE_TRANSITIONS, DeviceStatus, RetirementReason
from assets.models import Device, DeviceEvent
from core.exceptions import DomainError, GuardFailed, InvalidInput, TransitionNotAllowed
from tests.factories import make_device

pytestmark = pytest.mark.django_db

ALL_PAIRS = list(product(DeviceStatus.values, DeviceStatus.values))


def device_in(status: str, **overrides) -> Device:
    """A registered device placed in `status` (test set-up: the state a past move would have left)."""
    device = make_device(**overrides)
    Device.objects.filter(pk=device.pk).update(status=status)
    device.refresh_from_db()
    return device


def snapshot(device: Device) -> tuple:
    device = Device.objects.get(pk=device.pk)
    row = tuple(getattr(device, f.attname) for f in Device._meta.concrete_fields)
    return row, DeviceEvent.objects.filter(device=device).count(), device.history.count()


@pytest.mark.parametrize(("from_status", "to_status"), ALL_PAIRS)
def test_every_pair_of_the_table(from_status, to_status, it_user):
    device = device_in(from_status)
    before = snapshot(device)
    if to_status in DEVICE_TRANSITIONS[from_status]:
        services.device_transition(device=device, to_status=to_status, by=it_user, reason="test")
        device.refresh_from_db()
        assert device.status == to_status
        event = device.events.order_by("-id").first()
        assert (event.from_status, event.to_status, event.actor) == (from_status, to_status, it_user)
        latest = device.history.order_by("-history_id").first()
        assert latest.status == to_status and latest.history_user == it_user
    else:
        with pytest.raises(TransitionNotAllowed):
            services.device_transition(device=device, to_status=to_status, by=it_user, reason="test")
        assert snapshot(device) == before


def _valid_payload(move: str) -> dict:
    return {
        "put-in-use": {"reason": "stanowisko w Biurze Rady", "location": "pokój 12"},
        "return-to-stock": {"reason": "znaleziony w sali obrad"},
        "send-to-repair": {"reason": "pęknięty ekran"},
        "retire": {"retirement_reason": RetirementReason.OBSOLETE},
        "report-lost": {"reference": "KMP Kielce RSD-123/20"},
    }[move]


@pytest.mark.parametrize(("move", "from_status"), list(product(services.DEVICE_MOVES, DeviceStatus.values)))
def test_each_move_service_follows_the_table(move, from_status, it_user):
    target, service = services.DEVICE_MOVES[move]
    device = device_in(from_status)
    before = snapshot(device)
    allowed = target in DEVICE_TRANSITIONS[from_status]
    # The one guard that refuses a move the table allows: a loan ends through the loan's return.
    guarded = move == "return-to-stock" and from_status == DeviceStatus.ON_LOAN
    if allowed and not guarded:
        service(device=device, by=it_user, **_valid_payload(move))
        device.refresh_from_db()
        assert device.status == target
        assert device.events.filter(from_status=from_status, to_status=target).count() == 1
    else:
        with pytest.raises(TransitionNotAllowed if not allowed else GuardFailed):
            service(device=device, by=it_user, **_valid_payload(move))
        assert snapshot(device) == before


def test_a_refused_move_leaves_device_events_and_history_unchanged(it_user):
    young = make_device(purchase_date=date(2023, 1, 10), by=it_user)
    scrapped = device_in(DeviceStatus.SCRAPPED)
    for device, attempt in [
        (young, lambda d: services.device_retire(device=d, by=it_user, retirement_reason=RetirementReason.END_OF_LIFE)),
        (young, lambda d: services.device_report_lost(device=d, by=it_user, reference="  ")),
        (scrapped, lambda d: services.device_put_in_use(device=d, by=it_user, location="pokój 5")),
    ]:
        before = snapshot(device)
        with pytest.raises(DomainError):
            attempt(device)
        assert snapshot(device) == before
        # The caller's object is not left half-moved either.
        assert device.status == Device.objects.get(pk=device.pk).status


def test_retiring_past_expected_life_needs_the_age(it_user):
    old = make_device(purchase_date=date(2011, 3, 1))
    services.device_retire(device=old, by=it_user, retirement_reason=RetirementReason.END_OF_LIFE)
    old.refresh_from_db()
    assert (old.status, old.retirement_reason) == (DeviceStatus.RETIRED, RetirementReason.END_OF_LIFE)
    assert old.events.latest("id").reason == str(RetirementReason.END_OF_LIFE.label)

    young = make_device(purchase_date=date(2022, 3, 1), expected_life_years=10)
    with pytest.raises(GuardFailed) as refused:
        services.device_retire(device=young, by=it_user, retirement_reason=RetirementReason.END_OF_LIFE)
    assert refused.value.field == "retirement_reason"


def test_retiring_damaged_needs_a_description(it_user):
    device = make_device()
    with pytest.raises(InvalidInput) as refused:
        services.device_retire(device=device, by=it_user, retirement_reason=RetirementReason.DAMAGED, reason="")
    assert refused.value.field == "reason"
    services.device_retire(device=device, by=it_user, retirement_reason=RetirementReason.DAMAGED,
                           reason="zalany płytą główną")
    assert device.events.latest("id").reason == "zalany płytą główną"


def test_unknown_retirement_reason_is_refused(it_user):
    device = make_device()
    with pytest.raises(InvalidInput) as refused:
        services.device_retire(device=device, by=it_user, retirement_reason="bored")
    assert refused.value.field == "retirement_reason"


def test_lost_needs_a_reference_and_found_needs_a_reason(it_user):
    device = make_device()
    with pytest.raises(InvalidInput) as refused:
        services.device_report_lost(device=device, by=it_user, reference="")
    assert refused.value.field == "reference"
    services.device_report_lost(device=device, by=it_user, reference="RSD-77/2024", reason="kradzież z auta")
    assert device.events.latest("id").reference == "RSD-77/2024"
    with pytest.raises(InvalidInput):
        services.device_return_to_stock(device=device, by=it_user, reason="")
    services.device_return_to_stock(device=device, by=it_user, reason="odzyskany przez policję")
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK


def test_repair_needs_the_fault(it_user):
    with pytest.raises(InvalidInput) as refused:
        services.device_send_to_repair(device=make_device(), by=it_user, reason=" ")
    assert refused.value.field == "reason"


def test_put_in_use_moves_the_device_and_records_the_new_location(it_user):
    device = make_device(location="magazyn")
    services.device_put_in_use(device=device, by=it_user, location="Biuro Rady Miasta")
    device.refresh_from_db()
    assert (device.status, device.location) == (DeviceStatus.IN_USE, "Biuro Rady Miasta")
    assert device.history.latest("history_id").location == "Biuro Rady Miasta"


def test_registration_writes_the_first_event_and_history_with_the_actor(it_user):
    device = make_device(by=it_user)
    event = device.events.get()
    assert (event.from_status, event.to_status, event.actor) == ("", DeviceStatus.IN_STOCK, it_user)
    assert device.history.get().history_user == it_user


def test_allowed_transitions_come_from_the_table():
    device = device_in(DeviceStatus.RETIRED)
    assert set(device.allowed_transitions) == DEVICE_TRANSITIONS[DeviceStatus.RETIRED]
    assert device_in(DeviceStatus.SCRAPPED).allowed_transitions == []
