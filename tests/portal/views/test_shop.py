"""The shop without the browser: options and prices, the webhook (signed for real), idempotent
fulfilment, emails sent once, signed downloads, and orders visible to their owner only.

Stripe itself is exercised against localstripe in test_shop_stripe.py and end to end in
test_shop_e2e.py; here webhook payloads are signed with the webhook secret exactly as
Stripe signs them."""

import hashlib
import hmac
import io
import json
import smtplib
import time
import zipfile

import pytest
from django.core import mail
from django.urls import reverse

from cameras import demo
from cameras.importing import import_file
from cameras.releases import publish_release
from portal.services import emails, fulfilment, links
from portal.models import EmailRecord, Order, StripeEvent, User
from portal.services.pricing import BASE_PRICES, MOBILE_SURCHARGE

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_secret"


@pytest.fixture
def release(tmp_path, settings):
    settings.PACKAGES_DIR = tmp_path / "packages"
    path = tmp_path / "demo.csv"
    demo.write_csv(path, demo.generate(500, seed=3))
    import_file(path, source="demo", fmt="csv")
    return publish_release()


@pytest.fixture
def eager(settings):
    """Celery tasks run in the test process when their transaction commits."""
    from portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _shop_settings(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://shop.example"


def sign(payload: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(kind: str, obj: dict, event_id: str = "evt_1") -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "api_version": "2020-08-27",
                       "created": int(time.time()), "data": {"object": obj}}).encode()


def post_event(client, payload: bytes, signature: str | None = None):
    return client.post(reverse("webhook-stripe"), data=payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signature if signature is not None else sign(payload))


def new_order(**kw) -> Order:
    fields = dict(email="ana@example.com", device_id="tomtom-go-classic", mobile=True, coverage=["FR"],
                  amount=BASE_PRICES["pnd"] + MOBILE_SURCHARGE, payment_intent="pi_123")
    fields.update(kw)
    return Order.objects.create(**fields)


def succeeded(order: Order, event_id="evt_1") -> bytes:
    return event("payment_intent.succeeded", {"id": order.payment_intent, "object": "payment_intent",
                                              "status": "succeeded", "metadata": {"order": str(order.public_id)}},
                 event_id)


# ---------------------------------------------------------------------------------------
# device page, options, prices


def test_the_device_page_shows_options_price_and_the_installation_steps(client, release):
    page = client.get(reverse("shop-device", args=["tomtom-go-classic"])).content.decode()
    assert "Installation" in page and "Connect the TomTom" in page
    assert 'name="mobile"' in page           # the release has mobile cameras and the device shows them
    assert 'name="icons"' in page            # TomTom can swap icon sets (France)
    assert "€19.90" in page


def test_mobile_is_not_offered_where_the_device_cannot_show_it(client, release):
    page = client.get(reverse("shop-device", args=["mercedes-comand"])).content.decode()
    assert 'name="mobile"' not in page
    assert "cannot swap icon sets" in page


def test_an_unknown_device_is_404(client, release):
    assert client.get(reverse("shop-device", args=["nokia-3310"])).status_code == 404


def test_size_json_gives_the_size_against_the_limit_and_the_price(client, release):
    data = client.get(reverse("shop-device-size", args=["garmin-nuvi"]), {"coverage": "FR", "mobile": "on"}).json()
    assert data["price"] == "€24.90" and data["max_pois"] == 50_000
    assert data["fits"] is True and 0 < data["pois"] < 500


def test_an_option_the_device_does_not_offer_is_refused_with_the_reason(client, release):
    r = client.post(reverse("shop-checkout-start", args=["mercedes-comand"]), {"email": "a@example.com", "mobile": "on"})
    assert r.status_code == 400
    assert "cannot show mobile cameras" in json.dumps(r.json())
    assert Order.objects.count() == 0


def test_an_invalid_email_is_refused(client, release):
    r = client.post(reverse("shop-checkout-start", args=["igo-primo"]), {"email": "not-an-email"})
    assert r.status_code == 400 and "email" in r.json()["errors"]
    assert Order.objects.count() == 0


