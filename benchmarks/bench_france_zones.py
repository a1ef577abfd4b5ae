"""France legal mode: how far a danger zone's point is from the camera it hides, and whether
the alert distance covers every zone.

Run:  .venv/bin/python benchmarks/bench_france_zones.py [--file PATH] [--seed 20240601]

Reads the French government list (``fr-radars`` reader; default
``$SHARED_DATA_DIR/fr_radars_automatiques_2023-04-26.csv``), makes the zones
(``exporters.france.france_danger_zones``, with a fixed benchmark key) and prints, per zone
length and for all: cameras, the median and the 90th percentile distance from the zone's
point to the camera, the median distance as a share of the zone length, and the share of
cameras inside their alert circle and of zones wholly inside it (both must be 100 %).

The list has no headings, so every zone there is a grid-cell centre. A second run gives
every camera a synthetic heading (deterministic: numpy seed) to measure the stretch mode.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cameras.formats.base import Record, get_reader  # noqa: E402
from exporters import france  # noqa: E402
from exporters.base import CameraSet  # noqa: E402
from exporters.schema import DirectionMode  # noqa: E402

KEY = b"benchmark key"


def read_cameras(path: Path) -> CameraSet:
    rows = [r for r in get_reader("fr-radars").read(path) if isinstance(r, Record)]
    return CameraSet.from_records([
        dict(id=k + 1, type=int(r.type), kind=int(r.kind), lat=r.lat, lon=r.lon, speed=r.speed or 0,
             truck_speed=r.truck_speed or 0, heading=np.nan if r.heading is None else r.heading,
             dir_mode=int(r.dir_mode), country="FR", road=r.road, description=r.description,
             end_lat=np.nan if r.end_lat is None else r.end_lat, end_lon=np.nan if r.end_lon is None else r.end_lon)
        for k, r in enumerate(rows)])


def with_headings(cams: CameraSet, seed: int) -> CameraSet:
    rng = np.random.default_rng(seed)
    cols = dict(cams.columns)
    cols["heading"] = rng.uniform(0, 360, len(cams)).astype(np.float32)
    cols["dir_mode"] = np.full(len(cams), DirectionMode.ONE, dtype=np.int8)
    return CameraSet(cols)


def report(title: str, cams: CameraSet) -> None:
    zones = france.france_danger_zones(cams, KEY)
    r = france.zone_report(cams, zones)
    print(f"\n{title}")
    print(f"{'zone':>8} {'cameras':>8} {'median m':>9} {'p90 m':>8} {'median/zone':>12} {'camera covered':>15} "
          f"{'zone covered':>13}")
    lengths = r["zone_m"].astype(np.int64)
    groups = [(f"{m:,} m", lengths == m) for m in sorted(set(lengths.tolist())) if (lengths == m).sum() >= 5]
    for label, mask in groups + [("all", np.ones(len(lengths), dtype=bool))]:
        d = r["to_camera_m"][mask]
        share = d / r["zone_m"][mask]
        print(f"{label:>8} {int(mask.sum()):>8} {np.median(d):>9.0f} {np.percentile(d, 90):>8.0f} "
              f"{np.median(share):>12.2f} {100 * r['camera_covered'][mask].mean():>14.1f}% "
              f"{100 * r['zone_covered'][mask].mean():>12.1f}%")
    assert r["camera_covered"].all() and r["zone_covered"].all(), "an alert circle misses its zone"


def main() -> None:
    data = os.environ.get("SHARED_DATA_DIR", "")
    default = Path(data) / "fr_radars_automatiques_2023-04-26.csv" if data else None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=default, required=default is None)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    cams = read_cameras(args.file)
    print(f"{args.file.name}: {len(cams)} cameras")
    report("As listed (no headings: zones centred, point = grid-cell centre)", cams)
    report("Synthetic headings (zones along the heading, point = zone start)", with_headings(cams, args.seed))


if __name__ == "__main__":
    main()
