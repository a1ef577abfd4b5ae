"""Real services for end-to-end tests: localstripe, an SMTP sink, a Celery worker, Chromium.

Nothing here is a stand-in and nothing reaches the internet. A fixture whose service is
missing fails the test when ``CI`` is set and skips it, with the reason, otherwise.

Fixtures (imported into tests/conftest.py)

``localstripe`` (function; on top of the session-scoped ``localstripe_server``)
    A localstripe server for this pytest process, emptied (``DELETE /_config/data``) before
    and after the test. Sets ``settings.STRIPE_API_BASE``/``STRIPE_JS_URL``/keys and the
    ``stripe`` module's ``api_base``/``api_key``. ``localstripe.register_webhook(url)`` makes
    localstripe POST every event, signed with ``localstripe.webhook_secret``, to ``url``
    about one second after it happens (to every registered URL: match events by object id).

    Sharing: one localstripe *per pytest process* (per xdist worker), never shared with
    another worker or another pytest run, so resetting it disturbs nobody. ``./test`` starts
    them on ports ``LOCALSTRIPE_PORT`` (8420, or the next free block) + worker index (gw0 ->
    8420, gw1 -> 8421) and exports ``LOCALSTRIPE_PORT``; a plain ``pytest`` (no
    ``LOCALSTRIPE_PORT``) starts a private one on a free port. Either way a missing one is
    started by the session fixture (log: VAR_DIR/log/localstripe-<port>.log) and stopped at
    the end. :func:`configure_test_process` points every test process's settings (and the
    environment of the processes it starts) at its own instance at start-up, so code under
    test never sees api.stripe.com even without the fixture.

``smtp_sink`` (function; on top of the session-scoped ``smtp_server``)
    An aiosmtpd server on a free localhost port, kept for the whole session (a session-lived
    Celery worker is configured with its address). Clears the collected mail, sets Django's
    SMTP settings (``EMAIL_BACKEND``/``EMAIL_HOST``/``EMAIL_PORT``) and offers ``messages``
    (:class:`ReceivedMail`: ``.message`` an ``email.message.EmailMessage``, ``.rcpt_tos``,
    ``.mail_from``), ``wait_for(count, timeout)``, ``stop()``/``start()`` (connection
    refused) and ``reject()``/``accept()`` (a temporary ``451`` answer to DATA) for "SMTP down".

``celery_worker_process`` (function; on top of the session-scoped ``celery_worker_server``)
    A real ``celery -A portal worker -P solo -c 1`` subprocess, started once per session and
    reused (restarted when a test killed it). Its environment: the test database (see below),
    a Redis DB of its own as broker and result backend (``TEST_REDIS_DB_BASE`` (10) + xdist
    worker index, or the next one not locked by another pytest process on this machine;
    flushed at session start, queue purged before each test), the SMTP sink, this
    worker's localstripe, and shared ``RELEASES_DIR``/``PACKAGES_DIR`` directories (emptied
    before each test; the fixture points the test's settings at them). For the duration of
    the test the test process's Celery app also uses that Redis DB, with eager mode off.
    ``kill()`` (SIGKILL), ``stop()``, ``start()``, ``restart(**extra_env)``, ``pid``,
    ``alive``, ``log_text()`` (this test's part), ``wait_idle()`` (nothing queued, nothing held by a worker: no
    task can still run, e.g. send a second email). Log: VAR_DIR/log/celery-<xdist worker>.log.
    ``start(module="tests.slow_worker", SLOW_BUILD_DIR=..., SLOW_BUILD_SECONDS=...)`` starts it
    through a test-only wrapper whose package builds signal and sleep (tests/slow_worker.py),
    for tests that act in the middle of a build; like ``extra_env`` it holds until the end of
    the test. ``CeleryWorker.like(worker, name, **env)`` makes another worker with the same
    environment (e.g. on a private Redis: ``REDIS_URL=...``); the test starts and stops it.

    The worker is another process: it only sees committed data. Tests using it must use
    ``@pytest.mark.django_db(transaction=True)`` (checked). The database it opens:
    PostgreSQL: ``DATABASE_URL`` naming the test database pytest-django created
    (test_postgres_gw0, ...). SQLite: ``SQLITE_PATH`` = the test database *file*
    (settings ``DATABASES["default"]["TEST"]["NAME"]``, VAR_DIR/test-db.sqlite3_gw0, ...).

``browser`` (session) and ``page`` (function)
    Headless Debian Chromium (``CHROMIUM_PATH``, default /usr/bin/chromium) driven by
    Playwright; never downloads a browser. Each ``page`` has a fresh context; requests to any
    host but localhost are aborted and recorded, and the test fails at teardown if there was
    one -- except for the map tile host (settings.MAP_TILES_URL), aborted silently. Use
    pytest-django's ``live_server`` as the web server.

``webhook_sink`` (function)
    A tiny HTTP server thread collecting POSTed webhook deliveries (``wait_for(predicate)``).

``_quiet_before_flush`` (function, autouse)
    After a transactional test (``transaction=True`` or ``transactional_db``) with a live
    server or a Celery worker, before pytest-django empties the database: waits until the
    live server handles no request and the Celery worker holds no task
    (:func:`quiet_before_flush`); a worker still busy after 30 s is stopped. Otherwise the
    order emails a worker sends after the test's last assertion can deadlock PostgreSQL's
    TRUNCATE, and the next test starts on the last one's rows.

The cache on Redis (PostgreSQL pass, ``REDIS_URL`` set)
    Each pytest process moves the cache (and its Celery app) off the suite's ``REDIS_URL`` DB
    to a Redis DB of its own (``TEST_REDIS_DB_BASE`` - 1 - xdist worker index, or the next one
    no other pytest process holds; flushed when claimed), in :func:`configure_test_process`:
    a ``cache.clear()`` (FLUSHDB) in one xdist worker must not wipe the login counters or build
    markers of a test running in the other.

Ports
    Servers bind port 0 where they can and read the port back (webhook sink, gunicorn in the
    fault tests); where the port must be known first (localstripe, the SMTP sink, a private
    redis-server), a start that finds it taken (another process got it between the choice and
    the bind) tries another free port.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

LOCALSTRIPE_PORT = int(os.environ.get("LOCALSTRIPE_PORT") or 0)  # 0: a free port per process
TEST_STRIPE_SECRET_KEY = "sk_test_localstripe"
TEST_STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
TEST_STRIPE_WEBHOOK_SECRET = "whsec_localstripe"
CELERY_REDIS = os.environ.get("TEST_CELERY_REDIS", "redis://127.0.0.1:6379")
TEST_REDIS_DB_BASE = int(os.environ.get("TEST_REDIS_DB_BASE") or 10)
# The suite's REDIS_URL DB as given (./test: 15), never claimed by a test process.
SUITE_REDIS_DB = urllib.parse.urlsplit(os.environ.get("REDIS_URL", "")).path.strip("/")
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}

# Direct connections only: a proxy from the environment must never see test traffic.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def service_missing(message: str):
    """A service a test needs is not there: fail in CI, skip (with the reason) locally."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services are required)", pytrace=False)
    pytest.skip(message)


