"""One checkout, one payment, one 3-D Secure challenge, against localstripe.

A checkout page carries its key; paying again on it (Back after paying, a reload, a double
click, two requests at once) finds its order and charges nothing more. A declined card or a
failed 3-D Secure check can be retried on the same page, and still only one payment goes
through. The failure messages say what happened and what to do."""

import json
import threading
import urllib.request
import uuid

import pytest
import stripe
from django.conf import settings
from django.db import connection
from django.urls import reverse

from portal.models import Order
from portal.services import payments

from tests.portal.shopping import DECLINED_ON_CHARGE, NEEDS_3DS, make_release, start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(tmp_path, localstripe, eager):
    make_release(tmp_path)
    return localstripe


def intents_of(order: Order) -> list:
    return [pi for pi in stripe.PaymentIntent.list(limit=100).data
            if pi.metadata.to_dict().get("order") == str(order.public_id)]


def authenticate(order: Order, success: bool) -> None:
    """What localstripe's Stripe.js does when the customer answers its 3-D Secure window."""
    intent = stripe.PaymentIntent.retrieve(order.payment_intent)
    url = f"{settings.STRIPE_API_BASE}/v1/payment_intents/{intent.id}/_authenticate?success={str(success).lower()}"
    body = json.dumps({"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": intent.client_secret}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST")) as response:
        assert response.status == 200


def test_paying_again_on_a_paid_checkout_charges_nothing_and_links_to_its_order(client, shop):
    checkout = str(uuid.uuid4())
    first = start(client, checkout=checkout)
    assert client.post(first["pay_url"]).json()["status"] == "succeeded"
    order = Order.objects.get(public_id=first["order"])

    again = start(client, checkout=checkout, status=409)      # Back, then Pay: the same checkout
    assert again["paid"] is True and again["order_url"] == reverse("shop-order", args=[order.public_id])
    assert "already paid" in again["message"] and "Nothing more was charged" in again["message"]
    assert Order.objects.count() == 1
    assert [pi.status for pi in intents_of(order)] == ["succeeded"]
    assert client.post(first["pay_url"]).json()["status"] == "succeeded"   # the pay request replayed
    assert len(intents_of(order)) == 1

    page = client.get(reverse("shop-checkout", args=["tomtom-go-classic"]),
                      {"coverage": "FR", "mobile": "on", "checkout": checkout}).content.decode()
    assert 'id="already-paid"' in page and "This checkout is paid" in page
    assert f'href="{reverse("shop-order", args=[order.public_id])}"' in page
    assert 'id="card"' not in page and 'id="pay"' not in page


def test_another_browser_with_the_checkout_link_gets_a_fresh_checkout(client, shop, django_user_model):
    checkout = str(uuid.uuid4())
    data = start(client, checkout=checkout)
    client.post(data["pay_url"])
    from django.test import Client

    other = Client()
    page = other.get(reverse("shop-checkout", args=["tomtom-go-classic"]), {"checkout": checkout}).content.decode()
    assert "already-paid" not in page and data["order"] not in page and 'id="pay"' in page
    assert f'value="{checkout}"' not in page          # a new key: its Pay makes its own order
    # and Pay with the old key from the other browser is refused without a word about the order
    response = other.post(reverse("shop-checkout-start", args=["tomtom-go-classic"]),
                          {"email": "x@example.com", "coverage": "FR", "legal_ack": "on", "checkout": checkout, "token": "tok_x"})
    assert response.status_code == 404 and data["order"] not in response.content.decode()


def test_two_pay_requests_at_once_make_one_payment(client, shop):
    data = start(client)
    order = Order.objects.get(public_id=data["order"])
    barrier, results, errors = threading.Barrier(4), [], []

    def pay():
        try:
            barrier.wait()
            results.append(payments.charge(Order.objects.get(pk=order.pk)).status)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert "succeeded" in results and set(results) <= {"succeeded", "processing"}
    assert [pi.status for pi in intents_of(order)] == ["succeeded"]
    order.refresh_from_db()
    assert order.payment_intent == intents_of(order)[0].id


def test_a_declined_card_can_be_retried_on_the_same_checkout_and_one_payment_goes_through(client, shop):
    checkout = str(uuid.uuid4())
    declined = start(client, checkout=checkout, number=DECLINED_ON_CHARGE)
    paid = client.post(declined["pay_url"]).json()
    assert paid["status"] == "failed"
    assert paid["message"] == "Your card was declined. Try another card, or ask your bank why"
    retry = start(client, checkout=checkout)                   # another card, the same page
    assert retry["order"] == declined["order"]
    assert client.post(retry["pay_url"]).json()["status"] == "succeeded"
    order = Order.objects.get()
    assert order.status == Order.Status.PAID and order.charge_attempts == 2
    assert [pi.status for pi in intents_of(order)].count("succeeded") == 1


def test_a_card_declined_when_saved_says_so_in_words(client, shop):
    response = client.post(reverse("shop-checkout-start", args=["tomtom-go-classic"]),
                           {"email": "lea@example.com", "coverage": "FR", "legal_ack": "on", "checkout": str(uuid.uuid4()),
                            "token": stripe.Token.create(card={"number": "4000000000000002", "exp_month": 12,
                                                               "exp_year": 2034, "cvc": "123"}).id})
    assert response.status_code == 402
    assert response.json()["errors"]["__all__"] == [
        "Payment failed: Your card was declined. Try another card, or ask your bank why. Nothing was charged."]


def test_3d_secure_is_asked_once_and_its_failure_is_explained(client, shop):
    checkout = str(uuid.uuid4())
    data = start(client, checkout=checkout, number=NEEDS_3DS)
    order = Order.objects.get(public_id=data["order"])
    assert order.setup_intent == "" and stripe.SetupIntent.list(limit=100).data == []   # no challenge at saving
    first = client.post(data["pay_url"]).json()
    assert first["status"] == "requires_action" and first["client_secret"]    # the one challenge
    order.refresh_from_db()
    authenticate(order, success=False)
    after = client.post(data["pay_url"]).json()
    assert after["status"] == "failed"
    assert after["message"] == ("your bank's security check (3-D Secure) was not completed. Pay again and approve "
                                "the payment in the window or app of your bank, or use another card")
    page = client.get(reverse("shop-order", args=[order.public_id])).content.decode()
    assert "security check (3-D Secure) was not completed" in page and "PaymentMethod" not in page

    retry = start(client, checkout=checkout, number=NEEDS_3DS)  # pay again on the same page
    assert client.post(retry["pay_url"]).json()["status"] == "requires_action"
    order.refresh_from_db()
    authenticate(order, success=True)
    assert client.post(retry["pay_url"]).json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert [pi.status for pi in intents_of(order)].count("succeeded") == 1
