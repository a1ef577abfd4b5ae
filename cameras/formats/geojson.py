"""The project's own GeoJSON feed (reader name ``geojson``); documented in docs/feed-geojson.md.

A ``FeatureCollection`` of ``Point`` features (one camera each) and ``LineString`` features
(a section or zone: first position = start, last position = end). The properties use the
same names and rules as the project CSV (``ref kind type speed truck_speed heading direction
country road description reported_at reports``); the feature ``id`` is the ref when
``properties.ref`` is absent. ``Record.line`` is the feature's 1-based index.

This module also holds the helpers the other JSON/XML readers of this package share:
``point_problem`` (coordinate checks), ``head_text`` (sniffing), ``load_json`` and
``apply_properties`` (the CSV property rules, reused by the KML reader for ExtendedData).
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Mapping

from exporters.schema import MOBILE_TYPES, CameraType, DirectionMode, Kind

from .base import FormatError, Reader, Record, Rejection, decode, parse_heading, parse_speed, register

# --------------------------------------------------------------------------- shared helpers


def head_text(head: bytes) -> str:
    """The sniffed head of a file as text (tolerates a multi-byte character cut at the end)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return decode(head[: len(head) - len(head) % 2])[0]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.decode("utf-8", errors="replace")


def number(value, what: str) -> float:
    """A JSON/XML value as a finite float, else ValueError naming ``what`` and the value."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{what} is missing" if value is None or isinstance(value, str) else
                         f"{what} {value!r} is not a number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(result):
        raise ValueError(f"{what} {value!r} is not a finite number")
    return result


def point_problem(lat: float, lon: float, what: str = "position") -> str | None:
    """Why (lat, lon) cannot be a camera position, or None when it can."""
    if not -90.0 <= lat <= 90.0:
        return f"{what}: latitude {lat!r} is outside -90..90"
    if not -180.0 <= lon <= 180.0:
        return f"{what}: longitude {lon!r} is outside -180..180"
    if lat == 0.0 and lon == 0.0:
        return f"{what} 0,0 (null island) is a missing position, not a camera"
    return None


def checked_point(lat_value, lon_value, what: str = "position") -> tuple[float, float]:
    """Validated (lat, lon) from raw values; ValueError with a readable reason otherwise."""
    lat = number(lat_value, f"{what} latitude" if what != "position" else "latitude")
    lon = number(lon_value, f"{what} longitude" if what != "position" else "longitude")
    problem = point_problem(lat, lon, what)
    if problem:
        raise ValueError(problem)
    return lat, lon


def load_json(path: Path):
    """The parsed JSON document of ``path``; FormatError when it is not JSON."""
    with open(path, "rb") as fh:
        text, _ = decode(fh.read())
    if not text.strip():
        raise FormatError(f"{path}: the file is empty; nothing to import")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise FormatError(f"{path}: not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise FormatError(f"{path}: not usable JSON: nested too deeply") from None


def json_head_kind(head: bytes) -> tuple[str, str]:
    """(first character, text) of a JSON-looking head, for the sniffers."""
    text = head_text(head).lstrip()
    return (text[:1], text)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _type(value) -> CameraType:
    try:
        return CameraType.parse(value)
    except ValueError as err:
        if _text(value).lstrip("-").isdigit():
            codes = ", ".join(str(int(t)) for t in CameraType)
            raise ValueError(f"type {value!r} is not a camera type code; valid codes: {codes}") from None
        raise ValueError(str(err).replace("unknown camera type", "type", 1)) from None


def _speed(value, name: str) -> int | None:
    try:
        return parse_speed(value)
    except ValueError as err:
        if "outside" in str(err):
            raise ValueError(f"{name} {value!r} is outside 5-300 km/h") from None
        raise ValueError(f"{name} {value!r} is not a speed in km/h (e.g. 50 or '30 mph')") from None


def _heading(value) -> float | None:
    try:
        return parse_heading(value)
    except ValueError:
        raise ValueError(f"heading {value!r} is not a direction in degrees 0-359 or a compass point") from None


def parse_time(value, name: str = "reported_at") -> datetime:
    """ISO 8601 text -> aware datetime (naive values are taken as UTC)."""
    try:
        result = datetime.fromisoformat(_text(value))
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 date/time (e.g. 2026-03-01T14:30:00Z)") from None
    if result.tzinfo is None:
        result = result.replace(tzinfo=timezone.utc)
    return result


PROPERTY_NAMES = ("ref", "kind", "type", "speed", "truck_speed", "heading", "direction", "country",
                  "road", "description", "reported_at", "reports")


def apply_properties(rec: Record, props: Mapping) -> None:
    """Set ``rec``'s fields from CSV-named properties, with the project CSV's rules.

    Only the properties present (and not blank) change ``rec``; the caller sets the defaults
    (type, kind, speed...) first. Raises ValueError naming the bad property and value.
    """
    def get(name):
        value = props.get(name)
        return None if _blank(value) else value

    if (value := get("ref")) is not None:
        rec.ref = _text(value)
    type_value, kind_value, time_value = get("type"), get("kind"), get("reported_at")
    if type_value is not None:
        rec.type = _type(type_value)
    if kind_value is not None:
        try:
            rec.kind = Kind.parse(kind_value)
        except ValueError as err:
            raise ValueError(str(err)) from None
    elif type_value is not None:
        rec.kind = Kind.MOBILE if rec.type in MOBILE_TYPES else Kind.FIXED
    if kind_value is not None and type_value is None and rec.kind == Kind.MOBILE and rec.type not in MOBILE_TYPES:
        rec.type = CameraType.MOBILE_ZONE if rec.end_lat is not None else CameraType.MOBILE_CAMERA
    if time_value is not None:
        if kind_value is None and type_value is None:
            rec.kind, rec.type = Kind.MOBILE, CameraType.MOBILE_CAMERA
        if rec.kind != Kind.MOBILE:
            raise ValueError(f"reported_at {time_value!r} is only allowed on mobile reports, but kind is "
                             f"{Kind(rec.kind).name.lower()}; set kind to mobile or leave reported_at out")
        rec.reported_at = parse_time(time_value)
    if (value := get("speed")) is not None:
        rec.speed = _speed(value, "speed")
    if (value := get("truck_speed")) is not None:
        rec.truck_speed = _speed(value, "truck_speed")
    if (value := get("heading")) is not None:
        rec.heading = _heading(value)
        rec.dir_mode = DirectionMode.ONE
    if (value := get("direction")) is not None:
        try:
            rec.dir_mode = DirectionMode.parse(value)
        except ValueError as err:
            raise ValueError(str(err).replace("unknown direction mode", "direction", 1)) from None
    if rec.dir_mode != DirectionMode.ALL and rec.heading is None:
        raise ValueError(f"direction {_text(get('direction'))!r} needs a heading, but heading is missing")
    if (value := get("country")) is not None:
        code = _text(value).upper()
        if not (len(code) == 2 and code.isascii() and code.isalpha()):
            raise ValueError(f"country {value!r} is not an ISO 3166-1 alpha-2 code such as DE")
        rec.country = code
    if (value := get("road")) is not None:
        rec.road = _text(value)
    if (value := get("description")) is not None:
        rec.description = _text(value)
    if (value := get("reports")) is not None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = _text(value)
        if isinstance(value, bool) or not text.isdigit():
            raise ValueError(f"reports {value!r} is not a whole number >= 0")
        rec.reports = int(text)


# --------------------------------------------------------------------------- the reader

_FEATURE_COLLECTION = re.compile(r'"type"\s*:\s*"FeatureCollection"')
_FEATURE = re.compile(r'"type"\s*:\s*"Feature"')


def _position(coords, what: str) -> tuple[float, float]:
    """A GeoJSON position ``[lon, lat(, alt)]`` as validated (lat, lon)."""
    if not isinstance(coords, (list, tuple)) or len(coords) < 2:
        raise ValueError(f"{what} {coords!r} is not a [longitude, latitude] position")
    return checked_point(coords[1], coords[0], what)


@register
class GeoJsonReader(Reader):
    name = "geojson"
    label = "GeoJSON FeatureCollection (this project's format)"
    extensions = (".geojson", ".json")

    def sniff(self, head: bytes, path: Path) -> int:
        first, text = json_head_kind(head)
        if first != "{":
            return 0
        if _FEATURE_COLLECTION.search(text):
            return 90
        if _FEATURE.search(text) and '"geometry"' in text:
            return 60
        return 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        data = load_json(path)
        if not isinstance(data, dict):
            raise FormatError(f"{path}: not a GeoJSON FeatureCollection (the top level is a JSON "
                              f"{type(data).__name__}, not an object)")
        kind = data.get("type")
        if kind == "Feature":
            features = [data]
        elif kind == "FeatureCollection":
            features = data.get("features")
            if not isinstance(features, list):
                raise FormatError(f"{path}: the FeatureCollection has no \"features\" list")
        else:
            raise FormatError(f"{path}: not a GeoJSON FeatureCollection (top-level \"type\" is {kind!r})")
        if not features:
            raise FormatError(f"{path}: the FeatureCollection has no features; nothing to import")
        for line, feature in enumerate(features, 1):
            try:
                yield self._record(line, feature)
            except ValueError as err:
                yield Rejection(fname, line, str(err))

    @staticmethod
    def _record(line: int, feature) -> Record:
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            got = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
            raise ValueError(f"item is not a GeoJSON Feature (type {got!r})")
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict):
            raise ValueError("feature has no geometry")
        gtype, coords = geometry.get("type"), geometry.get("coordinates")
        end = None
        if gtype == "Point":
            lat, lon = _position(coords, "position")
        elif gtype == "LineString":
            if not isinstance(coords, list) or len(coords) < 2:
                count = len(coords) if isinstance(coords, list) else 0
                raise ValueError(f"a LineString section needs at least 2 positions, got {count}")
            lat, lon = _position(coords[0], "start")
            end = _position(coords[-1], "end")
        else:
            raise ValueError(f"geometry type {gtype!r} is not supported (use Point, or LineString for a section)")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise ValueError(f"properties must be an object, got {type(props).__name__}")
        rec = Record(line=line, lat=lat, lon=lon)
        if end is not None:
            rec.type = CameraType.SECTION
            rec.end_lat, rec.end_lon = end
        fid = feature.get("id")
        if not _blank(fid):
            rec.ref = _text(fid)
        apply_properties(rec, props)
        return rec
