"""What the customer sees, gets or is charged, in cases the first suite let slip: the end of
the upgrade window to the minute, one reset limit for every spelling of an address, a damaged
backup refused whatever member is damaged, a refunded order that a late payment event does
not revive, one email for two simultaneous sends (PostgreSQL), and the Stripe webhook
checked by its effect: a repeated event does its work once, and an event whose processing
failed is processed when Stripe sends it again."""

import hashlib
import hmac
import io
import json
import tarfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal import tasks
from portal.models import EmailRecord, Order, StripeEvent, User
from portal.services import backup, fulfilment, payments, subscriptions
from portal.services.pricing import BASE_PRICES, MOBILE_SURCHARGE
from tests.services import wait_until

pytestmark = pytest.mark.django_db

SECRET = "whsec_audit_secret"
PASSWORD = "correct-horse-battery-9"
LOCMEM_EMAIL = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _portal_settings(settings, tmp_path):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.EMAIL_BACKEND = LOCMEM_EMAIL
    settings.SITE_URL = "https://shop.example"
    settings.PACKAGES_DIR = tmp_path / "packages"


@pytest.fixture
def private_cache(settings):
    """A local-memory cache of this test's own, so rate-limit counters start at zero."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"audit-{uuid.uuid4()}"}}
    yield
    cache.clear()


def new_order(**kw) -> Order:
    fields = dict(email="ana@example.com", device_id="tomtom-go-classic", mobile=True, coverage=["FR"],
                  amount=BASE_PRICES["pnd"] + MOBILE_SURCHARGE, payment_intent="pi_audit")
    fields.update(kw)
    return Order.objects.create(**fields)


# --------------------------------------------------------------------------- signed Stripe events


def signed(payload: bytes) -> str:
    """The Stripe-Signature header: ``t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>">``."""
    t = int(time.time())
    return f"t={t},v1={hmac.new(SECRET.encode(), f'{t}.'.encode() + payload, hashlib.sha256).hexdigest()}"


def stripe_event(kind: str, obj: dict, event_id: str) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "api_version": "2020-08-27",
                       "created": int(time.time()), "data": {"object": obj}}).encode()


def succeeded(order: Order, event_id: str) -> bytes:
    return stripe_event("payment_intent.succeeded", {"id": order.payment_intent, "object": "payment_intent",
                                                     "status": "succeeded",
                                                     "metadata": {"order": str(order.public_id)}}, event_id)


def failed(order: Order, message: str, event_id: str) -> bytes:
    return stripe_event("payment_intent.payment_failed", {"id": order.payment_intent, "object": "payment_intent",
                                                          "last_payment_error": {"message": message},
                                                          "metadata": {"order": str(order.public_id)}}, event_id)


def refunded(order: Order, event_id: str) -> bytes:
    return stripe_event("charge.refunded", {"id": "ch_audit", "object": "charge",
                                            "payment_intent": order.payment_intent}, event_id)


def deliver(client, payload: bytes):
    return client.post(reverse("webhook-stripe"), data=payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signed(payload))


@pytest.fixture
def queued_builds(monkeypatch):
    """The package builds handed to Celery (order ids), instead of running them."""
    builds = []
    monkeypatch.setattr(tasks.build_order_package, "delay", lambda order_id: builds.append(order_id))
    return builds


# --------------------------------------------------------------------------- 1. the upgrade window


PAID_AT = datetime(2025, 3, 10, 10, 0, tzinfo=dt_timezone.utc)


@pytest.fixture
def purchase(client):
    """A paid one-time purchase with a saved card, its owner logged in."""
    user = User.objects.create_user("lea@example.com", PASSWORD)
    order = Order.objects.create(email=user.email, user=user, device_id="tomtom-go-classic", coverage=["FR"],
                                 amount=BASE_PRICES["pnd"], status=Order.Status.PAID, paid_at=PAID_AT,
                                 fulfilled_at=PAID_AT, stripe_customer="cus_audit", payment_intent="pi_audit")
    Order.objects.filter(pk=order.pk).update(created_at=PAID_AT)
    order.refresh_from_db()
    return order


@pytest.fixture
def stripe_subscriptions(monkeypatch):
    """Stripe's side of the upgrade, recorded: the subscriptions made."""
    made = []

    def subscribe(order, plan, credit):
        made.append((order.pk, plan, credit))
        end = int((timezone.now() + timedelta(days=365)).timestamp())
        return payments.SubscriptionInfo(f"sub_audit_{len(made)}", "active", end)

    monkeypatch.setattr(payments, "ensure_annual_plan", lambda plan_id, amount, currency, nickname: plan_id)
    monkeypatch.setattr(payments, "subscribe", subscribe)
    return made


def post_upgrade(client, order):
    client.force_login(order.user)
    return client.post(reverse("panel-upgrade", args=[order.public_id]), follow=True)


