"""Named points: GPX, KML, Garmin POI Loader CSV and OV2 read types, speeds, names and OSM tags.

Small inputs in the shapes people publish: an Overpass GPX export with the tags in ``<desc>``,
a US city KML of street segments with "25 MPH", names in German, Italian, Dutch and Spanish,
and the project's own exports read back.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from django.core.management import call_command

from cameras.formats.base import Record, collecting_notes, detect, get_reader
from cameras.formats.keywords import keyword_type
from cameras.formats.mapping import Mapping
from cameras.formats.options import session
from cameras.formats.osm_tags import point_tags, tag_lines
from cameras.formats.text_helpers import (
    EXPORT_LABELS,
    camera_number,
    classify,
    classify_name,
    classify_poi,
    export_name,
    text_speed,
)
from cameras.importing import import_file
from cameras.models import Camera, Source
from exporters.base import CameraSet, ExportOptions, get_exporter
from exporters.common import SHORT_LABELS
from exporters.schema import CameraType, DirectionMode, Kind

T = CameraType


def read(fmt: str, path: Path, speed_unit: str | None = None):
    """(records, rejections, file notes) of ``path`` read with reader ``fmt``."""
    records, rejections = [], []
    with collecting_notes() as notes, session(speed_unit=speed_unit):
        for item in get_reader(fmt).read(path):
            (records if isinstance(item, Record) else rejections).append(item)
    return records, rejections, [text for _, text in notes]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --------------------------------------------------------------------------- OSM tags in GPX / KML

# overpass turbo's GPX export (togpx): the name is name=, else ref=, else the OSM id; the
# description is the tags, one key=value per line
OVERPASS_GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="overpass-ide" xmlns="http://www.topografix.com/GPX/1/1">
<metadata><copyright author="OpenStreetMap contributors"/></metadata>
<wpt lat="52.5200080" lon="13.4049540"><name>node/2470352743</name><desc>@id=node/2470352743
highway=speed_camera
maxspeed=50
direction=90
enforcement=maxspeed</desc><link href="https://osm.org/browse/node/2470352743"/></wpt>
<wpt lat="48.1371540" lon="11.5761240"><name>Stachus</name><desc>@id=node/301
highway=speed_camera
name=Stachus
enforcement=maxspeed;traffic_signals
maxspeed=60
direction=N;S</desc></wpt>
<wpt lat="51.5073510" lon="-0.1277580"><name>GB-12</name><desc>id=node/302
highway=speed_camera
maxspeed=30 mph
camera:type=mobile
ref=GB-12</desc></wpt>
<wpt lat="50.1" lon="8.6"><name>node/303</name><desc>highway=speed_camera
enforcement=average_speed
maxspeed=DE:urban
direction=forward</desc></wpt>
<wpt lat="50.2" lon="8.7"><name>node/304</name><desc>highway=speed_camera
enforcement=noise_level;toll
maxspeed:hgv=60</desc></wpt>
</gpx>
"""


def test_an_overpass_gpx_export_reads_its_tags_like_the_osm_reader(tmp_path):
    path = write(tmp_path, "overpass.gpx", OVERPASS_GPX)
    assert detect(path).name == "gpx"
    records, rejections, _ = read("gpx", path)
    assert rejections == []
    plain, red, mobile, section, other = records
    assert (plain.ref, plain.type, plain.speed, plain.heading, plain.dir_mode, plain.description) == (
        "node/2470352743", T.SPEED, 50, 270.0, DirectionMode.ONE, "")  # faces east: traffic goes west
    assert (red.ref, red.type, red.speed, red.dir_mode, red.description) == (
        "node/301", T.RED_LIGHT_SPEED, 60, DirectionMode.BOTH, "Stachus")
    assert (mobile.ref, mobile.type, mobile.kind, mobile.speed, mobile.description) == (
        "node/302", T.MOBILE_CAMERA, Kind.MOBILE, 48, "ref GB-12")
    assert (section.ref, section.type, section.speed, section.heading) == ("node/303", T.SECTION_START, None, None)
    assert section.notes == [
        "enforcement=average_speed on a single point: read as a section start",
        "maxspeed 'DE:urban' is not a speed in km/h; speed left empty",
        "direction=forward refers to the way the camera is on, which is not in the file; direction left open"]
    assert (other.type, other.truck_speed) == (T.OTHER, 60)
    assert other.notes == ["enforcement=toll is not camera enforcement; left out",
                           "enforcement=noise_level is not a known camera type; read as other"]


