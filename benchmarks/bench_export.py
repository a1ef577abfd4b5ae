"""Export speed: every registered exporter plugin against GPSBabel on the same cameras.

    .venv/bin/python benchmarks/bench_export.py [--cameras 200000] [--runs 5] [--formats gpx,kml]
    .venv/bin/python benchmarks/bench_export.py --memory [--memory-cameras 1000000] [--in-memory]

Speed mode: builds ``scaled_cameras(n)`` (tests/exporters/fixtures.py: every type and
direction mode, spread over the world), exports them with ``mobile=True`` so every camera is
written, and writes the same cameras as a GPSBabel unicsv file (``lat,lon,name,desc``, names
"Speed A1@50"). Then, median of ``--runs`` runs each:

* ours: ``plugin.render(cameras, options)`` (in memory, as the packager calls it), and the
  same plus writing the files to a temporary directory;
* GPSBabel 1.8.0: ``gpsbabel -i unicsv -f in.csv -o <fmt> -F out`` with GPSBABEL_FREEZE_TIME=1
  (process start, reading the CSV and writing the file: what a GPSBabel-based exporter costs).

Targets: every text format (and OV2) at least 8x faster than GPSBabel (ratio = GPSBabel /
ours, on render time; for KMZ, Blaupunkt KML, Daimler GPX, iGO and Navitel, which GPSBabel
cannot write, against its closest writer: kml, kml, gpx, unicsv, unicsv, marked "*");
Garmin GPI under 3 s absolute for all cameras; Sygic (SQLite) has no peer. GPSBabel's GPI writer
is quadratic, so the GPI *ratio* is measured on ``--gpi-cameras`` (20,000) cameras only.
A GPSBabel run slower than ``--slow`` seconds is not repeated (marked "1 run").

Memory mode: each plugin renders ``--memory-cameras`` (1,000,000) cameras in a fresh
subprocess, with ``ExportOptions.spool_dir`` set to a temporary directory (large files are
written there in chunks, as ``manage.py export`` does); prints the peak RSS (``getrusage``
``ru_maxrss``) and the RSS before rendering (interpreter + libraries + the camera set). A
second fresh subprocess builds the whole package (``build_package``: render, manifest with
checksums, zip) for a device of the format the same way and prints its peak. Both peaks
are checked against the 500 MB target. ``--in-memory`` measures without a spool directory
(every file held in memory, the default of ``render()``), for comparison.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exporters.base import ExportOptions, load_plugins  # noqa: E402
from exporters.common import poi_names  # noqa: E402
from tests.exporters.fixtures import scaled_cameras  # noqa: E402

# plugin identifier -> GPSBabel output format; for a format GPSBabel cannot write, the
# closest writer it has (SUBSTITUTES says which and why). Sygic's SQLite database has none.
PEERS = {
    "tomtom-ov2": "tomtom",
    "gpx": "gpx",
    "kml": "kml",
    "csv": "unicsv",
    "garmin-poi-csv": "garmin_poi",
    "garmin-gpi": "garmin_gpi,category=Speed cameras,alerts=1,proximity=300m,unique=0",
    "geojson": "geojson",
    "kmz": "kml",            # GPSBabel writes no KMZ: its KML writer (ours also zips the icons in)
    "blaupunkt-kml": "kml",  # KML lists per country and category: GPSBabel's one KML file
    "daimler-gpx": "gpx",    # GPX with Daimler's extensions: GPSBabel's GPX writer
    "igo": "unicsv",         # iGO speedcam.txt is a CSV text: GPSBabel's unicsv writer
    "navitel": "unicsv",     # Navitel speedcam.txt likewise
}
SUBSTITUTES = {"kmz", "blaupunkt-kml", "daimler-gpx", "igo", "navitel"}
# the text formats: at least 8x faster than GPSBabel (OV2, binary, is held to it as well)
EIGHT_X = {"tomtom-ov2", "gpx", "kml", "kmz", "csv", "garmin-poi-csv", "geojson", "blaupunkt-kml", "daimler-gpx",
           "igo", "navitel"}
RATIO = 8
GPI = "garmin-gpi"
GPI_LIMIT_S = 3.0
MEMORY_LIMIT_MB = 500


def write_unicsv(cams, path: Path) -> None:
    names = poi_names(cams, speed_marker="@")
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["lat", "lon", "name", "desc"])
        for lat, lon, name, desc in zip(cams["lat"].tolist(), cams["lon"].tolist(), names,
                                        cams["description"].tolist()):
            out.writerow([f"{lat:.6f}", f"{lon:.6f}", name, desc])


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (GPSBabel runs), user + system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


CPU_TIMES: list[float] = []  # CPU seconds of each run of the last ``median_time``


def median_time(fn, runs: int, slow: float = float("inf")) -> tuple[float, list[float]]:
    times = []
    CPU_TIMES.clear()
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        fn()
        times.append(time.perf_counter() - start)
        CPU_TIMES.append(cpu_seconds() - start_cpu)
        if times[-1] > slow:
            break
    return statistics.median(times), times


def gpsbabel_runner(gpsbabel: str, fmt: str, src: Path, out: Path):
    env = dict(os.environ, GPSBABEL_FREEZE_TIME="1")
    cmd = [gpsbabel, "-i", "unicsv", "-f", str(src), "-o", fmt, "-F", str(out)]

    def run():
        proc = subprocess.run(cmd, capture_output=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.decode(errors='replace')[:500]}")
    return run


def ours_runner(plugin, cams, options, outdir: Path | None = None):
    def run():
        result = plugin.render(cams, options)
        if outdir is not None:
            for f in result.files:
                path = outdir / f.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(f.data)
        return result
    return run


def speed(args) -> None:
    plugins = load_plugins()
    wanted = sorted(plugins) if not args.formats else [f.strip() for f in args.formats.split(",")]
    unknown = [f for f in wanted if f not in plugins]
    if unknown:
        sys.exit(f"unknown format(s) {', '.join(unknown)}; registered: {', '.join(sorted(plugins))}")
    gpsbabel = shutil.which("gpsbabel")
    version = subprocess.run([gpsbabel, "-V"], capture_output=True, text=True).stdout.strip() if gpsbabel else "missing"
    options = ExportOptions(mobile=True)
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    sets = {}

    def camera_set(n):
        if n not in sets:
            cams = scaled_cameras(n)
            src = work / f"in-{n}.csv"
            write_unicsv(cams, src)
            sets[n] = (cams, src)
        return sets[n]

    print(f"{args.cameras:,} cameras (scaled_cameras, mobile included), median of {args.runs} runs; "
          f"{version}; GPSBABEL_FREEZE_TIME=1; {os.cpu_count()} CPUs, load "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = []
    header = (f"{'format':16} {'gpsbabel -o':12} {'cameras':>9} {'ours s':>8} {'+write s':>9} {'gpsbabel s':>11} "
              f"{'ratio':>11} {'CPU ratio':>9} {'target':>8}  met")
    print(header)
    print("-" * len(header))
    for ident in wanted:
        plugin = plugins[ident]()
        cams, src = camera_set(args.cameras)
        ours, _ = median_time(ours_runner(plugin, cams, options), args.runs)
        ours_cpu = statistics.median(CPU_TIMES)
        outdir = work / f"ours-{ident}"
        written, _ = median_time(ours_runner(plugin, cams, options, outdir), args.runs)
        peer = PEERS.get(ident)
        babel_s, ratio_n, note, cpu_ratio = None, args.cameras, "", None
        if ident == GPI:
            ratio_n = args.gpi_cameras
        if peer and gpsbabel:
            if ratio_n != args.cameras:
                small, small_src = camera_set(ratio_n)
                ours_small, _ = median_time(ours_runner(plugin, small, options), args.runs)
                ours_small_cpu = statistics.median(CPU_TIMES)
            else:
                small_src, ours_small, ours_small_cpu = src, ours, ours_cpu
            babel_s, times = median_time(gpsbabel_runner(gpsbabel, peer, small_src, work / f"babel-{ident}"),
                                         args.runs, slow=args.slow)
            cpu_ratio = statistics.median(CPU_TIMES) / ours_small_cpu
            if len(times) < args.runs:
                note = f"  (GPSBabel: {len(times)} run, over {args.slow:g} s)"
        ratio = babel_s / ours_small if babel_s else None
        if ident in EIGHT_X:
            target, met = f">= {RATIO}x", (ratio is not None and ratio >= RATIO)
        elif ident == GPI:
            target, met = f"< {GPI_LIMIT_S:g} s", ours < GPI_LIMIT_S
        else:
            target, met = "-", None
        ratio_text = f"{ratio:.1f}x" if ratio else "-"
        if ratio_n != args.cameras and ratio:
            ratio_text += f" @{ratio_n // 1000}k"
        peer_name = (peer or "-").split(",")[0] + ("*" if ident in SUBSTITUTES else "")
        if met is not None:
            results.append(met)
        print(f"{ident:16} {peer_name:12} {args.cameras:>9,} {ours:>8.3f} {written:>9.3f} "
              f"{(f'{babel_s:.3f}' if babel_s else '-'):>11} {ratio_text:>11} "
              f"{(f'{cpu_ratio:.1f}x' if cpu_ratio else '-'):>9} {target:>8}  "
              f"{'-' if met is None else ('OK' if met else 'MISS'):4}{note}")
    shutil.rmtree(work, ignore_errors=True)
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; targets: "
          + ("OK" if all(results) else f"MISS ({results.count(False)} of {len(results)})"))
    print("ours s = render() in memory; +write s = render() and writing the files; ratio = gpsbabel s / ours s "
          "(the target); CPU ratio = the same with the median CPU seconds of each side (user + system: steadier "
          "than wall time on a machine other processes share); "
          "* = GPSBabel cannot write the format: its closest writer"
          + (f"; GPI ratio measured with {args.gpi_cameras:,} cameras (GPSBabel's GPI writer is quadratic)"
             if GPI in wanted else ""))


def memory_child(identifier: str, n: int, what: str, spool: bool) -> None:
    """Print "before peak output seconds" (MB, MB, MB, s) for one render or package build. A
    package for a device with a hard POI limit under ``n`` (COMAND: 25,000) is built with as
    many cameras as its limit, as bench_memory.py does: a larger coverage is refused."""
    if what == "package":
        from benchmarks._setup import package_device

        device = package_device(identifier, prefer_mobile=True)
        if device.max_pois and device.max_pois.hard:
            n = min(n, device.max_pois.value)
    cams = scaled_cameras(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory(prefix="bench-spool-") as spool_dir:
        options = ExportOptions(mobile=True, spool_dir=spool_dir if spool else None)
        start = time.perf_counter()
        if what == "render":
            result = load_plugins()[identifier]().render(cams, options)
            size = sum(f.size for f in result.files)
        else:
            from exporters.package import build_package

            options = options.with_(mobile=device.mobile)
            package = build_package(cams, device, options, release={"number": 1, "date": "2026-01-01",
                                                                    "sha256": "0" * 64}, coverage=["world"])
            size = len(package.data)
        took = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{before:.0f} {peak:.0f} {size / 2**20:.0f} {took:.2f}")


def run_memory_child(ident: str, n: int, what: str, spool: bool) -> tuple[list[str] | None, str]:
    cmd = [sys.executable, __file__, "--memory-child", ident, "--memory-cameras", str(n), "--memory-what", what]
    if not spool:
        cmd.append("--in-memory")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
    return proc.stdout.split(), ""


def memory(args) -> None:
    plugins = load_plugins()
    wanted = sorted(plugins) if not args.formats else [f.strip() for f in args.formats.split(",")]
    n = args.memory_cameras
    spool = not args.in_memory
    how = "files spooled to a temporary directory" if spool else "files held in memory (no spool_dir)"
    print(f"peak RSS rendering {n:,} cameras (mobile included), one fresh process per format and step, "
          f"{how}; target < {MEMORY_LIMIT_MB} MB")
    header = (f"{'format':16} {'before MB':>10} {'peak MB':>8} {'output MB':>10} {'render s':>9} "
              f"{'package peak MB':>16} {'zip MB':>7} {'package s':>10}  under {MEMORY_LIMIT_MB} MB")
    print(header)
    print("-" * len(header))
    for ident in wanted:
        render, reason = run_memory_child(ident, n, "render", spool)
        if render is None:
            print(f"{ident:16} failed: {reason}")
            continue
        before, peak, size, took = render
        peaks = [float(peak)]
        package, reason = run_memory_child(ident, n, "package", spool)
        if package is None:
            package_text = f"{'failed':>16} {'-':>7} {'-':>10}"
        else:
            _, pkg_peak, zip_size, pkg_took = package
            peaks.append(float(pkg_peak))
            package_text = f"{pkg_peak:>16} {zip_size:>7} {pkg_took:>10}"
        met = all(p < MEMORY_LIMIT_MB for p in peaks) and package is not None
        print(f"{ident:16} {before:>10} {peak:>8} {size:>10} {took:>9} {package_text}  {'yes' if met else 'NO'}"
              + (f"  (package: {reason})" if package is None else ""))
    print("before = RSS with the interpreter, numpy and the camera set loaded; peak = ru_maxrss after render(); "
          "output = total bytes of the files render() returns" + (" (spooled to disk)" if spool else " (in memory)")
          + "; package = build_package() for a device of the format (render, manifest, zip held in memory)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cameras", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--gpi-cameras", type=int, default=20_000, help="cameras for the GPI ratio (default 20000)")
    ap.add_argument("--slow", type=float, default=20.0, help="do not repeat a GPSBabel run slower than this (s)")
    ap.add_argument("--formats", help="comma-separated plugin identifiers (default: all registered)")
    ap.add_argument("--memory", action="store_true", help="peak memory per format instead of speed")
    ap.add_argument("--memory-cameras", type=int, default=1_000_000)
    ap.add_argument("--in-memory", action="store_true",
                    help="memory mode without a spool directory: every file held in memory")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    ap.add_argument("--memory-what", choices=("render", "package"), default="render", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.memory_cameras, args.memory_what, not args.in_memory)
    elif args.memory:
        memory(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
