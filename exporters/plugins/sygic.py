"""Sygic ``offlinespeedcams.dat`` (identifier ``sygic``): an SQLite 3 database.

The newer layout (docs/formats/sygic.md): the community converter updated its tables in
2019 "to match most recent format" (miszellek/SygicOfflineSpeedcams, Sygic 15.6.5+), and a
2026 converter (nodefive/maparadar2sygic) writes the same; **unconfirmed by Sygic**::

    CREATE TABLE Info (Version REAL NOT NULL, CreatedAt TEXT NOT NULL, Note NVARCHAR(255))
    CREATE TABLE OfflineSpeedcam (Id INT NOT NULL, Latitude INT NOT NULL, Longitude INT NOT NULL,
        Type BYTE NOT NULL, Angle INT, BothWays BIT, SpeedLimit INT, Osm BIT, PairId INT, SpeedLimitUnits BYTE)
    CREATE INDEX speedcamsLatLon ON OfflineSpeedcam (Latitude, Longitude)
    CREATE TABLE OfflineZone (Id INT NOT NULL, Type BYTE NOT NULL, SpeedLimit SMALLINT NOT NULL,
        LatitudeMin INT NOT NULL, LongitudeMin INT NOT NULL, LatitudeMax INT NOT NULL,
        LongitudeMax INT NOT NULL)
    CREATE INDEX zonesLatLon ON OfflineZone (LatitudeMin, LatitudeMax, LongitudeMin, LongitudeMax)

Older readers: the eight 2017 columns come first, in their order, and the new ones are
nullable columns after them; the 2017 converter names its columns in every SELECT and
INSERT, so it reads these files and adds to them unchanged (tests run its statements). The
``zonesLatLon`` index of the 2017 layout is kept (the newer converter no longer creates it
for a new file; an index no reader names costs nothing).

Columns written:

- Info: one row, Version 2, CreatedAt "1980-01-01 00:00:00" (fixed, like the package's zip
  dates, so the same cameras give the same bytes; the converters write the time of the
  run), Note NULL.
- Id: 1, 2, 3, ... in camera-id order (one per row), as the converter numbers its rows; our
  camera ids are not used because a section is two rows and Ids should be unique.
- Latitude, Longitude: degrees × 100 000 as integers. The converter truncates; we round to
  the nearest unit (error ≤ 0.55 m instead of ≤ 1.1 m; same scale).
- Type: Sygic code, table below.
- Angle / BothWays from ``dir_mode`` and the heading (rounded half up, mod 360, as for iGO):
  ALL -> Angle NULL, BothWays 1 (what the converter writes for every camera);
  ONE -> Angle = heading, BothWays 0; BOTH -> Angle = heading, BothWays 1. **Unconfirmed**:
  whether Sygic's Angle is the heading of the checked traffic (our assumption, as in iGO)
  or the camera's facing is unknown. A camera with ONE/BOTH but no heading is written as
  ALL and counted in a note.
- SpeedLimit: in the file's unit, 0 = unknown: the exporter's ``speed_unit`` when given,
  else the export's (``ExportOptions.speed_unit``: "kmh", "mph", or with "auto" the unit
  of most of its cameras, ``units.file_unit``; a file has one unit); mph is our km/h
  rounded half up, 48 -> 30.
- Osm: 0, as the converter writes.
- PairId: the start row's Id on both rows of a section with an end point (start, then end
  on the next Id); NULL on every other row. The converters write NULL (they read iGO files,
  which do not pair); that the column links a section's two rows is its name's reading,
  **unconfirmed**. Separate SECTION_START / SECTION_END cameras are not known to belong
  together: NULL.
- SpeedLimitUnits: 0 (km/h) or 1 (mph), the same on every row: the unit of SpeedLimit, as
  both converters write it (``--unit kmh|mph``).
- OfflineZone: created empty (the converter keeps Sygic's own zones only when it edits an
  original file; we write a fresh database, and INSTALL tells the user to keep Sygic's).

Type mapping (Sygic names from the converter; the UK repository maps iGO 1->1, 2->6, 3->2,
4->4, 5->5, 8->11):

=====================  ====  =====================================================
CameraType             Type  Sygic name / why
=====================  ====  =====================================================
SPEED                  1     RADAR_STATIC_SPEED
RED_LIGHT              2     RADAR_STATIC_RED_LIGHT
RED_LIGHT_SPEED        6     RADAR_STATIC_RED_LIGHT_SPEED
SECTION_START / _END   4     RADAR_STATIC_AVERAGE_SPEED
SECTION with end       4 ×2  two rows under consecutive Ids, start then end, sharing a PairId
                             (how Sygic pairs them is unconfirmed)
SECTION without end    1     RADAR_STATIC_SPEED at its start (5 when mobile), counted in a
                             note: a lone section point would open a section with no end
MOBILE_ZONE            5     RADAR_MOBILE_SPEED (a zone's end point is not carried)
TUNNEL                 1     RADAR_STATIC_SPEED
VARIABLE_LIMIT         1     RADAR_STATIC_SPEED
DANGER_ZONE            11    RADAR_DANGEROUS_PLACE (a zone's end point is not carried)
LEVEL_CROSSING         2     RADAR_STATIC_RED_LIGHT: level-crossing cameras catch drivers
                             crossing on red (Sygic has no railway code)
MOBILE_CAMERA          5     RADAR_MOBILE_SPEED
POLICE_CHECK           9     RADAR_FAV_COPS_PLACE
DISTANCE               14    RADAR_DISTANCE_CHECK
BUS_LANE               0     RADAR_SYMBOL (generic camera)
OTHER                  0     RADAR_SYMBOL (generic camera)
ROUTE_ENFORCEMENT      5     RADAR_MOBILE_SPEED: a radar car along a route (France's
                             "Itinéraire")
=====================  ====  =====================================================

Kind MOBILE: red light / red light + speed -> 7 (RADAR_MOBILE_RED_LIGHT), sections -> 8
(RADAR_MOBILE_AVERAGE_SPEED), police check -> 9, danger zone -> 11, anything else -> 5.
Code 3 (RADAR_SEMIMOBILE_SPEED) is never written: the converter's author reports it shows an
icon but gives no sound.

Determinism: the database is loaded in memory with a fixed page size (4096): the three
tables, the Info row, the rows inserted in camera-id order in one transaction (``INSERT_CHUNK``
rows per executemany, from numpy slices, so a million cameras never exist as Python tuples at
once), the two indexes; then ``VACUUM INTO`` a temporary file (in ``options.spool_dir`` when
set, returned as a spooled file) writes it canonically (tables first, then indexes, pages in
order), with the header counters an in-place VACUUM leaves (``build_database``). The same
input gives the same bytes with the same SQLite library: the header records the version of
the SQLite library that wrote it (offset 96), so a different SQLite version gives a
different header.

Size model (``size_model``): the file is ``page_count * 4096`` bytes, predicted without
building the database. VACUUM copies the table with an append-only bulk load (rows in rowid
order; a full leaf is closed and the next row starts a new one) and then the index
``speedcamsLatLon`` in key order (Latitude, Longitude, rowid), also as a bulk load, where
SQLite's ``balance_nonroot`` keeps every closed leaf as full as it can be and moves the next
key up as a divider. ``record_sizes`` gives each row's table cell and index cell from the
very columns the writer inserts (serial types by magnitude, 0 and 1 stored in no bytes,
NULL angles and PairIds; a PairId is its start row's number, so its bytes are counted per subset
like the Id's); ``btree_pages`` packs them: the leaves by cumulative sums (a ``searchsorted``
per page), the few interior pages by replaying SQLite's balancing of the divider cells
(``_Interior``). Schema page + the two trees + the one-row Info table + the empty OfflineZone
table and index = the page count. tests/exporters/test_size_points.py checks it against real builds.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile

import numpy as np
from ..i18n import gettext_noop

from exporters import sizing, units
from exporters.base import CameraSet, ExportOptions, OutputFile, RenderResult, register
from exporters.common import same_selection, select
from exporters.i18n import gettext, ngettext, number
from exporters.schema import CameraType, DirectionMode, Kind
from exporters.points import PointExporter, Points, code_lookup

T = CameraType

SYGIC_TYPES = {
    T.SPEED: 1, T.RED_LIGHT: 2, T.RED_LIGHT_SPEED: 6, T.SECTION_START: 4, T.SECTION_END: 4,
    T.MOBILE_ZONE: 5, T.TUNNEL: 1, T.VARIABLE_LIMIT: 1, T.DANGER_ZONE: 11, T.LEVEL_CROSSING: 2,
    T.SECTION: 4, T.MOBILE_CAMERA: 5, T.POLICE_CHECK: 9, T.DISTANCE: 14, T.BUS_LANE: 0, T.OTHER: 0,
    T.ROUTE_ENFORCEMENT: 5,
}
SYGIC_MOBILE_TYPES = {
    T.RED_LIGHT: 7, T.RED_LIGHT_SPEED: 7, T.SECTION_START: 8, T.SECTION_END: 8, T.SECTION: 8,
    T.POLICE_CHECK: 9, T.DANGER_ZONE: 11,
}
SYGIC_MOBILE_DEFAULT = 5
SCALE = 100_000
PAGE_SIZE = 4096

SCHEMA = (
    "CREATE TABLE Info (Version REAL NOT NULL, CreatedAt TEXT NOT NULL, Note NVARCHAR(255))",
    "CREATE TABLE OfflineSpeedcam (Id INT NOT NULL, Latitude INT NOT NULL, Longitude INT NOT NULL, "
    "Type BYTE NOT NULL, Angle INT, BothWays BIT, SpeedLimit INT, Osm BIT, PairId INT, SpeedLimitUnits BYTE)",
    "CREATE INDEX speedcamsLatLon ON OfflineSpeedcam (Latitude, Longitude)",
    "CREATE TABLE OfflineZone (Id INT NOT NULL, Type BYTE NOT NULL, SpeedLimit SMALLINT NOT NULL, "
    "LatitudeMin INT NOT NULL, LongitudeMin INT NOT NULL, LatitudeMax INT NOT NULL, LongitudeMax INT NOT NULL)",
    "CREATE INDEX zonesLatLon ON OfflineZone (LatitudeMin, LatitudeMax, LongitudeMin, LongitudeMax)",
)
INSERT = ("INSERT INTO OfflineSpeedcam (Id, Latitude, Longitude, Type, Angle, BothWays, SpeedLimit, Osm, PairId, "
          "SpeedLimitUnits) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)")
INFO_VERSION = 2.0
INFO_CREATED_AT = "1980-01-01 00:00:00"  # fixed, as the package's zip dates: same cameras, same bytes
INSERT_INFO = "INSERT INTO Info (Version, CreatedAt, Note) VALUES (?, ?, NULL)"

# SpeedLimitUnits: the unit of SpeedLimit, the same on every row of a file (0 km/h, 1 mph)
SPEED_UNITS = {"kmh": 0, "mph": 1}
KM_PER_MILE = units.KM_PER_MILE
speeds_in = units.speeds_in  # km/h to the unit: mph rounded half up to whole numbers (48 -> 30), 0 stays 0


INSERT_CHUNK = 50_000  # rows per executemany

sygic_codes = code_lookup(SYGIC_TYPES, "Sygic")


def sygic_types(cams: CameraSet) -> np.ndarray:
    codes = sygic_codes(cams)
    mobile = cams["kind"] == Kind.MOBILE
    if mobile.any():
        mobile_codes = np.full(len(codes), SYGIC_MOBILE_DEFAULT, dtype=np.int64)
        for t, code in SYGIC_MOBILE_TYPES.items():
            mobile_codes[cams["type"] == t] = code
        codes = np.where(mobile, mobile_codes, codes)
    return codes


sygic_types.known = sygic_codes.known  # every mobile code comes from a known type too


def pair_offsets(pts: Points) -> np.ndarray:
    """Per row: -1 for a row of its own, 0 for a section's start row, 1 for its end row (the
    row after it, of the same camera): the two rows share PairId = the start row's Id."""
    idx = pts.idx
    end = np.zeros(len(idx), dtype=bool)
    end[1:] = idx[1:] == idx[:-1]
    start = np.zeros(len(idx), dtype=bool)
    start[:-1] = end[1:]
    return np.where(end, 1, np.where(start, 0, -1)).astype(np.int8)


