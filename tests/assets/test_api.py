"""The register through the API: input checks, moves, permissions and list costs."""
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets import services
from assets.choices import DeviceStatus
from assets.models import Contract, Device, DeviceEvent, Supplier
from core.roles import Role
from tests.factories import make_contract, make_device, make_medium, make_supplier, valid_nip

pytestmark = pytest.mark.django_db


def device_payload(**overrides) -> dict:
    data = {
        "inventory_number": "UMK/2020/TAB/001",
        "kind": "tablet",
        "manufacturer": "Samsung",
        "model": "Galaxy Tab S6 Lite",
        "serial_number": "R52N1234",
        "purchase_date": "2020-04-15",
        "purchase_price": "1899.00",
    }
    data.update(overrides)
    return data


def test_it_office_registers_a_device_and_sees_its_moves(api, it_user):
    client = api(it_user)
    created = client.post("/api/devices/", device_payload(), format="json")
    assert created.status_code == 201, created.data
    assert created.data["status"] == DeviceStatus.IN_STOCK
    moves = {m["action"] for m in created.data["allowed_moves"]}
    assert moves == {"put-in-use", "send-to-repair", "retire", "report-lost"}
    device = Device.objects.get(inventory_number="UMK/2020/TAB/001")
    assert device.events.get().actor == it_user


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kind": "toaster"}, "kind"),
    ({"purchase_price": "-10.00"}, "purchase_price"),
    ({"purchase_date": (date.today() + timedelta(days=1)).isoformat()}, "purchase_date"),
    ({"purchase_date": "31.02.2020"}, "purchase_date"),
    ({"expected_life_years": 0}, "expected_life_years"),
    ({"managed_by": "vendor"}, "managing_vendor"),
])
def test_bad_device_input_is_a_400_naming_the_field(api, it_user, overrides, field):
    response = api(it_user).post("/api/devices/", device_payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.data
    assert not Device.objects.exists() and not DeviceEvent.objects.exists()


def test_duplicate_inventory_and_serial_numbers_are_400(api, it_user):
    client = api(it_user)
    assert client.post("/api/devices/", device_payload(), format="json").status_code == 201
    again = client.post("/api/devices/", device_payload(serial_number="OTHER"), format="json")
    assert again.status_code == 400 and "inventory_number" in again.data
    same_serial = client.post("/api/devices/", device_payload(inventory_number="X/2", manufacturer="SAMSUNG"),
                              format="json")
    assert same_serial.status_code == 400 and "serial_number" in same_serial.data
    assert Device.objects.count() == 1


def test_supplier_nip_is_validated(api, it_user):
    client = api(it_user)
    bad = client.post("/api/suppliers/", {"name": "Infover S.A.", "nip": "1234567890", "address": "Kielce"},
                      format="json")
    assert bad.status_code == 400 and "nip" in bad.data
    nip = valid_nip(7)
    good = client.post("/api/suppliers/", {"name": "Infover S.A.", "nip": f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}",
                                           "address": "ul. Zagnańska 61, 25-528 Kielce"}, format="json")
    assert good.status_code == 201 and good.data["nip"] == nip
    assert Supplier.objects.count() == 1


