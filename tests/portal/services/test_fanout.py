"""The release fan-out (portal/fanout.py): which combinations, and that publishing builds them
on real workers, each once."""

import logging
from datetime import datetime, timedelta, timezone as dt_timezone
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from cameras.coverage import Coverage
from cameras.signals import release_published
from exporters.base import ExportOptions
from exporters.devices import DEVICES
from portal.services import fanout, packages
from portal import tasks
from portal.tasks import ping
from portal.models import Order
from portal.services.entitlement import add_months, updates_until

from tests.portal.panelkit import customer, paid_order
from tests.portal.shopping import make_release, wait_for

DEFAULT_OPTIONS = tuple(sorted(ExportOptions().key().items()))
MOBILE = tuple(sorted(ExportOptions(mobile=True).key().items()))


def opts(coverage, mobile=False):
    """The options of a new order (``packages.DEFAULT_OPTIONS``: the France legal mode, which
    applies when the coverage includes France)."""
    options = packages.export_options(Coverage.parse(list(coverage)), **{**packages.DEFAULT_OPTIONS, "mobile": mobile})
    return tuple(sorted(options.key().items()))


def ident(device, coverage, options=None):
    """A new order's combination: default options, or the mobile option with ``MOBILE``."""
    return device, tuple(coverage), opts(coverage, mobile=options == MOBILE)


def ranked(**kw):
    return [(c.ident, c.orders) for c in fanout.popular_combinations(**kw)]


@pytest.fixture
def eager(eager, settings):
    """conftest's eager, with the fan-out on publish on (whatever a suite-wide default says)."""
    settings.FANOUT_ON_PUBLISH = True


def store_files(settings) -> dict:
    root = settings.PACKAGES_DIR
    return {p.stem: p.stat().st_mtime_ns for p in root.glob("*/*.zip")} if root.exists() else {}


# --------------------------------------------------------------------------- ranking


@pytest.mark.django_db
def test_popular_combinations_are_the_entitled_orders_ranked_by_count():
    lea = customer()
    now = timezone.now()
    for _ in range(3):
        paid_order(lea, "tomtom-go-classic", ["FR"], mobile=True)
    # the same coverage spelt two ways counts as one combination
    for codes in (["FR", "BE"], ["BE", "FR"], ["be", "fr"], ["FR", "BE"]):
        paid_order(lea, "garmin-nuvi", codes)
    paid_order(lea, "igo-primo", ["DE"])
    # an annual subscription paid long ago but running (also when its renewal is cancelled)
    paid_order(lea, "navitel", ["PL"], paid_at=now - timedelta(days=700), plan="annual",
               subscription_status="active", subscription_end=now + timedelta(days=30))
    paid_order(lea, "navitel", ["PL"], paid_at=now - timedelta(days=700), plan="annual",
               subscription_status="canceled", subscription_end=now + timedelta(days=3))
    # Sygic takes its default coverage whatever was chosen
    paid_order(lea, "sygic-android", ["FR"])
    # not entitled: refunded, unpaid, failed, updates over, subscription ended, unknown device
    for _ in range(5):
        paid_order(lea, "generic-csv", ["IT"], status=Order.Status.REFUNDED, refunded_at=now)
        paid_order(lea, "generic-csv", ["ES"], status=Order.Status.PENDING)
        paid_order(lea, "generic-csv", ["PT"], status=Order.Status.FAILED)
        paid_order(lea, "generic-csv", ["GR"], paid_at=now - timedelta(days=400))
        paid_order(lea, "generic-csv", ["NL"], paid_at=now - timedelta(days=700), plan="annual",
                   subscription_status="ended", subscription_end=now - timedelta(days=1))
        paid_order(lea, "tomtom-go-1995", ["FR"])

    assert ranked() == [
        (ident("garmin-nuvi", ["BE", "FR"]), 4),
        (ident("tomtom-go-classic", ["FR"], MOBILE), 3),
        (ident("navitel", ["PL"]), 2),
        (ident("igo-primo", ["DE"]), 1),
        (ident("sygic-android", ["world-no-ch"]), 1),  # Sygic takes its default only
    ]
    assert ranked(top=2) == ranked()[:2]
    assert ranked(top=0) == []


@pytest.mark.django_db
@pytest.mark.parametrize("now", ["2025-03-31T12:00", "2025-04-30T09:00", "2025-03-01T00:00", "2024-02-29T18:00",
                                 "2025-12-31T23:30"])
