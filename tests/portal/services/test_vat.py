"""services.vat: the EU rates table and the split of a VAT-inclusive price into net + VAT."""

from decimal import Decimal

import pytest

from portal.services import vat

# the price a customer pays (the shop's displayed price) and what the invoice shows for it
CASES = [  # country, rate, net, vat of EUR 19.90
    ("FR", "20", 1658, 332),
    ("DE", "19", 1672, 318),
    ("IT", "22", 1631, 359),
    ("NL", "21", 1645, 345),
    ("PL", "23", 1618, 372),
    ("CH", "0", 1990, 0),
    ("NO", "0", 1990, 0),
    ("US", "0", 1990, 0),
]


@pytest.mark.parametrize("country,rate,net,tax", CASES)
def test_a_price_is_split_at_the_customers_countrys_rate(country, rate, net, tax):
    split = vat.split(1990, country)
    assert split.rate == Decimal(rate)
    assert (split.net, split.vat, split.gross) == (net, tax, 1990)
    assert split.net + split.vat == 1990
    assert split.note == ("" if split.in_eu else vat.OUTSIDE_EU_NOTE)


def test_the_table_has_the_27_member_states_and_nothing_else():
    assert len(vat.STANDARD_RATES) == 27
    assert "GB" not in vat.STANDARD_RATES and "CH" not in vat.STANDARD_RATES and "GR" in vat.STANDARD_RATES
    assert all(Decimal(15) <= rate <= Decimal(27) for rate in vat.STANDARD_RATES.values())  # the EU floor is 15 %
    assert vat.STANDARD_RATES["HU"] == 27 and vat.STANDARD_RATES["LU"] == 17 and vat.STANDARD_RATES["FI"] == Decimal("25.5")
    assert vat.RATES_SOURCE and vat.RATES_CHECKED


def test_a_fractional_rate_and_a_credit_note_round_to_the_cent_and_add_up():
    fi = vat.split(2490, "fi")
    assert (fi.rate, fi.net, fi.vat) == (Decimal("25.5"), 1984, 506)  # 2490 / 1.255 = 1984.06
    credit = vat.split(-1990, "FR")
    assert (credit.net, credit.vat) == (-1658, -332)
    assert vat.split(0, "DE").net == 0 and vat.rate_for("") == 0


def test_every_cent_amount_splits_exactly():
    for gross in range(0, 5000, 7):
        for country in ("FR", "FI", "HU", "LU"):
            split = vat.split(gross, country)
            assert split.net + split.vat == gross
            # the net is the nearest cent to gross / (1 + rate)
            assert abs(split.net - gross * 100 / (100 + float(split.rate))) <= 0.5
