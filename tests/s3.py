"""A real S3 API for the tests: moto in server mode on loopback, the way localstripe stands
in for Stripe (fixtures imported into tests/conftest.py).

``s3_server`` (session)
    The base URL of a moto S3 server. ``./test`` starts one on a free loopback port and exports
    ``MOTO_S3_URL``; without it (a plain ``pytest``) the fixture starts a private one
    (``python -m moto.server``, log VAR_DIR/log/moto-<port>.log) and stops it at the end.
    Missing moto: the test fails in CI and is skipped otherwise (``service_missing``).

``s3_store`` (function)
    Points the settings at a bucket of the test's own on that server (``STORAGE_URL=s3://
    <bucket>/shop``, endpoint, test keys) with a cache and spool under the test's tmp_path,
    and returns the store (``cameras.storage.S3Store``). Buckets are never shared between
    tests, so nothing needs emptying.

``S3_ENV`` / :func:`s3_environment` give the same settings as environment variables for
processes a test starts (web nodes, workers).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from tests.services import ROOT, free_port, log_dir, service_missing

S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_S3_REGION_NAME": "us-east-1"}
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def s3_answers(url: str) -> bool:
    try:
        with _http.open(url + "/moto-api/", timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


def start_moto(port: int) -> subprocess.Popen:
    log = open(log_dir() / f"moto-{port}.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(scope="session")
def s3_server():
    given = os.environ.get("MOTO_S3_URL", "").rstrip("/")
    if given and s3_answers(given):
        yield given
        return
    import importlib.util

    if importlib.util.find_spec("moto") is None:
        service_missing("moto is not installed (pip install -e '.[test]'): no S3 server for the storage tests")
    process, url = None, ""
    for _attempt in range(3):  # a port taken between the choice and the bind: try another
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_moto(port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None and not s3_answers(url):
            time.sleep(0.1)
        if s3_answers(url):
            break
        process.kill()
        process.wait()
        process = None
    if process is None:
        service_missing(f"the moto S3 server did not start (log: {log_dir()})")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def new_bucket(url: str) -> str:
    import boto3

    name = f"speedcam-{uuid.uuid4().hex[:20]}"
    client = boto3.client("s3", endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name="us-east-1")
    client.create_bucket(Bucket=name)
    return name


def s3_environment(url: str, bucket: str, prefix: str = "shop") -> dict[str, str]:
    return {"STORAGE_URL": f"s3://{bucket}/{prefix}", "AWS_S3_ENDPOINT_URL": url, **S3_KEYS}


@pytest.fixture
def s3_store(s3_server, settings, tmp_path):
    from cameras.storage import get_store

    for name, value in s3_environment(s3_server, new_bucket(s3_server)).items():
        setattr(settings, name, value)
    settings.STORAGE_CACHE_DIR = tmp_path / "s3-cache"
    settings.STORAGE_SPOOL_DIR = tmp_path / "s3-spool"
    store = get_store()
    assert store.remote
    return store