def test_the_osm_reader_and_the_gpx_reader_read_the_same_tags_the_same_way(tmp_path):
    osm = write(tmp_path, "cams.osm", """<?xml version="1.0"?><osm version="0.6">
<node id="2470352743" lat="52.520008" lon="13.404954"><tag k="highway" v="speed_camera"/>
<tag k="maxspeed" v="50"/><tag k="direction" v="90"/><tag k="enforcement" v="maxspeed"/></node>
<node id="301" lat="48.137154" lon="11.576124"><tag k="highway" v="speed_camera"/><tag k="name" v="Stachus"/>
<tag k="enforcement" v="maxspeed;traffic_signals"/><tag k="maxspeed" v="60"/><tag k="direction" v="N;S"/></node>
<node id="302" lat="51.507351" lon="-0.127758"><tag k="highway" v="speed_camera"/>
<tag k="maxspeed" v="30 mph"/><tag k="camera:type" v="mobile"/><tag k="ref" v="GB-12"/></node>
</osm>""")
    from_osm, _, _ = read("osm", osm)
    from_gpx, _, _ = read("gpx", write(tmp_path, "overpass.gpx", OVERPASS_GPX))
    fields = ("ref", "type", "kind", "speed", "heading", "dir_mode", "description")
    assert [tuple(getattr(r, f) for f in fields) for r in from_osm] == \
           [tuple(getattr(r, f) for f in fields) for r in from_gpx[:3]]


def test_tags_in_a_kml_description_or_extended_data_are_read_as_osm_tags(tmp_path):
    path = write(tmp_path, "overpass.kml", """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>node/77</name><description>highway=speed_camera<br/>maxspeed=30 mph<br/>direction=180<br/>
enforcement=maxspeed</description><Point><coordinates>-0.1,51.5</coordinates></Point></Placemark>
<Placemark><name>Rotlicht Kreuzung</name><ExtendedData><Data name="@id"><value>node/78</value></Data>
<Data name="highway"><value>speed_camera</value></Data><Data name="enforcement"><value>traffic_signals</value></Data>
<Data name="direction"><value>W</value></Data></ExtendedData>
<Point><coordinates>13.4,52.5</coordinates></Point></Placemark>
</Document></kml>""")
    records, rejections, _ = read("kml", path)
    assert rejections == []
    speed, red = records
    assert (speed.ref, speed.type, speed.speed, speed.heading, speed.dir_mode) == (
        "node/77", T.SPEED, 48, 0.0, DirectionMode.ONE)
    assert (red.ref, red.type, red.heading, red.description) == ("node/78", T.RED_LIGHT, 90.0, "Rotlicht Kreuzung")


@pytest.mark.parametrize("text", [
    "Lille vers Paris A1",                   # free text
    "maxspeed is 50\nhighway=speed_camera",  # one line is not a tag
    "name=Foo\nnote=bar",                    # no camera key
])
def test_a_description_is_tags_only_when_every_line_is_one_and_a_camera_key_is_there(text):
    assert tag_lines(text) is None


def test_tags_joined_on_one_line_are_split_at_each_key(tmp_path):
    # A tool that flattened the desc's lines: each value runs to the next "key=" after a space.
    assert tag_lines("highway=speed_camera name=Blitzer Leopoldstraße maxspeed=50 direction=NE") == {
        "highway": "speed_camera", "name": "Blitzer Leopoldstraße", "maxspeed": "50", "direction": "NE"}
    assert tag_lines("highway=speed_camera website=https://x.org/?a=b") == {
        "highway": "speed_camera", "website": "https://x.org/?a=b"}
    path = write(tmp_path, "flat.gpx", """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="overpass turbo" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="48.1371" lon="11.5754"><name>node/1004</name>
<desc>highway=speed_camera maxspeed=80 direction=NE name=Blitzer Leopoldstraße</desc></wpt>
</gpx>""")
    (record,), rejections, _ = read("gpx", path)
    assert rejections == []
    assert (record.ref, record.speed, record.heading, record.description) == (
        "node/1004", 80, 225.0, "Blitzer Leopoldstraße")  # faces NE: traffic goes SW