def transactional(request) -> bool:
    """Whether the test commits (pytest-django empties the database after it)."""
    marker = request.node.get_closest_marker("django_db")
    return "transactional_db" in request.fixturenames or (
        marker is not None and bool(marker.kwargs.get("transaction") or (len(marker.args) > 0 and marker.args[0])))


def xdist_worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "master")


def xdist_index() -> int:
    name = xdist_worker()
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_dir() -> Path:
    from django.conf import settings

    path = Path(settings.VAR_DIR) / "log"
    path.mkdir(parents=True, exist_ok=True)
    return path


def wait_until(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# --------------------------------------------------------------------------- localstripe


_localstripe_port: int | None = None


def wait_steady(busy, timeout: float, steady: float, interval: float = 0.05):
    """Poll ``busy()`` (what is still going on, falsy when nothing) until it has said nothing
    ``steady`` seconds in a row, or ``timeout`` has passed: returns its last answer (falsy:
    quiet)."""
    quiet_since = None
    deadline = time.monotonic() + timeout
    while True:
        left = busy()
        now = time.monotonic()
        if left:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= steady:
            return left
        if now >= deadline:
            return left
        time.sleep(interval)


def localstripe_url() -> str:
    global _localstripe_port
    if _localstripe_port is None:
        # ./test started LOCALSTRIPE_INSTANCES of them from LOCALSTRIPE_PORT, one per worker.
        started = int(os.environ.get("LOCALSTRIPE_INSTANCES") or 1)
        use_started = LOCALSTRIPE_PORT and xdist_index() < started
        _localstripe_port = LOCALSTRIPE_PORT + xdist_index() if use_started else free_port()
    return f"http://localhost:{_localstripe_port}"


def _move_localstripe() -> str:
    """A private localstripe on another free port: this process's settings follow."""
    global _localstripe_port
    _localstripe_port = free_port()
    _configure_stripe()
    return localstripe_url()


def configure_test_process(config=None) -> None:
    """Called from pytest_configure: point this process (and the processes it starts) at its
    own localstripe, whatever the environment says, so no test can reach api.stripe.com; the
    cache on a Redis DB of its own (not in the xdist controller, which runs no test)."""
    from django.conf import settings

    _configure_stripe()
    REQUESTS_IN_FLIGHT.connect()
    # The SQLite test database is a file (so a Celery worker can open it): one per pytest
    # process, so that two runs in one work tree never share it (pytest-xdist adds _gwN too).
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3") and not os.environ.get("SQLITE_TEST_PATH"):
        test_name = Path(db.setdefault("TEST", {}).get("NAME") or Path(settings.VAR_DIR) / "test-db.sqlite3")
        db["TEST"]["NAME"] = str(test_name.with_name(f"{test_name.stem}-{os.getpid()}{test_name.suffix}"))
    xdist_controller = config is not None and not hasattr(config, "workerinput") and bool(
        config.getoption("numprocesses", default=None))
    if not xdist_controller:
        _own_cache_redis_db()


def _configure_stripe() -> None:
    import stripe
    from django.conf import settings

    values = {
        "STRIPE_API_BASE": localstripe_url(),
        "STRIPE_JS_URL": f"{localstripe_url()}/js.stripe.com/v3/",
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", "").strip() or TEST_STRIPE_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", "").strip() or TEST_STRIPE_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", "").strip() or TEST_STRIPE_WEBHOOK_SECRET,
    }
    if not values["STRIPE_SECRET_KEY"].startswith("sk_test_"):
        values["STRIPE_SECRET_KEY"] = TEST_STRIPE_SECRET_KEY  # never a live key in tests
    for name, value in values.items():
        os.environ[name] = value
        setattr(settings, name, value)
    stripe.api_base = values["STRIPE_API_BASE"]
    stripe.api_key = values["STRIPE_SECRET_KEY"]
    stripe.enable_telemetry = False


