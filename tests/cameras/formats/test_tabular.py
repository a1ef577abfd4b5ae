"""The table reader: camera lists in the wild (docs/feed-table.md).

Every file here is a small synthetic list written by the test itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cameras.formats.base import FormatError, Record, Rejection, collecting_notes, detect, get_reader
from cameras.formats.mapping import Mapping, infer, load
from cameras.formats.keywords import keyword_type
from cameras.formats.options import Session, session
from cameras.formats.tabular import preview, read_result
from cameras.models import Camera, Source
from exporters.schema import CameraType, DirectionMode, Kind


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def read(path: Path, **options) -> tuple[list[Record], list[Rejection]]:
    records, rejections = [], []
    with session(**options):
        for item in get_reader("table").read(path):
            (records if isinstance(item, Record) else rejections).append(item)
    return records, rejections


# --------------------------------------------------------------------------- header dialects

@pytest.mark.parametrize("header", [
    "latitude,longitude,speed_limit,compass_direction,camera_type",
    "Breite;Länge;Tempo;Richtung;Typ",
    "широта\tдолгота\tскорость\tнаправление\tтип",
    "LATITUD|LONGITUD|Velocidad|Rumbo|Tipo",
    "Latitudine,Longitudine,Limite,Azimut,Categoria",
    "y,x,maxspeed,bearing,type",
    "lat,lng,vitesse,cap,kind",
])
def test_each_header_dialect_maps_every_column(header, tmp_path):
    delim = next(d for d in ",;\t|" if d in header)
    row = delim.join(["48.8566", "2.3522", "50", "90", "red light"])
    path = write(tmp_path, "list.csv", f"{header}\n{row}\n")
    [rec], rejections = read(path)
    assert rejections == []
    assert (rec.line, rec.lat, rec.lon, rec.speed, rec.heading) == (2, 48.8566, 2.3522, 50, 90.0)
    assert (rec.type, rec.dir_mode) == (CameraType.RED_LIGHT, DirectionMode.ONE)
    assert detect(path).name == "table"


def test_header_names_are_compared_without_case_accents_or_punctuation():
    mapping = infer(["LÄNGE", "Breite ", "Speed-Limit", "Compass Direction", "Camera_Type", "Nr."])
    assert mapping.columns == {"lat": "Breite ", "lon": "LÄNGE", "speed": "Speed-Limit",
                               "heading": "Compass Direction", "type": "Camera_Type", "id": "Nr."}


# --------------------------------------------------------------------------- value forms

def test_quoted_decimal_commas_in_a_comma_separated_file(tmp_path):
    path = write(tmp_path, "fr.csv", 'nom,latitude,longitude\n"Radar A","48,8566","2,3522"\n')
    [rec], _ = read(path)
    assert (rec.lat, rec.lon, rec.description) == (48.8566, 2.3522, "Radar A")


@pytest.mark.parametrize("lat, lon, expected", [
    ("48°51'24\"N", "2°21'08\"E", (48.856667, 2.352222)),
    ("N 48.8566", "W 3.7038", (48.8566, -3.7038)),
    ("40 25 0 S", "3 42 14 W", (-40.416667, -3.703889)),
])
def test_dms_coordinates(lat, lon, expected, tmp_path):
    path = write(tmp_path, "dms.csv", f"lat;lon\n{lat};{lon}\n")
    [rec], rejections = read(path)
    assert rejections == []
    assert (round(rec.lat, 6), round(rec.lon, 6)) == expected


@pytest.mark.parametrize("text, degrees", [("N", 0.0), ("NE", 45.0), ("SSW", 202.5), ("w", 270.0), ("182,5", 182.5)])
def test_compass_letters_and_degrees(text, degrees, tmp_path):
    path = write(tmp_path, "h.csv", f"lat;lon;heading\n50.1;8.6;{text}\n")
    [rec], _ = read(path)
    assert rec.heading == degrees


def test_x_y_columns_are_longitude_and_latitude(tmp_path):
    path = write(tmp_path, "xy.csv", "X,Y,Name\n2.3522,48.8566,Radar\n")
    [rec], _ = read(path)
    assert (rec.lat, rec.lon) == (48.8566, 2.3522)


def test_columns_in_lon_lat_order_are_detected_from_the_values(tmp_path):
    path = write(tmp_path, "swap.csv", "lat,lon\n-122.41,37.77\n-122.42,37.78\n")
    result = read_result(path)
    assert [(r.lat, r.lon) for r in result.items] == [(37.77, -122.41), (37.78, -122.42)]
    assert "holds longitudes" in result.warnings[0]


def test_a_google_my_maps_export_with_wkt_html_and_type_in_the_name(tmp_path):
    path = write(tmp_path, "mymaps.csv",
                 'WKT,name,description\n'
                 '"POINT (-122.4194 37.7749)","Red light camera","<b>Market</b> &amp; 5th<br>25 MPH"\n'
                 '"POINT (-122.43 37.78)","Speed camera - Main St to Tunnel Ave",""\n'
                 '"LINESTRING (-122.40 37.70, -122.41 37.71, -122.42 37.72)","Average speed",""\n')
    assert detect(path).name == "table"
    records, rejections = read(path)
    assert rejections == []
    red, speed, section = records
    assert (red.lat, red.lon, red.type) == (37.7749, -122.4194, CameraType.RED_LIGHT)
    assert red.description == "Red light camera: Market & 5th 25 MPH"
    assert red.speed == 40  # 25 mph
    assert speed.type == CameraType.SPEED  # "Tunnel Ave" is a street, not a tunnel camera
    assert (section.type, section.end_lat, section.end_lon) == (CameraType.SECTION_START, 37.72, -122.42)


@pytest.mark.parametrize("text, expected", [
    ("Feu rouge", CameraType.RED_LIGHT), ("Rotlichtblitzer", CameraType.RED_LIGHT),
    ("semaforo", CameraType.RED_LIGHT), ("roodlicht", CameraType.RED_LIGHT),
    ("red light and speed", CameraType.RED_LIGHT_SPEED), ("Tronçon début", CameraType.SECTION_START),
    ("Abschnittskontrolle Ende", CameraType.SECTION_END), ("Tutor", CameraType.SECTION_START),
    ("trajectcontrole", CameraType.SECTION_START), ("Mobile speed trap", CameraType.MOBILE_CAMERA),
    ("Tunnel camera", CameraType.TUNNEL), ("bus lane camera", CameraType.BUS_LANE),
    ("school zone camera", CameraType.SPEED), ("Speed camera near Tunnel Rd", None),
    ("Speed camera - A1 to Tunnel", None), ("Elm Street", None),
    ("na czerwonym świetle", CameraType.RED_LIGHT), ("odcinkowy pomiar prędkości", CameraType.SECTION_START),
    ("redLight", CameraType.RED_LIGHT), ("averageSpeed", CameraType.SECTION_START),
    # number-plate readers and surveillance cameras enforce no speed: another kind of camera
    ("ALPR", CameraType.OTHER), ("ANPR camera", CameraType.OTHER), ("number plate reader", CameraType.OTHER),
    ("traffic_camera", CameraType.OTHER), ("CCTV", CameraType.OTHER), ("Speed camera with ANPR", None),
    # France's radar cars along listed roads: not an average-speed section
    ("Itinéraire", CameraType.ROUTE_ENFORCEMENT), ("Radar itinéraire RD 1075", CameraType.ROUTE_ENFORCEMENT),
    ("Route enforcement RN165", CameraType.ROUTE_ENFORCEMENT), ("route_enforcement", CameraType.ROUTE_ENFORCEMENT),
])
def test_types_from_words_in_the_name(text, expected):
    found = keyword_type(text, whole=False)
    assert (found if found != CameraType.SPEED or expected == CameraType.SPEED else None) == expected


def test_tunnel_in_the_type_column_is_a_tunnel_camera(tmp_path):
    path = write(tmp_path, "t.csv", "lat,lon,type,name\n50.1,8.6,tunnel,Camera at Tunnel Ave\n50.2,8.7,,Tunnel Ave\n")
    records, _ = read(path)
    assert [r.type for r in records] == [CameraType.TUNNEL, CameraType.SPEED]


def test_a_mobile_camera_is_of_kind_mobile(tmp_path):
    [rec], _ = read(write(tmp_path, "m.csv", "lat,lon,name\n50.1,8.6,Mobiler Blitzer\n"))
    assert (rec.type, rec.kind) == (CameraType.MOBILE_CAMERA, Kind.MOBILE)


def test_speed_markers_in_names(tmp_path):
    path = write(tmp_path, "n.csv", "lat,lon,name\n50.1,8.6,Blitzer @50\n50.2,8.7,Radar 70 km/h\n50.3,8.8,Camera\n")
    records, _ = read(path)
    assert [r.speed for r in records] == [50, 70, None]


def test_a_number_that_lost_its_decimal_point_is_rejected_not_scaled(tmp_path):
    path = write(tmp_path, "lost.csv", "latitude;longitude\n4885660;2,3522\n48,8566;2,3522\n")
    records, [rejection] = read(path)
    assert [r.line for r in records] == [3]
    assert rejection.line == 2
    assert "latitude '4885660' has no decimal point" in rejection.reason
    assert "lost its decimal point" in rejection.reason


def test_bad_values_are_listed_rejections(tmp_path):
    path = write(tmp_path, "bad.csv", "lat,lon,speed,heading\nabc,8.6,50,\n50.1,8.6,fast,\n50.1,8.6,50,up\n"
                                      "50.1,8.6,50,90,extra\n")
    records, rejections = read(path)
    assert records == []
    assert [(r.line, r.reason) for r in rejections] == [
        (2, "latitude 'abc' is not a number or degrees/minutes/seconds such as 48°51'24\"N"),
        (3, "speed 'fast' is not a speed (e.g. 50, '50 km/h' or '30 mph')"),
        (4, "heading 'up' is not a direction in degrees 0-359, a compass point (N, NE, SSW...) or a direction "
            "word (NB, northbound, 北上...); give it a heading in the [headings] table of a --map file"),
        (5, "expected 4 fields as in the header, got 5"),
    ]


def test_a_list_without_position_columns_is_refused_with_how_to_fix(tmp_path):
    with pytest.raises(FormatError, match=r"no latitude/longitude columns found among foo, bar.*--map"):
        read(write(tmp_path, "x.csv", "foo,bar\n1,2\n"))


# --------------------------------------------------------------------------- JSON and GeoJSON

def test_a_plain_json_list_of_objects(tmp_path):
    path = write(tmp_path, "list.json", json.dumps([
        {"id": 7, "latitude": "52.52", "longitude": 13.405, "speed_limit": 50, "camera_type": "Rotlicht"},
        {"id": 8, "latitude": 52.53, "longitude": 13.41},
        "junk",
    ]))
    assert detect(path).name == "table"
    records, [rejection] = read(path)
    assert [(r.ref, r.lat, r.speed, r.type) for r in records] == [
        ("7", 52.52, 50, CameraType.RED_LIGHT), ("8", 52.53, None, CameraType.SPEED)]
    assert (rejection.line, rejection.reason) == (3, "item is a JSON str, not an object with named values")


def test_geojson_with_foreign_property_names_goes_to_the_table_reader(tmp_path):
    foreign = write(tmp_path, "f.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
         "properties": {"maxspeed": "30 mph", "name": "Feu rouge"}}]}))
    assert detect(foreign).name == "table"
    [rec], _ = read(foreign)
    assert (rec.lat, rec.lon, rec.speed, rec.type) == (48.85, 2.35, 48, CameraType.RED_LIGHT)
    own = write(tmp_path, "own.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
         "properties": {"speed": 50, "type": "speed"}}]}))
    assert detect(own).name == "geojson"


def test_the_project_csv_is_still_detected_as_csv(tmp_path):
    for content in ("lat,lon,speed\n50.1,8.6,50\n", "REF;TYPE;LAT;LON\nx;1;50,1;8,6\n"):
        assert detect(write(tmp_path, "own.csv", content)).name == "csv"
    assert get_reader("table").sniff(b"lat,lon,speed\n50.1,8.6,50\n", Path("x.csv")) == 30


# --------------------------------------------------------------------------- speed units

def test_speeds_in_an_mph_country_are_converted(tmp_path):
    path = write(tmp_path, "gb.csv", "lat,lon,speed\n51.50,-0.12,30\n51.51,-0.13,40\n")
    records, _ = read(path)
    assert [r.speed for r in records] == [48, 64]
    assert [r.speed for r in read(path, speed_unit="kmh")[0]] == [30, 40]


def test_a_km_h_country_keeps_km_h_and_warns_when_values_look_like_mph(tmp_path):
    path = write(tmp_path, "de.csv", "lat,lon,speed\n50.1,8.6,25\n50.2,8.7,35\n50.3,8.8,45\n")
    result = read_result(path)
    assert [r.speed for r in result.items] == [25, 35, 45]
    assert result.unit == "kmh"
    assert "look like mph" in result.warnings[0]
    converted = read_result(path, Session(speed_unit="mph"))
    assert [r.speed for r in converted.items] == [40, 56, 72]


def test_a_unit_in_the_value_wins_over_the_source_unit(tmp_path):
    path = write(tmp_path, "u.csv", "lat,lon,speed\n51.50,-0.12,50 km/h\n51.51,-0.13,30\n")
    assert [r.speed for r in read(path)[0]] == [50, 48]


# --------------------------------------------------------------------------- mapping files

MAP = """
id = "Nummer"
speed_unit = "mph"
[columns]
lat = "N"
lon = "E"
speed = "V"
type = "Art"
[types]
"G" = "red-light"
[type_patterns]
"^abs" = "section-start"
"""


def test_a_mapping_file_names_columns_id_unit_and_types(tmp_path):
    mapping = load(write(tmp_path, "map.toml", MAP))
    path = write(tmp_path, "odd.csv", "Nummer,N,E,V,Art\nA1,50.1,8.6,30,g\nA2,50.2,8.7,40,Abschnitt\nA3,50.3,8.8,,\n")
    assert get_reader("csv").sniff(path.read_bytes(), path) == 0
    records, rejections = read(path, mapping=mapping)
    assert rejections == []
    assert [(r.ref, r.lat, r.speed, r.type) for r in records] == [
        ("A1", 50.1, 48, CameraType.RED_LIGHT), ("A2", 50.2, 64, CameraType.SECTION_START),
        ("A3", 50.3, None, CameraType.SPEED)]


@pytest.mark.parametrize("content, message", [
    ("[columns]\nlat = \"a\"\n", "name both lat and lon"),
    ("[columns]\nlatitude = \"a\"\n", "unknown field(s) in [columns]: 'latitude'"),
    ("speed_unit = \"knots\"\n", "speed_unit 'knots' is not one of kmh, mph, auto"),
    ("[types]\n\"x\" = \"laser\"\n", "type 'laser' is not a camera type; valid: speed"),
    ("[type_patterns]\n\"(\" = \"speed\"\n", "is not a regular expression"),
    ("colums = 1\n", "unknown key(s) 'colums'"),
    ("[columns\n", "not valid TOML"),
    ("[defaults]\ntype = \"laser\"\n", "[defaults] type: type 'laser' is not a camera type"),
    ("[defaults]\nspeed = 50\n", "unknown key(s) in [defaults]: 'speed'; valid: type"),
    ("[headings]\n\"Dir 1\" = \"up\"\n", "[headings] 'Dir 1' = 'up' is not degrees (0-359) or a direction"),
    ("[headings]\n\"Dir 1\" = true\n", "[headings] 'Dir 1' must be degrees"),
    ("[columns]\nlat = [\"a\", \"b\"]\n", "[columns] lat must be a column name in quotes, got"),
])
def test_a_bad_mapping_file_is_refused_with_the_reason(content, message, tmp_path):
    with pytest.raises(FormatError) as err:
        load(write(tmp_path, "map.toml", content))
    assert message in str(err.value)


def test_a_mapping_naming_a_missing_column_is_refused(tmp_path):
    mapping = load(write(tmp_path, "map.toml", '[columns]\nlat = "B"\nlon = "L"\n'))
    with pytest.raises(FormatError, match="names column 'B' for lat, which this file lacks; its columns are: x, y"):
        read(write(tmp_path, "a.csv", "x,y\n1,2\n"), mapping=mapping)


# --------------------------------------------------------------------------- the command

PARIS_LIST = "Nummer,N,E,V,Art\nP1,48.8566,2.3522,50,G\nP2,48.8606,2.3376,30,\n"


@pytest.mark.django_db
def test_preview_prints_the_mapping_and_rows_and_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, "p.csv", "latitude,longitude,speed_limit,camera_type\n48.8566,2.3522,50,red light\n"
                                    "4885660,2.35,50,\n")
    call_command("import_cameras", str(path), "--source", "wild", "--preview")
    out = capsys.readouterr().out
    assert "lat <- 'latitude', lon <- 'longitude', speed <- 'speed_limit', type <- 'camera_type'" in out
    assert "48.856600   2.352200     red-light" in out
    assert "per type: red-light 1" in out
    assert "rejected p.csv:3: latitude '4885660' has no decimal point" in out
    assert Camera.objects.count() == 0
    assert not Source.objects.filter(name="wild").exists()


@pytest.mark.django_db
def test_the_mapping_is_stored_and_used_by_re_imports(tmp_path):
    map_file = write(tmp_path, "map.toml", MAP.replace('speed_unit = "mph"', 'speed_unit = "kmh"'))
    path = write(tmp_path, "paris.csv", PARIS_LIST)
    call_command("import_cameras", str(path), "--source", "paris", "--map", str(map_file))
    stored = Source.objects.get(name="paris").table_mapping
    assert stored["columns"] == {"id": "Nummer", "lat": "N", "lon": "E", "speed": "V", "type": "Art"}
    assert stored["types"] == {"G": "red-light"}
    assert set(Camera.objects.values_list("source_ref", "speed", "type")) == {
        ("P1", 50, CameraType.RED_LIGHT), ("P2", 30, CameraType.SPEED)}
    # the next file has no --map: the stored mapping reads it (ids, speeds, types)
    path.write_text("Nummer,N,E,V,Art\nP1,48.8566,2.3522,70,G\nP2,48.8606,2.3376,30,\n", encoding="utf-8")
    call_command("import_cameras", str(path), "--source", "paris")
    assert set(Camera.objects.values_list("source_ref", "speed", "type")) == {
        ("P1", 70, CameraType.RED_LIGHT), ("P2", 30, CameraType.SPEED)}
    assert Camera.objects.count() == 2


@pytest.mark.django_db
def test_a_dry_run_stores_no_mapping(tmp_path):
    path = write(tmp_path, "list.csv", "latitude,longitude\n48.8566,2.3522\n")
    call_command("import_cameras", str(path), "--source", "dry", "--dry-run")
    assert Source.objects.filter(name="dry", table_mapping__isnull=False).count() == 0


@pytest.mark.django_db
def test_a_bad_mapping_file_is_a_command_error(tmp_path):
    path = write(tmp_path, "list.csv", "latitude,longitude\n48.8566,2.3522\n")
    with pytest.raises(CommandError, match="no such mapping file"):
        call_command("import_cameras", str(path), "--source", "x", "--map", str(tmp_path / "none.toml"))


def test_preview_without_django(tmp_path):
    text = preview(write(tmp_path, "a.csv", "lat;lon;richtung\n50,1;8,6;NE\n"))
    assert "per heading: NE 1" in text
    assert text.endswith("nothing was written (preview)")


def _readme_blocks() -> list[str]:
    """The fenced blocks of the README's table reader example (the list, its mapping, the preview)."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    part = readme[readme.index("A list with its own headers, its mapping file and `--preview`"):]
    return [block.split("\n", 1)[1] for block in part.split("```")[1:6:2]]


