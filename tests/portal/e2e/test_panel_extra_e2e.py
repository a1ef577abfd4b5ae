"""The panel's per-purchase actions end to end, where a person clicks: headless Chromium on
the live server, purchases paid on localstripe, packages built and emails sent by a real
Celery worker, mail read from the SMTP sink, staff acting in the Django admin in a second
browser. Time: time-machine moves the clock of this process (the test and the live server
thread); localstripe and the worker keep their own.

- the annual upgrade on day 6: one click, the difference charged to the saved card
  (Subscription, Plan, credit and Invoice in localstripe); on day 8: no button, and a forged
  POST is refused by the server with the reason;
- an error report (text and a PNG screenshot) -> staff repackage it in the admin -> the
  rebuilt file is emailed once and the customer sees the status and outcome;
- an error report -> staff refund it in the admin -> a Stripe Refund for the order's
  PaymentIntent, the download links 404, the outcome emailed."""

import io
import re
import zipfile
from datetime import timedelta

import pytest
import stripe
import time_machine
from django.test import Client
from django.utils import timezone
from PIL import Image

from portal.services import l10n, subscriptions
from portal.services.entitlement import add_months
from portal.models import EmailRecord, ErrorReport, Order
from portal.services.packages import store_path
from tests.services import guarded_page

from tests.portal.panelkit import manifest
from tests.portal.shopping import buy, make_release, wait_for
from tests.portal.e2e.test_panel_e2e import download, log_in, password_for
from tests.portal.e2e.test_shop_e2e import mails_to, subject

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "lea@example.com"


@pytest.fixture
def shop(settings, tmp_path, live_server, localstripe, smtp_sink, celery_worker_process):
    from django.core.cache import cache

    cache.clear()  # login rate limits
    settings.SITE_URL = live_server.url
    return make_release(tmp_path)


@pytest.fixture
def staff_page(browser):
    """A second browser (its own cookies) for the staff member in the admin."""
    yield from guarded_page(browser)


def purchase(**data) -> Order:
    """A TomTom file with mobile cameras (€24.90), paid on localstripe through the shop's
    server flow; waits for the worker to build its file."""
    order = buy(Client(), email=EMAIL, mobile="on", coverage="FR", **data)
    assert wait_for(lambda: Order.objects.get(pk=order.pk).package_key, 60)
    order.refresh_from_db()
    assert order.amount == 2490 and order.plan == "one-time"
    return order


def panel_url(base, order) -> str:
    return f"{base}/account/devices/{order.public_id}/"


def messages(page) -> str:
    return page.inner_text("#messages")


# --------------------------------------------------------------------------- annual upgrade


def test_the_annual_upgrade_on_day_6_charges_the_difference_to_the_saved_card(shop, live_server, page, smtp_sink):
    order = purchase()
    password = password_for(smtp_sink, EMAIL)
    base = live_server.url
    with time_machine.travel(order.paid_at + timedelta(days=6), tick=True):
        log_in(page, base, EMAIL, password)
        page.goto(panel_url(base, order))
        # a one-time purchase: a month of releases; the upgrade: a year from today, renewing
        assert "with 1 month of updates" in page.inner_text("#updates")
        offer = page.inner_text("#upgrade-form")
        assert f"every new release for 12 months from today, until {l10n.date(add_months(timezone.now(), 12))}" in offer
        assert "renewing at €34.90 a year" in offer and "You pay only the difference now, €10.00" in offer
        deadline = order.paid_at + timedelta(days=7)
        assert f"Offered until {l10n.date(deadline)}" in offer
        page.click("#upgrade:has-text('Upgrade for €10.00')")
        page.wait_for_selector("#messages")
        assert page.url == panel_url(base, order)
        said = messages(page)
        assert "Your purchase is now an annual subscription until" in said and "€10.00 was charged" in said, said
        assert page.get_attribute("#subscription", "data-status") == "active"
        assert "Your annual subscription is active" in page.inner_text("#subscription-state")
        assert page.locator("#cancel-renewal").is_visible() and page.locator("#upgrade").count() == 0
        assert "Annual subscription, new releases included until" in page.inner_text("#updates")
        assert "renews on that date" in page.inner_text("#updates")
        page.reload()                                                   # (a second click is not offered)
        assert page.locator("#upgrade").count() == 0

    order.refresh_from_db()
    assert order.plan == "annual" and order.subscription_status == "active" and order.subscription_id
    assert order.status == Order.Status.PAID and order.amount == 2490            # the purchase itself unchanged
    assert f"until {l10n.date(order.subscription_end)}" in said
    assert order.subscription_end == add_months(order.upgraded_at, 12) and order.upgrade_amount == 1000
    # the Stripe side: one subscription on the customer of the purchase, on the annual plan
    [sub] = stripe.Subscription.list(customer=order.stripe_customer, status="all").data
    assert sub.id == order.subscription_id and sub.status == "active"
    assert sub.metadata["order"] == str(order.public_id)
    plan = stripe.Plan.retrieve(subscriptions.plan_id(order))
    assert (plan.amount, plan.currency, plan.interval) == (3490, "eur", "year")  # renewals: the full price
    assert [item.plan.id for item in sub["items"].data] == [plan.id]
    # its first invoice: the plan less a credit for what the purchase cost -> €10.00 paid
    invoice = stripe.Invoice.retrieve(sub.latest_invoice)
    assert invoice.status == "paid" and invoice.amount_paid == 1000
    assert sorted(line.amount for line in invoice.lines.data) == [-2490, 3490]
    charge = stripe.PaymentIntent.retrieve(invoice.payment_intent)
    purchase_intent = stripe.PaymentIntent.retrieve(order.payment_intent)
    assert charge.status == "succeeded" and charge.amount == 1000
    assert charge.payment_method == purchase_intent.payment_method               # the saved card: no card entry
    assert purchase_intent.amount == 2490                                         # the purchase: not charged again


