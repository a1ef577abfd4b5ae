"""The project's own CSV feed format (reader name ``csv``); documented in docs/feed-csv.md.

A header row names the columns (case-insensitive, any order); only ``lat`` and ``lon`` are
required. ``,`` or ``;`` separates fields (with ``;`` a decimal comma is accepted too).
Coordinate, speed and heading checks and text fitting come from ``base``, shared with the
other text readers.
"""

from __future__ import annotations

from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path
from typing import Iterator

from exporters.schema import MOBILE_TYPES, CameraType, DirectionMode, Kind

from .base import (
    DESCRIPTION_MAX,
    ROAD_MAX,
    FormatError,
    Reader,
    Record,
    Rejection,
    coordinate,
    csv_rows,
    first_line,
    fit,
    header_fields,
    heading_value,
    position,
    read_text,
    register,
    speed_value,
)

# --------------------------------------------------------------------------- native CSV

COLUMNS = ("ref", "kind", "type", "lat", "lon", "speed", "truck_speed", "heading", "direction",
           "country", "road", "description", "end_lat", "end_lon", "reported_at", "reports")
REQUIRED = ("lat", "lon")
MOBILE, FIXED = Kind.MOBILE, Kind.FIXED  # enum member look-ups are slow in a hot loop
SPEED, MOBILE_CAMERA = CameraType.SPEED, CameraType.MOBILE_CAMERA
ALL, ONE = DirectionMode.ALL, DirectionMode.ONE
# Column names that identify this format (more than just a latitude/longitude pair).
OWN_MARKERS = frozenset({"ref", "kind", "type", "direction", "truck_speed", "end_lat", "end_lon",
                         "reported_at", "reports"})
# Headers of third-party CSVs with their own readers: never claim them.
FOREIGN_MARKERS = frozenset({"osm_node_id", "feed_type", "equipement", "vitesse_vehicules_legers_kmh"})


def _type_code(text: str) -> CameraType:
    try:
        return CameraType.parse(text)
    except ValueError:
        if text.strip().lstrip("-").isdigit():
            codes = ", ".join(str(int(t)) for t in CameraType)
            raise ValueError(f"type {text.strip()!r} is not a camera type code; valid codes: {codes}") from None
        slugs = ", ".join(t.slug for t in CameraType)
        raise ValueError(f"type {text.strip()!r} is not a known camera type; valid: {slugs}") from None


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"reported_at {text.strip()!r} is not an ISO 8601 date/time "
                         f"(e.g. 2026-03-01T14:30:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def _cached(cache: dict, parse, text: str):
    """Parse a column value once per distinct text (errors are raised again each time)."""
    try:
        return cache[text]
    except KeyError:
        value = cache[text] = parse(text)
        return value


def _kind(text: str) -> Kind | None:
    return Kind.parse(text) if text.strip() else None


def _speed(text: str) -> int | None:
    return speed_value(text.replace(",", "."), "speed")


def _truck_speed(text: str) -> int | None:
    return speed_value(text.replace(",", "."), "truck_speed")


def _delimiter(line: str) -> str:
    """``;`` when the header splits into lat/lon on ``;``, else ``,``."""
    semi = set(header_fields(line, ";"))
    comma = set(header_fields(line, ","))
    if {"lat", "lon"} <= semi and not {"lat", "lon"} <= comma:
        return ";"
    if {"lat", "lon"} <= comma:
        return ","
    return ";" if line.count(";") > line.count(",") else ","


