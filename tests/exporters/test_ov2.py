"""TomTom OV2: every camera once, in the right per-speed file, read back by GPSBabel and by an
independent reader that also checks the skipper tree."""

from functools import partial

import numpy as np
import pytest

from exporters.base import CameraSet, ExportError, get_exporter
from exporters.schema import CameraType as T
from exporters.schema import Kind

from . import interchange
from tests.exporters.fixtures import SAMPLE_ROWS, scaled_cameras
from tests.exporters.interchange import (assert_positions_read_back, assert_same_bytes_in_any_order, assert_same_points,
                          category_title, check_golden_files)
from .readers.ov2_reader import Ov2FormatError, read_ov2

# File per category (as in interchange.CATEGORY_TITLE, with "_" for spaces) and, for these, per speed.
PER_SPEED = {"Speed_cameras", "Red-light_cameras", "Average-speed_sections"}
OV2_NEEDS = "OV2 needs 1.8.0 or older"

export = partial(interchange.export, "tomtom-ov2")


def ov2_files(result):
    return {f.name: f for f in result.files if f.name.endswith(".ov2")}


def expected_file(row) -> str:
    """tomtom/Speed_cameras_50.ov2, in mph for GB and US: tomtom/Speed_cameras_30mph.ov2."""
    prefix = category_title(row).replace(" ", "_")
    speed = interchange.shown_speed(row).replace(" ", "")
    return f"tomtom/{prefix}_{speed}.ov2" if prefix in PER_SPEED and speed else f"tomtom/{prefix}.ov2"


def gpsbabel_read(files, tmp_path) -> list[dict]:
    return interchange.gpsbabel_read_files("tomtom", files, tmp_path, needs=OV2_NEEDS)


def nearest(value: float) -> int:
    """Degrees -> OV2 units, rounded to nearest (halves away from zero), computed independently."""
    scaled = value * 100_000
    return int(scaled + 0.5) if scaled >= 0 else -int(-scaled + 0.5)


# ---------------------------------------------------------------------------------------
# Content


def test_every_sample_camera_is_in_exactly_one_file_at_its_rounded_position():
    result = export(mobile=True)
    seen = {}
    for name, f in ov2_files(result).items():
        parsed = read_ov2(f.data)
        assert len(parsed.pois) == f.count
        for p in parsed.pois:
            seen.setdefault((p.x, p.y), []).append(name)
    assert sum(len(v) for v in seen.values()) == len(SAMPLE_ROWS) == 24
    for row in SAMPLE_ROWS:
        key = (nearest(row["lon"]), nearest(row["lat"]))
        assert seen[key] == [expected_file(row)], row["id"]


def test_speed_cameras_are_split_per_speed_and_carry_the_speed_in_the_name():
    files = ov2_files(export())
    assert "tomtom/Speed_cameras_50.ov2" in files and "tomtom/Speed_cameras_130.ov2" in files
    berlin_paris = read_ov2(files["tomtom/Speed_cameras_50.ov2"].data)
    assert sorted(p.name for p in berlin_paris.pois) == ["Speed 50 Rue de Rivoli", "Speed 50 Unter den Linden"]
    for name, f in files.items():
        stem = name.rsplit("/", 1)[1][:-4]
        speed = stem.rsplit("_", 1)[1]
        for p in read_ov2(f.data).pois:
            if speed.isdigit():
                assert f" {speed}" in p.name, (name, p.name)


def test_red_light_and_section_cameras_have_their_own_files_per_speed():
    files = ov2_files(export())
    assert [p.name for p in read_ov2(files["tomtom/Red-light_cameras_70.ov2"].data).pois] == ["Red light+speed 70 A7"]
    assert [p.name for p in read_ov2(files["tomtom/Red-light_cameras.ov2"].data).pois] == ["Red light"]
    assert sorted(p.name for p in read_ov2(files["tomtom/Average-speed_sections_70.ov2"].data).pois) == [
        "Section end 70 R0", "Section start 70 R0"]


def test_mobile_cameras_are_only_exported_when_asked():
    assert "tomtom/Mobile_cameras.ov2" not in ov2_files(export())
    mobile = ov2_files(export(mobile=True))["tomtom/Mobile_cameras.ov2"]
    assert mobile.count == 3
    assert sorted(p.name for p in read_ov2(mobile.data).pois) == ["Mobile 50", "Mobile zone M-30", "Police check"]


