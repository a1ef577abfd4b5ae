"""The periodic job: renewal reminders, stale-file reminders, ended subscriptions and
new-release emails. One service function, ``send_reminders``, run by Celery beat
(``portal.celery``: ``run_reminders`` every REMINDERS_EVERY_SECONDS) and by the management
command ``send_reminders`` (for cron). Every email goes out once: it is keyed (see
``services.emails``) and a run skips what was sent, so running it twice sends nothing new.

- RENEWAL_REMINDER: an active (renewing) subscription whose period ends within
  RENEWAL_REMINDER_DAYS; key: the period's end date (once per period).
- STALE_FILE: a paid purchase whose file is from a release published more than
  STALE_FILE_DAYS ago, when a newer release exists; key: the number of the file's release.
- NEW_RELEASE: see ``subscriptions.due_new_release_emails``.
- subscriptions past their end become "ended" first (or take the renewed period from Stripe)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cameras.exporting import latest_release

from portal.services import emails, subscriptions
from portal.services import queue
from portal.models import EmailRecord, Order
from portal.services.entitlement import ACTIVE, running_subscriptions

log = logging.getLogger(__name__)
Kind = EmailRecord.Kind


@dataclass
class Summary:
    ended: int = 0
    renewal_reminders: list[int] = field(default_factory=list)   # order ids
    stale_files: list[int] = field(default_factory=list)
    new_releases: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def renewal_key(order: Order) -> str:
    return order.subscription_end.date().isoformat()


def due_renewal_reminders(now: datetime) -> list[tuple[int, str]]:
    horizon = now + timedelta(days=settings.RENEWAL_REMINDER_DAYS)
    orders = running_subscriptions(now).filter(subscription_status=ACTIVE, subscription_end__lte=horizon)
    sent = emails.sent_keys(Kind.RENEWAL_REMINDER, orders)
    due = [(order.pk, renewal_key(order)) for order in orders]
    return [pair for pair in due if pair not in sent]


def due_stale_files(now: datetime) -> list[tuple[int, str]]:
    latest = latest_release(changelog=False, missing_ok=True)
    if latest is None:
        return []
    cutoff = now - timedelta(days=settings.STALE_FILE_DAYS)
    orders = (Order.objects.filter(status=Order.Status.PAID, release__isnull=False, release__created_at__lte=cutoff,
                                   release__number__lt=latest.number)
              .select_related("release").defer("release__changelog"))
    sent = emails.sent_keys(Kind.STALE_FILE, orders)
    due = [(order.pk, str(order.release.number)) for order in orders]
    return [pair for pair in due if pair not in sent]


def send_reminders(now: datetime | None = None) -> Summary:
    """Everything due now, queued as tasks (run inline when Celery is eager)."""
    now = now or timezone.now()
    summary = Summary()
    summary.ended = subscriptions.end_expired(now)
    with transaction.atomic():
        for order_id, key in due_renewal_reminders(now):
            queue.order_email(order_id, Kind.RENEWAL_REMINDER, key)
            summary.renewal_reminders.append(order_id)
        for order_id, key in due_stale_files(now):
            queue.order_email(order_id, Kind.STALE_FILE, key)
            summary.stale_files.append(order_id)
        for order_id, number in subscriptions.due_new_release_emails(now):
            queue.new_release(order_id, number)
            summary.new_releases.append(order_id)
    log.info("reminders: %s", summary.as_dict())
    return summary

