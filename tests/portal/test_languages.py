"""Choosing the language: the /fr/... prefix, the chooser, Accept-Language, hreflang and
<html lang>, and the addresses of the English-only site (links already emailed) still
working."""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.portal.panelkit import PASSWORD, customer, paid_order

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


def test_the_language_chooser_keeps_the_customer_on_the_same_page():
    client = Client()
    page = client.get("/devices/tomtom-go-classic/?coverage=FR")
    chooser = page.content.decode()
    assert 'name="next" value="/devices/tomtom-go-classic/?coverage=FR"' in chooser
    for code in CODES:
        assert f'name="language" value="{code}"' in chooser
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/devices/tomtom-go-classic/?coverage=FR"})
    assert response.status_code == 302
    assert response["Location"] == "/de/devices/tomtom-go-classic/?coverage=FR"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    # and back to English: the unprefixed address, which the cookie now keeps in English
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/de/devices/tomtom-go-classic/"})
    assert response["Location"] == "/devices/tomtom-go-classic/"
    assert client.get("/devices/tomtom-go-classic/", HTTP_ACCEPT_LANGUAGE="de").status_code == 200


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
