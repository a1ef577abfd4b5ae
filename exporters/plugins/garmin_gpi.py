"""Garmin GPI ("Custom POIs"): a native binary writer, one .gpi file per category.

Layout (docs/formats/garmin-gpi.md): a tree of little-endian records, each with
an 8-byte header (uint16 type, uint16 flags, uint32 length); with flag 0x0008 a uint32
"main part" length follows and the length counts the main part plus the nested records
after it (the extra part). Each file is built like GPSBabel 1.8.0 builds one (the layout
GPSBabel reads back and that users load on nuvi-class units)::

    Header0  "GRMREC00", creation time, label (the file name)
    Header1  "POI\\0", "00", code page 1252, or 65001 (UTF-8) when a text needs it
    Group    (type 9, flag 8) main: category name + the areas; extra: the bitmap
      Area   (type 8, flag 8) bounding box (max lat, max lon, min lat, min lon), "alerts"
        POI  (type 2, flag 8) lat, lon (semicircles), name; extra:
          Alert        proximity (m), speed 0, the flag bytes GPSBabel writes
          Bitmap ref   id 0
          Comment      description and road (type 10), left out when empty
      Bitmap (type 5) 24x24, 8 bpp, 256-colour palette, magenta transparent
    End      (type 0xFFFF)

- One file per category (``common.categories(by_speed=False)``), named like the category
  ("Speed_cameras.gpi"): a group is what the device lists under Custom POIs, and a single
  group per file is what GPSBabel writes and reads (no category/type-7 records needed).
- Positions: semicircles, degrees x 2^31 / 180 rounded to nearest (halves away from zero);
  longitude 180 is stored as -180 (the same meridian; +2^31 does not fit an int32).
- Areas: a k-d split (median of the larger extent, level by level over whole arrays) until
  every area holds at most ``AREA_SIZE`` (128, GPSBabel's limit) POIs; inside an area the
  POIs are sorted by name, as GPSBabel does. The device searches areas by their box.
- Names: "Speed 50 A7" (``common.poi_names`` with the speed in the text, cut to 44
  characters), in the camera's unit (``exporters.units``: "Speed 30 mph A40"); the alert
  distance is chosen from the limit in km/h whatever the unit shown. No "@" anywhere (an "@" in a road name becomes a space): GPSBabel's and POI
  Loader's "@50" speed markers are an input convention for speed alerts, which this writer
  does not make (see "Alerts").
- Alerts: every POI has an alert record with a proximity and no speed, so it fires at any
  speed. The record has one proximity and one speed field and no flag known to tell "warn
  always" from "warn above the speed"; with a speed the units are reported to warn only
  when driving faster than it (GPSBabel's and KMZRebuilder's readers, POI Loader users), so
  a camera with a known limit would stay silent at legal speed. Its limit is in the name
  instead ("Speed 50 A7"), and sets the distance: ``options.proximity_for`` (by default
  ``base.proximity_by_limit``: 300 m up to 50 km/h, 500 m up to 90, 800 m up to 110,
  1,000 m above, 500 m when unknown; or one distance for all). The bytes after the two
  fields are GPSBabel's for a proximity-only alert (byte 10 = 4; the meaning of bytes 4-11
  is not known for sure). The format has no heading, so alerts are not direction-aware.
- Text, per file: Windows-1252 (code page field 1252, GPSBabel's default) when every name,
  comment and the group title of the file fit it; otherwise the whole file is UTF-8 (code
  page field 65001, as GPSBabel's ``writecodec=utf8`` writes it, and as GPSBabel reads and
  current units show Cyrillic and Greek names). A device whose catalog entry says it needs
  Windows-1252 (``Device.transliterate``) gets ``GarminGPI(transliterate=True)``: code page
  1252 always, the characters it lacks transliterated ("Łódź" -> "Lodz"). Language "EN".
  Lengths are byte lengths of the encoded text; names are cut to 44 characters first.
- Creation time: never the clock. It is derived from the content (a hash of all files of
  the export, 2016-2024) plus the file's position, so an export always gives the same
  bytes, a changed database gives new stamps (devices re-index), and the files of one
  export never share a stamp (GPSBabel's doc: equal stamps make devices drop POIs). Pass
  ``GarminGPI(created_unix=...)`` to use a fixed time instead.

Built in bulk: the bytes after the coordinates of a POI depend only on (type, speed, road,
description), so they are made once per distinct value (``PoiTexts``; when a file has more
than ``TAIL_CODES`` distinct values, as with a description per camera, only their lengths
are made up front and the bytes for the POIs of each chunk as it is written, ``ChunkTails``,
so no text of a whole file exists at once); records are rows of a byte matrix cut to
length. One category at a time, the matrix a few thousand POIs at a time, and with
``ExportOptions.spool_dir`` each group record goes to disk as it is made (the headers,
whose creation stamps hash all group records, are put in front afterwards), so memory
stays small for a million cameras. ``GarminGPI.size_model`` sizes any subset
from the same record lengths (``poi_lengths``) and area counts (``area_count``). 200 000
cameras render in about 0.4 s; GPSBabel's writer needs about 1 s for 10 000, 4 s for 20 000
and 15 s for 40 000 (it grows quadratically).
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct

import numpy as np
from ..i18n import gettext_noop

from exporters import common, icons, sizing
from exporters.france import zone_lengths_of
from exporters.base import CameraSet, ExportError, ExportOptions, RenderResult, output_file, register
from exporters.textrows import distinct, group_codes
from exporters.units import unit_columns
from exporters.bulk import (PoiExporter, PoiSizeParts, category_groups, clean_road, cut_rows, file_stem,
                    name_table, one_line, padded, round_half_away, to_codepage)
from exporters.i18n import gettext, ngettext, number

AREA_SIZE = 128          # POIs per area at most (GPSBabel's limit)
MAX_NAME = 44            # characters; our limit for nuvi-class lists, no device limit is documented
MAX_COMMENT = 160        # characters
ICON_SIZE = 24           # GPSBabel accepts at most 24x24; 8 bpp is the safe depth (nuvi 3790)
CODEPAGE = 1252                       # Windows-1252
CODEPAGE_UTF8 = 65001                 # UTF-8 (0xFDE9)
CODEC = "cp1252"
LANGUAGE = b"EN"
GARMIN_EPOCH_UNIX = 631_065_600       # 1989-12-31 00:00:00 UTC
STAMP_BASE = 1_451_606_400 - GARMIN_EPOCH_UNIX   # 2016-01-01 in Garmin time
SEMICIRCLES_PER_DEGREE = 2.0 ** 31 / 180.0

T_HEADER0, T_HEADER1, T_POI, T_ALERT, T_BITMAP_REF, T_BITMAP, T_AREA, T_GROUP, T_COMMENT = 0, 1, 2, 3, 4, 5, 8, 9, 10
T_END = 0xFFFF
EXTRA = 0x0008           # flag: a main-part length follows the header, nested records after the main part

# A POI record up to its name: header with main length, lat, lon, uint16 1, alert flag.
_POI_HEAD = np.dtype([("type", "<u2"), ("flags", "<u2"), ("total", "<u4"), ("main", "<u4"),
                      ("lat", "<i4"), ("lon", "<i4"), ("one", "<u2"), ("alert", "u1")])
# An area record (main part only: its POIs follow as the extra part).
_AREA = np.dtype([("type", "<u2"), ("flags", "<u2"), ("total", "<u4"), ("main", "<u4"),
                  ("maxlat", "<i4"), ("maxlon", "<i4"), ("minlat", "<i4"), ("minlon", "<i4"),
                  ("zero", "<i4"), ("one", "<u2"), ("alert", "u1")])
POI_HEAD_BYTES, AREA_BYTES = _POI_HEAD.itemsize, _AREA.itemsize
assert (POI_HEAD_BYTES, AREA_BYTES) == (23, 35)
POI_FIXED_MAIN = POI_HEAD_BYTES - 12   # lat, lon, 1, alert flag
AREA_MAIN = AREA_BYTES - 12


def record(rtype: int, body: bytes) -> bytes:
    return struct.pack("<HHI", rtype, 0, len(body)) + body


def lc_string(text: bytes) -> bytes:
    """An lc-string list with one language: total length, language code, text length, text."""
    return struct.pack("<I2sH", len(text) + 4, LANGUAGE, len(text)) + text


def speed_cms(kmh: np.ndarray) -> np.ndarray:
    """km/h -> cm/s, truncated (x 100 000 / 3600 = x 250 / 9)."""
    return np.asarray(kmh, dtype=np.int64) * 250 // 9


def alert_record(proximity_m: int, speed_kmh: int = 0) -> bytes:
    """An alert record: proximity in metres, speed in cm/s (0: none), then the bytes GPSBabel
    writes (byte 10: 4 for a proximity alert, 5 with a speed). The writer gives every POI a
    proximity alert and no speed (see "Alerts" in the module docstring)."""
    cms = int(speed_cms(np.array([speed_kmh]))[0])
    return record(T_ALERT, struct.pack("<hh4B4B", proximity_m, cms, 0, 1, 0x10, 0, 1, 1, 5 if cms else 4, 0x10))


def encode_text(text: str, max_len: int, codepage: int = CODEPAGE) -> tuple[bytes, bool]:
    """One line of text of at most ``max_len`` characters in ``codepage`` (1252: Windows-1252, and
    whether anything was outside it and transliterated; 65001: UTF-8, never transliterated)."""
    if codepage == CODEPAGE_UTF8:
        return common.fit_name(one_line(text), "", max_len).encode("utf-8"), False
    return to_codepage(one_line(text), max_len, CODEC)


ALERT_BYTES = 8 + 12          # the alert record
BITMAP_REF_BYTES = 8 + 2      # the bitmap reference record
LC_BYTES = 8                  # an lc-string's lengths and language code
RECORD_HEAD_BYTES = 8         # type, flags, length
POI_EXTRA_HEAD = 12           # a POI record's header with its main-part length


def dense_rank(values: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """Rank of each value in sorted order, equal values ranking equal (``np.unique``'s inverse
    without a sorted copy of a large fixed-width array)."""
    order = np.argsort(values, kind="stable")
    distinct = np.zeros(len(values), dtype=np.int64)
    for a in range(1, len(values), chunk):
        b = min(a + chunk, len(values))
        distinct[a:b] = values[order[a:b]] != values[order[a - 1:b - 1]]
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.cumsum(distinct)
    return rank


def poi_lengths(name_len: np.ndarray, comment_len: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(main part, main + extra part) bytes of POI records with names and comments of these
    encoded lengths (a comment record only when the comment is not empty)."""
    name_len, comment_len = np.asarray(name_len, dtype=np.int64), np.asarray(comment_len, dtype=np.int64)
    main = POI_FIXED_MAIN + LC_BYTES + name_len
    extra = ALERT_BYTES + BITMAP_REF_BYTES + np.where(comment_len > 0, RECORD_HEAD_BYTES + LC_BYTES + comment_len, 0)
    return main, main + extra


