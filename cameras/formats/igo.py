"""iGO ``speedcam.txt`` and the Navitel ``SpeedCam.txt`` variant (reader ``igo``).

Layout: docs/formats/igo-speedcam-txt.md (Navitel: docs/formats/navitel.md).

- iGO: header ``X,Y,TYPE,SPEED,DIRTYPE,DIRECTION`` (X = longitude, Y = latitude).
- Navitel: header ``IDX,X,Y,TYPE,SPEED,DirType,Direction``; the direction points at the
  approaching driver (180° from iGO's direction of travel), so it is turned round. IDX is the
  camera's ref, unless it is the running row number (0, 1, 2, ... as in Navitel's manual, or
  1, 2, 3, ...): then the cameras are keyed by position.
- A file without a header whose rows are six numbers is read as iGO, seven as Navitel.
- ``//`` starts a comment: whole-line comments are skipped, the text after ``//`` on a row
  is its description. Columns after the known ones are ignored (and noted).

TYPE codes come from ``igo_codes.toml`` (per dialect: iGO, Navitel, SpeedCamOnline); a
``--map`` file's ``[types]`` table adds or overrides codes for one source. A code read as
OTHER (unknown, or known as a non-camera) is counted once per code in the import report.

Sections (code of type SECTION_START): a start row and the row after it become one SECTION
with an end point when the next row is an end row (its SPEED is an end marker, 5 in UK
lists, or its code is a SECTION_END type), or when the next row is another section row with
the same SPEED, DIRTYPE and direction (within 90°), 20 m to 30 km away, that is not itself
followed by an end row. The limits are in ``[sections]`` of the code table. A start left
alone stays a SECTION_START, an end row without a start a SECTION_END point; both are noted.

SPEED is km/h in iGO's definition, but UK and US lists publish mph: the unit follows
``--speed-unit`` (or the mapping's ``speed_unit``), and ``auto`` asks ``options.file_unit``
(mph where the positions are in mph countries and the numbers look like mph). SPEED 0 or
empty is no limit. DIRTYPE 0/1/2 -> DirectionMode ALL/ONE/BOTH; DIRECTION is ignored when
DIRTYPE is 0.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

from exporters.schema import MOBILE_TYPES, CameraType, DirectionMode, Kind

from .base import (
    DESCRIPTION_MAX,
    FormatError,
    Reader,
    Record,
    Rejection,
    csv_rows,
    file_note,
    first_line,
    fit,
    header_fields,
    heading_value,
    position,
    read_text,
    register,
)
from .mapping import Mapping
from .options import MPH, SESSION, file_unit

CODES_FILE = Path(__file__).with_name("igo_codes.toml")
IGO_HEADER = ["x", "y", "type", "speed", "dirtype", "direction"]
NAVITEL_HEADER = ["idx", "x", "y", "type", "speed", "dirtype", "direction"]
DIR_MODES = {"0": DirectionMode.ALL, "1": DirectionMode.ONE, "2": DirectionMode.BOTH}
ALL = DirectionMode.ALL
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
NORMAL, START, END = 0, 1, 2


# --------------------------------------------------------------------------- the code table


@dataclass(frozen=True)
class Code:
    type: CameraType
    kind: Kind
    label: str
    skip: bool = False  # a road sign or hazard, not a camera: the row is noted, not imported


@dataclass(frozen=True)
class CodeTable:
    """The vendor codes per dialect and the section limits (``igo_codes.toml``)."""

    dialects: tuple  # (name, layout, {code: Code}) in file order
    end_speeds: frozenset
    max_km: float
    min_m: float

    def chain(self, layout: str) -> list[dict[int, Code]]:
        """The code tables a file of ``layout`` looks in: its own layout's first."""
        own = [codes for _, lay, codes in self.dialects if lay == layout]
        return own + [codes for _, lay, codes in self.dialects if lay != layout]


def _kind_of(type_: CameraType, value, where: str) -> Kind:
    if value is None:
        return Kind.MOBILE if type_ in MOBILE_TYPES else Kind.FIXED
    try:
        return Kind.parse(value)
    except ValueError as err:
        raise FormatError(f"{where}: {err}") from None


