"""Camera lists in the wild (reader name ``table``); documented in docs/feed-table.md.

CSV with any delimiter, JSON lists of objects and GeoJSON with any property names. The
columns are recognised from their header names in several languages (``cameras.formats.
mapping``) or named in a mapping file; values may use decimal commas, DMS coordinates,
compass letters, WKT ``POINT``/``LINESTRING`` columns and HTML. Types and speeds are also
read from the text of the name and description. Auto-detection tries this reader after the
project's own formats: its scores stay below theirs, except for files they would refuse
(a CSV with columns the project CSV does not know, a GeoJSON with none of the project's
property names).

Columns are parsed as whole arrays (pandas), with a per-cell fallback only for the values
the fast path cannot read. Options (a mapping, the speed unit) come from ``options.session``; the
mapping and warnings of the last read are left in the session for the caller to show and
store.
"""

from __future__ import annotations

import codecs
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
    COMPASS,
    DESCRIPTION_MAX,
    ROAD_MAX,
    FormatError,
    Reader,
    Record,
    Rejection,
    csv_rows,
    detect_encoding,
    fit,
    head_text,
    read_text,
    register,
)
from .mapping import ALIASES, FIELDS, Mapping, infer, normalize
from .keywords import fold, keyword_type
from .options import MPH, SESSION, Session, file_unit
from .text_helpers import PROPERTY_NAMES

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
_PROPERTIES = re.compile(r'"properties"\s*:\s*\{([^{}]*)\}')
_LAT_LON = (frozenset(ALIASES["lat"]), frozenset(ALIASES["lon"]))
_WKT_VALUE = re.compile(r"^\s*\"?\s*(?:POINT|LINESTRING)\s*Z?M?\s*\(", re.I)


def _has_position(names: set[str]) -> bool:
    return (bool(names & _LAT_LON[0]) and bool(names & _LAT_LON[1])) or bool(names & set(ALIASES["wkt"]))


def _head_text(head: bytes) -> str:
    """The sniffed head as text: UTF-8 (a character cut at the end is fine), else the legacy
    encoding it is most plausibly in, so that a header such as 'Länge' in cp1252 is read."""
    if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head.removeprefix(codecs.BOM_UTF8))
        except UnicodeDecodeError:
            return head.decode(detect_encoding(head), errors="replace")
    return head_text(head)


def _sniff(head: bytes) -> int:
    text = _head_text(head)
    start = text.lstrip()[:1]
    if start == "{" and '"FeatureCollection"' in text[:4096]:
        keys = {k for body in _PROPERTIES.findall(text) for k in _JSON_KEY.findall(body)}
        known = {normalize(k) for k in keys}
        if keys and not keys & set(PROPERTY_NAMES) and known & {a for f in FIELDS for a in ALIASES[f]}:
            return 92  # the project's geojson reader would ignore every property
        return 0
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
_NAME_SPEED = r"(?i)(?:@\s*(\d{1,3})\b\s*(km/?h|kph|mph)?|\b(\d{1,3})\s*(km/?h|kph|mph)\b)"


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


def _name_speeds(values: pd.Series):
    """Distinct names -> the speed they mention (NaN if none) and its unit (True = mph)."""
    found = values.str.extract(_NAME_SPEED)
    number = pd.to_numeric(found[0].fillna(found[2]), errors="coerce").to_numpy(float, copy=True)
    unit = np.array(found[1].fillna(found[3]).fillna("").str.lower().str.startswith("m").to_numpy(), dtype=bool)
    return number, unit


_NO_HEADING = frozenset({"", "-", "both", "all", "any", "none", "null", "nan", "n/a", "beide", "2"})


def _headings(values: pd.Series):
    """Distinct texts -> degrees (NaN = no direction) and the reason per unreadable value."""
    text = values.str.strip()
    number = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce").to_numpy(float, copy=True)
    problems: dict[int, str] = {}
    upper = text.str.upper()
    compass = upper.map(COMPASS).to_numpy(float)
    blank = text.str.lower().isin(_NO_HEADING - {"2"}).to_numpy()
    number = np.where(np.isnan(number), compass, number)
    number[blank] = np.nan
    bad = (np.isnan(number) & ~blank) | (number < -360) | (number > 720)
    for i in np.nonzero(bad)[0]:
        problems[i] = (f"heading {text.iat[i]!r} is not a direction in degrees 0-359 or a compass point "
                       f"(N, NE, SSW...)")
    return np.mod(number, 360.0), problems


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
        columns = {}
        for fname, name in given.columns.items():
            if name in table.columns:
                columns[fname] = name
            elif normalize(name) in lookup:
                columns[fname] = lookup[normalize(name)]
            else:
                raise FormatError(f"{path}: the mapping names column {name!r} for {fname}, which this file lacks; "
                                  f"its columns are: {', '.join(header)}. Fix the mapping (--map FILE)")
        used = set(columns.values())
        rest = infer([h for h in header if h not in used]).columns
        if "wkt" in columns or {"lat", "lon"} <= set(columns):
            rest = {k: v for k, v in rest.items() if k not in ("lat", "lon", "wkt")}
        mapping = Mapping(columns={**rest, **columns}, speed_unit=given.speed_unit, types=dict(given.types),
                          type_patterns=dict(given.type_patterns), delimiter=given.delimiter, inferred=False)
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


