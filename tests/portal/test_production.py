"""Production settings (README "Production"): PRODUCTION=1 is strict, `check --deploy` is clean
with the documented environment, static files are served by WhiteNoise from the WSGI app
after collectstatic, gunicorn runs with portal/gunicorn_conf.py; ./run and ./test unchanged."""

import json
import os
import re
import runpy
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Variables a production-like subprocess must not inherit from the test run's environment.
SCRUBBED = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOW_INSECURE_SECRET", "ALLOWED_HOSTS", "SITE_URL",
            "PRODUCTION", "STATIC_ROOT", "SECURE_COOKIES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "CLIENT_IP_HEADER",
            "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS",
            # the test run's localstripe values, which production refuses
            "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE", "STRIPE_JS_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE"}  # set by the browser fixture (tests/services.py); fails check --deploy


def production_env(tmp_path, **overrides):
    """The environment README "Production" documents (SQLite kept: check needs no database)."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED and not k.startswith("GUNICORN_")}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        PRODUCTION="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="shop.example.com",
        SITE_URL="https://shop.example.com",
        SECURE_PROXY_SSL_HEADER="1",
        SECURE_SSL_REDIRECT="1",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
        CLIENT_IP_HEADER="HTTP_X_REAL_IP",
        LOG_LEVEL="WARNING",
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args, env, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)


def manage(env, *args):
    return run([sys.executable, "manage.py", *args], env)


PROBE = ("import json, django; from django.conf import settings; django.setup(); "
         "print(json.dumps({'secret': settings.SECRET_KEY, 'debug': settings.DEBUG, "
         "'static': settings.STORAGES['staticfiles']['BACKEND'], 'finders': settings.WHITENOISE_USE_FINDERS}))")


def probe(env):
    result = run([sys.executable, "-c", PROBE], env)
    return result, (json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else None)


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output and "WARNING" not in output, output


def test_check_deploy_reports_the_development_secret_when_production_is_forgotten(tmp_path):
    env = production_env(tmp_path, PRODUCTION=None, SECRET_KEY=None)
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL"])
def test_production_refuses_to_start_without_its_required_variables(tmp_path, missing):
    # ALLOW_INSECURE_SECRET=1 is no way out in production.
    env = production_env(tmp_path, **{missing: None, "ALLOW_INSECURE_SECRET": "1"})
    result = manage(env, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr, result.stderr
    result = run([sys.executable, "-c", "import portal.wsgi"], env)  # what gunicorn imports
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr


@pytest.mark.parametrize("bad, message", [
    ({"DEBUG": "1"}, "DEBUG=1"),
    ({"SECRET_KEY": "django-insecure-development-key-set-SECRET_KEY-in-production"}, "development key"),
])
def test_production_refuses_debug_and_the_development_secret(tmp_path, bad, message):
    result = manage(production_env(tmp_path, **bad), "check")
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_development_and_tests_start_without_a_secret_as_before(tmp_path):
    bare = {k: v for k, v in production_env(tmp_path).items()
            if k not in SCRUBBED} | {"VAR_DIR": str(tmp_path / "var")}
    for extra in ({}, {"DEBUG": "1"}, {"DEBUG": "0"}, {"DEBUG": "1", "ALLOW_INSECURE_SECRET": "0"}):
        result, settings = probe(bare | extra)  # nothing set (./test), ./run (DEBUG=1), DEBUG=0 alone
        assert result.returncode == 0, (extra, result.stderr)
        assert settings["secret"].startswith("django-insecure-")
        assert settings["static"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
        assert settings["finders"] is True
    # DEBUG off with ALLOW_INSECURE_SECRET=0 was already strict, and stays so.
    result, _ = probe(bare | {"DEBUG": "0", "ALLOW_INSECURE_SECRET": "0"})
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_uses_the_hashed_compressed_manifest_storage(tmp_path):
    result, settings = probe(production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert settings["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert settings["finders"] is False and settings["debug"] is False


SERVE = r"""
import io, json, sys
from django.templatetags.static import static
from portal.wsgi import application

def get(path, **headers):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "shop.example.com",
               "SERVER_PORT": "443", "HTTP_HOST": "shop.example.com", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
               "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False}
    environ.update(("HTTP_" + k.upper().replace("-", "_"), v) for k, v in headers.items())
    seen = {}
    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(response_headers)
    body = b"".join(application(environ, start_response))
    return {"status": seen["status"], "headers": seen["headers"], "length": len(body),
            "head": body[:200].decode("latin-1")}

