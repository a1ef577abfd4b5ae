"""France, legal mode (``ExportOptions.fr_danger_zones``): danger zones instead of cameras.

French law forbids telling a driver where a speed camera is (Code de la route art. R413-15
as amended by décret n° 2012-3 of 3 January 2012); products may signal *zones de danger*,
which the protocol of 28 July 2011 between the Ministry of the Interior and the makers'
association (AFFTAC) sets at 300 m in built-up areas, 2 km outside them and 4 km on
motorways (at least). docs/france.md gives the sources and the rule in words.

Every camera whose country is FR becomes a ``DANGER_ZONE`` row:

- **Length** (``zone_lengths``), from what the database knows of the road: 4 km on a
  motorway (a road ref "A<n>" among the camera's roads, or a limit of 110 km/h or more),
  300 m in a built-up area (a limit of 1-50 km/h), 2 km otherwise (other limits, or none
  known). When in doubt the longer zone is taken: the law sets minimum lengths.
- **With a heading** (direction mode ONE): the zone is the stretch of that length along the
  heading that contains the camera; the camera lies at a fraction of it between
  ``OFFSET_RANGE`` from its start, taken from a keyed hash (HMAC-SHA256, ``zone_key``) of the
  camera's id and exact position. The row's point is the zone start (always upstream of the
  camera: point formats warn before it), ``end_lat``/``end_lon`` the zone end. Without the key
  the offset cannot be computed, so the file does not give the camera back.
- **Without one** (no heading, or both directions): the zone is centred on the camera; its
  point is the camera snapped to the centre of a grid cell of ``GRID_FACTOR`` x the zone
  length (so at most ``GRID_FACTOR / sqrt 2`` ~ 0.495 zone lengths from the camera). An alert
  circle of one zone length around that point covers the whole zone (half a zone length
  around the camera) whatever the snapping error.
- **Sections** with an end point: one zone along the section (start to end) that contains
  both ends, its start upstream of the start camera by the hashed offset, as long as the
  section plus the road class length (rounded up to 100 m; up to ``MAX_SECTION_ZONE_M``,
  longer ones are a zone around their start camera).
- **What is dropped**: speeds, truck speeds, the description (it becomes "Zone de danger
  (2 km)"), mobile kind and reports, and road text with numbers that are not road refs ("face
  au n° 12", "PR 12+300" would place the camera).

The alert radius of a zone, where a format carries one (GPI, GPX ``gpxx:Proximity``), is
its length from the row's point (``zone_lengths_of`` -> ``ExportOptions.proximity_for``):
from the zone start it reaches the zone end; from a snapped centre it covers the zone.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re

import numpy as np

from .base import CameraSet
from .schema import CameraType, DirectionMode, Kind
from .textrows import distinct, group_codes

EARTH_M_PER_DEG = 111_195.0
BUILT_UP_M, ROAD_M, MOTORWAY_M = 300, 2000, 4000
BUILT_UP_MAX_KMH = 50      # a limit of 1-50 km/h: built-up area (agglomération)
MOTORWAY_MIN_KMH = 110     # 110 and 130 km/h: motorway (autoroute) or motorway-class road
OFFSET_RANGE = (0.1, 0.9)  # where the camera lies in a zone with a heading, as a fraction of it
GRID_FACTOR = 0.7          # grid cell of a centred zone, times its length (<= 1/sqrt 2)
ZONE_STEP_M = 100          # section zones are rounded up to this
MAX_SECTION_ZONE_M = 20_000
ZONE_COLUMN = "zone_m"     # the zone length per row (0 = not a zone), beside the snapshot columns
DEVELOPMENT_KEY = b"speedcam-fr-danger-zones-development-key"

# A road ref of a French motorway: "A7", "A 86", "A6a", alone or in a list ("D77, A42").
_MOTORWAY = re.compile(r"(?:^|[,;/(]\s*)A\s?\d+[A-Za-z]?\s*(?=$|[,;/)])")
# A road ref: A/N/RN/D/RD/M/RM/RT/T/C/VC/E + number ("RN7", "D 723", "A6a").
_REF = re.compile(r"^(?:A|N|RN|D|RD|M|RM|RT|T|C|VC|E)\s?\d+[A-Za-z]?$", re.IGNORECASE)
_SPLIT = re.compile(r"\s*[,;]\s*")


def zone_key() -> bytes:
    """The HMAC key of the zone offsets: ``FR_ZONE_KEY`` from the environment, else one derived
    from the deployment's ``SECRET_KEY``, else a development key (a public key would let the
    offset be searched for, see docs/france.md: production sets one of the two)."""
    own = os.environ.get("FR_ZONE_KEY", "")
    if own:
        return own.encode()
    secret = os.environ.get("SECRET_KEY", "")
    if secret:
        return hmac.new(secret.encode(), b"fr-danger-zones", hashlib.sha256).digest()
    return DEVELOPMENT_KEY


def motorway_roads(road: np.ndarray) -> np.ndarray:
    """Per camera: one of its roads is a motorway ref ("A7", "A 86", "... , A42")."""
    if not len(road):
        return np.zeros(0, dtype=bool)
    codes, first = group_codes(road)
    table = np.array([bool(_MOTORWAY.search(str(r or ""))) for r in road[first].tolist()], dtype=bool)
    return table[codes]


def zone_lengths(speed: np.ndarray, road: np.ndarray) -> np.ndarray:
    """The zone length in metres per camera: 4 km on motorways (a motorway ref among the roads,
    or a limit of 110 km/h or more), 300 m in built-up areas (1-50 km/h), 2 km otherwise."""
    speed = np.asarray(speed).astype(np.int64)
    motorway = motorway_roads(np.asarray(road, dtype=object)) | (speed >= MOTORWAY_MIN_KMH)
    out = np.full(len(speed), ROAD_M, dtype=np.int64)
    out[(speed > 0) & (speed <= BUILT_UP_MAX_KMH)] = BUILT_UP_M
    out[motorway] = MOTORWAY_M
    return out


def offset_fractions(ids, lat, lon, key: bytes | None = None) -> np.ndarray:
    """Where each camera lies in its zone, as a fraction in ``OFFSET_RANGE``: HMAC-SHA256 of
    the id and the exact position (their ``repr``) under ``key`` (``zone_key()``)."""
    key = zone_key() if key is None else key
    lo, hi = OFFSET_RANGE
    # one-shot HMAC (OpenSSL's, no HMAC object per camera); the first 8 bytes of each digest,
    # big-endian, as one uint64 array
    mac = functools.partial(hmac.digest, key, digest="sha256")
    messages = map(str.encode, map("{}:{!r}:{!r}".format, np.asarray(ids).tolist(),
                                   np.asarray(lat, dtype=np.float64).tolist(),
                                   np.asarray(lon, dtype=np.float64).tolist()))
    heads = b"".join(digest[:8] for digest in map(mac, messages))
    out = np.frombuffer(heads, dtype=">u8").astype(np.float64) / 2.0 ** 64
    return lo + (hi - lo) * out


def snapped_centres(lat: np.ndarray, lon: np.ndarray, cell_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point moved to the centre of its cell in a grid of ``cell_m`` metres: latitude rows
    first, then longitude cells as wide as ``cell_m`` at the row's centre latitude (the grid
    depends on the row, never on the point)."""
    step_lat = cell_m / EARTH_M_PER_DEG
    lat_c = (np.floor(lat / step_lat) + 0.5) * step_lat
    step_lon = cell_m / (EARTH_M_PER_DEG * np.cos(np.radians(lat_c)))
    lon_c = (np.floor(lon / step_lon) + 0.5) * step_lon
    return lat_c, lon_c