def test_an_upgrade_one_minute_after_the_seventh_day_is_refused(client, purchase, stripe_subscriptions):
    with time_machine.travel(PAID_AT + timedelta(days=7, minutes=1), tick=False):
        assert subscriptions.upgrade_refusal(purchase).startswith("The annual upgrade is offered for 7 days")
        page = post_upgrade(client, purchase).content.decode()
    assert "The annual upgrade is offered for 7 days after the purchase" in page
    purchase.refresh_from_db()
    assert purchase.plan != "annual" and not purchase.subscription_id
    assert stripe_subscriptions == []                                   # nothing charged


def test_an_upgrade_one_minute_before_the_seventh_day_ends_goes_through(client, purchase, stripe_subscriptions):
    with time_machine.travel(PAID_AT + timedelta(days=7, minutes=-1), tick=False):
        assert subscriptions.upgrade_refusal(purchase) == ""
        post_upgrade(client, purchase)
    purchase.refresh_from_db()
    assert purchase.plan == "annual" and purchase.subscription_id == "sub_audit_1"
    assert len(stripe_subscriptions) == 1


# --------------------------------------------------------------------------- 2. password reset limit


def test_every_capitalisation_of_an_address_counts_against_one_reset_limit(client, settings, private_cache):
    settings.PASSWORD_RESETS_PER_EMAIL = 2
    settings.PASSWORD_RESETS_PER_IP = 100
    User.objects.create_user("lea@example.com", PASSWORD)
    for n, spelling in enumerate(["Lea@Example.com", "LEA@example.com", "lea@EXAMPLE.COM"] * 2):
        response = client.post(reverse("accounts-password-reset"), {"email": spelling}, REMOTE_ADDR=f"10.5.0.{n}")
        assert response.status_code == 302 and response["Location"] == reverse("accounts-password-reset-sent")
    assert [m.to for m in mail.outbox] == [["lea@example.com"]] * 2


# --------------------------------------------------------------------------- 5. damaged backups


@pytest.fixture
def backed_up(tmp_path, settings):
    """A customer with a paid order and a package in the store, and a backup of it all."""
    settings.RELEASES_DIR = tmp_path / "releases"
    user = User.objects.create_user("lea@example.com", PASSWORD)
    Order.objects.create(email=user.email, user=user, device_id="tomtom-go-classic", coverage=["FR"],
                         amount=BASE_PRICES["pnd"], status=Order.Status.PAID, paid_at=timezone.now())
    package = settings.PACKAGES_DIR / "ab" / "speedcams-tomtom.zip"
    package.parent.mkdir(parents=True)
    package.write_bytes(bytes(range(256)) * 64)
    archive = tmp_path / "backups" / "full.tar"
    manifest = backup.make_backup(archive)
    return {"archive": archive, "package": package, "manifest": manifest}


