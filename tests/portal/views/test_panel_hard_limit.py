"""The panel's coverage page refuses a coverage over a device's hard POI limit when it is
saved, with the shop's message (the countries to leave out); a coverage within it is saved;
another customer's purchase stays a 404. The demo release has 500 cameras, so COMAND's
limit is lowered to 100 POIs for these tests (the real 25,000 is checked on real data in
tests/exporters/test_comand.py)."""

from dataclasses import replace

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from exporters import devices
from exporters.base import ExportOptions
from exporters.devices import CATALOG, Limit
from exporters.package import hard_limit_error
from cameras.coverage import Coverage
from cameras.exporting import sizer
from portal.forms import hard_limit_refusal

from tests.portal.panelkit import customer, first_release, paid_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_cache")]


@pytest.fixture
def release(tmp_path):
    return first_release(tmp_path)


@pytest.fixture
def small_comand(monkeypatch):
    device = replace(CATALOG["mercedes-comand"], max_pois=Limit(100, "test limit", hard=True))
    monkeypatch.setitem(devices.CATALOG, "mercedes-comand", device)
    return device


def smallest_country(release) -> str:
    counts = release.counts["country"]
    return min((c for c in counts if counts[c]), key=lambda c: (counts[c], c))


def save(client, order, codes):
    return client.post(reverse("panel-coverage", args=[order.public_id]), {"codes": codes})


def test_a_coverage_over_the_hard_limit_is_refused_with_the_shops_message(client, release, small_comand):
    lea = customer()
    client.force_login(lea)
    small = smallest_country(release)
    order = paid_order(lea, device="mercedes-comand", coverage=[small], mobile=False)
    response = save(client, order, "europe")
    assert response.status_code == 302 and response["Location"] == reverse("panel-coverage", args=[order.public_id])
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    options = ExportOptions(mobile=False, icons=order.icons, speed_unit=order.speed_unit,
                            fr_danger_zones=order.fr_zone_mode == "legal")
    size = sizer(release, small_comand, options).size(Coverage.parse(["europe"]))
    assert size.pois > 100
    assert errors == [hard_limit_error(small_comand, size.pois, size.by_country)]
    assert "over the limit of Mercedes-Benz COMAND" in errors[0] and "for example the countries" in errors[0]
    order.refresh_from_db()
    assert order.coverage == [small]


def test_the_shop_and_the_panel_give_the_same_refusal(release, small_comand):
    options = ExportOptions()
    shop = hard_limit_refusal(small_comand, release, Coverage.parse(["europe"]), options)
    pois = sizer(release, small_comand, options).size(Coverage.parse(["europe"])).pois
    assert shop and shop.startswith(f"{pois:,} POIs")
    assert hard_limit_refusal(small_comand, release, Coverage.parse([smallest_country(release)]), options) is None
    assert hard_limit_refusal(CATALOG["tomtom-go-classic"], release, Coverage.parse(["europe"]), options) is None


def test_a_coverage_within_the_hard_limit_is_saved(client, release, small_comand):
    lea = customer()
    client.force_login(lea)
    counts = release.counts["country"]
    small = smallest_country(release)
    other = sorted((c for c in counts if counts[c] and c != small), key=lambda c: (counts[c], c))[0]
    assert counts[small] + counts[other] <= 100
    order = paid_order(lea, device="mercedes-comand", coverage=[small], mobile=False)
    response = save(client, order, f"{small},{other}")
    assert response.status_code == 302 and response["Location"] == reverse("panel-order", args=[order.public_id])
    order.refresh_from_db()
    assert order.coverage == sorted([small, other])


def test_another_customers_purchase_is_a_404_before_any_sizing(client, release, small_comand, monkeypatch):
    from portal.views import panel

    lea, max_ = customer(), customer("max@example.com")
    order = paid_order(lea, device="mercedes-comand", coverage=[smallest_country(release)], mobile=False)
    monkeypatch.setattr(panel, "hard_limit_refusal", lambda *a: pytest.fail("sized another customer's purchase"))
    client.force_login(max_)
    assert save(client, order, "europe").status_code == 404
    order.refresh_from_db()
    assert order.coverage == [smallest_country(release)]
