"""Annual subscriptions: a one-time purchase becomes annual within UPGRADE_DAYS of its
payment, paying the difference with the card saved at checkout (one click); it renews every
year in Stripe until the customer cancels the renewal.

States (``Order.subscription_status``): "active" (renews), "canceled" (runs to the end of the
paid period, no renewal), "ended" (the period is over: the last file stays downloadable,
updates stop). ``subscription_end`` is the end of the paid period, kept on cancel. What a
subscription is entitled to, and when it runs, is ``services.entitlement``'s rule.
The Stripe side (plan, credit, subscription) is in ``portal.payments``; see there for why
the credit for the one-time payment is a negative invoice item."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _, ngettext

from cameras.exporting import latest_release
from cameras.models import Release

from portal.services import emails, invoices, l10n, packages, payments
from portal.services.pricing import annual_price
from portal.models import EmailRecord, Order
from portal.services.entitlement import (ACTIVE, CANCELED, ENDED, RUNNING, add_months, running_subscriptions,
                                        subscription_running)

log = logging.getLogger(__name__)

ANNUAL_MONTHS = 12  # what a year of the annual subscription brings, from the upgrade


class SubscriptionError(Exception):
    """A refused subscription action; the message is for the customer."""


# --------------------------------------------------------------------------- prices and dates


def upgrade_cost(order: Order) -> int:
    """What the upgrade charges now: the annual price less what the purchase cost."""
    return max(0, annual_price(order) - order.amount)


def plan_id(order: Order) -> str:
    return f"annual-{annual_price(order)}-{order.currency}"


def annual_end(upgraded_at: datetime, period_end: datetime | None = None) -> datetime:
    """The end of the first paid year: 12 months from the upgrade (not from the one-time
    purchase, whose short UPDATE_MONTHS it replaces). Stripe's period end is that same
    instant give or take its clock; it is kept when it agrees within a day (the renewal
    check compares with it), and the year from the upgrade is used when it falls short."""
    year = add_months(upgraded_at, ANNUAL_MONTHS)
    if period_end is not None and period_end >= year - timedelta(days=1):
        return period_end
    return year


def upgrade_deadline(order: Order) -> datetime | None:
    start = order.paid_at or order.created_at
    return start + timedelta(days=settings.UPGRADE_DAYS) if start else None


def upgrade_refusal(order: Order, now: datetime | None = None) -> str:
    """Why the order cannot be upgraded now ("" when it can)."""
    now = now or timezone.now()
    if order.plan == "annual" or order.subscription_id:
        return _("This purchase is already an annual subscription.")
    if order.status != Order.Status.PAID:
        return _("Only a paid purchase can become an annual subscription.")
    deadline = upgrade_deadline(order)
    if deadline is None or now > deadline:
        if deadline is None:
            return _("The upgrade period is over.")
        return ngettext("The annual upgrade is offered for %(days)s day after the purchase; "
                        "for this purchase it ended on %(date)s.",
                        "The annual upgrade is offered for %(days)s days after the purchase; "
                        "for this purchase it ended on %(date)s.",
                        settings.UPGRADE_DAYS) % {"days": settings.UPGRADE_DAYS, "date": l10n.date(deadline)}
    if not order.stripe_customer or not order.payment_intent:
        return _("This purchase has no saved card; please contact us to upgrade.")
    return ""


def can_upgrade(order: Order, now: datetime | None = None) -> bool:
    return upgrade_refusal(order, now) == ""


def _when(unix: int | None) -> datetime | None:
    return datetime.fromtimestamp(unix, tz=dt_timezone.utc) if unix else None


# --------------------------------------------------------------------------- customer actions


def upgrade(order_id: int, now: datetime | None = None) -> Order:
    """Turn the purchase into an annual subscription (one click: the card is saved). Checks
    the 7-day window on the server; the order row stays locked during the Stripe calls, so a
    double click makes one subscription (payments.subscribe also finds an existing one)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        refusal = upgrade_refusal(order, now)
        if refusal:
            raise SubscriptionError(refusal)
        price = annual_price(order)
        cost = upgrade_cost(order)
        try:
            plan = payments.ensure_annual_plan(plan_id(order), price, order.currency,
                                               nickname=f"Annual, {price / 100:.2f} {order.currency}")
            info = payments.subscribe(order, plan, credit=min(order.amount, price))
        except payments.PaymentError as exc:
            raise SubscriptionError(_("The upgrade did not go through: %(reason)s.") % {"reason": exc}) from exc
        upgraded_at = timezone.now()
        order.plan = "annual"
        order.subscription_id = info.id
        order.subscription_status = CANCELED if info.cancel_at_period_end else ACTIVE
        order.subscription_end = annual_end(upgraded_at, _when(info.current_period_end))
        order.upgraded_at, order.upgrade_amount = upgraded_at, cost
        order.save(update_fields=["plan", "subscription_id", "subscription_status", "subscription_end",
                                  "upgraded_at", "upgrade_amount"])
        if cost > 0:
            invoices.issue_upgrade(order, cost)  # with its receipt email, once the upgrade commits
    log.info("order %s: upgraded to subscription %s", order.public_id, order.subscription_id)
    return order


