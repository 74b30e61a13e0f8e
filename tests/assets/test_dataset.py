"""The synthetic data set (generate_dataset) is coherent: what the services would have written, in bulk."""
from __future__ import annotations

from collections import defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assets.choices import DEVICE_TRANSITIONS, DeviceKind, DeviceStatus
from assets.dataset import document_code, orphan_events
from assets.models import Device, DeviceEvent, StorageMedium
from core.models import StoredDocument
from core.roles import Role
from donations.choices import TransferStatus
from donations.models import LiquidationItem, OrderAnnexDevice, TransferItem
from loans.choices import LoanStatus, RecipientKind
from loans.models import Loan, LoanItem, Recipient
from wipe.choices import SanitizationStatus
from wipe.models import NoMediaConfirmation, Sanitization

N = 200
WITH_MEDIUM = {DeviceKind.LAPTOP, DeviceKind.TABLET, DeviceKind.DESKTOP, DeviceKind.PHONE}
pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(db):
    call_command("generate_dataset", devices=N, yes=True, seed=7, batch_size=97, stdout=None)


def test_devices_media_and_history(generated):
    assert Device.objects.count() == N
    media = defaultdict(int)
    for device_id in StorageMedium.objects.values_list("device_id", flat=True):
        media[device_id] += 1
    for device in Device.objects.only("id", "kind"):
        assert media[device.id] == (1 if device.kind in WITH_MEDIUM else 0), device.kind
    assert Device.history.filter(history_type="+").count() == N
    assert StorageMedium.history.count() == StorageMedium.objects.count()
    # Every status appears at this size, most devices are at work or on loan.
    statuses = set(Device.objects.values_list("status", flat=True))
    assert {DeviceStatus.IN_USE, DeviceStatus.ON_LOAN, DeviceStatus.TRANSFERRED} <= statuses
    assert orphan_events() == 0


def test_every_device_walks_the_lifecycle_to_its_status(generated):
    events = defaultdict(list)
    for device_id, before, after in DeviceEvent.objects.order_by("occurred_at", "id").values_list(
            "device_id", "from_status", "to_status"):
        events[device_id].append((before, after))
    assert 5 <= DeviceEvent.objects.count() / N <= 15
    for device_id, status in Device.objects.values_list("id", "status"):
        chain = events[device_id]
        assert chain[0] == ("", DeviceStatus.IN_STOCK)
        for (_b1, previous), (before, after) in zip(chain, chain[1:]):
            assert before == previous
            assert after in DEVICE_TRANSITIONS[before], (before, after)
        assert chain[-1][1] == status


def test_loans_follow_the_devices(generated):
    on_loan = set(Device.objects.filter(status=DeviceStatus.ON_LOAN).values_list("id", flat=True))
    assert set(LoanItem.objects.filter(is_open=True).values_list("device_id", flat=True)) == on_loan
    assert Loan.objects.filter(status=LoanStatus.OPEN).count() == len(on_loan)
    assert not Loan.objects.filter(status=LoanStatus.RETURNED, ended_on__isnull=True).exists()
    lost = set(Device.objects.filter(status=DeviceStatus.LOST).values_list("id", flat=True))
    assert set(LoanItem.objects.filter(loan__status=LoanStatus.LOST).values_list("device_id", flat=True)) == lost
    councillor = Recipient.objects.filter(kind=RecipientKind.COUNCILLOR).select_related("user").first()
    assert councillor.user.groups.filter(name=Role.COUNCILLOR).exists()


def test_devices_that_left_were_wiped_and_given_away_under_an_order(generated):
    wiped_states = [DeviceStatus.SANITIZED, DeviceStatus.TRANSFERRED, DeviceStatus.SCRAPPED]
    for device in Device.objects.filter(status__in=wiped_states).prefetch_related("media"):
        media = list(device.media.all())
        if media:
            for medium in media:
                assert Sanitization.objects.filter(medium=medium, status=SanitizationStatus.VALIDATED,
                                                   fit_to_leave=True).exists()
        else:
            assert NoMediaConfirmation.objects.filter(device=device).exists()
    transferred = set(Device.objects.filter(status=DeviceStatus.TRANSFERRED).values_list("id", flat=True))
    items = TransferItem.objects.filter(transfer__status=TransferStatus.COMPLETED)
    assert set(items.values_list("device_id", flat=True)) == transferred
    annexed = set(OrderAnnexDevice.objects.filter(order__transfers__items__device_id__in=transferred)
                  .values_list("device_id", flat=True))
    assert transferred <= annexed
    scrapped = set(Device.objects.filter(status=DeviceStatus.SCRAPPED).values_list("id", flat=True))
    assert set(LiquidationItem.objects.values_list("device_id", flat=True)) == scrapped


def test_the_api_and_verify_work_on_it(generated, it_user, api, client):
    answer = api(it_user).get("/api/devices/", {"status": DeviceStatus.ON_LOAN})
    assert answer.status_code == 200
    assert answer.json()["count"] == Device.objects.filter(status=DeviceStatus.ON_LOAN).count()
    document = StoredDocument.objects.order_by("id").first()
    page = client.get(f"/verify/{document.code}/")
    assert page.status_code == 200
    assert document.title in page.content.decode()
    assert StoredDocument.objects.values("code").distinct().count() == StoredDocument.objects.count()


def test_services_continue_after_the_generated_ids(generated, it_user):
    from assets import services
    from tests.factories import valid_nip

    supplier = services.supplier_create(by=it_user, name="Nowy dostawca", nip=valid_nip(99), address="ul. Nowa 1")
    assert supplier.pk > 1


def test_refuses_a_register_that_holds_devices_and_runs_with_debug_off_only_when_told(generated):
    with pytest.raises(CommandError, match="--append"):
        call_command("generate_dataset", devices=5, yes=True)
    with pytest.raises(CommandError, match="--yes"):
        call_command("generate_dataset", devices=5, append=True)
    call_command("generate_dataset", devices=5, yes=True, append=True, seed=8, stdout=None)
    assert Device.objects.count() == N + 5


def test_document_codes_are_distinct_and_in_the_stored_form():
    codes = {document_code(n) for n in range(1, 20_001)}
    assert len(codes) == 20_000
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
