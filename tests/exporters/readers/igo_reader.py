"""A strict reader for iGO ``speedcam.txt`` and Navitel ``SpeedCam.txt``, for tests.

Written from the format notes (docs/formats/igo-speedcam-txt.md, docs/formats/navitel.md and
their sources), not from the exporter: it checks what a device would need (exact header,
column count, numbers it can parse, value ranges, Navitel's IDX = the line number from 0)
and returns the rows. Anything off raises ``SpeedcamFormatError`` naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IGO_HEADER = "X,Y,TYPE,SPEED,DIRTYPE,DIRECTION"
NAVITEL_HEADER = "IDX,X,Y,TYPE,SPEED,DirType,Direction"

# TYPE codes named in the notes: iGO core 1-7 and the community extensions; Navitel 1 static,
# 2 red light + speed, 3 red light, 4 section, 5 mobile, 101-106 dangers (speed limit, speed
# bump, bad road, dangerous bend, dangerous junction, other danger).
IGO_TYPE_CODES = frozenset(range(1, 16)) | {30, 31, 35}
NAVITEL_TYPE_CODES = frozenset({1, 2, 3, 4, 5}) | frozenset(range(101, 107))

COORD = re.compile(r"-?\d{1,3}\.\d{5,6}")  # 5 or 6 decimals, "." as decimal point
UINT = re.compile(r"\d+")


class SpeedcamFormatError(AssertionError):
    pass


@dataclass(frozen=True)
class SpeedcamRow:
    line: int
    lon: float
    lat: float
    type: int
    speed: int
    dirtype: int
    direction: int
    idx: int | None = None  # Navitel only


def _coord(text: str, limit: float, name: str, line: int) -> float:
    if not COORD.fullmatch(text):
        raise SpeedcamFormatError(f"line {line}: {name} {text!r} is not a decimal with 5 or 6 decimals")
    value = float(text)
    if abs(value) > limit:
        raise SpeedcamFormatError(f"line {line}: {name} {value} is outside ±{limit}")
    return value


def _uint(text: str, name: str, line: int, low: int, high: int) -> int:
    if not UINT.fullmatch(text):
        raise SpeedcamFormatError(f"line {line}: {name} {text!r} is not a whole number")
    value = int(text)
    if not low <= value <= high:
        raise SpeedcamFormatError(f"line {line}: {name} {value} is outside {low}-{high}")
    return value


def read_speedcam(data: bytes, *, navitel: bool = False) -> list[SpeedcamRow]:
    """Parse a whole file; ``navitel`` selects the 7-column Navitel layout."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as err:
        raise SpeedcamFormatError(f"not ASCII: {err}") from None
    if not text.endswith("\r\n"):
        raise SpeedcamFormatError("the last line does not end with CRLF")
    lines = text[:-2].split("\r\n")
    if any("\n" in line or "\r" in line for line in lines):
        raise SpeedcamFormatError("mixed line endings: a bare LF or CR inside the file")
    header = NAVITEL_HEADER if navitel else IGO_HEADER
    if lines[0] != header:
        raise SpeedcamFormatError(f"header {lines[0]!r}, expected {header!r}")
    ncols = 7 if navitel else 6
    codes = NAVITEL_TYPE_CODES if navitel else IGO_TYPE_CODES
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        if len(fields) != ncols:
            raise SpeedcamFormatError(f"line {number}: {len(fields)} fields, expected {ncols}: {line!r}")
        idx = None
        if navitel:
            idx = _uint(fields[0], "IDX", number, 0, 2**63 - 1)
            if idx != number - 2:  # the line number from 0: no gap, no repeat
                raise SpeedcamFormatError(f"line {number}: IDX {idx}, expected the line number {number - 2}")
            fields = fields[1:]
        x, y, type_, speed, dirtype, direction = fields
        row = SpeedcamRow(
            line=number,
            lon=_coord(x, 180.0, "X", number),
            lat=_coord(y, 90.0, "Y", number),
            type=_uint(type_, "TYPE", number, 0, 999),
            speed=_uint(speed, "SPEED", number, 0, 300),
            dirtype=_uint(dirtype, "DIRTYPE", number, 0, 2),
            direction=_uint(direction, "DIRECTION", number, 0, 359),
            idx=idx,
        )
        if row.type not in codes:
            raise SpeedcamFormatError(f"line {number}: TYPE {row.type} is not one of {sorted(codes)}")
        if row.dirtype == 0 and row.direction != 0:
            raise SpeedcamFormatError(f"line {number}: DIRTYPE 0 (all directions) with DIRECTION {row.direction}")
        rows.append(row)
    return rows


def unmatched(expected: list[tuple], actual: list[tuple], tol: float = 1e-5) -> tuple[list, list]:
    """Match two lists of points as unordered multisets.

    Each item is ``(lon, lat, *other)``: coordinates must agree within ``tol`` degrees and
    the other fields exactly. Returns (expected items without a match, actual items left over).
    """
    left = list(actual)
    missing = []
    for exp in expected:
        for i, act in enumerate(left):
            if (tuple(act[2:]) == tuple(exp[2:]) and abs(act[0] - exp[0]) <= tol
                    and abs(act[1] - exp[1]) <= tol):
                del left[i]
                break
        else:
            missing.append(exp)
    return missing, left


def section_pairs(rows: list[SpeedcamRow], code: int = 4) -> list[tuple[SpeedcamRow, SpeedcamRow]]:
    """The section rows (TYPE ``code``) as iGO pairs them: a section point starts a warning that
    stays on until the next section point (iGO manuals), so a file's section points must come
    as (start, end) on consecutive lines. Raises ``SpeedcamFormatError`` for a lone one."""
    pairs, open_row = [], None
    for row in rows:
        if open_row is not None and row.type != code:
            raise SpeedcamFormatError(f"line {open_row.line}: a section point without an end point after it")
        if row.type == code:
            if open_row is None:
                open_row = row
            else:
                pairs.append((open_row, row))
                open_row = None
    if open_row is not None:
        raise SpeedcamFormatError(f"line {open_row.line}: a section point without an end point after it")
    return pairs