def sygic_columns(pts: Points, unit: str = "kmh") -> dict[str, np.ndarray]:
    """The columns of OfflineSpeedcam per row (int64; Id is the row number from 1 and Osm is
    0): what the writer inserts and what the size model measures. ``Angle`` is NULL where
    ``angle_null``; ``pair_offset`` gives PairId (NULL where -1, else Id - offset);
    SpeedLimit is in ``unit`` and SpeedLimitUnits says which."""
    idx, mode = pts.idx, pts.mode[pts.idx]
    return {
        "Latitude": np.rint(pts.lat * SCALE).astype(np.int64),
        "Longitude": np.rint(pts.lon * SCALE).astype(np.int64),
        "Type": pts.codes[idx].astype(np.int64),
        "Angle": pts.deg[idx].astype(np.int64),
        "angle_null": mode == DirectionMode.ALL,
        "BothWays": (mode != DirectionMode.ONE).astype(np.int64),
        "SpeedLimit": speeds_in(pts.cams["speed"][idx], unit),
        "pair_offset": pair_offsets(pts),
        "SpeedLimitUnits": np.full(len(idx), SPEED_UNITS[unit], dtype=np.int64),
    }


def row_chunks(cols: dict[str, np.ndarray], chunk: int | None = None):
    """The INSERT parameters, ``chunk`` (default ``INSERT_CHUNK``) rows at a time (Python
    objects only for one chunk). Columns without ``pair_offset`` / ``SpeedLimitUnits`` get
    no pairs and km/h."""
    chunk = chunk or INSERT_CHUNK
    n = len(cols["Latitude"])
    offsets = cols.get("pair_offset", np.full(n, -1, dtype=np.int8))
    units = cols.get("SpeedLimitUnits", np.zeros(n, dtype=np.int64))
    for start in range(0, n, chunk):
        end = min(n, start + chunk)
        part = slice(start, end)
        angle = cols["Angle"][part].tolist()
        for i in np.flatnonzero(cols["angle_null"][part]).tolist():
            angle[i] = None
        off = offsets[part].astype(np.int64)
        pair = (np.arange(start + 1, end + 1) - off).tolist()
        for i in np.flatnonzero(off < 0).tolist():
            pair[i] = None
        yield list(zip(range(start + 1, end + 1), cols["Latitude"][part].tolist(),
                       cols["Longitude"][part].tolist(), cols["Type"][part].tolist(), angle,
                       cols["BothWays"][part].tolist(), cols["SpeedLimit"][part].tolist(), pair,
                       units[part].tolist()))


