"""Release day: every subscriber downloads the new file at once, through nginx and two web
nodes, with the files in the S3 store. PostgreSQL only (DATABASE_URL), Redis on 127.0.0.1.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/bench_rush.py [--cameras 200000]
        [--subscribers 2000] [--combinations 50] [--concurrency 32] [--modes redirect,stream]
        [--runs 3] [--window 60] [--keep]

1. A throwaway PostgreSQL database (``<name>_rush_<pid>``, dropped at the end), Redis DB 12
   (flushed), a moto S3 server on a free loopback port with a bucket of its own. Every process
   below has a VAR_DIR of its own: they share only those services.
2. ``--cameras`` generated cameras over Europe published as release 1 by this process (the
   operator's machine); ``--subscribers`` running annual subscriptions that asked for
   new-release emails, spread over ``--combinations`` (device, coverage) combinations; their
   release-1 packages built by a fan-out on the worker (untimed) and recorded on the orders.
3. One Celery worker (prefork, concurrency 2), two gunicorn web nodes (2 gthread workers x 4
   threads each) behind nginx with deploy/nginx/speedcam.conf.
4. Release 2 is published (a few hundred cameras changed) with the fan-out on publish, as in
   production (FANOUT_DEFAULTS=0: the ``--combinations`` popular ones only). Timed: publish to
   every combination in the store (polled every 0.2 s), and publish to the first new-release
   email sent (``EmailRecord.sent_at``): the fan-out must be done first.
5. The rush, per download mode (STORAGE_DOWNLOADS, the web nodes restarted with it):
   ``--concurrency`` clients with no think time download every subscriber's new file through
   the signed email link (one per subscriber, in random order): the request to nginx, then in
   ``redirect`` mode the presigned URL from the store. Every file is checked (sha256 against
   the package in the store). Per run: p50/p95/p99/max of the whole download and of the web
   part (nginx + node answer: the 302, or the streamed response's first byte), failures,
   downloads/s and wall time (the target window is ``--window`` s). Medians over ``--runs``.

Targets: 0 failed, download p99 < 250 ms, all in the window, fan-out done before the first
email. Everything runs on this one machine (2 cores here): the client, nginx, both nodes, the
worker (still sending the 2,000 emails during the rush), moto (a Python S3 server, far slower
than a real store) and PostgreSQL share it.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _setup import europe_csv, free_port, wait_http  # noqa: E402
from bench_load import percentile, throwaway_postgres  # noqa: E402

from tests.nginx import Nginx  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/12"
COVERAGES = ["FR", "DE", "IT", "ES", "GB", "BE", "NL", "PL", "AT", "CH"]
KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_S3_REGION_NAME": "us-east-1"}


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def stop(process: subprocess.Popen | None, sig=signal.SIGTERM) -> None:
    if process is not None and process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def machine(env: dict, tmp: Path, name: str) -> dict:
    var = tmp / name
    return {**env, "VAR_DIR": str(var), "RELEASES_DIR": str(var / "releases"), "PACKAGES_DIR": str(var / "packages"),
            "STORAGE_CACHE_DIR": str(var / "cache"), "STORAGE_SPOOL_DIR": str(var / "spool")}


def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = ""):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


class WebNodes:
    def __init__(self, env: dict, tmp: Path, workers: int, threads: int):
        self.env, self.tmp, self.workers, self.threads = env, tmp, workers, threads
        self.processes, self.ports = [], []

    def start(self, mode: str) -> None:
        self.stop()
        self.ports = []
        for i in (1, 2):
            port = free_port()
            env = {**machine(self.env, self.tmp, f"web{i}"), "STORAGE_DOWNLOADS": mode,
                   "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(self.workers),
                   "GUNICORN_THREADS": str(self.threads), "GUNICORN_ACCESS_LOG": "",
                   "GUNICORN_ERROR_LOG": str(self.tmp / f"web{i}.log"), "GUNICORN_LOG_LEVEL": "warning"}
            self.processes.append(start([sys.executable, "-m", "gunicorn", "-c", "portal/gunicorn_conf.py"], env,
                                        self.tmp / f"web{i}.out"))
            self.ports.append(port)
        for port, process in zip(self.ports, self.processes):
            wait_http(f"http://127.0.0.1:{port}/", process=process)

    def stop(self) -> None:
        for process in self.processes:
            stop(process)
        self.processes = []


class Client(threading.local):
    """One keep-alive connection per thread and host (as a browser keeps one per site)."""

    def get(self, url: str) -> tuple[int, dict, bytes]:
        parts = urllib.parse.urlsplit(url)
        conns = self.__dict__.setdefault("conns", {})
        for attempt in (1, 2):
            conn = conns.get(parts.netloc)
            if conn is None:
                conn = conns[parts.netloc] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
                response = conn.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                conns.pop(parts.netloc, None)
                if attempt == 2:
                    raise


def rush(links: list[tuple[str, str]], concurrency: int) -> dict:
    """Download every link at once (no think time); returns the timings and failures."""
    client = Client()
    results = []
    lock = threading.Lock()

    def one(item):
        url, digest = item
        started = time.perf_counter()
        error = None
        web = float("nan")
        try:
            status, headers, data = client.get(url)
            web = (time.perf_counter() - started) * 1000
            if status == 302:
                status, headers, data = client.get(headers["Location"])
            if status != 200:
                error = f"HTTP {status}"
            elif hashlib.sha256(data).hexdigest() != digest:
                error = "wrong bytes"
        except Exception as exc:  # noqa: BLE001 -- a failed download is counted, never fatal
            error = type(exc).__name__
        total = (time.perf_counter() - started) * 1000
        with lock:
            results.append((total, web, error))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, links))
    wall = time.perf_counter() - t0
    ok = sorted(r[0] for r in results if r[2] is None)
    web = sorted(r[1] for r in results if r[2] is None)
    failures = {}
    for _total, _web, error in results:
        if error:
            failures[error] = failures.get(error, 0) + 1
    return {"count": len(results), "failed": sum(failures.values()), "failures": failures, "wall_s": wall,
            "rps": len(results) / wall, "p50": percentile(ok, 50), "p95": percentile(ok, 95),
            "p99": percentile(ok, 99), "max": ok[-1] if ok else float("nan"),
            "web_p50": percentile(web, 50), "web_p95": percentile(web, 95), "web_p99": percentile(web, 99)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cameras", type=int, default=200_000)
    p.add_argument("--subscribers", type=int, default=2000)
    p.add_argument("--combinations", type=int, default=50)
    p.add_argument("--concurrency", type=int, default=32, help="clients downloading at once, no think time")
    p.add_argument("--modes", default="redirect,stream", help="STORAGE_DOWNLOADS modes to measure")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--window", type=float, default=60.0, help="seconds every subscriber must be served within")
    p.add_argument("--web-workers", type=int, default=2)
    p.add_argument("--web-threads", type=int, default=4)
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench_rush.py measures several machines on PostgreSQL: set DATABASE_URL=postgres://...")

    tmp = Path(tempfile.mkdtemp(prefix="speedcam-rush-bench-"))
    print(f"logs and files: {tmp}", flush=True)
    processes: list[subprocess.Popen] = []
    nodes = nginx = None
    drop_db = None
    try:
        s3_port = free_port()
        s3_url = f"http://127.0.0.1:{s3_port}"
        processes.append(start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)], os.environ,
                               tmp / "moto.log"))
        wait_http(s3_url + "/moto-api/", process=processes[-1])
        import boto3

        bucket = f"rush-{os.getpid()}"
        boto3.client("s3", endpoint_url=s3_url, aws_access_key_id="bench", aws_secret_access_key="bench",
                     region_name="us-east-1").create_bucket(Bucket=bucket)
        site_port = free_port()
        site = f"http://127.0.0.1:{site_port}"
        db_url, drop_db = throwaway_postgres(database_url)
        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "DJANGO_SETTINGS_MODULE": "portal.settings",
               "STORAGE_URL": f"s3://{bucket}/shop", "AWS_S3_ENDPOINT_URL": s3_url, **KEYS,
               "SECRET_KEY": secrets.token_urlsafe(50), "DEBUG": "0", "PRODUCTION": "0",
               "ALLOWED_HOSTS": "127.0.0.1,localhost", "SITE_URL": site, "LOG_LEVEL": "WARNING",
               "FANOUT_TOP": str(args.combinations), "FANOUT_DEFAULTS": "0", "MAP_TILES_URL": "",
               "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", "CELERY_TASK_ALWAYS_EAGER": "0",
               "PYTHONUNBUFFERED": "1"}
        for name in ("SQLITE_PATH",):
            env.pop(name, None)
        os.environ.clear()
        os.environ.update(machine(env, tmp, "operator"))
        os.environ["FANOUT_ON_PUBLISH"] = "0"  # release 1: the benchmark fans it out itself, untimed

        import django

        django.setup()
        import redis
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections
        from django.utils import timezone

        from cameras.importing import import_file
        from cameras.models import Camera
        from cameras.releases import publish_release
        from exporters.devices import DEVICES, get_device
        from portal.models import EmailRecord, Order
        from portal.services import fanout, links, packages, purchases
        from portal.services.pricing import quote

        redis.Redis.from_url(REDIS_URL).flushdb()
        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        import_file(europe_csv(args.cameras), source="bench", fmt="csv")
        first = publish_release()
        print(f"release {first.number}: {first.camera_count:,} cameras ({time.perf_counter() - t:.0f} s)", flush=True)

        candidates = [d for d in DEVICES if d.coverage_setup]
        by_format = list({d.format: d for d in reversed(candidates)}.values())[::-1]
        devices = by_format + [d for d in candidates if d not in by_format]
        every = [(d.id, code) for code in COVERAGES for d in devices]
        combos, spare = every[:args.combinations], every[args.combinations:]
        now = timezone.now()
        orders = []
        for i in range(args.subscribers):
            device_id, code = combos[i % len(combos)]
            orders.append(Order(email=f"sub{i:05d}@rush.example", device_id=device_id, coverage=[code],
                                amount=quote(get_device(device_id), mobile=False).amount, status=Order.Status.PAID,
                                paid_at=now, fulfilled_at=now, created_at=now, plan="annual",
                                subscription_status="active", subscription_end=now + timedelta(days=300),
                                email_new_releases=False))  # on once release 1 is theirs
        orders = Order.objects.bulk_create(orders)

        worker = start([sys.executable, "-m", "celery", "-A", "portal", "worker", "--concurrency=2",
                        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--hostname=rush@bench"],
                       machine(env, tmp, "worker"), tmp / "worker.log")
        processes.append(worker)
        wait_for(lambda: b" ready." in (tmp / "worker.log").read_bytes(), 90, what="the Celery worker")
        plan = fanout.plan()
        print(f"{len(orders):,} subscribers over {len(plan)} combinations; fan-out of release 1 (untimed) ...",
              flush=True)
        t = time.perf_counter()
        built = 0
        for _attempt in range(5):
            scheduled = fanout.schedule(first, plan)
            summary = scheduled.result.get(timeout=3600)
            built += summary["built"]
            failed = {(r["device"], (r["coverage"] or [""])[0]): r["error"] for r in scheduled.group_result.get(timeout=60)
                      if r["status"] == "failed"}
            if not failed:
                break
            # A combination the device refuses (too many cameras for its format): its
            # subscribers take another combination instead.
            for (device_id, code), error in failed.items():
                replacement = spare.pop(0)
                print(f"  {device_id} {code} cannot be built ({error[:90]}): its subscribers take {replacement}",
                      flush=True)
                for order in orders:
                    if (order.device_id, order.coverage[0]) == (device_id, code):
                        order.device_id, order.coverage = replacement[0], [replacement[1]]
                Order.objects.filter(device_id=device_id, coverage=[code]).update(
                    device_id=replacement[0], coverage=[replacement[1]])
            plan = fanout.plan()
        else:
            raise RuntimeError(f"the fan-out of release 1 still fails: {failed}")
        combos = sorted({(o.device_id, o.coverage[0]) for o in orders})
        for order in orders:
            key = purchases.wanted_key(order, first)
            order.release, order.package_key = first, key
        Order.objects.bulk_update(orders, ["release", "package_key"], batch_size=500)
        Order.objects.filter(pk__in=[o.pk for o in orders]).update(email_new_releases=True)
        print(f"  {built} packages of release 1 built ({time.perf_counter() - t:.0f} s)", flush=True)

        # Release 2, published with the fan-out on publish (the worker's own settings).
        settings.FANOUT_ON_PUBLISH = True
        changed = list(Camera.objects.filter(status=Camera.Status.ACTIVE).order_by("pk").values_list("pk", flat=True)[:300])
        Camera.objects.filter(pk__in=changed).update(speed=70)
        t0 = time.time()
        second = publish_release()
        published = time.time()
        wanted = {}
        for order in orders:
            combo = (order.device_id, order.coverage[0])
            if combo not in wanted:
                wanted[combo] = purchases.wanted_key(order, second)
        keys = set(wanted.values())

        def all_stored():
            return all(packages.is_stored(k) for k in keys)

        wait_for(all_stored, 3600, 0.2, "the fan-out of release 2")
        fanned = time.time()
        sent = EmailRecord.objects.filter(kind=EmailRecord.Kind.NEW_RELEASE, key=str(second.number),
                                          sent_at__isnull=False)
        first_email = wait_for(lambda: sent.order_by("sent_at").values_list("sent_at", flat=True).first(), 600, 0.2,
                               "the first new-release email")
        fanout_s, email_s = fanned - published, first_email.timestamp() - published
        print(f"release {second.number} published in {published - t0:.1f} s; fan-out of {len(keys)} combinations "
              f"done {fanout_s:.1f} s later; first new-release email sent {email_s:.1f} s after publishing "
              f"({'after' if email_s >= fanout_s else 'BEFORE'} the fan-out was done)", flush=True)

        # A subscriber downloads once the email is there: the rush starts when all are sent.
        wait_for(lambda: sent.count() >= len(orders), 1800, 1, "every new-release email")
        print(f"every new-release email sent {time.time() - published:.1f} s after publishing", flush=True)
        digests = {k: hashlib.sha256(packages.get_store().read_bytes(packages.store_name(k))).hexdigest() for k in keys}
        rush_links = []
        for order in orders:
            key = wanted[(order.device_id, order.coverage[0])]
            rush_links.append((site + links.download_url(order, key), digests[key]))
        random.Random(7).shuffle(rush_links)
        connections.close_all()

        nodes = WebNodes(env, tmp, args.web_workers, args.web_threads)
        figures = {"fanout_s": fanout_s, "first_email_s": email_s, "modes": {}}
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            nodes.start(mode)
            if nginx is None:
                nginx = Nginx(tmp / "nginx", [f"127.0.0.1:{p}" for p in nodes.ports], workers=2, port=site_port)
                nginx.start()
            else:  # the nodes moved to new ports: rewrite the upstreams and reload
                nginx.upstreams = [f"127.0.0.1:{p}" for p in nodes.ports]
                nginx._config()
                os.killpg(nginx.process.pid, signal.SIGHUP)
                time.sleep(1)
            rush(rush_links[:64], 8)  # warm every node's workers (templates, connections)
            solo = rush(rush_links[:200], 1)  # one client: the cost of a download without queueing
            print(f"{mode:>8} one client: p50 {solo['p50']:.1f} ms (web part {solo['web_p50']:.1f} ms), "
                  f"p99 {solo['p99']:.1f} ms", flush=True)
            runs = []
            for n in range(1, args.runs + 1):
                result = rush(rush_links, args.concurrency)
                runs.append(result)
                print(f"{mode:>8} run {n}: {result['count']} downloads in {result['wall_s']:.1f} s "
                      f"({result['rps']:.0f}/s), p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, "
                      f"p99 {result['p99']:.0f} ms, max {result['max']:.0f} ms; web part p50 {result['web_p50']:.0f} / "
                      f"p95 {result['web_p95']:.0f} / p99 {result['web_p99']:.0f} ms; failed {result['failed']} "
                      f"{result['failures'] or ''}", flush=True)
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "failures"}
            med["failed_total"] = sum(r["failed"] for r in runs)
            figures["modes"][mode] = {"runs": runs, "median": med, "one_client": solo}

        print(f"\nRelease-day rush: {args.subscribers:,} subscribers, {args.concurrency} clients with no think time, "
              f"through nginx and 2 web nodes ({args.web_workers} x {args.web_threads} each), S3 = moto, "
              f"PostgreSQL; median of {args.runs} runs")
        print(f"  {'mode':<9}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>7}  {'web p50':>8}{'p95':>6}{'p99':>6}"
              f"{'req/s':>8}{'wall s':>8}{'failed':>8}")
        checks = {f"fan-out of {len(keys)} combinations done before the first email": email_s >= fanout_s}
        for mode, data in figures["modes"].items():
            m = data["median"]
            print(f"  {mode:<9}{m['p50']:>7.0f}{m['p95']:>7.0f}{m['p99']:>7.0f}{m['max']:>7.0f}  {m['web_p50']:>8.0f}"
                  f"{m['web_p95']:>6.0f}{m['web_p99']:>6.0f}{m['rps']:>8.0f}{m['wall_s']:>8.1f}{m['failed_total']:>8.0f}")
            checks[f"{mode}: 0 failed"] = m["failed_total"] == 0
            checks[f"{mode}: download p99 < 250 ms"] = m["p99"] < 250
            checks[f"{mode}: every subscriber served within {args.window:.0f} s"] = m["wall_s"] <= args.window
        print(f"  fan-out done {fanout_s:.1f} s after publishing; first email {email_s:.1f} s after publishing")
        for label, ok in checks.items():
            print(f"  target {label}: {'OK' if ok else 'MISSED'}")
        if args.json:
            Path(args.json).write_text(json.dumps({**figures, "checks": checks}, indent=1, default=str))
        return 0
    finally:
        if nginx is not None:
            nginx.stop()
        if nodes is not None:
            nodes.stop()
        for process in reversed(processes):
            stop(process)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 -- Django may not be set up yet
            pass
        if drop_db is not None:
            drop_db()
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
