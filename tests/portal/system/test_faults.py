"""Fault tests on real processes: a Celery worker killed in the middle of a build,
SMTP refusing for a while, Redis restarted (with and without persistence) and down while an
order is paid, PostgreSQL backends terminated under the web server and the worker, the same
webhook delivered many times at once. Each checks what the customer gets: one file email
with a valid package and one login email, exactly once, and a working order page.

Services: tests/services.py (localstripe, SMTP sink, the Celery worker process), a private
``redis-server`` per test for the Redis faults (never the shared one), gunicorn for the
PostgreSQL test. SMTP down as "connection refused" and the worker down for a while are in
test_shop_e2e.py; the variants here are the ones it does not cover.

No fixed sleeps: "nothing more happens" is checked once the worker has nothing queued or
held (``CeleryWorker.wait_idle``), and "Redis is back" once the cache answers again.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import stripe
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from portal.services import payments
from portal.models import EmailRecord, Order, StripeEvent, User
from portal.services.recovery import resume_orders
from tests.services import ROOT, CeleryWorker, _point_celery_app_at, free_port, service_missing, wait_until

from tests.portal.shopping import buy, make_release, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FILE_SUBJECT = "Your speed camera file for TomTom GO classic (x20/x30/x40/x50, NavCore)"
LOGIN_SUBJECT = "Your customer panel login"
RECEIPT_SUBJECT = re.compile(r"Your receipt: invoice INV-\d{4}-\d{6} for TomTom GO classic")
ON_POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def shop(settings, tmp_path, live_server, localstripe, smtp_sink, celery_worker_process):
    settings.SITE_URL = live_server.url
    return make_release(tmp_path)


# --------------------------------------------------------------------------- helpers


def subject(message) -> str:
    return " ".join(str(message["Subject"]).split())


def mails_to(smtp_sink, email) -> list:
    return [m.message for m in smtp_sink.messages if email in m.rcpt_tos]


def password_in(message) -> str:
    return re.search(r"Password:\s*(\S+)", message.get_body(("plain",)).get_content()).group(1)


def assert_delivered_once(smtp_sink, order: Order, worker: CeleryWorker):
    """The customer got exactly the file email (a valid package attached), the login email
    (a password that works) and the receipt, once each; the order page offers the file."""
    assert smtp_sink.wait_for(3, timeout=40)
    # A duplicate would come from a task run again after its email went out: once the worker
    # has nothing queued or held (a retry waiting for its countdown is held), none can come.
    worker.wait_idle()
    messages = mails_to(smtp_sink, order.email)
    subjects = sorted(subject(m) for m in messages)
    assert len(subjects) == 3 and subjects[0::2] == [LOGIN_SUBJECT, FILE_SUBJECT], subjects
    assert RECEIPT_SUBJECT.match(subjects[1]), subjects
    file_mail = next(m for m in messages if subject(m) == FILE_SUBJECT)
    [attachment] = list(file_mail.iter_attachments())
    package = zipfile.ZipFile(io.BytesIO(attachment.get_content()))
    assert package.testzip() is None
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["device"]["id"] == order.device_id and manifest["counts"]["by_type"]
    login_mail = next(m for m in messages if subject(m) == LOGIN_SUBJECT)
    order.refresh_from_db()
    user = User.objects.get(email=order.email)
    assert order.user_id == user.pk and user.check_password(password_in(login_mail))
    assert order.package_key and order.fulfilled_at
    assert sorted(EmailRecord.objects.filter(order=order, sent_at__isnull=False).values_list("kind", flat=True)) \
        == ["account", "file", "receipt"]
    assert User.objects.filter(email=order.email).count() == 1
    return package


def charged_order(client, email: str) -> Order:
    """Checkout and a successful charge, without the fulfilment: what the webhook is for."""
    started = start(client, email=email)
    order = Order.objects.get(public_id=started["order"])
    result = payments.charge(order)
    assert result.status == "succeeded"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.fulfilled_at is None
    return order


def signed_event(order: Order, secret: str, event_id: str | None = None) -> tuple[bytes, str]:
    """A ``payment_intent.succeeded`` event for the order's PaymentIntent, signed as Stripe
    (and localstripe) sign: ``t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" keyed with the
    endpoint secret>``. Checked with stripe's own verifier."""
    intent = json.loads(str(stripe.PaymentIntent.retrieve(order.payment_intent)))
    event = {"id": event_id or f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "api_version": "2020-08-27",
             "created": int(time.time()), "type": "payment_intent.succeeded", "data": {"object": intent}}
    body = json.dumps(event).encode()
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    header = f"t={timestamp},v1={signature}"
    stripe.Webhook.construct_event(body, header, secret)  # what the app checks
    return body, header


