"""Shared by the benchmark scripts: a throwaway database and Django set up before use."""

import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"


def django_with_scratch_db():
    """Point Django at a fresh SQLite file (unless DATABASE_URL is set), migrate, return tmp dir."""
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix="speedcam-bench-"))
    os.environ.setdefault("VAR_DIR", str(tmp))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return tmp


def timed(fn, runs, setup=None):
    """Median and all timings (seconds) of fn() over runs; setup() runs untimed before each."""
    times = []
    result = None
    for _ in range(runs):
        if setup:
            setup()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def median_of(fn, runs: int) -> tuple[float, float]:
    """(median, worst) seconds of fn() over runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def report(label: str, times: tuple[float, float], budget: float, width: int = 52) -> None:
    """One line: the median and worst time against the budget (seconds), OK or OVER."""
    median, worst = times
    verdict = "OK" if median < budget else "OVER"
    print(f"{label:<{width}} median {median * 1000:9.1f} ms   max {worst * 1000:9.1f} ms   "
          f"budget {budget * 1000:7.0f} ms  {verdict}")


def world_csv(n=200_000, seed=2026):
    """The generated world camera file in the project's CSV format, cached in benchmarks/out."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"world-{n}-{seed}.csv"
    if not path.exists():
        from cameras import demo

        demo.write_csv(path, demo.generate(n, seed=seed, world=True))
    return path


def europe_csv(n: int, seed: int = 2026) -> Path:
    """The generated Europe camera file, cached in benchmarks/out; written under a temporary
    name and renamed, so that two runs at once never read half a file."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"europe-{n}-{seed}.csv"
    if not path.exists():
        from cameras import demo

        fd, tmp = tempfile.mkstemp(prefix=f".europe-{n}-", suffix=".csv", dir=OUT)
        os.close(fd)
        try:
            demo.write_csv(Path(tmp), demo.generate(n, seed=seed))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return path


def package_device(fmt: str, prefer_mobile: bool = False):
    """The device a benchmark builds packages of format ``fmt`` for: the first catalog device
    on sale that reads it (with ``prefer_mobile``, the first that shows mobile cameras, if
    any), else a stand-in of the format. Some registered formats have no catalog device (the
    plain ``kml`` plugin, now that KML devices get ``kmz``), and a benchmark that looked one
    up in the catalog failed for them (an empty list indexed, an empty ``next``)."""
    from exporters.base import get_exporter
    from exporters.devices import DEVICES, Device

    devices = [d for d in DEVICES if d.format == fmt]
    if devices:
        return next((d for d in devices if d.mobile), devices[0]) if prefer_mobile else devices[0]
    exporter = get_exporter(fmt)  # an unknown format fails here, naming the valid ones
    return Device(id=f"{fmt}-stand-in", brand="Benchmark", model=f"{exporter.verbose_name} reader", format=fmt,
                  kind="app", mobile=exporter.mobile_supported, default_coverage="world",
                  install=(f"Stand-in device for the {fmt} format: no catalog device reads it.",))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60, process=None) -> None:
    """Until ``url`` answers (a server just started); fails early when ``process`` exits."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
