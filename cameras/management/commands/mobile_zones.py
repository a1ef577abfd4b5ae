from django.conf import settings
from django.core.management.base import BaseCommand

from cameras.mobile import aggregate_mobile_zones


class Command(BaseCommand):
    help = "Aggregate mobile-check reports into ranked mobile zones (published above a report threshold)."

    def add_arguments(self, parser):
        parser.add_argument("--min-reports", type=int, default=settings.MOBILE_ZONE_MIN_REPORTS)
        parser.add_argument("--window-days", type=int, default=settings.MOBILE_ZONE_WINDOW_DAYS)
        parser.add_argument("--radius-m", type=float, default=settings.MOBILE_ZONE_RADIUS_M)

    def handle(self, *args, **opts):
        result = aggregate_mobile_zones(window_days=opts["window_days"], min_reports=opts["min_reports"],
                                        radius_m=opts["radius_m"])
        self.stdout.write(
            f"{result.places} places reported in the last {opts['window_days']} days; {result.published} published "
            f"as mobile zones (>= {opts['min_reports']} reports): {result.created} new, {result.updated} updated, "
            f"{result.retired} retired.")
        if result.top:
            self.stdout.write("Most reported zones:")
            for cid, count, country, lat, lon in result.top[:10]:
                self.stdout.write(f"  #{cid} {country} {lat:.5f},{lon:.5f}: {count} reports")
