"""One ``coverage_choices`` (portal.forms): the shop's coverage list and the panel's coverage
page offer the same regions and countries, with the release's camera counts."""

import pytest
from django.test import Client
from django.urls import reverse

from cameras import regions
from exporters.devices import get_device
from portal.forms import PRESET_REGIONS, PurchaseForm, coverage_choices

from tests.portal.panelkit import customer, next_release, paid_order

pytestmark = pytest.mark.django_db
TOMTOM = get_device("tomtom-go-classic")   # default coverage: europe


def test_the_choices_are_the_preset_regions_then_the_release_countries_with_their_cameras(release):
    choices = coverage_choices(release)
    counts = release.counts["country"]
    assert [r.code for r in choices.regions] == [slug for slug in PRESET_REGIONS if slug in regions.REGIONS]
    europe = next(r for r in choices.regions if r.code == "europe")
    assert europe.cameras == sum(counts.get(c, 0) for c in regions.REGIONS["europe"].countries) > 0
    assert {c.code: c.cameras for c in choices.countries} == counts
    names = [c.name for c in choices.countries]
    assert names == sorted(names) and "France" in names


def test_without_a_release_only_the_regions_are_offered():
    choices = coverage_choices(None)
    assert choices.countries == () and all(r.cameras == 0 for r in choices.regions)


def test_the_shop_form_lists_the_default_first_then_the_same_choices(release):
    offered = coverage_choices(release)
    form_choices = list(PurchaseForm(TOMTOM, release).fields["coverage"].choices)
    assert form_choices[0] == ("europe-no-ch", "Europe without Switzerland (default)")
    assert [code for code, _ in form_choices[1:]] == (
        [r.code for r in offered.regions] + [c.code for c in offered.countries])
    assert ("FR", "France only") in form_choices


def test_the_panel_coverage_page_offers_the_same_choices_with_camera_counts(release, settings, tmp_path):
    settings.PACKAGES_DIR = tmp_path / "packages"
    lea = customer()
    order = paid_order(lea, TOMTOM.id)
    browser = Client()
    browser.force_login(lea)
    page = browser.get(reverse("panel-coverage", args=[order.public_id])).content.decode()
    offered = coverage_choices(release)
    for choice in offered.regions + offered.countries:
        assert f'name="codes" value="{choice.code}"' in page
    france = next(c for c in offered.countries if c.code == "FR")
    assert f"France <span class=\"muted\">({france.cameras:,} cameras)</span>" in page   # the name, not the code


def test_a_new_release_gets_its_own_counts(release):
    before = {c.code: c.cameras for c in coverage_choices(release).countries}
    newer, _ = next_release({"FR": {"added": 3}})
    after = {c.code: c.cameras for c in coverage_choices(newer).countries}
    assert after["FR"] == before["FR"] + 3