def distance_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance (haversine, mean radius), metres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _move(lat, lon, heading_rad, metres):
    """Points ``metres`` along ``heading_rad`` (local flat approximation, good to a few metres
    over 20 km)."""
    return (lat + metres * np.cos(heading_rad) / EARTH_M_PER_DEG,
            lon + metres * np.sin(heading_rad) / (EARTH_M_PER_DEG * np.cos(np.radians(lat))))


def _bearing(lat1, lon1, lat2, lon2):
    """Initial bearing in radians (local flat approximation) and distance in metres."""
    dy = (lat2 - lat1) * EARTH_M_PER_DEG
    dx = (lon2 - lon1) * EARTH_M_PER_DEG * np.cos(np.radians(lat1))
    return np.arctan2(dx, dy), distance_m(lat1, lon1, lat2, lon2)


def zone_text(metres: int) -> str:
    """ "Zone de danger (300 m)", "(2 km)", "(5.3 km)"."""
    if metres < 1000:
        return f"Zone de danger ({metres} m)"
    km = metres / 1000
    return f"Zone de danger ({km:.0f} km)" if metres % 1000 == 0 else f"Zone de danger ({km:.1f} km)"


def plain_roads(road: np.ndarray) -> np.ndarray:
    """Roads without what could place a camera: of each comma-separated part, road refs and
    names without digits are kept ("RN7", "Rue de Rivoli"), other parts ("face au n° 12",
    "PR 12+300") dropped."""
    if not len(road):
        return np.asarray(road, dtype=object)
    codes, first = group_codes(road)
    table = []
    for text in road[first].tolist():
        parts = [p for p in _SPLIT.split(str(text or "").strip()) if p]
        kept = [p for p in parts if _REF.match(p) or not any(ch.isdigit() for ch in p)]
        table.append(", ".join(kept))
    return np.asarray(table, dtype=object)[codes]


def zone_lengths_of(cams: CameraSet) -> np.ndarray:
    """The zone length per row (metres, 0 for rows that are not France zones): the alert radius
    that covers the zone from the row's point."""
    zone = cams.columns.get(ZONE_COLUMN)
    if zone is None:
        return np.zeros(len(cams), dtype=np.int64)
    return zone.astype(np.int64)


