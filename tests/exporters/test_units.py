"""Speed units: each country's unit, the conversion back to whole mph, and what the driver
reads in every format (names, file names, icons, POI Loader's "@" numbers, Sygic's
SpeedLimitUnits), with km/h kept where the format defines it (iGO and Navitel SPEED, GPI
alert distances, the feed's speed fields)."""

import csv
import io
import json
import math
import zipfile

import numpy as np
import pytest

from cameras.formats.options import MPH_COUNTRIES as IMPORTER_MPH_COUNTRIES
from exporters import sizing, units
from exporters.base import CameraSet, ExportOptions, get_exporter
from exporters.devices import get_device
from exporters.icons import draw_icon
from exporters.package import build_package, cache_key
from exporters.schema import CameraType as T
from exporters.schema import Kind

from tests.exporters.interchange import gpsbabel, gpsbabel_unicsv, written
from tests.exporters.readers.gpi_reader import read_gpi
from tests.exporters.readers.igo_reader import read_speedcam
from tests.exporters.readers.ov2_reader import read_ov2
from tests.exporters.readers.sygic_reader import read_sygic
from tests.exporters.test_garmin_poi_csv import read_poi_csv

RELEASE = {"number": 7, "date": "2026-01-01", "sha256": "0" * 64}

# mph limits and the km/h value an mph source is stored as (round(mph * 1.609344))
STORED = {20: 32, 30: 48, 35: 56, 40: 64, 45: 72, 50: 80, 55: 89, 60: 97, 65: 105, 70: 113}


def uk_cameras(extra=()) -> CameraSet:
    """A 30 mph camera on the A40 and a 70 mph one on the M4 (GB), and ``extra`` rows."""
    rows = [dict(id=1, type=T.SPEED, lat=51.52, lon=-0.20, speed=48, country="GB", road="A40"),
            dict(id=2, type=T.SPEED, lat=51.49, lon=-0.60, speed=113, country="GB", road="M4"),
            dict(id=3, type=T.RED_LIGHT, lat=51.50, lon=-0.10, speed=0, country="GB", road="Strand")]
    return CameraSet.from_records(rows + list(extra))


FR = [dict(id=11, type=T.SPEED, lat=48.85, lon=2.35, speed=50, country="FR", road="N7"),
      dict(id=12, type=T.SPEED, lat=48.80, lon=2.30, speed=90, country="FR", road="D1"),
      dict(id=13, type=T.SPEED, lat=48.70, lon=2.20, speed=130, country="FR", road="A6"),
      dict(id=14, type=T.SPEED, lat=48.60, lon=2.10, speed=48, country="FR", road="N20")]


def render(identifier, cams, **options):
    return get_exporter(identifier).render(cams, ExportOptions(**options))


# ---------------------------------------------------------------------------------------
# Countries and conversion


def test_the_exporters_mph_countries_are_the_importers():
    """exporters may not import cameras, so each has its own list: they must agree."""
    assert units.MPH_COUNTRIES == IMPORTER_MPH_COUNTRIES
    assert {"GB", "US"} <= units.MPH_COUNTRIES and not {"FR", "DE", "IE", "CA"} & units.MPH_COUNTRIES


@pytest.mark.parametrize("mph,kmh", sorted(STORED.items()))
def test_a_limit_stored_from_an_mph_source_comes_back_exactly(mph, kmh):
    assert round(mph * 1.609344) == kmh
    assert units.to_mph(np.array([kmh])).tolist() == [mph]


def test_every_mph_limit_from_5_to_100_survives_the_km_h_round_trip():
    mph = np.arange(5, 101, 5)
    stored = np.array([round(m * 1.609344) for m in mph])
    assert units.to_mph(stored).tolist() == mph.tolist()
    assert units.to_mph(np.array([0])).tolist() == [0]  # unknown stays unknown
    assert units.speeds_in(np.array([50, 0]), "kmh").tolist() == [50, 0]


def test_the_unit_of_each_camera_follows_the_option():
    cams = uk_cameras(FR)
    assert units.mph_mask(cams, "auto").tolist() == [True] * 3 + [False] * 4
    assert not units.mph_mask(cams, "kmh").any() and units.mph_mask(cams, "mph").all()
    assert units.file_unit(cams, "auto") == "kmh"  # 4 of 7 cameras in km/h
    assert units.file_unit(uk_cameras(FR[:2]), "auto") == "mph"
    assert units.file_unit(uk_cameras(FR[:3]), "auto") == "kmh"  # a tie: km/h
    with pytest.raises(ValueError, match="unknown speed unit"):
        units.mph_mask(cams, "knots")


