"""Restore a backup made by `manage.py backup`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.services.backup import BackupError, check_backup, restore_backup


class Command(BaseCommand):
    help = ("Restore a backup archive made by manage.py backup: checks every file first, then replaces "
            "the database, applies newer migrations and puts back release snapshots and packages.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the archive made by manage.py backup (store:NAME: backups/NAME in the file store)")
        parser.add_argument("--force", action="store_true", help="replace a database that already holds data")
        parser.add_argument("--check", action="store_true", help="only check the archive; change nothing")

    def handle(self, *args, path, force, check, verbosity, **options):
        try:
            if check:
                manifest = check_backup(Path(path), progress=verbosity >= 1)
                counts = ", ".join(f"{n:,} {name}" for name, n in manifest["counts"].items())
                self.stdout.write(f"{path} is complete and intact: {manifest['engine']} database from "
                                  f"{manifest['created_at']} ({counts}), {len(manifest['files'])} file(s)")
                return
            report = restore_backup(Path(path), force=force, progress=verbosity >= 1)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        counts = ", ".join(f"{n:,} {name}" for name, n in report["counts"].items())
        self.stdout.write(f"Restored {path}: {counts}; {report['files_written']} file(s) written, "
                          f"{report['files_same']} already in place; {report['releases_checked']} release(s) "
                          f"checked, {report['releases_rebuilt']} rebuilt from the database")
        if report["problems"]:
            for problem in report["problems"]:
                self.stderr.write(problem)
            raise CommandError(f"{len(report['problems'])} release snapshot(s) could not be restored")
