"""The load scenario of issue 7 (benchmarks/bench_load.py with benchmarks/locustfile.py) at
a tiny scale: 2,000 cameras, 5 customers, about 10 seconds of locust against a real
gunicorn. It checks what a customer would notice -- every request answered, logins that
work, the panel's download button giving the real package -- and nothing about timing
(that is the benchmark's job, on a quiet machine).

The script runs in a subprocess with its own throwaway database (a SQLite file, or, in the
PostgreSQL pass, a database of its own created next to the suite's and dropped after), its
own temporary directory and a free loopback port; no Redis, no Celery. Needs gunicorn and
locust (the test extra): missing, the test skips locally and fails with CI=true.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import service_missing

ROOT = Path(__file__).resolve().parents[3]
USERS = 5
REQUEST_TYPES = ("home", "device", "map", "login", "panel", "download")

pytestmark = pytest.mark.load


def _tools():
    # find_spec, never import: importing locust monkey-patches the whole process with gevent.
    for module, what in (("gunicorn", "gunicorn"), ("locust", "locust (pip install -e '.[test]')")):
        if importlib.util.find_spec(module) is None:
            service_missing(f"{what} is not installed: the load scenario needs it")


def test_load_scenario_customers_browse_log_in_and_download_their_package(tmp_path):
    _tools()
    out = tmp_path / "load.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_load.py"), "--cameras", "2000", "--users", str(USERS),
           "--spawn-rate", str(USERS), "--run-time", "10", "--runs", "1", "--think", "0.2,0.6",
           "--workers", "2", "--threads", "4", "--no-production", "--json", str(out)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    report = f"\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, f"bench_load.py exited with {proc.returncode}{report}"
    data = json.loads(out.read_text())
    run, details = data["runs"][0], data["details"][0]

    # every kind of request was made, and none failed (an error page, a refused login, a
    # download that is not the package all count as failures)
    for name in REQUEST_TYPES:
        assert run.get(name, {}).get("count", 0) > 0, f"no {name!r} request was made{report}"
    assert run["all"]["failures"] == 0, f"failed requests: {details['failures']}{report}"

    # each customer logged in once, with their own account
    assert details["logins_ok"] == USERS and details["accounts_used"] == USERS, report
    assert run["login"]["count"] == USERS, report

    # every download was the customer's own package, byte for byte (length, zip signature
    # and the sha256 of the file the package store holds, checked by the locustfile)
    assert details["download_bad"] == 0, report
    assert details["downloads_ok"] == run["download"]["count"] > 0, report
    assert details["download_bytes"] > 0, report
