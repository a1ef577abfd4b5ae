"""Orders from payment to delivery, each step idempotent.

``payment_succeeded`` and ``fulfil`` lock the order row, so the webhook, the success page
and a replayed event can all call them: the first one does the work, the others see
``fulfilled_at`` and return. Fulfilment creates the customer account (or finds it: one
email, several devices), records the emails to send and, once the transaction commits,
queues the package build, which then queues the emails. Should anything between the payment
and the last email be lost (a crash between two steps, Redis down or emptied), the order is
found and resumed by ``portal.recovery`` (Celery beat, or ``manage.py resume_orders``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from portal.models import EmailRecord, Order, User
from portal.services import invoices, payments, queue


def payment_succeeded(order_id: int) -> Order:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status == Order.Status.REFUNDED:
            return order
        if order.status != Order.Status.PAID:
            order.status = Order.Status.PAID
            order.paid_at = timezone.now()
            order.failure_message = ""
            order.save(update_fields=["status", "paid_at", "failure_message"])
    return fulfil(order.pk)


def payment_failed(order_id: int, message: str) -> Order:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status == Order.Status.PENDING or order.status == Order.Status.FAILED:
            order.status = Order.Status.FAILED
            if not message:  # stored in the customer's words: the order page shows it as stored
                with translation.override(order.customer_language):
                    message = gettext("the payment did not go through")
            order.failure_message = message
            order.save(update_fields=["status", "failure_message"])
    return order


def _record_card_country(order_id: int) -> None:
    """The VAT evidence from Stripe (the paying card's country), read before the order row is
    locked (a network call) and only while the order waits for its fulfilment."""
    waiting = Order.objects.filter(pk=order_id, fulfilled_at__isnull=True, status=Order.Status.PAID, card_country="")
    order = waiting.only("payment_intent", "setup_intent", "payment_method", "stripe_customer").first()  # a hint: the update below is conditional
    country = payments.card_country(order) if order is not None else ""
    if country:
        waiting.update(card_country=country)


def fulfil(order_id: int) -> Order:
    """Account + invoice + email records + package build, once per order (a paid order only)."""
    _record_card_country(order_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.fulfilled_at is not None or order.status != Order.Status.PAID:
            return order
        email = order.email.strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        new_account = user is None
        if new_account:
            # the password is set when emailed; the account speaks the language the order was placed in
            user = User.objects.create_user(email=email, password=None, language=order.language or "en")
        order.user = user
        order.fulfilled_at = timezone.now()
        order.save(update_fields=["user", "fulfilled_at"])
        invoices.issue_purchase(order)  # its number taken in this transaction: no gap if it rolls back
        EmailRecord.objects.get_or_create(order=order, kind=EmailRecord.Kind.FILE, defaults={"to": email})
        kind = EmailRecord.Kind.ACCOUNT if new_account else EmailRecord.Kind.DEVICE_ADDED
        EmailRecord.objects.get_or_create(order=order, kind=kind, defaults={"to": email})
        # queued after the commit; should the broker be down, the order stays paid and
        # fulfilled and portal.recovery queues the build later (no error for the customer)
        queue.build_order_package(order.pk)
    return order


def refunded(order_id: int) -> Order:
    """A refunded order: its downloads are revoked (links and the panel check the status), and
    what was not credited yet of its invoice is (a credit note)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Order.Status.REFUNDED:
            order.status = Order.Status.REFUNDED
            order.refunded_at = timezone.now()
            order.save(update_fields=["status", "refunded_at"])
        invoices.credit_order(order)
    return order


def partially_refunded(order_id: int, refunded_so_far: int) -> Order:
    """Part of the payment was refunded (a goodwill gesture): the order stays paid and its
    invoice gets a credit note for the part not credited yet."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        invoices.credit_order(order, refunded_so_far)
    return order


def refund(order_id: int) -> Order:
    """Refund a paid order through Stripe and revoke its downloads (staff action). The
    ``charge.refunded`` webhook that Stripe sends afterwards finds it already refunded."""
    order = Order.objects.get(pk=order_id)
    if order.status == Order.Status.REFUNDED:
        return order
    if order.status != Order.Status.PAID:
        raise ValueError(f"order {order.public_id} is {order.get_status_display()}: only a paid order is refunded")
    payments.refund(order)
    return refunded(order_id)
