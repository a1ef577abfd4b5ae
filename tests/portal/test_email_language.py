"""Emails speak the customer's language: an order's emails (and the invoice PDF) are rendered
under ``Order.customer_language`` (the account's language, else the order's), a contact
message's under ``ContactMessage.language``. Without a catalog the words stay English, so the
language shows in what is formatted (dates, amounts by Babel) and in the links' prefix."""

import re

import pytest
from django.core import mail
from django.utils import translation

from exporters.devices import get_device
from portal.models import ContactMessage, EmailRecord, Order, User
from portal.services import contact, emails, invoice_pdf, l10n, vat
from tests.portal.invoicekit import pdf_text
from tests.portal.services.test_emails import fulfilled as paid_and_built

pytestmark = pytest.mark.django_db
Kind = EmailRecord.Kind
SITE = "https://shop.example"


@pytest.fixture(autouse=True)
def _mail(settings, tmp_path):
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = SITE


def fulfilled(django_capture_on_commit_callbacks, **fields) -> Order:
    """A paid order billed in France, fulfilled and its package built; no email sent yet."""
    mail.outbox.clear()
    return paid_and_built(None, django_capture_on_commit_callbacks, **{"billing_country": "FR", **fields})


def site_links(text: str) -> list[str]:
    return re.findall(re.escape(SITE) + r"(/[^\s\"<>)]*)", text)


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def assert_in_language(message, order: Order, language: str):
    """The amount, the order's date and the panel/order links of ``message`` are ``language``'s."""
    amount = l10n.money(order.amount, order.currency, language)
    day = l10n.date(order.created_at, language)
    assert amount != l10n.money(order.amount, order.currency, "en") and day != l10n.date(order.created_at, "en")
    for text in (message.body, html_of(message)):
        assert amount in text and day in text
        links = site_links(text)
        assert links
        # the emailed download link has no language prefix (by design); every page link has it
        pages = [path for path in links if not path.startswith("/download")]
        assert pages and all(path.startswith(f"/{language}/") for path in pages), links
    assert translation.get_language() == "en"  # the override ended with the rendering


def test_an_order_without_account_gets_its_file_email_in_the_language_it_was_placed_in(
        release, django_capture_on_commit_callbacks):
    order = fulfilled(django_capture_on_commit_callbacks, language="fr")
    assert order.user.language == "fr" and order.customer_language == "fr"  # the account made at fulfilment
    assert emails.send(order.pk, Kind.FILE) is True
    [message] = mail.outbox
    assert_in_language(message, order, "fr")
    assert "19,90\u00a0€" in message.body  # French money: the sign after the amount


def test_the_account_language_wins_over_the_order_language(release, django_capture_on_commit_callbacks):
    user = User.objects.create_user(email="ana@example.com", password="x" * 12)
    user.language = "de"
    user.save(update_fields=["language"])
    order = fulfilled(django_capture_on_commit_callbacks, language="fr", user=user)
    assert order.customer_language == "de"
    assert emails.send(order.pk, Kind.FILE) is True
    [message] = mail.outbox
    assert_in_language(message, order, "de")


def test_the_receipt_and_its_invoice_pdf_are_in_the_customer_language(release, django_capture_on_commit_callbacks):
    order = fulfilled(django_capture_on_commit_callbacks, language="fr")
    invoice = order.invoices.get()
    seen = []
    real = invoice_pdf._render

    def spy(inv):
        seen.append(translation.get_language())
        return real(inv)

    invoice_pdf._render = spy
    try:
        assert emails.send(order.pk, Kind.RECEIPT, invoice.number) is True
    finally:
        invoice_pdf._render = real
    assert seen == ["fr"]
    [message] = mail.outbox
    [(name, data, mimetype)] = message.attachments
    assert "EUR 19,90" in pdf_text(data)  # the PDF's numbers are French too (the code for the sign: Latin-1)
    assert "19,90\u00a0€" in message.body and l10n.date(invoice.issued_at, "fr") in message.body
    assert all(path.startswith("/fr/") for path in site_links(message.body))
    with translation.override("en"):  # a staff member's download: still the customer's language
        assert invoice_pdf.language(invoice) == "fr"


def test_an_english_order_keeps_unprefixed_links(release, django_capture_on_commit_callbacks):
    order = fulfilled(django_capture_on_commit_callbacks)
    assert emails.send(order.pk, Kind.FILE) is True
    [message] = mail.outbox
    assert "€19.90" in message.body
    assert not any(re.match(r"/(fr|de|es|it|nl|pt|pl)/", path) for path in site_links(message.body))


def test_a_contact_confirmation_is_in_the_language_of_the_page_it_was_sent_from(django_capture_on_commit_callbacks):
    with translation.override("es"), django_capture_on_commit_callbacks(execute=False):
        msg = contact.submit(name="Ana", email="ana@example.com", message="¿Funciona en mi TomTom?")
    assert msg.language == "es"
    assert contact.send(msg.pk, contact.CONFIRMATION) is True
    [message] = mail.outbox
    msg = ContactMessage.objects.get(pk=msg.pk)
    when = l10n.datetime(msg.created_at, "es")
    assert when != l10n.datetime(msg.created_at, "en")
    for text in (message.body, html_of(message)):
        assert when in text
        links = site_links(text)
        assert links and all(path.startswith("/es/") for path in links), links


def test_the_panels_language_choice_changes_the_next_email_and_its_words(release, django_capture_on_commit_callbacks):
    """An English customer switches the panel to German: the next email (a rebuilt file) is in
    German, its subject the catalog's German, not the English one sent before."""
    from django.test import Client

    from tests.portal.panelkit import PASSWORD

    order = fulfilled(django_capture_on_commit_callbacks)
    order.user.set_password(PASSWORD)
    order.user.save()
    assert emails.send(order.pk, Kind.FILE) is True
    [english] = mail.outbox
    mail.outbox.clear()

    client = Client()
    assert client.login(username=order.user.email, password=PASSWORD)
    response = client.post("/account/language/", {"language": "de"})
    assert response.status_code == 302 and response["Location"] == "/de/account/"
    order.refresh_from_db()
    assert order.user.language == "de" and order.customer_language == "de"

    EmailRecord.objects.filter(order=order, kind=Kind.FILE).update(sent_at=None)  # the file is sent again
    assert emails.send(order.pk, Kind.FILE) is True
    [german] = mail.outbox
    with translation.override("de"):
        expected = translation.gettext("Your speed camera file for %(device)s") % {"device": get_device(order.device_id).name}
    assert german.subject == expected and german.subject != english.subject
    assert_in_language(german, order, "de")
    assert "Safe travels!" in english.body and "Safe travels!" not in german.body
    with translation.override("de"):
        assert translation.gettext("Safe travels!") in german.body


@pytest.mark.parametrize("billing_country", ["FR", "CH"])  # CH: outside the EU, the italic VAT note
def test_a_polish_invoice_keeps_its_polish_letters(release, django_capture_on_commit_callbacks, billing_country):
    order = fulfilled(django_capture_on_commit_callbacks, language="pl", billing_country=billing_country)
    invoice = order.invoices.get()
    text = pdf_text(invoice_pdf.render(invoice))
    with translation.override("pl"):
        total = translation.gettext("Total paid")
        note = translation.gettext(vat.OUTSIDE_EU_NOTE)
    assert any(ch in total for ch in "ąćęłńóśźż"), total  # the catalog's word has Polish letters
    assert total in text, text[:500]
    assert (" ".join(note.split()) in " ".join(text.split())) == (billing_country == "CH")
