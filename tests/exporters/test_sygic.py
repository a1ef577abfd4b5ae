"""Sygic offlinespeedcams.dat: read back with sqlite3 and an independent schema check (the
newer layout: Info, PairId, SpeedLimitUnits), and with what an older reader runs."""

import math
import sqlite3
from functools import partial

import pytest

from exporters.base import CameraSet, ExportOptions, get_exporter
from exporters.plugins.sygic import SygicExporter
from exporters.schema import CameraType as T
from exporters.schema import Kind

from . import interchange
from tests.exporters.fixtures import SAMPLE_ROWS, scaled_cameras
from tests.exporters.interchange import assert_same_bytes_in_any_order, assert_scaled_round_trip_in_order, golden_bytes, one_at
from .readers.igo_reader import unmatched
from .readers.sygic_reader import LEGACY_COLUMNS, SygicFormatError, dump, legacy_reads, read_sygic

# Sygic Type per camera type, names from shared/formats/sygic.md.
SYGIC_TYPE = {T.SPEED: 1, T.RED_LIGHT: 2, T.RED_LIGHT_SPEED: 6, T.SECTION_START: 4, T.SECTION_END: 4,
              T.MOBILE_ZONE: 5, T.TUNNEL: 1, T.VARIABLE_LIMIT: 1, T.DANGER_ZONE: 11, T.LEVEL_CROSSING: 2,
              T.SECTION: 4, T.MOBILE_CAMERA: 5, T.POLICE_CHECK: 9, T.DISTANCE: 14, T.BUS_LANE: 0, T.OTHER: 0,
              T.ROUTE_ENFORCEMENT: 5}
SYGIC_MOBILE_TYPE = {T.RED_LIGHT: 7, T.RED_LIGHT_SPEED: 7, T.SECTION_START: 8, T.SECTION_END: 8, T.SECTION: 8,
                     T.POLICE_CHECK: 9, T.DANGER_ZONE: 11}


def sygic_type(type_, kind, lone_section=False):
    """``lone_section``: a SECTION without an end point, written as a speed camera of its kind."""
    if lone_section:
        type_ = T.SPEED
    return SYGIC_MOBILE_TYPE.get(type_, 5) if kind == Kind.MOBILE else SYGIC_TYPE[type_]


def lone(row) -> bool:
    return row["type"] == T.SECTION and math.isnan(row.get("end_lat", math.nan))


def angle_and_both_ways(heading, mode):
    if mode == 0:
        return None, 1
    return int(math.floor(heading + 0.5)) % 360, (1 if mode == 2 else 0)


export = partial(interchange.export_single, "sygic", "offlinespeedcams.dat")


def cameras_of(**options):
    return read_sygic(export(**options).files[0].data).cameras


def sygic_fields(row, kind) -> tuple:
    """(Type, Angle, BothWays, SpeedLimit, Osm) of a camera."""
    return (sygic_type(row["type"], kind, lone(row)), *angle_and_both_ways(row.get("heading", math.nan), row.get("dir_mode", 0)),
            row.get("speed", 0), 0)


def expected_points(rows, *, mobile):
    """(lon, lat, Type, Angle, BothWays, SpeedLimit, Osm) per point written for the fixture rows."""
    return interchange.expected_points(rows, sygic_fields, mobile=mobile)


def read_points(data: bytes) -> list[tuple]:
    """(lon, lat, Type, Angle, BothWays, SpeedLimit, Osm) per row of the database, by Id; the Ids are 1..n."""
    cams = read_sygic(data).cameras
    assert [c.id for c in cams] == list(range(1, len(cams) + 1))
    return [(c.lon, c.lat, c.type, c.angle, c.both_ways, c.speed, c.osm) for c in cams]


def test_the_database_has_exactly_the_converter_schema_and_passes_the_integrity_check():
    data = export().files[0].data
    db = read_sygic(data)  # checks tables, columns, types, NOT NULL, indexes, integrity, pairs, Info
    assert db.schema == [("index", "speedcamsLatLon", "OfflineSpeedcam"), ("index", "zonesLatLon", "OfflineZone"),
                         ("table", "Info", "Info"), ("table", "OfflineSpeedcam", "OfflineSpeedcam"),
                         ("table", "OfflineZone", "OfflineZone")]
    assert db.info == (2.0, "1980-01-01 00:00:00", None)  # fixed date: same cameras, same bytes
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
    paris = one_at(cameras_of(), 2.352222, 48.856613)
    assert (paris.lat_e5, paris.lon_e5) == (4885661, 235222)
    sydney = one_at(cameras_of(), 151.209296, -33.868820)
    assert (sydney.lat_e5, sydney.lon_e5) == (-3386882, 15120930)


