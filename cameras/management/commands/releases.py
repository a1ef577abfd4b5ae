"""List the published releases."""

from django.core.management.base import BaseCommand

from cameras.models import Release


def changes_cell(changelog: dict) -> str:
    if not changelog:
        return ""
    s = changelog.get("summary", {})
    if changelog.get("previous") is None:
        return f"first (+{s.get('added', 0)})"
    parts = [f"+{s.get('added', 0)}", f"-{s.get('removed', 0)}"]
    for key, word in (("moved", "moved"), ("speed_changed", "speed"), ("type_changed", "type")):
        if s.get(key):
            parts.append(f"{s[key]} {word}")
    return " ".join(parts)


class Command(BaseCommand):
    help = "List releases, newest first: number, date, cameras, changes since the previous one."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20, help="show at most this many (0 = all; default 20)")

    def handle(self, *args, **options):
        releases = Release.objects.order_by("-number").only("number", "created_at", "camera_count", "changelog")
        if options["limit"]:
            releases = releases[: options["limit"]]
        rows = [
            (str(r.number), r.created_at.strftime("%Y-%m-%d %H:%M UTC"), str(r.camera_count), changes_cell(r.changelog))
            for r in releases
        ]
        if not rows:
            self.stdout.write("No releases yet. Publish one with: manage.py publish_release")
            return
        header = ("Release", "Date", "Cameras", "Changes")
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
        right = (True, False, True, False)

        def line(cells):
            return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

        self.stdout.write(line(header))
        self.stdout.write(line(["-" * w for w in widths]))
        for row in rows:
            self.stdout.write(line(row))