# The same rows with four parameters each: Id, Latitude, Longitude and the small columns
# packed in one integer, unpacked by the statement (binding a parameter costs more than
# SQLite's arithmetic; 200,000 rows: 0.38 s -> 0.23 s). The values stored are the same
# integers and NULLs as ``INSERT`` with ``row_chunks`` gives, so the file is the same.
# Bits of the packed value: Type 0-7, BothWays 8, SpeedLimitUnits 9, PairId 10-11 (0: NULL,
# else Id - (it - 1)), Angle NULL 12, Angle 13-28, SpeedLimit 29-44.
INSERT_PACKED = ("INSERT INTO OfflineSpeedcam (Id, Latitude, Longitude, Type, Angle, BothWays, SpeedLimit, Osm, "
                 "PairId, SpeedLimitUnits) VALUES (?1, ?2, ?3, ?4 & 255, "
                 "CASE WHEN ?4 & 4096 THEN NULL ELSE (?4 >> 13) & 65535 END, (?4 >> 8) & 1, (?4 >> 29) & 65535, 0, "
                 "CASE (?4 >> 10) & 3 WHEN 0 THEN NULL ELSE ?1 + 1 - ((?4 >> 10) & 3) END, (?4 >> 9) & 1)")


def packed_chunks(cols: dict[str, np.ndarray], chunk: int | None = None):
    """The parameters of ``INSERT_PACKED`` for the rows of ``row_chunks``, ``chunk`` rows at a
    time, or None when a value does not fit its bits (then ``row_chunks`` and ``INSERT``)."""
    chunk = chunk or INSERT_CHUNK
    n = len(cols["Latitude"])
    offsets = cols.get("pair_offset", np.full(n, -1, dtype=np.int8)).astype(np.int64)
    units = cols.get("SpeedLimitUnits", np.zeros(n, dtype=np.int64)).astype(np.int64)
    small = [(cols["Type"], 0, 255), (cols["BothWays"], 8, 1), (units, 9, 1), (offsets + 1, 10, 2),
             (cols["angle_null"].astype(np.int64), 12, 1), (np.where(cols["angle_null"], 0, cols["Angle"]), 13, 65535),
             (cols["SpeedLimit"], 29, 65535)]
    packed = np.zeros(n, dtype=np.int64)
    for values, shift, top in small:
        values = np.asarray(values).astype(np.int64)
        if n and (int(values.min()) < 0 or int(values.max()) > top):
            return None
        packed |= values << shift
    lat, lon = cols["Latitude"], cols["Longitude"]

    def chunks():
        for start in range(0, n, chunk):
            part = slice(start, min(n, start + chunk))
            yield zip(range(start + 1, part.stop + 1), lat[part].tolist(), lon[part].tolist(), packed[part].tolist())
    return chunks()


