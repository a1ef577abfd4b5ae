"""portal.tasks: every task under the name it has always had (tasks already queued when a
new version is deployed must still find their code), the beat schedule naming real tasks,
and the order build task's answers to an unpaid order, an impossible combination and no
release yet."""

from datetime import timedelta

import pytest
from celery import Task
from celery.exceptions import Retry
from django.conf import settings
from django.utils import timezone

from portal import tasks
from portal.celery import app
from portal.models import EmailRecord, Order

from tests.portal.panelkit import paid_order

HISTORIC_NAMES = {
    "build_order_package": "portal.tasks.build_order_package",
    "send_order_email": "portal.tasks.send_order_email",
    "send_keyed_email": "portal.notices.send_keyed_email",
    "deliver_new_release": "portal.subscriptions.deliver_new_release",
    "rebuild_and_send": "portal.reports.rebuild_and_send",
    "run_reminders": "portal.reminders.run_reminders",
    "resume_orders_task": "portal.recovery.resume_orders_task",
    "build_combination": "portal.fanout.build_combination",
    "after_fanout": "portal.fanout.after_fanout",
    "ping": "portal.health.ping",
    "compute_price_list_sizes": "portal.tasks.compute_price_list_sizes",
    "send_contact_email": "portal.contact.send_contact_email",
}


def tasks_of_the_module() -> dict[str, str]:
    return {attr: value.name for attr, value in vars(tasks).items() if isinstance(value, Task)}


def test_every_task_keeps_its_historic_name():
    assert tasks_of_the_module() == HISTORIC_NAMES


@pytest.mark.parametrize("name", sorted(HISTORIC_NAMES.values()))
def test_every_task_is_registered_in_the_celery_app_under_that_name(name):
    attr = next(attr for attr, historic in HISTORIC_NAMES.items() if historic == name)
    assert name in app.tasks and app.tasks[name].run == getattr(tasks, attr).run


def test_the_beat_schedule_names_registered_tasks():
    schedule = app.conf.beat_schedule
    assert schedule == settings.CELERY_BEAT_SCHEDULE and schedule
    for entry in schedule.values():
        assert entry["task"] in app.tasks and entry["schedule"] > 0
    assert {entry["task"] for entry in schedule.values()} == {"portal.reminders.run_reminders",
                                                              "portal.recovery.resume_orders_task"}


# ---------------------------------------------------------------------------------------
# Building an order's package


@pytest.fixture
def emails_queued(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.send_order_email, "delay", lambda *args: sent.append(args))
    return sent


@pytest.fixture
def retries(monkeypatch):
    """The retries the build task asks for (countdowns), instead of running them again."""
    asked = []

    def retry(exc=None, countdown=None, **kw):
        asked.append(countdown)
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(tasks.build_order_package, "retry", retry)
    return asked


def build(order):
    return tasks.build_order_package.apply(args=[order.pk])


@pytest.mark.django_db
def test_building_an_unpaid_order_does_nothing(release, emails_queued, settings):
    order = Order.objects.create(email="ana@example.com", device_id="tomtom-go-classic", coverage=["FR"], amount=1990)
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.FILE, to=order.email)
    result = build(order)
    assert (result.state, result.result) == ("SUCCESS", "not paid")
    order.refresh_from_db()
    assert order.package_key == "" and order.release is None and emails_queued == []
    assert not settings.PACKAGES_DIR.exists() or not any(settings.PACKAGES_DIR.rglob("*.zip"))


@pytest.mark.django_db
def test_a_paid_order_is_built_and_its_unsent_emails_queued(owner, release, emails_queued,
                                                             django_capture_on_commit_callbacks):
    order = paid_order(owner)
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.FILE, to=owner.email)
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.ACCOUNT, to=owner.email, sent_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        result = build(order)
    order.refresh_from_db()
    assert result.state == "SUCCESS" and result.result == order.package_key != ""
    assert order.release == release and order.package_bytes > 0 and order.package_error == ""
    assert emails_queued == [(order.pk, EmailRecord.Kind.FILE, "")]


@pytest.mark.django_db
def test_a_combination_that_cannot_be_built_is_recorded_and_not_retried(owner, release, emails_queued, retries):
    # the COMAND head unit cannot show mobile cameras: the export refuses the order
    order = paid_order(owner, device="mercedes-comand", coverage=("DE",), mobile=True)
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.FILE, to=owner.email)
    result = build(order)
    assert (result.state, result.result) == ("SUCCESS", "failed")       # not RETRY
    order.refresh_from_db()
    assert "cannot show mobile cameras" in order.package_error and order.package_key == ""
    assert emails_queued == [] and retries == []


@pytest.mark.django_db
def test_without_a_release_yet_the_build_waits_and_retries(owner, emails_queued, retries):
    order = paid_order(owner)
    result = build(order)
    assert result.state == "RETRY" and retries == [60]
    order.refresh_from_db()
    assert order.package_error == "" and order.package_key == ""


@pytest.mark.django_db
def test_the_recovery_task_answers_how_many_orders_it_queued(owner, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.build_order_package, "delay", lambda order_id: queued.append(order_id))
    a_while_ago = timezone.now() - timedelta(seconds=settings.RESUME_ORDERS_AFTER_SECONDS + 60)
    stuck = paid_order(owner, paid_at=a_while_ago)
    paid_order(owner)                                   # recent: left alone
    assert tasks.resume_orders_task.apply().result == 1 and queued == [stuck.pk]


@pytest.mark.django_db
def test_a_build_that_fails_still_queues_the_payments_receipt(owner, release, emails_queued, retries,
                                                              django_capture_on_commit_callbacks):
    order = paid_order(owner, device="mercedes-comand", coverage=("DE",), mobile=True)
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.FILE, to=owner.email)
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.RECEIPT, key="INV-2026-000007", to=owner.email)
    with django_capture_on_commit_callbacks(execute=True):
        assert build(order).result == "failed"
    assert emails_queued == [(order.pk, EmailRecord.Kind.RECEIPT, "INV-2026-000007")] and retries == []