@pytest.mark.parametrize("months", [1, 12])
def test_the_update_period_is_the_panels_to_the_hour(settings, now, months):
    """Around the month ends (31 March less a month is 28 February), the ranking counts exactly
    the one-time purchases whose updates_until is still ahead."""
    settings.UPDATE_MONTHS = months
    now = datetime.fromisoformat(now).replace(tzinfo=dt_timezone.utc)
    lea = customer()
    boundary = add_months(now, -months)
    orders = [paid_order(lea, "generic-csv", ["FR"], paid_at=boundary + timedelta(hours=5 * i - 40))
              for i in range(40)]
    expected = sum(updates_until(o) > now for o in orders)
    assert 0 < expected < len(orders)
    assert ranked(now=now) == [(ident("generic-csv", ["FR"]), expected)]


@pytest.mark.django_db
def test_the_plan_adds_every_catalog_default_once(settings):
    lea = customer()
    paid_order(lea, "tomtom-go-classic", ["europe-no-ch"])    # the TomTom's default combination
    paid_order(lea, "tomtom-go-classic", ["FR"])
    paid_order(lea, "tomtom-go-classic", ["FR"])
    settings.FANOUT_TOP = 1
    combos = fanout.plan()
    assert combos[0].ident == ident("tomtom-go-classic", ["FR"]) and combos[0].orders == 2
    assert [c.device_id for c in combos[1:]] == [d.id for d in DEVICES]
    assert all(c.default and c.options == opts(c.coverage) for c in combos[1:])
    assert len({c.ident for c in combos}) == len(combos)
    # with the TomTom default popular enough, it is listed once, as both
    combos = fanout.plan(top=2)
    tomtom = [c for c in combos if c.ident == ident("tomtom-go-classic", ["europe-no-ch"])]
    assert len(tomtom) == 1 and tomtom[0].orders == 1 and tomtom[0].default
    assert len(combos) == 1 + len(DEVICES)
    assert fanout.plan(top=5, defaults=False) == fanout.popular_combinations()


# --------------------------------------------------------------------------- publishing


@pytest.mark.django_db
def test_the_signal_is_sent_once_the_release_is_committed(tmp_path, settings, django_capture_on_commit_callbacks):
    settings.FANOUT_ON_PUBLISH = False
    received = []

    def receiver(sender, release, **kwargs):
        received.append(release.number)

    release_published.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            release = make_release(tmp_path)
            assert received == []                              # not before the commit
        assert received == [release.number] and len(callbacks) == 1
    finally:
        release_published.disconnect(receiver)


