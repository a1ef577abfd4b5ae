"""What a POI name or a property value says; shared by the readers, not a reader itself.

- ``classify`` reads the names of GPX waypoints and KML placemarks (``max@130``,
  ``Redlight@60``, ``Rotlichtblitzer``...) into a ``NameInfo``; ``classify_poi`` (and
  ``classify_name``, its (type, kind, speed) tuple) the names of Garmin CSV and OV2 records
  (``Fixed camera@50``, lufop ``max @50``, ``max 130``, ``max = ...`` route zones). Both take
  the type from ``keywords.keyword_type``, the one multilingual classifier.
- ``text_speed`` finds a speed in a text (``@50``, ``50 km/h``, ``25 MPH``, ``Speed limit
  35``); ``settle_speeds`` converts a file's speeds to km/h once its unit is known (bare
  numbers: ``--speed-unit``, else ``options.file_unit``).
- ``export_name`` reads the names our exporters write ("Speed A7@50", "Speed 50 A7",
  "Speed 30 mph A40"); a
  device number after the generic label ("Camera E001") is no road (``camera_number``);
  ``says_more``, ``is_street_segment`` and ``join_texts`` decide where a name is kept.
- ``settle_types`` gives the records whose texts say no type the file's type: the mapping's
  ``[defaults] type``, else a type word in the file name ("speed_cameras", "red_light"),
  else OTHER; a file note says which.
- ``apply_properties`` sets a ``Record``'s fields from properties named like the project
  CSV's columns (GeoJSON properties, KML ExtendedData), with the same rules and messages as
  the CSV reader (docs/feed-csv.md, docs/feed-geojson.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from exporters.schema import MOBILE_TYPES, CameraType, DirectionMode, Kind

import numpy as np

from .base import DESCRIPTION_MAX, ROAD_MAX, Record, file_note, fit, parse_heading, parse_speed
from .keywords import fold, keyword_type
from .mapping import ALIASES, normalize
from .options import MPH, SESSION, export_unit, file_unit, posted_kmh
from .osm_tags import PointTags, point_tags

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
    except ValueError as err:
        if "two directions" in str(err):
            raise
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

_PROPERTIES = re.compile(r'"properties"\s*:\s*\{([^{}]*)\}')
_JSON_KEY = re.compile(r'"([^"\\]{1,60})"\s*:')
_KNOWN_NAMES = frozenset(a for names in ALIASES.values() for a in names)
# Properties only the project's geojson reader reads (mobile reports, lorry limits).
_OWN_ONLY = frozenset({"kind", "truck_speed", "reported_at", "reports"})


def foreign_properties(head: str) -> bool:
    """Whether the GeoJSON features in ``head`` (the start of a file, as text) name their
    properties in another vocabulary than the project's (cameraType, nroSerie,
    speedLimitMph...): more of their names are ones the ``table`` reader recognises than the
    project's own, and none is one only the project's format has. Such files are the
    ``table`` reader's (docs/feed-table.md); the ``geojson`` reader would ignore them."""
    keys = {k for body in _PROPERTIES.findall(head) for k in _JSON_KEY.findall(body)}
    own = keys & set(PROPERTY_NAMES)
    foreign = {k for k in keys - own if normalize(k) in _KNOWN_NAMES}
    return bool(foreign) and len(foreign) >= len(own) and not own & _OWN_ONLY


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


# --------------------------------------------------------------------------- speeds in text

_MARK = re.compile(r"@\s*(\d{1,3}(?:[.,]\d+)?)\s*(km/?h|kmh|kph|mph|mi/h)?(?![^\W_])", re.I)
_UNIT_SPEED = re.compile(r"(?<![\w.,])(\d{1,3}(?:[.,]\d+)?)\s*(km/?h|kmh|kph|mph|mi/h)(?![\w/])", re.I)
# "Speed limit 35", "Limit: 50", "maxspeed=30": a number without its unit after a limit word
_LIMIT = re.compile(r"\b(?:speed\s*limit|posted\s*limit|limit|maxspeed|vmax|tempolimit)\s*[:=]?\s*(\d{1,3})(?![\d.,]*\d)",
                    re.I)