# ---------------------------------------------------------------------------------------
# Names, file names and icons


def test_ov2_file_names_titles_and_names_are_in_mph_for_a_uk_camera(tmp_path):
    result = render("tomtom-ov2", uk_cameras(FR))
    ov2 = {f.name: f for f in result.files if f.name.endswith(".ov2")}
    assert "tomtom/Speed_cameras_30mph.ov2" in ov2 and "tomtom/Speed_cameras_70mph.ov2" in ov2
    assert "tomtom/Speed_cameras_48.ov2" in ov2  # the French 48 km/h camera stays km/h
    assert not {"tomtom/Speed_cameras_113.ov2", "tomtom/Speed_cameras_30.ov2"} & set(ov2)
    assert [p.name for p in read_ov2(ov2["tomtom/Speed_cameras_30mph.ov2"].data).pois] == ["Speed 30 mph A40"]
    assert [p.name for p in read_ov2(ov2["tomtom/Speed_cameras_48.ov2"].data).pois] == ["Speed 48 N20"]
    rows = gpsbabel_unicsv("tomtom", written(tmp_path, ov2["tomtom/Speed_cameras_70mph.ov2"]))
    assert [r["Name"] for r in rows] == ["Speed 70 mph M4"]


def test_the_speed_sign_of_a_30_mph_camera_shows_30():
    result = render("tomtom-ov2", uk_cameras(FR[:1]))
    icons = {f.name: f.data for f in result.files if f.name.endswith(".bmp")}
    sign_30 = draw_icon("fixed", 30, 22)
    assert np.array_equal(np.asarray(draw_icon("fixed-30mph", 0, 22)), np.asarray(sign_30))
    assert np.array_equal(np.asarray(draw_icon("fixed-30mph", 0, 22)), np.asarray(draw_icon("fixed-30", 0, 22)))
    assert not np.array_equal(np.asarray(draw_icon("fixed-48", 0, 22)), np.asarray(sign_30))
    # the package's icon of the 30 mph file is the 30 sign, not a 48
    from exporters.icons import to_bmp
    assert icons["tomtom/Speed_cameras_30mph.bmp"] == to_bmp(sign_30, 4)


@pytest.mark.parametrize("speed_unit,a40,n7", [("auto", "Speed 30 mph A40", "Speed 50 N7"),
                                               ("kmh", "Speed 48 A40", "Speed 50 N7"),
                                               ("mph", "Speed 30 mph A40", "Speed 31 mph N7")])
def test_names_in_every_naming_format_follow_the_option(speed_unit, a40, n7, tmp_path):
    cams = uk_cameras(FR)
    gpi = render("garmin-gpi", cams, speed_unit=speed_unit)
    gpi_names = {p.name for f in gpi.files if f.name.endswith(".gpi") for p in read_gpi(f.data).pois}
    assert {a40, n7} <= gpi_names
    kml = render("kml", cams, speed_unit=speed_unit)
    doc = next(f for f in kml.files if f.name.endswith(".kml")).data.decode()
    assert f"<name>{a40}</name>" in doc and f"<name>{n7}</name>" in doc
    geo = render("geojson", cams, speed_unit=speed_unit).files[0].data.decode()
    feats = {f["id"]: f["properties"] for f in json.loads(geo)["features"]}
    assert feats[1]["name"] == a40 and feats[11]["name"] == n7
    assert feats[1]["speed"] == 48 and feats[11]["speed"] == 50  # the feed's field stays km/h
    blau = {f.name for f in render("blaupunkt-kml", cams, speed_unit=speed_unit).files}
    a40_list = "GB_Speedcams_Fixed48.kml" if speed_unit == "kmh" else "GB_Speedcams_Fixed30mph.kml"
    assert a40_list in blau
    rows = gpsbabel_unicsv("garmin_gpi", written(tmp_path, next(f for f in gpi.files if f.name == "Speed_cameras.gpi")))
    assert {a40, n7} <= {r["Name"] for r in rows}


