"""Celery tasks: they take ids, load, call a service function, and retry.

``build_order_package`` builds the order's package (or finds it in the store), records it on
the order, then queues each unsent email. ``send_order_email`` retries temporary failures
(SMTP down, connection refused) with exponential backoff; ``emails.send`` makes a second
run a no-op. With ``acks_late`` and ``reject_on_worker_lost`` a task whose worker dies
mid-way runs again on another worker."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.db import transaction

from exporters.base import ExportError

from . import emails, packages
from .models import EmailRecord, Order

log = logging.getLogger(__name__)

TEMPORARY = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=20)
def build_order_package(self, order_id: int) -> str:
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
            send_order_email.delay_on_commit(order_id, kind, key)
    return stored.key


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=12)
def send_order_email(self, order_id: int, kind: str, key: str = "") -> bool:
    try:
        return emails.send(order_id, kind, key)
    except TEMPORARY as exc:
        EmailRecord.objects.filter(order_id=order_id, kind=kind, key=key).update(last_error=str(exc)[:500])
        delay = min(600, 5 * 2 ** self.request.retries)
        log.warning("order %s: %s email failed (%s); retry in %s s", order_id, kind, exc, delay)
        raise self.retry(exc=exc, countdown=delay)
