"""cameras.distance: the one haversine, checked against known distances, and its callers.

The reference values are not computed with the haversine formula: they are the length of a
degree of latitude and of a quarter meridian on the sphere of mean Earth radius (IUGG,
6371.0088 km), the closed form for two points on the same parallel, and published
great-circle distances between airports and cities. The caller tests use points at 60° N,
where an east-west offset is half as long as the same offset in latitude, so a caller that
passes (lon, lat) instead of (lat, lon) measures a different distance and fails.
"""
import math

import numpy as np
import pyarrow as pa
import pytest
from django.conf import settings

from cameras import dedup, releases
from cameras.distance import EARTH_RADIUS_KM, KM_PER_DEG, haversine_km, haversine_m
from exporters.schema import SNAPSHOT_COLUMNS, CameraType, DirectionMode

KM_PER_DEGREE_OF_LATITUDE = 111.195     # pi * 6371.0088 km / 180
QUARTER_MERIDIAN_KM = 10_007.557        # pole to equator, pi * 6371.0088 km / 2
JFK = (40.6413, -73.7781)
LHR = (51.4700, -0.4543)
JFK_LHR_ELLIPSOID_KM = 5_555            # WGS84 geodesic; the sphere is within 0.5 % of it
PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)


def east(lat, lon, metres):
    """The point ``metres`` east of (lat, lon), by the length of a degree on that parallel."""
    return lat, lon + metres / (KM_PER_DEGREE_OF_LATITUDE * 1000 * math.cos(math.radians(lat)))


# --- the formula -----------------------------------------------------------------------------


def test_the_mean_earth_radius_is_the_iugg_value():
    assert EARTH_RADIUS_KM == 6371.0088
    assert KM_PER_DEG == pytest.approx(KM_PER_DEGREE_OF_LATITUDE, abs=1e-3)


def test_one_degree_of_latitude_is_111_195_km_anywhere_on_a_meridian():
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(KM_PER_DEGREE_OF_LATITUDE, abs=1e-3)
    assert haversine_km(45.0, -120.0, 46.0, -120.0) == pytest.approx(KM_PER_DEGREE_OF_LATITUDE, abs=1e-3)


def test_pole_to_equator_is_a_quarter_meridian():
    assert haversine_km(90.0, 0.0, 0.0, 37.0) == pytest.approx(QUARTER_MERIDIAN_KM, abs=1e-3)
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(2 * QUARTER_MERIDIAN_KM, abs=1e-3)


def test_airport_and_city_distances_match_published_figures():
    assert haversine_km(*JFK, *LHR) == pytest.approx(JFK_LHR_ELLIPSOID_KM, rel=5e-3)
    assert haversine_km(*PARIS, *LONDON) == pytest.approx(343.5, abs=0.5)


def test_the_distance_is_symmetric_and_zero_for_the_same_point():
    assert haversine_km(*JFK, *LHR) == pytest.approx(haversine_km(*LHR, *JFK))
    assert haversine_km(*PARIS, *PARIS) == 0.0


def test_arguments_are_lat_then_lon():
    # 10 degrees of longitude along the 60th parallel: the central angle is
    # 2 asin(cos(60°) sin(5°)), about half of 10 degrees of latitude.
    along_parallel = 2 * EARTH_RADIUS_KM * math.asin(math.cos(math.radians(60)) * math.sin(math.radians(5)))
    assert haversine_km(60.0, 0.0, 60.0, 10.0) == pytest.approx(along_parallel, rel=1e-9)
    # The same numbers read as (lon, lat) are 10 degrees along a meridian.
    assert haversine_km(0.0, 60.0, 10.0, 60.0) == pytest.approx(10 * KM_PER_DEGREE_OF_LATITUDE, abs=0.01)


def test_metres_are_a_thousand_times_kilometres():
    assert haversine_m(*PARIS, *LONDON) == pytest.approx(haversine_km(*PARIS, *LONDON) * 1000)
    assert haversine_m(*east(60.0, 10.0, 20.0), 60.0, 10.0) == pytest.approx(20.0, abs=0.01)