_cache_redis_lock = None  # held for the life of the process


def _own_cache_redis_db() -> None:
    """With REDIS_URL set: the cache and the Celery app of this process on a Redis DB of its own
    (see the module docstring), so that no other test process flushes it or is flushed by it."""
    global _cache_redis_lock
    from django.conf import settings

    suite_url = getattr(settings, "REDIS_URL", "") or ""
    if not suite_url or _cache_redis_lock is not None:
        return
    parts = urllib.parse.urlsplit(suite_url)
    url, _cache_redis_lock = claim_redis_db(TEST_REDIS_DB_BASE - 1 - xdist_index(),
                                            f"{parts.scheme}://{parts.netloc}")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()  # ours alone (the lock)
    except Exception:  # noqa: BLE001  Redis down: the tests needing it say so
        pass
    settings.REDIS_URL = url
    os.environ["REDIS_URL"] = url
    for alias in settings.CACHES.values():
        if str(alias.get("LOCATION", "")).startswith(("redis://", "rediss://")):
            alias["LOCATION"] = url
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    from portal.celery import app

    if app.configured:
        app.conf.update(broker_url=url, result_backend=url)


def _localstripe_answers(url: str) -> bool | None:
    """True: localstripe answers; False: nothing listens; None: something else listens."""
    try:
        with _http.open(f"{url}/js.stripe.com/v3/", timeout=2) as response:
            return b"LOCALSTRIPE" in response.read()
    except urllib.error.HTTPError:
        return None
    except (urllib.error.URLError, OSError):
        return False


