"""Feed readers: one module per input format, registered by a decorator.

A reader turns a file into ``Record`` objects (one camera, section or mobile report each)
and ``Rejection`` objects (a row it cannot use, with the reason). Readers are plain Python
(no Django) so they are fast and testable on their own; validation against the database,
country assignment, deduplication and writing happen in ``cameras.importing``.

Besides the registry, this module holds the small helpers every reader may use: decoding
(``decode``, ``read_text``, ``head_text``, ``first_line``, ``header_fields``, ``load_json``,
``json_head_kind``), value checks with readable messages (``checked_point``,
``point_problem``, ``position``, ``speed_value``, ``heading_value``, ``parse_speed``,
``parse_heading``), ``fit`` with the column limits ``ROAD_MAX`` / ``DESCRIPTION_MAX``, and
``bearing``. Two helper modules, which are not readers, hold the rest:
``cameras.formats.xml_helpers`` (safe XML parsing and sniffing for the XML readers) and
``cameras.formats.text_helpers`` (what a POI name or a property says: ``classify``,
``classify_name``, ``apply_properties``). Readers take shared code only from these three
modules, never from one another.
"""

from __future__ import annotations

import codecs
import importlib
import json
import math
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from exporters.schema import CameraType, DirectionMode, Kind


# Column sizes of the camera table (cameras.models.Camera); longer text is cut and noted.
ROAD_MAX = 200
DESCRIPTION_MAX = 500



class FormatError(Exception):
    """The file as a whole cannot be read (unknown format, empty, not what it claims)."""


@dataclass(slots=True)
class Record:
    line: int                       # line number (text formats) or record number (1-based)
    lat: float
    lon: float
    type: int = CameraType.SPEED
    kind: int = Kind.FIXED
    ref: str = ""                   # the source's own id; "" = key by position
    speed: int | None = None        # km/h
    truck_speed: int | None = None  # km/h
    heading: float | None = None    # degrees clockwise from north of the enforced traffic
    dir_mode: int = DirectionMode.ALL
    road: str = ""
    description: str = ""
    country: str = ""               # ISO alpha-2 if the source states it (a hint only)
    end_lat: float | None = None    # end point of a section / stretch
    end_lon: float | None = None
    reported_at: datetime | None = None  # set on mobile *reports* (aggregated into zones)
    reports: int = 0
    notes: list[str] = field(default_factory=list)  # fixes applied while reading


@dataclass(slots=True)
class Rejection:
    file: str
    line: int
    reason: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.reason}"


class Reader:
    """Base class. Subclasses set ``name`` and implement ``sniff`` and ``read``."""

    name: str = ""
    label: str = ""
    extensions: tuple[str, ...] = ()

    def sniff(self, head: bytes, path: Path) -> int:
        """Confidence 0-100 that ``head`` (the first 64 KiB) is this format."""
        return 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        raise NotImplementedError


READERS: dict[str, Reader] = {}
# Modules of this package that hold shared code, not readers.
HELPER_MODULES = frozenset({"base", "xml_helpers", "text_helpers"})


def register(cls):
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    if cls.name in READERS:
        raise ValueError(f"duplicate feed format {cls.name!r} ({cls.__name__} and {type(READERS[cls.name]).__name__})")
    READERS[cls.name] = cls()
    return cls


def load_readers():
    # discovery by path: every module of this folder but the helpers is a reader
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name not in HELPER_MODULES:
            importlib.import_module(f"cameras.formats.{info.name}")
    return READERS


def get_reader(name: str) -> Reader:
    load_readers()
    try:
        return READERS[name]
    except KeyError:
        raise FormatError(f"unknown format {name!r}; valid formats: auto, {', '.join(sorted(READERS))}") from None


def detect(path: Path) -> Reader:
    """Pick the reader whose ``sniff`` is most confident about the file's content."""
    load_readers()
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise FormatError(f"{path}: the file is empty; nothing to import")
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise FormatError(f"{path}: the file holds only whitespace; nothing to import")
    scored = sorted(((r.sniff(head, path), r.name) for r in READERS.values()), reverse=True)
    best_score, best = scored[0]
    if best_score <= 0:
        raise FormatError(
            f"{path}: could not recognise the format from its content; pass --format with one of "
            f"{', '.join(sorted(READERS))}"
        )
    return READERS[best]


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM, or UTF-16 with BOM); fall back to Windows-1252.

    A file that declares UTF-8 but is really Latin-1 is read correctly this way.
    Returns (text, encoding used).
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def named_record(line: int, lat: float, lon: float, name: str, description: str, info) -> Record:
    """A camera whose type, kind and speed are what its name says.

    ``info`` is what ``text_helpers.classify(name, description)`` found (type, kind, speed, whether a
    keyword or speed marker ``matched``, a ``note`` on a dropped speed). A name that says
    nothing (a free text such as "A1 km 23") is the description when there is none.
    """
    if not description and not info.matched:
        description = name
    rec = Record(line=line, lat=lat, lon=lon, type=info.type, kind=info.kind, speed=info.speed,
                 description=description)
    if info.note:
        rec.notes.append(info.note)
    return rec


