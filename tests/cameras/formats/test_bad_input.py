"""Bad input ends cleanly: a listed rejection with file, line and reason, a FormatError or a
command error that says what to do; never a traceback, never a row the database refuses,
never a camera deactivated because a broken row hid it."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from cameras.formats.base import STRAY_QUOTE, FormatError, Record, Rejection, get_reader
from cameras.importing import ImportFailed, import_file
from cameras.models import Camera, CameraLink, MobileReport

REPO = Path(__file__).resolve().parents[3]
HEAD = "ref,lat,lon,speed,road,description\n"


def read(fmt, path):
    items = list(get_reader(fmt).read(path))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- stray quotes

@pytest.mark.parametrize("fmt, text, good", [
    ("csv", HEAD + 'a1,52.5,13.4,50,B2,"Karl-Marx-Allee\na2,48.1,11.5,60,,Stachus\na3,50.1,8.6,70,,Zeil\n', 2),
    ("garmin-csv", '13.4,52.5,"max @50","Berlin\n11.5,48.1,"max @60","Stachus"\n8.6,50.1,"max @70","Zeil"\n', 2),
    ("osm-feed-csv", 'osm_node_id,lat,lon,feed_type\n1,"52.5,13.4,fixed_camera\n2,48.1,11.5,fixed_camera\n'
                     '3,50.1,8.6,fixed_camera\n', 2),
    ("igo", 'X,Y,TYPE,SPEED,DIRTYPE,DIRECTION\n"13.4,52.5,1,50,0,0\n11.5,48.1,1,60,0,0\n8.6,50.1,1,70,0,0\n', 2),
])
def test_a_stray_quote_rejects_its_row_with_the_line_and_the_next_rows_are_read(tmp_path, fmt, text, good):
    records, rejections = read(fmt, write(tmp_path, "f.csv", text))
    first = 2 if fmt != "garmin-csv" else 1
    assert [(r.line, r.reason) for r in rejections] == [(first, STRAY_QUOTE)]
    assert [r.line for r in records] == [first + 1, first + 2]
    assert len(records) == good


def test_a_quoted_line_break_in_the_native_csv_is_still_one_field(tmp_path):
    records, rejections = read("csv", write(tmp_path, "f.csv", HEAD + 'a1,52.5,13.4,50,B2,"two\nlines"\n'
                                                                   'a2,48.1,11.5,60,,x\n'))
    assert rejections == []
    assert [(r.line, r.description) for r in records] == [(2, "two\nlines"), (4, "x")]


@pytest.mark.django_db
def test_with_skip_invalid_cameras_hidden_by_a_stray_quote_are_not_deactivated(tmp_path):
    clean = HEAD + "a1,52.5,13.4,50,,\na2,48.1,11.5,60,,\na3,50.1,8.6,70,,\n"
    import_file(write(tmp_path, "clean.csv", clean), source="feed")
    broken = HEAD + 'a1,52.5,13.4,50,,"oops\na2,48.1,11.5,60,,\n'  # a3 gone, a1 broken
    report = import_file(write(tmp_path, "broken.csv", broken), source="feed", skip_invalid=True)
    assert [(r.line, r.reason) for r in report.rejections] == [(2, STRAY_QUOTE)]
    assert report.deactivated == 0 and "nothing deactivated" in report.summary()
    assert Camera.objects.filter(status="active").count() == 3
    # a clean file deactivates what it lacks
    report = import_file(write(tmp_path, "again.csv", HEAD + "a1,52.5,13.4,50,,\na2,48.1,11.5,60,,\n"),
                         source="feed")
    assert report.deactivated == 1
    assert list(Camera.objects.filter(status="inactive").values_list("links__ref", flat=True)) == ["a3"]


# --------------------------------------------------------------------------- numbers and text

@pytest.mark.parametrize("speed, reason", [
    ("inf", "speed 'inf' is not a number (km/h)"),
    ("1e309", "speed '1e309' is not a number (km/h)"),
    ("9" * 400, f"speed '{'9' * 400}' is not a number (km/h)"),
    ("-5", "speed '-5' is outside 5-300 km/h"),
    ("301", "speed '301' is outside 5-300 km/h"),
])
def test_absurd_speeds_are_rejected_with_a_reason(tmp_path, speed, reason):
    records, rejections = read("csv", write(tmp_path, "f.csv", HEAD + f"a1,52.5,13.4,{speed},,\n"))
    assert records == [] and [(r.line, r.reason) for r in rejections] == [(2, reason)]


def test_absurd_numbers_in_geojson_are_rejected_with_a_reason(tmp_path):
    big = "1" + "0" * 5000  # over Python's 4,300-digit limit for int()
    text = ('{"type": "FeatureCollection", "features": ['
            '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [13.4, ' + big + ']}, "properties": {}},'
            '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [13.4, 52.5]}, '
            '"properties": {"speed": ' + big + '}},'
            '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [13.4, 52.5]}, '
            '"properties": {"speed": 1e309}},'
            '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [13.4, 52.5]}, '
            '"properties": {"heading": NaN}}]}')
    records, rejections = read("geojson", write(tmp_path, "f.geojson", text))
    assert records == []
    assert [r.line for r in rejections] == [1, 2, 3, 4]
    assert "not a finite number" in rejections[0].reason
    assert all(r.reason for r in rejections)


@pytest.mark.django_db
def test_text_and_counts_are_held_to_the_columns_before_the_database(tmp_path):
    long_ref = "r" * 250
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [13.4, 52.5]},
         "properties": {"ref": long_ref + "-1", "road": "B\u00002", "description": "bad \ud800 char",
                        "type": "mobile-zone", "reports": 2 ** 64}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [11.5, 48.1]},
         "properties": {"ref": long_ref + "-2", "road": "x" * 300}},
    ]}
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")  # ensure_ascii: the lone surrogate stays an escape
    report = import_file(path, source="limits")
    assert report.created == 2
    refs = sorted(CameraLink.objects.values_list("ref", flat=True))
    assert len(set(refs)) == 2 and all(len(r) == 200 for r in refs)  # cut, and still two refs
    zone = Camera.objects.get(reports__gt=0)
    assert (zone.road, zone.description, zone.reports) == ("B2", "bad \ufffd char", 2_147_483_647)
    other = Camera.objects.get(reports=0)
    assert other.road == "x" * 199 + "…"
    kinds = report.notes_by_kind()
    assert {k: len(v) for k, v in kinds.items()} == {
        "road: NUL bytes removed": 1,
        "description: invalid characters (lone surrogates) replaced by \ufffd": 1,
        "reports N clamped to N": 1,
        "ref of N characters cut to N (its end replaced by a hash, so refs stay distinct)": 2,
        "road cut from N to N characters": 1,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1850-01-01T00:00:00Z"])
def test_report_times_out_of_range_are_rejected(tmp_path, when):
    path = write(tmp_path, "m.csv", "kind,lat,lon,reported_at\nmobile,48.85661,2.35222,2026-03-01T14:30:00Z\n"
                                    f"mobile,48.8569,2.353,{when}\n")
    report = import_file(path, source="reports", skip_invalid=True)
    assert report.mobile_reports == 1 and MobileReport.objects.count() == 1
    [rej] = report.rejections
    assert rej.line == 3 and "must lie within the years 1970-2100" in rej.reason


def test_osm_json_tag_values_that_are_not_text_are_read_or_dropped(tmp_path):
    elements = [{"type": "node", "id": 1, "lat": 48.1, "lon": 11.5,
                 "tags": {"highway": "speed_camera", "maxspeed": 50, "direction": 90, "name": ["x"]}},
                {"type": "node", "id": 2, "lat": 48.2, "lon": 11.5,
                 "tags": {"highway": "speed_camera", "maxspeed": {"a": 1}, "direction": None}}]
    records, rejections = read("osm", write(tmp_path, "o.json", json.dumps({"version": 0.6, "elements": elements})))
    assert [(r.ref, r.speed, r.heading) for r in records] == [("node/1", 50, 270.0), ("node/2", None, None)]


# --------------------------------------------------------------------------- source names and the command

@pytest.mark.django_db
@pytest.mark.parametrize("name, message", [
    ("x" * 65, "is 65 characters long; at most 64 are allowed"),
    ("fr gov", "may only hold letters, digits, '-' and '_'"),
    ("", "is empty"),
])
def test_a_bad_source_name_is_refused_before_anything_is_read(tmp_path, name, message):
    path = write(tmp_path, "f.csv", HEAD + "a1,52.5,13.4,50,,\n")
    with pytest.raises(CommandError, match=message):
        call_command("import_cameras", str(path), "--source", name, verbosity=0)
    assert Camera.objects.count() == 0


@pytest.mark.django_db
def test_an_import_that_accepts_nothing_fails_also_with_skip_invalid(tmp_path):
    path = write(tmp_path, "f.csv", HEAD + "a1,95,13.4,50,,\na2,52.5,13.4,fast,,\n")
    err = StringIO()
    with pytest.raises(CommandError, match="none of the 2 rows in f.csv could be imported"):
        call_command("import_cameras", str(path), "--source", "feed", "--skip-invalid", stderr=err, verbosity=0)
    assert "f.csv:2: latitude '95' is outside -90..90" in err.getvalue()
    with pytest.raises(ImportFailed):
        import_file(path, source="feed", skip_invalid=True)
    assert Camera.objects.count() == 0


@pytest.mark.django_db
def test_the_command_prints_the_notes_by_kind_with_their_lines(tmp_path):
    rows = "".join(f"a{n},52.5,13.{n},50,{'r' * 210},\n" for n in range(5))
    path = tmp_path / "f.csv"
    path.write_bytes((HEAD + rows + "b1,48.1,11.5,60,,Straße\n").encode("cp1252"))
    out = StringIO()
    call_command("import_cameras", str(path), "--source", "feed", stdout=out, verbosity=0)
    text = out.getvalue()
    assert "notes (what was changed or assumed while reading): 6 in 2 kind(s)" in text
    assert "    5 x road cut from N to N characters" in text
    assert "      f.csv:2: road cut from 210 to 200 characters" in text
    assert "      f.csv:5: road cut" not in text  # the first three lines of a kind
    assert "    1 x the file is not UTF-8 (first non-UTF-8 byte on line N); read as cp1252, the most" in text
    assert "      f.csv: the file is not UTF-8 (first non-UTF-8 byte on line 7); read as cp1252" in text


# --------------------------------------------------------------------------- XML depth

DEEP_GPX = ('<?xml version="1.0"?><gpx version="1.1"><wpt lat="48.1" lon="11.5"><name>max@50</name>'
            + "<extensions>" * 150_000 + "</extensions>" * 150_000 + "</wpt></gpx>")


def test_a_gpx_nested_150000_deep_ends_with_a_message_not_a_crash(tmp_path):
    path = write(tmp_path, "deep.gpx", DEEP_GPX)
    # in a child process: a crash there (a segfault in a recursive walk) is a return code, not a dead run
    env = {"DJANGO_SETTINGS_MODULE": "portal.settings", "PATH": "/usr/bin:/bin",
           "SHARED_DATA_DIR": str(settings.SHARED_DATA_DIR), "VAR_DIR": str(tmp_path / "var")}
    code = ("import django; django.setup()\n"
            "from cameras.formats.base import FormatError, get_reader\n"
            f"try:\n    list(get_reader('gpx').read({str(path)!r}))\n"
            "except FormatError as err:\n    print(err)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"{path}:1: refused: elements nested more than 200 deep (no feed needs that; " \
                                  "the file is broken or crafted)"


@pytest.mark.parametrize("fmt, text", [
    ("kml", '<kml><Document><Placemark><name>max@50</name>' + "<a>" * 300 + "</a>" * 300
            + '<Point><coordinates>13.4,52.5</coordinates></Point></Placemark></Document></kml>'),
    ("dgt-xml", "<RAIZ>" + "<PROVINCIA>" * 250 + "</PROVINCIA>" * 250 + "</RAIZ>"),
])
def test_other_xml_readers_refuse_deep_nesting_too(tmp_path, fmt, text):
    with pytest.raises(FormatError, match="nested more than 200 deep"):
        read(fmt, write(tmp_path, "deep.xml", text))
