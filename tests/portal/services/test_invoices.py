"""services.invoices: one invoice per payment with the VAT of the billing country, gap-free
numbers (also under concurrent payments, on PostgreSQL), credit notes for full and partial
refunds, immutable snapshots that outlive the order and the account; the PDFs read back."""

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from portal import tasks
from portal.models import EmailRecord, Invoice, InvoiceSequence, Order, User
from portal.services import emails, fulfilment, invoice_pdf, invoices, l10n
from portal.services.pricing import BASE_PRICES, MOBILE_SURCHARGE
from tests.portal.invoicekit import figures, pdf_text

pytestmark = pytest.mark.django_db
ON_POSTGRES = connection.vendor == "postgresql"
YEAR = timezone.now().year


@pytest.fixture(autouse=True)
def _no_builds(monkeypatch, settings):
    """The package builds are someone else's test: not queued here."""
    monkeypatch.setattr(tasks.build_order_package, "delay", lambda order_id: None)
    settings.SITE_URL = "https://shop.example"


def paid(email="ana@example.com", country="FR", mobile=False, **kw) -> Order:
    fields = dict(email=email, device_id="tomtom-go-classic", coverage=["FR"], mobile=mobile,
                  amount=BASE_PRICES["pnd"] + (MOBILE_SURCHARGE if mobile else 0), billing_country=country,
                  ip_country="DE", status=Order.Status.PAID, paid_at=timezone.now())
    fields.update(kw)
    return Order.objects.create(**fields)


def read(invoice: Invoice) -> tuple[dict, str]:
    text = pdf_text(invoice_pdf.render(invoice))
    return figures(text), text


# Each country's invoice for the EUR 19.90 purchase: rate, net, VAT (the price is the same everywhere)
COUNTRIES = [("FR", "20", 1658, 332), ("DE", "19", 1672, 318), ("IT", "22", 1631, 359), ("NL", "21", 1645, 345),
             ("PL", "23", 1618, 372), ("CH", "0", 1990, 0), ("US", "0", 1990, 0)]


@pytest.mark.parametrize("country,rate,net,tax", COUNTRIES)
def test_the_purchase_invoice_has_the_vat_of_the_billing_country(country, rate, net, tax):
    order = paid(country=country)
    fulfilment.fulfil(order.pk)
    invoice = order.invoices.get()
    assert invoice.number == f"INV-{YEAR}-000001" and invoice.kind == "invoice" and invoice.reason == "purchase"
    assert (invoice.gross, invoice.net, invoice.vat, invoice.vat_rate) == (1990, net, tax, Decimal(rate))
    assert (invoice.billing_country, invoice.ip_country, invoice.buyer_email) == (country, "DE", "ana@example.com")
    read_back, text = read(invoice)
    assert read_back == {"number": invoice.number, "net": net, "vat": tax, "total": 1990, "rate": rate}
    assert "ana@example.com" in text and f"({country})" in text
    if rate == "0":
        assert "No EU VAT: the customer's billing country is outside the European Union." in text
    else:
        assert f"Prices include VAT at {rate} %" in text
    assert "updates included until" in text and "Updates of the camera file are included until" in text


def test_the_lines_say_what_was_bought_and_add_up_to_what_was_paid():
    order = paid(mobile=True, country="IT")
    fulfilment.fulfil(order.pk)
    invoice = order.invoices.get()
    assert [line["amount"] for line in invoice.lines] == [BASE_PRICES["pnd"], MOBILE_SURCHARGE]
    assert "TomTom GO classic" in invoice.lines[0]["description"] and "France" in invoice.lines[0]["description"]
    assert invoice.updates_until is not None
    until = l10n.date(invoice.updates_until)  # the language's date (Babel): "January 6, 2027"
    assert until in invoice.lines[0]["description"]
    figures_, text = read(invoice)
    assert figures_["total"] == 2490 and "Mobile cameras and zones" in text


def test_numbers_follow_each_other_and_a_rolled_back_payment_gives_its_number_back():
    first, lost, second = paid("a@example.com"), paid("b@example.com"), paid("c@example.com")
    fulfilment.fulfil(first.pk)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            fulfilment.fulfil(lost.pk)
            assert lost.invoices.get().number == f"INV-{YEAR}-000002"  # taken...
            raise RuntimeError("the payment's transaction fails after the invoice")
    assert not Invoice.objects.filter(order=lost).exists()  # ...and given back
    fulfilment.fulfil(second.pk)
    assert list(Invoice.objects.order_by("sequence").values_list("number", flat=True)) == [
        f"INV-{YEAR}-000001", f"INV-{YEAR}-000002"]
    assert InvoiceSequence.objects.get(series=f"INV-{YEAR}").last == 2