@pytest.mark.django_db
def test_the_readme_example_is_what_preview_prints_and_imports(tmp_path, capsys):
    listing, mapping, printed = _readme_blocks()
    path = write(tmp_path, "blitzer.csv", listing)
    map_file = write(tmp_path, "blitzer.toml", mapping)
    with pytest.raises(CommandError, match="no latitude/longitude columns found"):
        call_command("import_cameras", str(path), "--source", "london", "--preview")
    call_command("import_cameras", str(path), "--source", "london", "--map", str(map_file), "--preview")
    assert capsys.readouterr().out == printed
    call_command("import_cameras", str(path), "--source", "london", "--map", str(map_file))
    assert sorted(Camera.objects.values_list("source_ref", "type", "kind", "speed", "heading", "road")) == [
        ("A-17", CameraType.RED_LIGHT, Kind.FIXED, 48, 180.0, "Whitehall"),
        ("A-18", CameraType.SPEED, Kind.FIXED, 32, 0.0, "Parliament Street"),
        ("B-02", CameraType.SECTION_START, Kind.FIXED, 80, 270.0, "A4 Bath Road"),
        ("B-03", CameraType.SECTION_END, Kind.FIXED, 80, 270.0, "A4 Great West Road"),
        ("C-11", CameraType.MOBILE_CAMERA, Kind.MOBILE, 64, None, "A406 North Circular")]


