"""Resume paid orders whose delivery was lost between two steps.

Every step from the payment to the last email is idempotent (the order row lock and
``fulfilled_at``, the content-addressed package store, ``EmailRecord.sent_at``), but each
step only starts when the previous one queued it. A step is lost when

- the process died between the payment (committed) and the fulfilment: paid, not fulfilled,
  and Stripe's replays of the webhook find the order paid;
- Redis was down when the build or an email was queued after the commit
  (``tasks.publish_on_commit`` logs it and lets the customer's request succeed);
- Redis lost its data (restarted without persistence): queued tasks and the retries waiting
  for their countdown are gone;
- an email's retries were used up (SMTP down for hours).

``resume_orders`` finds those orders -- paid, not refunded, paid within
``RESUME_ORDERS_MAX_AGE_DAYS``, with the fulfilment, the package, one of the delivery emails
or a receipt missing for at least ``RESUME_ORDERS_AFTER_SECONDS`` -- and runs the step again: the
fulfilment, or ``build_order_package`` (which takes the package from the store and queues
each unsent email). An order whose package cannot be built (``package_error``) is left to
staff. Running it while the work is merely slow (a busy worker, an SMTP retry pending) is
harmless: a build found in the store costs a ``stat`` and each email goes out once. Each
order is queued at most once per ``RESUME_ORDERS_AFTER_SECONDS`` (a cache marker).

Celery beat runs it every ``RESUME_ORDERS_EVERY_SECONDS`` (``portal.recovery.resume_orders_task``);
``manage.py resume_orders`` does the same from cron or by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from portal.services import fulfilment
from portal.services import queue
from portal.models import EmailRecord, Order

log = logging.getLogger(__name__)

DELIVERY_EMAILS = (EmailRecord.Kind.FILE, EmailRecord.Kind.ACCOUNT, EmailRecord.Kind.DEVICE_ADDED)


@dataclass
class Resumed:
    order: str          # public id
    email: str
    step: str           # "fulfil" or "build" (the build queues the unsent emails)
    reason: str
    queued: bool = True  # False: --dry-run, throttled, or the broker refused

    def as_dict(self) -> dict:
        return {"order": self.order, "email": self.email, "step": self.step, "reason": self.reason,
                "queued": self.queued}


def stuck_orders(older_than: float | None = None, max_age_days: int | None = None):
    """Paid orders whose delivery has not finished ``older_than`` seconds after its last step."""
    older_than = settings.RESUME_ORDERS_AFTER_SECONDS if older_than is None else older_than
    max_age_days = settings.RESUME_ORDERS_MAX_AGE_DAYS if max_age_days is None else max_age_days
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than)
    # the delivery emails, and the receipts (the build's sweep sends every unsent record)
    unsent = EmailRecord.objects.filter(Q(kind__in=DELIVERY_EMAILS, key="") | Q(kind=EmailRecord.Kind.RECEIPT),
                                        order=OuterRef("pk"), sent_at__isnull=True)
    return (Order.objects.filter(status=Order.Status.PAID, paid_at__gte=now - timedelta(days=max_age_days),
                                 package_error="")
            .annotate(unsent=Exists(unsent))
            .filter(Q(fulfilled_at__isnull=True, paid_at__lte=cutoff)
                    | (Q(fulfilled_at__lte=cutoff) & (Q(package_key="") | Q(unsent=True))))
            .order_by("paid_at"))


def _claim(order: Order, seconds: float) -> bool:
    """Once per ``seconds`` per order (a cache marker; without a working cache: always)."""
    if seconds <= 0:
        return True
    return bool(cache.add(f"recovery:order:{order.pk}", 1, int(seconds) or 1))


def resume_orders(older_than: float | None = None, max_age_days: int | None = None,
                  dry_run: bool = False) -> list[Resumed]:
    older_than = settings.RESUME_ORDERS_AFTER_SECONDS if older_than is None else older_than
    done = []
    for order in stuck_orders(older_than, max_age_days):
        if order.fulfilled_at is None:
            item = Resumed(str(order.public_id), order.email, "fulfil", "paid but not fulfilled")
        else:
            item = Resumed(str(order.public_id), order.email, "build",
                           "package not built" if not order.package_key else "emails not sent")
        if dry_run or not _claim(order, older_than):
            item.queued = False
        elif item.step == "fulfil":
            fulfilment.fulfil(order.pk)  # creates the account and email records, queues the build
        else:
            try:
                queue.build_order_package_now(order.pk)
            except Exception as exc:  # noqa: BLE001 -- the broker is still down: next run
                item.queued = False
                log.error("resume order %s: could not queue the build (%s)", order.public_id, exc)
        if item.queued:
            log.warning("resumed order %s (%s): %s", order.public_id, item.reason, item.step)
        done.append(item)
    return done

