"""Invoices and credit notes: one per payment, gap-free numbers, immutable snapshots.

Every payment gets an invoice: the purchase (issued at fulfilment), the annual upgrade (the
difference paid), each renewal; a refund, full or partial, gets a credit note with negative
amounts referring to the invoice it credits. Each is issued once: ``source`` names the
payment ("purchase:<order>", "upgrade:<order>", "renewal:<order>:<period end>",
"refund:<invoice number>:<amount refunded so far>") and is unique, so a retried webhook, the
success page and a task that runs twice all find the one issued first.

Numbers: per series and calendar year (``INV-2026-000001``, credit notes ``CN-2026-000001``,
prefixes from settings). The next number is taken from the series' ``InvoiceSequence`` row,
locked (SELECT ... FOR UPDATE) in the transaction that inserts the invoice: concurrent
payments queue on that row, each gets the next number, and a transaction that rolls back
(a failed payment, an error after the number was taken) takes its number back with it --
no gaps, no duplicates. The lock is held only for the insert (no network call inside).

An invoice copies everything it shows (buyer email, billing country and the VAT evidence,
lines, net, VAT rate, VAT, gross, currency, date, until when updates are included), so it
survives the order and the account (both links are SET_NULL). Each issued document gets a
receipt email (``EmailRecord`` kind RECEIPT, key: the number) with its PDF
(``services.invoice_pdf``), recorded in the same transaction and sent once.

The lines are written in the customer's language (``Order.customer_language``) when issued."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from exporters.devices import get_device
from portal.models import EmailRecord, Invoice, InvoiceSequence, Order
from portal.services import entitlement, l10n, queue, vat
from portal.services.pricing import annual_price, quote
from portal.services.purchases import describe_coverage

Reason = Invoice.Reason


def _take_number(prefix: str, when: datetime) -> tuple[str, int, str]:
    """(series, sequence, number): the series' next number, its row locked until the caller's
    transaction ends. The row is created on a series' first use (INSERT ... ON CONFLICT DO
    NOTHING: two first invoices of a year both find it)."""
    series = f"{prefix}-{when.year}"
    InvoiceSequence.objects.bulk_create([InvoiceSequence(series=series, last=0)], ignore_conflicts=True)
    row = InvoiceSequence.objects.select_for_update().get(series=series)
    row.last += 1
    row.save(update_fields=["last"])
    return series, row.last, f"{series}-{row.last:06d}"


def _issue(order: Order | None, *, source: str, reason: str, lines: list[tuple[str, int]],
           updates_until: datetime | None, credited: Invoice | None = None,
           evidence: Invoice | Order, send: bool = True) -> tuple[Invoice, bool]:
    """The invoice for ``source`` (True: issued now), with its receipt email recorded and,
    with ``send``, queued once the transaction commits. ``evidence`` gives the buyer and the
    countries."""
    existing = Invoice.objects.filter(source=source).first()
    if existing is not None:
        return existing, False
    gross = sum(amount for _, amount in lines)
    country = evidence.billing_country
    rate = credited.vat_rate if credited is not None else None  # a credit note reverses the invoice's rate
    split = vat.split(gross, country, rate)
    kind = Invoice.Kind.CREDIT_NOTE if credited is not None else Invoice.Kind.INVOICE
    prefix = settings.CREDIT_NOTE_PREFIX if credited is not None else settings.INVOICE_PREFIX
    now = timezone.now()
    try:
        with transaction.atomic():
            series, sequence, number = _take_number(prefix, now)
            if Invoice.objects.filter(source=source).exists():  # issued while we waited for the number
                raise IntegrityError(source)
            invoice = Invoice.objects.create(
                kind=kind, reason=reason, series=series, sequence=sequence, number=number, source=source,
                order=order, user=order.user if order is not None else None, credited=credited, issued_at=now,
                buyer_email=evidence.buyer_email if isinstance(evidence, Invoice) else evidence.email,
                billing_country=country, card_country=evidence.card_country, ip_country=evidence.ip_country,
                lines=[{"description": text, "amount": amount} for text, amount in lines],
                currency=(order.currency if order is not None else evidence.currency).lower(),
                net=split.net, vat_rate=split.rate, vat=split.vat, gross=gross,
                vat_note=split.note, updates_until=updates_until)
            if order is not None:
                to = order.user.email if order.user_id else order.email.strip().lower()
                EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.RECEIPT, key=number, to=to)
                if send:
                    queue.order_email(order.pk, EmailRecord.Kind.RECEIPT, number)
    except IntegrityError:
        existing = Invoice.objects.filter(source=source).first()
        if existing is None:  # not the same payment issued twice: a real error
            raise
        return existing, False
    return invoice, True


def _what(order: Order) -> str:
    device = get_device(order.device_id)
    coverage = describe_coverage(list(order.coverage))
    if order.mobile:
        return _("%(device)s: speed camera file, %(coverage)s, fixed and mobile cameras") % {
            "device": device.name, "coverage": coverage}
    return _("%(device)s: speed camera file, %(coverage)s, fixed cameras") % {"device": device.name, "coverage": coverage}


def _until(when: datetime | None) -> str:
    return l10n.date(when) if when else ""


def issue_purchase(order: Order) -> Invoice:
    """The purchase's invoice (call it in the fulfilment's transaction, order row locked).
    The lines are the price list's when they add up to what was paid. Its receipt goes out
    with the order's other first emails: the package build queues every unsent one (and
    the recovery job resumes a lost build), and a build that fails still sends it."""
    until = entitlement.one_time_until(order)
    with translation.override(order.customer_language):
        priced = quote(get_device(order.device_id), mobile=order.mobile)
        lines = list(priced.lines) if priced.amount == order.amount else [(_what(order), order.amount)]
        lines[0] = (_("%(what)s; updates included until %(date)s") % {"what": _what(order), "date": _until(until)},
                    lines[0][1])
    return _issue(order, source=f"purchase:{order.public_id}", reason=Reason.PURCHASE, lines=lines,
                  updates_until=until, evidence=order, send=False)[0]


def issue_upgrade(order: Order, charged: int) -> Invoice:
    """The annual upgrade's invoice: the year's price less the one-time purchase credited,
    ``charged`` in all (what Stripe took)."""
    price = annual_price(order)
    end = order.subscription_end
    with translation.override(order.customer_language):
        lines = [(_("%(what)s; annual subscription: every release until %(date)s") % {"what": _what(order),
                                                                                     "date": _until(end)}, price)]
        if price != charged:
            lines.append((_("Credit: the one-time purchase already paid"), charged - price))
    return _issue(order, source=f"upgrade:{order.public_id}", reason=Reason.UPGRADE, lines=lines,
                  updates_until=end, evidence=order)[0]


def issue_renewal(order: Order, period_end: datetime) -> Invoice:
    """A renewal's invoice: a year of the annual subscription, to ``period_end``."""
    with translation.override(order.customer_language):
        lines = [(_("%(what)s; annual subscription renewed: every release until %(date)s") % {
            "what": _what(order), "date": _until(period_end)}, annual_price(order))]
    return _issue(order, source=f"renewal:{order.public_id}:{period_end:%Y-%m-%d}", reason=Reason.RENEWAL,
                  lines=lines, updates_until=period_end, evidence=order)[0]


