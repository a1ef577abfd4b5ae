"""Camera lists in the wild (reader name ``table``); documented in docs/feed-table.md.

CSV with any delimiter, JSON lists of objects and GeoJSON with any property names. The
columns are recognised from their header names in several languages (``cameras.formats.
mapping``) or named in a mapping file; values may use decimal commas, DMS coordinates,
compass letters, WKT ``POINT``/``LINESTRING`` columns and HTML. Types and speeds are also
read from the text of the name and description. Auto-detection tries this reader after the
project's own formats: its scores stay below theirs, except for files they would refuse
or misread (a CSV with columns the project CSV does not know, a GeoJSON whose property
names are another vocabulary: ``text_helpers.foreign_properties``). Headings go through
``base.parse_direction`` (direction words in several languages) after the mapping's
[headings] table; a status column drops planned and removed cameras as listed rejections;
a second header row is noted, not rejected.

Columns are parsed as whole arrays (pandas), with a per-cell fallback only for the values
the fast path cannot read. Options (a mapping, the speed unit) come from ``options.session``; the
mapping and warnings of the last read are left in the session for the caller to show and
store.
"""

from __future__ import annotations

import csv
import gc
import html
import io
import json
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from exporters.schema import CameraType, DirectionMode, Kind

from .base import (
    DESCRIPTION_MAX,
    ROAD_MAX,
    FormatError,
    Reader,
    Record,
    Rejection,
    collecting_notes,
    csv_rows,
    file_note,
    fit,
    head_text,
    parse_direction,
    read_text,
    register,
)
from .mapping import ALIASES, Mapping, column_unit, infer, normalize
from .keywords import fold, keyword_type
from .options import MPH, SESSION, Session, row_units
from .text_helpers import PROPERTY_NAMES, foreign_properties, text_speed

# The project CSV's columns: a header with any other column is refused by that reader.
PROJECT_COLUMNS = frozenset({*PROPERTY_NAMES, "lat", "lon", "end_lat", "end_lon"})
DELIMITERS = (",", ";", "\t", "|")
GEOMETRY = "@geometry"  # the column a GeoJSON feature's geometry is read into (as WKT)

# --------------------------------------------------------------------------- loading


@dataclass
class Table:
    header: list[str]
    columns: dict[str, np.ndarray]  # column name -> one text per row (first column of a name)
    lines: list[int]                # line (CSV) or item number (JSON) per row
    rejections: list[Rejection]
    delimiter: str = ""
    warnings: list[str] = field(default_factory=list)
    joined: dict[str, list[str]] = field(default_factory=dict)  # column made of several -> their names


