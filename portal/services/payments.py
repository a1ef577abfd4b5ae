"""Stripe, and the only module that imports it.

Flow (Stripe.js Card Element): ``start`` creates a Customer and a SetupIntent the browser
confirms with ``confirmCardSetup``; ``charge`` then creates and confirms a PaymentIntent
with the saved payment method, for the amount of the order (computed on the server). A card
that needs 3-D Secure comes back ``requires_action`` and the browser finishes it with
``confirmCardPayment``. Saving the card is what lets a customer upgrade later in one click.
The API base and keys are settings (tests point them at localstripe)."""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings

from portal.models import Order


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


def start(order: Order) -> str:
    """A Customer and a SetupIntent for the order; returns the SetupIntent's client secret."""
    _configure()
    try:
        customer = stripe.Customer.create(email=order.email, metadata={"order": str(order.public_id)})
        intent = stripe.SetupIntent.create(customer=customer.id, payment_method_types=["card"],
                                           metadata={"order": str(order.public_id)})
    except stripe.error.StripeError as exc:
        raise PaymentError(f"the payment service is not available ({exc.user_message or exc}); please try again")
    order.stripe_customer, order.setup_intent = customer.id, intent.id
    order.save(update_fields=["stripe_customer", "setup_intent"])
    return intent.client_secret


def charge(order: Order) -> ChargeResult:
    """Charge the order's amount to the card saved by its confirmed SetupIntent."""
    _configure()
    if order.payment_intent:  # already charged (a double click): report the existing payment
        return payment_status(order)
    try:
        setup = stripe.SetupIntent.retrieve(order.setup_intent)
    except stripe.error.StripeError as exc:
        raise PaymentError(f"the payment service is not available ({exc}); please try again")
    if setup.status != "succeeded" or not setup.payment_method:
        raise PaymentError("the card was not confirmed; please enter it again")
    try:
        intent = stripe.PaymentIntent.create(
            amount=order.amount, currency=order.currency, customer=order.stripe_customer,
            payment_method=setup.payment_method, confirm=True,
            metadata={"order": str(order.public_id)}, idempotency_key=f"order-{order.public_id}-charge")
    except stripe.error.CardError as exc:
        return ChargeResult("failed", message=exc.user_message or "the card was declined")
    except stripe.error.StripeError as exc:
        raise PaymentError(f"the payment service is not available ({exc}); please try again")
    order.payment_intent = intent.id
    order.save(update_fields=["payment_intent"])
    return _result(intent)


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
    except stripe.error.StripeError as exc:
        raise PaymentError(f"the payment service is not available ({exc}); please try again")
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
    message = (getattr(error, "message", "") or "") if error else ""
    return ChargeResult("failed", message=message or "the payment did not go through")


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
        raise PaymentError(f"the refund failed ({exc})")


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
        raise PaymentError(f"the payment service is not available ({exc}); please try again")
    if plan.amount != amount or plan.currency != currency or plan.interval != "year":
        raise PaymentError(f"the Stripe plan {plan_id} does not match the price; please contact us")
    return plan.id


def _saved_payment_method(order: Order) -> str:
    """The card the customer paid the order with (the PaymentIntent's, else the SetupIntent's)."""
    pm = ""
    if order.payment_intent:
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
        raise PaymentError(f"the payment service is not available ({exc}); please try again")
    for sub in subs.data:
        if _metadata(sub).get("order") == str(order.public_id):
            return _subscription_info(sub)
    return None


def subscribe(order: Order, plan_id: str, credit: int) -> SubscriptionInfo:
    """Make the order's annual subscription, crediting ``credit`` cents on its first invoice
    and charging the rest to the saved card now. Safe to call again: an existing
    subscription for the order (metadata ``order``) is returned, a pending credit reused."""
    if not order.stripe_customer:
        raise PaymentError("this purchase has no saved card; please contact us")
    existing = find_subscription(order)
    if existing is not None and existing.status not in ("incomplete_expired", "canceled"):
        return existing
    meta = {"order": str(order.public_id), "purpose": "annual-upgrade"}
    try:
        pm = _saved_payment_method(order)
        if not pm:
            raise PaymentError("this purchase has no saved card; please contact us")
        if stripe.PaymentMethod.retrieve(pm).customer != order.stripe_customer:
            stripe.PaymentMethod.attach(pm, customer=order.stripe_customer)
        stripe.Customer.modify(order.stripe_customer, invoice_settings={"default_payment_method": pm})
        if credit > 0:
            pending = stripe.InvoiceItem.list(customer=order.stripe_customer, limit=100).data
            if not any(_metadata(ii).get("order") == meta["order"] and not ii.invoice for ii in pending):
                stripe.InvoiceItem.create(customer=order.stripe_customer, amount=-credit, currency=order.currency,
                                          description="Credit: the one-time purchase already paid", metadata=meta)
        sub = stripe.Subscription.create(customer=order.stripe_customer, items=[{"plan": plan_id}], metadata=meta,
                                         payment_behavior="error_if_incomplete")
    except stripe.error.CardError as exc:
        raise PaymentError(exc.user_message or "the card was declined")
    except stripe.error.StripeError as exc:
        raise PaymentError(f"the payment service is not available ({exc.user_message or exc}); please try again")
    info = _subscription_info(sub)
    if info.status not in ("active", "trialing"):
        raise PaymentError("the card was declined; nothing was charged")
    return info


def subscription(subscription_id: str) -> SubscriptionInfo:
    _configure()
    try:
        return _subscription_info(stripe.Subscription.retrieve(subscription_id))
    except stripe.error.StripeError as exc:
        raise PaymentError(f"the payment service is not available ({exc}); please try again")


def cancel_renewal(subscription_id: str) -> SubscriptionInfo:
    """Stop the renewal: the subscription runs to the end of the paid period."""
    _configure()
    try:
        return _subscription_info(stripe.Subscription.modify(subscription_id, cancel_at_period_end=True))
    except stripe.error.StripeError as exc:
        raise PaymentError(f"the payment service is not available ({exc}); please try again")


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
        raise PaymentError(f"the payment service is not available ({exc}); please try again")
    return refunds
