"""Sygic offlinespeedcams.dat: read back with sqlite3 and an independent schema check."""

import math
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from exporters.base import ExportOptions, get_exporter
from exporters.schema import CameraType as T
from exporters.schema import Kind

from .fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras
from .readers.igo_reader import unmatched
from .readers.sygic_reader import dump, read_sygic

GOLDEN = Path(__file__).parent / "golden" / "sygic"

# Sygic Type per camera type, names from shared/formats/sygic.md.
SYGIC_TYPE = {T.SPEED: 1, T.RED_LIGHT: 2, T.RED_LIGHT_SPEED: 6, T.SECTION_START: 4, T.SECTION_END: 4,
              T.MOBILE_ZONE: 5, T.TUNNEL: 1, T.VARIABLE_LIMIT: 1, T.DANGER_ZONE: 11, T.LEVEL_CROSSING: 2,
              T.SECTION: 4, T.MOBILE_CAMERA: 5, T.POLICE_CHECK: 9, T.DISTANCE: 14, T.BUS_LANE: 0, T.OTHER: 0}
SYGIC_MOBILE_TYPE = {T.RED_LIGHT: 7, T.RED_LIGHT_SPEED: 7, T.SECTION_START: 8, T.SECTION_END: 8, T.SECTION: 8,
                     T.POLICE_CHECK: 9, T.DANGER_ZONE: 11}


def sygic_type(type_, kind):
    return SYGIC_MOBILE_TYPE.get(type_, 5) if kind == Kind.MOBILE else SYGIC_TYPE[type_]


def angle_and_both_ways(heading, mode):
    if mode == 0:
        return None, 1
    return int(math.floor(heading + 0.5)) % 360, (1 if mode == 2 else 0)


def export(cameras=None, **options):
    result = get_exporter("sygic").render(sample_cameras() if cameras is None else cameras, ExportOptions(**options))
    assert [f.name for f in result.files] == ["offlinespeedcams.dat"]
    return result


def cameras_of(**options):
    return read_sygic(export(**options).files[0].data).cameras


def expected_points(rows, *, mobile):
    """(lon, lat, Type, Angle, BothWays, SpeedLimit, Osm) per fixture row."""
    out = []
    for r in sorted(rows, key=lambda r: r["id"]):
        kind = r.get("kind", Kind.FIXED)
        if kind == Kind.MOBILE and not mobile:
            continue
        fields = (sygic_type(r["type"], kind), *angle_and_both_ways(r.get("heading", math.nan), r.get("dir_mode", 0)),
                  r.get("speed", 0), 0)
        out.append((r["lon"], r["lat"], *fields))
        if r["type"] == T.SECTION and not math.isnan(r.get("end_lat", math.nan)):
            out.append((r["end_lon"], r["end_lat"], *fields))
    return out


def camera_at(cams, lon, lat):
    found = [c for c in cams if abs(c.lon - lon) <= 1e-5 and abs(c.lat - lat) <= 1e-5]
    assert len(found) == 1, f"{len(found)} cameras at {lon},{lat}"
    return found[0]


def test_the_database_has_exactly_the_converter_schema_and_passes_the_integrity_check():
    data = export().files[0].data
    db = read_sygic(data)  # checks tables, columns, types, NOT NULL, indexes, integrity
    assert db.schema == [("index", "speedcamsLatLon", "OfflineSpeedcam"), ("index", "zonesLatLon", "OfflineZone"),
                         ("table", "OfflineSpeedcam", "OfflineSpeedcam"), ("table", "OfflineZone", "OfflineZone")]
    assert db.zones == []
    assert db.page_size == 4096
    assert data[18:20] == b"\x01\x01"  # rollback-journal file format, not WAL


@pytest.mark.parametrize("mobile", [False, True])
def test_every_fixture_camera_is_stored_with_its_position_type_speed_and_direction(mobile):
    result = export(mobile=mobile)
    cams = read_sygic(result.files[0].data).cameras
    actual = [(c.lon, c.lat, c.type, c.angle, c.both_ways, c.speed, c.osm) for c in cams]
    missing, extra = unmatched(expected_points(SAMPLE_ROWS, mobile=mobile), actual, tol=1e-5)
    assert missing == [] and extra == []
    assert result.files[0].count == len(cams) == (25 if mobile else 22)


def test_coordinates_are_degrees_times_100000_as_integers():
    paris = camera_at(cameras_of(), 2.352222, 48.856613)
    assert (paris.lat_e5, paris.lon_e5) == (4885661, 235222)
    sydney = camera_at(cameras_of(), 151.209296, -33.868820)
    assert (sydney.lat_e5, sydney.lon_e5) == (-3386882, 15120930)


def test_a_one_way_camera_has_its_angle_and_is_not_both_ways():
    paris = camera_at(cameras_of(), 2.352222, 48.856613)  # id 1: heading 90, one way
    assert (paris.type, paris.speed, paris.angle, paris.both_ways) == (1, 50, 90, 0)