def test_gpi_alert_distances_come_from_the_limit_in_km_h_whatever_the_unit():
    for speed_unit in ("auto", "mph"):
        gpi = render("garmin-gpi", uk_cameras(FR), speed_unit=speed_unit)
        pois = {p.name.split()[-1]: p for f in gpi.files if f.name.endswith(".gpi") for p in read_gpi(f.data).pois}
        # 48 km/h: 300 m, 113 km/h (70 mph): 1,000 m, 90 km/h: 500 m; no alert speed
        assert (pois["A40"].proximity_m, pois["M4"].proximity_m, pois["D1"].proximity_m) == (300, 1000, 500)
        assert {p.alert.speed_cms for p in pois.values()} == {0}


def test_igo_and_navitel_keep_km_h_in_their_speed_field():
    cams = uk_cameras(FR)
    for identifier, navitel in (("igo", False), ("navitel", True)):
        for speed_unit in ("auto", "mph"):
            rows = read_speedcam(render(identifier, cams, speed_unit=speed_unit).files[0].data, navitel=navitel)
            assert sorted(r.speed for r in rows) == [0, 48, 48, 50, 90, 113, 130]


# ---------------------------------------------------------------------------------------
# One unit per file: POI Loader "@" numbers and Sygic


def poi_csv_names(result) -> dict[str, str]:
    return {row[2].rsplit("@", 1)[0]: row[2] for f in result.files if f.name.endswith(".csv")
            for row in read_poi_csv(f.data)}


def test_poi_loader_numbers_of_a_uk_package_are_mph_and_the_notes_say_statute(tmp_path):
    result = render("garmin-poi-csv", uk_cameras())
    names = poi_csv_names(result)
    assert names["Speed A40"] == "Speed A40@30" and names["Speed M4"] == "Speed M4@70"
    notes = " ".join(result.notes)
    assert "in mph" in notes and "'Statute' (miles per hour)" in notes and "Metric" not in notes
    # GPSBabel's GPI writer reads "@30" as mph when told the units are statute (units=s), as
    # POI Loader does when set to Statute: the alert speed is 30 mph (1341 cm/s)
    # (GPSBabel's garmin_poi reader keeps the quotes, so the rows go in as unicsv with a header)
    f = next(f for f in result.files if f.name == "Speed cameras.csv")
    src, out = tmp_path / "in.csv", tmp_path / "out.gpi"
    src.write_bytes(b"Longitude,Latitude,Name,Description\r\n" + f.data)
    gpsbabel("-i", "unicsv", "-f", str(src), "-o", "garmin_gpi,alerts=1,units=s", "-F", str(out))
    speeds = {p.name: p.alert.speed_cms for p in read_gpi(out.read_bytes()).pois}
    assert speeds["Speed A40@30"] == int(30 * 1609.344 / 36)  # 30 mph in cm/s, truncated as GPSBabel does
    assert speeds["Speed M4@70"] == int(70 * 1609.344 / 36)


def test_a_mixed_package_takes_the_unit_of_most_cameras_and_says_so():
    result = render("garmin-poi-csv", uk_cameras(FR))  # 3 GB, 4 FR cameras: km/h
    names = poi_csv_names(result)
    assert names["Speed A40"] == "Speed A40@48" and names["Speed N7"] == "Speed N7@50"
    notes = " ".join(result.notes)
    assert "'Metric' (kilometres per hour)" in notes
    assert "the 3 cameras from countries that post limits in mph are given in km/h too" in notes
    forced = poi_csv_names(render("garmin-poi-csv", uk_cameras(FR), speed_unit="mph"))
    assert forced["Speed A40"] == "Speed A40@30" and forced["Speed N7"] == "Speed N7@31"
    gpx = render("gpx", uk_cameras(FR[:2]))  # mostly GB: mph
    text = "".join(f.data.decode() for f in gpx.files)
    assert "<name>Speed A40@30</name>" in text and "<name>Speed N7@31</name>" in text
    assert "'Statute' (miles per hour)" in " ".join(gpx.notes)


@pytest.mark.parametrize("identifier", ["gpx", "garmin-poi-csv", "sygic", "kmz", "tomtom-ov2", "garmin-gpi"])
def test_each_camera_s_country_unit_is_looked_up_once_per_render(identifier, monkeypatch):
    """The country lookup is made by the selection; a format with one unit per file (the
    GPX and POI Loader '@' numbers, Sygic's SpeedLimitUnits) takes the majority from it
    instead of looking every camera's country up a second time. The file still takes the
    unit of most cameras (3 GB, 2 FR: mph)."""
    looked_up = []
    lookup = units.mph_countries
    monkeypatch.setattr(units, "mph_countries", lambda countries: looked_up.append(len(countries)) or
                        lookup(countries))
    result = render(identifier, uk_cameras(FR[:2]))
    assert looked_up == [5]
    if identifier == "gpx":
        assert "<name>Speed N7@31</name>" in "".join(f.data.decode() for f in result.files)


