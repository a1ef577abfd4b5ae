"""Feed readers: one module per input format, registered by a decorator.

A reader turns a file into ``Record`` objects (one camera, section or mobile report each)
and ``Rejection`` objects (a row it cannot use, with the reason). Readers are plain Python
(no Django) so they are fast and testable on their own; validation against the database,
country assignment, deduplication and writing happen in ``cameras.importing``.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from exporters.schema import CameraType, DirectionMode, Kind


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


def register(cls):
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    if cls.name in READERS:
        raise ValueError(f"duplicate feed format {cls.name!r} ({cls.__name__} and {type(READERS[cls.name]).__name__})")
    READERS[cls.name] = cls()
    return cls


def load_readers():
    import importlib
    import pkgutil

    from cameras import formats

    for info in pkgutil.iter_modules(formats.__path__):
        if info.name != "base":
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

    ``info`` is what ``gpx.classify(name, description)`` found (type, kind, speed, whether a
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
