"""Encodings: UTF-8 first, BOMs (UTF-8, UTF-16 LE/BE), else the detected legacy encoding,
which is reported as a note; XML declaring UTF-8 but written in Latin-1 is read, not refused."""

import codecs
import json

import pytest

from cameras.formats.base import Record, collecting_notes, decode, get_reader, head_text
from cameras.importing import import_file
from cameras.models import Camera

CSV_HEAD = "ref,lat,lon,description\n"


def read(fmt, path):
    with collecting_notes() as notes:
        items = list(get_reader(fmt).read(path))
    return [i for i in items if isinstance(i, Record)], notes


def test_a_cp437_csv_reads_its_names_right_and_notes_the_encoding(tmp_path):
    path = tmp_path / "dos.csv"
    path.write_bytes((CSV_HEAD + "d1,52.5,13.4,Hauptstraße Köln\ne1,40.4,-3.7,Calle Ñandú España\n").encode("cp437"))
    records, notes = read("csv", path)
    assert [r.description for r in records] == ["Hauptstraße Köln", "Calle Ñandú España"]
    assert len(notes) == 1 and "read as cp437" in notes[0][1] and "line 2" in notes[0][1]


@pytest.mark.parametrize("encoding, text", [
    ("cp1252", "München Straße, “Stachus” 20 €"),
    ("cp1250", "Łódź ulica Żółkiewskiego"),
    ("cp1251", "Москва улица Тверская"),
    ("koi8_r", "Москва улица Тверская"),
    ("cp866", "Москва улица Тверская"),
    ("iso8859_7", "Αθήνα οδός Πανεπιστημίου"),
])
def test_legacy_encodings_are_detected(encoding, text):
    data = (CSV_HEAD + f"x1,48.1,11.5,\"{text}\"\n").encode(encoding)
    with collecting_notes() as notes:
        decoded, used = decode(data)
    assert decoded.endswith(f'"{text}"\n')
    assert notes == [(0, f"the file is not UTF-8 (first non-UTF-8 byte on line 2); read as {used}, the most "
                         f"plausible encoding; save it as UTF-8 to be sure")]


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                                        (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_a_csv_with_a_byte_order_mark_reads_without_a_note(tmp_path, bom, codec):
    path = tmp_path / "bom.csv"
    path.write_bytes(bom + (CSV_HEAD + "d1,52.5,13.4,Straße\n").encode(codec))
    records, notes = read("csv", path)
    assert [(r.ref, r.description) for r in records] == [("d1", "Straße")]
    assert notes == []


def test_a_utf16_geojson_with_bom_reads(tmp_path):
    path = tmp_path / "cams.geojson"
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [13.4, 52.5]},
         "properties": {"ref": "b1", "description": "Straße"}}]}
    path.write_bytes(codecs.BOM_UTF16_LE + json.dumps(doc, ensure_ascii=False).encode("utf-16-le"))
    records, notes = read("geojson", path)
    assert [(r.ref, r.description) for r in records] == [("b1", "Straße")]


def test_a_utf8_file_has_no_encoding_note(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text(CSV_HEAD + "d1,52.5,13.4,Straße\n", encoding="utf-8")
    assert read("csv", path)[1] == []


GPX_LATIN1 = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="test" '
              'xmlns="http://www.topografix.com/GPX/1/1">\n'
              '<wpt lat="48.137" lon="11.575"><name>max@50</name><desc>München Straße</desc></wpt>\n'
              '<wpt lat="48.2" lon="11.6"><name>Redlight@60</name><desc>Café</desc></wpt>\n</gpx>\n')


@pytest.mark.django_db
def test_a_latin1_gpx_declared_utf8_imports_with_its_names_and_a_note(tmp_path):
    path = tmp_path / "latin.gpx"
    path.write_bytes(GPX_LATIN1.encode("latin-1"))
    report = import_file(path, source="gpx-test")
    assert report.created == 2
    assert sorted(Camera.objects.values_list("description", flat=True)) == ["Café", "München Straße"]
    assert report.notes == [(3, "the XML declares UTF-8 but is not (first non-UTF-8 byte on line 3); read as "
                                "cp1252, the most plausible encoding; save it as UTF-8 to be sure")]
    assert "the XML declares UTF-8 but is not" in report.summary()


def test_a_kml_in_cp1252_without_declaration_reads(tmp_path):
    path = tmp_path / "cams.kml"
    path.write_bytes(('<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Straße@50</name>'
                      '<Point><coordinates>13.4,52.5</coordinates></Point></Placemark></Document></kml>')
                     .encode("cp1252"))
    records, notes = read("kml", path)
    assert [r.speed for r in records] == [50]
    assert "read as cp1252" in notes[0][1]


@pytest.mark.parametrize("encoding, word", [("cp1250", "Długość;Prędkość"), ("cp1252", "Länge;Straße"),
                                            ("cp1251", "долгота;скорость")])
def test_every_sniffer_sees_a_legacy_encoded_head_as_the_readers_decode_it(encoding, word):
    head = f"{word}\n1;2\n".encode(encoding)
    assert head_text(head) == f"{word}\n1;2\n"
    # UTF-8 with a multi-byte character cut at the end of the sniffed head stays UTF-8
    assert head_text("Länge;Straß".encode("utf-8")[:-1]) == "Länge;Stra"
