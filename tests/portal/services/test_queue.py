"""services.queue: work reaches the broker once the transaction that asked for it commits,
never for a rolled-back one, and a broker that is down is logged, not raised."""

import logging

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from portal import tasks
from portal.services import queue

pytestmark = pytest.mark.django_db

REFUSED = "Error 111 connecting to localhost:6379. Connection refused."


@pytest.fixture
def broker(monkeypatch):
    """What each task sent to the broker: {task name: [args, ...]}."""
    sent = {}
    for task in (tasks.build_order_package, tasks.send_order_email, tasks.deliver_new_release,
                 tasks.rebuild_and_send):
        monkeypatch.setattr(task, "delay", lambda *args, name=task.name: sent.setdefault(name, []).append(args))
    return sent


def test_work_is_queued_when_the_transaction_commits_not_before(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue.build_order_package(7)
        queue.order_email(7, "file")
        queue.new_release(7, 12)
        queue.rebuild_and_send(3)
        assert broker == {}
    assert broker == {
        "portal.tasks.build_order_package": [(7,)],
        "portal.tasks.send_order_email": [(7, "file", "")],
        "portal.subscriptions.deliver_new_release": [(7, 12)],
        "portal.reports.rebuild_and_send": [(3,)],
    }


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_queues_nothing(broker):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            queue.build_order_package(7)
            queue.order_email(7, "file")
            raise RuntimeError("the payment could not be saved")
    assert broker == {}


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_work_is_queued_at_once(broker):
    queue.build_order_package(7)
    assert broker == {"portal.tasks.build_order_package": [(7,)]}


@pytest.mark.django_db(transaction=True)
def test_work_asked_for_in_a_nested_block_waits_for_the_outer_commit(broker):
    with transaction.atomic():
        with transaction.atomic():
            queue.build_order_package(7)
        assert broker == {}
    assert broker == {"portal.tasks.build_order_package": [(7,)]}


def test_a_broker_that_is_down_is_logged_not_raised(monkeypatch, caplog, django_capture_on_commit_callbacks):
    def down(*args):
        raise OperationalError(REFUSED)

    monkeypatch.setattr(tasks.build_order_package, "delay", down)
    with caplog.at_level(logging.ERROR, logger="portal.services.queue"):
        with django_capture_on_commit_callbacks(execute=True):
            queue.build_order_package(7)
    assert [r.getMessage() for r in caplog.records if r.name == "portal.services.queue"] == [
        f"could not queue portal.tasks.build_order_package(7,) (OperationalError: {REFUSED}); "
        "services.recovery will queue it again"]


def test_queueing_now_tells_the_caller_that_the_broker_is_down(monkeypatch):
    def down(*args):
        raise OperationalError(REFUSED)

    monkeypatch.setattr(tasks.build_order_package, "delay", down)
    with pytest.raises(OperationalError):
        queue.build_order_package_now(7)


def test_queueing_now_does_not_wait_for_a_commit(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue.build_order_package_now(7)
    assert callbacks == [] and broker == {"portal.tasks.build_order_package": [(7,)]}
