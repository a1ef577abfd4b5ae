"""The Stripe webhook judged by its effect, on both databases: a repeated event does its work
once, an old failure does not overwrite a newer one, an event whose processing failed is
processed when Stripe sends it again, and a refunded order is not revived by a late payment
event."""

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone as dt_timezone

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from portal import tasks
from portal.models import EmailRecord, Order, StripeEvent, User
from portal.services import fulfilment
from portal.services.pricing import BASE_PRICES, MOBILE_SURCHARGE

pytestmark = pytest.mark.django_db

SECRET = "whsec_audit_secret"

@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def new_order(**kw) -> Order:
    fields = dict(email="ana@example.com", device_id="tomtom-go-classic", mobile=True, coverage=["FR"],
                  amount=BASE_PRICES["pnd"] + MOBILE_SURCHARGE, payment_intent="pi_audit")
    fields.update(kw)
    return Order.objects.create(**fields)


# --------------------------------------------------------------------------- signed Stripe events


def signed(payload: bytes) -> str:
    """The Stripe-Signature header: ``t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>">``."""
    t = int(time.time())
    return f"t={t},v1={hmac.new(SECRET.encode(), f'{t}.'.encode() + payload, hashlib.sha256).hexdigest()}"


def stripe_event(kind: str, obj: dict, event_id: str) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "api_version": "2020-08-27",
                       "created": int(time.time()), "data": {"object": obj}}).encode()


def succeeded(order: Order, event_id: str) -> bytes:
    return stripe_event("payment_intent.succeeded", {"id": order.payment_intent, "object": "payment_intent",
                                                     "status": "succeeded",
                                                     "metadata": {"order": str(order.public_id)}}, event_id)


def failed(order: Order, message: str, event_id: str) -> bytes:
    return stripe_event("payment_intent.payment_failed", {"id": order.payment_intent, "object": "payment_intent",
                                                          "last_payment_error": {"message": message},
                                                          "metadata": {"order": str(order.public_id)}}, event_id)


def refunded(order: Order, event_id: str) -> bytes:
    return stripe_event("charge.refunded", {"id": "ch_audit", "object": "charge",
                                            "payment_intent": order.payment_intent}, event_id)


def deliver(client, payload: bytes):
    return client.post(reverse("webhook-stripe"), data=payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signed(payload))


@pytest.fixture
def queued_builds(monkeypatch):
    """The package builds handed to Celery (order ids), instead of running them."""
    builds = []
    monkeypatch.setattr(tasks.build_order_package, "delay", lambda order_id: builds.append(order_id))
    return builds


# --------------------------------------------------------------------------- refund, then a late payment event


def test_a_payment_event_after_the_refund_leaves_the_order_refunded_without_emails_or_download(
        client, release, eager, django_capture_on_commit_callbacks):
    order = new_order()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, succeeded(order, "evt_paid")).status_code == 200
    order.refresh_from_db()
    client.force_login(order.user)
    download = client.get(reverse("shop-order-status", args=[order.public_id])).json()["download_url"]
    assert download and client.get(download).status_code == 200
    sent = len(mail.outbox)
    assert sent == 3  # the login, the file and the receipt

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, refunded(order, "evt_refund")).status_code == 200
        assert deliver(client, succeeded(order, "evt_paid_again")).status_code == 200   # a new event id

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    state = client.get(reverse("shop-order-status", args=[order.public_id])).json()
    assert (state["status"], state["paid"], state["download_url"]) == ("refunded", False, "")
    assert client.get(download).status_code == 404
    # the refund's credit note is the one email more; the late payment event sends nothing
    assert [m.subject for m in mail.outbox[sent:]] == [f"Your refund: credit note CN-{order.refunded_at.year}-000001"]
    assert EmailRecord.objects.filter(order=order).count() == 4


def test_a_payment_event_after_a_refund_of_an_unfulfilled_order_makes_no_account_email_or_build(
        client, queued_builds, django_capture_on_commit_callbacks):
    order = new_order()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, refunded(order, "evt_refund"))
        deliver(client, succeeded(order, "evt_paid"))
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.fulfilled_at is None
    assert User.objects.count() == 0 and EmailRecord.objects.count() == 0 and queued_builds == []


# --------------------------------------------------------------------------- the webhook, by its effect


def test_the_same_event_delivered_twice_fulfils_the_order_once(client, queued_builds,
                                                              django_capture_on_commit_callbacks):
    order = new_order()
    payload = succeeded(order, "evt_once")
    with time_machine.travel(datetime(2025, 5, 1, 9, 0, tzinfo=dt_timezone.utc), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, payload)
        order.refresh_from_db()
        fulfilled_at = order.fulfilled_at
    with time_machine.travel(datetime(2025, 5, 1, 9, 30, tzinfo=dt_timezone.utc), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, payload).status_code == 200      # Stripe sent it again

    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.fulfilled_at == fulfilled_at
    assert User.objects.count() == 1
    assert sorted(EmailRecord.objects.filter(order=order).values_list("kind", flat=True)) == ["account", "file",
                                                                                               "receipt"]
    assert queued_builds == [order.pk] and order.invoices.count() == 1
    [stored] = StripeEvent.objects.all()
    assert stored.id == "evt_once" and stored.processed_at == fulfilled_at   # processed once, the first time


