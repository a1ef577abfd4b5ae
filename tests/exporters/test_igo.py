"""iGO speedcam.txt: read back with an independent parser and with GPSBabel."""

import math
from functools import partial

import pytest

from exporters.base import CameraSet, ExportError, get_exporter
from exporters.schema import CameraType as T
from exporters.schema import Kind

from . import interchange
from tests.exporters.fixtures import SAMPLE_ROWS, scaled_cameras
from tests.exporters.interchange import (assert_same_bytes_in_any_order, assert_scaled_round_trip_in_order, check_golden,
                          gpsbabel_unicsv, one_at, sample)
from .readers.igo_reader import SpeedcamFormatError, read_speedcam, section_pairs, unmatched

# iGO TYPE per camera type, from shared/formats/igo-speedcam-txt.md §3 (kind MOBILE -> 5).
IGO_TYPE = {T.SPEED: 1, T.RED_LIGHT: 3, T.RED_LIGHT_SPEED: 2, T.SECTION_START: 4, T.SECTION_END: 4,
            T.MOBILE_ZONE: 5, T.TUNNEL: 1, T.VARIABLE_LIMIT: 1, T.DANGER_ZONE: 8, T.LEVEL_CROSSING: 6,
            T.SECTION: 4, T.MOBILE_CAMERA: 5, T.POLICE_CHECK: 5, T.DISTANCE: 1, T.BUS_LANE: 1, T.OTHER: 1,
            T.ROUTE_ENFORCEMENT: 5}


export = partial(interchange.export_single, "igo", "speedcam.txt")


def rows_of(**options):
    return read_speedcam(export(**options).files[0].data)


def whole_degrees(heading):
    return int(math.floor(heading + 0.5)) % 360


def lone_section(row) -> bool:
    """A SECTION without an end point: written as a fixed speed camera."""
    return row["type"] == T.SECTION and math.isnan(row.get("end_lat", math.nan))


def igo_fields(row, kind) -> tuple:
    """(TYPE, SPEED, DIRTYPE, DIRECTION) of a camera, straight from the notes."""
    code = 5 if kind == Kind.MOBILE else IGO_TYPE[T.SPEED if lone_section(row) else row["type"]]
    mode = int(row.get("dir_mode", 0))
    direction = whole_degrees(row.get("heading", math.nan)) if mode else 0
    return code, row.get("speed", 0), mode, direction


def expected_points(rows, *, mobile):
    """(lon, lat, TYPE, SPEED, DIRTYPE, DIRECTION) per point written for the fixture rows."""
    return interchange.expected_points(rows, igo_fields, mobile=mobile)


def read_points(data: bytes) -> list[tuple]:
    """(lon, lat, TYPE, SPEED, DIRTYPE, DIRECTION) per row of the file, in file order."""
    return [(r.lon, r.lat, r.type, r.speed, r.dirtype, r.direction) for r in read_speedcam(data)]


