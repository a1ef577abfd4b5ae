"""The account's language, chosen in the panel: it is stored on the account (the language of
the customer's emails and files), and the panel is shown in it from then on."""

import html
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from portal.models import User
from tests.portal.panelkit import customer, paid_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_cache")]

URL = "/account/language/"


@pytest.fixture(autouse=True)
def _english_test_thread():
    """A request to a /fr/ page leaves French active in this thread (LocaleMiddleware): the
    test's own reverse() calls must not depend on the test that ran before."""
    with translation.override("en"):
        yield


@pytest.fixture
def lea(db):
    user = customer()
    paid_order(user)
    return user


def test_the_url_is_named_panel_language_and_has_a_prefix_per_language():
    assert reverse("panel-language") == URL
    with translation.override("fr"):
        assert reverse("panel-language") == "/fr" + URL


def test_the_panel_offers_every_language_by_its_own_name_with_the_account_s_selected(client, lea):
    User.objects.filter(pk=lea.pk).update(language="de")
    client.force_login(lea)
    page = client.get("/de/account/").content.decode()
    form = re.search(r'<form method="post" action="/de/account/language/" id="language-form">(.*?)</form>', page, re.S)
    assert form and "csrfmiddlewaretoken" in form.group(1)
    options = re.findall(r'<option value="(\w+)" lang="\w+"( selected)?>([^<]+)</option>', form.group(1))
    assert [(code, name) for code, _sel, name in options] == list(settings.LANGUAGES)
    assert [code for code, sel, _name in options if sel] == ["de"]
    with translation.override("de"):
        label = translation.gettext("Language of your emails and files")
    assert label != "Language of your emails and files"  # the catalog's German
    assert "Français" in form.group(1) and label in form.group(1)


def test_choosing_french_saves_it_and_redirects_to_the_french_panel_with_the_cookie(client, lea):
    client.force_login(lea)
    response = client.post(URL, {"language": "fr"})
    assert response.status_code == 302 and response["Location"] == "/fr/account/"
    lea.refresh_from_db()
    assert lea.language == "fr"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fr" and cookie["path"] == "/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert re.search(r'<option value="fr" lang="fr" selected>', page.content.decode())
    assert 'id="messages"' in page.content.decode()  # the flash message, shown on the French panel


def test_choosing_english_goes_to_the_unprefixed_panel_and_stays_there(client, lea):
    User.objects.filter(pk=lea.pk).update(language="fr")
    client.force_login(lea)
    response = client.post("/fr/account/language/", {"language": "en"})
    assert response.status_code == 302 and response["Location"] == "/account/"
    lea.refresh_from_db()
    assert lea.language == "en"
    # the cookie says English: the unprefixed panel is not sent to the account's old language
    follow = client.get("/account/")
    assert follow.status_code == 200 and "Your emails and files are now in English." in follow.content.decode()


@pytest.mark.parametrize("code", ["xx", "", "fr-ca-evil", "FR", "en<script>"])
def test_an_unknown_language_is_refused_with_400_and_nothing_changes(client, lea, code):
    client.force_login(lea)
    response = client.post(URL, {"language": code})
    assert response.status_code == 400
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    lea.refresh_from_db()
    assert lea.language == "en"


def test_an_anonymous_visitor_is_sent_to_the_login(client, lea):
    response = client.post(URL, {"language": "fr"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts-login"))
    lea.refresh_from_db()
    assert lea.language == "en"


def test_only_post(client, lea):
    client.force_login(lea)
    assert client.get(URL).status_code == 405
    lea.refresh_from_db()
    assert lea.language == "en"


def test_the_form_needs_the_csrf_token(lea):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(lea)
    assert strict.post(URL, {"language": "fr"}).status_code == 403
    lea.refresh_from_db()
    assert lea.language == "en"


def test_it_changes_the_signed_in_customer_s_account_only(client, lea):
    other = customer("other@example.com")
    client.force_login(lea)
    client.post(URL, {"language": "pl", "user": other.pk, "email": other.email})
    other.refresh_from_db()
    lea.refresh_from_db()
    assert (lea.language, other.language) == ("pl", "en")


def test_a_customer_without_purchases_can_choose_too(client, db):
    bare = customer("bare@example.com")
    client.force_login(bare)
    assert 'id="language-form"' in client.get("/account/").content.decode()
    assert client.post(URL, {"language": "es"})["Location"] == "/es/account/"
    bare.refresh_from_db()
    assert bare.language == "es"



def test_the_panel_and_account_pages_render_under_fr(client, lea, tmp_path):
    """No catalog yet: the French pages still read English, but every marked page renders."""
    from portal.models import Order
    from tests.portal.panelkit import first_release

    first_release(tmp_path)
    order = Order.objects.get(user=lea)
    for path in ("/fr/account/login/", "/fr/account/password/reset/", "/fr/account/password/reset/sent/"):
        assert client.get(path).status_code == 200, path
    client.force_login(lea)
    purchase = f"/fr/account/devices/{order.public_id}/"
    for path in ("/fr/account/", purchase, purchase + "coverage/", f"/fr/account/purchases/{order.public_id}/report/",
                 "/fr/account/password/", "/fr/account/delete/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "{%" not in response.content.decode() and "{{" not in response.content.decode(), path
    page = client.get(purchase + "coverage/").content.decode()
    assert 'id="coverage-texts"' in page and '"locale": "fr"' in page and "%(cameras)s, %(size)s" in page
    page = client.get(f"/fr/account/purchases/{order.public_id}/report/").content.decode()
    too_large = html.unescape(re.search(r'data-too-large="([^"]*)"', page).group(1))
    with translation.override("fr"):
        expected = translation.gettext("The screenshot is %(size)s; the limit is %(limit)s. Please choose a smaller "
                                       "image, or remove it: your text is kept.")
    assert expected != "The screenshot is %(size)s; the limit is %(limit)s. Please choose a smaller image, or remove " \
                       "it: your text is kept."
    head = expected.split("%(limit)s")[0]
    assert too_large.startswith(head) and "%(size)s" in too_large and 'data-locale="fr"' in page


def test_the_password_reset_email_follows_the_account_s_language(client, lea):
    """Asked for on an English page, the email is in the account's language: its link opens
    the French page, and its words are the catalog's French."""
    from django.core import mail

    User.objects.filter(pk=lea.pk).update(language="fr")
    response = client.post(reverse("accounts-password-reset"), {"email": lea.email})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/sent/"
    [message] = mail.outbox
    assert "/fr/account/password/reset/" in message.body
    with translation.override("fr"):
        subject = translation.gettext("Set a new password for your customer panel")
    assert message.subject == subject and subject != "Set a new password for your customer panel"
    assert "The link works once and for" not in message.body