def test_the_annual_upgrade_on_day_8_is_not_offered_and_the_server_refuses_it(shop, live_server, page, smtp_sink):
    order = purchase()
    password = password_for(smtp_sink, EMAIL)
    base = live_server.url
    with time_machine.travel(order.paid_at + timedelta(days=8), tick=True):
        log_in(page, base, EMAIL, password)
        page.goto(panel_url(base, order))
        assert page.locator("#upgrade, #upgrade-form").count() == 0
        assert "the annual upgrade is offered during the first week only" in page.inner_text("#subscription-state")
        # someone rebuilds the form (the action URL and the page's CSRF token) and submits it anyway
        with page.expect_navigation():
            page.evaluate("""(action) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = action;
                const token = document.querySelector("input[name=csrfmiddlewaretoken]").cloneNode();
                form.appendChild(token);
                document.body.appendChild(form);
                form.submit();
            }""", f"/account/purchases/{order.public_id}/upgrade/")
        assert page.url == panel_url(base, order)
        ended = order.paid_at + timedelta(days=7)
        assert page.inner_text("#messages li.error") == (
            "The annual upgrade is offered for 7 days after the purchase; "
            f"for this purchase it ended on {l10n.date(ended)}.")
        assert page.get_attribute("#subscription", "data-plan") == "one-time"
        # and the same POST straight from the browser's HTTP client: refused the same way
        token = page.get_attribute("input[name=csrfmiddlewaretoken]", "value")
        response = page.request.post(f"{base}/account/purchases/{order.public_id}/upgrade/",
                                     form={"csrfmiddlewaretoken": token}, headers={"Referer": page.url})
        assert response.ok and "The annual upgrade is offered for 7 days" in response.text()

    order.refresh_from_db()
    assert order.plan == "one-time" and not order.subscription_id and not order.subscription_status
    assert stripe.Subscription.list(customer=order.stripe_customer, status="all").data == []
    assert stripe.InvoiceItem.list(customer=order.stripe_customer).data == []      # no credit left behind
    assert [pi.amount for pi in stripe.PaymentIntent.list(limit=100).data] == [2490]       # nothing charged


# --------------------------------------------------------------------------- error reports


def screenshot() -> dict:
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 30, 30)).save(out, "PNG")
    return {"name": "device-error.png", "mimeType": "image/png", "buffer": out.getvalue()}


