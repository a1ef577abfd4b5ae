"""Price list speed: ``/prices/`` on a generated release, against the device page as a peer.

    .venv/bin/python benchmarks/bench_prices.py [--cameras 200000] [--requests 200] [--runs 3]

Builds a throwaway SQLite database with N generated cameras over the world (the same
generator as bench_map.py), publishes a release, then times with Django's test client (the
whole request: routing, middleware, the release query, the table and the template):

* the worker's task that sizes every device over every coverage for the release (building
  each format's size model; the page shows the prices without sizes meanwhile), alone;
* ``--requests`` requests of the price list, then of a device page (the peer: a page the
  issue already holds to p95 < 100 ms), ``--runs`` times; printed: the medians over runs of
  p50 and p95, and the ratio of the price list's p95 to the device page's.
Target (issue): p95 under 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_with_scratch_db  # noqa: E402
from bench_map import make_release  # noqa: E402

BUDGET_MS = 100.0


def percentiles(client, url: str, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cameras", type=int, default=200_000)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seed", type=int, default=2026)
    args = p.parse_args()

    django_with_scratch_db()
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    release = make_release(args.cameras, args.seed)
    client = Client()

    from portal import tasks

    start = time.perf_counter()
    tasks.compute_price_list_sizes(release.number)
    print(f"sizing every device over every coverage (the worker's task, once per release): "
          f"{time.perf_counter() - start:.1f} s")
    assert "MB" in client.get("/prices/").content.decode()
    client.get("/devices/tomtom-go-classic/")  # the peer's first request, untimed

    results = {"/prices/": [], "/devices/tomtom-go-classic/": []}
    for _ in range(args.runs):
        for url in results:
            results[url].append(percentiles(client, url, args.requests))
    p95 = {}
    for url, runs in results.items():
        p50, p95[url] = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        verdict = "OK" if p95[url] < BUDGET_MS else "OVER"
        print(f"{url:<32} p50 {p50:6.1f} ms   p95 {p95[url]:6.1f} ms   (median of {args.runs} runs of "
              f"{args.requests})  budget {BUDGET_MS:.0f} ms {verdict}")
    print(f"price list p95 / device page p95: {p95['/prices/'] / p95['/devices/tomtom-go-classic/']:.2f}")


if __name__ == "__main__":
    main()