def poi_record_lengths(totals: np.ndarray) -> np.ndarray:
    """Bytes of whole POI records (header and main-part length, then ``totals`` bytes)."""
    return POI_EXTRA_HEAD + np.asarray(totals, dtype=np.int64)


class PoiTexts:
    """Names and comments of the selected cameras, per code (distinct type, speed, road and
    description; ``codes`` per camera). Names are made for all codes, as a fixed-width bytes
    array (per type, speed and road); comments and record tails for the codes asked for
    (``encode``), so a writer holds the text of one category at a time.

    Name "Speed 50 A7" (``common.poi_names`` of the road made ``clean_road``, the speed in
    the text), comment "description, road" (each ``one_line``, empty parts left out), both
    ``encode_text``: what ``bulk.poi_texts`` makes, encoded."""

    def __init__(self, cams: CameraSet):
        unit = unit_columns(cams)  # names show each camera's limit in its unit ("Speed 30 mph A40")
        self.codes, first = group_codes(cams["type"], cams["speed"], *unit, cams["road"], cams["description"])
        name_codes, name_first = group_codes(cams["type"], cams["speed"], *unit, cams["road"])
        self.name_of = name_codes[first].astype(np.int64)      # name number per code
        # name bytes per name number, per code page: a fixed-width array (no NUL inside, at
        # most MAX_NAME characters); Windows-1252 at once (``name_replaced``: the name left it),
        # UTF-8 when a file first needs it
        self.cams, self.name_first = cams, name_first
        names, self.name_replaced = name_table(cams, name_first, lambda n: encode_text(n, MAX_NAME), MAX_NAME,
                                               clean_roads=True, max_len=None, speed_marker=" ")
        self.tables = {CODEPAGE: NameTable(names)}
        self.speed = cams["speed"][first].astype(np.int64)
        self.zone = zone_lengths_of(cams)[first]  # a France zone's length (its description says it)
        self.road, self.description = cams["road"][first], cams["description"][first]

    def __len__(self):
        return len(self.name_of)

    def names(self, codepage: int = CODEPAGE) -> "NameTable":
        """The names in ``codepage`` (UTF-8: made the first time a file needs them)."""
        if codepage not in self.tables:
            names, _ = name_table(self.cams, self.name_first, lambda n: encode_text(n, MAX_NAME, codepage),
                                  4 * MAX_NAME, clean_roads=True, max_len=None, speed_marker=" ")
            width = int(np.char.str_len(names).max()) if len(names) else 1
            self.tables[codepage] = NameTable(names.astype(f"S{max(width, 1)}"))
        return self.tables[codepage]

    def comments(self, codes: np.ndarray, codepage: int = CODEPAGE) -> tuple[list[bytes], np.ndarray]:
        """(comment bytes, whether transliterated) of ``codes``."""
        out, replaced = [], np.zeros(len(codes), dtype=bool)
        for k, (road, desc) in enumerate(zip(self.road[codes].tolist(), self.description[codes].tolist())):
            comment = ", ".join(part for part in (one_line(desc), clean_road(road)) if part)
            cb, replaced[k] = encode_text(comment, MAX_COMMENT, codepage)
            out.append(cb)
        return out, replaced

    def lengths(self, codes: np.ndarray, comments: list[bytes], codepage: int = CODEPAGE
                ) -> tuple[np.ndarray, np.ndarray]:
        """(main, total) bytes per code of ``codes`` (with their ``comments``)."""
        return poi_lengths(self.names(codepage).length[self.name_of[codes]],
                           np.fromiter(map(len, comments), dtype=np.int64, count=len(comments)))

    def tails(self, codes: np.ndarray, comments: list[bytes], options: ExportOptions, codepage: int = CODEPAGE
              ) -> list[bytes]:
        """Per code of ``codes``: the bytes after the POI's alert-flag byte (name, then the
        alert, bitmap reference and comment records); the alert distance is
        ``options.proximity_for`` the code's speed limit."""
        proximity = options.proximity_for(self.speed[codes], zone_m=self.zone[codes])
        alerts = {m: alert_record(m) for m in distinct(proximity)}
        ref = record(T_BITMAP_REF, struct.pack("<H", 0))
        names = self.names(codepage).names
        out = []
        for name, metres, cb in zip(self.name_of[codes].tolist(), proximity.tolist(), comments):
            tail = lc_string(bytes(names[name])) + alerts[metres] + ref
            out.append(tail + record(T_COMMENT, lc_string(cb)) if cb else tail)
        return out

    def measure(self, codes: np.ndarray, codepage: int = CODEPAGE, chunk: int = 1 << 14):
        """(main, total bytes, whether transliterated) of ``codes``, as ``encode`` gives them,
        without keeping any text (the comments of ``chunk`` codes exist at a time)."""
        mains, totals = np.zeros(len(codes), np.int64), np.zeros(len(codes), np.int64)
        replaced = self.replaced_names(codes, codepage)
        for a in range(0, len(codes), chunk):
            part = codes[a:a + chunk]
            comments, changed = self.comments(part, codepage)
            replaced[a:a + len(part)] |= changed
            mains[a:a + len(part)], totals[a:a + len(part)] = self.lengths(part, comments, codepage)
        return mains, totals, replaced

    def replaced_names(self, codes: np.ndarray, codepage: int) -> np.ndarray:
        if codepage == CODEPAGE_UTF8:
            return np.zeros(len(codes), dtype=bool)
        return self.name_replaced[self.name_of[codes]]

    def tail_rows(self, codes: np.ndarray, options: ExportOptions, codepage: int = CODEPAGE
                  ) -> tuple[np.ndarray, np.ndarray]:
        """(zero-padded byte matrix with the tail of each code of ``codes`` in its row, tail
        lengths): the tails of a chunk of POIs, made for them alone."""
        comments, _ = self.comments(codes, codepage)
        matrix, lengths = padded(self.tails(codes, comments, options, codepage))
        return matrix, lengths

    def encode(self, codes: np.ndarray, options: ExportOptions, codepage: int = CODEPAGE, chunk: int = 1 << 14):
        """(main, total bytes, whether transliterated, the tails one after the other as a uint8
        array) of ``codes``; the text of ``chunk`` codes exists at a time."""
        mains, totals = np.zeros(len(codes), np.int64), np.zeros(len(codes), np.int64)
        replaced = self.replaced_names(codes, codepage)
        pieces = []
        for a in range(0, len(codes), chunk):
            part = codes[a:a + chunk]
            comments, changed = self.comments(part, codepage)
            replaced[a:a + len(part)] |= changed
            mains[a:a + len(part)], totals[a:a + len(part)] = self.lengths(part, comments, codepage)
            tails = self.tails(part, comments, options, codepage)
            pieces.append(b"".join(tails))
            written = np.fromiter(map(len, tails), dtype=np.int64, count=len(tails))
            if not np.array_equal(written, totals[a:a + len(part)] - POI_FIXED_MAIN):
                raise AssertionError("POI record lengths (poi_lengths) differ from the bytes written")
        return mains, totals, replaced, np.frombuffer(b"".join(pieces), dtype=np.uint8)


