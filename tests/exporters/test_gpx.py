"""GPX 1.1 export: read back with gpxpy, with GPSBabel and with our own feed reader."""

import math
import re
import xml.etree.ElementTree as ET

import gpxpy
import numpy as np
import pytest

from cameras.formats import get_reader
from cameras.formats.base import Record
from exporters.base import CameraSet, ExportError, ExportOptions
from exporters.common import categories, select
from exporters.interchange import split_categories
from exporters.plugins.gpx import CAMERA_NS, GPXX_NS
from exporters.schema import DirectionMode

from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras
from tests.exporters.interchange import (assert_babel_positions, assert_same_bytes_in_any_order, check_golden, expected_rows, export,
                          gpsbabel, gpsbabel_read_files, gpsbabel_unicsv, sample_name, written)
from tests.exporters.readers.gpi_reader import read_gpi

GPX = "{http://www.topografix.com/GPX/1/1}"
GPXX = "{" + GPXX_NS + "}"
SC = "{" + CAMERA_NS + "}"
FILES = ["Speed cameras.gpx", "Red-light cameras.gpx", "Average-speed sections.gpx", "Other enforcement.gpx",
         "Danger zones.gpx", "Mobile cameras.gpx"]


def files_of(**options):
    return {f.name: f for f in export("gpx", **options).files}


def waypoints(**options):
    """(file name, gpxpy waypoint) for every waypoint of every file."""
    return [(name, w) for name, f in files_of(**options).items() for w in gpxpy.parse(f.data.decode()).waypoints]


def camera_ext(wpt) -> dict:
    return next(e for e in wpt.extensions if e.tag == SC + "camera").attrib


def proximity(wpt) -> str:
    ext = next(e for e in wpt.extensions if e.tag == GPXX + "WaypointExtension")
    return ext.find(GPXX + "Proximity").text


def by_ref(**options):
    return {int(camera_ext(w)["ref"]): (name, w) for name, w in waypoints(**options)}


def test_it_writes_one_file_per_category_in_category_order_with_poi_counts():
    result = export("gpx", mobile=True)
    assert [f.name for f in result.files] == FILES
    assert [(f.category, f.count) for f in result.files] == [
        ("fixed", 12), ("red-light", 2), ("section", 3), ("other", 3), ("danger", 1), ("mobile", 3)]


def test_mobile_cameras_are_left_out_unless_asked():
    assert "Mobile cameras.gpx" not in files_of()
    refs = by_ref()
    assert sorted(refs) == [r["id"] for r in expected_rows(mobile=False)]
    assert {8, 13, 14} <= set(by_ref(mobile=True))


def test_every_file_parses_with_gpxpy_with_names_texts_and_positions():
    got = by_ref(mobile=True)
    assert sorted(got) == list(range(1, 25))
    for row in expected_rows():
        name, wpt = got[row["id"]]
        assert wpt.name == sample_name(row["id"], "kmh", speed_marker="@")  # the sample is mostly km/h: "@" in km/h
        assert (wpt.latitude, wpt.longitude) == (row["lat"], row["lon"])
        assert wpt.description == row["description"]
        assert wpt.type == name[:-4]
    paris = got[1][1]
    assert (paris.name, paris.comment, paris.symbol) == ("Speed Rue de Rivoli@50", "Speed camera, 50 km/h",
                                                         "Danger Area")
    tutor = got[7][1]
    assert tutor.comment == "Average-speed section, 130 km/h (trucks 80 km/h)"
    assert got[3][1].name == "Red light"  # no speed, no road: no "@" suffix
    assert got[24][1].name == "Speed Périphérique extérieur très long nom de route qui dépasse@110"


def test_names_end_with_the_poi_loader_speed_suffix_when_the_speed_is_known():
    for ref, (_, wpt) in by_ref(mobile=True).items():
        speed = next(r for r in SAMPLE_ROWS if r["id"] == ref).get("speed", 0)
        assert wpt.name.endswith(f"@{speed}") == bool(speed), wpt.name


def scaled_proximity(speed: int) -> str:
    """The documented rule, written out: 300 m up to 50 km/h, 500 m up to 90, 800 m up to 110,
    1,000 m above, 500 m when the limit is unknown."""
    if not speed:
        return "500"
    return "300" if speed <= 50 else "500" if speed <= 90 else "800" if speed <= 110 else "1000"


def speed_of(ref: int) -> int:
    return next(r for r in SAMPLE_ROWS if r["id"] == ref).get("speed", 0)


