"""Mercedes-Benz COMAND personal POIs (``daimler-gpx``): what the card gets, checked by the
independent checker written from the community's description (readers/daimler_gpx_checker.py),
by GPSBabel, and against the device's hard 25,000-POI limit."""

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from exporters.base import ExportError, ExportOptions, load_plugins
from exporters.devices import Limit, get_device
from exporters.package import build_package, hard_limit_error
from exporters.schema import Kind

from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras
from tests.exporters.interchange import check_golden, gpsbabel_unicsv
from tests.exporters.readers import daimler_gpx_checker as checker

RELEASE = {"number": 1, "date": "2026-01-01", "sha256": "x"}
GPX_NS = "http://www.topografix.com/GPX/1/1"

# The files and what goes in each (slug of the category -> title, COMAND icon): written out
# here from the plugin's documentation, not imported from it.
FILES = {
    "PersonalPOI/speedcams_fixed.gpx": ("Speed cameras", "16"),
    "PersonalPOI/speedcams_red-light.gpx": ("Red-light cameras", "16"),
    "PersonalPOI/speedcams_section.gpx": ("Average-speed sections", "16"),
    "PersonalPOI/speedcams_other.gpx": ("Other enforcement", "6"),
    "PersonalPOI/speedcams_danger.gpx": ("Danger zones", "12"),
    "PersonalPOI/speedcams_mobile.gpx": ("Mobile cameras", "6"),
}
FILE_OF_TYPE = {1: "fixed", 7: "fixed", 8: "fixed", 14: "fixed", 2: "red-light", 3: "red-light", 4: "section",
                5: "section", 11: "section", 16: "route", 10: "other", 15: "other", 99: "other", 9: "danger"}


