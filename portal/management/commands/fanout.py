"""Show, and schedule, the package builds of a release's fan-out (``portal.fanout``).

    python manage.py fanout                 # the latest release: print the plan, schedule it
    python manage.py fanout --dry-run       # print only
    python manage.py fanout --release 7 --top 20 --wait 600

Publishing a release schedules the same fan-out by itself (``FANOUT_ON_PUBLISH``); this is
for a release published with it off, after a failure, or to see what it builds. Running it
twice builds nothing twice: the package store is content-addressed."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from cameras.exporting import latest_release
from cameras.models import Release
from portal.services import fanout, packages


class Command(BaseCommand):
    help = "Print the popular (device, coverage, options) combinations of a release and schedule their package builds."

    def add_arguments(self, parser):
        parser.add_argument("--release", type=int, help="release number (default: the latest)")
        parser.add_argument("--top", type=int, help="how many popular combinations (default: FANOUT_TOP, 50)")
        parser.add_argument("--no-defaults", action="store_true",
                            help="leave out the catalog devices' default combinations")
        parser.add_argument("--dry-run", action="store_true", help="print the combinations, schedule nothing")
        parser.add_argument("--wait", type=float, metavar="SECONDS",
                            help="wait up to SECONDS for the builds and print what was built")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, **options):
        if options["top"] is not None and options["top"] < 0:
            raise CommandError("--top must be 0 or more")
        if options["release"] is not None:
            try:
                release = Release.objects.get(number=options["release"])
            except Release.DoesNotExist:
                raise CommandError(f"there is no release {options['release']}") from None
        else:
            release = latest_release(changelog=False, missing_ok=True)
            if release is None:
                raise CommandError("no release has been published yet; run: python manage.py publish_release")

        combos = fanout.plan(top=options["top"], defaults=False if options["no_defaults"] else None)
        rows = []
        for i, c in enumerate(combos, start=1):
            try:
                stored = packages.is_stored(c.key(release))
            except Exception as exc:  # noqa: BLE001 -- shown, and the task will log it too
                stored = None
                self.stderr.write(f"{c.device_id} {','.join(c.coverage)}: {exc}")
            rows.append({"rank": i, "device": c.device_id, "coverage": list(c.coverage), "options": c.options_dict(),
                         "orders": c.orders, "default": c.default, "stored": stored, "_c": c})

        result = None
        if not options["dry_run"] and combos:
            result = fanout.schedule(release, combos).result
        done = None
        if result is not None and options["wait"] is not None:
            started = time.perf_counter()
            try:
                done = result.get(timeout=options["wait"], propagate=False)
            except Exception as exc:  # noqa: BLE001 -- celery's TimeoutError and friends
                raise CommandError(f"the builds did not finish within {options['wait']:g} s ({exc}); "
                                   "they go on in the workers") from None
            done = {**(done if isinstance(done, dict) else {}), "seconds": round(time.perf_counter() - started, 1)}

        if options["json"]:
            for row in rows:
                row.pop("_c")
            self.stdout.write(json.dumps({"release": release.number, "combinations": rows,
                                          "scheduled": result is not None,
                                          "task": getattr(result, "id", None), "result": done}, indent=2))
            return

        self.stdout.write(f"Release {release.number} ({release.camera_count:,} cameras): {len(rows)} combinations")
        self.stdout.write(f"{'#':>3}  {'orders':>6}  {'device':<22} {'coverage':<24} {'options':<24} store")
        for row in rows:
            c = row["_c"]
            coverage = ",".join(c.coverage) + (" (default)" if c.default else "")
            state = {True: "stored", False: "to build", None: "error"}[row["stored"]]
            self.stdout.write(f"{row['rank']:>3}  {row['orders']:>6}  {c.device_id:<22} {coverage:<24} "
                              f"{c.describe_options():<24} {state}")
        if options["dry_run"]:
            self.stdout.write("dry run: nothing scheduled")
        elif result is None:
            self.stdout.write("nothing to schedule")
        else:
            self.stdout.write(f"scheduled {len(rows)} builds (chord {result.id})")
        if done is not None:
            self.stdout.write(f"built {done.get('built', 0)}, from the store {done.get('stored', 0)}, "
                              f"failed {done.get('failed', 0)}, new-release emails {done.get('emails', 0)} "
                              f"in {done['seconds']} s")
