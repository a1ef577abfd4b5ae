"""Until when an order gets new releases: the one rule, in Python and as a query.

- A refunded order (status REFUNDED, or ``refunded_at`` set) and an unpaid one (pending,
  failed) never get new releases.
- An annual subscription (``plan == "annual"`` with a ``subscription_end``; an upgraded
  purchase is one) gets them until ``subscription_end``, while its status is one of RUNNING
  ("active", or "canceled": the paid period runs to its end). Once "ended", none. The
  purchase's own UPDATE_MONTHS period no longer applies: the upgrade credited the one-time
  payment against the subscription.
- Any other paid order (a one-time purchase) gets them until ``add_months(start,
  UPDATE_MONTHS)``, ``start`` being ``paid_at`` (``created_at`` when unset), months counted
  in UTC; "until" is exclusive: at that very instant updates have ended.

``updates_until`` / ``entitled`` / ``subscription_running`` / ``updates`` (the panel's
summary) are the rule for one order; ``entitled_orders`` and ``running_subscriptions`` are
the same rule as querysets, for the jobs that scan every order (the fan-out, reminders).

The query is exact, not an approximation: ``add_months`` clamps the day (31 January plus a
month is 28 February), so the purchases still entitled at ``now`` are not those after a
single instant -- with ``now`` on 28 February 12:00, one paid on 29, 30 or 31 January at
13:00 is entitled and one paid on 29 January at 11:00 is not. ``_one_time_q`` therefore
lists, day by day, the start month whose target month is ``now``'s month: whole days whose
clamped target day is after ``now``'s day, and the part after ``now``'s time of day of the
days that land on ``now``'s day (at most four of them).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.models import Order

ACTIVE, CANCELED, ENDED = "active", "canceled", "ended"
RUNNING = (ACTIVE, CANCELED)  # paid for: updates flow until subscription_end

UTC = dt_timezone.utc


def add_months(when: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it is shorter); ``months``
    may be negative."""
    month0 = when.month - 1 + months
    year, month = when.year + month0 // 12, month0 % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


# --------------------------------------------------------------------------- one order


def _paid(order: Order) -> bool:
    return order.status == Order.Status.PAID and order.refunded_at is None


def _is_subscription(order: Order) -> bool:
    return order.plan == "annual" and order.subscription_end is not None


def one_time_until(order: Order) -> datetime | None:
    """The end of the UPDATE_MONTHS a one-time purchase includes (whatever its plan now)."""
    start = order.paid_at or order.created_at
    return add_months(start.astimezone(UTC), settings.UPDATE_MONTHS) if start else None


def updates_until(order: Order) -> datetime | None:
    """When new releases stop (or stopped): ``subscription_end`` for an annual subscription,
    else UPDATE_MONTHS after the purchase. Whether they flow now: ``entitled``."""
    return order.subscription_end if _is_subscription(order) else one_time_until(order)


def subscription_running(order: Order, now: datetime | None = None) -> bool:
    """A paid annual subscription whose paid period is not over (active or canceled)."""
    now = now or timezone.now()
    return (_paid(order) and _is_subscription(order) and order.subscription_status in RUNNING
            and now < order.subscription_end)


def entitled(order: Order, now: datetime | None = None) -> bool:
    """The order gets new releases at ``now``."""
    now = now or timezone.now()
    if _is_subscription(order):
        return subscription_running(order, now)
    until = one_time_until(order)
    return _paid(order) and until is not None and now < until


@dataclass
class Updates:
    """What the panel says about an order's updates."""

    plan: str                          # "one-time" or "annual"
    active: bool                       # new releases are included now
    until: datetime | None             # when updates end (ended)
    one_time_until: datetime | None    # paid_at + UPDATE_MONTHS
    subscription_end: datetime | None  # the annual subscription's paid period
    months: int


def updates(order: Order, now: datetime | None = None) -> Updates:
    return Updates(order.plan, entitled(order, now), updates_until(order), one_time_until(order),
                   order.subscription_end if order.plan == "annual" else None, settings.UPDATE_MONTHS)


# --------------------------------------------------------------------------- every order


def _paid_q() -> Q:
    return Q(status=Order.Status.PAID, refunded_at__isnull=True)


def _subscription_q() -> Q:
    return Q(plan="annual", subscription_end__isnull=False)


def _running_q(now: datetime) -> Q:
    return _subscription_q() & Q(subscription_status__in=RUNNING, subscription_end__gt=now)


def _one_time_q(now: datetime, months: int) -> Q:
    """``add_months(update_start, months) > now`` as a condition on ``update_start`` (UTC)."""
    now = now.astimezone(UTC)
    month0 = now.month - 1 - months
    year, month = now.year + month0 // 12, month0 % 12 + 1            # the start month landing on now's month
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    q = Q(update_start__gte=datetime(next_year, next_month, 1, tzinfo=UTC))  # lands after now's month
    last_day = calendar.monthrange(now.year, now.month)[1]
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        start = datetime(year, month, day, tzinfo=UTC)
        target = min(day, last_day)                                   # add_months clamps the day
        if target > now.day:                                          # this day and every later one
            q |= Q(update_start__gte=start)
            break
        if target == now.day:                                         # after now's time of day
            q |= Q(update_start__gt=start.replace(hour=now.hour, minute=now.minute, second=now.second,
                                                  microsecond=now.microsecond),
                   update_start__lt=start + timedelta(days=1))
    return q


def entitled_orders(now: datetime | None = None):
    """The orders ``entitled`` at ``now``, exactly, annotated with ``update_start``
    (``paid_at``, else ``created_at``)."""
    now = now or timezone.now()
    return (Order.objects.annotate(update_start=Coalesce("paid_at", "created_at"))
            .filter(_paid_q())
            .filter(_running_q(now) | (~_subscription_q() & _one_time_q(now, settings.UPDATE_MONTHS))))


def running_subscriptions(now: datetime | None = None):
    """The orders ``subscription_running`` at ``now``."""
    return Order.objects.filter(_paid_q() & _running_q(now or timezone.now()))
