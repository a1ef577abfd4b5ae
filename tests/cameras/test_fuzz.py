"""A bounded fuzz run over every reader: mutated small samples either end in a clean refusal
(``FormatError``, ``ImportFailed`` with its rejections) or in records that store on the
database (run it with DATABASE_URL set too: PostgreSQL refuses what SQLite accepts).

The mutations are seeded (the same inputs every run); a failure names the format, the
mutation number and the input.
"""

import json
import random
import re
import struct

import pytest
from django.db import transaction

from cameras.formats import FormatError
from cameras.importing import ImportFailed, import_file
from cameras.models import Camera, CameraLink
from tests.cameras.formats.test_readers_xml import GPX_HEAD, KML, OSM_ELEMENTS, feature, osm_xml, overpass_json, point

pytestmark = pytest.mark.django_db

CSV = ("ref,kind,type,lat,lon,speed,truck_speed,heading,direction,country,road,description,end_lat,end_lon,"
       "reported_at,reports\n"
       "de-1,fixed,speed,52.52001,13.40495,50,,90,one,DE,B2,Karl-Marx-Allee,,,,\n"
       "it-1,,section,45.4642,9.19,130,80,,,,A4,Tutor,45.52,9.3,,\n"
       "fr-9,mobile,,48.85661,2.35222,,,,,,A86,,,,2026-03-01T14:30:00Z,\n"
       "z-7,,mobile-zone,50.1109,8.6821,,,,,,A66,,50.12,8.7,,14\n")
OSM_FEED_CSV = ("osm_node_id,lat,lon,feed_type\n104478,51.6967594,-0.3756747,fixed_camera\n"
                "104479,48.1,11.5,mobile_possible_camera\n")
OSM_FEED_JSON = json.dumps({"results": [{"id": "osm-1", "lat": 48.1, "lon": 11.5, "type": "fixed_camera"},
                                        {"id": "osm-2", "lat": 52.5, "lon": 13.4,
                                         "type": "mobile_possible_camera"}]})
FR = ("date_heure_dernier_changement,date_heure_creation,departement,latitude,longitude,id,equipement,type,"
      "emplacement,route,longueur_troncon_km,vitesse_poids_lourds_kmh,vitesse_vehicules_legers_kmh\n"
      "2023-01-01,2010-01-01,75,48.85,2.35,1,MESTA,Radar fixe,Paris,A1,,80,110\n"
      "2023-01-01,2010-01-01,69,45.75,4.85,2,MESTA,Radar feu rouge,Lyon,D1,,,50\n")
GARMIN = ('13.40495,52.52001,"max @50","Berlin B2"\n11.57612,48.13715,"Redlight@60","Stachus"\n'
          '2.35222,48.85661,"Mobile",""\n')
IGO = "X,Y,TYPE,SPEED,DIRTYPE,DIRECTION\n13.40495,52.52001,1,50,1,90\n11.57612,48.13715,2,60,0,0\n"
GPX = GPX_HEAD + ('<wpt lat="48.1" lon="11.5"><name>Redlight@60</name><cmt>Stachus</cmt>'
                  '<extensions><gpxx:WaypointExtension><gpxx:Proximity>250</gpxx:Proximity>'
                  '</gpxx:WaypointExtension></extensions></wpt>\n'
                  '<wpt lat="48.2" lon="11.6"><time>2026-03-01T14:30:00Z</time><name>Mobile</name></wpt>\n</gpx>\n')
GEOJSON = json.dumps({"type": "FeatureCollection", "features": [
    feature(point(13.40495, 52.52001), "de-1", type="speed", speed=50, heading=90, road="B2"),
    feature({"type": "LineString", "coordinates": [[13.05, 47.8], [13.09, 47.83]]}, 17, speed=100),
    feature(point(2.35222, 48.85661), kind="mobile", reported_at="2026-03-01T15:30:00+01:00"),
    feature(point(8.6821, 50.1109), type="mobile-zone", reports=14),
]})
DGT = ("<RAIZ><PROVINCIA><NOMBRE>Le&#243;n</NOMBRE><CARRETERA><DENOMINACION>N-120</DENOMINACION>"
       "<RADAR><PUNTO_INICIAL><PK>20</PK><LATITUD>42.5</LATITUD><LONGITUD>-5.5</LONGITUD></PUNTO_INICIAL>"
       "<PUNTO_FINAL><PK>30</PK><LATITUD>42.5</LATITUD><LONGITUD>-5.4</LONGITUD></PUNTO_FINAL>"
       "<SENTIDO>Creciente</SENTIDO></RADAR></CARRETERA></PROVINCIA></RAIZ>")


