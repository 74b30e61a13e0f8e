"""In Chromium: the office's pages work under the Content-Security-Policy and the browser blocks nothing
on them (inline styles and scripts without the request's nonce would be refused and reported)."""
import pytest

from core.roles import Role
from tests.browser.test_fault_flow import _login, open_browser, plain_http  # noqa: F401 (fixtures)
from tests.factories import UserFactory, make_device

PAGES = [
    "/admin/",  # the IT office's dashboard, with its own styles
    "/admin/assets/device/",
    "/reports/compliance/",
    "/reports/analytics/",
    "/reports/analytics/inventory/",  # charts as data: images
    "/reports/documents/",
    "/my/token/",
    "/api/devices/",  # the browsable API
    "/verify/",
]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_pages_and_the_api_docs_run_with_nothing_blocked(open_browser, live_server, plain_http):  # noqa: F811
    clerk = UserFactory(username="informatyk", roles=[Role.IT_OFFICE], is_staff=True)
    make_device(by=clerk)
    base = live_server.url
    page = open_browser()
    _login(page, base, "/admin/login/", clerk.username)

    for path in PAGES:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"], path

    page.goto(f"{base}/api/docs/")  # Swagger UI builds the operations list from the schema with its scripts
    page.wait_for_selector(".opblock", timeout=20000)
    page.goto(f"{base}/api/redoc/")  # ReDoc renders the schema in its worker
    page.wait_for_selector("[role=search], .api-content", timeout=20000)

    page.goto(f"{base}/verify/")  # the language selector switches on change, without an inline handler
    with page.expect_navigation():  # the script submits the form: wait for the page it brings back
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"

    # ReDoc's bundle reaches for its vendor's logo on cdn.redoc.ly: refusing that is the policy's point
    # (the service loads nothing from elsewhere). Anything else blocked is a page to mend.
    blocked = [message for message in open_browser.csp_violations if "https://cdn.redoc.ly/" not in message]
    assert blocked == []
