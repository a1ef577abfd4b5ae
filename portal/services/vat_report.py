"""The VAT report for staff: net, VAT and gross per quarter, country and rate, as CSV.

What the One-Stop Shop return asks for: for each EU country of consumption, the taxable
amount and the VAT at each rate, per calendar quarter. Invoices and credit notes both count
(a credit note's negative amounts reduce its quarter's totals); countries outside the EU
are listed too (at 0 %), so the report adds up to everything invoiced. Quarters are in UTC,
by the documents' issue date. ``manage.py vat_report --quarter 2026Q4`` and the invoice
admin's action write the same CSV."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

from cameras import regions
from portal.models import Invoice
from portal.services import vat

QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
HEADER = ["quarter", "country", "country_name", "in_eu", "vat_rate", "currency", "invoices", "credit_notes",
          "net", "vat", "gross"]


def quarter_bounds(text: str) -> tuple[datetime, datetime]:
    """[start, end) of a quarter written 2026Q4 (or 2026-Q4), in UTC; ValueError says what to write."""
    match = QUARTER.match((text or "").strip())
    if not match:
        raise ValueError(f"{text!r} is not a quarter: write the year and the quarter, like 2026Q4")
    year, q = int(match[1]), int(match[2])
    start = datetime(year, 3 * q - 2, 1, tzinfo=dt_timezone.utc)
    end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=dt_timezone.utc)
    return start, end


def quarter_of(when: datetime) -> str:
    when = when.astimezone(dt_timezone.utc)
    return f"{when.year}Q{(when.month - 1) // 3 + 1}"


def invoices_in(quarter: str):
    start, end = quarter_bounds(quarter)
    return Invoice.objects.filter(issued_at__gte=start, issued_at__lt=end)


@dataclass
class Row:
    quarter: str
    country: str
    vat_rate: Decimal
    currency: str
    invoices: int = 0
    credit_notes: int = 0
    net: int = 0
    vat: int = 0
    gross: int = 0


FIELDS = ("issued_at", "kind", "billing_country", "vat_rate", "currency", "net", "vat", "gross")


def summarise(invoices: Iterable[dict]) -> list[Row]:
    """Rows per (quarter, country, rate, currency), from dicts with ``FIELDS``, sorted."""
    rows: dict[tuple, Row] = {}
    for inv in invoices:
        key = (quarter_of(inv["issued_at"]), inv["billing_country"], inv["vat_rate"], inv["currency"])
        row = rows.get(key) or rows.setdefault(key, Row(*key))
        if inv["kind"] == Invoice.Kind.CREDIT_NOTE:
            row.credit_notes += 1
        else:
            row.invoices += 1
        row.net += inv["net"]
        row.vat += inv["vat"]
        row.gross += inv["gross"]
    return [rows[k] for k in sorted(rows, key=lambda k: (k[0], k[1], k[2], k[3]))]


def _cents(value: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def write_csv(rows: list[Row], out) -> None:
    names = regions.country_names()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow([r.quarter, r.country, names.get(r.country, r.country or "unknown"),
                         "yes" if r.country in vat.EU_COUNTRIES else "no", f"{r.vat_rate.normalize():f}",
                         r.currency.upper(), r.invoices, r.credit_notes, _cents(r.net), _cents(r.vat),
                         _cents(r.gross)])