def insert_rows(cols: dict[str, np.ndarray]) -> tuple[str, object]:
    """(statement, chunks of its parameters) that insert the rows of ``cols``."""
    chunks = packed_chunks(cols)
    return (INSERT, row_chunks(cols)) if chunks is None else (INSERT_PACKED, chunks)


# ---------------------------------------------------------------------------------------
# Record sizes (SQLite record format, schema format 4)


def int_bytes(v: np.ndarray) -> np.ndarray:
    """Bytes of an integer's value in a record: 0 for 0 and 1 (serial types 8, 9), else the
    smallest of 1, 2, 3, 4, 6, 8 bytes holding it (two's complement)."""
    v = np.asarray(v, dtype=np.int64)
    u = np.where(v < 0, -(v + 1), v)
    out = np.select([u <= 127, u <= 32767, u <= 8388607, u <= 2147483647, u <= 140737488355327],
                    [1, 2, 3, 4, 6], 8)
    out[(v == 0) | (v == 1)] = 0
    return out.astype(np.int64)


def varint_bytes(v: np.ndarray) -> np.ndarray:
    """Bytes of SQLite varints of non-negative values below 2**35."""
    v = np.asarray(v, dtype=np.int64)
    return 1 + (v > 127) + (v > 16383) + (v > 2097151) + (v > 268435455)


