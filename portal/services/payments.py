"""Stripe, and the only module that imports it.

Flow (Stripe.js Card Element): the browser turns the card into a token (``createToken``, no
authentication yet); ``save_card`` attaches it to the order's Customer; ``charge`` creates
and confirms one PaymentIntent with that card, for the amount of the order (computed on the
server). A card that needs 3-D Secure comes back ``requires_action`` and the browser finishes
it with ``confirmCardPayment``: the only challenge of the purchase. (It used to be a
SetupIntent confirmed in the browser, then a PaymentIntent: a 3-D Secure card was challenged
twice.) The card stays on the Customer, which is what lets a customer upgrade later in one
click. The API base and keys are settings (tests point them at localstripe).

One order, one payment: ``charge`` claims the order with a conditional UPDATE (exactly one of
two concurrent requests wins, on PostgreSQL and SQLite alike), the loser reports the payment
in progress, and every Stripe call that creates something carries an idempotency key, so a
retried request returns the same object instead of charging again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import stripe
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from portal.models import Order

# A charge claimed longer ago than this was interrupted (a crash between the claim and the
# answer from Stripe): it may be claimed again, with the same idempotency key.
CHARGE_CLAIM_SECONDS = 120

# What the customer reads when a payment does not go through: what happened and what to do.
# (Lazy: each is read in the language of the request that shows it; ``str()`` where stored.)
DECLINED = gettext_lazy("your bank declined the card. Try another card, or ask your bank why")
AUTHENTICATION_FAILED = gettext_lazy("your bank's security check (3-D Secure) was not completed. Pay again and "
                                     "approve the payment in the window or app of your bank, or use another card")
UNAVAILABLE = gettext_lazy("the payment service did not answer. Please try again in a minute")


class PaymentError(Exception):
    """A payment that did not go through; the message can be shown to the customer."""


def _configure() -> None:
    stripe.api_key = settings.STRIPE_SECRET_KEY
    stripe.api_base = settings.STRIPE_API_BASE
    stripe.max_network_retries = 2


@dataclass
class ChargeResult:
    status: str                 # "succeeded", "requires_action", "processing", "failed"
    client_secret: str = ""     # for confirmCardPayment when requires_action
    message: str = ""


def _declined(exc: stripe.error.CardError) -> str:
    code = getattr(exc, "code", "") or ""
    if code in ("expired_card", "incorrect_cvc", "incorrect_number", "invalid_expiry_year", "invalid_cvc"):
        return _("%(reason)s. Check them and pay again") % {
            "reason": (exc.user_message or _("the card details are wrong")).rstrip(".")}
    return failure_message({"code": code, "message": exc.user_message})


def save_card(order: Order, token: str) -> str:
    """Attach the browser's card token to the order's Customer (made once per order); it is
    the card the next ``charge`` uses. Returns the card's id."""
    if not isinstance(token, str) or not token.startswith("tok_"):
        raise PaymentError(_("the card was not read; please enter it again"))
    _configure()
    key = f"order-{order.public_id}"
    try:
        if not order.stripe_customer:
            customer = stripe.Customer.create(email=order.email, metadata={"order": str(order.public_id)},
                                              idempotency_key=f"{key}-customer")
            order.stripe_customer = customer.id
            order.save(update_fields=["stripe_customer"])
        card = stripe.Customer.create_source(order.stripe_customer, source=token, idempotency_key=f"{key}-{token}")
        # the card of this attempt is the one renewals charge too
        stripe.Customer.modify(order.stripe_customer, default_source=card.id)
    except stripe.error.CardError as exc:
        raise PaymentError(_declined(exc))
    except stripe.error.StripeError:
        raise PaymentError(str(UNAVAILABLE))
    # the issuing country of the card of this attempt: VAT evidence (portal.services.vat)
    country = str(getattr(card, "country", "") or "").upper()
    Order.objects.filter(pk=order.pk).update(payment_method=card.id, charge_attempts=F("charge_attempts") + 1,
                                             card_country=country if len(country) == 2 and country.isalpha() else "")
    order.refresh_from_db(fields=["payment_method", "charge_attempts", "card_country"])
    return card.id


def _no_intent() -> Q:
    return Q(payment_intent__isnull=True) | Q(payment_intent="")


