"""Route enforcement (France's "Itinéraire": a radar car checking speeds along listed roads):
a type of its own, mapped for every format, read back by the independent readers."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest

from exporters import icons
from exporters.base import CameraSet, ExportOptions, get_exporter
from exporters.common import categories, category_of
from exporters.schema import CameraType
from tests.exporters.readers.gpi_reader import read_gpi
from tests.exporters.readers.igo_reader import read_speedcam
from tests.exporters.readers.ov2_reader import read_ov2
from tests.exporters.readers.sygic_reader import read_sygic

T = CameraType


def route_cameras() -> CameraSet:
    return CameraSet.from_records([
        dict(id=1, type=T.ROUTE_ENFORCEMENT, lat=46.054588, lon=5.334554, country="FR", road="D77, D64, A42",
             description="Itinéraire (26.7 km)"),
        dict(id=2, type=T.SPEED, lat=46.1, lon=5.4, speed=80, country="FR", road="D1084"),
    ])


def render(identifier, **options):
    return get_exporter(identifier).render(route_cameras(), ExportOptions(**options))


def test_the_type_code_label_and_slug():
    assert int(T.ROUTE_ENFORCEMENT) == 16
    assert T.ROUTE_ENFORCEMENT.slug == "route-enforcement"
    assert T.parse("route-enforcement") is T.ROUTE_ENFORCEMENT and T.parse("16") is T.ROUTE_ENFORCEMENT
    assert "Route enforcement" in T.ROUTE_ENFORCEMENT.label


def test_it_has_its_own_category_not_the_sections():
    cams = route_cameras()
    assert category_of(cams).tolist() == ["route", "fixed"]
    assert [(c.slug, c.title) for c in categories(cams)] == [("fixed", "Speed cameras"), ("route", "Route enforcement")]


@pytest.mark.parametrize("identifier, code", [("igo", 5), ("navitel", 5)])
def test_igo_and_navitel_warn_as_a_mobile_camera(identifier, code):
    (f,) = render(identifier).files
    rows = read_speedcam(f.read_bytes(), navitel=identifier == "navitel")
    assert [r.type for r in rows] == [code, 1]  # id order: the route first


def test_sygic_writes_a_mobile_speed_camera():
    (f,) = [f for f in render("sygic").files if f.name.endswith(".dat")]
    assert sorted(c.type for c in read_sygic(f.read_bytes()).cameras) == [1, 5]


def test_ov2_has_a_route_file_with_the_route_icon():
    files = {f.name: f for f in render("tomtom-ov2").files}
    ov2 = [n for n in files if n.startswith("tomtom/Route") and n.endswith(".ov2")]
    assert ov2 == ["tomtom/Route_enforcement.ov2"]
    (poi,) = read_ov2(files[ov2[0]].read_bytes()).pois
    assert poi.name.startswith("Route enforcement") and (poi.lat, poi.lon) == (46.05459, 5.33455)
    assert "tomtom/Route_enforcement.bmp" in files


def test_gpi_has_a_route_group_with_its_own_bitmap():
    files = {f.name: f for f in render("garmin-gpi").files}
    assert "Route_enforcement.gpi" in files
    gpi = read_gpi(files["Route_enforcement.gpi"].read_bytes())
    (poi,) = gpi.pois
    assert poi.category == "Route enforcement" and poi.name.startswith("Route enforcement")


def test_gpx_uses_the_car_symbol_and_the_type_slug():
    files = {f.name: f for f in render("gpx").files}
    root = ET.fromstring(files["Route enforcement.gpx"].read_bytes())
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    (wpt,) = root.findall("g:wpt", ns)
    assert wpt.find("g:sym", ns).text == "Car"
    assert 'type="route-enforcement"' in files["Route enforcement.gpx"].read_bytes().decode()


def test_kml_geojson_and_csv_carry_the_slug_and_the_route_icon():
    kml = {f.name: f for f in render("kml").files}
    assert "icons/route.png" in kml
    assert b"<SimpleData name=\"type\">route-enforcement</SimpleData>" in kml["speedcams.kml"].read_bytes()
    (gj,) = render("geojson").files
    types = [feat["properties"]["type"] for feat in json.loads(gj.read_bytes())["features"]]
    assert "route-enforcement" in types
    (csv_file,) = render("csv").files
    assert ",route-enforcement," in csv_file.read_bytes().decode()


def test_blaupunkt_lists_it_as_its_own_category():
    names = [f.name for f in render("blaupunkt-kml").files]
    assert "FR_Speedcams_Route.kml" in names and "FR_Speedcams_Route.bmp" in names


def test_the_route_icon_is_its_own():
    route = np.asarray(icons.draw_icon("route", 0, 24))
    for other in ("mobile", "section", "danger", "fixed", "other"):
        assert not np.array_equal(route, np.asarray(icons.draw_icon(other, 0, 24))), other
    assert icons.parse_category("route-enforcement")[0] == "route"


def test_in_legal_mode_a_route_is_a_danger_zone_like_any_french_camera():
    zones = render("kmz", fr_danger_zones=True)
    with zipfile.ZipFile(io.BytesIO(zones.files[0].read_bytes())) as z:
        doc = z.read("doc.kml").decode()
    assert "route-enforcement" not in doc and "Route enforcement" not in doc
    assert "Zone de danger (4 km)" in doc  # the roads include the A42
