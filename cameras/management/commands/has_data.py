"""Whether the database holds cameras or a release, as an exit status (for scripts).

``./run`` loads the demo data and publishes the first release only on an empty database; it
used to read ``manage.py shell`` output, where Django's startup lines came before "True", so
every restart loaded the demo again and published an empty release. An exit status has no
such ambiguity: 0 present, ABSENT absent, anything else an error (which stops ./run)."""

from django.core.management.base import BaseCommand

from cameras.models import Camera, Release

ABSENT = 10
WHAT = {"cameras": Camera, "release": Release}


class Command(BaseCommand):
    help = f"Exit 0 when the database holds any cameras (or release), {ABSENT} when it holds none."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=sorted(WHAT))

    def handle(self, *args, what, **opts):
        if not WHAT[what].objects.exists():
            raise SystemExit(ABSENT)
