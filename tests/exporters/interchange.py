"""Helpers shared by the exporter tests: rendering, GPSBabel, golden files, expectations.

- ``export`` renders the fixture (or given) cameras with one exporter.
- ``gpsbabel_path`` / ``gpsbabel`` / ``gpsbabel_unicsv`` / ``gpsbabel_read_file(s)``: GPSBabel
  (missing: skip locally, fail in CI) and what it reads back from exported files.
- ``check_golden`` / ``golden_bytes`` / ``check_golden_files``: golden files under
  tests/exporters/golden/<identifier>/; ``UPDATE_GOLDEN=1`` rewrites them.
- ``assert_same_bytes_in_any_order``: rendering twice or in another order gives the same files.
- ``expected_points`` / ``camera_rows`` / ``assert_points_in_order`` /
  ``assert_scaled_round_trip_in_order`` / ``one_at``: the one-row-per-point formats (iGO,
  Navitel, Sygic).
- ``assert_same_points`` / ``assert_positions_read_back``: unordered comparisons of the
  positions read back (GPSBabel and our own readers).
"""

import csv
import io
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from scipy.spatial import cKDTree

from exporters.base import ExportOptions, OutputFile, get_exporter
from exporters.common import poi_names
from exporters.units import with_units
from cameras.formats.options import MPH_COUNTRIES as IMPORTER_MPH_COUNTRIES
from exporters.schema import MOBILE_TYPES, CameraType, DirectionMode, Kind

from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
GOLDEN = Path(__file__).parent / "golden"

T = CameraType

# The category file (OV2, POI CSV) or group (GPI) of each fixed camera type; mobile cameras
# have their own. Written here from the fixture's types, not from the exporters.
CATEGORY_TITLE = {
    T.SPEED: "Speed cameras", T.VARIABLE_LIMIT: "Speed cameras", T.TUNNEL: "Speed cameras",
    T.DISTANCE: "Speed cameras", T.RED_LIGHT: "Red-light cameras", T.RED_LIGHT_SPEED: "Red-light cameras",
    T.SECTION_START: "Average-speed sections", T.SECTION_END: "Average-speed sections",
    T.SECTION: "Average-speed sections", T.LEVEL_CROSSING: "Other enforcement", T.BUS_LANE: "Other enforcement",
    T.OTHER: "Other enforcement", T.DANGER_ZONE: "Danger zones", T.ROUTE_ENFORCEMENT: "Route enforcement",
}
MOBILE_TITLE = "Mobile cameras"


def export(identifier, cameras=None, **options):
    cams = sample_cameras() if cameras is None else cameras
    return get_exporter(identifier).render(cams, ExportOptions(**options))


def export_single(identifier, name, cameras=None, **options):
    """``export`` for a format that writes one file, ``name``, and nothing else."""
    result = export(identifier, cameras, **options)
    assert [f.name for f in result.files] == [name]
    return result


# --------------------------------------------------------------------------- GPSBabel


