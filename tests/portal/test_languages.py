"""Choosing the language: the /fr/... prefix, the chooser, Accept-Language, hreflang and
<html lang>, and the addresses of the English-only site (links already emailed) still
working."""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.portal.panelkit import PASSWORD, customer

pytestmark = pytest.mark.django_db

CODES = [code for code, _ in settings.LANGUAGES]
OTHERS = [code for code in CODES if code != "en"]
PAGES = ["/", "/prices/", "/help/", "/contact/", "/legal/terms/", "/devices/tomtom-go-classic/", "/account/login/"]


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def test_languages_are_the_eight_of_the_shop():
    assert CODES == ["en", "fr", "de", "es", "it", "nl", "pt", "pl"]


@pytest.mark.parametrize("code", OTHERS)
def test_a_prefixed_page_is_in_its_language(code):
    for path in PAGES:
        response = Client().get(f"/{code}{path}")
        assert response.status_code == 200, path
        assert html_lang(response) == code
        assert response["Content-Language"] == code


def test_an_unprefixed_page_is_english_for_a_browser_without_preference():
    for path in PAGES:
        response = Client().get(path)
        assert response.status_code == 200, path
        assert html_lang(response) == "en"


@pytest.mark.parametrize("header,expected", [
    ("fr-FR,fr;q=0.9,en;q=0.8", "/fr/prices/"),
    ("de-CH", "/de/prices/"),
    ("pt-BR,pt;q=0.9", "/pt/prices/"),
    ("ja,pl;q=0.5", "/pl/prices/"),
])
def test_an_unprefixed_page_follows_the_browsers_accept_language(header, expected):
    response = Client().get("/prices/?x=1", HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 302
    assert response["Location"] == expected + "?x=1"


def test_english_or_an_unknown_language_in_accept_language_stays_unprefixed():
    for header in ("en-GB,en;q=0.9,fr;q=0.8", "ja,zh;q=0.8", ""):
        assert Client().get("/prices/", HTTP_ACCEPT_LANGUAGE=header).status_code == 200


def test_the_choice_in_the_cookie_wins_over_accept_language():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.get("/prices/", HTTP_ACCEPT_LANGUAGE="fr").status_code == 200
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    response = client.get("/prices/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response["Location"] == "/it/prices/"


def test_a_logged_in_customer_gets_the_accounts_language_on_unprefixed_pages():
    user = customer("nl@example.com")
    user.language = "nl"
    user.save()
    client = Client()
    assert client.login(username="nl@example.com", password=PASSWORD)
    assert client.get("/account/")["Location"] == "/nl/account/"


def test_downloads_json_and_the_webhook_are_never_redirected():
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    assert client.get("/download/not-a-token/").status_code in (400, 403, 404, 410)
    assert client.get("/devices/tomtom-go-classic/size.json?coverage=FR").status_code != 302
    assert client.post("/stripe/webhook/", data="{}", content_type="application/json").status_code == 400
    assert client.get("/favicon.ico")["Location"] == "/static/portal/favicon.ico"


def chooser_links(html: str) -> dict[str, str]:
    return {code: href.replace("&amp;", "&") for href, code in
            re.findall(r'<a href="([^"]+)" hreflang="([^"]+)" lang="[^"]+" rel="nofollow" data-language', html)}


def test_the_language_chooser_keeps_the_customer_on_the_same_page():
    client = Client()
    page = client.get("/devices/tomtom-go-classic/?coverage=FR").content.decode()
    links = chooser_links(page)
    assert list(links) == CODES
    assert links["de"] == "/i18n/de/?next=%2Fdevices%2Ftomtom-go-classic%2F%3Fcoverage%3DFR"
    assert "csrfmiddlewaretoken" not in page  # links, not a form: nothing per-visitor in the page
    response = client.get(links["de"])
    assert response.status_code == 302
    assert response["Location"] == "/de/devices/tomtom-go-classic/?coverage=FR"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    # and back to English from the German page: the unprefixed address, kept in English by the cookie
    german = client.get("/de/devices/tomtom-go-classic/?coverage=FR").content.decode()
    response = client.get(chooser_links(german)["en"])
    assert response["Location"] == "/devices/tomtom-go-classic/?coverage=FR"
    assert client.get("/devices/tomtom-go-classic/", HTTP_ACCEPT_LANGUAGE="de").status_code == 200


def test_the_chooser_never_sends_the_customer_off_the_site_and_knows_its_languages():
    client = Client()
    assert client.get("/i18n/fr/?next=https://evil.example/")["Location"] == "/fr/"
    assert client.get("/i18n/xx/?next=/prices/").status_code == 404
    assert client.post("/i18n/fr/?next=/prices/").status_code == 405


def test_every_page_names_its_alternates_in_each_language():
    content = Client().get("/fr/prices/").content.decode()
    links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', content))
    assert links["x-default"] == "http://testserver/prices/"
    assert links["en"] == "http://testserver/prices/"
    for code in OTHERS:
        assert links[code] == f"http://testserver/{code}/prices/"


def test_the_addresses_of_the_english_only_site_still_work(owner_order):
    client = Client()
    assert client.login(username=owner_order.user.email, password=PASSWORD)
    for path in ["/", "/prices/", "/account/", f"/account/devices/{owner_order.public_id}/", "/help/",
                 f"/orders/{owner_order.public_id}/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert html_lang(response) == "en"
    # the signed download link of an email sent before languages existed: still unprefixed
    from django.urls import reverse
    assert reverse("download-link", args=["abc"]) == "/download/abc/"
    from django.utils import translation
    with translation.override("fr"):
        assert reverse("download-link", args=["abc"]) == "/download/abc/"
        assert reverse("panel-home") == "/fr/account/"


def test_icon_set_names_are_shown_in_the_page_language():
    """The checkout and the panel show the order's icon set by name (``icon_set_name``)."""
    from django.utils import translation

    from portal.services import naming

    assert naming.icon_set_name("speed") == "speed-limit signs"
    with translation.override("fr"):
        french = translation.gettext("speed-limit signs")
        assert french != "speed-limit signs" and naming.icon_set_name("speed") == french
    assert naming.icon_set_name("unknown") == "unknown"
