"""Size models of the POI-file plugins: how long one subset query takes on 200,000 cameras.

Run:  .venv/bin/python benchmarks/bench_sizes.py [--cameras 200000] [--runs 7]

tests/exporters/test_size_poi.py checks what ``SizeModel.sizes(mask)`` answers; the time is
measured here (it used to be a test's "median under 100 ms"; about 3 ms on a development
machine). For each format: the model is built once (timed), then ``--runs`` random subsets
(numpy seed 1, as the test) are sized; prints the median and the slowest query. Sizes for a
whole coverage of a published release (``Sizer.size``): benchmarks/bench_coverage.py.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET = 0.1  # seconds per query: what the test asserted before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--formats", default="tomtom-ov2,garmin-gpi")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import numpy as np

    from exporters.base import ExportOptions, get_exporter
    from tests.exporters.fixtures import scaled_cameras

    cams = scaled_cameras(args.cameras)
    print(f"{args.cameras:,} cameras, {args.runs} subset queries per format\n")
    for identifier in args.formats.split(","):
        start = time.perf_counter()
        model = get_exporter(identifier).size_model(cams, ExportOptions(mobile=True))
        built = time.perf_counter() - start
        rng = np.random.default_rng(1)
        times = []
        for _ in range(args.runs):
            mask = rng.random(len(cams)) < rng.random()
            start = time.perf_counter()
            model.sizes(mask)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"{identifier:<12} model built in {built * 1000:8.1f} ms   query median {median * 1000:7.2f} ms   "
              f"max {max(times) * 1000:7.2f} ms   budget {BUDGET * 1000:.0f} ms  {'OK' if median < BUDGET else 'OVER'}")


if __name__ == "__main__":
    main()
