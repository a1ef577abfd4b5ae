"""A strict reader for Garmin GPI files, for tests.

Written from shared/formats/garmin-gpi.md, not from the exporter. A GPI file is a tree of
little-endian records: uint16 type, uint16 flags, uint32 length; with flag 0x0008 a uint32
main-part length follows, the length then counts the main part and the nested records of
the extra part after it. Layouts used here (section 3 of the notes):

- type 0 header: "GRMREC" + 2-char version, uint32 creation time (seconds since
  1989-12-31), uint16 0, uint16 n, n bytes label;
- type 1 header: "POI\\0", 2 bytes, "00", uint16 code page, uint16;
- type 9 POI group: lc-string list (the category name), then (as GPSBabel writes it) the
  area records inside the main part; extra part: bitmaps and other records;
- type 8 area: int32 max lat, max lon, min lat, min lon (semicircles), int32, uint16, uint8
  "an alert in this area"; extra part: POIs;
- type 2 POI: int32 lat, int32 lon, uint16, uint8 alert flag, lc-string list (name); extra
  part: alert (3), bitmap reference (4), category reference (6), comment (10), ...;
- type 3 alert: int16 proximity (m), uint16 speed (cm/s; 0 = no speed), 8 flag bytes (byte 8:
  1 = on; byte 10: 4 with proximity only, 5 with a speed, as GPSBabel writes them);
- type 5 bitmap: uint16 id, height, width, bytes per line, bits per pixel, 0; uint32
  image size, 0x2C, palette entries, transparent colour, flag, image size + 0x2C; the
  rows top-down, then the palette as R, G, B, 0;
- type 0xFFFF end: length 0, last record of the file.

Every length is checked: a record must end inside its parent, the main part must fit the
record, the nested records must fill the extra part exactly, lc-string lists must add up,
fixed-size records must have their size, each POI must lie in its area's box and its alert
flag must match its alert record. Anything off raises ``GpiFormatError`` with the offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

GARMIN_EPOCH_UNIX = 631_065_600
CODE_PAGES = {**{cp: f"cp{cp}" for cp in range(1250, 1259)}, 65001: "utf-8"}
EXTRA_FLAG = 0x0008
KNOWN_POI_CHILDREN = {3, 4, 6, 10, 11, 12, 13, 14, 18}


class GpiFormatError(AssertionError):
    pass


@dataclass
class Record:
    type: int
    flags: int
    offset: int              # of the record header in the file
    length: int              # the length field
    main_length: int | None  # None without the extra flag
    main: bytes
    children: list["Record"] = field(default_factory=list)

    @property
    def size(self) -> int:
        return (12 if self.main_length is not None else 8) + self.length


@dataclass
class Alert:
    proximity_m: int
    speed_cms: int
    flags: bytes             # bytes 4-11 as written

    @property
    def speed_kmh(self) -> int | None:
        """cm/s -> km/h (x 0.036), rounded to whole km/h; None without a speed."""
        return round(self.speed_cms * 36 / 1000) if self.speed_cms else None

    @property
    def on(self) -> bool:
        """Byte 8 (flag byte 4): 1 = the alert is on (KMZRebuilder's reading; GPSBabel writes 1)."""
        return self.flags[4] == 1


@dataclass
class Bitmap:
    id: int
    width: int
    height: int
    bits: int
    transparent: int         # 0x00BBGGRR as stored
    pixels: np.ndarray       # (height, bytes per line) uint8, top row first
    palette: np.ndarray      # (entries, 3) uint8 R, G, B

    def rgb(self) -> np.ndarray:
        """(height, width, 3) colours of an 8-bit bitmap."""
        assert self.bits == 8
        return self.palette[self.pixels[:, :self.width]]


@dataclass
class GpiPoi:
    offset: int
    lat_sc: int              # semicircles
    lon_sc: int
    name: str
    comment: str | None
    alert: Alert | None
    bitmap_ref: int | None
    category: str            # the name of its POI group
    area: int                # index into GpiFile.areas
    names: dict = field(default_factory=dict)   # language code -> name

    @property
    def lat(self) -> float:
        return self.lat_sc * 180.0 / 2**31

    @property
    def lon(self) -> float:
        return self.lon_sc * 180.0 / 2**31

    @property
    def proximity_m(self) -> int | None:
        return self.alert.proximity_m if self.alert else None

    @property
    def speed_kmh(self) -> int | None:
        return self.alert.speed_kmh if self.alert else None


@dataclass
class Area:
    offset: int
    max_lat: int
    max_lon: int
    min_lat: int
    min_lon: int
    alert_flag: int
    pois: list[int] = field(default_factory=list)   # indices into GpiFile.pois


@dataclass
class Group:
    name: str
    areas: list[int] = field(default_factory=list)
    bitmaps: list[Bitmap] = field(default_factory=list)


@dataclass
class GpiFile:
    version: str
    created_garmin: int
    label: str
    code_page: int
    groups: list[Group]
    areas: list[Area]
    pois: list[GpiPoi]
    records: list[Record]    # top level

    @property
    def created_unix(self) -> int:
        return self.created_garmin + GARMIN_EPOCH_UNIX


def _fail(offset: int, message: str):
    raise GpiFormatError(f"at byte {offset}: {message}")


def parse_records(data: bytes, start: int, end: int) -> list[Record]:
    """The records that exactly fill data[start:end]."""
    out = []
    pos = start
    while pos < end:
        if end - pos < 8:
            _fail(pos, f"{end - pos} stray bytes where a record header (8 bytes) should be")
        rtype, flags, length = struct.unpack_from("<HHI", data, pos)
        head = 8
        main_length = None
        if flags & EXTRA_FLAG:
            if end - pos < 12:
                _fail(pos, "record with the extra flag but no main-length field")
            main_length, = struct.unpack_from("<I", data, pos + 8)
            head = 12
            if main_length > length:
                _fail(pos, f"type {rtype}: main part {main_length} longer than the record ({length})")
        body = pos + head
        if body + length > end:
            _fail(pos, f"type {rtype}: length {length} runs past the end of its parent ({end - body} bytes left)")
        main_end = body + (length if main_length is None else main_length)
        rec = Record(rtype, flags, pos, length, main_length, data[body:main_end])
        if main_length is not None:
            rec.children = parse_records(data, main_end, body + length)
        out.append(rec)
        pos = body + length
    return out


def parse_lc(data: bytes, at: int, offset: int, codec: str) -> tuple[dict, int]:
    """An lc-string list at data[at:]: ({language: text}, bytes used)."""
    if len(data) - at < 4:
        _fail(offset, "lc-string list without its length")
    total, = struct.unpack_from("<I", data, at)
    pos, end = at + 4, at + 4 + total
    if end > len(data):
        _fail(offset, f"lc-string list of {total} bytes runs past its record")
    texts = {}
    while pos < end:
        if end - pos < 4:
            _fail(offset, "lc-string list ends inside an entry header")
        lang = data[pos:pos + 2].decode("ascii")
        n, = struct.unpack_from("<H", data, pos + 2)
        if pos + 4 + n > end:
            _fail(offset, f"lc-string of {n} bytes runs past its list")
        raw = data[pos + 4:pos + 4 + n]
        if b"\0" in raw:
            _fail(offset, "NUL inside a string")
        texts[lang] = raw.decode(codec)
        pos += 4 + n
    if not texts:
        _fail(offset, "empty lc-string list")
    return texts, 4 + total


def _first(texts: dict) -> str:
    return texts.get("EN", next(iter(texts.values())))


def parse_bitmap(rec: Record) -> Bitmap:
    if rec.main_length is not None:
        _fail(rec.offset, "a bitmap record with the extra flag")
    d = rec.main
    if len(d) < 36:
        _fail(rec.offset, f"bitmap of {len(d)} bytes is shorter than its 36-byte header")
    bid, height, width, line, bits, zero, size, x2c, entries, transparent, flag, size2c = struct.unpack_from("<6H6I", d)
    if line * height != size or line < (width * bits + 7) // 8:
        _fail(rec.offset, f"bitmap {width}x{height} at {bits} bpp: {line} bytes per line, image size {size}")
    if x2c != 0x2C or size2c != size + 0x2C:
        _fail(rec.offset, f"bitmap size fields {x2c:#x}, {size2c} do not match image size {size}")
    if len(d) != 36 + size + 4 * entries:
        _fail(rec.offset, f"bitmap record is {len(d)} bytes, header says {36 + size + 4 * entries}")
    pixels = np.frombuffer(d, np.uint8, size, 36).reshape(height, line)
    quads = np.frombuffer(d, np.uint8, 4 * entries, 36 + size).reshape(entries, 4)
    if bits <= 8 and entries and int(pixels[:, :width].max()) >= entries:
        _fail(rec.offset, "bitmap pixel refers past the palette")
    return Bitmap(bid, width, height, bits, transparent, pixels.copy(), quads[:, :3].copy())


def read_gpi(data: bytes) -> GpiFile:
    records = parse_records(data, 0, len(data))
    if len(records) < 3 or records[0].type != 0 or records[1].type != 1:
        _fail(0, "a GPI file starts with header records 0 and 1")
    h0 = records[0].main
    if records[0].main_length is not None or h0[:6] != b"GRMREC" or len(h0) < 18:
        _fail(0, "not a GPI header (GRMREC)")
    version = h0[6:8].decode("ascii")
    created, _, n = struct.unpack_from("<IHH", h0, 8)
    if len(h0) != 16 + n:
        _fail(0, f"header 0 is {len(h0)} bytes, its label says {16 + n}")
    label = h0[16:].decode("latin-1")
    h1 = records[1].main
    if h1[:4] != b"POI\0" or len(h1) != 12:
        _fail(records[1].offset, f"header 1 {h1[:4]!r} of {len(h1)} bytes (expected 'POI\\0', 12 bytes)")
    code_page, = struct.unpack_from("<H", h1, 8)
    if code_page not in CODE_PAGES:
        _fail(records[1].offset, f"code page {code_page} (the file is encrypted or broken)")
    codec = CODE_PAGES[code_page]
    if records[-1].type != 0xFFFF or records[-1].length != 0:
        _fail(records[-1].offset, "the last record is not the end record (type 0xFFFF, length 0)")

    result = GpiFile(version, created, label, code_page, [], [], [], records)
    for rec in records[2:-1]:
        if rec.type == 0xFFFF:
            _fail(rec.offset, "end record before the end of the file")
        if rec.type == 9:
            _read_group(data, rec, codec, result)
        elif rec.type in (0, 1):
            _fail(rec.offset, f"header record {rec.type} repeated")
    return result


def _read_group(data: bytes, rec: Record, codec: str, out: GpiFile) -> None:
    if rec.main_length is None:
        _fail(rec.offset, "a POI group without the extra flag")
    texts, used = parse_lc(rec.main, 0, rec.offset, codec)
    group = Group(_first(texts))
    main_start = rec.offset + 12
    # As GPSBabel writes it, the areas follow the name inside the main part.
    nested = parse_records(data, main_start + used, main_start + rec.main_length)
    for child in nested + rec.children:
        if child.type == 8:
            _read_area(child, codec, group, out)
        elif child.type == 5:
            group.bitmaps.append(parse_bitmap(child))
        elif child.type in (0, 1, 2, 3, 4, 9, 0xFFFF):
            _fail(child.offset, f"record type {child.type} directly inside a POI group")
    out.groups.append(group)


def _read_area(rec: Record, codec: str, group: Group, out: GpiFile) -> None:
    if rec.main_length != 23:
        _fail(rec.offset, f"area main part of {rec.main_length} bytes (expected 23)")
    max_lat, max_lon, min_lat, min_lon, _, _, alert_flag = struct.unpack_from("<iiiiiHB", rec.main)
    if min_lat > max_lat or min_lon > max_lon:
        _fail(rec.offset, "area box with min above max")
    area = Area(rec.offset, max_lat, max_lon, min_lat, min_lon, alert_flag)
    index = len(out.areas)
    out.areas.append(area)
    group.areas.append(index)
    any_alert = False
    for child in rec.children:
        if child.type != 2:
            _fail(child.offset, f"record type {child.type} inside an area (only POIs expected)")
        poi = _read_poi(child, codec, group.name, index)
        if not (min_lat <= poi.lat_sc <= max_lat and min_lon <= poi.lon_sc <= max_lon):
            _fail(child.offset, f"POI ({poi.lat_sc}, {poi.lon_sc}) outside its area's box")
        any_alert |= poi.alert is not None
        area.pois.append(len(out.pois))
        out.pois.append(poi)
    if bool(alert_flag) != any_alert:
        _fail(rec.offset, f"area alert flag {alert_flag} but POIs with alerts: {any_alert}")


def _read_poi(rec: Record, codec: str, category: str, area: int) -> GpiPoi:
    if rec.main_length is None:
        _fail(rec.offset, "a POI record without the extra flag")
    lat, lon, _, alert_flag = struct.unpack_from("<iiHB", rec.main)
    texts, used = parse_lc(rec.main, 11, rec.offset, codec)
    if 11 + used != len(rec.main):
        _fail(rec.offset, f"POI main part is {len(rec.main)} bytes, fields make {11 + used}")
    alert = comment = bitmap_ref = None
    for child in rec.children:
        if child.type not in KNOWN_POI_CHILDREN:
            _fail(child.offset, f"record type {child.type} inside a POI")
        if child.type == 3:
            if len(child.main) != 12 or alert is not None:
                _fail(child.offset, f"alert record of {len(child.main)} bytes (12 expected, one per POI)")
            prox, speed = struct.unpack_from("<hH", child.main)
            alert = Alert(prox, speed, child.main[4:])
        elif child.type == 4:
            if len(child.main) != 2:
                _fail(child.offset, "bitmap reference is not 2 bytes")
            bitmap_ref, = struct.unpack_from("<H", child.main)
        elif child.type == 10:
            comments, used_c = parse_lc(child.main, 0, child.offset, codec)
            if used_c != len(child.main):
                _fail(child.offset, "comment record longer than its string")
            comment = _first(comments)
    if bool(alert_flag) != (alert is not None):
        _fail(rec.offset, f"POI alert flag {alert_flag} but alert record present: {alert is not None}")
    return GpiPoi(rec.offset, lat, lon, _first(texts), comment, alert, bitmap_ref, category, area, texts)
