"""./run and its parts in bin/run.sh: the address the email links use, and the fake Stripe
server's start, which must stop ./run with a clear message when it cannot start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bash(script: str, **env) -> subprocess.CompletedProcess:
    """``script`` run by bash in the project directory with bin/run.sh sourced."""
    environ = {key: value for key, value in os.environ.items() if key not in ("SITE_URL", "HOST", "PORT")}
    environ.update(PY=sys.executable, **env)
    return subprocess.run(["bash", "-c", f"set -euo pipefail; . bin/run.sh; {script}"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)


def test_the_run_script_is_valid_bash():
    for script in ("run", "bin/run.sh"):
        result = subprocess.run(["bash", "-n", script], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_the_site_address_follows_host_and_port():
    assert bash("site_url").stdout.strip() == "http://127.0.0.1:8000"
    assert bash("site_url", PORT="8101").stdout.strip() == "http://127.0.0.1:8101"
    assert bash("site_url", HOST="0.0.0.0", PORT="9000").stdout.strip() == "http://0.0.0.0:9000"
    assert bash("site_url", SITE_URL="https://shop.example", PORT="8101").stdout.strip() == "https://shop.example"


def test_run_exports_the_site_address_before_starting_the_worker_and_the_server():
    lines = (ROOT / "run").read_text().splitlines()
    exported = next(i for i, line in enumerate(lines) if line.strip() == "export SITE_URL")
    assert lines[exported - 1].strip() == 'SITE_URL="$(site_url)"'
    worker = next(i for i, line in enumerate(lines) if "celery -A portal worker" in line)
    server = next(i for i, line in enumerate(lines) if "manage.py runserver" in line)
    assert exported < worker < server