_NUMBER_UNIT = re.compile(r"^\s*(\d{1,4}(?:[.,]\d+)?)\s*(km/?h|kmh|kph|mph|mi/h)?\s*$", re.I)
# "Speed camera 30", "Radar fixe 50": a bare number ending a name, right after a camera word.
# Only posted limits (multiples of 5 from 20 to 130): "A40 camera", "camera 2", "Radar Fixe IT
# 130" (a code before the number) and "Blitzer A7 100" say no speed.
_TRAILING = re.compile(r"([^\W\d_]+)\s+(\d{2,3})\s*$")
_CAMERA_LABELS = frozenset({"camera", "cameras", "cam", "radar", "speed", "speedcam", "fixed", "fixe", "fix", "fijo",
                            "fisso", "blitzer", "flitser", "flitspaal", "fotoradar", "kamera", "camara", "gatso",
                            "autovelox", "stationary", "stacjonarny", "trap", "vitesse"})


@dataclass(frozen=True, slots=True)
class TextSpeed:
    """A speed written in a text: the number, its unit ("kmh", "mph", or "" for a bare
    number in the file's unit) and the text as written."""

    number: float
    unit: str
    shown: str

    def kmh(self, file_unit: str = "kmh") -> int:
        """The speed in km/h (bare numbers in ``file_unit``); ValueError outside 5-300 km/h."""
        mph = self.unit == "mph" or (not self.unit and file_unit == "mph")
        value = round(self.number * MPH) if mph else round(self.number)
        if not 5 <= value <= 300:
            raise ValueError(f"speed {self.shown!r} is outside 5-300 km/h"
                             + (" (read as mph)" if mph and self.unit != "mph" else ""))
        return value


def _unit(word: str | None) -> str:
    if not word:
        return ""
    return "mph" if word.lower().startswith("m") else "kmh"


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def text_speed(text: str) -> tuple[TextSpeed | None, str]:
    """The speed a name or description states (``@50``, ``@30 mph``, ``50 km/h``, ``25 MPH``,
    ``Speed limit 35``, ``Speed camera 30``: a limit ending a camera's name) and a note when
    an ``@`` marker is no speed within 5-300 km/h (then no speed)."""
    if not text:
        return None, ""
    mark = _MARK.search(text)
    if mark is not None:
        found = TextSpeed(_number(mark.group(1)), _unit(mark.group(2)), mark.group(0))
        if found.number == 0:  # "@0": no speed given
            return None, ""
        try:
            found.kmh()
        except ValueError:
            return None, f"speed marker {mark.group(0)!r} ignored: not a speed within 5-300 km/h"
        return found, ""
    unit = _UNIT_SPEED.search(text)
    if unit is not None:
        return TextSpeed(_number(unit.group(1)), _unit(unit.group(2)), unit.group(0)), ""
    limit = _LIMIT.search(text)
    if limit is not None:
        found = TextSpeed(float(limit.group(1)), "", limit.group(0))
        try:
            found.kmh()
        except ValueError:
            return None, ""
        return found, ""
    trailing = _TRAILING.search(text)
    if trailing is not None and fold(trailing.group(1)) in _CAMERA_LABELS:
        number = int(trailing.group(2))
        if number % 5 == 0 and 20 <= number <= 130:
            return TextSpeed(float(number), "", trailing.group(2)), ""
    return None, ""


def settle_speeds(records: list[Record], speeds: list[TextSpeed | None], own: bool = False) -> list[tuple[int, str]]:
    """Set ``records[i].speed`` (km/h) from ``speeds[i]`` where one is given.

    Numbers without a unit take the import's ``--speed-unit``, or with ``auto`` the unit
    ``options.file_unit`` decides for the whole file (``own``: a file the project exported,
    whose bare numbers are all in the one unit of its package, km/h or mph:
    ``options.export_unit`` tells which; its mph numbers in km/h countries go back to the km/h
    limit they were written from, ``options.posted_kmh``). Notes a guessed mph and a unit
    warning with ``file_note``.
    Returns (index, reason) for the speeds outside 5-300 km/h, which are left unset.
    """
    state = SESSION.get()
    requested = (state.speed_unit if state is not None and state.speed_unit else "") or "auto"
    bare = np.array([s.number if s is not None and not s.unit else np.nan for s in speeds], dtype=float)
    unit = "kmh"
    if records and not np.all(np.isnan(bare)):
        lat = np.array([r.lat for r in records], dtype=float)
        lon = np.array([r.lon for r in records], dtype=float)
        if own and requested == "auto":
            unit, warning = export_unit(bare, lat, lon), ""
        else:
            unit, warning = file_unit(requested, bare, lat, lon)
        if warning:
            file_note(warning)
        if unit == "mph" and requested == "auto" and not own:
            file_note(f"{int(np.count_nonzero(~np.isnan(bare)))} speed(s) without a unit read as mph: most "
                      f"positions lie in countries that post limits in mph; pass --speed-unit kmh if they are km/h")
    if state is not None:
        state.unit = unit
    problems = []
    in_mph: list[int] = []  # our own export's mph numbers: km/h limits written in mph lose a little
    for i, found in enumerate(speeds):
        if found is None:
            continue
        try:
            records[i].speed = found.kmh(unit)
        except ValueError as err:
            problems.append((i, str(err)))
            continue
        if own and (found.unit == "mph" or (not found.unit and unit == "mph")):
            in_mph.append(i)
    if in_mph:
        back = posted_kmh(np.array([speeds[i].number for i in in_mph], dtype=float),
                          np.array([records[i].lat for i in in_mph], dtype=float),
                          np.array([records[i].lon for i in in_mph], dtype=float))
        for i, kmh in zip(in_mph, back.tolist()):
            records[i].speed = int(kmh)
    return problems


