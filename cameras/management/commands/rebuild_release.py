"""Rebuild release snapshots from the database and check them byte for byte."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cameras import history
from cameras.models import Release
from cameras.releases import SnapshotError, rebuild_snapshot, restore_snapshot


class Command(BaseCommand):
    help = (
        "Rebuild releases from the camera history in the database and check each against the "
        "sha256 recorded at publishing. --restore also writes a snapshot file that is missing "
        "or corrupt under RELEASES_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument("numbers", nargs="*", type=int, metavar="N", help="release numbers")
        parser.add_argument("--all", action="store_true", help="every release the history holds")
        parser.add_argument("--restore", action="store_true",
                            help="write the rebuilt file where the snapshot is missing or fails its checksum")

    def handle(self, *args, numbers, all, restore, verbosity, **options):
        if all == bool(numbers):
            raise CommandError("give release numbers or --all (not both)")
        if all:
            first = history.first_rebuildable()
            if first is None:
                raise CommandError("the database holds no release history yet: publish a release first")
            releases = list(Release.objects.filter(number__gte=first).order_by("number"))
            skipped = Release.objects.filter(number__lt=first).count()
            if skipped:
                self.stdout.write(f"{skipped} older release(s) predate the history: restore them from a backup")
        else:
            found = {r.number: r for r in Release.objects.filter(number__in=numbers)}
            missing = sorted(set(numbers) - set(found))
            if missing:
                raise CommandError(f"no such release: {', '.join(map(str, missing))} (see manage.py releases)")
            releases = [found[n] for n in dict.fromkeys(numbers)]
        failures = []
        for release in tqdm(releases, desc="rebuild", unit="release", disable=verbosity < 1 or len(releases) < 2):
            try:
                if restore:
                    outcome = restore_snapshot(release)
                    said = {"ok": "file already correct", "restored": "missing file restored",
                            "replaced": "corrupt file replaced"}[outcome]
                else:
                    rebuild_snapshot(release)
                    said = "identical"
            except SnapshotError as exc:
                failures.append(release.number)
                self.stderr.write(f"release {release.number}: {exc}")
                continue
            self.stdout.write(f"release {release.number}: {release.camera_count:,} cameras, "
                              f"sha256 {release.sha256[:12]}…: {said}")
        if failures:
            raise CommandError(f"{len(failures)} release(s) could not be rebuilt: {', '.join(map(str, failures))}")
