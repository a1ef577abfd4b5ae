"""The Stripe webhook: verify the signature on the raw body, store the event once by its id,
then hand it to the fulfilment."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal.models import Order, StripeEvent
from portal.services import fulfilment, payments

log = logging.getLogger(__name__)


def _event_mismatch(event: dict) -> str:
    """Why a correctly signed payment event cannot be about the order its metadata names
    (empty when it can): another PaymentIntent or Stripe customer than the order's, or
    another amount or currency. Such an event (a payment made elsewhere in the Stripe
    account carrying our order id, say for one cent) must not fulfil the order."""
    kind, obj = event["type"], event["data"]["object"]
    if not kind.startswith(("payment_intent.", "charge.")) or not isinstance(obj, dict):
        return ""
    public_id = (obj.get("metadata") or {}).get("order")
    if not public_id:
        return ""  # found (or not) by its PaymentIntent id below
    try:
        order = Order.objects.filter(public_id=public_id).first()
    except ValidationError:
        return f"the event names an order id that is not one of ours ({public_id!r})"
    if order is None:
        return ""
    intent = obj.get("id") if kind.startswith("payment_intent.") else obj.get("payment_intent")
    if kind == "payment_intent.payment_failed":
        return ""  # an earlier attempt of a retried checkout may fail late: recorded, then ignored
    if order.payment_intent and intent and intent != order.payment_intent:
        return f"the event's payment {intent} is not the payment of order {order.public_id}"
    customer = obj.get("customer")
    if order.stripe_customer and customer and customer != order.stripe_customer:
        return f"the event's customer {customer} is not the customer of order {order.public_id}"
    if kind == "payment_intent.succeeded":
        amount = obj.get("amount_received", obj.get("amount"))
        if amount is not None and amount != order.amount:
            return f"the event's amount {amount} is not the amount {order.amount} of order {order.public_id}"
        currency = obj.get("currency")
        if currency and str(currency).lower() != order.currency.lower():
            return f"the event's currency {currency} is not the currency of order {order.public_id}"
    return ""


def _store_event(event: dict) -> tuple[StripeEvent, bool]:
    """The stored event (created now: True), one row per Stripe event id whoever comes first."""
    try:
        with transaction.atomic():
            return StripeEvent.objects.create(id=event["id"], type=event["type"], payload=event), True
    except IntegrityError:
        return StripeEvent.objects.get(pk=event["id"]), False


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Verify the signature on the raw body (400 otherwise, nothing changes), store the event
    once by its id, then hand it to the idempotent fulfilment and mark it processed. A replay
    of a processed event is a no-op; a replay of one whose processing did not finish (the
    fulfilment raised, the process died: Stripe retries after a 5xx) is processed again, and
    so is a copy arriving while the first is still at work -- the fulfilment locks the order
    row, so exactly one of them fulfils."""
    try:
        payments.verify_webhook(request.body, request.headers.get("Stripe-Signature", ""))
        event = json.loads(request.body.decode("utf-8"))  # verified: read it as plain JSON
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            return HttpResponseBadRequest("the event is not a JSON object with a data object")
        event["id"], event["type"]
        if not isinstance(event["data"].get("object"), dict):
            return HttpResponseBadRequest("the event's data.object is not a JSON object")
        mismatch = _event_mismatch(event)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return HttpResponseBadRequest(str(exc))
    if mismatch:
        log.warning("stripe webhook %s refused: %s", event.get("id"), mismatch)
        return HttpResponseBadRequest(f"refused: {mismatch}")
    record, created = _store_event(event)
    if not created and record.processed_at is not None:
        return HttpResponse("already received")
    obj = event["data"]["object"]
    order = None
    public_id = (obj.get("metadata") or {}).get("order")
    if public_id:
        order = Order.objects.filter(public_id=public_id).first()
    if order is None and event["type"].startswith(("payment_intent.", "charge.")):
        intent_id = obj.get("id") if event["type"].startswith("payment_intent.") else obj.get("payment_intent")
        order = Order.objects.filter(payment_intent=intent_id).first() if intent_id else None
    if order is not None:
        if event["type"] == "payment_intent.succeeded":
            if not order.payment_intent:
                Order.objects.filter(pk=order.pk, payment_intent__isnull=True).update(payment_intent=obj.get("id"))
            fulfilment.payment_succeeded(order.pk)
        elif event["type"] == "payment_intent.payment_failed" and obj.get("id") == order.payment_intent:
            # the current attempt only: a checkout reopened for another card has none yet; the
            # reason is stored in the customer's words (the order page shows it as stored)
            with translation.override(order.language or settings.LANGUAGE_CODE):
                message = payments.failure_message(obj.get("last_payment_error"))
            fulfilment.payment_failed(order.pk, message)
        elif event["type"] == "charge.refunded":
            if payments.is_full_refund(obj):
                fulfilment.refunded(order.pk)
            else:
                log.info("order %s partially refunded (%s of %s): it stays paid", order.public_id,
                         obj.get("amount_refunded"), obj.get("amount"))
                if isinstance(obj.get("amount_refunded"), int):
                    fulfilment.partially_refunded(order.pk, obj["amount_refunded"])
    StripeEvent.objects.filter(pk=record.pk).update(processed_at=timezone.now())
    return HttpResponse("ok")
