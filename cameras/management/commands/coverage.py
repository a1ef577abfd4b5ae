"""python manage.py coverage --device ID --countries FR,BE [--regions western-europe] [--fit]
[--route track.gpx --corridor-km 5] [--home LAT,LON --radius-km 50] [--png map.png] [--json]"""

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cameras.coverage import CoverageError
from cameras.coverage.map import render_map
from cameras.exporting import release_index, sizer
from cameras.coverage.fitting import propose_fit
from cameras.management import coverage_args
from exporters.base import ExportError


def human_bytes(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024


class Command(BaseCommand):
    help = ("What a package for a device and coverage will hold (POIs and exact bytes per file) against the "
            "device's limits, and with --fit the largest coverage that fits; --png draws the coverage.")

    def add_arguments(self, parser):
        coverage_args.add_arguments(parser)
        parser.add_argument("--fit", action="store_true",
                            help="propose the largest coverage around the given countries that fits the device")
        parser.add_argument("--allow-drop-mobile", action="store_true",
                            help="with --fit: mobile cameras may be left out to make the core fit")
        parser.add_argument("--allow-drop-types", action="store_true",
                            help="with --fit: the least important camera types may be left out to make the core fit")
        parser.add_argument("--png", default=None, help="write a map of the coverage (PNG) to this file")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args, **opts):
        device, options, coverage, release = coverage_args.parse(opts, self.stderr)
        if opts["png"] and not Path(opts["png"]).resolve().parent.is_dir():
            raise CommandError(f"the directory of {opts['png']} does not exist")
        try:
            size_of = lambda o: sizer(release, device, o)  # noqa: E731
            start = time.perf_counter()
            current = size_of(options)
            size = current.size(coverage)
            elapsed_ms = (time.perf_counter() - start) * 1000
            fit = None
            if opts["fit"]:
                fit = propose_fit(size_of, options, coverage, allow_drop_mobile=opts["allow_drop_mobile"],
                                  allow_drop_types=opts["allow_drop_types"])
        except (ExportError, CoverageError) as exc:
            raise CommandError(str(exc)) from None

        if opts["json"]:
            data = {"device": device.id, "release": release.number, "options": options.key(), **size.as_dict()}
            if fit is not None:
                data["fit"] = {"fits": fit.fits, "proposal": fit.size.as_dict(), "added": fit.added,
                               "dropped_types": fit.dropped_types, "dropped_mobile": fit.dropped_mobile,
                               "cuts": fit.cuts, "summary": fit.summary()}
            self.stdout.write(json.dumps(data, indent=2))
        else:
            self.print_table(device, release, size, elapsed_ms)
            if fit is not None:
                self.stdout.write("")
                for line in fit.summary():
                    self.stdout.write(line)
                if fit.fits and fit.size.coverage != coverage:
                    self.stdout.write(f"  {fit.size.pois:,} POIs; use: --countries "
                                      f"{','.join(sorted(fit.size.coverage.countries))}")
            elif not size.fits:
                self.stdout.write("Run with --fit for a coverage that fits, and what could be cut.")
        if opts["png"]:
            shown = fit.size if fit is not None and fit.fits else size
            index = release_index(release)
            lines = [f"{device.name} - release {release.number}: {shown.cameras:,} cameras, {shown.pois:,} POIs"
                     + (f" of {shown.max_pois:,} allowed" if shown.max_pois else ""),
                     "fits the device" if shown.fits else "over the device limit: " + "; ".join(shown.warnings)[:150]]
            Path(opts["png"]).write_bytes(render_map(index, shown.coverage, lines=lines))
            self.stdout.write(f"map: {opts['png']}")

    def print_table(self, device, release, size, elapsed_ms):
        w = self.stdout.write
        w(f"{device.name} ({device.format}), release {release.number}, coverage {size.coverage.describe()}")
        limit = device.max_pois.describe("POIs") if device.max_pois else "no known POI limit"
        w(f"  cameras: {size.cameras:,}   POIs: {size.pois:,}   limit: {limit}")
        if device.max_file_bytes:
            w(f"  file size limit: {device.max_file_bytes.describe('bytes')}")
        name_width = max([len(f["name"]) for f in size.files] + [4])
        w(f"  {'file':<{name_width}}  {'POIs':>9}  {'bytes':>13}")
        for f in size.files:
            over = " OVER" if device.max_file_bytes and f["bytes"] > device.max_file_bytes.value else ""
            w(f"  {f['name']:<{name_width}}  {f['count']:>9,}  {f['bytes']:>13,}{over}")
        total = sum(f["bytes"] for f in size.files)
        w(f"  {'total':<{name_width}}  {size.pois:>9,}  {total:>13,}  ({human_bytes(total)})")
        if size.by_country:
            w("  by country: " + ", ".join(f"{c} {n:,}" for c, n in sorted(size.by_country.items(),
                                                                           key=lambda kv: -kv[1])[:12]))
        if size.fits:
            w("  FITS: within every known limit of the device.")
        for warning in size.warnings:
            self.stderr.write(f"  OVER THE LIMIT: {warning}")
        w(f"  (sized without building the package in {elapsed_ms:.0f} ms)")
