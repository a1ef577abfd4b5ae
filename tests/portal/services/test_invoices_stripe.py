"""Invoices for the payments made against localstripe: the purchase (with the card's country
as VAT evidence), the annual upgrade (the difference paid), a renewal, and a partial refund
through the signed webhook; each with its receipt email and PDF, once."""

from datetime import timedelta

import pytest
import stripe
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.models import EmailRecord, Invoice, Order
from portal.services.reminders import send_reminders
from portal.services import l10n
from tests.portal.invoicekit import figures, pdf_text
from tests.portal.services import test_subscriptions
from tests.portal.services.test_subscriptions import upgrade

order, shop = test_subscriptions.order, test_subscriptions.shop  # the fixtures: a purchase made against localstripe
from tests.portal.views.test_webhook import deliver, stripe_event

pytestmark = pytest.mark.django_db(transaction=True)


def receipts(number: str) -> list:
    return [m for m in mail.outbox if number in m.subject]


def attached_figures(message) -> dict:
    [(name, data, mimetype)] = message.attachments
    assert mimetype == "application/pdf"
    return figures(pdf_text(data))


def test_a_purchase_keeps_the_cards_country_and_gets_its_receipt_once(order):
    """The ``order`` fixture buys through the server against localstripe; the card's country is
    what Stripe says of the card that paid (localstripe issues its test cards in the US)."""
    card = stripe.Customer.retrieve_source(order.stripe_customer, order.payment_method)
    assert len(card.country) == 2
    assert (order.card_country, order.billing_country) == (card.country, "FR")
    invoice = order.invoices.get()
    assert (invoice.card_country, invoice.gross, invoice.vat) == (card.country, 2490, 415)
    record = EmailRecord.objects.get(order=order, kind="receipt")
    assert record.key == invoice.number and record.sent_at is not None


def test_the_upgrade_is_invoiced_for_the_difference_with_its_receipt(client, order):
    upgrade(client, order)
    order.refresh_from_db()
    invoice = order.invoices.get(reason="upgrade")
    assert invoice.gross == 1000 and invoice.updates_until == order.subscription_end
    assert [line["amount"] for line in invoice.lines] == [3490, -2490]
    [message] = receipts(invoice.number)
    assert attached_figures(message) == {"number": invoice.number, "net": 833, "vat": 167, "total": 1000,
                                         "rate": "20"}
    until = l10n.date(order.subscription_end)
    assert f"Updates are included until {until}." in message.body and "annual subscription" in message.body
    upgrade(client, order)  # a second click: no second payment, no second invoice
    assert order.invoices.filter(reason="upgrade").count() == 1 and len(receipts(invoice.number)) == 1


def test_a_renewal_is_invoiced_once_per_period(client, order):
    upgrade(client, order)
    order.refresh_from_db()
    stripe_end = order.subscription_end
    Order.objects.filter(pk=order.pk).update(subscription_end=timezone.now() - timedelta(hours=1))
    send_reminders()
    send_reminders()
    [renewal] = order.invoices.filter(reason="renewal")
    assert renewal.gross == 3490 and renewal.updates_until == stripe_end
    assert "renewed" in renewal.lines[0]["description"]
    [message] = receipts(renewal.number)
    assert attached_figures(message)["total"] == 3490
    numbers = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert numbers == [1, 2, 3]  # purchase, upgrade, renewal: one series, no gap


def test_a_partial_refund_in_the_stripe_dashboard_gets_a_credit_note_and_the_order_stays_paid(client, order, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_audit_secret"
    intent = stripe.PaymentIntent.retrieve(order.payment_intent)
    stripe.Refund.create(payment_intent=intent.id, amount=490)
    charge = {"id": "ch_partial", "object": "charge", "payment_intent": intent.id, "amount": 2490,
              "amount_refunded": 490, "refunded": False, "metadata": {"order": str(order.public_id)}}
    assert deliver(client, stripe_event("charge.refunded", charge, "evt_partial")).status_code == 200
    assert deliver(client, stripe_event("charge.refunded", charge, "evt_partial_2")).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    [note] = order.invoices.filter(kind="credit-note")
    assert (note.gross, note.net, note.vat) == (-490, -408, -82)
    [message] = receipts(note.number)
    assert message.subject == f"Your refund: credit note {note.number}"
    assert f"we refunded €4.90 of invoice {order.invoices.get(kind='invoice').number}" in message.body
    assert attached_figures(message) == {"number": note.number, "net": -408, "vat": -82, "total": -490, "rate": "20"}
    client.force_login(order.user)
    assert client.get(reverse("invoices-pdf", args=[note.public_id])).status_code == 200
