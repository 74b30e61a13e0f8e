"""In a real browser (Debian's Chromium driven by Playwright): a councillor reports a fault with a photo
on the portal, the IT office acknowledges and resolves it in the admin, the councillor sees the outcome.

The test never skips: without Chromium it fails and says how to install it (`make test` installs it with
apt-get when it can). Playwright's own browser download (`playwright install`) is never used.
"""
import os
import shutil
import tempfile

import pytest
from django.utils import translation

from core.roles import Role
from faults.choices import FaultStatus
from faults.models import FaultReport
from tests.factories import UserFactory, lend_tablet, make_councillor, png_bytes

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "test-password-123"  # UserFactory's


@pytest.fixture
def open_browser():
    """Open a fresh Chromium (its own new --user-data-dir, so its own cookies) per person: open_browser()."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install chromium (make test does it as root).")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are
    # ordinary synchronous ones, made between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    profiles, contexts = [], []
    with sync_playwright() as playwright:
        def open_one():
            profiles.append(tempfile.mkdtemp(prefix="chromium-profile-"))
            context = playwright.chromium.launch_persistent_context(
                profiles[-1], executable_path=CHROMIUM, headless=True, args=FLAGS, locale="pl-PL",
                viewport={"width": 1024, "height": 1366})  # a tablet held upright
            contexts.append(context)
            page = context.new_page()
            # What the Content-Security-Policy blocked (an inline style or script the pages still have).
            page.on("console", lambda message: "Content Security Policy" in message.text
                    and open_one.csp_violations.append(f"{page.url}: {message.text}"))
            return page

        open_one.csp_violations = []

        try:
            yield open_one
        finally:
            for context in contexts:
                context.close()
            for profile in profiles:
                shutil.rmtree(profile, ignore_errors=True)
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def plain_http(settings):
    # The live server speaks plain HTTP; secure-only cookies would never come back to it.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


def _login(page, base: str, path: str, username: str) -> None:
    page.goto(f"{base}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state()


# The live server runs in another thread, so the data must be committed; serialized_rollback puts back
# what the migrations wrote (the role groups) for the tests after this one.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_councillor_reports_a_fault_and_the_it_office_resolves_it(open_browser, live_server, plain_http):
    recipient = make_councillor("Ewa Radna")
    device = lend_tablet(recipient).items.get().device
    clerk = UserFactory(username="informatyk", roles=[Role.IT_OFFICE])
    base = live_server.url

    # The councillor, on the tablet.
    page = open_browser()
    _login(page, base, "/login/", recipient.user.username)
    assert page.url.endswith("/my/")
    assert device.inventory_number in page.content()
    page.click("a[href='/my/faults/new/']")
    page.select_option("#id_device", str(device.pk))
    page.check("input[name=category][value=hardware]")
    page.fill("#id_description", "Po upadku pękła szybka, dotyk nie działa w prawym górnym rogu.")
    page.fill("#id_contact", "tel. 600 100 200, najlepiej po 16:00")
    page.set_input_files("#id_photo", files=[{"name": "szybka.png", "mimeType": "image/png",
                                               "buffer": png_bytes((64, 48))}])
    page.click("main form [type=submit]")
    page.wait_for_url("**/my/faults/*/")
    fault = FaultReport.objects.get()
    assert fault.photo and fault.status == FaultStatus.NEW
    assert page.locator("#fault-status").get_attribute("class").split()[-1] == "status-new"
    page.goto(f"{base}/my/")
    assert page.locator(f"tr.fault-row a[href='/my/faults/{fault.pk}/']").count() == 1

    # The IT office, in the admin.
    office_page = open_browser()
    _login(office_page, base, "/admin/login/", clerk.username)
    change = f"{base}/admin/faults/faultreport/{fault.pk}/change/"
    office_page.goto(change)
    assert "Po upadku pękła szybka" in office_page.content()
    office_page.select_option("#fault-handle select[name=move]", "acknowledge")
    office_page.click("#fault-handle [type=submit]")
    office_page.wait_for_load_state()
    fault.refresh_from_db()
    assert fault.status == FaultStatus.ACKNOWLEDGED
    office_page.select_option("#fault-handle select[name=move]", "resolve")
    office_page.fill("#fault-handle textarea[name=reply]", "Wymieniliśmy szybkę, tablet czeka w pokoju 12.")
    office_page.click("#fault-handle [type=submit]")
    office_page.wait_for_load_state()
    fault.refresh_from_db()
    assert fault.status == FaultStatus.RESOLVED

    # The councillor sees the new status and the reply.
    page.goto(f"{base}/my/faults/{fault.pk}/")
    assert page.locator("#fault-status").get_attribute("class").split()[-1] == "status-resolved"
    with translation.override("pl"):  # the portal speaks the office's language, whatever this thread speaks
        assert page.locator("#fault-status").inner_text().strip() == str(FaultStatus.RESOLVED.label)
    assert "Wymieniliśmy szybkę, tablet czeka w pokoju 12." in page.locator("#replies").inner_text()
    # The portal's and the admin's pages kept to the Content-Security-Policy: nothing was blocked.
    assert open_browser.csp_violations == []
