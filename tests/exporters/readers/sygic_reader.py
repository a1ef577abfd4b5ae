"""A strict reader for Sygic ``offlinespeedcams.dat`` (SQLite), for tests.

Written from the public descriptions of the layout (shared/formats/sygic.md and the two
community converters' CREATE statements), not from the exporter. The database must hold
exactly the newer layout (a converter updated its tables in 2019 "to match most recent
format": an ``Info`` table, ``PairId`` and ``SpeedLimitUnits`` in ``OfflineSpeedcam``) and
the 2017 indexes, pass SQLite's integrity check, and:

- OfflineSpeedcam starts with the eight 2017 columns in their order (a reader that takes
  columns by position still finds them) and adds only nullable columns after them;
- Info holds one row: Version 2 and a CreatedAt date;
- every row is in range; SpeedLimitUnits is 0 (km/h) or 1 (mph), the same on every row;
- a PairId is shared by exactly two rows, on consecutive Ids, both average-speed ones
  (type 4, or 8 when mobile), and it is the Id of the first of them.

Declared types are compared without case (the converters write ``int`` and ``INT``).
``legacy_reads`` runs what the 2017 converter runs on a file it is given.
"""

from __future__ import annotations

import datetime
import os
import sqlite3
import tempfile
from collections import Counter
from dataclasses import dataclass

SQLITE_MAGIC = b"SQLite format 3\x00"

# name -> [(column, declared type, not null)]
LEGACY_COLUMNS = [("Id", "INT", 1), ("Latitude", "INT", 1), ("Longitude", "INT", 1), ("Type", "BYTE", 1),
                  ("Angle", "INT", 0), ("BothWays", "BIT", 0), ("SpeedLimit", "INT", 0), ("Osm", "BIT", 0)]
TABLES = {
    "Info": [("Version", "REAL", 1), ("CreatedAt", "TEXT", 1), ("Note", "NVARCHAR(255)", 0)],
    "OfflineSpeedcam": LEGACY_COLUMNS + [("PairId", "INT", 0), ("SpeedLimitUnits", "BYTE", 0)],
    "OfflineZone": [("Id", "INT", 1), ("Type", "BYTE", 1), ("SpeedLimit", "SMALLINT", 1), ("LatitudeMin", "INT", 1),
                    ("LongitudeMin", "INT", 1), ("LatitudeMax", "INT", 1), ("LongitudeMax", "INT", 1)],
}
INDEXES = {
    "speedcamsLatLon": ("OfflineSpeedcam", ["Latitude", "Longitude"]),
    "zonesLatLon": ("OfflineZone", ["LatitudeMin", "LatitudeMax", "LongitudeMin", "LongitudeMax"]),
}
SYGIC_TYPE_CODES = frozenset(range(0, 17))  # RADAR_SYMBOL .. RADAR_SCHOOLZONE
AVERAGE_SPEED_TYPES = frozenset({4, 8})     # RADAR_STATIC_AVERAGE_SPEED, RADAR_MOBILE_AVERAGE_SPEED
MAX_SPEED = {0: 300, 1: 190}                # per SpeedLimitUnits: km/h, mph
SCALE = 100_000


class SygicFormatError(AssertionError):
    pass


@dataclass(frozen=True)
class SygicCamera:
    id: int
    lat_e5: int
    lon_e5: int
    type: int
    angle: int | None
    both_ways: int | None
    speed: int | None
    osm: int | None
    pair_id: int | None = None
    speed_units: int | None = None

    @property
    def lat(self) -> float:
        return self.lat_e5 / SCALE

    @property
    def lon(self) -> float:
        return self.lon_e5 / SCALE


@dataclass
class SygicDatabase:
    cameras: list[SygicCamera]
    zones: list[tuple]
    info: tuple  # (Version, CreatedAt, Note)
    page_size: int
    schema: list[tuple[str, str, str]]  # (type, name, table) from sqlite_master, sorted


def _check_schema(conn) -> list[tuple[str, str, str]]:
    objects = sorted(conn.execute("SELECT type, name, tbl_name FROM sqlite_master"))
    expected = sorted([("table", t, t) for t in TABLES] + [("index", i, t) for i, (t, _) in INDEXES.items()])
    if objects != expected:
        raise SygicFormatError(f"schema objects {objects}, expected {expected}")
    for table, columns in TABLES.items():
        info = [(name, decl.upper(), notnull)
                for _, name, decl, notnull, _, _ in conn.execute(f"PRAGMA table_info({table})")]
        if info != columns:
            raise SygicFormatError(f"table {table} has columns {info}, expected {columns}")
    for index, (table, columns) in INDEXES.items():
        cols = [name for _, _, name in conn.execute(f"PRAGMA index_info({index})")]
        if cols != columns:
            raise SygicFormatError(f"index {index} on {table} covers {cols}, expected {columns}")
    return objects