class LocalStripe:
    """The localstripe server of this pytest process (see the module docstring)."""

    def __init__(self, url: str):
        self.url = url
        self.js_url = f"{url}/js.stripe.com/v3/"
        self.secret_key = os.environ.get("STRIPE_SECRET_KEY") or TEST_STRIPE_SECRET_KEY
        self.publishable_key = os.environ.get("STRIPE_PUBLISHABLE_KEY") or TEST_STRIPE_PUBLISHABLE_KEY
        self.webhook_secret = os.environ.get("STRIPE_WEBHOOK_SECRET") or TEST_STRIPE_WEBHOOK_SECRET
        self.process: subprocess.Popen | None = None
        self._webhooks: set[str] = set()
        self._counter = 0

    def _request(self, method: str, path: str, payload: dict | None = None) -> None:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with _http.open(request, timeout=10) as response:
            response.read()

    def reset(self) -> None:
        """Empty the store (customers, intents, ...). Registered webhooks stay."""
        self._request("DELETE", "/_config/data")

    def register_webhook(self, url: str, secret: str | None = None, events: list[str] | None = None,
                         webhook_id: str | None = None) -> str:
        """Have localstripe POST events (signed with ``secret``, default ``webhook_secret``) to url."""
        self._counter += 1
        webhook_id = webhook_id or f"{xdist_worker()}-{os.getpid()}-{self._counter}"
        payload = {"url": url, "secret": secret or self.webhook_secret}
        if events is not None:
            payload["events"] = list(events)
        self._request("POST", f"/_config/webhooks/{webhook_id}", payload)
        self._webhooks.add(webhook_id)
        return webhook_id

    def disable_webhooks(self) -> None:
        """localstripe cannot delete a webhook: make the ones we registered match no event."""
        for webhook_id in self._webhooks:
            self._request("POST", f"/_config/webhooks/{webhook_id}",
                          {"url": "http://127.0.0.1:9/disabled", "secret": "whsec_disabled",
                           "events": ["localstripe.webhook.disabled"]})
        self._webhooks.clear()

    def start(self, timeout: float = 20) -> None:
        port = urllib.parse.urlsplit(self.url).port
        log = open(log_dir() / f"localstripe-{port}.log", "ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=log_dir(),
                start_new_session=True)
        finally:
            log.close()
        if not wait_until(lambda: self.process.poll() is not None or _localstripe_answers(self.url), timeout) \
                or self.process.poll() is not None:
            self.stop()
            raise RuntimeError(f"localstripe did not start on port {port} (see {log.name})")

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process)
            self.process = None


def _terminate(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout)


@pytest.fixture(scope="session")
def localstripe_server():
    """This process's localstripe: the one ./test started, else one started here (on a private
    port: one that anything already answers on belongs to another process, so move)."""
    started_by_test = bool(LOCALSTRIPE_PORT) and xdist_index() < int(os.environ.get("LOCALSTRIPE_INSTANCES") or 1)
    server = LocalStripe(localstripe_url())
    state = _localstripe_answers(server.url)
    for _ in range(3):
        if started_by_test or state is False:
            break
        server = LocalStripe(_move_localstripe())  # the private port was taken after we chose it
        state = _localstripe_answers(server.url)
    if state is None:
        service_missing(f"something that is not localstripe answers on {server.url}")
    if not state:
        try:
            import localstripe  # noqa: F401
        except ImportError:
            service_missing("localstripe is not installed (pip install -e '.[test]')")
        for attempt in range(3):
            try:
                server.start()
                break
            except RuntimeError as exc:
                if started_by_test or attempt == 2:
                    service_missing(str(exc))
                # A private port another process took after we chose it: move to another one.
                server = LocalStripe(_move_localstripe())
    yield server
    server.stop()


@pytest.fixture
def localstripe(localstripe_server, settings):
    import stripe

    server = localstripe_server
    server.reset()
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_JS_URL = server.js_url
    settings.STRIPE_SECRET_KEY = server.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = server.publishable_key
    settings.STRIPE_WEBHOOK_SECRET = server.webhook_secret
    stripe.api_base, stripe.api_key = server.url, server.secret_key
    yield server
    server.disable_webhooks()
    server.reset()


# --------------------------------------------------------------------------- webhooks


@dataclass
class Delivery:
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class WebhookSink:
    """An HTTP server thread on localhost that answers 200 to every POST and keeps it."""

    def __init__(self, status: int = 200):
        self.status = status
        self.deliveries: list[Delivery] = []
        self._lock = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink._lock:
                    sink.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                    sink._lock.notify_all()
                self.send_response(sink.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, predicate=lambda delivery: True, timeout: float = 10) -> Delivery:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for delivery in self.deliveries:
                    if predicate(delivery):
                        return delivery
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching webhook delivery within {timeout} s "
                                         f"({len(self.deliveries)} received)")
                self._lock.wait(remaining)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_sink():
    sink = WebhookSink()
    yield sink
    sink.close()


# --------------------------------------------------------------------------- SMTP


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes = field(repr=False)