def test_a_late_failure_of_an_earlier_attempt_leaves_the_checkout_retried_since_alone(client):
    """A checkout paid again with another card: the first attempt's failure arriving now must
    not fail the order while its new payment is under way."""
    order = new_order(payment_intent=None)            # reopened for another card
    late = stripe_event("payment_intent.payment_failed", {"id": "pi_first_attempt", "object": "payment_intent",
                                                          "last_payment_error": {"message": "Your card was declined."},
                                                          "metadata": {"order": str(order.public_id)}}, "evt_late")
    assert deliver(client, late).status_code == 200   # recorded, not refused (Stripe would retry)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.failure_message == ""
    assert StripeEvent.objects.get(pk="evt_late").processed_at is not None


def test_a_failed_3d_secure_check_is_recorded_in_words(client):
    order = new_order()
    deliver(client, stripe_event("payment_intent.payment_failed", {
        "id": order.payment_intent, "object": "payment_intent", "metadata": {"order": str(order.public_id)},
        "last_payment_error": {"code": "payment_intent_authentication_failure",
                               "message": "The provided PaymentMethod has failed authentication."}}, "evt_3ds"))
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert order.failure_message.startswith("your bank's security check (3-D Secure) was not completed")


def test_an_old_failure_event_delivered_again_does_not_replace_the_latest_failure_reason(client):
    order = new_order()
    first_failure = failed(order, "Your card was declined.", "evt_fail_1")
    deliver(client, first_failure)
    deliver(client, failed(order, "Your card has insufficient funds.", "evt_fail_2"))
    deliver(client, first_failure)                                     # Stripe sends the first one again
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert order.failure_message == "Your card has insufficient funds. Try another card, or ask your bank why"


def test_an_event_whose_processing_failed_is_processed_when_stripe_sends_it_again(
        queued_builds, monkeypatch, django_capture_on_commit_callbacks):
    order = new_order()
    payload = succeeded(order, "evt_retry")
    real = fulfilment.payment_succeeded
    calls = []

    def fails_once(order_id):
        calls.append(order_id)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real(order_id)

    monkeypatch.setattr(fulfilment, "payment_succeeded", fails_once)
    client = Client(raise_request_exception=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, payload).status_code == 500           # Stripe will retry
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.fulfilled_at is None
    assert StripeEvent.objects.get(pk="evt_retry").processed_at is None

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, payload).status_code == 200           # Stripe's retry, the same event id
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.fulfilled_at is not None
    assert sorted(EmailRecord.objects.filter(order=order).values_list("kind", flat=True)) == ["account", "file",
                                                                                               "receipt"]
    assert queued_builds == [order.pk] and order.invoices.count() == 1
    assert StripeEvent.objects.get(pk="evt_retry").processed_at is not None


# --------------------------------------------------------------------------- malformed signed events


@pytest.mark.parametrize("obj", [[{"id": "pi_audit"}], "pi_audit", 42, None])
def test_a_signed_event_whose_data_object_is_not_an_object_is_refused_with_400_and_stored_nowhere(client, obj):
    payload = json.dumps({"id": "evt_list", "object": "event", "type": "payment_intent.succeeded",
                          "data": {"object": obj}}).encode()
    response = deliver(client, payload)
    assert response.status_code == 400
    assert b"data.object is not a JSON object" in response.content
    assert not StripeEvent.objects.filter(pk="evt_list").exists()


@pytest.mark.parametrize("payload", [b"[1, 2]", b'{"id": "evt_x", "type": "charge.refunded", "data": [1]}'])
def test_a_signed_event_that_is_not_an_object_is_refused_with_400(client, payload):
    response = deliver(client, payload)
    assert response.status_code == 400
    assert b"not a JSON object" in response.content


# --------------------------------------------------------------------------- partial and full refunds


def charge_refunded(order: Order, refunded_amount: int, event_id: str, **extra) -> bytes:
    return stripe_event("charge.refunded", {"id": "ch_audit", "object": "charge", "payment_intent": order.payment_intent,
                                            "amount": order.amount, "amount_refunded": refunded_amount,
                                            "refunded": refunded_amount >= order.amount, **extra}, event_id)


def test_a_partial_refund_leaves_the_order_paid(client):
    order = new_order(status=Order.Status.PAID)
    assert deliver(client, charge_refunded(order, 500, "evt_partial")).status_code == 200
    order.refresh_from_db()
    assert (order.status, order.refunded_at) == (Order.Status.PAID, None)
    assert StripeEvent.objects.get(pk="evt_partial").processed_at is not None


def test_partial_refunds_adding_up_to_the_full_amount_revoke_the_order(client):
    order = new_order(status=Order.Status.PAID)
    deliver(client, charge_refunded(order, 500, "evt_partial"))
    assert deliver(client, charge_refunded(order, order.amount, "evt_rest")).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.refunded_at is not None


def test_a_refund_of_the_full_amount_revokes_the_order(client):
    order = new_order(status=Order.Status.PAID)
    deliver(client, charge_refunded(order, order.amount, "evt_full"))
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
