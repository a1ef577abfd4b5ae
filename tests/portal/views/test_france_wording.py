"""France, as docs/france.md states it: French law (R413-15, décret n° 2012-3) forbids
signalling where cameras are, so a France-legal file has danger zones only (at least 300 m in
built-up areas, 2 km on other roads, 4 km on motorways) and no exact position. The shop and
the panel offer that mode whenever a coverage includes France, and no label makes the danger
icon set (pictures only) look like what the law requires."""

import html
import re

import pytest
from django.urls import reverse

from cameras.coverage import Coverage, CoverageError
from exporters.devices import DEVICES
from tests.portal.panelkit import customer, paid_order
from tests.releases import demo_release

pytestmark = pytest.mark.django_db

LENGTHS = "at least 300 m in built-up areas, 2 km on other roads and 4 km on motorways"


@pytest.fixture
def release(tmp_path):
    return demo_release(tmp_path, 300, 5)


def text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def includes_france(code: str) -> bool:
    try:
        return "FR" in Coverage.parse([code]).countries
    except CoverageError:
        return False


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.id)
def test_every_device_page_offers_the_legal_mode_for_each_coverage_with_france_and_states_the_law(
        client, release, device):
    page = client.get(reverse("shop-device", args=[device.id])).content.decode()
    offered = re.findall(r'<option value="([^"]+)"', re.search(r'<select name="coverage".*?</select>', page, re.S)
                         .group(0)) if device.coverage_setup else [device.default_coverage]
    france_codes = re.search(r'data-france-codes="([^"]*)"', page).group(1).split(",")
    assert {c for c in offered if includes_france(c)} == set(france_codes) - {""}
    said = text(page)
    assert "only danger zones are allowed" in said and LENGTHS in said
    assert "(French law)" not in said               # the icon set is no legal mode
    assert "French danger icons are not available" not in said
    if not device.icon_swap:
        assert "what makes the file legal in France is the danger-zone mode" in said


def test_the_panel_offers_the_legal_mode_for_a_region_with_france_and_states_the_law(client, release):
    lea = customer()
    client.force_login(lea)
    order = paid_order(lea, device="igo-primo", coverage=["western-europe"])
    page = client.get(reverse("panel-order", args=[order.public_id])).content.decode()
    assert 'name="fr_zone_mode" value="legal"' in page and 'name="fr_zone_mode" value="exact"' in page
    said = text(page)
    assert LENGTHS in said and "exact camera positions and speeds (not for use in France)" in said


def test_checkout_names_the_legal_mode_and_the_icon_set_without_claiming_the_law_for_icons(client, release):
    page = client.get(reverse("shop-checkout", args=["tomtom-go-classic"]),
                      {"coverage": "FR", "icons": "fr-danger", "fr_zone_mode": "legal"}).content.decode()
    said = text(page)
    assert "danger zones, as French law requires" in said
    assert "danger signs instead of speed-limit signs" in said and "danger signs (French law)" not in said
