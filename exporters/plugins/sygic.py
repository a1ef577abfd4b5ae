"""Sygic ``offlinespeedcams.dat`` (identifier ``sygic``): an SQLite 3 database.

Schema exactly as in shared/formats/sygic.md, i.e. as the community converter
(miszellek/SygicOfflineSpeedcams, Sygic 15.6.5+, 2017) creates it; **unconfirmed by Sygic**::

    CREATE TABLE OfflineSpeedcam (Id INT NOT NULL, Latitude INT NOT NULL, Longitude INT NOT NULL,
        Type BYTE NOT NULL, Angle INT, BothWays BIT, SpeedLimit INT, Osm BIT)
    CREATE INDEX speedcamsLatLon ON OfflineSpeedcam (Latitude, Longitude)
    CREATE TABLE OfflineZone (Id INT NOT NULL, Type BYTE NOT NULL, SpeedLimit SMALLINT NOT NULL,
        LatitudeMin INT NOT NULL, LongitudeMin INT NOT NULL, LatitudeMax INT NOT NULL,
        LongitudeMax INT NOT NULL)
    CREATE INDEX zonesLatLon ON OfflineZone (LatitudeMin, LatitudeMax, LongitudeMin, LongitudeMax)

Columns written:

- Id: 1, 2, 3, ... in camera-id order (one per row), as the converter numbers its rows; our
  camera ids are not used because a section is two rows and Ids should be unique.
- Latitude, Longitude: degrees × 100 000 as integers. The converter truncates; we round to
  the nearest unit (error ≤ 0.55 m instead of ≤ 1.1 m; same scale).
- Type: Sygic code, table below.
- Angle / BothWays from ``dir_mode`` and the heading (rounded half up, mod 360, as for iGO):
  ALL -> Angle NULL, BothWays 1 (what the converter writes for every camera);
  ONE -> Angle = heading, BothWays 0; BOTH -> Angle = heading, BothWays 1. **Unconfirmed**:
  the converter never writes an angle, so whether Sygic's Angle is the heading of the
  checked traffic (our assumption, as in iGO) or the camera's facing is unknown. A camera
  with ONE/BOTH but no heading is written as ALL and counted in a note.
- SpeedLimit: km/h, 0 = unknown (the converter copies iGO SPEED, where 0 means unknown).
- Osm: 0, as the converter writes.
- OfflineZone: created empty (the converter keeps Sygic's own zones only when it edits an
  original file; we write a fresh database).

Type mapping (Sygic names from the converter; the UK repository maps iGO 1->1, 2->6, 3->2,
4->4, 5->5, 8->11):

=====================  ====  =====================================================
CameraType             Type  Sygic name / why
=====================  ====  =====================================================
SPEED                  1     RADAR_STATIC_SPEED
RED_LIGHT              2     RADAR_STATIC_RED_LIGHT
RED_LIGHT_SPEED        6     RADAR_STATIC_RED_LIGHT_SPEED
SECTION_START / _END   4     RADAR_STATIC_AVERAGE_SPEED
SECTION with end       4 ×2  two rows, start then end (how Sygic pairs them is unconfirmed)
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
=====================  ====  =====================================================

Kind MOBILE: red light / red light + speed -> 7 (RADAR_MOBILE_RED_LIGHT), sections -> 8
(RADAR_MOBILE_AVERAGE_SPEED), police check -> 9, danger zone -> 11, anything else -> 5.
Code 3 (RADAR_SEMIMOBILE_SPEED) is never written: the converter's author reports it shows an
icon but gives no sound.

Determinism: the database is built in a temporary file with a fixed page size (4096): the
two tables, all rows inserted with one executemany in one transaction in camera-id order,
the two indexes, then VACUUM (which rewrites the file canonically: tables first, then
indexes, pages in order); the file's bytes are returned. The same input gives the same bytes with the
same SQLite library: the header records the version of the SQLite library that wrote it
(offset 96), so a different SQLite version gives a different header.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile

import numpy as np

from ..base import CameraSet, register
from ..schema import CameraType, DirectionMode, Kind
from .igo import PointExporter, Points, code_lookup

T = CameraType

SYGIC_TYPES = {
    T.SPEED: 1, T.RED_LIGHT: 2, T.RED_LIGHT_SPEED: 6, T.SECTION_START: 4, T.SECTION_END: 4,
    T.MOBILE_ZONE: 5, T.TUNNEL: 1, T.VARIABLE_LIMIT: 1, T.DANGER_ZONE: 11, T.LEVEL_CROSSING: 2,
    T.SECTION: 4, T.MOBILE_CAMERA: 5, T.POLICE_CHECK: 9, T.DISTANCE: 14, T.BUS_LANE: 0, T.OTHER: 0,
}
SYGIC_MOBILE_TYPES = {
    T.RED_LIGHT: 7, T.RED_LIGHT_SPEED: 7, T.SECTION_START: 8, T.SECTION_END: 8, T.SECTION: 8,
    T.POLICE_CHECK: 9, T.DANGER_ZONE: 11,
}
SYGIC_MOBILE_DEFAULT = 5
SCALE = 100_000
PAGE_SIZE = 4096

SCHEMA = (
    "CREATE TABLE OfflineSpeedcam (Id INT NOT NULL, Latitude INT NOT NULL, Longitude INT NOT NULL, "
    "Type BYTE NOT NULL, Angle INT, BothWays BIT, SpeedLimit INT, Osm BIT)",
    "CREATE INDEX speedcamsLatLon ON OfflineSpeedcam (Latitude, Longitude)",
    "CREATE TABLE OfflineZone (Id INT NOT NULL, Type BYTE NOT NULL, SpeedLimit SMALLINT NOT NULL, "
    "LatitudeMin INT NOT NULL, LongitudeMin INT NOT NULL, LatitudeMax INT NOT NULL, LongitudeMax INT NOT NULL)",
    "CREATE INDEX zonesLatLon ON OfflineZone (LatitudeMin, LatitudeMax, LongitudeMin, LongitudeMax)",
)
INSERT = ("INSERT INTO OfflineSpeedcam (Id, Latitude, Longitude, Type, Angle, BothWays, SpeedLimit, Osm) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, 0)")

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


def build_database(rows) -> bytes:
    """A fresh SQLite file with the schema and ``rows``, built the same way every time."""
    with tempfile.TemporaryDirectory(prefix="sygic-") as tmp:
        path = os.path.join(tmp, "offlinespeedcams.dat")
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode = OFF")  # a scratch file: no journal, no fsync
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("BEGIN")
            for statement in SCHEMA:
                if statement.startswith("CREATE TABLE"):
                    conn.execute(statement)
            conn.executemany(INSERT, rows)
            for statement in SCHEMA:  # indexes after the rows: twice as fast, same bytes after VACUUM
                if statement.startswith("CREATE INDEX"):
                    conn.execute(statement)
            conn.execute("COMMIT")
            conn.execute("VACUUM")
        finally:
            conn.close()
        with open(path, "rb") as fh:
            return fh.read()


@register
class SygicExporter(PointExporter):
    identifier = "sygic"
    verbose_name = "Sygic offlinespeedcams.dat (Android, 15.6.5+)"
    label = "Sygic"
    file_extension = ".dat"
    encoding = "utf-8"  # SQLite text encoding; the database holds no text
    file_name = "offlinespeedcams.dat"
    type_codes = staticmethod(sygic_types)

    def file_data(self, pts: Points) -> bytes:
        idx, mode = pts.idx, pts.mode[pts.idx]
        angle = pts.deg[idx].tolist()
        for i in np.nonzero(mode == DirectionMode.ALL)[0].tolist():
            angle[i] = None
        rows = zip(
            range(1, len(idx) + 1),
            np.rint(pts.lat * SCALE).astype(np.int64).tolist(),
            np.rint(pts.lon * SCALE).astype(np.int64).tolist(),
            pts.codes[idx].tolist(),
            angle,
            (mode != DirectionMode.ONE).astype(np.int64).tolist(),
            pts.cams["speed"][idx].astype(np.int64).tolist(),
        )
        return build_database(rows)

    def format_notes(self, pts: Points) -> list[str]:
        return ["Sygic was reported (version 17.2) not to announce a camera's speed limit by voice."]