_TYPE_OF = np.array([CameraType(v) if v in CameraType._value2member_map_ else None
                     for v in range(max(CameraType) + 1)], dtype=object)
_KIND_OF = np.array([Kind.FIXED, Kind.MOBILE], dtype=object)
_MODE_OF = np.array([DirectionMode.ALL, DirectionMode.ONE], dtype=object)
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

    # texts, cleaned once per distinct value
    name, description, road, type_col = (column(f) for f in ("name", "description", "road", "type"))
    name_u, description_u, road_u, type_u = ([_clean(v) for v in d.uniques] for d in
                                             (name, description, road, type_col))
    country_u = column("country").uniques.str.strip().str.upper()

    # speed and its unit
    speed = np.full(n, np.nan)
    speed_mph = np.zeros(n, dtype=bool)
    explicit = np.zeros(n, dtype=bool)
    if "speed" in cols:
        sp = column("speed")
        number, unit_u, problems = _speeds(sp.uniques, "speed")
        speed, speed_mph = sp.spread(number), sp.spread(unit_u)
        reject(sp.rows(problems))
        explicit = sp.spread(sp.uniques.str.contains(r"(?i)km|mph|kph|mi/h", regex=True).to_numpy(bool))
    for fname, d, cleaned in (("name", name, name_u), ("description", description, description_u)):
        if fname not in cols:
            continue
        texts = pd.Series(cleaned, dtype=object)
        number_u, unit_u = _name_speeds(texts)
        number, unit_mph = d.spread(number_u), d.spread(unit_u)
        fill = np.isnan(speed) & ~np.isnan(number)
        speed[fill], speed_mph[fill] = number[fill], unit_mph[fill]
        explicit |= d.spread(texts.str.contains(r"(?i)\d\s*(?:km/?h|kph|mph)\b", regex=True).to_numpy(bool))
    unit, warning = file_unit(state.speed_unit or mapping.speed_unit or "auto", speed[~explicit], lat, lon,
                              column("country").spread(country_u.to_numpy(object)) if "country" in cols else None)
    if warning:
        warnings.append(warning)
    mph = np.where(explicit, speed_mph, unit == "mph")
    kmh = np.where(mph, np.round(speed * MPH), np.round(speed))
    kmh[kmh == 0] = np.nan
    for i in np.nonzero((kmh < 5) | (kmh > 300))[0].tolist():
        reasons.setdefault(i, f"speed {speed[i]:g} {'mph' if mph[i] else 'km/h'} is outside 5-300 km/h")

    # heading
    heading = np.full(n, np.nan)
    if "heading" in cols:
        hd = column("heading")
        number, problems = _headings(hd.uniques)
        heading = hd.spread(number)
        reject(hd.rows(problems))

    # types: the type column, else words in the name, else in the description, else speed camera
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
            if text and per[u] < 0:
                types.unknown[text] += int(counts[u])
    for d, cleaned in ((name, name_u), (description, description_u)):
        missing = code < 0
        if missing.any() and any(cleaned):
            code[missing] = type_codes(cleaned, False)[d.codes[missing]]
    code[code < 0] = int(CameraType.SPEED)
    if types.unknown:
        listed = ", ".join(f"{v!r} ({c})" for v, c in types.unknown.most_common(5))
        warnings.append(f"type value(s) not recognised, read from the name or as speed cameras: {listed}; "
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
        _MODE_OF[(~np.isnan(heads)).astype(np.intp)].tolist(),
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
            text = _head_text(head)
            named = [c for c in state.mapping.columns.values()]
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
    result = read_result(Path(path), state or Session())
    records = [r for r in result.items if type(r) is Record]
    rejections = [r for r in result.items if type(r) is Rejection] if len(records) < len(result.items) else []
    out = [f"{Path(path).name}: {len(records)} cameras, {len(rejections)} rejected rows",
           "mapping" + (" (from the header names)" if result.mapping.inferred else "") + ":"]
    out += ["  " + line for line in result.mapping.describe().splitlines()]
    out.append(f"speeds read as: {result.unit}")
    out += [f"WARNING: {w}" for w in result.warnings]
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
