"""services.mapdata on a handful of cameras whose places are known: query parsing, every
camera counted once at every zoom, single cameras as points, the size ceiling, Mercator."""

import json

import numpy as np
import pytest

from cameras.coverage import CameraIndex
from exporters.base import CameraSet
from exporters.schema import CameraType
from portal.services import mapdata
from tests.exporters.fixtures import scaled_cameras

WORLD = "-180,-90,180,90"

# id: (lat, lon, type, speed, country)
KNOWN = {
    101: (48.85660, 2.35220, CameraType.SPEED, 50, "FR"),            # Paris, two cameras 15 m apart
    102: (48.85670, 2.35240, CameraType.SPEED, 30, "FR"),
    201: (52.52000, 13.40500, CameraType.RED_LIGHT, 50, "DE"),       # Berlin
    301: (40.71280, -74.00600, CameraType.SECTION_START, 0, "US"),   # New York, no speed
    401: (-33.86880, 151.20930, CameraType.MOBILE_ZONE, 60, "AU"),   # Sydney
    501: (-17.70000, 179.90000, CameraType.SPEED, 80, "FJ"),         # Fiji, both sides of the antimeridian
    502: (-17.70000, -179.90000, CameraType.POLICE_CHECK, 80, "FJ"),
    601: (89.00000, 10.00000, CameraType.OTHER, 0, "NO"),            # beyond Mercator's 85 degrees
    602: (-89.50000, 0.00000, CameraType.DISTANCE, 0, "AQ"),
}


@pytest.fixture(scope="module")
def data():
    n = len(KNOWN)
    cols = dict(scaled_cameras(n).columns)
    ids = list(KNOWN)
    cols["id"] = np.array(ids, dtype=np.int64)
    cols["lat"] = np.array([KNOWN[i][0] for i in ids])
    cols["lon"] = np.array([KNOWN[i][1] for i in ids])
    cols["type"] = np.array([int(KNOWN[i][2]) for i in ids], dtype=np.int16)
    cols["speed"] = np.array([KNOWN[i][3] for i in ids], dtype=np.int16)
    cols["country"] = np.array([KNOWN[i][4] for i in ids], dtype=object)
    return mapdata.MapData(CameraIndex(CameraSet(cols)))


def query(bbox=WORLD, zoom=0, **params):
    return mapdata.parse_query({"bbox": bbox, "zoom": str(zoom), **params})


def counted(answer) -> int:
    return sum(count for *_, count in answer["clusters"]) + len(answer["cameras"])


# ---------------------------------------------------------------------------------------
# Query parsing


@pytest.mark.parametrize("params, param, message", [
    ({"zoom": "3"}, "bbox", "the bbox parameter is required"),
    ({"bbox": " ", "zoom": "3"}, "bbox", "the bbox parameter is required"),
    ({"bbox": "1,2,3", "zoom": "3"}, "bbox", "bbox must have 4 comma-separated numbers, got 3"),
    ({"bbox": "west,40,10,50", "zoom": "3"}, "bbox", "bbox west must be a number from -180 to 180, got 'west'"),
    ({"bbox": "-190,40,10,50", "zoom": "3"}, "bbox", "bbox west must be a number from -180 to 180, got '-190'"),
    ({"bbox": "0,nan,10,50", "zoom": "3"}, "bbox", "bbox south must be a number from -90 to 90, got 'nan'"),
    ({"bbox": "0,40,10,inf", "zoom": "3"}, "bbox", "bbox north must be a number from -90 to 90, got 'inf'"),
    ({"bbox": "0,50,10,40", "zoom": "3"}, "bbox", "bbox south (50) must be below north (40)"),
    ({"bbox": WORLD}, "zoom", "the zoom parameter is required"),
    ({"bbox": WORLD, "zoom": "1.5"}, "zoom", "zoom must be an integer, got '1.5'"),
    ({"bbox": WORLD, "zoom": "21"}, "zoom", "zoom must be from 0 to 20, got 21"),
    ({"bbox": WORLD, "zoom": "-1"}, "zoom", "zoom must be from 0 to 20, got -1"),
    ({"bbox": WORLD, "zoom": "3", "types": "speed,ufo"}, "types", "unknown camera type 'ufo'"),
])
def test_a_bad_query_is_refused_naming_the_parameter_and_what_is_valid(params, param, message):
    with pytest.raises(mapdata.MapQueryError) as caught:
        mapdata.parse_query(params)
    answer = caught.value.as_dict()
    assert answer["param"] == param and answer["error"] == message and answer["valid"]


def test_the_valid_types_are_listed_when_one_is_unknown():
    with pytest.raises(mapdata.MapQueryError) as caught:
        query(types="ufo")
    assert "speed" in caught.value.valid and "red-light" in caught.value.valid and "police-check" in caught.value.valid


def test_a_good_query_is_read_with_its_types():
    q = query("-10.5,35,30,60", 7, types=" Speed,red-light,,")
    assert (q.west, q.south, q.east, q.north, q.zoom) == (-10.5, 35, 30, 60, 7)
    assert q.types == {int(CameraType.SPEED), int(CameraType.RED_LIGHT)}
    assert query().types is None                       # no types: every type
    assert query(types="").types == frozenset()        # types present but empty: none


