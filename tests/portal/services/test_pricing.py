"""services.pricing: what a device's file costs, with and without mobile cameras, and how
amounts in cents are shown."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exporters.devices import get_device
from portal.services.pricing import format_amount, quote

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("device_id, without, with_mobile", [
    ("tomtom-go-classic", 1990, 2490),   # a navigation device
    ("vw-mib", 2490, 2990),              # a car's head unit
    ("sygic-android", 1490, 1990),       # a phone app
])
def test_a_device_costs_its_kinds_price_and_mobile_cameras_add_five_euros(device_id, without, with_mobile):
    device = get_device(device_id)
    assert quote(device, mobile=False).amount == without
    assert quote(device, mobile=True).amount == with_mobile


def test_the_quote_lists_what_is_paid_for_line_by_line(settings):
    settings.UPDATE_MONTHS = 12
    device = get_device("tomtom-go-classic")
    price = quote(device, mobile=True)
    assert price.lines == ((f"{device.name}: fixed cameras, 12 months of updates", 1990),
                           ("Mobile cameras and zones", 500))
    assert price.amount == sum(amount for _, amount in price.lines)
    assert len(quote(device, mobile=False).lines) == 1


def test_the_quote_is_in_the_shops_currency(settings):
    device = get_device("tomtom-go-classic")
    assert (quote(device, mobile=True).currency, quote(device, mobile=True).display) == ("eur", "€24.90")
    settings.SHOP_CURRENCY = "gbp"
    assert (quote(device, mobile=False).currency, quote(device, mobile=False).display) == ("gbp", "£19.90")


@pytest.mark.parametrize("amount, currency, shown", [
    (1990, "eur", "€19.90"),
    (2490, "EUR", "€24.90"),
    (5, "eur", "€0.05"),
    (0, "eur", "€0.00"),
    (100, "eur", "€1.00"),
    (123456, "usd", "$1,234.56"),     # Babel (l10n.money), as on main since dd80d4a
    (999, "gbp", "£9.99"),
    (1000, "chf", "CHF10.00"),
])
def test_amounts_in_cents_are_shown_with_the_currency_and_two_decimals(amount, currency, shown):
    assert format_amount(amount, currency) == shown


def test_a_one_time_purchase_includes_one_month_of_updates_unless_configured(settings):
    """The annual subscription is what brings a year of releases; a one-time purchase is its
    file plus a short period (UPDATE_MONTHS, 1 unless set), said in the singular."""
    env = {k: v for k, v in os.environ.items() if k not in {"UPDATE_MONTHS", "DATABASE_URL", "REDIS_URL"}}
    probe = "import django; from django.conf import settings; django.setup(); print(settings.UPDATE_MONTHS)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                            env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1"
    settings.UPDATE_MONTHS = 1
    device = get_device("garmin-nuvi")
    assert quote(device, mobile=False).lines[0][0] == f"{device.name}: fixed cameras, 1 month of updates"
