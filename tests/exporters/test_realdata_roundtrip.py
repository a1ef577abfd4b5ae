"""Every real dataset in SHARED_DATA_DIR, exported to every registered format and read back in full.

The cameras
    Each dataset is read with the project's feed readers (``cameras.formats.detect``) and put
    into a ``CameraSet`` without the database: ids 1..n in file order, speeds and truck speeds
    0 when unknown, headings and end points NaN when absent; countries from ``cameras.geo``
    after ``fix_swapped`` (the 13,927 swapped lufop zone rows are swapped back, end points
    with them, as the importer does). Rows outside every country are dropped and counted.
    The set is built once per dataset and test process (a module-scoped cache: reading and
    placing takes about 0.5 s per file).

The exports
    Every (dataset, format) pair renders with ``ExportOptions(mobile=True)``, so every camera
    is selected; the POI files (the plugin's ``file_extension``) are written to ``tmp_path``
    and read back in full, each with the strongest independent readers available:

    ==============  ===================================================  ==========  ==========================
    format          read back with                                       position    also compared
    ==============  ===================================================  ==========  ==========================
    tomtom-ov2      gpsbabel -i tomtom; readers.ov2_reader (the skipper  0.5e-5 deg  file per category and
                    tree: block lengths, rectangles, leaves <= 20)                   speed, speed in the name
    garmin-gpi      readers.gpi_reader; gpsbabel -i garmin_gpi           4.2e-8;     group per category, the
                                                                         5.4e-7      proximity of the limit,
                                                                                     no alert speed
    garmin-poi-csv  the strict reader of test_garmin_poi_csv; gpsbabel   0.5e-6      file per category, "@NN"
                    -i garmin_poi (positions only: it does not unquote               speed suffix
                    text)
    gpx             gpsbabel -i gpx                                      0.5e-6      file per category, "@NN"
                                                                                     speed suffix, proximity
                                                                                     of the limit
    blaupunkt-kml   gpsbabel -i kml (points, every list)                 0.5e-6      list per country, category
                                                                                     and speed (the file name)
    kml, kmz        gpsbabel -i kml (points); the project's KML reader   0.5e-6      ExtendedData by ref: type,
                    (points and stretch lines)                                       kind, speed, heading,
                                                                                     mode, end point
    igo, navitel    readers.igo_reader; gpsbabel -i unicsv (positions)   0.5e-6      TYPE, SPEED, DIRTYPE,
                                                                                     DIRECTION (Navitel: turned
                                                                                     180 degrees; IDX = line)
    sygic           readers.sygic_reader (SQLite, schema checked)        0.5e-5      Type, SpeedLimit,
                                                                                     BothWays, Angle
    csv, geojson    the project's feed readers                           0.5e-6      every field, by ref
    ==============  ===================================================  ==========  ==========================

    Positions: every format rounds to the nearest unit it stores (1e-5 degrees for OV2 and
    Sygic, 6 decimals for the text formats, a semicircle for GPI; GPSBabel prints GPI
    positions with 6 decimals), so each POI must lie within half a unit of its camera. That
    is tighter than the 1e-5 / 1e-6 first planned and catches truncation (GPSBabel's own OV2
    writer truncates x + 0.5, a bias on negative coordinates; its OV2 reader has none). Headings are
    written in whole degrees: within half a degree (csv, geojson, kml: 2 decimals).
    The number of POIs read back must equal each file's declared count, and all files
    together the number of cameras plus the end rows the format writes for sections with an
    end point (iGO, Navitel and Sygic write such a section as two rows).

Matching
    Read-back POIs and cameras are compared as unordered multisets: the POIs within tolerance
    of a camera (every carried field equal, headings as a unit vector) are candidate pairs
    (a cKDTree in the space scaled by the tolerances), and a maximum bipartite matching
    (Hopcroft-Karp, ``scipy.sparse.csgraph``) must pair every camera with its own POI, so the
    cameras the sources list twice at one place (OpenStreetMap double tagging, lufop repeats)
    are matched one to one. A failure lists the first cameras without a POI and the nearest
    POIs read back.

Runtime
    GPSBabel reads 40,000 POIs in well under a second, so it reads every file of every
    format: no sampling was needed. The module (67 tests, about 45 s of CPU: readers, country
    assignment and matching included) takes about 27 s with ``-n 2`` on two idle cores; the
    slowest cases are KML (the project's KML reader) and GPI (the record-tree reader).
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching
from scipy.spatial import cKDTree

from cameras import geo
from cameras.formats import Record, Rejection, detect, get_reader
from exporters.base import CameraSet, ExportOptions, OutputFile, load_plugins
from exporters.schema import MOBILE_TYPES, CameraType, DirectionMode, Kind

from . import interchange
from tests.exporters.interchange import CATEGORY_TITLE, MOBILE_TITLE, gpsbabel_unicsv
from .readers import daimler_gpx_checker
from .readers.gpi_reader import read_gpi
from .readers.igo_reader import read_speedcam
from .readers.ov2_reader import read_ov2
from .readers.sygic_reader import read_sygic
from tests.exporters.test_garmin_gpi import expected_comment, expected_name
from tests.exporters.test_garmin_poi_csv import read_poi_csv
from tests.exporters.test_igo import IGO_TYPE
from tests.exporters.test_navitel import navitel_type
from tests.exporters.test_ov2 import expected_file
from tests.exporters.test_sygic import sygic_type
from tests.exporters.test_blaupunkt import SUB as BLAUPUNKT_SUB
from tests.exporters.test_comand import expected_lead_s

pytestmark = pytest.mark.realdata

# file -> (short id, feed reader it is recognised as, cameras placed in a country, rows swapped back)
DATASETS = {
    "osm_speed_cameras_feed_2026-03.csv": ("osm-feed", "osm-feed-csv", 37_251, 0),
    "fr_radars_automatiques_2023-04-26.csv": ("fr-radars", "fr-radars", 3_264, 0),
    "eu_lufop_gatso_all_2021-08-06_garmin.csv": ("lufop-garmin-csv", "garmin-csv", 40_667, 13_927),
    "eu_lufop_gatso_all_2021-08-06_tomtom.ov2": ("lufop-ov2", "ov2", 40_667, 13_927),
    "eu_lufop_gatso_130kmh_2021-08-06_garmin.gpx": ("lufop-130-gpx", "gpx", 214, 0),
    "es_dgt_radares_2018.xml": ("dgt-xml", "dgt-xml", 1_319, 0),
}
FORMATS = sorted(load_plugins())
OPTIONS = ExportOptions(mobile=True)   # proximity: scaled by the limit (``scaled_proximity``)
TWO_ROW_SECTIONS = {"igo", "navitel", "sygic"}  # a section with an end point is a start row and an end row
HEADING_TOL = 0.5 + 1e-3  # degrees: headings are written rounded to whole degrees
NUMBER_IN_NAME = "(?<![0-9]){}(?![0-9])"
GPI_MAX_COMMENT = 160  # characters: the GPI plugin's documented limit (names: 44, in test_garmin_gpi)


# ---------------------------------------------------------------------------------------
# The camera sets


def scaled_proximity(speeds) -> np.ndarray:
    """The documented alert distances (GPI, GPX), written out: 300 m up to 50 km/h, 500 m up to
    90, 800 m up to 110, 1,000 m above, 500 m when the limit is unknown."""
    s = np.asarray(speeds, dtype=np.int64)
    return np.select([s <= 0, s <= 50, s <= 90, s <= 110], [500, 300, 500, 800], 1000)


def nan_if_none(value):
    return math.nan if value is None else value


@dataclass
class Source:
    name: str
    reader: str
    cams: CameraSet
    rejections: int   # rows the feed reader refused
    swapped: int      # rows whose latitude and longitude were swapped back
    dropped: int      # rows outside every country


def build_source(path: Path) -> Source:
    reader = detect(path)
    items = list(reader.read(path))
    records = [r for r in items if isinstance(r, Record) and r.reported_at is None]
    rejections = sum(isinstance(r, Rejection) for r in items)
    n = len(records)

    def column(get, dtype):
        return np.fromiter((get(r) for r in records), dtype, n)

    lat, lon = column(lambda r: r.lat, float), column(lambda r: r.lon, float)
    end_lat, end_lon = column(lambda r: nan_if_none(r.end_lat), float), column(lambda r: nan_if_none(r.end_lon), float)
    countries = geo.assign_countries(lat, lon, tolerance_km=settings.COUNTRY_TOLERANCE_KM)
    lat, lon, countries, swapped = geo.fix_swapped(lat, lon, countries)
    end_lat, end_lon = np.where(swapped, end_lon, end_lat), np.where(swapped, end_lat, end_lon)
    cols = {
        "id": np.arange(1, n + 1, dtype=np.int64),
        "kind": column(lambda r: int(r.kind), np.int8),
        "type": column(lambda r: int(r.type), np.int16),
        "lat": lat,
        "lon": lon,
        "speed": column(lambda r: r.speed or 0, np.int16),
        "truck_speed": column(lambda r: r.truck_speed or 0, np.int16),
        "heading": column(lambda r: nan_if_none(r.heading), np.float32),
        "dir_mode": column(lambda r: int(r.dir_mode), np.int8),
        "country": np.asarray(countries, dtype=object),
        "road": np.asarray([r.road for r in records], dtype=object),
        "description": np.asarray([r.description for r in records], dtype=object),
        "reports": column(lambda r: r.reports or 0, np.int32),
        "end_lat": end_lat,
        "end_lon": end_lon,
    }
    placed = countries != ""
    cams = CameraSet({k: v[placed] for k, v in cols.items()})
    return Source(path.name, reader.name, cams, rejections, int(swapped.sum()), int((~placed).sum()))


@pytest.fixture(scope="module")
def built_sources():
    return {}


@pytest.fixture
def source(shared, built_sources, dataset) -> Source:
    path = shared(dataset)  # missing: skip locally, fail in CI
    if dataset not in built_sources:
        built_sources[dataset] = build_source(path)
    return built_sources[dataset]


# ---------------------------------------------------------------------------------------
# Unordered comparison


def heading_vector(heading: np.ndarray, carried: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A heading as a unit vector (0, 0 where no heading is carried), so 359.6 is next to 0."""
    rad = np.radians(np.where(carried, np.asarray(heading, dtype=float), 0.0))
    return np.where(carried, np.sin(rad), 0.0), np.where(carried, np.cos(rad), 0.0)


