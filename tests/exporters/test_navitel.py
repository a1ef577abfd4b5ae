"""Navitel SpeedCam.txt: read back with an independent parser; direction 180° from iGO."""

import math
from functools import partial

import pytest

from exporters.base import ExportOptions, get_exporter
from exporters.schema import CameraType as T
from exporters.schema import Kind

from . import interchange
from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras
from tests.exporters.interchange import assert_same_bytes_in_any_order, assert_scaled_round_trip_in_order, check_golden
from .readers.igo_reader import read_speedcam, unmatched

# Navitel TYPE per camera type: the manual lists 1 static, 4 section, 5 mobile (kind MOBILE -> 5).
SECTIONS = {T.SECTION_START, T.SECTION_END, T.SECTION}
MOBILE_TYPES = {T.MOBILE_ZONE, T.MOBILE_CAMERA, T.POLICE_CHECK}


def navitel_type(type_, kind):
    if kind == Kind.MOBILE or type_ in MOBILE_TYPES:
        return 5
    return 4 if type_ in SECTIONS else 1


export = partial(interchange.export_single, "navitel", "SpeedCam.txt")


def rows_of(**options):
    return read_speedcam(export(**options).files[0].data, navitel=True)


def navitel_direction(heading, mode):
    return (int(math.floor(heading + 0.5)) + 180) % 360 if mode else 0


def navitel_fields(row, kind) -> tuple:
    """(IDX, TYPE, SPEED, DirType, Direction) of a camera."""
    mode = int(row.get("dir_mode", 0))
    return (row["id"], navitel_type(row["type"], kind), row.get("speed", 0), mode,
            navitel_direction(row.get("heading", math.nan), mode))


def expected_points(rows, *, mobile):
    """(lon, lat, IDX, TYPE, SPEED, DirType, Direction) per point written for the fixture rows."""
    return interchange.expected_points(rows, navitel_fields, mobile=mobile)


def read_points(data: bytes) -> list[tuple]:
    """(lon, lat, IDX, TYPE, SPEED, DirType, Direction) per row of the file, in file order."""
    return [(r.lon, r.lat, r.idx, r.type, r.speed, r.dirtype, r.direction) for r in read_speedcam(data, navitel=True)]


def by_idx(rows):
    out = {}
    for r in rows:
        out.setdefault(r.idx, []).append(r)
    return out


def test_the_file_starts_with_the_navitel_header_and_uses_crlf_lines():
    data = export().files[0].data
    assert data.startswith(b"IDX,X,Y,TYPE,SPEED,DirType,Direction\r\n")
    assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n") == 23
    assert b"\r\n1,2.352222,48.856613,1,50,1,270\r\n" in data


@pytest.mark.parametrize("mobile", [False, True])
def test_every_fixture_camera_is_written_under_its_id_with_position_speed_type_and_direction(mobile):
    result = export(mobile=mobile)
    rows = read_speedcam(result.files[0].data, navitel=True)
    actual = [(r.lon, r.lat, r.idx, r.type, r.speed, r.dirtype, r.direction) for r in rows]
    missing, extra = unmatched(expected_points(SAMPLE_ROWS, mobile=mobile), actual, tol=1e-5)
    assert missing == [] and extra == []
    expected_ids = {r["id"] for r in SAMPLE_ROWS if mobile or r.get("kind", Kind.FIXED) != Kind.MOBILE}
    assert set(by_idx(rows)) == expected_ids
    assert result.files[0].count == len(rows) == len(expected_ids) + 1  # the section object is two rows


def test_the_direction_is_turned_round_180_degrees_from_the_heading():
    rows = by_idx(rows_of())
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


def test_a_section_object_is_two_type_4_rows_under_the_same_id():
    rows = by_idx(rows_of())
    section = rows[7]
    assert [(r.lon, r.lat) for r in section] == [(12.496366, 41.902782), (12.496366, 41.852782)]
    assert {(r.type, r.speed, r.dirtype, r.direction) for r in section} == {(4, 130, 1, 0)}
    assert rows[5][0].type == rows[6][0].type == 4


def test_only_the_three_documented_type_codes_are_used():
    rows = by_idx(rows_of(mobile=True))
    assert {r.type for rs in rows.values() for r in rs} == {1, 4, 5}
    assert rows[3][0].type == rows[4][0].type == rows[11][0].type == rows[12][0].type == 1
    assert rows[8][0].type == rows[13][0].type == rows[14][0].type == 5


def test_mobile_cameras_are_left_out_unless_asked():
    assert not {8, 13, 14} & set(by_idx(rows_of(mobile=False)))
    assert {8, 13, 14} <= set(by_idx(rows_of(mobile=True)))


def test_fifty_thousand_cameras_round_trip_under_their_ids():
    assert_scaled_round_trip_in_order("navitel", read_points, navitel_fields, tol=1e-6)


def test_the_same_cameras_in_any_order_give_the_same_bytes():
    assert_same_bytes_in_any_order("navitel", scaled_cameras(2_000), seed=5)


def test_the_sample_export_matches_the_golden_file():
    check_golden("navitel", "SpeedCam.txt", export(mobile=True).files[0].data)


def test_the_plugin_describes_the_format():
    plugin = get_exporter("navitel")
    assert (plugin.file_extension, plugin.encoding, plugin.direction_aware, plugin.speed_carried_as,
            plugin.mobile_supported) == (".txt", "ascii", True, "field", True)
