"""The register in the admin: pages work, saves and lifecycle actions go through the services."""
from datetime import date

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages

from assets.choices import DeviceStatus
from assets.models import Device, DeviceEvent
from core.roles import Role
from tests.factories import make_contract, make_device, make_medium

pytestmark = pytest.mark.django_db


@pytest.fixture
def it_client(client, it_user):
    client.force_login(it_user)
    return client


@pytest.mark.parametrize("model", ["supplier", "contract", "device", "kit", "storagemedium", "deviceevent"])
def test_every_register_page_lists_and_searches(it_client, model):
    device = make_device(contract=make_contract())
    make_medium(device=device)
    assert it_client.get(f"/admin/assets/{model}/").status_code == 200
    assert it_client.get(f"/admin/assets/{model}/", {"q": "UM"}).status_code == 200


def test_device_history_page(it_client):
    device = make_device()
    response = it_client.get(f"/admin/assets/device/{device.pk}/history/")
    assert response.status_code == 200


def test_adding_a_device_in_the_admin_registers_it_through_the_service(it_client, it_user):
    response = it_client.post("/admin/assets/device/add/", {
        "inventory_number": "UML/2012/LAP/007", "kind": "laptop", "manufacturer": "HP", "model": "ProBook 6560b",
        "serial_number": "CNU1234XYZ", "purchase_date": "15.03.2012", "purchase_price": "2890,00",
        "expected_life_years": "10", "managed_by": "it_office", "location": "Wydział Finansowy",
        "media-TOTAL_FORMS": "1", "media-INITIAL_FORMS": "0", "media-MIN_NUM_FORMS": "0",
        "media-MAX_NUM_FORMS": "1000", "media-0-kind": "hdd", "media-0-serial_number": "WD-WCC2E1234567",
        "media-0-capacity_gb": "320", "media-0-may_hold_personal_data": "on",
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0", "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "0",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    device = Device.objects.get(inventory_number="UML/2012/LAP/007")
    assert device.purchase_date == date(2012, 3, 15)
    assert device.events.get().actor == it_user
    assert device.history.get().history_user == it_user
    assert device.media.get().serial_number == "WD-WCC2E1234567"


def test_bad_input_in_the_admin_is_a_message_on_the_field(it_client):
    make_device(manufacturer="HP", serial_number="CNU1")
    response = it_client.post("/admin/assets/device/add/", {
        "inventory_number": "X/1", "kind": "laptop", "manufacturer": "hp", "model": "ProBook",
        "serial_number": "cnu1", "purchase_date": "01.01.2099", "purchase_price": "-5",
        "expected_life_years": "10", "managed_by": "it_office",
        "media-TOTAL_FORMS": "0", "media-INITIAL_FORMS": "0", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"serial_number", "purchase_date", "purchase_price"} <= set(errors)
    assert not Device.objects.filter(inventory_number="X/1").exists()


def _action(client, action, devices, **form):
    data = {"action": action, ACTION_CHECKBOX_NAME: [d.pk for d in devices], **form}
    return client.post("/admin/assets/device/", data, follow=True)


def test_retire_action_asks_why_then_calls_the_service(it_client, it_user):
    old, young = make_device(purchase_date=date(2010, 1, 4)), make_device(purchase_date=date(2024, 1, 4))
    page = _action(it_client, "move_retire", [old, young])
    assert page.status_code == 200 and "retirement_reason" in page.content.decode()
    done = _action(it_client, "move_retire", [old, young], apply="1", retirement_reason="end_of_life")
    messages = [str(m) for m in get_messages(done.wsgi_request)]
    old.refresh_from_db()
    young.refresh_from_db()
    assert old.status == DeviceStatus.RETIRED and old.events.latest("id").actor == it_user
    assert young.status == DeviceStatus.IN_STOCK
    assert len(messages) == 2  # one refusal with its reason, one success count


def test_lost_action_needs_a_reference(it_client):
    device = make_device()
    page = _action(it_client, "move_report_lost", [device], apply="1", reference="")
    assert page.status_code == 200
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK


def test_issue_card_action(it_client):
    device = make_device()
    done = _action(it_client, "issue_record_card", [device])
    assert done.status_code == 200
    from core.models import StoredDocument

    document = StoredDocument.objects.get(subject_id=device.pk)
    assert any(document.code in str(m) for m in get_messages(done.wsgi_request))


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.LEGAL_OFFICE, Role.PROJECT_MANAGER])
def test_read_only_roles_see_but_cannot_change_or_move(client, make_user, role):
    client.force_login(make_user(role))
    device = make_device()
    assert client.get("/admin/assets/device/").status_code == 200
    assert client.get("/admin/assets/device/add/").status_code == 403
    page = client.get(f"/admin/assets/device/{device.pk}/change/")
    assert page.status_code == 200 and 'name="inventory_number"' not in page.content.decode()
    _action(client, "move_send_to_repair", [device], apply="1", reason="x")
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK
    assert DeviceEvent.objects.filter(device=device).count() == 1


def test_councillor_has_no_admin(client, make_user):
    client.force_login(make_user(Role.COUNCILLOR, is_staff=False))
    assert client.get("/admin/assets/device/").status_code == 302


def test_kit_admin_offers_free_devices_and_saves_through_the_service(it_client, it_user):
    from assets import services
    from assets.models import Kit

    pc, monitor, taken = make_device(kind="desktop"), make_device(kind="monitor"), make_device()
    services.kit_create(code="OTHER", name="inny", devices=[taken], by=None)
    page = it_client.get("/admin/assets/kit/add/")
    offered = set(page.context["adminform"].form.fields["devices"].queryset)
    assert {pc, monitor} <= offered and taken not in offered
    response = it_client.post("/admin/assets/kit/add/", {"code": "EI/SZK/01/01", "name": "Stanowisko 1",
                                                         "devices": [pc.pk, monitor.pk]})
    assert response.status_code == 302
    kit = Kit.objects.get(code="EI/SZK/01/01")
    assert set(kit.devices.all()) == {pc, monitor}
    assert pc.history.latest("history_id").history_user == it_user


def test_a_service_refusal_on_save_is_a_message_and_changes_nothing(it_client):
    device = make_device()
    medium = make_medium(device=device, capacity_gb=256)
    Device.objects.filter(pk=device.pk).update(status=DeviceStatus.TRANSFERRED)
    response = it_client.post(f"/admin/assets/storagemedium/{medium.pk}/change/", {
        "device": device.pk, "kind": "ssd", "serial_number": medium.serial_number, "capacity_gb": "512",
        "may_hold_personal_data": "on",
    }, follow=True)
    assert response.status_code == 200
    assert any("zdjęte z ewidencji" in str(m) for m in response.context["messages"])
    medium.refresh_from_db()
    assert medium.capacity_gb == 256
