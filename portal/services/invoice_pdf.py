"""An invoice or credit note as a one-page PDF (fpdf2), from the ``Invoice`` snapshot only.

The document depends on nothing that may change after issue except the seller settings:
the same invoice renders to the same bytes (the PDF's creation date is the issue date). The
standard Helvetica font keeps rendering fast (no font file to parse or embed); it covers
Latin-1, and amounts carry the currency code ("EUR 19.90") rather than a symbol outside it.
A language or a line Latin-1 cannot write (Polish) gets DejaVu Sans, embedded (``_font``);
without that font such text is folded to Latin-1 (its closest ASCII, or "?").

The words, dates and numbers are the order's customer's language (``Order.customer_language``;
the active language once the order is gone)."""

from __future__ import annotations

import os
import unicodedata
from typing import Callable
from decimal import Decimal

from babel import numbers as _numbers
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from portal.models import Invoice
from portal.services import l10n, naming

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
    """"EUR 1,234.50" / "EUR 1 234,50": the currency's code, the language's digits."""
    sign = "-" if cents < 0 else ""
    amount = _numbers.format_decimal(Decimal(abs(cents)) / 100, format="#,##0.00", locale=l10n.locale())
    return f"{currency.upper()} {sign}{amount}"


def rate_text(rate) -> str:
    return f"{l10n.number(rate.normalize())} %" if rate is not None else ""


def country_name(code: str) -> str:
    return f"{naming.country_name(code)} ({code})" if code else _("not given")


def vat_note(invoice: Invoice) -> str:
    """The invoice's VAT note (stored in English, ``vat.OUTSIDE_EU_NOTE``) in the active language."""
    return _(invoice.vat_note) if invoice.vat_note else ""


def language(invoice: Invoice) -> str:
    """The language of the invoice's PDF: its order's customer's, else the active one."""
    order = invoice.order if invoice.order_id else None
    return order.customer_language if order is not None else (translation.get_language() or "en")


def filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf"


def render(invoice: Invoice) -> bytes:
    with translation.override(language(invoice)):
        return _render(invoice)


# Languages whose words Latin-1 holds (the standard Helvetica font); any other language (Polish:
# ł, ś, ż...) is written with a Unicode TrueType font, DejaVu Sans (Debian's fonts-dejavu-core, or
# INVOICE_FONT_DIR), embedded in the PDF. Without that font its text is folded to Latin-1.
LATIN1_LANGUAGES = {"en", "fr", "de", "es", "it", "nl", "pt"}
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# the italic of the VAT note: fonts-dejavu-extra's oblique, else the upright face (fonts-dejavu-core
# has no oblique; every style the document uses must be registered)
ITALIC_FILES = ("DejaVuSans-Oblique.ttf", "DejaVuSans.ttf")


def unicode_font_dir() -> str | None:
    """The folder holding DejaVu Sans and DejaVu Sans Bold, if this machine has them."""
    configured = getattr(settings, "INVOICE_FONT_DIR", "")
    for folder in ((configured,) if configured else ()) + FONT_DIRS:
        if all(os.path.exists(os.path.join(folder, name)) for name in FONT_FILES.values()):
            return folder
    return None


def _font(pdf: FPDF, invoice: Invoice) -> tuple[str, Callable[[str], str]]:
    """The font family for this document and how its text is prepared: Helvetica with
    Latin-1 folding, or DejaVu Sans (Unicode) when the language or the lines need it."""
    texts = [settings.SELLER_NAME, settings.SELLER_ADDRESS] + [line["description"] for line in invoice.lines]
    latin1_enough = translation.get_language() in LATIN1_LANGUAGES and all(t == latin1(t) for t in texts)
    folder = None if latin1_enough else unicode_font_dir()
    if folder is None:
        return "Helvetica", latin1
    for style, name in FONT_FILES.items():
        pdf.add_font("DejaVu", style, os.path.join(folder, name))
    italic = next(name for name in ITALIC_FILES if os.path.exists(os.path.join(folder, name)))
    pdf.add_font("DejaVu", "I", os.path.join(folder, italic))
    return "DejaVu", str