def post(url: str, body: bytes = b"", headers: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET", headers=headers or {})
    try:
        with _http.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def webhook_headers(header: str) -> dict:
    return {"Content-Type": "application/json", "Stripe-Signature": header}


# --------------------------------------------------------------------------- 1. worker killed mid-build


def test_a_worker_killed_in_the_middle_of_a_build_runs_it_again_and_the_customer_gets_each_email_once(
        shop, client, smtp_sink, celery_worker_process, tmp_path):
    worker = celery_worker_process
    markers = tmp_path / "markers"
    markers.mkdir()
    # tests/slow_worker.py: each build says "started", then sleeps before building
    worker.restart(module="tests.slow_worker", SLOW_BUILD_DIR=markers, SLOW_BUILD_SECONDS=60)
    first = worker.pid
    order = buy(client, email="kim@example.com")
    assert wait_until(lambda: (markers / f"started-{order.pk}-{first}").exists(), 20), worker.log_text()[-2000:]

    worker.kill()  # SIGKILL in the middle of the build (acks_late: the message stays unacked in Redis)
    assert not (markers / f"finished-{order.pk}-{first}").exists()    # the first attempt never finished
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.package_key == ""
    assert smtp_sink.messages == []
    state = client.get(f"/orders/{order.public_id}/status.json").json()
    assert state["paid"] is True and state["file_ready"] is False

    # A new worker takes the dead worker's task once the visibility timeout has passed.
    worker.start(SLOW_BUILD_SECONDS=0.2, CELERY_VISIBILITY_TIMEOUT=2)
    second = worker.pid
    assert second != first
    assert wait_until(lambda: (markers / f"finished-{order.pk}-{second}").exists(), 30), worker.log_text()[-3000:]
    package = assert_delivered_once(smtp_sink, order, worker)
    assert (markers / f"started-{order.pk}-{second}").read_text().count("\n") == 1  # run again exactly once
    assert client.get(f"/orders/{order.public_id}/status.json").json()["file_ready"] is True
    download = client.get(client.get(f"/orders/{order.public_id}/status.json").json()["download_url"])
    assert download.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist() == package.namelist()


# --------------------------------------------------------------------------- 2. SMTP refusing for a while


def test_smtp_refusing_mail_for_a_while_is_retried_and_each_email_arrives_once_with_a_working_password(
        shop, client, smtp_sink, celery_worker_process):
    # test_shop_e2e covers the SMTP server being down (connection refused). Here it answers
    # but refuses every message with a temporary 451 for a while: the worker retries each
    # email with backoff (EMAIL_RETRY_SECONDS, 1 s here), nothing is recorded as sent, and the
    # login email's password is set only by the attempt that went out.
    celery_worker_process.restart(EMAIL_RETRY_SECONDS=1)
    smtp_sink.reject()
    order = buy(client, email="uma@example.com")
    records = EmailRecord.objects.filter(order=order)
    # the three emails (login, file, receipt) refused, retried, refused again
    assert wait_for(lambda: smtp_sink.rejected >= 6 and records.count() == 3
                    and all("451" in r.last_error for r in records), 30)
    assert smtp_sink.messages == []
    assert not records.filter(sent_at__isnull=False).exists()
    assert client.get(f"/orders/{order.public_id}/status.json").json()["file_ready"] is True  # meanwhile
    smtp_sink.accept()
    assert_delivered_once(smtp_sink, order, celery_worker_process)
    assert re.search(r"order \d+: (file|account) email .*failed .*451.*retry in", celery_worker_process.log_text())


# --------------------------------------------------------------------------- 3. Redis restarted


class RedisServer:
    """A private redis-server on a free port (never the shared one), restartable."""

    def __init__(self, directory: Path, persistent: bool):
        self.directory, self.persistent = directory, persistent
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.started_once = False
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log = self.directory / "redis.log"

    def start(self) -> None:
        """Start on ``port``. If another process took the port since it was chosen, the first
        start moves to another free one; a restart (the port is in the URL the workers use)
        waits for it to be released."""
        for attempt in range(20):
            if self._start_once():
                self.started_once = True
                return
            if not self.started_once:
                self.port = free_port()
                self.url = f"redis://127.0.0.1:{self.port}/0"
            else:
                time.sleep(0.25)
        pytest.fail(f"redis-server did not start: {self.log.read_text()[-2000:]}")

    def _start_once(self) -> bool:
        """True: up; False: the port was taken (it exited saying so); fails otherwise."""
        import redis

        binary = shutil.which("redis-server")
        if binary is None:
            service_missing("redis-server is not installed (apt-get install redis-server)")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", str(self.directory),
                "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "always"]
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

        def up():
            if self.process.poll() is not None:
                return True
            try:  # ours, not another process's server on that port
                info = redis.Redis(port=self.port, socket_connect_timeout=0.5).info("server")
                return info["process_id"] == self.process.pid
            except redis.RedisError:
                return False

        if wait_until(up, 15, 0.05) and self.process.poll() is None:
            return True
        self.stop()
        with open(self.log, "rb") as log:
            log.seek(offset)
            if b"Address already in use" in log.read():
                return False
        pytest.fail(f"redis-server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Shut down as a restart does (SIGTERM: with appendonly, everything is on disk)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(15)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_connect_timeout=2)


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path / "redis", persistent=True)
    server.start()
    yield server
    server.stop()


def on_private_redis(worker: CeleryWorker, redis_server: RedisServer, settings) -> CeleryWorker:
    """A worker, the test process's Celery app and its cache, all on ``redis_server``."""
    settings.CACHES = {"default": {"BACKEND": "portal.lib.resilient_cache.ResilientRedisCache",
                                   "LOCATION": redis_server.url,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    _point_celery_app_at({"broker_url": redis_server.url, "result_backend": redis_server.url,
                          "broker_transport_options": {}, "task_always_eager": False})
    return CeleryWorker.like(worker, "private-redis", REDIS_URL=redis_server.url)


@pytest.fixture
def redis_worker(shop, celery_worker_process, private_redis, settings):
    worker = on_private_redis(celery_worker_process, private_redis, settings)
    yield worker
    worker.stop(timeout=5)
    _point_celery_app_at({"broker_url": celery_worker_process.redis_url,
                          "result_backend": celery_worker_process.redis_url})


@pytest.mark.parametrize("persistent", [True, False], ids=["appendonly", "no-persistence"])
def test_redis_restarted_while_a_build_is_queued(persistent, redis_worker, private_redis, client, smtp_sink):
    private_redis.persistent = persistent
    private_redis.restart()  # now with the persistence of the case
    order = buy(client, email="rita@example.com")   # no worker yet: the build waits in Redis
    assert private_redis.client().llen("celery") == 1
    private_redis.restart()
    redis_worker.start()
    if persistent:  # appendonly (production): the queued build survived the restart
        assert_delivered_once(smtp_sink, order, redis_worker)
    else:           # no persistence: the queue is gone, and nothing else would ever deliver the order ...
        assert private_redis.client().llen("celery") == 0
        redis_worker.wait_idle()
        order.refresh_from_db()
        assert order.package_key == "" and smtp_sink.messages == []
        # ... but the recovery job (Celery beat / manage.py resume_orders) finds it
        [resumed] = resume_orders(older_than=0)
        assert resumed.order == str(order.public_id) and resumed.step == "build" and resumed.queued
        assert_delivered_once(smtp_sink, order, redis_worker)
    assert resume_orders(older_than=0) == []       # nothing left to resume, nothing sent twice
    redis_worker.wait_idle()
    assert len(mails_to(smtp_sink, order.email)) == 3


def test_redis_down_when_the_webhook_fulfils_the_order_loses_nothing(redis_worker, private_redis, client,
                                                                     smtp_sink, localstripe, live_server):
    redis_worker.start()
    order = charged_order(client, "rosa@example.com")
    body, header = signed_event(order, localstripe.webhook_secret)
    private_redis.stop()
    # Stripe's webhook arrives while Redis is down: the order is paid and fulfilled (account,
    # email records) but the build cannot be queued. The webhook must still answer 2xx (it
    # did the work: a 500 would only make Stripe replay an event that is then a no-op).
    status, answer = post(live_server.url + reverse("webhook-stripe"), body, webhook_headers(header))
    assert status == 200, answer
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.fulfilled_at and order.package_key == ""
    assert StripeEvent.objects.get(type="payment_intent.succeeded").processed_at is not None
    state = client.get(f"/orders/{order.public_id}/status.json")
    assert state.status_code == 200 and state.json()["paid"] is True and state.json()["file_ready"] is False
    # A replay by Stripe changes nothing (the event is stored and processed).
    assert post(live_server.url + reverse("webhook-stripe"), body, webhook_headers(header)) == (200, b"already received")

    private_redis.start()  # back (empty: it was never persisted, and nothing was queued anyway)
    redis_worker.wait_idle()
    order.refresh_from_db()
    assert order.package_key == "" and smtp_sink.messages == []      # lost, without recovery
    out = io.StringIO()
    call_command("resume_orders", "--older-than", "0", "--json", stdout=out)
    assert [(r["order"], r["step"], r["queued"]) for r in json.loads(out.getvalue())] == [
        (str(order.public_id), "build", True)]
    assert_delivered_once(smtp_sink, order, redis_worker)   # the worker reconnected to the restarted Redis by itself
    assert redis_worker.alive
    out = io.StringIO()
    call_command("resume_orders", "--older-than", "0", "--json", stdout=out)
    assert json.loads(out.getvalue()) == []


def test_redis_down_when_the_customer_pays_the_success_page_still_answers(redis_worker, private_redis, client,
                                                                          smtp_sink):
    # The browser's payment request fulfils too (the webhook may come later): queueing the
    # build after the commit used to raise out of the view, a 500 for a paid customer.
    redis_worker.start()
    private_redis.stop()
    order = buy(client, email="ruth@example.com")     # asserts the payment request answered "succeeded"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.fulfilled_at
    assert client.get(reverse("shop-order", args=[order.public_id])).status_code == 200
    private_redis.start()
    assert [r.step for r in resume_orders(older_than=0)] == ["build"]
    assert_delivered_once(smtp_sink, order, redis_worker)


def test_pages_using_the_cache_keep_working_while_redis_restarts(client, settings, tmp_path, caplog):
    # The cache holds nothing that cannot be lost: a Redis without persistence, as a cache may be.
    private_redis = RedisServer(tmp_path / "redis", persistent=False)
    private_redis.start()
    try:
        _pages_while_redis_restarts(private_redis, client, settings, tmp_path, caplog)
    finally:
        private_redis.stop()


def cache_answers() -> bool:
    """The cache stores and returns a value (not the no-op of a cache that is down)."""
    probe = uuid.uuid4().hex
    cache.set("faults:probe", probe, 30)
    return cache.get("faults:probe") == probe


def _pages_while_redis_restarts(private_redis, client, settings, tmp_path, caplog):
    settings.CACHES = {"default": {"BACKEND": "portal.lib.resilient_cache.ResilientRedisCache",
                                   "LOCATION": private_redis.url,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    settings.LOGIN_FAILURES_PER_EMAIL = 3
    make_release(tmp_path)
    User.objects.create_user(email="lena@example.com", password="right-horse-battery")
    clusters = "/map/clusters.json?bbox=-10,35,30,60&zoom=4"

    def fail_login():
        return client.post("/account/login/", {"username": "lena@example.com", "password": "wrong"})

    assert client.get(clusters).status_code == 200
    assert [fail_login().status_code for _ in range(3)] == [200, 200, 429]   # the limit works on Redis

    private_redis.stop()
    with caplog.at_level(logging.DEBUG, logger="portal.lib.resilient_cache"):
        assert client.get("/").status_code == 200
        assert client.get(clusters).status_code == 200                # computed, not cached
        assert fail_login().status_code == 200                        # the counters are gone with Redis ...
        assert client.post("/account/login/", {"username": "lena@example.com",
                                               "password": "right-horse-battery"}).status_code == 302
        client.logout()
    # No long waits per request: each failed attempt is logged, and after one the cache is not
    # asked again for a while (RETRY_AFTER), so a few requests make few attempts. (How long a
    # request takes is benchmarks' business, not a test's.)
    attempts = [r for r in caplog.records if r.getMessage().startswith("cache unavailable")]
    assert 1 <= len(attempts) and [r.levelno for r in attempts][:1] == [logging.ERROR]
    assert all(r.levelno == logging.DEBUG for r in attempts[1:])      # one error per outage

    private_redis.start()                                             # ... and count again once it is back
    assert wait_until(cache_answers, 15, 0.1)                         # after the backend's pause (RETRY_AFTER)
    assert [fail_login().status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(clusters).status_code == 200


# --------------------------------------------------------------------------- 4. PostgreSQL connections dropped


def pg_connect(autocommit=True):
    """A connection of its own to the test database (psycopg, outside Django)."""
    import psycopg

    db = django_settings.DATABASES["default"]
    return psycopg.connect(dbname=db["NAME"], user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                           host=db.get("HOST") or "127.0.0.1", port=db.get("PORT") or 5432, autocommit=autocommit)


def terminate_backends(keep_pid: int, where: str = "TRUE") -> int:
    """pg_terminate_backend() for every other connection to the test database (``where``: only
    those), from a separate connection, as a PostgreSQL restart or a failover would."""
    with pg_connect() as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                            f"current_database() AND pid <> pg_backend_pid() AND pid <> %s AND ({where})",
                            [keep_pid]).fetchall()
    return len(rows)


def own_backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class Gunicorn:
    """The web server as in production (portal/gunicorn_conf.py), on the test database, with one
    worker process of one thread: every request is answered on the same database connection,
    so "the request after the drop" is the one that finds the dropped connection, whichever
    it is (with GUNICORN_THREADS' default of 4, it may reach a thread that has none yet, or
    another dropped one). It binds port 0 and the port is read back from its log."""

    LISTENING = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+)")

    def __init__(self, env: dict, log: Path):
        self.port = None
        self.url = None
        self.log = log
        self.env = {**env, "GUNICORN_BIND": "127.0.0.1:0", "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1",
                    "GUNICORN_ACCESS_LOG": "-", "GUNICORN_ERROR_LOG": "-", "ALLOWED_HOSTS": "127.0.0.1"}
        self.process = None

    def start(self):
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "portal/gunicorn_conf.py"],
                                            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

        def listening():
            if self.process.poll() is not None:
                return True
            with open(self.log, "rb") as log:
                log.seek(offset)
                found = self.LISTENING.search(log.read())
            if found:
                self.port = int(found.group(1))
                self.url = f"http://127.0.0.1:{self.port}"
            return bool(found)

        def up():
            if self.process.poll() is not None:
                return True
            try:
                return post(self.url + "/", timeout=2)[0] == 200
            except OSError:
                return False

        if not (wait_until(listening, 30, 0.1) and self.process.poll() is None and wait_until(up, 30, 0.2)) \
                or self.process.poll() is not None:
            self.stop()
            pytest.fail(f"gunicorn did not start: {self.log.read_text()[-3000:]}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


@pytest.fixture
def gunicorn(celery_worker_process, tmp_path):
    servers = []

    def make(**env):
        server = Gunicorn({**celery_worker_process.env, **{k: str(v) for k, v in env.items()}},
                          tmp_path / f"gunicorn-{len(servers)}.log")
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (DATABASE_URL): SQLite has no server connection "
                                            "to drop; ./test runs this in its PostgreSQL pass")
def test_postgres_connections_dropped_under_the_web_server_and_the_worker_mid_build(
        shop, client, smtp_sink, celery_worker_process, localstripe, gunicorn, tmp_path):
    worker = celery_worker_process
    markers = tmp_path / "markers"
    markers.mkdir()
    # the build waits (after "started") until the test opens the gate (tests/slow_worker.py)
    worker.restart(module="tests.slow_worker", SLOW_BUILD_DIR=markers, SLOW_BUILD_GATE=1, SLOW_BUILD_SECONDS=60)
    web = gunicorn(SITE_URL=django_settings.SITE_URL)
    own_pid = own_backend_pid()
    assert post(web.url + "/")[0] == 200            # gunicorn's worker now holds a persistent connection
    order = charged_order(client, "paula@example.com")
    body, header = signed_event(order, localstripe.webhook_secret)

    assert terminate_backends(own_pid) >= 1           # the web server's connection (and any other) is gone
    status, answer = post(web.url + reverse("webhook-stripe"), body, webhook_headers(header))
    assert status == 200, (answer, web.log.read_text()[-3000:])   # reconnected (DB_CONN_HEALTH_CHECKS)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.fulfilled_at

    # The worker's connection dropped in the middle of the build: the task fails on its next
    # query, retries, and the order is delivered once.
    started = markers / f"started-{order.pk}-{worker.pid}"
    assert wait_until(started.exists, 20), worker.log_text()[-3000:]
    assert terminate_backends(own_pid) >= 1           # while the build waits at the gate
    (markers / f"go-{order.pk}").touch()
    assert_delivered_once(smtp_sink, order, worker)
    assert started.read_text().count("\n") == 2       # the first attempt failed, the retry built it
    assert "database error" in worker.log_text()
    assert post(web.url + "/")[0] == 200


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (DATABASE_URL): SQLite has no server connection "
                                            "to drop; ./test runs this in its PostgreSQL pass")
def test_without_connection_health_checks_a_dropped_connection_fails_the_next_request(
        shop, gunicorn, celery_worker_process):
    # Why DB_CONN_HEALTH_CHECKS defaults to on: the same drop with it off is an error page.
    # One worker, one thread (the Gunicorn class): each request below uses the connection
    # the one before left open, so the outcome does not depend on which thread answers.
    web = gunicorn(DB_CONN_HEALTH_CHECKS=0)
    own_pid = own_backend_pid()
    assert post(web.url + "/")[0] == 200              # the worker keeps its connection open (DB_CONN_MAX_AGE)
    assert terminate_backends(own_pid) >= 1           # ... and it is dropped
    assert post(web.url + "/")[0] == 500
    assert post(web.url + "/")[0] == 200              # Django drops the broken connection after the error


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (DATABASE_URL): SQLite has no server connection "
                                            "to drop; ./test runs this in its PostgreSQL pass")
def test_a_webhook_whose_connection_dropped_during_the_fulfilment_is_processed_when_stripe_retries(
        shop, client, smtp_sink, celery_worker_process, localstripe, gunicorn):
    web = gunicorn(SITE_URL=django_settings.SITE_URL)
    url = web.url + reverse("webhook-stripe")
    own_pid = own_backend_pid()
    order = charged_order(client, "petra@example.com")
    body, header = signed_event(order, localstripe.webhook_secret)
    with pg_connect(autocommit=False) as locker, ThreadPoolExecutor(1) as pool:
        # Hold the order row: the webhook stores the event, then waits for the row lock ...
        locker.execute(f"SELECT id FROM {Order._meta.db_table} WHERE id = %s FOR UPDATE", [order.pk])
        delivery = pool.submit(post, url, body, webhook_headers(header))
        assert wait_until(lambda: StripeEvent.objects.filter(type="payment_intent.succeeded").exists(), 15)
        waiting = "wait_event_type = 'Lock'"
        assert wait_until(lambda: terminate_backends(own_pid, waiting) == 1, 15)  # ... and its connection drops
        assert delivery.result(timeout=30)[0] == 500                             # so Stripe will retry
        locker.rollback()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.fulfilled_at is None and smtp_sink.messages == []
    assert StripeEvent.objects.get(type="payment_intent.succeeded").processed_at is None
    # Stripe's retry of the stored but unprocessed event does the work (it used to be a no-op:
    # "already received", and the paid order was never delivered).
    assert post(url, body, webhook_headers(header)) == (200, b"ok")
    assert_delivered_once(smtp_sink, order, celery_worker_process)
    assert StripeEvent.objects.get(type="payment_intent.succeeded").processed_at is not None
    assert post(url, body, webhook_headers(header)) == (200, b"already received")


# --------------------------------------------------------------------------- 5. the same webhook many times at once


def test_the_same_webhook_delivered_many_times_at_once_fulfils_the_order_once(
        shop, client, smtp_sink, celery_worker_process, localstripe, live_server):
    order = charged_order(client, "vera@example.com")
    body, header = signed_event(order, localstripe.webhook_secret)
    url = live_server.url + reverse("webhook-stripe")
    copies = 16
    barrier = threading.Barrier(copies)

    def deliver(_):
        barrier.wait(10)
        return post(url, body, webhook_headers(header), timeout=60)

    with ThreadPoolExecutor(copies) as pool:
        answers = list(pool.map(deliver, range(copies)))
    assert [status for status, _ in answers] == [200] * copies, answers
    assert all(text in (b"ok", b"already received") for _, text in answers)
    assert StripeEvent.objects.filter(type="payment_intent.succeeded").count() == 1
    assert StripeEvent.objects.get(type="payment_intent.succeeded").processed_at is not None
    assert_delivered_once(smtp_sink, order, celery_worker_process)
    assert EmailRecord.objects.filter(order=order).count() == 3
    assert Order.objects.filter(email="vera@example.com", fulfilled_at__isnull=False).count() == 1