@pytest.mark.parametrize("speed_unit,cams,units_byte,a40", [
    ("auto", uk_cameras(), 1, 30), ("auto", uk_cameras(FR), 0, 48), ("mph", uk_cameras(FR), 1, 30),
    ("kmh", uk_cameras(), 0, 48)])
def test_sygic_writes_one_unit_per_file_and_says_which(speed_unit, cams, units_byte, a40):
    result = render("sygic", cams, speed_unit=speed_unit)
    db = read_sygic(result.files[0].data)
    assert {c.speed_units for c in db.cameras} == {units_byte}
    kmh = cams["speed"].tolist()  # rows in camera id order
    want = [math.floor(s / 1.609344 + 0.5) for s in kmh] if units_byte else kmh
    assert [c.speed for c in db.cameras] == want and db.cameras[0].speed == a40
    assert f"Speed limits are in {'mph' if units_byte else 'km/h'}" in " ".join(result.notes)


def test_a_sygic_exporter_given_a_unit_keeps_it():
    from exporters.plugins.sygic import SygicExporter
    db = read_sygic(SygicExporter("kmh").render(uk_cameras(), ExportOptions()).files[0].data)
    assert {c.speed_units for c in db.cameras} == {0}


@pytest.mark.parametrize("identifier", ["garmin-poi-csv", "gpx", "sygic"])
def test_sizes_stay_exact_when_a_subset_has_another_majority_unit(identifier):
    cams = uk_cameras(FR[:2] + [dict(id=21, type=T.SPEED, lat=40.7, lon=-74.0, speed=113, country="US",
                                     road="I-95", kind=Kind.MOBILE)])
    exporter = get_exporter(identifier)
    countries = cams["country"].astype(str)
    for options in (ExportOptions(), ExportOptions(mobile=True), ExportOptions(speed_unit="mph")):
        model = exporter.size_model(cams, options)
        for mask in (None, countries == "FR", countries != "FR", np.arange(len(cams)) < 4,
                     np.zeros(len(cams), bool)):
            want = sizing.rendered_sizes(exporter, cams, options, mask)
            got = model.sizes(mask)
            assert (got.files, got.notes) == (want.files, want.notes), (options, mask)


# ---------------------------------------------------------------------------------------
# Packages


def test_the_unit_changes_the_package_and_its_cache_key():
    device = get_device("tomtom-go-classic")
    keys = {cache_key("a" * 64, device, ["europe"], ExportOptions(speed_unit=u)) for u in units.UNITS + ("auto",)}
    assert len(keys) == 3
    pkg = build_package(uk_cameras(FR), device, ExportOptions(), release=RELEASE, coverage=["europe"])
    names = zipfile.ZipFile(io.BytesIO(pkg.data)).namelist()
    assert "tomtom/Speed_cameras_30mph.ov2" in names and pkg.manifest["options"]["speed_unit"] == "auto"
    assert any("each country's unit" in n for n in pkg.manifest["notes"])
    kmh = build_package(uk_cameras(FR), device, ExportOptions(speed_unit="kmh"), release=RELEASE,
                        coverage=["europe"])
    assert "tomtom/Speed_cameras_48.ov2" in zipfile.ZipFile(io.BytesIO(kmh.data)).namelist()
    assert not any("mph" in n for n in kmh.manifest["notes"])


def test_poi_loader_install_names_the_units_to_choose():
    device = get_device("garmin-poi-loader")
    for cams, unit in ((uk_cameras(), "'Statute' (miles per hour)"), (uk_cameras(FR), "'Metric' (kilometres per hour)")):
        pkg = build_package(cams, device, ExportOptions(), release=RELEASE, coverage=["europe"])
        install = zipfile.ZipFile(io.BytesIO(pkg.data)).read("INSTALL.txt").decode()
        assert "as units choose the ones named under 'What this file does'" in install
        assert unit in install


def test_csv_feed_speeds_stay_km_h():
    data = render("csv", uk_cameras(), speed_unit="mph").files[0].data.decode()
    rows = {int(r["ref"]): r for r in csv.DictReader(io.StringIO(data))}
    assert rows[1]["speed"] == "48" and rows[2]["speed"] == "113"
    assert math.isclose(float(rows[1]["lat"]), 51.52)