def test_arrays_are_measured_element_by_element_and_scalars_broadcast():
    lat1 = np.array([JFK[0], PARIS[0], 0.0])
    lon1 = np.array([JFK[1], PARIS[1], 0.0])
    lat2 = np.array([LHR[0], LONDON[0], 1.0])
    lon2 = np.array([LHR[1], LONDON[1], 0.0])
    d = haversine_km(lat1, lon1, lat2, lon2)
    assert d.shape == (3,)
    assert d.tolist() == [float(haversine_km(a, b, c, e)) for a, b, c, e in zip(lat1, lon1, lat2, lon2)]
    from_paris = haversine_km(*PARIS, lat2, lon2)
    assert from_paris.shape == (3,)
    assert from_paris[1] == pytest.approx(d[1])


# --- callers ---------------------------------------------------------------------------------


def cameras(*points, **columns):
    n = len(points)
    return {
        "lat": np.array([p[0] for p in points]),
        "lon": np.array([p[1] for p in points]),
        "type": np.full(n, int(CameraType.SPEED)),
        "heading": np.full(n, np.nan),
        "dir_mode": np.full(n, int(DirectionMode.ALL)),
        **columns,
    }


def test_a_camera_20_m_from_a_known_one_is_the_same_camera_at_20_m():
    assert settings.DEDUP_RADIUS_M > 20
    old = cameras((60.0, 10.0), (61.0, 10.0))
    new = cameras(east(60.0, 10.0, 20.0))
    best, dist = dedup.match_existing(new, old, settings.DEDUP_RADIUS_M, settings.DEDUP_MAX_HEADING_DIFF)
    assert best.tolist() == [0]
    assert dist[0] == pytest.approx(20.0, abs=0.05)


def test_stretches_whose_ends_are_20_m_apart_are_the_same_camera():
    end_a, end_b = (60.0, 10.0), east(60.0, 10.0, 20.0)
    far = east(60.0, 10.0, 2 * settings.DEDUP_RADIUS_M)
    pairs = dedup.same_camera_pairs(
        np.array([59.99, 59.99, 59.99]), np.array([10.0, 10.0, 10.0]),
        np.full(3, int(CameraType.SECTION)), np.full(3, np.nan), np.full(3, int(DirectionMode.ALL)),
        settings.DEDUP_RADIUS_M, settings.DEDUP_MAX_HEADING_DIFF,
        np.array([end_a[0], end_b[0], far[0]]), np.array([end_a[1], end_b[1], far[1]]),
    )
    assert pairs.tolist() == [[0, 1]]


def snapshot(*rows):
    """A snapshot table with one row per (id, lat, lon); every other column is 0 or 'FR'."""
    n = len(rows)
    columns = {}
    for name, dtype in SNAPSHOT_COLUMNS.items():
        columns[name] = pa.array(["FR"] * n) if dtype == "str" else pa.array(np.zeros(n, dtype=dtype))
    columns["id"] = pa.array([r[0] for r in rows], type=pa.int64())
    columns["lat"] = pa.array(np.array([r[1] for r in rows], dtype=SNAPSHOT_COLUMNS["lat"]))
    columns["lon"] = pa.array(np.array([r[2] for r in rows], dtype=SNAPSHOT_COLUMNS["lon"]))
    return pa.table(columns, schema=releases.SNAPSHOT_SCHEMA)


def test_a_camera_counts_as_moved_only_beyond_the_threshold_in_metres():
    threshold = settings.RELEASE_MOVED_THRESHOLD_M
    before = snapshot((1, 60.0, 10.0), (2, 60.0, 11.0))
    after = snapshot((1, *east(60.0, 10.0, 0.8 * threshold)), (2, *east(60.0, 11.0, 1.2 * threshold)))
    log = releases.compute_changelog(before, after, 1, threshold)
    assert log["summary"]["moved"] == 1
    assert log["moved"] == [[2, pytest.approx(1.2 * threshold, abs=0.1)]]
