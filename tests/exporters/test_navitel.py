"""Navitel SpeedCam.txt: read back with an independent parser; direction 180° from iGO;
Navitel's own TYPE codes; IDX the line number from 0."""

import math
from functools import partial

import numpy as np
import pytest

from exporters.base import CameraSet, ExportOptions, get_exporter
from exporters.schema import CameraType as T
from exporters.schema import Kind

from . import interchange
from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras
from tests.exporters.interchange import assert_same_bytes_in_any_order, assert_scaled_round_trip_in_order, check_golden
from .readers.igo_reader import SpeedcamFormatError, read_speedcam, unmatched

# Navitel's TYPE codes (docs/formats/navitel.md): 1 static, 2 red light + speed, 3 red light,
# 4 section, 5 mobile, 106 other danger. Written here from the code list, not the exporter.
STATIC, RED_LIGHT_SPEED, RED_LIGHT, SECTION, MOBILE, OTHER_DANGER = 1, 2, 3, 4, 5, 106
NAVITEL_CODE = {
    T.SPEED: STATIC, T.TUNNEL: STATIC, T.VARIABLE_LIMIT: STATIC, T.DISTANCE: STATIC, T.BUS_LANE: STATIC,
    T.OTHER: STATIC, T.RED_LIGHT_SPEED: RED_LIGHT_SPEED, T.RED_LIGHT: RED_LIGHT, T.LEVEL_CROSSING: RED_LIGHT,
    T.SECTION_START: SECTION, T.SECTION_END: SECTION, T.SECTION: SECTION, T.MOBILE_ZONE: MOBILE,
    T.MOBILE_CAMERA: MOBILE, T.POLICE_CHECK: MOBILE, T.DANGER_ZONE: OTHER_DANGER,
    T.ROUTE_ENFORCEMENT: MOBILE,
}


def navitel_type(type_, kind, lone_section=False):
    """The TYPE of a camera; ``lone_section``: a SECTION without an end point (a static camera)."""
    if lone_section:
        type_ = T.SPEED
    if T(type_) == T.DANGER_ZONE:
        return OTHER_DANGER  # a danger, never announced as a camera
    return MOBILE if kind == Kind.MOBILE else NAVITEL_CODE[T(type_)]


export = partial(interchange.export_single, "navitel", "SpeedCam.txt")


def rows_of(**options):
    return read_speedcam(export(**options).files[0].data, navitel=True)


def lone(row) -> bool:
    return row["type"] == T.SECTION and math.isnan(row.get("end_lat", math.nan))


def navitel_direction(heading, mode):
    return (int(math.floor(heading + 0.5)) + 180) % 360 if mode else 0


def navitel_fields(row, kind) -> tuple:
    """(TYPE, SPEED, DirType, Direction) of a camera."""
    mode = int(row.get("dir_mode", 0))
    return (navitel_type(row["type"], kind, lone(row)), row.get("speed", 0), mode,
            navitel_direction(row.get("heading", math.nan), mode))


def expected_points(rows, *, mobile):
    """(lon, lat, TYPE, SPEED, DirType, Direction) per point written for the fixture rows, in file order."""
    return interchange.expected_points(rows, navitel_fields, mobile=mobile)


def read_points(data: bytes) -> list[tuple]:
    """(lon, lat, TYPE, SPEED, DirType, Direction) per row of the file, in file order (the
    reader checks IDX = the line number from 0)."""
    return [(r.lon, r.lat, r.type, r.speed, r.dirtype, r.direction) for r in read_speedcam(data, navitel=True)]


def by_id(rows, mobile=False):
    """The rows read back per camera id: the file is in id order, a section with an end point two rows."""
    expected = interchange.expected_points(SAMPLE_ROWS, lambda row, kind: (row["id"],), mobile=mobile)
    assert len(rows) == len(expected)
    out = {}
    for r, exp in zip(rows, expected):
        assert abs(r.lon - exp[0]) <= 1e-6 and abs(r.lat - exp[1]) <= 1e-6
        out.setdefault(exp[2], []).append(r)
    return out


def test_the_file_starts_with_the_navitel_header_and_uses_crlf_lines():
    data = export().files[0].data
    assert data.startswith(b"IDX,X,Y,TYPE,SPEED,DirType,Direction\r\n")
    assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n") == 23
    assert data.split(b"\r\n")[1] == b"0,2.352222,48.856613,1,50,1,270"


