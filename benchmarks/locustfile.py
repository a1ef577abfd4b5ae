"""Locust scenario: customers browsing the shop, logging in and downloading their
cached package. Started by ``benchmarks/bench_load.py`` (which creates the accounts, builds
their packages and starts gunicorn); it can also run by hand against such a server:

    .venv/bin/locust -f benchmarks/locustfile.py --headless -u 100 -r 2 --run-time 60s \\
        --host http://127.0.0.1:PORT --accounts ACCOUNTS.json [--max-requests N] [--summary OUT.json]

Each simulated customer takes an account of its own from ``--accounts`` (a JSON list of
{email, password, device, sha256, bytes}, written by bench_load.py), and:

- on start: opens the home page, the login page, and logs in (once; the POST must answer
  302 to the panel -- a wrong password would count against the per-IP login limit);
- then, with a think time of ``LOAD_WAIT_MIN``..``LOAD_WAIT_MAX`` seconds (default 1..4)
  between actions, picks among: the home page, a device page, the preview map's cluster
  endpoint (random viewports), and "download": the panel page, then, after a short
  pause, the link of the panel's download button (signed, owner-only), checking that the
  bytes are the account's package (Content-Length, the zip signature, the sha256 of the
  file in the package store).

Request names in the statistics: home, device, map, login form, login, panel, download.

Bounded: ``--run-time`` (locust's), and ``--max-requests`` (this file's: the run stops once
that many requests were made). ``--summary`` writes every response time (ms) per request
name (with when each started), the failures and what the downloads checked, for bench_load.py to compute exact
percentiles (locust's own CSV rounds times over 100 ms).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import re
import time
from collections import defaultdict
from urllib.parse import urlencode

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import MasterRunner

DEVICES = ["tomtom-go-classic", "garmin-drivesmart", "igo-primo", "navitel", "sygic-android",
           "osmand-gpx", "phone-kml"]
# Viewports a visitor of the preview map looks at: the world, Europe, countries, cities.
VIEWPORTS = [
    ("-180,-80,180,80", 3), ("-12,35,30,60", 5), ("-12,35,30,60", 6), ("-5,42,8,51", 7),
    ("5.8,47.2,15.1,55.1", 7), ("2.25,48.81,2.42,48.90", 12), ("13.2,52.4,13.6,52.6", 11),
    ("-0.3,51.4,0.1,51.6", 12), ("12.3,41.8,12.6,42.0", 12), ("-3.8,40.3,-3.6,40.5", 13),
]
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DOWNLOAD_RE = re.compile(r'id="download" href="([^"]+)"')
ZIP_MAGIC = b"PK\x03\x04"

_accounts: list[dict] = []
_next_account = itertools.count()
_times: dict[str, list[float]] = defaultdict(list)
_starts: dict[str, list[float]] = defaultdict(list)  # when each request started, seconds into the run
_failures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_checked = {"downloads_ok": 0, "download_bytes": 0, "download_bad": 0, "logins_ok": 0, "accounts": set()}
_started = time.monotonic()
_started_wall = time.time()
_env: dict = {}


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--accounts", default=os.environ.get("LOAD_ACCOUNTS", ""),
                        help="JSON file of the customer accounts (bench_load.py writes it)")
    parser.add_argument("--max-requests", type=int, default=int(os.environ.get("LOAD_MAX_REQUESTS") or 0),
                        help="stop after this many requests (0: only --run-time bounds the run)")
    parser.add_argument("--summary", default=os.environ.get("LOAD_SUMMARY", ""),
                        help="write the raw response times, failures and download checks here (JSON)")
    parser.add_argument("--progress-every", type=float, default=5.0, help="seconds between progress lines")


@events.init.add_listener
def _init(environment, **_kw):
    global _started, _started_wall
    _env["environment"] = environment
    if isinstance(environment.runner, MasterRunner):
        return
    opts = environment.parsed_options
    if not opts or not opts.accounts:
        raise SystemExit("locustfile.py needs --accounts FILE (benchmarks/bench_load.py writes it)")
    with open(opts.accounts) as fh:
        _accounts.extend(json.load(fh))
    _started, _started_wall = time.monotonic(), time.time()
    gevent.spawn(_progress, environment, opts.progress_every)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, start_time=None, **_kw):
    _times[name].append(response_time)
    _starts[name].append(round((start_time or time.time()) - _started_wall, 3))
    if exception is not None:
        _failures[name][str(exception)[:200]] += 1
    env = _env.get("environment")
    cap = env.parsed_options.max_requests if env is not None and env.parsed_options else 0
    if cap and sum(len(v) for v in _times.values()) == cap:  # --max-requests: stop the whole run
        gevent.spawn(env.runner.quit)


def _progress(environment, every: float):
    while True:
        gevent.sleep(every)
        total = sum(len(v) for v in _times.values())
        failed = sum(sum(d.values()) for d in _failures.values())
        runner = environment.runner
        users = runner.user_count if runner else 0
        elapsed = time.monotonic() - _started
        dl = _times.get("download", [])
        recent = sorted(dl[-200:])
        p95 = recent[int(0.95 * (len(recent) - 1))] if recent else 0
        print(f"  [{elapsed:5.0f} s] users {users:>4}  requests {total:>6}  failed {failed:>3}  "
              f"logins {_checked['logins_ok']:>4}  downloads {len(dl):>5} (last 200 p95 {p95:.0f} ms)", flush=True)


@events.quitting.add_listener
def _write_summary(environment, **_kw):
    path = environment.parsed_options.summary if environment.parsed_options else ""
    if not path:
        return
    out = {"times_ms": dict(_times), "starts_s": dict(_starts), "failures": {k: dict(v) for k, v in _failures.items()},
           "downloads_ok": _checked["downloads_ok"], "download_bytes": _checked["download_bytes"],
           "download_bad": _checked["download_bad"], "logins_ok": _checked["logins_ok"],
           "accounts_used": len(_checked["accounts"]), "elapsed_s": time.monotonic() - _started}
    with open(path, "w") as fh:
        json.dump(out, fh)


def _wait():
    lo = float(os.environ.get("LOAD_WAIT_MIN", 1))
    hi = float(os.environ.get("LOAD_WAIT_MAX", 4))
    return between(lo, hi)


class Customer(FastHttpUser):
    """A customer with an account and a paid purchase whose package is already built."""

    wait_time = _wait()
    # One connection per simulated customer, as a browser keeps one to the site.
    concurrency = 1

    def on_start(self):
        index = next(_next_account)
        if index >= len(_accounts):
            raise RuntimeError(f"{index + 1} simulated customers but only {len(_accounts)} accounts")
        self.account = _accounts[index]
        self.client.get("/", name="home")
        self.wait()
        with self.client.get("/account/login/", name="login form", catch_response=True) as r:
            match = CSRF_RE.search(r.text or "")
            if not match:
                r.failure("no CSRF token on the login page")
                return
        body = urlencode({"csrfmiddlewaretoken": match.group(1), "username": self.account["email"],
                          "password": self.account["password"], "next": ""})
        with self.client.post("/account/login/", data=body, name="login", allow_redirects=False,
                              catch_response=True,
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "Referer": self.host + "/account/login/"}) as r:
            if r.status_code != 302 or not (r.headers.get("Location") or "").endswith("/account/"):
                r.failure(f"login answered {r.status_code}, not a redirect to the panel")
                return
            r.success()
        _checked["logins_ok"] += 1
        _checked["accounts"].add(self.account["email"])

    @task(2)
    def home(self):
        self.client.get("/", name="home")

    @task(2)
    def device(self):
        self.client.get(f"/devices/{random.choice(DEVICES)}/", name="device")

    @task(3)
    def map(self):
        bbox, zoom = random.choice(VIEWPORTS)
        self.client.get(f"/map/clusters.json?bbox={bbox}&zoom={zoom}", name="map")

    @task(2)
    def download(self):
        """The panel, then its download button (a signed link for this customer only)."""
        with self.client.get("/account/", name="panel", catch_response=True) as r:
            match = DOWNLOAD_RE.search(r.text or "")
            if r.status_code != 200 or not match:
                r.failure(f"panel answered {r.status_code} without a download button")
                return
        link = match.group(1).replace("&amp;", "&")
        gevent.sleep(random.uniform(0.3, 1.0))  # the customer finds the button and clicks
        with self.client.get(link, name="download", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"download answered {r.status_code}")
                return
            problem = self._check_package(r)
            if problem:
                _checked["download_bad"] += 1
                r.failure(problem)
                return
            _checked["downloads_ok"] += 1
            _checked["download_bytes"] += len(r.content)

    def _check_package(self, r) -> str:
        data = r.content or b""
        want = self.account
        if not (r.headers.get("Content-Disposition") or "").startswith("attachment"):
            return "the download is not an attachment"
        length = r.headers.get("Content-Length")
        if length is not None and int(length) != want["bytes"]:
            return f"Content-Length {length}, the package has {want['bytes']} bytes"
        if len(data) != want["bytes"]:
            return f"{len(data)} bytes received, the package has {want['bytes']}"
        if not data.startswith(ZIP_MAGIC):
            return "the download is not a zip"
        if hashlib.sha256(data).hexdigest() != want["sha256"]:
            return "the download's sha256 is not the stored package's"
        return ""
