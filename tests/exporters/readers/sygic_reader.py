"""A strict reader for Sygic ``offlinespeedcams.dat`` (SQLite), for tests.

Written from shared/formats/sygic.md, not from the exporter: the database must hold exactly
the two tables and two indexes of the community converter, with those column names, types
and NOT NULL flags, pass SQLite's integrity check, and every row must be in range.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass

SQLITE_MAGIC = b"SQLite format 3\x00"

# name -> [(column, declared type, not null)]
TABLES = {
    "OfflineSpeedcam": [("Id", "INT", 1), ("Latitude", "INT", 1), ("Longitude", "INT", 1), ("Type", "BYTE", 1),
                        ("Angle", "INT", 0), ("BothWays", "BIT", 0), ("SpeedLimit", "INT", 0), ("Osm", "BIT", 0)],
    "OfflineZone": [("Id", "INT", 1), ("Type", "BYTE", 1), ("SpeedLimit", "SMALLINT", 1), ("LatitudeMin", "INT", 1),
                    ("LongitudeMin", "INT", 1), ("LatitudeMax", "INT", 1), ("LongitudeMax", "INT", 1)],
}
INDEXES = {
    "speedcamsLatLon": ("OfflineSpeedcam", ["Latitude", "Longitude"]),
    "zonesLatLon": ("OfflineZone", ["LatitudeMin", "LatitudeMax", "LongitudeMin", "LongitudeMax"]),
}
SYGIC_TYPE_CODES = frozenset(range(0, 17))  # RADAR_SYMBOL .. RADAR_SCHOOLZONE
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
    page_size: int
    schema: list[tuple[str, str, str]]  # (type, name, table) from sqlite_master, sorted


def _check_schema(conn) -> list[tuple[str, str, str]]:
    objects = sorted(conn.execute("SELECT type, name, tbl_name FROM sqlite_master"))
    expected = sorted([("table", t, t) for t in TABLES] + [("index", i, t) for i, (t, _) in INDEXES.items()])
    if objects != expected:
        raise SygicFormatError(f"schema objects {objects}, expected {expected}")
    for table, columns in TABLES.items():
        info = [(name, decl, notnull) for _, name, decl, notnull, _, _ in conn.execute(f"PRAGMA table_info({table})")]
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
    if not (isinstance(cam.speed, int) and 0 <= cam.speed <= 300):
        raise SygicFormatError(f"camera {row}: SpeedLimit {cam.speed!r} is not 0-300 km/h")
    return cam


def read_sygic(data: bytes) -> SygicDatabase:
    if not data.startswith(SQLITE_MAGIC):
        raise SygicFormatError("not an SQLite 3 file")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "offlinespeedcams.dat")
        with open(path, "wb") as fh:
            fh.write(data)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                raise SygicFormatError(f"integrity check: {check}")
            schema = _check_schema(conn)
            cameras = [_check_camera(r) for r in conn.execute(
                "SELECT Id, Latitude, Longitude, Type, Angle, BothWays, SpeedLimit, Osm FROM OfflineSpeedcam "
                "ORDER BY rowid")]
            zones = conn.execute("SELECT * FROM OfflineZone").fetchall()
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        finally:
            conn.close()
    return SygicDatabase(cameras, zones, page_size, schema)


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