# --------------------------------------------------------------------------- what a name says

# The names the project's exporters write (exporters.common.SHORT_LABELS): "Speed A7@50"
# (GPX, Garmin CSV: the number in the package's one unit, km/h or mph) or "Speed 50 A7",
# "Speed 30 mph A40" (KML, OV2: a bare number is km/h, mph says so): a label, the road, the speed.
EXPORT_LABELS = {
    "Speed": CameraType.SPEED, "Red light": CameraType.RED_LIGHT, "Red light+speed": CameraType.RED_LIGHT_SPEED,
    "Section start": CameraType.SECTION_START, "Section end": CameraType.SECTION_END,
    "Mobile zone": CameraType.MOBILE_ZONE, "Tunnel": CameraType.TUNNEL, "Variable limit": CameraType.VARIABLE_LIMIT,
    "Danger zone": CameraType.DANGER_ZONE, "Level crossing": CameraType.LEVEL_CROSSING,
    "Section": CameraType.SECTION, "Mobile": CameraType.MOBILE_CAMERA, "Police check": CameraType.POLICE_CHECK,
    "Distance": CameraType.DISTANCE, "Bus lane": CameraType.BUS_LANE,
    "Route enforcement": CameraType.ROUTE_ENFORCEMENT, "Camera": CameraType.OTHER,
}
_LABELS = "|".join(re.escape(label) for label in sorted(EXPORT_LABELS, key=len, reverse=True))
_EXPORT_AT = re.compile(rf"^(?P<label>{_LABELS})(?: (?P<road>.*?))?(?:@(?P<speed>\d{{1,3}}))?$")
_EXPORT_SPACE = re.compile(
    rf"^(?P<label>{_LABELS})(?: (?P<speed>\d{{1,3}})(?: (?P<unit>mph))?(?!\S))?(?: (?P<road>.+))?$")


@dataclass(frozen=True, slots=True)
class ExportName:
    """A name as the project's exporters write it."""

    type: CameraType
    kind: Kind
    road: str
    speed: int | None   # as written
    unit: str = ""      # "kmh" or "mph" when the name says; "" for "@NN" (the package's unit)


def export_name(name: str, marker: str = "@") -> ExportName | None:
    """``name`` read as one of our exports' names ("Speed A7@50" with ``marker="@"``, "Speed 50
    A7" or "Speed 30 mph A40" with ``marker=" "``), or None when it does not have that shape."""
    match = (_EXPORT_AT if marker == "@" else _EXPORT_SPACE).match(name)
    if match is None:
        return None
    type_ = EXPORT_LABELS[match.group("label")]
    speed = int(match.group("speed")) if match.group("speed") else None
    unit = "" if marker == "@" else (match.group("unit") or "kmh")
    if speed is not None and not 5 <= (round(speed * MPH) if unit == "mph" else speed) <= 300:
        return None
    if type_ == CameraType.OTHER and match.group("road") and camera_number(match.group("road")):
        return None  # "Camera E001": a word for any camera and the device's number
    kind = Kind.MOBILE if type_ in MOBILE_TYPES else Kind.FIXED
    return ExportName(type_, kind, (match.group("road") or "").strip(), speed, unit)


