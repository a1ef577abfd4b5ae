"""The periodic job: stale-file and renewal reminders, once each, from the management command
(cron) and the Celery beat task alike; an SMTP failure leaves nothing recorded and the next run
sends it."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from cameras.models import Release
from portal.celery import app
from portal.models import EmailRecord, Order
from portal.services import l10n
from portal.tasks import run_reminders

from tests.portal.shopping import make_release

pytestmark = pytest.mark.django_db(transaction=True)


def paid_order(release, **kw) -> Order:
    fields = dict(email="ana@example.com", device_id="tomtom-go-classic", mobile=True, coverage=["FR"], amount=2490,
                  status=Order.Status.PAID, paid_at=timezone.now(), release=release, payment_intent=None)
    fields.update(kw)
    return Order.objects.create(**fields)


def run_command() -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


def test_a_file_older_than_six_months_gets_one_reminder(eager, tmp_path):
    old = make_release(tmp_path)
    Release.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=200))
    order = paid_order(old)
    recent = paid_order(old, email="bob@example.com")
    assert "stale-file reminders: 0" in run_command()        # no newer release: nothing to offer
    latest = make_release(tmp_path, seed=9)
    Order.objects.filter(pk=recent.pk).update(release=latest)
    assert "stale-file reminders: 1" in run_command()
    assert "stale-file reminders: 0" in run_command()        # twice: one email
    [message] = mail.outbox
    assert message.to == ["ana@example.com"] and "over six months old" in message.subject
    assert f"release {old.number} of" in message.body and f"latest release is {latest.number}" in message.body
    assert "includes updates until" in message.body
    assert EmailRecord.objects.get(order=order, kind="stale-file").key == str(old.number)


def test_a_renewal_reminder_goes_once_per_period_14_days_before(eager, tmp_path):
    release = make_release(tmp_path)
    end = timezone.now() + timedelta(days=20)
    order = paid_order(release, plan="annual", subscription_id="sub_x", subscription_status="active",
                       subscription_end=end)
    paid_order(release, email="gone@example.com", plan="annual", subscription_id="sub_y",
               subscription_status="canceled", subscription_end=end)          # no renewal: no reminder
    assert "renewal reminders: 0" in run_command()           # 20 days ahead: not yet
    import time_machine

    with time_machine.travel(end - timedelta(days=13), tick=True):
        assert "renewal reminders: 1" in run_command()
        assert run_reminders.delay().get()["renewal_reminders"] == []        # the beat task: nothing again
    [message] = mail.outbox
    assert message.to == ["ana@example.com"] and f"renews on {l10n.date(end)}" in message.subject
    assert "€34.90" in message.body                           # the annual price with mobile cameras
    # the next period (renewed in Stripe) gets its own reminder
    Order.objects.filter(pk=order.pk).update(subscription_end=end + timedelta(days=365))
    with time_machine.travel(end + timedelta(days=365 - 10), tick=True):
        assert "renewal reminders: 1" in run_command()
    assert len(mail.outbox) == 2


def test_the_beat_schedule_runs_the_same_job():
    entry = app.conf.beat_schedule["send-reminders"]
    assert entry["task"] == run_reminders.name == "portal.reminders.run_reminders"
    assert entry["schedule"] > 0


def test_smtp_down_records_nothing_and_the_next_run_sends(eager, tmp_path, smtp_sink, settings):
    old = make_release(tmp_path)
    Release.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=200))
    make_release(tmp_path, seed=9)
    order = paid_order(old)
    app.conf.task_eager_propagates = False
    smtp_sink.stop()
    try:
        run_command()
        assert not EmailRecord.objects.filter(order=order).exists()
    finally:
        smtp_sink.start()
    run_command()
    run_command()
    assert smtp_sink.wait_for(1)
    assert [m.message["Subject"] for m in smtp_sink.messages] == [
        "Your speed camera file for TomTom GO classic (x20/x30/x40/x50, NavCore) is over six months old"]
    assert EmailRecord.objects.get(order=order, kind="stale-file").sent_at is not None
