"""What a POI name or a property value says; shared by the readers, not a reader itself.

``classify`` reads the Garmin POI Loader style names of GPX and KML waypoints (``max@130``,
``Redlight@60``, ``Mobile``) into a ``NameInfo``; ``classify_name`` reads the names of
Garmin CSV and OV2 records (``Fixed camera@50``, lufop ``max @50``, ``max = ...`` route
zones) into (type, kind, speed). ``apply_properties`` sets a ``Record``'s fields from
properties named like the project CSV's columns (GeoJSON properties, KML ExtendedData), with
the same rules and messages as the CSV reader (docs/feed-csv.md, docs/feed-geojson.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Mapping

from exporters.schema import MOBILE_TYPES, CameraType, DirectionMode, Kind

from .base import Record, parse_heading, parse_speed, speed_value

# --------------------------------------------------------------------------- properties


def is_blank(value) -> bool:
    """None or a string of whitespace: a property that is not given."""
    return value is None or (isinstance(value, str) and not value.strip())


def clean_text(value) -> str:
    """A property value as stripped text ("" for None)."""
    return "" if value is None else str(value).strip()


def _type(value) -> CameraType:
    try:
        return CameraType.parse(value)
    except ValueError as err:
        if clean_text(value).lstrip("-").isdigit():
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
        result = datetime.fromisoformat(clean_text(value))
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
        return None if is_blank(value) else value

    if (value := get("ref")) is not None:
        rec.ref = clean_text(value)
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
        raise ValueError(f"direction {clean_text(get('direction'))!r} needs a heading, but heading is missing")
    if (value := get("country")) is not None:
        code = clean_text(value).upper()
        if not (len(code) == 2 and code.isascii() and code.isalpha()):
            raise ValueError(f"country {value!r} is not an ISO 3166-1 alpha-2 code such as DE")
        rec.country = code
    if (value := get("road")) is not None:
        rec.road = clean_text(value)
    if (value := get("description")) is not None:
        rec.description = clean_text(value)
    if (value := get("reports")) is not None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = clean_text(value)
        if isinstance(value, bool) or not text.isdigit():
            raise ValueError(f"reports {value!r} is not a whole number >= 0")
        rec.reports = int(text)


# --------------------------------------------------------------------------- GPX / KML names


@dataclass(frozen=True, slots=True)
class NameInfo:
    """What a POI name says: camera type, kind, speed (km/h) and why a speed was dropped."""

    type: CameraType
    kind: Kind
    speed: int | None
    matched: bool      # a keyword or a speed marker was found
    note: str = ""


_SPEED_MARK = re.compile(r"@\s*(\d{1,3}(?:[.,]\d+)?\s*(?:km/?h|mph)?)", re.I)
_MOBILE = re.compile(r"\bmobil(?:e|er|es)?\b", re.I)
_POLICE = re.compile(r"\bpolice\b|\bcheck\s*point\b", re.I)
_SECTION = re.compile(r"\b(?:average|avg|section|moyenne|tron[cç]on|trajectcontrole|tutor)\b", re.I)
_SECTION_END = re.compile(r"\b(?:end|fin|ende)\b", re.I)
_TUNNEL = re.compile(r"\btunnel\b", re.I)
_RED = re.compile(r"\b(?:stop|red(?:[\s_-]*light)?|feux?|rotlicht|ampel)\b", re.I)
_SPEED_WORD = re.compile(r"\b(?:speed|vitesse)\b", re.I)


def _keyword_type(text: str) -> tuple[CameraType, Kind] | None:
    if _MOBILE.search(text):
        return CameraType.MOBILE_CAMERA, Kind.MOBILE
    if _POLICE.search(text):
        return CameraType.POLICE_CHECK, Kind.MOBILE
    if _SECTION.search(text):
        return (CameraType.SECTION_END if _SECTION_END.search(text) else CameraType.SECTION_START), Kind.FIXED
    if _TUNNEL.search(text):
        return CameraType.TUNNEL, Kind.FIXED
    if _RED.search(text):
        return (CameraType.RED_LIGHT_SPEED if _SPEED_WORD.search(text) else CameraType.RED_LIGHT), Kind.FIXED
    return None


def classify(name: str | None, fallback: str | None = "") -> NameInfo:
    """Camera type, kind and speed from a POI name such as ``max@130`` or ``Redlight@60``.

    ``@NN`` (optionally ``km/h`` or ``mph``) is the speed. Keywords, first match wins:
    mobile -> MOBILE_CAMERA (kind mobile); police / checkpoint -> POLICE_CHECK (mobile);
    average / section / moyenne -> SECTION_START (SECTION_END with end / fin / ende);
    tunnel -> TUNNEL; stop / red / redlight / feu -> RED_LIGHT (RED_LIGHT_SPEED with
    speed / vitesse); anything else -> SPEED. When ``name`` has neither a keyword nor a speed
    marker, ``fallback`` (e.g. the description) is classified instead.
    """
    name = (name or "").strip()
    found = _keyword_type(name)
    mark = _SPEED_MARK.search(name)
    if found is None and mark is None and fallback:
        found = _keyword_type(fallback)
        mark = _SPEED_MARK.search(fallback)
    type_, kind = found or (CameraType.SPEED, Kind.FIXED)
    speed, note = None, ""
    if mark:
        try:
            speed = parse_speed(mark.group(1))
        except ValueError:
            note = f"speed marker {mark.group(0)!r} ignored: not a speed within 5-300 km/h"
    return NameInfo(type_, kind, speed, found is not None or mark is not None, note)


# --------------------------------------------------------------------------- Garmin CSV / OV2 names

_WORDS = re.compile(r"[^\W\d_]+")
# Names starting with one of these may give the speed as a trailing number ("max 130").
NAME_KEYWORDS = frozenset({
    "max", "maxi", "speed", "fixed", "fix", "camera", "cam", "radar", "average", "avg", "section",
    "moyenne", "stop", "red", "redlight", "tunnel", "mobile", "limit", "vitesse",
})
RED_WORDS = frozenset({"stop", "red", "redlight", "rouge"})
SECTION_WORDS = frozenset({"average", "avg", "section", "moyenne"})
@lru_cache(maxsize=16384)
def classify_name(name: str) -> tuple[CameraType, Kind, int | None]:
    """A POI name -> (camera type, kind, speed km/h or None). ValueError on a bad speed."""
    base = name.strip()
    speed = None
    if "@" in base:
        base, _, tail = base.rpartition("@")
        base = base.strip()
        if tail.strip():
            try:
                speed = speed_value(tail)
            except ValueError:
                raise ValueError(f"speed {tail.strip()!r} after '@' in name {name!r} is not a speed "
                                 f"in 5-300 km/h") from None
    lower = base.lower()
    words = _WORDS.findall(lower)
    if speed is None and "@" not in name and len(words) >= 1 and words[0] in NAME_KEYWORDS:
        last = lower.rsplit(None, 1)[-1] if " " in lower else ""
        if last.isdigit():
            try:
                speed = speed_value(last)
            except ValueError:
                raise ValueError(f"speed {last!r} at the end of name {name!r} is not a speed in 5-300 km/h") from None
    if lower.startswith(("max =", "max !")):
        return CameraType.SECTION, Kind.FIXED, speed
    wordset = set(words)
    if "mobile" in wordset or "mobil" in wordset:
        return CameraType.MOBILE_CAMERA, Kind.MOBILE, speed
    if wordset & RED_WORDS:
        kind_type = CameraType.RED_LIGHT_SPEED if "speed" in wordset else CameraType.RED_LIGHT
        return kind_type, Kind.FIXED, speed
    if wordset & SECTION_WORDS:
        end = "end" in wordset or "fin" in wordset
        return (CameraType.SECTION_END if end else CameraType.SECTION_START), Kind.FIXED, speed
    if "tunnel" in wordset:
        return CameraType.TUNNEL, Kind.FIXED, speed
    return CameraType.SPEED, Kind.FIXED, speed
