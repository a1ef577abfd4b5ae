"""``import_cameras``: import a feed file (README, "CLI").

The report lists rejected rows (stderr), merges and the readers' notes by kind (what was
changed or assumed while reading: the file's encoding, cut text, clamped numbers). An
import that accepts no row exits non-zero, with ``--skip-invalid`` too.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from cameras.formats import FormatError, load_readers
from cameras.importing import ImportFailed, import_file
from cameras.table_import import preview_text, table_options


class Command(BaseCommand):
    help = "Import a camera feed file (CSV, GeoJSON, OSM, GPX, KML, iGO, Garmin CSV, OV2, ...) into the database."

    def add_arguments(self, parser):
        formats = ["auto", *sorted(load_readers())]
        parser.add_argument("path")
        parser.add_argument("--format", default="auto", choices=formats,
                            help="input format; 'auto' recognises it from the content")
        parser.add_argument("--source", required=True, help="source name, e.g. osm or fr-gov (the import key)")
        parser.add_argument("--skip-invalid", action="store_true",
                            help="import the good rows and report the bad ones (default: any bad row aborts)")
        parser.add_argument("--dry-run", action="store_true", help="do everything but write nothing")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--show", type=int, default=20, help="how many rejections and merges to list")
        parser.add_argument("--map", metavar="FILE", help="table reader: a TOML (or YAML) file naming the columns, "
                            "the id column, the speed unit and a type table (docs/feed-table.md)")
        parser.add_argument("--speed-unit", choices=["kmh", "mph", "auto"],
                            help="table reader: unit of unmarked speeds (default auto: mph in mph countries)")
        parser.add_argument("--preview", action="store_true",
                            help="table reader: print the mapping, the first rows and counts; write nothing")

    def handle(self, *args, **opts):
        progress = opts["verbosity"] >= 1 and not opts["json"]
        try:
            if opts["preview"]:
                self.stdout.write(preview_text(opts["path"], opts["source"], opts["map"], opts["speed_unit"]))
                return
            with table_options(opts["source"], opts["map"], opts["speed_unit"], opts["dry_run"]) as table:
                report = import_file(opts["path"], source=opts["source"], fmt=opts["format"],
                                     skip_invalid=opts["skip_invalid"], dry_run=opts["dry_run"], progress=progress)
            for warning in table.warnings:
                self.stderr.write(f"WARNING: {warning}")
        except FormatError as exc:
            raise CommandError(str(exc)) from None
        except ImportFailed as exc:
            if exc.report is not None:
                self._print_rejections(exc.report, opts["show"])
                for line in exc.report.notes_lines():
                    self.stderr.write(line)
            raise CommandError(str(exc)) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, default=str))
            return
        self.stdout.write(report.summary())
        self._print_rejections(report, opts["show"])
        if report.merged and opts["show"]:
            self.stdout.write(f"Merged duplicates (first {min(opts['show'], len(report.merged))} of {len(report.merged)}):")
            for line, what, other, metres, why in report.merged[: opts["show"]]:
                self.stdout.write(f"  line {line}: {what} {other} ({metres} m: {why})")

    def _print_rejections(self, report, show):
        if not report.rejections:
            return
        self.stderr.write(f"Rejected rows (first {min(show, len(report.rejections))} of {len(report.rejections)}):")
        for rej in report.rejections[:show]:
            self.stderr.write(f"  {rej}")
