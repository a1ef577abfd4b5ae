"""Table reader: how long reading and previewing a 200,000-row camera list takes.

Run:  .venv/bin/python benchmarks/bench_tabular.py [--runs 5] [--rows 200000] [--import]

Generates a synthetic list in the wild (semicolon separated, decimal commas, compass
headings, names with types and speeds) and prints the median of --runs runs (and the
slowest) against the budgets: reading 200,000 rows (the reader's part of an import) and
--preview, 3 s. With --import it also times a full dry-run import (budget 10 s; needs the
database settings). The tests check what is read; the times are measured here.
"""
from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--import", dest="full_import", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wild.csv"
        write_list(path, args.rows)
        report(f"read {args.rows:,} rows", median_of(lambda: read_result(path, Session()), args.runs), 10.0)
        report(f"--preview of {args.rows:,} rows", median_of(lambda: preview(path, Session()), args.runs), 3.0)
        if args.full_import:
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
            import django
            from django.core.management import call_command
            django.setup()
            call_command("migrate", verbosity=0)
            report(f"dry-run import of {args.rows:,} rows", median_of(
                lambda: call_command("import_cameras", str(path), "--source", "bench-table", "--dry-run",
                                     "--skip-invalid", verbosity=0), args.runs), 10.0)


if __name__ == "__main__":
    main()