def test_a_two_way_camera_has_its_angle_and_is_both_ways():
    berlin = camera_at(cameras_of(), 13.404954, 52.520008)  # id 2: heading 270, both ways
    assert (berlin.angle, berlin.both_ways) == (270, 1)


def test_a_camera_for_all_directions_has_no_angle_and_is_both_ways():
    munich = camera_at(cameras_of(), 11.576124, 48.137154)  # id 3
    assert (munich.type, munich.angle, munich.both_ways, munich.speed) == (2, None, 1, 0)


def test_a_section_object_is_two_average_speed_rows():
    cams = cameras_of()
    start = camera_at(cams, 12.496366, 41.902782)
    end = camera_at(cams, 12.496366, 41.852782)
    for c in (start, end):
        assert (c.type, c.speed, c.angle, c.both_ways) == (4, 130, 180, 0)
    assert end.id == start.id + 1


def test_type_codes_follow_the_sygic_table():
    cams = cameras_of(mobile=True)
    types = {r["id"]: camera_at(cams, r["lon"], r["lat"]).type for r in SAMPLE_ROWS}
    assert types[4] == 6     # red light + speed
    assert types[11] == 11   # danger zone -> RADAR_DANGEROUS_PLACE
    assert types[12] == 2    # level crossing -> red light
    assert types[15] == 14   # distance check
    assert types[16] == types[17] == 0  # bus lane, other -> generic
    assert types[8] == types[13] == 5 and types[14] == 9  # mobile zone, mobile camera, police check


def test_mobile_cameras_are_left_out_unless_asked():
    fixed = cameras_of(mobile=False)
    assert not {c.type for c in fixed} & {5, 7, 8, 9}
    assert len(cameras_of(mobile=True)) == len(fixed) + 3


def test_ids_are_numbered_from_1_in_camera_id_order():
    cams = cameras_of(mobile=True)
    assert [c.id for c in cams] == list(range(1, 26))
    assert camera_at(cams, 2.352222, 48.856613).id == 1
    assert camera_at(cams, 2.34, 48.86).id == 25  # id 24, after the extra section row


def test_fifty_thousand_cameras_round_trip():
    src = scaled_cameras(50_000)
    cams = read_sygic(export(src, mobile=True).files[0].data).cameras
    cols = {k: src[k].tolist() for k in ("id", "type", "kind", "lat", "lon", "speed", "dir_mode", "heading",
                                         "end_lat", "end_lon")}
    expected = []
    for i in np.argsort(cols["id"], kind="stable").tolist():
        fields = (sygic_type(T(cols["type"][i]), cols["kind"][i]),
                  *angle_and_both_ways(cols["heading"][i], cols["dir_mode"][i]), cols["speed"][i])
        expected.append((cols["lon"][i], cols["lat"][i], *fields))
        if cols["type"][i] == T.SECTION:
            expected.append((cols["end_lon"][i], cols["end_lat"][i], *fields))
    assert len(cams) == len(expected) > 50_000
    got = np.array([(c.lon, c.lat) for c in cams])
    assert np.abs(got - np.array([e[:2] for e in expected])).max() <= 0.5e-5 + 1e-12
    assert [(c.type, c.angle, c.both_ways, c.speed) for c in cams] == [e[2:] for e in expected]
    assert [c.id for c in cams] == list(range(1, len(cams) + 1))


def test_two_renders_and_any_input_order_give_byte_identical_files():
    cams = scaled_cameras(2_000)
    shuffled = cams.take(np.random.default_rng(11).permutation(len(cams)))
    first = export(cams, mobile=True).files[0].data
    assert export(cams, mobile=True).files[0].data == first
    assert export(shuffled, mobile=True).files[0].data == first


def test_the_sample_export_matches_the_golden_database():
    data = export(mobile=True).files[0].data
    path = GOLDEN / "offlinespeedcams.dat"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing: run the tests with UPDATE_GOLDEN=1 and review the diff"
    golden = path.read_bytes()
    assert dump(data) == dump(golden), "the database content changed: if intended, UPDATE_GOLDEN=1"
    # The header stores the version of the SQLite library that wrote the file (offset 96).
    golden_version = int.from_bytes(golden[96:100], "big")
    running = sqlite3.sqlite_version_info
    if golden_version != running[0] * 1_000_000 + running[1] * 1_000 + running[2]:
        pytest.skip(f"golden bytes come from SQLite {golden_version}, this is {sqlite3.sqlite_version}: "
                    f"content compared, bytes not (UPDATE_GOLDEN=1 to refresh)")
    assert data == golden


def test_the_plugin_describes_the_format():
    plugin = get_exporter("sygic")
    assert (plugin.file_extension, plugin.direction_aware, plugin.speed_carried_as, plugin.mobile_supported) == (
        ".dat", True, "field", True)
