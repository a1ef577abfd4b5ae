"""iGO speedcam.txt: read back with an independent parser and with GPSBabel."""

import csv
import io
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from exporters.base import ExportError, ExportOptions, get_exporter
from exporters.schema import CameraType as T
from exporters.schema import Kind

from .fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras
from .readers.igo_reader import read_speedcam, unmatched

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
GOLDEN = Path(__file__).parent / "golden" / "igo"

# iGO TYPE per camera type, from shared/formats/igo-speedcam-txt.md §3 (kind MOBILE -> 5).
IGO_TYPE = {T.SPEED: 1, T.RED_LIGHT: 3, T.RED_LIGHT_SPEED: 2, T.SECTION_START: 4, T.SECTION_END: 4,
            T.MOBILE_ZONE: 5, T.TUNNEL: 1, T.VARIABLE_LIMIT: 1, T.DANGER_ZONE: 8, T.LEVEL_CROSSING: 6,
            T.SECTION: 4, T.MOBILE_CAMERA: 5, T.POLICE_CHECK: 5, T.DISTANCE: 1, T.BUS_LANE: 1, T.OTHER: 1}


def export(cameras=None, **options):
    result = get_exporter("igo").render(sample_cameras() if cameras is None else cameras, ExportOptions(**options))
    assert [f.name for f in result.files] == ["speedcam.txt"]
    return result


def rows_of(**options):
    return read_speedcam(export(**options).files[0].data)


def whole_degrees(heading):
    return int(math.floor(heading + 0.5)) % 360


def expected_points(rows, *, mobile):
    """(lon, lat, TYPE, SPEED, DIRTYPE, DIRECTION) per fixture row, straight from the notes."""
    out = []
    for r in sorted(rows, key=lambda r: r["id"]):
        kind = r.get("kind", Kind.FIXED)
        if kind == Kind.MOBILE and not mobile:
            continue
        code = 5 if kind == Kind.MOBILE else IGO_TYPE[r["type"]]
        mode = int(r.get("dir_mode", 0))
        heading = r.get("heading", math.nan)
        direction = whole_degrees(heading) if mode else 0
        speed = r.get("speed", 0)
        out.append((r["lon"], r["lat"], code, speed, mode, direction))
        if r["type"] == T.SECTION and not math.isnan(r.get("end_lat", math.nan)):
            out.append((r["end_lon"], r["end_lat"], code, speed, mode, direction))
    return out


def row_at(rows, lon, lat):
    found = [r for r in rows if abs(r.lon - lon) <= 1e-5 and abs(r.lat - lat) <= 1e-5]
    assert len(found) == 1, f"{len(found)} rows at {lon},{lat}"
    return found[0]


def sample(id_):
    return next(r for r in SAMPLE_ROWS if r["id"] == id_)


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
    paris = row_at(rows_of(), 2.352222, 48.856613)  # id 1: heading 90, one way
    assert (paris.type, paris.speed, paris.dirtype, paris.direction) == (1, 50, 1, 90)
    sydney = row_at(rows_of(), 151.209296, -33.868820)  # id 18: heading 135, negative coordinates
    assert (sydney.dirtype, sydney.direction) == (1, 135)


def test_a_two_way_camera_has_dirtype_2_and_keeps_its_heading():
    berlin = row_at(rows_of(), 13.404954, 52.520008)  # id 2: heading 270, both ways
    assert (berlin.dirtype, berlin.direction) == (2, 270)
    milan = row_at(rows_of(), 9.189982, 45.464204)  # id 21: heading 0.1, both ways
    assert (milan.dirtype, milan.direction) == (2, 0)


def test_a_camera_for_all_directions_has_dirtype_0_and_direction_0():
    rows = rows_of()
    munich = row_at(rows, 11.576124, 48.137154)  # id 3: no heading
    tunnel = row_at(rows, 6.869433, 45.923697)  # id 9: no heading
    assert (munich.dirtype, munich.direction) == (0, 0)
    assert (tunnel.dirtype, tunnel.direction) == (0, 0)


def test_headings_are_rounded_half_up_to_whole_degrees_and_wrap_at_360():
    rows = rows_of()
    assert row_at(rows, 4.835659, 45.764043).direction == 13  # id 4: 12.5
    assert row_at(rows, -9.139337, 38.722252).direction == 0  # id 20: 359.9
    assert row_at(rows, -0.127758, 51.507351).direction == 0  # id 10: 0.0


def test_a_section_object_becomes_a_start_and_an_end_point_of_type_4():
    rows = rows_of()
    start = row_at(rows, 12.496366, 41.902782)  # id 7
    end = row_at(rows, 12.496366, 41.852782)
    for point in (start, end):
        assert (point.type, point.speed, point.dirtype, point.direction) == (4, 130, 1, 180)
    assert end.line == start.line + 1
    assert row_at(rows, 4.351721, 50.850346).type == 4  # id 5, section start
    assert row_at(rows, 4.381721, 50.870346).type == 4  # id 6, section end
    assert sum(r.type == 4 for r in rows) == 4