def load_codes(path: Path = CODES_FILE) -> CodeTable:
    """Read and check a code table; FormatError naming the file and the entry when it is wrong."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise FormatError(f"{path}: the iGO code table cannot be read: {err}") from None
    sections = data.get("sections", {})
    dialects = []
    for key, table in data.items():
        if key == "sections":
            continue
        where = f"{Path(path).name} [{key}]"
        if not isinstance(table, dict) or table.get("layout") not in ("igo", "navitel"):
            raise FormatError(f"{where}: a dialect needs layout = \"igo\" or \"navitel\"")
        codes = {}
        for code, entry in (table.get("codes") or {}).items():
            at = f"{where} code {code}"
            if not str(code).lstrip("-").isdigit() or not isinstance(entry, dict) or "type" not in entry:
                raise FormatError(f"{at}: write it as {code} = {{ type = \"speed\", label = \"...\" }}")
            try:
                type_ = CameraType.parse(entry["type"])
            except ValueError as err:
                raise FormatError(f"{at}: {err}") from None
            codes[int(code)] = Code(type_, _kind_of(type_, entry.get("kind"), at), str(entry.get("label", "")),
                                    entry.get("skip") is True)
        dialects.append((str(table.get("name", key)), table["layout"], codes))
    try:
        end_speeds = frozenset(float(v) for v in sections.get("end_speeds", []))
        max_km, min_m = float(sections.get("max_km", 30)), float(sections.get("min_m", 20))
    except (TypeError, ValueError):
        raise FormatError(f"{Path(path).name} [sections]: end_speeds is a list of numbers, max_km and "
                          f"min_m are numbers") from None
    return CodeTable(tuple(dialects), end_speeds, max_km, min_m)


@lru_cache(maxsize=1)
def shipped_codes() -> CodeTable:
    return load_codes(CODES_FILE)


def _key(text: str) -> str:
    text = text.strip()
    try:
        return str(int(text))
    except ValueError:
        return text.casefold()


class _Types:
    """TYPE text -> (type, kind, code, label, counted, skip): the mapping's table, then the code table."""

    def __init__(self, table: CodeTable, layout: str, mapping: Mapping | None):
        self.chain = table.chain(layout)
        self.exact, self.patterns = {}, []
        if mapping is not None:
            self.exact = {_key(k): CameraType.parse(v) for k, v in mapping.types.items()}
            self.patterns = [(re.compile(p, re.I), CameraType.parse(v)) for p, v in mapping.type_patterns.items()]
        self.cache: dict[str, tuple] = {}

    def of(self, text: str) -> tuple:
        try:
            return self.cache[text]
        except KeyError:
            pass
        key = _key(text)
        type_ = self.exact.get(key)
        if type_ is None:
            type_ = next((t for p, t in self.patterns if p.search(text.strip())), None)
        try:
            code = int(text)
        except ValueError:
            code = None
        if type_ is not None:  # the user's mapping decides; nothing to report
            result = (type_, Kind.MOBILE if type_ in MOBILE_TYPES else Kind.FIXED, code, "", False, False)
        elif code is None:
            raise ValueError(f"TYPE {text.strip()!r} is not a whole number")
        else:
            found = next((codes[code] for codes in self.chain if code in codes), None)
            if found is None:
                result = (CameraType.OTHER, Kind.FIXED, code, "unknown code", True, False)
            else:
                result = (found.type, found.kind, code, found.label, found.type == CameraType.OTHER, found.skip)
        self.cache[text] = result
        return result


# --------------------------------------------------------------------------- reading


@dataclass(slots=True)
class _Row:
    line: int
    ref: str
    lat: float
    lon: float
    type: CameraType
    kind: Kind
    code: int | None
    number: float       # SPEED as written (NaN: none)
    heading: float | None
    mode: DirectionMode
    comment: str
    role: int = NORMAL
    speed: int | None = None  # km/h
    notes: list = field(default_factory=list)


def _all_numbers(fields: list[str]) -> bool:
    try:
        for f in fields:
            float(f)
    except ValueError:
        return False
    return True


def _strip_comments(text: str) -> tuple[str, dict[int, str]]:
    """The text without ``//`` comments, and the comment per line number (rows with one)."""
    if "//" not in text:
        return text, {}
    out, comments = [], {}
    for n, match in enumerate(_LINES.finditer(text), 1):
        line = match.group(0)
        at = line.find("//")
        if at >= 0:
            body = line.rstrip("\r\n")
            ending = line[len(body):]
            comment = body[at + 2:].strip()
            if comment and body[:at].strip():
                comments[n] = comment
            line = body[:at].rstrip() + ending
        out.append(line)
    return "".join(out), comments


