"""Feed readers: one module per input format, registered by a decorator.

A reader turns a file into ``Record`` objects (one camera, section or mobile report each)
and ``Rejection`` objects (a row it cannot use, with the reason). Readers are plain Python
(no Django) so they are fast and testable on their own; validation against the database,
country assignment, deduplication and writing happen in ``cameras.importing``.

Besides the registry, this module holds the small helpers every reader may use: decoding
(``decode``, ``read_text``, ``head_text``, ``first_line``, ``header_fields``, ``load_json``,
``json_head_kind``), reading CSV line by line (``csv_rows``: a stray quote costs one row,
never the rest of the file), file-level notes (``file_note``, collected by ``collecting_notes``
for the import report), value checks with readable messages (``checked_point``,
``point_problem``, ``position``, ``speed_value``, ``heading_value``, ``parse_speed``,
``parse_heading``), ``fit`` with the column limits ``ROAD_MAX`` / ``DESCRIPTION_MAX``, and
``bearing``. The other helper modules, which are not readers, hold the rest:
``xml_helpers`` (safe XML parsing and sniffing), ``text_helpers`` (what a POI name or a
property says), ``keywords`` (camera types said in words), ``osm_tags`` (OpenStreetMap tag
rules), ``mapping`` (column mappings of tables) and ``options`` (the import's mapping and
speed unit). Readers take shared code only from these modules (``HELPER_MODULES``), never
from one another.
"""

from __future__ import annotations

import codecs
import csv
import functools
import importlib
import json
import math
import pkgutil
import re
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

import charset_normalizer

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
HELPER_MODULES = frozenset({"base", "xml_helpers", "text_helpers", "mapping", "keywords", "options", "osm_tags"})


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


# --------------------------------------------------------------------------- file notes

_NOTES: ContextVar[list | None] = ContextVar("reader_file_notes", default=None)


@contextmanager
def collecting_notes():
    """Collect the ``file_note`` calls made while reading (the import report shows them).

    Yields the list the notes go to: ``(line, text)`` pairs, line 0 for the whole file.
    """
    notes: list[tuple[int, str]] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def file_note(text: str, line: int = 0) -> None:
    """Note something about the file as a whole (its encoding, a repaired declaration...)."""
    notes = _NOTES.get()
    if notes is not None:
        notes.append((line, text))


# --------------------------------------------------------------------------- decoding

# Legacy encodings of camera lists, most common first (ties in ``_plausibility`` go to the
# earlier one: a Western text decodes the same in cp1252 and cp1250).
LEGACY_ENCODINGS = ("cp1252", "cp1250", "cp1251", "cp437", "cp850", "cp866", "koi8_r",
                    "iso8859_2", "iso8859_5", "iso8859_15", "iso8859_7", "cp1253", "cp1254", "iso8859_9")
_SAMPLE = re.compile(r"[^\s,;\"'|<>=/()\[\]{}:]*[^\x00-\x7f][^\s,;\"'|<>=/()\[\]{}:]*")
_COMMON_SYMBOLS = frozenset("€°«»–—‘’“”…·§²³µ×±¿¡©®ºª")


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else ""


def _plausibility(text: str) -> int:
    """How much the non-ASCII words of ``text`` look like words of one script and language.

    Letters score, symbols inside words, scripts mixed in a word, capitals after small
    letters and Latin words made mostly of accented letters cost.
    """
    score = 0
    for n, match in enumerate(_SAMPLE.finditer(text)):
        if n >= 5000:
            break
        word = match.group(0)
        scripts, accented, letters = set(), 0, 0
        for i, ch in enumerate(word):
            if ch.isalpha():
                letters += 1
                if ch.isascii():
                    scripts.add("LATIN")
                    continue
                script = _script(ch)
                scripts.add(script)
                accented += script == "LATIN"
                score += 1
                if ch.isupper() and i and word[i - 1].isalpha() and word[i - 1].islower():
                    score -= 2
            elif "\x80" <= ch <= "\x9f":  # C1 control: never in a camera list
                score -= 5
            elif not ch.isascii():
                inside = 0 < i < len(word) - 1 and word[i - 1].isalpha() and word[i + 1].isalpha()
                if inside:
                    score -= 3
                elif ch not in _COMMON_SYMBOLS:
                    score -= 2
        if len(scripts) > 1:
            score -= 3 * len(word)
        if accented >= 4 and accented * 3 > letters * 2:
            score -= 2 * accented
    return score


