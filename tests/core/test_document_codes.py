"""A document code with a NUL byte is no document: a 404, never a 500 (PostgreSQL refuses NUL in a query)."""
import pytest

pytestmark = pytest.mark.django_db


def test_a_nul_byte_in_a_document_code_is_a_404_in_the_api(api, it_user):
    # Found by the API fuzzing on PostgreSQL: /api/documents/{code}/ answered 500 (DataError).
    assert api(it_user).get("/api/documents/A%00B/").status_code == 404


@pytest.mark.parametrize("url", ["/verify/A%00B/", "/documents/A%00B/download/"])
def test_a_nul_byte_in_a_document_code_is_a_404_on_the_pages(client, it_user, url):
    client.force_login(it_user)
    assert client.get(url).status_code == 404