def test_an_html_entity_cut_by_the_semicolon_is_one_field_again(tmp_path):
    path = write(tmp_path, "amp.csv", "Breite;Länge;Bezeichnung;Nr\n50,1;8,6;<b>Radar</b> &amp; feu;1\n"
                                      "50,2;8,7;Radar &#233;t&eacute;;2\n50,3;8,8;Radar;3;extra\n")
    result = read_result(path, Session())
    assert [(r.line, r.ref, r.description) for r in result.items if isinstance(r, Record)] == [
        (2, "1", "Radar & feu"), (3, "2", "Radar été")]
    assert [(r.line, r.reason) for r in result.items if isinstance(r, Rejection)] == [
        (4, "expected 4 fields as in the header, got 5")]
    assert result.warnings == ["2 row(s) had an HTML entity such as &amp; cut in two by the ';' delimiter; "
                               "its parts were read as one field"]


def test_line_numbers_after_a_field_with_line_breaks(tmp_path):
    path = write(tmp_path, "multi.csv", 'lat,lon,name\n50.1,8.6,"two\nlines"\n\n50.2,8.7,x\n500,8.8,y\n')
    result = read_result(path, Session())
    assert [(r.line, r.description) for r in result.items if isinstance(r, Record)] == [
        (2, "two lines"), (5, "x")]
    assert [r.line for r in result.items if isinstance(r, Rejection)] == [6]


