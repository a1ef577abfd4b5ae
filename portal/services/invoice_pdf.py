"""An invoice or credit note as a one-page PDF (fpdf2), from the ``Invoice`` snapshot only.

The document depends on nothing that may change after issue except the seller settings:
the same invoice renders to the same bytes (the PDF's creation date is the issue date). The
standard Helvetica font keeps rendering fast (no font file to parse or embed); it covers
Latin-1, so text is folded to it (accents kept, anything else as its closest ASCII or "?"),
and amounts carry the currency code ("EUR 19.90") rather than a symbol outside Latin-1."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from fpdf import FPDF

from cameras import regions
from portal.models import Invoice

LEFT, WIDTH = 18, 174  # mm: A4 less the margins


def latin1(text: str) -> str:
    """``text`` as the standard PDF fonts can show it (Latin-1)."""
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'").replace("\u20ac", "EUR")
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(folded or "?")
    return "".join(out)


def money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{currency.upper()} {sign}{cents // 100:,}.{cents % 100:02d}"


def rate_text(rate) -> str:
    return f"{rate.normalize():f} %" if rate is not None else ""


def country_name(code: str) -> str:
    return f"{regions.country_names().get(code, code)} ({code})" if code else "not given"


def filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf"


def render(invoice: Invoice) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(invoice.issued_at)
    credit = invoice.kind == Invoice.Kind.CREDIT_NOTE
    title = "Credit note" if credit else "Invoice"
    pdf.set_title(f"{title} {invoice.number}")
    pdf.set_author(latin1(settings.SELLER_NAME))
    pdf.set_margins(LEFT, 18, LEFT)
    pdf.set_auto_page_break(True, 18)
    pdf.add_page()

    def text(line: str, size: float = 10, style: str = "", height: float = 5, align: str = "L", width: float = 0):
        """A line across the page (wrapped when long), or a cell ``width`` wide that the next follows."""
        pdf.set_font("Helvetica", style, size)
        if width:
            pdf.cell(width, height, latin1(line), new_x="RIGHT", new_y="TOP", align=align)
        else:
            pdf.multi_cell(WIDTH, height, latin1(line), new_x="LMARGIN", new_y="NEXT", align=align)

    # The seller, then the document's title and number
    text(settings.SELLER_NAME, 14, "B", 7)
    for line in settings.SELLER_ADDRESS.replace("|", "\n").splitlines():
        if line.strip():
            text(line.strip())
    if settings.SELLER_VAT_NUMBER:
        text(f"VAT number: {settings.SELLER_VAT_NUMBER}")
    if settings.SELLER_EMAIL:
        text(settings.SELLER_EMAIL)
    pdf.ln(6)
    text(f"{title} {invoice.number}", 18, "B", 9)
    text(f"Date: {invoice.issued_at:%d %B %Y}")
    if credit and invoice.credited_id:
        text(f"Credits invoice {invoice.credited.number} of {invoice.credited.issued_at:%d %B %Y}")
    pdf.ln(4)

    # The buyer, and the VAT evidence
    text("Bill to", 10, "B")
    text(invoice.buyer_email)
    text(f"Billing country: {country_name(invoice.billing_country)}")
    evidence = [f"card issued in {invoice.card_country}" if invoice.card_country else "",
                f"IP address in {invoice.ip_country}" if invoice.ip_country else ""]
    evidence = [e for e in evidence if e]
    if evidence:
        text("Location evidence: " + ", ".join(evidence), 8, height=4)
    pdf.ln(5)

    # The lines (VAT included), then the totals
    pdf.set_draw_color(160)
    text("Description", 10, "B", 7, width=WIDTH - 40)
    text(f"Amount ({invoice.currency.upper()})", 10, "B", 7, "R", width=40)
    pdf.ln(7)
    pdf.line(LEFT, pdf.get_y(), LEFT + WIDTH, pdf.get_y())
    for line in invoice.lines:
        y = pdf.get_y()
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(WIDTH - 40, 5, latin1(line["description"]), new_x="RIGHT", new_y="TOP")
        bottom = pdf.get_y()
        pdf.set_xy(LEFT + WIDTH - 40, y)
        text(money(line["amount"], invoice.currency), align="R", width=40)
        pdf.set_xy(LEFT, max(bottom, y + 5) + 1)
    pdf.line(LEFT, pdf.get_y(), LEFT + WIDTH, pdf.get_y())
    pdf.ln(2)
    rate = rate_text(invoice.vat_rate)
    for label, cents, style in (("Net amount", invoice.net, ""), (f"VAT {rate}", invoice.vat, ""),
                                ("Total" + (" credited" if credit else " paid"), invoice.gross, "B")):
        text(label, 10, style, 6, "R", width=WIDTH - 40)
        text(money(cents, invoice.currency), 10, style, 6, "R", width=40)
        pdf.ln(6)
    pdf.ln(4)
    if invoice.vat_note:
        text(invoice.vat_note, 9, "I")
    else:
        text(f"Prices include VAT at {rate}, the rate of {country_name(invoice.billing_country)}, where the "
             "customer is established (EU VAT on digital services, One-Stop Shop).", 8, height=4)
    if invoice.updates_until and not credit:
        text(f"Updates of the camera file are included until {invoice.updates_until:%d %B %Y}.", 9)
    return bytes(pdf.output())