# "E001", "ASE-017", "0012" (zero-padded), "#12", "No. 5", "Nr 5", "ID 7": a device's number.
# Road numbers are seldom zero-padded (A7, M25, I-95, D 1075; but Spain's BA-060, OU-0209), so
# only a name of the generic label ("Camera E001") is read as label and number.
_CAMERA_NUMBER = re.compile(r"^(?:[^\W\d_]{0,4}[-_ ]?0\d+|(?:#|n[or]\.?|n°|id)\s*\d+)$", re.I)


def camera_number(text: str) -> bool:
    """Whether ``text`` is a device number ("E001", "#12", "No. 5") rather than a road."""
    return bool(_CAMERA_NUMBER.match(text.strip()))


_WORDS = re.compile(r"[^\W\d_]+")
# Words of a name that only say what the camera is (the type and speed carry them).
LABEL_WORDS = frozenset({
    "max", "maxi", "speed", "fixed", "fix", "camera", "cam", "cams", "radar", "average", "avg", "section",
    "moyenne", "stop", "red", "redlight", "light", "lights", "tunnel", "mobile", "mobil", "limit", "vitesse",
    "feu", "feux", "rouge", "start", "end", "fin", "blitzer", "flitser", "zone", "and", "police", "check",
    "km", "h", "kmh", "kph", "mph", "point", "site", "trap", "gatso", "control", "kamera", "speedcam",
    "new", "de", "du", "la", "le", "et",
})
_SEGMENT = re.compile(r"\S\s+(?:from|between)\s+\S.*\s(?:to|and)\s+\S|\S\s+(?:zwischen)\s+\S.*\sund\s+\S"
                      r"|\S\s+von\s+\S.*\sbis\s+\S", re.I)


def strip_speed(name: str) -> str:
    """A name without its speed marker (``@50``, ``50 km/h``)."""
    text = _MARK.sub(" ", name)
    text = _UNIT_SPEED.sub(" ", text)
    return " ".join(text.split())


def says_more(name: str) -> bool:
    """Whether ``name`` says more than a camera type and a speed ("max@130" does not,
    "Blitzer München@50" does)."""
    return any(word not in LABEL_WORDS for word in _WORDS.findall(fold(strip_speed(name))))


def is_street_segment(name: str) -> bool:
    """"Main St from 1st Ave to Tunnel Ave", "B27 zwischen A und B": a stretch of street."""
    return bool(_SEGMENT.search(name))


def join_texts(*parts: str) -> str:
    """The non-empty, distinct parts joined with ": " (a name and its description)."""
    out: list[str] = []
    for part in parts:
        part = (part or "").strip()
        if part and part not in out:
            out.append(part)
    return ": ".join(out)


# --------------------------------------------------------------------------- GPX / KML names


@dataclass(frozen=True, slots=True)
class NameInfo:
    """What a POI name says: camera type, kind, speed (km/h, a bare number read as km/h),
    the speed as written (``text``: its unit may be the file's) and why a speed was dropped."""

    type: CameraType
    kind: Kind
    speed: int | None
    matched: bool      # a keyword or a speed (even a dropped one) was found in the name
    note: str = ""
    text: TextSpeed | None = None
    typed: bool = True  # the name or the description says the type (a type or speed word, a speed)


def _kind(type_: CameraType) -> Kind:
    return Kind.MOBILE if type_ in MOBILE_TYPES else Kind.FIXED


def classify(name: str | None, fallback: str | None = "") -> NameInfo:
    """Camera type, kind and speed from a POI name such as ``max@130`` or ``Redlight@60``.

    The type is what ``keywords.keyword_type`` finds in the name (multilingual: red light,
    Rotlicht, semaforo, average, tronçon, mobile, tunnel as the camera's word...), SPEED when
    it finds none; ``typed`` is False when neither text says a type, a speed word or a speed
    (the reader then applies ``settle_types``). The speed is ``@NN`` (optionally ``km/h`` or
    ``mph``) or a number with its unit (``50 km/h``, ``25 MPH``). ``fallback`` (the
    description) gives the type when the name has neither a keyword nor a speed, and the
    speed when the name has none.
    """
    name = (name or "").strip()
    found = keyword_type(name, False) if name else None
    speed, note = text_speed(name)
    matched = found is not None or speed is not None or bool(note)
    if fallback and not matched:
        found = keyword_type(fallback, False)
    if fallback and speed is None:
        speed, other = text_speed(fallback)
        note = note or other
    typed = found is not None or speed is not None or bool(note) or says_speed(name) or says_speed(fallback)
    type_ = found if found is not None else CameraType.SPEED
    kmh = speed.kmh() if speed is not None else None
    return NameInfo(type_, _kind(type_), kmh, matched, note, speed, typed)