https = {"X-Forwarded-Proto": "https"}
out = {"urls": {name: static(name) for name in ("leaflet/leaflet.js", "portal/site.css", "leaflet/leaflet.css")}}
out["plain"] = {name: get("/static/" + name, **https) for name in ("leaflet/leaflet.js", "portal/site.css")}
out["hashed"] = {name: get(url, **https) for name, url in out["urls"].items()}
out["gzip"] = get(out["urls"]["leaflet/leaflet.js"], **https, **{"Accept-Encoding": "gzip"})
out["missing"] = get("/static/portal/nope.css", **https)
out["http"] = get("/static/portal/site.css")
print(json.dumps(out))
"""


def test_static_files_are_served_by_whitenoise_through_the_wsgi_app_after_collectstatic(tmp_path):
    env = production_env(tmp_path)
    collected = manage(env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    static_root = tmp_path / "static"
    assert (static_root / "staticfiles.json").is_file()
    assert (static_root / "leaflet" / "leaflet.js").is_file() and (static_root / "portal" / "site.css").is_file()

    result = run([sys.executable, "-c", SERVE], env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    # {% static %} gives content-hashed names from the manifest.
    for name, url in out["urls"].items():
        stem, ext = name.rsplit(".", 1)
        assert re.fullmatch(rf"/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext}", url), url
    for name, response in out["plain"].items():  # the original names are served too
        assert response["status"] == 200, (name, response)
        assert response["length"] == (static_root / name).stat().st_size
    leaflet = out["plain"]["leaflet/leaflet.js"]
    assert "javascript" in leaflet["headers"]["Content-Type"] and "Leaflet" in leaflet["head"]
    assert out["plain"]["portal/site.css"]["headers"]["Content-Type"].startswith("text/css")
    for name, response in out["hashed"].items():  # hashed names: cached for good
        assert response["status"] == 200, (name, response)
        assert "immutable" in response["headers"]["Cache-Control"] and "max-age=315360000" in response["headers"][
            "Cache-Control"]
    assert out["gzip"]["status"] == 200 and out["gzip"]["headers"].get("Content-Encoding") == "gzip"
    assert out["gzip"]["length"] < out["hashed"]["leaflet/leaflet.js"]["length"]
    assert out["missing"]["status"] == 404
    # SecurityMiddleware runs first: plain http is redirected to https, static files included.
    assert out["http"]["status"] == 301 and out["http"]["headers"]["Location"].startswith("https://")


def test_without_production_static_files_need_no_collectstatic(client, settings, tmp_path):
    # ./test and ./run: WhiteNoise finds the files in the apps; STATIC_ROOT stays empty.
    settings.STATIC_ROOT = tmp_path
    response = client.get("/static/leaflet/leaflet.js")
    assert response.status_code == 200 and b"Leaflet" in b"".join(response.streaming_content)
    assert client.get("/static/portal/site.css").status_code == 200


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_config_reads_the_environment(monkeypatch):
    for name in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "GUNICORN_ACCESS_LOG", "GUNICORN_MAX_REQUESTS",
                 "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(str(ROOT / "portal" / "gunicorn_conf.py"))
    assert conf["wsgi_app"] == "portal.wsgi:application" and conf["bind"] == ["127.0.0.1:8000"]
    assert 3 <= conf["workers"] <= 8 and conf["timeout"] == 60 and conf["accesslog"] == "-"
    assert conf["threads"] == 4  # gthread: a login's password hash does not block the worker
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000, unix:/run/speedcam.sock")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "120")
    monkeypatch.setenv("GUNICORN_ACCESS_LOG", "")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "500")
    conf = runpy.run_path(str(ROOT / "portal" / "gunicorn_conf.py"))
    assert conf["bind"] == ["0.0.0.0:9000", "unix:/run/speedcam.sock"] and conf["workers"] == 3
    assert conf["timeout"] == 120 and conf["accesslog"] is None
    assert conf["max_requests"] == 500 and conf["max_requests_jitter"] == 50


def test_gunicorn_with_the_documented_command_serves_the_site_and_logs_requests(tmp_path):
    port = free_port()
    env = production_env(tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1",
                         GUNICORN_ACCESS_LOG=str(tmp_path / "access.log"),
                         GUNICORN_ERROR_LOG=str(tmp_path / "error.log"),
                         ALLOWED_HOSTS="127.0.0.1", SITE_URL=f"https://127.0.0.1:{port}")
    assert manage(env, "collectstatic", "--noinput").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "portal/gunicorn_conf.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/static/portal/site.css",
                                     headers={"X-Forwarded-Proto": "https"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with opener.open(request, timeout=5) as response:
                    assert response.status == 200 and response.headers["Content-Type"].startswith("text/css")
                    break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not serve: " + (tmp_path / "error.log").read_text(errors="replace"))
                time.sleep(0.3)
        for _ in range(50):  # the access log is written after the response
            log = (tmp_path / "access.log").read_text() if (tmp_path / "access.log").exists() else ""
            if "GET /static/portal/site.css" in log:
                break
            time.sleep(0.1)
        assert '"GET /static/portal/site.css HTTP/1.1" 200' in log, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_env_example_lists_every_variable_the_settings_and_gunicorn_read():
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if line and not line.startswith("#") and "=" in line}
    read = set()
    for path in (ROOT / "portal" / "settings.py", ROOT / "portal" / "gunicorn_conf.py"):
        text = path.read_text()
        read |= set(re.findall(r"env_(?:str|bool|int|float|list)\(\s*\"([A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"_int\(\s*\"([A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"os\.environ\.get\(\s*\"([A-Z0-9_]+)\"", text))
    assert read - example == set()
