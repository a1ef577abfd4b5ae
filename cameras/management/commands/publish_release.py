"""Publish the next numbered release of the active cameras."""

import json

from django.core.management.base import BaseCommand, CommandError

from cameras.releases import ReleaseError, changelog_text, publish_release


def release_summary(release) -> dict:
    """What the command reports (JSON-friendly). The changelog's id lists are left out."""
    log = release.changelog
    return {
        "number": release.number,
        "created_at": release.created_at.isoformat(),
        "camera_count": release.camera_count,
        "snapshot": release.snapshot,
        "sha256": release.sha256,
        "counts": release.counts,
        "changelog": {
            "previous": log.get("previous"),
            "summary": log.get("summary", {}),
            "by_country": log.get("by_country", {}),
            "truncated": log.get("truncated", []),
        },
        "text": changelog_text(release),
    }


class Command(BaseCommand):
    help = "Freeze all active cameras into the next numbered release (snapshot file + changelog)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--allow-empty", action="store_true", help="publish even when there are no active cameras")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        try:
            release = publish_release(progress=not options["no_progress"], allow_empty=options["allow_empty"])
        except ReleaseError as exc:
            raise CommandError(str(exc)) from exc

        summary = release_summary(release)
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
            return

        self.stdout.write(self.style.SUCCESS(
            f"Release {release.number} published: {release.camera_count} cameras "
            f"in {release.country_count} countries"
        ))
        self.stdout.write(f"  snapshot {release.snapshot}  sha256 {release.sha256}")
        top = release.counts_by_country_sorted[:10]
        if top:
            self.stdout.write("  top countries: " + ", ".join(f"{cc} {n}" for cc, n in top))
        kinds = release.counts.get("kind", {})
        self.stdout.write(f"  fixed {kinds.get('fixed', 0)}, mobile {kinds.get('mobile', 0)}")
        self.stdout.write("  " + changelog_text(release))
        timings = getattr(release, "timings", None)
        if timings and options["verbosity"] > 1:
            self.stdout.write("  timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
