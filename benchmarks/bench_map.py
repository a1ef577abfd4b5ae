"""Preview map speed: the cluster endpoint and the home page on a 200,000-camera release.

    .venv/bin/python benchmarks/bench_map.py [--cameras 200000] [--requests 500] [--home-requests 200]

Builds a throwaway SQLite database with N generated cameras over the world (``cameras.demo``:
dense around real cities, along roads between them), publishes a release, then times with
Django's test client (the whole request: URL routing, middleware, the release query, the
clustering and the JSON):

* ``/map/clusters.json``: ``--requests`` random viewports (a 1600x1000 px window padded by
  20 % as the page's script does, at a random zoom 2..18, centred on a random camera 80 % of
  the time -- dense places -- else anywhere; 1 in 4 with a random type filter). Timed cold:
  the server-side answer cache is cleared before each request (untimed), so every request
  clusters. The first request of the release (building the per-release arrays) is timed
  apart. Target: p95 under 100 ms.
* the home page (``/``): ``--home-requests`` requests. Target: p95 under 100 ms.
* the largest answer over the random viewports and over the world bbox at every zoom 0..20
  (limit 200 KB).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_with_scratch_db  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cameras", type=int, default=200_000)
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--home-requests", type=int, default=200)
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args()


def make_release(n: int, seed: int):
    import numpy as np
    from django.db import transaction

    from cameras import demo
    from cameras.geo import assign_countries
    from cameras.models import Camera, Source
    from cameras.releases import publish_release

    t = time.perf_counter()
    cols = demo.generate(n, seed=seed, world=True)
    countries = assign_countries(cols["lat"], cols["lon"], tolerance_km=25.0)
    source = Source.objects.create(name="bench")
    heading = cols["heading"]
    rows = [
        Camera(kind=int(cols["kind"][i]), type=int(cols["type"][i]), lat=float(cols["lat"][i]),
               lon=float(cols["lon"][i]), speed=int(cols["speed"][i]) or None,
               heading=None if np.isnan(heading[i]) else float(heading[i]), dir_mode=int(cols["dir_mode"][i]),
               country=str(countries[i]), road=str(cols["road"][i]), source=source, source_ref=f"bench-{i}")
        for i in range(len(cols["lat"]))
    ]
    with transaction.atomic():
        Camera.objects.bulk_create(rows, batch_size=5000)
    release = publish_release()
    print(f"release {release.number}: {release.camera_count:,} cameras in {release.country_count} countries "
          f"(built in {time.perf_counter() - t:.1f} s)")
    return release


def viewport_bbox(lat: float, lon: float, zoom: int, width_px=1600, height_px=1000, pad=0.2) -> str:
    """What map.js sends: the window's bounds padded by 20 %, longitudes wrapped into -180..180."""
    from portal.services.mapdata import lat_of_y

    world = 256 * 2 ** zoom
    x = (lon + 180) / 360 * world
    y = (0.5 - math.log(math.tan(math.pi / 4 + math.radians(max(-85, min(85, lat))) / 2)) / (2 * math.pi)) * world
    w, h = width_px * (1 + 2 * pad) / 2, height_px * (1 + 2 * pad) / 2
    west, east = (x - w) / world * 360 - 180, (x + w) / world * 360 - 180
    north = lat_of_y(max(0.0, (y - h) / world))
    south = lat_of_y(min(1.0, (y + h) / world))
    if east - west >= 360:
        west, east = -180.0, 180.0
    else:
        wrap = lambda v: ((v + 180) % 360) - 180  # noqa: E731
        west, east = wrap(west), wrap(east)
        if east == -180:
            east = 180.0
    return f"{west:.5f},{south:.5f},{east:.5f},{north:.5f}"


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1))
    return values[k]


def report(name, times_s, target_ms=None):
    ms = [t * 1000 for t in times_s]
    line = (f"{name:<34} n={len(ms):<5} median {statistics.median(ms):7.2f} ms   p95 {pct(ms, 95):7.2f} ms   "
            f"max {max(ms):7.2f} ms")
    if target_ms is not None:
        line += f"   (target p95 < {target_ms} ms: {'ok' if pct(ms, 95) < target_ms else 'MISSED'})"
    print(line)


def main():
    args = parse_args()
    django_with_scratch_db()
    import numpy as np
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import setup_test_environment

    from cameras.exporting import release_index
    from exporters.schema import CameraType

    setup_test_environment()  # the test client's ALLOWED_HOSTS ("testserver")
    release = make_release(args.cameras, args.seed)
    client = Client()
    url = "/map/clusters.json"

    t = time.perf_counter()
    release_index(release)
    print(f"release index (snapshot load, shared with the exporters): {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    first = client.get(url, {"bbox": "-180,-90,180,90", "zoom": 3})
    print(f"first cluster request (builds the per-release map arrays): {(time.perf_counter() - t) * 1000:.0f} ms")
    assert first.status_code == 200, first.content

    index = release_index(release)
    rng = np.random.default_rng(args.seed)
    slugs = [t.slug for t in CameraType]
    queries = []
    for _ in range(args.requests):
        zoom = int(rng.integers(2, 19))
        if rng.random() < 0.8:
            k = int(rng.integers(len(index.lat)))
            lat, lon = float(index.lat[k]), float(index.lon[k])
        else:
            lat, lon = float(rng.uniform(-70, 75)), float(rng.uniform(-180, 180))
        params = {"bbox": viewport_bbox(lat, lon, zoom), "zoom": zoom}
        if rng.random() < 0.25:
            params["types"] = ",".join(rng.choice(slugs, int(rng.integers(1, 6)), replace=False))
        queries.append(params)

    times, sizes, by_zoom = [], [], {}
    for params in queries:
        cache.clear()
        start = time.perf_counter()
        r = client.get(url, params)
        elapsed = time.perf_counter() - start
        assert r.status_code == 200, (params, r.content[:300])
        times.append(elapsed)
        sizes.append(len(r.content))
        by_zoom.setdefault(params["zoom"], []).append(elapsed)
    report("clusters.json, random viewports", times, 100)
    for lo, hi in ((2, 6), (7, 12), (13, 18)):
        sel = [t for z, ts in by_zoom.items() if lo <= z <= hi for t in ts]
        if sel:
            report(f"  zoom {lo}-{hi}", sel)
    print(f"  answer size: median {statistics.median(sizes) / 1024:.1f} KB, largest {max(sizes) / 1024:.1f} KB")

    world_sizes, world_times = [], []
    for zoom in range(0, 21):
        cache.clear()
        start = time.perf_counter()
        r = client.get(url, {"bbox": "-180,-90,180,90", "zoom": zoom})
        world_times.append(time.perf_counter() - start)
        world_sizes.append(len(r.content))
    report("clusters.json, world bbox z0-20", world_times)
    print(f"  largest world answer {max(world_sizes) / 1024:.1f} KB (zoom {int(np.argmax(world_sizes))}); "
          f"largest of all {max(max(sizes), max(world_sizes)) / 1024:.1f} KB (limit 195.3 KB = 200,000 bytes)")

    cached = []
    for params in queries[:100]:
        client.get(url, params)  # fills the cache
        start = time.perf_counter()
        client.get(url, params)
        cached.append(time.perf_counter() - start)
    report("clusters.json, server cache hit", cached)

    home = []
    client.get("/")
    for _ in range(args.home_requests):
        start = time.perf_counter()
        r = client.get("/")
        home.append(time.perf_counter() - start)
        assert r.status_code == 200
    report("home page", home, 100)
    print(f"  home page size {len(r.content) / 1024:.1f} KB")


if __name__ == "__main__":
    main()
