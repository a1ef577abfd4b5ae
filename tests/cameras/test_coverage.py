"""Coverage: country/region sets, route corridors, home circles, GPX uploads, set operations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from cameras.coverage import routes
from cameras import regions
from cameras.coverage import CameraIndex, Coverage, CoverageError, Route, read_gpx_route
from exporters.base import CameraSet
from exporters.schema import CameraType, Kind

GEOD = Geod(ellps="WGS84")
COUNTRIES = ["FR", "BE", "DE", "NL", "LU", "CH", "AT", "IT", "ES", "PT", "GB", "PL"]


def camera_set(rows):
    return CameraSet.from_records([dict(id=i + 1, **r) for i, r in enumerate(rows)])


@pytest.fixture(scope="module")
def index():
    rng = np.random.default_rng(4)
    n = 3000
    country = rng.choice(COUNTRIES, n)
    rows = [dict(lat=float(rng.uniform(40, 55)), lon=float(rng.uniform(-5, 20)), country=str(c),
                 type=int(rng.choice([CameraType.SPEED, CameraType.RED_LIGHT, CameraType.OTHER])),
                 kind=Kind.MOBILE if rng.random() < 0.1 else Kind.FIXED) for c in country]
    return CameraIndex(camera_set(rows))


# ---------------------------------------------------------------------------------------
# codes and errors


def test_countries_and_regions_expand_and_are_listed_as_chosen():
    c = Coverage.parse("fr, benelux")
    assert c.countries == {"FR", "BE", "NL", "LU"}
    assert c.codes == ("FR", "benelux")
    assert c.labels() == ["FR", "benelux"]


def test_an_unknown_code_names_close_matches():
    with pytest.raises(CoverageError, match="did you mean western-europe"):
        Coverage.parse(["westren-europe"])
    with pytest.raises(CoverageError, match="unknown country or region 'XX'"):
        Coverage.parse(["FR", "XX"])


def test_an_empty_coverage_says_what_to_give():
    with pytest.raises(CoverageError, match="coverage is empty"):
        Coverage.parse([])


def test_bad_extras_are_refused_with_the_allowed_range():
    route = Route.from_points([48.0, 48.1], [2.0, 2.1])
    with pytest.raises(CoverageError, match="corridor width 80 km is outside 0-50 km"):
        Coverage.parse([], route=route, corridor_km=80)
    with pytest.raises(CoverageError, match="radius"):
        Coverage.parse([], home=(48.0, 2.0), radius_km=0)
    with pytest.raises(CoverageError, match="not a latitude,longitude"):
        Coverage.parse([], home=(148.0, 2.0), radius_km=5)
    with pytest.raises(CoverageError, match="did you mean red-light"):
        Coverage.parse(["FR"], exclude_types=["red-lite"])


def test_country_mask_selects_exactly_the_countries(index):
    mask = Coverage.parse("FR,BE").mask(index)
    countries = index.cameras["country"].astype(str)
    assert np.array_equal(mask, np.isin(countries, ["FR", "BE"]))


def test_excluded_types_leave_the_coverage(index):
    mask = Coverage.parse("FR", exclude_types=["other"]).mask(index)
    assert mask.any()
    assert not (index.cameras["type"][mask] == CameraType.OTHER).any()
    assert mask.sum() == ((index.cameras["country"] == "FR") & (index.cameras["type"] != CameraType.OTHER)).sum()


# ---------------------------------------------------------------------------------------
# set operations (property-based)

codes = st.lists(st.sampled_from(COUNTRIES + ["benelux", "dach", "iberia", "british-isles"]), min_size=1,
                 max_size=5)


@settings(max_examples=60, deadline=None)
@given(a=codes, b=codes)
def test_the_mask_of_a_union_is_the_union_of_the_masks(index, a, b):
    ca, cb = Coverage.parse(a), Coverage.parse(b)
    assert np.array_equal((ca | cb).mask(index), ca.mask(index) | cb.mask(index))
    assert (ca | cb).countries == (cb | ca).countries
    assert np.array_equal((ca | ca).mask(index), ca.mask(index))


@settings(max_examples=60, deadline=None)
@given(a=codes, b=codes)
def test_without_removes_exactly_those_countries(index, a, b):
    ca = Coverage.parse(a)
    dropped = regions.expand(b)
    trimmed = ca.without(b)
    assert trimmed.countries == ca.countries - dropped
    in_dropped = np.isin(index.cameras["country"].astype(str), sorted(dropped))
    assert np.array_equal(trimmed.mask(index), ca.mask(index) & ~in_dropped)
    # the labels still describe the same countries
    if trimmed.countries:
        assert regions.expand(trimmed.codes) == trimmed.countries


@settings(max_examples=40, deadline=None)
@given(a=codes, extra=st.lists(st.sampled_from(COUNTRIES), max_size=3))
def test_adding_countries_only_adds_cameras(index, a, extra):
    ca = Coverage.parse(a)
    grown = ca.with_countries(extra)
    assert np.all(grown.mask(index) >= ca.mask(index))
    assert regions.expand(grown.codes) == grown.countries


# ---------------------------------------------------------------------------------------
# corridors and circles


def offset(lat, lon, azimuth, km):
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, km * 1000)
    return lat2, lon2


def test_a_corridor_takes_the_cameras_within_n_km_of_the_route():
    # A route along the 48th parallel from 2E to 4E, one point per ~700 m.
    lon = np.linspace(2.0, 4.0, 220)
    route = Route.from_points(np.full_like(lon, 48.0), lon)
    rows = []
    for d in (0.0, 1.0, 4.9, 5.1, 8.0):
        for az in (0, 180):
            lat2, lon2 = offset(48.0, 3.0, az, d)
            rows.append(dict(lat=lat2, lon=lon2, country="FR"))
    lat2, lon2 = offset(48.0, 4.0, 90, 4.9)   # beyond the end, within 4.9 km of the last point
    rows.append(dict(lat=lat2, lon=lon2, country="FR"))
    lat2, lon2 = offset(48.0, 4.0, 90, 5.1)
    rows.append(dict(lat=lat2, lon=lon2, country="FR"))
    index = CameraIndex(camera_set(rows))
    mask = Coverage.parse([], route=route, corridor_km=5).mask(index)
    assert mask.tolist() == [True, True, True, True, True, True, False, False, False, False, True, False]


def test_a_corridor_crosses_borders_and_adds_to_the_countries():
    route = Route.from_points([50.0, 50.0], [5.0, 7.0])
    rows = [dict(lat=50.01, lon=5.5, country="BE"), dict(lat=50.01, lon=6.5, country="DE"),
            dict(lat=45.0, lon=2.0, country="FR"), dict(lat=52.0, lon=6.0, country="NL")]
    mask = Coverage.parse(["FR"], route=route, corridor_km=3).mask(CameraIndex(camera_set(rows)))
    assert mask.tolist() == [True, True, True, False]


def test_a_home_circle_uses_the_great_circle_distance():
    rows = []
    for d in (10, 49, 51):
        lat2, lon2 = offset(60.0, 10.0, 90, d)
        rows.append(dict(lat=lat2, lon=lon2, country="NO"))
    mask = Coverage.parse([], home=(60.0, 10.0), radius_km=50).mask(CameraIndex(camera_set(rows)))
    assert mask.tolist() == [True, True, False]


def test_union_of_extras_keeps_both_corridors():
    r1 = Route.from_points([48.0, 48.0], [2.0, 2.5])
    r2 = Route.from_points([45.0, 45.0], [5.0, 5.5])
    rows = [dict(lat=48.01, lon=2.2, country="FR"), dict(lat=45.01, lon=5.2, country="FR"),
            dict(lat=46.0, lon=3.0, country="FR")]
    index = CameraIndex(camera_set(rows))
    both = Coverage.parse([], route=r1, corridor_km=5) | Coverage.parse([], route=r2, corridor_km=5)
    assert both.mask(index).tolist() == [True, True, False]
    assert len(both.labels()) == 2 and all(label.startswith("route:") for label in both.labels())


# ---------------------------------------------------------------------------------------
# GPX uploads

GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>Paris - Lyon</name><trkseg>{points}</trkseg></trk>
</gpx>"""


