"""Coverage speed: exact size queries and route corridors on a 200,000-camera release.

    .venv/bin/python benchmarks/bench_coverage.py [--cameras 200000] [--runs 20] [--formats igo,kml]

Builds a throwaway database with N generated cameras over Europe (``cameras.demo``, cached
as a CSV in benchmarks/out), imports and publishes it, then:

* Size queries (target: under 50 ms for any coverage): for one device per format, the
  size model is built once (timed: it is cached per release, format and options), then
  ``Sizer.size(coverage)`` -- every file of the package with its POI count and exact bytes,
  limit warnings included -- is timed ``--runs`` times for several coverages (a country, a
  region, all of Europe, a country plus a route corridor). Peer, side by side: building the
  package for the same coverage (``export_package``, the other way to know the sizes);
  median of 3; ratio = peer / query.
* Route corridor (target: a 1,000 km route against 200k cameras under 1 s): a Paris-Vienna
  track of about 1,035 km with a point every 100 m, cameras within 5 km. Ours
  (``corridor_mask``: bounding-box prefilter, azimuthal equidistant projection, STRtree of
  segments, ``dwithin``) against geopandas doing it the textbook way (project everything to
  the same projection, buffer the line, ``sjoin`` within), median of ``--corridor-runs``;
  both must select the same cameras.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_with_scratch_db, europe_csv, timed  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cameras", type=int, default=200_000)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--corridor-runs", type=int, default=5)
    p.add_argument("--formats", default="", help="comma-separated format ids (default: all)")
    return p.parse_args()


def paris_vienna(step_km: float = 0.1):
    import numpy as np
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    waypoints = [(48.8566, 2.3522), (48.5734, 7.7521), (48.7758, 9.1829), (48.1351, 11.5820), (47.8095, 13.0550),
                 (48.2082, 16.3738)]
    lat, lon = [], []
    for (a_lat, a_lon), (b_lat, b_lon) in zip(waypoints, waypoints[1:]):
        _, _, dist = geod.inv(a_lon, a_lat, b_lon, b_lat)
        n = max(2, int(dist / 1000 / step_km))
        pts = geod.npts(a_lon, a_lat, b_lon, b_lat, n)
        lat += [a_lat] + [p[1] for p in pts]
        lon += [a_lon] + [p[0] for p in pts]
    lat.append(waypoints[-1][0])
    lon.append(waypoints[-1][1])
    return np.array(lat), np.array(lon)


def geopandas_corridor(lat, lon, route_lat, route_lon, km):
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import LineString

    mid = len(route_lat) // 2
    crs = f"+proj=aeqd +lat_0={route_lat[mid]} +lon_0={route_lon[mid]} +datum=WGS84 +units=m"
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(crs)
    line = gpd.GeoSeries([LineString(np.column_stack([route_lon, route_lat]))], crs="EPSG:4326").to_crs(crs)
    area = gpd.GeoDataFrame(geometry=line.buffer(km * 1000))
    hits = gpd.sjoin(points, area, predicate="within")
    out = np.zeros(len(lat), dtype=bool)
    out[hits.index.to_numpy()] = True
    return out


def main():
    args = parse_args()
    django_with_scratch_db()
    from cameras.coverage import Coverage, Route, corridor_mask
    from cameras.exporting import export_package, release_index, sizer
    from cameras.importing import import_file
    from cameras.releases import publish_release
    from exporters.base import ExportOptions
    from exporters.devices import DEVICES

    print(f"importing and publishing {args.cameras:,} cameras ...", flush=True)
    import_file(europe_csv(args.cameras), source="bench", fmt="csv")
    release = publish_release()
    index = release_index(release)
    print(f"release {release.number}: {len(index):,} cameras")

    route_lat, route_lon = paris_vienna()
    route = Route.from_points(route_lat, route_lon, "Paris-Vienna")
    print(f"\nRoute corridor: Paris-Vienna, {route.length_km:,.0f} km, {len(route_lat):,} points, 5 km each side")
    ours_s, ours_all, ours = timed(lambda: corridor_mask(index.lat, index.lon, route, 5.0), args.corridor_runs)
    peer_s, peer_all, peer = timed(lambda: geopandas_corridor(index.lat, index.lon, route_lat, route_lon, 5.0),
                                   args.corridor_runs)
    differ = int((ours != peer).sum())
    print(f"  ours (prefilter + AEQD + STRtree dwithin): median {ours_s * 1000:7.1f} ms, {int(ours.sum()):,} cameras")
    print(f"  geopandas (to_crs + buffer + sjoin):        median {peer_s * 1000:7.1f} ms, {int(peer.sum()):,} cameras")
    print(f"  ratio {peer_s / ours_s:.1f}x; cameras selected differently: {differ} (buffer polygon segments vs exact "
          f"distance)   target < 1000 ms: {'OK' if ours_s < 1 else 'MISSED'}")

    coverages = {
        "FR": Coverage.parse(["FR"]),
        "western-europe": Coverage.parse(["western-europe"]),
        "europe": Coverage.parse(["europe"]),
        "IT + route": Coverage.parse(["IT"], route=route, corridor_km=5),
    }
    formats = [f for f in args.formats.split(",") if f]
    devices = {}
    for d in DEVICES:
        if (not formats or d.format in formats) and d.format not in devices:
            devices[d.format] = d
    print(f"\nSize queries (median of {args.runs}; model built once per release, format and options)")
    print(f"{'format':<16}{'model':>9}  " + "".join(f"{name:>16}" for name in coverages) + f"{'package (FR)':>15}"
          f"{'ratio':>8}")
    worst = 0.0
    for fmt, device in devices.items():
        options = ExportOptions(mobile=device.mobile)
        start = time.perf_counter()
        s = sizer(release, device, options)
        build = time.perf_counter() - start
        row = f"{fmt:<16}{build:>8.2f}s  "
        fr_query = None
        for name, cov in coverages.items():
            med, _, _ = timed(lambda: s.size(cov), args.runs)
            worst = max(worst, med)
            if name == "FR":
                fr_query = med
            row += f"{med * 1000:>13.1f} ms"
        peer, _, _ = timed(lambda: export_package(device, coverages["FR"], options, release=release), 3)
        row += f"{peer:>13.2f} s{peer / fr_query:>7.0f}x"
        print(row, flush=True)
    print(f"\nslowest size query (median): {worst * 1000:.1f} ms   target < 50 ms: {'OK' if worst < 0.05 else 'MISSED'}")


if __name__ == "__main__":
    main()