def angle_between(a, b) -> np.ndarray:
    return np.abs((np.asarray(a, dtype=float) - np.asarray(b, dtype=float) + 180.0) % 360.0 - 180.0)


# Tolerances per compared field. Positions: every format rounds to the nearest unit it stores,
# so a POI is at most half a unit from its camera (plus float slack): 1e-5 degrees for OV2 and
# Sygic, 6 decimals for the text formats, a semicircle for GPI (GPSBabel prints GPI positions
# with 6 decimals: half of that on top). Whole numbers (codes, speeds, files) must be equal:
# 0.5. Heading vectors: the chord of HEADING_TOL (the angle itself is asserted after matching).
SLACK = 1e-9
POS_TOL = {"ov2": 0.5e-5 + SLACK, "sygic": 0.5e-5 + SLACK, "text": 0.5e-6 + SLACK,
           "gpi": 90.0 / 2**31 + SLACK, "gpi-6-decimals": 0.5e-6 + 90.0 / 2**31 + SLACK}
EXACT = 0.5
HEADING_CHORD = 2 * math.sin(math.radians(HEADING_TOL) / 2)


def assert_same_multiset(what: str, expected: dict, got: dict, tol: dict, ids: np.ndarray,
                         names: dict | None = None) -> np.ndarray:
    """Pair every expected row (a camera, or a section's end row) with its own read-back row.

    ``expected`` and ``got`` map field names to equal-length columns; ``tol[field]`` is the
    largest difference allowed; ``names[field]`` turns codes back into file or group names for
    the message. Returns the index into ``got`` per expected row.
    """
    keys = list(tol)
    n, m = len(ids), len(got[keys[0]])
    assert m == n, f"{what}: {m} POIs read back for {n} expected"
    scale = np.array([tol[k] for k in keys], dtype=float)
    a = np.column_stack([np.asarray(expected[k], dtype=float) for k in keys]) / scale
    b = np.column_stack([np.asarray(got[k], dtype=float) for k in keys]) / scale
    assert np.isfinite(a).all() and np.isfinite(b).all(), f"{what}: NaN among the compared values"
    pairs = cKDTree(a).sparse_distance_matrix(cKDTree(b), 1.0, p=np.inf, output_type="ndarray")
    graph = csr_matrix((np.ones(len(pairs), dtype=np.int8), (pairs["i"], pairs["j"])), shape=(n, m))
    match = np.asarray(maximum_bipartite_matching(graph, perm_type="column"))
    missing = np.flatnonzero(match < 0)
    if len(missing):
        left = np.setdiff1d(np.arange(m), match[match >= 0])
        near = cKDTree(np.column_stack([got["lat"], got["lon"]])[left]).query(
            np.column_stack([expected["lat"], expected["lon"]])[missing[:5]], k=min(3, len(left)))[1]
        lines = []
        for i, close in zip(missing[:5], np.atleast_2d(near.reshape(len(missing[:5]), -1))):
            found = [_row(got, keys, left[j], names) for j in close]
            lines.append(f"  camera id {int(ids[i])} {_row(expected, keys, i, names)}\n"
                         f"    nearest left over: {found}")
        limits = {k: _show(v) for k, v in tol.items() if k not in ("hx", "hy")}
        if "hx" in tol:
            limits["heading"] = HEADING_TOL
        pytest.fail(f"{what}: {len(missing)} of {n} cameras have no POI read back within {limits}:\n"
                    + "\n".join(lines))
    return match