def _delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the most, equally many fields."""
    best, best_key = ",", (0.0, 0)
    for delim in DELIMITERS:
        try:
            rows = [r for r in csv.reader(lines, delimiter=delim) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        same = sum(len(r) == width for r in rows) / len(rows)
        key = (same, width)
        if key > best_key:
            best, best_key = delim, key
    return best


def _head_lines(text: str, count: int = 50) -> list[str]:
    """The first ``count`` non-blank lines (read from the start of ``text`` only)."""
    size = 262144
    while True:
        lines = []
        for line in io.StringIO(text[:size]):
            if line.strip():
                lines.append(line.rstrip("\r\n"))
                if len(lines) > count:
                    return lines[:count]
        if size >= len(text):
            return lines
        size *= 4


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _wkt(geometry) -> str:
    if not isinstance(geometry, dict):
        return ""
    coords = geometry.get("coordinates")
    try:
        if geometry.get("type") == "Point":
            return f"POINT ({float(coords[0])!r} {float(coords[1])!r})"
        if geometry.get("type") == "LineString":
            return "LINESTRING (" + ", ".join(f"{float(c[0])!r} {float(c[1])!r}" for c in coords) + ")"
    except (TypeError, ValueError, IndexError, KeyError):
        return "(unreadable coordinates)"
    return f"({geometry.get('type')} geometry)"


def _from_objects(items: list, path: Path, geojson: bool) -> Table:
    header: dict[str, None] = {}
    rows = []
    rejections = []
    lines = []
    for n, item in enumerate(items, 1):
        if geojson:
            if not isinstance(item, dict):
                rejections.append(Rejection(path.name, n, f"item is not a GeoJSON Feature ({type(item).__name__})"))
                continue
            props = item.get("properties") or {}
            if not isinstance(props, dict):
                rejections.append(Rejection(path.name, n, "properties must be an object"))
                continue
            row = {k: _cell(v) for k, v in props.items()}
            if item.get("id") is not None and "id" not in row:
                row["id"] = _cell(item["id"])
            row[GEOMETRY] = _wkt(item.get("geometry"))
        elif isinstance(item, dict):
            row = {str(k): _cell(v) for k, v in item.items()}
        else:
            rejections.append(Rejection(path.name, n, f"item is a JSON {type(item).__name__}, not an object "
                                                      f"with named values"))
            continue
        header.update(dict.fromkeys(row))
        rows.append(row)
        lines.append(n)
    names = list(header)
    columns = {name: np.array([row.get(name, "") for row in rows], dtype=object) for name in names}
    return Table(names, columns, lines, rejections)


def _load_json(text: str, path: Path) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise FormatError(f"{path}: not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise FormatError(f"{path}: not usable JSON: nested too deeply") from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            raise FormatError(f"{path}: the FeatureCollection has no features; nothing to import")
        return _from_objects(features, path, geojson=True)
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) != 1:
            raise FormatError(f"{path}: a JSON object is read when it holds exactly one list of objects "
                              f"(the cameras); this one holds {len(lists)}")
        data = lists[0]
    if not isinstance(data, list) or not data:
        raise FormatError(f"{path}: expected a JSON list of objects (one camera each); nothing to import")
    return _from_objects(data, path, geojson=False)


_ENTITY_CUT = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6})$")


def _rejoin_entities(fields: list[str]) -> list[str]:
    """Fields cut at the ';' of an HTML entity (``&amp;``) joined again."""
    out = [fields[0]]
    for value in fields[1:]:
        if _ENTITY_CUT.search(out[-1]):
            out[-1] += ";" + value
        else:
            out.append(value)
    return out


def _fit_row(fields: list[str], width: int) -> list[str] | str | None:
    """A row of another width than the header: the row to keep, None (blank) or the reason."""
    if len(fields) == width:
        return fields
    if not any(f.strip() for f in fields):
        return None
    if len(fields) > width and not any(f.strip() for f in fields[width:]):
        return fields[:width]
    if len(fields) < width:
        return fields + [""] * (width - len(fields))
    return f"expected {width} fields as in the header, got {len(fields)}"


def _header(fields: list[str]) -> list[str]:
    header = [h.strip().lstrip("\ufeff").strip('"').strip() for h in fields]
    while header and not header[-1]:
        header.pop()
    return header


def _load_csv(text: str, path: Path, delimiter: str) -> Table:
    head = _head_lines(text)
    if not head:
        raise FormatError(f"{path}: the file is empty; nothing to import")
    delim = delimiter or _delimiter(head)
    try:
        header = _header(next(csv.reader(head[:1], delimiter=delim)))
    except csv.Error as err:
        raise FormatError(f"{path}: the header row {head[0][:120]!r} is not readable as CSV: {err}") from None
    rejections: list[Rejection] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        rows = list(reader)
        one_line_rows = reader.line_num == len(rows)
    except csv.Error:
        one_line_rows = False
    if one_line_rows:  # the usual file: one pass of the csv module, row i on line i + 1
        start = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
        if start is None:
            raise FormatError(f"{path}: no header row; the first line must name the columns")
        header = _header(rows[start])
        body = rows[start + 1:]
        lines = list(range(start + 2, len(rows) + 1))
    else:
        # A row spans lines (a quoted line break, or a stray quote that would swallow the rows
        # after it) or a line is not CSV: line by line, so that a bad line costs only its row.
        body, lines, seen_header = [], [], False
        for line, fields, reason in csv_rows(text, delim, multiline=True, expected=max(len(header), 2)):
            if reason is not None:
                rejections.append(Rejection(path.name, line, reason))
            elif seen_header:
                body.append(fields)
                lines.append(line)
            else:
                seen_header = any(c.strip() for c in fields)
    width = len(header)
    if width < 2:
        raise FormatError(f"{path}: the header row {head[0][:120]!r} has fewer than 2 columns with delimiter "
                          f"{delim!r}; give the delimiter in a --map file (delimiter = \";\")")
    odd = np.nonzero(np.fromiter(map(len, body), np.intp, len(body)) != width)[0]
    warnings = []
    if len(odd):
        drop, rejoined_rows = [], 0
        for i in odd.tolist():
            fitted = _fit_row(body[i], width)
            if isinstance(fitted, str) and delim == ";" and len(body[i]) > width:
                rejoined = _fit_row(_rejoin_entities(body[i]), width)
                if not isinstance(rejoined, str):
                    fitted, rejoined_rows = rejoined, rejoined_rows + 1
            if isinstance(fitted, list):
                body[i] = fitted
                continue
            if fitted is not None:
                rejections.append(Rejection(path.name, lines[i], fitted))
            drop.append(i)
        if drop:
            keep = np.ones(len(body), dtype=bool)
            keep[drop] = False
            kept = np.nonzero(keep)[0].tolist()
            body = [body[i] for i in kept]
            lines = [lines[i] for i in kept]
        if rejoined_rows:
            warnings.append(f"{rejoined_rows} row(s) had an HTML entity such as &amp; cut in two by the ';' "
                            f"delimiter; its parts were read as one field")
    grid = np.empty((len(body), width), dtype=object)
    if body:
        grid[:] = body
    columns: dict[str, list[str]] = {}
    for k, name in enumerate(header):
        if name and name not in columns:
            columns[name] = grid[:, k]
    return Table(header, columns, lines, rejections, delim, warnings)


def load_table(path: Path, delimiter: str = "") -> Table:
    text, _ = read_text(path)
    if not text.strip():
        raise FormatError(f"{path}: the file is empty; nothing to import")
    if text.lstrip()[:1] in ("[", "{"):
        return _load_json(text, path)
    return _load_csv(text, path, delimiter)


# --------------------------------------------------------------------------- sniffing

_JSON_KEY = re.compile(r'"([^"\\]{1,60})"\s*:')
_LAT_LON = (frozenset(ALIASES["lat"]), frozenset(ALIASES["lon"]))
_WKT_VALUE = re.compile(r"^\s*\"?\s*(?:POINT|LINESTRING)\s*Z?M?\s*\(", re.I)


def _has_position(names: set[str]) -> bool:
    return (bool(names & _LAT_LON[0]) and bool(names & _LAT_LON[1])) or bool(names & set(ALIASES["wkt"]))


def _sniff(head: bytes) -> int:
    text = head_text(head)
    start = text.lstrip()[:1]
    if start == "{" and '"FeatureCollection"' in text[:4096]:
        return 92 if foreign_properties(text) else 0  # the project's geojson reader would ignore them
    if start in ("[", "{"):
        keys = {normalize(k) for k in _JSON_KEY.findall(text)}
        return 30 if _has_position(keys) else 0
    if start in ("<", ""):
        return 0
    lines = _head_lines(text, 20)
    if len(head) >= 65536 and len(lines) > 1:
        lines = lines[:-1]
    delim = _delimiter(lines)
    try:
        header = next(csv.reader(lines[:1], delimiter=delim))
    except (csv.Error, StopIteration):
        return 0
    names = [h.strip().strip('"').strip() for h in header]
    while names and not names[-1]:
        names.pop()
    normal = {normalize(n) for n in names}
    if not _has_position(normal):
        try:
            rows = list(csv.reader(lines[1:4], delimiter=delim))
        except csv.Error:
            return 0
        if not any(_WKT_VALUE.match(c) for r in rows for c in r):
            return 0
    if {n.lower() for n in names} - PROJECT_COLUMNS:
        return 50  # the project CSV reader refuses unknown columns
    return 30


# --------------------------------------------------------------------------- values

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_DMS_CHARS = re.compile(r"^[\s\d.,°º˚:'′’\"″”dDmMsS-]*$")
_HEMISPHERE = re.compile(r"[NSEWO]", re.I)


def dms(text: str, what: str) -> float:
    """48°51'24"N, N 48.85, 2°21.1'E, -3 42 12 -> decimal degrees; ValueError otherwise."""
    raw = text.strip()
    letters = _HEMISPHERE.findall(raw)
    rest = _HEMISPHERE.sub(" ", raw, count=1) if len(letters) == 1 else raw
    numbers = _NUMBER.findall(rest)
    if len(letters) > 1 or not numbers or len(numbers) > 3 or not _DMS_CHARS.match(rest):
        raise ValueError(f"{what} {raw!r} is not a number or degrees/minutes/seconds such as 48°51'24\"N")
    parts = [float(n.replace(",", ".")) for n in numbers]
    if any(p >= 60 for p in parts[1:]):
        raise ValueError(f"{what} {raw!r}: minutes and seconds must be below 60")
    value = parts[0] + sum(p / 60 ** i for i, p in enumerate(parts[1:], 1))
    negative = rest.lstrip().startswith("-") or bool(letters and letters[0].upper() in "SW")
    return -value if negative else value


class _Distinct:
    """A column as its distinct values and one code per row: parsers run once per distinct
    value (lists repeat their speeds, headings, types and names)."""

    def __init__(self, values):
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=False)
        self.codes = codes
        self.uniques = pd.Series(uniques, dtype=object)

    def spread(self, per_unique) -> np.ndarray:
        """One value per row from one value per distinct value."""
        return np.asarray(per_unique)[self.codes]

    def rows(self, problems: dict[int, str]) -> dict[int, str]:
        """The reasons per distinct value as reasons per row."""
        if not problems:
            return {}
        hit = np.nonzero(np.isin(self.codes, list(problems)))[0]
        return {i: problems[c] for i, c in zip(hit.tolist(), self.codes[hit].tolist())}


_PLAIN_INTEGER = re.compile(r"-?\d+")


def _coordinates(values: np.ndarray, what: str) -> tuple[np.ndarray, dict[int, str]]:
    """Column texts -> degrees (NaN where unreadable) and the reason per unreadable row."""
    n = len(values)
    joined = "\n".join(values)
    if joined.count("\n") == n - 1:  # one C pass over the column instead of one call per cell
        parts = joined.replace(",", ".").split("\n") if n else []
    else:
        parts = [v.replace(",", ".") for v in values]
    number = np.asarray(pd.to_numeric(np.array(parts, dtype=object), errors="coerce"), dtype=float).copy()
    problems: dict[int, str] = {}
    bad = np.nonzero(np.isnan(number))[0]
    if len(bad):
        cells = [values[i].strip() for i in bad.tolist()]
        # blanks around a number (any Unicode space) as the column's strip would remove them
        again = np.asarray(pd.to_numeric(np.array([c.replace(",", ".") for c in cells], dtype=object),
                                         errors="coerce"), dtype=float)
        for i, cell, value in zip(bad.tolist(), cells, again.tolist()):
            if value == value:
                number[i] = value
            elif not cell:
                problems[i] = f"{what} is empty"
            else:
                try:
                    number[i] = dms(cell, what)
                except ValueError as err:
                    problems[i] = str(err)
    return number, problems


def _plain_integers(values: np.ndarray, number: np.ndarray) -> np.ndarray:
    """Rows whose text is a whole number without a decimal point, among those beyond +-90."""
    plain = np.zeros(len(values), dtype=bool)
    for i in np.nonzero(np.abs(number) > 90)[0].tolist():
        plain[i] = _PLAIN_INTEGER.fullmatch(values[i].strip()) is not None
    return plain


_WKT_POINT = r"(?i)^\s*POINT\s*Z?M?\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)[^)]*\)\s*$"
_WKT_LINE = re.compile(r"(?i)^\s*LINESTRING\s*Z?M?\s*\((.*)\)\s*$")


def _wkt_positions(values: pd.Series):
    """WKT texts -> lat, lon, end_lat, end_lon arrays and the reason per unreadable row."""
    n = len(values)
    found = values.str.extract(_WKT_POINT)
    lon = pd.to_numeric(found[0], errors="coerce").to_numpy(float, copy=True)
    lat = pd.to_numeric(found[1], errors="coerce").to_numpy(float, copy=True)
    end_lat, end_lon = np.full(n, np.nan), np.full(n, np.nan)
    problems: dict[int, str] = {}
    for i in np.nonzero(np.isnan(lat) | np.isnan(lon))[0]:
        cell = values.iat[i].strip()
        line = _WKT_LINE.match(cell)
        try:
            if not line:
                raise ValueError
            pairs = [p.split() for p in line.group(1).split(",")]
            if len(pairs) < 2:
                raise ValueError
            (lon[i], lat[i]), (end_lon[i], end_lat[i]) = map(float, pairs[0][:2]), map(float, pairs[-1][:2])
        except (ValueError, TypeError):
            problems[i] = (f"geometry {cell[:60]!r} is not a WKT POINT (lon lat) or LINESTRING"
                           if cell else "geometry is empty")
    return lat, lon, end_lat, end_lon, problems


_SPEED = r"(?i)^\s*(\d{1,3}(?:[.,]\d+)?)\s*(km/?h|kph|kmph|mph|mi/h)?\s*$"
_NO_SPEED = frozenset({"", "0", "none", "null", "nan", "-", "n/a", "na", "variable", "unknown", "?"})


def _speeds(values: pd.Series, what: str):
    """Distinct texts -> number, unit (True = mph) and the reason per unreadable value."""
    text = values.str.strip()
    found = text.str.extract(_SPEED)
    number = pd.to_numeric(found[0].str.replace(",", ".", regex=False), errors="coerce").to_numpy(float, copy=True)
    unit = np.array(found[1].fillna("").str.lower().str.startswith("m").to_numpy(), dtype=bool)
    problems: dict[int, str] = {}
    blank = text.str.lower().isin(_NO_SPEED).to_numpy()
    number[blank] = np.nan
    for i in np.nonzero(np.isnan(number) & ~blank)[0]:
        problems[i] = f"{what} {text.iat[i]!r} is not a speed (e.g. 50, '50 km/h' or '30 mph')"
    return number, unit, problems


def _name_speeds(values: list[str]):
    """Distinct names -> the speed they state (NaN if none), its unit (True = mph) and whether
    the unit is written: ``text_helpers.text_speed``, the rule of the named-point readers."""
    number = np.full(len(values), np.nan)
    mph = np.zeros(len(values), dtype=bool)
    written = np.zeros(len(values), dtype=bool)
    for i, text in enumerate(values):
        if text and any(ch.isdigit() for ch in text):
            found, _ = text_speed(text)
            if found is not None:
                number[i], mph[i], written[i] = found.number, found.unit == "mph", bool(found.unit)
    return number, mph, written


# Header names that only ever hold headings; other ones (direction, sentido, Richtung...) may
# hold text such as "towards London" or "Ascendente".
_HEADING_NAMES = frozenset(normalize(n) for n in ("heading", "bearing", "azimuth", "azimut", "compass",
                                                   "compass_direction", "angle", "course", "cap", "rumbo"))
_HEADING_HELP = ("is not a direction in degrees 0-359, a compass point (N, NE, SSW...) or a direction word "
                 "(NB, northbound, 北上...); give it a heading in the [headings] table of a --map file")


def _headings(values: pd.Series, table: dict[str, str]):
    """Distinct texts -> degrees (NaN = no direction), DirectionMode per value and the reason
    per unreadable value. The mapping's [headings] table first, then numbers (as a whole),
    then ``base.parse_direction`` for the words."""
    text = values.str.strip()
    number = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce").to_numpy(float, copy=True)
    mode = np.where(np.isnan(number), int(DirectionMode.ALL), int(DirectionMode.ONE)).astype(np.int8)
    problems: dict[int, str] = {}
    words = np.isnan(number) | (number < -360) | (number > 720)
    if table:
        folded = {fold(k).strip(): v for k, v in table.items()}
        words |= text.map(lambda t: fold(t) in folded).to_numpy(bool)
    for i in np.nonzero(words)[0].tolist():
        value = text.iat[i]
        given = folded.get(fold(value)) if table else None
        try:
            heading, mode[i] = parse_direction(value if given is None else given)
        except ValueError:
            heading, mode[i] = None, int(DirectionMode.ALL)
            problems[i] = f"heading {value!r} {_HEADING_HELP}"
        number[i] = np.nan if heading is None else heading
    return np.mod(number, 360.0), mode, problems


_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


def _clean(value: str) -> str:
    """HTML tags and entities out, whitespace collapsed."""
    if "<" in value or "&" in value:
        value = html.unescape(_TAGS.sub(" ", value))
    if "  " in value or "\n" in value or "\t" in value or value != value.strip():
        value = _SPACES.sub(" ", value).strip()
    return value


class _Types:
    """Type per distinct text: the mapping's table, codes and slugs, then keywords."""

    def __init__(self, mapping: Mapping):
        self.exact = {fold(k).strip(): CameraType.parse(v) for k, v in mapping.types.items()}
        self.patterns = [(re.compile(p, re.I), CameraType.parse(v)) for p, v in mapping.type_patterns.items()]
        self.cache: dict[tuple[str, bool], CameraType | None] = {}
        self.unknown: Counter = Counter()

    def of(self, text: str, whole: bool) -> CameraType | None:
        key = (text, whole)
        try:
            return self.cache[key]
        except KeyError:
            pass
        result = None
        stripped = text.strip()
        if stripped:
            result = self.exact.get(fold(stripped))
            if result is None:
                result = next((t for p, t in self.patterns if p.search(stripped)), None)
            if result is None and whole:
                try:
                    result = CameraType.parse(stripped)
                except (ValueError, KeyError):
                    result = None
            if result is None:
                result = keyword_type(stripped, whole)
        self.cache[key] = result
        return result


