"""The councillors' portal (/my/) and the isolation of one borrower from another, page by page and
endpoint by endpoint."""
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from config.api import router
from core.models import StoredDocument
from faults import services as fault_services
from faults.models import FaultReport
from portal.urls import urlpatterns as portal_patterns
from tests.factories import lend_tablet, make_councillor, make_device, png_bytes

pytestmark = pytest.mark.django_db


def _world():
    """Two councillors, each with a loan of a tablet, its documents and a fault with a photo."""
    world = {}
    for key, name in (("mine", "Ewa Radna"), ("theirs", "Jan Inny")):
        recipient = make_councillor(name)
        loan = lend_tablet(recipient)
        device = loan.items.get().device
        fault = fault_services.fault_report(
            by=recipient.user, device=device, category="hardware", description=f"Usterka: {name}",
            contact="600 100 200", photo=SimpleUploadedFile("f.png", png_bytes(), "image/png"))
        document = StoredDocument.objects.filter(subject_type__model="loan", subject_id=loan.pk).first()
        world[key] = {"recipient": recipient, "loan": loan, "device": device, "fault": fault, "document": document}
    return world


def _browser(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_councillor_sees_their_own_tablet_and_reports_a_fault_with_a_photo():
    world = _world()
    me = world["mine"]
    browser = _browser(me["recipient"].user)
    home = browser.get("/my/")
    text = home.content.decode()
    assert home.status_code == 200
    assert me["device"].inventory_number in text and world["theirs"]["device"].inventory_number not in text
    assert f"/my/faults/{me['fault'].pk}/" in text
    assert f"/my/faults/{world['theirs']['fault'].pk}/" not in text
    form = browser.get(f"/my/faults/new/?device={me['device'].pk}")
    assert form.status_code == 200 and world["theirs"]["device"].inventory_number not in form.content.decode()
    sent = browser.post("/my/faults/new/", {
        "device": me["device"].pk, "category": "network", "description": "Brak Wi-Fi na sali obrad.",
        "contact": "600 100 200", "photo": SimpleUploadedFile("wifi.png", png_bytes(), "image/png")}, follow=True)
    fault = FaultReport.objects.get(description="Brak Wi-Fi na sali obrad.")
    assert sent.redirect_chain[-1][0] == f"/my/faults/{fault.pk}/"
    assert "Brak Wi-Fi na sali obrad." in sent.content.decode()
    assert fault.photo and fault.reporter == me["recipient"].user
    photo = browser.get(f"/my/faults/{fault.pk}/photo/")
    assert photo.status_code == 200 and b"".join(photo.streaming_content).startswith(b"\x89PNG")
    assert f"/my/faults/{fault.pk}/" in browser.get("/my/").content.decode()


def test_a_bad_report_in_the_portal_is_a_message_and_writes_nothing():
    world = _world()
    me = world["mine"]
    browser = _browser(me["recipient"].user)
    before = FaultReport.objects.count()
    not_image = browser.post("/my/faults/new/", {
        "device": me["device"].pk, "category": "hardware", "description": "x", "contact": "y",
        "photo": SimpleUploadedFile("x.png", b"this is text", "image/png")})
    assert not_image.status_code == 200 and not_image.context["form"].errors["photo"]
    not_mine = browser.post("/my/faults/new/", {
        "device": world["theirs"]["device"].pk, "category": "hardware", "description": "x", "contact": "y"})
    assert not_mine.status_code == 200 and not_mine.context["form"].errors["device"]
    assert FaultReport.objects.count() == before


def test_the_councillor_downloads_their_loan_documents_and_writes_to_the_office():
    world = _world()
    me = world["mine"]
    browser = _browser(me["recipient"].user)
    page = browser.get(f"/my/loans/{me['loan'].pk}/").content.decode()
    assert me["document"].code in page
    pdf = browser.get(f"/my/documents/{me['document'].code}/")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    browser.post(f"/my/faults/{me['fault'].pk}/reply/", {"body": "Proszę dzwonić po 16."})
    assert me["fault"].replies.get().body == "Proszę dzwonić po 16."


def test_the_portal_asks_for_a_login():
    response = Client().get("/my/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- isolation -------------------------------------------------------------------------------------------

def _portal_urls(target: dict) -> list[str]:
    """Every portal page that takes an object, filled with `target`'s objects."""
    values = {"loan": target["loan"].pk, "device": target["device"].pk, "fault": target["fault"].pk,
              "fault-reply": target["fault"].pk, "fault-photo": target["fault"].pk,
              "document": target["document"].code}
    urls = []
    for pattern in portal_patterns:
        route = str(pattern.pattern)
        if "<" not in route:
            continue
        assert pattern.name in values, f"the isolation test does not cover /my/{route} yet"
        urls.append("/my/" + re.sub(r"<[^>]+>", str(values[pattern.name]), route))
    return urls


HOLDER_SCOPED = {"devices": "device", "loans": "loan", "faults": "fault", "documents": "document"}


def _api_detail_urls(target: dict) -> list[tuple[str, str]]:
    """(method, url) for the detail route and every detail action of the holder-scoped endpoints."""
    urls = []
    for prefix, viewset, _basename in router.registry:
        if prefix not in HOLDER_SCOPED:
            continue
        obj = target[HOLDER_SCOPED[prefix]]
        key = obj.code if prefix == "documents" else obj.pk
        urls.append(("get", f"/api/{prefix}/{key}/"))
        if hasattr(viewset, "partial_update"):
            urls.append(("patch", f"/api/{prefix}/{key}/"))
        for action in viewset.get_extra_actions():
            if action.detail:
                for method in action.mapping:
                    urls.append((method, f"/api/{prefix}/{key}/{action.url_path}/"))
    return urls


def test_the_holder_scoped_endpoints_are_the_ones_a_councillor_reaches():
    # Every API endpoint a councillor can call at all is listed here and so covered below.
    scoped = {prefix for prefix, viewset, _b in router.registry if getattr(viewset, "holder_scoped", False)}
    assert scoped == set(HOLDER_SCOPED)


def test_a_councillor_gets_404_for_anything_of_another_councillor(api):
    world = _world()
    me, theirs = world["mine"], world["theirs"]
    user = me["recipient"].user
    browser = _browser(user)
    client = api(user)
    # Every portal page: someone else's loan, device, fault, photo, document is not there.
    for url in _portal_urls(theirs):
        method = "post" if url.endswith("/reply/") else "get"
        response = getattr(browser, method)(url, {"body": "x"} if method == "post" else None)
        assert response.status_code == 404, url
    # ... while one's own are (the same pages, with my objects).
    for url in _portal_urls(me):
        if not url.endswith("/reply/"):
            assert browser.get(url).status_code == 200, url
    # The staff download and the API: every detail route and every detail action.
    assert browser.get(f"/documents/{theirs['document'].code}/download/").status_code == 404
    for method, url in _api_detail_urls(theirs):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
    for method, url in _api_detail_urls(me):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code != 404 and response.status_code < 500, (method, url)
    # Lists and filters by someone else's ids return nothing of theirs.
    for prefix, key in HOLDER_SCOPED.items():
        listed = client.get(f"/api/{prefix}/").json()
        ids = {row.get("code") or row["id"] for row in listed["results"]}
        theirs_key = theirs[key].code if prefix == "documents" else theirs[key].pk
        mine_key = me[key].code if prefix == "documents" else me[key].pk
        assert theirs_key not in ids and mine_key in ids, prefix
    filtered = client.get("/api/faults/", {"device_id": theirs["device"].pk})
    assert filtered.status_code == 200 and filtered.data["count"] == 0
    assert not [r for r in client.get("/api/loans/", {"recipient_id": theirs["recipient"].pk}).json().get(
        "results", []) if r["id"] == theirs["loan"].pk]
    # Everything else in the API holds nothing for a councillor at all.
    for prefix, _viewset, _basename in router.registry:
        if prefix not in HOLDER_SCOPED:
            assert client.get(f"/api/{prefix}/").status_code == 403, prefix
    # Nor can they report a fault on a device of someone else (400 naming the device, nothing written).
    refused = client.post("/api/faults/", {"device": theirs["device"].pk, "category": "hardware",
                                           "description": "x", "contact": "y"}, format="json")
    assert refused.status_code == 400 and "device" in refused.data


def test_a_councillor_cannot_reach_a_device_in_stock_or_another_councillors_fault_photo():
    world = _world()
    browser = _browser(world["mine"]["recipient"].user)
    spare = make_device(kind="tablet")
    assert browser.get(f"/my/devices/{spare.pk}/").status_code == 404
    photo = world["theirs"]["fault"].photo.name
    assert browser.get(f"/media/{photo}").status_code == 403


def test_every_url_of_the_portal_is_covered_by_the_isolation_test():
    resolver = get_resolver()
    names = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver) and getattr(entry, "namespace", None) == "portal":
            names |= {p.name for p in entry.url_patterns if isinstance(p, URLPattern)}
    assert names == {p.name for p in portal_patterns}