def _metres(a: _Row, b: _Row) -> float:
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi, dlon = phi2 - phi1, math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlon / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def _running_index(idx: list[str]) -> bool:
    """Whether IDX counts the rows (0, 1, 2, ... or 1, 2, 3, ...) rather than naming cameras."""
    if len(idx) < 2 or not all(t.isdigit() for t in idx):
        return False
    values = np.array([int(t) for t in idx], dtype=np.int64)
    return values[0] in (0, 1) and bool(np.all(np.diff(values) == 1))


@register
class IgoReader(Reader):
    name = "igo"
    label = "iGO speedcam.txt (X,Y,TYPE,SPEED,DIRTYPE,DIRECTION) and Navitel SpeedCam.txt"
    extensions = (".txt",)

    def sniff(self, head: bytes, path: Path) -> int:
        cols = header_fields(first_line(head))
        if cols[:3] == ["x", "y", "type"] or cols[:3] == ["idx", "x", "y"]:
            return 95
        if len(cols) == 6 and _all_numbers(cols):
            return 40  # headerless iGO rows
        if len(cols) == 7 and cols[0].isdigit() and _all_numbers(cols):
            return 35  # headerless Navitel rows
        return 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        table = shipped_codes()
        state = SESSION.get()
        mapping = state.mapping if state is not None else None
        text, _ = read_text(path)
        text, comments = _strip_comments(text)
        rows = csv_rows(text)  # one row per line: a stray quote costs one row
        first, first_no = None, 0
        for first_no, first, problem in rows:
            if problem:
                raise FormatError(f"{path}:{first_no}: the first row cannot be read: {problem}")
            if any(f.strip() for f in first):
                break
        if not first or not any(f.strip() for f in first):
            raise FormatError(f"{path}: no camera rows")
        names = [f.strip().lower() for f in first]
        pending = None
        if names[:6] == IGO_HEADER:
            navitel, ncols = False, len(names)
        elif names[:7] == NAVITEL_HEADER:
            navitel, ncols = True, len(names)
        elif len(names) == 6 and _all_numbers(names):
            navitel, ncols, pending = False, 6, (first_no, first, None)
        elif len(names) == 7 and names[0].isdigit() and _all_numbers(names):
            navitel, ncols, pending = True, 7, (first_no, first, None)
        else:
            raise FormatError(f"{path}: header {','.join(first)[:80]!r} is neither iGO "
                              f"'X,Y,TYPE,SPEED,DIRTYPE,DIRECTION' nor Navitel 'IDX,X,Y,TYPE,SPEED,DirType,Direction'")
        known = 7 if navitel else 6
        if ncols > known:
            file_note(f"columns {', '.join(first[known:])[:120]} are not part of the layout and were ignored")
        expected = ",".join(names[:ncols]).upper() if pending is None else ",".join(
            NAVITEL_HEADER if navitel else IGO_HEADER).upper()
        vendor = "Navitel" if navitel else "iGO"
        types = _Types(table, "navitel" if navitel else "igo", mapping)

        def numbered():
            if pending:
                yield pending
            yield from rows

        rejections: list[Rejection] = []
        parsed: list[_Row] = []
        idx_texts: list[str] = []
        numbers: dict[str, float] = {}
        headings: dict[str, float | None] = {}
        for line_no, fields, problem in numbered():
            if problem:
                rejections.append(Rejection(fname, line_no, problem))
                continue
            if len(fields) != ncols:
                if not any(f.strip() for f in fields):
                    continue
                rejections.append(Rejection(fname, line_no, f"expected {ncols} fields ({expected}), got {len(fields)}"))
                continue
            ref = ""
            if navitel:
                ref = fields[0].strip()
                idx_texts.append(ref)
                fields = fields[1:]
            try:
                row = self._row(fields, line_no, ref, navitel, types, numbers, headings, comments.get(line_no, ""))
            except ValueError as err:
                rejections.append(Rejection(fname, line_no, str(err)))
                continue
            if row is None:
                _, _, code, label, _, _ = types.of(fields[2])
                file_note(f"{vendor} TYPE {code} ({label}) is a road sign or hazard, not a camera: row not "
                          f"imported; give the code a type in a mapping file's [types] table to import it", line_no)
                continue
            parsed.append(row)

        if navitel and _running_index(idx_texts):
            file_note(f"IDX counts the rows from {idx_texts[0]} (a row number, not an id): the cameras are "
                      f"matched by position, not by IDX")
            for row in parsed:
                row.ref = ""

        # section roles: a section row whose SPEED is an end marker ends a section
        for row in parsed:
            if row.type == CameraType.SECTION_START:
                row.role = END if row.number in table.end_speeds else START
            elif row.type == CameraType.SECTION_END:
                row.role = END

        # speeds: one unit for the file's bare numbers (end markers are not limits)
        unit = self._unit(parsed, state)
        factor = MPH if unit == "mph" else 1.0
        speeds: list[Rejection] = []
        good: list[_Row] = []
        for row in parsed:
            number = row.number
            if number != number or number == 0 or (row.role == END and row.type == CameraType.SECTION_START):
                good.append(row)
                continue
            kmh = round(number * factor)
            if not 5 <= kmh <= 300:
                shown = f"{number:g} mph" if unit == "mph" else f"{number:g}"
                speeds.append(Rejection(fname, row.line, f"SPEED {shown} is outside 5-300 km/h"))
                continue
            row.speed = kmh
            good.append(row)
        rejections.extend(speeds)

        records = self._pair(good, table, vendor)
        self._count_codes(parsed, types, vendor)
        if state is not None:
            state.unit = unit
            if mapping is not None:
                state.used = mapping
        items: list[Record | Rejection] = [*records, *rejections]
        items.sort(key=lambda item: item.line)
        yield from items

    @staticmethod
    def _row(fields, line_no, ref, navitel, types, numbers, headings, comment) -> _Row | None:
        """The row's values; None for a code that is no camera (checked first: its other fields
        do not matter)."""
        x, y, type_text, speed_text, mode_text, dir_text = fields[:6]
        type_, kind, code, _, _, skip = types.of(type_text)
        if skip:
            return None
        lat, lon = position(y, x)
        try:
            number = numbers[speed_text]
        except KeyError:
            number = numbers[speed_text] = _speed_number(speed_text)
        dir_mode = DIR_MODES.get(mode_text)
        if dir_mode is None:
            dir_mode = DIR_MODES.get(mode_text.strip())
            if dir_mode is None:
                raise ValueError(f"DIRTYPE {mode_text.strip()!r} is not 0 (all), 1 (one) or 2 (both directions)")
        heading = None
        if dir_mode is not ALL:
            try:
                heading = headings[dir_text]
            except KeyError:
                heading = headings[dir_text] = heading_value(dir_text, "DIRECTION")
            if heading is None:
                raise ValueError(f"DIRTYPE {mode_text.strip()} needs a DIRECTION, but it is empty")
            if navitel:
                heading = (heading + 180.0) % 360.0
        return _Row(line_no, ref, lat, lon, type_, kind, code, number, heading, dir_mode, comment)

    @staticmethod
    def _unit(rows: list[_Row], state) -> str:
        requested = "auto"
        if state is not None:
            requested = state.speed_unit or (state.mapping.speed_unit if state.mapping is not None else "") or "auto"
        limits = [r for r in rows if r.role != END or r.type == CameraType.SECTION_END]
        numbers = np.fromiter((r.number for r in limits), float, len(limits))
        lat = np.fromiter((r.lat for r in limits), float, len(limits))
        lon = np.fromiter((r.lon for r in limits), float, len(limits))
        unit, warning = file_unit(requested, numbers, lat, lon)
        given = numbers[~np.isnan(numbers) & (numbers > 0)]
        if warning:
            file_note(f"SPEED: {warning}")
            if state is not None:
                state.warnings.append(warning)
        elif unit == "mph" and len(given):
            if requested == "auto":
                file_note("SPEED read as mph and converted to km/h: the cameras lie in countries that post limits "
                          "in mph and the values look like mph; pass --speed-unit kmh if they are km/h")
            else:
                file_note("SPEED read as mph (as asked) and converted to km/h")
        return unit

    @staticmethod
    def _pair(rows: list[_Row], table: CodeTable, vendor: str) -> list[Record]:
        out: list[Record] = []
        by_marker = by_pair = 0
        n, i = len(rows), 0
        max_m = table.max_km * 1000.0
        while i < n:
            row = rows[i]
            if row.role == START:
                nxt = rows[i + 1] if i + 1 < n else None
                if nxt is not None and nxt.role == END:
                    metres = _metres(row, nxt)
                    if metres <= max_m:
                        out.append(_section(row, nxt))
                        by_marker += 1
                        i += 2
                        continue
                    row.notes.append(f"section start: the end row after it (line {nxt.line}) is "
                                     f"{metres / 1000:.0f} km away, more than {table.max_km:g} km; kept as a "
                                     f"section start")
                elif (nxt is not None and nxt.role == START
                      and not (i + 2 < n and rows[i + 2].role == END) and _one_section(row, nxt, table)):
                    out.append(_section(row, nxt))
                    by_pair += 1
                    i += 2
                    continue
                else:
                    row.notes.append("section start without an end row after it: kept as a section start")
                out.append(_record(row, CameraType.SECTION_START))
            elif row.role == END:
                row.notes.append("section end row without a start row before it: kept as a section end point")
                if row.type == CameraType.SECTION_START:
                    row.speed = None  # an end marker, not a limit
                out.append(_record(row, CameraType.SECTION_END))
            else:
                out.append(_record(row, row.type))
            i += 1
        ends = ", ".join(f"{v:g}" for v in sorted(table.end_speeds))
        if by_marker:
            file_note(f"{vendor} sections: {by_marker} read from a start row and the end row after it "
                      f"(SPEED {ends} marks an end row, which is not a camera of its own)")
        if by_pair:
            file_note(f"{vendor} sections: {by_pair} read from two section rows in a row (start, end: same speed "
                      f"and direction, {table.min_m:g} m to {table.max_km:g} km apart); if they are single "
                      f"cameras, give their TYPE another type in a mapping file's [types] table")
        return out

    @staticmethod
    def _count_codes(rows: list[_Row], types: _Types, vendor: str) -> None:
        counts = Counter(r.code for r in rows if r.type == CameraType.OTHER)
        labels = {code: (label, counted) for _, _, code, label, counted, _ in types.cache.values()}
        for code, count in counts.most_common():
            label, counted = labels.get(code, ("", False))
            if not counted:
                continue
            rows_text = f"{count} row{'s' if count != 1 else ''}"
            if label == "unknown code":
                file_note(f"{vendor} TYPE {code} (unknown code): {rows_text} read as OTHER; add it to a mapping "
                          f"file's [types] table")
            else:
                file_note(f"{vendor} TYPE {code} ({label}): {rows_text} read as OTHER")