@register
class NativeCsvReader(Reader):
    name = "csv"
    label = "Speed-camera CSV (this project's documented format)"
    extensions = (".csv", ".txt")

    def sniff(self, head: bytes, path: Path) -> int:
        line = first_line(head)
        if not line:
            return 0
        cols = set(header_fields(line, _delimiter(line)))
        if cols & FOREIGN_MARKERS or not {"lat", "lon"} <= cols:
            return 0
        if not cols & OWN_MARKERS:
            # only lat/lon plus columns such as speed/road: ours if nothing is foreign to us
            return 40 if cols <= set(COLUMNS) else 0
        return 80 if cols <= set(COLUMNS) else 45

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        text, _ = read_text(path)
        # the header is the first non-empty line
        start = 0
        while True:
            end = text.find("\n", start)
            line = text[start:] if end < 0 else text[start:end]
            if line.strip() or end < 0:
                break
            start = end + 1
        header_line = line.strip()
        if not header_line:
            raise FormatError(f"{path}: no header row; the first line must name the columns "
                              f"(lat and lon are required)")
        delim = _delimiter(header_line)
        header, header_no = [], 0
        for header_no, header, problem in csv_rows(text, delim):
            if problem:
                raise FormatError(f"{path}:{header_no}: the header row cannot be read: {problem}")
            if any(cell.strip() for cell in header):
                break
        names = [cell.strip().strip('"').strip().lower() for cell in header]
        while names and names[-1] == "":
            names.pop()  # trailing separators after the last column name
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise FormatError(
                f"{path}: the header row {header_line[:120]!r} lacks the required column(s) "
                f"{', '.join(missing)}; columns are: {', '.join(COLUMNS)}")
        unknown = [c for c in names if c not in COLUMNS]
        if unknown:
            raise FormatError(f"{path}: unknown column(s) {', '.join(map(repr, unknown))}; "
                              f"valid columns are: {', '.join(COLUMNS)}")
        dupes = sorted({c for c in names if names.count(c) > 1})
        if dupes:
            raise FormatError(f"{path}: column(s) {', '.join(dupes)} appear more than once in the header")
        ncols = len(names)
        # one tuple per row in COLUMNS order; an absent column reads the "" appended to each row
        pick = itemgetter(*(names.index(c) if c in names else ncols for c in COLUMNS))
        decimal_comma = delim == ";"
        caches = ({}, {}, {}, {}, {}, {})  # type, kind, direction, speed, truck_speed, heading
        # a quoted line break is allowed (docs/feed-csv.md); a stray quote costs its own row only
        for line_no, fields, problem in csv_rows(text, delim, multiline=True, expected=ncols, start=header_no):
            if problem:
                yield Rejection(fname, line_no, problem)
                continue
            if len(fields) != ncols:
                if not fields or not any(f.strip() for f in fields):
                    continue  # blank line
                if len(fields) > ncols and not any(f.strip() for f in fields[ncols:]):
                    del fields[ncols:]  # trailing empty separators
                else:
                    yield Rejection(fname, line_no, f"expected {ncols} fields as in the header, got {len(fields)}")
                    continue
            fields.append("")
            try:
                yield self._record(pick(fields), line_no, decimal_comma, caches)
            except ValueError as err:
                yield Rejection(fname, line_no, str(err))

    @staticmethod
    def _record(values: tuple, line_no: int, decimal_comma: bool, caches: tuple) -> Record:
        (ref, kind_text, type_text, lat_text, lon_text, speed_text, truck_text, heading_text, mode_text,
         country, road, description, end_lat_text, end_lon_text, reported_text, reports_text) = values
        types, kinds, modes, speeds, truck_speeds, headings = caches
        if decimal_comma:
            lat_text, lon_text = lat_text.replace(",", "."), lon_text.replace(",", ".")
        lat, lon = position(lat_text, lon_text)
        notes: list[str] = []
        reported_at = None
        if reported_text:
            reported_at = _timestamp(reported_text)
        kind = _cached(kinds, _kind, kind_text)
        if type_text:
            type_ = _cached(types, _type_code, type_text)
        elif kind == MOBILE or (kind is None and reported_at is not None):
            type_ = MOBILE_CAMERA
        else:
            type_ = SPEED
        if kind is None:
            kind = MOBILE if type_ in MOBILE_TYPES else FIXED
        if reported_at is not None and kind != MOBILE:
            raise ValueError(f"reported_at {reported_text.strip()!r} is only allowed on mobile reports, "
                             f"but kind is {kind.name.lower()}; set kind to mobile or leave reported_at empty")

        speed = _cached(speeds, _speed, speed_text)
        truck_speed = _cached(truck_speeds, _truck_speed, truck_text)
        heading = _cached(headings, heading_value, heading_text.replace(",", ".") if decimal_comma else heading_text)
        mode_text = mode_text.strip()
        if mode_text:
            dir_mode = _cached(modes, DirectionMode.parse, mode_text)
        else:
            dir_mode = ALL if heading is None else ONE
        if dir_mode != ALL and heading is None:
            raise ValueError(f"direction {mode_text!r} needs a heading, but heading is empty")

        end_lat = end_lon = None
        if end_lat_text or end_lon_text:
            if decimal_comma:
                end_lat_text, end_lon_text = end_lat_text.replace(",", "."), end_lon_text.replace(",", ".")
            if not (end_lat_text.strip() and end_lon_text.strip()):
                raise ValueError("end_lat and end_lon must be given together (one of them is empty)")
            end_lat = coordinate(end_lat_text, "end_lat", 90)
            end_lon = coordinate(end_lon_text, "end_lon", 180)
            if end_lat == 0.0 and end_lon == 0.0:
                raise ValueError("end position 0,0 (null island) is a missing position")

        if country:
            code = country.strip().upper()
            if code and not (len(code) == 2 and code.isascii() and code.isalpha()):
                raise ValueError(f"country {country.strip()!r} is not an ISO 3166-1 alpha-2 code such as DE")
            country = code

        reports = 0
        if reports_text:
            reports_text = reports_text.strip()
            if reports_text:
                if not (reports_text.isascii() and reports_text.isdigit()):
                    raise ValueError(f"reports {reports_text!r} is not a whole number >= 0")
                # digits beyond any count (Python refuses int() over 4,300): the importer clamps it
                reports = int(reports_text) if len(reports_text) <= 30 else 10 ** 30

        road, description = road.strip(), description.strip()
        if len(road) > ROAD_MAX:
            road = fit(road, ROAD_MAX, "road", notes)
        if len(description) > DESCRIPTION_MAX:
            description = fit(description, DESCRIPTION_MAX, "description", notes)
        return Record(line_no, lat, lon, type_, kind, ref.strip(), speed, truck_speed, heading, dir_mode,
                      road, description, country, end_lat, end_lon, reported_at, reports, notes)
