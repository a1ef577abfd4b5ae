"""The shop's device page says what each device gets, in its unit: the file names, the unit of
the limits for its typical coverage, the alerts, the France legal mode when the coverage
includes France, the limits, and the sources of the format and of the limits."""

import html
import re

import pytest
from django.urls import reverse

from exporters.devices import DEVICES, get_device

from tests.releases import demo_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(tmp_path):
    return demo_release(tmp_path, cameras=120)


def page_of(client, device_id) -> str:
    response = client.get(reverse("shop-device", args=[device_id]))
    assert response.status_code == 200
    return response.content.decode()


def item(page: str, element_id: str) -> str:
    found = re.search(rf'<li id="{element_id}">(.*?)</li>', page, re.S)
    assert found, element_id
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def listed(page: str, element_id: str) -> list[str]:
    found = re.search(rf'<ul id="{element_id}">(.*?)</ul>', page, re.S)
    assert found, element_id
    return [html.unescape(re.sub(r"<[^>]+>", "", li)) for li in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.id)
def test_every_device_page_names_files_unit_alerts_and_sources(client, release, device):
    page = page_of(client, device.id)
    assert item(page, "device-files") and item(page, "device-unit")
    assert item(page, "device-alerts") == f"Alerts: {device.alerts}"
    assert listed(page, "sources-format") == [s.title for s in device.format_sources]
    assert listed(page, "sources-limits") == [s.title for s in device.limit_sources]
    for source in device.sources:
        if source.url:
            assert f'href="{html.escape(source.url)}"' in page
    if device.max_pois:
        assert f"Limit: {device.max_pois.value:,} POIs" in page


def test_tomtom_europe_files_are_in_kmh_with_mph_for_the_uk(client, release):
    page = page_of(client, "tomtom-go-classic")
    files = item(page, "device-files")
    assert "tomtom/Speed_cameras_50.ov2" in files and "tomtom/Speed_cameras_30mph.ov2" in files
    assert "Europe" in files
    unit = item(page, "device-unit")
    assert "km/h, and mph for the cameras in" in unit and "United Kingdom" in unit
    assert "names, file names and speed signs" in unit


def test_a_format_with_one_unit_per_package_says_so(client, release):
    unit = item(page_of(client, "garmin-poi-loader"), "device-unit")
    assert unit.startswith("Speed unit: one unit for the whole package") and "km/h, unless most" in unit


def test_igo_limits_stay_kmh_as_the_format_defines(client, release):
    unit = item(page_of(client, "igo-primo"), "device-unit")
    assert unit == "Speed unit: km/h: the format defines its speed field in km/h, whatever the speed-unit option."


def test_gpi_alerts_are_proximity_alerts_scaled_by_the_limit(client, release):
    alerts = item(page_of(client, "garmin-drivesmart"), "device-alerts")
    assert "proximity alert" in alerts and "300 m up to 50 km/h" in alerts and "1,000 m above" in alerts
    assert "sounding at any speed" in alerts


def test_france_legal_mode_is_stated_where_the_typical_coverage_includes_france(client, release):
    france = item(page_of(client, "tomtom-go-classic"), "device-france")
    assert "legal mode" in france and "R413-15" in france and "300 m" in france and "4 km" in france
    gpi = item(page_of(client, "garmin-nuvi"), "device-france")
    assert "alert distance that covers the whole zone" in gpi
    assert "alert distance" not in item(page_of(client, "igo-primo"), "device-france")


def test_comand_shows_its_hard_limit_and_a_central_europe_example(client, release):
    page = page_of(client, "mercedes-comand")
    assert "Limit: 25,000 POIs" in html.unescape(page) and "larger coverages are refused" in page
    files = item(page, "device-files")
    assert "Central Europe" in files and "PersonalPOI/speedcams_" in files


def test_the_withdrawn_mib2_has_no_device_page(client, release):
    assert get_device("vw-mib").withdrawn
    assert client.get(reverse("shop-device", args=["vw-mib"])).status_code == 404