@pytest.mark.parametrize("mobile", [False, True])
def test_every_fixture_camera_is_written_with_position_speed_type_and_direction(mobile):
    result = export(mobile=mobile)
    rows = read_speedcam(result.files[0].data, navitel=True)
    actual = [(r.lon, r.lat, r.type, r.speed, r.dirtype, r.direction) for r in rows]
    missing, extra = unmatched(expected_points(SAMPLE_ROWS, mobile=mobile), actual, tol=1e-5)
    assert missing == [] and extra == []
    expected_ids = {r["id"] for r in SAMPLE_ROWS if mobile or r.get("kind", Kind.FIXED) != Kind.MOBILE}
    assert result.files[0].count == len(rows) == len(expected_ids) + 1  # the section object is two rows


@pytest.mark.parametrize("mobile", [False, True])
def test_idx_is_the_line_number_from_0_without_gaps_or_repeats(mobile):
    data = export(mobile=mobile).files[0].data
    lines = data.split(b"\r\n")[1:-1]
    assert [int(line.split(b",")[0]) for line in lines] == list(range(len(lines)))
    assert [r.idx for r in read_speedcam(data, navitel=True)] == list(range(len(lines)))


def test_the_reader_refuses_an_idx_from_1_a_gap_or_a_repeat():
    head = b"IDX,X,Y,TYPE,SPEED,DirType,Direction\r\n"
    row = b",2.352222,48.856613,1,50,1,270\r\n"
    assert len(read_speedcam(head + b"0" + row + b"1" + row, navitel=True)) == 2
    for numbers in ((1, 2), (0, 2), (0, 0)):
        with pytest.raises(SpeedcamFormatError, match="IDX"):
            read_speedcam(head + b"".join(b"%d" % n + row for n in numbers), navitel=True)


def test_the_direction_is_turned_round_180_degrees_from_the_heading():
    rows = by_id(rows_of())
    assert [(r.dirtype, r.direction) for r in rows[1]] == [(1, 270)]   # heading 90, one way
    assert [(r.dirtype, r.direction) for r in rows[2]] == [(2, 90)]    # heading 270, both ways
    assert [(r.dirtype, r.direction) for r in rows[10]] == [(1, 180)]  # heading 0
    assert [(r.dirtype, r.direction) for r in rows[20]] == [(1, 180)]  # heading 359.9 -> 0 -> 180
    assert [(r.dirtype, r.direction) for r in rows[4]] == [(1, 193)]   # heading 12.5 -> 13 -> 193
    assert [(r.dirtype, r.direction) for r in rows[18]] == [(1, 315)]  # heading 135
    assert [(r.dirtype, r.direction) for r in rows[3]] == [(0, 0)]     # all directions stay 0


def test_every_direction_is_the_igo_direction_turned_round():
    igo = read_speedcam(get_exporter("igo").render(sample_cameras(), ExportOptions(mobile=True)).files[0].data)
    navitel = rows_of(mobile=True)
    assert len(igo) == len(navitel)
    for a, b in zip(igo, navitel):
        assert (a.lon, a.lat, a.speed, a.dirtype) == (b.lon, b.lat, b.speed, b.dirtype)
        assert b.direction == ((a.direction + 180) % 360 if a.dirtype else 0)


def test_a_section_object_is_two_consecutive_type_4_rows_start_then_end():
    data = export().files[0].data
    rows = by_id(read_speedcam(data, navitel=True))
    section = rows[7]
    assert [(r.lon, r.lat) for r in section] == [(12.496366, 41.902782), (12.496366, 41.852782)]
    assert {(r.type, r.speed, r.dirtype, r.direction) for r in section} == {(4, 130, 1, 0)}
    assert section[1].idx == section[0].idx + 1  # consecutive lines, each its own IDX
    assert rows[5][0].type == rows[6][0].type == 4 and rows[6][0].idx == rows[5][0].idx + 1


def test_each_camera_type_gets_its_navitel_code():
    rows = by_id(rows_of(mobile=True), mobile=True)
    got = {i: [r.type for r in rs] for i, rs in rows.items()}
    assert got[1] == got[2] == got[9] == got[10] == [STATIC]   # speed, tunnel, variable limit
    assert got[3] == [RED_LIGHT] and got[12] == [RED_LIGHT]     # red light; level crossing (crossing on red)
    assert got[4] == [RED_LIGHT_SPEED]                          # red light + speed
    assert got[5] == got[6] == [SECTION] and got[7] == [SECTION, SECTION]
    assert got[8] == got[13] == got[14] == [MOBILE]
    assert got[11] == [OTHER_DANGER]                            # a danger zone is not a camera
    assert got[15] == got[16] == got[17] == [STATIC]            # distance, bus lane, other: no code of their own
    assert {t for ts in got.values() for t in ts} == {1, 2, 3, 4, 5, 106}


