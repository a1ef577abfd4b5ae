"""EU VAT for a consumer's purchase of a digital service: the rate of the customer's country.

Since 2015 a digital service sold to a consumer (a downloadable file is one) is taxed in the
customer's EU country, at that country's rate, and declared through the One-Stop Shop (OSS).
The price a customer pays is the shop's displayed price whatever the country (prices are
shown VAT included); the invoice breaks it down into net + VAT at the customer's rate. A
customer outside the EU pays the same price with no EU VAT (0 %, said on the invoice).

The country is the billing country asked at checkout. The evidence kept with each order
(``Order.billing_country``, ``card_country``, ``ip_country``) is what OSS asks for: two
non-contradictory pieces locating the customer.

``STANDARD_RATES`` are the standard rates of the 27 member states, in percent.
Source: European Commission, "VAT rates applied in the Member States of the European
Union" (taxation and customs union, situation at 1 January 2025), with the changes in
force since: Estonia 24 % from 1 July 2025, Romania 21 % from 1 August 2025. Checked
2026-12-06 (``RATES_CHECKED``). A rate change is a new entry here and a deploy: invoices keep the
rate they were issued with."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_noop

RATES_SOURCE = ("European Commission, 'VAT rates applied in the Member States of the European Union' "
                "(1 January 2025), with EE 24 % from 1 July 2025 and RO 21 % from 1 August 2025")
RATES_CHECKED = "2026-12-06"

# ISO 3166-1 alpha-2 (Greece is GR here; the EU's own VAT code for it is EL).
STANDARD_RATES: dict[str, Decimal] = {code: Decimal(rate) for code, rate in {
    "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25", "EE": "24",
    "ES": "21", "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27", "IE": "23", "IT": "22",
    "LT": "21", "LU": "17", "LV": "21", "MT": "18", "NL": "21", "PL": "23", "PT": "23", "RO": "21",
    "SE": "25", "SI": "22", "SK": "23",
}.items()}

EU_COUNTRIES = frozenset(STANDARD_RATES)
# stored in English on the invoice (``Invoice.vat_note``), translated where shown (``invoice_pdf.vat_note``)
OUTSIDE_EU_NOTE = gettext_noop("No EU VAT: the customer's billing country is outside the European Union.")


@dataclass(frozen=True)
class VatBreakdown:
    """A VAT-inclusive amount split into net and VAT (cents; negative for a credit note)."""

    country: str
    rate: Decimal   # percent, 0 outside the EU
    net: int
    vat: int
    gross: int

    @property
    def in_eu(self) -> bool:
        return self.country in EU_COUNTRIES

    @property
    def note(self) -> str:
        return "" if self.in_eu else OUTSIDE_EU_NOTE


def rate_for(country: str) -> Decimal:
    """The VAT rate (percent) a consumer in ``country`` pays: its standard rate in the EU, 0 elsewhere."""
    return STANDARD_RATES.get((country or "").upper(), Decimal(0))


def split(gross: int, country: str, rate: Decimal | None = None) -> VatBreakdown:
    """``gross`` (VAT included, in cents) split at ``country``'s rate (or ``rate``): the net is
    gross / (1 + rate) rounded half up to the cent, the VAT what remains, so net + VAT is the
    gross to the cent. A negative gross (a credit note) splits symmetrically."""
    country = (country or "").upper()
    rate = rate_for(country) if rate is None else Decimal(rate)
    sign = -1 if gross < 0 else 1
    net = int((Decimal(abs(gross)) * 100 / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return VatBreakdown(country, rate, sign * net, sign * (abs(gross) - net), gross)
