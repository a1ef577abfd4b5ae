"""Error reports: the customer's form (text and screenshot limits, type checked by content),
staff actions in the admin (repackage -> the rebuilt file emailed once; refund against
localstripe -> the order refunded and its download link 404), and what the customer sees."""

import io
import os

import pytest
import stripe
from django.core import mail
from django.urls import reverse
from PIL import Image

from portal.services import links, reports
from portal.models import EmailRecord, ErrorReport, Order
from portal.services.packages import store_path

from tests.portal.services.test_subscriptions import order, panel_page, shop  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def image(fmt="PNG", size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def upload(name, data, content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def report(client, order, **data):
    return client.post(reverse("panel-report", args=[order.public_id]), data)


def test_a_report_with_a_screenshot_is_filed_and_shown_with_its_status(client, order):
    response = report(client, order, text="My TomTom says 'file corrupt'", screenshot=upload("s.png", image()))
    assert response.status_code == 302
    [filed] = ErrorReport.objects.filter(order=order)
    assert filed.screenshot_type == "image/png" and bytes(filed.screenshot) == image()
    page = panel_page(client, order)
    assert "file corrupt" in page and "we are looking into it" in page and 'data-status="open"' in page
    jpeg = report(client, order, text="again", screenshot=upload("s.jpg", image("JPEG"), "image/jpeg"))
    assert jpeg.status_code == 302 and ErrorReport.objects.filter(screenshot_type="image/jpeg").count() == 1


@pytest.mark.parametrize("name, data, message", [
    ("shot.png", b"just some text, not an image", "must be a PNG or JPEG image"),
    ("shot.png", b"GIF89a" + b"\0" * 100, "must be a PNG or JPEG image"),
    ("shot.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "could not be read as an image"),
    ("shot.jpg", b"\xff\xd8\xff" + b"<?php evil(); ?>" * 20, "could not be read as an image"),
])
def test_a_forged_screenshot_is_refused_by_its_content_not_its_name(client, order, name, data, message):
    response = report(client, order, text="crash", screenshot=upload(name, data))
    assert response.status_code == 400 and message in response.content.decode()
    assert not ErrorReport.objects.exists()


def test_an_oversized_screenshot_or_text_is_refused_with_the_limit(client, order, settings):
    settings.REPORT_MAX_BYTES = 150_000
    noisy = io.BytesIO()
    Image.frombytes("RGB", (250, 250), os.urandom(250 * 250 * 3)).save(noisy, "PNG")   # a real PNG, ~188 KB
    assert 150_000 < len(noisy.getvalue()) < 200_000
    response = report(client, order, text="crash", screenshot=upload("big.png", noisy.getvalue()))
    assert response.status_code == 400 and "the limit is 146.5\xa0KB" in response.content.decode()
    settings.REPORT_MAX_BYTES = 2 * 1024 * 1024
    huge = b"\x89PNG\r\n\x1a\n" + os.urandom(3 * 1024 * 1024)   # the body is over the screenshot limit too
    response = report(client, order, text="The A7 camera is 2 km off", screenshot=upload("huge.png", huge))
    page = response.content.decode()
    assert response.status_code == 400 and "the limit is 2.0\xa0MB" in page
    assert "The A7 camera is 2 km off</textarea>" in page   # the customer's text is kept on the re-shown form
    response = report(client, order, text="x" * (settings.REPORT_MAX_CHARS + 1))
    assert response.status_code == 400 and "under 4000 characters" in response.content.decode()
    response = report(client, order, text="  ")
    assert response.status_code == 400 and "Please describe the error" in response.content.decode()
    assert not ErrorReport.objects.exists()


def admin_action(client, action, report_ids, admin_user):
    client.force_login(admin_user)
    return client.post(reverse("admin:portal_errorreport_changelist"),
                       {"action": action, "_selected_action": [str(i) for i in report_ids]}, follow=True)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser(email="staff@example.com", password="s" * 12)


def test_repackage_rebuilds_the_file_and_emails_it_once(client, order, staff):
    report(client, order, text="Garbled names on my device")
    filed = ErrorReport.objects.get()
    path = store_path(order.package_key)
    path.write_bytes(b"a corrupted file")                # what the customer got was broken
    ErrorReport.objects.filter(pk=filed.pk).update(outcome="We rebuilt the file with the names fixed.")
    page = admin_action(client, "repackage", [filed.pk], staff).content.decode()
    assert "the file is being rebuilt" in page
    filed.refresh_from_db()
    assert filed.status == "repackaged" and filed.resolved_at
    assert path.read_bytes()[:2] == b"PK"                  # rebuilt: a zip again
    [message] = mail.outbox
    assert message.subject.startswith("Your rebuilt speed camera file") and message.to == [order.email]
    assert "We rebuilt the file with the names fixed." in message.body
    assert message.attachments[0][1] == path.read_bytes()
    # a second run of the task (a redelivery) and a second action send nothing more
    assert reports.rebuild_and_send(filed.pk) is False
    page = admin_action(client, "repackage", [filed.pk], staff).content.decode()
    assert "already a new file was sent" in page
    assert len(mail.outbox) == 1
    assert EmailRecord.objects.filter(order=order, kind="repackaged", key=str(filed.pk)).count() == 1
    client.force_login(order.user)
    page = panel_page(client, order)
    assert 'data-status="repackaged"' in page and "We rebuilt the file with the names fixed." in page


def test_refund_refunds_through_stripe_revokes_the_link_and_tells_the_customer(client, order, staff):
    link = links.download_url(order, order.package_key)
    assert client.get(link).status_code == 200
    report(client, order, text="Does not load at all")
    filed = ErrorReport.objects.get()
    page = admin_action(client, "refund", [filed.pk], staff).content.decode()
    assert "refunded; the customer is told by email" in page
    order.refresh_from_db()
    filed.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and filed.status == "refunded"
    assert [r.payment_intent for r in stripe.Refund.list(limit=100).data] == [order.payment_intent]
    assert client.get(link).status_code == 404
    # the outcome, and the refund's credit note (a receipt with its PDF)
    message, credit_note = sorted(mail.outbox, key=lambda m: "credit note" in m.subject)
    assert message.subject.endswith(": refunded") and "The refund of €24.90 goes back" in message.body
    [cn] = order.invoices.filter(kind="credit-note")
    assert cn.gross == -2490 and cn.credited.reason == "purchase"
    assert credit_note.subject == f"Your refund: credit note {cn.number}" and credit_note.attachments[0][0] == f"{cn.number}.pdf"
    # the order's downloads are revoked in the panel too, and reporting again is refused
    client.force_login(order.user)
    assert client.get(reverse("panel-order", args=[order.public_id])).status_code == 404


def test_refund_of_an_upgraded_purchase_ends_the_subscription_and_refunds_both_payments(client, order, staff):
    client.post(reverse("panel-upgrade", args=[order.public_id]))
    order.refresh_from_db()
    report(client, order, text="wrong country")
    admin_action(client, "refund", [ErrorReport.objects.get().pk], staff)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.subscription_status == "ended"
    assert stripe.Subscription.retrieve(order.subscription_id).status == "canceled"
    assert sorted(r.amount for r in stripe.Refund.list(limit=100).data) == [1000, 2490]
    # each refunded payment is credited against its own invoice
    credits = {cn.credited.reason: cn.gross for cn in order.invoices.filter(kind="credit-note")}
    assert credits == {"purchase": -2490, "upgrade": -1000}


def test_the_order_admin_refunds_too(client, order, staff):
    client.force_login(staff)
    page = client.post(reverse("admin:portal_order_changelist"),
                       {"action": "refund_orders", "_selected_action": [str(order.pk)]}, follow=True).content.decode()
    assert "refunded" in page
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_close_tells_the_outcome_once_and_the_admin_shows_the_screenshot(client, order, staff):
    report(client, order, text="How do I install it?", screenshot=upload("s.png", image()))
    filed = ErrorReport.objects.get()
    client.force_login(staff)
    change = client.get(reverse("admin:portal_errorreport_change", args=[filed.pk])).content.decode()
    assert 'src="data:image/png;base64,' in change
    admin_action(client, "close", [filed.pk], staff)
    admin_action(client, "close", [filed.pk], staff)
    [message] = mail.outbox
    assert "We looked into your report and closed it." in message.body


def test_another_customer_cannot_report_on_a_purchase(client, order, django_user_model):
    eve = django_user_model.objects.create_user(email="eve@example.com", password="e" * 12)
    client.force_login(eve)
    assert report(client, order, text="spam").status_code == 404
    assert not ErrorReport.objects.exists()
