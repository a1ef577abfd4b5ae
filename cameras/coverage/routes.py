"""Routes for coverage corridors: a GPX track or route read safely, and the cameras within N km
of it (shapely in an azimuthal equidistant projection centred on the route: distances from the
centre are exact, a 1,000 km route is within 0.2 % elsewhere)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

import numpy as np
from defusedxml import DefusedXmlException, ExternalReferenceForbidden

from cameras.coverage.errors import CoverageError
from cameras.distance import KM_PER_DEG, haversine_km
from cameras.formats.xml_helpers import safe_fromstring
from exporters.i18n import gettext, number



MAX_ROUTE_BYTES = 20 * 1024 * 1024   # an uploaded GPX


MAX_ROUTE_POINTS = 200_000


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
            raise CoverageError(gettext("the route has no points"))
        if not (np.all(np.abs(lat) <= 90) and np.all(np.abs(lon) <= 180)):
            raise CoverageError(gettext("the route has points outside -90..90 latitude / -180..180 longitude"))
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

    if len(data) > MAX_ROUTE_BYTES:
        raise CoverageError(gettext("%(file)s: %(bytes)s bytes is too large for a route (at most %(max)s MB); "
                                    "simplify the route or split it")
                            % {"file": filename, "bytes": number(len(data)), "max": MAX_ROUTE_BYTES // (1024 * 1024)})
    if not data.strip():
        raise CoverageError(gettext("%(file)s: the file is empty; upload a GPX file with a track or a route")
                            % {"file": filename})
    try:
        root = safe_fromstring(data)  # refuses DTD entities before any other parser sees the file
    except ExternalReferenceForbidden:
        raise CoverageError(gettext("%(file)s: the file refers to an external document (a DTD), which a GPX file "
                                    "never needs; export the route again from your route planner")
                            % {"file": filename}) from None
    except DefusedXmlException:
        raise CoverageError(gettext("%(file)s: the file declares XML entities, which a GPX file never needs; "
                                    "export the route again from your route planner") % {"file": filename}) from None
    except ParseError as exc:
        raise CoverageError(gettext("%(file)s: not a valid XML/GPX file (%(error)s); export the route again as GPX")
                            % {"file": filename, "error": exc}) from None
    if not root.tag.endswith("gpx"):
        raise CoverageError(gettext("%(file)s: this is XML but not GPX (root element <%(root)s>); upload a .gpx file")
                            % {"file": filename, "root": root.tag.split("}")[-1]})
    try:
        gpx = gpxpy.parse(data.decode("utf-8", errors="replace"))
    except gpxpy.gpx.GPXException as exc:
        raise CoverageError(gettext("%(file)s: not a valid GPX file (%(error)s)")
                            % {"file": filename, "error": exc}) from None
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
        raise CoverageError(gettext("%(file)s: more than %(max)s points; simplify the route (most route planners "
                                    "can export fewer points)") % {"file": filename, "max": number(MAX_ROUTE_POINTS)})
    if not lat:
        raise CoverageError(gettext("%(file)s: the GPX file has no track or route points (waypoints alone do not "
                                    "make a route)") % {"file": filename})
    name = next((t.name for t in [*gpx.tracks, *gpx.routes] if t.name), "") or ""
    return Route.from_points(lat, lon, name=name)


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