def test_osm_tag_values_of_other_shapes_are_noted_not_rejected():
    point = point_tags({"highway": "speed_camera", "maxspeed": "RO:urban", "direction": "up", "id": "1234"})
    assert (point.ref, point.type, point.speed, point.heading) == ("node/1234", T.SPEED, None, None)
    assert point.notes == ["maxspeed 'RO:urban' is not a speed in km/h; speed left empty",
                           "direction='up' is not degrees, a compass point or forward/backward; direction left open"]


# --------------------------------------------------------------------------- a US city KML

CITY_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Speed Safety Cameras</name>
<Placemark><name>Bayshore Blvd from Cortland Ave to Tunnel Ave</name>
  <description><![CDATA[<b>Posted limit:</b> 25 MPH<br/>School zone camera]]></description>
  <Point><coordinates>-122.4041,37.7391,0</coordinates></Point></Placemark>
<Placemark><name>Geary Blvd between 10th Ave and 12th Ave</name><description>Speed limit 35</description>
  <Point><coordinates>-122.4690,37.7810</coordinates></Point></Placemark>
<Placemark><name>Red light camera - Market St and 5th St</name>
  <Point><coordinates>-122.4080,37.7830</coordinates></Point></Placemark>
<Placemark><name>Fulton St from Stanyan St to Tunnel Ave</name><description>Speed camera, 40 km/h</description>
  <Point><coordinates>-122.4540,37.7750</coordinates></Point></Placemark>
</Document></kml>"""


def test_a_us_city_kml_keeps_street_segments_as_roads_and_reads_mph(tmp_path):
    records, rejections, notes = read("kml", write(tmp_path, "sf.kml", CITY_KML))
    assert rejections == []
    got = [(r.type, r.speed, r.road, r.description) for r in records]
    assert got == [
        (T.SPEED, 40, "Bayshore Blvd from Cortland Ave to Tunnel Ave", "Posted limit: 25 MPH School zone camera"),
        (T.SPEED, 56, "Geary Blvd between 10th Ave and 12th Ave", "Speed limit 35"),  # bare, in the US: mph
        (T.RED_LIGHT, None, "", "Red light camera - Market St and 5th St"),
        (T.SPEED, 40, "Fulton St from Stanyan St to Tunnel Ave", "Speed camera, 40 km/h"),  # its unit wins
    ]
    assert any("read as mph" in n for n in notes)


def test_the_speed_unit_option_decides_bare_numbers_and_explicit_units_still_win(tmp_path):
    records, _, notes = read("kml", write(tmp_path, "sf.kml", CITY_KML), speed_unit="kmh")
    assert [r.speed for r in records] == [40, 35, None, 40]
    assert not any("read as mph" in n for n in notes)


# --------------------------------------------------------------------------- names in several languages

@pytest.mark.parametrize("name, expected", [
    ("Rotlichtblitzer Leopoldstraße@50", (T.RED_LIGHT, Kind.FIXED, 50)),
    ("Blitzer Abschnittskontrolle A2 Ende@100", (T.SECTION_END, Kind.FIXED, 100)),
    ("Mobiler Blitzer B96", (T.MOBILE_CAMERA, Kind.MOBILE, None)),
    ("Autovelox Tutor A1 inizio@130", (T.SECTION_START, Kind.FIXED, 130)),
    ("Semaforo rosso Via Roma@50", (T.RED_LIGHT, Kind.FIXED, 50)),
    ("Galleria del Gran Sasso@80", (T.TUNNEL, Kind.FIXED, 80)),
    ("Trajectcontrole A2 begin@100", (T.SECTION_START, Kind.FIXED, 100)),
    ("Flitspaal roodlicht Damrak@50", (T.RED_LIGHT, Kind.FIXED, 50)),
    ("Mobiele flitser N201", (T.MOBILE_CAMERA, Kind.MOBILE, None)),
    ("Radar de tramo A-6 inicio@120", (T.SECTION_START, Kind.FIXED, 120)),
    ("Semáforo Gran Vía@50", (T.RED_LIGHT, Kind.FIXED, 50)),
    ("Carril bus Castellana", (T.BUS_LANE, Kind.FIXED, None)),
    ("Passage à niveau D723", (T.LEVEL_CROSSING, Kind.FIXED, None)),
    ("Contrôle de police", (T.POLICE_CHECK, Kind.MOBILE, None)),
    ("Speed camera near Tunnel Rd@40", (T.SPEED, Kind.FIXED, 40)),
    ("Bus stop Main St@30", (T.SPEED, Kind.FIXED, 30)),
    ("Radar feu rouge", (T.RED_LIGHT, Kind.FIXED, None)),   # "radar" means camera, not speed
    ("Itinéraire RD 1075@80", (T.ROUTE_ENFORCEMENT, Kind.FIXED, 80)),
])
def test_garmin_and_gpx_names_in_several_languages(name, expected):
    assert classify_name(name) == expected
    info = classify(name)
    assert (info.type, info.kind, info.speed) == expected


def test_one_classifier_for_tables_and_names():
    for name in ("Rotlicht", "tronçon", "trajectcontrole", "semaforo", "Mobiler Blitzer", "average"):
        assert classify(name).type == keyword_type(name, False)


def test_gpx_names_in_several_languages_are_typed_and_kept(tmp_path):
    path = write(tmp_path, "eu.gpx", """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="48.15" lon="11.58"><name>Rotlichtblitzer Leopoldstraße@50</name><desc>Richtung Süden</desc></wpt>
