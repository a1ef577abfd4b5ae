"""Coverage: which cameras of a release go into a package.

A coverage is a set of countries (ISO codes, from country codes and region slugs), plus
optional extras: route corridors (cameras within N km of a GPX track or route) and home
circles (cameras within N km of a point), minus optional camera types the customer agreed
to leave out. ``Coverage.mask(index)`` selects the cameras; coverages combine with ``|``
(union) and ``without`` (drop countries), and the mask of a union is the union of masks.

No Django here: the release comes in as an ``exporters.base.CameraSet`` wrapped in a
``CameraIndex`` (built once per release: per-camera country numbers, so a country mask is
one table lookup).

Distances: a corridor is computed with shapely in a metric projection, an azimuthal
equidistant one centred on the route (distances from the centre are exact; a 1,000 km
route is within 0.2 % elsewhere). Cameras near the route's bounding box are projected, the
route is cut into segments in an STRtree and queried with ``dwithin``. A home circle uses
the haversine distance.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field, replace
from typing import Iterable

import numpy as np

from exporters.base import CameraSet
from exporters.schema import CameraType, Kind

from . import regions

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180.0

MAX_ROUTE_BYTES = 20 * 1024 * 1024   # an uploaded GPX
MAX_ROUTE_POINTS = 200_000
MAX_CORRIDOR_KM = 50.0
MAX_RADIUS_KM = 1000.0


class CoverageError(ValueError):
    """A coverage or route the service cannot use; the message says what and how to fix it."""


# ---------------------------------------------------------------------------------------
# Routes


@dataclass(frozen=True, eq=False)
class Route:
    """A track or route from a GPX file: its points in order (degrees) and a content hash."""

    lat: np.ndarray
    lon: np.ndarray
    sha256: str
    name: str = ""

    def __eq__(self, other):
        return isinstance(other, Route) and other.sha256 == self.sha256

    def __hash__(self):
        return hash(self.sha256)

    @property
    def length_km(self) -> float:
        return float(haversine_km(self.lat[:-1], self.lon[:-1], self.lat[1:], self.lon[1:]).sum())

    @classmethod
    def from_points(cls, lat, lon, name: str = "") -> "Route":
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        if len(lat) == 0:
            raise CoverageError("the route has no points")
        if not (np.all(np.abs(lat) <= 90) and np.all(np.abs(lon) <= 180)):
            raise CoverageError("the route has points outside -90..90 latitude / -180..180 longitude")
        digest = hashlib.sha256(np.round(np.column_stack([lat, lon]), 6).tobytes()).hexdigest()
        return cls(lat, lon, digest, name)


def read_gpx_route(data: bytes, filename: str = "route.gpx") -> Route:
    """The points of every track and route of a GPX file (tracks first), checked.

    Refused with a clear message: more than ``MAX_ROUTE_BYTES`` bytes or ``MAX_ROUTE_POINTS``
    points, a file that is not XML or not GPX, XML with entity declarations (entity
    expansion attacks) or an external DTD, and a GPX without track or route points
    (waypoints alone are not a route)."""
    import gpxpy
    import gpxpy.gpx
    from defusedxml import DefusedXmlException, ExternalReferenceForbidden
    from xml.etree.ElementTree import ParseError

    from cameras.formats.gpx import safe_fromstring

    if len(data) > MAX_ROUTE_BYTES:
        raise CoverageError(f"{filename}: {len(data):,} bytes is too large for a route (at most "
                            f"{MAX_ROUTE_BYTES // (1024 * 1024)} MB); simplify the route or split it")
    if not data.strip():
        raise CoverageError(f"{filename}: the file is empty; upload a GPX file with a track or a route")
    try:
        root = safe_fromstring(data)  # refuses DTD entities before any other parser sees the file
    except ExternalReferenceForbidden:
        raise CoverageError(f"{filename}: the file refers to an external document (a DTD), which a GPX file never "
                            f"needs; export the route again from your route planner") from None
    except DefusedXmlException:
        raise CoverageError(f"{filename}: the file declares XML entities, which a GPX file never needs; "
                            f"export the route again from your route planner") from None
    except ParseError as exc:
        raise CoverageError(f"{filename}: not a valid XML/GPX file ({exc}); export the route again as GPX") from None
    if not root.tag.endswith("gpx"):
        raise CoverageError(f"{filename}: this is XML but not GPX (root element <{root.tag.split('}')[-1]}>); "
                            f"upload a .gpx file")
    try:
        gpx = gpxpy.parse(data.decode("utf-8", errors="replace"))
    except gpxpy.gpx.GPXException as exc:
        raise CoverageError(f"{filename}: not a valid GPX file ({exc})") from None
    lat: list[float] = []
    lon: list[float] = []
    for track in gpx.tracks:
        for segment in track.segments:
            for p in segment.points:
                lat.append(p.latitude)
                lon.append(p.longitude)
    for route in gpx.routes:
        for p in route.points:
            lat.append(p.latitude)
            lon.append(p.longitude)
        if len(lat) > MAX_ROUTE_POINTS:
            break
    if len(lat) > MAX_ROUTE_POINTS:
        raise CoverageError(f"{filename}: more than {MAX_ROUTE_POINTS:,} points; simplify the route "
                            f"(most route planners can export fewer points)")
    if not lat:
        raise CoverageError(f"{filename}: the GPX file has no track or route points (waypoints alone do not make "
                            f"a route)")
    name = next((t.name for t in [*gpx.tracks, *gpx.routes] if t.name), "") or ""
    return Route.from_points(lat, lon, name=name)


# ---------------------------------------------------------------------------------------
# Distances


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _aeqd(lat0: float, lon0: float):
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m",
                                always_xy=True)


def corridor_mask(lat: np.ndarray, lon: np.ndarray, route: Route, km: float) -> np.ndarray:
    """Cameras within ``km`` of the route (a polyline; one point is a circle)."""
    import shapely

    out = np.zeros(len(lat), dtype=bool)
    if not len(lat):
        return out
    # Candidates: a box around the route, wide enough for the corridor at any latitude.
    margin_lat = km / KM_PER_DEG * 1.01 + 1e-6
    max_abs_lat = min(89.0, float(np.abs(route.lat).max()) + margin_lat)
    margin_lon = min(360.0, km / (KM_PER_DEG * math.cos(math.radians(max_abs_lat))) * 1.01 + 1e-6)
    box = ((lat >= route.lat.min() - margin_lat) & (lat <= route.lat.max() + margin_lat)
           & (lon >= route.lon.min() - margin_lon) & (lon <= route.lon.max() + margin_lon))
    cand = np.flatnonzero(box)
    if not len(cand):
        return out
    mid = len(route.lat) // 2
    transformer = _aeqd(float(route.lat[mid]), float(route.lon[mid]))
    rx, ry = transformer.transform(route.lon, route.lat)
    cx, cy = transformer.transform(lon[cand], lat[cand])
    points = shapely.points(cx, cy)
    if len(rx) == 1:
        parts = shapely.points(rx, ry)
    else:
        coords = np.stack([np.column_stack([rx[:-1], ry[:-1]]), np.column_stack([rx[1:], ry[1:]])], axis=1)
        parts = shapely.linestrings(coords)
    tree = shapely.STRtree(parts)
    hits = tree.query(points, predicate="dwithin", distance=km * 1000.0)[0]
    out[cand[np.unique(hits)]] = True
    return out


# ---------------------------------------------------------------------------------------
# The coverage


@dataclass(frozen=True)
class Corridor:
    route: Route
    km: float

    def label(self) -> str:
        return f"route:{self.route.sha256[:12]}+{self.km:g}km"


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    km: float

    def label(self) -> str:
        return f"home:{self.lat:.4f},{self.lon:.4f}+{self.km:g}km"


TYPE_SLUGS = {t.slug: t for t in CameraType}


@dataclass(frozen=True)
class Coverage:
    """Countries (ISO codes) + corridors + circles, minus excluded types."""

    countries: frozenset[str] = frozenset()
    codes: tuple[str, ...] = ()                 # as the customer chose them (countries and regions), sorted
    corridors: tuple[Corridor, ...] = ()
    circles: tuple[Circle, ...] = ()
    exclude_types: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, codes: Iterable[str] | str = (), *, route: Route | None = None, corridor_km: float = 5.0,
              home: tuple[float, float] | None = None, radius_km: float = 0.0,
              exclude_types: Iterable[str] = ()) -> "Coverage":
        """From country codes and region slugs (unknown ones raise, naming close matches) and extras."""
        if isinstance(codes, str):
            codes = [c for c in re.split(r"[\s,;]+", codes) if c]
        codes = [c.strip() for c in codes if c.strip()]
        try:
            countries = regions.expand(codes)
        except ValueError as exc:
            raise CoverageError(str(exc)) from None
        normal = tuple(sorted({c.lower() if c.lower() in regions.REGIONS else c.upper() for c in codes}))
        corridors: tuple[Corridor, ...] = ()
        if route is not None:
            if not 0 < corridor_km <= MAX_CORRIDOR_KM:
                raise CoverageError(f"corridor width {corridor_km:g} km is outside 0-{MAX_CORRIDOR_KM:g} km")
            corridors = (Corridor(route, float(corridor_km)),)
        circles: tuple[Circle, ...] = ()
        if home is not None:
            lat, lon = home
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise CoverageError(f"home point {lat},{lon} is not a latitude,longitude pair")
            if not 0 < radius_km <= MAX_RADIUS_KM:
                raise CoverageError(f"radius {radius_km:g} km is outside 0-{MAX_RADIUS_KM:g} km")
            circles = (Circle(float(lat), float(lon), float(radius_km)),)
        excluded = set()
        for slug in exclude_types:
            if slug not in TYPE_SLUGS:
                import difflib

                close = difflib.get_close_matches(slug, list(TYPE_SLUGS), n=3)
                raise CoverageError(f"unknown camera type {slug!r}" + (f"; did you mean {', '.join(close)}?" if close
                                    else f"; valid: {', '.join(TYPE_SLUGS)}"))
            excluded.add(int(TYPE_SLUGS[slug]))
        if not countries and not corridors and not circles:
            raise CoverageError("the coverage is empty: give countries or regions (e.g. FR,BE or western-europe), "
                                "a route or a home point")
        return cls(countries, normal, corridors, circles, frozenset(excluded))

    # set operations -------------------------------------------------------------------
    def __or__(self, other: "Coverage") -> "Coverage":
        if self.exclude_types != other.exclude_types:
            raise CoverageError("cannot join coverages that leave out different camera types")
        return Coverage(self.countries | other.countries, tuple(sorted(set(self.codes) | set(other.codes))),
                        tuple(dict.fromkeys(self.corridors + other.corridors)),
                        tuple(dict.fromkeys(self.circles + other.circles)), self.exclude_types)

    def with_countries(self, countries: Iterable[str]) -> "Coverage":
        """More countries (ISO codes), listed by code."""
        added = frozenset(c.upper() for c in countries)
        return replace(self, countries=self.countries | added, codes=tuple(sorted(set(self.codes) | added)))

    def without(self, countries: Iterable[str]) -> "Coverage":
        """Fewer countries: the named ones leave the country part (regions are spelled out)."""
        drop = regions.expand(list(countries))
        kept = self.countries - drop
        codes = set(self.codes)
        if any(c in regions.REGIONS and set(regions.REGIONS[c].countries) & drop for c in codes):
            codes = set(kept)
        return replace(self, countries=kept, codes=tuple(sorted(codes - drop)))

    def excluding(self, types: Iterable[int]) -> "Coverage":
        return replace(self, exclude_types=self.exclude_types | frozenset(int(t) for t in types))

    # what it means --------------------------------------------------------------------
    def labels(self) -> list[str]:
        """What the manifest and the cache key say about this coverage."""
        out = list(self.codes) or []
        out += [c.label() for c in self.corridors] + [c.label() for c in self.circles]
        out += [f"-{CameraType(t).slug}" for t in sorted(self.exclude_types)]
        return out

    def describe(self) -> str:
        return ", ".join(self.labels())

    def mask(self, index: "CameraIndex") -> np.ndarray:
        out = index.country_mask(self.countries)
        for c in self.corridors:
            out |= index.corridor_mask(c.route, c.km)  # read-only cached mask: combined into ``out``
        for c in self.circles:
            out |= haversine_km(index.lat, index.lon, c.lat, c.lon) <= c.km
        if self.exclude_types:
            out &= ~np.isin(index.cameras["type"], sorted(self.exclude_types))
        return out


class CameraIndex:
    """A release's cameras with what coverage queries need, computed once."""

    def __init__(self, cameras: CameraSet):
        self.cameras = cameras
        self.lat = cameras["lat"].astype(np.float64)
        self.lon = cameras["lon"].astype(np.float64)
        names, self.country_code = np.unique(cameras["country"].astype(str), return_inverse=True)
        self.country_names = [str(n) for n in names]
        self._country_pos = {c: i for i, c in enumerate(self.country_names)}
        self.mobile = cameras["kind"] == Kind.MOBILE
        self._corridors: dict[tuple[str, float], np.ndarray] = {}

    def __len__(self):
        return len(self.cameras)

    def country_mask(self, countries: Iterable[str]) -> np.ndarray:
        lut = np.zeros(len(self.country_names) + 1, dtype=bool)
        for c in countries:
            pos = self._country_pos.get(c)
            if pos is not None:
                lut[pos] = True
        return lut[self.country_code]

    def corridor_mask(self, route: Route, km: float) -> np.ndarray:
        """Cached per (route, width): a customer trimming a coverage keeps the same route while
        countries come and go, so only the first query pays for the corridor."""
        key = (route.sha256, float(km))
        mask = self._corridors.get(key)
        if mask is None:
            mask = corridor_mask(self.lat, self.lon, route, km)
            mask.flags.writeable = False
            self._corridors[key] = mask
            while len(self._corridors) > 8:
                self._corridors.pop(next(iter(self._corridors)))
        return mask

    def counts_by_country(self, mask: np.ndarray | None = None) -> dict[str, int]:
        codes = self.country_code if mask is None else self.country_code[mask]
        counts = np.bincount(codes, minlength=len(self.country_names))
        return {c: int(n) for c, n in zip(self.country_names, counts) if n}

    def countries_present(self) -> list[str]:
        return [c for c in self.country_names if c]
