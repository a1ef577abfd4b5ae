"""Garmin GPI ("Custom POIs"): a native binary writer, one .gpi file per category.

Layout (``/work/shared/formats/garmin-gpi.md``): a tree of little-endian records, each with
an 8-byte header (uint16 type, uint16 flags, uint32 length); with flag 0x0008 a uint32
"main part" length follows and the length counts the main part plus the nested records
after it (the extra part). Each file is built like GPSBabel 1.8.0 builds one (the layout
GPSBabel reads back and that users load on nuvi-class units)::

    Header0  "GRMREC00", creation time, label (the file name)
    Header1  "POI\\0", "00", code page 1252
    Group    (type 9, flag 8) main: category name + the areas; extra: the bitmap
      Area   (type 8, flag 8) bounding box (max lat, max lon, min lat, min lon), "alerts"
        POI  (type 2, flag 8) lat, lon (semicircles), name; extra:
          Alert        proximity (m), speed (cm/s), the flag bytes GPSBabel writes
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
  characters). No "@" anywhere (an "@" in a road name becomes a space): GPSBabel's and POI
  Loader's "@50" speed markers are an input convention; here the speed is in the alert
  record, and readers such as GPSBabel show it as "Speed 50 A7@50".
- Alerts: every POI has an alert record with ``options.proximity_m``; cameras with a known
  limit also carry it as the alert speed in cm/s (km/h x 250 / 9, truncated as GPSBabel
  does: 50 km/h -> 1388). Byte 10 is 5 with a speed, 4 without (GPSBabel's values; the
  meaning of bytes 4-11 is not known for sure). Alerts are proximity/speed only: the
  format has no heading, so they are not direction-aware.
- Text: Windows-1252 (code page field 1252, GPSBabel's default and what older units take);
  characters the code page lacks are transliterated ("Łódź" -> "Lodz"). Language "EN".
- Creation time: never the clock. It is derived from the content (a hash of all files of
  the export, 2016-2024) plus the file's position, so an export always gives the same
  bytes, a changed database gives new stamps (devices re-index), and the files of one
  export never share a stamp (GPSBabel's doc: equal stamps make devices drop POIs). Pass
  ``GarminGPI(created_unix=...)`` to use a fixed time instead.

Built in bulk: the bytes after the coordinates of a POI depend only on (type, speed, road,
description), so they are made once per distinct value; records are rows of one byte matrix
cut to length. 200 000 cameras render in about 0.4 s; GPSBabel's writer needs about 1 s for
10 000, 4 s for 20 000 and 15 s for 40 000 (it grows quadratically).
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from .. import common, icons
from ..base import CameraSet, ExportError, ExportOptions, OutputFile, RenderResult, register
from ._bulk import (PoiExporter, camera_list, cut_rows, file_stem, one_line, padded, poi_texts, round_half_away,
                    to_codepage)

AREA_SIZE = 128          # POIs per area at most (GPSBabel's limit)
MAX_NAME = 44            # characters; our limit for nuvi-class lists, no device limit is documented
MAX_COMMENT = 160        # characters
ICON_SIZE = 24           # GPSBabel accepts at most 24x24; 8 bpp is the safe depth (nuvi 3790)
CODEPAGE = 1252
CODEC = "cp1252"
LANGUAGE = b"EN"
GARMIN_EPOCH_UNIX = 631_065_600       # 1989-12-31 00:00:00 UTC
STAMP_BASE = 1_451_606_400 - GARMIN_EPOCH_UNIX   # 2016-01-01 in Garmin time
SEMICIRCLES_PER_DEGREE = 2.0 ** 31 / 180.0
MAX_SPEED_KMH = 32767 * 9 // 250      # 1179: the alert speed is an int16 in cm/s

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


def alert_record(proximity_m: int, speed_kmh: int) -> bytes:
    cms = int(speed_cms(np.array([speed_kmh]))[0])
    return record(T_ALERT, struct.pack("<hh4B4B", proximity_m, cms, 0, 1, 0x10, 0, 1, 1, 5 if cms else 4, 0x10))


def encode_text(text: str, max_len: int) -> tuple[bytes, bool]:
    """One line of Windows-1252 text of at most ``max_len`` characters, and whether it was transliterated."""
    return to_codepage(one_line(text), max_len, CODEC)


def poi_tails(cams: CameraSet, proximity_m: int):
    """Per distinct (type, speed, road, description): the bytes after the POI's alert-flag byte.

    Returns (code per camera, tail bytes per code, main length per code, total length per
    code, name rank per code, cameras whose text was transliterated).
    """
    codes, first, names, comments = poi_texts(cams, max_len=None, speed_marker=" ")
    tails, mains, totals, name_bytes, changed = [], [], [], [], []
    for code, (name, comment, speed) in enumerate(zip(names, comments, cams["speed"][first].tolist())):
        nb, r1 = encode_text(name, MAX_NAME)
        cb, r2 = encode_text(comment, MAX_COMMENT)
        if r1 or r2:
            changed.append(code)
        name_lc = lc_string(nb)
        children = alert_record(proximity_m, int(speed)) + record(T_BITMAP_REF, struct.pack("<H", 0))
        if cb:
            children += record(T_COMMENT, lc_string(cb))
        main = POI_FIXED_MAIN + len(name_lc)
        tails.append(name_lc + children)
        mains.append(main)
        totals.append(main + len(children))
        name_bytes.append(nb)
    rank = np.empty(len(name_bytes), dtype=np.int64)
    rank[sorted(range(len(name_bytes)), key=name_bytes.__getitem__)] = np.arange(len(name_bytes))
    transliterated = int(np.isin(codes, changed).sum()) if changed else 0
    return codes, tails, np.array(mains, dtype=np.int64), np.array(totals, dtype=np.int64), rank, transliterated


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


def write_areas(lat: np.ndarray, lon: np.ndarray, codes: np.ndarray, tails: list[bytes], mains: np.ndarray,
                totals: np.ndarray, rank: np.ndarray) -> tuple[bytes, int]:
    """The area records of one file with their POIs, and the number of areas."""
    order, starts = kd_areas(lat, lon)
    n = len(order)
    sizes = np.diff(np.append(starts, n))
    area_of = np.repeat(np.arange(len(starts), dtype=np.int64), sizes)
    # inside an area: by name (byte order), then by id (the input order)
    order = order[np.lexsort((order, rank[codes[order]], area_of))]
    c = codes[order]
    la, lo = lat[order], lon[order]

    tail_mat, tail_len = padded(tails)
    poi_len = 12 + totals[c]                        # bytes of each POI record
    cum = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(poi_len, out=cum[1:])
    ends = np.append(starts[1:], n)
    m = len(starts)
    area = np.zeros(m, dtype=_AREA)
    area["type"], area["flags"], area["main"] = T_AREA, EXTRA, AREA_MAIN
    area["total"] = AREA_MAIN + cum[ends] - cum[starts]
    area["maxlat"], area["maxlon"] = np.maximum.reduceat(la, starts), np.maximum.reduceat(lo, starts)
    area["minlat"], area["minlon"] = np.minimum.reduceat(la, starts), np.minimum.reduceat(lo, starts)
    area["one"], area["alert"] = 1, 1
    head = np.zeros(n, dtype=_POI_HEAD)
    head["type"], head["flags"], head["total"], head["main"] = T_POI, EXTRA, totals[c], mains[c]
    head["lat"], head["lon"], head["one"], head["alert"] = la, lo, 1, 1

    # Every record is a row of one byte matrix in file order (area a before its POIs); the
    # data is the matrix with each row cut to its record's length.
    tail_width = tail_mat.shape[1]
    width = max(AREA_BYTES, POI_HEAD_BYTES + tail_width)
    area_row = starts + np.arange(m, dtype=np.int64)
    poi_row = np.arange(n, dtype=np.int64) + area_of + 1
    rows = np.empty((m + n, width), dtype=np.uint8)
    rows[area_row, :AREA_BYTES] = area.view(np.uint8).reshape(m, AREA_BYTES)
    rows[poi_row, :POI_HEAD_BYTES] = head.view(np.uint8).reshape(n, POI_HEAD_BYTES)
    rows[poi_row, POI_HEAD_BYTES:POI_HEAD_BYTES + tail_width] = tail_mat[c]
    row_len = np.empty(m + n, dtype=np.int64)
    row_len[area_row] = AREA_BYTES
    row_len[poi_row] = POI_HEAD_BYTES + tail_len[c]
    data = cut_rows(rows, row_len)
    assert len(data) == int(cum[-1]) + 12 * m + AREA_MAIN * m
    return data, m


def group_body(title: str, areas: bytes, bitmap: bytes) -> bytes:
    name = lc_string(encode_text(title, MAX_NAME)[0])
    main = len(name) + len(areas)
    return struct.pack("<HHII", T_GROUP, EXTRA, main + len(bitmap), main) + name + areas + bitmap


def headers(stamp: int, label: str) -> bytes:
    lb = label.encode("ascii", "replace")
    h0 = record(T_HEADER0, b"GRMREC00" + struct.pack("<IHH", stamp, 0, len(lb)) + lb)
    h1 = record(T_HEADER1, b"POI\0" + b"\0\0" + b"00" + struct.pack("<HH", CODEPAGE, 0))
    return h0 + h1


END = struct.pack("<HHI", T_END, 0, 0)


def creation_stamps(bodies: list[bytes], created_unix: int | None) -> list[int]:
    """Garmin-time creation stamps, distinct per file: from ``created_unix`` or from the content."""
    if created_unix is not None:
        base = int(created_unix) - GARMIN_EPOCH_UNIX
    else:
        digest = hashlib.sha256()
        for body in bodies:
            digest.update(hashlib.sha256(body).digest())
        base = STAMP_BASE + (int.from_bytes(digest.digest()[:3], "little") << 4)
    if not 0 <= base <= 2**32 - 1 - len(bodies):
        raise ExportError(f"creation time {created_unix} is outside the GPI range (1990-2126)")
    return [base + i for i in range(len(bodies))]


@register
class GarminGPI(PoiExporter):
    identifier = "garmin-gpi"
    verbose_name = "Garmin GPI custom POIs"
    label = "Garmin GPI"
    file_extension = ".gpi"
    encoding = CODEC
    max_name_length = MAX_NAME
    speed_carried_as = "field"

    def __init__(self, created_unix: int | None = None):
        self.created_unix = created_unix

    def render_pois(self, cams: CameraSet, lat_deg: np.ndarray, lon_deg: np.ndarray,
                    options: ExportOptions) -> RenderResult:
        speeds = cams["speed"].astype(np.int64)
        bad = (speeds < 0) | (speeds > MAX_SPEED_KMH)
        if bad.any():
            shown = camera_list(cams["id"], bad, lambda i: f"{int(speeds[i])} km/h")
            raise ExportError(f"Garmin GPI cannot store {int(bad.sum())} camera speed(s) outside 0-{MAX_SPEED_KMH} "
                              f"km/h (the alert speed is an int16 in cm/s): {shown}; fix the speed limits")
        lat = round_half_away(lat_deg, SEMICIRCLES_PER_DEGREE)
        lon = round_half_away(lon_deg, SEMICIRCLES_PER_DEGREE)
        lon = np.where(lon >= 2**31, lon - 2**32, lon)  # 180 E = 180 W
        codes, tails, mains, totals, rank, transliterated = poi_tails(cams, int(options.proximity_m))
        cats = common.categories(cams, by_speed=False)
        names, bodies = [], []
        for cat in cats:
            idx = cat.index
            areas, _ = write_areas(lat[idx], lon[idx], codes[idx], tails, mains, totals, rank)
            bitmap = gpi_bitmap(icons.draw_icon(cat.slug, 0, ICON_SIZE, options.icons))
            names.append(f"{file_stem(cat.title)}.gpi")
            bodies.append(group_body(cat.title, areas, bitmap))
        stamps = creation_stamps(bodies, self.created_unix)
        files = [OutputFile(name, b"".join((headers(stamp, name), body, END)), cat.slug, len(cat.index))
                 for name, body, stamp, cat in zip(names, bodies, stamps, cats)]
        notes = [
            "Garmin GPI alerts are proximity alerts only: they are not direction-aware, the device warns near a "
            "camera whatever your direction of travel.",
            f"Every camera has a proximity alert at {int(options.proximity_m)} m; cameras with a known limit also "
            "carry it as the alert speed and in the name (for example 'Speed 50 A7').",
            f"Each .gpi file is one Custom POI category with its embedded 24x24 icon ({options.icons} icon set); "
            "the text is Windows-1252.",
        ]
        if transliterated:
            notes.append(f"{transliterated} camera name(s) or comment(s) had characters outside Windows-1252 and were "
                         "transliterated to Latin letters.")
        return RenderResult(files=files, skipped={}, notes=notes)