def detect_encoding(data: bytes) -> str:
    """The legacy encoding ``data`` (not UTF-8) is most plausibly written in.

    Each of ``LEGACY_ENCODINGS`` and charset-normalizer's own guess (for languages outside
    that list) is scored for plausible words (``_plausibility``): short camera lists need
    this, a detector's statistics alone confuse cp1250/cp1252 or cp437/cp850 on them.
    """
    try:
        guess = charset_normalizer.from_bytes(data[:1_000_000]).best()
    except Exception:  # the detector is a heuristic; without it the fixed list is scored
        guess = None
    candidates = list(LEGACY_ENCODINGS)
    if guess is not None and guess.encoding not in candidates and not guess.encoding.startswith(("utf", "ascii")):
        candidates.append(guess.encoding)
    sample = data[:400_000]
    best, best_score = "cp1252", None
    for enc in candidates:
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError:
            # a multi-byte sample cut at the end would not matter here: these are 8-bit codecs
            continue
        score = _plausibility(text)
        if best_score is None or score > best_score:
            best, best_score = enc, score
    return best


def decode(data: bytes, *, detect: bool = True) -> tuple[str, str]:
    """Decode a file's bytes: UTF-8 (with or without BOM), UTF-16 with a BOM, else the legacy
    encoding ``detect_encoding`` finds (cp1252, cp1250, cp1251, cp437, cp850, cp866, koi8-r,
    ISO-8859-x...). Returns (text, encoding used).

    A legacy encoding is reported with ``file_note``. ``detect=False`` (short fragments such
    as one OV2 name, sniffed file heads) falls back to Windows-1252 without detection or note.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if len(data) % 2:
            data = data[:-1]
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        if not detect:
            return data.decode("cp1252", errors="replace"), "cp1252"
        bad_line = data.count(b"\n", 0, err.start) + 1
    encoding = detect_encoding(data)
    file_note(f"the file is not UTF-8 (first non-UTF-8 byte on line {bad_line}); read as {encoding}, "
              f"the most plausible encoding; save it as UTF-8 to be sure")
    return data.decode(encoding, errors="replace"), encoding


# --------------------------------------------------------------------------- CSV line by line

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
STRAY_QUOTE = ('a quote (") opens a field on this line and is not closed on it, so the row would swallow '
               'the lines after it; quote whole fields and double a quote inside one ("")')


class _Lines:
    """The physical lines of a text as the csv module's input, with the position shown."""

    def __init__(self, lines: list[str]):
        self.lines, self.pos = lines, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def csv_rows(text: str, delimiter: str = ",", *, multiline: bool = False, expected: int | None = None,
             start: int = 0, **fmtparams) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """Rows of a CSV text as (physical line number, fields, None), or (line, None, reason) for a
    line that cannot be a row; reading goes on at the next line.

    A stray quote opening a field makes the csv module read on across line ends, swallowing
    the rows after it. Without ``multiline`` (formats that never have line breaks inside
    fields) a row that spans lines is refused with ``STRAY_QUOTE`` and the following lines
    are read as rows. With ``multiline`` a quoted line break is allowed unless one of the
    swallowed lines on its own holds ``expected`` fields or more, i.e. looks like a row of
    its own. ``start`` skips that many lines first (line numbers still count from the top).
    """
    feed = _Lines(_LINES.findall(text))
    feed.pos = start
    reader = csv.reader(feed, delimiter=delimiter, **fmtparams)
    while True:
        first = feed.pos
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield first + 1, None, f"not readable as CSV: {err}"
            feed.pos = first + 1
            reader = csv.reader(feed, delimiter=delimiter, **fmtparams)
            continue
        if feed.pos - first > 1 and _swallows(feed.lines[first + 1:feed.pos], delimiter, multiline, expected,
                                               fmtparams):
            yield first + 1, None, STRAY_QUOTE
            feed.pos = first + 1
            reader = csv.reader(feed, delimiter=delimiter, **fmtparams)
            continue
        yield first + 1, fields, None


