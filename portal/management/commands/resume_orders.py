"""Queue again the paid orders whose fulfilment, package build or emails were lost (Redis
down or emptied, a crash between two steps, email retries used up). The same service as the
Celery beat entry "resume-orders" (portal.celery), for cron:

    */5 * * * *  cd /srv/portal && .venv/bin/python manage.py resume_orders

Every step is idempotent and each email goes out once, so running it twice (or alongside
beat, or while the work is merely slow) sends nothing twice. See portal/recovery.py."""

import json

from django.core.management.base import BaseCommand

from portal.services.recovery import resume_orders


class Command(BaseCommand):
    help = "Queue again paid orders whose fulfilment, build or emails did not happen (each email still once)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, default=None, metavar="SECONDS",
                            help="only orders stuck for at least this long (default RESUME_ORDERS_AFTER_SECONDS)")
        parser.add_argument("--max-age-days", type=int, default=None, metavar="DAYS",
                            help="only orders paid within this many days (default RESUME_ORDERS_MAX_AGE_DAYS)")
        parser.add_argument("--dry-run", action="store_true", help="list the orders, queue nothing")
        parser.add_argument("--json", action="store_true", help="print the orders as JSON")

    def handle(self, *args, **options):
        resumed = resume_orders(older_than=options["older_than"], max_age_days=options["max_age_days"],
                                dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps([item.as_dict() for item in resumed]))
            return
        for item in resumed:
            state = "queued" if item.queued else ("dry run" if options["dry_run"] else "not queued")
            self.stdout.write(f"{item.order} {item.email}: {item.reason} -> {item.step} ({state})")
        self.stdout.write(f"{sum(i.queued for i in resumed)} of {len(resumed)} stuck order(s) queued")
