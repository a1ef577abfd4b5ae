"""Every Celery task: each takes ids, loads, calls a service function, and retries.

The task names are the ones the tasks had before they were gathered here (``name=``), so
tasks already queued when a new version is deployed still find their code. Only
``services.queue`` queues them; the periodic ones are in ``settings.CELERY_BEAT_SCHEDULE``.

With ``acks_late`` and ``reject_on_worker_lost`` a task whose worker dies mid-way runs again
on another worker; every service called here is idempotent (row locks, email records), so
running twice is safe. Tasks retry, with a short backoff, when the database connection fails
under them (PostgreSQL restarted, a backend terminated, SQLite locked for too long). The tasks
that send an email retry a mail server or network error (TEMPORARY) with one policy,
``_email_retry``; any other error (a package file that cannot be read) fails the task."""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import time

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction

from cameras.models import Release
from exporters.base import ExportError
from portal.models import EmailRecord, ErrorReport, Order
from portal.services import (contact, emails, fanout, packages, pricelist, queue, recovery, reminders,
                             reports, subscriptions)

log = logging.getLogger(__name__)

# Errors worth sending an email again for: the mail server or the network (socket.gaierror:
# a DNS failure). Not any OSError: a package file that is missing or unreadable
# (FileNotFoundError, PermissionError) does not come back by waiting, and a retry loop would
# only hide it.
TEMPORARY = (smtplib.SMTPException, ConnectionError, TimeoutError, socket.gaierror, socket.herror)
DATABASE_DOWN = (OperationalError, InterfaceError)
EMAIL_RETRY_MAX_SECONDS = 600


def _database_retry(task, exc):
    """Retry a task whose database connection failed (a few seconds, then up to a minute)."""
    delay = min(60, 2 ** task.request.retries)
    log.warning("%s%r: database error (%s); retry in %s s", task.name, task.request.args, exc, delay)
    return task.retry(exc=exc, countdown=delay)


def _email_retry(task, exc, order_id: int, kind: str, key: str = ""):
    """Retry a task whose email could not be sent: EMAIL_RETRY_SECONDS, doubling, at most
    EMAIL_RETRY_MAX_SECONDS; the error is kept on the email's record when there is one."""
    try:
        EmailRecord.objects.filter(order_id=order_id, kind=kind, key=str(key)).update(last_error=str(exc)[:500])
    except DATABASE_DOWN:
        pass
    delay = min(EMAIL_RETRY_MAX_SECONDS, settings.EMAIL_RETRY_SECONDS * 2 ** task.request.retries)
    log.warning("order %s: %s email %r failed (%s); retry in %s s", order_id, kind, key, exc, delay)
    return task.retry(exc=exc, countdown=delay)


# ---------------------------------------------------------------------------------------
# Orders: the package, then the emails

# ignore_result: nobody waits for these results, and with Redis down a task whose result is
# wanted makes the caller wait ~20 s (the result backend's reconnection) before failing.
@shared_task(name="portal.tasks.build_order_package", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=20, ignore_result=True)
def build_order_package(self, order_id: int) -> str:
    try:
        return _build_order_package(self, order_id)
    except DATABASE_DOWN as exc:
        raise _database_retry(self, exc)


def _build_order_package(self, order_id: int) -> str:
    order = Order.objects.get(pk=order_id)
    if not order.is_paid:
        return "not paid"
    try:
        stored = packages.package_for_order(order)
    except ExportError as exc:  # the combination cannot be built: say so, do not retry
        Order.objects.filter(pk=order_id).update(package_error=str(exc))
        log.error("order %s: package failed: %s", order_id, exc)
        # the payment's receipt does not wait for a file that staff must sort out
        with transaction.atomic():
            for key in EmailRecord.objects.filter(order_id=order_id, kind=EmailRecord.Kind.RECEIPT,
                                                  sent_at__isnull=True).values_list("key", flat=True):
                queue.order_email(order_id, EmailRecord.Kind.RECEIPT, key)
        return "failed"
    except LookupError as exc:  # no release yet: wait for one
        raise self.retry(exc=exc, countdown=60)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        order.package_key, order.release, order.package_bytes = stored.key, stored.release, stored.size
        order.package_error = ""
        order.save(update_fields=["package_key", "release", "package_bytes", "package_error"])
        for kind, key in EmailRecord.objects.filter(order=order, sent_at__isnull=True).values_list("kind", "key"):
            queue.order_email(order_id, kind, key)
    return stored.key


@shared_task(name="portal.tasks.send_order_email", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=12, ignore_result=True)
def send_order_email(self, order_id: int, kind: str, key: str = "") -> bool:
    """Every order email (``emails.send``), sent once."""
    return _send_email(self, order_id, kind, key)