def rowid_bytes(r: np.ndarray) -> np.ndarray:
    """``int_bytes`` for row numbers (1, 2, ...): cheaper comparisons only."""
    return (r > 1).astype(np.int64) + (r > 127) + (r > 32767) + (r > 8388607) + (r > 2147483647)


def _varint(v: int) -> int:
    return 1 if v <= 127 else 2 if v <= 16383 else 3 if v <= 2097151 else 4 if v <= 268435455 else 5


def record_bases(cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the parts of (table record, index record) that do not depend on the row's
    number: header (one byte per column and one for its length) and values; Id / rowid are
    added by ``cell_sizes``. The records stay below 128 bytes (one-byte length varints)."""
    lat, lon = int_bytes(cols["Latitude"]), int_bytes(cols["Longitude"])
    angle = np.where(cols["angle_null"], 0, int_bytes(cols["Angle"]))
    units = int_bytes(cols["SpeedLimitUnits"]) if "SpeedLimitUnits" in cols else 0
    table = (1 + 10) + lat + lon + int_bytes(cols["Type"]) + angle + int_bytes(cols["BothWays"]) \
        + int_bytes(cols["SpeedLimit"]) + units  # + Id and PairId; Osm = 0 and NULLs take no byte
    index = (1 + 3) + lat + lon  # + rowid
    return table, index


# ---------------------------------------------------------------------------------------
# Page counts

PAGE_ROOM = {True: PAGE_SIZE - 8, False: PAGE_SIZE - 12}  # leaf / interior: page minus header


class Unpredictable(Exception):
    """A layout the page model does not cover (cells a few to a page); never expected here."""


class _Interior:
    """The interior pages of one b-tree while VACUUM bulk-loads it, replayed from the leaf
    balances: SQLite's ``balance`` / ``balance_deeper`` / ``balance_nonroot`` (bulk: the two
    rightmost siblings, left-packed) on lists of divider cell sizes. ``pages`` counts every
    page of the tree, leaves included (new leaves are added with ``new_page``)."""

    def __init__(self):
        self.levels: list[list[list[int]]] = []  # per level above the leaves: its pages (cell sizes)
        self.costs: list[list[int]] = []         # per level: bytes used per page (cells + 2 each)
        self.pages = 1                           # the root page
        self.free = 0                            # freed pages, reused first

    def new_page(self) -> None:
        if self.free:
            self.free -= 1
        else:
            self.pages += 1

    def event(self, drop: int, cells: list[int]) -> None:
        """A leaf balance: the last ``drop`` dividers of the rightmost page above the leaves
        replaced by ``cells``, then the balance walks up."""
        if not self.levels:
            self.levels.append([[]])
            self.costs.append([0])
        page, costs = self.levels[0][-1], self.costs[0]
        cost = costs[-1]
        for _ in range(drop):
            cost -= page.pop() + 2
        for c in cells:
            page.append(c)
            cost += c + 2
        costs[-1] = cost
        if cost <= PAGE_ROOM[False] and (PAGE_ROOM[False] - cost) * 3 <= PAGE_SIZE * 2:
            return  # the usual case: the page neither overflows nor is under a third full
        level = 0
        room = PAGE_ROOM[False]
        while True:
            cost = self.costs[level][-1]
            over = cost > room
            if not over and (room - cost) * 3 <= PAGE_SIZE * 2:  # neither overfull nor under a third full
                return
            if level == len(self.levels) - 1:  # the root
                if not over:
                    return
                self.new_page()  # balance_deeper: the root's cells move to a new child
                self.levels.append([[]])
                self.costs.append([0])
                continue
            self._balance(level)
            level += 1

    def _balance(self, level: int) -> None:
        pages, costs = self.levels[level], self.costs[level]
        parent, pcosts = self.levels[level + 1][-1], self.costs[level + 1]
        room = PAGE_ROOM[False]
        npar = len(parent)
        nold = npar + 1 if npar < 2 else 2
        if nold == 2 and costs[-1] <= room and costs[-2] + parent[-1] + 2 > room:
            return  # the left sibling cannot take the divider and the right one fits: no change
        old = pages[-nold:]
        divs = parent[npar - (nold - 1):]
        del parent[npar - (nold - 1):]
        pcosts[-1] -= sum(divs) + 2 * len(divs)
        cells: list[int] = []
        cnt = []
        for j, p in enumerate(old):
            cells.extend(p)
            cnt.append(len(cells))
            if j < nold - 1:
                cells.append(divs[j])
        ncell = len(cells)
        size = costs[-nold:] + [0, 0]
        cnt += [0, 0]
        k, i = nold, 0
        while i < k:  # left-packed: each page takes what fits, the next cell is the divider
            while size[i] > room:
                if i + 1 >= k:
                    k = i + 2
                    size[k - 1], cnt[k - 1] = 0, ncell
                size[i] -= 2 + cells[cnt[i] - 1]
                size[i + 1] += 2 + cells[cnt[i]] if cnt[i] < ncell else 0
                cnt[i] -= 1
            while cnt[i] < ncell and size[i] + 2 + cells[cnt[i]] <= room:
                size[i] += 2 + cells[cnt[i]]
                cnt[i] += 1
                size[i + 1] -= 2 + cells[cnt[i]] if cnt[i] < ncell else 0
            if cnt[i] >= ncell:
                k = i + 1
            i += 1
        for i in range(k - 1, 0, -1):  # bulk load: only an empty right sibling gets a cell
            if size[i] == 0:
                cnt[i - 1] -= 1
        new, newdiv, start = [], [], 0
        for i in range(k):
            new.append(cells[start:cnt[i]])
            if i < k - 1:
                newdiv.append(cells[cnt[i]])
                start = cnt[i] + 1
        if any(not p for p in new):
            raise Unpredictable("an interior page left empty")
        for _ in range(k - nold):
            self.new_page()
        self.free += max(0, nold - k)
        pages[-nold:] = new
        costs[-nold:] = [sum(p) + 2 * len(p) for p in new]
        parent.extend(newdiv)
        pcosts[-1] += sum(newdiv) + 2 * len(newdiv)
        if k == 1 and not parent and level + 1 == len(self.levels) - 1:
            raise Unpredictable("the tree would get shallower")


class _first_over:
    """``first_over[s]``: the first cell t >= s such that cells s..t do not fit on one leaf
    (n, the number of cells, if they all fit); ``cum``: cumulative cell costs from 0. A
    binary search per page (a few thousand per 200,000 rows)."""

    def __init__(self, cum: np.ndarray):
        self.cum, self.search = cum, cum.searchsorted

    def __getitem__(self, s: int) -> int:
        return int(self.search(self.cum[s] + PAGE_ROOM[True], "right")) - 1


def _cumulative(cells: np.ndarray) -> np.ndarray:
    cum = np.zeros(len(cells) + 1, dtype=np.int64)
    np.cumsum(cells + 2, out=cum[1:])  # a cell costs its bytes and a 2-byte pointer
    return cum


def table_pages(cells: np.ndarray) -> int:
    """Pages of a rowid table bulk-loaded with leaf cells of ``cells`` bytes (rowid order,
    rowids 1, 2, ...): full leaves (balance_quick starts a new leaf with the row that does not
    fit), dividers of 4 bytes + the varint of the leaf's last rowid."""
    n = len(cells)
    first_over = _first_over(_cumulative(cells))
    tree = _Interior()
    start = 0
    while True:
        t = int(first_over[start])
        if t >= n:
            return tree.pages
        if start == 0:
            tree.new_page()  # balance_deeper: the root leaf's rows move to a child
        tree.new_page()
        tree.event(0, [4 + _varint(t)])  # the closed leaf ends with row t (rowid t)
        start = t