def _swallows(lines: list[str], delimiter: str, multiline: bool, expected: int | None, fmtparams) -> bool:
    if not multiline or expected is None:
        return True
    for line in lines:
        try:
            alone = next(csv.reader([line], delimiter=delimiter, **fmtparams), [])
        except csv.Error:
            continue
        if len(alone) >= max(expected, 2):
            return True
    return False


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
    if len(text) > 40:
        raise ValueError(f"speed {value!r} is not a number")
    number = float(text.replace(",", "."))
    if not math.isfinite(number):
        raise ValueError(f"speed {value!r} is not a finite number")
    if not 0 < number * factor < 1000:
        raise ValueError(f"speed {value!r} is outside 5-300 km/h")
    kmh = int(round(number * factor))
    if not 5 <= kmh <= 300:
        raise ValueError(f"speed {value!r} is outside 5-300 km/h")
    return kmh


COMPASS = {name: i * 22.5 for i, name in enumerate(
    "N NNE NE ENE E ESE SE SSE S SSW SW WSW W WNW NW NNW".split())}
COMPASS.update({"NORTH": 0.0, "EAST": 90.0, "SOUTH": 180.0, "WEST": 270.0})

# Direction words (folded: lower case, no accents) -> degrees. English, French, German,
# Spanish, Italian, Portuguese, Dutch, Russian. No single "O": Ost in German, oeste/ouest in
# the Romance languages.
_POINTS = {
    0.0: "n north nord norden norte noord север",
    45.0: "ne northeast nordest nordosten nordost noreste nordeste noordoost северо-восток",
    90.0: "e east est ost osten este leste oost восток",
    135.0: "se southeast sudest sudosten sudost sureste sudeste zuidoost юго-восток",
    180.0: "s south sud suden sur sul zuid юг",
    225.0: "sw southwest sudouest sudwesten sudwest suroeste sudoeste zuidwest юго-запад",
    270.0: "w west ouest westen oeste ovest запад",
    315.0: "nw northwest nordouest nordwesten nordwest noroeste noordwest северо-запад",
}
_DIRECTION_WORDS = {word: degrees for degrees, words in _POINTS.items() for word in words.split()}
_DIRECTION_WORDS.update({k.lower(): v for k, v in COMPASS.items()})
_DIRECTION_WORDS.update({"nb": 0.0, "eb": 90.0, "sb": 180.0, "wb": 270.0})
# Words around a direction that say nothing more: "direction nord", "Richtung Norden",
# "hacia el norte", "northbound", "nordwärts", "N/B".
_LEAD_WORDS = sorted(("richtung", "nach", "direction", "dir", "dir.", "sens", "vers", "hacia", "sentido", "direccion",
                      "direcao", "rumbo", "toward", "towards", "heading", "going", "travelling", "traveling", "verso",
                      "direzione", "richting", "naar", "на"), key=len, reverse=True)
_LEAD = re.compile(r"^(?:in\s+|en\s+|em\s+)?(?:" + "|".join(map(re.escape, _LEAD_WORDS)) + r")\s*"
                   r"(?:(?:de|du|del|do|da|della|le|la|l'|el|al|au|the|het)\s+)?")