def test_type_codes_follow_the_igo_table():
    rows = rows_of(mobile=True)
    by_id = {i: row_at(rows, sample(i)["lon"], sample(i)["lat"]).type for i in range(1, 25)}
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
    madrid = row_at(with_mobile, -3.703790, 40.416775)  # id 8: a zone, written at its start
    warsaw = row_at(with_mobile, 21.012229, 52.229676)  # id 13
    assert (madrid.type, madrid.speed) == (5, 0)
    assert (warsaw.type, warsaw.speed) == (5, 50)


def test_the_result_says_what_the_format_cannot_carry():
    notes = " ".join(export(mobile=True).notes)
    assert "truck limits are not included" in notes
    assert "1 zone(s) given as a stretch are written as one point" in notes
    assert "TYPE 8" in notes


def gpsbabel_path():
    path = shutil.which("gpsbabel")
    if path is None:
        message = "gpsbabel is not installed (apt-get install gpsbabel)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_gpsbabel_reads_every_position_from_the_file(tmp_path):
    gpsbabel = gpsbabel_path()
    path = tmp_path / "speedcam.txt"
    path.write_bytes(export(mobile=True).files[0].data)
    proc = subprocess.run([gpsbabel, "-i", "unicsv", "-f", str(path), "-o", "unicsv", "-F", "-"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    read = list(csv.DictReader(io.StringIO(proc.stdout)))
    points = [(float(r["Longitude"]), float(r["Latitude"])) for r in read]
    expected = [p[:2] for p in expected_points(SAMPLE_ROWS, mobile=True)]
    missing, extra = unmatched(expected, points, tol=1e-5)
    assert len(points) == 25
    assert missing == [] and extra == []


def test_fifty_thousand_cameras_round_trip_in_id_order():
    cams = scaled_cameras(50_000)
    rows = read_speedcam(export(cams, mobile=True).files[0].data)
    ids, types = cams["id"].tolist(), cams["type"].tolist()
    lats, lons, speeds = cams["lat"].tolist(), cams["lon"].tolist(), cams["speed"].tolist()
    modes, headings = cams["dir_mode"].tolist(), cams["heading"].tolist()
    end_lats, end_lons, kinds = cams["end_lat"].tolist(), cams["end_lon"].tolist(), cams["kind"].tolist()
    expected = []
    for i in np.argsort(ids, kind="stable").tolist():
        code = 5 if kinds[i] == Kind.MOBILE else IGO_TYPE[T(types[i])]
        direction = whole_degrees(headings[i]) if modes[i] else 0
        expected.append((lons[i], lats[i], code, speeds[i], modes[i], direction))
        if types[i] == T.SECTION:
            expected.append((end_lons[i], end_lats[i], code, speeds[i], modes[i], direction))
    assert len(rows) == len(expected) > 50_000
    got = np.array([(r.lon, r.lat) for r in rows])
    want = np.array([e[:2] for e in expected])
    assert np.abs(got - want).max() <= 1e-6
    assert [(r.type, r.speed, r.dirtype, r.direction) for r in rows] == [e[2:] for e in expected]


def test_the_same_cameras_in_any_order_give_the_same_bytes():
    cams = scaled_cameras(2_000)
    shuffled = cams.take(np.random.default_rng(3).permutation(len(cams)))
    first = export(cams, mobile=True).files[0].data
    assert export(cams, mobile=True).files[0].data == first
    assert export(shuffled, mobile=True).files[0].data == first


def test_the_sample_export_matches_the_golden_file():
    data = export(mobile=True).files[0].data
    path = GOLDEN / "speedcam.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing: run the tests with UPDATE_GOLDEN=1 and review the diff"
    assert data == path.read_bytes(), "speedcam.txt changed: if intended, UPDATE_GOLDEN=1 and review the diff"


def test_a_camera_without_a_valid_position_is_refused_with_its_id():
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[2]["lat"] = float("nan")
    from exporters.base import CameraSet

    with pytest.raises(ExportError, match=r"iGO cannot store 1 camera\(s\) without a valid WGS84 position.*: id 3 \(nan, 11\.576124\)"):
        export(CameraSet.from_records(rows))


def test_a_one_way_camera_without_a_heading_warns_in_all_directions_and_says_so():
    from exporters.base import CameraSet

    cams = CameraSet.from_records([dict(id=5, lat=50.0, lon=8.0, speed=60, dir_mode=1)])
    result = export(cams)
    (row,) = read_speedcam(result.files[0].data)
    assert (row.dirtype, row.direction, row.speed) == (0, 0, 60)
    assert any("1 camera(s) with a direction mode but no heading" in n for n in result.notes)


def test_the_plugin_describes_the_format():
    plugin = get_exporter("igo")
    assert (plugin.file_extension, plugin.encoding, plugin.direction_aware, plugin.speed_carried_as,
            plugin.mobile_supported) == (".txt", "ascii", True, "field", True)


def test_an_unknown_type_code_is_refused_with_the_camera_id():
    from exporters.base import CameraSet

    cams = CameraSet.from_records([dict(id=1, lat=50.0, lon=8.0), dict(id=77, lat=50.1, lon=8.1, type=42)])
    with pytest.raises(ExportError, match=r"iGO: camera type code 42 \(id 77\) has no mapping"):
        export(cams)