def index_pages(cells: np.ndarray) -> int:
    """Pages of an index bulk-loaded with leaf cells of ``cells`` bytes (key order).

    SQLite balances the two rightmost leaves when the last one overflows: the left one is
    refilled as full as it can be (L), the next key goes up as the divider, the rest stays
    right if it fits; if not, L is final, the right leaf keeps all but its last key, that
    key goes up and the new key starts a new leaf. Tracked here by positions: ``left`` (L's
    first key), ``closed`` (L full), ``div`` (the key between L and the last leaf), ``right``
    (the last leaf's first key); each balance is passed to ``_Interior`` as divider changes."""
    n = len(cells)
    first_over = _first_over(_cumulative(cells))
    key = cells + 4  # as interior cells: a 4-byte child pointer first
    tree = _Interior()
    t = int(first_over[0])
    if t >= n:
        return tree.pages
    if t < 3:
        raise Unpredictable("fewer than three keys per leaf")
    tree.new_page()  # balance_deeper
    tree.new_page()
    tree.event(0, [int(key[t - 1])])
    left, closed, div, right = 0, False, t - 1, t
    while True:
        t = int(first_over[right])
        if t >= n:
            return tree.pages
        full = div if closed else int(first_over[left])  # L refilled: keys left..full-1
        nxt = full + 1
        if full >= t:
            raise Unpredictable("the left leaf would take the whole right one")
        end = int(first_over[nxt])
        if t < end:  # the rest fits on the right leaf
            tree.event(0 if closed else 1, [] if closed else [int(key[full])])
            closed, div, right = True, full, nxt
        else:
            if t != end or t - 1 <= nxt:
                raise Unpredictable("leaf split")
            tree.new_page()
            tree.event(1, [int(key[full]), int(key[t - 1])])
            left, closed, div, right = nxt, False, t - 1, t