def gpx(points):
    return GPX.format(points="".join(f'<trkpt lat="{a}" lon="{b}"/>' for a, b in points)).encode()


def test_a_gpx_track_becomes_a_route():
    route = read_gpx_route(gpx([(48.85, 2.35), (47.3, 4.0), (45.76, 4.84)]))
    assert route.name == "Paris - Lyon"
    assert route.lat.tolist() == [48.85, 47.3, 45.76]
    assert 380 < route.length_km < 420


def test_a_gpx_route_with_rtept_is_read():
    data = b"""<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><rte>
      <rtept lat="50.0" lon="4.0"/><rtept lat="50.1" lon="4.2"/></rte></gpx>"""
    assert read_gpx_route(data).lon.tolist() == [4.0, 4.2]


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b"   \n", "the file is empty"),
    (b"<gpx><trk>", "not a valid XML/GPX file"),
    (b"PK\x03\x04 zip", "not a valid XML/GPX file"),
    (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>', r"XML but not GPX \(root element <kml>\)"),
    (b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="1" lon="2"/></gpx>',
     "no track or route points"),
    (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     b'<gpx version="1.1"><trk><name>&b;</name></trk></gpx>', "declares XML entities"),
])
def test_a_bad_gpx_gets_a_clear_error(data, message):
    with pytest.raises(CoverageError, match=message):
        read_gpx_route(data, "upload.gpx")


def test_a_gpx_over_the_size_limit_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(routes, "MAX_ROUTE_BYTES", 1000)
    with pytest.raises(CoverageError, match="too large for a route"):
        read_gpx_route(gpx([(48.0, 2.0 + i / 1000) for i in range(100)]))


def test_a_gpx_with_too_many_points_is_refused(monkeypatch):
    monkeypatch.setattr(routes, "MAX_ROUTE_POINTS", 50)
    with pytest.raises(CoverageError, match="more than 50 points"):
        read_gpx_route(gpx([(48.0, 2.0 + i / 1000) for i in range(51)]))
    assert len(read_gpx_route(gpx([(48.0, 2.0 + i / 1000) for i in range(50)])).lat) == 50