<wpt lat="44.49" lon="11.34"><name>Autovelox Tutor A14 inizio@130</name></wpt>
<wpt lat="52.37" lon="4.89"><name>Flitspaal roodlicht Damrak@50</name></wpt>
<wpt lat="40.42" lon="-3.70"><name>Radar de tramo M-30</name><desc>Velocidad media 70 km/h</desc></wpt>
<wpt lat="45.92" lon="6.87"><name>Tunnel du Mont-Blanc</name><desc>Radar, 70 km/h</desc></wpt>
<wpt lat="48.86" lon="2.35"><name>max@50</name><desc>Paris vers Lyon A6</desc></wpt>
</gpx>""")
    records, rejections, _ = read("gpx", path)
    assert rejections == []
    assert [(r.type, r.speed, r.description) for r in records] == [
        (T.RED_LIGHT, 50, "Rotlichtblitzer Leopoldstraße: Richtung Süden"),
        (T.SECTION_START, 130, "Autovelox Tutor A14 inizio"),
        (T.RED_LIGHT, 50, "Flitspaal roodlicht Damrak"),
        (T.SECTION_START, 70, "Radar de tramo M-30: Velocidad media 70 km/h"),
        (T.TUNNEL, 70, "Tunnel du Mont-Blanc: Radar, 70 km/h"),
        (T.SPEED, 50, "Paris vers Lyon A6"),  # "max@50" says nothing more than type and speed
    ]


def test_garmin_csv_names_in_several_languages_are_typed_and_kept(tmp_path):
    path = write(tmp_path, "eu.csv",
                 '11.58,48.15,"Rotlichtblitzer Leopoldstraße@50","Richtung Süden"\n'
                 '11.34,44.49,"Autovelox Tutor A14 inizio@130",""\n'
                 '4.89,52.37,"Mobiele flitser Damrak","Amsterdam"\n'
                 '-3.70,40.42,"Semáforo Gran Vía@50","Madrid centro"\n'
                 '2.35,48.86,"max @50","Paris vers Lyon A6"\n'
                 '2.36,48.87,"stop","FR Radar Feu Rouge FR"\n')
    records, rejections, _ = read("garmin-csv", path)
    assert rejections == []
    assert [(r.type, r.kind, r.speed, r.description) for r in records] == [
        (T.RED_LIGHT, Kind.FIXED, 50, "Rotlichtblitzer Leopoldstraße: Richtung Süden"),
        (T.SECTION_START, Kind.FIXED, 130, "Autovelox Tutor A14 inizio@130"),  # a name alone, as written
        (T.MOBILE_CAMERA, Kind.MOBILE, None, "Mobiele flitser Damrak: Amsterdam"),
        (T.RED_LIGHT, Kind.FIXED, 50, "Semáforo Gran Vía: Madrid centro"),
        (T.SPEED, Kind.FIXED, 50, "Paris vers Lyon A6"),
        (T.RED_LIGHT, Kind.FIXED, None, "FR Radar Feu Rouge FR"),
    ]
    assert records[-1].country == "FR"


# --------------------------------------------------------------------------- names that say no type

def ov2_poi(lon: float, lat: float, name: bytes) -> bytes:
    body = name + b"\0"
    return struct.pack("<Biii", 2, 13 + len(body), round(lon * 1e5), round(lat * 1e5)) + body


NUMBERED = ov2_poi(-75.74, 45.28, b"Camera E001") + ov2_poi(-75.45, 45.47, b"Camera E002")


@pytest.mark.parametrize("text, number", [
    ("E001", True), ("ASE-017", True), ("0012", True), ("#12", True), ("No. 5", True),
    ("A7", False), ("M25", False), ("N7", False), ("B2", False), ("I-95", False), ("D 1075", False),
    ("E40", False), ("Rue de Rivoli", False),
])
def test_a_camera_number_is_no_road(text, number):
    assert camera_number(text) is number
    # "Camera <road>" is our export of an OTHER camera on that road; "Camera E001" is not ours
    assert (export_name(f"Camera {text}", " ") is None) is number


def test_zero_padded_roads_after_our_other_labels_are_roads():
    # Spanish provincial roads (DGT list): BA-060, OU-0209
    assert export_name("Mobile zone BA-060", " ").road == "BA-060"
    assert export_name("Speed 50 OU-0209", " ").road == "OU-0209"


def test_an_ov2_of_numbered_cameras_takes_the_type_its_file_name_says(tmp_path):
    path = write(tmp_path, "ca_ottawa_speed_cameras_2025.ov2", NUMBERED)
    records, rejections, notes = read("ov2", path)
    assert rejections == []
    assert [(r.type, r.kind, r.road, r.description) for r in records] == [
        (T.SPEED, Kind.FIXED, "", "Camera E001"), (T.SPEED, Kind.FIXED, "", "Camera E002")]
    assert notes == ["2 record(s) whose names say no camera type read as speed: the type the file name "
                     "'ca_ottawa_speed_cameras_2025.ov2' says; give a mapping file a [defaults] type if that "
                     "is wrong"]
    red = write(tmp_path, "RedLightCameras.ov2", NUMBERED)
    assert {r.type for r in read("ov2", red)[0]} == {T.RED_LIGHT}


def test_without_a_type_in_the_names_or_the_file_name_the_type_is_other_and_noted(tmp_path):
    path = write(tmp_path, "pois.ov2", ov2_poi(13.40, 52.52, b"Camera E001") + ov2_poi(13.41, 52.53, b"Camera E002")
                 + ov2_poi(13.42, 52.54, b"max 50"))
    records, _, notes = read("ov2", path)
    assert [(r.type, r.speed) for r in records] == [(T.OTHER, None), (T.OTHER, None), (T.SPEED, 50)]
    assert len(notes) == 1 and notes[0].startswith("2 record(s) whose names say no camera type read as other: "
                                                   "neither the names nor the file name 'pois.ov2' say a type")


def test_the_mappings_default_type_wins_over_the_file_name(tmp_path):
    path = write(tmp_path, "speed_cameras.ov2", NUMBERED)
    mapping = Mapping()
    mapping.defaults = {"type": "red-light"}  # a mapping file's [defaults] type = "red-light"
    with collecting_notes() as notes, session(mapping):
        records = list(get_reader("ov2").read(path))
    assert {r.type for r in records} == {T.RED_LIGHT}
    assert [text for _, text in notes] == [
        "2 record(s) whose names say no camera type read as red-light: the mapping's [defaults] type"]


@pytest.mark.django_db
def test_a_mapping_files_default_type_for_an_ov2_is_kept_for_the_sources_next_imports(tmp_path):
    path = write(tmp_path, "pois.ov2", NUMBERED)
    mapping = write(tmp_path, "map.toml", '[defaults]\ntype = "speed"\n')
    call_command("import_cameras", str(path), "--source", "ottawa", "--map", str(mapping), verbosity=0)
    assert set(Camera.objects.values_list("type", flat=True)) == {T.SPEED}
    assert Source.objects.get(name="ottawa").table_mapping["defaults"] == {"type": "speed"}
    # without --map the stored mapping applies: the cameras stay speed cameras (not OTHER)
    call_command("import_cameras", str(path), "--source", "ottawa", verbosity=0)
    assert set(Camera.objects.values_list("type", flat=True)) == {T.SPEED}


def test_garmin_gpx_and_kml_points_without_a_type_take_the_comment_or_the_files_type(tmp_path):
    garmin = write(tmp_path, "speed_cameras.csv", '-75.74,45.28,"Camera E001","Red light camera"\n'
                                                  '-75.45,45.47,"Camera E002",""\n'
                                                  '-75.46,45.48,"Camera E003","Speed Camera"\n')
    records, _, notes = read("garmin-csv", garmin)
    assert [r.type for r in records] == [T.RED_LIGHT, T.SPEED, T.SPEED]
    assert notes == ["1 record(s) whose names say no camera type read as speed: the type the file name "
                     "'speed_cameras.csv' says; give a mapping file a [defaults] type if that is wrong"]
    gpx = write(tmp_path, "red_light_cameras.gpx", """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="43.65" lon="-79.38"><name>PX 1234</name><desc>Jarvis St and Dundas St</desc></wpt>
