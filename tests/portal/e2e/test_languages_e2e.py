"""The purchase in French and in German, in Chromium against localstripe, the Celery worker
and the SMTP sink: the pages, both emails and the package's INSTALL.txt are in the
customer's language. The language chooser keeps the page; the panel's language choice
changes the next email.

What "in French" means is read from the catalog, not written here: each text is compared
with the same text rendered in English, and no sentence may read the same."""

import io
import json
import re
import zipfile

import pytest
from django.utils import translation

from exporters.devices import get_device
from exporters.package import install_guide
from portal.models import EmailRecord, Order, User
from portal.services import emails
from tests.portal.e2e.test_shop_e2e import fill_card, mails_to, shop, subject  # noqa: F401 - the fixture
from tests.portal.i18n.textdiff import html_segments, text_segments, untranslated
from tests.portal.shopping import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOMTOM = "tomtom-go-classic"


def page_lang(page) -> str:
    return page.evaluate("document.documentElement.lang")


def english_left(page, base, path_en) -> list[str]:
    """The sentences of the page that read the same on its English version."""
    here = html_segments(page.content())
    other = page.context.new_page()
    try:
        other.goto(base + path_en)
        return untranslated(html_segments(other.content()), here)
    finally:
        other.close()


def body(message, kind="plain") -> str:
    return message.get_body((kind,)).get_content()


def buy_in(page, base, code, email):
    page.goto(f"{base}/{code}/devices/{TOMTOM}/")
    assert page_lang(page) == code
    assert english_left(page, base, f"/devices/{TOMTOM}/") == []
    page.select_option("select[name=coverage]", "FR")
    page.click("#options button[type=submit]")
    page.wait_for_url(re.compile(rf"/{code}/devices/{TOMTOM}/checkout/"))
    assert page_lang(page) == code
    fill_card(page, email)
    checkout_path = page.url.split(base, 1)[1].replace(f"/{code}/", "/", 1)
    assert english_left(page, base, checkout_path) == []
    page.click("#pay")
    page.wait_for_url(re.compile(rf"/{code}/orders/[0-9a-f-]{{36}}/$"), timeout=30_000)
    page.wait_for_selector("#download", timeout=60_000)
    assert page_lang(page) == code
    order = Order.objects.get(public_id=page.url.rstrip("/").split("/")[-1])
    assert english_left(page, base, f"/orders/{order.public_id}/") == []
    return order


def rendered(kind, order, language):
    """The order's ``kind`` email as it reads in ``language`` (same order, same context; the
    login email with a stand-in password, so that rendering it changes nothing)."""
    with translation.override(language):
        if kind == EmailRecord.Kind.ACCOUNT:
            context = {**emails._context(order, EmailRecord.Kind.DEVICE_ADDED, "")[0], "password": "x",
                       "login": order.email}
        else:
            context = emails._context(order, kind, "")[0]
        return emails.message(order, kind, context, None)


@pytest.mark.parametrize("code", ["fr", "de"])
def test_a_customer_buys_in_their_language_and_gets_the_emails_and_install_txt_in_it(code, shop, live_server,  # noqa: F811
                                                                                     page, smtp_sink):
    base = live_server.url
    email = f"buyer-{code}@example.com"
    order = buy_in(page, base, code, email)
    assert order.language == code
    assert wait_for(lambda: len(mails_to(smtp_sink, email)) >= 2, 60)
    order.refresh_from_db()
    assert User.objects.get(email=email).language == code

    mails = {}
    for kind in (EmailRecord.Kind.FILE, EmailRecord.Kind.ACCOUNT):
        expected = rendered(kind, order, code).subject
        assert expected != rendered(kind, order, "en").subject
        arrived = wait_for(lambda: expected in {subject(m) for m in mails_to(smtp_sink, email)}, 60)
        sent = {subject(m): m for m in mails_to(smtp_sink, email)}
        assert arrived, f"no {kind} email with the subject {expected!r}: {list(sent)}"
        mails[kind] = sent[expected]
    file_mail = mails[EmailRecord.Kind.FILE]
    for kind, message in mails.items():
        english = rendered(kind, order, "en")
        assert untranslated(text_segments(english.body), text_segments(body(message))) == []
        html_en = next(c for c, t in english.alternatives if t == "text/html")
        assert untranslated(html_segments(html_en), html_segments(body(message, "html"))) == []
        # the links go to the pages in that language
        assert f"/{code}/" in body(message)

    # the package's INSTALL.txt, in that language
    attachment = next(p for p in file_mail.iter_attachments() if p.get_content_type() == "application/zip")
    with zipfile.ZipFile(io.BytesIO(attachment.get_content())) as zf:
        installed = zf.read("INSTALL.txt").decode("utf-8")
        manifest = json.loads(zf.read("manifest.json"))
    with translation.override("en"):  # the same guide in English; the manifest's notes are the package's (French)
        english = install_guide(get_device(TOMTOM), manifest)
    notes = {"- " + " ".join(note.split()) for note in manifest["notes"] + manifest.get("warnings", [])}
    assert untranslated(text_segments(english) - notes, text_segments(installed)) == []
    assert installed != english
    with translation.override(code):  # the steps and the notes are the catalog's
        device = get_device(TOMTOM)
        assert device.install[0] in installed and device.english("install")[0] not in installed


def test_the_language_chooser_keeps_the_customer_on_the_same_page(shop, live_server, page):  # noqa: F811
    base = live_server.url
    page.goto(f"{base}/devices/{TOMTOM}/?coverage=FR")
    assert page_lang(page) == "en"
    page.click("[data-testid=language-chooser] summary")
    page.click("[data-testid=language-chooser] a[data-language=de]")
    page.wait_for_url(f"{base}/de/devices/{TOMTOM}/?coverage=FR")
    assert page_lang(page) == "de"
    # the checkout keeps its choices (in its address) across a switch, and says them in the new language
    page.goto(f"{base}/devices/{TOMTOM}/checkout/?coverage=FR")
    assert page_lang(page) == "de"  # the chooser's choice (cookie) sends the unprefixed page to German
    assert page.url.startswith(f"{base}/de/devices/{TOMTOM}/checkout/?coverage=FR")
    key = page.url.split("checkout=")[-1]  # this checkout's key (Back and reload come back to it)
    assert "Frankreich" in page.inner_text("main")
    page.click("[data-testid=language-chooser] summary")
    page.click("[data-testid=language-chooser] a[data-language=fr]")
    page.wait_for_url(f"{base}/fr/devices/{TOMTOM}/checkout/?coverage=FR&checkout={key}")
    assert page_lang(page) == "fr" and "France" in page.inner_text("main")
    page.goto(f"{base}/devices/{TOMTOM}/?coverage=FR")
    page.click("[data-testid=language-chooser] summary")
    page.click("[data-testid=language-chooser] a[data-language=en]")
    page.wait_for_url(f"{base}/devices/{TOMTOM}/?coverage=FR")
    assert page_lang(page) == "en"