def damaged_copy(archive, target, member_name):
    """A copy of the archive with one byte of ``member_name`` flipped (size unchanged)."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as out:
        for member in source:
            data = source.extractfile(member).read()
            if member.name == member_name:
                middle = len(data) // 2
                data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]
            out.addfile(member, io.BytesIO(data))
    return target


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("damaged", ["the package", "the database dump"])
def test_a_backup_with_one_damaged_byte_is_refused_and_the_restore_changes_nothing(backed_up, tmp_path, damaged):
    names = list(backed_up["manifest"]["files"])
    if damaged == "the package":
        [member] = [name for name in names if name.startswith("packages/")]
    else:
        [member] = [name for name in names if name in backup.DATABASE_MEMBERS.values()]
    broken = damaged_copy(backed_up["archive"], tmp_path / "damaged.tar", member)
    # What the restore would bring back is gone: the order and the package.
    Order.objects.all().delete()
    backed_up["package"].unlink()

    with pytest.raises(backup.BackupError, match=rf"{member} does not match its checksum; the archive is damaged"):
        backup.check_backup(broken)
    with pytest.raises(backup.BackupError, match=rf"{member} does not match its checksum"):
        backup.restore_backup(broken, force=True)
    assert Order.objects.count() == 0 and User.objects.count() == 1       # the database was not touched
    assert not backed_up["package"].exists()                              # nor the package store
    # The intact archive restores both.
    backup.restore_backup(backed_up["archive"], force=True)
    assert Order.objects.count() == 1 and backed_up["package"].read_bytes() == bytes(range(256)) * 64


# --------------------------------------------------------------------------- 7. refund, then a late payment event


def test_a_payment_event_after_the_refund_leaves_the_order_refunded_without_emails_or_download(
        client, release, eager, django_capture_on_commit_callbacks):
    order = new_order()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, succeeded(order, "evt_paid")).status_code == 200
    order.refresh_from_db()
    client.force_login(order.user)
    download = client.get(reverse("shop-order-status", args=[order.public_id])).json()["download_url"]
    assert download and client.get(download).status_code == 200
    sent = len(mail.outbox)
    assert sent == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, refunded(order, "evt_refund")).status_code == 200
        assert deliver(client, succeeded(order, "evt_paid_again")).status_code == 200   # a new event id

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    state = client.get(reverse("shop-order-status", args=[order.public_id])).json()
    assert (state["status"], state["paid"], state["download_url"]) == ("refunded", False, "")
    assert client.get(download).status_code == 404
    assert len(mail.outbox) == sent and EmailRecord.objects.filter(order=order).count() == 2


def test_a_payment_event_after_a_refund_of_an_unfulfilled_order_makes_no_account_email_or_build(
        client, queued_builds, django_capture_on_commit_callbacks):
    order = new_order()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, refunded(order, "evt_refund"))
        deliver(client, succeeded(order, "evt_paid"))
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.fulfilled_at is None
    assert User.objects.count() == 0 and EmailRecord.objects.count() == 0 and queued_builds == []


# --------------------------------------------------------------------------- 8. two sends at once


ON_POSTGRES = connection.vendor == "postgresql"


def waiting_for_a_row_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: SQLite has no row locks, it serialises writers")
def test_the_same_email_sent_by_two_workers_at_once_goes_out_once(monkeypatch):
    user = User.objects.create_user("ana@example.com")
    order = new_order(user=user, status=Order.Status.PAID, paid_at=timezone.now(), fulfilled_at=timezone.now())
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.ACCOUNT, to=order.email)

    first_is_sending, release_first = threading.Event(), threading.Event()
    senders = []
    original = EmailBackend.send_messages

    def send_messages(self, messages):
        senders.append(threading.current_thread().name)
        if len(senders) == 1:                 # hold the first send, inside its transaction
            first_is_sending.set()
            assert release_first.wait(60)
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    results = {}

    def worker(name):
        try:
            results[name] = tasks.send_order_email.run(order.pk, EmailRecord.Kind.ACCOUNT)
        finally:
            connection.close()

    first = threading.Thread(target=worker, args=("first",), name="first")
    second = threading.Thread(target=worker, args=("second",), name="second")
    first.start()
    assert first_is_sending.wait(60)
    second.start()
    # The second either waits for the first one's row lock, or (without the lock) sends too.
    assert wait_until(lambda: len(senders) > 1 or waiting_for_a_row_lock() > 0, 60)
    release_first.set()
    first.join(60)
    second.join(60)

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ana@example.com"]
    assert sorted(results.values()) == [False, True]
    assert EmailRecord.objects.get(order=order).sent_at is not None


# --------------------------------------------------------------------------- 9. the webhook, by its effect


def test_the_same_event_delivered_twice_fulfils_the_order_once(client, queued_builds,
                                                              django_capture_on_commit_callbacks):
    order = new_order()
    payload = succeeded(order, "evt_once")
    with time_machine.travel(datetime(2025, 5, 1, 9, 0, tzinfo=dt_timezone.utc), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, payload)
        order.refresh_from_db()
        fulfilled_at = order.fulfilled_at
    with time_machine.travel(datetime(2025, 5, 1, 9, 30, tzinfo=dt_timezone.utc), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, payload).status_code == 200      # Stripe sent it again

    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.fulfilled_at == fulfilled_at
    assert User.objects.count() == 1
    assert sorted(EmailRecord.objects.filter(order=order).values_list("kind", flat=True)) == ["account", "file"]
    assert queued_builds == [order.pk]
    [stored] = StripeEvent.objects.all()
    assert stored.id == "evt_once" and stored.processed_at == fulfilled_at   # processed once, the first time


def test_an_old_failure_event_delivered_again_does_not_replace_the_latest_failure_reason(client):
    order = new_order()
    first_failure = failed(order, "Your card was declined.", "evt_fail_1")
    deliver(client, first_failure)
    deliver(client, failed(order, "Your card has insufficient funds.", "evt_fail_2"))
    deliver(client, first_failure)                                     # Stripe sends the first one again
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert order.failure_message == "Your card has insufficient funds."


def test_an_event_whose_processing_failed_is_processed_when_stripe_sends_it_again(
        queued_builds, monkeypatch, django_capture_on_commit_callbacks):
    order = new_order()
    payload = succeeded(order, "evt_retry")
    real = fulfilment.payment_succeeded
    calls = []

    def fails_once(order_id):
        calls.append(order_id)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real(order_id)

    monkeypatch.setattr(fulfilment, "payment_succeeded", fails_once)
    client = Client(raise_request_exception=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, payload).status_code == 500           # Stripe will retry
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.fulfilled_at is None
    assert StripeEvent.objects.get(pk="evt_retry").processed_at is None

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, payload).status_code == 200           # Stripe's retry, the same event id
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.fulfilled_at is not None
    assert sorted(EmailRecord.objects.filter(order=order).values_list("kind", flat=True)) == ["account", "file"]
    assert queued_builds == [order.pk]
    assert StripeEvent.objects.get(pk="evt_retry").processed_at is not None
