"""TomTom OV2 POI files (reader ``ov2``); layout in docs/formats/tomtom-ov2.md.

A flat sequence of little-endian records, each starting with a type byte:

- 0 and 100: deleted / category-name records (``u8 type, i32 length``): skipped;
- 1: skipper (bounding box), always 21 bytes; the POIs it indexes follow it, so only its
  own 21 bytes are skipped;
- 2: POI ``u8 type, i32 length, i32 lon*1e5, i32 lat*1e5, name NUL``;
- 3: extended POI: like 2 but three NUL-terminated strings: name, unique id (-> ``ref``),
  extra data (appended to the description);
- 8, 9, 24, 25: compressed proprietary POIs (``u8 type, u8 n``, then n + 6 bytes): skipped,
  as GPSBabel does.

Names are 8-bit text: UTF-8 when valid, else Windows-1252. The name is classified like a
Garmin POI name (``text_helpers.classify_poi``: multilingual type words, ``@50``, ``30 mph``);
lufop's ``max 130`` (the ``@`` removed) gives speed 130. Numbers without a unit follow
``--speed-unit`` (``auto``: mph when most POIs lie in mph countries). The name is the
description. A name that says no type ("Camera E001": a word for any camera and the
device's number) takes the file's type (``text_helpers.settle_types``: the mapping's
``[defaults] type``, else the file name's words, else OTHER, with a note). A file the
project exported (every name "Speed 50 A7" or "Speed 30 mph A40": a label of ours, the speed
in km/h, or in mph when the name says so, the road;
never a device number such as "E001") gives back the type, the speed in km/h and the road.
``line`` is the 1-based record number counting every record in the file (skippers and
deleted records too). A record running past the end of the file, or an unknown record type,
yields a Rejection naming the byte offset and stops the reading.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Iterator

from exporters.schema import DirectionMode

from .base import DESCRIPTION_MAX, ROAD_MAX, Reader, Record, Rejection, decode, fit, register
from .text_helpers import TextSpeed, classify_poi, export_name, settle_speeds, settle_types

POI_HEAD = struct.Struct("<Biii")   # type, length, lon, lat
LENGTH = struct.Struct("<i")
COMPRESSED = frozenset({8, 9, 24, 25})


def _check_chain(data: bytes, size: int, limit: int = 200) -> int:
    """Walk up to ``limit`` records in ``data`` (a file head); number of valid records, -1 if broken."""
    pos, n, whole = 0, 0, len(data) == size
    while pos < len(data) and n < limit:
        kind = data[pos]
        if kind in (2, 3):
            if pos + 13 > len(data):
                break
            _, length, x, y = POI_HEAD.unpack_from(data, pos)
            if length < 14 or pos + length > size or not (-18_000_000 <= x <= 18_000_000) \
                    or not (-9_000_000 <= y <= 9_000_000):
                return -1
            end = pos + length
            if end <= len(data) and data[end - 1] != 0:
                return -1  # the name must be NUL-terminated
            pos = end
        elif kind == 1:
            if pos + 21 > size:
                return -1
            block = LENGTH.unpack_from(data, pos + 1)[0] if pos + 5 <= len(data) else 21
            if block < 21 or pos + block > size + 64:  # tolerate GPSBabel's slight overshoot
                return -1
            pos += 21
        elif kind in (0, 100):
            if pos + 5 > len(data):
                break
            length = LENGTH.unpack_from(data, pos + 1)[0]
            if length < 5 or pos + length > size:
                return -1
            pos += length
        elif kind in COMPRESSED:
            if pos + 2 > len(data):
                break
            pos += 8 + data[pos + 1]
        else:
            return -1
        n += 1
    if whole and n < limit and pos != size:
        return -1
    return n


@register
class Ov2Reader(Reader):
    name = "ov2"
    label = "TomTom OV2 POI file"
    extensions = (".ov2",)

    def sniff(self, head: bytes, path: Path) -> int:
        if not head or head[0] not in (0, 1, 2, 3, 100):
            return 0
        try:
            size = Path(path).stat().st_size
        except OSError:
            size = len(head)
        n = _check_chain(head, size)
        if n <= 0:
            return 0
        if head[0] in (1, 2, 3):
            return 90 if n >= 3 or len(head) == size else 60
        return 50  # starts with a deleted/category record: plausible, less typical

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        items = list(self._items(Path(path)))
        found = [item for item in items if isinstance(item, tuple)]
        records = [rec for rec, _, _, _ in found]
        speeds = [speed for _, speed, _, _ in found]
        names = [name for _, _, name, _ in found]
        own = bool(records) and all(export_name(name, " ") is not None for name in names)
        if own:  # the project's own export: the label is the type, the name's rest the road
            for i, (rec, name) in enumerate(zip(records, names)):
                found = export_name(name, " ")
                rec.type, rec.kind = found.type, found.kind
                rec.road = fit(found.road, ROAD_MAX, "road", rec.notes)
                if found.speed is not None:
                    speeds[i] = TextSpeed(float(found.speed), found.unit, str(found.speed))
        else:
            settle_types([rec for rec, _, _, typed in found if not typed], path)
        dropped = dict(settle_speeds(records, speeds, own=own))
        n = 0
        for item in items:
            if isinstance(item, tuple):
                item = item[0] if n not in dropped else Rejection(Path(path).name, item[0].line,
                                                                  f"{dropped[n]} (name {names[n]!r})")
                n += 1
            yield item

    def _items(self, path: Path) -> Iterator[Rejection | tuple[Record, TextSpeed | None, str, bool]]:
        """A rejection, or (record, the speed its name states, the name, whether the name says
        the type), per record of the file."""
        fname = path.name
        data = path.read_bytes()
        size = len(data)
        unpack_poi = POI_HEAD.unpack_from
        unpack_len = LENGTH.unpack_from
        names: dict[bytes, tuple] = {}  # raw name -> (text, what it says)
        ALL = DirectionMode.ALL
        pos = number = 0
        while pos < size:
            number += 1
            kind = data[pos]
            if kind == 2 or kind == 3:
                if pos + 13 > size:
                    yield Rejection(fname, number, f"record at byte offset {pos} is truncated: a POI needs "
                                                   f"13 header bytes, only {size - pos} left; reading stopped")
                    return
                _, length, x, y = unpack_poi(data, pos)
                if length < 14 or pos + length > size:
                    yield Rejection(fname, number, f"POI record at byte offset {pos} has length {length}, "
                                                   f"but only {size - pos} bytes are left (truncated file?); "
                                                   f"reading stopped")
                    return
                raw = data[pos + 13:pos + length]
                pos += length
                if kind == 2:
                    cut = raw.find(b"\0")
                    raw_name = raw if cut < 0 else raw[:cut]
                    ref = extra = ""
                else:
                    parts = raw.split(b"\0")
                    raw_name = parts[0]
                    ref = decode(parts[1])[0].strip() if len(parts) > 1 else ""
                    extra = decode(parts[2])[0].strip() if len(parts) > 2 else ""
                if not (-9_000_000 <= y <= 9_000_000):
                    yield Rejection(fname, number, f"latitude {y / 1e5:g} is outside -90..90 "
                                                   f"(record at byte offset {pos - length})")
                    continue
                if not (-18_000_000 <= x <= 18_000_000):
                    yield Rejection(fname, number, f"longitude {x / 1e5:g} is outside -180..180 "
                                                   f"(record at byte offset {pos - length})")
                    continue
                if x == 0 and y == 0:
                    yield Rejection(fname, number, "position 0,0 (null island) is a missing position, "
                                                   "not a camera")
                    continue
                try:
                    name, found = names[raw_name]
                except KeyError:
                    name = decode(raw_name)[0].strip()
                    try:
                        found = classify_poi(name)
                    except ValueError as err:
                        yield Rejection(fname, number, str(err))
                        continue
                    names[raw_name] = name, found
                notes = []
                description = fit(f"{name}; {extra}" if extra else name, DESCRIPTION_MAX, "description", notes)
                yield Record(number, y / 1e5, x / 1e5, found.type, found.kind, ref, None, None, None,
                             ALL, "", description, notes=notes), found.text, name, found.typed
            elif kind == 1:
                if pos + 21 > size:
                    yield Rejection(fname, number, f"skipper record at byte offset {pos} is truncated "
                                                   f"(21 bytes needed, {size - pos} left); reading stopped")
                    return
                pos += 21  # the POIs it covers follow inside the block
            elif kind == 0 or kind == 100:
                length = unpack_len(data, pos + 1)[0] if pos + 5 <= size else -1
                if length < 5 or pos + length > size:
                    yield Rejection(fname, number, f"deleted record (type {kind}) at byte offset {pos} has "
                                                   f"length {length}, past the end of the file; reading stopped")
                    return
                pos += length
            elif kind in COMPRESSED:
                if pos + 2 > size or pos + 8 + data[pos + 1] > size:
                    yield Rejection(fname, number, f"compressed record (type {kind}) at byte offset {pos} is "
                                                   f"truncated; reading stopped")
                    return
                pos += 8 + data[pos + 1]
            else:
                yield Rejection(fname, number, f"unknown record type {kind} at byte offset {pos}; the file is "
                                               f"corrupt or uses a proprietary record; reading stopped")
                return