def test_red_lights_and_dangers_are_no_longer_announced_as_speed_cameras():
    cams = CameraSet.from_records([dict(id=1, type=T.RED_LIGHT, lat=50.0, lon=8.0),
                                   dict(id=2, type=T.RED_LIGHT_SPEED, lat=50.1, lon=8.0, speed=50),
                                   dict(id=3, type=T.DANGER_ZONE, lat=50.2, lon=8.0),
                                   dict(id=4, type=T.DANGER_ZONE, kind=Kind.MOBILE, lat=50.3, lon=8.0),
                                   dict(id=5, type=T.LEVEL_CROSSING, lat=50.4, lon=8.0)])
    result = export(cams, mobile=True)
    assert [r.type for r in read_speedcam(result.files[0].data, navitel=True)] == [3, 2, 106, 106, 3]
    assert not any("static" in n for n in result.notes)


def test_a_section_without_an_end_point_is_a_static_camera_with_a_note():
    cams = CameraSet.from_records([dict(id=1, type=T.SECTION, lat=50.0, lon=8.0, speed=100),
                                   dict(id=2, type=T.SECTION, lat=51.0, lon=9.0, speed=80, end_lat=51.05, end_lon=9.0),
                                   dict(id=3, type=T.SECTION, kind=Kind.MOBILE, lat=52.0, lon=9.0, speed=60)])
    result = export(cams, mobile=True)
    rows = read_speedcam(result.files[0].data, navitel=True)
    assert [(r.lat, r.type, r.speed) for r in rows] == [(50.0, STATIC, 100), (51.0, SECTION, 80),
                                                        (51.05, SECTION, 80), (52.0, MOBILE, 60)]
    assert [r.idx for r in rows] == [0, 1, 2, 3]
    assert any(n.startswith("2 average-speed sections without a known end point are written as fixed speed "
                            "cameras") for n in result.notes)


def test_mobile_cameras_are_left_out_unless_asked():
    assert len(rows_of(mobile=False)) == len(rows_of(mobile=True)) - 3
    assert {r.type for r in rows_of(mobile=False)} == {1, 2, 3, 4, 106}


def test_fifty_thousand_cameras_round_trip_in_id_order():
    assert_scaled_round_trip_in_order("navitel", read_points, navitel_fields, tol=1e-6)


def test_the_same_cameras_in_any_order_give_the_same_bytes():
    assert_same_bytes_in_any_order("navitel", scaled_cameras(2_000), seed=5)


def test_the_sample_export_matches_the_golden_file():
    check_golden("navitel", "SpeedCam.txt", export(mobile=True).files[0].data)


def test_the_plugin_describes_the_format():
    plugin = get_exporter("navitel")
    assert (plugin.file_extension, plugin.encoding, plugin.direction_aware, plugin.speed_carried_as,
            plugin.mobile_supported) == (".txt", "ascii", True, "field", True)


@pytest.mark.parametrize("n", [5, 9, 10, 11, 120, 1_234])
def test_the_size_model_counts_the_row_numbers_of_any_subset(n):
    """IDX is the line number of the subset written: its digits depend on how many rows there
    are (9 -> 10 rows, 99 -> 100 rows), so each subset is measured against a real render."""
    cams = scaled_cameras(n, seed=n)
    lone = np.random.default_rng(n).random(n) < 0.3  # sections of them without an end point
    cams.columns["end_lat"] = np.where(lone, np.nan, cams["end_lat"])
    options = ExportOptions(mobile=True)
    plugin = get_exporter("navitel")
    model = plugin.size_model(cams, options)
    rng = np.random.default_rng(n + 1)
    for mask in [None, *(rng.random(n) < p for p in (0.1, 0.5, 0.9))]:
        subset = cams if mask is None else cams.take(mask)
        result = plugin.render(subset, options)
        (f,) = result.files
        assert [(s.name, s.count, s.bytes) for s in model.sizes(mask).files] == [(f.name, f.count, f.size)]
        assert model.sizes(mask).notes == result.notes
        assert [r.idx for r in read_speedcam(f.data, navitel=True)] == list(range(f.count))