EMPTY_PAGES = 4  # the schema page (sqlite_schema), the root of Info (its one row) and those of OfflineZone, zonesLatLon


def database_pages(table_base: np.ndarray, index_base: np.ndarray, order: np.ndarray,
                   pair_offset: np.ndarray | None = None) -> int:
    """Page count of the database of rows with record bases ``table_base`` / ``index_base``
    (``record_bases``) in row order, ``order``: the rows in index key order; ``pair_offset``
    per row as in ``sygic_columns`` (None: no pairs)."""
    n = len(table_base)
    rowid = np.arange(1, n + 1, dtype=np.int64)
    table_base, index_base = table_base.astype(np.int64), index_base.astype(np.int64)
    # cell: payload length (1 byte), [rowid varint,] payload (+ Id / rowid value, + PairId value)
    table = 1 + varint_bytes(rowid) + table_base + rowid_bytes(rowid)
    if pair_offset is not None:
        off = np.asarray(pair_offset, dtype=np.int64)
        table += np.where(off >= 0, rowid_bytes(np.maximum(rowid - off, 1)), 0)
    index = 1 + index_base[order] + rowid_bytes(order + 1)
    return EMPTY_PAGES + table_pages(table) + index_pages(index)


def index_order(cols: dict[str, np.ndarray]) -> np.ndarray:
    """Rows in the order of the index (Latitude, Longitude, rowid)."""
    return np.lexsort((np.arange(len(cols["Latitude"])), cols["Longitude"], cols["Latitude"]))


class SygicSizes(sizing.SizeModel):
    """Sizes of the Sygic export of any subset: the record bases and the index order are
    computed once; ``sizes(mask)`` numbers the subset's rows and counts its pages."""

    def __init__(self, exporter, row_camera, table_base, index_base, order, selected, flags, pair_offset=None):
        self.exporter = exporter
        self.pair_offset = (np.full(len(row_camera), -1, dtype=np.int8) if pair_offset is None
                            else np.asarray(pair_offset, dtype=np.int8))
        self.row_camera = row_camera.astype(np.int32 if len(selected) < 2**31 else np.int64)  # per row, its camera
        self.table_base, self.index_base = table_base.astype(np.int16), index_base.astype(np.int16)
        self.order = order.astype(np.int32 if len(order) < 2**31 else np.int64)
        self.selected = selected      # per camera: exported (mobile cameras only with the option)
        self.flags = flags
        self.fallback = None  # mask -> rendered sizes, for a layout the model does not cover

    def sizes(self, mask=None) -> sizing.SizedExport:
        sel = self.selected if mask is None else self.selected & np.asarray(mask, dtype=bool)
        rows = sel[self.row_camera]
        number = np.cumsum(rows, dtype=np.int64) - 1  # the row's position in the subset
        order = number[self.order[rows[self.order]]]
        try:
            pages = database_pages(self.table_base[rows], self.index_base[rows], order, self.pair_offset[rows])
        except Unpredictable:
            if self.fallback is None:
                raise
            return self.fallback(mask)  # render and measure: slow but exact
        counts = {k: int(np.count_nonzero(v & sel)) for k, v in self.flags.items()}
        ex = self.exporter
        return sizing.SizedExport([sizing.FileSize(ex.file_name, "all", int(np.count_nonzero(rows)),
                                                   pages * PAGE_SIZE)], {}, ex.notes(counts))


# The header fields an in-place VACUUM leaves (file change counter at offset 24, version-valid-
# for number at 92: 2 after the load's transaction and the VACUUM); VACUUM INTO writes a new
# file with 1 in both, and gets them here, so the bytes are those of the in-place VACUUM.
VACUUMED_HEADER = ((24, (2).to_bytes(4, "big")), (92, (2).to_bytes(4, "big")))


def build_database(chunks, path: str | None = None, insert: str = INSERT) -> bytes | None:
    """A fresh SQLite file with the schema and the rows of ``chunks`` (iterables of the
    parameters of ``insert``: ``INSERT`` or ``INSERT_PACKED``), built the same way every
    time: at ``path`` (a new or empty file; returns None), or in a temporary directory
    (returns the bytes).

    The rows are loaded into an in-memory database, then ``VACUUM INTO`` writes the file
    canonically in one pass (as an in-place VACUUM of a loaded file would, without writing the
    pages twice and copying them back); the two header counters are then set as that VACUUM
    sets them (``VACUUMED_HEADER``), so the bytes are the same."""
    if path is None:
        with tempfile.TemporaryDirectory(prefix="sygic-") as tmp:
            path = os.path.join(tmp, "offlinespeedcams.dat")
            build_database(chunks, path, insert)
            with open(path, "rb") as fh:
                return fh.read()
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        # VACUUM INTO writes with this connection's sync setting: FULL would fsync the new file
        # and its journal four times; a half-written spool file is discarded anyway
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        for statement in SCHEMA:
            if statement.startswith("CREATE TABLE"):
                conn.execute(statement)
        conn.execute(INSERT_INFO, (INFO_VERSION, INFO_CREATED_AT))
        for rows in chunks:
            conn.executemany(insert, rows)
        for statement in SCHEMA:  # indexes after the rows: twice as fast, same bytes after VACUUM
            if statement.startswith("CREATE INDEX"):
                conn.execute(statement)
        conn.execute("COMMIT")
        conn.execute("VACUUM INTO ?", (path,))
    finally:
        conn.close()
    with open(path, "r+b") as fh:
        for offset, value in VACUUMED_HEADER:
            fh.seek(offset)
            fh.write(value)
    return None


