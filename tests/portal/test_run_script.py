"""./run and its parts in bin/run.sh: the address the email links use, and the fake Stripe
server's start, which must stop ./run with a clear message when it cannot start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bash(script: str, timeout: float = 60, **env) -> subprocess.CompletedProcess:
    """``script`` run by bash in the project directory with bin/run.sh sourced (an ``env``
    value of None removes that variable)."""
    environ = {key: value for key, value in os.environ.items() if key not in ("SITE_URL", "HOST", "PORT")}
    environ.update(PY=sys.executable, **env)
    environ = {key: value for key, value in environ.items() if value is not None}
    return subprocess.run(["bash", "-c", f"set -euo pipefail; . bin/run.sh; {script}"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=timeout)


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


def test_run_prepares_the_data_through_bin_run_sh():
    run = (ROOT / "run").read_text()
    assert "prepare_data" in run and "manage.py shell" not in run
    assert run.index("dev_email") < run.index("celery -A portal worker")


# Several manage.py runs (migrate, the demo import, a release): minutes on a busy machine.
SLOW = 600


def project_env(var_dir: Path) -> dict:
    """A fresh SQLite project in ``var_dir`` (no PostgreSQL, no Redis), as ./run would start it."""
    return {"VAR_DIR": str(var_dir), "DEBUG": "1", "DATABASE_URL": None, "REDIS_URL": None, "EMAIL_HOST": None,
            "EMAIL_BACKEND": None, "EMAIL_FILE_PATH": None, "DEMO_CAMERAS": "300"}


def test_a_second_start_keeps_the_data_and_publishes_no_empty_release(tmp_path):
    """Django's shell prints a startup line before anything the check printed; the check must
    not read output at all, or every restart reloads the demo and publishes an empty release."""
    count = ("$PY manage.py shell -c 'from cameras.models import Camera, Release; "
             "print(\"counts\", Camera.objects.count(), Release.objects.count())' | grep ^counts")
    env = project_env(tmp_path)
    first = bash(f"prepare_data; {count}", timeout=SLOW, **env)
    assert first.returncode == 0, first.stderr
    assert "loading demo data" in first.stdout and "publishing the first release" in first.stdout
    cameras = first.stdout.strip().splitlines()[-1]
    assert cameras.endswith(" 1") and not cameras.startswith("counts 0")
    second = bash(f"prepare_data; {count}", timeout=SLOW, **env)
    assert second.returncode == 0, second.stderr
    assert "loading demo data" not in second.stdout and "publishing" not in second.stdout
    assert second.stdout.strip().splitlines()[-1] == cameras   # same cameras, still release 1


def test_a_database_error_stops_the_start_instead_of_loading_the_demo_again(tmp_path):
    result = bash("prepare_data", timeout=SLOW,
                  **{**project_env(tmp_path), "DATABASE_URL": "postgres://nobody:x@127.0.0.1:1/none"})
    assert result.returncode != 0 and "loading demo data" not in result.stdout


def test_password_reset_emails_land_where_the_readme_says(tmp_path):
    """Without EMAIL_HOST, ./run's dev_email sends the web server's emails (a password reset)
    to the directory README names, like the worker's."""
    env = project_env(tmp_path)
    mail_dir = tmp_path / "mail"
    reset = ("$PY manage.py migrate --noinput -v0 && $PY manage.py shell -c '"
             "from django.test import Client; from portal.models import User; "
             "User.objects.create_user(\"ana@example.com\", \"pw-ana-123456\"); "
             "print(\"status\", Client().post(\"/account/password/reset/\", {\"email\": \"ana@example.com\"}).status_code)'")
    result = bash(f"dev_email; {reset}", timeout=SLOW, **{**env, "EMAIL_FILE_PATH": str(mail_dir)})
    assert result.returncode == 0, result.stderr
    assert "status 302" in result.stdout and f"emails are written to {mail_dir}/" in result.stdout
    messages = [path.read_text() for path in mail_dir.iterdir()]
    assert len(messages) == 1 and "To: ana@example.com" in messages[0] and "/account/password/reset/" in messages[0]
    # the default directory is the one README names
    default = bash('dev_email >/dev/null; echo "$EMAIL_FILE_PATH"', **env).stdout.strip()
    assert default == str(ROOT / "var" / "mail")
    assert "written to `var/mail/`" in " ".join((ROOT / "README.md").read_text().split())