def ov2() -> bytes:
    def rec(lon, lat, name):
        body = struct.pack("<ii", round(lon * 100000), round(lat * 100000)) + name + b"\0"
        return bytes([2]) + struct.pack("<i", len(body) + 5) + body
    return rec(13.40495, 52.52001, b"max @50") + rec(11.57612, 48.13715, b"Redlight@60")


SAMPLES = {
    "csv": CSV, "osm-feed-csv": OSM_FEED_CSV, "osm-feed-json": OSM_FEED_JSON, "fr-radars": FR,
    "garmin-csv": GARMIN, "igo": IGO, "gpx": GPX, "kml": KML, "geojson": GEOJSON, "dgt-xml": DGT,
    "osm": overpass_json(OSM_ELEMENTS[:20]), "ov2": ov2(),
}
SAMPLES_XML_OSM = osm_xml(OSM_ELEMENTS[:20])

# Values fuzzing found trouble with, dropped into the samples at random places.
TOKENS = [b"inf", b"-inf", b"nan", b"1e309", b"9" * 400, b"1" * 5000, b"9223372036854775808", b"-1", b"0",
          b'"', b"'", b",", b";", b"\n", b"\r", b"\x00", b"\xff\xfe", b"\xe9", b"\xc3", b"\\ud800", b"\xed\xa0\x80",
          b"<", b"</", b"&", b"<extensions>" * 300, b"]", b"}", b"{", b"[]", b"null", b"true", b"x" * 300,
          b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-01:00", b"mph", b"@", b"\t", b"  "]
MUTATIONS_PER_SAMPLE = 16


VALUE = re.compile(rb"[A-Za-z0-9_.:+@ -]+")


def mutate(data: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(9)
        pos = rng.randrange(len(data) + 1)
        if op >= 6:    # a whole value (a number, a name, a ref) replaced by a token
            spans = [m.span() for m in VALUE.finditer(data)]
            if spans:
                start, end = rng.choice(spans)
                data = data[:start] + rng.choice(TOKENS) + data[end:]
        elif op == 0:  # a token in place of a few bytes
            data = data[:pos] + rng.choice(TOKENS) + data[pos + rng.randint(0, 6):]
        elif op == 1:  # a token inserted after a digit, a quote or a separator
            spots = [i for i, b in enumerate(data) if b in b'0123456789",;:>=']
            at = rng.choice(spots) + 1 if spots else pos
            data = data[:at] + rng.choice(TOKENS) + data[at:]
        elif op == 2:  # a byte changed
            if data:
                data = data[:pos - 1] + bytes([rng.randrange(256)]) + data[pos:] if pos else data
        elif op == 3:  # a slice removed
            data = data[:pos] + data[pos + rng.randint(1, 40):]
        elif op == 4:  # a slice repeated
            end = min(len(data), pos + rng.randint(1, 80))
            data = data[:end] + data[pos:end] + data[end:]
        else:          # cut short
            data = data[:pos]
    return data


def inputs():
    rng = random.Random(20260301)
    for fmt, sample in [*SAMPLES.items(), ("osm", SAMPLES_XML_OSM)]:
        base = sample if isinstance(sample, bytes) else sample.encode("utf-8")
        for n in range(MUTATIONS_PER_SAMPLE):
            yield fmt, n, mutate(base, rng)


def test_the_unmutated_samples_import(tmp_path):
    for fmt, sample in SAMPLES.items():
        path = tmp_path / f"sample.{fmt}"
        path.write_bytes(sample if isinstance(sample, bytes) else sample.encode("utf-8"))
        report = import_file(path, source=f"fuzz-{fmt}", fmt=fmt, skip_invalid=True)
        assert report.accepted > 0, fmt


def test_mutated_inputs_end_in_a_clean_refusal_or_in_rows_that_store(tmp_path):
    outcomes = {"stored": 0, "refused": 0}
    for fmt, n, data in inputs():
        path = tmp_path / f"m{n}.{fmt.replace('-', '_')}"
        path.write_bytes(data)
        try:
            with transaction.atomic():
                report = import_file(path, source="fuzz", fmt=fmt, skip_invalid=True)
                # what the report says was written is there, and readable back
                assert CameraLink.objects.filter(source__name="fuzz").count() >= report.created
                list(Camera.objects.values_list("road", "description", "reports", "speed"))
                transaction.set_rollback(True)
            outcomes["stored"] += 1
        except (FormatError, ImportFailed) as err:
            assert str(err).strip(), (fmt, n)
            outcomes["refused"] += 1
        except Exception as err:  # anything else is a bug: name the input
            pytest.fail(f"{fmt} mutation {n}: {type(err).__name__}: {err}\ninput: {data[:600]!r}")
    assert sum(outcomes.values()) == (len(SAMPLES) + 1) * MUTATIONS_PER_SAMPLE
    assert outcomes["stored"] and outcomes["refused"]  # the mutations reach both outcomes
