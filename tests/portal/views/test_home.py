"""The home page: what the service is, the device picker, the preview map and the release."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils.html import escape

from cameras.releases import changelog_text
from exporters.devices import DEVICES
from exporters.schema import CameraType
from portal.services import l10n

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    """Collects the resource URLs, links, text and json_script blocks of a page."""

    RESOURCE_ATTRS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
                      "video": "src", "audio": "src", "embed": "src", "object": "data"}

    def __init__(self, html: str):
        super().__init__()
        self.resources, self.links, self.text, self.scripts = [], [], [], {}
        self.options, self._script_id, self._script = [], None, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        attr = self.RESOURCE_ATTRS.get(tag)
        # the page's hreflang alternates name its own translations (absolute, as search engines want)
        if attr and a.get(attr) and not (tag == "link" and a.get("rel") == "alternate"):
            self.resources.append((tag, a[attr]))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "option":
            self.options.append(a.get("value"))
        if tag == "script" and a.get("id"):
            self._script_id, self._script = a["id"], []

    def handle_endtag(self, tag):
        if tag == "script" and self._script_id:
            self.scripts[self._script_id] = "".join(self._script)
            self._script_id = None

    def handle_data(self, data):
        if self._script_id:
            self._script.append(data)
        else:
            self.text.append(data)

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def get_home(client) -> tuple[str, Page]:
    r = client.get(reverse("home-page"))
    assert r.status_code == 200
    html = r.content.decode()
    return html, Page(html)


def test_home_is_the_site_root():
    assert reverse("home-page") == "/"


def test_it_says_what_the_service_is(client):
    _, page = get_home(client)
    assert "Speed camera files for your GPS" in page.plain
    assert "download a ready-to-install file" in page.plain


def test_every_device_is_listed_by_brand_with_a_link(client):
    html, page = get_home(client)
    for device in DEVICES:
        assert reverse("shop-device", args=[device.id]) in page.links, device.id
        assert escape(device.model) in html
    brands = list(dict.fromkeys(d.brand for d in DEVICES))
    # The brand select offers every brand (plus "All brands"), in catalog order.
    assert len(page.options) == len(brands) + 1 and page.options[0] == ""
    for brand in brands:
        assert f"<h3>{escape(brand)}</h3>" in html
    # A search box and the text each device is found by.
    assert 'id="device-search"' in html
    assert 'data-search="tomtom go classic' in html


def test_the_release_its_date_counts_and_changelog(client, release):
    html, page = get_home(client)
    text = page.plain
    assert f"release {release.number}" in text
    assert l10n.date(release.created_at) in text      # in the page's language
    assert f'datetime="{release.created_at:%Y-%m-%d}"' in html
    assert f"{l10n.number(release.camera_count)} cameras" in text
    assert changelog_text(release) in text
    # The table of countries: one row per country with its count.
    for code, count in release.counts["country"].items():
        assert f"<td>{code}</td><td class=\"num\">{l10n.number(count)}</td>" in html
    assert "France" in text


def test_the_type_filter_lists_the_release_types(client, release):
    html, _ = get_home(client)
    for slug, count in release.counts["type"].items():
        assert f'value="{slug}"' in html
    missing = [t.slug for t in CameraType if t.slug not in release.counts["type"]]
    for slug in missing:
        assert f'value="{slug}"' not in html


def test_without_a_release_the_page_says_so(client):
    _, page = get_home(client)
    assert "No release has been published yet" in page.plain
    config = json.loads(page.scripts["map-config"])
    assert config["release"] is None
    # The devices are there all the same.
    assert reverse("shop-device", args=[DEVICES[0].id]) in page.links


def test_leaflet_and_the_map_come_from_our_static_files(client, release):
    _, page = get_home(client)
    resources = dict((url, tag) for tag, url in page.resources)
    assert "/static/leaflet/leaflet.js" in resources
    assert "/static/leaflet/leaflet.css" in resources
    assert "/static/portal/map.js" in resources and "/static/portal/map.css" in resources
    for tag, url in page.resources:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, f"external {tag}: {url}"
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"missing static file {url}"


def own_alternates_removed(html: str) -> str:
    """The page without its hreflang alternates: absolute links to its own translations."""
    return re.sub(r'<link rel="alternate" hreflang="[^"]+" href="http://testserver/[^"]*">', "", html)


def test_no_external_url_but_the_configured_tiles(client, release, settings):
    settings.LEAFLET_CONFIG = dict(settings.LEAFLET_CONFIG, TILES=[("OSM", "https://tiles.example.org/{z}/{x}/{y}.png",
                                                                   {"attribution": "x"})])
    html, page = get_home(client)
    config = json.loads(page.scripts["map-config"])
    assert config["tiles"] == "https://tiles.example.org/{z}/{x}/{y}.png"
    html = own_alternates_removed(html)
    assert html.count("https://") == 1 and "http://" not in html

    settings.LEAFLET_CONFIG = dict(settings.LEAFLET_CONFIG, TILES=[])
    html, page = get_home(client)
    html = own_alternates_removed(html)
    assert json.loads(page.scripts["map-config"])["tiles"] == ""
    assert "https://" not in html and "http://" not in html and "//" not in html.replace("<!--", "")


def test_the_map_is_configured(client, release):
    html, page = get_home(client)
    config = json.loads(page.scripts["map-config"])
    assert config["release"] == release.number
    assert {t["slug"] for t in config["types"]} == {t.slug for t in CameraType}
    assert f'data-clusters-url="{reverse("home-map-clusters")}"' in html
    assert 'id="map"' in html


def test_the_home_page_makes_one_query(client, release, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        client.get(reverse("home-page"))


# ---------------------------------------------------------------------------------------
# In a browser (headless Chromium; the page guard fails the test on any request to the
# internet but the tile host)


@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_picker_filters_and_the_map_shows_clusters(live_server, page, release):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "blockedbyclient" not in
            msg.text.lower() and "failed to load resource" not in msg.text.lower() else None)
    page.goto(live_server.url + "/")
    page.wait_for_selector(".camera-cluster, .leaflet-interactive", timeout=15_000)
    status = page.locator("#map-status")
    page.wait_for_function("document.getElementById('map-status').textContent.includes('in this area')")
    assert f"release {release.number}" in status.text_content()

    # The device picker: search narrows the list, the brand select too.
    visible = lambda: page.locator("#device-list li:visible").count()  # noqa: E731
    assert visible() == len(DEVICES)
    page.fill("#device-search", "garmin zumo")
    assert visible() == 1
    assert page.locator("#device-list li:visible a").get_attribute("href") == reverse("shop-device", args=["garmin-zumo"])
    page.fill("#device-search", "")
    page.select_option("#device-brand", label="TomTom")
    assert visible() == sum(d.brand == "TomTom" for d in DEVICES)
    page.fill("#device-search", "no such device at all")
    assert page.locator("#device-none").is_visible()

    # The type filter: none selected empties the map.
    page.click("#map-filter [data-select=none]")
    page.wait_for_function("document.getElementById('map-status').textContent.startsWith('0 cameras')")
    assert page.locator(".camera-cluster").count() == 0
    page.click("#map-filter [data-select=all]")
    page.wait_for_selector(".camera-cluster")
    # Zooming in on Paris shows single cameras with a popup.
    page.locator("#map").scroll_into_view_if_needed()
    page.evaluate("window.speedcamMap.setView([48.8566, 2.3522], 12)")
    page.wait_for_function("document.querySelectorAll('path.leaflet-interactive:not([d=\"M0 0\"])').length > 0")
    page.locator('path.leaflet-interactive:not([d="M0 0"])').first.dispatch_event("click")
    page.wait_for_selector(".leaflet-popup-content")
    assert "camera #" in page.locator(".leaflet-popup-content").text_content()
    assert not errors, errors