def customer_reports(page, base, order, text) -> ErrorReport:
    """The customer, logged in, opens the purchase and files a report with a screenshot."""
    page.goto(f"{base}/account/")                                      # the panel opens on the purchase
    assert page.get_attribute("#purchase", "data-order") == str(order.public_id)
    assert page.locator("#report-list").count() == 0                  # no reports yet
    form = page.locator("#report-form")
    form.locator("textarea[name=text]").fill(text)
    shot = screenshot()
    form.locator("input[name=screenshot]").set_input_files(shot)
    form.locator("#report-send").click()
    page.wait_for_selector("#messages")
    assert "Thank you: we received your report" in messages(page)
    assert page.url == panel_url(base, order)
    [filed] = ErrorReport.objects.filter(order=order)
    assert filed.text == text and filed.status == "open"
    assert filed.screenshot_type == "image/png" and bytes(filed.screenshot) == shot["buffer"]
    row = page.locator(f"#report-list tr[data-report='{filed.pk}']")
    assert row.get_attribute("data-status") == "open"
    cells = row.locator("td").all_inner_texts()
    assert text in cells[1] and "(with a screenshot)" in cells[1]
    assert cells[2] == "open" and cells[3] == "we are looking into it"
    return filed


def staff_logs_in(staff_page, base, django_user_model):
    django_user_model.objects.create_superuser(email="staff@example.com", password="staff-password-42")
    staff_page.goto(f"{base}/admin/portal/errorreport/")
    staff_page.wait_for_url(re.compile(r"/admin/login/"))
    staff_page.fill("#id_username", "staff@example.com")
    staff_page.fill("#id_password", "staff-password-42")
    staff_page.click("input[type=submit]")
    staff_page.wait_for_url(f"{base}/admin/portal/errorreport/")


def staff_runs_action(staff_page, base, report, action) -> str:
    """In the admin's list of reports: tick the report, choose the action, Go."""
    staff_page.goto(f"{base}/admin/portal/errorreport/")
    staff_page.check(f"input[name=_selected_action][value='{report.pk}']")
    staff_page.select_option("select[name=action]", action)
    staff_page.click("button[name=index]")
    staff_page.wait_for_selector("ul.messagelist")
    return staff_page.inner_text("ul.messagelist")


def test_a_report_repackaged_by_staff_brings_a_rebuilt_file_by_email_once(shop, live_server, page, staff_page,
                                                                         smtp_sink, django_user_model,
                                                                         celery_worker_process):
    order = purchase()
    base = live_server.url
    log_in(page, base, EMAIL, password_for(smtp_sink, EMAIL))
    filed = customer_reports(page, base, order, "My TomTom says 'file corrupt' when loading the cameras")
    path = store_path(order.package_key)
    path.write_bytes(b"a corrupted file")                             # what the customer got was broken

    staff_logs_in(staff_page, base, django_user_model)
    assert "lea@example.com" in staff_page.inner_text("#result_list")
    # the report's page: the text, the screenshot, and an outcome written for the customer
    staff_page.click(f"#result_list a[href$='/errorreport/{filed.pk}/change/']")
    assert "file corrupt" in staff_page.inner_text("#content-main")
    assert staff_page.get_attribute("img[alt=screenshot]", "src").startswith("data:image/png;base64,")
    staff_page.fill("#id_outcome", "We rebuilt your file; the names are fixed.")
    staff_page.click("input[name=_save]")
    staff_page.wait_for_selector("ul.messagelist")
    said = staff_runs_action(staff_page, base, filed, "repackage")
    assert f"Report {filed.pk}: the file is being rebuilt" in said

    def rebuilt_mails():
        return [m for m in mails_to(smtp_sink, EMAIL) if subject(m).startswith("Your rebuilt speed camera file")]

    assert wait_for(lambda: rebuilt_mails(), 60)
    filed.refresh_from_db()
    assert filed.status == "repackaged" and filed.resolved_at
    assert filed.outcome == "We rebuilt your file; the names are fixed."
    [mail] = rebuilt_mails()
    assert "We rebuilt your file; the names are fixed." in mail.get_body(("plain",)).get_content()
    [attachment] = list(mail.iter_attachments())
    rebuilt = path.read_bytes()
    assert rebuilt[:2] == b"PK" and attachment.get_content() == rebuilt  # the rebuilt file, attached
    assert zipfile.ZipFile(io.BytesIO(rebuilt)).testzip() is None
    assert manifest(rebuilt)["release"]["number"] == order.release.number           # the same release, rebuilt
    # a second click on the action is refused (the report is no longer open)
    said = staff_runs_action(staff_page, base, filed, "repackage")
    assert f"Report {filed.pk}: report {filed.pk} is already a new file was sent" in said

    # the customer sees the status and the outcome, and downloads a good file from the panel
    page.reload()
    row = page.locator(f"#report-list tr[data-report='{filed.pk}']")
    assert row.get_attribute("data-status") == "repackaged"
    cells = row.locator("td").all_inner_texts()
    assert cells[2] == "a new file was sent" and cells[3] == "We rebuilt your file; the names are fixed."
    data = download(page)
    assert data["device"]["id"] == "tomtom-go-classic" and data["options"]["mobile"] is True

    # the rebuilt file was emailed once (account, file, receipt, rebuilt; and once the worker has
    # nothing queued or held, no 5th email can come)
    celery_worker_process.wait_idle()
    assert len(rebuilt_mails()) == 1 and len(mails_to(smtp_sink, EMAIL)) == 4
    assert EmailRecord.objects.filter(order=order, kind="repackaged", sent_at__isnull=False).count() == 1


