"""Smoke tests of the real services end-to-end tests run on (tests/services.py)."""

import threading
import time

import pytest
from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.core.signals import request_finished, request_started
from django.db import connection

from tests.services import REQUESTS_IN_FLIGHT, quiet_before_flush, wait_until


def test_stripe_payment_on_localstripe_and_a_signed_webhook(localstripe, webhook_sink):
    import stripe

    localstripe.register_webhook(webhook_sink.url, events=["payment_intent.succeeded"])
    customer = stripe.Customer.create(email="buyer@example.com")
    setup = stripe.SetupIntent.create(customer=customer.id, payment_method_types=["card"])
    assert setup.client_secret and setup.customer == customer.id
    intent = stripe.PaymentIntent.create(amount=1990, currency="eur", customer=customer.id,
                                         payment_method="pm_card_visa", confirm=True, metadata={"order": "42"})
    assert intent.status == "succeeded" and intent.amount == 1990

    delivery = webhook_sink.wait_for(lambda d: d.json()["data"]["object"]["id"] == intent.id, timeout=10)
    event = stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"],
                                           localstripe.webhook_secret)
    assert event.type == "payment_intent.succeeded" and event.data.object.metadata["order"] == "42"
    with pytest.raises(stripe.error.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"], "whsec_wrong")
    # The settings the shop reads point at this worker's localstripe, never api.stripe.com.
    assert settings.STRIPE_API_BASE == localstripe.url and settings.STRIPE_JS_URL.startswith("http://localhost:")


def test_send_mail_reaches_the_smtp_sink_and_smtp_down_is_an_error(smtp_sink):
    mail = EmailMessage("Your files", "Hello, here they are.", "shop@localhost", ["anna@example.com"])
    mail.attach("cameras.zip", b"PK\x05\x06" + bytes(18), "application/zip")
    mail.send()
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == ["anna@example.com"]
    assert received.message["Subject"] == "Your files"
    assert received.message.get_body(("plain",)).get_content().strip() == "Hello, here they are."
    [attachment] = list(received.message.iter_attachments())
    assert attachment.get_filename() == "cameras.zip" and attachment.get_content() == b"PK\x05\x06" + bytes(18)

    smtp_sink.reject()
    with pytest.raises(Exception, match="451"):
        send_mail("Again", "body", "shop@localhost", ["anna@example.com"])
    assert smtp_sink.rejected == 1
    smtp_sink.stop()
    with pytest.raises(ConnectionRefusedError):
        send_mail("Again", "body", "shop@localhost", ["anna@example.com"])
    smtp_sink.accept()
    smtp_sink.start()
    send_mail("Again", "body", "shop@localhost", ["anna@example.com"])
    assert [m.message["Subject"] for m in smtp_sink.wait_for(2)] == ["Your files", "Again"]


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_runs_ping_on_the_test_database_and_survives_a_kill(celery_worker_process):
    from portal.tasks import ping

    result = ping.delay("first").get(timeout=30)
    assert result["pong"] == "first" and result["pid"] == celery_worker_process.pid
    assert result["db_vendor"] == connection.vendor
    assert result["db_name"] == str(settings.DATABASES["default"]["NAME"]) and result["migrations"] > 0

    # Killed hard in the middle of a task (acks_late): a restarted worker runs it again, as
    # soon as Redis's visibility timeout (here 1 s; in production an hour) has passed.
    pending = ping.delay("second", sleep=1.5)
    assert wait_until(lambda: f"[{pending.id}] received" in celery_worker_process.log_text(), 15)
    killed_pid = celery_worker_process.pid
    celery_worker_process.kill()
    assert not celery_worker_process.alive
    celery_worker_process.start(CELERY_VISIBILITY_TIMEOUT=1)
    again = pending.get(timeout=30)
    assert again["pong"] == "second" and again["pid"] == celery_worker_process.pid not in {killed_pid, result["pid"]}


@pytest.mark.django_db(transaction=True)
def test_before_the_database_is_emptied_the_worker_finishes_its_task_or_is_stopped(celery_worker_process):
    from portal.tasks import ping

    worker = celery_worker_process
    running = ping.delay("late", sleep=1.0)  # e.g. the order emails, sent after the download showed
    assert wait_until(lambda: f"[{running.id}] received" in worker.log_text(), 15)
    started = time.monotonic()
    assert quiet_before_flush([worker]) == []
    assert running.ready() and running.get()["pong"] == "late"  # waited for, not cut short
    assert time.monotonic() - started < 10 and worker.alive

    hanging = ping.delay("hangs", sleep=3.0)  # longer than the wait: the worker is stopped
    assert wait_until(lambda: f"[{hanging.id}] received" in worker.log_text(), 15)
    left = quiet_before_flush([worker], timeout=0.5)
    assert left == [f"worker {worker.name}: unacked: 1"]
    assert not worker.alive  # a warm stop: the task ran to its end, nothing runs during the flush
    assert hanging.get(timeout=5)["pong"] == "hangs"


def test_a_request_another_thread_is_handling_is_waited_for():
    finish = threading.Event()

    def live_server_thread():  # what Django's handler sends around a request
        request_started.send(sender=None, environ={})
        finish.wait(10)
        request_finished.send(sender=None)

    thread = threading.Thread(target=live_server_thread)
    thread.start()
    try:
        assert wait_until(lambda: REQUESTS_IN_FLIGHT.running() == 1, 5)
        assert quiet_before_flush([], timeout=0.3) == ["1 live-server request(s)"]
        threading.Timer(0.5, finish.set).start()
        started = time.monotonic()
        assert quiet_before_flush([]) == []
        assert time.monotonic() - started >= 0.5 and REQUESTS_IN_FLIGHT.running() == 0
    finally:
        finish.set()
        thread.join(10)


@pytest.mark.django_db(transaction=True)
def test_chromium_opens_the_home_page_without_reaching_the_internet(live_server, page):
    response = page.goto(live_server.url + "/")
    assert response is not None and response.status == 200
    assert page.title().strip() or page.locator("h1").first.inner_text().strip()
    assert page.blocked_requests == []


def test_the_page_guard_records_requests_to_the_internet(browser):
    # The guard itself, on a page of our own that asks for an external script and a map tile.
    from tests.services import guarded_page

    gen = guarded_page(browser)
    page = next(gen)
    tile = settings.MAP_TILES_URL.replace("{s}", "a").format(z=1, x=0, y=0) if settings.MAP_TILES_URL else ""
    page.set_content(f'<script src="https://example.com/x.js"></script><img src="{tile}">')
    page.wait_for_timeout(200)
    assert page.blocked_requests == ["https://example.com/x.js"]
    with pytest.raises(pytest.fail.Exception, match="tried to reach the internet"):
        next(gen)