def test_a_stray_quote_rejects_its_row_and_the_next_rows_are_read(tmp_path):
    path = write(tmp_path, "stray.csv", 'Breite;Länge;Name\n50,1;8,6;"Radar A\n50,2;8,7;Radar B\n50,3;8,8;Radar C\n')
    result = read_result(path, Session())
    assert [(r.line, r.description) for r in result.items if isinstance(r, Record)] == [
        (3, "Radar B"), (4, "Radar C")]
    assert [(r.line, r.reason[:40]) for r in result.items if isinstance(r, Rejection)] == [
        (2, 'a quote (") opens a field on this line a')]


def test_distinct_values_are_parsed_once_and_rows_keep_their_own(tmp_path):
    rows = [f"{50 + i / 1000:.4f};{8 + i / 1000:.4f};{('30', '50 km/h', '')[i % 3]};{('N', '', 'SSW')[i % 3]};"
            f"{('Feu rouge', 'Radar', 'Radar mobile')[i % 3]};" + ("x" * 600 if i == 4 else "") for i in range(9)]
    path = write(tmp_path, "many.csv", "lat;lon;speed;heading;name;description\n" + "\n".join(rows) + "\n")
    records = [r for r in read_result(path, Session()).items if isinstance(r, Record)]
    assert [(r.speed, r.heading, CameraType(r.type).slug, Kind(r.kind).name) for r in records[:3]] == [
        (30, 0.0, "red-light", "FIXED"), (50, None, "speed", "FIXED"), (None, 202.5, "mobile-camera", "MOBILE")]
    assert [r.lat for r in records] == [50 + i / 1000 for i in range(9)]
    assert [len(r.description) for r in records] == [9, 5, 12, 9, 500, 12, 9, 5, 12]
    assert records[4].notes == ["description cut from 607 to 500 characters"] and records[3].notes == []
    records[0].notes.append("mine")
    assert records[3].notes == []  # every record has its own notes list