def gpsbabel_path(needs: str = "") -> str:
    """GPSBabel; missing: skip locally, fail in CI (CI=true). ``needs``: a version note for the message."""
    path = shutil.which("gpsbabel")
    if path is None:
        message = f"gpsbabel is not installed (apt-get install gpsbabel{'; ' + needs if needs else ''})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def gpsbabel(*args: str, timeout: int = 300, needs: str = "") -> str:
    """Run ``gpsbabel *args`` with a frozen clock; its standard output (UTF-8). Fails on an error."""
    env = dict(os.environ, GPSBABEL_FREEZE_TIME="1")
    proc = subprocess.run([gpsbabel_path(needs), *args], capture_output=True, text=True, encoding="utf-8",
                          timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def gpsbabel_unicsv(fmt: str, path: Path, needs: str = "") -> list[dict]:
    """Rows of ``gpsbabel -i fmt -f path -o unicsv -F -`` (waypoints only)."""
    out = gpsbabel("-i", fmt, "-f", str(path), "-o", "unicsv", "-F", "-", needs=needs)
    return list(csv.DictReader(io.StringIO(out)))


def written(tmp_path: Path, f: OutputFile) -> Path:
    """``f`` written under ``tmp_path`` at its name in the package."""
    path = tmp_path / f.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(f.data)
    return path


def gpsbabel_read_file(fmt: str, f: OutputFile, tmp_path: Path, needs: str = "") -> list[dict]:
    """The waypoints GPSBabel reads from the exported file ``f`` (written under ``tmp_path``)."""
    return gpsbabel_unicsv(fmt, written(tmp_path, f), needs=needs)


def gpsbabel_read_files(fmt: str, files, tmp_path: Path, needs: str = "") -> list[dict]:
    """The waypoints GPSBabel reads from all the exported ``files``; each file gives as many as it declares."""
    rows = []
    for f in files:
        read = gpsbabel_read_file(fmt, f, tmp_path, needs=needs)
        assert len(read) == f.count, f"GPSBabel reads {len(read)} POIs from {f.name}, declared {f.count}"
        rows += read
    return rows


# --------------------------------------------------------------------------- golden files


def _update_golden() -> bool:
    return os.environ.get("UPDATE_GOLDEN") == "1"


def golden_bytes(identifier: str, name: str, data: bytes) -> bytes:
    """The stored tests/exporters/golden/<identifier>/<name>; UPDATE_GOLDEN=1 first rewrites it with ``data``."""
    path = GOLDEN / identifier / name
    if _update_golden():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing: run the tests with UPDATE_GOLDEN=1 and review the diff"
    return path.read_bytes()


def check_golden(identifier: str, name: str, data: bytes) -> None:
    """Compare with tests/exporters/golden/<identifier>/<name>; UPDATE_GOLDEN=1 rewrites it."""
    assert data == golden_bytes(identifier, name, data), (
        f"{identifier}/{name} changed: if intended, UPDATE_GOLDEN=1 and review the diff")


def check_golden_files(identifier: str, files: list[OutputFile], suffixes: tuple[str, ...]) -> None:
    """The files stored under golden/<identifier>/ with these suffixes are exactly ``files``, byte
    for byte; UPDATE_GOLDEN=1 first replaces the stored ones with ``files``."""
    folder = GOLDEN / identifier

    def stored_paths():
        return [p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes] if folder.exists() else []

    if _update_golden():
        for old in stored_paths():
            old.unlink()
        for f in files:
            path = folder / f.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f.data)
    stored = sorted(p.relative_to(folder).as_posix() for p in stored_paths())
    assert stored, f"{folder} is empty: run the tests with UPDATE_GOLDEN=1 and review the files"
    assert stored == sorted(f.name for f in files)
    for f in files:
        assert f.data == (folder / f.name).read_bytes(), f"{f.name} changed: if intended, UPDATE_GOLDEN=1"


# --------------------------------------------------------------------------- determinism


def assert_same_bytes_in_any_order(identifier: str, cams, seed: int) -> None:
    """Rendering ``cams`` (mobile cameras included) twice, or shuffled, gives the same files, byte for byte."""
    shuffled = cams.take(np.random.default_rng(seed).permutation(len(cams)))

    def files(c):
        return [(f.name, f.data) for f in export(identifier, c, mobile=True).files]

    first = files(cams)
    assert files(cams) == first
    assert files(shuffled) == first


# --------------------------------------------------------------------------- expectations


def sample(id_: int) -> dict:
    return next(r for r in SAMPLE_ROWS if r["id"] == id_)


def sample_name(id_: int, speed_unit: str = "auto", **kwargs) -> str:
    """The display name ``common.poi_names`` gives the fixture camera ``id_`` in an export
    with ``speed_unit`` (the units ``common.select`` adds)."""
    cams = with_units(sample_cameras(), speed_unit)
    return poi_names(cams.take(cams["id"] == id_), **kwargs)[0]


def in_mph(row: dict, speed_unit: str = "auto") -> bool:
    """Whether an export with ``speed_unit`` shows the row's limit in mph: with "auto" when
    the camera importer counts its country as an mph country (the sample's GB and US), not
    from exporters.units."""
    return speed_unit == "mph" or (speed_unit == "auto" and row.get("country") in IMPORTER_MPH_COUNTRIES)


def mph_value(kmh: int) -> int:
    """km/h to whole mph, rounded to the nearest, halves up (48 -> 30, 80 -> 50)."""
    return int(math.floor(kmh / 1.609344 + 0.5))


def shown_speed(row: dict, speed_unit: str = "auto") -> str:
    """The limit as a name shows it: "" (unknown), "50" (km/h), "30 mph"."""
    kmh = row.get("speed", 0)
    if not kmh:
        return ""
    return f"{mph_value(kmh)} mph" if in_mph(row, speed_unit) else str(kmh)


def category_title(row: dict) -> str:
    """The category file / group title of a fixture-style row: mobile cameras have their own."""
    return MOBILE_TITLE if row.get("kind", Kind.FIXED) == Kind.MOBILE else CATEGORY_TITLE[row["type"]]


def exported(rows, mobile: bool):
    """``(row, kind)`` for the fixture-style rows an export includes, in id order: mobile
    cameras only when ``mobile``."""
    for r in sorted(rows, key=lambda r: r["id"]):
        kind = r.get("kind", Kind.FIXED)
        if kind != Kind.MOBILE or mobile:
            yield r, kind


def expected_rows(rows=SAMPLE_ROWS, mobile=True) -> list[dict]:
    """The fixture rows an export includes, in id order, with every field filled in."""
    out = []
    for r, kind in exported(rows, mobile):
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