def test_a_one_way_camera_has_its_angle_and_is_not_both_ways():
    paris = one_at(cameras_of(), 2.352222, 48.856613)  # id 1: heading 90, one way
    assert (paris.type, paris.speed, paris.angle, paris.both_ways) == (1, 50, 90, 0)


def test_a_two_way_camera_has_its_angle_and_is_both_ways():
    berlin = one_at(cameras_of(), 13.404954, 52.520008)  # id 2: heading 270, both ways
    assert (berlin.angle, berlin.both_ways) == (270, 1)


def test_a_camera_for_all_directions_has_no_angle_and_is_both_ways():
    munich = one_at(cameras_of(), 11.576124, 48.137154)  # id 3
    assert (munich.type, munich.angle, munich.both_ways, munich.speed) == (2, None, 1, 0)


def test_a_section_object_is_two_average_speed_rows_sharing_a_pair_id():
    cams = cameras_of()
    start = one_at(cams, 12.496366, 41.902782)
    end = one_at(cams, 12.496366, 41.852782)
    for c in (start, end):
        assert (c.type, c.speed, c.angle, c.both_ways) == (4, 130, 180, 0)
    assert end.id == start.id + 1
    assert start.pair_id == end.pair_id == start.id


def test_only_the_two_rows_of_a_section_object_share_a_pair_id():
    """A section given as one object (start and end) is paired; separate start and end
    cameras (the Brussels pair, ids 5 and 6) are not known to belong together: no PairId."""
    cams = cameras_of(mobile=True)
    paired = [c for c in cams if c.pair_id is not None]
    assert [(c.id, c.pair_id, c.type) for c in paired] == [(7, 7, 4), (8, 7, 4)]
    brussels = [one_at(cams, 4.351721, 50.850346), one_at(cams, 4.381721, 50.870346)]
    assert [(c.type, c.pair_id) for c in brussels] == [(4, None), (4, None)]


def test_the_reader_refuses_a_pair_id_on_one_row_only():
    data = export().files[0].data
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.dat")
        with open(path, "wb") as fh:
            fh.write(data)
        conn = sqlite3.connect(path)
        conn.execute("UPDATE OfflineSpeedcam SET PairId = NULL WHERE Id = (SELECT max(Id) FROM OfflineSpeedcam "
                     "WHERE PairId IS NOT NULL)")
        conn.commit()
        conn.close()
        with open(path, "rb") as fh:
            broken = fh.read()
    with pytest.raises(SygicFormatError, match="PairId"):
        read_sygic(broken)


def test_section_rows_come_as_start_end_pairs_under_consecutive_ids():
    cams = cameras_of(mobile=True)
    sections = [c for c in cams if c.type in (4, 8)]
    assert [(c.lon, c.lat) for c in sections] == [(4.35172, 50.85035), (4.38172, 50.87035),
                                                  (12.49637, 41.90278), (12.49637, 41.85278)]
    assert [c.id for c in sections] == [5, 6, 7, 8]


def test_a_section_without_an_end_point_is_a_speed_camera_with_a_note():
    rows = [dict(id=1, type=T.SECTION, lat=50.0, lon=8.0, speed=100),
            dict(id=2, type=T.SECTION, lat=51.0, lon=9.0, speed=80, end_lat=51.05, end_lon=9.02),
            dict(id=3, type=T.SECTION, kind=Kind.MOBILE, lat=52.0, lon=9.0, speed=60)]
    result = export(CameraSet.from_records(rows), mobile=True)
    cams = read_sygic(result.files[0].data).cameras
    assert [(c.id, c.lat, c.lon, c.type, c.speed, c.pair_id) for c in cams] == [
        (1, 50.0, 8.0, 1, 100, None), (2, 51.0, 9.0, 4, 80, 2), (3, 51.05, 9.02, 4, 80, 2), (4, 52.0, 9.0, 5, 60, None)]
    assert result.notes[0].startswith("2 average-speed sections without a known end point are written as fixed "
                                      "speed cameras at their start")