@register
class SygicExporter(PointExporter):
    identifier = "sygic"
    verbose_name = gettext_noop("Sygic offlinespeedcams.dat (Android, 15.6.5+)")
    label = "Sygic"
    file_extension = ".dat"
    encoding = "utf-8"  # SQLite text encoding; the database holds no text
    file_name = "offlinespeedcams.dat"
    type_codes = staticmethod(sygic_types)

    def __init__(self, speed_unit: str | None = None):
        if speed_unit is not None and speed_unit not in SPEED_UNITS:
            raise ValueError(f"unknown speed unit {speed_unit!r}; valid: {', '.join(SPEED_UNITS)}")
        # SpeedLimit is written in this unit and SpeedLimitUnits says so; None: the unit of
        # the export's ``ExportOptions.speed_unit`` (``units.file_unit``: with "auto" that of
        # most of its cameras, a file has one unit)
        self.speed_unit = speed_unit

    def for_unit(self, cameras: CameraSet, options: ExportOptions) -> tuple["SygicExporter", str]:
        """(an exporter with a fixed unit for this export, that unit)."""
        if self.speed_unit is not None:
            return self, self.speed_unit
        unit = units.file_unit(select(cameras, options), options.speed_unit)
        return type(self)(unit), unit

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        if self.speed_unit is None:
            with same_selection():  # the unit's selection is the render's: made (and looked up) once
                return self.for_unit(cameras, options)[0].render(cameras, options)
        return super().render(cameras, options)

    def columns(self, pts: Points) -> dict[str, np.ndarray]:
        return sygic_columns(pts, self.speed_unit)

    def file_data(self, pts: Points) -> bytes:
        insert, chunks = insert_rows(self.columns(pts))
        return build_database(chunks, None, insert)

    def file_output(self, pts: Points, options: ExportOptions) -> OutputFile:
        if options.spool_dir is None:
            return OutputFile(self.file_name, self.file_data(pts), "all", len(pts.idx))
        fd, path = tempfile.mkstemp(prefix="spool-", suffix=".dat", dir=options.spool_dir)
        os.close(fd)
        try:
            insert, chunks = insert_rows(self.columns(pts))
            build_database(chunks, path, insert)
        except BaseException:
            os.unlink(path)
            raise
        return OutputFile(self.file_name, None, "all", len(pts.idx), path=path)

    def format_notes(self, counts: dict[str, int]) -> list[str]:
        unit = "mph" if self.speed_unit == "mph" else "km/h"
        notes = [gettext("Speed limits are in %(unit)s, and the file says so (SpeedLimitUnits %(code)s on every "
                         "camera).") % {"unit": unit, "code": SPEED_UNITS[self.speed_unit]},
                 gettext("Sygic was reported (version 17.2) not to announce a camera's speed limit by voice.")]
        if counts.get("pairs"):
            notes.append(ngettext("%(count)s average-speed section is a start and an end camera linked by a shared "
                                  "PairId.",
                                  "%(count)s average-speed sections are a start and an end camera linked by a shared "
                                  "PairId.", counts["pairs"]) % {"count": number(counts["pairs"])})
        return notes

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        if self.speed_unit is None:
            fixed, unit = self.for_unit(cameras, options)
            model = fixed.size_model(cameras, options)
            if options.speed_unit != "auto":
                return model
            return units.FileUnitSizes(model, cameras, options, unit,
                                       lambda mask: sizing.rendered_sizes(self, cameras, options, mask))
        model = super().size_model(cameras, options)
        if isinstance(model, SygicSizes):
            model.fallback = lambda mask: sizing.rendered_sizes(self, cameras, options, mask)
        return model

    def points_size_model(self, pts: Points, index: np.ndarray, n: int,
                          flags: dict[str, np.ndarray]) -> sizing.SizeModel:
        cols = self.columns(pts)
        table_base, index_base = record_bases(cols)
        selected = np.zeros(n, dtype=bool)
        selected[index] = True
        return SygicSizes(self, index[pts.idx], table_base, index_base, index_order(cols), selected, flags,
                          cols["pair_offset"])