def test_a_coverage_the_device_does_not_allow_is_refused(client, release):
    r = client.post(reverse("shop-checkout-start", args=["sygic-android"]), {"email": "a@example.com", "coverage": "FR"})
    assert r.status_code == 400 and "default coverage only" in json.dumps(r.json())


# ---------------------------------------------------------------------------------------
# webhook


def test_a_webhook_with_a_bad_signature_is_400_and_changes_nothing(client, release):
    order = new_order()
    payload = succeeded(order)
    for signature in ("", "t=1,v1=deadbeef", sign(payload, secret="whsec_other")):
        assert post_event(client, payload, signature).status_code == 400
    assert post_event(client, payload, sign(payload, timestamp=int(time.time()) - 3600)).status_code == 400  # stale
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and StripeEvent.objects.count() == 0


def test_a_signed_payment_event_fulfils_the_order_once(client, release, eager, django_capture_on_commit_callbacks):
    order = new_order()
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, succeeded(order)).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.fulfilled_at and order.user.email == "ana@example.com"
    assert order.package_key and order.release == release
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == ["Your customer panel login",
                        "Your receipt: invoice INV-%d-000001 for TomTom GO classic (x20/x30/x40/x50, NavCore)"
                        % order.paid_at.year,
                        "Your speed camera file for TomTom GO classic (x20/x30/x40/x50, NavCore)"]
    # a replayed event, and a second event for the same payment: no-ops
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, succeeded(order)).content == b"already received"
        assert post_event(client, succeeded(order, event_id="evt_2")).status_code == 200
    assert len(mail.outbox) == 3 and User.objects.count() == 1
    assert StripeEvent.objects.count() == 2


def test_a_failed_payment_makes_no_account_and_no_file(client, release):
    order = new_order()
    payload = event("payment_intent.payment_failed", {"id": "pi_123", "object": "payment_intent",
                                                      "last_payment_error": {"message": "Your card was declined."},
                                                      "metadata": {"order": str(order.public_id)}})
    assert post_event(client, payload).status_code == 200
    order.refresh_from_db()
    # Stripe's reason, and what to do
    assert order.status == Order.Status.FAILED
    assert order.failure_message == "Your card was declined. Try another card, or ask your bank why"
    assert User.objects.count() == 0 and EmailRecord.objects.count() == 0 and mail.outbox == []


def test_a_refund_event_revokes_the_downloads(client, release, eager, django_capture_on_commit_callbacks):
    order = new_order()
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, succeeded(order))
    order.refresh_from_db()
    url = links.download_url(order, order.package_key)
    assert client.get(url).status_code == 200
    post_event(client, event("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_123"},
                             "evt_refund"))
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert client.get(url).status_code == 404


# ---------------------------------------------------------------------------------------
# fulfilment and emails


def test_fulfilment_called_twice_does_the_work_once(release, eager, django_capture_on_commit_callbacks):
    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fulfilment.fulfil(order.pk)
        fulfilment.fulfil(order.pk)
        fulfilment.payment_succeeded(order.pk)
    builds = [c for c in callbacks if "build_order_package" in repr(c)]
    assert len(builds) == 1  # one package build queued (which then queued the two emails)
    assert EmailRecord.objects.filter(order=order).count() == 3  # and the receipt
    assert len(mail.outbox) == 3 and order.invoices.count() == 1


