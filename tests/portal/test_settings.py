"""Settings come from the environment: SQLite by default, DATABASE_URL and REDIS_URL switch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = ("import json, django; from django.conf import settings; django.setup(); "
         "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
         "'name': str(settings.DATABASES['default']['NAME']), "
         "'init': settings.DATABASES['default'].get('OPTIONS', {}).get('init_command', ''), "
         "'cache': settings.CACHES['default']['BACKEND'], 'broker': settings.CELERY_BROKER_URL, "
         "'user': settings.AUTH_USER_MODEL}))")


def settings_with(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="portal.settings")
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, env=clean)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_nothing_set_it_runs_on_sqlite_in_wal_mode_with_no_service(tmp_path):
    s = settings_with(VAR_DIR=str(tmp_path))
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "db.sqlite3")
    assert "journal_mode=WAL" in s["init"] and "busy_timeout" in s["init"]
    assert s["cache"].endswith("LocMemCache") and s["broker"] == "filesystem://"
    assert s["user"] == "portal.User"


def test_database_url_switches_to_postgresql_and_redis_url_to_redis(tmp_path):
    s = settings_with(VAR_DIR=str(tmp_path), DATABASE_URL="postgres://u:p@db.example:5432/cams",
                      REDIS_URL="redis://cache.example:6379/2")
    assert s["engine"] == "django.db.backends.postgresql" and s["name"] == "cams"
    assert s["cache"].endswith("RedisCache") and s["broker"] == "redis://cache.example:6379/2"


def test_a_bad_boolean_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items()}
    env.update(DEBUG="perhaps", VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="portal.settings")
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], capture_output=True, text=True,
                            cwd=ROOT, env=env)
    assert result.returncode != 0 and "DEBUG='perhaps' is not a boolean" in result.stderr


@pytest.mark.django_db
def test_the_login_is_the_email_address(client, django_user_model):
    user = django_user_model.objects.create_user(email="Anna@Example.com", password="correct-horse-9")
    assert user.email == "anna@example.com"
    assert client.login(email="anna@example.com", password="correct-horse-9")
    assert django_user_model.objects.get_by_natural_key("ANNA@example.com") == user