# --------------------------------------------------------------------------- the reader


@dataclass
class Result:
    """What a read found: the records and rejections in line order, and what it applied."""

    items: list
    mapping: Mapping
    unit: str
    warnings: list[str]


def _resolve(table: Table, given: Mapping | None, path: Path) -> Mapping:
    header = [h for h in table.header if h]
    if given is None:
        mapping = infer(header)
    else:
        lookup = {normalize(h): h for h in reversed(header)}

        def found(fname: str, name: str) -> str:
            if name in table.columns:
                return name
            if normalize(name) in lookup:
                return lookup[normalize(name)]
            raise FormatError(f"{path}: the mapping names column {name!r} for {fname}, which this file lacks; "
                              f"its columns are: {', '.join(header)}. Fix the mapping (--map FILE)")

        columns, used = {}, set()
        for fname, name in given.columns.items():
            if isinstance(name, list):  # several columns read as one: "EB" and "WB" -> "EB/WB"
                names = [found(fname, n) for n in name]
                used.update(names)
                joined = " + ".join(names)
                glue = "/" if fname == "heading" else " / "
                parts = zip(*(table.columns[n] for n in names))
                table.columns[joined] = np.array([glue.join(p.strip() for p in row if p.strip()) for row in parts],
                                                 dtype=object)
                columns[fname] = joined
                table.joined[joined] = list(name)
            else:
                columns[fname] = found(fname, name)
                used.add(columns[fname])
        rest = infer([h for h in header if h not in used]).columns
        if "wkt" in columns or {"lat", "lon"} <= set(columns):
            rest = {k: v for k, v in rest.items() if k not in ("lat", "lon", "wkt")}
        mapping = Mapping(columns={**rest, **columns}, speed_unit=given.speed_unit, types=dict(given.types),
                          type_patterns=dict(given.type_patterns), delimiter=given.delimiter, inferred=False,
                          headings=dict(given.headings), defaults=dict(given.defaults))
    cols = mapping.columns
    if GEOMETRY in table.columns and "wkt" not in cols and not {"lat", "lon"} <= set(cols):
        cols["wkt"] = GEOMETRY
    if "wkt" not in cols and not {"lat", "lon"} <= set(cols):
        for name in header:  # a column whose values are WKT points
            first = next((v for v in table.columns.get(name, ()) if v.strip()), "")
            if _WKT_VALUE.match(first):
                cols["wkt"] = name
                cols.pop("lat", None), cols.pop("lon", None)
                break
    if "wkt" not in cols and not {"lat", "lon"} <= set(cols):
        raise FormatError(
            f"{path}: no latitude/longitude columns found among {', '.join(header[:30])}; name them in a mapping "
            f"file and pass it with --map (for example: [columns] lat = \"Breite\" lon = \"Laenge\")")
    return mapping


