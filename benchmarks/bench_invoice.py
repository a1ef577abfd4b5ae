"""Invoice PDFs: how long one takes to render (budget 300 ms), and what the panel's download costs.

Run:  .venv/bin/python benchmarks/bench_invoice.py [--runs 20]

On a scratch database, a purchase is fulfilled (which issues its invoice) and refunded in
part (a credit note). Medians (and slowest) of --runs runs of:

- ``invoice_pdf.render`` of the invoice and of the credit note (the budget: 300 ms);
- the same PDF read back with pypdf (what the tests do), as a peer: the ratio says how the
  rendering compares with merely parsing the result;
- the panel's GET of the PDF through Django's test client (login, owner filter, query, render),
  against the render alone.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _setup import django_with_scratch_db, median_of, report  # noqa: E402

BUDGET = 0.300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    django_with_scratch_db()

    from django.conf import settings
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone
    from pypdf import PdfReader

    from portal.models import Order
    from portal.services import fulfilment, invoice_pdf, queue

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    settings.SELLER_ADDRESS = "12 rue de la Paix|75002 Paris|France"
    settings.SELLER_VAT_NUMBER = "FR12345678901"
    queue.build_order_package = lambda order_id: None  # no worker here: the invoice is what is measured
    order = Order.objects.create(email="bench@example.com", device_id="tomtom-go-classic", coverage=["western-europe"],
                                 mobile=True, amount=2490, billing_country="DE", ip_country="DE",
                                 status=Order.Status.PAID, paid_at=timezone.now())
    fulfilment.fulfil(order.pk)
    fulfilment.partially_refunded(order.pk, 990)
    order.refresh_from_db()
    invoice, credit_note = order.invoices.select_related("credited").order_by("pk")
    pdf = invoice_pdf.render(invoice)
    print(f"{args.runs} runs each; the invoice PDF is {len(pdf):,} bytes\n")

    rendered = median_of(lambda: invoice_pdf.render(invoice), args.runs)
    report("render an invoice (fpdf2)", rendered, BUDGET)
    report("render a credit note", median_of(lambda: invoice_pdf.render(credit_note), args.runs), BUDGET)
    parsed = median_of(lambda: "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages), args.runs)
    report("peer: read it back with pypdf", parsed, BUDGET)

    client = Client()
    client.force_login(order.user)
    url = reverse("invoices-pdf", args=[invoice.public_id])
    assert client.get(url).content == pdf
    served = median_of(lambda: client.get(url), args.runs)
    report("the panel's download (GET, owner filter, render)", served, BUDGET)
    print(f"\nrender / pypdf read: {rendered[0] / parsed[0]:.2f}x   "
          f"download / render: {served[0] / rendered[0]:.2f}x")
    if rendered[0] >= BUDGET:
        raise SystemExit(f"an invoice PDF took {rendered[0] * 1000:.0f} ms: over the {BUDGET * 1000:.0f} ms budget")


if __name__ == "__main__":
    main()