def test_names_are_windows_1252_and_only_letters_it_lacks_are_transliterated():
    rows = [dict(id=1, lat=51.759, lon=19.456, speed=50, road="Łódź ul. Piotrkowska"),
            dict(id=2, lat=55.75, lon=37.61, speed=60, road="Тверская"),
            dict(id=3, lat=48.1, lon=11.5, speed=30, road="Münchner Straße — Süd")]
    result = export(CameraSet.from_records(rows))
    pois = {}
    for f in ov2_files(result).values():
        for p in read_ov2(f.data).pois:
            pois[p.raw_name] = p
    assert set(pois) == {"Speed 50 Lódz ul. Piotrkowska".encode("cp1252"), b"Speed 60 Tverskaya",
                         "Speed 30 Münchner Straße — Süd".encode("cp1252")}
    assert any("2 camera names had characters outside Windows-1252" in n for n in result.notes)


def test_long_names_are_cut_and_block_lengths_count_the_bytes_written():
    rows = [dict(id=i, lat=45 + i / 1000, lon=7 + i / 1000, speed=90, road="Strada statale " + "lunghissima " * 30)
            for i in range(1, 60)]
    f = ov2_files(export(CameraSet.from_records(rows)))["tomtom/Speed_cameras_90.ov2"]
    parsed = read_ov2(f.data)  # validates every block length against the records
    assert len(parsed.pois) == 59
    assert {len(p.raw_name) for p in parsed.pois} == {64}
    assert parsed.roots[0].length == len(f.data)


def test_negative_coordinates_round_to_nearest_not_up_like_gpsbabel():
    rows = [dict(id=1, lat=-12.345678, lon=-45.678904, speed=50), dict(id=2, lat=-0.000004, lon=-0.000006, speed=50)]
    pois = read_ov2(ov2_files(export(CameraSet.from_records(rows)))["tomtom/Speed_cameras_50.ov2"].data).pois
    assert sorted((p.x, p.y) for p in pois) == sorted([(-4567890, -1234568), (-1, 0)])


def test_a_camera_without_a_valid_position_is_refused_with_its_id():
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[4]["lat"] = 91.0
    with pytest.raises(ExportError, match=r"TomTom OV2 cannot store 1 camera.*id 5 \(91\.0, 4\.351721\)"):
        export(CameraSet.from_records(rows))
    rows[4]["lat"] = float("nan")
    with pytest.raises(ExportError, match="id 5"):
        export(CameraSet.from_records(rows))


def test_an_empty_selection_gives_no_files_and_says_so():
    only_mobile = CameraSet.from_records([dict(id=1, type=T.MOBILE_CAMERA, kind=Kind.MOBILE, lat=1.0, lon=1.0)])
    result = export(only_mobile)
    assert result.files == [] and "nothing to export" in result.notes[0]


def test_the_result_says_alerts_are_not_direction_aware_and_where_the_speed_is():
    exporter = get_exporter("tomtom-ov2")
    assert (exporter.direction_aware, exporter.speed_carried_as, exporter.encoding) == (False, "file", "cp1252")
    notes = " ".join(export().notes)
    assert "not direction-aware" in notes
    assert "one file per speed limit" in notes


# ---------------------------------------------------------------------------------------
# Icons next to the files


def test_every_ov2_has_a_22_pixel_bmp_of_the_same_name_and_both_icon_sets_are_packaged():
    result = export(mobile=True)
    by_name = {f.name: f.data for f in result.files}
    for name in ov2_files(result):
        stem = name[len("tomtom/"):-len(".ov2")]
        bmp = by_name[f"tomtom/{stem}.bmp"]
        assert bmp[:2] == b"BM"
        assert int.from_bytes(bmp[18:22], "little") == 22 and int.from_bytes(bmp[22:26], "little") == 22
        assert int.from_bytes(bmp[28:30], "little") == 4
        assert bmp == by_name[f"icons/speed/{stem}.bmp"]
        if stem != "Danger_zones":  # a danger zone has the danger sign in both sets
            assert by_name[f"icons/fr-danger/{stem}.bmp"] != bmp
    assert len(result.files) == 4 * len(ov2_files(result))


def test_the_france_icon_option_puts_the_danger_sign_next_to_every_file():
    result = export(icons="fr-danger")
    by_name = {f.name: f.data for f in result.files}
    danger = by_name["icons/fr-danger/Speed_cameras_50.bmp"]
    for name in ov2_files(result):
        stem = name[len("tomtom/"):-len(".ov2")]
        assert by_name[f"tomtom/{stem}.bmp"] == by_name[f"icons/fr-danger/{stem}.bmp"] == danger


# ---------------------------------------------------------------------------------------
# Skipper tree