def test_a_legacy_encoded_header_is_recognised_by_auto_detection(tmp_path):
    path = tmp_path / "blitzer-cp1252.csv"
    path.write_bytes("Breite;Länge;Straße\n50,1;8,6;Hauptstraße\n".encode("cp1252"))
    assert detect(path).name == "table"
    records, rejections = read(path)
    assert rejections == []
    assert [(r.lat, r.lon, r.road) for r in records] == [(50.1, 8.6, "Hauptstraße")]


def test_letters_without_a_decomposition_are_folded_in_header_names():
    assert infer(["Szerokość", "Długość", "Prędkość", "Droga", "Rodzaj urządzenia"]).columns == {
        "lat": "Szerokość", "lon": "Długość", "speed": "Prędkość", "road": "Droga", "type": "Rodzaj urządzenia"}


# --------------------------------------------------------------------------- directions in words

@pytest.mark.parametrize("text, heading, mode", [
    ("NB", 0.0, DirectionMode.ONE), ("Eastbound", 90.0, DirectionMode.ONE), ("S/B", 180.0, DirectionMode.ONE),
    ("Richtung Norden", 0.0, DirectionMode.ONE), ("direction ouest", 270.0, DirectionMode.ONE),
    ("hacia el sur", 180.0, DirectionMode.ONE), ("北上", 0.0, DirectionMode.ONE),
    ("EB/WB", 90.0, DirectionMode.BOTH), ("northbound and southbound", 0.0, DirectionMode.BOTH),
    ("東西雙向", 90.0, DirectionMode.BOTH), ("NB/EB", None, DirectionMode.ALL), ("both", None, DirectionMode.ALL),
])
def test_heading_words_and_two_way_values_in_a_heading_column(text, heading, mode, tmp_path):
    [rec], rejections = read(write(tmp_path, "h.csv", f"lat;lon;heading\n50.1;8.6;{text}\n"))
    assert rejections == []
    assert (rec.heading, rec.dir_mode) == (heading, mode)


