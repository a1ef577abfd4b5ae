"""Annual subscriptions against localstripe: the one-click upgrade within 7 days (real
Customer, Plan, credit and Subscription objects), cancel, the end of a subscription, and
new-release emails once per release. Time: time-machine moves the app's clock (localstripe
keeps its own)."""

import re
from datetime import timedelta

import pytest
import stripe
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.services import l10n, purchases as panel, subscriptions
from portal.models import EmailRecord, Order
from portal.services.entitlement import add_months
from portal.services.reminders import send_reminders

from tests.portal.shopping import buy, make_release

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(tmp_path, settings, localstripe):
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://shop.example"
    from portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    make_release(tmp_path)
    yield localstripe
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


@pytest.fixture
def order(client, shop) -> Order:
    """A paid one-time purchase (€24.90: a TomTom with mobile cameras), its owner logged in."""
    bought = buy(client)
    bought.refresh_from_db()
    assert bought.is_paid and bought.package_key
    client.force_login(bought.user)
    mail.outbox.clear()
    return bought


def panel_page(client, order) -> str:
    response = client.get(reverse("panel-order", args=[order.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def stripe_subscriptions(order):
    return stripe.Subscription.list(customer=order.stripe_customer, status="all").data


def upgrade(client, order):
    return client.post(reverse("panel-upgrade", args=[order.public_id]), follow=True)


def test_an_upgrade_on_day_6_makes_a_stripe_subscription_and_charges_only_the_difference(client, order):
    with time_machine.travel(order.paid_at + timedelta(days=6), tick=True):
        assert 'id="upgrade"' in panel_page(client, order)
        page = upgrade(client, order).content.decode()
    assert "is now an annual subscription" in page and "€10.00 was charged" in page, re.findall(r"<li[^>]*>(.*?)</li>", page)
    order.refresh_from_db()
    assert order.plan == "annual" and order.subscription_status == "active"
    [sub] = stripe_subscriptions(order)
    assert sub.id == order.subscription_id and sub.status == "active"
    assert sub.metadata["order"] == str(order.public_id)
    plan = stripe.Plan.retrieve(subscriptions.plan_id(order))
    assert plan.amount == 2990 + 500 and plan.interval == "year"      # renewals: the full annual price
    invoice = stripe.Invoice.retrieve(sub.latest_invoice)
    assert invoice.status == "paid" and invoice.amount_paid == 2990 + 500 - 2490   # minus what was paid
    assert sorted(line.amount for line in invoice.lines.data) == [-2490, 3490]
    charge = stripe.PaymentIntent.retrieve(invoice.payment_intent)
    assert charge.amount == 1000 and charge.payment_method == stripe.PaymentIntent.retrieve(
        order.payment_intent).payment_method                              # the saved card, no card entry
    # a year from the upgrade (Stripe's period end, or later when the app's clock is ahead of
    # localstripe's, as here); the panel shows it and offers cancel, not upgrade
    assert order.subscription_end == add_months(order.upgraded_at, 12)
    assert order.upgraded_at - order.paid_at >= timedelta(days=6)
    page = panel_page(client, order)
    assert "Your annual subscription is active" in page and 'id="cancel-renewal"' in page
    assert 'id="upgrade"' not in page


def updates_cell(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", re.search(r'<td id="updates"[^>]*>(.*?)</td>', page, re.S).group(1)).split())


def test_the_upgrade_moves_the_end_from_a_month_after_the_purchase_to_a_year_after_the_upgrade(client, order,
                                                                                               settings):
    """The one-time purchase brings a month of releases (UPDATE_MONTHS, 1 by default); the
    annual subscription a year from the upgrade, renewing. The upgrade records when, what it
    charged and the new end, and the panel says it."""
    settings.UPDATE_MONTHS = 1
    one_time_end = add_months(order.paid_at, 1)
    assert panel.updates(order).until == one_time_end
    assert f"new releases are included until {l10n.date(one_time_end)}" in updates_cell(panel_page(client, order))
    moment = order.paid_at + timedelta(days=6)
    with time_machine.travel(moment, tick=False):
        offer = re.sub(r"\s+", " ", re.search(r'<p id="upgrade-offer">(.*?)</p>', panel_page(client, order),
                                              re.S).group(1))
        assert f"until <strong>{l10n.date(add_months(moment, 12))}</strong>" in offer
        assert f"this purchase alone includes them until {l10n.date(one_time_end)}" in offer
        upgrade(client, order)
    order.refresh_from_db()
    # localstripe's clock is not moved: its period ends a year from the real now, earlier
    # than a year from the (travelled) upgrade, which is what the customer paid for
    assert order.upgraded_at == moment and order.subscription_end == add_months(moment, 12)
    assert order.upgrade_amount == 2990 + 500 - 2490
    assert panel.updates(order, one_time_end + timedelta(days=1)).active      # past the one-time month
    assert updates_cell(panel_page(client, order)) == (
        f"Annual subscription, new releases included until {l10n.date(order.subscription_end)}, renews on that date.")


def test_an_upgrade_on_day_8_is_refused_with_a_clear_message(client, order):
    with time_machine.travel(order.paid_at + timedelta(days=8), tick=True):
        page = panel_page(client, order)
        assert 'id="upgrade"' not in page and "first week only" in page
        page = upgrade(client, order).content.decode()                   # a POST anyway: refused
    assert "The annual upgrade is offered for 7 days after the purchase" in page
    order.refresh_from_db()
    assert order.plan == "one-time" and not order.subscription_id
    assert stripe_subscriptions(order) == []


def test_a_second_upgrade_makes_no_second_subscription(client, order):
    upgrade(client, order)
    page = upgrade(client, order).content.decode()
    assert "already an annual subscription" in page
    assert len(stripe_subscriptions(order)) == 1
    # and the service finds the existing subscription rather than making another one
    from portal.services import payments

    Order.objects.filter(pk=order.pk).update(plan="one-time", subscription_id="")
    again = subscriptions.upgrade(order.pk)
    assert again.subscription_id == stripe_subscriptions(order)[0].id and len(stripe_subscriptions(order)) == 1
    assert payments.find_subscription(again).id == again.subscription_id


def test_cancel_stops_the_renewal_and_keeps_the_end_date(client, order):
    upgrade(client, order)
    order.refresh_from_db()
    end = order.subscription_end
    page = client.post(reverse("panel-cancel", args=[order.public_id]), follow=True).content.decode()
    assert "The renewal is canceled" in page
    order.refresh_from_db()
    assert order.subscription_status == "canceled" and order.subscription_end == end
    sub = stripe.Subscription.retrieve(order.subscription_id)
    assert sub.cancel_at_period_end is True and sub.status == "active"   # runs to the end of the period
    assert 'id="cancel-renewal"' not in panel_page(client, order)
    assert panel.updates(order).active                                  # updates until the end


def test_after_the_end_updates_stop_and_the_last_file_stays(client, order, tmp_path):
    upgrade(client, order)
    client.post(reverse("panel-cancel", args=[order.public_id]))
    order.refresh_from_db()
    last_key = order.package_key
    with time_machine.travel(order.subscription_end + timedelta(days=1), tick=True):
        summary = send_reminders()
        order.refresh_from_db()
        assert summary.ended == 1 and order.subscription_status == "ended"
        assert not panel.updates(order).active
        make_release(tmp_path, seed=5)                                  # a new release: not for this order
        send_reminders()
        client.force_login(order.user)                                  # a year later: a new session
        page = panel_page(client, order)
        assert "Your subscription ended" in page and 'id="new-release-emails"' not in page
        order.refresh_from_db()
        assert order.package_key == last_key                            # no new file built
        assert not EmailRecord.objects.filter(order=order, kind=EmailRecord.Kind.NEW_RELEASE).exists()
        # the last file stays downloadable from the panel
        download = client.get(panel_page_link(page))
        assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


def panel_page_link(page: str) -> str:
    import re

    return re.search(r'id="download" href="([^"]+)"', page).group(1).replace("&amp;", "&")


def test_an_active_subscription_that_renewed_in_stripe_takes_the_new_period(client, order):
    upgrade(client, order)
    order.refresh_from_db()
    stripe_end = order.subscription_end
    Order.objects.filter(pk=order.pk).update(subscription_end=timezone.now() - timedelta(hours=1))
    send_reminders()
    order.refresh_from_db()
    assert order.subscription_status == "active" and order.subscription_end == stripe_end


def test_new_releases_are_emailed_once_each_to_subscribers_who_asked(client, order, tmp_path):
    upgrade(client, order)
    [receipt] = mail.outbox                                              # the upgrade's, with its invoice
    assert receipt.subject.startswith("Your receipt: invoice INV-")
    mail.outbox.clear()
    page = client.post(reverse("panel-new-release-emails", args=[order.public_id]), {"on": "1"},
                       follow=True).content.decode()
    assert "We will email you each new release" in page
    order.refresh_from_db()
    assert order.email_new_releases
    send_reminders()
    assert mail.outbox == []                                             # nothing new yet
    second = make_release(tmp_path, seed=5)
    send_reminders()
    send_reminders()
    [message] = mail.outbox
    assert message.to == [order.email] and f"Release {second.number} " in message.subject
    assert message.attachments[0][0] == f"speedcams-tomtom-go-classic-r{second.number}.zip"
    order.refresh_from_db()
    assert order.release == second                                       # the panel offers the new file
    third = make_release(tmp_path, seed=6)
    send_reminders()
    assert [m.subject.split()[1] for m in mail.outbox] == [str(second.number), str(third.number)]
    assert EmailRecord.objects.filter(order=order, kind=EmailRecord.Kind.NEW_RELEASE, sent_at__isnull=False).count() == 2
    # turned off: no more
    client.post(reverse("panel-new-release-emails", args=[order.public_id]), {"on": "0"})
    make_release(tmp_path, seed=7)
    send_reminders()
    assert len(mail.outbox) == 2


def test_new_release_emails_need_a_subscription(client, order):
    page = client.post(reverse("panel-new-release-emails", args=[order.public_id]), {"on": "1"},
                       follow=True).content.decode()
    assert "come with an annual subscription" in page
    order.refresh_from_db()
    assert not order.email_new_releases


def test_another_customer_gets_404_and_a_visitor_the_login(client, order, django_user_model):
    urls = [reverse(name, args=[order.public_id]) for name in
            ("panel-upgrade", "panel-cancel", "panel-new-release-emails", "panel-report")]
    outsider = django_user_model.objects.create_user(email="eve@example.com", password="x" * 12)
    client.force_login(outsider)
    for url in urls:
        assert client.post(url, {"on": "1", "text": "x"}).status_code == 404, url
    assert client.get(reverse("panel-report", args=[order.public_id])).status_code == 404
    client.logout()
    for url in urls:
        response = client.post(url)
        assert response.status_code == 302 and reverse("accounts-login") in response["Location"]
    order.refresh_from_db()
    assert order.plan == "one-time" and stripe_subscriptions(order) == []


def test_the_actions_need_the_csrf_token(order):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(order.user)
    assert strict.post(reverse("panel-upgrade", args=[order.public_id])).status_code == 403
    order.refresh_from_db()
    assert order.plan == "one-time"