def credit(invoice: Invoice, refunded_so_far: int | None = None, order: Order | None = None) -> Invoice | None:
    """The credit note for what was refunded of ``invoice`` and not credited yet:
    ``refunded_so_far`` is the payment's total refunded (Stripe's ``amount_refunded``),
    None for a full refund. None when nothing is left to credit (the staff refund, then
    Stripe's ``charge.refunded`` event for it). ``order``: the invoice's order, when the
    caller holds it (locked)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        target = invoice.gross if refunded_so_far is None else min(max(refunded_so_far, 0), invoice.gross)
        credited = -(invoice.credit_notes.aggregate(total=Sum("gross"))["total"] or 0)
        if target <= credited:
            return None
        full = target == invoice.gross and credited == 0
        holder = order or invoice.order
        with translation.override(holder.customer_language if holder is not None else translation.get_language()):
            text = (_("Refund of invoice %(number)s") if full
                    else _("Partial refund of invoice %(number)s")) % {"number": invoice.number}
        return _issue(order or invoice.order, source=f"refund:{invoice.number}:{target}", reason=Reason.REFUND,
                      lines=[(text, credited - target)], updates_until=None, credited=invoice,
                      evidence=invoice)[0]


def credit_order(order: Order, refunded_so_far: int | None = None) -> Invoice | None:
    """A refund of the order's own payment (the purchase): its credit note."""
    invoice = order.invoices.filter(reason=Reason.PURCHASE, kind=Invoice.Kind.INVOICE).first()
    return credit(invoice, refunded_so_far, order) if invoice is not None else None


def credit_latest_subscription_payment(order: Order) -> Invoice | None:
    """A refund of the subscription's latest payment (the upgrade or the last renewal)."""
    invoice = (order.invoices.filter(reason__in=(Reason.UPGRADE, Reason.RENEWAL), kind=Invoice.Kind.INVOICE)
               .order_by("-issued_at", "-pk").first())
    return credit(invoice, order=order) if invoice is not None else None