def test_a_headings_table_gives_the_words_no_list_knows(tmp_path):
    mapping = load(write(tmp_path, "map.toml", '[columns]\nheading = "Richtung"\n'
                                               '[headings]\n"Stadtauswärts" = 45\n"beidseitig A-B" = "NE/SW"\n'
                                               '"Dir 2" = "all"\n"1" = "S"\n'))
    path = write(tmp_path, "h.csv", "lat;lon;Richtung\n50.1;8.6;stadtauswärts\n50.2;8.6;beidseitig A-B\n"
                                    "50.3;8.6;Dir 2\n50.4;8.6;1\n50.5;8.6;2\n")
    records, rejections = read(path, mapping=mapping)
    assert rejections == []
    # the table first (even for a number: "1" is south here), then the usual rules ("2": 2 degrees)
    assert [(r.heading, r.dir_mode) for r in records] == [
        (45.0, DirectionMode.ONE), (45.0, DirectionMode.BOTH), (None, DirectionMode.ALL),
        (180.0, DirectionMode.ONE), (2.0, DirectionMode.ONE)]


def test_several_columns_read_as_one_heading(tmp_path):
    mapping = load(write(tmp_path, "map.toml", '[columns]\nheading = ["FIRST", "SECOND"]\nroad = ["Main", "Side"]\n'))
    path = write(tmp_path, "a.csv", "lat,lon,FIRST,SECOND,Main,Side\n41.9,-87.7,EB,WB,Foster Ave,Pulaski Rd\n"
                                    "41.8,-87.6,NB,,Western Ave,\n")
    result = read_result(path, Session(mapping=mapping))
    assert [(r.heading, r.dir_mode, r.road) for r in result.items] == [
        (90.0, DirectionMode.BOTH, "Foster Ave / Pulaski Rd"), (0.0, DirectionMode.ONE, "Western Ave")]
    # the mapping keeps the column names (as stored on the source), not the joined column
    assert result.mapping.columns["heading"] == ["FIRST", "SECOND"]
    assert Mapping.from_dict(result.mapping.to_dict()).columns["road"] == ["Main", "Side"]