# The keyed emails' task before there was one sender: messages queued under this name before
# a deploy still run.
@shared_task(name="portal.notices.send_keyed_email", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=12, ignore_result=True)
def send_keyed_email(self, order_id: int, kind: str, key: str) -> bool:
    return _send_email(self, order_id, kind, key)


def _send_email(task, order_id: int, kind: str, key: str) -> bool:
    try:
        return emails.send(order_id, kind, key)
    except DATABASE_DOWN as exc:
        raise _database_retry(task, exc)
    except TEMPORARY as exc:
        raise _email_retry(task, exc, order_id, kind, key)


@shared_task(name="portal.contact.send_contact_email", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=12, ignore_result=True)
def send_contact_email(self, message_id: int, kind: str) -> bool:
    """A contact message's confirmation or answer (``contact.send``), sent once."""
    try:
        return contact.send(message_id, kind)
    except DATABASE_DOWN as exc:
        raise _database_retry(self, exc)
    except TEMPORARY as exc:
        delay = min(EMAIL_RETRY_MAX_SECONDS, settings.EMAIL_RETRY_SECONDS * 2 ** self.request.retries)
        log.warning("contact message %s: %s email failed (%s); retry in %s s", message_id, kind, exc, delay)
        raise self.retry(exc=exc, countdown=delay)


# ---------------------------------------------------------------------------------------
# Subscriptions, error reports, reminders

@shared_task(name="portal.subscriptions.deliver_new_release", bind=True, acks_late=True,
             reject_on_worker_lost=True, max_retries=12)
def deliver_new_release(self, order_id: int, number: int) -> bool:
    """Build the subscriber's file from the new release, then email it (once per release)."""
    try:
        return subscriptions.deliver_new_release(order_id, number)
    except DATABASE_DOWN as exc:
        raise _database_retry(self, exc)
    except TEMPORARY as exc:
        raise _email_retry(self, exc, order_id, EmailRecord.Kind.NEW_RELEASE, number)


@shared_task(name="portal.reports.rebuild_and_send", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=12)
def rebuild_and_send(self, report_id: int) -> bool:
    """Rebuild the package of a reported purchase, then email it (once per report)."""
    try:
        return reports.rebuild_and_send(report_id)
    except DATABASE_DOWN as exc:
        raise _database_retry(self, exc)
    except TEMPORARY as exc:
        order_id = ErrorReport.objects.filter(pk=report_id).values_list("order_id", flat=True).first()
        raise _email_retry(self, exc, order_id, EmailRecord.Kind.REPACKAGED, report_id)


@shared_task(name="portal.reminders.run_reminders", acks_late=True)
def run_reminders() -> dict:
    return reminders.send_reminders().as_dict()


@shared_task(name="portal.recovery.resume_orders_task")
def resume_orders_task() -> int:
    return sum(item.queued for item in recovery.resume_orders())


# ---------------------------------------------------------------------------------------
# Release fan-out

# acks_late: a worker that stops mid-build hands the combination back. Not
# reject_on_worker_lost: a combination that kills its worker must not come back for ever,
# and a missing package is only built later, by the order that needs it.
@shared_task(name="portal.fanout.build_combination", acks_late=True)
def build_combination(device_id: str, coverage: list[str], options: dict, release_number: int) -> dict:
    return fanout.build_combination(device_id, coverage, options, release_number)


@shared_task(name="portal.fanout.after_fanout", acks_late=True)
def after_fanout(results, release_number: int) -> dict:
    return fanout.after_fanout(results, release_number)


@shared_task(name="portal.tasks.compute_price_list_sizes", acks_late=True)
def compute_price_list_sizes(release_number: int) -> int:
    """The price list's file sizes for a release (a minute of size models on a world release)."""
    return len(pricelist.sizes(Release.objects.get(number=release_number)))


# ---------------------------------------------------------------------------------------
# Health

@shared_task(name="portal.health.ping")
def ping(echo=None, sleep=0.0):
    """Answer with the worker's pid and the database it is connected to.

    Reading ``django_migrations`` proves the worker opened a migrated database (in tests: the
    very test database, which the caller compares by name). ``sleep`` (seconds, at most 60)
    keeps the worker busy, for tests that kill it in the middle of a task.
    """
    time.sleep(min(float(sleep), 60.0))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations")
        (migrations,) = cursor.fetchone()
    return {
        "pong": echo,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "db_vendor": connection.vendor,
        "db_name": str(connection.settings_dict["NAME"]),
        "migrations": migrations,
    }
