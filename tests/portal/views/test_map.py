"""The preview map's cluster endpoint (/map/clusters.json) and the clustering behind it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from django.urls import reverse

from cameras import demo
from cameras.coverage import CameraIndex
from cameras.exporting import release_index
from cameras.importing import import_file
from cameras.releases import publish_release
from exporters.base import CameraSet
from exporters.schema import CameraType
from portal.services import mapdata
from tests.exporters.fixtures import scaled_cameras

URL = "/map/clusters.json"
WORLD = "-180,-90,180,90"


# ---------------------------------------------------------------------------------------
# Helpers


def in_bbox(lat, lon, bbox):
    """Brute force: cameras inside [west, south, east, north] (west > east wraps)."""
    west, south, east, north = bbox
    lat_ok = (lat >= south) & (lat <= north)
    lon_ok = (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
    return lat_ok & lon_ok


def answer_total(answer) -> int:
    return sum(c[2] for c in answer["clusters"]) + len(answer["cameras"])


def viewport(lat, lon, zoom, width_px=1600, height_px=1000):
    """The bbox a browser window of width_px x height_px shows around (lat, lon) at zoom."""
    world_px = 256 * 2 ** zoom
    x = (lon + 180) / 360 * world_px
    y = (0.5 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi)) * world_px
    to_lon = lambda px: max(-180.0, min(180.0, px / world_px * 360 - 180))  # noqa: E731
    to_lat = lambda py: max(-85.0, min(85.0, mapdata.lat_of_y(min(max(py / world_px, 0), 1))))  # noqa: E731
    west, east = to_lon(x - width_px / 2), to_lon(x + width_px / 2)
    return f"{west},{to_lat(y + height_px / 2)},{east},{to_lat(y - height_px / 2)}"


@pytest.fixture(scope="module")
def big():
    """200,000 cameras: half spread over the world, half packed into Paris (a dense city)."""
    cams = scaled_cameras(200_000)
    rng = np.random.default_rng(3)
    half = 100_000
    lat, lon = cams["lat"].copy(), cams["lon"].copy()
    lat[:half] = 48.8566 + rng.normal(0, 0.04, half)
    lon[:half] = 2.3522 + rng.normal(0, 0.06, half)
    cols = dict(cams.columns, lat=lat, lon=lon)
    return mapdata.MapData(CameraIndex(CameraSet(cols)))


@pytest.fixture(scope="module")
def lonely():
    """200,000 cameras on a regular grid over Europe: at fine levels every cell holds one."""
    side = 448  # 448 * 448 = 200,704
    lat, lon = np.meshgrid(np.linspace(36, 70, side), np.linspace(-10, 40, side))
    cams = scaled_cameras(side * side)
    cols = dict(cams.columns, lat=lat.ravel(), lon=lon.ravel())
    cols["id"] = np.arange(10**9, 10**9 + side * side, dtype=np.int64)  # long ids: the worst case
    cols["type"] = np.full(side * side, int(CameraType.RED_LIGHT_SPEED), dtype=np.int16)  # the longest slug
    cols["speed"] = np.full(side * side, 130, dtype=np.int16)
    return mapdata.MapData(CameraIndex(CameraSet(cols)))


def query(**params):
    return mapdata.parse_query({k: str(v) for k, v in params.items()})


# ---------------------------------------------------------------------------------------
# Clustering, without the database


@pytest.mark.parametrize("zoom", range(2, 19))
def test_a_200k_answer_stays_under_200_kb_at_every_zoom(big, lonely, zoom):
    for data, bboxes in ((big, (WORLD, "2.2,48.78,2.5,48.93", viewport(48.8566, 2.3522, zoom))),
                         (lonely, (WORLD, "-10,36,40,70", viewport(50.0, 10.0, zoom)))):
        for bbox in bboxes:
            body = mapdata.clusters_json(data, query(bbox=bbox, zoom=zoom), {"number": 1})
            assert len(body) < mapdata.MAX_BYTES, (bbox, zoom, len(body))
            answer = json.loads(body)
            assert len(answer["clusters"]) + len(answer["cameras"]) <= mapdata.MAX_FEATURES
            assert answer_total(answer) == answer["total"]


def test_counts_add_up_to_the_cameras_in_the_covered_bbox(big):
    lat, lon = big.lat, big.lon
    rng = np.random.default_rng(11)
    cases = [(WORLD, 2), ("2.2,48.78,2.5,48.93", 12), ("2.3,48.85,2.4,48.87", 16), ("170,-40,-160,60", 5),
             ("-20,30,45,72", 5), ("10,-60,9.9,80", 2), ("10,-60,9.9,80", 9), ("179.9,-60,-179.9,80", 7)]
    for _ in range(12):
        west, east = sorted(rng.uniform(-180, 180, 2))
        south, north = sorted(rng.uniform(-80, 80, 2))
        cases.append((f"{west},{south},{east},{north}", int(rng.integers(2, 19))))
    for bbox, zoom in cases:
        answer = mapdata.clusters(big, query(bbox=bbox, zoom=zoom))
        covered = answer["bbox"]
        asked = [float(v) for v in bbox.split(",")]
        # The covered bbox holds the asked one (widened to whole cells).
        assert covered[1] <= asked[1] + 1e-9 and covered[3] >= asked[3] - 1e-9
        expected = int(in_bbox(lat, lon, covered).sum())
        assert answer["total"] == answer_total(answer) == expected, (bbox, zoom)
        assert sum(answer["countries"].values()) == expected
        for c in answer["clusters"]:
            assert in_bbox(np.array([c[0]]), np.array([c[1]]), covered)[0]


def test_the_type_filter_keeps_only_those_types(big):
    types = big.type
    answer = mapdata.clusters(big, query(bbox=WORLD, zoom=3, types="speed,red-light"))
    expected = int(np.isin(types, [CameraType.SPEED, CameraType.RED_LIGHT]).sum())
    assert answer["total"] == answer_total(answer) == expected
    assert answer["types"] == ["red-light", "speed"]
    # Singles carry their type: at street level around Paris every camera shown matches.
    answer = mapdata.clusters(big, query(bbox=viewport(48.8566, 2.3522, 18), zoom=18, types="tunnel"))
    assert answer["cameras"] and {c[3] for c in answer["cameras"]} == {"tunnel"}
    assert answer["clusters"] == [] or all(c[2] > 1 for c in answer["clusters"])
    none = mapdata.clusters(big, query(bbox=WORLD, zoom=3, types=""))
    assert none["total"] == 0 and none["clusters"] == [] and none["cameras"] == []


def test_single_cameras_give_their_id_type_and_speed(big):
    answer = mapdata.clusters(big, query(bbox=viewport(48.8566, 2.3522, 18), zoom=18))
    assert answer["cameras"]
    by_id = {int(i): k for k, i in enumerate(big.ids)}
    for lat, lon, cid, slug, speed in answer["cameras"]:
        row = by_id[cid]
        assert (lat, lon) == (round(big.lat[row], 5), round(big.lon[row], 5))
        assert slug == CameraType(int(big.type[row])).slug
        assert speed == (int(big.speed[row]) or None)


def test_an_empty_database_gives_an_empty_answer():
    answer = mapdata.clusters(None, query(bbox=WORLD, zoom=3))
    assert answer["total"] == 0 and answer["clusters"] == [] and answer["cameras"] == []


@pytest.mark.parametrize("params, param, text", [
    ({"zoom": "3"}, "bbox", "required"),
    ({"bbox": "1,2,3", "zoom": "3"}, "bbox", "4 comma-separated"),
    ({"bbox": "a,2,3,4", "zoom": "3"}, "bbox", "west must be a number"),
    ({"bbox": "0,-95,10,10", "zoom": "3"}, "bbox", "south must be a number from -90 to 90"),
    ({"bbox": "0,10,10,5", "zoom": "3"}, "bbox", "must be below north"),
    ({"bbox": "0,0,nan,5", "zoom": "3"}, "bbox", "east must be a number"),
    ({"bbox": WORLD}, "zoom", "required"),
    ({"bbox": WORLD, "zoom": "x"}, "zoom", "integer"),
    ({"bbox": WORLD, "zoom": "25"}, "zoom", "from 0 to 20"),
    ({"bbox": WORLD, "zoom": "3", "types": "speed,laser"}, "types", "unknown camera type 'laser'"),
])
def test_bad_parameters_are_named(params, param, text):
    with pytest.raises(mapdata.MapQueryError) as info:
        mapdata.parse_query(params)
    assert info.value.param == param
    assert text in info.value.message
    assert info.value.valid


# ---------------------------------------------------------------------------------------
# The endpoint


@pytest.mark.django_db
def test_no_release_gives_an_empty_answer(client):
    r = client.get(URL, {"bbox": WORLD, "zoom": 3})
    assert r.status_code == 200
    data = r.json()
    assert data["release"] is None and data["total"] == 0 and data["clusters"] == [] and data["cameras"] == []


@pytest.mark.django_db
def test_the_url_is_named(client):
    assert reverse("home-map-clusters") == URL
    assert reverse("home-page") == "/"


@pytest.mark.django_db
def test_the_world_holds_every_camera_of_the_release(client, release):
    r = client.get(URL, {"bbox": WORLD, "zoom": 2})
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    data = r.json()
    assert data["release"]["number"] == release.number
    assert data["release"]["date"] == release.created_at.date().isoformat()
    assert data["total"] == answer_total(data) == release.camera_count
    assert data["countries"] == release.counts["country"]


@pytest.mark.django_db
def test_a_city_viewport_counts_the_cameras_in_its_cells(client, release):
    index = release_index(release)
    for bbox, zoom in (("2.0,48.6,2.7,49.1", 9), ("-1,40,20,55", 6), ("2.2,48.8,2.5,48.9", 14)):
        data = client.get(URL, {"bbox": bbox, "zoom": zoom}).json()
        expected = int(in_bbox(index.lat, index.lon, data["bbox"]).sum())
        assert data["total"] == answer_total(data) == expected > 0


@pytest.mark.django_db
def test_the_type_filter_over_http(client, release):
    counts = release.counts["type"]
    data = client.get(URL, {"bbox": WORLD, "zoom": 2, "types": "speed,red-light"}).json()
    assert data["total"] == answer_total(data) == counts.get("speed", 0) + counts.get("red-light", 0)
    data = client.get(URL, {"bbox": WORLD, "zoom": 2, "types": ""}).json()
    assert data["total"] == 0


@pytest.mark.django_db
def test_single_cameras_match_the_release(client, release):
    index = release_index(release)
    cams = index.cameras
    data = client.get(URL, {"bbox": "2.2,48.8,2.5,48.92", "zoom": 16}).json()
    assert data["cameras"]
    rows = {int(i): k for k, i in enumerate(cams["id"])}
    for lat, lon, cid, slug, speed in data["cameras"]:
        k = rows[cid]
        assert abs(lat - cams["lat"][k]) < 1e-5 and abs(lon - cams["lon"][k]) < 1e-5
        assert slug == CameraType(int(cams["type"][k])).slug
        assert speed == (int(cams["speed"][k]) or None)


@pytest.mark.django_db
@pytest.mark.parametrize("params, param", [
    ({"zoom": 3}, "bbox"),
    ({"bbox": "1,2,3", "zoom": 3}, "bbox"),
    ({"bbox": "0,10,10,5", "zoom": 3}, "bbox"),
    ({"bbox": WORLD, "zoom": "-1"}, "zoom"),
    ({"bbox": WORLD, "zoom": 3, "types": "speed,nope"}, "types"),
])
def test_bad_parameters_give_400_with_a_message(client, release, params, param):
    r = client.get(URL, params)
    assert r.status_code == 400
    body = r.json()
    assert body["param"] == param and body["error"] and body["valid"]
    if param == "types":
        assert "'nope'" in body["error"] and "red-light-speed" in body["valid"]


@pytest.mark.django_db
def test_only_get(client):
    assert client.post(URL, {"bbox": WORLD, "zoom": 3}).status_code == 405


@pytest.mark.django_db
def test_etag_and_caching(client, release):
    r = client.get(URL, {"bbox": WORLD, "zoom": 3})
    etag = r["ETag"]
    assert etag.startswith('"') and "max-age" in r["Cache-Control"]
    again = client.get(URL, {"bbox": WORLD, "zoom": 3}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    assert client.get(URL, {"bbox": WORLD, "zoom": 4})["ETag"] != etag
    assert client.get(URL, {"bbox": WORLD, "zoom": 3, "types": "speed"})["ETag"] != etag
    # The same cells: the same answer and tag.
    a = client.get(URL, {"bbox": "2.30,48.80,2.40,48.90", "zoom": 5})
    b = client.get(URL, {"bbox": "2.31,48.81,2.41,48.91", "zoom": 5})
    assert a["ETag"] == b["ETag"] and a.content == b.content


@pytest.mark.django_db
def test_a_new_release_changes_the_etag(client, release, tmp_path):
    before = client.get(URL, {"bbox": WORLD, "zoom": 3})
    path = tmp_path / "more.csv"
    demo.write_csv(path, demo.generate(50, seed=9), ref_prefix="more-")
    import_file(path, source="demo2", fmt="csv")
    newer = publish_release()
    after = client.get(URL, {"bbox": WORLD, "zoom": 3}, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.json()["total"] == newer.camera_count