# ---------------------------------------------------------------------------------------
# Clusters


@pytest.mark.parametrize("zoom", range(mapdata.MIN_ZOOM, mapdata.MAX_ZOOM + 1))
def test_the_world_counts_every_camera_exactly_once_at_every_zoom(data, zoom):
    answer = mapdata.clusters(data, query(zoom=zoom))
    assert answer["total"] == counted(answer) == len(KNOWN)
    singles = [camera_id for _, _, camera_id, _, _ in answer["cameras"]]
    assert len(singles) == len(set(singles)) and set(singles) <= set(KNOWN)
    assert answer["countries"] == {"AQ": 1, "AU": 1, "DE": 1, "FJ": 2, "FR": 2, "NO": 1, "US": 1}


def test_at_the_closest_zoom_every_camera_but_the_paris_pair_stands_alone(data):
    answer = mapdata.clusters(data, query(zoom=12))
    assert sorted(camera_id for _, _, camera_id, _, _ in answer["cameras"]) == [201, 301, 401, 501, 502, 601, 602]
    [(lat, lon, count)] = answer["clusters"]
    assert count == 2 and lat == pytest.approx(48.85665) and lon == pytest.approx(2.3523)


def test_a_single_camera_is_a_point_with_its_id_type_and_speed(data):
    berlin = mapdata.clusters(data, query("13,52,14,53", 12))
    assert berlin["clusters"] == [] and berlin["cameras"] == [[52.52, 13.405, 201, "red-light", 50]]
    new_york = mapdata.clusters(data, query("-75,40,-73,41", 12))
    assert new_york["cameras"] == [[40.7128, -74.006, 301, "section-start", None]]   # no speed: null


def test_the_type_filter_counts_only_those_types(data):
    answer = mapdata.clusters(data, query(zoom=12, types="speed"))
    assert answer["total"] == counted(answer) == 3 and answer["types"] == ["speed"]
    assert answer["countries"] == {"FJ": 1, "FR": 2}
    nothing = mapdata.clusters(data, query(zoom=12, types=""))
    assert nothing["total"] == 0 and nothing["clusters"] == nothing["cameras"] == []


def test_a_viewport_across_the_antimeridian_holds_the_cameras_of_both_sides(data):
    answer = mapdata.clusters(data, query("179,-18,-179,-17", 10))
    assert sorted(camera_id for _, _, camera_id, _, _ in answer["cameras"]) == [501, 502]
    west, _, east, _ = answer["bbox"]
    assert west > east     # the covered cells wrap too


def test_the_empty_sea_gives_an_empty_answer(data):
    answer = mapdata.clusters(data, query("-40,-10,-30,0", 6))
    assert answer["total"] == 0 and answer["clusters"] == answer["cameras"] == [] and answer["countries"] == {}


def test_the_json_stays_under_the_ceiling_by_coarsening_the_grid(data, monkeypatch):
    body = mapdata.clusters_json(data, query(zoom=12))
    assert len(body) < mapdata.MAX_BYTES
    full = json.loads(body)
    # a ceiling that the full answer does not fit: fewer, larger cells, still every camera once
    monkeypatch.setattr(mapdata, "MAX_BYTES", len(body) - 1)
    smaller = mapdata.clusters_json(data, query(zoom=12))
    answer = json.loads(smaller)
    assert len(smaller) < len(body) and answer["level"] < full["level"]
    assert answer["total"] == counted(answer) == len(KNOWN)


# ---------------------------------------------------------------------------------------
# Mercator


def test_mercator_units_and_lat_of_y_round_trip():
    lats = np.array([-85.0, -60.5, -33.8688, 0.0, 12.25, 48.8566, 70.0, 85.0])
    x, y = mapdata.mercator_units(lats, np.zeros(len(lats)))
    scale = float(1 << mapdata.PRECISION_BITS)
    back = [mapdata.lat_of_y((int(v) + 0.5) / scale) for v in y]
    assert back == pytest.approx(lats.tolist(), abs=1e-6)
    assert (np.diff(y) < 0).all()                 # y grows southwards
    assert set(x.tolist()) == {1 << (mapdata.PRECISION_BITS - 1)}    # longitude 0: the middle


def test_mercator_units_stay_inside_the_world():
    top = (1 << mapdata.PRECISION_BITS) - 1
    x, y = mapdata.mercator_units(np.array([90.0, -90.0, 0.0, 0.0]), np.array([0.0, 0.0, -180.0, 180.0]))
    assert y.tolist()[:2] == [0, top] and x.tolist()[2:] == [0, top]
    assert mapdata.lat_of_y(0.0) == pytest.approx(mapdata.MERCATOR_MAX_LAT)
    assert mapdata.lat_of_y(0.5) == pytest.approx(0.0)
    assert mapdata.lat_of_y(1.0) == pytest.approx(-mapdata.MERCATOR_MAX_LAT)