def test_an_unknown_word_in_a_heading_column_is_a_rejection_naming_the_headings_table(tmp_path):
    records, [rejection] = read(write(tmp_path, "h.csv", "lat;lon;bearing\n50.1;8.6;90\n50.2;8.6;uphill\n"))
    assert [r.heading for r in records] == [90.0]
    assert "heading 'uphill' is not a direction" in rejection.reason and "[headings]" in rejection.reason


def test_a_direction_column_holding_other_words_is_kept_as_text(tmp_path):
    path = write(tmp_path, "d.csv", "lat;lon;direction\n53.8;-1.5;towards Leeds\n53.9;-1.1;towards York\n"
                                    "53.7;-1.4;N\n")
    result = read_result(path)
    assert [(r.heading, r.description) for r in result.items] == [
        (None, "towards Leeds"), (None, "towards York"), (None, "N")]
    assert "column 'direction' holds no directions" in result.warnings[0]
    assert result.mapping.columns.get("description") == "direction" and "heading" not in result.mapping.columns


# --------------------------------------------------------------------------- defaults, status, header rows

def test_a_default_type_for_the_rows_that_say_none(tmp_path):
    mapping = load(write(tmp_path, "map.toml", '[defaults]\ntype = "red-light"\n'))
    path = write(tmp_path, "d.csv", "lat,lon,type,name\n50.1,8.6,,Main St\n50.2,8.6,mobile,\n50.3,8.6,xyz,\n")
    result = read_result(path, Session(mapping=mapping))
    assert [r.type for r in result.items] == [CameraType.RED_LIGHT, CameraType.MOBILE_CAMERA, CameraType.RED_LIGHT]
    assert "read from the name or as red-light (the mapping's default): 'xyz' (1)" in result.warnings[0]
    assert Mapping.from_dict(result.mapping.to_dict()).defaults == {"type": "red-light"}
    assert "default type: red-light" in result.mapping.describe()


def test_planned_and_removed_cameras_are_listed_rejections_naming_their_status(tmp_path):
    path = write(tmp_path, "s.csv", "lat,lon,Status\n50.1,8.6,Active\n50.2,8.6,Planned\n50.3,8.6,Out of service\n"
                                    "50.4,8.6,\n50.5,8.6,Installed 2021\n50.6,8.6,Removed (2019)\n50.7,8.6,checking\n")
    result = read_result(path)
    kept = [r.lat for r in result.items if isinstance(r, Record)]
    rejected = {r.line: r.reason for r in result.items if isinstance(r, Rejection)}
    assert kept == [50.1, 50.4, 50.5, 50.7]
    assert rejected == {3: "status 'Planned': not an active camera (planned, inactive and removed cameras are not "
                           "imported)",
                        4: "status 'Out of service': not an active camera (planned, inactive and removed cameras "
                           "are not imported)",
                        7: "status 'Removed (2019)': not an active camera (planned, inactive and removed cameras "
                           "are not imported)"}
    assert result.warnings == ["status value(s) not recognised, read as active cameras: 'checking' (1)"]