def test_a_returning_customer_gets_the_device_added_not_a_new_password(release, eager,
                                                                       django_capture_on_commit_callbacks):
    first = new_order(status=Order.Status.PAID)
    second = new_order(status=Order.Status.PAID, device_id="garmin-nuvi", payment_intent="pi_456",
                       email="ANA@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(second.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.user == second.user and User.objects.count() == 1
    kinds = sorted(EmailRecord.objects.values_list("order__device_id", "kind"))
    assert kinds == [("garmin-nuvi", "device-added"), ("garmin-nuvi", "file"), ("garmin-nuvi", "receipt"),
                     ("tomtom-go-classic", "account"), ("tomtom-go-classic", "file"), ("tomtom-go-classic", "receipt")]
    assert [m.subject for m in mail.outbox].count("Your customer panel login") == 1


def test_the_emailed_password_logs_in_and_the_file_is_a_valid_package(client, release, eager,
                                                                      django_capture_on_commit_callbacks):
    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(order.pk)
    account = next(m for m in mail.outbox if m.subject == "Your customer panel login")
    password = next(line.split(":", 1)[1].strip() for line in account.body.splitlines()
                    if line.strip().startswith("Password:"))
    assert "Login:    ana@example.com" in account.body
    assert client.login(username="ana@example.com", password=password)
    file_mail = next(m for m in mail.outbox if m.subject.startswith("Your speed camera file"))
    name, data, mime = file_mail.attachments[0]
    assert mime == "application/zip" and name == f"speedcams-tomtom-go-classic-r{release.number}.zip"
    zf = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(zf.read("manifest.json"))
    assert zf.testzip() is None and manifest["options"]["mobile"] is True
    assert set(manifest["counts"]["by_country"]) == {"FR"}
    assert "https://shop.example/download/" in file_mail.body and "Connect the TomTom" in file_mail.body


def test_a_large_package_is_linked_not_attached(release, eager, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_ATTACHMENT_MAX_BYTES = 1000
    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(order.pk)
    file_mail = next(m for m in mail.outbox if m.subject.startswith("Your speed camera file"))
    assert file_mail.attachments == [] and "too large to attach" in file_mail.body
    assert "/download/" in file_mail.body


def test_an_email_is_sent_once_even_when_its_task_runs_twice(release, eager, django_capture_on_commit_callbacks):
    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(order.pk)
    assert len(mail.outbox) == 3
    assert emails.send(order.pk, "file") is False
    assert emails.send(order.pk, "account") is False
    assert emails.send(order.pk, "receipt", order.invoices.get().number) is False
    assert len(mail.outbox) == 3


def test_smtp_down_keeps_nothing_and_the_retry_sends_a_working_password(client, release, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=False):
        fulfilment.fulfil(order.pk)
    from portal import tasks

    tasks.build_order_package.apply(args=[order.pk])  # not eager: the email tasks are only queued

    def down(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", down)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        emails.send(order.pk, "account")
    record = EmailRecord.objects.get(order=order, kind="account")
    assert record.sent_at is None
    order.refresh_from_db()
    assert not order.user.has_usable_password()   # no password was kept for an email that did not go out
    monkeypatch.undo()
    assert emails.send(order.pk, "account") is True
    password = next(line.split(":", 1)[1].strip() for line in mail.outbox[-1].body.splitlines()
                    if line.strip().startswith("Password:"))
    assert client.login(username="ana@example.com", password=password)


def test_the_email_task_retries_a_temporary_smtp_error(release, monkeypatch, django_capture_on_commit_callbacks):
    from celery.exceptions import Retry

    from portal import tasks

    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=False):
        fulfilment.fulfil(order.pk)
    tasks.build_order_package.apply(args=[order.pk])

    def refused(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refused)
    monkeypatch.setattr(tasks.send_order_email, "retry", lambda exc, countdown: Retry(exc=exc, when=countdown))
    with pytest.raises(Retry):
        tasks.send_order_email.run(order.pk, "file")
    assert "Connection refused" in EmailRecord.objects.get(order=order, kind="file").last_error


# ---------------------------------------------------------------------------------------
# downloads and ownership


def test_download_links_are_signed_and_expire(client, release, eager, django_capture_on_commit_callbacks):
    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(order.pk)
    order.refresh_from_db()
    url = links.download_url(order, order.package_key)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).testzip() is None
    token = url.rstrip("/").split("/")[-1]
    assert client.get(reverse("download-link", args=[token[:-2] + "xx"])).status_code == 404
    assert client.get("/download/..%2F..%2Fetc%2Fpasswd/").status_code == 404
    later = time.time() + 15 * 24 * 3600  # the links last 14 days
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(time, "time", lambda: later)
        assert client.get(url).status_code == 410


def test_an_expired_link_says_where_to_get_the_file(client, release, eager, settings,
                                                     django_capture_on_commit_callbacks):
    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(order.pk)
    order.refresh_from_db()
    url = links.download_url(order, order.package_key)
    settings.DOWNLOAD_LINK_MAX_AGE = -1
    response = client.get(url)
    assert response.status_code == 410 and b"customer panel" in response.content


def test_an_order_page_is_404_for_another_visitor(client, release):
    order = new_order()
    for name in ("shop-order", "shop-order-status"):
        assert client.get(reverse(name, args=[order.public_id])).status_code == 404
    assert client.post(reverse("shop-order-pay", args=[order.public_id])).status_code == 404
    other = User.objects.create_user("eve@example.com", "pw-eve-123456")
    client.force_login(other)
    assert client.get(reverse("shop-order", args=[order.public_id])).status_code == 404


def test_the_owner_sees_the_order_after_logging_in(client, release, eager, django_capture_on_commit_callbacks):
    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(order.pk)
    order.refresh_from_db()
    client.force_login(order.user)
    state = client.get(reverse("shop-order-status", args=[order.public_id])).json()
    assert state["file_ready"] and state["emails_sent"] == ["account", "file", "receipt"]
    page = client.get(reverse("panel-home")).content.decode()
    assert "TomTom GO classic" in page and state["filename"] in page


def test_the_order_page_opens_from_the_email_link_in_another_browser(client, release, eager,
                                                                     django_capture_on_commit_callbacks):
    order = new_order(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.fulfil(order.pk)
    file_mail = next(m for m in mail.outbox if "ready" in m.body)
    url = next(line.split(": ", 1)[1] for line in file_mail.body.splitlines() if line.startswith("Your order page"))
    assert url.startswith("https://shop.example/orders/")
    path = url.removeprefix("https://shop.example")
    page = client.get(path)   # a browser that never saw the checkout, not logged in
    assert page.status_code == 200 and b"Your file is ready" in page.content
    # the page's polling (no key in its URL) works in that browser from then on
    assert client.get(reverse("shop-order-status", args=[order.public_id])).json()["file_ready"]
    assert url in file_mail.alternatives[0][0]


def test_the_order_page_refuses_a_wrong_or_borrowed_key(client, release):
    order, other = new_order(), new_order(payment_intent="pi_456")
    wrong = links.order_url(other).split("?key=")[1]
    for key in (wrong, "", "x" * 27, links.order_token(order) + "x"):
        assert client.get(reverse("shop-order", args=[order.public_id]), {"key": key}).status_code == 404
    assert client.get(reverse("shop-order-status", args=[order.public_id])).status_code == 404


def test_a_signed_in_customer_sees_their_order_before_its_payment_makes_them_its_owner(client, release):
    customer = User.objects.create_user("ana@example.com", "pw-ana-123456")
    order = new_order()   # placed from another browser with the customer's address; no user yet
    client.force_login(customer)
    assert client.get(reverse("shop-order", args=[order.public_id])).status_code == 200
    client.force_login(User.objects.create_user("eve@example.com", "pw-eve-123456"))
    assert client.get(reverse("shop-order", args=[order.public_id])).status_code == 404


def test_a_tampered_product_or_amount_in_the_checkout_is_ignored(client, release, monkeypatch):
    """The device comes from the URL and the amount from the server, whatever is posted."""
    from portal.services import payments

    monkeypatch.setattr(payments, "save_card", lambda order, token: "card_x")
    r = client.post(reverse("shop-checkout-start", args=["igo-primo"]),
                    {"email": "a@example.com", "device": "garmin-nuvi", "device_id": "garmin-nuvi", "amount": "1",
                     "currency": "usd", "checkout": "0b7e2a52-6f1e-4a51-9d0b-6a8a2d1c3e4f", "token": "tok_x",
                           "legal_ack": "on"})
    assert r.status_code == 200
    order = Order.objects.get()
    assert order.device_id == "igo-primo" and order.amount == BASE_PRICES["pnd"] and order.currency == "eur"


def test_the_checkout_page_prefills_the_email_of_a_customer_adding_a_device(client, release):
    page = client.get(reverse("shop-checkout", args=["igo-primo"]), {"email": "bo@example.com"}).content.decode()
    assert 'value="bo@example.com"' in page
    user = User.objects.create_user("cy@example.com", "pw-cy-1234567")
    client.force_login(user)
    assert 'value="cy@example.com"' in client.get(reverse("shop-checkout", args=["igo-primo"])).content.decode()
