"""Feed readers for text and OV2 formats: csv, osm-feed-csv, fr-radars, garmin-csv, ov2
(iGO and Navitel: test_igo.py).

The readers are plain Python: no database needed.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cameras.formats.base import FormatError, Record, Rejection, collecting_notes, detect, get_reader
from cameras.formats.text_helpers import classify_name
from exporters.schema import CameraType, DirectionMode, Kind

DOCS = Path(__file__).resolve().parents[3] / "docs" / "feed-csv.md"

OSM = "osm_speed_cameras_feed_2026-03.csv"
FR = "fr_radars_automatiques_2023-04-26.csv"
GARMIN = "eu_lufop_gatso_all_2021-08-06_garmin.csv"
OV2 = "eu_lufop_gatso_all_2021-08-06_tomtom.ov2"


def read(fmt: str, path: Path) -> tuple[list[Record], list[Rejection]]:
    records, rejections = [], []
    for item in get_reader(fmt).read(path):
        (records if isinstance(item, Record) else rejections).append(item)
    return records, rejections


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode(encoding)
    path.write_bytes(content)
    return path


def by_ref(records: list[Record]) -> dict[str, Record]:
    return {r.ref: r for r in records}


# --------------------------------------------------------------------------- real files

@pytest.mark.realdata
def test_the_osm_feed_reads_all_37251_nodes_without_rejections(shared):
    records, rejections = read("osm-feed-csv", shared(OSM))
    assert rejections == []
    assert len(records) == 37_251
    assert Counter((r.type, r.kind) for r in records) == {
        (CameraType.SPEED, Kind.FIXED): 37_243,
        (CameraType.MOBILE_CAMERA, Kind.MOBILE): 8,
    }
    first = records[0]
    assert (first.line, first.ref, first.lat, first.lon) == (2, "node/104478", 51.6967594, -0.3756747)
    assert first.country == ""  # feed_bboxes are overlapping rectangles, not countries
    assert len({r.ref for r in records}) == 37_251


@pytest.mark.realdata
def test_the_french_radar_list_reads_all_3264_rows_as_records(shared):
    records, rejections = read("fr-radars", shared(FR))
    assert rejections == []
    assert len(records) == 3_264
    assert Counter(r.type for r in records) == {
        CameraType.SPEED: 1_848 + 473,
        CameraType.RED_LIGHT: 534,
        CameraType.SECTION: 80,  # "Radar Vitesse Moyenne"
        CameraType.ROUTE_ENFORCEMENT: 258,  # "Itinéraire"
        CameraType.LEVEL_CROSSING: 71,
    }
    assert {r.country for r in records} == {"FR"}
    assert {r.kind for r in records} == {Kind.FIXED}
    assert sum(r.lat < 41 for r in records) == 81  # overseas départements
    first = by_ref(records)["23107"]
    assert (first.line, first.lat, first.lon) == (2, 45.361, 4.2526)
    assert (first.speed, first.truck_speed, first.road) == (90, 70, "RN88")
    assert first.description == "Radar discriminant; ST FERREOL D AUROURE vers ST ETIENNE"
    assert first.dir_mode == DirectionMode.ALL and first.heading is None


@pytest.mark.realdata
def test_the_french_radar_rows_with_stray_quotes_are_repaired(shared):
    records = by_ref(read("fr-radars", shared(FR))[0])
    repaired = [r for r in records.values() if any("broken quoting repaired" in n for n in r.notes)]
    assert len(repaired) == 62
    zone = records["26205"]
    assert zone.line == 3012
    assert zone.type == CameraType.ROUTE_ENFORCEMENT
    assert zone.road == "D1083"
    assert '"' not in zone.road + zone.description
    assert zone.description.startswith("Itinéraire (route enforcement zone")
    assert any("46.251278, 6.115163" in n for n in zone.notes)  # the coordinate "direction"
    doubled = records["23946"]  # the 63rd row with quotes: doubly quoted road name
    assert doubled.road == "VC \"Le pont de terre\" (ex PR 0+710 de l'ex RD392D)"
    section = records["26121"]
    assert section.type == CameraType.SECTION and section.speed == 70
    assert section.description == "Radar Vitesse Moyenne (average-speed section); 1.8 km; Vallorbe vers Nancy; BEURE"
    route = records["26201"]
    assert route.road.startswith("D77, D64, D64D") and "26.7 km" in route.description
    crossing = records["26050"]
    assert crossing.type == CameraType.LEVEL_CROSSING and crossing.speed is None


@pytest.mark.realdata
def test_the_lufop_garmin_csv_reads_all_40667_rows(shared):
    records, rejections = read("garmin-csv", shared(GARMIN))
    assert rejections == []
    assert len(records) == 40_667
    types = Counter(r.type for r in records)
    assert types[CameraType.SECTION] == 13_783 + 144  # "max =" and "max !" route-zone vertices
    assert types[CameraType.RED_LIGHT] == 6_839
    assert types[CameraType.TUNNEL] == 153
    assert types[CameraType.SECTION_START] == 103
    assert types[CameraType.SPEED] == 19_639 + 6
    assert Counter(r.speed for r in records if r.type == CameraType.SPEED)[50] == 7_622
    countries = Counter(r.country for r in records if r.country)
    assert sum(countries.values()) == 23_464
    assert countries["GB"] == 5_234 and countries["AD"] == 12
    assert {r.ref for r in records} == {""}
    first = records[0]
    assert (first.line, first.lat, first.lon, first.type) == (1, 48.67846, 2.49589, CameraType.RED_LIGHT)
    assert first.description == "Montgeron vers Quincy-sous-Sénart -"


@pytest.mark.realdata
def test_the_garmin_row_with_backslash_escaped_quotes_is_recovered_not_rejected(shared):
    records, _ = read("garmin-csv", shared(GARMIN))
    row = records[2671]
    assert row.line == 2672
    assert (row.lat, row.lon, row.speed, row.type) == (43.631954, 3.82251, 50, CameraType.SPEED)
    assert row.description.startswith("GRABELS vers JUVIGNAC \"Avenue de l'Europe, face ")
    assert "Les Milles et une Choses" in row.description
    assert row.notes


@pytest.mark.realdata
def test_the_garmin_reader_leaves_swapped_zone_points_as_they_are(shared):
    records, _ = read("garmin-csv", shared(GARMIN))
    vertex = records[2692]  # 47.573626,7.494679,"max !","RD 419": lat/lon swapped at the source
    assert (vertex.line, vertex.lat, vertex.lon) == (2693, 7.494679, 47.573626)
    assert vertex.type == CameraType.SECTION and vertex.description == "RD 419"


@pytest.mark.realdata
def test_the_lufop_ov2_holds_the_same_cameras_as_the_garmin_csv(shared):
    records, rejections = read("ov2", shared(OV2))
    assert rejections == []
    assert len(records) == 40_667
    first = records[0]
    assert (first.line, first.lat, first.lon) == (1, 51.21367, 7.10675)
    assert (first.type, first.speed, first.description) == (CameraType.SPEED, 90, "max 90")
    garmin, _ = read("garmin-csv", shared(GARMIN))
    assert Counter((r.type, r.kind, r.speed) for r in records) == Counter((r.type, r.kind, r.speed) for r in garmin)


@pytest.mark.realdata
@pytest.mark.parametrize("name, fmt", [(OSM, "osm-feed-csv"), (FR, "fr-radars"), (GARMIN, "garmin-csv"),
                                       (OV2, "ov2")])
def test_each_real_file_is_detected_as_its_own_format(shared, name, fmt):
    assert detect(shared(name)).name == fmt


@pytest.mark.realdata
@pytest.mark.parametrize("name", [OSM, FR])
def test_the_native_csv_reader_does_not_claim_third_party_csvs(shared, name):
    path = shared(name)
    head = path.read_bytes()[:65536]
    assert get_reader("csv").sniff(head, path) == 0


# --------------------------------------------------------------------------- native CSV

FULL_HEADER = ("ref,kind,type,lat,lon,speed,truck_speed,heading,direction,country,road,description,"
               "end_lat,end_lon,reported_at,reports\n")


def test_the_native_csv_reads_every_documented_column(tmp_path):
    path = write(tmp_path, "full.csv", FULL_HEADER +
                 'de-1,fixed,section,52.5,13.4,100,80,90,both,de,A 10,"Berliner Ring, km 5",52.6,13.5,,\n')
    [record], rejections = read("csv", path)
    assert rejections == []
    assert record.line == 2
    assert (record.ref, record.kind, record.type) == ("de-1", Kind.FIXED, CameraType.SECTION)
    assert (record.lat, record.lon, record.end_lat, record.end_lon) == (52.5, 13.4, 52.6, 13.5)
    assert (record.speed, record.truck_speed, record.heading, record.dir_mode) == (100, 80, 90.0, DirectionMode.BOTH)
    assert (record.country, record.road, record.description) == ("DE", "A 10", "Berliner Ring, km 5")
    assert record.reported_at is None and record.reports == 0


def test_the_native_csv_accepts_semicolons_decimal_commas_and_any_column_order(tmp_path):
    path = write(tmp_path, "semi.csv", "LON; Lat ;TYPE;Speed;Description\n11,57612;48,13715;2;;München, Stachus\n")
    [record], rejections = read("csv", path)
    assert rejections == []
    assert (record.lat, record.lon, record.type) == (48.13715, 11.57612, CameraType.RED_LIGHT)
    assert record.speed is None
    assert record.description == "München, Stachus"


@pytest.mark.parametrize("text, expected", [
    ("3", CameraType.RED_LIGHT_SPEED), ("red-light-speed", CameraType.RED_LIGHT_SPEED),
    ("RED_LIGHT_SPEED", CameraType.RED_LIGHT_SPEED), ("99", CameraType.OTHER), ("bus-lane", CameraType.BUS_LANE),
])
def test_the_native_csv_type_column_takes_a_code_a_slug_or_a_name(tmp_path, text, expected):
    [record], _ = read("csv", write(tmp_path, "t.csv", f"type,lat,lon\n{text},50.1,8.6\n"))
    assert record.type == expected


def test_the_native_csv_kind_defaults_from_the_type(tmp_path):
    path = write(tmp_path, "k.csv", "ref,type,lat,lon\na,mobile-zone,50.1,8.6\nb,speed,50.2,8.7\nc,,50.3,8.8\n")
    records, _ = read("csv", path)
    assert [(r.type, r.kind) for r in records] == [
        (CameraType.MOBILE_ZONE, Kind.MOBILE), (CameraType.SPEED, Kind.FIXED), (CameraType.SPEED, Kind.FIXED)]


def test_the_native_csv_reads_direction_words_as_headings(tmp_path):
    path = write(tmp_path, "w.csv", "ref,lat,lon,heading,direction\na,50.1,8.6,northbound,\nb,50.2,8.7,EB,both\n"
                                    "c,50.3,8.8,Richtung Süden,\n")
    records, rejections = read("csv", path)
    assert rejections == []
    assert [(r.heading, r.dir_mode) for r in records] == [
        (0.0, DirectionMode.ONE), (90.0, DirectionMode.BOTH), (180.0, DirectionMode.ONE)]


def test_the_native_csv_heading_without_direction_means_one_direction(tmp_path):
    path = write(tmp_path, "h.csv", "ref,lat,lon,heading,direction\na,50.1,8.6,NE,\nb,50.2,8.7,,\nc,50.3,8.8,45,all\n")
    records, _ = read("csv", path)
    assert [(r.heading, r.dir_mode) for r in records] == [
        (45.0, DirectionMode.ONE), (None, DirectionMode.ALL), (45.0, DirectionMode.ALL)]


def test_a_mobile_row_with_reported_at_becomes_a_mobile_report(tmp_path):
    path = write(tmp_path, "m.csv", "kind,lat,lon,reported_at,road\n"
                                    "mobile,48.85661,2.35222,2026-03-01T14:30:00Z,A86\n"
                                    ",48.85690,2.35300,2026-03-01T16:05:00+01:00,A86\n"
                                    "mobile,48.8,2.3,2026-03-02 08:00,\n")
    records, rejections = read("csv", path)
    assert rejections == []
    assert [r.kind for r in records] == [Kind.MOBILE] * 3
    assert [r.type for r in records] == [CameraType.MOBILE_CAMERA] * 3
    assert records[0].reported_at == datetime(2026, 3, 1, 14, 30, tzinfo=timezone.utc)
    assert records[1].reported_at.utcoffset() == timedelta(hours=1)
    assert records[2].reported_at == datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)  # naive = UTC


def test_it_rejects_reported_at_on_a_fixed_camera(tmp_path):
    path = write(tmp_path, "f.csv", "kind,lat,lon,reported_at\nfixed,48.8,2.3,2026-03-01T14:30:00Z\n")
    records, [rejection] = read("csv", path)
    assert records == []
    assert rejection.line == 2
    assert "only allowed on mobile reports" in rejection.reason and "fixed" in rejection.reason


BAD_ROWS = [
    ("a,95.2,8.6,,,", "latitude '95.2' is outside -90..90"),
    ("a,50.1,-181,,,", "longitude '-181' is outside -180..180"),
    ("a,abc,8.6,,,", "latitude 'abc' is not a number"),
    ("a,,8.6,,,", "latitude is empty"),
    ("a,0,0,,,", "position 0,0 (null island) is a missing position, not a camera"),
    ("a,50.1,8.6,fast,,", "speed 'fast' is not a number (km/h)"),
    ("a,50.1,8.6,900,,", "speed '900' is outside 5-300 km/h"),
    ("a,50.1,8.6,,laser,", "type 'laser' is not a known camera type; valid: speed, red-light,"),
    ("a,50.1,8.6,,42,", "type '42' is not a camera type code; valid codes: 1, 2,"),
    ("a,50.1,8.6,,,one", "direction 'one' needs a heading, but heading is empty"),
    ("a,50.1,8.6,,,sideways", "unknown direction mode 'sideways'; valid: all, one, both"),
    ("a,50.1,8.6", "expected 6 fields as in the header, got 3"),
]


@pytest.mark.parametrize("row, reason", BAD_ROWS)
def test_it_rejects_a_bad_native_csv_row_with_line_number_and_reason(tmp_path, row, reason):
    path = write(tmp_path, "bad.csv", f"ref,lat,lon,speed,type,direction\nok,50.0,8.0,,,\n\n{row}\nok2,50.2,8.2,,,\n")
    records, rejections = read("csv", path)
    assert [r.ref for r in records] == ["ok", "ok2"]
    assert len(rejections) == 1
    assert rejections[0].file == "bad.csv"
    assert rejections[0].line == 4  # the blank line 3 still counts
    assert rejections[0].reason.startswith(reason)


@pytest.mark.parametrize("columns, row, reason", [
    ("lat,lon,end_lat", "50,8,51", "end_lat and end_lon must be given together"),
    ("lat,lon,country", "50,8,Germany", "country 'Germany' is not an ISO 3166-1 alpha-2 code"),
    ("lat,lon,reports", "50,8,-3", "reports '-3' is not a whole number >= 0"),
    ("lat,lon,reported_at,kind", "50,8,yesterday,mobile", "reported_at 'yesterday' is not an ISO 8601 date/time"),
    ("lat,lon,heading", "50,8,up", "heading 'up' is not a direction in degrees"),
    ("lat,lon,heading", "50,8,NB/SB", "heading 'NB/SB' names two directions; give one heading and direction both"),
    ("lat,lon,kind", "50,8,parked", "unknown kind 'parked'; valid: fixed, mobile"),
])
def test_it_rejects_other_bad_native_csv_values(tmp_path, columns, row, reason):
    records, [rejection] = read("csv", write(tmp_path, "bad.csv", f"{columns}\n{row}\n"))
    assert records == []
    assert (rejection.line, rejection.reason[:len(reason)]) == (2, reason)


def test_the_native_csv_reads_a_latin1_file_correctly(tmp_path):
    path = write(tmp_path, "latin1.csv", "ref;lat;lon;road;description\nm1;48,137;11,575;Ludwigstraße;München Süd\n",
                 encoding="latin-1")
    [record], _ = read("csv", path)
    assert (record.road, record.description) == ("Ludwigstraße", "München Süd")


def test_the_native_csv_refuses_a_file_without_lat_and_lon_columns(tmp_path):
    with pytest.raises(FormatError, match="lacks the required column"):
        read("csv", write(tmp_path, "x.csv", "ref,latitude,longitude\na,50,8\n"))


def test_the_native_csv_refuses_unknown_column_names(tmp_path):
    with pytest.raises(FormatError, match="unknown column.*'sped'"):
        read("csv", write(tmp_path, "x.csv", "ref,lat,lon,sped\na,50,8,50\n"))


def test_the_native_csv_cuts_overlong_text_and_notes_it(tmp_path):
    [record], _ = read("csv", write(tmp_path, "long.csv", f"lat,lon,road\n50,8,{'R' * 250}\n"))
    assert len(record.road) == 200
    assert record.notes == ["road cut from 250 to 200 characters"]


def test_every_csv_example_in_the_format_documentation_reads_without_rejections(tmp_path):
    blocks = re.findall(r"```csv\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 5
    for n, block in enumerate(blocks):
        path = write(tmp_path, f"example{n}.csv", block)
        records, rejections = read("csv", path)
        assert rejections == [], (block, rejections)
        assert records, block
        assert detect(path).name == "csv", block


def test_the_format_documentation_lists_every_camera_type():
    text = DOCS.read_text(encoding="utf-8")
    for t in CameraType:
        assert f"| {int(t)} | `{t.slug}` | {t.name} | {t.label}" in text


def test_a_native_csv_file_is_detected_by_its_header(tmp_path):
    path = write(tmp_path, "feed.txt", "REF;TYPE;LAT;LON\nx;1;50,1;8,6\n")
    assert detect(path).name == "csv"


# --------------------------------------------------------------------------- OSM feed CSV

OSM_HEADER = "osm_node_id,lat,lon,feed_type,feed_bboxes,feed_snapshot_dates\n"


def test_the_osm_feed_maps_feed_types_and_rejects_bad_rows(tmp_path):
    path = write(tmp_path, "osm.csv", OSM_HEADER +
                 "1,51.5,-0.1,fixed_camera,uk,2026-03-24\n"
                 "2,52.4,16.9,mobile_possible_camera,pl;de,2026-03-29;2026-03-29\n"
                 "x3,52.4,16.9,fixed_camera,pl,2026-03-29\n"
                 "4,52.4,16.9,average_speed,pl,2026-03-29\n"
                 "5,91,16.9,fixed_camera,pl,2026-03-29\n"
                 "6,52.4,16.9\n")
    records, rejections = read("osm-feed-csv", path)
    assert [(r.ref, r.type, r.kind) for r in records] == [
        ("node/1", CameraType.SPEED, Kind.FIXED), ("node/2", CameraType.MOBILE_CAMERA, Kind.MOBILE)]
    assert [(r.line, r.reason) for r in rejections] == [
        (4, "osm_node_id 'x3' is not a positive whole number"),
        (5, "feed_type 'average_speed' is unknown; expected fixed_camera or mobile_possible_camera"),
        (6, "latitude '91' is outside -90..90"),
        (7, "expected 6 fields as in the header, got 3"),
    ]
    assert detect(path).name == "osm-feed-csv"


# --------------------------------------------------------------------------- French radars

FR_HEADER = ("date_heure_dernier_changement,date_heure_creation,departement,latitude,longitude,id,direction,"
             "equipement,date_installation,type,emplacement,route,longueur_troncon_km,"
             "vitesse_vehicules_legers_kmh,vitesse_poids_lourds_kmh\n")
FR_PREFIX = "2023-04-17T14:05:27Z,2023-04-17T14:05:27Z,75,"


def test_the_french_reader_maps_types_speeds_and_directions(tmp_path):
    path = write(tmp_path, "radars.csv", FR_HEADER +
                 FR_PREFIX + "48.1,2.1,1,DOUBLE SENS,MORPHO,2005-01-01T00:00:00Z,Radar fixe,,RN7,,90,\n" +
                 FR_PREFIX + "48.2,2.2,2,A vers B,PARIFEX,2011-01-01T00:00:00Z,Radar discriminant,,A6,,130,90\n" +
                 FR_PREFIX + "48.3,2.3,3,C vers D,FARECO,2011-01-01T00:00:00Z,Radar feu rouge,PARIS,,,,\n" +
                 FR_PREFIX + "48.4,2.4,4,[],AXIMUM,2017-01-01T00:00:00Z,Itinéraire,-,\"D1, D2\",12.5,,\n" +
                 FR_PREFIX + "48.5,2.5,5,E vers F,MORPHO,2012-01-01T00:00:00Z,Radar Passage à Niveau,,,,,\n" +
                 FR_PREFIX + "48.6,2.6,6,G vers H,MORPHO,2012-01-01T00:00:00Z,Radar tronçon,,,,50,\n")
    records, rejections = read("fr-radars", path)
    assert rejections == []
    got = {r.ref: r for r in records}
    assert (got["1"].type, got["1"].speed, got["1"].dir_mode) == (CameraType.SPEED, 90, DirectionMode.ALL)
    assert got["1"].description == "Radar fixe; both directions (DOUBLE SENS)"
    assert (got["2"].type, got["2"].speed, got["2"].truck_speed) == (CameraType.SPEED, 130, 90)
    assert (got["3"].type, got["3"].description) == (CameraType.RED_LIGHT, "Radar feu rouge; C vers D; PARIS")
    assert (got["4"].type, got["4"].road) == (CameraType.ROUTE_ENFORCEMENT, "D1, D2")
    assert "12.5 km" in got["4"].description
    assert got["5"].type == CameraType.LEVEL_CROSSING
    assert got["6"].type == CameraType.OTHER and "Radar tronçon" in got["6"].notes[0]
    assert {r.country for r in records} == {"FR"}


def test_an_unbalanced_quote_in_the_french_list_does_not_swallow_the_following_rows(tmp_path):
    path = write(tmp_path, "radars.csv", FR_HEADER +
                 FR_PREFIX + '48.1,2.1,1,A vers B,MORPHO,2005-01-01T00:00:00Z,Radar fixe,,"RN7,,90,\n' +
                 FR_PREFIX + "48.2,2.2,2,A vers B,MORPHO,2005-01-01T00:00:00Z,Radar fixe,,RN8,,80,\n" +
                 FR_PREFIX + "48.3,2.3,3,A vers B,MORPHO,2005-01-01T00:00:00Z,Radar fixe,,RN9,,70,\n")
    records, rejections = read("fr-radars", path)
    assert [r.ref for r in records] == ["2", "3"]
    assert [(r.line, r.reason) for r in rejections] == [
        (2, "expected 15 fields as in the header, got 12 (broken quoting?)")]
    assert [r.line for r in records] == [3, 4]


def test_the_french_reader_repairs_the_route_zone_quoting_slip(tmp_path):
    path = write(tmp_path, "radars.csv", FR_HEADER +
                 FR_PREFIX + '46.0,5.0,26205,"46.25, 6.11",AXIMUM,2017-10-05T16:17:13Z,Itinéraire,"D1083""","""300",,,\n')
    [record], _ = read("fr-radars", path)
    assert (record.road, record.type) == ("D1083", CameraType.ROUTE_ENFORCEMENT)
    assert len(record.notes) == 2


def test_the_french_reader_rejects_bad_positions_and_speeds(tmp_path):
    path = write(tmp_path, "radars.csv", FR_HEADER +
                 FR_PREFIX + "148.1,2.1,1,A vers B,MORPHO,2005-01-01T00:00:00Z,Radar fixe,,RN7,,90,\n" +
                 FR_PREFIX + "48.1,2.1,2,A vers B,MORPHO,2005-01-01T00:00:00Z,Radar fixe,,RN7,,quatre-vingt,\n")
    records, rejections = read("fr-radars", path)
    assert records == []
    assert [(r.line, r.reason) for r in rejections] == [
        (2, "latitude '148.1' is outside -90..90"),
        (3, "vitesse_vehicules_legers_kmh 'quatre-vingt' is not a number (km/h)"),
    ]


FR_2018_ROWS = (  # the 2018 release's order: ..., longueur_troncon_km, lorry limit, car limit
    "2018-09-05T12:20:05Z,2018-09-05T12:20:05Z,80,49.95842,2.85479,13598,PARIS VERS LILLE,MORPHO,"
    "2003-11-05T00:00:00Z,Radar fixe,HEM MONACU,A1,,,130\n"
    "2018-09-05T12:20:14Z,2018-09-05T12:20:14Z,79,46.299,-0.0571,13806,POITIERS vers MELLE,PARIFEX,"
    "2011-12-05T00:00:00Z,Radar discriminant,CHEY,RD950,,50,70\n"
    "2018-09-05T12:25:31Z,2018-09-05T12:25:31Z,2A,41.9,8.7,16515,Nord vers Sud,AXIMUM,"
    "2013-07-19T00:00:00Z,Radar Passage à Niveau,AJACCIO,,,,\n")


def read_with_notes(fmt: str, path: Path):
    with collecting_notes() as notes:
        records, rejections = read(fmt, path)
    return records, rejections, [text for _, text in notes]


def test_a_french_list_without_its_header_is_recognised_and_its_limit_order_read_from_the_rows(tmp_path):
    path = write(tmp_path, "radars.csv", FR_2018_ROWS)
    assert detect(path).name == "fr-radars"
    records, rejections, notes = read_with_notes("fr-radars", path)
    assert rejections == []
    got = by_ref(records)
    assert [r.line for r in records] == [1, 2, 3]  # no header: the first line is a camera
    assert (got["13598"].speed, got["13598"].truck_speed, got["13598"].road) == (130, None, "A1")
    assert (got["13806"].speed, got["13806"].truck_speed) == (70, 50)  # car 70, not the lorry 50
    assert got["16515"].type == CameraType.LEVEL_CROSSING
    assert notes == ["no header row: the columns were read in the order of the Ministry's list, lorry limit "
                     "before car limit, as in the 2018 release (2 row(s) say so, 0 the other way)"]


def test_a_headerless_copy_of_the_2023_list_reads_car_limit_first(tmp_path, shared):
    lines = shared(FR).read_text(encoding="utf-8").splitlines(keepends=True)[1:200]
    path = write(tmp_path, "radars-2023.csv", "".join(lines))
    assert detect(path).name == "fr-radars"
    records, rejections, notes = read_with_notes("fr-radars", path)
    assert len(records) + len(rejections) == 199
    with_header = by_ref(read("fr-radars", write(tmp_path, "with-header.csv", FR_HEADER + "".join(lines)))[0])
    assert [(r.ref, r.speed, r.truck_speed) for r in records] == [
        (r.ref, with_header[r.ref].speed, with_header[r.ref].truck_speed) for r in records]
    assert by_ref(records)["23107"].speed == 90  # ST FERREOL D AUROURE: car 90, lorry 70
    assert len(notes) == 1 and "car limit before lorry limit, as in the 2023 release" in notes[0]


def test_a_headerless_file_of_other_rows_is_not_taken_for_the_french_list(tmp_path):
    reader = get_reader("fr-radars")
    other = write(tmp_path, "other.csv", "2018-09-05,2018-09-05,80,49.9,2.8,1,x,y,2003-11-05,Speed,z,A1,,,130\n")
    assert reader.sniff(other.read_bytes(), other) == 0  # "Speed" is not a type of the list
    short = write(tmp_path, "short.csv", "2018-09-05T12:20:05Z,2018-09-05T12:20:05Z,80,49.9,2.8,1,Radar fixe\n")
    assert reader.sniff(short.read_bytes(), short) == 0


# --------------------------------------------------------------------------- Garmin CSV

@pytest.mark.parametrize("name, expected", [
    ("max @50", (CameraType.SPEED, Kind.FIXED, 50)),
    ("Fixed camera Berlin@50", (CameraType.SPEED, Kind.FIXED, 50)),
    ("max 130", (CameraType.SPEED, Kind.FIXED, 130)),      # OV2 names lost the @
    ("max", (CameraType.SPEED, Kind.FIXED, None)),
    ("stop", (CameraType.RED_LIGHT, Kind.FIXED, None)),
    ("Red light@60", (CameraType.RED_LIGHT, Kind.FIXED, 60)),
    ("Red light and speed@50", (CameraType.RED_LIGHT_SPEED, Kind.FIXED, 50)),
    ("average @110", (CameraType.SECTION_START, Kind.FIXED, 110)),
    ("average 110", (CameraType.SECTION_START, Kind.FIXED, 110)),
    ("Section end@80", (CameraType.SECTION_END, Kind.FIXED, 80)),
    ("vitesse moyenne@90", (CameraType.SECTION_START, Kind.FIXED, 90)),
    ("max =", (CameraType.SECTION, Kind.FIXED, None)),
    ("max !", (CameraType.SECTION, Kind.FIXED, None)),
    ("tunnel", (CameraType.TUNNEL, Kind.FIXED, None)),
    ("Mobile site", (CameraType.MOBILE_CAMERA, Kind.MOBILE, None)),
    ("Bredstedt Hauptstr@30", (CameraType.SPEED, Kind.FIXED, 30)),  # "red" only as a word
    ("A9 km 120", (CameraType.SPEED, Kind.FIXED, None)),  # no keyword: a trailing number is no speed
    ("Camera@30 mph", (CameraType.SPEED, Kind.FIXED, 48)),
])
def test_poi_names_are_classified_into_type_kind_and_speed(name, expected):
    assert classify_name(name) == expected


def test_a_poi_name_with_a_nonsense_speed_is_an_error():
    with pytest.raises(ValueError, match="speed 'fast' after '@' in name 'max @fast'"):
        classify_name("max @fast")


def test_the_garmin_csv_reads_names_comments_and_lufop_countries(tmp_path):
    path = write(tmp_path, "poi.csv",
                 '13.40495,52.52001,"Fixed camera Berlin@50","Blitzer, Mitte"\n'
                 '11.57612,48.13715,"Red light@60",""\n'
                 '-0.12750,51.50700,"Mobile site"\n'
                 '7.10675,51.21367,"max @70","DE Radar Fixe DE 60"\n'
                 '7.2,51.3,"max","DE Radar Fixe DE 60"\n'
                 '9.1,45.4,"stop","IT Radar Feu Rouge IT"\n')
    records, rejections = read("garmin-csv", path)
    assert rejections == []
    got = [(r.line, r.lat, r.lon, r.type, r.kind, r.speed, r.country, r.description) for r in records]
    assert got == [
        (1, 52.52001, 13.40495, CameraType.SPEED, Kind.FIXED, 50, "", "Fixed camera Berlin: Blitzer, Mitte"),
        (2, 48.13715, 11.57612, CameraType.RED_LIGHT, Kind.FIXED, 60, "", "Red light@60"),
        (3, 51.507, -0.1275, CameraType.MOBILE_CAMERA, Kind.MOBILE, None, "", "Mobile site"),
        (4, 51.21367, 7.10675, CameraType.SPEED, Kind.FIXED, 70, "DE", "DE Radar Fixe DE 60"),  # name wins
        (5, 51.3, 7.2, CameraType.SPEED, Kind.FIXED, 60, "DE", "DE Radar Fixe DE 60"),  # comment fills in
        (6, 45.4, 9.1, CameraType.RED_LIGHT, Kind.FIXED, None, "IT", "IT Radar Feu Rouge IT"),
    ]
    assert {r.ref for r in records} == {""}
    assert detect(path).name == "garmin-csv"


def test_the_garmin_csv_rejects_bad_rows_with_line_numbers(tmp_path):
    path = write(tmp_path, "poi.csv",
                 '13.4,52.5,"max @50",""\n'
                 '13.4,95.5,"max @50",""\n'
                 '13.4\n'
                 '0,0,"max @50",""\n'
                 'east,52.5,"max @50",""\n'
                 '13.4,52.5,"max @500",""\n'
                 '13.5,52.6,"stop",""\n')
    records, rejections = read("garmin-csv", path)
    assert [r.line for r in records] == [1, 7]
    assert [(r.line, r.reason) for r in rejections] == [
        (2, "latitude '95.5' is outside -90..90"),
        (3, "expected 4 fields (lon,lat,\"name\",\"comment\"), got 1: '13.4'"),
        (4, "position 0,0 (null island) is a missing position, not a camera"),
        (5, "longitude 'east' is not a number"),
        (6, "speed '500' after '@' in name 'max @500' is not a speed in 5-300 km/h"),
    ]


def test_the_garmin_csv_merges_surplus_fields_into_the_comment(tmp_path):
    path = write(tmp_path, "poi.csv",
                 '3.82,43.63,"max @50","A vers B \\"Avenue, face \\"\\"X\\""\n'
                 "3.9,43.7,max @30,rue A,rue B\n")
    records, rejections = read("garmin-csv", path)
    assert rejections == []
    assert records[0].description == 'A vers B "Avenue, face ""X"'
    assert records[1].description == "rue A,rue B"
    assert records[1].speed == 30


def test_the_garmin_csv_reads_a_latin1_file_correctly(tmp_path):
    path = write(tmp_path, "poi.csv", '11.57,48.13,"Blitzer München@50","Leopoldstraße"\n', encoding="latin-1")
    [record], _ = read("garmin-csv", path)
    assert (record.description, record.speed) == ("Blitzer München: Leopoldstraße", 50)
    path = write(tmp_path, "poi2.csv", '11.57,48.13,"Blitzer München@50",""\n', encoding="latin-1")
    [record], _ = read("garmin-csv", path)
    assert record.description == "Blitzer München@50"


# --------------------------------------------------------------------------- OV2

def poi(lon: float, lat: float, name: bytes) -> bytes:
    body = name + b"\0"
    return struct.pack("<Biii", 2, 13 + len(body), round(lon * 1e5), round(lat * 1e5)) + body


def poi3(lon: float, lat: float, name: bytes, uid: bytes, extra: bytes = b"") -> bytes:
    body = name + b"\0" + uid + b"\0" + extra + b"\0"
    return struct.pack("<Biii", 3, 13 + len(body), round(lon * 1e5), round(lat * 1e5)) + body


def skipper(block: bytes, east=1_400_000, north=5_300_000, west=1_300_000, south=5_200_000) -> bytes:
    return struct.pack("<Biiiii", 1, 21 + len(block), east, north, west, south) + block


def deleted(size: int = 12, kind: int = 0) -> bytes:
    return struct.pack("<Bi", kind, size) + b"\xff" * (size - 5)


def test_the_ov2_reader_reads_skippers_type2_and_type3_records(tmp_path):
    data = (skipper(poi(13.40495, 52.52001, b"Fixed camera@50") + poi3(13.4, 52.6, b"stop", b"cam-17", b"Alex"))
            + deleted() + bytes([8, 3]) + b"\x00" * 9 + deleted(20, kind=100)
            + poi(-0.1275, 51.507, b"max 130"))
    path = write(tmp_path, "cams.ov2", data)
    records, rejections = read("ov2", path)
    assert rejections == []
    got = [(r.line, r.lat, r.lon, r.type, r.speed, r.ref, r.description) for r in records]
    assert got == [
        (2, 52.52001, 13.40495, CameraType.SPEED, 50, "", "Fixed camera@50"),
        (3, 52.6, 13.4, CameraType.RED_LIGHT, None, "cam-17", "stop; Alex"),
        (7, 51.507, -0.1275, CameraType.SPEED, 130, "", "max 130"),
    ]
    assert detect(path).name == "ov2"


def test_the_ov2_reader_decodes_cp1252_and_utf8_names(tmp_path):
    path = write(tmp_path, "names.ov2", poi(11.5, 48.1, "München@50".encode("cp1252"))
                 + poi(11.6, 48.2, "München mobile".encode("utf-8")))
    records, _ = read("ov2", path)
    assert [(r.description, r.kind) for r in records] == [("München@50", Kind.FIXED),
                                                          ("München mobile", Kind.MOBILE)]


def test_a_truncated_ov2_file_yields_a_rejection_with_the_byte_offset_and_stops(tmp_path):
    data = poi(13.4, 52.5, b"max 50") + poi(13.5, 52.6, b"max 70")
    path = write(tmp_path, "cut.ov2", data[:-4])
    records, rejections = read("ov2", path)
    assert [r.speed for r in records] == [50]
    assert len(rejections) == 1
    assert rejections[0].line == 2
    assert "byte offset 20" in rejections[0].reason and "length 20" in rejections[0].reason
    assert "16 bytes are left" in rejections[0].reason


def test_the_ov2_reader_rejects_bad_positions_and_goes_on(tmp_path):
    bad_lat = struct.pack("<Biii", 2, 14, 1_000_000, 9_500_000) + b"\0"
    path = write(tmp_path, "bad.ov2", bad_lat + poi(0, 0, b"max 50") + poi(13.5, 52.6, b"max @fast")
                 + poi(13.5, 52.6, b"max 70"))
    records, rejections = read("ov2", path)
    assert [(r.line, r.speed) for r in records] == [(4, 70)]
    assert [(r.line, r.reason) for r in rejections] == [
        (1, "latitude 95 is outside -90..90 (record at byte offset 0)"),
        (2, "position 0,0 (null island) is a missing position, not a camera"),
        (3, "speed 'fast' after '@' in name 'max @fast' is not a speed in 5-300 km/h"),
    ]


def test_an_unknown_ov2_record_type_stops_the_reading(tmp_path):
    path = write(tmp_path, "odd.ov2", poi(13.4, 52.5, b"max 50") + b"\x07garbage" + poi(13.5, 52.6, b"max 70"))
    records, [rejection] = read("ov2", path)
    assert len(records) == 1
    assert (rejection.line, rejection.reason[:44]) == (2, "unknown record type 7 at byte offset 20; the")


def test_ov2_sniffing_checks_the_record_chain(tmp_path):
    reader = get_reader("ov2")
    good = write(tmp_path, "good.ov2", poi(13.4, 52.5, b"max 50") * 3)
    assert reader.sniff(good.read_bytes(), good) == 90
    broken = write(tmp_path, "broken.ov2", poi(13.4, 52.5, b"max 50")[:-1] + b"x" + poi(13.4, 52.5, b"max 50"))
    assert reader.sniff(broken.read_bytes(), broken) == 0
    text = write(tmp_path, "text.ov2", "13.4,52.5,\"max @50\",\"\"\n")
    assert reader.sniff(text.read_bytes(), text) == 0


def test_the_native_csv_tolerates_trailing_separators_as_spreadsheets_write_them(tmp_path):
    records, rejections = read("csv", write(tmp_path, "xl.csv", "ref;lat;lon;;\r\na;50,5;8,5;;\r\nb;50,6;8,6\r\n"))
    assert rejections == []
    assert [(r.ref, r.lat, r.lon) for r in records] == [("a", 50.5, 8.5), ("b", 50.6, 8.6)]