<wpt lat="43.66" lon="-79.39"><name>Speed camera@40</name></wpt>
</gpx>""")
    records, _, _ = read("gpx", gpx)
    assert [r.type for r in records] == [T.RED_LIGHT, T.SPEED]
    kml = write(tmp_path, "points.kml", """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>Site 17</name><Point><coordinates>-0.1,51.5</coordinates></Point></Placemark>
<Placemark><name>Site 18</name><LineString><coordinates>-0.1,51.5 -0.2,51.6</coordinates></LineString></Placemark>
</Document></kml>""")
    records, _, notes = read("kml", kml)
    assert [r.type for r in records] == [T.OTHER, T.SECTION]  # a line is a section whatever its name
    assert len(notes) == 1 and notes[0].startswith("1 record(s) whose names say no camera type read as other")


# --------------------------------------------------------------------------- speeds in text

@pytest.mark.parametrize("text, expected", [
    ("max@130", (130.0, "")), ("Camera@30 mph", (30.0, "mph")), ("25 MPH", (25.0, "mph")),
    ("Zone 50 km/h", (50.0, "kmh")), ("50km/h", (50.0, "kmh")), ("Speed limit 35", (35.0, "")),
    ("A9 km 120", None), ("Ponte 25 de Abril", None), ("IT Radar Fixe IT 130", None), ("limit 4.5t", None),
    # a limit ending a name right after a camera word; not a device or road number
    ("Speed camera 30", (30.0, "")), ("Radar fixe 50", (50.0, "")), ("A40 camera", None), ("camera 2", None),
    ("Camera 25", (25.0, "")), ("Camera 135", None), ("Radar 015", None), ("Blitzer A7 100", None),
])
def test_speeds_written_in_names_and_descriptions(text, expected):
    found, _ = text_speed(text)
    assert (None if found is None else (found.number, found.unit)) == expected


def test_a_uk_garmin_list_in_mph_is_converted_and_the_guess_is_noted(tmp_path):
    path = write(tmp_path, "uk.csv", '-0.12,51.50,"Speed camera@30",""\n-1.90,52.48,"Speed camera@40",""\n'
                                     '-2.24,53.48,"Speed camera@70",""\n-2.25,53.49,"Speed camera@50 km/h",""\n')
    records, _, notes = read("garmin-csv", path)
    assert [r.speed for r in records] == [48, 64, 113, 50]
    assert any("3 speed(s) without a unit read as mph" in n for n in notes)
    records, _, _ = read("garmin-csv", path, speed_unit="kmh")
    assert [r.speed for r in records] == [30, 40, 70, 50]


def test_a_speed_that_is_too_high_in_mph_is_rejected_with_the_name(tmp_path):
    path = write(tmp_path, "us.csv", '-122.40,37.78,"Camera@30",""\n-122.41,37.79,"Camera@250",""\n')
    records, rejections, _ = read("garmin-csv", path, speed_unit="mph")
    assert [r.speed for r in records] == [48]
    assert [(r.line, r.reason) for r in rejections] == [
        (2, "speed '250' is outside 5-300 km/h (read as mph) (name 'Camera@250')")]


# --------------------------------------------------------------------------- our own exports, read back

OWN_ROWS = [  # US and UK cameras: their km/h values are not multiples of 5, as mph limits are
    dict(id=1, type=T.SPEED, lat=40.712776, lon=-74.005974, speed=48, country="US", road="Broadway",
         description="30 mph zone"),
    dict(id=2, type=T.RED_LIGHT_SPEED, lat=51.507351, lon=-0.127758, speed=64, country="GB", road="Strand",
         description="Red light, 40 mph"),
    dict(id=3, type=T.SPEED, lat=53.480759, lon=-2.242631, speed=113, country="GB", road="M60",
         description=""),
    dict(id=4, type=T.TUNNEL, lat=51.50, lon=0.01, speed=80, country="GB", road="Blackwall Tunnel",
         description="Northbound bore"),
    dict(id=5, type=T.SPEED, lat=34.052235, lon=-118.243683, speed=97, country="US", road="",
         description="Interstate 10"),
]


def own_files(identifier: str, suffix: str, tmp_path: Path, speed_unit: str = "auto",
              rows: list[dict] = OWN_ROWS) -> list[Path]:
    result = get_exporter(identifier).render(CameraSet.from_records(rows),
                                             ExportOptions(mobile=True, speed_unit=speed_unit))
    paths = []
    for f in result.files:
        if f.name.endswith(suffix):
            path = tmp_path / Path(f.name).name
            path.write_bytes(f.data)
            paths.append(path)
    return paths


# French cameras: km/h limits, which an mph export writes as 31, 56, 81 (not multiples of 5).
FR_ROWS = [
    dict(id=11, type=T.SPEED, lat=48.8566, lon=2.3522, speed=50, country="FR", road="Rue de Rivoli",
         description="Paris centre"),
    dict(id=12, type=T.SPEED, lat=45.7640, lon=4.8357, speed=90, country="FR", road="D383", description=""),
    dict(id=13, type=T.SPEED, lat=43.2965, lon=5.3698, speed=130, country="FR", road="A7", description=""),
    dict(id=14, type=T.RED_LIGHT_SPEED, lat=44.8378, lon=-0.5792, speed=70, country="FR", road="Cours Victor Hugo",
         description=""),
    dict(id=15, type=T.ROUTE_ENFORCEMENT, lat=47.2184, lon=-1.5536, speed=110, country="FR", road="RN165",
         description=""),
]  # (a lone 80 km/h would be ambiguous in a one-row file in mph: "@50" is also a km/h limit)
OWN_FORMATS = [("gpx", "gpx", ".gpx"), ("kml", "kml", ".kml"), ("garmin-poi-csv", "garmin-csv", ".csv"),
               ("tomtom-ov2", "ov2", ".ov2")]


# The names carry mph for GB/US cameras ("Speed 30 mph A40", POI Loader "@30" in the package's
# unit) with the default "auto", and the buyer may ask for km/h or mph everywhere: reading
# any of these back gives the stored km/h, type and road.
@pytest.mark.parametrize("speed_unit", ["auto", "kmh", "mph"])
@pytest.mark.parametrize("rows", [OWN_ROWS, FR_ROWS], ids=["us-uk", "fr"])
@pytest.mark.parametrize("identifier, fmt, suffix", OWN_FORMATS)
def test_our_own_exports_of_us_and_uk_cameras_read_back_to_the_same_km_h_types_and_roads(
        identifier, fmt, suffix, rows, speed_unit, tmp_path):
    got = {}
    paths = own_files(identifier, suffix, tmp_path, speed_unit, rows)
    assert paths
    for path in paths:
        records, rejections, _ = read(fmt, path)
        assert rejections == []
        for rec in records:
            got.setdefault((round(rec.lat, 4), round(rec.lon, 4)), rec)
    assert len(got) == len(rows)
    for row in rows:
        rec = got[(round(row["lat"], 4), round(row["lon"], 4))]
        assert (rec.speed, rec.type, rec.road) == (row["speed"], row["type"], row["road"]), (identifier, row)
        if fmt in ("kml", "garmin-csv"):
            assert rec.description == row["description"], (identifier, row)


def test_a_poi_loader_export_in_mph_is_told_from_one_in_km_h_by_its_numbers(tmp_path):
    # Same US/UK cameras, same positions: "@30" (mph package) and "@48" (km/h package).
    mph, = own_files("garmin-poi-csv", "Speed cameras.csv", tmp_path / "mph", "mph") if (tmp_path / "mph").mkdir() \
        is None else []
    kmh, = own_files("garmin-poi-csv", "Speed cameras.csv", tmp_path / "kmh", "kmh") if (tmp_path / "kmh").mkdir() \
        is None else []
    assert "@30" in mph.read_text() and "@48" in kmh.read_text()
    assert [r.speed for r in read("garmin-csv", mph)[0]] == [r.speed for r in read("garmin-csv", kmh)[0]] \
        == [48, 113, 80, 97]


def test_the_export_labels_the_readers_know_are_the_exporters_labels():
    assert EXPORT_LABELS == {label: type_ for type_, label in SHORT_LABELS.items()}


def test_a_third_party_ov2_is_not_taken_for_ours(tmp_path):
    def poi(lon, lat, name):
        body = name + b"\0"
        return struct.pack("<Biii", 2, 13 + len(body), round(lon * 1e5), round(lat * 1e5)) + body
    path = write(tmp_path, "uk.ov2", poi(-0.12, 51.50, b"Speed 30 Strand") + poi(-1.9, 52.48, b"max 40"))
    records, _, _ = read("ov2", path)
    assert [(r.speed, r.road, r.description) for r in records] == [
        (None, "", "Speed 30 Strand"), (64, "", "max 40")]  # max 40: a bare number in the UK is mph
    assert classify_poi("Speed 30 Strand").speed is None


# --------------------------------------------------------------------------- through the importer

@pytest.mark.django_db
def test_an_overpass_gpx_imports_with_its_refs_speeds_and_directions(tmp_path):
    report = import_file(write(tmp_path, "overpass.gpx", OVERPASS_GPX), source="overpass-gpx", skip_invalid=True)
    assert report.rejections == []
    stored = {c.source_ref: c for c in Camera.objects.filter(source__name="overpass-gpx")}
    assert set(stored) == {"node/2470352743", "node/301", "node/302", "node/303", "node/304"}
    assert (stored["node/2470352743"].speed, stored["node/2470352743"].heading) == (50, 270.0)
    assert (stored["node/301"].type, stored["node/302"].speed) == (T.RED_LIGHT_SPEED, 48)
    assert any("average_speed on a single point" in text for _, text in report.notes)


@pytest.mark.django_db
def test_a_us_city_kml_imports_street_segments_as_roads_and_25_mph_as_40(tmp_path):
    import_file(write(tmp_path, "sf.kml", CITY_KML), source="sf-kml")
    stored = {c.road: c for c in Camera.objects.filter(source__name="sf-kml")}
    bayshore = stored["Bayshore Blvd from Cortland Ave to Tunnel Ave"]
    assert (bayshore.type, bayshore.speed) == (T.SPEED, 40)
    assert stored["Fulton St from Stanyan St to Tunnel Ave"].type == T.SPEED