def test_contract_scan_must_be_a_pdf(api, it_user):
    client = api(it_user)
    supplier = make_supplier()
    payload = {"number": "BRM.271.1.2020", "signed_on": "2020-04-10", "supplier": supplier.pk, "value": "99000.00",
               "funding_source": "mayors_reserve", "procurement_basis": "art. 6 ustawy z 2 marca 2020 (COVID-19)"}
    fake = SimpleUploadedFile("umowa.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    refused = client.post("/api/contracts/", {**payload, "scan": fake}, format="multipart")
    assert refused.status_code == 400 and "scan" in refused.data
    assert not Contract.objects.exists()
    scan = SimpleUploadedFile("umowa.pdf", b"%PDF-1.4\n%skan\n%%EOF\n", content_type="application/pdf")
    accepted = client.post("/api/contracts/", {**payload, "scan": scan}, format="multipart")
    assert accepted.status_code == 201, accepted.data
    assert Contract.objects.get().scan.read().startswith(b"%PDF-")
    negative = client.post("/api/contracts/", {**payload, "number": "2", "value": "-1"}, format="multipart")
    assert negative.status_code == 400 and "value" in negative.data


def test_moves_through_the_api(api, it_user):
    client = api(it_user)
    device = make_device(purchase_date=date(2011, 5, 1))
    repair = client.post(f"/api/devices/{device.pk}/send-to-repair/", {"reason": "nie ładuje się"}, format="json")
    assert repair.status_code == 200 and repair.data["status"] == DeviceStatus.IN_REPAIR
    missing = client.post(f"/api/devices/{device.pk}/report-lost/", {}, format="json")
    assert missing.status_code == 400 and "reference" in missing.data
    retired = client.post(f"/api/devices/{device.pk}/retire/", {"retirement_reason": "end_of_life"}, format="json")
    assert retired.status_code == 200 and retired.data["retirement_reason"] == "end_of_life"
    refused = client.post(f"/api/devices/{device.pk}/put-in-use/", {}, format="json")
    assert refused.status_code == 409
    assert refused.data["code"] == "transition_not_allowed" and refused.data["detail"]
    device.refresh_from_db()
    assert device.status == DeviceStatus.RETIRED
    events = client.get("/api/device-events/", {"device_id": device.pk})
    assert [e["to_status"] for e in events.data["results"]] == ["retired", "in_repair", "in_stock"]


def test_a_guard_refusal_is_a_409_with_the_reason(api, it_user):
    device = make_device(purchase_date=date(2024, 1, 1))
    response = api(it_user).post(f"/api/devices/{device.pk}/retire/", {"retirement_reason": "end_of_life"},
                                 format="json")
    assert response.status_code == 409 and "retirement_reason" in response.data
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_STOCK


def test_status_is_read_only_in_the_api(api, it_user):
    device = make_device()
    response = api(it_user).patch(f"/api/devices/{device.pk}/", {"status": "scrapped", "location": "pokój 7"},
                                  format="json")
    assert response.status_code == 200
    device.refresh_from_db()
    assert (device.status, device.location) == (DeviceStatus.IN_STOCK, "pokój 7")


@pytest.mark.parametrize(("role", "can_read", "can_write", "can_move"), [
    (Role.IT_OFFICE, True, True, True),
    (Role.PROJECT_MANAGER, True, False, False),
    (Role.LEGAL_OFFICE, True, False, False),
    (Role.AUDITOR, True, False, False),
    (Role.COUNCILLOR, False, False, False),
])
def test_roles_hold_in_the_api(api, make_user, role, can_read, can_write, can_move):
    client = api(make_user(role))
    device = make_device()
    # A councillor may list devices, but sees only those on loan to them: none here.
    listed = client.get("/api/devices/")
    assert listed.status_code == 200 and (listed.data["count"] == 1) is can_read
    assert (client.get(f"/api/devices/{device.pk}/").status_code == 200) is can_read
    assert (client.get("/api/device-events/").status_code == 200) is can_read
    created = client.post("/api/devices/", device_payload(), format="json")
    assert (created.status_code == 201) is can_write
    moved = client.post(f"/api/devices/{device.pk}/send-to-repair/", {"reason": "ekran"}, format="json")
    assert (moved.status_code == 200) is can_move
    if not can_move:
        assert moved.status_code in (403, 404)
        assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_STOCK


def test_anonymous_gets_nothing(client, db):
    make_device()
    assert client.get("/api/devices/").status_code in (401, 403)


def test_filters(api, auditor):
    old = make_device(purchase_date=date(2010, 6, 1), manufacturer="Dell", location="Biuro Prawne", kind="desktop")
    tablet = make_device(kind="tablet", manufacturer="Samsung", purchase_date=date(2020, 4, 15))
    services.device_send_to_repair(device=tablet, by=None, reason="bateria")
    client = api(auditor)

    def numbers(**params):
        return {d["inventory_number"] for d in client.get("/api/devices/", params).data["results"]}

    assert numbers(older_than_years=10) == {old.inventory_number}
    assert numbers(status="in_repair") == {tablet.inventory_number}
    assert numbers(status=["in_repair", "in_stock"]) == {tablet.inventory_number, old.inventory_number}
    assert numbers(kind="desktop") == {old.inventory_number}
    assert numbers(manufacturer="dell") == {old.inventory_number}
    assert numbers(location="prawne") == {old.inventory_number}
    assert numbers(purchase_date_after="2015-01-01", purchase_date_before="2021-01-01") == {tablet.inventory_number}
    assert numbers(q=tablet.serial_number.lower()) == {tablet.inventory_number}
    assert numbers(past_expected_life=True) == {old.inventory_number}
    bad = client.get("/api/devices/", {"status": "melted"})
    assert bad.status_code == 400 and "status" in bad.data


def _queries(client, url: str, page_size: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.data["results"]) == page_size
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/api/devices/", "/api/storage-media/", "/api/suppliers/", "/api/contracts/",
                                 "/api/kits/", "/api/device-events/"])
