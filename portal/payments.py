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

from .models import Order


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


def refund(order: Order) -> str:
    """Refund the order's payment in full; returns the refund id."""
    _configure()
    try:
        return stripe.Refund.create(payment_intent=order.payment_intent).id
    except stripe.error.StripeError as exc:
        raise PaymentError(f"the refund failed ({exc})")