def test_the_skipper_tree_is_exact_for_fifty_thousand_cameras():
    result = export(scaled_cameras(50_000), mobile=True)
    total = 0
    for f in ov2_files(result).values():
        parsed = read_ov2(f.data, max_leaf=20)  # block lengths, rectangles, leaf sizes, coverage
        total += len(parsed.pois)
        assert len(parsed.roots) == 1 and parsed.roots[0].length == len(f.data)
        assert all(s.ne_first for s in parsed.skippers)  # NE corner first, as GPSBabel writes
        leaves = parsed.leaves
        assert len(parsed.skippers) == 2 * len(leaves) - 1  # a binary tree
        assert all(len(s.children) in (0, 2) for s in parsed.skippers)
        assert all(10 <= len(leaf.pois) <= 20 for leaf in leaves) or len(parsed.pois) < 10
    assert total == 50_000


def test_each_split_is_at_the_median_of_the_larger_extent():
    rows = [dict(id=i + 1, lat=10 + (i % 7) * 0.01, lon=20 + i * 0.1, speed=50) for i in range(100)]
    parsed = read_ov2(ov2_files(export(CameraSet.from_records(rows)))["tomtom/Speed_cameras_50.ov2"].data)
    root = parsed.roots[0]
    left, right = root.children
    assert len(left.all_pois()) == len(right.all_pois()) == 50  # median split
    assert left.east < right.west  # split on longitude: the larger extent (10 degrees vs 0.06)


def test_many_cameras_at_the_same_place_still_make_a_valid_tree():
    rows = [dict(id=i + 1, lat=48.0, lon=2.0, speed=50) for i in range(95)]
    parsed = read_ov2(ov2_files(export(CameraSet.from_records(rows)))["tomtom/Speed_cameras_50.ov2"].data)
    assert len(parsed.pois) == 95 and max(len(s.pois) for s in parsed.leaves) <= 20


def test_the_reader_catches_a_wrong_block_length_and_a_poi_outside_its_rectangle():
    data = bytearray(ov2_files(export())["tomtom/Speed_cameras_50.ov2"].data)
    bad_length = bytearray(data)
    bad_length[1:5] = (len(data) + 5).to_bytes(4, "little")
    with pytest.raises(Ov2FormatError, match="past the end"):
        read_ov2(bytes(bad_length))
    bad_box = bytearray(data)
    bad_box[5:9] = (100).to_bytes(4, "little", signed=True)  # east edge at 0.001 degrees
    with pytest.raises(Ov2FormatError, match="outside the rectangle"):
        read_ov2(bytes(bad_box))


# ---------------------------------------------------------------------------------------
# GPSBabel


def test_gpsbabel_reads_every_sample_camera_with_its_name(tmp_path):
    result = export(mobile=True)
    got = [(r["Name"], float(r["Longitude"]), float(r["Latitude"]))
           for r in gpsbabel_read(ov2_files(result).values(), tmp_path)]   # each file: as many as it declares
    assert len(got) == 24
    # Names as our reader decodes them (cp1252), positions within 1e-5 degrees.
    ours = []
    for f in ov2_files(result).values():
        ours += [(p.name, p.lon, p.lat) for p in read_ov2(f.data).pois]
    assert sorted(n for n, _, _ in got) == sorted(n for n, _, _ in ours)
    expected = np.array([(r["lon"], r["lat"]) for r in SAMPLE_ROWS])
    assert_same_points(expected, np.array([(x, y) for _, x, y in got]), tol=1e-5 + 1e-9)
    long_name = "Speed 110 Périphérique extérieur très long nom de route qui dépasse"[:64]
    assert len(long_name) == 64 and long_name in {n for n, _, _ in got}


def test_fifty_thousand_cameras_round_trip_through_gpsbabel_and_the_reader(tmp_path):
    cams = scaled_cameras(50_000)
    assert_positions_read_back(ov2_files(export(cams, mobile=True)).values(), "tomtom",
                               lambda f: [(p.lon, p.lat) for p in read_ov2(f.data).pois], cams, tmp_path,
                               babel_tol=1e-5 + 1e-9, reader_tol=1e-5 + 1e-9, needs=OV2_NEEDS)


# ---------------------------------------------------------------------------------------
# Determinism and golden files


def test_rendering_twice_or_in_another_order_gives_the_same_bytes():
    assert_same_bytes_in_any_order("tomtom-ov2", scaled_cameras(3_000), seed=5)


def test_the_sample_export_matches_the_golden_files():
    check_golden_files("tomtom-ov2", export(mobile=True).files, (".ov2", ".bmp"))
