"""Four people make the same move at the same moment: one succeeds, the others are refused cleanly.

The moves: lending the same device, validating the same wipe, completing the same transfer, confirming the
same import. Each attempt runs in its own thread with its own database connection (closed at the end), all
released together by a barrier. The outcome asserted is the same on both databases: exactly one success;
every other attempt ends in the domain's refusal (GuardFailed / TransitionNotAllowed, never a raw database
error such as IntegrityError or a deadlock); one event and one history row of the move; the state is the
winner's.

On PostgreSQL this is a real race on row locks: each service locks the row it decides on (SELECT ... FOR
UPDATE) and checks the state again under the lock, so the losers wait for the winner's commit and then see
its result. On SQLite (transaction_mode IMMEDIATE) a writing transaction takes the database lock at its
start, so the attempts run one after another; the in-memory test database (shared cache) answers "database
table is locked" at once instead of waiting, so the thread tries again, as a file database's busy timeout
would have it wait (tests/concurrency.py).
"""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from assets.choices import DeviceKind, DeviceStatus
from assets.models import Device, DeviceEvent
from core.choices import DocumentKind, ImportStatus
from core.exceptions import GuardFailed, TransitionNotAllowed
from core.imports import import_confirm, import_preview
from core.models import ImportBatch, StoredDocument
from core.roles import Role
from donations import services as donation_services
from donations.choices import TransferEventKind, TransferStatus
from donations.models import Transfer, TransferEvent
from loans.choices import LoanEventKind
from loans.models import Loan, LoanEvent, LoanItem, Recipient
from tests.concurrency import race
from tests.factories import (
    UserFactory,
    allocate,
    lend_tablet,
    make_beneficiary,
    make_councillor,
    make_device,
    make_order,
    make_project,
    make_retired,
    make_set,
    make_term,
    wipe_facts,
)
from wipe import services as wipe_services
from wipe.choices import SanitizationStatus, WipeEventKind
from wipe.models import Sanitization, WipeEvent

# Threads see only committed rows, so the tests commit; serialized_rollback restores the rows the
# migrations made (the role groups) that an earlier transactional test's flush took away.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

N = 4
REFUSALS = (GuardFailed, TransitionNotAllowed)
SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "import_samples"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Documents and import files are stored under a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


def one_winner(outcomes: list[object], model) -> tuple[int, object]:
    """The index and result of the only success; every other outcome is a clean refusal."""
    winners = [(index, outcome) for index, outcome in enumerate(outcomes) if isinstance(outcome, model)]
    refused = [outcome for outcome in outcomes if not isinstance(outcome, model)]
    assert len(winners) == 1, outcomes
    assert len(refused) == N - 1, outcomes
    assert all(isinstance(outcome, REFUSALS) for outcome in refused), [repr(outcome) for outcome in refused]
    return winners[0]


def test_the_same_device_lent_four_times_at_once_is_lent_once():
    clerk = UserFactory(roles=[Role.IT_OFFICE])
    term = make_term()
    tablet = make_device(kind=DeviceKind.TABLET, manufacturer="Samsung", model="Galaxy Tab S6 Lite")
    councillors = [make_councillor(f"Radna Numer{index}") for index in range(N)]

    def attempt(recipient_pk: int):
        def prepare():
            recipient = Recipient.objects.get(pk=recipient_pk)
            device = Device.objects.get(pk=tablet.pk)
            return lambda: lend_tablet(recipient, term=term, by=clerk, devices=[device])
        return prepare

    outcomes = race([attempt(councillor.pk) for councillor in councillors])

    index, loan = one_winner(outcomes, Loan)
    assert all(isinstance(outcome, GuardFailed) for outcome in outcomes if outcome is not loan)
    assert Loan.objects.count() == 1
    loan = Loan.objects.get()
    assert loan.recipient_id == councillors[index].pk
    assert list(LoanItem.objects.values_list("loan_id", "device_id")) == [(loan.pk, tablet.pk)]
    assert LoanEvent.objects.filter(kind=LoanEventKind.STARTED).count() == 1
    assert Loan.history.count() == 1
    tablet.refresh_from_db()
    assert tablet.status == DeviceStatus.ON_LOAN
    assert DeviceEvent.objects.filter(device=tablet, to_status=DeviceStatus.ON_LOAN).count() == 1
    assert StoredDocument.objects.filter(kind=DocumentKind.LOAN_AGREEMENT).count() == 1
    assert StoredDocument.objects.filter(kind=DocumentKind.HANDOVER_PROTOCOL).count() == 1


def test_the_same_wipe_validated_by_four_validators_at_once_is_validated_once():
    technician = UserFactory(roles=[Role.IT_OFFICE])
    validators = [UserFactory(roles=[Role.IT_OFFICE]) for _index in range(N)]
    laptop = make_retired(kinds=("hdd",))
    record = wipe_services.sanitization_record(by=technician, medium=laptop.media.get(), **wipe_facts())

    def attempt(validator):
        def prepare():
            sanitization = Sanitization.objects.get(pk=record.pk)
            return lambda: wipe_services.sanitization_validate(sanitization=sanitization, by=validator,
                                                               validator_title="informatyk")
        return prepare

    outcomes = race([attempt(validator) for validator in validators])

    index, validated = one_winner(outcomes, Sanitization)
    assert all(isinstance(outcome, TransitionNotAllowed) for outcome in outcomes if outcome is not validated)
    record.refresh_from_db()
    assert record.status == SanitizationStatus.VALIDATED
    assert record.validated_by == validators[index]
    assert WipeEvent.objects.filter(sanitization=record, kind=WipeEventKind.VALIDATED).count() == 1
    assert record.history.filter(status=SanitizationStatus.VALIDATED).count() == 1


