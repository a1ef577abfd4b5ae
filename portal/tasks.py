"""Celery tasks: they take ids, load, call a service function, and retry.

``build_order_package`` builds the order's package (or finds it in the store), records it on
the order, then queues each unsent email. ``send_order_email`` retries temporary failures
(SMTP down, connection refused) with exponential backoff; ``emails.send`` makes a second
run a no-op. With ``acks_late`` and ``reject_on_worker_lost`` a task whose worker dies
mid-way runs again on another worker.

Both also retry, with a short backoff, when the database connection fails under them
(PostgreSQL restarted or the backend terminated, SQLite locked for too long): the work is
idempotent, so running again is safe. ``publish_on_commit`` queues a task once the current
transaction commits and never lets a broker outage (Redis down) fail the caller: the error is
logged and ``portal.recovery`` (beat, or ``manage.py resume_orders``) re-queues the order."""

from __future__ import annotations

import functools
import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

from exporters.base import ExportError

from . import emails, packages
from .models import EmailRecord, Order

log = logging.getLogger(__name__)

TEMPORARY = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)
DATABASE_DOWN = (OperationalError, InterfaceError)


def publish_on_commit(task, *args) -> None:
    """``task.delay(*args)`` once the transaction commits (at once outside one). A broker that
    cannot be reached is logged, not raised: the transaction is committed already (the order
    is paid), the customer must not get an error page for it, and the recovery job finds the
    order whose build or email never ran (``portal.recovery``)."""
    transaction.on_commit(functools.partial(_publish, task, *args))


def _publish(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception as exc:  # noqa: BLE001 -- kombu/redis raise many kinds; never fail the caller
        log.error("could not queue %s%r (%s: %s); portal.recovery will queue it again",
                  task.name, args, type(exc).__name__, exc)


def _database_retry(task, exc):
    """Retry a task whose database connection failed (a few seconds, then up to a minute)."""
    delay = min(60, 2 ** task.request.retries)
    log.warning("%s%r: database error (%s); retry in %s s", task.name, task.request.args, exc, delay)
    return task.retry(exc=exc, countdown=delay)


# ignore_result: nobody waits for these results, and with Redis down a task whose result is
# wanted makes the caller wait ~20 s (the result backend's reconnection) before failing.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=20, ignore_result=True)
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
        return "failed"
    except LookupError as exc:  # no release yet: wait for one
        raise self.retry(exc=exc, countdown=60)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        order.package_key, order.release, order.package_bytes = stored.key, stored.release, stored.size
        order.package_error = ""
        order.save(update_fields=["package_key", "release", "package_bytes", "package_error"])
        for kind, key in EmailRecord.objects.filter(order=order, sent_at__isnull=True).values_list("kind", "key"):
            publish_on_commit(send_order_email, order_id, kind, key)
    return stored.key


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=12, ignore_result=True)
def send_order_email(self, order_id: int, kind: str, key: str = "") -> bool:
    try:
        return emails.send(order_id, kind, key)
    except DATABASE_DOWN as exc:
        raise _database_retry(self, exc)
    except TEMPORARY as exc:
        try:
            EmailRecord.objects.filter(order_id=order_id, kind=kind, key=key).update(last_error=str(exc)[:500])
        except DATABASE_DOWN:
            pass
        delay = min(600, settings.EMAIL_RETRY_SECONDS * 2 ** self.request.retries)
        log.warning("order %s: %s email failed (%s); retry in %s s", order_id, kind, exc, delay)
        raise self.retry(exc=exc, countdown=delay)
