"""The price list: every device on sale with what it costs (VAT included), the mobile option,
the annual subscription, the rule that makes the price, the file size in MB for each coverage,
and the countries each region holds."""

import html
import re

import pytest
from django.urls import reverse

from cameras import exporting, regions
from exporters.devices import DEVICES, get_device
from portal import tasks
from portal.services import pricelist, queue

from tests.releases import demo_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(tmp_path, local_cache):
    """A release, sized for the price list as the worker does it."""
    release = demo_release(tmp_path, cameras=300)
    tasks.compute_price_list_sizes(release.number)
    return release


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def prices_page(client) -> str:
    response = client.get(reverse("shop-prices"))
    assert response.status_code == 200
    return response.content.decode()


def row(page: str, device_id: str) -> list[str]:
    found = re.search(rf'<tr data-device="{device_id}">(.*?)</tr>', page, re.S)
    assert found, device_id
    return [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def test_every_device_on_sale_is_listed_with_its_prices_vat_included(client, release):
    page = prices_page(client)
    assert "All prices are consumer prices in euros, VAT included." in text(page)
    on_sale = [d for d in DEVICES if not d.withdrawn]
    assert sorted(re.findall(r'<tr data-device="([^"]+)"', page)) == sorted(d.id for d in on_sale)
    # a navigation device: €19.90, €24.90 with mobile cameras; the annual subscription €29.90, €34.90
    assert row(page, "tomtom-go-classic")[:5] == ["TomTom GO classic (x20/x30/x40/x50, NavCore)", "€19.90", "€24.90",
                                                  "€29.90", "€34.90"]
    # a device that shows no mobile cameras is not offered the option
    no_mobile = next(d for d in on_sale if not d.mobile)
    cells = row(page, no_mobile.id)
    assert cells[2] == "not offered" and cells[4] == "not offered"


def test_the_rule_says_what_a_one_time_purchase_and_the_annual_subscription_include(client, release, settings):
    settings.UPDATE_MONTHS = 1
    rule = text(re.search(r'<section id="pricing-rule">(.*?)</section>', prices_page(client), re.S).group(1))
    assert "navigation devices €19.90, car head units €24.90, phone and tablet apps €14.90" in rule
    assert "Mobile cameras and zones add €5.00" in rule
    assert "every new release for 1 month from the payment" in rule
    assert "every release for 12 months from the day it starts, and renews each year" in rule
    assert "Within 7 days of a one-time purchase" in rule and "you pay only the difference" in rule


def test_each_size_is_the_one_the_device_page_gives_for_that_coverage_in_megabytes(client, release):
    page = prices_page(client)
    columns = pricelist.coverages()
    cells = row(page, "garmin-nuvi")[5:]
    assert len(cells) == len(columns)
    for code in ("europe", "dach"):
        size = client.get(reverse("shop-device-size", args=["garmin-nuvi"]), {"coverage": code}).json()
        assert cells[columns.index(code)] == pricelist.megabytes(size["bytes"]), code
    # a device that takes its default coverage only shows a dash for the others
    fixed = next(d for d in DEVICES if not d.withdrawn and not d.coverage_setup)
    fixed_cells = row(page, fixed.id)[5:]
    assert fixed_cells[columns.index(fixed.default_coverage)].endswith("MB")
    assert {c for i, c in enumerate(fixed_cells) if columns[i] != fixed.default_coverage} == {"–"}


def test_sizes_are_computed_once_per_release(client, release, monkeypatch):
    prices_page(client)
    calls = []
    real = exporting.sizer
    monkeypatch.setattr(pricelist, "sizer", lambda *a, **kw: calls.append(a) or real(*a, **kw))
    prices_page(client)
    assert calls == []


def test_until_the_worker_has_sized_the_release_the_page_says_so_and_queues_it_once(client, tmp_path, local_cache,
                                                                                     monkeypatch):
    release = demo_release(tmp_path, cameras=300)
    queued = []
    monkeypatch.setattr(queue, "price_list_sizes", queued.append)          # no worker
    for _ in range(2):
        page = prices_page(client)
        assert f"The file sizes for release {release.number} are being computed" in text(page)
        assert row(page, "tomtom-go-classic")[1] == "€19.90" and len(row(page, "tomtom-go-classic")) == 5
    assert queued == [release.number]
    tasks.compute_price_list_sizes(release.number)                          # what the worker does
    page = prices_page(client)
    assert "being computed" not in page and row(page, "garmin-nuvi")[5].endswith("MB")


def test_each_region_lists_its_countries_by_name(client, release):
    page = prices_page(client)
    section = re.search(r'<section id="regions">(.*?)</section>', page, re.S).group(1)
    dach = re.search(r'<dt id="region-dach">(.*?)</dt>\s*<dd>(.*?)</dd>', section, re.S)
    assert text(dach.group(1)) == f"{regions.REGIONS['dach'].name} (3 countries)"
    assert text(dach.group(2)) == "Austria, Germany, Switzerland"


def test_without_a_release_the_prices_show_and_the_sizes_wait(client, db):
    page = prices_page(client)
    assert row(page, "tomtom-go-classic")[1] == "€19.90"
    assert "file sizes appear with the first release" in text(page)


def test_the_device_page_links_to_the_price_list_and_says_until_when_updates_come(client, release, settings):
    settings.UPDATE_MONTHS = 1
    page = client.get(reverse("shop-device", args=["garmin-nuvi"])).content.decode()
    assert f'href="{reverse("shop-prices")}"' in page
    updates = text(re.search(r'<li id="device-updates">(.*?)</li>', page, re.S).group(1))
    assert "this file plus every new release for 1 month, until" in updates
    assert "every release for 12 months from the upgrade, renewing each year" in updates
    assert get_device("garmin-nuvi").kind == "pnd" and "(€29.90 a year" in updates