def test_every_waypoint_has_a_garmin_proximity_scaled_by_its_limit():
    got = {ref: proximity(w) for ref, (_, w) in by_ref(mobile=True).items()}
    assert got == {ref: scaled_proximity(speed_of(ref)) for ref in got}
    assert set(got.values()) == {"300", "500", "800", "1000"}
    assert (got[1], got[3]) == ("300", "500")   # 50 km/h; no known limit


def test_one_proximity_for_every_waypoint_when_the_option_gives_one():
    assert {proximity(w) for _, w in waypoints(mobile=True, proximity_m=250)} == {"250"}


def test_the_root_declares_gpx_garmin_and_camera_namespaces_and_no_time():
    for f in export("gpx", mobile=True).files:
        root = ET.fromstring(f.data)
        assert root.tag == GPX + "gpx" and root.get("version") == "1.1" and root.get("creator")
        text = f.data.decode()
        assert f'xmlns:gpxx="{GPXX_NS}"' in text and f'xmlns:sc="{CAMERA_NS}"' in text
        assert "<time>" not in text
        ext = root.find(f"{GPX}wpt/{GPX}extensions")
        assert [child.tag for child in ext] == [GPXX + "WaypointExtension", SC + "camera"]


def test_heading_direction_and_end_point_survive_in_the_camera_extension():
    got = by_ref(mobile=True)
    assert camera_ext(got[1][1]) == {"type": "speed", "speed": "50", "direction": "one", "ref": "1", "heading": "90"}
    assert camera_ext(got[2][1])["direction"] == "both"
    assert camera_ext(got[20][1])["heading"] == "359.9"
    assert camera_ext(got[3][1]) == {"type": "red-light", "direction": "all", "ref": "3"}
    tutor = camera_ext(got[7][1])
    assert (tutor["truck_speed"], tutor["end_lat"], tutor["end_lon"]) == ("80", "41.852782", "12.496366")
    for row in expected_rows():
        ext = camera_ext(got[row["id"]][1])
        assert ext["direction"] == {DirectionMode.ALL: "all", DirectionMode.ONE: "one",
                                    DirectionMode.BOTH: "both"}[row["dir_mode"]]
        if math.isnan(row["heading"]):
            assert "heading" not in ext
        else:
            assert float(ext["heading"]) == pytest.approx(row["heading"], abs=0.006)


def test_quotes_ampersands_and_angle_brackets_are_escaped_and_read_back_exactly():
    data = files_of()["Red-light cameras.gpx"].data
    assert b"<desc>Lyon &quot;Perrache&quot; &amp; &lt;tunnel&gt;</desc>" in data
    assert by_ref()[4][1].description == 'Lyon "Perrache" & <tunnel>'


def test_characters_xml_forbids_are_dropped_and_the_rest_is_kept():
    rows = [dict(SAMPLE_ROWS[0], description="bad\x01\x0b\x1f chars\ttab\r\nline\ud800\ufffe",
                 road="A\x00B & <C>")]
    data = export("gpx", CameraSet.from_records(rows)).files[0].data
    wpt = gpxpy.parse(data.decode()).waypoints[0]
    assert wpt.description == "bad chars\ttab\r\nline"
    assert wpt.name == "Speed AB & <C>@50"


STRAY_AT_ROADS = ["Rue@Gare", "@home", "A@B@C", "B3 @ Kassel", "x@", "@"]
STRAY_AT_NAMES = ["Speed Rue Gare@40", "Speed home@50", "Speed A B C@60", "Speed B3 Kassel@70", "Speed x@80", "Speed@90"]


def stray_at_cameras() -> CameraSet:
    return CameraSet.from_records([dict(id=i + 1, lat=50.0 + i / 10, lon=8.0, speed=40 + 10 * i, road=road,
                                        description=f"desc@{road}") for i, road in enumerate(STRAY_AT_ROADS)])


def test_a_name_has_no_at_sign_but_the_speed_marker():
    (f,) = export("gpx", stray_at_cameras()).files
    wpts = gpxpy.parse(f.data.decode()).waypoints
    assert [w.name for w in wpts] == STRAY_AT_NAMES
    assert all(w.name.count("@") == 1 and re.search(r"@\d+$", w.name) for w in wpts)
    assert [w.description for w in wpts] == [f"desc@{road}" for road in STRAY_AT_ROADS]  # not a name: kept