def _show(value):
    value = value.item() if hasattr(value, "item") else value
    return float(f"{value:.8g}") if isinstance(value, float) else value


def _row(columns: dict, keys: list, i: int, names: dict | None) -> dict:
    """One compared row for a message: codes as names, a heading vector as degrees (None: no heading)."""
    row = {k: _show(columns[k][i]) for k in keys if k not in ("hx", "hy")}
    for k, code in (names or {}).items():
        row[k] = {v: name for name, v in code.items()}[int(row[k])]
    if "hx" in keys:
        x, y = float(columns["hx"][i]), float(columns["hy"][i])
        row["heading"] = round(math.degrees(math.atan2(x, y)) % 360, 2) if x or y else None
    return row


def codes_of(*name_lists) -> dict[str, int]:
    """A number per distinct text (file or group names), so they can be compared as numbers."""
    names = sorted(set().union(*name_lists))
    return {name: i for i, name in enumerate(names)}


def speed_suffix(name: str) -> int:
    """The POI Loader alert speed: "Speed A7@50" -> 50, no suffix -> 0."""
    m = re.search(r"@(\d+)$", name)
    return int(m.group(1)) if m else 0


# ---------------------------------------------------------------------------------------
# What each camera should become


@dataclass
class Case:
    label: str            # "dataset / format", for messages
    cams: CameraSet
    files: list[tuple[OutputFile, Path]]

    @property
    def ids(self) -> np.ndarray:
        return self.cams["id"]

    def column(self, name) -> np.ndarray:
        return self.cams[name]

    def positions(self) -> dict:
        return {"lat": self.cams["lat"], "lon": self.cams["lon"]}

    def carried_mode(self) -> np.ndarray:
        """The direction mode a file can state: one or both need a heading, else all."""
        has_heading = np.isfinite(self.cams["heading"])
        return np.where(has_heading, self.cams["dir_mode"], DirectionMode.ALL).astype(np.int64)

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row per camera, plus an end row after each section with an end point:
        (camera index per row, latitude, longitude)."""
        c = self.cams
        pair = (c["type"] == CameraType.SECTION) & np.isfinite(c["end_lat"]) & np.isfinite(c["end_lon"])
        idx = np.repeat(np.arange(len(c)), 1 + pair)
        is_end = np.zeros(len(idx), dtype=bool)
        is_end[np.flatnonzero(np.diff(idx, prepend=-1) == 0)] = True
        lat, lon = c["lat"][idx].copy(), c["lon"][idx].copy()
        lat[is_end], lon[is_end] = c["end_lat"][idx[is_end]], c["end_lon"][idx[is_end]]
        return idx, lat, lon


def lone_sections(cams: CameraSet) -> np.ndarray:
    """SECTIONs without an end point: the point formats write them as a speed camera of their kind."""
    return (cams["type"] == CameraType.SECTION) & ~(np.isfinite(cams["end_lat"]) & np.isfinite(cams["end_lon"]))


def in_mph_country(cams: CameraSet) -> np.ndarray:
    """Per camera: its country posts limits in mph, as the camera importer counts them."""
    return np.array([c in interchange.IMPORTER_MPH_COUNTRIES for c in cams["country"].tolist()], dtype=bool)


def with_column(cams: CameraSet, name: str, values: np.ndarray) -> CameraSet:
    out = CameraSet.__new__(CameraSet)
    out.columns = {**cams.columns, name: values}
    return out


def at_speeds(cams: CameraSet) -> np.ndarray:
    """The "@" numbers of a POI Loader file (default "auto" unit): one unit for the export,
    mph when most cameras are in mph countries, else km/h."""
    mph = in_mph_country(cams)
    if 2 * int(mph.sum()) > len(mph):
        return np.array([interchange.mph_value(s) for s in cams["speed"].tolist()], dtype=np.int64)
    return cams["speed"].astype(np.int64)


def per_camera(cams: CameraSet, func, *names) -> np.ndarray:
    """``func(**{name: value})`` for every camera, called once per distinct combination."""
    stacked = np.column_stack([cams[n].astype(np.int64) for n in names])
    combos, inverse = np.unique(stacked, axis=0, return_inverse=True)
    values = [func(**dict(zip(names, map(int, combo)))) for combo in combos]
    return np.asarray(values, dtype=object)[inverse.reshape(-1)]


def squeezed(text: str) -> str:
    """Text as the Garmin formats write it: runs of white space (line breaks too) as one space."""
    return " ".join(text.split())


def garmin_texts(cams: CameraSet) -> tuple[list[str], list[str]]:
    """(GPI name, POI comment) per camera from the test tables: "Speed 50 A7" ("Speed 30 mph
    A40" in an mph country), "description, road"."""
    rows = [dict(type=CameraType(t), speed=sp, road=squeezed(road), description=squeezed(desc), country=c)
            for t, sp, road, desc, c in zip(cams["type"].tolist(), cams["speed"].tolist(), cams["road"].tolist(),
                                            cams["description"].tolist(), cams["country"].tolist())]
    return [expected_name(r) for r in rows], [expected_comment(r) for r in rows]


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip()


def category_title(kind: int, type: int) -> str:
    """The category a camera is filed under (one file or group each), from the test tables."""
    if kind == Kind.MOBILE or type in MOBILE_TYPES:
        return MOBILE_TITLE
    return CATEGORY_TITLE[CameraType(type)]


# ---------------------------------------------------------------------------------------
# Checks per format


def check_tomtom_ov2(case: Case):
    """Both readers: every camera in the file of its category and speed, at its position; the
    skipper tree is valid; the name holds the speed."""
    mph = in_mph_country(case.cams)
    files, want_file = [], per_camera(
        with_column(case.cams, "mph", mph),
        lambda kind, type, speed, mph: expected_file(dict(kind=kind, type=CameraType(type), speed=speed,
                                                          country="GB" if mph else "")),
        "kind", "type", "speed", "mph")
    reader = {"lat": [], "lon": [], "file": [], "name": []}
    babel = {"lat": [], "lon": [], "file": []}
    for f, path in case.files:
        parsed = read_ov2(f.data, max_leaf=20)
        assert len(parsed.pois) == f.count, f"{case.label}: {f.name} holds {len(parsed.pois)} POIs, declares {f.count}"
        assert len(parsed.roots) == 1 and parsed.roots[0].length == len(f.data), f"{case.label}: {f.name} root block"
        rows = gpsbabel_unicsv("tomtom", path)
        assert len(rows) == f.count, f"{case.label}: GPSBabel reads {len(rows)} POIs from {f.name}, declared {f.count}"
        assert sorted(r["Name"] for r in rows) == sorted(p.name for p in parsed.pois), f"{case.label}: {f.name} names"
        assert max(len(p.raw_name) for p in parsed.pois) <= 64, f"{case.label}: {f.name} has a name over 64 bytes"
        reader["lat"] += [p.lat for p in parsed.pois]
        reader["lon"] += [p.lon for p in parsed.pois]
        reader["name"] += [p.name for p in parsed.pois]
        reader["file"] += [f.name] * f.count
        babel["lat"] += [float(r["Latitude"]) for r in rows]
        babel["lon"] += [float(r["Longitude"]) for r in rows]
        babel["file"] += [f.name] * f.count
        files.append(f.name)
    code = codes_of(files, set(want_file))
    expected = {**case.positions(), "file": [code[n] for n in want_file]}
    tol = {"lat": POS_TOL["ov2"], "lon": POS_TOL["ov2"], "file": EXACT}
    match = assert_same_multiset(f"{case.label} (ov2_reader)", expected,
                                 {**reader, "file": [code[n] for n in reader["file"]]}, tol, case.ids, {"file": code})
    assert_same_multiset(f"{case.label} (gpsbabel)", expected, {**babel, "file": [code[n] for n in babel["file"]]},
                         tol, case.ids, {"file": code})
    names = np.asarray(reader["name"], dtype=object)[match]
    shown = np.where(mph, [interchange.mph_value(s) for s in case.cams["speed"].tolist()], case.cams["speed"])
    for speed, name, cam_id in zip(shown.tolist(), names, case.ids.tolist()):
        if speed:
            assert re.search(NUMBER_IN_NAME.format(speed), name), (
                f"{case.label}: camera {cam_id} ({speed} in its unit) is named {name!r}")


def check_garmin_gpi(case: Case):
    """Both readers: every camera in its category's group at its position with the proximity
    alert of its limit and no alert speed; the reader: its name and comment."""
    groups, want_group = [], per_camera(case.cams, category_title, "kind", "type")
    reader = {"lat": [], "lon": [], "group": [], "proximity": []}
    babel = {"lat": [], "lon": [], "group": [], "proximity": []}
    texts = []
    for f, path in case.files:
        parsed = read_gpi(f.data)
        assert len(parsed.pois) == f.count, f"{case.label}: {f.name} holds {len(parsed.pois)} POIs, declares {f.count}"
        assert len(parsed.groups) == 1, f"{case.label}: {f.name} has {len(parsed.groups)} groups"
        group = parsed.groups[0].name
        assert {p.alert.speed_cms for p in parsed.pois} == {0}, f"{case.label}: {f.name} has an alert speed"
        assert max(len(p.name) for p in parsed.pois) <= 44, f"{case.label}: {f.name} has a name over 44 characters"
        rows = gpsbabel_unicsv("garmin_gpi", path)
        assert len(rows) == f.count, f"{case.label}: GPSBabel reads {len(rows)} POIs from {f.name}, declared {f.count}"
        reader["lat"] += [p.lat for p in parsed.pois]
        reader["lon"] += [p.lon for p in parsed.pois]
        reader["proximity"] += [p.proximity_m for p in parsed.pois]
        reader["group"] += [group] * f.count
        texts += [f"{p.name} | {p.comment or ''}" for p in parsed.pois]
        babel["lat"] += [float(r["Latitude"]) for r in rows]
        babel["lon"] += [float(r["Longitude"]) for r in rows]
        babel["proximity"] += [int(r["Proximity"]) for r in rows]
        babel["group"] += [group] * f.count
        groups.append(group)
    code = codes_of(groups, set(want_group))
    want_texts = [f"{name} | {cut(comment, GPI_MAX_COMMENT)}" for name, comment in zip(*garmin_texts(case.cams))]
    text_code = codes_of(texts, want_texts)
    expected = {**case.positions(), "group": [code[g] for g in want_group],
                "proximity": scaled_proximity(case.column("speed")), "text": [text_code[t] for t in want_texts]}
    tol = {"lat": POS_TOL["gpi"], "lon": POS_TOL["gpi"], "group": EXACT, "proximity": EXACT, "text": EXACT}
    assert_same_multiset(f"{case.label} (gpi_reader)", expected,
                         {**reader, "group": [code[g] for g in reader["group"]], "text": [text_code[t] for t in texts]},
                         tol, case.ids, {"group": code, "text": text_code})
    del tol["text"]
    tol["lat"] = tol["lon"] = POS_TOL["gpi-6-decimals"]
    assert_same_multiset(f"{case.label} (gpsbabel)", expected, {**babel, "group": [code[g] for g in babel["group"]]},
                         tol, case.ids, {"group": code})


def check_garmin_poi_csv(case: Case):
    """The strict reader: every camera in its category's file, at its position, with its speed
    as the "@NN" suffix and its comment; GPSBabel: the same positions."""
    want_file = per_camera(case.cams, lambda kind, type: category_title(kind, type) + ".csv", "kind", "type")
    reader = {"lat": [], "lon": [], "file": [], "speed": [], "comment": []}
    babel = {"lat": [], "lon": [], "file": []}
    for f, path in case.files:
        rows = read_poi_csv(f.data)
        assert len(rows) == f.count, f"{case.label}: {f.name} holds {len(rows)} POIs, declares {f.count}"
        assert all(len(name.rsplit("@", 1)[0]) <= 44 for _, _, name, _ in rows), f"{case.label}: {f.name} long name"
        babel_rows = gpsbabel_unicsv("garmin_poi", path)
        assert len(babel_rows) == f.count, f"{case.label}: GPSBabel reads {len(babel_rows)} POIs from {f.name}"
        reader["lon"] += [r[0] for r in rows]
        reader["comment"] += [r[3] for r in rows]
        reader["lat"] += [r[1] for r in rows]
        reader["speed"] += [speed_suffix(r[2]) for r in rows]
        reader["file"] += [f.name] * f.count
        babel["lat"] += [float(r["Latitude"]) for r in babel_rows]
        babel["lon"] += [float(r["Longitude"]) for r in babel_rows]
        babel["file"] += [f.name] * f.count
    code = codes_of(reader["file"], set(want_file))
    want_comment = garmin_texts(case.cams)[1]
    text_code = codes_of(reader["comment"], want_comment)
    expected = {**case.positions(), "file": [code[n] for n in want_file], "speed": at_speeds(case.cams),
                "comment": [text_code[t] for t in want_comment]}
    tol = {"lat": POS_TOL["text"], "lon": POS_TOL["text"], "file": EXACT, "speed": EXACT, "comment": EXACT}
    assert_same_multiset(f"{case.label} (strict CSV reader)", expected,
                         {**reader, "file": [code[n] for n in reader["file"]],
                          "comment": [text_code[t] for t in reader["comment"]]},
                         tol, case.ids, {"file": code, "comment": text_code})
    del tol["speed"], tol["comment"]
    assert_same_multiset(f"{case.label} (gpsbabel)", expected, {**babel, "file": [code[n] for n in babel["file"]]},
                         tol, case.ids, {"file": code})


def check_gpx(case: Case):
    """GPSBabel: every camera in its category's file, at its position, with its speed as the
    "@NN" suffix of the name, its description and the proximity of its limit."""
    want_file = per_camera(case.cams, lambda kind, type: category_title(kind, type) + ".gpx", "kind", "type")
    babel = {"lat": [], "lon": [], "file": [], "speed": [], "desc": [], "proximity": []}
    for f, path in case.files:
        rows = gpsbabel_unicsv("gpx", path)
        assert len(rows) == f.count, f"{case.label}: GPSBabel reads {len(rows)} POIs from {f.name}, declared {f.count}"
        babel["proximity"] += [int(r["Proximity"]) for r in rows]
        babel["lat"] += [float(r["Latitude"]) for r in rows]
        babel["lon"] += [float(r["Longitude"]) for r in rows]
        babel["speed"] += [speed_suffix(r["Name"]) for r in rows]
        babel["desc"] += [r.get("Notes", "") for r in rows]  # GPSBabel shows <desc> as notes
        babel["file"] += [f.name] * f.count
    code = codes_of(babel["file"], set(want_file))
    descriptions = case.column("description").tolist()
    text_code = codes_of(babel["desc"], descriptions)
    expected = {**case.positions(), "file": [code[n] for n in want_file], "speed": at_speeds(case.cams),
                "desc": [text_code[t] for t in descriptions], "proximity": scaled_proximity(case.column("speed"))}
    got = {**babel, "file": [code[n] for n in babel["file"]], "desc": [text_code[t] for t in babel["desc"]]}
    tol = {"lat": POS_TOL["text"], "lon": POS_TOL["text"], "file": EXACT, "speed": EXACT, "desc": EXACT,
           "proximity": EXACT}
    assert_same_multiset(f"{case.label} (gpsbabel)", expected, got, tol, case.ids, {"file": code, "desc": text_code})


def check_daimler_gpx(case: Case):
    """The Daimler GPX checker (readers/daimler_gpx_checker.py): every camera in its category
    (POICategory, file), at its position, warning with the lead time of its limit; GPSBabel reads
    every waypoint of each file with the GPX namespace as the default namespace (it reads no
    prefixed element)."""
    want_cat = per_camera(case.cams, category_title, "kind", "type")
    leads = {int(s): expected_lead_s(int(s)) for s in np.unique(case.column("speed"))}
    got = {"lat": [], "lon": [], "cat": [], "lead": []}
    ElementTree.register_namespace("", "http://www.topografix.com/GPX/1/1")
    for f, path in case.files:
        assert f.name.startswith("PersonalPOI/") and f.name.isascii(), f"{case.label}: {f.name}"
        wpts = daimler_gpx_checker.read(path.read_bytes())
        assert len(wpts) == f.count, f"{case.label}: the checker reads {len(wpts)} POIs from {f.name}, declared {f.count}"
        assert len({w.extension["POICategory"]["Cat"] for w in wpts}) == 1, f"{case.label}: {f.name} mixes categories"
        got["lat"] += [w.lat for w in wpts]
        got["lon"] += [w.lon for w in wpts]
        got["cat"] += [w.extension["POICategory"]["Cat"] for w in wpts]
        got["lead"] += [int(w.extension["Activity"]["Value"]) for w in wpts]
        plain = path.with_name(path.stem + "-plain.gpx")
        plain.write_bytes(ElementTree.tostring(ElementTree.parse(path).getroot(), encoding="utf-8",
                                               xml_declaration=True))
        assert len(gpsbabel_unicsv("gpx", plain)) == f.count, f"{case.label}: GPSBabel on {f.name}"
    code = codes_of(got["cat"], set(want_cat))
    expected = {**case.positions(), "cat": [code[c] for c in want_cat],
                "lead": [leads[int(s)] for s in case.column("speed")]}
    tol = {"lat": POS_TOL["text"], "lon": POS_TOL["text"], "cat": EXACT, "lead": EXACT}
    assert_same_multiset(f"{case.label} (Daimler GPX checker)", expected, {**got, "cat": [code[c] for c in got["cat"]]},
                         tol, case.ids, {"cat": code})


def check_kml(case: Case):
    """GPSBabel: every camera's point at its position. The project's KML reader: a point per
    camera and a line before each stretch, with the ExtendedData and description of the camera."""
    (f, path), = case.files
    rows = gpsbabel_unicsv("kml", path)
    assert len(rows) == f.count == len(case.cams), (
        f"{case.label}: GPSBabel reads {len(rows)} points, {f.count} declared, {len(case.cams)} cameras")
    babel = {"lat": [float(r["Latitude"]) for r in rows], "lon": [float(r["Longitude"]) for r in rows]}
    assert_same_multiset(f"{case.label} (gpsbabel)", case.positions(), babel,
                         {"lat": POS_TOL["text"], "lon": POS_TOL["text"]}, case.ids)
    records = list(get_reader("kml").read(path))
    refused = [r for r in records if not isinstance(r, Record)]
    assert not refused, f"{case.label}: the KML reader refuses {len(refused)} placemarks, first {refused[:3]}"
    stretches = int((np.isfinite(case.column("end_lat")) & np.isfinite(case.column("end_lon"))).sum())
    assert len(records) == len(case.cams) + stretches, f"{case.label}: {len(records)} placemarks read"
    first = {}
    for rec in records:
        first.setdefault(rec.ref, rec)  # the line placemark of a stretch comes first, as the importer keeps it
    # KML carries no country or road field, and no <description> for an empty one (the reader then takes the
    # name); the reader reads a description as HTML, with its white space collapsed.
    assert_records_match(case, first, heading_decimals=2, text_fields=("description",), text=squeezed,
                         empty_text=False)


def blaupunkt_list(country: str, kind: int, type: int, speed: int) -> str:
    """The TravelPilot list a camera belongs in: <CC>_Speedcams_<category>[speed] (test tables),
    the speed in its country's unit (GB_Speedcams_Fixed30mph)."""
    cc = country.upper() if re.fullmatch(r"[A-Za-z]{2}", country or "") else "XX"
    if kind == Kind.MOBILE or type in MOBILE_TYPES:
        return f"{cc}_Speedcams_Mobile.kml"
    sub = next(name for name, types in BLAUPUNKT_SUB.items() if type in types)
    shown = interchange.shown_speed(dict(speed=speed, country=country)).replace(" ", "")
    return f"{cc}_Speedcams_{sub}{shown if sub in ('Fixed', 'RedLight', 'Section') else ''}.kml"


def check_blaupunkt_kml(case: Case):
    """GPSBabel: every camera once, at its position, in the list of its country, category
    and speed."""
    cams = case.cams
    want = [blaupunkt_list(c, k, t, sp) for c, k, t, sp in zip(cams["country"].tolist(), cams["kind"].tolist(),
                                                               cams["type"].tolist(), cams["speed"].tolist())]
    babel = {"lat": [], "lon": [], "file": []}
    for f, path in case.files:
        rows = gpsbabel_unicsv("kml", path)
        assert len(rows) == f.count, f"{case.label}: GPSBabel reads {len(rows)} POIs from {f.name}, declared {f.count}"
        babel["lat"] += [float(r["Latitude"]) for r in rows]
        babel["lon"] += [float(r["Longitude"]) for r in rows]
        babel["file"] += [f.name] * f.count
    code = codes_of(babel["file"], set(want))
    expected = {**case.positions(), "file": [code[n] for n in want]}
    got = {**babel, "file": [code[n] for n in babel["file"]]}
    tol = {"lat": POS_TOL["text"], "lon": POS_TOL["text"], "file": EXACT}
    assert_same_multiset(f"{case.label} (gpsbabel)", expected, got, tol, case.ids, {"file": code})


def check_kmz(case: Case):
    """The KMZ's ``doc.kml`` (its first entry; GPSBabel does not open archives), checked as
    the plain KML."""
    (f, path), = case.files
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()[0] == "doc.kml", f"{case.label}: entries {zf.namelist()[:3]}"
        doc = path.with_name("doc.kml")
        doc.write_bytes(zf.read("doc.kml"))
    check_kml(Case(case.label, case.cams, [(f, doc)]))


def check_point_text(case: Case, navitel: bool):
    f, path = case.files[0]
    assert len(case.files) == 1
    rows = read_speedcam(f.data, navitel=navitel)
    idx, lat, lon = case.rows()
    assert len(rows) == f.count == len(idx), (
        f"{case.label}: {len(rows)} rows read, {f.count} declared, {len(idx)} expected")
    c = case.cams
    mode = case.carried_mode()
    if navitel:
        types = per_camera(c, lambda kind, type: navitel_type(CameraType(type), kind), "kind", "type")
    else:
        types = per_camera(c, lambda kind, type: 5 if kind == Kind.MOBILE else IGO_TYPE[CameraType(type)],
                           "kind", "type")
    types = np.where(lone_sections(c), np.where(c["kind"] == Kind.MOBILE, 5, 1), types)  # fixed or mobile camera
    hx, hy = heading_vector(c["heading"], mode != DirectionMode.ALL)
    expected = {"lat": lat, "lon": lon, "type": types[idx].astype(np.int64), "speed": c["speed"][idx],
                "dirtype": mode[idx], "hx": hx[idx], "hy": hy[idx]}
    direction = np.array([r.direction for r in rows], dtype=float)
    dirtype = np.array([r.dirtype for r in rows])
    heading_read = (direction + 180.0) % 360.0 if navitel else direction  # Navitel points at the driver
    gx, gy = heading_vector(heading_read, dirtype != DirectionMode.ALL)
    got = {"lat": [r.lat for r in rows], "lon": [r.lon for r in rows], "type": [r.type for r in rows],
           "speed": [r.speed for r in rows], "dirtype": dirtype, "hx": gx, "hy": gy}
    tol = {"lat": POS_TOL["text"], "lon": POS_TOL["text"], "type": EXACT, "speed": EXACT, "dirtype": EXACT,
           "hx": HEADING_CHORD, "hy": HEADING_CHORD}
    if navitel:
        assert [r.idx for r in rows] == list(range(len(rows))), f"{case.label}: IDX is not the line number from 0"
    match = assert_same_multiset(f"{case.label} ({'Navitel' if navitel else 'iGO'} reader)", expected, got, tol,
                                 c["id"][idx])
    directed = mode[idx] != DirectionMode.ALL
    off = angle_between(heading_read[match][directed], c["heading"][idx][directed])
    assert len(off) == 0 or off.max() <= HEADING_TOL, (
        f"{case.label}: a direction {off.max():.2f} degrees off its heading")
    assert (direction[match][~directed] == 0).all(), f"{case.label}: a direction on a camera for all directions"

    babel = gpsbabel_unicsv("unicsv", path)
    assert_same_multiset(f"{case.label} (gpsbabel)", {"lat": lat, "lon": lon},
                         {"lat": [float(r["Latitude"]) for r in babel], "lon": [float(r["Longitude"]) for r in babel]},
                         {"lat": POS_TOL["text"], "lon": POS_TOL["text"]}, c["id"][idx])


def check_igo(case: Case):
    """The iGO reader: every camera (a section with an end point twice) with its TYPE, SPEED,
    DIRTYPE and DIRECTION; GPSBabel: the same positions."""
    check_point_text(case, navitel=False)


def check_navitel(case: Case):
    """The Navitel reader: every camera with TYPE, SPEED, DirType and the direction turned
    180 degrees, IDX the line number from 0; GPSBabel: the same positions."""
    check_point_text(case, navitel=True)


def check_sygic(case: Case):
    """The SQLite reader: every camera with its Type, SpeedLimit, BothWays and Angle; Ids 1..n."""
    (f, _), = case.files
    db = read_sygic(f.data)
    rows = db.cameras
    idx, lat, lon = case.rows()
    assert len(rows) == f.count == len(idx), (
        f"{case.label}: {len(rows)} rows read, {f.count} declared, {len(idx)} expected")
    assert sorted(r.id for r in rows) == list(range(1, len(rows) + 1)) and db.zones == []
    c = case.cams
    mode = case.carried_mode()
    types = per_camera(c, lambda kind, type: sygic_type(CameraType(type), kind), "kind", "type")
    types = np.where(lone_sections(c), per_camera(c, lambda kind: sygic_type(CameraType.SPEED, kind), "kind"), types)
    hx, hy = heading_vector(c["heading"], mode != DirectionMode.ALL)
    expected = {"lat": lat, "lon": lon, "type": types[idx].astype(np.int64), "speed": c["speed"][idx],
                "both": (mode[idx] != DirectionMode.ONE).astype(np.int64), "angled": mode[idx] != DirectionMode.ALL,
                "hx": hx[idx], "hy": hy[idx]}
    angle = np.array([math.nan if r.angle is None else r.angle for r in rows])
    gx, gy = heading_vector(np.nan_to_num(angle), np.isfinite(angle))
    got = {"lat": [r.lat for r in rows], "lon": [r.lon for r in rows], "type": [r.type for r in rows],
           "speed": [r.speed for r in rows], "both": [r.both_ways for r in rows], "angled": np.isfinite(angle),
           "hx": gx, "hy": gy}
    tol = {"lat": POS_TOL["sygic"], "lon": POS_TOL["sygic"], "type": EXACT, "speed": EXACT, "both": EXACT,
           "angled": EXACT, "hx": HEADING_CHORD, "hy": HEADING_CHORD}
    match = assert_same_multiset(f"{case.label} (sqlite reader)", expected, got, tol, c["id"][idx])
    directed = mode[idx] != DirectionMode.ALL
    off = angle_between(angle[match][directed], c["heading"][idx][directed])
    assert len(off) == 0 or off.max() <= HEADING_TOL, f"{case.label}: an Angle {off.max():.2f} degrees off its heading"


def assert_records_match(case: Case, by_ref: dict, *, heading_decimals: int,
                         text_fields=("country", "road", "description"), text=lambda t: t, empty_text=True):
    """Records re-imported by the project's readers, keyed by ref (= camera id), carry every field
    (``text`` normalises the text fields on both sides; ``empty_text=False``: empty texts are
    not written, the reader may fill them from elsewhere)."""
    c = case.cams
    ids = [str(i) for i in c["id"].tolist()]
    assert set(by_ref) == set(ids), (f"{case.label}: refs missing {sorted(set(ids) - set(by_ref), key=int)[:5]}, "
                                     f"unknown {sorted(set(by_ref) - set(ids))[:5]}")
    recs = [by_ref[i] for i in ids]

    def col(get, dtype=float):
        return np.array([get(r) for r in recs], dtype=dtype)

    def fail_at(mask, field, got):
        i = int(np.flatnonzero(mask)[0])
        return f"{case.label}: {int(mask.sum())} cameras lose their {field}; first id {ids[i]}: {_show(got[i])!r}"

    for field, got, want in (("kind", col(lambda r: int(r.kind), int), c["kind"]),
                             ("type", col(lambda r: int(r.type), int), c["type"]),
                             ("speed", col(lambda r: r.speed or 0, int), c["speed"]),
                             ("truck speed", col(lambda r: r.truck_speed or 0, int), c["truck_speed"]),
                             ("direction mode", col(lambda r: int(r.dir_mode), int), case.carried_mode()),
                             ("reports", col(lambda r: r.reports or 0, int), c["reports"])):
        bad = got != want
        assert not bad.any(), fail_at(bad, field, got) + f" (expected {_show(want[np.flatnonzero(bad)[0]])!r})"
    for field, got, want in (("latitude", col(lambda r: r.lat), c["lat"]),
                             ("longitude", col(lambda r: r.lon), c["lon"]),
                             ("end latitude", col(lambda r: nan_if_none(r.end_lat)), c["end_lat"]),
                             ("end longitude", col(lambda r: nan_if_none(r.end_lon)), c["end_lon"])):
        bad = ~((np.abs(got - want) <= POS_TOL["text"]) | (np.isnan(got) & np.isnan(want)))
        assert not bad.any(), fail_at(bad, field, got) + f" (expected {_show(want[np.flatnonzero(bad)[0]])!r})"
    heading = col(lambda r: nan_if_none(r.heading))
    want = c["heading"].astype(float)
    bad = ~((np.abs(heading - want) <= 0.6 * 10.0 ** -heading_decimals) | (np.isnan(heading) & np.isnan(want)))
    assert not bad.any(), fail_at(bad, "heading", heading) + f" (expected {_show(want[np.flatnonzero(bad)[0]])!r})"
    for field in text_fields:
        got = col(lambda r: text(getattr(r, field)), object)
        want = np.array([text(t) for t in c[field].tolist()], dtype=object)
        bad = (got != want) & (empty_text or (want != ""))
        assert not bad.any(), fail_at(bad, field, got) + f" (expected {_show(want[np.flatnonzero(bad)[0]])!r})"


def check_feed(case: Case, reader: str):
    (f, path), = case.files
    records = list(get_reader(reader).read(path))
    refused = [r for r in records if not isinstance(r, Record)]
    assert not refused, f"{case.label}: the {reader} reader refuses {len(refused)} rows, first {refused[:3]}"
    assert len(records) == f.count == len(case.cams), f"{case.label}: {len(records)} read, {f.count} declared"
    by_ref = {r.ref: r for r in records}
    assert len(by_ref) == len(records), f"{case.label}: a ref written twice"
    assert_records_match(case, by_ref, heading_decimals=2)


def check_csv(case: Case):
    """The project's CSV reader: every camera under its ref with every field."""
    check_feed(case, "csv")


def check_geojson(case: Case):
    """The project's GeoJSON reader: every camera under its ref with every field."""
    check_feed(case, "geojson")


CHECKS = {
    "blaupunkt-kml": check_blaupunkt_kml,
    "tomtom-ov2": check_tomtom_ov2,
    "garmin-gpi": check_garmin_gpi,
    "garmin-poi-csv": check_garmin_poi_csv,
    "gpx": check_gpx,
    "daimler-gpx": check_daimler_gpx,
    "kml": check_kml,
    "kmz": check_kmz,
    "igo": check_igo,
    "navitel": check_navitel,
    "sygic": check_sygic,
    "csv": check_csv,
    "geojson": check_geojson,
}


# ---------------------------------------------------------------------------------------
# The tests


@pytest.mark.parametrize("dataset", [pytest.param(name, id=short) for name, (short, *_) in DATASETS.items()])
def test_each_dataset_reads_into_a_camera_set_with_every_camera_placed_in_a_country(dataset, source):
    _, reader, cameras, swapped = DATASETS[dataset]
    assert source.reader == reader
    assert (source.rejections, source.dropped, source.swapped) == (0, 0, swapped)
    assert len(source.cams) == cameras
    assert set(np.unique(source.cams["country"])) <= set(geo.country_table())


def test_every_registered_format_has_a_read_back_check():
    assert sorted(CHECKS) == FORMATS


@pytest.mark.parametrize("dataset, fmt", [pytest.param(name, fmt, id=f"{short}-{fmt}")
                                          for name, (short, *_) in DATASETS.items() for fmt in FORMATS])
def test_every_camera_comes_back_from_the_exported_files_within_the_format_tolerance(dataset, fmt, source, tmp_path):
    exporter = load_plugins()[fmt]()
    result = exporter.render(source.cams, OPTIONS)
    files = [f for f in result.files if f.name.endswith(exporter.file_extension)]
    label = f"{DATASETS[dataset][0]} / {fmt}"
    assert files, f"{label}: no {exporter.file_extension} file written"
    written = [(f, interchange.written(tmp_path, f)) for f in files]
    assert result.skipped == {}, f"{label}: cameras left out: {result.skipped}"
    case = Case(label, source.cams, written)
    extra = len(case.rows()[0]) - len(source.cams) if fmt in TWO_ROW_SECTIONS else 0
    assert sum(f.count for f in files) == len(source.cams) + extra, (
        f"{label}: the files declare {sum(f.count for f in files)} POIs for {len(source.cams)} cameras + {extra}")
    CHECKS[fmt](case)
