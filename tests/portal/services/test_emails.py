"""services.emails and tasks.send_order_email: every order email -- the delivery emails made
at fulfilment and the keyed ones (reminders, new releases, error reports) -- goes out once,
mail-server and database failures are retried with one policy, and a package file that
cannot be read is an error, not a reason to retry."""

import smtplib
import socket
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import OperationalError, connection
from django.template.loader import render_to_string
from django.utils import timezone

from portal import tasks
from portal.models import EmailRecord, ErrorReport, Order
from portal.services import emails, fulfilment
from portal.services.packages import store_path
from portal.services.pricing import BASE_PRICES
from tests.services import wait_until

Kind = EmailRecord.Kind
ON_POSTGRES = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _mail(settings, tmp_path):
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://shop.example"
    settings.EMAIL_RETRY_SECONDS = 7


def fulfilled(release, django_capture_on_commit_callbacks, **fields) -> Order:
    """A paid order, fulfilled and its package built; no email sent yet (the email tasks the
    build queues are left in the capture)."""
    order = Order.objects.create(email="ana@example.com", device_id="tomtom-go-classic", coverage=["FR"],
                                 amount=BASE_PRICES["pnd"], status=Order.Status.PAID, paid_at=timezone.now(),
                                 **fields)
    with django_capture_on_commit_callbacks(execute=False):
        fulfilment.fulfil(order.pk)
        tasks.build_order_package.apply(args=[order.pk])
    order.refresh_from_db()
    assert order.package_key and mail.outbox == []
    return order


@pytest.fixture
def order(release, django_capture_on_commit_callbacks):
    return fulfilled(release, django_capture_on_commit_callbacks, plan="annual", subscription_status="active",
                     subscription_id="sub_1", subscription_end=timezone.now() + timedelta(days=10))


def key_for(kind, order) -> str:
    if kind == Kind.RENEWAL_REMINDER:
        return order.subscription_end.date().isoformat()
    if kind in (Kind.NEW_RELEASE, Kind.STALE_FILE):
        return str(order.release.number)
    if kind in (Kind.REPORT_OUTCOME, Kind.REPACKAGED):
        report = ErrorReport.objects.create(order=order, text="a camera is missing", outcome="added back",
                                            status="repackaged", resolved_at=timezone.now())
        return str(report.pk)
    return ""


@pytest.fixture
def retries(monkeypatch):
    """The delays the email tasks asked to be retried after (instead of retrying)."""
    asked = []

    def retry(exc, countdown):
        asked.append((type(exc), countdown))
        return Retry(exc=exc, when=countdown)

    for task in (tasks.send_order_email, tasks.send_keyed_email):
        monkeypatch.setattr(task, "retry", retry)
    return asked


def failing_smtp(monkeypatch, exc):
    def send_messages(self, messages):
        raise exc

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)


EVERY_KIND = [Kind.FILE, Kind.ACCOUNT, Kind.NEW_RELEASE, Kind.RENEWAL_REMINDER, Kind.STALE_FILE, Kind.REPACKAGED,
              Kind.REPORT_OUTCOME]


# --------------------------------------------------------------------------- once


@pytest.mark.django_db
@pytest.mark.parametrize("kind", EVERY_KIND)
def test_each_kind_of_email_goes_out_once_when_its_task_runs_twice(order, kind):
    key = key_for(kind, order)
    assert tasks.send_order_email.run(order.pk, kind, key) is True
    assert tasks.send_order_email.run(order.pk, kind, key) is False
    assert tasks.send_keyed_email.run(order.pk, kind, key) is False    # a message queued before the deploy
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ana@example.com"]
    record = EmailRecord.objects.get(order=order, kind=kind, key=key)
    assert record.sent_at is not None and record.attempts == 1


@pytest.mark.django_db
def test_the_file_email_attaches_the_package_and_links_it(order):
    tasks.send_order_email.run(order.pk, Kind.FILE)
    (message,) = mail.outbox
    assert message.attachments[0][0].endswith(".zip")
    assert "https://shop.example/download/" in message.body


@pytest.mark.django_db
def test_a_keyed_email_queued_under_its_old_task_name_is_sent(order):
    key = key_for(Kind.RENEWAL_REMINDER, order)
    assert tasks.send_keyed_email.run(order.pk, Kind.RENEWAL_REMINDER, key) is True
    assert len(mail.outbox) == 1 and "renew" in mail.outbox[0].subject.lower()


# --------------------------------------------------------------------------- retried


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [Kind.FILE, Kind.ACCOUNT, Kind.RENEWAL_REMINDER, Kind.REPACKAGED])
@pytest.mark.parametrize("error", [smtplib.SMTPServerDisconnected("connection unexpectedly closed"),
                                   ConnectionRefusedError(111, "Connection refused"),
                                   socket.gaierror(-3, "Temporary failure in name resolution")],
                         ids=["smtp", "refused", "dns"])