def _render(invoice: Invoice) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(invoice.issued_at)
    family, prepare = _font(pdf, invoice)
    credit = invoice.kind == Invoice.Kind.CREDIT_NOTE
    title = (_("Credit note %(number)s") if credit else _("Invoice %(number)s")) % {"number": invoice.number}
    pdf.set_title(prepare(title))
    pdf.set_author(prepare(settings.SELLER_NAME))
    pdf.set_margins(LEFT, 18, LEFT)
    pdf.set_auto_page_break(True, 18)
    pdf.add_page()

    def text(line: str, size: float = 10, style: str = "", height: float = 5, align: str = "L", width: float = 0):
        """A line across the page (wrapped when long), or a cell ``width`` wide that the next follows."""
        pdf.set_font(family, style, size)
        if width:
            pdf.cell(width, height, prepare(line), new_x="RIGHT", new_y="TOP", align=align)
        else:
            pdf.multi_cell(WIDTH, height, prepare(line), new_x="LMARGIN", new_y="NEXT", align=align)

    # The seller, then the document's title and number
    text(settings.SELLER_NAME, 14, "B", 7)
    for line in settings.SELLER_ADDRESS.replace("|", "\n").splitlines():
        if line.strip():
            text(line.strip())
    if settings.SELLER_VAT_NUMBER:
        text(_("VAT number: %(number)s") % {"number": settings.SELLER_VAT_NUMBER})
    if settings.SELLER_EMAIL:
        text(settings.SELLER_EMAIL)
    pdf.ln(6)
    text(title, 18, "B", 9)
    text(_("Date: %(date)s") % {"date": l10n.date(invoice.issued_at)})
    if credit and invoice.credited_id:
        text(_("Credits invoice %(number)s of %(date)s") % {"number": invoice.credited.number,
                                                            "date": l10n.date(invoice.credited.issued_at)})
    pdf.ln(4)

    # The buyer, and the VAT evidence
    text(_("Bill to"), 10, "B")
    text(invoice.buyer_email)
    text(_("Billing country: %(country)s") % {"country": country_name(invoice.billing_country)})
    evidence = [_("card issued in %(country)s") % {"country": invoice.card_country} if invoice.card_country else "",
                _("IP address in %(country)s") % {"country": invoice.ip_country} if invoice.ip_country else ""]
    evidence = [e for e in evidence if e]
    if evidence:
        text(_("Location evidence: %(evidence)s") % {"evidence": ", ".join(evidence)}, 8, height=4)
    pdf.ln(5)

    # The lines (VAT included), then the totals
    pdf.set_draw_color(160)
    text(_("Description"), 10, "B", 7, width=WIDTH - 40)
    text(_("Amount (%(currency)s)") % {"currency": invoice.currency.upper()}, 10, "B", 7, "R", width=40)
    pdf.ln(7)
    pdf.line(LEFT, pdf.get_y(), LEFT + WIDTH, pdf.get_y())
    for line in invoice.lines:
        y = pdf.get_y()
        pdf.set_font(family, "", 10)
        pdf.multi_cell(WIDTH - 40, 5, prepare(line["description"]), new_x="RIGHT", new_y="TOP")
        bottom = pdf.get_y()
        pdf.set_xy(LEFT + WIDTH - 40, y)
        text(money(line["amount"], invoice.currency), align="R", width=40)
        pdf.set_xy(LEFT, max(bottom, y + 5) + 1)
    pdf.line(LEFT, pdf.get_y(), LEFT + WIDTH, pdf.get_y())
    pdf.ln(2)
    rate = rate_text(invoice.vat_rate)
    for label, cents, style in ((_("Net amount"), invoice.net, ""), (_("VAT %(rate)s") % {"rate": rate}, invoice.vat, ""),
                                (_("Total credited") if credit else _("Total paid"), invoice.gross, "B")):
        text(label, 10, style, 6, "R", width=WIDTH - 40)
        text(money(cents, invoice.currency), 10, style, 6, "R", width=40)
        pdf.ln(6)
    pdf.ln(4)
    if invoice.vat_note:
        text(vat_note(invoice), 9, "I")
    else:
        text(_("Prices include VAT at %(rate)s, the rate of %(country)s, where the customer is established "
               "(EU VAT on digital services, One-Stop Shop).") % {"rate": rate, "country": country_name(invoice.billing_country)},
             8, height=4)
    if invoice.updates_until and not credit:
        text(_("Updates of the camera file are included until %(date)s.") % {"date": l10n.date(invoice.updates_until)}, 9)
    return bytes(pdf.output())
