"""Import a generated 200,000-camera world CSV; median of several runs, against a naive peer.

    .venv/bin/python benchmarks/bench_import.py [--cameras 200000] [--runs 3]

Target: under 10 s. The peer is the plain Django way of loading the same rows
(csv.DictReader -> Camera objects -> bulk_create), which does no validation, no country
assignment and no deduplication.
"""

import argparse
import csv

from _setup import django_with_scratch_db, timed, world_csv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    django_with_scratch_db()
    from django.db import connection

    from cameras.importing import import_file
    from cameras.models import Camera, CameraLink, ImportRun, Source
    from exporters.schema import CameraType, DirectionMode, Kind

    path = world_csv(args.cameras)
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB), database: {connection.vendor}")

    def clear():
        ImportRun.objects.all().delete()
        CameraLink.objects.all().delete()
        Camera.objects.all().delete()

    med, runs, report = timed(lambda: import_file(path, source="bench", fmt="csv"), args.runs, clear)
    print(f"import_cameras (full pipeline): median {med:.2f} s  runs {[round(t, 2) for t in runs]}  "
          f"created {report.created}, merged {len(report.merged)}, rejected {len(report.rejections)}")
    med_re, runs_re, rep2 = timed(lambda: import_file(path, source="bench", fmt="csv"), args.runs)
    print(f"re-import (unchanged):          median {med_re:.2f} s  runs {[round(t, 2) for t in runs_re]}  "
          f"unchanged {rep2.unchanged}")

    def naive():
        src, _ = Source.objects.get_or_create(name="naive")
        with open(path, newline="", encoding="utf-8") as fh:
            objs = [Camera(source=src, source_ref=row["ref"], lat=float(row["lat"]), lon=float(row["lon"]),
                           type=CameraType.parse(row["type"]), kind=Kind.parse(row["kind"]),
                           speed=int(row["speed"]) if row["speed"] else None,
                           heading=float(row["heading"]) if row["heading"] else None,
                           dir_mode=DirectionMode.parse(row["direction"]), road=row["road"],
                           description=row["description"], country="")
                    for row in csv.DictReader(fh)]
        Camera.objects.bulk_create(objs, batch_size=2000)

    med_naive, runs_naive, _ = timed(naive, args.runs, clear)
    print(f"peer: DictReader + bulk_create: median {med_naive:.2f} s  runs {[round(t, 2) for t in runs_naive]}")
    print(f"ratio full pipeline / naive load: {med / med_naive:.2f}x (target: pipeline under 10 s)")


if __name__ == "__main__":
    main()