def expected_lead_s(speed: int) -> int:
    """Seconds of warning: the alert distance of the limit (300 m up to 50 km/h, 500 m up to 90,
    800 m up to 110, 1,000 m above) driven at the limit, rounded up; 36 s when unknown."""
    if speed <= 0:
        return 36
    metres = 300 if speed <= 50 else 500 if speed <= 90 else 800 if speed <= 110 else 1000
    return -(-metres * 36 // (speed * 10))  # ceil(metres * 3.6 / speed), in integers


def render(**options):
    return load_plugins()["daimler-gpx"]().render(sample_cameras(), ExportOptions(**options))


def file_for(row: dict) -> str:
    slug = "mobile" if row.get("kind") == Kind.MOBILE else FILE_OF_TYPE[int(row["type"])]
    return f"PersonalPOI/speedcams_{slug}.gpx"


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_sample_export_matches_the_golden_files(name):
    files = {f.name: f.data for f in render(mobile=True).files}
    check_golden("daimler-gpx", name.replace("/", "__"), files[name])


def test_every_camera_is_a_waypoint_comand_reads_in_its_categorys_file():
    result = render(mobile=True)
    card = checker.check_card({f.name: f.data for f in result.files})
    assert list(card) == list(FILES)                   # the documented order; ASCII names in PersonalPOI/
    assert {f.name: f.count for f in result.files} == {n: len(w) for n, w in card.items()}
    got = {(round(w.lat, 6), round(w.lon, 6)): (name, w) for name, ws in card.items() for w in ws}
    assert len(got) == len(SAMPLE_ROWS)
    for row in SAMPLE_ROWS:
        name, wpt = got[(round(row["lat"], 6), round(row["lon"], 6))]
        title, icon = FILES[name]
        assert name == file_for(row), row["id"]
        assert wpt.extension["WptIconId"] == {"IconId": icon}
        assert wpt.extension["POICategory"] == {"Cat": title}
        assert wpt.extension["Activity"] == {"Active": "true", "Level": "warning", "Unit": "second",
                                             "Value": str(expected_lead_s(row.get("speed", 0)))}, row["id"]
        assert wpt.extension["Presentation"] == {"ShowOnMap": "true"}
        assert "@" not in wpt.name
    assert got[(48.856613, 2.352222)][1].name == "Speed 50 Rue de Rivoli"
    assert got[(48.137154, 11.576124)][1].name == "Red light"          # no limit, no road
    assert got[(45.764043, 4.835659)][1].name == "Red light+speed 70 A7"


def test_without_the_mobile_option_there_is_no_mobile_file():
    names = [f.name for f in render().files]
    assert names == [n for n in FILES if "mobile" not in n]


def test_the_lead_time_is_the_alert_distance_driven_at_the_limit():
    table = {0: 36, 30: 36, 50: 22, 70: 26, 80: 23, 90: 20, 100: 29, 110: 27, 120: 30, 130: 28}
    assert {s: expected_lead_s(s) for s in table} == table
    cams = sample_cameras()
    cols = dict(cams.columns)
    speeds = np.resize(np.array(sorted(table), dtype=np.int16), len(cams))
    cols["speed"] = speeds
    cols["kind"] = np.zeros(len(cams), dtype=np.int8)
    from exporters.base import CameraSet

    result = load_plugins()["daimler-gpx"]().render(CameraSet(cols), ExportOptions())
    by_pos = {(round(w.lat, 6), round(w.lon, 6)): w for f in result.files for w in checker.read(f.data)}
    for lat, lon, sp in zip(cams["lat"], cams["lon"], speeds.tolist()):
        assert by_pos[(round(lat, 6), round(lon, 6))].extension["Activity"]["Value"] == str(table[sp])
    assert any("22 s at 50 km/h" in n and "36 s when the limit is unknown" in n for n in result.notes)


@pytest.mark.parametrize("metres, value", [(450, "0.45"), (1000, "1"), (300, "0.3"), (1234, "1.234")])
def test_a_fixed_alert_distance_is_written_in_kilometres(metres, value):
    result = render(proximity_m=metres)
    for f in result.files:
        for wpt in checker.read(f.data):
            assert wpt.extension["Activity"] == {"Active": "true", "Level": "warning", "Unit": "kilometer",
                                                 "Value": value}
    assert any(f"at {metres:,} m" in n for n in result.notes)


def test_france_danger_zones_warn_at_their_length_which_covers_the_zone():
    result = render(fr_danger_zones=True)
    french = sum(1 for r in SAMPLE_ROWS if r["country"] == "FR" and r.get("kind", Kind.FIXED) != Kind.MOBILE)
    activities = [w.extension["Activity"] for f in result.files for w in checker.read(f.data)]
    zones = [a for a in activities if a["Unit"] == "kilometer"]
    assert len(zones) == french and len(activities) - french == sum(a["Unit"] == "second" for a in activities)
    assert all(float(a["Value"]) >= 0.3 for a in zones)
    assert any("France danger zone at its length" in n for n in result.notes)
    longer = render(fr_danger_zones=True, proximity_m=2500)
    values = [float(w.extension["Activity"]["Value"]) for f in longer.files for w in checker.read(f.data)]
    assert min(values) == 2.5 and all(v >= 2.5 for v in values)   # the option's distance where longer


def test_the_same_cameras_give_the_same_bytes_in_any_order():
    cams = sample_cameras()
    shuffled = cams.take(np.random.default_rng(4).permutation(len(cams)))
    plugin = load_plugins()["daimler-gpx"]()
    a = plugin.render(cams, ExportOptions(mobile=True))
    b = plugin.render(shuffled, ExportOptions(mobile=True))
    assert [(f.name, f.data) for f in a.files] == [(f.name, f.data) for f in b.files]


def mutate(data: bytes, old: str, new: str) -> bytes:
    assert old.encode() in data
    return data.replace(old.encode(), new.encode(), 1)


@pytest.mark.parametrize("old, new, why", [
    ('<gpx:wpt ', '<wpt ', "without the gpx: or gpxd: prefix"),
    ('IconId="16"', 'IconId="20"', "IconId"),
    ('Level="warning"', 'Level="alarm"', "Level"),
    ('Unit="second"', 'Unit="metre"', "Unit"),
    ('Value="22"', 'Value="soon"', "not a decimal"),
    ('ShowOnMap="true"', 'ShowOnMap="yes"', "ShowOnMap"),
    ('lat="48.856613"', 'lat="98.856613"', "lat"),
    ('<gpx:name>Speed 50 Rue de Rivoli</gpx:name>', '<gpx:name> </gpx:name>', "empty gpx:name"),
    ('xmlns:gpxd="http://www.daimler.com/DaimlerGPXExtensions/V2.4"', 'xmlns:gpxd="urn:other"', "Daimler"),
])
def test_the_checker_refuses_what_the_description_does_not_allow(old, new, why):
    data = next(f.data for f in render().files if f.name.endswith("fixed.gpx"))
    checker.read(data)
    with pytest.raises(checker.Invalid, match=why):
        checker.read(mutate(data, old, new))


def test_the_checker_refuses_extension_elements_out_of_order_and_a_card_over_the_limit():
    data = next(f.data for f in render().files if f.name.endswith("fixed.gpx"))
    icon = '<gpxd:WptIconId IconId="16"></gpxd:WptIconId>'
    cat = '<gpxd:POICategory Cat="Speed cameras"></gpxd:POICategory>'
    with pytest.raises(checker.Invalid, match="order"):
        checker.read(mutate(data, icon + cat, cat + icon))
    files = {f.name: f.data for f in render().files}
    with pytest.raises(checker.Invalid, match="ignores every one"):
        checker.check_card(files, limit=10)
    with pytest.raises(checker.Invalid, match="ASCII"):
        checker.check_card({"PersonalPOI/Radars_fixés.gpx": data})
    with pytest.raises(checker.Invalid, match="PersonalPOI/"):
        checker.check_card({"speedcams.gpx": data})


def test_gpsbabel_reads_every_waypoint_once_the_gpx_namespace_is_the_default(tmp_path):
    """GPSBabel 1.8.0 matches unprefixed names only, so it finds nothing in the prefixed file
    COMAND needs; the very same document with the GPX namespace as the default namespace
    (same elements for any namespace-aware reader) is read in full: positions and names."""
    for f in render(mobile=True).files:
        raw = tmp_path / "prefixed.gpx"
        raw.write_bytes(f.data)
        assert gpsbabel_unicsv("gpx", raw) == []
        ET.register_namespace("", GPX_NS)
        ET.register_namespace("gpxd", "http://www.daimler.com/DaimlerGPXExtensions/V2.4")
        plain = tmp_path / "plain.gpx"
        plain.write_bytes(ET.tostring(ET.fromstring(f.data), encoding="utf-8", xml_declaration=True))
        rows = gpsbabel_unicsv("gpx", plain)
        wpts = checker.read(f.data)
        assert len(rows) == len(wpts) == f.count
        for row, wpt in zip(rows, wpts):
            assert abs(float(row["Latitude"]) - wpt.lat) <= 0.5e-6 and abs(float(row["Longitude"]) - wpt.lon) <= 0.5e-6
            assert row["Name"] == wpt.name


def comand():
    return get_device("mercedes-comand")


def test_the_catalog_entry_uses_daimler_gpx_with_a_hard_limit_and_a_default_coverage_that_is_not_europe():
    device = comand()
    assert device.format == "daimler-gpx" and not device.mobile
    assert device.max_pois.value == 25_000 and device.max_pois.hard and not device.max_pois.assumed
    assert "gplv2/mercedespoi" in device.max_pois.source
    assert device.default_coverage == "central-europe-no-ch"
    assert any("DAIMLER_GPX_FORMAT.md" in n for n in device.notes)
    steps = " ".join(device.install)
    assert "PersonalPOI" in steps and "root of an SD card" in steps and "25,000" in steps
    assert "Import personal POIs" not in steps     # no menu: COMAND reads the card live (the reference)


def test_the_package_puts_the_files_in_personalpoi_with_the_guide():
    pkg = build_package(sample_cameras(), comand(), ExportOptions(), release=RELEASE, coverage=["world"])
    zf = zipfile.ZipFile(io.BytesIO(pkg.data))
    card = {n: zf.read(n) for n in zf.namelist() if n.startswith("PersonalPOI/")}
    assert set(card) == {n for n in FILES if "mobile" not in n}
    checker.check_card(card)
    guide = zf.read("INSTALL.txt").decode()
    assert "Copy the folder 'PersonalPOI'" in guide and "Level 'warning'" in guide
    assert "not direction-aware" in guide and pkg.manifest["warnings"] == []


def test_a_package_over_the_hard_limit_is_refused_with_the_countries_to_leave_out():
    tiny = replace(comand(), max_pois=Limit(10, "test limit", hard=True))
    with pytest.raises(ExportError) as exc:
        build_package(sample_cameras(), tiny, ExportOptions(), release=RELEASE, coverage=["world"])
    message = str(exc.value)
    # 21 fixed cameras, 11 over: the largest countries first, ties by code
    assert "21 POIs are over the limit" in message and "Leave out at least 11 POIs" in message
    assert "FR (6), BE (2), DE (2), IT (2), which leaves 9 POIs" in message
    assert "central-europe" in message
    at_limit = replace(comand(), max_pois=Limit(21, "test limit", hard=True))
    pkg = build_package(sample_cameras(), at_limit, ExportOptions(), release=RELEASE, coverage=["world"])
    assert pkg.manifest["counts"]["pois"] == 21 and pkg.manifest["warnings"] == []


def test_one_country_over_the_hard_limit_is_told_to_take_part_of_it():
    device = replace(comand(), max_pois=Limit(100, "test limit", hard=True))
    message = hard_limit_error(device, 150, {"FR": 150})
    assert "FR alone is over it" in message and "route" in message
    assert hard_limit_error(device, 100, {"FR": 100}) is None
    soft = replace(comand(), max_pois=Limit(100, "test limit"))
    assert hard_limit_error(soft, 150, {"FR": 150}) is None


# ---------------------------------------------------------------------------------------
# Real data: the default coverage fits, Europe does not


REAL = ("osm_speed_cameras_feed_2026-03.csv", "eu_lufop_gatso_all_2021-08-06_garmin.csv")


@pytest.mark.realdata
@pytest.mark.parametrize("dataset", REAL)
def test_on_real_data_the_default_coverage_fits_comand_with_room_to_grow(dataset, shared):
    from cameras.coverage import CameraIndex, Coverage
    from cameras.coverage.fitting import Sizer, propose_fit
    from tests.exporters.test_realdata_roundtrip import build_source

    index = CameraIndex(build_source(Path(shared(dataset))).cams)
    device = comand()
    sizer = Sizer(index, device, ExportOptions(), RELEASE)
    default = sizer.size(Coverage.parse([device.default_coverage]))
    assert default.fits and 0 < default.pois <= 0.5 * device.max_pois.value   # room for the data to double
    # the fitting machinery grows Germany into a coverage that fits, and it is at least the default's size
    fit = propose_fit(lambda o: Sizer(index, device, o, RELEASE), ExportOptions(), Coverage.parse(["DE"]))
    assert fit.fits and fit.size.pois <= device.max_pois.value
    europe = sizer.size(Coverage.parse(["europe"]))
    if europe.pois > device.max_pois.value:     # the OSM feed: about 34,000
        message = hard_limit_error(device, europe.pois, europe.by_country)
        assert message and "Leave out at least" in message
        named = message.split("for example the countries ")[1].split(", which leaves")[0]
        dropped = sum(int(part.split("(")[1].rstrip(")").replace(",", "")) for part in named.split("), ")
                      if part and "(" in part)
        assert europe.pois - dropped <= device.max_pois.value