class NameTable:
    """Encoded names (a fixed-width bytes array, one per name number), their byte lengths and
    their ranks in byte order (POIs inside an area are sorted by name)."""

    def __init__(self, names: np.ndarray):
        self.names = names
        self.length = np.char.str_len(names).astype(np.int64)
        self.rank = dense_rank(names)


# ---------------------------------------------------------------------------------------
# Areas


def kd_areas(lat: np.ndarray, lon: np.ndarray, max_size: int = AREA_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """(order, starts): point indices grouped into areas of at most ``max_size`` points.

    Level by level over all segments at once: a segment larger than ``max_size`` is sorted
    along its larger extent (semicircles) and cut at its median. ``starts`` holds where each
    area begins in ``order`` (areas in k-d order, so neighbours stay close in the file).
    """
    n = len(lat)
    order = np.arange(n, dtype=np.int64)
    starts = np.zeros(1, dtype=np.int64)
    ends = np.array([n], dtype=np.int64)
    while True:
        sizes = ends - starts
        split = sizes > max_size
        if not split.any():
            return order, starts
        y, x = lat[order], lon[order]
        along_x = (np.maximum.reduceat(x, starts) - np.minimum.reduceat(x, starts)
                   >= np.maximum.reduceat(y, starts) - np.minimum.reduceat(y, starts))
        seg = np.repeat(np.arange(len(starts), dtype=np.int64), sizes)
        coord = np.where(np.repeat(along_x, sizes), x, y) + 2**31   # 0 .. 2**32 - 1
        order = order[np.argsort((seg << 32) | coord, kind="stable")]
        count = 1 + split
        new_starts = np.repeat(starts, count)
        new_ends = np.repeat(ends, count)
        first = np.cumsum(count) - count
        at = first[split]
        mids = starts[split] + sizes[split] // 2
        new_ends[at] = mids
        new_starts[at + 1] = mids
        starts, ends = new_starts, new_ends


# ---------------------------------------------------------------------------------------
# Bitmap


def gpi_bitmap(image, bitmap_id: int = 0) -> bytes:
    """A type-5 bitmap record from an RGBA icon: 8 bpp, rows top-down, palette as R, G, B, 0.

    The pixels and palette come from ``icons.to_bmp(image, 8)`` (palette index 0 = magenta
    = transparent), so every format's 8-bit icon has the same colours.
    """
    bmp = icons.to_bmp(image, 8)
    pixel_offset, = struct.unpack_from("<I", bmp, 10)
    info_size, width, height, _, bits = struct.unpack_from("<IiiHH", bmp, 14)
    if bits != 8 or width <= 0:
        raise ExportError(f"icon encoder gave a {bits}-bit {width}x{height} BMP; the GPI bitmap needs 8 bits")
    palette = np.frombuffer(bmp[14 + info_size:pixel_offset], dtype=np.uint8).reshape(-1, 4)
    palette = np.column_stack([palette[:, 2], palette[:, 1], palette[:, 0], np.zeros(len(palette), np.uint8)])
    stride = (width + 3) & ~3
    bottom_up, height = height > 0, abs(height)
    rows = np.frombuffer(bmp, np.uint8, stride * height, pixel_offset).reshape(height, stride)
    if bottom_up:
        rows = rows[::-1]
    size = stride * height
    head = struct.pack("<6H6I", bitmap_id, height, width, stride, 8, 0, size, 0x2C, len(palette),
                       0x00FF00FF, 1, size + 0x2C)
    return record(T_BITMAP, head + rows.tobytes() + palette.tobytes())


# ---------------------------------------------------------------------------------------
# Files


ROWS_PER_CHUNK = 1 << 13   # POIs per byte matrix when a file is written (bounds the memory)
TAIL_MATRIX_BYTES = 1 << 24  # largest matrix of a file's distinct POI tails (else tails are gathered)
TAIL_CODES = 1 << 16       # distinct POI tails of a file made at once at most (else per chunk of POIs)


def area_bytes(total_poi_bytes: int, n: int) -> int:
    """Bytes of the area records of a file with ``n`` POIs whose records sum to ``total_poi_bytes``."""
    return int(total_poi_bytes) + AREA_BYTES * area_count(int(n))


@functools.lru_cache(maxsize=None)
def area_count(n: int, max_size: int = AREA_SIZE) -> int:
    """Areas ``kd_areas`` makes for ``n`` points: more than ``max_size`` split into ``n // 2``
    and ``n - n // 2`` (one area for no point)."""
    if n <= max_size:
        return 1
    half = n // 2
    return area_count(half, max_size) + area_count(n - half, max_size)


class BlobTails:
    """The tails of all codes of a file, made at once: ``blob[start[i]:start[i] + tail_len[i]]``
    is the tail of code i. ``rows(c)``: a zero-padded matrix with the tail of ``c[p]`` in row p."""

    def __init__(self, blob: np.ndarray, tail_len: np.ndarray):
        self.blob, self.tail_len = blob, tail_len
        self.start = np.cumsum(tail_len) - tail_len
        # Few distinct tails (the usual case): a zero-padded matrix of them, whose rows are
        # copied per POI; many: each POI's tail is gathered from the blob (no matrix as wide as
        # the longest tail for every code).
        width = int(tail_len.max()) if len(tail_len) else 0
        self.matrix = None
        if len(tail_len) * width <= TAIL_MATRIX_BYTES:
            self.matrix = np.zeros((len(tail_len), width), dtype=np.uint8)
            self.matrix[np.arange(width) < tail_len[:, None]] = blob

    def rows(self, c: np.ndarray) -> np.ndarray:
        if self.matrix is not None:
            return self.matrix[c]
        tl = self.tail_len[c]  # gather each POI's tail from the blob
        tails = np.zeros((len(c), int(tl.max())), dtype=np.uint8)
        before = np.cumsum(tl) - tl
        tails[np.arange(tails.shape[1]) < tl[:, None]] = self.blob[np.repeat(self.start[c] - before, tl)
                                                                   + np.arange(int(tl.sum()), dtype=np.int64)]
        return tails


class ChunkTails:
    """The tails of codes ``codes`` of ``texts`` (``PoiTexts``), made for the POIs of a chunk
    only (``rows(c)``, as ``BlobTails.rows``): no text of the whole file exists at once."""

    def __init__(self, texts: "PoiTexts", codes: np.ndarray, tail_len: np.ndarray, options: ExportOptions,
                 codepage: int = CODEPAGE):
        self.texts, self.codes, self.tail_len, self.options = texts, codes, tail_len, options
        self.codepage = codepage

    def rows(self, c: np.ndarray) -> np.ndarray:
        used, inverse = np.unique(c, return_inverse=True)
        matrix, lengths = self.texts.tail_rows(self.codes[used], self.options, self.codepage)
        if not np.array_equal(lengths, self.tail_len[used]):
            raise AssertionError("POI record lengths (poi_lengths) differ from the bytes written")
        return matrix[inverse.reshape(-1)]


class Areas:
    """The areas of one file: POIs at (lat, lon) (semicircles) with tail ``local[p]`` (a code
    of ``tails``, a ``BlobTails`` or ``ChunkTails``; ``tail_len``, record lengths ``mains``,
    ``totals`` per code) sorted inside an area by ``sort_key`` of the code, then input order.
    ``size`` is known before ``write(out)`` writes the bytes, ``ROWS_PER_CHUNK`` POIs at a time."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray, local: np.ndarray, sort_key: np.ndarray,
                 tails, tail_len: np.ndarray, mains: np.ndarray, totals: np.ndarray):
        order, starts = kd_areas(lat, lon)
        n = len(order)
        sizes = np.diff(np.append(starts, n))
        area_of = np.repeat(np.arange(len(starts), dtype=np.int64), sizes)
        # inside an area: by name (byte order), then by id (the input order)
        order = order[np.lexsort((order, sort_key[local[order]], area_of))]
        self.c, self.lat, self.lon = local[order], lat[order], lon[order]
        self.tails, self.tail_len, self.mains, self.totals = tails, tail_len, mains, totals
        self.starts, self.ends = starts, np.append(starts[1:], n)
        cum = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(poi_record_lengths(totals[self.c]), out=cum[1:])
        self.cum = cum
        self.m = len(starts)
        self.size = int(cum[-1]) + AREA_BYTES * self.m

    def write(self, out) -> None:
        written, a0 = 0, 0
        while a0 < self.m:  # whole areas, about ROWS_PER_CHUNK POIs at a time
            a1 = max(a0 + 1, int(np.searchsorted(self.starts, self.starts[a0] + ROWS_PER_CHUNK, side="right")))
            written += out.write(self._rows(a0, min(a1, self.m)))
            a0 = a1
        assert written == self.size

    def _rows(self, a0: int, a1: int) -> bytes:
        starts, ends = self.starts[a0:a1], self.ends[a0:a1]
        p0, p1 = int(starts[0]), int(ends[-1])
        k, m = p1 - p0, a1 - a0
        c = self.c[p0:p1]
        la, lo = self.lat[p0:p1], self.lon[p0:p1]
        ls, le = starts - p0, ends - p0
        area = np.zeros(m, dtype=_AREA)
        area["type"], area["flags"], area["main"] = T_AREA, EXTRA, AREA_MAIN
        area["total"] = AREA_MAIN + self.cum[ends] - self.cum[starts]
        area["maxlat"], area["maxlon"] = np.maximum.reduceat(la, ls), np.maximum.reduceat(lo, ls)
        area["minlat"], area["minlon"] = np.minimum.reduceat(la, ls), np.minimum.reduceat(lo, ls)
        area["one"], area["alert"] = 1, 1
        head = np.zeros(k, dtype=_POI_HEAD)
        head["type"], head["flags"], head["total"], head["main"] = T_POI, EXTRA, self.totals[c], self.mains[c]
        head["lat"], head["lon"], head["one"], head["alert"] = la, lo, 1, 1
        tl = self.tail_len[c]
        tails = self.tails.rows(c)
        tail_width = tails.shape[1]
        # Every record is a row of one byte matrix in file order (area a before its POIs); the
        # data is the matrix with each row cut to its record's length.
        width = max(AREA_BYTES, POI_HEAD_BYTES + tail_width)
        area_of = np.repeat(np.arange(m, dtype=np.int64), le - ls)
        area_row = ls + np.arange(m, dtype=np.int64)
        poi_row = np.arange(k, dtype=np.int64) + area_of + 1
        rows = np.empty((m + k, width), dtype=np.uint8)
        rows[area_row, :AREA_BYTES] = area.view(np.uint8).reshape(m, AREA_BYTES)
        rows[poi_row, :POI_HEAD_BYTES] = head.view(np.uint8).reshape(k, POI_HEAD_BYTES)
        rows[poi_row, POI_HEAD_BYTES:POI_HEAD_BYTES + tail_width] = tails
        row_len = np.empty(m + k, dtype=np.int64)
        row_len[area_row] = AREA_BYTES
        row_len[poi_row] = POI_HEAD_BYTES + tl
        return cut_rows(rows, row_len)


def group_head(title: str, areas_size: int, bitmap_size: int, codepage: int = CODEPAGE) -> bytes:
    """The group record's header, main-part length and name: the areas and bitmap follow."""
    name = lc_string(encode_text(title, MAX_NAME, codepage)[0])
    main = len(name) + areas_size
    return struct.pack("<HHII", T_GROUP, EXTRA, main + bitmap_size, main) + name


def headers(stamp: int, label: str, codepage: int = CODEPAGE) -> bytes:
    """Header0 (stamp, label) and Header1, whose code page field (bytes 8-9 of its body) says
    how the file's texts are encoded."""
    lb = label.encode("ascii", "replace")
    h0 = record(T_HEADER0, b"GRMREC00" + struct.pack("<IHH", stamp, 0, len(lb)) + lb)
    h1 = record(T_HEADER1, b"POI\0" + b"\0\0" + b"00" + struct.pack("<HH", codepage, 0))
    return h0 + h1


END = struct.pack("<HHI", T_END, 0, 0)


def creation_stamps(body_digests: list[bytes], created_unix: int | None) -> list[int]:
    """Garmin-time creation stamps, distinct per file: from ``created_unix`` or from the
    content (``body_digests``: the sha256 digest of each file's group record)."""
    if created_unix is not None:
        base = int(created_unix) - GARMIN_EPOCH_UNIX
    else:
        digest = hashlib.sha256()
        for body in body_digests:
            digest.update(body)
        base = STAMP_BASE + (int.from_bytes(digest.digest()[:3], "little") << 4)
    if not 0 <= base <= 2**32 - 1 - len(body_digests):
        raise ExportError(f"creation time {created_unix} is outside the GPI range (1990-2126)")
    return [base + i for i in range(len(body_digests))]


@register
class GarminGPI(PoiExporter):
    identifier = "garmin-gpi"
    verbose_name = gettext_noop("Garmin GPI custom POIs")
    label = "Garmin GPI"
    file_extension = ".gpi"
    encoding = CODEC  # the default; a file with text outside it is UTF-8 (see the module docstring)
    max_name_length = MAX_NAME
    speed_carried_as = "name"   # the alert record carries no speed: it would silence the alert below it

    def __init__(self, created_unix: int | None = None, transliterate: bool = False):
        self.created_unix = created_unix
        self.transliterate = transliterate  # Windows-1252 only (a device that needs it): others are transliterated

    def file_codepage(self, outside: np.ndarray) -> int:
        """The code page of a file whose texts are ``outside`` Windows-1252 or not."""
        return CODEPAGE_UTF8 if outside.any() and not self.transliterate else CODEPAGE

    def render_pois(self, cams: CameraSet, lat_deg: np.ndarray, lon_deg: np.ndarray,
                    options: ExportOptions) -> RenderResult:
        lat = round_half_away(lat_deg, SEMICIRCLES_PER_DEGREE)
        lon = round_half_away(lon_deg, SEMICIRCLES_PER_DEGREE)
        lon = np.where(lon >= 2**31, lon - 2**32, lon)  # 180 E = 180 W
        texts = PoiTexts(cams)
        cats = common.categories(cams, by_speed=False)
        outside, bodies, codepages = 0, [], []
        # One category at a time: its group record (areas and bitmap) is written (to the spool
        # directory when there is one); the headers need the creation stamps, which come from
        # all the group records, so the files are put together afterwards.
        for cat in cats:
            idx = cat.index
            codes, local = np.unique(texts.codes[idx], return_inverse=True)
            local = local.reshape(-1)
            many = len(codes) > TAIL_CODES  # a description per camera: tails made per chunk as written
            codepage = CODEPAGE
            if many:
                mains, totals, replaced = texts.measure(codes)
            else:  # few distinct tails: all made at once, copied per POI
                mains, totals, replaced, blob = texts.encode(codes, options)
            outside += int(np.count_nonzero(replaced[local]))
            title_outside = encode_text(cat.title, MAX_NAME)[1]
            if self.file_codepage(replaced | title_outside) == CODEPAGE_UTF8:  # the whole file in UTF-8
                codepage = CODEPAGE_UTF8
                if many:
                    mains, totals, _ = texts.measure(codes, codepage)
                else:
                    mains, totals, _, blob = texts.encode(codes, options, codepage)
            tail_len = totals - POI_FIXED_MAIN
            tails = ChunkTails(texts, codes, tail_len, options, codepage) if many else BlobTails(blob, tail_len)
            sort_key = np.empty(len(codes), dtype=np.int64)  # by name bytes, then code
            sort_key[np.lexsort((codes, texts.names(codepage).rank[texts.name_of[codes]]))] = np.arange(len(codes))
            areas = Areas(lat[idx], lon[idx], local, sort_key, tails, tail_len, mains, totals)
            bitmap = category_bitmap(cat.slug, options)
            head = group_head(cat.title, areas.size, len(bitmap), codepage)

            def write_body(out, head=head, areas=areas, bitmap=bitmap):
                out.write(head)
                areas.write(out)
                out.write(bitmap)

            bodies.append(output_file(file_name(cat) + ".group", write_body, options))
            codepages.append(codepage)
            del areas, tails
        stamps = creation_stamps([bytes.fromhex(body.sha256) for body in bodies], self.created_unix)
        files = []
        for cat, body, stamp, codepage in zip(cats, bodies, stamps, codepages):
            name = file_name(cat)

            def write_file(out, name=name, body=body, stamp=stamp, codepage=codepage):
                out.write(headers(stamp, name, codepage))
                body.copy_to(out)
                out.write(END)

            files.append(output_file(name, write_file, options, cat.slug, len(cat.index)))
            if body.path is not None:
                os.unlink(body.path)
        return RenderResult(files=files, skipped={}, notes=gpi_notes(options, outside, self.transliterate))

    def size_pois(self, cams: CameraSet, lat: np.ndarray, lon: np.ndarray, options: ExportOptions) -> PoiSizeParts:
        texts = PoiTexts(cams)
        totals = np.zeros(len(texts), dtype=np.int64)
        replaced = np.zeros(len(texts), dtype=bool)
        for c0 in range(0, len(texts), ROWS_PER_CHUNK):
            codes = np.arange(c0, min(c0 + ROWS_PER_CHUNK, len(texts)))
            comments, replaced[codes] = texts.comments(codes)
            totals[codes] = texts.lengths(codes, comments)[1]
        replaced |= texts.name_replaced[texts.name_of]
        cats, group = category_groups(cams, by_speed=False)
        fixed = {CODEPAGE: [], CODEPAGE_UTF8: []}  # bytes of each category's file besides its area records
        title_outside = np.zeros(len(cats), dtype=bool)  # a title outside Windows-1252: that file is UTF-8
        for k, cat in enumerate(cats):
            bitmap = len(category_bitmap(cat.slug, options))
            for codepage, sizes in fixed.items():
                sizes.append(len(headers(0, file_name(cat), codepage)) + len(group_head(cat.title, 0, bitmap, codepage))
                             + bitmap + len(END))
            title_outside[k] = encode_text(cat.title, MAX_NAME)[1]
        # A file is UTF-8 when one of its cameras' texts is outside Windows-1252: its records
        # then take ``extra`` more bytes per camera (UTF-8 minus Windows-1252 lengths).
        utf8 = Utf8Files(group, replaced[texts.codes], title_outside)
        if not self.transliterate and (replaced.any() or title_outside.any()):
            utf8_totals = np.zeros(len(texts), dtype=np.int64)
            for c0 in range(0, len(texts), ROWS_PER_CHUNK):
                codes = np.arange(c0, min(c0 + ROWS_PER_CHUNK, len(texts)))
                comments, _ = texts.comments(codes, CODEPAGE_UTF8)
                utf8_totals[codes] = texts.lengths(codes, comments, CODEPAGE_UTF8)[1]
            utf8.extra = (utf8_totals - totals)[texts.codes]
        created_unix, transliterate = self.created_unix, self.transliterate

        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            present = np.flatnonzero(tally.counts).tolist()
            creation_stamps([b""] * len(present), created_unix)  # refuses a creation time out of range
            wide, extra = utf8.per_group(tally, len(cats))
            files = []
            for k in present:
                cp = CODEPAGE_UTF8 if wide[k] else CODEPAGE
                files.append(sizing.FileSize(file_name(cats[k]), cats[k].slug, int(tally.counts[k]),
                                             fixed[cp][k] + area_bytes(tally.bytes[k] + int(extra[k]),
                                                                       tally.counts[k])))
            return sizing.SizedExport(files, {}, gpi_notes(options, tally.flags["outside"], transliterate))

        layout.utf8 = utf8
        return PoiSizeParts(group, poi_record_lengths(totals)[texts.codes], len(cats), layout,
                            {"outside": replaced[texts.codes]})

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        model = super().size_model(cameras, options)
        utf8 = getattr(getattr(model, "poi_layout", None), "utf8", None)
        if utf8 is not None and utf8.extra is not None:  # UTF-8 files are possible: per camera, by row
            _, rows = common.select_index(cameras, options)
            utf8.by_row(rows, len(cameras))
        return model


class Utf8Files:
    """Which files of a subset are UTF-8 and the bytes that adds, for the size model: per
    selected camera its group, whether its texts are outside Windows-1252 and (``extra``,
    None when no file can be UTF-8) its record's UTF-8 minus Windows-1252 bytes; ``by_row``
    puts them in the rows of the whole camera set, which ``Tally.index`` counts in."""

    def __init__(self, group: np.ndarray, outside: np.ndarray, title_outside: np.ndarray):
        self.group, self.outside, self.title_outside = group, outside, title_outside
        self.extra = None

    def by_row(self, rows: np.ndarray, n: int) -> None:
        self.group = common.scatter(np.asarray(self.group, dtype=np.int64), rows, n)
        self.outside = common.scatter(self.outside, rows, n, fill=False)
        self.extra = common.scatter(np.asarray(self.extra, dtype=np.int64), rows, n, fill=0)

    def per_group(self, tally: sizing.Tally, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
        """(file is UTF-8, extra bytes) per group of the subset ``tally`` counts."""
        if self.extra is None:
            return np.zeros(n_groups, dtype=bool), np.zeros(n_groups, dtype=np.int64)
        g = self.group[tally.index]
        wide = (np.bincount(g, weights=self.outside[tally.index], minlength=n_groups) > 0) | self.title_outside
        extra = np.rint(np.bincount(g, weights=self.extra[tally.index], minlength=n_groups)).astype(np.int64)
        return wide, np.where(wide, extra, 0)


def file_name(cat: common.Category) -> str:
    return f"{file_stem(cat.title)}.gpi"


def category_bitmap(slug: str, options: ExportOptions) -> bytes:
    return gpi_bitmap(icons.draw_icon(slug, 0, ICON_SIZE, options.icons))


def gpi_notes(options: ExportOptions, outside: int, transliterate: bool = False) -> list[str]:
    """``outside``: cameras whose name or comment has characters Windows-1252 lacks."""
    notes = [
        gettext("Garmin GPI alerts are proximity alerts only: they are not direction-aware, the device warns near a "
                "camera whatever your direction of travel."),
        # Translators: %(proximity)s is a phrase such as "at 450 m"
        gettext("Every camera has a proximity alert %(proximity)s. The alert sounds at any speed, also when you keep "
                "to the limit; the limit is shown in the name (for example 'Speed 50 A7'), not set as an alert "
                "speed, because Garmin units are reported to sound a speed alert only above its speed.")
        % {"proximity": options.proximity_text()},
        (gettext("Each .gpi file is one Custom POI category with its embedded 24x24 icon (%(icons)s icon set); "
                 "the text is Windows-1252.") if transliterate else
         gettext("Each .gpi file is one Custom POI category with its embedded 24x24 icon (%(icons)s icon set); "
                 "the text is Windows-1252, or UTF-8 (code page 65001) in a file with names outside it."))
        % {"icons": options.icons},
    ]
    if outside and transliterate:
        notes.append(ngettext(
            "%(count)s camera name or comment had characters outside Windows-1252 and was transliterated to Latin "
            "letters: this device reads Windows-1252 only.",
            "%(count)s camera names or comments had characters outside Windows-1252 and were transliterated to "
            "Latin letters: this device reads Windows-1252 only.", outside) % {"count": number(outside)})
    elif outside:
        notes.append(ngettext(
            "%(count)s camera name or comment has characters outside Windows-1252 (for example Cyrillic or Greek): "
            "the .gpi files holding them are written in UTF-8 (code page 65001).",
            "%(count)s camera names or comments have characters outside Windows-1252 (for example Cyrillic or "
            "Greek): the .gpi files holding them are written in UTF-8 (code page 65001).", outside)
            % {"count": number(outside)})
    return notes
