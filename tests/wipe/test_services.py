"""Wipe services beyond the API journey: the gate after a correction, events and history with the actor."""
import pytest
from django.core.exceptions import ValidationError

from assets.choices import DeviceStatus
from core.exceptions import GuardFailed, InvalidInput
from tests.factories import UserFactory, make_retired, wipe_facts
from wipe import services
from wipe.models import Sanitization, WipeEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return UserFactory(), UserFactory()


def test_a_correction_that_makes_a_wipe_unfit_closes_the_gate_again(people):
    """Regression: the superseded record keeps its fitness; the gate must look at the current record."""
    technician, validator = people
    laptop = make_retired(kinds=("hdd",))
    record = services.sanitization_record(by=technician, medium=laptop.media.get(), **wipe_facts())
    services.sanitization_validate(sanitization=record, by=validator)
    assert services.gate_refusal(laptop) is None
    correction = services.sanitization_correct(sanitization=record, by=technician, method_class="clear",
                                               destination="internal_reuse", correction_reason="tylko Clear")
    services.sanitization_validate(sanitization=correction, by=validator)
    record.refresh_from_db()
    assert record.status == "superseded"
    refusal = services.gate_refusal(laptop)
    assert refusal is not None and laptop.media.get().serial_number in refusal.message
    with pytest.raises(GuardFailed):
        services.device_sanitize(device=laptop, by=validator)
    laptop.refresh_from_db()
    assert laptop.status == DeviceStatus.RETIRED


def test_every_step_writes_its_event_with_the_actor_and_a_history_row(people):
    technician, validator = people
    laptop = make_retired(kinds=("hdd", "ssd"))
    hdd, ssd = laptop.media.order_by("id")
    record = services.sanitization_record(by=technician, medium=hdd, **wipe_facts())
    services.sanitization_update(sanitization=record, by=technician, notes="dysk z działu kadr")
    services.sanitization_validate(sanitization=record, by=validator)
    removal = services.disk_remove(medium=ssd, by=technician, kept_at="sejf", held_by="Jan Kowalski")
    services.custody_record(removal=removal, by=validator, kept_at="magazyn", handed_to="Anna Nowak")
    services.device_sanitize(device=laptop, by=validator)
    events = list(WipeEvent.objects.order_by("id").values_list("kind", "actor", "from_status", "to_status"))
    assert events == [
        ("recorded", technician.pk, "", "recorded"),
        ("edited", technician.pk, "recorded", "recorded"),
        ("validated", validator.pk, "recorded", "validated"),
        ("removed", technician.pk, "", "held"),
        ("custody", validator.pk, "held", "held"),
    ]
    assert [h.history_user for h in record.history.order_by("history_id")] == [technician, technician, validator]
    assert laptop.events.first().actor == validator
    ssd.refresh_from_db()
    assert ssd.history.first().history_user == technician and ssd.removed_at is not None


def test_the_system_cannot_wipe_or_validate_anonymously(people):
    technician, _validator = people
    laptop = make_retired(kinds=("hdd",))
    with pytest.raises(InvalidInput):
        services.sanitization_record(by=None, medium=laptop.media.get(), **wipe_facts())
    record = services.sanitization_record(by=technician, medium=laptop.media.get(), **wipe_facts())
    with pytest.raises(InvalidInput):
        services.sanitization_validate(sanitization=record, by=None)
    assert Sanitization.objects.get().status == "recorded"


def test_a_refused_record_names_every_field_at_fault(people):
    technician, _validator = people
    laptop = make_retired(kinds=("ssd",))
    with pytest.raises(ValidationError) as refused:
        services.sanitization_record(by=technician, medium=laptop.media.get(),
                                     **wipe_facts(verification="none", verification_result=""))
    assert set(refused.value.message_dict) == {"method_class", "verification"}
    assert not Sanitization.objects.exists()


def test_whoever_recorded_or_edited_a_wipe_may_not_validate_it(people):
    technician, colleague = people
    third = UserFactory()
    laptop = make_retired(kinds=("hdd",))
    record = services.sanitization_record(by=technician, medium=laptop.media.get(), **wipe_facts())
    services.sanitization_update(sanitization=record, by=colleague, overwrite_passes=3)
    with pytest.raises(GuardFailed) as refused:
        services.sanitization_validate(sanitization=record, by=colleague)
    assert refused.value.field == "validated_by"
    services.sanitization_validate(sanitization=record, by=third)
    # A correction recorded by the earlier validator is validated by someone else again.
    correction = services.sanitization_correct(sanitization=record, by=third, pattern="jedynki",
                                               correction_reason="wzorzec")
    with pytest.raises(GuardFailed):
        services.sanitization_validate(sanitization=correction, by=third)
    services.sanitization_validate(sanitization=correction, by=colleague)


def test_a_failed_wipe_is_an_event_of_its_own_and_a_session_has_one_second_attempt(people):
    technician, validator = people
    laptop = make_retired(kinds=("hdd",))
    session = services.session_open(by=technician, devices=[laptop], location="pok. 12", tool="nwipe")
    services.session_record_result(session=session, by=technician, medium=laptop.media.get(), passed=False,
                                   failure_reason="przerwane")
    failed = WipeEvent.objects.get(kind="failed")
    assert (failed.session, failed.device, failed.actor) == (session, laptop, technician)
    services.session_close(session=session, by=validator)
    retry = services.session_retry(session=session, by=technician)
    assert retry.reference != session.reference
    with pytest.raises(GuardFailed):
        services.session_retry(session=session, by=technician)
