"""Back up the database, the release snapshots and the package store into one archive."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.services.backup import BackupError, make_backup


class Command(BaseCommand):
    help = ("Write a backup archive (tar): the database (SQLite backup API or pg_dump), every release "
            "snapshot and the package store, with a manifest of sha256 checksums. Restore with: "
            "manage.py restore FILE")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the archive to write, e.g. backups/speedcam-2026-11-26.tar, or store:NAME "
                                         "for backups/NAME in the file store (STORAGE_URL)")
        parser.add_argument("--without-packages", action="store_true",
                            help="leave the package store out (every package can be rebuilt from the database)")

    def handle(self, *args, path, without_packages, verbosity, **options):
        try:
            manifest = make_backup(Path(path), packages=not without_packages, progress=verbosity >= 1)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        files = manifest["files"]
        size = sum(f["size"] for f in files.values())
        counts = ", ".join(f"{n:,} {name}" for name, n in manifest["counts"].items())
        self.stdout.write(f"Backup written to {path}: {manifest['engine']} database ({counts}), "
                          f"{sum(1 for n in files if n.startswith('releases/'))} release file(s), "
                          f"{sum(1 for n in files if n.startswith('packages/'))} package(s), {size / 1e6:.1f} MB")
