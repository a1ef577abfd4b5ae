"""Prices, numbers and dates the way the customer's language writes them (Babel's CLDR data):
"€1,234.50" / "1 234,50 €" / "1.234,50 €", "12,345" / "12 345" / "12.345",
"December 6, 2026" / "6 décembre 2026" / "6. Dezember 2026".

Every page, email, PDF and INSTALL.txt formats through here, in the active language
(``django.utils.translation``; ``translation.override`` for an email in the customer's)."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from babel import numbers as _numbers
from babel import dates as _dates
from django.utils import timezone, translation


def locale(language: str | None = None) -> str:
    code = (language or translation.get_language() or "en").replace("-", "_")
    return code


def number(value, language: str | None = None) -> str:
    """A whole or decimal number with the language's grouping and decimal signs."""
    if value is None or value == "":
        return ""
    return _numbers.format_decimal(value, locale=locale(language))


def money(amount_cents: int, currency: str = "eur", language: str | None = None) -> str:
    """An amount in the currency's smallest unit (cents), with its currency sign."""
    amount = Decimal(int(amount_cents)) / 100
    return _numbers.format_currency(amount, currency.upper(), locale=locale(language))


def date(value, language: str | None = None, format: str = "long") -> str:
    """A date (or the local date of a datetime): "December 6, 2026" in English."""
    if value is None or value == "":
        return ""
    if isinstance(value, _dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.date()
    return _dates.format_date(value, format=format, locale=locale(language))


def datetime(value, language: str | None = None, format: str = "medium") -> str:
    """A date and time in the site's time zone."""
    if value is None or value == "":
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return _dates.format_datetime(value, format=format, locale=locale(language))