@pytest.mark.django_db
def test_a_fanout_that_cannot_be_scheduled_does_not_fail_the_publish(tmp_path, monkeypatch, caplog, settings,
                                                                     django_capture_on_commit_callbacks):
    settings.FANOUT_ON_PUBLISH = True

    def broker_down(release, *args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(fanout, "schedule", broker_down)
    with caplog.at_level(logging.ERROR, logger="portal.fanout"):
        with django_capture_on_commit_callbacks(execute=True):
            release = make_release(tmp_path)
    assert release.number == 1
    assert f"fan-out of release {release.number} was not scheduled" in caplog.text


@pytest.mark.django_db
def test_a_failing_combination_does_not_stop_the_others(eager, tmp_path, settings, caplog):
    release = make_release(tmp_path)
    bad = fanout.Combination("mercedes-comand", ("FR",), MOBILE)   # the Mercedes shows no mobile cameras
    good = fanout.Combination("generic-csv", ("FR",), DEFAULT_OPTIONS)
    with caplog.at_level(logging.ERROR, logger="portal.fanout"):
        scheduled = fanout.schedule(release, [bad, good])
    assert scheduled.result.get() == {"built": 1, "stored": 0, "failed": 1, "emails": 0}
    assert set(store_files(settings)) == {good.key(release)}
    assert "mercedes-comand" in caplog.text and "cannot show mobile cameras" in caplog.text
    failed = tasks.build_combination.apply(args=("mercedes-comand", ["FR"], dict(MOBILE), release.number)).get()
    assert failed["status"] == "failed" and "cannot show mobile cameras" in failed["error"]


@pytest.mark.django_db(transaction=True)
def test_subscribers_are_emailed_after_the_fanout(eager, tmp_path):
    lea = customer()
    first = make_release(tmp_path)
    order = paid_order(lea, "osmand-gpx", ["FR"], plan="annual", subscription_status="active",
                       subscription_end=timezone.now() + timedelta(days=200), email_new_releases=True,
                       release=first)
    mail.outbox.clear()
    second = make_release(tmp_path, seed=5)             # the fan-out runs inline (eager), then the emails
    [message] = mail.outbox
    assert message.to == [lea.email] and f"Release {second.number} " in message.subject
    assert message.attachments[0][0] == f"speedcams-osmand-gpx-r{second.number}.zip"
    order.refresh_from_db()
    assert order.release == second


# --------------------------------------------------------------------------- the command


@pytest.mark.django_db
def test_the_command_prints_the_plan_and_a_dry_run_builds_nothing(tmp_path, settings):
    settings.PACKAGES_DIR = tmp_path / "packages"
    lea = customer()
    release = make_release(tmp_path)
    paid_order(lea, "garmin-nuvi", ["DE"], mobile=True)
    paid_order(lea, "garmin-nuvi", ["DE"], mobile=True)
    paid_order(lea, "igo-primo", ["dach"])
    out = StringIO()
    call_command("fanout", "--dry-run", "--top", "1", stdout=out)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == f"Release {release.number} ({release.camera_count:,} cameras): {1 + len(DEVICES)} combinations"
    assert lines[2].split() == ["1", "2", "garmin-nuvi", "DE", "mobile", "to", "build"]
    assert "igo-primo" in text and "dach" not in text            # only the top one, then the defaults
    assert "world-no-ch (default)" in text                             # Sygic's default
    assert text.rstrip().endswith("dry run: nothing scheduled")
    assert store_files(settings) == {}
    with pytest.raises(CommandError, match="there is no release 99"):
        call_command("fanout", "--release", "99", stdout=StringIO())


@pytest.mark.django_db
def test_the_command_schedules_and_waits(eager, tmp_path, settings):
    lea = customer()
    release = make_release(tmp_path)
    order = paid_order(lea, "garmin-nuvi", ["DE"], mobile=True)
    out = StringIO()
    call_command("fanout", "--top", "1", "--no-defaults", "--wait", "60", stdout=out)
    assert "built 1, from the store 0, failed 0" in out.getvalue()
    device, coverage, options = packages.order_spec(order)
    assert packages.store_path(packages.cache_key(release.sha256, device, coverage.labels(), options)).exists()
    out = StringIO()
    call_command("fanout", "--top", "1", "--no-defaults", "--wait", "60", stdout=out)
    assert "stored" in out.getvalue().splitlines()[2]
    assert "built 0, from the store 1, failed 0" in out.getvalue()


# --------------------------------------------------------------------------- a real worker


@pytest.mark.django_db(transaction=True)
def test_publishing_builds_every_combination_on_a_worker_and_a_second_fanout_builds_nothing(
        celery_worker_process, smtp_sink, tmp_path, settings):
    settings.FANOUT_ON_PUBLISH = True
    lea = customer()
    bought = paid_order(lea, "tomtom-go-classic", ["FR"], mobile=True)
    paid_order(lea, "tomtom-go-classic", ["FR"], mobile=True)
    paid_order(lea, "garmin-nuvi", ["DE", "AT"])
    paid_order(lea, "igo-primo", ["IT"], status=Order.Status.REFUNDED, refunded_at=timezone.now())
    subscriber = paid_order(lea, "osmand-gpx", ["BE", "FR"], plan="annual", subscription_status="active",
                            subscription_end=timezone.now() + timedelta(days=200), email_new_releases=True)

    release = make_release(tmp_path)        # commits, then the signal queues the chord on Redis
    combos = fanout.plan()
    keys = {c.key(release) for c in combos}
    assert len(combos) == 3 + len(DEVICES)
    # a task queued now (as an order build would be) overtakes the fan-out's queued builds
    assert ping.delay("order").get(timeout=60)["pong"] == "order"
    assert len(store_files(settings)) < len(keys) // 2
    assert wait_for(lambda: set(store_files(settings)) == keys, timeout=180), (
        f"the store holds {len(store_files(settings))} of {len(keys)} packages; worker log:\n"
        f"{celery_worker_process.log_text()[-3000:]}")
    # the order's own build will find its package: the fan-out used the very same key
    device, coverage, options = packages.order_spec(bought)
    assert packages.cache_key(release.sha256, device, coverage.labels(), options) in keys
    refunded = fanout.normalise("igo-primo", ["IT"])
    assert refunded.key(release) not in keys
    # after the group, the subscriber's new-release email, with the file from the store
    smtp_sink.wait_for(1, timeout=60)
    [received] = smtp_sink.messages
    assert received.rcpt_tos == [lea.email] and f"Release {release.number} " in received.message["Subject"]
    subscriber.refresh_from_db()
    assert subscriber.release == release and subscriber.package_key in keys

    # the same release again: every combination is a store hit; nothing is rebuilt or re-sent
    before = store_files(settings)
    scheduled = fanout.schedule(release)
    assert scheduled.result.get(timeout=120) == {"built": 0, "stored": len(keys), "failed": 0, "emails": 0}
    assert {r["status"] for r in scheduled.group_result.get(timeout=10)} == {"stored"}
    assert store_files(settings) == before
    assert len(smtp_sink.messages) == 1