def _check_camera(row: tuple) -> SygicCamera:
    cam = SygicCamera(*row)
    for name in ("id", "lat_e5", "lon_e5", "type"):
        if not isinstance(getattr(cam, name), int):
            raise SygicFormatError(f"camera {row}: {name} is not an integer")
    if abs(cam.lat_e5) > 90 * SCALE or abs(cam.lon_e5) > 180 * SCALE:
        raise SygicFormatError(f"camera {row}: position out of range")
    if cam.type not in SYGIC_TYPE_CODES:
        raise SygicFormatError(f"camera {row}: Type {cam.type} is not a Sygic code 0-16")
    if cam.angle is not None and not (isinstance(cam.angle, int) and 0 <= cam.angle <= 359):
        raise SygicFormatError(f"camera {row}: Angle {cam.angle!r} is neither NULL nor 0-359")
    if cam.both_ways not in (0, 1) or cam.osm not in (0, 1):
        raise SygicFormatError(f"camera {row}: BothWays and Osm must be 0 or 1")
    if cam.speed_units not in MAX_SPEED:
        raise SygicFormatError(f"camera {row}: SpeedLimitUnits {cam.speed_units!r} is neither 0 (km/h) nor 1 (mph)")
    if not (isinstance(cam.speed, int) and 0 <= cam.speed <= MAX_SPEED[cam.speed_units]):
        raise SygicFormatError(f"camera {row}: SpeedLimit {cam.speed!r} is not 0-{MAX_SPEED[cam.speed_units]}")
    if cam.pair_id is not None and not isinstance(cam.pair_id, int):
        raise SygicFormatError(f"camera {row}: PairId {cam.pair_id!r} is neither NULL nor an integer")
    return cam


def _check_pairs(cameras: list[SygicCamera]) -> None:
    by_id = {c.id: c for c in cameras}
    if len(by_id) != len(cameras):
        raise SygicFormatError("Ids are not unique")
    shared = Counter(c.pair_id for c in cameras if c.pair_id is not None)
    for pair_id, count in shared.items():
        rows = sorted((c for c in cameras if c.pair_id == pair_id), key=lambda c: c.id)
        if count != 2 or rows[1].id != rows[0].id + 1 or rows[0].id != pair_id:
            raise SygicFormatError(f"PairId {pair_id}: rows {[c.id for c in rows]}, expected the two consecutive "
                                   f"rows {pair_id} and {pair_id + 1}")
        if {c.type for c in rows} - AVERAGE_SPEED_TYPES or rows[0].type != rows[1].type:
            raise SygicFormatError(f"PairId {pair_id}: types {[c.type for c in rows]} are not one average-speed type")
    if len({c.speed_units for c in cameras}) > 1:
        raise SygicFormatError("SpeedLimitUnits differs between rows of one file")


def _check_info(rows: list[tuple]) -> tuple:
    if len(rows) != 1:
        raise SygicFormatError(f"Info holds {len(rows)} rows, expected 1")
    version, created, note = rows[0]
    if version != 2:
        raise SygicFormatError(f"Info Version {version!r}, expected 2")
    try:
        datetime.datetime.strptime(created, "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        raise SygicFormatError(f"Info CreatedAt {created!r} is not a 'YYYY-MM-DD HH:MM:SS' date") from None
    return rows[0]


def _open(data: bytes, tmp: str) -> str:
    path = os.path.join(tmp, "offlinespeedcams.dat")
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def legacy_reads(data: bytes) -> dict:
    """What the 2017 converter does with a file it is given (its statements, named columns
    only): the cameras it reads (Latitude, Longitude, SpeedLimit, Type by position), the
    largest Id, and a camera it appends with the 2017 column list; returns those and the
    appended row as read back with every column."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(_open(data, tmp), isolation_level=None)
        try:
            cams = conn.execute("SELECT Latitude, Longitude, SpeedLimit, Type FROM OfflineSpeedcam "
                                "ORDER BY Latitude, Longitude").fetchall()
            max_id = conn.execute("SELECT coalesce(max(Id), 0) AS max_id FROM OfflineSpeedcam").fetchone()[0]
            conn.execute("insert into OfflineSpeedcam (Id, Latitude, Longitude, Type, Angle, BothWays, SpeedLimit, Osm) "
                         "values (?, 4000000, 300000, 1, NULL, 1, 50, 0)", (max_id + 1,))
            added = conn.execute("SELECT * FROM OfflineSpeedcam WHERE Id = ?", (max_id + 1,)).fetchone()
            first_eight = conn.execute("SELECT * FROM OfflineSpeedcam ORDER BY rowid LIMIT 1").fetchone()
        finally:
            conn.close()
    return {"cameras": cams, "max_id": max_id, "added": added, "first_row": first_eight}


def read_sygic(data: bytes) -> SygicDatabase:
    if not data.startswith(SQLITE_MAGIC):
        raise SygicFormatError("not an SQLite 3 file")
    with tempfile.TemporaryDirectory() as tmp:
        path = _open(data, tmp)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                raise SygicFormatError(f"integrity check: {check}")
            schema = _check_schema(conn)
            cameras = [_check_camera(r) for r in conn.execute(
                "SELECT Id, Latitude, Longitude, Type, Angle, BothWays, SpeedLimit, Osm, PairId, SpeedLimitUnits "
                "FROM OfflineSpeedcam ORDER BY rowid")]
            _check_pairs(cameras)
            zones = conn.execute("SELECT * FROM OfflineZone").fetchall()
            info = _check_info(conn.execute("SELECT Version, CreatedAt, Note FROM Info").fetchall())
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        finally:
            conn.close()
    return SygicDatabase(cameras, zones, info, page_size, schema)


def dump(data: bytes) -> list[str]:
    """The database as SQL statements (schema and rows), for comparisons across SQLite versions."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "db")
        with open(path, "wb") as fh:
            fh.write(data)
        conn = sqlite3.connect(path)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()