def charge(order: Order) -> ChargeResult:
    """Charge the order's amount to the card saved by ``save_card``, once: a request that
    finds the payment made or under way gets its status instead."""
    _configure()
    now = timezone.now()
    claimed = (Order.objects.filter(_no_intent(), pk=order.pk, status=Order.Status.PENDING)
               .filter(Q(charge_started_at__isnull=True)
                       | Q(charge_started_at__lt=now - timedelta(seconds=CHARGE_CLAIM_SECONDS)))
               .update(charge_started_at=now))
    if not claimed:
        order.refresh_from_db()
        if order.payment_intent:
            return payment_status(order)
        if order.status == Order.Status.PAID:
            return ChargeResult("succeeded")
        if order.status != Order.Status.PENDING:
            return ChargeResult("failed", message=order.failure_message or str(DECLINED))
        return ChargeResult("processing")     # another request is charging it right now
    if not order.payment_method or not order.stripe_customer:
        Order.objects.filter(pk=order.pk).update(charge_started_at=None)
        raise PaymentError(_("the card was not saved; please enter it again"))
    try:
        intent = stripe.PaymentIntent.create(
            amount=order.amount, currency=order.currency, customer=order.stripe_customer,
            payment_method=order.payment_method, confirm=True, metadata={"order": str(order.public_id)},
            idempotency_key=f"order-{order.public_id}-charge-{order.charge_attempts}")
    except stripe.error.CardError as exc:
        Order.objects.filter(pk=order.pk).update(charge_started_at=None)
        return ChargeResult("failed", message=_declined(exc))
    except stripe.error.StripeError:
        # not known to have charged: the same idempotency key makes a retry safe
        Order.objects.filter(pk=order.pk).update(charge_started_at=None)
        raise PaymentError(str(UNAVAILABLE))
    Order.objects.filter(pk=order.pk).update(payment_intent=intent.id)
    order.payment_intent = intent.id
    return _result(intent)


def reopen(order: Order) -> str:
    """Make a checkout's order payable again after a payment that did not go through (a
    declined card, 3-D Secure failed or abandoned), so the customer can retry on the same
    page. Returns "" when it was reopened, else why not ("paid", "processing")."""
    if order.status == Order.Status.PAID or order.status == Order.Status.REFUNDED:
        return "paid"
    if order.payment_intent:
        result = payment_status(order)
        if result.status == "succeeded":
            return "paid"
        if result.status == "processing":
            return "processing"
        if result.status == "requires_action":   # an earlier 3-D Secure window left open: close it
            try:
                stripe.PaymentIntent.cancel(order.payment_intent)
            except stripe.error.StripeError:
                raise PaymentError(str(UNAVAILABLE))
    updated = (Order.objects.filter(pk=order.pk, status__in=[Order.Status.PENDING, Order.Status.FAILED],
                                    payment_intent=order.payment_intent)
               .update(status=Order.Status.PENDING, payment_intent=None, failure_message="", charge_started_at=None))
    if not updated:
        return "processing"
    order.status, order.payment_intent, order.failure_message = Order.Status.PENDING, None, ""
    return ""
def card_country(order: Order) -> str:
    """The issuing country of the card that paid the order (its PaymentMethod's
    ``card.country``; localstripe says "FR"), "" when Stripe does not say or cannot be
    reached: VAT evidence, best effort."""
    if not order.payment_intent and not order.setup_intent:
        return ""
    _configure()
    try:
        pm = _saved_payment_method(order)
        card = stripe.PaymentMethod.retrieve(pm).to_dict().get("card") if pm else None
    except stripe.error.StripeError:
        return ""
    country = str((card or {}).get("country") or "").upper()
    return country if len(country) == 2 and country.isalpha() else ""


def payment_status(order: Order) -> ChargeResult:
    _configure()
    try:
        intent = stripe.PaymentIntent.retrieve(order.payment_intent)
    except stripe.error.StripeError:
        raise PaymentError(str(UNAVAILABLE))
    return _result(intent)


def _result(intent) -> ChargeResult:
    status = intent.status
    if status == "succeeded":
        return ChargeResult("succeeded")
    if status in ("requires_action", "requires_source_action"):
        return ChargeResult("requires_action", client_secret=intent.client_secret)
    if status == "processing":
        return ChargeResult("processing")
    error = getattr(intent, "last_payment_error", None)
    return ChargeResult("failed", message=failure_message(error.to_dict() if hasattr(error, "to_dict") else error))


def failure_message(error: dict | None) -> str:
    """What the customer reads for a failed payment (a PaymentIntent's ``last_payment_error``,
    a card error): a failed 3-D Secure check in words (Stripe's message is for developers:
    "The provided PaymentMethod has failed authentication."), a decline with the bank's
    reason when Stripe gives one, and what to do."""
    error = error or {}
    if "authentication" in str(error.get("code") or ""):
        return str(AUTHENTICATION_FAILED)
    reason = str(error.get("message") or "").strip().rstrip(".")
    return _("%(reason)s. Try another card, or ask your bank why") % {"reason": reason} if reason else str(DECLINED)