def test_yes_no_in_an_active_column_and_a_state_column_of_us_states(tmp_path):
    records, rejections = read(write(tmp_path, "a.csv", "lat,lon,active\n50.1,8.6,yes\n50.2,8.6,no\n"))
    assert [r.lat for r in records] == [50.1] and [r.line for r in rejections] == [3]
    result = read_result(write(tmp_path, "us.csv", "lat,lon,state\n41.9,-87.7,IL\n34.0,-118.2,CA\n"))
    assert len(result.items) == 2 and result.warnings == []
    assert "status" not in result.mapping.columns  # "state" holds states here, not a status


def test_a_second_header_row_is_noted_not_rejected(tmp_path):
    path = write(tmp_path, "tw.csv", "Address,Longitude,Latitude,limit\n設置地址,經度,緯度,速限\n"
                                     "台9線,121.75933,24.778543,60\n")
    with collecting_notes() as notes:
        records, rejections = read(path)
    assert rejections == [] and [(r.line, r.speed) for r in records] == [(3, 60)]
    assert notes == [(2, "line 2 names the columns again ('設置地址', '經度', '緯度', '速限'): read as a second "
                         "header row, not a camera")]
    # a first row with a number somewhere is a row like any other (here: a bad latitude)
    _, [bad] = read(write(tmp_path, "x.csv", "name,lat,lon\nRadar,north,8.6\n"))
    assert bad.line == 2


# --------------------------------------------------------------------------- units in names and columns

def test_a_speed_column_named_in_mph(tmp_path):
    path = write(tmp_path, "u.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [8.6, 50.1]},
         "properties": {"cameraType": "fixed", "speedLimitMph": 40, "cameraName": "Test"}}]}))
    result = read_result(path)
    [rec] = result.items
    assert (rec.speed, rec.type, rec.description) == (64, CameraType.SPEED, "Test")  # in Germany, still mph
    assert result.unit.startswith("mph")


def test_bare_speeds_in_names_take_the_unit_of_their_country(tmp_path):
    path = write(tmp_path, "trip.csv", "WKT,name\n\"POINT (-0.14 51.50)\",Speed camera 30\n"
                                       "\"POINT (-0.12 51.51)\",Speed camera 40\n\"POINT (2.29 48.86)\",Radar fixe 50\n"
                                       "\"POINT (13.37 52.51)\",Blitzer 60\n\"POINT (13.38 52.52)\",Camera 2\n")
    result = read_result(path)
    assert [r.speed for r in result.items] == [48, 64, 50, 60, None]
    assert result.unit == "mph in mph countries, km/h elsewhere"


def test_a_project_geojson_with_an_extra_property_stays_with_the_geojson_reader(tmp_path):
    own = write(tmp_path, "own.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
         "properties": {"speed": 50, "type": "speed", "heading": 90, "name": "Radar A"}}]}))
    assert detect(own).name == "geojson"
    app = write(tmp_path, "app.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
         "properties": {"id": "c1", "cameraType": "redLight", "direction": "northbound"}}]}))
    assert detect(app).name == "table"
    [rec], _ = read(app)
    assert (rec.ref, rec.type, rec.heading) == ("c1", CameraType.RED_LIGHT, 0.0)


def test_one_column_as_type_and_heading_reports_no_direction_as_an_unknown_type(tmp_path):
    mapping = load(write(tmp_path, "map.toml", '[columns]\ntype = "dir"\nheading = "dir"\n'
                                               '[type_patterns]\n"區間測速" = "section-start"\n'))
    path = write(tmp_path, "tw.csv", "lat,lon,dir\n24.5,121.8,北上方向\n24.6,121.8,南北雙向(區間測速)\n")
    result = read_result(path, Session(mapping=mapping))
    assert [(r.type, r.heading, r.dir_mode) for r in result.items] == [
        (CameraType.SPEED, 0.0, DirectionMode.ONE), (CameraType.SECTION_START, 0.0, DirectionMode.BOTH)]
    assert result.warnings == []