def cancel(order_id: int) -> Order:
    """Stop the renewal; the paid period runs to its end (``subscription_end`` is kept)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.plan != "annual" or not order.subscription_id:
            raise SubscriptionError(_("This purchase is not a subscription."))
        if order.subscription_status != ACTIVE:
            return order  # already canceled or ended: nothing to stop
        try:
            payments.cancel_renewal(order.subscription_id)
        except payments.PaymentError as exc:
            raise SubscriptionError(_("The renewal could not be canceled: %(reason)s.") % {"reason": exc}) from exc
        order.subscription_status = CANCELED
        order.save(update_fields=["subscription_status"])
    return order


def set_new_release_emails(order_id: int, on: bool) -> Order:
    order = Order.objects.get(pk=order_id)
    if on and order.plan != "annual":
        raise SubscriptionError(_("New-release emails come with an annual subscription."))
    Order.objects.filter(pk=order_id).update(email_new_releases=on)
    order.email_new_releases = on
    return order


# --------------------------------------------------------------------------- periodic work


def end_expired(now: datetime | None = None) -> int:
    """Subscriptions past ``subscription_end``: renewed in Stripe -> the new period end;
    otherwise (canceled, unpaid, or Stripe unreachable for a canceled one) -> "ended"."""
    now = now or timezone.now()
    count = 0
    for order in Order.objects.filter(plan="annual", subscription_status__in=RUNNING, subscription_end__lte=now):
        new_end = None
        if order.subscription_status == ACTIVE and order.subscription_id:
            try:
                info = payments.subscription(order.subscription_id)
            except payments.PaymentError as exc:
                log.warning("order %s: subscription not checked (%s); next run", order.public_id, exc)
                continue
            end = _when(info.current_period_end)
            if info.status in ("active", "trialing") and end and end > now:
                new_end = end
        if new_end is not None:
            with transaction.atomic():
                Order.objects.filter(pk=order.pk).update(subscription_end=new_end)
                order.subscription_end = new_end
                invoices.issue_renewal(order, new_end)  # once per period: its source names the end
        else:
            Order.objects.filter(pk=order.pk, subscription_status__in=RUNNING).update(subscription_status=ENDED)
            count += 1
    return count


def due_new_release_emails(now: datetime | None = None) -> list[tuple[int, int]]:
    """(order id, release number): running subscriptions that asked for new-release emails
    and whose file is older than the latest release, not yet emailed about it."""
    now = now or timezone.now()
    latest = latest_release(changelog=False, missing_ok=True)
    if latest is None:
        return []
    due = []
    orders = (running_subscriptions(now).filter(email_new_releases=True)
              .select_related("release").defer("release__changelog"))
    sent = emails.sent_keys(EmailRecord.Kind.NEW_RELEASE, orders)
    for order in orders:
        if order.release is not None and order.release.number >= latest.number:
            continue  # the file is from the latest release already (subscribed since, or updated in the panel)
        if (order.pk, str(latest.number)) in sent:
            continue
        due.append((order.pk, latest.number))
    return due


def deliver_new_release(order_id: int, number: int) -> bool:
    """Build the subscriber's file from the new release, then email it (once per release);
    True when the email went out now. SMTP errors propagate (the task retries)."""
    order = Order.objects.get(pk=order_id)
    if not subscription_running(order) or emails.was_sent(order_id, EmailRecord.Kind.NEW_RELEASE, number):
        return False
    if order.release is None or order.release.number < number:
        release = Release.objects.get(number=number)
        device, coverage, options = packages.order_spec(order)
        stored = packages.ensure_package(device, coverage, options, release=release)
        Order.objects.filter(pk=order_id).update(package_key=stored.key, release=stored.release,
                                                 package_bytes=stored.size, package_error="")
    return emails.send(order_id, EmailRecord.Kind.NEW_RELEASE, number)
