"""Peak memory of package builds for 1,000,000 cameras: one fresh process per format.

    .venv/bin/python benchmarks/bench_memory.py [--cameras 1000000] [--formats gpx,kmz] [--runs 1]
        [--exact-france] [--in-memory]

For every registered format, a device of the catalog that uses it (the first on sale; for
COMAND, whose hard limit is 25,000 POIs, its limit; for a format no catalog device reads, the
plain ``kml``, a stand-in device: ``_setup.package_device``) gets a package built in a child process
started for it alone: ``scaled_cameras(n)`` (tests/exporters/fixtures.py), then
``build_package`` as ``cameras.exporting.build_spooled`` runs it in the fan-out and in
``manage.py export`` (the plugin's large files spooled to a temporary directory and streamed
into the zip; ``--in-memory``: every file held in memory), with the device's mobile setting
and the options of a new purchase (speed unit auto, France as legal danger zones;
``--exact-france``: exact positions).

The child reports its peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``:
the kernel's high-water mark, which counts numpy buffers that ``tracemalloc`` does not see)
and the RSS before the build (interpreter, numpy, the plugins and the camera set). With
``--runs`` > 1 each format is measured in that many fresh processes and the median taken.
Target: every peak under 500 MB (OK/MISS). The load average is printed: other processes do
not change a peak, but they do change the build times printed next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIMIT_MB = 500


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(fmt: str, n: int, exact_france: bool, in_memory: bool) -> None:
    from benchmarks._setup import package_device
    from exporters.base import ExportOptions, load_plugins
    from exporters.package import build_package
    from tests.exporters.fixtures import scaled_cameras

    load_plugins()
    device = package_device(fmt)
    if device.max_pois and device.max_pois.hard and device.max_pois.value < n:
        n = device.max_pois.value
    cams = scaled_cameras(n)
    before = rss_mb()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as spool:
        options = ExportOptions(mobile=device.mobile, fr_danger_zones=not exact_france,
                                spool_dir=None if in_memory else spool)
        start = time.perf_counter()
        package = build_package(cams, device, options, release={"number": 1, "date": "2026-01-01",
                                                                "sha256": "0" * 64}, coverage=["world"])
        took = time.perf_counter() - start
        size = len(package.data)
    print(json.dumps({"device": device.id, "n": n, "before": before, "peak": rss_mb(), "seconds": took,
                      "zip_mb": size / 2**20}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cameras", type=int, default=1_000_000)
    ap.add_argument("--formats", help="comma-separated format identifiers (default: every registered format)")
    ap.add_argument("--runs", type=int, default=1, help="fresh processes per format (median)")
    ap.add_argument("--exact-france", action="store_true")
    ap.add_argument("--in-memory", action="store_true", help="plugin files held in memory (no spool directory)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.cameras, args.exact_france, args.in_memory)
        return

    from exporters.base import load_plugins
    from exporters.devices import DEVICES

    # the formats of the catalog first, in its order, then those no device reads (plain kml)
    formats = list(dict.fromkeys([d.format for d in DEVICES] + sorted(load_plugins())))
    if args.formats:
        formats = [f.strip() for f in args.formats.split(",")]
    print(f"peak RSS of build_package, {args.cameras:,} cameras (scaled_cameras), one fresh process per format "
          f"and run ({args.runs}); France {'exact' if args.exact_france else 'legal zones'}; "
          f"{'files in memory' if args.in_memory else 'files spooled'}; {os.cpu_count()} CPUs, "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = (f"{'format':15} {'device':22} {'cameras':>10} {'before MB':>10} {'peak MB':>8} {'build s':>8} "
              f"{'zip MB':>7}  < {LIMIT_MB} MB")
    print(header)
    print("-" * len(header))
    missed = []
    for fmt in formats:
        results = []
        for _ in range(args.runs):
            cmd = [sys.executable, __file__, "--child", fmt, "--cameras", str(args.cameras)]
            cmd += ["--exact-france"] if args.exact_france else []
            cmd += ["--in-memory"] if args.in_memory else []
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
                print(f"{fmt:15} failed: {tail[0]}")
                break
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        if len(results) < args.runs:
            missed.append(fmt)
            continue
        peak = statistics.median(r["peak"] for r in results)
        ok = max(r["peak"] for r in results) < LIMIT_MB
        if not ok:
            missed.append(fmt)
        r = results[0]
        print(f"{fmt:15} {r['device']:22} {r['n']:>10,} {statistics.median(x['before'] for x in results):>10.0f} "
              f"{peak:>8.0f} {statistics.median(x['seconds'] for x in results):>8.2f} {r['zip_mb']:>7.1f}  "
              f"{'OK' if ok else 'MISS'}")
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; before = RSS with the interpreter, "
          f"numpy, the plugins and the camera set; peak = ru_maxrss after the build; target: every peak under "
          f"{LIMIT_MB} MB: " + ("OK" if not missed else f"MISS ({', '.join(missed)})"))


if __name__ == "__main__":
    main()