def france_danger_zones(cameras: CameraSet, key: bytes | None = None) -> CameraSet:
    """The cameras with those in France as danger zones (module docstring); other countries
    untouched. The result has a ``ZONE_COLUMN`` column (zone length, 0 elsewhere)."""
    fr = cameras["country"] == "FR"
    if not fr.any():
        return cameras
    cols = {k: v.copy() for k, v in cameras.columns.items()}
    idx = np.flatnonzero(fr)
    lat, lon = cols["lat"][idx].astype(np.float64), cols["lon"][idx].astype(np.float64)
    length = zone_lengths(cols["speed"][idx], cols["road"][idx]).astype(np.float64)
    heading = cols["heading"][idx].astype(np.float64)
    mode = cols["dir_mode"][idx]
    along = np.isfinite(heading) & (mode == DirectionMode.ONE)
    h = np.radians(np.nan_to_num(heading))
    zone = length.copy()

    # a section with its end point: one zone along it (start upstream of the start camera)
    end_lat, end_lon = cols["end_lat"][idx], cols["end_lon"][idx]
    section = (cols["type"][idx] == CameraType.SECTION) & np.isfinite(end_lat) & np.isfinite(end_lon)
    if section.any():
        bearing, span = _bearing(lat, lon, np.nan_to_num(end_lat), np.nan_to_num(end_lon))
        whole = np.ceil((span + length) / ZONE_STEP_M) * ZONE_STEP_M
        section &= (whole <= MAX_SECTION_ZONE_M) & (span > 0)
        h = np.where(section, bearing, h)
        zone = np.where(section, whole, zone)
        along |= section

    # zone start to camera: the keyed fraction of the zone (only a stretch along a heading or
    # a section has a start; a centred zone needs none, so its hash is not computed)
    frac = np.zeros(len(idx), dtype=np.float64)
    if along.any():
        frac[along] = offset_fractions(cols["id"][idx][along], lat[along], lon[along], key)
    back = frac * length
    start_lat, start_lon = _move(lat, lon, h, -back)
    stop_lat, stop_lon = _move(start_lat, start_lon, h, zone)
    centre_lat, centre_lon = snapped_centres(lat, lon, GRID_FACTOR * zone)
    cols["lat"][idx] = np.where(along, start_lat, centre_lat)
    cols["lon"][idx] = np.where(along, start_lon, centre_lon)
    cols["end_lat"][idx] = np.where(along, stop_lat, np.nan)
    cols["end_lon"][idx] = np.where(along, stop_lon, np.nan)
    cols["heading"][idx] = np.where(along, np.degrees(h) % 360, np.nan).astype(cols["heading"].dtype)
    cols["dir_mode"][idx] = np.where(along, DirectionMode.ONE, DirectionMode.ALL)
    cols["type"][idx] = CameraType.DANGER_ZONE
    cols["kind"][idx] = Kind.FIXED
    cols["speed"][idx] = 0
    cols["truck_speed"][idx] = 0
    cols["reports"][idx] = 0
    cols["road"][idx] = plain_roads(cols["road"][idx])
    metres = zone.astype(np.int64)
    texts = {m: zone_text(m) for m in distinct(metres)}
    cols["description"][idx] = [texts[m] for m in metres.tolist()]
    out = np.zeros(len(cameras), dtype=np.int64)
    out[idx] = metres
    cols[ZONE_COLUMN] = out
    return CameraSet(cols)


def zone_report(original: CameraSet, zones: CameraSet) -> dict:
    """What a zone file tells about the cameras it hides, per French camera (rows matched by
    id): distance from the zone's point to the camera, the zone length (= alert radius), and
    whether the alert circle covers the camera and the whole zone (the stretch's end, or half
    a zone around the camera when there is no stretch)."""
    fr = np.flatnonzero(original["country"] == "FR")
    pos = {int(i): k for k, i in enumerate(zones["id"].tolist())}
    rows = np.array([pos[int(i)] for i in original["id"][fr].tolist()], dtype=np.int64)
    lat, lon = original["lat"][fr], original["lon"][fr]
    zlat, zlon = zones["lat"][rows], zones["lon"][rows]
    radius = zone_lengths_of(zones)[rows].astype(np.float64)
    to_camera = distance_m(zlat, zlon, lat, lon)
    elat, elon = zones["end_lat"][rows], zones["end_lon"][rows]
    stretch = np.isfinite(elat)
    to_end = np.where(stretch, distance_m(zlat, zlon, np.nan_to_num(elat), np.nan_to_num(elon)), 0.0)
    far = np.where(stretch, np.maximum(to_end, to_camera), to_camera + radius / 2)
    return {"to_camera_m": to_camera, "zone_m": radius, "stretch": stretch,
            "camera_covered": to_camera <= radius + 1e-6, "zone_covered": far <= radius * 1.001}


def zone_lengths_text() -> str:
    return (f"{BUILT_UP_M} m in built-up areas, {ROAD_M // 1000} km on other roads, {MOTORWAY_M // 1000} km on "
            f"motorways")


ALERT_NOTE = ("France danger zones: each zone's alert distance is its length from the zone's point (its start, or "
              "a point near its centre), so the alert covers the whole zone.")
