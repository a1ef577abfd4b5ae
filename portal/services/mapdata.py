"""Server-side clustering of a release's cameras for the preview map.

The map asks for a viewport (``bbox``), a zoom and optionally a set of camera types; the
answer bins the matching cameras into a Web-Mercator grid whose cells are ``CELL_PX``
screen pixels wide at that zoom, and gives per non-empty cell the number of cameras and
their mean position. A cell holding one camera gives that camera (id, type, speed).

Cells are aligned to the global power-of-two tile grid, and the viewport is widened to
whole cells: a cell is always counted whole, so panning the map never makes a cluster
jump, and slightly different viewports share one answer (and one ETag). The grid is
coarsened (cells doubled) until the viewport holds at most ``MAX_GRID_CELLS`` cells and at
most ``MAX_FEATURES`` of them are non-empty, which bounds the JSON below ``MAX_BYTES``
whatever the bbox, zoom and data.

Per release the work done once (``MapData``, cached by release sha256) is the integer
Mercator position of every camera and its type code; a request is then a few vectorised
numpy passes (mask, shift, ``bincount``) over the release.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _, gettext_lazy

from cameras.coverage import CameraIndex
from exporters.schema import CameraType

CELL_PX = 64                   # a cluster cell is this many screen pixels wide and high
TILE_PX = 256                  # Web-Mercator tile size: zoom z shows 256 * 2**z pixels
CELL_SHIFT = int(math.log2(TILE_PX // CELL_PX))   # grid level = zoom + CELL_SHIFT
MIN_ZOOM, MAX_ZOOM = 0, 20
PRECISION_BITS = 30            # integer Mercator coordinates: 2**30 units per world axis
MAX_GRID_CELLS = 16_384        # cells the (widened) viewport may hold at the chosen level
MAX_FEATURES = 2_500           # non-empty cells in one answer (clusters + single cameras)
MAX_BYTES = 200_000            # hard ceiling on the JSON body
MERCATOR_MAX_LAT = 85.0511287798066

TYPES = tuple(CameraType)
TYPE_SLUGS = {t.slug: t for t in TYPES}
_SLUG_OF_CODE = {int(t): t.slug for t in TYPES}
_OTHER = int(CameraType.OTHER)
_LUT_SIZE = max(int(t) for t in TYPES) + 1


class MapQueryError(ValueError):
    """A bad query parameter: ``param`` names it, ``valid`` says what would be accepted."""

    def __init__(self, param: str, message: str, valid: str):
        super().__init__(message)
        self.param, self.message, self.valid = param, message, valid

    def as_dict(self) -> dict:
        return {"error": self.message, "param": self.param, "valid": self.valid}


# ---------------------------------------------------------------------------------------
# Query parsing


@dataclass(frozen=True)
class MapQuery:
    west: float
    south: float
    east: float
    north: float
    zoom: int
    types: frozenset[int] | None   # None: every type

    @property
    def type_key(self) -> str:
        return "*" if self.types is None else ",".join(str(t) for t in sorted(self.types))


def _number(param: str, text: str, lo: float, hi: float, what: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or not lo <= value <= hi:
        raise MapQueryError(param, _("%(what)s must be a number from %(lo)s to %(hi)s, got %(value)s") % {
                                "what": what, "lo": f"{lo:g}", "hi": f"{hi:g}", "value": repr(text)},
                            _("a number from %(lo)s to %(hi)s") % {"lo": f"{lo:g}", "hi": f"{hi:g}"})
    return value


BBOX_VALID = gettext_lazy("west,south,east,north in degrees (WGS84): longitudes from -180 to 180, latitudes from "
                          "-90 to 90, south below north; west greater than east crosses the antimeridian")


def parse_query(params) -> MapQuery:
    """A ``MapQuery`` from request parameters (a dict-like of strings); ``MapQueryError`` names
    the first bad parameter. ``bbox`` and ``zoom`` are required; ``types`` absent means every
    type, present and empty means none."""
    bbox = params.get("bbox")
    if bbox is None or not str(bbox).strip():
        raise MapQueryError("bbox", _("the bbox parameter is required"), str(BBOX_VALID))
    parts = str(bbox).split(",")
    if len(parts) != 4:
        raise MapQueryError("bbox", _("bbox must have 4 comma-separated numbers, got %(count)s") % {
            "count": len(parts)}, str(BBOX_VALID))
    names = ("west", "south", "east", "north")
    try:
        west, east = (_number("bbox", parts[i], -180, 180, f"bbox {names[i]}") for i in (0, 2))
        south, north = (_number("bbox", parts[i], -90, 90, f"bbox {names[i]}") for i in (1, 3))
    except MapQueryError as exc:
        raise MapQueryError("bbox", exc.message, str(BBOX_VALID)) from None
    if south >= north:
        raise MapQueryError("bbox", _("bbox south (%(south)s) must be below north (%(north)s)") % {
            "south": f"{south:g}", "north": f"{north:g}"}, str(BBOX_VALID))

    zoom_text = params.get("zoom")
    zoom_valid = _("an integer from %(min)s to %(max)s") % {"min": MIN_ZOOM, "max": MAX_ZOOM}
    if zoom_text is None or not str(zoom_text).strip():
        raise MapQueryError("zoom", _("the zoom parameter is required"), zoom_valid)
    try:
        zoom = int(str(zoom_text).strip())
    except ValueError:
        raise MapQueryError("zoom", _("zoom must be an integer, got %(value)s") % {"value": repr(zoom_text)},
                            zoom_valid) from None
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise MapQueryError("zoom", _("zoom must be from %(min)s to %(max)s, got %(value)s") % {
            "min": MIN_ZOOM, "max": MAX_ZOOM, "value": zoom}, zoom_valid)

    types = None
    if "types" in params:
        types = set()
        for token in str(params.get("types")).split(","):
            token = token.strip()
            if not token:
                continue
            t = TYPE_SLUGS.get(token.lower())
            if t is None:
                raise MapQueryError("types", _("unknown camera type %(value)s") % {"value": repr(token)},
                                    _("comma-separated type slugs: %(slugs)s") % {"slugs": ", ".join(TYPE_SLUGS)})
            types.add(int(t))
        types = frozenset(types)
    return MapQuery(west, south, east, north, zoom, types)


# ---------------------------------------------------------------------------------------
# Per-release data


def mercator_units(lat: np.ndarray, lon: np.ndarray, bits: int = PRECISION_BITS) -> tuple[np.ndarray, np.ndarray]:
    """Integer Web-Mercator coordinates (x east, y south, both in [0, 2**bits))."""
    scale = float(1 << bits)
    x = (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0
    la = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -MERCATOR_MAX_LAT, MERCATOR_MAX_LAT))
    y = 0.5 - np.log(np.tan(np.pi / 4 + la / 2)) / (2 * np.pi)
    top = (1 << bits) - 1
    xi = np.clip(np.floor(x * scale), 0, top).astype(np.int64)
    yi = np.clip(np.floor(y * scale), 0, top).astype(np.int64)
    return xi, yi


def lat_of_y(y: float) -> float:
    """Latitude of a Mercator y in [0, 1] (0 = north edge)."""
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


class MapData:
    """What the clustering needs of a release, computed once."""

    def __init__(self, index: CameraIndex):
        cams = index.cameras
        self.n = len(cams)
        x, y = mercator_units(index.lat, index.lon)
        # Rows sorted by Mercator y: a viewport's latitude band is one contiguous slice.
        order = np.argsort(y, kind="stable")
        self.x = x[order].astype(np.int32)
        self.y = y[order].astype(np.int32)
        self.lat = np.ascontiguousarray(np.asarray(index.lat, dtype=np.float64)[order])
        self.lon = np.ascontiguousarray(np.asarray(index.lon, dtype=np.float64)[order])
        types = np.asarray(cams["type"]).astype(np.int64)[order]
        self.type = np.where((types >= 0) & (types < _LUT_SIZE), types, _OTHER).astype(np.int16)
        self.ids = np.asarray(cams["id"]).astype(np.int64)[order]
        self.speed = np.asarray(cams["speed"]).astype(np.int64)[order]
        self.country_code = np.asarray(index.country_code)[order]
        self.country_names = list(index.country_names)
        self._type_masks: dict[frozenset, np.ndarray] = {}

    def band(self, y0: int, y1: int) -> slice:
        """Rows with y0 <= y < y1 (integer Mercator units)."""
        lo, hi = np.searchsorted(self.y, [y0, y1], side="left")
        return slice(int(lo), int(hi))

    def type_mask(self, types: frozenset[int] | None) -> np.ndarray | None:
        if types is None or all(int(t) in types for t in TYPES):
            return None
        mask = self._type_masks.get(types)
        if mask is None:
            lut = np.zeros(_LUT_SIZE, dtype=bool)
            lut[list(types)] = True
            mask = lut[self.type]
            mask.flags.writeable = False
            self._type_masks[types] = mask
            while len(self._type_masks) > 32:
                self._type_masks.pop(next(iter(self._type_masks)))
        return mask


# ---------------------------------------------------------------------------------------
# Clustering


@dataclass(frozen=True)
class CellRange:
    level: int   # grid level: 2**level cells per world axis
    x0: int      # first cell column (the range wraps at the antimeridian)
    width: int   # columns
    y0: int
    height: int

    @property
    def cells(self) -> int:
        return self.width * self.height

    def bbox(self) -> list[float]:
        """[west, south, east, north] of the covered cells (west > east: wraps)."""
        n = 1 << self.level
        if self.width >= n:
            west, east = -180.0, 180.0
        else:
            west = self.x0 / n * 360.0 - 180.0
            east = ((self.x0 + self.width - 1) % n + 1) / n * 360.0 - 180.0
        # The top and bottom rows also hold the cameras beyond Mercator's +-85.05 degrees.
        north = 90.0 if self.y0 <= 0 else lat_of_y(self.y0 / n)
        south = -90.0 if self.y0 + self.height >= n else lat_of_y((self.y0 + self.height) / n)
        return [round(west, 6), round(south, 6), round(east, 6), round(north, 6)]


def cell_range(q: MapQuery, level: int) -> CellRange:
    n = 1 << level
    # Corners (west, north) and (east, south): x of the west and east edges, y of north and south.
    xs, ys = mercator_units(np.array([q.north, q.south]), np.array([q.west, q.east]), bits=level)
    x_west, x_east = int(xs[0]), int(xs[1])
    y_north, y_south = int(ys[0]), int(ys[1])
    if q.east >= 180.0:
        x_east = n - 1
    if q.west > q.east:             # crosses the antimeridian: x_west .. n-1, then 0 .. x_east
        width = (n - x_west) + (x_east + 1)
    else:
        width = x_east - x_west + 1
    if (q.west <= -180.0 and q.east >= 180.0) or width >= n:
        x_west, width = 0, n
    return CellRange(level, x_west, width, y_north, y_south - y_north + 1)


def start_range(q: MapQuery) -> CellRange:
    """The cells at the query's zoom (``CELL_PX`` each), coarsened until the viewport holds at
    most ``MAX_GRID_CELLS`` of them."""
    level = min(q.zoom + CELL_SHIFT, PRECISION_BITS)
    rng = cell_range(q, level)
    while rng.cells > MAX_GRID_CELLS and level > 0:
        level -= 1
        rng = cell_range(q, level)
    return rng


def _round(values: np.ndarray, digits: int = 5) -> list:
    return np.round(values, digits).tolist()


def clusters(data: MapData | None, q: MapQuery, release: dict | None = None, *,
             max_features: int = MAX_FEATURES) -> dict:
    """The cluster answer for ``q`` as a JSON-ready dict.

    ``clusters`` lists ``[lat, lon, count]`` per cell with two or more cameras (mean
    position), ``cameras`` lists ``[lat, lon, id, type slug, speed or null]`` per cell with
    one; ``total`` is the number of matching cameras in the covered ``bbox`` (the request's
    bbox widened to whole cells), ``countries`` their counts per country.
    """
    rng = start_range(q)
    level = rng.level
    out = {"release": release, "zoom": q.zoom, "cell_px": CELL_PX, "types": None if q.types is None else
           sorted(_SLUG_OF_CODE[t] for t in q.types)}
    if data is None or data.n == 0 or (q.types is not None and not q.types):
        out.update(level=level, bbox=rng.bbox(), total=0, countries={}, clusters=[], cameras=[])
        return out

    # Cameras of the matching types inside the covered cells at the starting level; a
    # coarser level covers a superset of those cells, so the selection is re-done per level.
    tmask = data.type_mask(q.types)
    while True:
        shift = PRECISION_BITS - rng.level
        n = 1 << rng.level
        rows = data.band(rng.y0 << shift, (rng.y0 + rng.height) << shift)
        cx = data.x[rows] >> shift
        ry = (data.y[rows] >> shift) - rng.y0
        if rng.width < n:
            rx = (cx - rng.x0) & (n - 1)      # wraps at the antimeridian (n is a power of two)
            sel = rx < rng.width
            if tmask is not None:
                sel &= tmask[rows]
            local = np.flatnonzero(sel)
        elif tmask is not None:
            rx = cx
            local = np.flatnonzero(tmask[rows])
        else:
            rx = cx
            local = None
        if local is None:
            idx = np.arange(rows.start, rows.stop)
            cell = ry.astype(np.int64) * rng.width + rx
        else:
            idx = local + rows.start
            cell = ry[local].astype(np.int64) * rng.width + rx[local]
        counts = np.bincount(cell, minlength=rng.cells)
        nonempty = np.flatnonzero(counts)
        if len(nonempty) <= max_features or rng.level == 0:
            break
        rng = cell_range(q, rng.level - 1)

    lat_sum = np.bincount(cell, weights=data.lat[idx], minlength=rng.cells)
    lon_sum = np.bincount(cell, weights=data.lon[idx], minlength=rng.cells)
    c = counts[nonempty]
    lat_mean = lat_sum[nonempty] / c
    lon_mean = lon_sum[nonempty] / c
    multi = c > 1
    clusters_out = [list(t) for t in zip(_round(lat_mean[multi]), _round(lon_mean[multi]), c[multi].tolist())]

    singles = nonempty[~multi]
    cameras_out = []
    if len(singles):
        # The one camera of each single cell, in cell order.
        alone = np.flatnonzero(counts[cell] == 1)
        rows = idx[alone[np.argsort(cell[alone])]]
        slugs = [_SLUG_OF_CODE.get(int(t), "other") for t in data.type[rows].tolist()]
        speeds = [s if s > 0 else None for s in data.speed[rows].tolist()]
        cameras_out = [list(t) for t in zip(_round(data.lat[rows]), _round(data.lon[rows]),
                                            data.ids[rows].tolist(), slugs, speeds)]
    by_country = np.bincount(data.country_code[idx], minlength=len(data.country_names))
    countries = {data.country_names[i]: int(by_country[i]) for i in np.flatnonzero(by_country)}
    out.update(level=rng.level, bbox=rng.bbox(), total=int(len(idx)), countries=countries,
               clusters=clusters_out, cameras=cameras_out)
    return out


def encode(answer: dict) -> bytes:
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()


def clusters_json(data: MapData | None, q: MapQuery, release: dict | None = None) -> bytes:
    """``clusters`` encoded, never over ``MAX_BYTES`` (at most ``MAX_FEATURES`` entries of about
    55 bytes keep it far below; should it not, the grid is coarsened further)."""
    limit = MAX_FEATURES
    while True:
        body = encode(clusters(data, q, release, max_features=limit))
        if len(body) < MAX_BYTES or limit <= 1:
            return body
        limit //= 2


def cache_key(sha256: str, q: MapQuery) -> str:
    """The ETag of an answer: the release and the normalised query (covered cells, types)."""
    rng = start_range(q)
    text = f"{sha256}|{q.zoom}|{rng.level}|{rng.x0}|{rng.width}|{rng.y0}|{rng.height}|{q.type_key}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]
