"""Feed readers: how long reading big feeds and refusing hostile input takes.

Run:  .venv/bin/python benchmarks/bench_readers.py [--runs 5] [--nodes 200000]

The tests (tests.cameras.formats.test_readers_xml.py) check what the readers return and that they
refuse; the times are measured here, where a loaded machine only makes a number worse
instead of failing a build. Each line prints the median of --runs runs (and the slowest),
and the budget the tests used to assert:

- a generated Overpass extract of --nodes nodes (every tenth a camera) and 20,000 ways, as
  JSON and as OSM XML (budget 10 s each);
- every XML reader refusing a billion-laughs file (budget 1 s);
- sniffing four hostile 64 KB heads with every JSON/XML reader (budget 0.5 s for the six);
- the per-country OSM feed JSON files (26 files; budget 10 s) and the DGT radar file
  (budget 5 s), when SHARED_DATA_DIR holds them (skipped otherwise).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _setup import median_of, report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=200_000)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from cameras.formats.base import FormatError, get_reader
    from tests.cameras.formats.test_readers_xml import BOMB, BOMB_BODIES, CAM, node, osm_xml, overpass_json, way

    def read_all(fmt, path):
        return list(get_reader(fmt).read(path))

    tmp = Path(tempfile.mkdtemp(prefix="speedcam-bench-readers-"))
    n = args.nodes
    elements = [node(i, 45 + (i % 1000) / 1000, 7 + (i // 1000) / 1000, **(CAM if i % 10 == 0 else {}))
                for i in range(1, n + 1)]
    elements += [way(10_000_000 + w, list(range(w * 10 + 1, w * 10 + 11)), highway="primary", ref=f"B{w}")
                 for w in range(min(20_000, n // 10))]
    (tmp / "big.json").write_text(overpass_json(elements, indent=None))
    (tmp / "big.osm").write_text(osm_xml(elements))
    print(f"{n:,} nodes, {args.runs} runs each\n")
    for name in ("big.json", "big.osm"):
        report(f"osm: read {name}", median_of(lambda: read_all("osm", tmp / name), args.runs), 10.0)

    for fmt in sorted(BOMB_BODIES):
        path = tmp / f"bomb.{fmt}"
        path.write_text(BOMB + BOMB_BODIES[fmt])

        def refuse(fmt=fmt, path=path):
            try:
                read_all(fmt, path)
            except FormatError:
                return
            raise SystemExit(f"{fmt}: the billion-laughs file was not refused")

        report(f"{fmt}: refuse a billion-laughs file", median_of(refuse, args.runs), 1.0)

    heads = {"64 KB of spaces": b" " * 65535 + b"x", "an endless DOCTYPE": b"<!DOCTYPE " + b"a" * 65000,
             "an endless comment": b"<!--" + b"-" * 65000, "tabs and newlines": b"\t\n" * 30000 + b"<"}
    sniffers = [get_reader(name) for name in ("geojson", "osm", "osm-feed-json", "gpx", "kml", "dgt-xml")]
    for label, head in heads.items():
        def sniff(head=head):
            for reader in sniffers:
                reader.sniff(head, tmp / "hostile.dat")
        report(f"sniff {label} (6 readers)", median_of(sniff, args.runs), 0.5)

    shared = Path(os.environ.get("SHARED_DATA_DIR") or ROOT.parent / "shared" / "data")
    feed_zip = shared / "osm_speed_cameras_feed_2026-03_raw_json.zip"
    if feed_zip.exists():
        with zipfile.ZipFile(feed_zip) as zf:
            zf.extractall(tmp / "feed")
        files = sorted((tmp / "feed").glob("*.json"))
        report(f"osm-feed-json: read {len(files)} country files",
               median_of(lambda: [read_all("osm-feed-json", p) for p in files], args.runs), 10.0)
    else:
        print(f"(skipped the feed JSON files: {feed_zip} is missing)")
    dgt = shared / "es_dgt_radares_2018.xml"
    if dgt.exists():
        report("dgt-xml: read the DGT radar file", median_of(lambda: read_all("dgt-xml", dgt), args.runs), 5.0)
    else:
        print(f"(skipped the DGT file: {dgt} is missing)")


if __name__ == "__main__":
    main()
