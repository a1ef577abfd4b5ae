"""TomTom OV2: every camera once, in the right per-speed file, read back by GPSBabel and by an
independent reader that also checks the skipper tree."""

import csv
import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from exporters.base import CameraSet, ExportError, ExportOptions, get_exporter
from exporters.schema import CameraType as T
from exporters.schema import Kind

from .fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras
from .readers.ov2_reader import Ov2FormatError, read_ov2

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
GOLDEN = Path(__file__).parent / "golden" / "tomtom-ov2"

# Written here from the fixture's types, not from the exporter: file per kind (and speed).
FILE_PREFIX = {
    T.SPEED: "Speed_cameras", T.VARIABLE_LIMIT: "Speed_cameras", T.TUNNEL: "Speed_cameras",
    T.DISTANCE: "Speed_cameras", T.RED_LIGHT: "Red-light_cameras", T.RED_LIGHT_SPEED: "Red-light_cameras",
    T.SECTION_START: "Average-speed_sections", T.SECTION_END: "Average-speed_sections",
    T.SECTION: "Average-speed_sections", T.LEVEL_CROSSING: "Other_enforcement", T.BUS_LANE: "Other_enforcement",
    T.OTHER: "Other_enforcement", T.DANGER_ZONE: "Danger_zones",
}
PER_SPEED = {"Speed_cameras", "Red-light_cameras", "Average-speed_sections"}


def export(cams=None, **options):
    return get_exporter("tomtom-ov2").render(sample_cameras() if cams is None else cams, ExportOptions(**options))


def ov2_files(result):
    return {f.name: f for f in result.files if f.name.endswith(".ov2")}


def expected_file(row) -> str:
    if row.get("kind", Kind.FIXED) == Kind.MOBILE:
        return "tomtom/Mobile_cameras.ov2"
    prefix = FILE_PREFIX[row["type"]]
    speed = row.get("speed", 0)
    return f"tomtom/{prefix}_{speed}.ov2" if prefix in PER_SPEED and speed else f"tomtom/{prefix}.ov2"


def nearest(value: float) -> int:
    """Degrees -> OV2 units, rounded to nearest (halves away from zero), computed independently."""
    scaled = value * 100_000
    return int(scaled + 0.5) if scaled >= 0 else -int(-scaled + 0.5)


def gpsbabel_path():
    path = shutil.which("gpsbabel")
    if path is None:
        message = "gpsbabel is not installed (apt-get install gpsbabel; OV2 needs 1.8.0 or older)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def gpsbabel_read(path: Path) -> list[dict]:
    proc = subprocess.run([gpsbabel_path(), "-i", "tomtom", "-f", str(path), "-o", "unicsv", "-F", "-"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return list(csv.DictReader(io.StringIO(proc.stdout)))


def assert_same_points(expected: np.ndarray, got: np.ndarray, tol: float):
    """Unordered comparison: every expected (lon, lat) has its own read-back point within tol."""
    assert len(expected) == len(got)
    dist, idx = cKDTree(got).query(expected, p=np.inf)
    assert dist.max() <= tol + 1e-9, f"worst distance {dist.max()}"
    assert len(np.unique(idx)) == len(idx), "two cameras matched the same read-back point"


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
    assert any("2 camera name(s) had characters outside Windows-1252" in n for n in result.notes)


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
    got = []
    for name, f in ov2_files(result).items():
        path = tmp_path / Path(name).name
        path.write_bytes(f.data)
        rows = gpsbabel_read(path)
        assert len(rows) == f.count
        got += [(r["Name"], float(r["Longitude"]), float(r["Latitude"])) for r in rows]
    assert len(got) == 24
    # Names as our reader decodes them (cp1252), positions within 1e-5 degrees.
    ours = []
    for f in ov2_files(result).values():
        ours += [(p.name, p.lon, p.lat) for p in read_ov2(f.data).pois]
    assert sorted(n for n, _, _ in got) == sorted(n for n, _, _ in ours)
    expected = np.array([(r["lon"], r["lat"]) for r in SAMPLE_ROWS])
    assert_same_points(expected, np.array([(x, y) for _, x, y in got]), tol=1e-5)
    long_name = "Speed 110 Périphérique extérieur très long nom de route qui dépasse"[:64]
    assert len(long_name) == 64 and long_name in {n for n, _, _ in got}


def test_fifty_thousand_cameras_round_trip_through_gpsbabel_and_the_reader(tmp_path):
    cams = scaled_cameras(50_000)
    result = export(cams, mobile=True)
    babel, reader = [], []
    for name, f in ov2_files(result).items():
        path = tmp_path / Path(name).name
        path.write_bytes(f.data)
        babel += [(float(r["Longitude"]), float(r["Latitude"])) for r in gpsbabel_read(path)]
        reader += [(p.lon, p.lat) for p in read_ov2(f.data).pois]
    expected = np.column_stack([cams["lon"], cams["lat"]])
    assert len(babel) == len(reader) == 50_000
    assert_same_points(expected, np.array(babel), tol=1e-5)
    assert_same_points(expected, np.array(reader), tol=1e-5)


# ---------------------------------------------------------------------------------------
# Determinism and golden files


def test_rendering_twice_or_in_another_order_gives_the_same_bytes():
    cams = scaled_cameras(3_000)
    shuffled = cams.take(np.random.default_rng(5).permutation(len(cams)))
    first = [(f.name, f.data) for f in export(cams, mobile=True).files]
    assert [(f.name, f.data) for f in export(cams, mobile=True).files] == first
    assert [(f.name, f.data) for f in export(shuffled, mobile=True).files] == first


def test_the_sample_export_matches_the_golden_files():
    result = export(mobile=True)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        if GOLDEN.exists():
            for old in GOLDEN.rglob("*.ov2"):
                old.unlink()
            for old in GOLDEN.rglob("*.bmp"):
                old.unlink()
        for f in result.files:
            path = GOLDEN / f.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f.data)
    stored = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.suffix in (".ov2", ".bmp"))
    assert stored, f"{GOLDEN} is empty: run the tests with UPDATE_GOLDEN=1 and review the files"
    assert stored == sorted(f.name for f in result.files)
    for f in result.files:
        assert f.data == (GOLDEN / f.name).read_bytes(), f"{f.name} changed: if intended, UPDATE_GOLDEN=1"
