from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from cameras import demo
from cameras.importing import import_file


class Command(BaseCommand):
    help = "Generate the deterministic demo camera database (European countries, every type) and import it."

    def add_arguments(self, parser):
        parser.add_argument("--cameras", type=int, default=20000, help="number of fixed and mobile cameras")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--world", action="store_true", help="spread cameras worldwide, not just Europe")

    def handle(self, *args, **opts):
        out = Path(settings.VAR_DIR) / "demo"
        cams = out / "cameras.csv"
        reports = out / "mobile-reports.csv"
        n = demo.write_csv(cams, demo.generate(opts["cameras"], seed=opts["seed"], world=opts["world"]))
        r = demo.write_mobile_reports(reports, seed=opts["seed"])
        self.stdout.write(f"Generated {n} cameras in {cams} and {r} mobile reports in {reports}.")
        progress = opts["verbosity"] >= 1
        for path in (cams, reports):
            report = import_file(path, source="demo", fmt="csv", progress=progress)
            self.stdout.write(report.summary())