def test_gpsbabel_reads_the_intended_names_and_alerts_at_the_marker_speed(tmp_path):
    """GPSBabel's GPI writer follows POI Loader: what follows the first "@" of a name is the
    alert speed. From our GPX every POI gets the camera's speed (km/h)."""
    (f,) = export("gpx", stray_at_cameras()).files
    path = written(tmp_path, f)
    assert [r["Name"] for r in gpsbabel_unicsv("gpx", path)] == STRAY_AT_NAMES
    gpi = tmp_path / "cams.gpi"
    gpsbabel("-i", "gpx", "-f", str(path), "-o", "garmin_gpi,alerts=1,unique=0", "-F", str(gpi))
    pois = read_gpi(gpi.read_bytes()).pois
    speeds = {p.name: round(p.alert.speed_cms * 0.036) for p in pois}
    assert speeds == {name: 40 + 10 * i for i, name in enumerate(STRAY_AT_NAMES)}
    # the GPX proximity becomes each POI's alert distance, as POI Loader takes it
    assert {p.name: p.proximity_m for p in pois} == {name: int(scaled_proximity(40 + 10 * i))
                                                     for i, name in enumerate(STRAY_AT_NAMES)}


def test_gpsbabel_reads_every_waypoint_with_its_name_position_and_proximity(tmp_path):
    files = export("gpx", mobile=True).files
    got = {row["Name"]: row for row in gpsbabel_read_files("gpx", files, tmp_path)}
    assert len(got) == 24
    for row in expected_rows():
        read = got[sample_name(row["id"], "kmh", speed_marker="@")]
        assert abs(float(read["Latitude"]) - row["lat"]) <= 1e-6
        assert abs(float(read["Longitude"]) - row["lon"]) <= 1e-6
        assert read["Proximity"] == scaled_proximity(row.get("speed", 0)), row["id"]
        assert read["Notes"] == row["description"]  # GPSBabel shows <desc> as notes, <cmt> as description
    assert got["Speed Rue de Rivoli@50"]["Description"] == "Speed camera, 50 km/h"


def test_fifty_thousand_cameras_round_trip_through_gpsbabel(tmp_path):
    cams = scaled_cameras(50_000)
    result = export("gpx", cams, mobile=True)
    read = gpsbabel_read_files("gpx", result.files, tmp_path)  # each file: as many as it declares
    assert len(read) == 50_000
    assert_babel_positions(read, cams, tol=1e-6)


def test_our_own_gpx_reader_reads_every_waypoint_back(tmp_path):
    got = []
    for f in export("gpx", mobile=True).files:
        got += [r for r in get_reader("gpx").read(written(tmp_path, f)) if isinstance(r, Record)]
    assert len(got) == 24
    paris = next(r for r in got if abs(r.lat - 48.856613) < 1e-9)
    assert (paris.speed, paris.description) == (50, "Paris centre; Speed camera, 50 km/h")


def test_the_same_cameras_in_any_order_give_the_same_bytes():
    assert_same_bytes_in_any_order("gpx", scaled_cameras(3_000), seed=5)


@pytest.mark.parametrize("name", FILES)
def test_the_sample_export_matches_the_golden_files(name):
    check_golden("gpx", name, files_of(mobile=True)[name].data)


def test_the_fast_category_split_agrees_with_common_categories():
    for cams in (sample_cameras(), scaled_cameras(20_000)):
        cams = select(cams, ExportOptions(mobile=True))
        fast = split_categories(cams)
        slow = categories(cams, by_speed=False)
        assert [(c.slug, c.title) for c in fast] == [(c.slug, c.title) for c in slow]
        assert all(np.array_equal(a.index, b.index) for a, b in zip(fast, slow))


def test_a_camera_without_a_valid_position_is_refused_with_its_id():
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[4]["lat"] = float("nan")
    rows[6]["end_lon"] = 200.0
    with pytest.raises(ExportError, match=r"camera\(s\) 5, 7 have a position outside"):
        export("gpx", CameraSet.from_records(rows))


def test_the_notes_say_the_speed_is_in_the_name_and_alerts_are_not_direction_aware():
    notes = " ".join(export("gpx", mobile=True).notes)
    assert "limit after '@' in each name is in km/h" in notes and "300 m up to 50 km/h" in notes and "500 m when the limit is unknown" in notes
    assert "proximity alert distance (Garmin proximity extension, used by Garmin POI Loader) at 250 m." in " ".join(
        export("gpx", proximity_m=250).notes)
    assert "not direction-aware" in notes
    assert "2 sections/stretches with an end point" in notes