def _second_header(table: Table, cols: dict[str, str]) -> bool:
    """Whether the first row names the columns again (a translated header, as in lists that
    carry their names in two languages): text in every column, no number anywhere, no digit
    in the coordinate columns."""
    cells = [str(column[0]).strip() for column in table.columns.values()]
    if not cells or not all(cells):
        return False
    if np.isfinite(pd.to_numeric(pd.Series([c.replace(",", ".") for c in cells]), errors="coerce")).any():
        return False
    coordinates = [cols[f] for f in ("lat", "lon", "wkt") if f in cols]
    return bool(coordinates) and not any(ch.isdigit() for f in coordinates for ch in str(table.columns[f][0]))


# Status words (folded) of cameras that are not in service, and of cameras that are.
_INACTIVE = re.compile(
    r"^(?:planned|planning|proposed|proposal|future|upcoming|coming soon|pending|under construction|"
    r"in construction|construction|not yet active|not active|non active|inactive|removed|decommissioned|"
    r"out of service|out-of-service|not in service|disabled|deactivated|retired|closed|suspended|dismantled|"
    r"abandoned|prevue?s?|en projet|projet|a venir|inactif|inactive|supprimee?|demontee?|hors service|"
    r"desactivee?|geplant|in planung|inaktiv|ausser betrieb|abgebaut|entfernt|stillgelegt|planificado|"
    r"planeado|previsto|proyectado|en proyecto|inactivo|fuera de servicio|retirado|desactivado|"
    r"en construccion|pianificato|inattivo|rimosso|fuori servizio|gepland|inactief|verwijderd|"
    r"buiten gebruik|planowany|nieaktywny|usuniety|планируется|неактивен|демонтирован)(?![^\W_])")