_TRAIL = re.compile(r"(?:[\s-]*bound|[\s-]*wards?|warts|lich)$")
_ABBREVIATED = re.compile(r"^([nsew])\s*[/.]\s*b\.?$")  # N/B, S.B., E/B: -bound
_DEGREES = re.compile(r"^([-+]?\d+(?:[.,]\d+)?)\s*(?:°|º|deg|degrees|degres|grad|grados|gradi)?$")
_BRACKETS = re.compile(r"[(（\[][^)）\]]*[)）\]]")
_SPLITTERS = (re.compile(r"\s*(?:/|&|\+|,|;|、|\|)\s*|\s+(?:and|et|und|y|e|и|or|ou|oder|o)\s+|\s+"),
              re.compile(r"\s*-\s*"))
_NO_DIRECTION = frozenset({"", "-", "none", "null", "nan", "n/a", "na"})
_ALL_WORDS = frozenset({"all", "any", "alle", "toutes", "todas", "tutte", "all directions", "any direction",
                        "alle richtungen", "toutes directions", "todas direcciones", "todos los sentidos",
                        "tous sens", "все"})
_BOTH_WORDS = frozenset({"both", "both ways", "both directions", "two-way", "two way", "2-way", "bidirectional",
                         "bi-directional", "beide", "beide richtungen", "beidseitig", "deux sens", "double sens",
                         "les deux sens", "dans les deux sens", "ambos", "ambos sentidos", "doble sentido",
                         "ambas direcciones", "doppio senso", "entrambi", "beide richtingen", "оба",
                         "в обе стороны", "雙向", "双向"})
# Chinese: 北 N, 東/东 E, 南 S, 西 W; 北上 northbound, 南下 southbound, X向 towards X,
# X往Y / X向Y / X到Y / X至Y from X to Y, XY雙向 both ways along X-Y; 方向 "direction".
_HAN = {"北": 0.0, "東": 90.0, "东": 90.0, "南": 180.0, "西": 270.0}
_HAN_SUFFIX = re.compile(r"(?:方向|車道|车道)$")
_HAN_ONE = re.compile(r"^(?:[北東东南西][往向到至]([北東东南西])|([北東东南西])向|(北)上|(南)下)$")
_HAN_BOTH = re.compile(r"^([北東东南西])([北東东南西])[雙双]向$")