def test_a_payment_confirmed_many_times_has_one_invoice_and_one_receipt():
    order = paid()
    for _ in range(3):
        fulfilment.payment_succeeded(order.pk)
        fulfilment.fulfil(order.pk)
        invoices.issue_purchase(Order.objects.get(pk=order.pk))
    [invoice] = Invoice.objects.all()
    assert InvoiceSequence.objects.get().last == 1
    assert emails.send(order.pk, EmailRecord.Kind.RECEIPT, invoice.number) is True
    assert emails.send(order.pk, EmailRecord.Kind.RECEIPT, invoice.number) is False
    [message] = mail.outbox
    assert message.subject == f"Your receipt: invoice {invoice.number} for TomTom GO classic (x20/x30/x40/x50, NavCore)"
    [(name, data, mimetype)] = message.attachments
    assert (name, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert figures(pdf_text(data))["number"] == invoice.number
    until = l10n.date(invoice.updates_until)
    assert "€19.90" in message.body and f"Updates are included until {until}." in message.body
    assert "VAT 20 %: €3.32" in message.body and "&" not in message.body


def test_an_issued_invoice_cannot_be_changed():
    order = paid()
    fulfilment.fulfil(order.pk)
    invoice = order.invoices.get()
    invoice.gross = 1
    with pytest.raises(ValueError, match="cannot be changed"):
        invoice.save()
    assert Invoice.objects.get().gross == 1990


def test_the_invoice_outlives_the_order_and_the_account():
    order = paid()
    fulfilment.fulfil(order.pk)
    invoice = order.invoices.get()
    pdf_before = invoice_pdf.render(invoice)
    user = User.objects.get(email="ana@example.com")
    assert invoice.user == user
    order.delete()
    user.delete()
    invoice = Invoice.objects.get()
    assert invoice.order is None and invoice.user is None and not User.objects.exists()
    assert invoice_pdf.render(invoice) == pdf_before  # the snapshot is the whole document
    assert "ana@example.com" in pdf_text(pdf_before)


def test_a_partial_refund_then_the_rest_make_two_credit_notes_that_add_up():
    order = paid(country="DE")
    fulfilment.fulfil(order.pk)
    invoice = order.invoices.get()
    fulfilment.partially_refunded(order.pk, 500)
    fulfilment.partially_refunded(order.pk, 500)   # the same event again: nothing more
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    fulfilment.refunded(order.pk)
    fulfilment.refunded(order.pk)
    first, rest = Invoice.objects.filter(kind="credit-note").order_by("sequence")
    assert (first.number, rest.number) == (f"CN-{YEAR}-000001", f"CN-{YEAR}-000002")
    assert (first.gross, rest.gross) == (-500, -1490) and first.credited == rest.credited == invoice
    assert first.net + rest.net == -invoice.net and first.vat + rest.vat == -invoice.vat
    assert first.vat_rate == Decimal(19) and first.billing_country == "DE"
    got, text = read(rest)
    assert got == {"number": rest.number, "net": rest.net, "vat": rest.vat, "total": -1490, "rate": "19"}
    assert f"Credits invoice {invoice.number}" in text
    assert set(EmailRecord.objects.filter(kind="receipt").values_list("key", flat=True)) == {
        invoice.number, first.number, rest.number}


def test_a_refund_of_an_order_without_an_invoice_issues_nothing():
    order = paid(fulfilled_at=timezone.now())  # paid before invoices existed
    fulfilment.refunded(order.pk)
    assert not Invoice.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: SQLite has no row locks, it serialises writers")
def test_concurrent_payments_get_consecutive_numbers_with_no_gap_or_duplicate(monkeypatch):
    """16 payments fulfilled at once in 16 connections, 4 of which roll back after taking a
    number: the 12 that commit hold 1..12 exactly."""
    orders = [paid(f"c{i}@example.com") for i in range(16)]
    start = threading.Barrier(len(orders))
    errors = []

    def pay(i, order_id):
        try:
            start.wait(30)
            with transaction.atomic():
                fulfilment.fulfil(order_id)
                if i % 4 == 3:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(i, o.pk)) for i, o in enumerate(orders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, 13))
    assert InvoiceSequence.objects.get(series=f"INV-{YEAR}").last == 12
    paid_ids = {o.pk for i, o in enumerate(orders) if i % 4 != 3}
    assert set(Invoice.objects.values_list("order_id", flat=True)) == paid_ids
