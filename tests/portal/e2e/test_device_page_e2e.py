"""The device picker and the device page in Chromium: the search finds model numbers and
brands, and the live size and price show the customer's last choice even when the server
answers an earlier one later."""

import threading
import time

import pytest

from portal.views import shop
from tests.releases import demo_release

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def release(tmp_path, settings):
    settings.PACKAGES_DIR = tmp_path / "packages"
    return demo_release(tmp_path, 400, 2)


def shown_devices(page, query: str) -> list[str]:
    page.fill("#device-search", query)
    return [href.rstrip("/").split("/")[-1]
            for href in page.eval_on_selector_all("#device-list li:not([hidden]) a", "els => els.map(e => e.getAttribute('href'))")]


def test_the_search_finds_model_numbers_and_a_brand_lists_only_its_devices(live_server, page, release):
    page.goto(live_server.url + "/")
    assert shown_devices(page, "tomtom go 520") == ["tomtom-go-classic"]
    assert shown_devices(page, "drivesmart 66") == ["garmin-drivesmart"]
    assert shown_devices(page, "nuvi 2597") == ["garmin-nuvi"]
    garmin = shown_devices(page, "garmin")
    assert garmin and all(device.startswith("garmin-") for device in garmin)
    assert "osmand-gpx" in shown_devices(page, "gpx")
    assert shown_devices(page, "tomtom go 999") == []


def test_a_late_answer_to_an_earlier_choice_does_not_replace_the_last_one(live_server, page, release, monkeypatch):
    """The server holds the answer for France until the one for Germany has been shown: the
    page must keep Germany's size and price (before the fix it showed France's)."""
    sizing, france_answered = shop._size, threading.Event()

    def slow_for_france(device, release, spec):
        if spec["coverage"] == ["FR"]:
            time.sleep(1.5)
            try:
                return sizing(device, release, spec)
            finally:
                france_answered.set()
        return sizing(device, release, spec)

    monkeypatch.setattr(shop, "_size", slow_for_france)
    base = live_server.url + "/devices/tomtom-go-classic/"
    germany = page.request.get(base + "size.json?coverage=DE&fr_zone_mode=legal").json()
    france = page.request.get(base + "size.json?coverage=FR&fr_zone_mode=legal").json()
    france_answered.clear()
    assert germany["cameras_text"] != france["cameras_text"]
    page.goto(base)
    page.wait_for_function("document.getElementById('size').textContent.length > 0")
    page.select_option("#id_coverage", "FR")
    page.select_option("#id_coverage", "DE")
    page.wait_for_function("text => document.getElementById('size').textContent.startsWith(text)",
                           arg=germany["cameras_text"])
    assert france_answered.wait(10)
    page.wait_for_timeout(500)   # the browser has France's late answer by now
    assert page.inner_text("#size").startswith(germany["cameras_text"])
    assert page.inner_text("#price") == germany["price"]