def read_text(path: Path) -> tuple[str, str]:
    with open(path, "rb") as fh:
        return decode(fh.read())


def parse_speed(value) -> int | None:
    """'50', '50 km/h', '30 mph', '' -> km/h int or None. Raises ValueError on nonsense."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in {"", "0", "none", "null", "nan", "signals", "walk", "variable", "-"}:
        return None
    factor = 1.0
    if text.endswith("mph"):
        factor, text = 1.609344, text[:-3].strip()
    elif text.endswith("km/h") or text.endswith("kmh"):
        text = text.rstrip("km/h").strip()
    number = float(text.replace(",", "."))
    kmh = int(round(number * factor))
    if not 5 <= kmh <= 300:
        raise ValueError(f"speed {value!r} is outside 5-300 km/h")
    return kmh


COMPASS = {name: i * 22.5 for i, name in enumerate(
    "N NNE NE ENE E ESE SE SSE S SSW SW WSW W WNW NW NNW".split())}
COMPASS.update({"NORTH": 0.0, "EAST": 90.0, "SOUTH": 180.0, "WEST": 270.0})


def parse_heading(value) -> float | None:
    """Degrees or a compass point -> degrees in [0, 360), None when absent."""
    if value is None:
        return None
    text = str(value).strip()
    if text == "":
        return None
    upper = text.upper()
    if upper in COMPASS:
        return COMPASS[upper]
    number = float(text.replace(",", "."))
    if not -360 <= number <= 720:
        raise ValueError(f"heading {value!r} is not in degrees 0-359")
    return number % 360.0


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


def coordinate(text: str, name: str, limit: float) -> float:
    """``text`` as degrees within ±limit, else ValueError with a readable reason."""
    try:
        value = float(text)
    except (ValueError, TypeError):
        text = "" if text is None else str(text).strip()
        if not text:
            raise ValueError(f"{name} is empty") from None
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not -limit <= value <= limit:  # also false for NaN
        raise ValueError(f"{name} {str(text).strip()!r} is outside -{limit:g}..{limit:g}")
    return value


def position(lat_text: str, lon_text: str) -> tuple[float, float]:
    """Validated (lat, lon); rejects out-of-range values and the (0, 0) null-island point."""
    lat = coordinate(lat_text, "latitude", 90)
    lon = coordinate(lon_text, "longitude", 180)
    if lat == 0.0 and lon == 0.0:
        raise ValueError("position 0,0 (null island) is a missing position, not a camera")
    return lat, lon


def speed_value(text: str, name: str = "speed") -> int | None:
    """``parse_speed`` with a message that names the column and the bad value."""
    try:
        return parse_speed(text)
    except ValueError as err:
        if "outside" in str(err):
            raise ValueError(f"{name} {text.strip()!r} is outside 5-300 km/h") from None
        raise ValueError(f"{name} {text.strip()!r} is not a number (km/h)") from None


def heading_value(text: str, name: str = "heading") -> float | None:
    try:
        return parse_heading(text)
    except ValueError:
        raise ValueError(f"{name} {text.strip()!r} is not a direction in degrees 0-359 or a compass point") from None


def fit(text: str, limit: int, what: str, notes: list[str]) -> str:
    """Cut ``text`` to ``limit`` characters, noting the cut in ``notes``."""
    if len(text) <= limit:
        return text
    notes.append(f"{what} cut from {len(text)} to {limit} characters")
    return text[: limit - 1] + "…"


def first_line(head: bytes) -> str:
    """The first non-empty line of a file head, decoded (for sniffing)."""
    text, _ = decode(head)
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def header_fields(line: str, delimiter: str = ",") -> list[str]:
    """Header cells, lower-cased and stripped of whitespace and quotes."""
    return [cell.strip().strip('"').strip().lower() for cell in line.split(delimiter)]


def bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing from point 1 to point 2, degrees clockwise from north."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlon = math.radians(lon2 - lon1)
    y = math.sin(dlon) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlon)
    return math.degrees(math.atan2(y, x)) % 360.0