def test_list_query_count_does_not_grow_with_page_size(api, auditor, url):
    for n in range(30):
        contract = make_contract()
        device = make_device(contract=contract)
        make_medium(device=device)
        services.device_put_in_use(device=device, by=auditor, location="pokój")
        services.kit_create(code=f"K-{n}", name="zestaw", devices=[device], by=None)
    client = api(auditor)
    assert _queries(client, url, 3) == _queries(client, url, 25)


def test_openapi_schema_and_offline_docs(api, auditor, client):
    schema = api(auditor).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/devices/{id}/retire/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar" in html and "cdn.jsdelivr" not in html


def test_documents_api_and_download_need_permission(api, it_user, make_user):
    device = make_device()
    card = api(it_user).post(f"/api/devices/{device.pk}/record-card/")
    assert card.status_code == 201
    listed = api(it_user).get("/api/documents/")
    assert listed.data["results"][0]["code"] == card.data["code"]
    councillor = make_user(Role.COUNCILLOR)
    # A councillor lists only the documents of their own loans, and reaches no other by its code.
    assert api(councillor).get("/api/documents/").data["count"] == 0
    assert api(councillor).get(f"/api/documents/{card.data['code']}/").status_code == 404
    assert api(councillor).post(f"/api/devices/{device.pk}/record-card/").status_code == 404  # not theirs
    from django.test import Client

    browser = Client()
    browser.force_login(it_user)
    download = browser.get(f"/documents/{card.data['code']}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF-")
    browser.force_login(councillor)
    assert browser.get(f"/documents/{card.data['code']}/download/").status_code == 404


def test_errors_speak_polish_by_default_and_english_on_request(api, it_user):
    client = api(it_user)
    payload = {"name": "Infover S.A.", "nip": "1234567890", "address": "Kielce"}
    polish = client.post("/api/suppliers/", payload, format="json")
    assert "nie jest prawidłowym numerem NIP" in str(polish.data["nip"][0])
    english = client.post("/api/suppliers/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert "is not a valid NIP" in str(english.data["nip"][0])


def test_every_event_carries_the_request_id(api, it_user):
    device = make_device()
    response = api(it_user).post(f"/api/devices/{device.pk}/send-to-repair/", {"reason": "klawiatura"},
                                 format="json", HTTP_X_REQUEST_ID="req-42")
    assert response["X-Request-ID"] == "req-42"
    assert device.events.latest("id").request_id == "req-42"
