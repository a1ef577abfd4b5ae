import json

from django.core.management.base import BaseCommand

from exporters.devices import DEVICES


class Command(BaseCommand):
    help = "List the device catalog: format and capabilities of every supported device."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **opts):
        rows = [d.as_dict() for d in DEVICES]
        if opts["json"]:
            self.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        header = ("ID", "DEVICE", "FORMAT", "MOBILE", "DIRECTION", "SPEED AS", "ICONS", "LIMIT", "COVERAGE")
        table = [header]
        for d in rows:
            icons = f"{d['icons']['width']}x{d['icons']['height']}/{d['icons']['bits']}bit" if d["icons"] else "-"
            limit = f"{d['max_pois']['value']:,} POIs" + ("*" if d["max_pois"]["assumed"] else "") if d["max_pois"] else "-"
            table.append((d["id"], d["name"], d["format"], "yes" if d["mobile"] else "no",
                          "yes" if d["direction_aware"] else "no", d["speed_carried_as"], icons, limit,
                          "choose" if d["coverage_setup"] else "fixed"))
        widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
        for row in table:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
        self.stdout.write("* assumed limit (no documented figure); see --json for each limit's source")
