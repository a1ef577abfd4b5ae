"""End to end, on real components: headless Chromium (Debian's), the live Django server,
localstripe with its Stripe.js stand-in and signed webhooks, a real Celery worker on Redis
and the SMTP sink. What a customer does and gets, checked from the outside."""

import io
import json
import re
import zipfile

import pytest

from portal.models import EmailRecord, Order, StripeEvent
from portal.services import l10n

from tests.portal.invoicekit import figures, pdf_text
from tests.portal.shopping import NEEDS_3DS, VISA, buy, make_release, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOMTOM = "tomtom-go-classic"


@pytest.fixture
def shop(settings, tmp_path, live_server, localstripe, smtp_sink, celery_worker_process):
    settings.SITE_URL = live_server.url
    release = make_release(tmp_path)
    localstripe.register_webhook(live_server.url + "/stripe/webhook/")
    return release


def fill_card(page, email, number=VISA, billing_country=None):
    """The email, the billing country and the card, typed into the checkout (localstripe's card fields)."""
    page.wait_for_selector("#card input[placeholder=number]")
    page.fill("#email", email)
    if billing_country:
        page.select_option("select[name=billing_country]", billing_country)
    page.fill("#card input[placeholder=number]", number)
    page.fill("#card input[placeholder=exp_month]", "12")
    page.fill("#card input[placeholder=exp_year]", "34")
    page.fill("#card input[placeholder=cvc]", "123")
    page.fill("#card input[placeholder=postal_code]", "75001")
    if page.locator("#legal_ack").count():  # the coverage holds a country with a legal note
        page.check("#legal_ack")


def pay_in_browser(page, base, device, email, *, mobile=False, coverage=None, fr_zone_mode=None, number=VISA,
                   three_ds=False, billing_country=None):
    page.goto(f"{base}/devices/{device}/")
    assert page.locator("aside.install li").count() >= 3          # instructions before buying
    if mobile:
        page.check("input[name=mobile]")
    if coverage:
        page.select_option("select[name=coverage]", coverage)
    if fr_zone_mode:  # the France choice shows once the coverage includes France
        page.select_option("select[name=fr_zone_mode]", fr_zone_mode)
    page.click("button:has-text('Buy')")
    fill_card(page, email, number, billing_country)
    page.click("#pay")
    if three_ds:  # localstripe's 3-D Secure window: once, for the payment (not for saving the card)
        page.click("text=Complete authentication", timeout=20_000)
    page.wait_for_url(re.compile(r"/orders/[0-9a-f-]{36}/$"), timeout=30_000)
    page.wait_for_selector("#download", timeout=60_000)
    return Order.objects.get(public_id=page.url.rstrip("/").split("/")[-1])


def mails_to(smtp_sink, email):
    return [m.message for m in smtp_sink.messages if email in m.rcpt_tos]


def subject(message) -> str:
    return " ".join(str(message["Subject"]).split())  # unfolded, as a mail client shows it


def password_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"Password:\s*(\S+)", text).group(1)


def log_in(page, base, email, password):
    page.goto(f"{base}/account/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{base}/account/")


def settled(worker, order) -> None:
    """Everything that can still happen for the order has: localstripe's webhook for its
    payment (sent about a second after it) was processed, and the worker has nothing queued
    or held. Then "each email once" is a fact, not a guess after a sleep."""
    def webhook_processed():
        return any(event.payload.get("data", {}).get("object", {}).get("id") == order.payment_intent
                   for event in StripeEvent.objects.filter(type="payment_intent.succeeded",
                                                           processed_at__isnull=False))

    order.refresh_from_db()
    assert wait_for(webhook_processed, 30), "localstripe's payment_intent.succeeded was not processed"
    worker.wait_idle()


def test_a_new_visitor_buys_a_tomtom_file_with_mobile_cameras_and_gets_the_three_emails(shop, live_server, page,
                                                                                    smtp_sink, celery_worker_process):
    base = live_server.url
    page.goto(base + "/")
    page.click(f"a[href='/devices/{TOMTOM}/']")
    assert "Installation" in page.inner_text("aside.install")
    # exact positions, chosen on purpose: the default danger zones (French law) have no mobile files
    order = pay_in_browser(page, base, TOMTOM, "nina@example.com", mobile=True, coverage="FR", fr_zone_mode="exact",
                           billing_country="DE")
    assert order.fr_zone_mode == "exact" and order.billing_country == "DE"
    assert order.status == Order.Status.PAID and order.mobile and order.amount == 2490

    # the download button on the success page gives the package
    with page.expect_download() as download:
        page.click("#download")
    data = open(download.value.path(), "rb").read()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert manifest["device"]["id"] == TOMTOM and manifest["options"]["mobile"] is True
    assert manifest["counts"]["by_country"].keys() == {"FR"}

    assert smtp_sink.wait_for(3, timeout=30)
    messages = mails_to(smtp_sink, "nina@example.com")
    subjects = sorted(subject(m) for m in messages)
    invoice = order.invoices.get()
    assert subjects == ["Your customer panel login",
                        f"Your receipt: invoice {invoice.number} for TomTom GO classic (x20/x30/x40/x50, NavCore)",
                        "Your speed camera file for TomTom GO classic (x20/x30/x40/x50, NavCore)"]
    # the receipt: what was bought, until when updates come, and the invoice PDF with German VAT
    receipt = next(m for m in messages if subject(m).startswith("Your receipt"))
    receipt_text = receipt.get_body(("plain",)).get_content()
    assert "€24.90" in receipt_text and "VAT 19 %: €3.98" in receipt_text
    assert f"Updates are included until {l10n.date(invoice.updates_until)}." in receipt_text
    [pdf] = list(receipt.iter_attachments())
    assert pdf.get_filename() == f"{invoice.number}.pdf" and pdf.get_content_type() == "application/pdf"
    assert figures(pdf_text(pdf.get_content())) == {"number": invoice.number, "net": 2092, "vat": 398,
                                                    "total": 2490, "rate": "19"}
    file_mail = next(m for m in messages if subject(m).startswith("Your speed camera file"))
    [attachment] = list(file_mail.iter_attachments())
    package = zipfile.ZipFile(io.BytesIO(attachment.get_content()))
    assert package.testzip() is None
    assert json.loads(package.read("manifest.json"))["counts"]["by_type"]  # a valid package
    assert any(name.endswith(".ov2") and "Mobile" in name for name in package.namelist())
    assert "Copy every .ov2 file" in file_mail.get_body(("plain",)).get_content()

    account_mail = next(m for m in messages if subject(m) == "Your customer panel login")
    log_in(page, base, "nina@example.com", password_in(account_mail))
    assert "TomTom GO classic" in page.inner_text("#purchases")
    # each email went out once, even though the webhook and the success page both fulfilled
    settled(celery_worker_process, order)
    assert len(mails_to(smtp_sink, "nina@example.com")) == 3
    assert EmailRecord.objects.filter(order=order, sent_at__isnull=False).count() == 3
    # the panel lists the invoice, and its link gives the same PDF
    page.goto(f"{base}/account/")
    link = page.locator(f"#invoices tr[data-invoice='{invoice.number}'] a")
    with page.expect_download() as download:
        link.click()
    assert open(download.value.path(), "rb").read() == pdf.get_content()


