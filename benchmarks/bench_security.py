"""Hostile input: how long refusing it takes (the tests only check that it is refused).

Run:  .venv/bin/python benchmarks/bench_security.py [--runs 5]

tests/portal/system/test_security.py checks that each hostile input is refused, with which message,
that no secret leaks and that the memory peak stays small; the wall-clock budgets it used to
assert are measured here instead, median (and slowest) of --runs runs:

- a PNG whose header claims 60,000 x 60,000 pixels, through ``reports.sniff_image`` (what the
  report form calls; budget 3 s, the whole request included);
- a 20 MB + 1 byte GPX route, through ``read_gpx_route`` (budget 0.5 s);
- every feed reader of the registry against every hostile prologue (billion laughs,
  external entity, parameter entity, external and public DTD) in front of every XML feed's
  body: the slowest single refusal (budget 1 s);
- a GPX route with each of those prologues (budget 1 s).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _setup import median_of, report  # noqa: E402


def refused(fn, *errors) -> None:
    try:
        fn()
    except errors:
        return
    raise SystemExit(f"{fn!r} was not refused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="speedcam-bench-security-"))
    os.environ.setdefault("VAR_DIR", str(tmp))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from cameras.coverage import CoverageError, read_gpx_route, routes
    from cameras.formats.base import FormatError, Rejection, load_readers
    from portal.services.reports import sniff_image
    from tests.portal.system.test_security import PROLOGUES, SECRET_FILE_TEXT, hostile_files, png_header

    print(f"{args.runs} runs each\n")
    bomb = png_header(60_000, 60_000)
    report("screenshot: a 3.6-gigapixel PNG header", median_of(lambda: refused(lambda: sniff_image(bomb), ValueError),
                                                                args.runs), 3.0)

    huge = b"<gpx>" + b"<!-- -->" * (routes.MAX_ROUTE_BYTES // 8)
    report("route: 20 MB + 1 byte of GPX",
           median_of(lambda: refused(lambda: read_gpx_route(huge, "huge.gpx"), CoverageError), args.runs), 0.5)

    readers = load_readers()
    slowest: dict[str, float] = {}
    for label, path in hostile_files(tmp):
        for name, reader in sorted(readers.items()):
            def read(reader=reader, path=path):
                try:
                    items = list(reader.read(path))
                except FormatError:
                    return
                assert all(isinstance(i, Rejection) for i in items)
            times = median_of(read, args.runs)
            key = f"{label} / {name}"
            slowest[key] = times[0]
    worst = max(slowest, key=slowest.get)
    report(f"feeds: {len(slowest)} reader x file refusals, the slowest", (slowest[worst], slowest[worst]), 1.0)
    print(f"    (the slowest: {worst})")

    secret = tmp / "passwd"
    secret.write_text(SECRET_FILE_TEXT)
    for label in sorted(PROLOGUES):
        name = "x" if label in ("parameter entity", "external DTD", "public DTD") else "&lol9;"
        data = (PROLOGUES[label].replace("{uri}", secret.as_uri())
                + f'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>{name}</name>'
                  '<trkseg><trkpt lat="48" lon="2"/><trkpt lat="48.1" lon="2.1"/></trkseg></trk></gpx>').encode()
        report(f"route: GPX with {label}",
               median_of(lambda data=data: refused(lambda: read_gpx_route(data, "route.gpx"), CoverageError),
                         args.runs), 1.0)


if __name__ == "__main__":
    main()
