"""Helpers for the shop tests: a small release, and the payment steps the browser does."""

import uuid

import stripe
from django.urls import reverse

from portal.models import Order
from tests.releases import demo_release
from tests.services import wait_until

VISA = "4242424242424242"
NEEDS_3DS = "4000002760003184"
DECLINED_ON_CHARGE = "4000000000000341"
DECLINED_ON_SETUP = "4000000000000002"


def make_release(tmp_path, cameras: int = 400, seed: int = 2):
    return demo_release(tmp_path, cameras, seed)


def card_token(number: str = VISA) -> str:
    """What Stripe.js's createToken does in the browser with the card typed in."""
    return stripe.Token.create(card={"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}).id


def start(client, device="tomtom-go-classic", *, number=VISA, checkout=None, status=200, **data) -> dict:
    """Pay on a checkout page (a new one unless ``checkout`` is given): its order, with the
    card saved; the charge is ``pay_url``'s."""
    fields = {"email": "lea@example.com", "mobile": "on", "coverage": "FR", "legal_ack": "on",
              "checkout": checkout or str(uuid.uuid4()),
              "token": card_token(number)}
    # legal_ack: the checkout's box for the law of the coverage's countries (France here)
    fields.update(data)
    response = client.post(reverse("shop-checkout-start", args=[device]), fields)
    assert response.status_code == status, response.content
    return response.json()


def buy(client, **data) -> Order:
    """A whole purchase through the server (checkout, card, charge); returns the order."""
    started = start(client, **data)
    paid = client.post(started["pay_url"]).json()
    assert paid["status"] == "succeeded", paid
    return Order.objects.get(public_id=started["order"])


def wait_for(predicate, timeout=20.0, interval=0.2) -> bool:
    return bool(wait_until(predicate, timeout, interval))