_ACTIVE = re.compile(
    r"^(?:active|activated|operational|operating|in operation|installed|in service|live|enabled|working|"
    r"functional|online|existing|actif|active|en service|en fonctionnement|aktiv|in betrieb|activo|operativo|"
    r"en servicio|funcionando|attivo|in funzione|actief|aktywny|действует|работает|активен)(?![^\W_])")
_BOOLEAN_STATUS = {"yes": 1, "y": 1, "true": 1, "1": 1, "ja": 1, "oui": 1, "si": 1,
                   "no": 0, "n": 0, "false": 0, "0": 0, "nein": 0, "non": 0}


def _statuses(values: pd.Series, column: str) -> tuple[np.ndarray, list[int]]:
    """Distinct status texts -> 1 (in service), 0 (planned, inactive, removed) or -1 (blank or
    unknown), and the unknown ones. Yes/no values count in a column named like ``active``."""
    boolean = normalize(column) in {"active", "isactive", "enabled", "inservice"}
    verdict = np.full(len(values), -1, dtype=np.int8)
    unknown = []
    for u, value in enumerate(values.tolist()):
        text = " ".join(fold(str(value)).replace("_", " ").split())
        if not text:
            continue
        if boolean and text in _BOOLEAN_STATUS:
            verdict[u] = _BOOLEAN_STATUS[text]
        elif _INACTIVE.match(text):
            verdict[u] = 0
        elif _ACTIVE.match(text):
            verdict[u] = 1
        else:
            unknown.append(u)
    return verdict, unknown


_TYPE_OF = np.array([CameraType(v) if v in CameraType._value2member_map_ else None
                     for v in range(max(CameraType) + 1)], dtype=object)
_KIND_OF = np.array([Kind.FIXED, Kind.MOBILE], dtype=object)
_MODE_OF = np.array([DirectionMode.ALL, DirectionMode.ONE, DirectionMode.BOTH], dtype=object)
_MOBILE_TYPES = [int(CameraType.MOBILE_CAMERA), int(CameraType.MOBILE_ZONE), int(CameraType.POLICE_CHECK)]


def _or_none(values: np.ndarray, integer: bool = False) -> list:
    """Floats as a list with None for NaN (whole numbers as int with ``integer``)."""
    out = np.full(len(values), None, dtype=object)
    ok = ~np.isnan(values)
    out[ok] = (values[ok].astype(np.int64) if integer else values[ok]).tolist()
    return out.tolist()