def verify_webhook(payload: bytes, signature: str):
    """The event of a webhook request, verified against its signature on the raw body;
    raises ValueError for a bad payload or signature."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise ValueError("STRIPE_WEBHOOK_SECRET is not set")
    try:
        return stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except stripe.error.SignatureVerificationError as exc:
        raise ValueError(f"bad signature: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"bad payload: {exc}") from None
    except (AttributeError, TypeError):  # the stripe library reads the body as an object
        raise ValueError("bad payload: the event is not a JSON object") from None


def is_full_refund(charge: dict) -> bool:
    """Whether a ``charge.refunded`` event's charge is refunded in full (its amount_refunded
    reaches its amount); a partial refund (a goodwill gesture made in the Stripe dashboard)
    leaves the order paid. A charge without the amounts is judged by Stripe's ``refunded``
    flag, and one with neither counts as refunded in full."""
    amount, refunded = charge.get("amount"), charge.get("amount_refunded")
    if isinstance(amount, int) and isinstance(refunded, int):
        return refunded >= amount
    return bool(charge.get("refunded", True))


def refund(order: Order) -> str:
    """Refund the order's payment in full; returns the refund id."""
    _configure()
    try:
        return stripe.Refund.create(payment_intent=order.payment_intent).id
    except stripe.error.StripeError as exc:
        raise PaymentError(_("the refund failed (%(error)s)") % {"error": exc})


# --------------------------------------------------------------------------- subscriptions
#
# The annual upgrade of a one-time purchase, paying the difference in one click with the
# card saved at checkout. The credit for what was already paid is a negative pending
# InvoiceItem on the order's Customer: Stripe puts pending invoice items on the first
# invoice of the next subscription, so that invoice is (annual price - amount paid) and is
# charged at once to the Customer's default payment method. Renewals then charge the full
# annual price. (Alternatives rejected: localstripe accepts no ``coupon`` on a Subscription
# or Customer, cannot update a Customer's ``balance``, and leaves a trialing subscription
# "incomplete"; a negative invoice item works the same in Stripe and in localstripe.)


@dataclass
class SubscriptionInfo:
    id: str
    status: str                     # Stripe's: active, trialing, past_due, canceled, incomplete, ...
    current_period_end: int | None  # unix time
    cancel_at_period_end: bool = False


def _subscription_info(sub) -> SubscriptionInfo:
    data = sub.to_dict() if hasattr(sub, "to_dict") else dict(sub)
    end = data.get("current_period_end")
    if end is None:  # API versions from 2025 keep the period on the items
        items = (data.get("items") or {}).get("data") or []
        end = items[0].get("current_period_end") if items else None
    return SubscriptionInfo(data["id"], data.get("status", ""), end, bool(data.get("cancel_at_period_end")))


def _metadata(obj) -> dict:
    meta = obj["metadata"] if "metadata" in obj else None
    return meta.to_dict() if hasattr(meta, "to_dict") else dict(meta or {})


def ensure_annual_plan(plan_id: str, amount: int, currency: str, nickname: str) -> str:
    """The yearly Plan ``plan_id`` (and its Product), created once: explicit ids make it
    idempotent (a second creator gets 409 and uses the existing one)."""
    _configure()
    product_id = settings.STRIPE_ANNUAL_PRODUCT
    try:
        try:
            stripe.Product.retrieve(product_id)
        except stripe.error.InvalidRequestError:
            try:
                stripe.Product.create(id=product_id, name="Speed camera file: annual subscription")
            except stripe.error.StripeError as exc:
                if getattr(exc, "http_status", None) != 409:
                    raise
        try:
            plan = stripe.Plan.retrieve(plan_id)
        except stripe.error.InvalidRequestError:
            try:
                plan = stripe.Plan.create(id=plan_id, product=product_id, amount=amount, currency=currency,
                                          interval="year", nickname=nickname)
            except stripe.error.StripeError as exc:
                if getattr(exc, "http_status", None) != 409:
                    raise
                plan = stripe.Plan.retrieve(plan_id)
    except stripe.error.StripeError as exc:
        raise PaymentError(_("the payment service is not available (%(error)s); please try again") % {"error": exc})
    if plan.amount != amount or plan.currency != currency or plan.interval != "year":
        raise PaymentError(_("the Stripe plan %(plan)s does not match the price; please contact us") % {"plan": plan_id})
    return plan.id


def _saved_payment_method(order: Order) -> str:
    """The card the customer paid the order with (the one saved at checkout, else the
    PaymentIntent's, else the SetupIntent's of orders paid before cards were saved directly)."""
    pm = order.payment_method
    if not pm and order.payment_intent:
        pm = stripe.PaymentIntent.retrieve(order.payment_intent).payment_method or ""
    if not pm and order.setup_intent:
        pm = stripe.SetupIntent.retrieve(order.setup_intent).payment_method or ""
    if isinstance(pm, dict) or hasattr(pm, "id"):
        pm = pm["id"]
    return pm


