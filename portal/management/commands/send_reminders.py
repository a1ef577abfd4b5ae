"""Send what is due: renewal and stale-file reminders, new-release emails; end subscriptions
past their period. The same service as the Celery beat entry (portal.celery), for cron:

    */30 * * * *  cd /srv/portal && .venv/bin/python manage.py send_reminders

Every email goes out once, so running it twice (or alongside beat) sends nothing twice."""

import json

from django.core.management.base import BaseCommand

from portal.services.reminders import send_reminders


class Command(BaseCommand):
    help = "Send due renewal, stale-file and new-release emails (each once); end expired subscriptions."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, **options):
        summary = send_reminders()
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict()))
            return
        self.stdout.write(f"subscriptions ended: {summary.ended}\n"
                          f"renewal reminders: {len(summary.renewal_reminders)}\n"
                          f"stale-file reminders: {len(summary.stale_files)}\n"
                          f"new-release emails: {len(summary.new_releases)}")