def test_the_same_transfer_completed_four_times_at_once_is_completed_once():
    lawyer = UserFactory(roles=[Role.LEGAL_OFFICE])
    clerks = [UserFactory(roles=[Role.IT_OFFICE]) for _index in range(N)]
    project = make_project()
    household = make_beneficiary(project)
    kit = make_set(project)
    allocate(household, kit)
    order = make_order(annex_beneficiaries=[household])
    devices = list(Device.objects.filter(kit=kit))
    transfer = donation_services.transfer_create(order=order, recipient=household.recipient,
                                                 transfer_date=date(2021, 6, 21), by=clerks[0], devices=devices)
    transfer = donation_services.transfer_submit(transfer=transfer, by=clerks[0])
    transfer = donation_services.transfer_approve(transfer=transfer, by=lawyer, reason="zgodnie z zarządzeniem")

    def attempt(clerk):
        def prepare():
            fresh = Transfer.objects.get(pk=transfer.pk)
            return lambda: donation_services.transfer_complete(transfer=fresh, by=clerk)
        return prepare

    outcomes = race([attempt(clerk) for clerk in clerks])

    _index, completed = one_winner(outcomes, Transfer)
    assert all(isinstance(outcome, TransitionNotAllowed) for outcome in outcomes if outcome is not completed)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED
    protocols = StoredDocument.objects.filter(kind=DocumentKind.TRANSFER_PROTOCOL)
    assert protocols.count() == 1
    assert transfer.protocol == protocols.get()
    assert TransferEvent.objects.filter(transfer=transfer, kind=TransferEventKind.COMPLETED).count() == 1
    assert transfer.history.filter(status=TransferStatus.COMPLETED).count() == 1
    for device in devices:
        device.refresh_from_db()
        assert device.status == DeviceStatus.TRANSFERRED
        assert DeviceEvent.objects.filter(device=device, to_status=DeviceStatus.TRANSFERRED).count() == 1


def test_the_same_import_confirmed_four_times_at_once_is_applied_once():
    clerks = [UserFactory(roles=[Role.IT_OFFICE]) for _index in range(N)]
    content = (SAMPLES / "spis_utf8_przecinek.csv").read_bytes()
    batch = import_preview(table="devices", file=io.BytesIO(content), file_name="spis.csv", by=clerks[0])
    assert batch.rows_created > 0 and batch.rows_invalid == 0
    devices_before = Device.objects.count()

    def attempt(clerk):
        def prepare():
            fresh = ImportBatch.objects.get(pk=batch.pk)
            return lambda: import_confirm(batch=fresh, by=clerk, sha256=fresh.sha256)
        return prepare

    outcomes = race([attempt(clerk) for clerk in clerks])

    index, applied = one_winner(outcomes, ImportBatch)
    assert all(isinstance(outcome, TransitionNotAllowed) for outcome in outcomes if outcome is not applied)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.APPLIED
    assert batch.decided_by == clerks[index]
    created = Device.objects.count() - devices_before
    assert created == batch.rows_created
    new_devices = list(Device.objects.order_by("-pk")[:created])
    for device in new_devices:
        assert DeviceEvent.objects.filter(device=device).count() == 1
        assert device.history.count() == 1


def test_the_same_file_previewed_four_times_and_confirmed_at_once_is_applied_once():
    """Four clerks preview the same delivery list and confirm their previews at the same moment: the devices
    are registered once; the other imports are refused as the register changed under them (409), never with
    the database's duplicate-key error, and stay previews to be previewed again."""
    clerks = [UserFactory(roles=[Role.IT_OFFICE]) for _index in range(N)]
    content = (SAMPLES / "spis_utf8_przecinek.csv").read_bytes()
    batches = [import_preview(table="devices", file=io.BytesIO(content), file_name="spis.csv", by=clerk)
               for clerk in clerks]
    devices_before = Device.objects.count()

    def attempt(batch, clerk):
        def prepare():
            fresh = ImportBatch.objects.get(pk=batch.pk)
            return lambda: import_confirm(batch=fresh, by=clerk, sha256=fresh.sha256)
        return prepare

    outcomes = race([attempt(batch, clerk) for batch, clerk in zip(batches, clerks)])

    index, applied = one_winner(outcomes, ImportBatch)
    refused = [outcome for outcome in outcomes if outcome is not applied]
    assert all(isinstance(outcome, GuardFailed) and outcome.code == "register_changed" for outcome in refused)
    statuses = dict(ImportBatch.objects.values_list("pk", "status"))
    assert statuses == {batch.pk: ImportStatus.APPLIED if batch.pk == batches[index].pk else ImportStatus.PREVIEWED
                        for batch in batches}
    created = Device.objects.count() - devices_before
    assert created == batches[index].rows_created
    for device in Device.objects.order_by("-pk")[:created]:
        assert DeviceEvent.objects.filter(device=device).count() == 1
        assert device.history.count() == 1
