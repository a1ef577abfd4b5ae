"""Load test on loopback: 100 concurrent customers browsing, logging in and
downloading their cached packages, driven by locust against gunicorn.

    .venv/bin/python benchmarks/bench_load.py [--cameras 200000] [--users 100] [--spawn-rate 2]
        [--run-time 90] [--max-requests 0] [--runs 3] [--think 1,4] [--workers 4] [--threads 4]
        [--no-production] [--json OUT.json] [--check] [--keep]

Needs the test extras (locust, gunicorn). No Redis, no Celery worker: the cache is the
local-memory one (the login limits only count failures, and every login here succeeds)
and every package is built before the load starts.

1. A throwaway database: a SQLite file in a temporary directory, or, when DATABASE_URL
   names a PostgreSQL server, a database of its own created there (``<name>_load_<pid>``)
   and dropped at the end. N generated cameras over Europe are imported and published as a
   release (no fan-out).
2. ``--users`` customer accounts (one password, hashed once: every login still checks it
   with Django's PBKDF2), each with a paid, fulfilled one-time purchase. The purchases
   spread over a handful of (device, coverage) combinations, whose packages are built into
   the package store with the project's own ``portal.packages.package_for_order``, checked
   (a zip with its manifest) and recorded on the orders, as the fulfilment does.
3. gunicorn with ``portal/gunicorn_conf.py`` on a free loopback port, in production mode
   (PRODUCTION=1, DEBUG=0, collectstatic + WhiteNoise's manifest storage, access log to a
   file): ``--workers`` gthread workers with ``--threads`` threads each. Default 4 x 4 on
   this 2-core machine: threads, so that a login (0.3 s of PBKDF2, which releases the GIL)
   or a 5 MB sendfile never blocks a whole worker as it does with sync workers (5 sync
   workers queued every request behind the logins: p50 of ~0.5 s); 4 processes rather than
   2 x 8, so that the Python part of concurrent requests spreads over both cores despite
   the GIL (gthread hands connections to whichever worker accepts first; measured tails
   were lower than with 2 x 8). 16 requests in flight is plenty for 100 customers with
   think time. Each worker holds the release snapshot for the map. Every worker is warmed
   (release snapshot, templates) before the clock runs; gunicorn's worker recycling
   (GUNICORN_MAX_REQUESTS, 10000) stays on, as in production.
4. ``--runs`` locust runs (``benchmarks/locustfile.py``, headless, FastHttpUser), each
   bounded by ``--run-time`` seconds and, if given, ``--max-requests``: ``--users``
   simulated customers spawned at ``--spawn-rate`` per second (which also spaces out the
   logins: 100 PBKDF2 checks at 2/s keep about 0.6 of a core busy for the 50 s ramp-up;
   the default 90 s leaves 40 s with everyone logged in), each logging in once with its own account and then, with ``--think`` seconds
   of think time, opening the home page, a device page, the map's cluster endpoint, and
   their panel followed by the panel's download link (the bytes are checked against the
   stored package: length, zip signature, sha256).
5. Printed per request name: count, p50, p95, p99 (ms, exact, from every response time),
   failures, per run and as medians over the runs; requests/s; the server-side p50/p95/p99
   from gunicorn's access log (time in Django + sending, without the client); and the
   download p99 of the steady state (requests started once every customer has logged
   in). Targets: zero
   failed requests, download p99 < 100 ms. ``--check`` exits 1 when one is missed.

Figures are from one machine that also runs the load generator (locust takes part of a
core): they are end-to-end loopback times including locust's own client overhead.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
from datetime import timedelta
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _setup import europe_csv, wait_http  # noqa: E402
LOCUSTFILE = ROOT / "benchmarks" / "locustfile.py"
NAMES = ["home", "device", "map", "login form", "login", "panel", "download"]
# (device, coverage) of the purchases, round robin: a handful of packages in the store, as
# in a shop where most customers buy the popular combinations.
COMBOS = [
    ("tomtom-go-classic", ["FR"]),
    ("garmin-drivesmart", ["DE"]),
    ("igo-primo", ["IT"]),
    ("tomtom-go-classic", ["FR", "BE", "LU"]),
    ("navitel", ["PL"]),
    ("sygic-android", []),          # the device's default coverage only
    ("vw-mib", ["ES"]),
    ("garmin-nuvi", ["GB"]),
]
PASSWORD = "load-test-customer-7"


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-q * len(sorted_values) // 100)))  # ceil(q/100 * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


# --------------------------------------------------------------------------- database


def throwaway_postgres(url: str) -> tuple[str, callable]:
    """Create a database of our own on the server DATABASE_URL names; returns its URL and a
    function dropping it."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    base = parts.path.lstrip("/") or "postgres"
    name = f"{base}_load_{os.getpid()}"[:63]
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}")), drop