def test_a_mail_server_error_is_retried_after_email_retry_seconds_and_nothing_is_kept(
        order, kind, error, retries, monkeypatch):
    key = key_for(kind, order)
    failing_smtp(monkeypatch, error)
    with pytest.raises(Retry):
        tasks.send_order_email.run(order.pk, kind, key)
    assert retries == [(type(error), 7)]
    assert not EmailRecord.objects.filter(order=order, kind=kind, key=key, sent_at__isnull=False).exists()
    monkeypatch.undo()
    assert tasks.send_order_email.run(order.pk, kind, key) is True and len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_retry_delay_doubles_and_is_capped(order, retries, monkeypatch):
    failing_smtp(monkeypatch, smtplib.SMTPServerDisconnected("connection unexpectedly closed"))
    for attempt in (1, 3, 12):
        tasks.send_order_email.push_request(retries=attempt)
        try:
            with pytest.raises(Retry):
                tasks.send_order_email.run(order.pk, Kind.FILE)
        finally:
            tasks.send_order_email.pop_request()
    assert [delay for _exc, delay in retries] == [14, 56, tasks.EMAIL_RETRY_MAX_SECONDS]


@pytest.mark.django_db
@pytest.mark.parametrize("task", ["send_order_email", "send_keyed_email"])
def test_a_database_error_is_retried(order, task, retries, monkeypatch):
    def lost(*args):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(emails, "send", lost)
    with pytest.raises(Retry):
        getattr(tasks, task).run(order.pk, Kind.RENEWAL_REMINDER, key_for(Kind.RENEWAL_REMINDER, order))
    assert [exc for exc, _delay in retries] == [OperationalError]
    assert mail.outbox == []


# --------------------------------------------------------------------------- not retried


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [Kind.FILE, Kind.REPACKAGED])
@pytest.mark.parametrize("error", [FileNotFoundError, PermissionError])
def test_a_package_file_that_cannot_be_read_fails_the_task_without_a_retry(order, kind, error, retries,
                                                                          monkeypatch):
    key = key_for(kind, order)
    package = Path(store_path(order.package_key))
    real_read = Path.read_bytes

    def read_bytes(path):
        if path == package:
            raise error(f"cannot read {path}")
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(error):
        tasks.send_order_email.run(order.pk, kind, key)
    assert retries == [] and mail.outbox == []
    assert not EmailRecord.objects.filter(order=order, kind=kind, key=key, sent_at__isnull=False).exists()


# --------------------------------------------------------------------------- two workers at once


def waiting_for_a_row_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: SQLite has no row locks, it serialises writers")
@pytest.mark.parametrize("kind", [Kind.ACCOUNT, Kind.RENEWAL_REMINDER])
def test_the_same_email_sent_by_two_workers_at_once_goes_out_once(order, kind, monkeypatch):
    key = key_for(kind, order)
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
            results[name] = tasks.send_order_email.run(order.pk, kind, key)
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
    assert EmailRecord.objects.get(order=order, kind=kind, key=key).sent_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("kind", EVERY_KIND)
def test_every_email_links_to_the_address_the_site_is_served_on(order, kind, settings):
    settings.SITE_URL = "http://127.0.0.1:8101"
    tasks.send_order_email.run(order.pk, kind, key_for(kind, order))
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    assert "http://127.0.0.1:8101/" in message.body and "http://127.0.0.1:8101/" in html
    assert ":8000" not in message.body and ":8000" not in html
    assert "shop.example" not in message.body + html


ENTITIES = ("&#x27;", "&#39;", "&amp;", "&gt;", "&lt;", "&quot;")


@pytest.mark.django_db
def test_the_text_part_says_quotes_ampersands_and_brackets_literally_and_the_html_part_escapes_them(order):
    outcome = "The camera on O'Brien Road & Main St > exit 3 is back in the file."
    report = ErrorReport.objects.create(order=order, text="O'Brien Road & Main St", outcome=outcome,
                                        status="repackaged", resolved_at=timezone.now())
    tasks.send_order_email.run(order.pk, Kind.REPORT_OUTCOME, str(report.pk))
    (message,) = mail.outbox
    assert outcome in message.body
    assert not any(entity in message.body or entity in message.subject for entity in ENTITIES)
    html = message.alternatives[0][0]
    assert "O&#x27;Brien Road &amp; Main St &gt; exit 3" in html and outcome not in html


@pytest.mark.django_db
@pytest.mark.parametrize("kind", EVERY_KIND)
def test_no_text_part_holds_html_entities(order, kind):
    tasks.send_order_email.run(order.pk, kind, key_for(kind, order))
    (message,) = mail.outbox
    assert not any(entity in message.body or entity in message.subject for entity in ENTITIES), message.body


def test_the_password_reset_text_email_says_the_address_literally():
    context = {"email": "o'neil&sons@example.com", "site": "https://shop.example", "uid": "MQ", "token": "abc-123",
               "valid_hours": 24}
    body = render_to_string("portal/accounts/password_reset_email.txt", context)
    subject = render_to_string("portal/accounts/password_reset_subject.txt", context)
    assert "o'neil&sons@example.com" in body and subject.strip()
    assert not any(entity in body + subject for entity in ENTITIES)