def test_the_file_starts_with_the_six_column_header_and_uses_crlf_lines():
    data = export().files[0].data
    assert data.startswith(b"X,Y,TYPE,SPEED,DIRTYPE,DIRECTION\r\n")
    assert data.endswith(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n") == 1 + 21 + 1  # header, 21 fixed cameras, one section twice
    assert b"\r\n2.352222,48.856613,1,50,1,90\r\n" in data


@pytest.mark.parametrize("mobile", [False, True])
def test_every_fixture_camera_is_written_with_its_position_speed_type_and_direction(mobile):
    result = export(mobile=mobile)
    rows = read_speedcam(result.files[0].data)
    actual = [(r.lon, r.lat, r.type, r.speed, r.dirtype, r.direction) for r in rows]
    expected = expected_points(SAMPLE_ROWS, mobile=mobile)
    missing, extra = unmatched(expected, actual, tol=1e-5)
    assert missing == [] and extra == []
    assert len(rows) == (25 if mobile else 22)
    assert result.files[0].count == len(rows)
    assert result.skipped == {}


def test_a_one_way_camera_carries_its_heading_as_the_direction():
    paris = one_at(rows_of(), 2.352222, 48.856613)  # id 1: heading 90, one way
    assert (paris.type, paris.speed, paris.dirtype, paris.direction) == (1, 50, 1, 90)
    sydney = one_at(rows_of(), 151.209296, -33.868820)  # id 18: heading 135, negative coordinates
    assert (sydney.dirtype, sydney.direction) == (1, 135)


def test_a_two_way_camera_has_dirtype_2_and_keeps_its_heading():
    berlin = one_at(rows_of(), 13.404954, 52.520008)  # id 2: heading 270, both ways
    assert (berlin.dirtype, berlin.direction) == (2, 270)
    milan = one_at(rows_of(), 9.189982, 45.464204)  # id 21: heading 0.1, both ways
    assert (milan.dirtype, milan.direction) == (2, 0)


def test_a_camera_for_all_directions_has_dirtype_0_and_direction_0():
    rows = rows_of()
    munich = one_at(rows, 11.576124, 48.137154)  # id 3: no heading
    tunnel = one_at(rows, 6.869433, 45.923697)  # id 9: no heading
    assert (munich.dirtype, munich.direction) == (0, 0)
    assert (tunnel.dirtype, tunnel.direction) == (0, 0)


def test_headings_are_rounded_half_up_to_whole_degrees_and_wrap_at_360():
    rows = rows_of()
    assert one_at(rows, 4.835659, 45.764043).direction == 13  # id 4: 12.5
    assert one_at(rows, -9.139337, 38.722252).direction == 0  # id 20: 359.9
    assert one_at(rows, -0.127758, 51.507351).direction == 0  # id 10: 0.0


def test_a_section_object_becomes_a_start_and_an_end_point_of_type_4():
    rows = rows_of()
    start = one_at(rows, 12.496366, 41.902782)  # id 7
    end = one_at(rows, 12.496366, 41.852782)
    for point in (start, end):
        assert (point.type, point.speed, point.dirtype, point.direction) == (4, 130, 1, 180)
    assert end.line == start.line + 1
    assert one_at(rows, 4.351721, 50.850346).type == 4  # id 5, section start
    assert one_at(rows, 4.381721, 50.870346).type == 4  # id 6, section end
    assert sum(r.type == 4 for r in rows) == 4


def test_section_points_come_as_start_end_pairs_on_consecutive_lines():
    pairs = section_pairs(rows_of(mobile=True))
    assert [((a.lon, a.lat), (b.lon, b.lat)) for a, b in pairs] == [
        ((4.351721, 50.850346), (4.381721, 50.870346)),    # ids 5 and 6: start, end
        ((12.496366, 41.902782), (12.496366, 41.852782)),  # id 7: its start, then its end
    ]


SECTIONS = [dict(id=1, type=T.SECTION, lat=50.0, lon=8.0, speed=100, heading=90.0, dir_mode=1),
            dict(id=2, type=T.SECTION, lat=51.0, lon=9.0, speed=80, end_lat=51.05, end_lon=9.02),
            dict(id=3, type=T.SECTION, lat=52.0, lon=9.0, speed=120),
            dict(id=4, type=T.SPEED, lat=53.0, lon=9.0, speed=50)]


def test_a_section_without_an_end_point_is_a_fixed_camera_with_a_note():
    result = export(CameraSet.from_records(SECTIONS))
    rows = read_speedcam(result.files[0].data)
    assert [(r.lon, r.lat, r.type, r.speed, r.dirtype, r.direction) for r in rows] == [
        (8.0, 50.0, 1, 100, 1, 90), (9.0, 51.0, 4, 80, 0, 0), (9.02, 51.05, 4, 80, 0, 0), (9.0, 52.0, 1, 120, 0, 0),
        (9.0, 53.0, 1, 50, 0, 0)]
    assert len(section_pairs(rows)) == 1  # no lone type-4 row that would keep the warning on
    assert result.notes[0] == ("2 average-speed sections without a known end point are written as fixed speed "
                               "cameras at their start: a lone section point would keep iGO's section warning on "
                               "until the next section camera.")
    assert result.files[0].count == 5


def test_the_pair_reader_refuses_a_lone_section_point():
    head = b"X,Y,TYPE,SPEED,DIRTYPE,DIRECTION\r\n"
    with pytest.raises(SpeedcamFormatError, match="line 2: a section point without an end point"):
        section_pairs(read_speedcam(head + b"8.000000,50.000000,4,100,0,0\r\n9.000000,50.000000,1,50,0,0\r\n"))


def test_type_codes_follow_the_igo_table():
    rows = rows_of(mobile=True)
    by_id = {i: one_at(rows, sample(i)["lon"], sample(i)["lat"]).type for i in range(1, 25)}
    assert by_id[3] == 3    # red light
    assert by_id[4] == 2    # red light + speed
    assert by_id[11] == 8   # danger zone (extended code)
    assert by_id[12] == 6   # level crossing
    assert by_id[8] == by_id[13] == by_id[14] == 5  # mobile zone, mobile camera, police check
    assert by_id[9] == by_id[10] == by_id[15] == by_id[16] == by_id[17] == 1  # tunnel, variable, distance, bus, other


def test_mobile_cameras_are_written_as_type_5_only_when_asked():
    fixed = rows_of(mobile=False)
    assert not any(r.type == 5 for r in fixed)
    for i in (8, 13, 14):
        assert not [r for r in fixed if abs(r.lon - sample(i)["lon"]) < 1e-5 and abs(r.lat - sample(i)["lat"]) < 1e-5]
    with_mobile = rows_of(mobile=True)
    madrid = one_at(with_mobile, -3.703790, 40.416775)  # id 8: a zone, written at its start
    warsaw = one_at(with_mobile, 21.012229, 52.229676)  # id 13
    assert (madrid.type, madrid.speed) == (5, 0)
    assert (warsaw.type, warsaw.speed) == (5, 50)


def test_the_result_says_what_the_format_cannot_carry():
    notes = " ".join(export(mobile=True).notes)
    assert "truck limits are not included" in notes
    assert "1 zone given as a stretch is written as one point" in notes
    assert "TYPE 8" in notes


def test_gpsbabel_reads_every_position_from_the_file(tmp_path):
    path = tmp_path / "speedcam.txt"
    path.write_bytes(export(mobile=True).files[0].data)
    read = gpsbabel_unicsv("unicsv", path)
    points = [(float(r["Longitude"]), float(r["Latitude"])) for r in read]
    expected = [p[:2] for p in expected_points(SAMPLE_ROWS, mobile=True)]
    missing, extra = unmatched(expected, points, tol=1e-5)
    assert len(points) == 25
    assert missing == [] and extra == []


def test_fifty_thousand_cameras_round_trip_in_id_order():
    assert_scaled_round_trip_in_order("igo", read_points, igo_fields, tol=1e-6)


def test_the_same_cameras_in_any_order_give_the_same_bytes():
    assert_same_bytes_in_any_order("igo", scaled_cameras(2_000), seed=3)


def test_the_sample_export_matches_the_golden_file():
    check_golden("igo", "speedcam.txt", export(mobile=True).files[0].data)


def test_a_camera_without_a_valid_position_is_refused_with_its_id():
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[2]["lat"] = float("nan")
    with pytest.raises(ExportError, match=r"iGO cannot store 1 camera\(s\) without a valid WGS84 position.*: id 3 \(nan, 11\.576124\)"):
        export(CameraSet.from_records(rows))


def test_a_one_way_camera_without_a_heading_warns_in_all_directions_and_says_so():
    cams = CameraSet.from_records([dict(id=5, lat=50.0, lon=8.0, speed=60, dir_mode=1)])
    result = export(cams)
    (row,) = read_speedcam(result.files[0].data)
    assert (row.dirtype, row.direction, row.speed) == (0, 0, 60)
    assert any("1 camera with a direction mode but no heading" in n for n in result.notes)


def test_the_plugin_describes_the_format():
    plugin = get_exporter("igo")
    assert (plugin.file_extension, plugin.encoding, plugin.direction_aware, plugin.speed_carried_as,
            plugin.mobile_supported) == (".txt", "ascii", True, "field", True)


def test_an_unknown_type_code_is_refused_with_the_camera_id():
    cams = CameraSet.from_records([dict(id=1, lat=50.0, lon=8.0), dict(id=77, lat=50.1, lon=8.1, type=42)])
    with pytest.raises(ExportError, match=r"iGO: camera type code 42 \(id 77\) has no mapping"):
        export(cams)
