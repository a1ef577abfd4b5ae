"""The payment flow against localstripe (a stateful fake Stripe): real Customers, cards,
PaymentIntents, refunds, and signed webhooks delivered to the running app.

The browser's part (Stripe.js tokenising the card) is done here through the API;
test_shop_e2e.py does it in Chromium."""

import pytest
import stripe
from django.core import mail
from django.urls import reverse

from portal.services import fulfilment
from portal.models import Order, StripeEvent, User

from tests.portal.shopping import DECLINED_ON_CHARGE, NEEDS_3DS, make_release, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

@pytest.fixture
def shop(tmp_path, settings, localstripe, live_server):
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    from portal.celery import app

    app.conf.task_always_eager = True
    make_release(tmp_path)
    localstripe.register_webhook(live_server.url + reverse("webhook-stripe"))
    yield localstripe
    app.conf.task_always_eager = False


def test_a_card_payment_is_charged_the_server_amount_and_fulfilled_once(client, shop):
    data = start(client, amount="1", price="0.01")   # a tampered amount is ignored
    paid = client.post(data["pay_url"]).json()
    assert paid["status"] == "succeeded"
    order = Order.objects.get(public_id=data["order"])
    assert order.status == Order.Status.PAID and order.amount == 2490
    intent = stripe.PaymentIntent.retrieve(order.payment_intent)
    assert intent.amount == 2490 and intent.currency == "eur" and intent.metadata["order"] == data["order"]
    # localstripe delivers payment_intent.succeeded to the app: stored, fulfilment not repeated
    assert wait_for(lambda: StripeEvent.objects.filter(type="payment_intent.succeeded").exists())
    assert wait_for(lambda: StripeEvent.objects.filter(processed_at__isnull=False).exists())
    order.refresh_from_db()
    assert order.fulfilled_at and order.package_key
    assert User.objects.count() == 1
    assert sorted(m.subject for m in mail.outbox) == [
        "Your customer panel login",
        f"Your receipt: invoice {order.invoices.get().number} for TomTom GO classic (x20/x30/x40/x50, NavCore)",
        "Your speed camera file for TomTom GO classic (x20/x30/x40/x50, NavCore)"]
    # paying again (a double click) charges nothing more
    again = client.post(data["pay_url"]).json()
    assert again["status"] == "succeeded"
    intents = [pi for pi in stripe.PaymentIntent.list(limit=100).data if pi.metadata.to_dict().get("order") == data["order"]]
    assert len(intents) == 1


def test_a_card_needing_3d_secure_comes_back_for_the_browser(client, shop):
    data = start(client, number=NEEDS_3DS)
    paid = client.post(data["pay_url"]).json()
    assert paid["status"] == "requires_action" and paid["client_secret"]
    order = Order.objects.get(public_id=data["order"])
    assert order.status == Order.Status.PENDING and order.user is None
    state = client.get(reverse("shop-order-status", args=[order.public_id])).json()
    assert state["paid"] is False and state["file_ready"] is False


def test_a_declined_card_gets_a_clear_message_no_account_and_no_file(client, shop):
    data = start(client, number=DECLINED_ON_CHARGE)
    paid = client.post(data["pay_url"]).json()
    assert paid["status"] == "failed" and "declined" in paid["message"]
    order = Order.objects.get(public_id=data["order"])
    assert order.status == Order.Status.FAILED
    page = client.get(reverse("shop-order", args=[order.public_id])).content.decode()
    assert "Payment failed" in page and "Nothing was charged" in page
    assert User.objects.count() == 0 and mail.outbox == []


def test_an_abandoned_payment_leaves_no_account_and_no_file(client, shop):
    data = start(client)
    order = Order.objects.get(public_id=data["order"])
    page = client.get(reverse("shop-order", args=[order.public_id])).content.decode()
    assert "Waiting for the payment" in page
    assert order.status == Order.Status.PENDING and User.objects.count() == 0 and mail.outbox == []


def test_a_refund_through_the_api_revokes_the_downloads(client, shop):
    data = start(client)
    client.post(data["pay_url"])
    order = Order.objects.get(public_id=data["order"])
    assert wait_for(lambda: Order.objects.get(pk=order.pk).package_key != "")
    order.refresh_from_db()
    state = client.get(reverse("shop-order-status", args=[order.public_id])).json()
    assert client.get(state["download_url"]).status_code == 200
    fulfilment.refund(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.refunded_at
    refunds = stripe.Refund.list(limit=100).data
    assert [r.payment_intent for r in refunds].count(order.payment_intent) == 1
    assert client.get(state["download_url"]).status_code == 404
    assert fulfilment.refund(order.pk).status == Order.Status.REFUNDED   # twice: no second refund
    assert [r.payment_intent for r in stripe.Refund.list(limit=100).data].count(order.payment_intent) == 1


def test_a_forged_webhook_is_refused(client, shop):
    data = start(client)
    order = Order.objects.get(public_id=data["order"])
    body = ('{"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_x", '
            f'"metadata": {{"order": "{order.public_id}"}}}}}}}}').encode()
    r = client.post(reverse("webhook-stripe"), data=body, content_type="application/json",
                    HTTP_STRIPE_SIGNATURE="t=1,v1=00")
    assert r.status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and not StripeEvent.objects.filter(id="evt_forged").exists()
