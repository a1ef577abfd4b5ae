"""Prices: computed on the server from the product and its options, never from the browser.

A file for one device with fixed cameras and the device's coverage costs the base price of
the device's kind; mobile cameras add a surcharge. Amounts are in cents."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _, ngettext

from exporters.devices import Device, get_device
from portal.services import l10n

BASE_PRICES = {"pnd": 1990, "head-unit": 2490, "app": 1490}
MOBILE_SURCHARGE = 500


@dataclass(frozen=True)
class Quote:
    amount: int
    currency: str
    lines: tuple[tuple[str, int], ...]

    @property
    def display(self) -> str:
        return format_amount(self.amount, self.currency)

    def line_display(self, index: int) -> str:
        """One line's amount as money ("€5.00"), never as a count of cents."""
        return format_amount(self.lines[index][1], self.currency)


def annual_price(order) -> int:
    """What a year of the annual subscription costs for this order's device and options."""
    return device_annual_price(get_device(order.device_id), mobile=order.mobile)


def device_annual_price(device: Device, *, mobile: bool) -> int:
    price = settings.ANNUAL_PRICES.get(device.kind, settings.ANNUAL_PRICES["pnd"])
    return price + (settings.ANNUAL_MOBILE_SURCHARGE if mobile else 0)


def format_amount(amount: int, currency: str) -> str:
    """Cents as money in the active language ("€5.00", "5,00 €"; a credit note's are negative)."""
    return l10n.money(amount, currency)


def quote(device: Device, *, mobile: bool) -> Quote:
    months = settings.UPDATE_MONTHS
    base = ngettext("%(device)s: fixed cameras, %(months)s month of updates",
                    "%(device)s: fixed cameras, %(months)s months of updates", months) % {
        "device": device.name, "months": months}
    lines = [(base, BASE_PRICES.get(device.kind, BASE_PRICES["pnd"]))]
    if mobile:
        lines.append((_("Mobile cameras and zones"), MOBILE_SURCHARGE))
    return Quote(sum(amount for _, amount in lines), settings.SHOP_CURRENCY, tuple(lines))