def test_a_report_refunded_by_staff_refunds_the_payment_in_stripe_and_revokes_the_file(
        shop, live_server, page, staff_page, smtp_sink, django_user_model, celery_worker_process):
    order = purchase()
    base = live_server.url
    assert wait_for(lambda: len(mails_to(smtp_sink, EMAIL)) == 3, 30)  # the login, the file, the receipt
    file_mail = next(m for m in mails_to(smtp_sink, EMAIL) if subject(m).startswith("Your speed camera file"))
    # (the worker writes links with its own SITE_URL: the path, on the live server)
    file_text = file_mail.get_body(("plain",)).get_content()
    emailed_link = base + re.search(r"https?://[^/\s]+(/download/\S+)", file_text).group(1)
    log_in(page, base, EMAIL, password_for(smtp_sink, EMAIL))
    filed = customer_reports(page, base, order, "The file does not load at all")
    panel_link = base + page.get_attribute("#download", "href")
    assert page.request.get(emailed_link).status == 200 and page.request.get(panel_link).status == 200

    staff_logs_in(staff_page, base, django_user_model)
    said = staff_runs_action(staff_page, base, filed, "refund")
    assert f"Report {filed.pk}: refunded; the customer is told by email." in said
    assert "refunded" in staff_page.inner_text(f"#result_list tr:has(input[value='{filed.pk}'])")
    said = staff_runs_action(staff_page, base, filed, "refund")        # a second click: refused
    assert f"Report {filed.pk}: report {filed.pk} is already refunded" in said

    # Stripe: one Refund, of the whole payment, for the order's PaymentIntent
    [refund] = stripe.Refund.list(limit=100).data
    assert refund.payment_intent == order.payment_intent and refund.amount == 2490 and refund.status == "succeeded"
    order.refresh_from_db()
    filed.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.refunded_at
    assert filed.status == "refunded"
    assert filed.outcome == "We refunded your purchase in full; the file can no longer be downloaded."

    # the file is gone: both download links give 404, and the purchase left the panel
    assert page.request.get(emailed_link).status == 404
    assert page.request.get(panel_link).status == 404
    assert page.goto(panel_url(base, order)).status == 404
    page.goto(f"{base}/account/")
    assert page.inner_text("#purchases") == "No purchases yet."
    # ... but the refunded purchase is listed read-only with the report's status and outcome
    refunded = page.inner_text("#refunded")
    report = order.reports.get()
    assert "Refunded purchases" in refunded and "refunded" in refunded and report.outcome in refunded
    # the outcome comes by email, once
    assert wait_for(lambda: any(subject(m).endswith(": refunded") for m in mails_to(smtp_sink, EMAIL)), 30)
    [outcome] = [m for m in mails_to(smtp_sink, EMAIL) if subject(m).endswith(": refunded")]
    text = outcome.get_body(("plain",)).get_content()
    assert "We refunded your purchase in full" in text and "The refund of €24.90 goes back" in text
    # account, file, receipt, outcome and the refund's credit note: no 6th
    celery_worker_process.wait_idle()
    assert len(mails_to(smtp_sink, EMAIL)) == 5 and len(stripe.Refund.list(limit=100).data) == 1
    [note] = [m for m in mails_to(smtp_sink, EMAIL) if subject(m).startswith("Your refund: credit note")]
    assert "we refunded €24.90" in note.get_body(("plain",)).get_content()
