"""Benchmark publish_release() and load_snapshot() on synthetic cameras.

    .venv/bin/python benchmarks/bench_release.py [--cameras 200000] [--postgres URL]

Builds a throwaway database (SQLite in a temp dir by default; with --postgres, a temporary
database created on that server and dropped afterwards), bulk-inserts N deterministic cameras
spread over Europe, then times:

* publish_release(): median of 5 runs, ~1% of the cameras changed before each run
  (moved, speed or type changed, deactivated, new) so the changelog has work to do;
* load_snapshot(): median of 7 runs, without and with sha256 verification;
* as a peer, a plain ORM read ``list(Camera.objects.filter(status="active"))``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COUNTRIES = [  # code, lat range, lon range, weight
    ("FR", (43.0, 50.5), (-1.5, 7.5), 0.22),
    ("DE", (47.5, 54.5), (6.5, 14.5), 0.20),
    ("IT", (38.5, 46.5), (7.5, 16.5), 0.14),
    ("ES", (36.5, 43.5), (-8.5, 2.5), 0.10),
    ("GB", (50.5, 57.5), (-5.0, 1.5), 0.10),
    ("PL", (49.5, 54.5), (15.0, 23.5), 0.06),
    ("NL", (51.0, 53.3), (3.5, 7.0), 0.04),
    ("BE", (49.6, 51.4), (2.6, 6.3), 0.04),
    ("AT", (46.5, 48.9), (9.6, 17.0), 0.03),
    ("CH", (45.9, 47.7), (6.0, 10.4), 0.02),
    ("SE", (55.5, 66.0), (12.0, 22.0), 0.02),
    ("CZ", (48.6, 51.0), (12.2, 18.8), 0.02),
    ("PT", (37.0, 42.0), (-9.4, -6.2), 0.01),
]
TYPES = [(1, 0.62), (2, 0.08), (3, 0.08), (4, 0.04), (5, 0.04), (6, 0.06), (9, 0.04), (11, 0.02), (12, 0.02)]
SPEEDS = [None, 30, 50, 70, 80, 90, 110, 130]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=200_000)
    parser.add_argument("--publish-runs", type=int, default=5)
    parser.add_argument("--load-runs", type=int, default=7)
    parser.add_argument("--orm-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--postgres", metavar="URL", help="benchmark on a temporary database on this PostgreSQL server")
    return parser.parse_args()


def setup_django(args, workdir: Path):
    os.environ["VAR_DIR"] = str(workdir / "var")
    os.environ["RELEASES_DIR"] = str(workdir / "releases")
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    temp_db = None
    if args.postgres:
        import psycopg

        temp_db = f"bench_release_{uuid.uuid4().hex[:8]}"
        base = args.postgres.rstrip("/")
        server, _, _ = base.rpartition("/")
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{temp_db}"')
        os.environ["DATABASE_URL"] = f"{server}/{temp_db}"
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return temp_db


def drop_postgres(args, temp_db):
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(args.postgres.rstrip("/"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{temp_db}"')


def synthetic_cameras(rng, n, source, start_index=0):
    import numpy as np

    from cameras.models import Camera

    weights = np.array([c[3] for c in COUNTRIES])
    country_idx = rng.choice(len(COUNTRIES), size=n, p=weights / weights.sum())
    u = rng.random((n, 2))
    type_codes = np.array([t for t, _ in TYPES])
    type_p = np.array([p for _, p in TYPES])
    types = rng.choice(type_codes, size=n, p=type_p / type_p.sum())
    speeds = rng.integers(0, len(SPEEDS), size=n)
    has_heading = rng.random(n) < 0.6
    headings = rng.uniform(0, 360, size=n)
    roads = rng.integers(1, 999, size=n)
    cams = []
    for i in range(n):
        cc, (la0, la1), (lo0, lo1), _ = COUNTRIES[country_idx[i]]
        lat = la0 + (la1 - la0) * u[i, 0]
        lon = lo0 + (lo1 - lo0) * u[i, 1]
        t = int(types[i])
        section = t == 11
        mobile = t in (6, 12, 13)
        cams.append(Camera(
            kind=1 if mobile else 0, type=t, lat=lat, lon=lon,
            speed=SPEEDS[speeds[i]], truck_speed=80 if t == 1 and i % 7 == 0 else None,
            heading=float(headings[i]) if has_heading[i] else None, dir_mode=1 if has_heading[i] else 0,
            country=cc, road=f"{'A' if i % 3 else 'N'}{roads[i]}", description="school zone" if i % 50 == 0 else "",
            end_lat=lat + 0.01 if section else None, end_lon=lon + 0.01 if section else None,
            reports=int(i % 9) if mobile else 0, source=source, source_ref=f"bench-{start_index + i}",
        ))
    return cams


def insert(cams):
    from django.db import transaction

    from cameras.models import Camera

    with transaction.atomic():
        Camera.objects.bulk_create(cams, batch_size=2000)


def mutate(rng, ids, source, round_no):
    """Change about 1% of the cameras: move, re-speed, re-type, deactivate, add."""
    import numpy as np
    from django.db import connection, transaction

    from cameras.models import Camera

    n = max(5, len(ids) // 100)
    chosen = rng.choice(ids, size=n, replace=False)
    parts = np.array_split(chosen, 5)
    table = Camera._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(f"UPDATE {table} SET lat = lat + %s WHERE id = %s",
                        [(float(d), int(i)) for d, i in zip(rng.uniform(0.0002, 0.002, len(parts[0])), parts[0])])
        cur.executemany(f"UPDATE {table} SET speed = %s WHERE id = %s",
                        [(int(s), int(i)) for s, i in zip(rng.choice([30, 50, 70, 90], len(parts[1])), parts[1])])
        cur.executemany(f"UPDATE {table} SET type = %s WHERE id = %s", [(14, int(i)) for i in parts[2]])
        cur.executemany(f"UPDATE {table} SET status = %s WHERE id = %s", [("inactive", int(i)) for i in parts[3]])
    insert(synthetic_cameras(rng, len(parts[4]), source, start_index=10_000_000 * round_no))


def median_time(fn, runs, before=None):
    times = []
    result = None
    for i in range(runs):
        if before:
            before(i)
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        workdir = Path(tmp)
        temp_db = setup_django(args, workdir)
        try:
            run(args)
        finally:
            if temp_db:
                drop_postgres(args, temp_db)


def run(args):
    import numpy as np
    from django.db import connection

    from cameras.models import Camera, Source
    from cameras.releases import load_snapshot, publish_release

    rng = np.random.default_rng(args.seed)
    source = Source.objects.create(name="bench")
    print(f"database: {connection.vendor}; inserting {args.cameras:,} synthetic cameras ...", flush=True)
    start = time.perf_counter()
    insert(synthetic_cameras(rng, args.cameras, source))
    print(f"  inserted in {time.perf_counter() - start:.1f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {Camera._meta.db_table}")

    stage_times = []

    def before_publish(i):
        if i:  # the first run publishes release 1; later runs change ~1% first
            ids = np.array(Camera.objects.filter(status="active").values_list("id", flat=True))
            mutate(rng, ids, source, i)

    def publish():
        release = publish_release()
        stage_times.append(release.timings)
        return release

    publish_median, publish_all, release = median_time(publish, args.publish_runs, before_publish)
    print(f"\npublish_release: median {publish_median:.3f} s over {args.publish_runs} runs "
          f"({', '.join(f'{t:.3f}' for t in publish_all)})")
    for stage in ("read", "write", "changelog"):
        print(f"  {stage:9} median {statistics.median(t[stage] for t in stage_times):.3f} s")
    print(f"  last release {release.number}: {release.camera_count:,} cameras, "
          f"changelog {release.changelog['summary']}")
    size = (Path(os.environ["RELEASES_DIR"]) / release.snapshot).stat().st_size
    print(f"  snapshot {size / 1e6:.2f} MB")

    load_median, load_all, table = median_time(lambda: load_snapshot(release), args.load_runs)
    verify_median, _, _ = median_time(lambda: load_snapshot(release, verify=True), args.load_runs)

    def load_to_numpy():
        loaded = load_snapshot(release)
        return [loaded.column(n).to_numpy() for n in ("id", "lat", "lon", "speed", "type", "country")]

    numpy_median, _, _ = median_time(load_to_numpy, args.load_runs)
    print(f"\nload_snapshot: median {load_median * 1000:.1f} ms over {args.load_runs} runs ({table.num_rows:,} rows)")
    print(f"  verify=True median {verify_median * 1000:.1f} ms; load + to_numpy of 6 columns (country: object array) {numpy_median * 1000:.1f} ms")

    orm_median, _, cams = median_time(lambda: list(Camera.objects.filter(status="active")), args.orm_runs)
    read_median = statistics.median(t["read"] for t in stage_times)
    print(f"\nORM peer: list(Camera.objects.filter(status='active')) median {orm_median:.3f} s "
          f"over {args.orm_runs} runs ({len(cams):,} instances)")
    print(f"  ORM read / publish read stage = {orm_median / read_median:.1f}x; "
          f"ORM read / whole publish = {orm_median / publish_median:.2f}x")


if __name__ == "__main__":
    main()