def _speed_number(text: str) -> float:
    stripped = text.strip()
    if not stripped:
        return math.nan
    try:
        number = float(stripped) if len(stripped) <= 40 else math.inf
    except ValueError:
        raise ValueError(f"SPEED {stripped[:40]!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"SPEED {stripped[:40]!r} is not a speed limit")
    return number


def _one_section(a: _Row, b: _Row, table: CodeTable) -> bool:
    """Whether two section rows in a row are one section's start and end."""
    same_speed = a.number == b.number or (a.number != a.number and b.number != b.number)
    if not same_speed or a.mode != b.mode:
        return False
    if a.mode is not ALL and abs((a.heading - b.heading + 180.0) % 360.0 - 180.0) > 90.0:
        return False
    return table.min_m <= _metres(a, b) <= table.max_km * 1000.0


def _text(row: _Row, notes: list[str]) -> str:
    return fit(row.comment, DESCRIPTION_MAX, "description", notes) if row.comment else ""


def _record(row: _Row, type_: CameraType) -> Record:
    notes = row.notes
    kind = row.kind if type_ is row.type else Kind.FIXED
    text = _text(row, notes) if row.comment else ""
    return Record(row.line, row.lat, row.lon, type_, kind, row.ref, row.speed, None, row.heading, row.mode,
                  "", text, "", None, None, None, 0, notes)


def _section(start: _Row, end: _Row) -> Record:
    notes = start.notes + end.notes
    speed = start.speed if start.speed is not None else (end.speed if end.type == CameraType.SECTION_END else None)
    text = start.comment
    if end.comment and end.comment != text:
        text = f"{text} / {end.comment}" if text else end.comment
    text = fit(text, DESCRIPTION_MAX, "description", notes) if text else ""
    return Record(start.line, start.lat, start.lon, CameraType.SECTION, Kind.FIXED, start.ref or end.ref, speed,
                  None, start.heading, start.mode, description=text, end_lat=end.lat, end_lon=end.lon, notes=notes)
