"""./run and its parts in bin/run.sh: the address the email links use, and the fake Stripe
server's start, which must stop ./run with a clear message when it cannot start."""

from __future__ import annotations

import os
import socket
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_localstripe_on_a_taken_port_stops_with_what_which_port_and_how_to_fix(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = bash('start_localstripe; echo "carried on"', STRIPE_PORT=str(port),
                      LOCALSTRIPE_LOG=str(tmp_path / "localstripe.log"))
    assert result.returncode != 0 and "carried on" not in result.stdout
    assert f"localstripe (the fake Stripe server) cannot start: port {port} is already in use" in result.stderr
    assert "STRIPE_PORT=" in result.stderr and f"lsof -i :{port}" in result.stderr


def test_localstripe_on_a_free_port_starts_and_answers(tmp_path):
    port = free_port()
    result = bash('start_localstripe; echo "started $STRIPE_API_BASE"; kill "$LOCALSTRIPE"', STRIPE_PORT=str(port),
                  LOCALSTRIPE_LOG=str(tmp_path / "localstripe.log"))
    assert result.returncode == 0, result.stderr
    assert f"started http://localhost:{port}" in result.stdout


def test_run_stops_when_localstripe_cannot_start():
    assert "start_localstripe || exit 1" in (ROOT / "run").read_text()
