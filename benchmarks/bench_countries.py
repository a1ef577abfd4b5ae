"""Benchmark cameras.geo.assign_countries against a plain geopandas.sjoin.

Run:  .venv/bin/python benchmarks/bench_countries.py [--points 200000] [--runs 5]

Points: deterministic (numpy seed 20240601). 95 % (see --sea) are on land: a country is drawn (70 % of
the draws among European countries, 30 % elsewhere, weighted by the square root of the
country's area), then a uniform point in its bounding box that lies inside it. 5 % are at
sea: uniform points in those bounding boxes that lie outside every country, so the
nearest-country fallback (25 km) is exercised, both just offshore and far out.

Prints load_countries() times (cold: fresh process, empty disk cache; warm: fresh process,
disk cache present; cached: second call in the same process), then the median of --runs
runs of assign_countries (point in polygon + nearest country within 25 km for points
outside every polygon) and of the peer, geopandas.sjoin(predicate="within") without any
nearest fallback, and their ratio.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20240601

_CHILD = """
import sys, time
import numpy as np
t0 = time.perf_counter()
from cameras import geo
t1 = time.perf_counter()
if sys.argv[1] == "assign":  # a worker that only needs codes: no geopandas import
    geo.assign_countries(np.array([48.85]), np.array([2.35]))
    print(f"{t1 - t0:.3f} 0 {time.perf_counter() - t1:.3f}")
else:
    import geopandas
    t2 = time.perf_counter()
    geo.load_countries()
    t3 = time.perf_counter()
    print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f}")
"""


def _child_times(cache_dir: str, what: str = "load") -> tuple[float, float, float]:
    env = dict(os.environ, GEO_CACHE_DIR=cache_dir, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _CHILD, what], env=env, check=True, capture_output=True, text=True)
    return tuple(float(x) for x in out.stdout.split())


def make_points(n: int, seed: int = SEED, sea: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    from cameras import geo

    countries = geo.load_countries()
    geoms = countries.geometry.values
    bounds = shapely.bounds(geoms)
    # Skip features whose box spans the antimeridian or the poles (sampling there is mostly
    # wasted) and tiny islands; weight by sqrt(area).
    area = shapely.area(geoms)
    usable = ((bounds[:, 2] - bounds[:, 0]) < 180) & (np.abs(bounds[:, 1]) < 80) & (area > 0.01)
    europe = usable & (countries["continent"].values == "Europe")
    elsewhere = usable & ~europe
    weights = np.where(europe, 0.7 * np.sqrt(area) / np.sqrt(area[europe]).sum(), 0.0)
    weights += np.where(elsewhere, 0.3 * np.sqrt(area) / np.sqrt(area[elsewhere]).sum(), 0.0)
    rng = np.random.default_rng(seed)
    n_sea = int(round(n * sea))
    n_land = n - n_sea
    lats, lons, sea_lats, sea_lons = [], [], [], []
    have_land = have_sea = 0
    while have_land < n_land or have_sea < n_sea:
        m = 2 * n
        pick = rng.choice(len(geoms), size=m, p=weights)
        lon = rng.uniform(bounds[pick, 0], bounds[pick, 2])
        lat = rng.uniform(bounds[pick, 1], bounds[pick, 3])
        inside = np.zeros(m, dtype=bool)
        for i in np.unique(pick):
            sel = np.flatnonzero(pick == i)
            inside[sel] = shapely.contains_xy(geoms[i], lon[sel], lat[sel])
        lats.append(lat[inside]); lons.append(lon[inside]); have_land += int(inside.sum())
        sea = ~inside
        sea_ok = geo.assign_countries(lat[sea], lon[sea], tolerance_km=0.0) == ""
        sea_lats.append(lat[sea][sea_ok]); sea_lons.append(lon[sea][sea_ok]); have_sea += int(sea_ok.sum())
    lat = np.concatenate([np.concatenate(lats)[:n_land], np.concatenate(sea_lats)[:n_sea]])
    lon = np.concatenate([np.concatenate(lons)[:n_land], np.concatenate(sea_lons)[:n_sea]])
    order = rng.permutation(n)
    return lat[order], lon[order]


def _median_time(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sea", type=float, default=0.05, help="share of points at sea (default 0.05)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="geo-bench-") as tmp:
        _, gpd_cold, cold = _child_times(tmp)
        _, gpd_warm, warm = _child_times(tmp)
        _, _, first_assign = _child_times(tmp, "assign")
    print(f"load_countries()  (not included: import geopandas, {gpd_cold:.3f} s / {gpd_warm:.3f} s)")
    print(f"  cold   (fresh process, empty disk cache): {cold:6.3f} s")
    print(f"  warm   (fresh process, disk cache):       {warm:6.3f} s")
    print(f"  first assign_countries() in a fresh process with disk cache (no geopandas): {first_assign:.3f} s")

    import geopandas

    from cameras import geo

    geo.load_countries()
    t = time.perf_counter()
    countries = geo.load_countries()
    print(f"  cached (same process, lru_cache):         {time.perf_counter() - t:6.3f} s")

    lat, lon = make_points(args.points, sea=args.sea)
    geo.assign_countries(lat[:10], lon[:10])  # build the index outside the timing

    t_ours, ours = _median_time(lambda: geo.assign_countries(lat, lon, tolerance_km=25.0), args.runs)
    t_pip, pip_only = _median_time(lambda: geo.assign_countries(lat, lon, tolerance_km=0.0), args.runs)
    polys = countries[["iso2", "geometry"]]

    def peer():
        pts = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lon, lat), crs="EPSG:4326")
        joined = geopandas.sjoin(pts, polys, predicate="within", how="left")
        joined = joined[~joined.index.duplicated()]
        return joined["iso2"].fillna("").to_numpy(dtype="<U2")

    t_peer, theirs = _median_time(peer, args.runs)

    both = theirs != ""
    print(f"\n{args.points:,} points ({(pip_only == '').sum():,} outside every polygon, "
          f"{((pip_only == '') & (ours != '')).sum():,} of them within 25 km of a country); "
          f"median of {args.runs} runs")
    print(f"  assign_countries (PIP + nearest <= 25 km):  {t_ours:6.3f} s")
    print(f"  assign_countries (PIP only, tolerance 0):   {t_pip:6.3f} s")
    print(f"  peer geopandas.sjoin within (no nearest):   {t_peer:6.3f} s")
    print(f"  ratio peer / ours:                          {t_peer / t_ours:6.2f}x  "
          f"(PIP only: {t_peer / t_pip:.2f}x)")
    print(f"  agreement with the peer where it found a country: {np.mean(ours[both] == theirs[both]):.6f}")


if __name__ == "__main__":
    main()
