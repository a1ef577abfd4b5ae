from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cameras.exporting import build_spooled, covered_cameras, release_arrow_memory, release_cameras, release_info
from cameras.management import coverage_args
from exporters.base import ExportError


class Command(BaseCommand):
    help = "Build the camera package (a zip) for a device and coverage from a published release."

    def add_arguments(self, parser):
        coverage_args.add_arguments(parser)
        parser.add_argument("-o", "--output", required=True, help="the zip file to write")

    def handle(self, *args, **opts):
        device, options, coverage, release = coverage_args.parse(opts, self.stderr)
        codes = coverage.labels()

        steps = tqdm(total=4, desc="export", unit="step", disable=opts["verbosity"] < 1)
        steps.set_postfix_str("loading release")
        cameras = release_cameras(release)
        steps.update()
        steps.set_postfix_str("coverage")
        covered = covered_cameras(cameras, coverage)
        if covered is not cameras:
            del cameras  # the whole release is not needed any more: free it before rendering
            release_arrow_memory()
        steps.update()
        steps.set_postfix_str(f"rendering {device.format}")
        out = Path(opts["output"])
        if not out.resolve().parent.is_dir():
            raise CommandError(f"the directory of {out} does not exist")
        try:
            # Large files are spooled to a temporary directory next to the output (removed
            # afterwards) and streamed into the zip, so big exports stay within memory.
            package = build_spooled(covered, device, options, release=release_info(release), coverage=codes,
                                    spool_parent=out.resolve().parent)
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        steps.update()
        steps.set_postfix_str("writing")
        tmp = out.with_name(out.name + ".part")
        tmp.write_bytes(package.data)
        tmp.replace(out)
        steps.update()
        steps.close()
        m = package.manifest
        self.stdout.write(f"{out}: {len(package.data):,} bytes, {m['counts']['total']:,} cameras for {device.name} "
                          f"(release {release.number}, coverage {', '.join(codes)})")
        for f in m["files"]:
            if f["count"]:
                self.stdout.write(f"  {f['name']}: {f['count']:,} cameras, {f['bytes']:,} bytes")
        for note in m["notes"]:
            self.stdout.write(f"  note: {note}")
        for warning in m["warnings"]:
            self.stderr.write(f"WARNING: {warning}")
