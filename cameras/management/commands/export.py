from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cameras.exporting import (build_spooled, coverage_cameras, latest_release, release_arrow_memory, release_cameras,
                               release_info)
from cameras.models import Release
from exporters.base import ExportError, ExportOptions
from exporters.devices import get_device


class Command(BaseCommand):
    help = "Build the camera package (a zip) for a device and coverage from a published release."

    def add_arguments(self, parser):
        parser.add_argument("--device", required=True, help="device id (see: python manage.py devices)")
        parser.add_argument("--coverage", default=None,
                            help="comma-separated country codes and regions, e.g. FR,BE or western-europe "
                                 "(default: the device's default coverage)")
        parser.add_argument("--mobile", action="store_true", help="include mobile cameras (where the device can)")
        parser.add_argument("--icons", default="speed", help="icon set: speed or fr-danger")
        parser.add_argument("--fr-danger-zones", action="store_true",
                            help="show cameras in France as danger zones, as French law requires")
        parser.add_argument("--release", type=int, help="release number (default: the latest)")
        parser.add_argument("-o", "--output", required=True, help="the zip file to write")

    def handle(self, *args, **opts):
        try:
            device = get_device(opts["device"])
            options = ExportOptions(mobile=opts["mobile"], icons=opts["icons"],
                                    fr_danger_zones=opts["fr_danger_zones"])
            codes = [c for c in (opts["coverage"] or device.default_coverage).split(",") if c.strip()]
            if not device.coverage_setup and opts["coverage"]:
                self.stderr.write(f"Note: {device.name} takes the default coverage only ({device.default_coverage}): "
                                  f"{device.coverage_note}")
                codes = [device.default_coverage]
            release = Release.objects.get(number=opts["release"]) if opts["release"] else latest_release()
        except (ExportError, ValueError, LookupError) as exc:
            raise CommandError(str(exc)) from None
        except Release.DoesNotExist:
            raise CommandError(f"release {opts['release']} does not exist; see: python manage.py releases") from None

        steps = tqdm(total=4, desc="export", unit="step", disable=opts["verbosity"] < 1)
        steps.set_postfix_str("loading release")
        cameras = release_cameras(release)
        steps.update()
        steps.set_postfix_str("coverage")
        try:
            covered = coverage_cameras(cameras, codes)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
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
