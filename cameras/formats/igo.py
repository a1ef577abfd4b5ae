"""iGO ``speedcam.txt`` and the Navitel ``SpeedCam.txt`` variant (reader ``igo``).

Layout: docs/formats/igo-speedcam-txt.md (Navitel: docs/formats/navitel.md).

- iGO: header ``X,Y,TYPE,SPEED,DIRTYPE,DIRECTION`` (X = longitude, Y = latitude).
- Navitel: header ``IDX,X,Y,TYPE,SPEED,DirType,Direction``; IDX becomes ``ref`` and the
  direction points at the approaching driver, i.e. 180° from iGO's direction of travel, so it
  is turned round to our heading of the enforced traffic.
- A file without a header whose rows are six numbers is read as iGO.

TYPE codes (core codes 1-7 are documented consistently; the rest come from community lists):

====  ===========================  =========================
code  meaning                      CameraType / kind
====  ===========================  =========================
1     fixed speed camera           SPEED
2     red light + speed            RED_LIGHT_SPEED
3     red light                    RED_LIGHT
4     section control              SECTION_START
5     mobile camera                MOBILE_CAMERA, MOBILE
6     level crossing               LEVEL_CROSSING
7     "not constant" mobile spot   MOBILE_ZONE, MOBILE
8     accident-prone road          DANGER_ZONE
11    red light + speed            RED_LIGHT_SPEED
31    dangerous area               DANGER_ZONE
35    average speed check          SECTION_START
other (9 school zone, 10 town entry, 12 toll, 15 congestion charge, 30 vignette, …)
      -> OTHER, with the code noted
====  ===========================  =========================

SPEED 0 means no limit (None). DIRTYPE 0/1/2 -> DirectionMode ALL/ONE/BOTH; DIRECTION is
ignored (heading None) when DIRTYPE is 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from exporters.schema import CameraType, DirectionMode, Kind

from .base import (
    FormatError,
    Reader,
    Record,
    Rejection,
    csv_rows,
    first_line,
    header_fields,
    heading_value,
    position,
    read_text,
    register,
    speed_value,
)

TYPE_CODES = {
    1: (CameraType.SPEED, Kind.FIXED),
    2: (CameraType.RED_LIGHT_SPEED, Kind.FIXED),
    3: (CameraType.RED_LIGHT, Kind.FIXED),
    4: (CameraType.SECTION_START, Kind.FIXED),
    5: (CameraType.MOBILE_CAMERA, Kind.MOBILE),
    6: (CameraType.LEVEL_CROSSING, Kind.FIXED),
    7: (CameraType.MOBILE_ZONE, Kind.MOBILE),
    8: (CameraType.DANGER_ZONE, Kind.FIXED),
    11: (CameraType.RED_LIGHT_SPEED, Kind.FIXED),
    31: (CameraType.DANGER_ZONE, Kind.FIXED),
    35: (CameraType.SECTION_START, Kind.FIXED),
}
OTHER_CODES = {9: "school zone", 10: "town entry", 12: "toll booth", 13: "hospital/ambulance",
               14: "fire station", 15: "congestion-charge zone", 30: "vignette (sticker) camera"}
IGO_HEADER = ["x", "y", "type", "speed", "dirtype", "direction"]
NAVITEL_HEADER = ["idx", "x", "y", "type", "speed", "dirtype", "direction"]
DIR_MODES = {"0": DirectionMode.ALL, "1": DirectionMode.ONE, "2": DirectionMode.BOTH}
ALL = DirectionMode.ALL


def _all_numbers(fields: list[str]) -> bool:
    try:
        for f in fields:
            float(f)
    except ValueError:
        return False
    return True


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
        return 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        text, _ = read_text(path)
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
        if names == IGO_HEADER:
            navitel = False
        elif names == NAVITEL_HEADER:
            navitel = True
        elif len(names) == 6 and _all_numbers(names):
            navitel, pending = False, (first_no, first, None)
        else:
            raise FormatError(f"{path}: header {','.join(first)[:80]!r} is neither iGO "
                              f"'X,Y,TYPE,SPEED,DIRTYPE,DIRECTION' nor Navitel 'IDX,X,Y,TYPE,SPEED,DirType,Direction'")
        ncols = 7 if navitel else 6
        expected = ",".join(NAVITEL_HEADER if navitel else IGO_HEADER).upper()

        def numbered():
            if pending:
                yield pending
            yield from rows

        caches = ({}, {}, {})  # TYPE, SPEED, DIRECTION text -> parsed value
        for line_no, fields, problem in numbered():
            if problem:
                yield Rejection(fname, line_no, problem)
                continue
            if len(fields) != ncols:
                if not any(f.strip() for f in fields):
                    continue
                yield Rejection(fname, line_no, f"expected {ncols} fields ({expected}), got {len(fields)}")
                continue
            try:
                if navitel:
                    yield self._record(fields[1:], line_no, fields[0].strip(), True, caches)
                else:
                    yield self._record(fields, line_no, "", False, caches)
            except ValueError as err:
                yield Rejection(fname, line_no, str(err))

    @staticmethod
    def _record(fields, line_no, ref, navitel, caches) -> Record:
        x, y, type_text, speed_text, mode_text, dir_text = fields
        lat, lon = position(y, x)
        types, speeds, headings = caches
        try:
            type_, kind, note = types[type_text]
        except KeyError:
            types[type_text] = type_, kind, note = _type(type_text)
        try:
            speed = speeds[speed_text]
        except KeyError:
            speed = speeds[speed_text] = speed_value(speed_text, "SPEED")
        try:
            dir_mode = DIR_MODES[mode_text]
        except KeyError:
            dir_mode = DIR_MODES.get(mode_text.strip())
            if dir_mode is None:
                raise ValueError(f"DIRTYPE {mode_text.strip()!r} is not 0 (all), 1 (one) or 2 (both directions)") from None
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
        return Record(line_no, lat, lon, type_, kind, ref, speed, None, heading, dir_mode,
                      notes=[note] if note else [])


def _type(text: str) -> tuple[CameraType, Kind, str | None]:
    try:
        code = int(text)
    except ValueError:
        raise ValueError(f"TYPE {text.strip()!r} is not a whole number") from None
    if code in TYPE_CODES:
        return (*TYPE_CODES[code], None)
    return CameraType.OTHER, Kind.FIXED, f"iGO TYPE {code} ({OTHER_CODES.get(code, 'unknown code')}) read as OTHER"
