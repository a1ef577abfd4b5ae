"""Feed readers for GeoJSON, OpenStreetMap (Overpass JSON, OSM XML, feed JSON), GPX, KML and
the Spanish DGT XML. No database needed."""

import json
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from cameras.formats.base import FormatError, Record, Rejection, detect, get_reader
from cameras.formats.text_helpers import classify
from exporters.schema import CameraType, DirectionMode, Kind

DOCS = Path(__file__).resolve().parents[3] / "docs"


def read(name, path):
    items = list(get_reader(name).read(Path(path)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def by_ref(records):
    out = {r.ref: r for r in records}
    assert len(out) == len(records), "refs must be unique"
    return out


# --------------------------------------------------------------------------- OSM fixtures

def node(nid, lat, lon, **tags):
    el = {"type": "node", "id": nid, "lat": lat, "lon": lon}
    if tags:
        el["tags"] = {k.replace("__", ":"): v for k, v in tags.items()}
    return el


def way(wid, nodes, **tags):
    return {"type": "way", "id": wid, "nodes": nodes, "tags": tags}


def relation(rid, members, **tags):
    return {"type": "relation", "id": rid, "tags": {"type": "enforcement", **tags},
            "members": [{"type": t, "ref": ref, "role": role} for t, ref, role in members]}


CAM = {"highway": "speed_camera"}

OSM_ELEMENTS = [
    # 1: plain camera, limit in mph
    node(1, 48.0, 11.0, highway="speed_camera", maxspeed="30 mph"),
    # 2: camera facing north-east -> checks traffic travelling south-west
    node(2, 48.01, 11.0, highway="speed_camera", maxspeed="80", direction="NE"),
    # 3: implicit zone limit, not a number
    node(3, 48.02, 11.0, highway="speed_camera", maxspeed="DE:urban"),
    # 4 + 41 + relation 100: the relation's from -> device bearing (north) beats the node's tag
    node(4, 48.03, 11.0, highway="speed_camera", direction="E"),
    node(41, 48.029, 11.0),
    relation(100, [("node", 4, "device"), ("node", 41, "from")], enforcement="maxspeed", maxspeed="60"),
    # 5: two relations with opposite from nodes -> both directions
    node(5, 48.04, 11.0, highway="speed_camera", maxspeed="70"),
    node(51, 48.039, 11.0),
    node(52, 48.041, 11.0),
    relation(101, [("node", 5, "device"), ("node", 51, "from")], enforcement="maxspeed"),
    relation(102, [("node", 5, "device"), ("node", 52, "from")], enforcement="maxspeed"),
    # 6: red-light camera known only through its relation, traffic coming from the east
    node(6, 48.05, 11.0, man_made="surveillance"),
    node(61, 48.05, 11.0005, highway="traffic_signals"),
    node(62, 48.05, 11.001),
    relation(103, [("node", 6, "device"), ("node", 61, "force"), ("node", 62, "from")],
             enforcement="traffic_signals"),
    # 7: combined red light and speed
    node(7, 48.06, 11.0, highway="speed_camera"),
    relation(104, [("node", 7, "device")], enforcement="maxspeed;traffic_signals", maxspeed="50"),
    # 8, 9: average-speed section from 81 to 91 on the A9; the two cameras are part of it
    node(81, 48.1, 11.099),
    node(8, 48.1, 11.1, highway="speed_camera"),
    node(9, 48.1, 11.2, highway="speed_camera"),
    node(91, 48.1, 11.201),
    way(200, [81, 8, 9, 91], highway="motorway", ref="A9", maxspeed="120"),
    relation(105, [("node", 8, "device"), ("node", 9, "device"), ("node", 81, "from"), ("node", 91, "to"),
                   ("way", 200, "section")], enforcement="average_speed", maxspeed="100"),
    # 10: direction=forward on a way drawn northwards
    node(101, 48.2, 11.0),
    node(10, 48.201, 11.0, highway="speed_camera", direction="forward"),
    node(102, 48.202, 11.0),
    way(201, [101, 10, 102], highway="primary", ref="B13"),
    # 11: direction=backward but its way is not in the file
    node(11, 48.3, 11.0, highway="speed_camera", direction="backward"),
    # 12: mobile camera
    node(12, 48.4, 11.0, highway="speed_camera", camera__type="mobile"),
    # 13: toll gantry relation: not a camera
    node(13, 48.5, 11.0, highway="toll_gantry"),
    relation(106, [("node", 13, "device")], enforcement="toll"),
    # relation whose device node was not downloaded
    relation(107, [("node", 999, "device")], enforcement="maxspeed"),
    # bad positions
    node(14, 0.0, 0.0, highway="speed_camera"),
    node(15, 95.0, 11.0, highway="speed_camera"),
    # 16: police check point relation on a plain node
    node(16, 48.6, 11.0),
    relation(108, [("node", 16, "device")], enforcement="check"),
]


def overpass_json(elements, indent=1):
    return json.dumps({"version": 0.6, "generator": "Overpass API 0.7.62", "elements": elements}, indent=indent)


def osm_xml(elements):
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for el in elements:
        tags = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in (el.get("tags") or {}).items())
        if el["type"] == "node":
            out.append(f'<node id="{el["id"]}" lat="{el["lat"]}" lon="{el["lon"]}">{tags}</node>')
        elif el["type"] == "way":
            nds = "".join(f'<nd ref="{n}"/>' for n in el["nodes"])
            out.append(f'<way id="{el["id"]}">{nds}{tags}</way>')
        else:
            members = "".join(f'<member type="{m["type"]}" ref="{m["ref"]}" role="{m["role"]}"/>'
                              for m in el["members"])
            out.append(f'<relation id="{el["id"]}">{members}{tags}</relation>')
    out.append("</osm>")
    return "\n".join(out)


@pytest.fixture(params=["json", "xml"])
def osm_file(request, tmp_path):
    if request.param == "json":
        path = tmp_path / "cameras.json"
        path.write_text(overpass_json(OSM_ELEMENTS), encoding="utf-8")
    else:
        path = tmp_path / "cameras.osm"
        path.write_text(osm_xml(OSM_ELEMENTS), encoding="utf-8")
    return path


@pytest.fixture
def osm(osm_file):
    records, rejections = read("osm", osm_file)
    return by_ref(records), rejections


def test_osm_json_and_xml_are_both_auto_detected_as_osm(osm_file):
    assert detect(osm_file).name == "osm"


def test_an_osm_maxspeed_in_mph_becomes_kmh(osm):
    cams, _ = osm
    cam = cams["node/1"]
    assert (cam.speed, cam.type, cam.kind, cam.dir_mode, cam.heading) == (48, CameraType.SPEED, Kind.FIXED,
                                                                          DirectionMode.ALL, None)
    assert (cam.lat, cam.lon) == (48.0, 11.0)


def test_a_compass_direction_is_the_facing_angle_so_the_heading_is_its_opposite(osm):
    cam = osm[0]["node/2"]
    assert (cam.heading, cam.dir_mode, cam.speed) == (225.0, DirectionMode.ONE, 80)


def test_an_implicit_zone_limit_leaves_the_speed_empty_without_a_rejection(osm):
    cams, rejections = osm
    assert cams["node/3"].speed is None
    assert any("DE:urban" in note for note in cams["node/3"].notes)
    assert not any("node/3" in r.reason for r in rejections)


def test_an_enforcement_relation_gives_the_heading_from_the_from_node_to_the_device(osm):
    cam = osm[0]["node/4"]
    # from node 41 is due south of the device: traffic travels north (the node's direction=E is overridden)
    assert (cam.heading, cam.dir_mode, cam.speed) == (0.0, DirectionMode.ONE, 60)


def test_a_camera_that_is_a_node_and_a_relation_device_comes_out_once(osm_file):
    records, _ = read("osm", osm_file)
    refs = [r.ref for r in records]
    assert refs.count("node/4") == 1 and refs.count("node/5") == 1
    assert not any(ref.startswith("relation/10") and ref != "relation/105" for ref in refs)


def test_two_relations_with_opposite_from_nodes_enforce_both_directions(osm):
    cam = osm[0]["node/5"]
    assert (cam.heading, cam.dir_mode, cam.speed) == (0.0, DirectionMode.BOTH, 70)


def test_a_traffic_signals_relation_makes_a_red_light_camera_of_its_device(osm):
    cam = osm[0]["node/6"]
    assert (cam.type, cam.kind, cam.dir_mode, cam.heading) == (CameraType.RED_LIGHT, Kind.FIXED,
                                                               DirectionMode.ONE, 270.0)
    assert (cam.lat, cam.lon) == (48.05, 11.0)


def test_maxspeed_and_traffic_signals_together_make_a_red_light_speed_camera(osm):
    cam = osm[0]["node/7"]
    assert (cam.type, cam.speed) == (CameraType.RED_LIGHT_SPEED, 50)


def test_an_average_speed_relation_becomes_one_section_from_the_from_to_the_to_node(osm):
    cams, _ = osm
    sec = cams["relation/105"]
    assert sec.type == CameraType.SECTION
    assert (sec.lat, sec.lon, sec.end_lat, sec.end_lon) == (48.1, 11.099, 48.1, 11.201)
    assert sec.speed == 100 and sec.road == "A9"
    assert sec.dir_mode == DirectionMode.ONE and 89.9 < sec.heading < 90.1
    # the two section cameras are part of the section, not extra spot cameras
    assert "node/8" not in cams and "node/9" not in cams


def test_direction_forward_uses_the_bearing_of_the_way_the_camera_is_on(osm):
    cam = osm[0]["node/10"]
    assert (cam.heading, cam.dir_mode, cam.road) == (0.0, DirectionMode.ONE, "B13")


def test_direction_backward_without_its_way_leaves_the_heading_empty(osm):
    cam = osm[0]["node/11"]
    assert (cam.heading, cam.dir_mode) == (None, DirectionMode.ALL)
    assert any("not in the file" in note for note in cam.notes)


def test_camera_type_mobile_makes_a_mobile_camera(osm):
    cam = osm[0]["node/12"]
    assert (cam.type, cam.kind) == (CameraType.MOBILE_CAMERA, Kind.MOBILE)


def test_a_check_relation_makes_a_mobile_police_check(osm):
    cam = osm[0]["node/16"]
    assert (cam.type, cam.kind) == (CameraType.POLICE_CHECK, Kind.MOBILE)


def test_osm_rejections_name_the_object_and_the_problem(osm):
    cams, rejections = osm
    reasons = [r.reason for r in rejections]
    assert "node/13" not in cams
    assert any("relation/106" in r and "'toll'" in r and "not camera enforcement" in r for r in reasons)
    assert any("node/999" in r and "relation/107" in r and "not in the file" in r for r in reasons)
    assert any("node/14" in r and "0,0" in r for r in reasons)
    assert any("node/15" in r and "95.0" in r and "-90..90" in r for r in reasons)
    assert len(rejections) == 4
    assert sorted(cams) == sorted(["node/1", "node/2", "node/3", "node/4", "node/5", "node/6", "node/7",
                                   "relation/105", "node/10", "node/11", "node/12", "node/16"])


def test_osm_json_and_osm_xml_give_the_same_cameras(tmp_path):
    (tmp_path / "a.json").write_text(overpass_json(OSM_ELEMENTS))
    (tmp_path / "a.osm").write_text(osm_xml(OSM_ELEMENTS))
    a, ra = read("osm", tmp_path / "a.json")
    b, rb = read("osm", tmp_path / "a.osm")

    def key(r):
        return (r.ref, r.type, r.kind, r.lat, r.lon, r.speed, r.heading, r.dir_mode, r.end_lat, r.end_lon, r.line)

    assert [key(r) for r in a] == [key(r) for r in b]
    assert [(r.line, r.reason) for r in ra] == [(r.line, r.reason) for r in rb]


def test_an_osm_record_line_is_the_position_of_its_element(osm):
    cams, _ = osm
    assert cams["node/1"].line == 1 and cams["node/2"].line == 2
    assert cams["relation/105"].line == 1 + [e["id"] for e in OSM_ELEMENTS].index(105)


def test_an_overpass_timeout_remark_is_reported(tmp_path):
    path = tmp_path / "timeout.json"
    path.write_text(json.dumps({"elements": [node(1, 48.0, 11.0, **CAM)],
                                "remark": "runtime error: Query timed out in \"query\" at line 3"}))
    records, rejections = read("osm", path)
    assert len(records) == 1
    assert len(rejections) == 1 and "Query timed out" in rejections[0].reason


def test_a_large_osm_extract_reads_completely(tmp_path):
    # How long it takes: benchmarks/bench_readers.py (the tests assert no wall-clock time).
    elements = [node(i, 45 + (i % 1000) / 1000, 7 + (i // 1000) / 1000, **(CAM if i % 10 == 0 else {}))
                for i in range(1, 200_001)]
    elements += [way(10_000_000 + w, list(range(w * 10 + 1, w * 10 + 11)), highway="primary", ref=f"B{w}")
                 for w in range(20_000)]
    (tmp_path / "big.json").write_text(overpass_json(elements, indent=None))
    (tmp_path / "big.osm").write_text(osm_xml(elements))
    for name in ("big.json", "big.osm"):
        records, rejections = read("osm", tmp_path / name)
        assert len(records) == 20_000 and not rejections
        assert records[0].road == "B0" and records[0].ref == "node/10"


# --------------------------------------------------------------------------- XML safety

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""

BOMB_BODIES = {
    "osm": '<osm version="0.6"><node id="1" lat="48" lon="11"><tag k="name" v="&lol9;"/>'
           '<tag k="highway" v="speed_camera"/></node></osm>',
    "gpx": '<gpx version="1.1"><wpt lat="48" lon="11"><name>&lol9;</name></wpt></gpx>',
    "kml": '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol9;</name>'
           '<Point><coordinates>11,48</coordinates></Point></Placemark></kml>',
    "dgt-xml": "<RAIZ><PROVINCIA><NOMBRE>&lol9;</NOMBRE></PROVINCIA></RAIZ>",
}


@pytest.mark.parametrize("fmt", sorted(BOMB_BODIES))
def test_a_billion_laughs_file_is_refused_with_a_clear_message(fmt, tmp_path):
    # Refused before any expansion (the memory bound is in tests/portal/system/test_security.py; the
    # time it takes in benchmarks/bench_readers.py).
    path = tmp_path / f"bomb.{fmt}"
    path.write_text(BOMB + BOMB_BODIES[fmt])
    assert detect(path).name == fmt
    with pytest.raises(FormatError, match=r"refused: the XML declares entities \(possible entity-expansion attack\)"):
        list(get_reader(fmt).read(path))


@pytest.mark.parametrize("fmt", sorted(BOMB_BODIES))
def test_an_external_entity_is_refused_and_never_read(fmt, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    path = tmp_path / f"xxe.{fmt}"
    body = BOMB_BODIES[fmt].replace("&lol9;", "&xxe;")
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY xxe SYSTEM "{secret.as_uri()}"> ]>\n{body}')
    with pytest.raises(FormatError, match="refused: the XML declares an external entity 'xxe'") as err:
        list(get_reader(fmt).read(path))
    assert "TOP-SECRET" not in str(err.value)


def test_an_osm_xml_with_an_external_dtd_is_refused(tmp_path):
    path = tmp_path / "dtd.osm"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE osm SYSTEM "http://example.invalid/osm.dtd">\n'
                    '<osm><node id="1" lat="48" lon="11"><tag k="highway" v="speed_camera"/></node></osm>')
    with pytest.raises(FormatError, match="refused: the XML references an external resource"):
        list(get_reader("osm").read(path))


def test_malformed_xml_is_a_format_error_naming_the_position(tmp_path):
    path = tmp_path / "broken.osm"
    path.write_text('<osm><node id="1" lat="48" lon="11"></osm>')
    with pytest.raises(FormatError, match=r"not well-formed XML: .*line 1"):
        list(get_reader("osm").read(path))


# --------------------------------------------------------------------------- osm-feed-json

def test_every_per_country_feed_json_reads_with_the_expected_totals(shared, tmp_path):
    with zipfile.ZipFile(shared("osm_speed_cameras_feed_2026-03_raw_json.zip")) as zf:
        zf.extractall(tmp_path)
    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 26
    total, mobile, refs = 0, 0, set()
    for path in files:
        assert detect(path).name == "osm-feed-json", path.name
        records, rejections = read("osm-feed-json", path)
        assert not rejections, (path.name, rejections[:3])
        assert records, path.name
        total += len(records)
        mobile += sum(r.kind == Kind.MOBILE and r.type == CameraType.MOBILE_CAMERA for r in records)
        refs.update(r.ref for r in records)
    assert total == 65_260
    assert mobile == 8
    assert len(refs) == 37_445
    assert all(re.fullmatch(r"node/\d+", ref) for ref in refs)
    first = read("osm-feed-json", tmp_path / "at_osm_cameras.json")[0][0]
    assert (first.ref, first.lat, first.lon, first.type, first.kind, first.line) == (
        "node/1321910", 48.7630096, 9.6897477, CameraType.SPEED, Kind.FIXED, 1)


def test_feed_json_rows_with_bad_values_are_rejected_with_the_value(tmp_path):
    path = tmp_path / "xx_osm_cameras.json"
    path.write_text(json.dumps({"results": [
        {"id": "osm-1", "lat": 48.1, "lon": 11.5, "type": "fixed_camera", "confidence": 80},
        {"id": "osm-2", "lat": "north", "lon": 11.5, "type": "fixed_camera", "confidence": 80},
        {"id": "osm-3", "lat": 48.1, "lon": 11.5, "type": "speed_trap", "confidence": 80},
        {"id": "osm-4", "lat": 48.1, "lon": 11.5, "type": "mobile_possible_camera", "confidence": 40},
    ]}))
    assert detect(path).name == "osm-feed-json"
    records, rejections = read("osm-feed-json", path)
    assert [(r.ref, r.type, r.kind) for r in records] == [("node/1", CameraType.SPEED, Kind.FIXED),
                                                         ("node/4", CameraType.MOBILE_CAMERA, Kind.MOBILE)]
    assert [(r.line, r.reason) for r in rejections] == [
        (2, "latitude 'north' is not a number"),
        (3, "type 'speed_trap' is unknown; expected one of fixed_camera, mobile_possible_camera")]


# --------------------------------------------------------------------------- DGT


def test_the_dgt_file_gives_one_mobile_zone_per_radar_section(shared):
    path = shared("es_dgt_radares_2018.xml")
    assert detect(path).name == "dgt-xml"
    records, rejections = read("dgt-xml", path)
    assert len(records) == 1319 and not rejections
    first = records[0]
    assert (first.lat, first.lon, first.end_lat, first.end_lon) == (38.61497, -1.50566, 38.60391, -1.67337)
    assert (first.road, first.description, first.ref) == ("CM-3215", "Albacete PK 0.61-17.09",
                                                          "Albacete/CM-3215/0.61-17.09")
    assert (first.type, first.kind, first.dir_mode, first.country) == (CameraType.MOBILE_ZONE, Kind.MOBILE,
                                                                       DirectionMode.BOTH, "ES")
    assert first.heading == 265.2 and first.line == 1
    assert {(r.type, r.kind, r.country) for r in records} == {(CameraType.MOBILE_ZONE, Kind.MOBILE, "ES")}
    assert all(r.end_lat is not None and r.end_lon is not None for r in records)
    # 4 sections have the same start and end point (upstream data): no direction can be derived
    pointless = [r for r in records if r.dir_mode != DirectionMode.BOTH]
    assert sorted(r.ref for r in pointless) == ["Alicante/N-332/42.26-53.89", "Las Palmas/FV-2/73.45-82.4",
                                                "Navarra/NA-1110/0-3.26", "Valencia/CV-42/17.5-22"]
    assert all(r.dir_mode == DirectionMode.ALL and r.heading is None and r.notes for r in pointless)


def test_dgt_refs_are_unique_and_a_repeated_section_gets_a_suffix(shared):
    records, _ = read("dgt-xml", shared("es_dgt_radares_2018.xml"))
    refs = [r.ref for r in records]
    assert len(set(refs)) == 1319
    assert "Teruel/N-223/0.37-2.37" in refs and "Teruel/N-223/0.37-2.37#2" in refs
    twin = records[refs.index("Teruel/N-223/0.37-2.37#2")]
    assert (twin.lat, twin.lon) == (40.33294, -1.08972)
    assert any("made unique" in note for note in twin.notes)


def test_dgt_numeric_character_references_decode_to_accented_province_names(shared):
    records, _ = read("dgt-xml", shared("es_dgt_radares_2018.xml"))
    provinces = {r.description.rsplit(" PK ", 1)[0] for r in records}
    assert len(provinces) == 43
    assert "A Coruña" in provinces  # written as A Coru&#241;a in the file
    coruna = [r for r in records if r.ref.startswith("A Coruña/")]
    assert coruna and all(r.description.startswith("A Coruña PK ") for r in coruna)


def test_a_dgt_section_with_a_bad_coordinate_is_rejected_with_the_value(tmp_path):
    path = tmp_path / "radares.xml"
    path.write_text(
        "<!-- Pr&#243;xima publicaci&#243;n -->\n<RAIZ><PROVINCIA><NOMBRE>Le&#243;n</NOMBRE>"
        "<CARRETERA><DENOMINACION>N-120</DENOMINACION>"
        "<RADAR><PUNTO_INICIAL><PK>1.5</PK><LATITUD>42,61</LATITUD><LONGITUD>-5.57</LONGITUD></PUNTO_INICIAL>"
        "<PUNTO_FINAL><PK>9</PK><LATITUD>42.6</LATITUD><LONGITUD>-5.6</LONGITUD></PUNTO_FINAL>"
        "<SENTIDO>Ambos</SENTIDO></RADAR>"
        "<RADAR><PUNTO_INICIAL><PK>20</PK><LATITUD>42.5</LATITUD><LONGITUD>-5.5</LONGITUD></PUNTO_INICIAL>"
        "<PUNTO_FINAL><PK>30</PK><LATITUD>42.5</LATITUD><LONGITUD>-5.4</LONGITUD></PUNTO_FINAL>"
        "<SENTIDO>Creciente</SENTIDO></RADAR>"
        "<RADAR><PUNTO_INICIAL><PK>40</PK><LATITUD>42.5</LATITUD><LONGITUD>-5.5</LONGITUD></PUNTO_INICIAL>"
        "</RADAR></CARRETERA></PROVINCIA></RAIZ>")
    assert detect(path).name == "dgt-xml"
    records, rejections = read("dgt-xml", path)
    assert [(r.line, r.reason) for r in rejections] == [
        (1, "León N-120 PK 1.5-9: start latitude '42,61' is not a number"),
        (3, "León N-120 PK 40-?: the section has no PUNTO_FINAL")]
    [rec] = records
    assert (rec.ref, rec.dir_mode, rec.line) == ("León/N-120/20-30", DirectionMode.ONE, 2)
    assert 89 < rec.heading < 91  # Creciente: towards the higher km post (east)


# --------------------------------------------------------------------------- GPX

def test_the_real_gpx_file_gives_214_cameras_at_130_kmh(shared):
    path = shared("eu_lufop_gatso_130kmh_2021-08-06_garmin.gpx")
    assert detect(path).name == "gpx"
    records, rejections = read("gpx", path)
    assert len(records) == 214 and not rejections
    assert {r.speed for r in records} == {130}
    assert sum(r.type == CameraType.SPEED for r in records) == 204            # max@130
    assert sum(r.type == CameraType.SECTION_START for r in records) == 10     # average@130
    first = records[0]
    assert (first.lat, first.lon, first.description, first.kind) == (
        45.335, 1.897, "CLERMONT FERRAND vers BORDEAUX A89", Kind.FIXED)
    assert records[3].description == "Alençon vers Rouen A28"


@pytest.mark.parametrize("name, expected", [
    ("max@130", (CameraType.SPEED, Kind.FIXED, 130)),
    ("Fixed camera@50", (CameraType.SPEED, Kind.FIXED, 50)),
    ("Redlight@60", (CameraType.RED_LIGHT, Kind.FIXED, 60)),
    ("stop", (CameraType.RED_LIGHT, Kind.FIXED, None)),
    ("Feu rouge", (CameraType.RED_LIGHT, Kind.FIXED, None)),
    ("Mobile", (CameraType.MOBILE_CAMERA, Kind.MOBILE, None)),
    ("average @110", (CameraType.SECTION_START, Kind.FIXED, 110)),
    ("Vitesse moyenne fin", (CameraType.SECTION_END, Kind.FIXED, None)),
    ("Tunnel@80", (CameraType.TUNNEL, Kind.FIXED, 80)),
    ("max@30mph", (CameraType.SPEED, Kind.FIXED, 48)),
    ("Camera 7", (CameraType.SPEED, Kind.FIXED, None)),
    ("Reduced limit@70", (CameraType.SPEED, Kind.FIXED, 70)),
])
def test_poi_names_are_classified_into_type_kind_and_speed(name, expected):
    info = classify(name)
    assert (info.type, info.kind, info.speed) == expected


def test_an_impossible_speed_marker_is_dropped_with_a_note():
    info = classify("max@999")
    assert info.speed is None and "999" in info.note


GPX_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="test" '
            'xmlns="http://www.topografix.com/GPX/1/1" '
            'xmlns:gpxx="http://www.garmin.com/xmlschemas/GpxExtensions/v3">\n')


def test_gpx_waypoints_become_cameras_and_bad_waypoints_rejections(tmp_path):
    path = tmp_path / "cams.gpx"
    path.write_text(GPX_HEAD + """
<wpt lat="48.1" lon="11.5"><name>Redlight@60</name><cmt>Stachus</cmt>
  <extensions><gpxx:WaypointExtension><gpxx:Proximity>250</gpxx:Proximity></gpxx:WaypointExtension></extensions>
</wpt>
<wpt lat="48.2" lon="11.6"><time>2026-03-01T14:30:00Z</time><name>Mobile</name><desc>A9 Nord</desc></wpt>
<wpt lat="abc" lon="11.6"><name>max@50</name></wpt>
<wpt lat="0" lon="0"><name>max@50</name></wpt>
<wpt lat="48.3" lon="200"><name>max@50</name></wpt>
<wpt lat="48.4" lon="11.7"><name>B2 Ortseingang</name></wpt>
<trk><trkseg><trkpt lat="48" lon="11"/></trkseg></trk>
</gpx>""")
    records, rejections = read("gpx", path)
    red, mobile, plain = records
    assert (red.type, red.speed, red.description, red.line, red.reported_at) == (
        CameraType.RED_LIGHT, 60, "Stachus", 1, None)
    assert (mobile.type, mobile.kind, mobile.description, mobile.line) == (
        CameraType.MOBILE_CAMERA, Kind.MOBILE, "A9 Nord", 2)
    assert mobile.reported_at == datetime(2026, 3, 1, 14, 30, tzinfo=timezone.utc)
    # Neither "B2 Ortseingang" nor the file name "cams" says what kind of camera: OTHER (noted).
    assert (plain.type, plain.speed, plain.description, plain.line) == (CameraType.OTHER, None, "B2 Ortseingang", 6)
    assert [(r.line, r.reason) for r in rejections] == [
        (3, "latitude 'abc' is not a number"),
        (4, "position 0,0 (null island) is a missing position, not a camera"),
        (5, "position: longitude 200.0 is outside -180..180")]


def test_a_gpx_with_only_a_track_is_refused_because_it_has_no_waypoints(tmp_path):
    path = tmp_path / "track.gpx"
    path.write_text(GPX_HEAD + '<trk><trkseg><trkpt lat="48" lon="11"/><trkpt lat="48.1" lon="11"/>'
                               '</trkseg></trk><rte><rtept lat="48" lon="11"/></rte></gpx>')
    assert detect(path).name == "gpx"
    with pytest.raises(FormatError, match=r"the GPX has no waypoints \(<wpt>\).*2 track point\(s\) and 1 route"):
        list(get_reader("gpx").read(path))


def test_a_kml_file_given_to_the_gpx_reader_is_refused(tmp_path):
    path = tmp_path / "wrong.gpx"
    path.write_text('<kml><Placemark/></kml>')
    with pytest.raises(FormatError, match=r"not a GPX file \(the root element is <kml>"):
        list(get_reader("gpx").read(path))


# --------------------------------------------------------------------------- KML

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Cameras</name>
<Folder><name>Waypoints</name>
  <Placemark><name>max@50</name><description><![CDATA[<b>B2</b> Karl-Marx-Allee]]></description>
    <Point><coordinates>13.40495,52.52001,0</coordinates></Point></Placemark>
  <Placemark><name>Camera</name>
    <ExtendedData><Data name="ref"><value>de-2</value></Data><Data name="type"><value>red-light-speed</value></Data>
      <Data name="speed"><value>60</value></Data><Data name="heading"><value>90</value></Data>
      <Data name="direction"><value>both</value></Data></ExtendedData>
    <Point><coordinates>11.57612,48.13715</coordinates></Point></Placemark>
</Folder>
  <Placemark><name>average@100</name>
    <LineString><coordinates>13.05501,47.80949 13.0801,47.8202 13.09012,47.83601</coordinates></LineString></Placemark>
  <Placemark><name>Area</name><Polygon><outerBoundaryIs><LinearRing>
    <coordinates>1,1 2,2 3,1 1,1</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
  <Placemark><name>max@50</name><Point><coordinates>52.5,13.4,0,9</coordinates></Point></Placemark>
  <Placemark><name>max@50</name><Point><coordinates>13.4, 95</coordinates></Point></Placemark>
  <Placemark><name>Tunnel@80</name><ExtendedData><Data name="speed"><value>fast</value></Data></ExtendedData>
    <Point><coordinates>13.4,52.5</coordinates></Point></Placemark>
</Document></kml>"""


def test_kml_placemarks_become_cameras_and_sections(tmp_path):
    path = tmp_path / "cams.kml"
    path.write_text(KML)
    assert detect(path).name == "kml"
    records, rejections = read("kml", path)
    speed, red, section, swapped = records
    assert (speed.lat, speed.lon, speed.type, speed.speed, speed.description, speed.line) == (
        52.52001, 13.40495, CameraType.SPEED, 50, "B2 Karl-Marx-Allee", 1)
    assert (red.ref, red.type, red.speed, red.heading, red.dir_mode, red.line) == (
        "de-2", CameraType.RED_LIGHT_SPEED, 60, 90.0, DirectionMode.BOTH, 2)
    assert (section.type, section.speed, section.lat, section.lon, section.end_lat, section.end_lon) == (
        CameraType.SECTION, 100, 47.80949, 13.05501, 47.83601, 13.09012)
    # lon,lat order is the file's responsibility: a swapped pair is read as written (the importer fixes swaps)
    assert (swapped.lat, swapped.lon, swapped.line) == (13.4, 52.5, 5)
    assert [(r.line, r.reason) for r in rejections] == [
        (4, "placemark has no Point or LineString geometry (found LinearRing, Polygon)"),
        (6, "position: latitude 95.0 is outside -90..90"),
        (7, "speed 'fast' is not a speed in km/h (e.g. 50 or '30 mph')")]


@pytest.mark.parametrize("reader, text", [
    ("gpx", GPX_HEAD + '<wpt lat="48.1" lon="11.5"><name>max@999</name></wpt>\n'
                       '<wpt lat="48.2" lon="11.6"><name>A1 km 23</name></wpt>\n</gpx>'),
    ("kml", '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n'
            '<Placemark><name>max@999</name><Point><coordinates>11.5,48.1</coordinates></Point></Placemark>\n'
            '<Placemark><name>A1 km 23</name><Point><coordinates>11.6,48.2</coordinates></Point></Placemark>\n'
            '</Document></kml>'),
])
def test_a_dropped_speed_marker_is_noted_and_a_free_text_name_is_the_description(reader, text, tmp_path):
    """GPX and KML read what a name says the same way."""
    path = tmp_path / f"names.{reader}"
    path.write_text(text)
    records, rejections = read(reader, path)
    assert rejections == []
    dropped, free = records
    assert (dropped.type, dropped.kind, dropped.speed, dropped.description, dropped.line) == (
        CameraType.SPEED, Kind.FIXED, None, "", 1)
    assert dropped.notes == ["speed marker '@999' ignored: not a speed within 5-300 km/h"]
    # "A1 km 23" in a file called "names" says no type: OTHER (a file note says so)
    assert (free.type, free.speed, free.description, free.notes, free.line) == (
        CameraType.OTHER, None, "A1 km 23", [], 2)


def test_a_kml_without_placemarks_is_refused(tmp_path):
    path = tmp_path / "empty.kml"
    path.write_text('<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>')
    with pytest.raises(FormatError, match="no placemarks"):
        list(get_reader("kml").read(path))


# --------------------------------------------------------------------------- GeoJSON

def feature(geometry, fid=None, **props):
    out = {"type": "Feature", "geometry": geometry, "properties": props}
    if fid is not None:
        out["id"] = fid
    return out


def point(lon, lat):
    return {"type": "Point", "coordinates": [lon, lat]}


def test_geojson_points_and_lines_become_cameras_and_sections(tmp_path):
    path = tmp_path / "cams.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(point(13.40495, 52.52001), "de-1", type="speed", speed=50, heading=90, country="de", road="B2"),
        feature(point(11.57612, 48.13715), ref="de-2", type="RED_LIGHT_SPEED", speed="30 mph", direction="all"),
        feature({"type": "LineString", "coordinates": [[13.05, 47.8], [13.07, 47.81], [13.09, 47.83]]},
                17, speed=100, truck_speed=80),
        feature(point(2.35222, 48.85661), kind="mobile", reported_at="2026-03-01T15:30:00+01:00"),
        feature({"type": "Polygon", "coordinates": [[[1, 1], [2, 2], [3, 1], [1, 1]]]}),
        feature(point(13.4, 95.2)),
        feature(point(0, 0)),
        feature(point(13.4, 52.5), speed="fast"),
        feature(point(13.4, 52.5), type="laser"),
        feature(point(13.4, 52.5), direction="one"),
        feature(point(13.4, 52.5), type="speed", reported_at="2026-03-01T14:30:00Z"),
        feature(None),
        feature({"type": "LineString", "coordinates": [[13.05, 47.8]]}),
    ]}))
    assert detect(path).name == "geojson"
    records, rejections = read("geojson", path)
    cam, red, section, report = records
    assert (cam.ref, cam.speed, cam.heading, cam.dir_mode, cam.country, cam.road) == (
        "de-1", 50, 90.0, DirectionMode.ONE, "DE", "B2")
    assert (red.ref, red.type, red.speed, red.dir_mode) == ("de-2", CameraType.RED_LIGHT_SPEED, 48, DirectionMode.ALL)
    assert (section.ref, section.type, section.lat, section.lon, section.end_lat, section.end_lon,
            section.speed, section.truck_speed, section.line) == ("17", CameraType.SECTION, 47.8, 13.05, 47.83,
                                                                  13.09, 100, 80, 3)
    assert (report.kind, report.type, report.ref) == (Kind.MOBILE, CameraType.MOBILE_CAMERA, "")
    assert report.reported_at == datetime(2026, 3, 1, 14, 30, tzinfo=timezone.utc)
    reasons = dict((r.line, r.reason) for r in rejections)
    assert reasons[5] == "geometry type 'Polygon' is not supported (use Point, or LineString for a section)"
    assert reasons[6] == "position: latitude 95.2 is outside -90..90"
    assert reasons[7] == "position 0,0 (null island) is a missing position, not a camera"
    assert reasons[8] == "speed 'fast' is not a speed in km/h (e.g. 50 or '30 mph')"
    assert reasons[9].startswith("type 'laser'; valid: speed, red-light, ")
    assert reasons[10] == "direction 'one' needs a heading, but heading is missing"
    assert reasons[11].startswith("reported_at '2026-03-01T14:30:00Z' is only allowed on mobile reports")
    assert reasons[12] == "feature has no geometry"
    assert reasons[13] == "a LineString section needs at least 2 positions, got 1"
    assert len(rejections) == 9


def test_the_geojson_example_in_the_docs_reads_as_described(tmp_path):
    text = (DOCS / "feed-geojson.md").read_text(encoding="utf-8")
    example = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "example.geojson"
    path.write_text(example)
    assert detect(path).name == "geojson"
    records, rejections = read("geojson", path)
    assert not rejections
    assert [(r.ref, r.type, r.kind) for r in records] == [
        ("de-0001", CameraType.SPEED, Kind.FIXED),
        ("de-0002", CameraType.RED_LIGHT_SPEED, Kind.FIXED),
        ("at-0100", CameraType.SECTION, Kind.FIXED),
        ("zone-77", CameraType.MOBILE_ZONE, Kind.MOBILE),
        ("", CameraType.MOBILE_CAMERA, Kind.MOBILE)]
    assert (records[2].end_lat, records[2].end_lon) == (47.83601, 13.09012)
    assert records[3].reports == 14 and records[4].reported_at is not None


@pytest.mark.parametrize("content, message", [
    ('{"type": "FeatureCollection", "features": []}', "has no features; nothing to import"),
    ('{"type": "FeatureCollection", "features": [', "not valid JSON: Expecting value at line 1 column 44"),
    ('{"type": "Topology", "objects": {}}', "not a GeoJSON FeatureCollection (top-level \"type\" is 'Topology')"),
    ('[1, 2]', "not a GeoJSON FeatureCollection (the top level is a JSON list"),
    ('{"type": "FeatureCollection"}', 'has no "features" list'),
])
def test_an_empty_or_invalid_geojson_is_refused_with_the_reason(content, message, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(FormatError) as err:
        list(get_reader("geojson").read(path))
    assert message in str(err.value)


def test_whitespace_only_json_is_refused_by_detection(tmp_path):
    path = tmp_path / "blank.geojson"
    path.write_text("  \n")
    with pytest.raises(FormatError, match="only whitespace"):
        detect(path)


# --------------------------------------------------------------------------- detection

@pytest.mark.parametrize("content, expected", [
    ('{"type": "FeatureCollection", "features": []}', "geojson"),
    ('\ufeff{"version": 0.6, "generator": "Overpass API", "elements": []}', "osm"),
    ('<?xml version="1.0"?>\n<!-- exported -->\n<osm version="0.6"></osm>', "osm"),
    ('{"results": [{"id": "osm-1", "lat": 1.5, "lon": 2.5, "type": "fixed_camera", "confidence": 80}]}',
     "osm-feed-json"),
    ('<?xml version="1.0"?><gpx xmlns="http://www.topografix.com/GPX/1/0" version="1.0"></gpx>', "gpx"),
    ('<kml:kml xmlns:kml="http://www.opengis.net/kml/2.2"></kml:kml>', "kml"),
    ("<!-- x --><RAIZ>\n<PROVINCIA><NOMBRE>A</NOMBRE><CARRETERA></CARRETERA></PROVINCIA></RAIZ>", "dgt-xml"),
])
def test_auto_detection_picks_the_reader_from_the_content(content, expected, tmp_path):
    path = tmp_path / "feed.dat"  # the extension says nothing
    path.write_text(content, encoding="utf-8")
    assert detect(path).name == expected


def test_json_and_xml_readers_do_not_claim_the_csv_and_ov2_feeds(shared):
    mine = {"geojson", "osm", "osm-feed-json", "gpx", "kml", "dgt-xml"}
    for name in ("osm_speed_cameras_feed_2026-03.csv", "fr_radars_automatiques_2023-04-26.csv",
                 "eu_lufop_gatso_all_2021-08-06_garmin.csv", "eu_lufop_gatso_all_2021-08-06_tomtom.ov2"):
        path = shared(name)
        head = path.read_bytes()[:65536]
        assert all(get_reader(r).sniff(head, path) == 0 for r in mine), name


@pytest.mark.parametrize("head", [b" " * 65535 + b"x", b"<!DOCTYPE " + b"a" * 65000, b"<!--" + b"-" * 65000,
                                  b"\t\n" * 30000 + b"<"])
def test_a_hostile_head_is_claimed_by_no_reader(head, tmp_path):
    # How long the sniffing takes: benchmarks/bench_readers.py.
    path = tmp_path / "hostile.dat"
    for name in ("geojson", "osm", "osm-feed-json", "gpx", "kml", "dgt-xml"):
        assert get_reader(name).sniff(head, path) == 0