def _fold_direction(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def _one_direction(text: str) -> float | None:
    """One direction ("northbound", "NB", "N/B", "Richtung Norden", "北上", "西往東") -> degrees."""
    if text in _DIRECTION_WORDS:
        return _DIRECTION_WORDS[text]
    match = _ABBREVIATED.match(text)
    if match:
        return _DIRECTION_WORDS[match.group(1)]
    word = _TRAIL.sub("", _LEAD.sub("", text, count=1), count=1).strip()
    for form in (word, word.replace(" ", "").replace("-", "")):
        if form in _DIRECTION_WORDS:
            return _DIRECTION_WORDS[form]
    han = _HAN_ONE.match(_HAN_SUFFIX.sub("", text))
    if han:
        return _HAN[next(g for g in han.groups() if g)]
    return None


def parse_direction(value) -> tuple[float | None, DirectionMode]:
    """A heading as written in camera lists -> (degrees of the checked traffic, mode).

    Degrees, compass points (N, SSW, north), direction words in several languages
    (northbound, NB, N/B, direction nord, Richtung Norden, hacia el norte, 北上, 南下, 東向,
    西往東) are one direction (ONE); two opposite ones (NB/SB, N-S, northbound and
    southbound, 南北雙向) are BOTH along the first; both/all/empty and several directions that
    are not opposite (NB/EB: any approach) are no heading (ALL). ValueError for anything else.
    """
    if value is None:
        return None, DirectionMode.ALL
    text = _fold_direction(str(value))
    if len(text) > 80:
        raise ValueError(f"heading {str(value)[:40]!r}... is not in degrees 0-359")
    if text in _NO_DIRECTION or text in _ALL_WORDS or text in _BOTH_WORDS:
        return None, DirectionMode.ALL
    degrees = _DEGREES.match(text)
    if degrees:
        number = float(degrees.group(1).replace(",", "."))
        if not -360 <= number <= 720:
            raise ValueError(f"heading {value!r} is not in degrees 0-359")
        return number % 360.0, DirectionMode.ONE
    one = _one_direction(text)
    if one is not None:
        return one, DirectionMode.ONE
    han = _HAN_BOTH.match(_HAN_SUFFIX.sub("", text))
    if han and abs(_HAN[han.group(1)] - _HAN[han.group(2)]) == 180.0:
        return min(_HAN[han.group(1)], _HAN[han.group(2)]), DirectionMode.BOTH
    bare = _BRACKETS.sub(" ", text).strip()
    if bare != text and bare:  # "南北雙向(區間測速)", "Northbound (lane 2)"
        try:
            return parse_direction(bare)
        except ValueError:
            pass
    for splitter in _SPLITTERS:
        parts = [p for p in splitter.split(text) if p]
        if len(parts) < 2:
            continue
        found = [_one_direction(p) for p in parts]
        if None in found:
            continue
        distinct = list(dict.fromkeys(found))
        if len(distinct) == 1:
            return distinct[0], DirectionMode.ONE
        if len(distinct) == 2 and abs(distinct[0] - distinct[1]) == 180.0:
            return distinct[0], DirectionMode.BOTH
        return None, DirectionMode.ALL  # several approaches: any direction
    raise ValueError(f"heading {value!r} is not a direction in degrees 0-359 or a compass point")


def parse_heading(value) -> float | None:
    """Degrees, a compass point or a direction word ("northbound", "NB", "北上") -> degrees
    in [0, 360), None when absent. A value for two ways ("NB/SB") is a ValueError: the
    heading is one direction (the formats with a ``direction`` column say "both" there)."""
    heading, mode = parse_direction(value)
    if mode == DirectionMode.BOTH:
        raise ValueError(f"heading {value!r} names two directions; give one heading and direction both")
    if heading is None and _fold_direction(str(value)) not in _NO_DIRECTION:
        raise ValueError(f"heading {value!r} is not in degrees 0-359")
    return heading


# --------------------------------------------------------------------------- shared helpers


def head_text(head: bytes) -> str:
    """The sniffed head of a file as text, decoded the way the readers decode the file: UTF-8
    (a multi-byte character cut at the end is fine), UTF-16 with a BOM, else the legacy
    encoding ``detect_encoding`` finds, so that sniffers see 'Länge' or 'Długość' in a cp1252
    or cp1250 file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode(head[: len(head) - len(head) % 2], detect=False)[0]
    return _head_text(head.removeprefix(codecs.BOM_UTF8))


@functools.lru_cache(maxsize=4)
def _head_text(head: bytes) -> str:
    # every reader's sniff asks for the same head: detect its encoding once
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return head.decode(detect_encoding(head), errors="replace")


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


def _json_int(text: str):
    """A JSON integer; one too long for ``int`` (Python refuses over 4,300 digits) is a float
    (infinite, so the value checks reject it with a reason instead of a traceback)."""
    return int(text) if len(text) <= 1000 else float(text)


def load_json(path: Path):
    """The parsed JSON document of ``path``; FormatError when it is not JSON."""
    with open(path, "rb") as fh:
        text, _ = decode(fh.read())
    if not text.strip():
        raise FormatError(f"{path}: the file is empty; nothing to import")
    try:
        return json.loads(text, parse_int=_json_int)
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
    except ValueError as err:
        if "two directions" in str(err):
            raise ValueError(f"{name} {text.strip()!r} names two directions; give one heading and direction "
                             f"both") from None
        raise ValueError(f"{name} {text.strip()!r} is not a direction in degrees 0-359 or a compass point") from None


def fit(text: str, limit: int, what: str, notes: list[str]) -> str:
    """Cut ``text`` to ``limit`` characters, noting the cut in ``notes``."""
    if len(text) <= limit:
        return text
    notes.append(f"{what} cut from {len(text)} to {limit} characters")
    return text[: limit - 1] + "…"


def first_line(head: bytes) -> str:
    """The first non-empty line of a file head, decoded (for sniffing)."""
    text, _ = decode(head, detect=False)
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
