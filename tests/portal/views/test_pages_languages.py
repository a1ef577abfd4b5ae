"""The help, contact and legal pages render in every language prefix (the words stay English
until the catalog exists; nothing breaks), with their links in the page's language."""

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    """The test client's request leaves its language active in this thread (LocaleMiddleware
    activates it and nothing deactivates it): back to English for the tests that follow."""
    yield
    translation.activate("en")

PAGES = ["help/", "contact/", "legal/terms/", "legal/privacy/", "legal/notice/", "legal/refunds/", "legal/camera-laws/"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("language", ["fr", "pl"])
def test_the_pages_render_under_a_language_prefix(client, path, language):
    response = client.get(f"/{language}/{path}")
    assert response.status_code == 200, (path, response.status_code)
    html = response.content.decode()
    assert f'href="/{language}/legal/privacy/"' in html or f'href="/{language}/legal/terms/"' in html
    if path == "help/":
        assert "Suisse" in html or "Szwajcaria" in html  # the legal notes name the countries in the language
