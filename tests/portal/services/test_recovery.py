"""services.recovery: paid orders whose delivery was lost between two steps are found and
queued again, once per window; recent ones are left to the work in progress."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from portal import tasks
from portal.models import EmailRecord, Order, User
from portal.services import queue, recovery
from portal.services.pricing import BASE_PRICES

from tests.portal.panelkit import paid_order

pytestmark = pytest.mark.django_db

KEY = "ab" * 32


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def builds(monkeypatch):
    """The package builds sent to the broker (order ids), instead of sending them."""
    queued = []
    monkeypatch.setattr(tasks.build_order_package, "delay", lambda order_id: queued.append(order_id))
    return queued


def a_while_ago():
    return timezone.now() - timedelta(seconds=settings.RESUME_ORDERS_AFTER_SECONDS + 60)


def never_fulfilled(**kw) -> Order:
    fields = dict(email="ana@example.com", device_id="tomtom-go-classic", coverage=["FR"], amount=BASE_PRICES["pnd"],
                  status=Order.Status.PAID, paid_at=a_while_ago())
    fields.update(kw)
    return Order.objects.create(**fields)


def resumed(**kw) -> list[tuple[str, str, str, bool]]:
    return [(item.order, item.step, item.reason, item.queued) for item in recovery.resume_orders(**kw)]


def test_a_paid_order_never_fulfilled_is_fulfilled(builds, django_capture_on_commit_callbacks):
    order = never_fulfilled()
    with django_capture_on_commit_callbacks(execute=True):
        assert resumed() == [(str(order.public_id), "fulfil", "paid but not fulfilled", True)]
    order.refresh_from_db()
    assert order.fulfilled_at and order.user == User.objects.get(email="ana@example.com")
    assert sorted(order.emails.values_list("kind", flat=True)) == [EmailRecord.Kind.ACCOUNT, EmailRecord.Kind.FILE,
                                                                  EmailRecord.Kind.RECEIPT]
    assert builds == [order.pk]


def test_a_fulfilled_order_without_a_package_gets_its_build_queued(owner, builds):
    order = paid_order(owner, paid_at=a_while_ago())
    assert resumed() == [(str(order.public_id), "build", "package not built", True)]
    assert builds == [order.pk]


def test_a_built_order_with_an_unsent_email_gets_its_build_queued_to_send_it(owner, builds):
    order = paid_order(owner, paid_at=a_while_ago(), package_key=KEY)
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.FILE, to=owner.email, sent_at=timezone.now())
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.DEVICE_ADDED, to=owner.email)
    assert resumed() == [(str(order.public_id), "build", "emails not sent", True)]
    assert builds == [order.pk]


def test_a_built_order_whose_receipt_was_not_sent_gets_its_build_queued_to_send_it(owner, builds):
    order = paid_order(owner, paid_at=a_while_ago(), package_key=KEY)
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.FILE, to=owner.email, sent_at=timezone.now())
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.RECEIPT, key="INV-2026-000001", to=owner.email)
    assert resumed() == [(str(order.public_id), "build", "emails not sent", True)]
    assert builds == [order.pk]


def test_a_delivered_order_is_left_alone(owner, builds):
    order = paid_order(owner, paid_at=a_while_ago(), package_key=KEY)
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.FILE, to=owner.email, sent_at=timezone.now())
    assert resumed() == [] and builds == []


def test_a_recent_order_is_left_to_the_work_in_progress(owner, owner_order, builds):
    never_fulfilled(paid_at=timezone.now() - timedelta(seconds=settings.RESUME_ORDERS_AFTER_SECONDS - 60))
    assert owner_order.package_key == ""             # paid and fulfilled just now, no package yet
    assert resumed() == [] and builds == []
    assert Order.objects.filter(fulfilled_at__isnull=True).count() == 1


def test_refunded_failed_and_too_old_orders_are_left_alone(owner, builds):
    never_fulfilled(email="refunded@example.com", status=Order.Status.REFUNDED, payment_intent="pi_r")
    paid_order(owner, paid_at=a_while_ago(), package_error="too many cameras for the device")
    paid_order(owner, paid_at=timezone.now() - timedelta(days=settings.RESUME_ORDERS_MAX_AGE_DAYS + 1))
    assert resumed() == [] and builds == []


def test_a_dry_run_lists_the_orders_and_queues_nothing(owner, builds, django_capture_on_commit_callbacks):
    lost = never_fulfilled()
    unbuilt = paid_order(owner, paid_at=a_while_ago() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert resumed(dry_run=True) == [(str(unbuilt.public_id), "build", "package not built", False),
                                         (str(lost.public_id), "fulfil", "paid but not fulfilled", False)]
    assert builds == [] and callbacks == []
    assert Order.objects.get(pk=lost.pk).fulfilled_at is None
    # a dry run does not hold the orders back from the next real run
    assert [queued for *_, queued in resumed()] == [True, True]


def test_a_second_run_within_the_window_does_not_queue_again(owner, builds, settings, local_cache):
    order = paid_order(owner, paid_at=a_while_ago())
    assert resumed()[0][-1] is True
    assert resumed() == [(str(order.public_id), "build", "package not built", False)]
    assert builds == [order.pk]
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.RESUME_ORDERS_AFTER_SECONDS + 1)):
        assert resumed()[0][-1] is True                  # still not built a window later: queued again
    assert builds == [order.pk, order.pk]


def test_with_the_broker_down_the_order_is_reported_not_queued_and_nothing_crashes(owner, monkeypatch, caplog):
    def broker_down(order_id):
        raise ConnectionError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(queue, "build_order_package_now", broker_down)
    first = paid_order(owner, paid_at=a_while_ago() - timedelta(minutes=1))
    second = paid_order(owner, paid_at=a_while_ago())
    with caplog.at_level(logging.ERROR, logger="portal.services.recovery"):
        assert resumed() == [(str(first.public_id), "build", "package not built", False),
                             (str(second.public_id), "build", "package not built", False)]
    assert [r.getMessage() for r in caplog.records if "could not queue the build" in r.getMessage()] == [
        f"resume order {first.public_id}: could not queue the build (Error 111 connecting to localhost:6379. "
        "Connection refused.)",
        f"resume order {second.public_id}: could not queue the build (Error 111 connecting to localhost:6379. "
        "Connection refused.)"]
