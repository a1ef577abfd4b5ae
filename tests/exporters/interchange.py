"""Helpers for the GPX / KML / CSV / GeoJSON exporter tests: GPSBabel, golden files, expectations."""

import csv
import io
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from exporters.base import ExportOptions, get_exporter
from exporters.common import poi_names
from exporters.schema import MOBILE_TYPES, CameraType, DirectionMode, Kind

from .fixtures import SAMPLE_ROWS, sample_cameras

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
GOLDEN = Path(__file__).parent / "golden"


def export(identifier, cameras=None, **options):
    cams = sample_cameras() if cameras is None else cameras
    return get_exporter(identifier).render(cams, ExportOptions(**options))


def gpsbabel_path() -> str:
    """GPSBabel; missing: skip locally, fail in CI (CI=true)."""
    path = shutil.which("gpsbabel")
    if path is None:
        message = "gpsbabel is not installed (apt-get install gpsbabel)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def gpsbabel_unicsv(fmt: str, path: Path) -> list[dict]:
    """Rows of ``gpsbabel -i fmt -f path -o unicsv -F -`` (waypoints only)."""
    env = dict(os.environ, GPSBABEL_FREEZE_TIME="1")
    proc = subprocess.run([gpsbabel_path(), "-i", fmt, "-f", str(path), "-o", "unicsv", "-F", "-"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    return list(csv.DictReader(io.StringIO(proc.stdout)))


def check_golden(identifier: str, name: str, data: bytes) -> None:
    """Compare with tests/exporters/golden/<identifier>/<name>; UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / identifier / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing: run the tests with UPDATE_GOLDEN=1 and review the diff"
    assert data == path.read_bytes(), f"{identifier}/{name} changed: if intended, UPDATE_GOLDEN=1 and review the diff"


def sample(id_: int) -> dict:
    return next(r for r in SAMPLE_ROWS if r["id"] == id_)


def sample_name(id_: int, **kwargs) -> str:
    """The display name ``common.poi_names`` gives the fixture camera ``id_``."""
    cams = sample_cameras()
    return poi_names(cams.take(cams["id"] == id_), **kwargs)[0]


def expected_rows(rows=SAMPLE_ROWS, mobile=True) -> list[dict]:
    """The fixture rows an export includes, in id order, with every field filled in."""
    out = []
    for r in sorted(rows, key=lambda r: r["id"]):
        kind = r.get("kind", Kind.FIXED)
        if kind == Kind.MOBILE and not mobile:
            continue
        heading = r.get("heading", math.nan)
        mode = DirectionMode(r.get("dir_mode", DirectionMode.ALL))
        if math.isnan(heading):
            mode = DirectionMode.ALL
        out.append(dict(id=r["id"], kind=Kind(kind), type=CameraType(r["type"]), lat=r["lat"], lon=r["lon"],
                        speed=r.get("speed", 0), truck_speed=r.get("truck_speed", 0), heading=heading,
                        dir_mode=mode, country=r.get("country", ""), road=r.get("road", ""),
                        description=r.get("description", ""), end_lat=r.get("end_lat", math.nan),
                        end_lon=r.get("end_lon", math.nan), reports=r.get("reports", 0)))
    return out


def assert_record_matches(rec, row: dict) -> None:
    """A feed reader ``Record`` carries everything of the camera ``row``."""
    assert rec.ref == str(row["id"])
    assert (rec.type, rec.kind) == (row["type"], row["kind"]), row["id"]
    assert abs(rec.lat - row["lat"]) <= 1e-6 and abs(rec.lon - row["lon"]) <= 1e-6, row["id"]
    assert (rec.speed or 0) == row["speed"], row["id"]
    assert (rec.truck_speed or 0) == row["truck_speed"], row["id"]
    if math.isnan(row["heading"]):
        assert rec.heading is None, row["id"]
    else:
        assert rec.heading == pytest.approx(row["heading"], abs=0.006), row["id"]
    assert rec.dir_mode == row["dir_mode"], row["id"]
    if math.isnan(row["end_lat"]):
        assert rec.end_lat is None and rec.end_lon is None, row["id"]
    else:
        assert abs(rec.end_lat - row["end_lat"]) <= 1e-6 and abs(rec.end_lon - row["end_lon"]) <= 1e-6
    assert rec.reports == row["reports"], row["id"]


def default_kind(type_code) -> Kind:
    return Kind.MOBILE if CameraType(type_code) in MOBILE_TYPES else Kind.FIXED


def positions(cams) -> np.ndarray:
    return np.column_stack([cams["lat"], cams["lon"]])
