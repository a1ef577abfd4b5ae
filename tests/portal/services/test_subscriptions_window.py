"""The annual upgrade window, to the minute: 7 days after the payment, not to the end of day 7."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from portal.models import Order, User
from portal.services import payments, subscriptions
from portal.services.pricing import BASE_PRICES

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


# --------------------------------------------------------------------------- the upgrade window


PAID_AT = datetime(2025, 3, 10, 10, 0, tzinfo=dt_timezone.utc)


@pytest.fixture
def purchase(client):
    """A paid one-time purchase with a saved card, its owner logged in."""
    user = User.objects.create_user("lea@example.com", PASSWORD)
    order = Order.objects.create(email=user.email, user=user, device_id="tomtom-go-classic", coverage=["FR"],
                                 amount=BASE_PRICES["pnd"], status=Order.Status.PAID, paid_at=PAID_AT,
                                 fulfilled_at=PAID_AT, stripe_customer="cus_audit", payment_intent="pi_audit")
    Order.objects.filter(pk=order.pk).update(created_at=PAID_AT)
    order.refresh_from_db()
    return order


@pytest.fixture
def stripe_subscriptions(monkeypatch):
    """Stripe's side of the upgrade, recorded: the subscriptions made."""
    made = []

    def subscribe(order, plan, credit):
        made.append((order.pk, plan, credit))
        end = int((timezone.now() + timedelta(days=365)).timestamp())
        return payments.SubscriptionInfo(f"sub_audit_{len(made)}", "active", end)

    monkeypatch.setattr(payments, "ensure_annual_plan", lambda plan_id, amount, currency, nickname: plan_id)
    monkeypatch.setattr(payments, "subscribe", subscribe)
    return made


def post_upgrade(client, order):
    client.force_login(order.user)
    return client.post(reverse("panel-upgrade", args=[order.public_id]), follow=True)


def test_an_upgrade_one_minute_after_the_seventh_day_is_refused(client, purchase, stripe_subscriptions):
    with time_machine.travel(PAID_AT + timedelta(days=7, minutes=1), tick=False):
        assert subscriptions.upgrade_refusal(purchase).startswith("The annual upgrade is offered for 7 days")
        page = post_upgrade(client, purchase).content.decode()
    assert "The annual upgrade is offered for 7 days after the purchase" in page
    purchase.refresh_from_db()
    assert purchase.plan != "annual" and not purchase.subscription_id
    assert stripe_subscriptions == []                                   # nothing charged


def test_an_upgrade_one_minute_before_the_seventh_day_ends_goes_through(client, purchase, stripe_subscriptions):
    with time_machine.travel(PAID_AT + timedelta(days=7, minutes=-1), tick=False):
        assert subscriptions.upgrade_refusal(purchase) == ""
        post_upgrade(client, purchase)
    purchase.refresh_from_db()
    assert purchase.plan == "annual" and purchase.subscription_id == "sub_audit_1"
    assert len(stripe_subscriptions) == 1
