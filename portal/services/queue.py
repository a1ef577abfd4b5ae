"""Queueing work for the Celery worker: the one module that imports ``portal.tasks``.

Services never call a task themselves; they ask for the work here, by what it is. Work is
queued once the current transaction commits (at once outside one), so a worker never reads a
row the caller has not committed. A broker that cannot be reached is logged, not raised: the
caller's transaction is committed already (an order is paid), the customer must not see an
error page for it, and ``services.recovery`` (beat, or ``manage.py resume_orders``) queues
again the orders whose build or emails never ran."""

from __future__ import annotations

import functools
import logging

from celery import chord, group
from django.db import transaction

log = logging.getLogger(__name__)


def _tasks():
    # Imported on use, to break a genuine loop: portal.tasks calls the services, and the
    # services queue work through this module.
    from portal import tasks

    return tasks


def on_commit(task, *args) -> None:
    """``task.delay(*args)`` once the transaction commits; a broker outage is logged."""
    transaction.on_commit(functools.partial(_publish, task, *args))


def _publish(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception as exc:  # noqa: BLE001 -- kombu/redis raise many kinds; never fail the caller
        log.error("could not queue %s%r (%s: %s); services.recovery will queue it again",
                  task.name, args, type(exc).__name__, exc)


def build_order_package(order_id: int) -> None:
    """Build (or find) the order's package, then send its unsent emails."""
    on_commit(_tasks().build_order_package, order_id)


def build_order_package_now(order_id: int) -> None:
    """The same, queued at once; a broker error is raised to the caller (the recovery job)."""
    _tasks().build_order_package.delay(order_id)


def order_email(order_id: int, kind: str, key="") -> None:
    """Send the order's ``kind`` email (for ``key``: a release, a report, a date), once."""
    on_commit(_tasks().send_order_email, order_id, kind, str(key))


def contact_email(message_id: int, kind: str) -> None:
    """Send a contact message's confirmation or answer (``services.contact``), once."""
    on_commit(_tasks().send_contact_email, message_id, kind)


def new_release(order_id: int, number: int) -> None:
    """Build the subscriber's file from release ``number`` and email it."""
    on_commit(_tasks().deliver_new_release, order_id, number)


def rebuild_and_send(report_id: int) -> None:
    """Rebuild the package of a reported purchase and email it."""
    on_commit(_tasks().rebuild_and_send, report_id)


def price_list_sizes(release_number: int) -> None:
    """Size every device over every coverage of the release, for the price list."""
    on_commit(_tasks().compute_price_list_sizes, release_number)


def fanout(release_number: int, combinations: list[tuple[str, list[str], dict]], priority: int):
    """Build each (device, coverage, options) of the release, then queue the new-release
    emails; returns the chord's result."""
    tasks = _tasks()
    builds = [tasks.build_combination.si(device_id, coverage, options, release_number).set(priority=priority)
              for device_id, coverage, options in combinations]
    return chord(group(builds))(tasks.after_fanout.s(release_number))