def test_type_codes_follow_the_sygic_table():
    cams = cameras_of(mobile=True)
    types = {r["id"]: one_at(cams, r["lon"], r["lat"]).type for r in SAMPLE_ROWS}
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
    assert one_at(cams, 2.352222, 48.856613).id == 1
    assert one_at(cams, 2.34, 48.86).id == 25  # id 24, after the extra section row


def test_fifty_thousand_cameras_round_trip():
    assert_scaled_round_trip_in_order("sygic", read_points, sygic_fields, tol=0.5e-5 + 1e-12)


def test_two_renders_and_any_input_order_give_byte_identical_files():
    assert_same_bytes_in_any_order("sygic", scaled_cameras(2_000), seed=11)


def test_the_sample_export_matches_the_golden_database():
    data = export(mobile=True).files[0].data
    golden = golden_bytes("sygic", "offlinespeedcams.dat", data)
    assert dump(data) == dump(golden), "the database content changed: if intended, UPDATE_GOLDEN=1"
    # The header stores the version of the SQLite library that wrote the file (offset 96).
    golden_version = int.from_bytes(golden[96:100], "big")
    running = sqlite3.sqlite_version_info
    if golden_version != running[0] * 1_000_000 + running[1] * 1_000 + running[2]:
        pytest.skip(f"golden bytes come from SQLite {golden_version}, this is {sqlite3.sqlite_version}: "
                    f"content compared, bytes not (UPDATE_GOLDEN=1 to refresh)")
    assert data == golden


def test_speeds_are_km_h_and_every_row_says_so():
    result = export(mobile=True)
    cams = read_sygic(result.files[0].data).cameras
    assert {c.speed_units for c in cams} == {0}
    assert one_at(cams, 2.352222, 48.856613).speed == 50
    assert "Speed limits are in km/h, and the file says so (SpeedLimitUnits 0 on every camera)." in result.notes


# km/h as stored (whole numbers) -> the mph limit a driver sees on the sign
MPH = {0: 0, 32: 20, 48: 30, 64: 40, 80: 50, 96: 60, 97: 60, 112: 70, 113: 70}


def test_with_mph_the_speeds_are_mph_and_every_row_says_so():
    rows = [dict(id=i, type=T.SPEED, lat=51.0 + i / 100, lon=-1.0, speed=kmh, country="GB")
            for i, kmh in enumerate(MPH, start=1)]
    result = SygicExporter(speed_unit="mph").render(CameraSet.from_records(rows), ExportOptions())
    cams = read_sygic(result.files[0].data).cameras
    assert [c.speed for c in cams] == list(MPH.values())
    assert {c.speed_units for c in cams} == {1}
    assert result.notes[0] == "Speed limits are in mph, and the file says so (SpeedLimitUnits 1 on every camera)."
    model = SygicExporter(speed_unit="mph").size_model(CameraSet.from_records(rows), ExportOptions())
    assert model.sizes().files[0].bytes == len(result.files[0].data)


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="kmh, mph"):
        SygicExporter(speed_unit="knots")


def test_an_older_reader_still_reads_every_camera_and_can_add_its_own():
    """The 2017 converter's statements on our file: its SELECT of named columns finds every
    camera; an INSERT naming only the 2017 columns works and leaves the new columns NULL; the
    first eight columns are the 2017 ones in their order (for a reader that goes by position)."""
    data = export(mobile=True).files[0].data
    db = read_sygic(data)
    old = legacy_reads(data)
    assert sorted(old["cameras"]) == sorted((c.lat_e5, c.lon_e5, c.speed, c.type) for c in db.cameras)
    assert old["max_id"] == len(db.cameras)
    assert old["added"] == (len(db.cameras) + 1, 4000000, 300000, 1, None, 1, 50, 0, None, None)
    first = db.cameras[0]
    assert old["first_row"][:len(LEGACY_COLUMNS)] == (first.id, first.lat_e5, first.lon_e5, first.type, first.angle,
                                                      first.both_ways, first.speed, first.osm)


def test_the_plugin_describes_the_format():
    plugin = get_exporter("sygic")
    assert (plugin.file_extension, plugin.direction_aware, plugin.speed_carried_as, plugin.mobile_supported) == (
        ".dat", True, "field", True)