def test_a_returning_customer_buys_for_a_second_device_and_finds_both_in_one_account(shop, live_server, page,
                                                                                   smtp_sink):
    base = live_server.url
    pay_in_browser(page, base, TOMTOM, "omar@example.com")
    assert smtp_sink.wait_for(3, timeout=30)
    password = password_in(next(m for m in mails_to(smtp_sink, "omar@example.com")
                                if subject(m) == "Your customer panel login"))
    pay_in_browser(page, base, "garmin-nuvi", "omar@example.com")
    assert smtp_sink.wait_for(6, timeout=30)  # the login, and for each device its file and receipt
    subjects = [subject(m) for m in mails_to(smtp_sink, "omar@example.com")]
    assert subjects.count("Your customer panel login") == 1
    assert "Garmin nüvi (2x5, 2xx7, 2xx8 series) was added to your customer panel" in subjects
    log_in(page, base, "omar@example.com", password)     # the first password still works
    rows = page.inner_text("#purchases")
    assert "TomTom GO classic" in rows and "Garmin nüvi" in rows
    assert Order.objects.filter(email="omar@example.com").values("user").distinct().count() == 1


def test_a_card_with_3d_secure_is_authenticated_in_the_browser(shop, live_server, page, smtp_sink):
    order = pay_in_browser(page, live_server.url, "igo-primo", "sara@example.com", number=NEEDS_3DS,
                           three_ds=True)
    assert order.status == Order.Status.PAID
    assert smtp_sink.wait_for(2, timeout=30)


def test_a_declined_card_shows_the_reason_and_nothing_is_made(shop, live_server, page, smtp_sink):
    base = live_server.url
    page.goto(f"{base}/devices/{TOMTOM}/checkout/")
    page.wait_for_selector("#card input[placeholder=number]")
    page.fill("#email", "dan@example.com")
    page.fill("#card input[placeholder=number]", "4000000000000002")
    page.fill("#card input[placeholder=exp_month]", "12")
    page.fill("#card input[placeholder=exp_year]", "34")
    page.fill("#card input[placeholder=cvc]", "123")
    page.check("#legal_ack")  # the default coverage holds France and Germany
    page.click("#pay")
    page.wait_for_selector("#message:has-text('declined')")
    assert Order.objects.get(email="dan@example.com").user is None
    assert smtp_sink.messages == []


# ---------------------------------------------------------------------------------------
# failures: the worker down, SMTP down (server-side purchases, the same real services)


def test_with_the_worker_down_the_order_stays_paid_and_the_file_comes_when_it_returns(shop, client, smtp_sink,
                                                                                      celery_worker_process):
    celery_worker_process.stop()
    order = buy(client, email="wes@example.com")
    state = client.get(f"/orders/{order.public_id}/status.json").json()
    assert state["paid"] is True and state["file_ready"] is False
    assert smtp_sink.messages == []
    celery_worker_process.start()
    assert wait_for(lambda: client.get(f"/orders/{order.public_id}/status.json").json()["file_ready"], 60)
    assert smtp_sink.wait_for(2, timeout=30)


def test_with_smtp_down_the_file_is_ready_and_the_emails_go_out_once_it_is_back(shop, client, smtp_sink,
                                                                               celery_worker_process):
    smtp_sink.stop()
    order = buy(client, email="ivy@example.com")
    assert wait_for(lambda: client.get(f"/orders/{order.public_id}/status.json").json()["file_ready"], 60)
    assert wait_for(lambda: EmailRecord.objects.filter(order=order).exclude(last_error="").exists(), 30)
    assert not EmailRecord.objects.filter(order=order, sent_at__isnull=False).exists()
    smtp_sink.start()
    assert smtp_sink.wait_for(3, timeout=60)     # the retries (5 s, then 10 s, ...) deliver them
    assert wait_for(lambda: sorted(EmailRecord.objects.filter(order=order, sent_at__isnull=False)
                                   .values_list("kind", flat=True)) == ["account", "file", "receipt"], 10)
    # a duplicate would come from a task retried after its email went out (or from the webhook)
    settled(celery_worker_process, order)
    assert len(mails_to(smtp_sink, "ivy@example.com")) == 3   # none twice