def find_subscription(order: Order) -> SubscriptionInfo | None:
    """The subscription already made for this order (an upgrade that ran twice), if any."""
    _configure()
    try:
        subs = stripe.Subscription.list(customer=order.stripe_customer, status="all", limit=100)
    except stripe.error.StripeError as exc:
        raise PaymentError(_("the payment service is not available (%(error)s); please try again") % {"error": exc})
    for sub in subs.data:
        if _metadata(sub).get("order") == str(order.public_id):
            return _subscription_info(sub)
    return None


def subscribe(order: Order, plan_id: str, credit: int) -> SubscriptionInfo:
    """Make the order's annual subscription, crediting ``credit`` cents on its first invoice
    and charging the rest to the saved card now. Safe to call again: an existing
    subscription for the order (metadata ``order``) is returned, a pending credit reused."""
    if not order.stripe_customer:
        raise PaymentError(_("this purchase has no saved card; please contact us"))
    existing = find_subscription(order)
    if existing is not None and existing.status not in ("incomplete_expired", "canceled"):
        return existing
    meta = {"order": str(order.public_id), "purpose": "annual-upgrade"}
    try:
        pm = _saved_payment_method(order)
        if not pm:
            raise PaymentError(_("this purchase has no saved card; please contact us"))
        if pm.startswith("card_"):   # a card saved at checkout: already the Customer's
            stripe.Customer.modify(order.stripe_customer, default_source=pm)
        else:
            if stripe.PaymentMethod.retrieve(pm).customer != order.stripe_customer:
                stripe.PaymentMethod.attach(pm, customer=order.stripe_customer)
            stripe.Customer.modify(order.stripe_customer, invoice_settings={"default_payment_method": pm})
        if credit > 0:
            pending = stripe.InvoiceItem.list(customer=order.stripe_customer, limit=100).data
            if not any(_metadata(ii).get("order") == meta["order"] and not ii.invoice for ii in pending):
                stripe.InvoiceItem.create(customer=order.stripe_customer, amount=-credit, currency=order.currency,
                                          description="Credit: the one-time purchase already paid", metadata=meta,
                                         idempotency_key=f"order-{order.public_id}-annual-credit")
        sub = stripe.Subscription.create(customer=order.stripe_customer, items=[{"plan": plan_id}], metadata=meta,
                                         payment_behavior="error_if_incomplete",
                                         idempotency_key=f"order-{order.public_id}-annual")
    except stripe.error.CardError as exc:
        raise PaymentError(_declined(exc))
    except stripe.error.StripeError:
        raise PaymentError(str(UNAVAILABLE))
    info = _subscription_info(sub)
    if info.status not in ("active", "trialing"):
        raise PaymentError(_("the card was declined; nothing was charged"))
    return info


def subscription(subscription_id: str) -> SubscriptionInfo:
    _configure()
    try:
        return _subscription_info(stripe.Subscription.retrieve(subscription_id))
    except stripe.error.StripeError as exc:
        raise PaymentError(_("the payment service is not available (%(error)s); please try again") % {"error": exc})


def cancel_renewal(subscription_id: str) -> SubscriptionInfo:
    """Stop the renewal: the subscription runs to the end of the paid period."""
    _configure()
    try:
        return _subscription_info(stripe.Subscription.modify(subscription_id, cancel_at_period_end=True))
    except stripe.error.StripeError as exc:
        raise PaymentError(_("the payment service is not available (%(error)s); please try again") % {"error": exc})


def end_subscription(subscription_id: str, refund_last_payment: bool = False) -> list[str]:
    """End the subscription now (a refunded order); with ``refund_last_payment`` also refund
    what its latest invoice charged. Returns the refund ids."""
    _configure()
    refunds = []
    try:
        sub = stripe.Subscription.retrieve(subscription_id)
        if refund_last_payment and sub.latest_invoice:
            invoice_id = sub.latest_invoice if isinstance(sub.latest_invoice, str) else sub.latest_invoice.id
            invoice = stripe.Invoice.retrieve(invoice_id).to_dict()
            intent = invoice.get("payment_intent")
            if intent and invoice.get("amount_paid", 0) > 0:
                refunds.append(stripe.Refund.create(payment_intent=intent).id)
        if sub.status not in ("canceled", "incomplete_expired"):
            stripe.Subscription.delete(subscription_id)
    except stripe.error.StripeError as exc:
        raise PaymentError(_("the payment service is not available (%(error)s); please try again") % {"error": exc})
    return refunds