class SmtpSink:
    """aiosmtpd on 127.0.0.1:<port>, collecting what it receives (see the module docstring)."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None):
        self.host = host
        self.port = port or free_port()
        self.messages: list[ReceivedMail] = []
        self.rejected = 0  # DATA answered with the temporary error while rejecting
        self._reject_reply: str | None = None
        self._controller = None
        self._started_once = False  # then the port is known to others (the worker's environment)
        self._lock = threading.Condition()

    # aiosmtpd handler hook
    async def handle_DATA(self, server, session, envelope):
        if self._reject_reply:
            with self._lock:
                self.rejected += 1
                self._lock.notify_all()
            return self._reject_reply
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
            self._lock.notify_all()
        return "250 Message accepted for delivery"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listen (again, on the same port). The first start moves to another free port if
        another process took this one; a restart waits a little for it to be released."""
        import errno

        from aiosmtpd.controller import Controller

        attempt = 0
        while self._controller is None:
            controller = Controller(self, hostname=self.host, port=self.port, server_hostname="localhost",
                                    ready_timeout=10)
            try:
                controller.start()
            except OSError as exc:
                attempt += 1
                if exc.errno != errno.EADDRINUSE or attempt >= 20:
                    raise
                if not self._started_once:
                    self.port = free_port()
                else:
                    time.sleep(0.25)
                continue
            self._controller = controller
            self._started_once = True

    def stop(self) -> None:
        """Stop listening: clients get "connection refused"."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def reject(self, reply: str = "451 4.3.0 Temporary failure, please try again later") -> None:
        """Keep listening but answer DATA with a temporary (4xx) error."""
        self._reject_reply = reply

    def accept(self) -> None:
        self._reject_reply = None

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.rejected = 0

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[ReceivedMail]:
        """Wait until at least ``count`` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} message(s) at the SMTP sink within {timeout} s, "
                                         f"got {len(self.messages)}")
                self._lock.wait(remaining)
            return list(self.messages)

    def env(self) -> dict[str, str]:
        """Environment for another process (the Celery worker) to send here."""
        return {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": self.host,
                "EMAIL_PORT": str(self.port), "EMAIL_USE_TLS": "0", "EMAIL_HOST_USER": "",
                "EMAIL_HOST_PASSWORD": "", "EMAIL_TIMEOUT": "5"}


@pytest.fixture(scope="session")
def smtp_server():
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        service_missing("aiosmtpd is not installed (pip install -e '.[test]')")
    sink = SmtpSink()
    try:
        sink.start()
    except Exception as exc:  # noqa: BLE001
        service_missing(f"the SMTP sink could not start on {sink.host}:{sink.port}: {exc}")
    yield sink
    sink.stop()


@pytest.fixture
def smtp_sink(smtp_server, settings):
    sink = smtp_server
    sink.accept()
    sink.start()
    sink.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = False, False
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "", ""
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.accept()
    sink.start()  # a test that stopped it leaves it running for the next one
    sink.clear()


# --------------------------------------------------------------------------- Celery worker