@contextmanager
def gc_paused():
    """The cyclic garbage collector off while a big table is built: its many new objects
    (no cycles among them) would otherwise trigger collections that cost more than the read."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_result(path: Path, state: Session | None = None) -> Result:
    """Read a whole table with the session's options.

    Each column is parsed as a whole (numpy/pandas) or once per distinct value; the only
    per-row Python work left is building the records."""
    with gc_paused():
        return _read_result(Path(path), state)


def _read_result(path: Path, state: Session | None) -> Result:
    state = state or Session()
    given = state.mapping
    table = load_table(path, given.delimiter if given else "")
    mapping = _resolve(table, given, path)
    mapping.delimiter = table.delimiter if given is None or not given.delimiter else given.delimiter
    cols = mapping.columns
    n = len(table.lines)
    warnings: list[str] = list(table.warnings)
    reasons: dict[int, str] = {}  # row -> the first reason it cannot be stored
    distinct: dict[str, _Distinct] = {}

    def values(fname: str) -> np.ndarray:
        return np.asarray(table.columns[cols[fname]], dtype=object)

    def column(fname: str) -> _Distinct:
        """The column as distinct values; an absent column is "" on every row."""
        if fname not in distinct:
            distinct[fname] = _Distinct(values(fname) if fname in cols else np.full(n, "", dtype=object))
        return distinct[fname]

    def reject(problems: dict[int, str]):
        for i, reason in problems.items():
            reasons.setdefault(int(i), reason)

    if n and table.delimiter and _second_header(table, cols):
        cells = [str(column[0]).strip() for column in table.columns.values()]
        shown = ", ".join(map(repr, cells[:4])) + (", ..." if len(cells) > 4 else "")
        file_note(f"line {table.lines[0]} names the columns again ({shown}): read as a second header row, "
                  f"not a camera", table.lines[0])
        table.columns = {name: column[1:] for name, column in table.columns.items()}
        table.lines = table.lines[1:]
        n -= 1

    named = set(given.columns) if given is not None else set()
    default_type = CameraType.parse(mapping.defaults["type"]) if mapping.defaults.get("type") else None

    # status: planned, inactive and removed cameras are listed, not stored
    if "status" in cols:
        st = column("status")
        verdict, unknown = _statuses(st.uniques, cols["status"])
        if not (verdict >= 0).any():
            if "status" in named:
                warnings.append(f"status column {cols['status']!r} holds none of the known status words (active, "
                                f"planned, removed...): every row is read as an active camera")
            else:
                del cols["status"]  # not a status column ("state" holding US states)
        else:
            reject(st.rows({u: f"status {st.uniques.iat[u].strip()!r}: not an active camera (planned, inactive "
                               f"and removed cameras are not imported)" for u in np.nonzero(verdict == 0)[0].tolist()}))
            if unknown:
                counts = np.bincount(st.codes, minlength=len(st.uniques))
                listed = ", ".join(f"{st.uniques.iat[u].strip()!r} ({counts[u]})" for u in unknown[:5])
                warnings.append(f"status value(s) not recognised, read as active cameras: {listed}")

    # positions
    end_lat = end_lon = np.full(n, np.nan)
    if "wkt" in cols:
        lat, lon, end_lat, end_lon, problems = _wkt_positions(pd.Series(values("wkt"), dtype=object))
        reject(problems)
    else:
        lat_text, lon_text = values("lat"), values("lon")
        lat, problems = _coordinates(lat_text, "latitude")
        reject(problems)
        lon, problems = _coordinates(lon_text, "longitude")
        reject(problems)
        plain_lat, plain_lon = _plain_integers(lat_text, lat), _plain_integers(lon_text, lon)
        out = (np.abs(lat) > 90) & (np.abs(lat) <= 180) & ~plain_lat & (np.abs(lon) <= 90)
        valid = ~np.isnan(lat) & ~np.isnan(lon)
        if valid.any() and out.sum() > valid.sum() / 2:
            lat, lon = lon, lat
            lat_text, lon_text = lon_text, lat_text
            plain_lat, plain_lon = plain_lon, plain_lat
            warnings.append(f"column {cols['lat']!r} holds longitudes and {cols['lon']!r} latitudes (most "
                            f"values are out of the latitude range); read as longitude/latitude")
            cols["lat"], cols["lon"] = cols["lon"], cols["lat"]
        for what, numbers, plain, limit, texts in (("latitude", lat, plain_lat, 90, lat_text),
                                                   ("longitude", lon, plain_lon, 180, lon_text)):
            for i in np.nonzero(plain & (np.abs(numbers) > limit))[0].tolist():
                reasons.setdefault(i, f"{what} {texts[i].strip()!r} has no decimal point and is outside "
                                      f"-{limit}..{limit}: the number lost its decimal point; fix the source "
                                      f"(it is not scaled)")
    for what, numbers, limit in (("latitude", lat, 90), ("longitude", lon, 180),
                                 ("end latitude", end_lat, 90), ("end longitude", end_lon, 180)):
        for i in np.nonzero(np.abs(numbers) > limit)[0].tolist():
            reasons.setdefault(i, f"{what} {numbers[i]:g} is outside -{limit}..{limit}")
    for i in np.nonzero((lat == 0) & (lon == 0))[0].tolist():
        reasons.setdefault(i, "position 0,0 (null island) is a missing position, not a camera")

    # heading: degrees and how they apply; an inferred column of other words is text
    heading = np.full(n, np.nan)
    mode = np.zeros(n, dtype=np.int8)
    if "heading" in cols:
        hd = column("heading")
        number, modes, problems = _headings(hd.uniques, mapping.headings)
        counts = np.bincount(hd.codes, minlength=len(hd.uniques))
        filled = int(counts[(hd.uniques.str.strip() != "").to_numpy(bool)].sum())
        if (problems and "heading" not in named and normalize(cols["heading"]) not in _HEADING_NAMES
                and 2 * int(counts[list(problems)].sum()) > filled):
            # "sentido: Ascendente", "direction: towards London": no directions
            examples = ", ".join(repr(hd.uniques.iat[u].strip()) for u in list(problems)[:3])
            target = next((f for f in ("description", "name") if f not in cols), None)
            column_name = cols.pop("heading")
            distinct.pop("heading", None)
            if target is not None:
                cols[target] = column_name
            warnings.append(f"column {column_name!r} holds no directions (values such as {examples}); "
                            + (f"read as the {target}" if target else "ignored")
                            + "; name a heading column and its words in a --map file ([columns] heading, "
                              "[headings]) if it is one")
        else:
            heading, mode = hd.spread(number), hd.spread(modes)
            reject(hd.rows(problems))
    mode[np.isnan(heading)] = int(DirectionMode.ALL)

    # texts, cleaned once per distinct value
    name, description, road, type_col = (column(f) for f in ("name", "description", "road", "type"))
    name_u, description_u, road_u, type_u = ([_clean(v) for v in d.uniques] for d in
                                             (name, description, road, type_col))
    country_u = column("country").uniques.str.strip().str.upper()

    # speed and its unit: a unit written with the value, else the column name's
    # ("speedLimitMph"), else --speed-unit / the mapping's, else the unit of the country
    speed = np.full(n, np.nan)
    speed_mph = np.zeros(n, dtype=bool)
    explicit = np.zeros(n, dtype=bool)
    if "speed" in cols:
        sp = column("speed")
        number, unit_u, problems = _speeds(sp.uniques, "speed")
        speed, speed_mph = sp.spread(number), sp.spread(unit_u)
        reject(sp.rows(problems))
        explicit = sp.spread(sp.uniques.str.contains(r"(?i)km|mph|kph|mi/h", regex=True).to_numpy(bool))
        named_unit = column_unit(cols["speed"])
        if named_unit:
            speed_mph = np.where(explicit, speed_mph, named_unit == "mph")
            explicit = explicit | ~np.isnan(speed)
    for fname, d, cleaned in (("name", name, name_u), ("description", description, description_u)):
        if fname not in cols:
            continue
        number_u, unit_u, written_u = _name_speeds(cleaned)
        number = d.spread(number_u)
        fill = np.isnan(speed) & ~np.isnan(number)
        if fill.any():
            speed[fill], speed_mph[fill] = number[fill], d.spread(unit_u)[fill]
            explicit[fill] = d.spread(written_u)[fill]
    mph_rows, unit, warning = row_units(
        state.speed_unit or mapping.speed_unit or "auto", np.where(explicit, np.nan, speed), lat, lon,
        column("country").spread(country_u.to_numpy(object)) if "country" in cols else None)
    if warning:
        warnings.append(warning)
    if "speed" in cols and column_unit(cols["speed"]) and not (~explicit & ~np.isnan(speed)).any():
        unit = f"{column_unit(cols['speed'])} (the speed column's name says so)"
    mph = np.where(explicit, speed_mph, mph_rows)
    kmh = np.where(mph, np.round(speed * MPH), np.round(speed))
    kmh[kmh == 0] = np.nan
    for i in np.nonzero((kmh < 5) | (kmh > 300))[0].tolist():
        reasons.setdefault(i, f"speed {speed[i]:g} {'mph' if mph[i] else 'km/h'} is outside 5-300 km/h")

    # types: the type column, else words in the name, else in the description, else the
    # mapping's [defaults] type, else speed camera
    types = _Types(mapping)

    def type_codes(cleaned: list[str], whole: bool) -> np.ndarray:
        found = (types.of(text, whole) if text else None for text in cleaned)
        return np.array([-1 if t is None else int(t) for t in found], dtype=np.int64)

    code = np.full(n, -1, dtype=np.int64)
    if "type" in cols:
        per = type_codes(type_u, True)
        code = type_col.spread(per)
        counts = np.bincount(type_col.codes, minlength=len(type_u))
        for u, text in enumerate(type_u):
            if text and per[u] < 0 and cols.get("heading") != cols["type"]:  # else: its headings
                types.unknown[text] += int(counts[u])
    for d, cleaned in ((name, name_u), (description, description_u)):
        missing = code < 0
        if missing.any() and any(cleaned):
            code[missing] = type_codes(cleaned, False)[d.codes[missing]]
    code[code < 0] = int(default_type if default_type is not None else CameraType.SPEED)
    if types.unknown:
        listed = ", ".join(f"{v!r} ({c})" for v, c in types.unknown.most_common(5))
        fallback = f"as {default_type.slug} (the mapping's default)" if default_type is not None else "as speed cameras"
        warnings.append(f"type value(s) not recognised, read from the name or {fallback}: {listed}; "
                        f"give them a type in the [types] table of a --map file")
    has_end = ~np.isnan(end_lat)
    code[has_end & (code == int(CameraType.SPEED))] = int(CameraType.SECTION)

    # the stored description: the name and the description, cut to the column
    m = max(len(description_u), 1)
    pairs, pair_u = pd.factorize(name.codes.astype(np.int64) * m + description.codes, sort=False)
    text_u, text_notes = [], []
    for p in pair_u.tolist():
        text, extra = name_u[p // m], description_u[p % m] if description_u else ""
        if extra and extra != text:
            text = f"{text}: {extra}" if text else extra
        notes: list[str] = []
        text_u.append(fit(text, DESCRIPTION_MAX, "description", notes))
        text_notes.append(notes[0] if notes else "")
    road_notes = []
    for u, text in enumerate(road_u):
        notes = []
        road_u[u] = fit(text, ROAD_MAX, "road", notes)
        road_notes.append(notes[0] if notes else "")
    country_code = [("GB" if c == "UK" else c if len(c) == 2 and c.isalpha() else "") for c in country_u]

    # the records, and the rejections in line order
    keep = np.ones(n, dtype=bool)
    keep[list(reasons)] = False
    idx = np.nonzero(keep)[0]
    lines = np.asarray(table.lines, dtype=np.int64)
    m = len(idx)
    text_of, road_of = pairs[idx], road.codes[idx]
    notes_of: list[list[str]] = [[] for _ in range(m)]
    for k in np.nonzero(np.isin(text_of, [u for u, t in enumerate(text_notes) if t]) |
                        np.isin(road_of, [u for u, t in enumerate(road_notes) if t]))[0].tolist():
        notes_of[k] = [t for t in (text_notes[text_of[k]], road_notes[road_of[k]]) if t]
    refs = np.asarray([v.strip() for v in values("id")], dtype=object)[idx].tolist() if "id" in cols else [""] * m
    heads = heading[idx]
    records = list(map(
        Record, lines[idx].tolist(), lat[idx].tolist(), lon[idx].tolist(), _TYPE_OF[code[idx]].tolist(),
        _KIND_OF[np.isin(code[idx], _MOBILE_TYPES).astype(np.intp)].tolist(), refs,
        _or_none(kmh[idx], integer=True), repeat(None, m), _or_none(heads),
        _MODE_OF[mode[idx]].tolist(),
        np.asarray(road_u, dtype=object)[road_of].tolist(), np.asarray(text_u, dtype=object)[text_of].tolist(),
        np.asarray(country_code, dtype=object)[column("country").codes[idx]].tolist(),
        _or_none(end_lat[idx]), _or_none(end_lon[idx]), repeat(None, m), repeat(0, m), notes_of))
    if reasons:
        ordered = np.empty(n, dtype=object)
        ordered[idx] = np.fromiter(records, dtype=object, count=m)
        fname = path.name
        rejected = sorted(reasons)
        ordered[rejected] = np.fromiter((Rejection(fname, int(lines[i]), reasons[i]) for i in rejected),
                                        dtype=object, count=len(rejected))
        records = ordered.tolist()
    items: list[Record | Rejection] = table.rejections + records
    if table.rejections:
        items.sort(key=lambda item: item.line)
    mapping.speed_unit = state.speed_unit or mapping.speed_unit
    for fname, name in list(cols.items()):
        if name in table.joined:
            cols[fname] = table.joined[name]
    return Result(items, mapping, unit, warnings)


@register
class TableReader(Reader):
    name = "table"
    label = "Camera lists in the wild: CSV (any delimiter), JSON lists, GeoJSON with any property names"
    extensions = (".csv", ".txt", ".tsv", ".json", ".geojson")

    def sniff(self, head: bytes, path: Path) -> int:
        state = SESSION.get()
        if state is not None and state.mapping is not None and not state.mapping.inferred:
            # a mapping was given for this source: it decides, when the file has its columns
            text = head_text(head)
            named = [n for c in state.mapping.columns.values() for n in (c if isinstance(c, list) else [c])]
            if named and all(c in text for c in named):
                return 100
        try:
            return _sniff(head)
        except (ValueError, csv.Error):
            return 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        state = SESSION.get() or Session()
        result = read_result(path, state)
        state.used, state.unit, state.warnings = result.mapping, result.unit, result.warnings
        yield from result.items


# --------------------------------------------------------------------------- preview


def _octant(heading: float | None) -> str:
    if heading is None:
        return "none"
    return "N NE E SE S SW W NW".split()[int(((heading + 22.5) % 360) // 45)]


def _relabel(counter: Counter, label) -> Counter:
    """Counts per value as counts per label of the value (in the order labels first occur)."""
    out: Counter = Counter()
    for value, count in counter.items():
        out[label(value)] += count
    return out


def preview(path: Path, state: Session | None = None, rows: int = 10) -> str:
    """The inferred mapping, the first rows as they would be stored and counts; writes nothing."""
    with collecting_notes() as notes:
        result = read_result(Path(path), state or Session())
    records = [r for r in result.items if type(r) is Record]
    rejections = [r for r in result.items if type(r) is Rejection] if len(records) < len(result.items) else []
    out = [f"{Path(path).name}: {len(records)} cameras, {len(rejections)} rejected rows",
           "mapping" + (" (from the header names)" if result.mapping.inferred else "") + ":"]
    out += ["  " + line for line in result.mapping.describe().splitlines()]
    out.append(f"speeds read as: {result.unit}")
    out += [f"WARNING: {w}" for w in result.warnings]
    out += [f"note{f' (line {line})' if line else ''}: {text}" for line, text in notes[:rows]]
    out.append(f"first {min(rows, len(records))} rows as they would be stored:")
    out.append("  line  lat         lon          type               kind    speed  heading  ref / description")
    for r in records[:rows]:
        heading = "" if r.heading is None else f"{r.heading:.0f}"
        speed = "" if r.speed is None else str(r.speed)
        label = (r.ref + " " if r.ref else "") + (r.description or r.road)
        out.append(f"  {r.line:<5} {r.lat:<11.6f} {r.lon:<12.6f} {CameraType(r.type).slug:<18} "
                   f"{Kind(r.kind).name.lower():<7} {speed:<6} {heading:<8} {label[:60]}")
    countries = Counter(map(attrgetter("country"), records))
    countries.pop("", None)
    for title, counter in (
            ("type", _relabel(Counter(map(attrgetter("type"), records)), lambda t: CameraType(t).slug)),
            ("speed km/h", _relabel(Counter(map(attrgetter("speed"), records)),
                                    lambda s: "none" if s is None else str(s))),
            ("heading", _relabel(Counter(map(attrgetter("heading"), records)), _octant)),
            ("country (from the file)", countries)):
        if counter:
            out.append(f"per {title}: " + ", ".join(f"{k} {v}" for k, v in counter.most_common(15)))
    for rej in rejections[:rows]:
        out.append(f"  rejected {rej}")
    out.append("nothing was written (preview)")
    return "\n".join(out)