def camera_rows(cams) -> list[dict]:
    """Every camera of a ``CameraSet`` as a fixture-style row (``type`` a ``CameraType``), in the set's order."""
    names = ("id", "type", "kind", "lat", "lon", "speed", "dir_mode", "heading", "end_lat", "end_lon")
    columns = [cams[name].tolist() for name in names]
    return [dict(zip(names, values), type=T(values[1])) for values in zip(*columns)]


def expected_points(rows, fields: Callable[[dict, int], tuple], *, mobile: bool) -> list[tuple]:
    """``(lon, lat, *fields(row, kind))`` per point a one-row-per-point format (iGO, Navitel,
    Sygic) writes for fixture-style ``rows``, in id order: mobile cameras only when ``mobile``;
    a SECTION with an end point is two points, its start and its end, with the same fields."""
    out = []
    for r, kind in exported(rows, mobile):
        values = tuple(fields(r, kind))
        out.append((r["lon"], r["lat"], *values))
        if r["type"] == T.SECTION and not math.isnan(r.get("end_lat", math.nan)):
            out.append((r["end_lon"], r["end_lat"], *values))
    return out


def assert_points_in_order(got: list[tuple], expected: list[tuple], tol: float) -> None:
    """``(lon, lat, *fields)`` read back in the expected order: positions within ``tol``
    degrees, every other field equal."""
    assert len(got) == len(expected)
    assert np.abs(np.array([g[:2] for g in got]) - np.array([e[:2] for e in expected])).max() <= tol
    assert [tuple(g[2:]) for g in got] == [tuple(e[2:]) for e in expected]


def assert_scaled_round_trip_in_order(identifier: str, read_points: Callable[[bytes], list[tuple]],
                                      fields: Callable[[dict, int], tuple], tol: float, n: int = 50_000) -> None:
    """``n`` scaled cameras (mobile ones included) exported to the single file of a
    one-row-per-point format come back from ``read_points(data)`` as ``expected_points(...,
    fields)``, in camera id order: positions within ``tol`` degrees, every field equal."""
    cams = scaled_cameras(n)
    (f,) = export(identifier, cams, mobile=True).files
    expected = expected_points(camera_rows(cams), fields, mobile=True)
    assert len(expected) > n  # the sections are two rows
    assert_points_in_order(read_points(f.data), expected, tol)


def one_at(items, lon: float, lat: float, tol: float = 1e-5):
    """The only read-back item (with ``.lon`` and ``.lat``) within ``tol`` degrees of (lon, lat)."""
    found = [i for i in items if abs(i.lon - lon) <= tol and abs(i.lat - lat) <= tol]
    assert len(found) == 1, f"{len(found)} rows at {lon},{lat}"
    return found[0]


def assert_same_points(expected: np.ndarray, got: np.ndarray, tol: float) -> np.ndarray:
    """Unordered comparison: every expected point has its own read-back point within ``tol``
    (in each coordinate). Returns the index into ``got`` per expected point."""
    assert len(expected) == len(got)
    dist, idx = cKDTree(got).query(expected, p=np.inf)
    assert dist.max() <= tol, f"worst distance {dist.max()}"
    assert len(np.unique(idx)) == len(idx), "two cameras matched the same read-back point"
    return idx


def assert_babel_positions(rows: list[dict], cams, tol: float) -> None:
    """The positions GPSBabel read (``rows``) are those of ``cams``, within ``tol`` degrees
    (both sorted by latitude, then longitude)."""
    assert len(rows) == len(cams)
    got = np.array(sorted((float(r["Latitude"]), float(r["Longitude"])) for r in rows))
    want = np.array(sorted(zip(cams["lat"].tolist(), cams["lon"].tolist())))
    assert np.abs(got - want).max() <= tol


def assert_positions_read_back(files, fmt: str, read_positions: Callable[[OutputFile], list[tuple]], cams,
                               tmp_path: Path, *, babel_tol: float, reader_tol: float, needs: str = "") -> None:
    """Every camera of ``cams`` has its own POI among the (lon, lat) that GPSBabel (``-i fmt``)
    reads from ``files``, within ``babel_tol`` degrees, and its own among the (lon, lat) our
    reader gives (``read_positions(f)`` per file), within ``reader_tol``."""
    files = list(files)
    babel = [(float(r["Longitude"]), float(r["Latitude"])) for r in gpsbabel_read_files(fmt, files, tmp_path, needs)]
    reader = [p for f in files for p in read_positions(f)]
    expected = np.column_stack([cams["lon"], cams["lat"]])
    assert len(babel) == len(reader) == len(cams)
    assert_same_points(expected, np.array(babel), tol=babel_tol)
    assert_same_points(expected, np.array(reader), tol=reader_tol)


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