def claim_redis_db(first: int | None = None, server: str = CELERY_REDIS):
    """A Redis DB number on ``server`` for this process: ``first`` (default: the worker's,
    TEST_REDIS_DB_BASE + xdist index), else the next one no other pytest process on this
    machine holds (an flock held as long as the returned file is open). Never 0
    (development) nor the suite's REDIS_URL DB. Returns (url, lock file)."""
    import fcntl
    import tempfile

    first = TEST_REDIS_DB_BASE + xdist_index() if first is None else first
    candidates = [db for db in [first, *range(1, 16)] if 1 <= db <= 15 and str(db) != SUITE_REDIS_DB]
    host = urllib.parse.urlsplit(server).netloc.replace(":", "_")
    for db in dict.fromkeys(candidates):
        lock = open(Path(tempfile.gettempdir()) / f"speedcam-test-redis-{host}-{db}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        return f"{server}/{db}", lock
    pytest.fail("every Redis DB is held by another pytest process; fewer workers?", pytrace=False)


def database_env() -> dict[str, str]:
    """How another process opens the database this test process uses (the test database)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    engine = db["ENGINE"]
    if engine.endswith("sqlite3"):
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name or not os.path.isabs(name):
            pytest.fail(f"the SQLite test database {name!r} is not a file another process can open "
                        "(set DATABASES['default']['TEST']['NAME'])", pytrace=False)
        return {"SQLITE_PATH": name}
    if engine.endswith(("postgresql", "postgis")):
        user = urllib.parse.quote(db.get("USER") or "", safe="")
        password = urllib.parse.quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "127.0.0.1"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return {"DATABASE_URL": f"postgres://{auth}{host}{port}/{urllib.parse.quote(db['NAME'], safe='')}"}
    pytest.fail(f"the Celery worker fixture does not know how to share a {engine} database", pytrace=False)


class CeleryWorker:
    """A ``celery -A portal worker`` subprocess (see the module docstring)."""

    DEFAULT_MODULE = "celery"

    def __init__(self, env: dict[str, str], log_path: Path, name: str):
        self.env = env
        self.log_path = log_path
        self.name = name
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.extra_env: dict[str, str] = {}  # set by restart(), dropped after the test
        self.module = self.DEFAULT_MODULE    # or "tests.slow_worker" (start(module=...)), reset after the test
        self.mark_log()
        _WORKERS.add(self)

    @classmethod
    def like(cls, other: "CeleryWorker", name: str, **env) -> "CeleryWorker":
        """Another worker with ``other``'s environment plus ``env``, logging to its own file."""
        return cls({**other.env, **{k: str(v) for k, v in env.items()}},
                   other.log_path.with_name(f"celery-{name}-{xdist_worker()}.log"),
                   f"{name}-{xdist_worker()}-{os.getpid()}@localhost")

    @property
    def customised(self) -> bool:
        """Started with extra environment or through another module (the fixture resets it)."""
        return bool(self.extra_env) or self.module != self.DEFAULT_MODULE

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = 60, module: str | None = None, **extra_env) -> None:
        """Start unless running; ``extra_env`` as for :meth:`restart`; ``module``: run
        ``python -m MODULE`` instead of ``python -m celery -A portal`` (tests/slow_worker.py)."""
        if self.alive:
            return
        self.extra_env.update({k: str(v) for k, v in extra_env.items()})
        if module is not None:
            self.module = module
        entry = ["-m", "celery", "-A", "portal"] if self.module == "celery" else ["-m", self.module]
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *entry, "worker", "--pool=solo", "--concurrency=1",
                 "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
                 f"--hostname={self.name}"],
                env={**self.env, **self.extra_env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        self.starts += 1

        def ready():
            if self.process.poll() is not None:
                return True
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                return b" ready." in log.read()

        if not wait_until(ready, timeout, 0.1) or self.process.poll() is not None:
            tail = self.log_text()[-3000:]
            self.kill()
            pytest.fail(f"the Celery worker did not start within {timeout} s; log {self.log_path}:\n{tail}",
                        pytrace=False)

    def stop(self, timeout: float = 15) -> None:
        """Warm shutdown (SIGTERM: finish the current task), SIGKILL after ``timeout``."""
        if self.process is not None:
            _terminate(self.process, timeout)
            self.process = None

    def kill(self) -> None:
        """Kill the worker hard (SIGKILL), as a crash or an OOM kill would."""
        if self.process is not None:
            if self.process.poll() is None:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.wait(10)
            self.process = None

    def restart(self, module: str | None = None, **extra_env) -> None:
        """Stop (warm) and start again; ``extra_env`` holds until the end of the test, e.g.
        ``restart(CELERY_VISIBILITY_TIMEOUT=2)`` so a killed worker's task comes back in 2 s."""
        self.stop()
        self.start(module=module, **extra_env)

    def mark_log(self) -> None:
        """From now on ``log_text()`` starts here (the fixture marks each test's start)."""
        self._log_from = self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_text(self) -> str:
        """The log since this test began (the file keeps every session's: an assertion on it
        must not pass on an earlier run's lines)."""
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as log:
            log.seek(self._log_from)
            return log.read().decode(errors="replace")

    def broker(self):
        """A client of this worker's Redis (broker and result backend)."""
        import redis

        return redis.Redis.from_url(self.env["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)

    def busy(self, client=None) -> str:
        """What is left for a worker on this broker ("" if nothing): queued messages, and
        messages a worker holds (acks_late: running, or waiting for their countdown/ETA)."""
        client = client or self.broker()
        left = [f"{key.decode(errors='replace')}: {client.llen(key)}" for key in client.scan_iter(_type="list")
                if b"pidbox" not in key and client.llen(key)]
        unacked = client.hlen("unacked")
        return ", ".join(left + ([f"unacked: {unacked}"] if unacked else []))

    def wait_idle(self, timeout: float = 60, steady: float = 0.5) -> None:
        """Wait until no task is queued or held by a worker, ``steady`` seconds in a row
        (a worker moves a message from the queue to "unacked" in two steps). Then nothing can
        happen any more that a task would do: the condition to check "exactly once" on,
        instead of sleeping."""
        client = self.broker()
        try:
            left = wait_steady(lambda: self.busy(client), timeout, steady)
        finally:
            client.close()
        if left:
            raise AssertionError(f"the Celery worker still had work after {timeout} s ({left}); "
                                 f"log {self.log_path}:\n{self.log_text()[-2000:]}")


_WORKERS: "weakref.WeakSet[CeleryWorker]" = weakref.WeakSet()  # every worker this process made


class RequestsInFlight:
    """The requests Django is handling in this process's other threads (the live server's),
    from ``request_started`` to ``request_finished`` (sent when the response is closed)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()

    def connect(self) -> None:
        from django.core.signals import request_finished, request_started

        request_started.connect(self._started, dispatch_uid="tests.services.requests_in_flight.started")
        request_finished.connect(self._finished, dispatch_uid="tests.services.requests_in_flight.finished")

    def _started(self, **_):
        with self._lock:
            self._threads.add(threading.current_thread())

    def _finished(self, **_):
        with self._lock:
            self._threads.discard(threading.current_thread())

    def running(self) -> int:
        """Requests still being handled by live threads other than this one (a thread that
        died mid-request, e.g. on a dropped connection, handles nothing any more)."""
        me = threading.current_thread()
        with self._lock:
            self._threads = {t for t in self._threads if t.is_alive()}
            return sum(1 for t in self._threads if t is not me)


REQUESTS_IN_FLIGHT = RequestsInFlight()


def quiet_before_flush(workers, timeout: float = 30, steady: float = 0.2) -> list[str]:
    """Wait until no live-server request is being handled and no Celery task is queued or
    held by ``workers``, ``steady`` seconds in a row; stop a worker that is still busy then.
    What it returns is what was still going on at ``timeout`` (empty when all went quiet).

    A transactional test's database is emptied after it (TRUNCATE, which waits for every
    lock). A task or a request still reading then -- the order emails the worker sends after
    the download appeared, a webhook localstripe delivers a second after the payment -- can
    take its locks in the other order: PostgreSQL then cancels the TRUNCATE as a deadlock, and
    the next test starts on the last one's rows."""
    clients = {worker: worker.broker() for worker in workers if worker.alive}

    def busy() -> list[str]:
        requests = REQUESTS_IN_FLIGHT.running()
        return [f"{requests} live-server request(s)"] * bool(requests) + [
            f"worker {worker.name}: {tasks}" for worker, client in clients.items()
            if worker.alive and (tasks := worker.busy(client))]

    try:
        left = wait_steady(busy, timeout, steady, interval=0.02)
    finally:
        for client in clients.values():
            client.close()
    if not left:
        return []
    for worker in clients:  # a retry's countdown, a task that hangs: nothing may run during the flush
        worker.stop()
    return left


@pytest.fixture(autouse=True)
def _quiet_before_flush(request):
    """Set up right after pytest-django's database fixture, so torn down right before its
    flush, after the test's own fixtures (the page closed, localstripe's webhooks disabled)."""
    uses_worker = bool({"celery_worker_process", "celery_worker_server"} & set(request.fixturenames))
    if not transactional(request) or not (uses_worker or "live_server" in request.fixturenames):
        yield  # nothing but the test itself touches the database
        return
    request.getfixturevalue("_django_db_helper")
    yield
    quiet_before_flush([worker for worker in _WORKERS if worker.alive] if uses_worker else [])


def _point_celery_app_at(conf: dict) -> None:
    """Reconfigure the test process's Celery app and drop its cached connections/backend."""
    from portal.celery import app

    app.conf.update(conf)
    # app.pool is kombu's process-wide pool for those connection parameters (kombu.pools):
    # never close it (a later user of the same broker would get "Acquire on closed pool"),
    # just stop pointing at it.
    app._pool = None
    if "amqp" in app.__dict__:  # a cached_property: its producer pool holds the old connections
        app.amqp._producer_pool = None
    app._backend_cache = None
    if hasattr(app._local, "backend"):
        del app._local.backend


@pytest.fixture(scope="session")
def celery_worker_server(django_db_setup, smtp_server, localstripe_server,
                         tmp_path_factory):
    """The session's worker process; depends on django_db_setup so it stops before the test
    database is dropped."""
    try:
        import redis
    except ImportError:
        service_missing("the redis client is not installed")
    from django.conf import settings

    redis_url, redis_lock = claim_redis_db()
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
        client.flushdb()
    except redis.RedisError as exc:
        redis_lock.close()
        service_missing(f"Redis is not available at {redis_url} ({exc}); ./test starts it")
    shared = tmp_path_factory.mktemp("worker-files")
    dirs = {"RELEASES_DIR": shared / "releases", "PACKAGES_DIR": shared / "packages"}
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
                        "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST"}}
    env.update(database_env())
    env.update(smtp_server.env())
    env.update({k: str(v) for k, v in dirs.items()})
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", VAR_DIR=str(settings.VAR_DIR), REDIS_URL=redis_url,
               CELERY_TASK_ALWAYS_EAGER="0", PYTHONUNBUFFERED="1",
               STRIPE_API_BASE=localstripe_server.url, STRIPE_JS_URL=localstripe_server.js_url,
               STRIPE_SECRET_KEY=localstripe_server.secret_key,
               STRIPE_PUBLISHABLE_KEY=localstripe_server.publishable_key,
               STRIPE_WEBHOOK_SECRET=localstripe_server.webhook_secret)
    worker = CeleryWorker(env, log_dir() / f"celery-{xdist_worker()}.log",
                          name=f"test-{xdist_worker()}-{os.getpid()}@localhost")
    worker.redis_url = redis_url
    worker.redis = client
    worker.dirs = dirs
    yield worker
    worker.stop()
    client.close()
    redis_lock.close()


