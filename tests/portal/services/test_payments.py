"""services.payments against localstripe: what the customer is charged, webhook signatures,
refunds; and it is the one module that talks to Stripe."""

import ast
import time
from pathlib import Path

import pytest
import stripe
from django.conf import settings

from exporters.devices import get_device
from portal.models import Order
from portal.services import payments
from portal.services.pricing import quote

from tests.portal.shopping import DECLINED_ON_CHARGE, make_release, start
from tests.portal.views.test_shop import event, sign

pytestmark = pytest.mark.django_db

PORTAL = Path(__file__).resolve().parents[3] / "portal"


@pytest.fixture
def shop(tmp_path, localstripe):
    make_release(tmp_path)
    return localstripe


def paid(client, **data) -> Order:
    started = start(client, **data)
    order = Order.objects.get(public_id=started["order"])
    assert payments.charge(order).status == "succeeded"
    order.refresh_from_db()
    return order


def test_the_card_is_charged_the_server_quote_whatever_the_browser_sends(client, shop):
    order = paid(client, device="tomtom-go-classic", mobile="on", amount="1", price="0.01", currency="usd")
    expected = quote(get_device("tomtom-go-classic"), mobile=True)
    intent = stripe.PaymentIntent.retrieve(order.payment_intent)
    assert (intent.amount, intent.currency, intent.status) == (expected.amount, "eur", "succeeded")
    assert intent.amount == 2490 and intent.metadata["order"] == str(order.public_id)


def test_without_mobile_cameras_the_charge_is_the_base_price(client, shop):
    order = paid(client, device="tomtom-go-classic", mobile="", amount="99999")
    assert stripe.PaymentIntent.retrieve(order.payment_intent).amount == 1990


def test_charging_twice_makes_one_payment(client, shop):
    order = paid(client)
    assert payments.charge(order).status == "succeeded"
    mine = [pi for pi in stripe.PaymentIntent.list(limit=100).data
            if pi.metadata.to_dict().get("order") == str(order.public_id)]
    assert [pi.id for pi in mine] == [order.payment_intent]


def test_a_declined_card_is_a_failed_charge_with_a_message_not_an_error(client, shop):
    started = start(client, number=DECLINED_ON_CHARGE)
    result = payments.charge(Order.objects.get(public_id=started["order"]))
    assert result.status == "failed"
    assert result.message == "Your card was declined. Try another card, or ask your bank why"


def test_an_order_without_a_saved_card_is_not_charged(client, shop):
    order = Order.objects.get(public_id=start(client)["order"])
    Order.objects.filter(pk=order.pk).update(payment_method="")
    order.refresh_from_db()
    with pytest.raises(payments.PaymentError, match="card was not saved"):
        payments.charge(order)
    assert stripe.PaymentIntent.list(limit=100).data == [] and Order.objects.get(pk=order.pk).payment_intent is None


# ---------------------------------------------------------------------------------------
# Webhook signatures


def intent_succeeded() -> bytes:
    return event("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent", "status": "succeeded",
                                              "metadata": {"order": "42"}}, "evt_signed")


def test_a_webhook_signed_with_the_secret_gives_its_event(localstripe):
    payload = intent_succeeded()
    got = payments.verify_webhook(payload, sign(payload, settings.STRIPE_WEBHOOK_SECRET))
    assert got.id == "evt_signed" and got.type == "payment_intent.succeeded"
    assert got.data.object.metadata["order"] == "42"


@pytest.mark.parametrize("signature", [
    pytest.param(lambda p: sign(p, "whsec_someone_else"), id="another secret"),
    pytest.param(lambda p: sign(p + b" ", settings.STRIPE_WEBHOOK_SECRET), id="another body"),
    pytest.param(lambda p: "", id="missing"),
    pytest.param(lambda p: "t=1,v1=00", id="garbage"),
    pytest.param(lambda p: sign(p, settings.STRIPE_WEBHOOK_SECRET, int(time.time()) - 3600), id="an hour old"),
])
def test_a_webhook_with_a_bad_missing_or_stale_signature_is_refused(localstripe, signature):
    payload = intent_succeeded()
    with pytest.raises(ValueError, match="signature"):
        payments.verify_webhook(payload, signature(payload))


def test_a_signed_body_that_is_not_json_is_refused(localstripe):
    payload = b"{not json"
    with pytest.raises(ValueError, match="payload"):
        payments.verify_webhook(payload, sign(payload, settings.STRIPE_WEBHOOK_SECRET))


def test_no_webhook_is_accepted_while_the_secret_is_not_set(localstripe, settings):
    payload = intent_succeeded()
    signature = sign(payload, "")
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(ValueError, match="STRIPE_WEBHOOK_SECRET"):
        payments.verify_webhook(payload, signature)


# ---------------------------------------------------------------------------------------
# Refunds


def test_a_refund_gives_the_refund_and_refunds_the_whole_payment_in_stripe(client, shop):
    order = paid(client)
    refund_id = payments.refund(order)
    refund = stripe.Refund.retrieve(refund_id)
    assert refund.payment_intent == order.payment_intent and refund.amount == order.amount == 2490
    assert refund.status == "succeeded"
    charge = stripe.PaymentIntent.retrieve(order.payment_intent).latest_charge
    assert refund.charge == charge.id and charge.amount_refunded == 2490
    assert [r.id for r in stripe.Refund.list(payment_intent=order.payment_intent).data] == [refund_id]


def test_a_refund_stripe_refuses_is_a_payment_error(client, shop):
    order = Order.objects.get(public_id=start(client)["order"])
    order.payment_intent = "pi_does_not_exist"
    with pytest.raises(payments.PaymentError, match="refund failed"):
        payments.refund(order)


# ---------------------------------------------------------------------------------------


def test_no_other_module_of_the_portal_imports_stripe():
    importers = set()
    for path in PORTAL.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name == "stripe" or name.startswith("stripe.") for name in names):
                importers.add(path.relative_to(PORTAL.parent).as_posix())
    assert importers == {"portal/services/payments.py"}