def set_up_shop(args, tmp: Path) -> list[dict]:
    """Migrate, import and publish the cameras, create the customers with their paid orders and
    build their packages. Returns the accounts for the locustfile."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    from cameras.importing import import_file
    from cameras.releases import publish_release
    from exporters.devices import get_device
    from portal.models import Order, User
    from portal.services.packages import package_for_order
    from portal.services.pricing import quote

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    if args.production:
        call_command("collectstatic", verbosity=0, interactive=False)
    print(f"migrated{', static files collected' if args.production else ''} ({time.perf_counter() - t0:.1f} s)",
          flush=True)
    t0 = time.perf_counter()
    import_file(europe_csv(args.cameras), source="bench", fmt="csv")
    release = publish_release()
    print(f"release {release.number}: {release.camera_count:,} cameras ({time.perf_counter() - t0:.1f} s)", flush=True)

    t0 = time.perf_counter()
    hashed = make_password(PASSWORD)  # once: the same hash for every account
    now = timezone.now()
    users = User.objects.bulk_create(
        [User(email=f"customer{i:04d}@load.example", password=hashed) for i in range(args.users)])
    orders = []
    for i, user in enumerate(users):
        device_id, coverage = COMBOS[i % len(COMBOS)]
        paid = now - timedelta(days=1 + i % 30)
        orders.append(Order(email=user.email, user=user, device_id=device_id, coverage=list(coverage),
                            amount=quote(get_device(device_id), mobile=False).amount, status=Order.Status.PAID,
                            paid_at=paid, fulfilled_at=paid, created_at=paid))
    orders = Order.objects.bulk_create(orders)
    packages = {}
    for order in orders:
        combo = (order.device_id, tuple(order.coverage))
        if combo not in packages:
            stored = package_for_order(order)  # built now into the package store
            data = stored.path.read_bytes()
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                manifest = json.loads(zf.read("manifest.json"))
                assert zf.testzip() is None, f"{stored.path}: corrupt zip"
            packages[combo] = (stored, hashlib.sha256(data).hexdigest(), manifest)
        stored, _digest, _manifest = packages[combo]
        order.release, order.package_key, order.package_bytes = stored.release, stored.key, stored.size
    Order.objects.bulk_update(orders, ["release", "package_key", "package_bytes"])
    print(f"{len(users)} customers with paid orders, {len(packages)} packages in the store "
          f"({time.perf_counter() - t0:.1f} s):", flush=True)
    for (device_id, coverage), (stored, _digest, manifest) in packages.items():
        cams = manifest.get("cameras", manifest.get("camera_count", ""))
        print(f"  {device_id:<20} {','.join(coverage) or '(default)':<10} {stored.size / 1e6:7.2f} MB"
              f"{'  ' + str(cams) + ' cameras' if isinstance(cams, int) else ''}", flush=True)
    return [{"email": o.email, "password": PASSWORD, "device": o.device_id,
             "sha256": packages[(o.device_id, tuple(o.coverage))][1],
             "bytes": packages[(o.device_id, tuple(o.coverage))][0].size} for o in orders]


# --------------------------------------------------------------------------- load


def warm(base: str, workers: int) -> None:
    """Every worker loads the release snapshot and compiles the templates before the clock runs."""
    paths = ["/", "/account/login/", "/devices/tomtom-go-classic/", "/devices/igo-primo/",
             "/map/clusters.json?bbox=-180,-80,180,80&zoom=3", "/map/clusters.json?bbox=-12,35,30,60&zoom=6",
             "/map/clusters.json?bbox=2.25,48.81,2.42,48.90&zoom=12"]
    with ThreadPoolExecutor(max(4, workers * 4)) as pool:
        list(pool.map(lambda p: urllib.request.urlopen(base + p, timeout=60).read(), paths * workers * 6))


def run_locust(args, base: str, tmp: Path, accounts_file: Path, n: int) -> dict:
    summary = tmp / f"locust-{n}.json"
    csv_prefix = tmp / f"locust-{n}"
    lo, hi = args.think
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
           "-u", str(args.users), "-r", str(args.spawn_rate), "--run-time", f"{args.run_time}s",
           "--stop-timeout", "10", "--host", base, "--csv", str(csv_prefix), "--loglevel", "WARNING",
           "--accounts", str(accounts_file), "--summary", str(summary),
           "--max-requests", str(args.max_requests), "--progress-every", str(args.progress_every)]
    env = dict(os.environ, LOAD_WAIT_MIN=str(lo), LOAD_WAIT_MAX=str(hi))
    log = open(tmp / f"locust-{n}.log", "w")
    t0 = time.perf_counter()
    # locust's own output (the end-of-run table) goes to the log; the progress lines to us.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
                            start_new_session=True)
    try:
        for line in proc.stdout:
            if line.startswith("  ["):
                print(line, end="", flush=True)
            else:
                log.write(line)
        proc.wait(timeout=args.run_time + 60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    wall = time.perf_counter() - t0
    if not summary.exists():
        raise RuntimeError(f"locust wrote no summary (exit {proc.returncode}); see {tmp}/locust-{n}.log:\n"
                           + (tmp / f"locust-{n}.log").read_text()[-3000:])
    data = json.loads(summary.read_text())
    data["locust_exit"] = proc.returncode
    data["wall_s"] = wall
    return data


ACCESS_RE = re.compile(r'"(GET|POST|HEAD) (\S+) HTTP/[\d.]+" (\d{3}) \S+ (\d+)us')


def server_times(access_log: Path, offset: int) -> tuple[dict[str, list[float]], int]:
    """Server-side durations (ms, gunicorn's access log, request read to response sent) of the
    requests logged after ``offset``, by request name; and the new offset."""
    out: dict[str, list[float]] = {}
    with open(access_log, "rb") as fh:
        fh.seek(offset)
        chunk = fh.read()
    for line in chunk.decode("utf-8", "replace").splitlines():
        m = ACCESS_RE.search(line)
        if not m:
            continue
        method, path, _status, micros = m.groups()
        if "/download/" in path:
            name = "download"
        elif path.startswith("/map/"):
            name = "map"
        elif path.startswith("/account/login/"):
            name = "login" if method == "POST" else "login form"
        elif path.startswith("/account/"):
            name = "panel"
        elif path.startswith("/devices/"):
            name = "device"
        elif path == "/":
            name = "home"
        else:
            name = "other"
        out.setdefault(name, []).append(int(micros) / 1000)
    return out, offset + len(chunk)


def stats_of(run: dict, ramp_s: float | None = None) -> dict:
    out = {}
    for name in sorted(set(run["times_ms"]) | set(run["failures"]), key=lambda n: (NAMES + [n]).index(n)):
        values = sorted(run["times_ms"].get(name, []))
        out[name] = {"count": len(values), "failures": sum(run["failures"].get(name, {}).values()),
                     "p50": percentile(values, 50), "p95": percentile(values, 95), "p99": percentile(values, 99),
                     "max": values[-1] if values else float("nan")}
    total = sum(s["count"] for s in out.values())
    out["all"] = {"count": total, "failures": sum(s["failures"] for s in out.values()),
                  "rps": total / run["elapsed_s"] if run["elapsed_s"] else 0.0}
    # Once every customer is logged in (after the ramp-up and its logins): the steady state.
    if ramp_s is not None:
        for name, s in out.items():
            starts = run.get("starts_s", {}).get(name)
            if name == "all" or not starts:
                continue
            steady = sorted(t for t, at in zip(run["times_ms"][name], starts) if at >= ramp_s)
            s["steady_count"] = len(steady)
            s["steady_p99"] = percentile(steady, 99) if steady else float("nan")
    return out


def print_table(title: str, stats: dict) -> None:
    print(f"\n{title}")
    print(f"  {'request':<12}{'count':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'failed':>8}"
          f"   server side: {'p50':>6}{'p95':>7}{'p99':>7}")
    for name, s in stats.items():
        if name == "all":
            continue
        server = (f"   {'':>13}{s['server_p50']:>6.1f}{s['server_p95']:>7.1f}{s['server_p99']:>7.1f}"
                  if "server_p50" in s else "")
        print(f"  {name:<12}{s['count']:>8.0f}{s['p50']:>8.1f}{s['p95']:>8.1f}{s['p99']:>8.1f}{s['max']:>8.0f}"
              f"{s['failures']:>8.0f}{server}")
    a = stats["all"]
    print(f"  {'all':<12}{a['count']:>8.0f}{'':>32}{a['failures']:>8.0f}   {a['rps']:.1f} requests/s")


def median_stats(runs: list[dict]) -> dict:
    names = [n for n in runs[0] if n != "all"]
    for r in runs[1:]:
        names += [n for n in r if n != "all" and n not in names]
    out = {}
    for name in names:
        rows = [r[name] for r in runs if name in r]
        keys = [k for k in rows[0] if all(k in row for row in rows)]
        out[name] = {k: statistics.median(row[k] for row in rows) for k in keys}
    out["all"] = {k: statistics.median(r["all"][k] for r in runs) for k in ("count", "failures", "rps")}
    return out


# --------------------------------------------------------------------------- main


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cameras", type=int, default=200_000)
    p.add_argument("--users", type=int, default=100, help="simulated customers, each with an account")
    p.add_argument("--spawn-rate", type=float, default=2.0, help="customers started per second (spaces the logins)")
    p.add_argument("--run-time", type=int, default=90,
                   help="seconds per run (the default leaves 40 s with every customer logged in after the ramp-up)")
    p.add_argument("--max-requests", type=int, default=0, help="also stop a run after this many requests")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--think", default="1,4", help="think time between a customer's actions: MIN,MAX seconds")
    p.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    p.add_argument("--max-worker-requests", type=int, default=None,
                   help="gunicorn's GUNICORN_MAX_REQUESTS (default: portal/gunicorn_conf.py's)")
    p.add_argument("--no-production", dest="production", action="store_false",
                   help="DEBUG=0 but without PRODUCTION=1: no collectstatic, static files from the apps (quicker)")
    p.add_argument("--progress-every", type=float, default=10.0)
    p.add_argument("--json", help="write the per-run and median figures here")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = p.parse_args()
    args.think = tuple(float(x) for x in args.think.split(","))

    import importlib.util

    if importlib.util.find_spec("locust") is None:  # not imported here: it monkey-patches with gevent
        sys.exit("locust is not installed: .venv/bin/pip install -e '.[test]'")

    tmp = Path(tempfile.mkdtemp(prefix="speedcam-load-bench-"))
    # The listening socket is made here (port 0: the kernel's choice) and handed to gunicorn
    # (fd://): the port is known from the start and never free for another process to take
    # while the shop is set up (tests/portal/system/test_load_smoke.py runs beside other servers).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    drop_db = None
    gunicorn = None
    failed = False
    try:
        env = {
            "VAR_DIR": str(tmp), "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PRODUCTION": "1" if args.production else "0", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "SITE_URL": base, "STATIC_ROOT": str(tmp / "static"),
            "RELEASES_DIR": str(tmp / "releases"), "PACKAGES_DIR": str(tmp / "packages"),
            "MAP_TILES_URL": "", "FANOUT_ON_PUBLISH": "0", "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "GUNICORN_BIND": f"fd://{listener.fileno()}", "WEB_CONCURRENCY": str(args.workers),
            "GUNICORN_THREADS": str(args.threads), "GUNICORN_ACCESS_LOG": str(tmp / "access.log"),
            "GUNICORN_ERROR_LOG": str(tmp / "gunicorn.log"), "GUNICORN_LOG_LEVEL": "warning",
        }
        if args.max_worker_requests is not None:
            env["GUNICORN_MAX_REQUESTS"] = str(args.max_worker_requests)
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url.startswith(("postgres://", "postgresql://")):
            env["DATABASE_URL"], drop_db = throwaway_postgres(database_url)
            print(f"database: PostgreSQL {env['DATABASE_URL'].rsplit('/', 1)[-1]} (dropped at the end)")
        else:
            os.environ.pop("DATABASE_URL", None)
            print(f"database: SQLite {tmp / 'db.sqlite3'}")
        # No Redis: the local-memory cache (per process) and no broker traffic. A REDIS_URL in
        # the environment (the test suite's) is not touched.
        for name in ("REDIS_URL", "SQLITE_PATH", "CELERY_TASK_ALWAYS_EAGER"):
            os.environ.pop(name, None)
        os.environ.update(env)

        accounts = set_up_shop(args, tmp)
        accounts_file = tmp / "accounts.json"
        accounts_file.write_text(json.dumps(accounts))

        from django.db import connections

        connections.close_all()
        gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "portal/gunicorn_conf.py"], cwd=ROOT,
                                    env=dict(os.environ), stdout=open(tmp / "gunicorn.out", "wb"),
                                    stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(listener.fileno(),))
        listener.close()  # gunicorn has it
        wait_http(base + "/", process=gunicorn)
        warm(base, args.workers)
        print(f"\ngunicorn: {args.workers} gthread workers x {args.threads} threads on {base} "
              f"({'PRODUCTION=1, ' if args.production else ''}DEBUG=0); locust: {args.users} customers, spawn {args.spawn_rate:g}/s, "
              f"think {args.think[0]:g}-{args.think[1]:g} s, {args.run_time} s per run"
              f"{f', at most {args.max_requests} requests' if args.max_requests else ''}", flush=True)

        # the last customer starts after users/spawn-rate s and logs in within a few seconds more
        ramp = args.users / args.spawn_rate + args.think[1] + 2
        per_run = []
        extra = []
        access_log, offset = tmp / "access.log", (tmp / "access.log").stat().st_size
        for n in range(1, args.runs + 1):
            print(f"\nrun {n}/{args.runs}", flush=True)
            data = run_locust(args, base, tmp, accounts_file, n)
            if gunicorn.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {gunicorn.returncode} during run {n}")
            stats = stats_of(data, ramp_s=ramp)
            server, offset = server_times(access_log, offset)
            for name, values in server.items():
                if name in stats:
                    values.sort()
                    stats[name].update(server_p50=percentile(values, 50), server_p95=percentile(values, 95),
                                       server_p99=percentile(values, 99))
            per_run.append(stats)
            extra.append({k: data[k] for k in ("downloads_ok", "download_bytes", "download_bad", "logins_ok",
                                               "accounts_used", "elapsed_s", "wall_s", "failures")})
            print_table(f"run {n}: {data['elapsed_s']:.0f} s, {data['logins_ok']} logins, "
                        f"{data['downloads_ok']} downloads checked ({data['download_bytes'] / 1e6:.0f} MB), "
                        f"{data['download_bad']} bad (ms)", stats)
            for name, reasons in data["failures"].items():
                for reason, count in reasons.items():
                    print(f"    failure {name}: {count} x {reason}")

        med = median_stats(per_run)
        print_table(f"median of {args.runs} run{'s' if args.runs > 1 else ''} (ms)", med)
        dl = med.get("download", {})
        if "steady_p99" in dl and dl.get("steady_count"):
            print(f"  download p99 once all {args.users} customers are logged in (requests started after "
                  f"{ramp:.0f} s): {dl['steady_p99']:.1f} ms over {dl['steady_count']:.0f} downloads (median of runs)")
        checks = {
            "zero failed requests": all(r["all"]["failures"] == 0 for r in per_run),
            "download p99 < 100 ms": bool(dl) and dl["p99"] < 100,
        }
        for label, ok in checks.items():
            print(f"  target {label}: {'OK' if ok else 'MISSED'}")
        if args.json:
            Path(args.json).write_text(json.dumps({"runs": per_run, "median": med, "checks": checks,
                                                   "details": extra, "users": args.users,
                                                   "cameras": args.cameras, "workers": args.workers,
                                                   "threads": args.threads}, indent=1))
        failed = not all(checks.values())
        return 1 if (failed and args.check) else 0
    except BaseException:
        failed = True
        raise
    finally:
        if gunicorn is not None:
            try:
                os.killpg(gunicorn.pid, signal.SIGTERM)
                gunicorn.wait(15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(gunicorn.pid, signal.SIGKILL)
                gunicorn.wait()
            log = tmp / "gunicorn.log"
            if failed and log.exists() and log.stat().st_size:
                print("\ngunicorn error log (last lines):\n" + "\n".join(log.read_text().splitlines()[-30:]))
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up yet
            pass
        if drop_db is not None:
            try:
                drop_db()
            except Exception as exc:  # noqa: BLE001
                print(f"could not drop the throwaway database: {exc}", file=sys.stderr)
        if args.keep:
            print(f"\nkept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
