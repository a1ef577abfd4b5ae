"""Command-line arguments shared by the ``export`` and ``coverage`` commands: the device,
its options, the release and the coverage (countries, regions, route corridor, home circle)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from cameras.coverage import Coverage, CoverageError, read_gpx_route
from cameras.exporting import device_coverage, latest_release
from cameras.models import Release
from exporters.base import SPEED_UNITS, ExportError, ExportOptions
from exporters.devices import get_device
from exporters.i18n import LANGUAGES


def add_arguments(parser) -> None:
    parser.add_argument("--device", required=True, help="device id (see: python manage.py devices)")
    parser.add_argument("--coverage", "--countries", dest="countries", default=None,
                        help="comma-separated country codes (and regions), e.g. FR,BE (default: the device's "
                             "default coverage)")
    parser.add_argument("--regions", default=None, help="comma-separated region slugs, e.g. western-europe,dach")
    parser.add_argument("--route", default=None, help="a GPX track or route: add the cameras along it")
    parser.add_argument("--corridor-km", type=float, default=5.0, help="width each side of the route (default 5)")
    parser.add_argument("--home", default=None, help="LAT,LON: add the cameras around this point")
    parser.add_argument("--radius-km", type=float, default=50.0, help="radius around --home (default 50)")
    parser.add_argument("--mobile", action="store_true", help="include mobile cameras (where the device can)")
    parser.add_argument("--icons", default="speed", help="icon set: speed or fr-danger")
    parser.add_argument("--fr-danger-zones", action="store_true",
                        help="show cameras in France as danger zones, as French law requires")
    parser.add_argument("--proximity", default="auto",
                        help="alert distance where the format carries one (Garmin GPI, GPX): 'auto' (default: by "
                             "each camera's speed limit, 300 m up to 50 km/h, 500 m up to 90, 800 m up to 110, "
                             "1000 m above, 500 m when unknown) or a distance in metres for every camera, e.g. 600")
    parser.add_argument("--units", default="auto", choices=SPEED_UNITS,
                        help="speed unit of names, file names, icons and the formats that let the file choose: "
                             "'auto' (default: each camera's country's unit, mph in GB, US...), 'kmh' or 'mph' "
                             "for every camera (iGO and Navitel speeds stay km/h, as their format defines)")
    parser.add_argument("--language", default="en", choices=LANGUAGES,
                        help="language of INSTALL.txt and the manifest's notes (default en); the data files are "
                             "the same in every language")
    parser.add_argument("--release", type=int, help="release number (default: the latest)")


def parse_proximity(value) -> int | None:
    """``--proximity``: 'auto' (None: by the speed limit) or whole metres ('600', '600m')."""
    text = str(value if value is not None else "auto").strip().lower()
    if text == "auto":
        return None
    digits = text[:-1].strip() if text.endswith("m") else text
    if not digits.isdigit():
        raise ExportError(f"--proximity {value!r} is neither 'auto' nor a distance in metres (e.g. 600)")
    return int(digits)


def parse(opts: dict, stderr) -> tuple:
    """(device, options, coverage, release) from the parsed arguments; bad input raises
    CommandError with what is wrong and the valid values."""
    try:
        device = get_device(opts["device"])
        options = ExportOptions(mobile=opts["mobile"], icons=opts["icons"], fr_danger_zones=opts["fr_danger_zones"],
                                proximity_m=parse_proximity(opts.get("proximity", "auto")),
                                speed_unit=opts.get("units") or "auto", language=opts.get("language") or "en")
        codes = [c for part in (opts["countries"], opts["regions"]) if part for c in part.split(",") if c.strip()]
        route = None
        if opts["route"]:
            path = Path(opts["route"])
            if not path.is_file():
                raise CoverageError(f"route file {path} does not exist")
            route = read_gpx_route(path.read_bytes(), path.name)
        home = None
        if opts["home"]:
            try:
                lat, lon = (float(v) for v in opts["home"].split(","))
            except ValueError:
                raise CoverageError(f"--home {opts['home']!r} is not LAT,LON (e.g. 48.85,2.35)") from None
            home = (lat, lon)
        chosen = None
        if codes or route or home:
            chosen = Coverage.parse(codes, route=route, corridor_km=opts["corridor_km"], home=home,
                                    radius_km=opts["radius_km"])
        coverage, note = device_coverage(device, chosen)
        if note:
            stderr.write(f"Note: {note}")
        release = Release.objects.get(number=opts["release"]) if opts["release"] else latest_release()
    except (ExportError, ValueError, LookupError) as exc:
        raise CommandError(str(exc)) from None
    except Release.DoesNotExist:
        raise CommandError(f"release {opts['release']} does not exist; see: python manage.py releases") from None
    return device, options, coverage, release
