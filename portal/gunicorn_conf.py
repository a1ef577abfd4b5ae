"""gunicorn configuration for production, every value from the environment.

Start (from the repository root, with the production environment loaded; README "Production"):

    .venv/bin/gunicorn -c portal/gunicorn_conf.py

It lives in portal/, not at the root as ``gunicorn.conf.py``, so that a plain ``gunicorn
portal.wsgi`` (benchmarks/bench_shop.py) does not pick it up by itself.

GUNICORN_BIND          address to listen on (default 127.0.0.1:8000, behind the reverse proxy;
                       unix:/run/speedcam/gunicorn.sock for a socket)
WEB_CONCURRENCY        worker processes (default 2 x CPUs + 1, at most 8: each worker holds
                       the current release snapshot in memory)
GUNICORN_THREADS       threads per worker (default 4: a login spends ~0.3 s hashing its password
                       and a download streams megabytes; threads keep the worker answering
                       meanwhile. benchmarks/bench_load.py measured it)
GUNICORN_TIMEOUT       seconds a request may take before its worker is restarted (default 60)
GUNICORN_GRACEFUL_TIMEOUT  seconds workers get to finish on restart/stop (default 30)
GUNICORN_KEEPALIVE     seconds an idle keep-alive connection from the proxy is held (default 5)
GUNICORN_MAX_REQUESTS  requests after which a worker is replaced, with 10 % jitter (default
                       10000; 0 = never). A replacement loads the application again (~2 s
                       of CPU, then the release snapshot for the map): at 1000, one of the
                       four workers of a release-day rush was replaced every ~10 s, about a
                       third of two cores (benchmarks/bench_rush.py)
GUNICORN_ACCESS_LOG    access log file, "-" for stdout (default), empty for none
GUNICORN_ERROR_LOG     error log file, "-" for stderr (default)
GUNICORN_LOG_LEVEL     debug, info (default), warning, error
FORWARDED_ALLOW_IPS    proxies whose X-Forwarded-* headers gunicorn trusts (read by gunicorn
                       itself; default 127.0.0.1,::1)
"""

import multiprocessing
import os


def _int(name, default):
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not an integer") from None


wsgi_app = "portal.wsgi:application"
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address.strip()]
workers = _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8))
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# Client address, request line, status, bytes, duration in microseconds, referrer, user agent.
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(D)sus "%(f)s" "%(a)s"'
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Worker heartbeats in memory, not on a possibly slow disk (containers).
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

