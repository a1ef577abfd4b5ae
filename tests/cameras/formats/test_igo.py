"""iGO speedcam.txt and Navitel SpeedCam.txt (reader ``igo``): vendor codes, sections, units.

The small files below copy the shapes of real lists: a UK list whose sections are a start
row and an end row with SPEED 5, speeds in mph (josephpaturi/sygic-uk-safety-cameras-poi,
source_files/osc.txt), SpeedCamOnline iGoExt codes (68, 192, 199, 206, 227), OpenSpeedcam /
Navitel codes 101-106 with ``//`` comments, and a Navitel list whose IDX counts the rows.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cameras.formats.base import FormatError, Record, Rejection, collecting_notes, detect, get_reader
from cameras.formats.igo import CODES_FILE, load_codes, shipped_codes
from cameras.formats.mapping import Mapping
from cameras.formats.options import file_unit, looks_like_mph, session
from cameras.importing import ImportFailed, import_file
from cameras.models import Camera
from exporters.base import CameraSet, ExportOptions, get_exporter
from exporters.schema import CameraType, DirectionMode, Kind

T = CameraType
IGO = "X,Y,TYPE,SPEED,DIRTYPE,DIRECTION\r\n"
NAVITEL = "IDX,X,Y,TYPE,SPEED,DirType,Direction\r\n"


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read(path, mapping=None, speed_unit=None):
    """(records, rejections, file notes, session) of the igo reader."""
    with session(mapping, speed_unit) as state, collecting_notes() as notes:
        items = list(get_reader("igo").read(path))
    return ([i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)],
            [text for _, text in notes], state)


def notes_of(report):
    return [text for _, text in report.notes]


# --------------------------------------------------------------------------- layout, values, rejections

def test_the_igo_reader_maps_types_speeds_and_dirtype(tmp_path):
    path = write(tmp_path, "speedcam.txt", IGO + "9.49356,45.56791,1,50,1,90\r\n"
                                                 "9.5,45.6,2,0,0,90\r\n"
                                                 "9.6,45.7,4,130,2,270\r\n"
                                                 "9.7,45.8,5,70,0,0\r\n"
                                                 "9.8,45.9,7,0,0,0\r\n"
                                                 "9.9,46.0,42,0,0,0\r\n")
    records, rejections, notes, _ = read(path)
    assert rejections == []
    got = [(r.line, r.lon, r.lat, r.type, r.kind, r.speed, r.dir_mode, r.heading, r.ref) for r in records]
    assert got == [
        (2, 9.49356, 45.56791, T.SPEED, Kind.FIXED, 50, DirectionMode.ONE, 90.0, ""),
        (3, 9.5, 45.6, T.RED_LIGHT_SPEED, Kind.FIXED, None, DirectionMode.ALL, None, ""),
        (4, 9.6, 45.7, T.SECTION_START, Kind.FIXED, 130, DirectionMode.BOTH, 270.0, ""),
        (5, 9.7, 45.8, T.MOBILE_CAMERA, Kind.MOBILE, 70, DirectionMode.ALL, None, ""),
        (6, 9.8, 45.9, T.MOBILE_ZONE, Kind.MOBILE, None, DirectionMode.ALL, None, ""),
        (7, 9.9, 46.0, T.OTHER, Kind.FIXED, None, DirectionMode.ALL, None, ""),
    ]
    assert records[2].notes == ["section start without an end row after it: kept as a section start"]
    assert "iGO TYPE 42 (unknown code): 1 row read as OTHER; add it to a mapping file's [types] table" in notes
    assert detect(path).name == "igo"


def test_the_igo_reader_rejects_bad_rows(tmp_path):
    path = write(tmp_path, "speedcam.txt", "X,Y,TYPE,SPEED,DIRTYPE,DIRECTION\n"
                                           "9.4,45.5,1,50,3,90\n"
                                           "9.4,45.5,one,50,0,0\n"
                                           "9.4,45.5,1,50,1,\n"
                                           "9.4,145.5,1,50,0,0\n"
                                           "9.4,45.5,1,50\n"
                                           "9.4,45.5,1,fifty,0,0\n"
                                           "9.4,45.5,1,400,0,0\n"
                                           "9.4,45.5,1," + "9" * 400 + ",0,0\n"
                                           "9.4,45.5,1,50,0,0\n")
    records, rejections, _, _ = read(path)
    assert [r.line for r in records] == [10]
    assert [(r.line, r.reason) for r in rejections] == [
        (2, "DIRTYPE '3' is not 0 (all), 1 (one) or 2 (both directions)"),
        (3, "TYPE 'one' is not a whole number"),
        (4, "DIRTYPE 1 needs a DIRECTION, but it is empty"),
        (5, "latitude '145.5' is outside -90..90"),
        (6, "expected 6 fields (X,Y,TYPE,SPEED,DIRTYPE,DIRECTION), got 4"),
        (7, "SPEED 'fifty' is not a number"),
        (8, "SPEED 400 is outside 5-300 km/h"),
        (9, "SPEED '9999999999999999999999999999999999999999' is not a speed limit"),
    ]


def test_the_igo_reader_refuses_an_unknown_header(tmp_path):
    with pytest.raises(FormatError, match="neither iGO"):
        read(write(tmp_path, "x.txt", "LON,LAT,KIND\n1,2,3\n"))


def test_comments_extra_columns_and_a_file_without_a_header(tmp_path):
    path = write(tmp_path, "speedcam.txt",
                 "IDX,X,Y,TYPE,SPEED,DIRTYPE,DIRECTION,DISTANCE,ANGLE // OpenSpeedcam 10-03-2026 11:33\r\n"
                 "// exported for the test\r\n"
                 "177,27.826138,54.185782,1,60,1,207,500,20 // Minsk, ul. Lenina, 5\r\n"
                 "178,27.823847,54.205898,101,60,1,318,300,20\r\n"
                 "// total: 2\r\n")
    records, rejections, notes, _ = read(path)
    assert rejections == []
    assert [(r.line, r.ref, r.type, r.description) for r in records] == [(3, "177", T.SPEED, "Minsk, ul. Lenina, 5")]
    assert records[0].heading == 27.0  # Navitel's direction points at the driver
    assert "columns DISTANCE, ANGLE are not part of the layout and were ignored" in notes
    assert ("Navitel TYPE 101 (speed limit (sign)) is a road sign or hazard, not a camera: row not imported; "
            "give the code a type in a mapping file's [types] table to import it") in notes

    headerless = write(tmp_path, "rows.txt", "0,37.61,55.75,1,60,1,90\r\n1,37.62,55.76,5,0,0,0\r\n")
    assert detect(headerless).name == "igo"
    records, rejections, _, _ = read(headerless)
    assert [(r.type, r.heading) for r in records] == [(T.SPEED, 270.0), (T.MOBILE_CAMERA, None)]


# --------------------------------------------------------------------------- vendor codes

def test_vendor_codes_come_from_the_shipped_table(tmp_path):
    path = write(tmp_path, "iGoExt_Rus.txt", "IDX,X,Y,TYPE,SPEED,DIRTYPE,DIRECTION\r\n"
                                             "1001,37.12349,55.98769,192,60,1,359\r\n"
                                             "1002,37.00009,55.00009,68,40,1,10\r\n"
                                             "1003,37.2,55.2,206,60,1,90\r\n"
                                             "1004,37.3,55.3,227,90,1,180\r\n"
                                             "1005,37.4,55.4,104,0,0,0\r\n"
                                             "1006,37.5,55.5,102,20,2,90\r\n"
                                             "1007,37.6,55.6,199,90,1,90\r\n")
    records, _, notes, _ = read(path)
    assert [(r.ref, r.type) for r in records] == [
        ("1001", T.SPEED), ("1002", T.SPEED), ("1003", T.RED_LIGHT), ("1004", T.OTHER), ("1005", T.DANGER_ZONE),
        ("1007", T.SECTION_START)]
    assert "Navitel TYPE 227 (weigh-in-motion (weight control)): 1 row read as OTHER" in notes
    assert any(n.startswith("Navitel TYPE 102 (speed bump) is a road sign or hazard, not a camera") for n in notes)

    path = write(tmp_path, "speedcam.txt", IGO + "1.0,50.0,9,30,0,0\r\n1.1,50.1,11,50,1,0\r\n"
                                                 "1.2,50.2,31,0,0,0\r\n1.3,50.3,35,90,1,0\r\n")
    records, _, notes, _ = read(path)
    assert [r.type for r in records] == [T.OTHER, T.RED_LIGHT_SPEED, T.DANGER_ZONE, T.SECTION_START]
    assert "iGO TYPE 9 (school zone): 1 row read as OTHER" in notes


def test_the_code_table_is_data_and_a_broken_one_is_named(tmp_path):
    table = load_codes(CODES_FILE)
    assert table == shipped_codes()
    assert table.end_speeds == {5.0} and table.max_km == 30
    igo = dict((name, codes) for name, _, codes in table.dialects)["iGO"]
    assert (igo[4].type, igo[5].kind) == (T.SECTION_START, Kind.MOBILE)
    broken = write(tmp_path, "codes.toml", '[x]\nlayout = "igo"\n[x.codes]\n4 = { type = "sektion" }\n')
    with pytest.raises(FormatError, match=r"codes.toml \[x\] code 4: unknown camera type 'sektion'"):
        load_codes(broken)


@pytest.mark.django_db
def test_unknown_codes_are_counted_once_per_code_in_the_report(tmp_path):
    rows = [f"{2.30 + i / 100:.4f},48.85,17,50,0,0\r\n" for i in range(12)]
    rows += [f"{2.30 + i / 100:.4f},48.80,88,0,0,0\r\n" for i in range(2)]
    path = write(tmp_path, "speedcam.txt", IGO + "".join(rows) + "2.35,48.9,1,50,0,0\r\n")
    report = import_file(path, source="igo-codes")
    assert Camera.objects.filter(type=T.OTHER).count() == 14
    assert notes_of(report).count("iGO TYPE 17 (unknown code): 12 rows read as OTHER; add it to a mapping "
                                  "file's [types] table") == 1
    assert "iGO TYPE 88 (unknown code): 2 rows read as OTHER; add it to a mapping file's [types] table" in notes_of(report)
    assert "2 x iGO TYPE N (unknown code): N rows read as OTHER" in report.summary()


@pytest.mark.django_db
def test_a_mapping_files_types_table_adds_and_overrides_codes(tmp_path):
    path = write(tmp_path, "speedcam.txt", IGO + "2.30,48.85,17,50,1,90\r\n2.31,48.86,88,0,0,0\r\n"
                                                 "2.32,48.87,4,50,1,90\r\n2.33,48.88,4,50,1,90\r\n"
                                                 "2.34,48.89,102,0,0,0\r\n")
    report = import_file(path, source="igo-unmapped", dry_run=True)
    assert report.created == 3  # two type-4 rows make one section; the speed bump (102) is listed, not imported
    assert any(line == 6 and "TYPE 102 (speed bump) is a road sign or hazard" in text for line, text in report.notes)
    mapping = Mapping.from_dict({"types": {"17": "red-light", "88": "police-check", "4": "speed", "102": "other"}})
    with session(mapping) as state:
        report = import_file(path, source="igo-mapped")
    assert state.used is mapping  # stored on the source by the command, so re-imports use it
    got = sorted(Camera.objects.values_list("type", "kind"))
    assert got == [(T.SPEED, Kind.FIXED), (T.SPEED, Kind.FIXED), (T.RED_LIGHT, Kind.FIXED),
                   (T.POLICE_CHECK, Kind.MOBILE), (T.OTHER, Kind.FIXED)]
    assert not any("TYPE" in n or "section" in n for n in notes_of(report))


# --------------------------------------------------------------------------- sections

UK_SECTIONS = (IGO +
               "-5.25389,50.11019,4,30,1,63\r\n"      # start, 30 mph
               "-5.24614,50.11344,4,5,1,54\r\n"       # its end: SPEED 5 marks the end row
               "-5.2461,50.113492,4,30,1,249\r\n"
               "-5.253858,50.11019,4,5,1,230\r\n"
               "-2.04503,52.62682,31,70,1,315\r\n"
               "-2.15292,52.82017,4,50,1,181\r\n"     # two starts in a row, 1.2 km apart: one section
               "-2.15442,52.80911,4,50,1,181\r\n"
               "-0.05367,51.672731,4,40,1,11\r\n"     # a start whose end row is missing ...
               "-0.01111,52.47372,4,5,1,260\r\n")     # ... and an end row 89 km away from it


@pytest.mark.django_db
def test_uk_sections_with_an_end_marker_are_paired_and_mph_converted(tmp_path):
    path = write(tmp_path, "osc.txt", UK_SECTIONS)
    report = import_file(path, source="uk-igo")
    got = sorted(Camera.objects.values_list("type", "lat", "lon", "end_lat", "end_lon", "speed", "heading"))
    assert got == sorted([
        (T.SECTION, 50.11019, -5.25389, 50.11344, -5.24614, 48, 63.0),
        (T.SECTION, 50.113492, -5.2461, 50.11019, -5.253858, 48, 249.0),
        (T.DANGER_ZONE, 52.62682, -2.04503, None, None, 113, 315.0),
        (T.SECTION, 52.82017, -2.15292, 52.80911, -2.15442, 80, 181.0),
        (T.SECTION_START, 51.672731, -0.05367, None, None, 64, 11.0),
        (T.SECTION_END, 52.47372, -0.01111, None, None, None, 260.0),
    ])
    assert not Camera.objects.filter(speed__lt=10).exists()  # no end row became a camera at 5 (or 8) km/h
    notes = notes_of(report)
    assert ("iGO sections: 2 read from a start row and the end row after it (SPEED 5 marks an end row, "
            "which is not a camera of its own)") in notes
    assert any(n.startswith("iGO sections: 1 read from two section rows in a row") for n in notes)
    assert (9, "section start: the end row after it (line 10) is 89 km away, more than 30 km; kept as a "
               "section start") in report.notes
    assert (10, "section end row without a start row before it: kept as a section end point") in report.notes
    assert any(n.startswith("SPEED read as mph and converted to km/h") for n in notes)


def test_consecutive_section_rows_pair_only_when_they_can_be_one_section(tmp_path):
    path = write(tmp_path, "speedcam.txt", IGO +
                 "11.00,48.00,4,100,1,90\r\n11.05,48.00,4,100,1,95\r\n"     # 3.7 km, same speed: a section
                 "11.00,48.10,4,100,1,90\r\n11.60,48.10,4,100,1,90\r\n"     # 45 km apart: two starts
                 "11.00,48.20,4,100,1,90\r\n11.05,48.20,4,80,1,90\r\n"      # other speeds: two starts
                 "11.00,48.30,4,100,1,90\r\n11.05,48.30,4,100,1,270\r\n"    # opposite directions: two starts
                 "11.00,48.40,4,100,1,90\r\n11.05,48.40,4,100,1,90\r\n"     # a start ...
                 "11.10,48.40,4,5,1,90\r\n")                                 # ... whose next row has its own end
    records, rejections, notes, _ = read(path, speed_unit="kmh")
    assert rejections == []
    assert [(r.line, r.type, r.end_lon) for r in records] == [
        (2, T.SECTION, 11.05),
        (4, T.SECTION_START, None), (5, T.SECTION_START, None),
        (6, T.SECTION_START, None), (7, T.SECTION_START, None),
        (8, T.SECTION_START, None), (9, T.SECTION_START, None),
        (10, T.SECTION_START, None), (11, T.SECTION, 11.10),
    ]
    assert records[-1].speed == 100
    assert any("1 read from two section rows in a row" in n for n in notes)
    assert any("1 read from a start row and the end row after it" in n for n in notes)


def test_an_end_row_far_from_its_start_is_not_paired(tmp_path):
    path = write(tmp_path, "speedcam.txt", IGO + "11.00,48.00,4,100,1,90\r\n12.00,48.00,4,5,1,90\r\n")
    records, _, _, _ = read(path, speed_unit="kmh")
    assert [(r.type, r.speed) for r in records] == [(T.SECTION_START, 100), (T.SECTION_END, None)]
    assert "is 74 km away, more than 30 km" in records[0].notes[0]


# --------------------------------------------------------------------------- units

UK_MPH = (30, 40, 70, 20)
UK_KMH = (48, 64, 97, 113)


def uk_list(tmp_path, speeds):
    """Four cameras in England (London, Birmingham) with these speeds; in mph the last is a
    red-light camera."""
    last = "2" if speeds == UK_MPH else "1"
    places = ("-0.12,51.50,1", "-0.13,51.51,1", "-1.90,52.48,1", f"-1.91,52.49,{last}")
    return write(tmp_path, "gb.txt", IGO + "".join(f"{at},{speed},0,0\r\n" for at, speed in zip(places, speeds)))


@pytest.mark.parametrize("speeds, kmh, unit, note", [
    (UK_MPH, [48, 64, 113, 32], "mph", "SPEED read as mph"),
    (UK_KMH, [48, 64, 97, 113], "kmh", "speeds look like km/h (values such as 48, 64, 97, 113)"),
], ids=["20-70 as mph", "48-113 stay km/h"])
def test_auto_reads_a_uk_list_in_the_unit_its_speeds_fit(tmp_path, speeds, kmh, unit, note):
    records, _, notes, state = read(uk_list(tmp_path, speeds))
    assert [r.speed for r in records] == kmh
    assert state.unit == unit
    assert any(note in n for n in notes)


def test_a_uk_list_in_mph_can_be_read_as_km_h(tmp_path):
    path = uk_list(tmp_path, UK_MPH)
    records, _, _, state = read(path, speed_unit="kmh")
    assert [r.speed for r in records] == [30, 40, 70, 20] and state.unit == "kmh"
    records, _, _, _ = read(path, mapping=Mapping.from_dict({"speed_unit": "kmh"}))
    assert [r.speed for r in records] == [30, 40, 70, 20]


def test_a_uk_list_in_km_h_is_read_with_a_warning_and_mph_elsewhere_is_an_option(tmp_path):
    _, _, _, state = read(uk_list(tmp_path, UK_KMH))
    assert state.warnings and "read as km/h" in state.warnings[0]

    de = write(tmp_path, "de.txt", IGO + "8.6,50.1,1,25,0,0\r\n8.7,50.2,1,35,0,0\r\n8.8,50.3,1,45,0,0\r\n")
    records, _, notes, _ = read(de)
    assert [r.speed for r in records] == [25, 35, 45]
    assert any("look like mph" in n for n in notes)
    records, _, _, _ = read(de, speed_unit="mph")
    assert [r.speed for r in records] == [40, 56, 72]


def test_file_unit_keeps_the_location_rule_and_looks_at_the_numbers():
    assert looks_like_mph([20, 30, 40, 50, 60, 70]) and looks_like_mph([25, 35, 45, float("nan")])
    assert not looks_like_mph([48, 64, 80, 97, 113])
    gb = ([51.5, 51.6, 51.7], [-0.1, -0.2, -0.3])
    assert file_unit("auto", [30, 40, 50], *gb) == ("mph", "")
    assert file_unit("auto", [48, 64, 97], *gb)[0] == "kmh"
    assert file_unit("kmh", [30, 40, 50], *gb) == ("kmh", "")
    assert file_unit("auto", [30, 40], [48.8, 48.9], [2.3, 2.4]) == ("kmh", "")
    assert file_unit("auto", [30, 40, 48], [0, 0, 0], [0, 0, 0], countries=["GB", "GB", "FR"])[0] == "mph"
    assert file_unit("auto", [30, 40, 48], [0, 0, 0], [0, 0, 0], countries=["GB", "GB", "GB"])[0] == "kmh"


def test_canada_and_ireland_post_km_h_though_they_border_mph_countries():
    # Toronto, Ottawa, Montreal, Vancouver lie south of 49 N; Dublin and Letterkenny beside
    # Northern Ireland. Borders, not boxes, say they are km/h countries.
    canada = ([43.65, 45.42, 45.50, 49.28], [-79.38, -75.70, -73.57, -123.12])
    assert file_unit("auto", [40, 50, 60, 70], *canada) == ("kmh", "")
    ireland = ([53.35, 54.95, 53.27], [-6.26, -7.73, -9.05])
    assert file_unit("auto", [50, 60, 80], *ireland) == ("kmh", "")
    # a big file is judged from an even sample of its positions
    many = 20_000
    lat = [51.5 + i * 1e-5 for i in range(many)]
    assert file_unit("auto", [30.0] * many, lat, [-0.1] * many) == ("mph", "")


def uk_cameras():
    rows = [
        dict(id=1, type=T.SPEED, lat=51.507351, lon=-0.127758, speed=48, heading=90.0, dir_mode=1, country="GB"),
        dict(id=2, type=T.SPEED, lat=51.52, lon=-0.14, speed=64, country="GB"),
        dict(id=3, type=T.RED_LIGHT_SPEED, lat=52.48, lon=-1.90, speed=97, heading=180.0, dir_mode=2, country="GB"),
        dict(id=4, type=T.SECTION, lat=53.40, lon=-2.98, speed=113, heading=45.0, dir_mode=1, country="GB",
             end_lat=53.43, end_lon=-2.94),
        dict(id=5, type=T.SPEED, lat=55.95, lon=-3.19, speed=32, country="GB"),
    ]
    return CameraSet.from_records(rows)


@pytest.mark.django_db
@pytest.mark.parametrize("plugin", ["igo", "navitel"])
def test_a_uk_list_we_export_in_km_h_imports_to_the_same_km_h(tmp_path, plugin):
    data = get_exporter(plugin).render(uk_cameras(), ExportOptions()).files[0].data
    path = tmp_path / "speedcam.txt"
    path.write_bytes(data)
    report = import_file(path, source=f"own-{plugin}")
    got = sorted(Camera.objects.values_list("type", "speed", "end_lat", "end_lon"), key=lambda t: t[1])
    first = T.RED_LIGHT_SPEED  # Navitel has its own code 2 for red light + speed, as iGO
    assert got == sorted([(T.SPEED, 48, None, None), (T.SPEED, 64, None, None), (first, 97, None, None),
                          (T.SECTION, 113, 53.43, -2.94), (T.SPEED, 32, None, None)], key=lambda t: t[1])
    assert not any("converted" in n for n in notes_of(report))
    assert any("look like km/h (values such as 32, 48, 64, 97, 113), so they are read as km/h" in n
               for n in notes_of(report))
    headings = dict(Camera.objects.values_list("speed", "heading"))
    assert (headings[48], headings[97], headings[113]) == (90.0, 180.0, 45.0)


# --------------------------------------------------------------------------- Navitel

def test_the_navitel_variant_turns_the_direction_round_and_a_running_idx_is_no_id(tmp_path):
    path = write(tmp_path, "SpeedCam.txt", "IDX,X,Y,TYPE,SPEED,DirType,Direction\n"
                                           "0,30.3622198104858400,59.8564973840760800,5,60,0,0\n"
                                           "1,30.4,59.9,1,60,1,90\n"
                                           "2,30.5,60.0,4,90,2,270\n"
                                           "3,30.6,60.1,1,60,1,0\n")
    records, rejections, notes, _ = read(path)
    assert rejections == []
    got = [(r.ref, r.type, r.kind, r.speed, r.dir_mode, r.heading) for r in records]
    assert got == [
        ("", T.MOBILE_CAMERA, Kind.MOBILE, 60, DirectionMode.ALL, None),
        ("", T.SPEED, Kind.FIXED, 60, DirectionMode.ONE, 270.0),
        ("", T.SECTION_START, Kind.FIXED, 90, DirectionMode.BOTH, 90.0),
        ("", T.SPEED, Kind.FIXED, 60, DirectionMode.ONE, 180.0),
    ]
    assert records[0].lat == pytest.approx(59.85649738407608)
    assert ("IDX counts the rows from 0 (a row number, not an id): the cameras are matched by position, "
            "not by IDX") in notes
    assert detect(path).name == "igo"


def test_navitel_ids_are_refs_and_a_section_written_twice_under_one_id_is_one_camera(tmp_path):
    path = write(tmp_path, "SpeedCam.txt", NAVITEL + "7,2.35,48.85,1,50,1,270\r\n"
                                                     "12,4.35,50.85,4,70,1,225\r\n"
                                                     "12,4.38,50.87,4,70,1,225\r\n"
                                                     "40,4.50,50.90,5,0,0,0\r\n")
    records, _, notes, _ = read(path)
    assert [(r.ref, r.type, r.heading, r.end_lat) for r in records] == [
        ("7", T.SPEED, 90.0, None), ("12", T.SECTION, 45.0, 50.87), ("40", T.MOBILE_CAMERA, None, None)]
    assert not any("IDX" in n for n in notes)


@pytest.mark.django_db
def test_the_command_shows_the_counts_and_the_unit_warning(tmp_path):
    path = write(tmp_path, "gb-kmh.txt", IGO + "-0.12,51.50,1,48,0,0\r\n-0.13,51.51,1,64,0,0\r\n"
                                               "-1.90,52.48,77,97,0,0\r\n")
    out, err = StringIO(), StringIO()
    call_command("import_cameras", str(path), "--source", "gb-cmd", stdout=out, stderr=err)
    assert "iGO TYPE 77 (unknown code): 1 row read as OTHER" in out.getvalue()
    assert "WARNING: most positions lie in countries that post limits in mph" in err.getvalue()
    assert sorted(Camera.objects.values_list("speed", flat=True)) == [48, 64, 97]
    with pytest.raises(CommandError, match="neither iGO"):
        call_command("import_cameras", str(write(tmp_path, "x.txt", "X,Y,KIND\n1,2,3\n")), "--source", "x",
                     "--format", "igo", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_rejected_rows_fail_the_import_unless_skipped(tmp_path):
    path = write(tmp_path, "speedcam.txt", IGO + "2.35,48.85,1,50,0,0\r\n2.36,48.86,1,fifty,0,0\r\n")
    with pytest.raises(ImportFailed, match="1 of 2 rows"):
        import_file(path, source="igo-bad")
    report = import_file(path, source="igo-bad", skip_invalid=True)
    assert [(r.line, r.reason) for r in report.rejections] == [(3, "SPEED 'fifty' is not a number")]
    assert Camera.objects.count() == 1