_OSM_ID = re.compile(r"^(?:node|way|relation)/\d+$")


def named_point(line: int, lat: float, lon: float, name: str, description: str, tags: dict,
                exported: ExportName | None = None,
                ) -> tuple[Record, TextSpeed | None, PointTags | None, NameInfo]:
    """A GPX waypoint's or KML placemark's record from its name, description and OSM tags.

    The type, kind and speed come from the name (``classify``), then from the tags (the ``osm``
    reader's rules, ``osm_tags.point_tags``), which also give the ref, truck speed, heading and
    description. ``exported`` is the name read as one of our exports' names (the caller reads it
    only for its own exports): its road is kept, and a speed with its unit ("Speed 50 A7") is the
    speed. Otherwise an OSM id name is the ref, a street segment is the road and a name that says
    more than a type and a speed goes before the description. Returns the record (road and
    description fitted), the speed its texts state (set once the file's unit is known), what
    the tags say (None without tags) and what the name says (``typed``...)."""
    info = classify(name, description)
    rec = Record(line=line, lat=lat, lon=lon, type=info.type, kind=info.kind)
    speed = info.text
    if info.note:
        rec.notes.append(info.note)
    road = ""
    point = point_tags(tags) if tags else None
    if exported is not None:
        road = exported.road
        if exported.speed is not None and exported.unit:  # "Speed 50 A7" is km/h, "Speed 30 mph A40" mph
            speed = TextSpeed(float(exported.speed), exported.unit, str(exported.speed))
    elif _OSM_ID.match(name):
        rec.ref = name
    elif point is not None and name in (" ".join(str(tags.get(k) or "").split()) for k in ("name", "ref")):
        pass  # the tags' own text (name; ref) is the description below
    elif is_street_segment(name):
        road = name
    elif says_more(name):
        description = join_texts(strip_speed(name), description)
    if point is not None:
        if not info.matched or tags.keys() & {"enforcement", "camera:type", "tunnel"}:
            rec.type, rec.kind = point.type, point.kind
        if point.speed is not None:
            rec.speed, speed = point.speed, None
        rec.truck_speed = point.truck_speed
        rec.heading, rec.dir_mode = point.heading, point.dir_mode
        rec.ref = point.ref or rec.ref
        description = join_texts(point.description, description)
        rec.notes.extend(point.notes)
    rec.road = fit(road, ROAD_MAX, "road", rec.notes)
    rec.description = fit(description, DESCRIPTION_MAX, "description", rec.notes)
    return rec, speed, point, info


# --------------------------------------------------------------------------- Garmin CSV / OV2 names

# Names starting with one of these may give the speed as a trailing number ("max 130").
NAME_KEYWORDS = frozenset({
    "max", "maxi", "speed", "fixed", "fix", "camera", "cam", "radar", "average", "avg", "section",
    "moyenne", "stop", "red", "redlight", "tunnel", "mobile", "limit", "vitesse",
})


@dataclass(frozen=True, slots=True)
class PoiName:
    """What a Garmin CSV or OV2 name says; ``text`` is the speed as written."""

    type: CameraType
    kind: Kind
    speed: int | None
    text: TextSpeed | None
    typed: bool = True  # the name says the type (a type or speed word, a speed)


