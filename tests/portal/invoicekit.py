"""Reading invoices back as a customer would: the PDF's text (pypdf), and its figures."""

import io
import re

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-"), data[:20]
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def figures(text: str) -> dict:
    """The number, the net, VAT line and total read from an invoice's text (amounts in cents)."""
    def cents(label):
        match = re.search(label + r"\s*EUR\s*(-?)([\d,]+)\.(\d\d)", text)
        assert match, f"no {label!r} in {text!r}"
        value = int(match[2].replace(",", "")) * 100 + int(match[3])
        return -value if match[1] else value
    number = re.search(r"(?:Invoice|Credit note) ((?:INV|CN)-\d{4}-\d{6})", text)
    rate = re.search(r"VAT ([\d.]+) %", text)
    return {"number": number and number[1], "net": cents("Net amount"), "vat": cents(r"VAT [\d.]+ %"),
            "total": cents(r"Total (?:paid|credited)"), "rate": rate and rate[1]}
