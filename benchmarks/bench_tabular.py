"""Table reader: how long reading, previewing and importing a 200,000-row camera list takes.

Run:  .venv/bin/python benchmarks/bench_tabular.py [--runs 5] [--rows 200000] [--import]
      (PostgreSQL: DATABASE_URL=postgres://... the same, with --import)

Generates a synthetic list in the wild (semicolon separated, decimal commas, compass
headings, names with types, speeds and HTML) and prints the median of --runs runs (and the
slowest) against the budgets, each next to a peer that reads the same file without checking
anything: reading 200,000 rows (the reader's part of an import) against pandas.read_csv,
--preview (budget 3 s). With --import, in a scratch database (a new SQLite file, or the
DATABASE_URL database): ``import_cameras --dry-run`` and a real ``import_cameras`` (budget
10 s each), against the plain Django way of loading the same rows (pandas.read_csv -> Camera
objects -> bulk_create: no validation, countries, deduplication or links).

The generated file holds rows the import rejects on purpose: its random positions cover the
box 43-51 N, 1 W-7 E, and about 3 % of them lie at sea, more than 25 km from any country,
which the import lists as rejections (the reader itself accepts all 200,000 rows). One name
in eight holds ``&amp;`` unquoted, which the ';' delimiter cuts in two; the reader joins it
again. The tests check what is read; the times are measured here.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _setup import median_of, report  # noqa: E402

from cameras.formats.options import Session  # noqa: E402
from cameras.formats.tabular import preview, read_result  # noqa: E402

NAMES = ("Radar fixe", "Feu rouge", "Radar tronçon", "Blitzer @50", "Speed camera 30 MPH", "Tunnel camera",
         "Mobiler Blitzer", "<b>Radar</b> &amp; feu")


def write_list(path: Path, rows: int) -> None:
    rnd = random.Random(1)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("Breite;Länge;Tempo;Richtung;Typ;Bezeichnung;Nr\n")
        for i in range(rows):
            lat = f"{rnd.uniform(43.0, 51.0):.6f}".replace(".", ",")
            lon = f"{rnd.uniform(-1.0, 7.0):.6f}".replace(".", ",")
            fh.write(f"{lat};{lon};{rnd.choice((30, 50, 70, 90, 110, ''))};{rnd.choice(('N', 'SSW', '90', ''))};"
                     f";{rnd.choice(NAMES)};{i}\n")


def peer_read(path: Path):
    """The same file as a data frame, every value kept as text: no parsing, no checks (an
    eighth column takes the rest of the names that ``&amp;`` cut in two)."""
    import pandas as pd

    return pd.read_csv(path, sep=";", header=None, skiprows=1, dtype=str, keep_default_na=False,
                       names=["Breite", "Länge", "Tempo", "Richtung", "Typ", "Bezeichnung", "Nr", "rest"],
                       encoding="utf-8")


def ratio(label: str, ours: tuple[float, float], peer: tuple[float, float], width: int = 52) -> None:
    print(f"{'  peer: ' + label:<{width}} median {peer[0] * 1000:9.1f} ms   ratio {ours[0] / peer[0]:5.1f}x")


def imports(path: Path, rows: int, runs: int) -> None:
    """import_cameras --dry-run and a real import into the scratch database, and the naive peer."""
    from _setup import django_with_scratch_db, timed

    django_with_scratch_db()
    from django.core.management import call_command
    from django.db import connection

    from cameras.models import Camera, CameraLink, ImportRun, Source
    from exporters.schema import CameraType, DirectionMode, Kind

    print(f"database: {connection.vendor}")

    def clear():
        ImportRun.objects.all().delete()
        CameraLink.objects.all().delete()
        Camera.objects.all().delete()
        Source.objects.all().delete()

    def command(*extra):
        out, err = io.StringIO(), io.StringIO()
        call_command("import_cameras", str(path), "--source", "bench-table", "--skip-invalid", *extra,
                     verbosity=0, stdout=out, stderr=err)
        return out.getvalue()

    def timed_import(*extra):
        median, times, output = timed(lambda: command(*extra), runs, clear)
        return (median, max(times)), output

    preview_cli = median_of(lambda: command("--preview"), runs)
    report(f"import_cameras --preview of {rows:,} rows", preview_cli, 3.0)
    dry, _ = timed_import("--dry-run")
    report(f"import_cameras --dry-run of {rows:,} rows", dry, 10.0)
    real, output = timed_import()
    report(f"import_cameras of {rows:,} rows ({connection.vendor})", real, 10.0)
    print("  " + "; ".join(line.strip() for line in output.splitlines()[1:3]))

    def naive():
        src, _ = Source.objects.get_or_create(name="naive")
        frame = peer_read(path)
        objs = [Camera(source=src, source_ref=ref, lat=float(lat.replace(",", ".")), lon=float(lon.replace(",", ".")),
                       type=CameraType.SPEED, kind=Kind.FIXED, speed=int(speed) if speed else None,
                       heading=None, dir_mode=DirectionMode.ALL, road="", description=name, country="")
                for lat, lon, speed, name, ref in zip(frame["Breite"], frame["Länge"], frame["Tempo"],
                                                      frame["Bezeichnung"], frame["Nr"].str.cat(frame["rest"]))]
        Camera.objects.bulk_create(objs, batch_size=2000)

    median, times, _ = timed(naive, runs, clear)
    ratio("read_csv + Camera objects + bulk_create", real, (median, max(times)))
    clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--import", dest="full_import", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wild.csv"
        write_list(path, args.rows)
        peer = median_of(lambda: peer_read(path), args.runs)
        ours = median_of(lambda: read_result(path, Session()), args.runs)
        report(f"read {args.rows:,} rows", ours, 10.0)
        ratio("pandas.read_csv (text only)", ours, peer)
        ours = median_of(lambda: preview(path, Session()), args.runs)
        report(f"--preview of {args.rows:,} rows", ours, 3.0)
        ratio("pandas.read_csv (text only)", ours, peer)
        if args.full_import:
            imports(path, args.rows, args.runs)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