@pytest.fixture
def celery_worker_process(celery_worker_server, request, settings, smtp_sink):
    from portal.celery import app

    if not transactional(request):
        pytest.fail("a test using celery_worker_process needs @pytest.mark.django_db(transaction=True): "
                    "the worker is another process and sees committed data only", pytrace=False)
    worker = celery_worker_server
    for path in worker.dirs.values():
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    settings.RELEASES_DIR, settings.PACKAGES_DIR = worker.dirs["RELEASES_DIR"], worker.dirs["PACKAGES_DIR"]
    saved = {key: app.conf.get(key) for key in
             ("broker_url", "result_backend", "broker_transport_options", "task_always_eager")}
    _point_celery_app_at({"broker_url": worker.redis_url, "result_backend": worker.redis_url,
                          "broker_transport_options": {}, "task_always_eager": False})
    # Nothing left over from an earlier test. Messages the worker still holds (a retry's
    # countdown, a task of a killed worker) are in kombu's "unacked" hash: restart it then.
    if worker.redis.hlen("unacked") or worker.customised:
        worker.stop()
        worker.extra_env = {}
        worker.module = CeleryWorker.DEFAULT_MODULE
    worker.redis.delete(*(worker.redis.keys("celery*") + [b"unacked", b"unacked_index", b"unacked_mutex"]))
    worker.mark_log()
    worker.start()
    yield worker
    _point_celery_app_at(saved)