@lru_cache(maxsize=16384)
def classify_poi(name: str) -> PoiName:
    """A POI name (``Fixed camera@50``, lufop ``max @50``, ``max 130``, ``max =`` route-zone
    vertices) -> type, kind and speed. ValueError on a speed that cannot be one."""
    base = name.strip()
    speed = None
    if "@" in base:
        base, _, tail = base.rpartition("@")
        base = base.strip()
        if tail.strip():
            match = _NUMBER_UNIT.match(tail)
            if match is not None:
                speed = TextSpeed(_number(match.group(1)), _unit(match.group(2)), tail.strip())
            try:
                if speed is None:
                    raise ValueError
                if speed.number == 0:  # "@0": no speed given
                    speed = None
                else:
                    speed.kmh()
            except ValueError:
                raise ValueError(f"speed {tail.strip()!r} after '@' in name {name!r} is not a speed "
                                 f"in 5-300 km/h") from None
    lower = base.lower()
    words = _WORDS.findall(lower)
    if speed is None and "@" not in name and words and words[0] in NAME_KEYWORDS:
        last = lower.rsplit(None, 1)[-1] if " " in lower else ""
        if last.isdigit() and not last.startswith("0"):  # "Camera 012" is a number, no speed
            speed = TextSpeed(float(last), "", last)
            try:
                speed.kmh()
            except ValueError:
                raise ValueError(f"speed {last!r} at the end of name {name!r} is not a speed in 5-300 km/h") from None
    if speed is None:
        speed, _ = text_speed(base)
    if lower.startswith(("max =", "max !")):
        return PoiName(CameraType.SECTION, Kind.FIXED, speed.kmh() if speed else None, speed)
    found = keyword_type(base, False)
    type_ = found or CameraType.SPEED
    typed = found is not None or speed is not None or says_speed(base)
    return PoiName(type_, _kind(type_), speed.kmh() if speed else None, speed, typed)


def classify_name(name: str) -> tuple[CameraType, Kind, int | None]:
    """A POI name -> (camera type, kind, speed km/h or None). ValueError on a bad speed."""
    found = classify_poi(name)
    return found.type, found.kind, found.speed


# --------------------------------------------------------------------------- a file's type

# Words that make a POI name a speed camera's ("max 50", "Radar A7", "Blitzer", "Fixed camera").
_SPEED_WORDS = (r"speed\w*|radar\w*|blitzer\w*|flitser\w*|flitspa\w*|gatso|vitesse|geschwindigkeit\w*"
                r"|velocidad|velocita|velocidade|snelheid\w*|autovelox|fotoradar\w*|radary|tempo\w*")
_SPEED_NAME = re.compile(rf"\b(?:{_SPEED_WORDS}|max|maxi|fixed|fix|laser)\b")
_SPEED_FILE = re.compile(rf"\b(?:{_SPEED_WORDS})\b")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NOT_WORD = re.compile(r"[\W_]+")


def says_speed(text: str | None) -> bool:
    """Whether a POI name or description uses a speed camera's word (max, speed, radar, Blitzer...)."""
    return bool(text) and _SPEED_NAME.search(fold(text)) is not None


def file_name_type(path) -> CameraType | None:
    """The camera type a file's name says ("ca_ottawa_speed_cameras" -> SPEED,
    "red_light_cameras" -> RED_LIGHT), or None."""
    words = fold(_NOT_WORD.sub(" ", _CAMEL.sub(" ", Path(path).stem)))
    found = keyword_type(words, False)
    if found is not None:
        return found
    return CameraType.SPEED if _SPEED_FILE.search(words) else None


def mapping_default_type() -> CameraType | None:
    """The ``[defaults] type`` of the import's mapping (``--map`` or the source's), or None."""
    state = SESSION.get()
    defaults = getattr(state.mapping, "defaults", None) if state is not None else None
    value = defaults.get("type") if isinstance(defaults, Mapping) else getattr(defaults, "type", None)
    if is_blank(value):
        return None
    try:
        return CameraType.parse(value)
    except ValueError:
        return None  # the mapping's own validation names a bad type


def settle_types(records: list[Record], path) -> None:
    """Give ``records`` (those whose texts say no type) one type for the file, with a note.

    The type is the mapping's ``[defaults] type``, else the type the file name says, else
    OTHER (nothing in the file says these are speed cameras).
    """
    if not records:
        return
    name = Path(path).name
    count = f"{len(records)} record(s) whose names say no camera type"
    type_ = mapping_default_type()
    if type_ is not None:
        note = f"{count} read as {type_.slug}: the mapping's [defaults] type"
        state = SESSION.get()
        if state.used is None:
            state.used = state.mapping  # stored on the source: its next imports use it too
    elif (type_ := file_name_type(path)) is not None:
        note = (f"{count} read as {type_.slug}: the type the file name {name!r} says; give a mapping "
                f"file a [defaults] type if that is wrong")
    else:
        type_ = CameraType.OTHER
        note = (f"{count} read as other: neither the names nor the file name {name!r} say a type; give "
                f"the type in a mapping file ([defaults] type = \"speed\")")
    kind = _kind(type_)
    for rec in records:
        rec.type, rec.kind = type_, kind
    file_note(note)
