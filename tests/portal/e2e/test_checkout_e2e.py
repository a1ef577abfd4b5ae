"""The checkout in Chromium against localstripe (its Stripe.js and 3-D Secure window), the live
server and a real Celery worker: Back after paying, then Pay, charges nothing more and leads
to the order; a 3-D Secure card is challenged once; a failed challenge is explained in words
and can be retried on the same page."""

import re

import pytest
import stripe

from portal.models import Order

from tests.portal.e2e.test_shop_e2e import fill_card, pay_in_browser
from tests.portal.shopping import NEEDS_3DS, make_release

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE = "igo-primo"
ORDER_URL = re.compile(r"/orders/[0-9a-f-]{36}/$")


@pytest.fixture
def shop(settings, tmp_path, live_server, localstripe, smtp_sink, celery_worker_process):
    settings.SITE_URL = live_server.url
    localstripe.register_webhook(live_server.url + "/stripe/webhook/")
    return make_release(tmp_path)


def succeeded_intents() -> list:
    return [pi for pi in stripe.PaymentIntent.list(limit=100).data if pi.status == "succeeded"]


def test_back_after_paying_then_pay_charges_nothing_and_leads_to_the_order(shop, live_server, page):
    base = live_server.url
    order = pay_in_browser(page, base, DEVICE, "bea@example.com")
    order_url = page.url

    page.go_back()                                     # Back: the checkout page of this payment
    assert "checkout=" in page.url
    page.wait_for_selector("#already-paid")
    assert "This checkout is paid" in page.inner_text("#already-paid")
    assert page.locator("#pay").count() == 0            # nothing to pay here any more
    page.click("#paid-order")
    page.wait_for_url(order_url)
    page.wait_for_selector("#download")

    # the same checkout still open with its card form (a second tab, or a page the browser
    # kept from before the payment): Pay there is refused by the server, with the link
    page.go_back()
    stale_url = page.url
    stale = page.context.new_page()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PENDING)   # the page renders the form...
    stale.goto(stale_url)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)      # ...the payment lands meanwhile
    fill_card(stale, "bea@example.com", "4242424242424242")
    stale.click("#pay")
    stale.wait_for_selector("#message:has-text('already paid')")
    assert "Nothing more was charged" in stale.inner_text("#message")
    stale.click("#message #paid-order")
    stale.wait_for_url(order_url)

    assert Order.objects.count() == 1
    assert [pi.metadata["order"] for pi in succeeded_intents()] == [str(order.public_id)]


def test_a_3d_secure_card_is_challenged_once(shop, live_server, page):
    challenges = []
    page.on("console", lambda msg: challenges.append(msg.text) if "confirmCard" in msg.text else None)
    order = pay_in_browser(page, live_server.url, DEVICE, "sam@example.com", number=NEEDS_3DS, three_ds=True)
    assert order.status == Order.Status.PAID
    # localstripe's Stripe.js logs each confirmation: one payment, no card setup
    assert challenges == ["localstripe: Stripe().confirmCardPayment()"]
    assert [pi.metadata["order"] for pi in succeeded_intents()] == [str(order.public_id)]


def test_a_failed_3d_secure_check_is_explained_and_paying_again_works(shop, live_server, page):
    base = live_server.url
    page.goto(f"{base}/devices/{DEVICE}/checkout/")
    fill_card(page, "ada@example.com", NEEDS_3DS)
    page.click("#pay")
    page.click("text=Fail authentication", timeout=20_000)
    page.wait_for_selector("#message:has-text('Payment failed')")
    said = page.inner_text("#message")
    assert said == ("Payment failed: your bank's security check (3-D Secure) was not completed. Pay again and approve "
                    "the payment in the window or app of your bank, or use another card. Nothing was charged.")
    assert succeeded_intents() == []

    page.click("#pay")                                  # the same page, the same card: approved this time
    page.click("text=Complete authentication", timeout=20_000)
    page.wait_for_url(ORDER_URL, timeout=30_000)
    page.wait_for_selector("#download", timeout=60_000)
    order = Order.objects.get()
    assert order.status == Order.Status.PAID and order.charge_attempts == 2
    assert [pi.metadata["order"] for pi in succeeded_intents()] == [str(order.public_id)]