# --------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM_PATH):
        service_missing(f"Chromium is not installed at {CHROMIUM_PATH} (apt-get install chromium; ./test does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("playwright is not installed (pip install -e '.[test]')")
    # Playwright's sync API runs an asyncio loop in this thread; the Django ORM in the test
    # body is still synchronous code (the documented Playwright + Django setting).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage"])
    except Exception as exc:  # noqa: BLE001
        playwright.stop()
        service_missing(f"Chromium at {CHROMIUM_PATH} did not start: {exc}")
    yield chromium
    chromium.close()
    playwright.stop()


def _tile_hosts() -> set[str]:
    from django.conf import settings

    url = getattr(settings, "MAP_TILES_URL", "") or ""
    host = urllib.parse.urlsplit(url.replace("{s}", "a")).hostname
    if not host:
        return set()
    # Leaflet's {s} subdomains: a.tile..., b.tile..., c.tile...
    return {host} | ({f"{s}.{host[2:]}" for s in "abc"} if "{s}" in url else set())


def guarded_page(browser, *, enforce_csp: bool = False):
    """Generator behind the ``page`` fixture: yields the page, fails on close if it tried to
    reach the internet. The site's Content-Security-Policy is bypassed unless ``enforce_csp``:
    Playwright's ``wait_for_function`` evaluates its predicate with eval, which the policy
    forbids; the CSP tests (tests/portal/e2e/test_csp_e2e.py) enforce it and wait otherwise."""
    context = browser.new_context(bypass_csp=not enforce_csp)
    blocked: list[str] = []
    tile_hosts = _tile_hosts()

    def guard(route):
        url = route.request.url
        host = urllib.parse.urlsplit(url).hostname or ""
        if host in LOCAL_HOSTS or not url.startswith(("http:", "https:", "ws:", "wss:")):
            route.continue_()
            return
        if host not in tile_hosts:
            blocked.append(url)
        route.abort("blockedbyclient")

    context.route("**/*", guard)
    page = context.new_page()
    page.blocked_requests = blocked
    yield page
    context.close()
    if blocked:
        pytest.fail("the page tried to reach the internet:\n  " + "\n  ".join(blocked), pytrace=False)


@pytest.fixture
def page(browser):
    yield from guarded_page(browser)
