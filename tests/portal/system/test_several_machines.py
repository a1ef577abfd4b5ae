"""Several machines that share nothing but the services: two web nodes (gunicorn, each with a
VAR_DIR of its own) behind nginx (the repository's deploy/nginx/speedcam.conf), one Celery
worker with its own VAR_DIR, and PostgreSQL, Redis and the S3 store (moto) shared. The test
process plays the operator's machine (it publishes releases, with yet another VAR_DIR).

A customer buys, gets the file by email and in the panel, a new release is published and
fanned out, and the customer downloads the rebuilt file; then one web node is killed and the
customer's next requests succeed through the other; a backup made on one machine is
restored on another. Every customer request goes through nginx, so which node answers is
nginx's choice (round robin): both must have answered some.

PostgreSQL pass only (./test's second suite): SQLite is one machine's file.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings

from cameras.releases import load_snapshot
from portal.models import Order
from portal.services import packages

from tests.nginx import Nginx
from tests.portal.panelkit import next_release
from tests.portal.shopping import card_token, make_release, wait_for
from tests.portal.system.test_faults import Gunicorn
from tests.s3 import new_bucket, s3_environment
from tests.services import ROOT, free_port, service_missing

ON_POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: several machines share a database server; "
                                               "./test runs this in its PostgreSQL pass"),
]
EMAIL = "nora@example.com"


def machine_env(base: dict, tmp_path, name: str, s3: dict) -> dict:
    var = tmp_path / name
    return {**base, **s3, "VAR_DIR": str(var), "RELEASES_DIR": str(var / "releases"),
            "PACKAGES_DIR": str(var / "packages"), "STORAGE_CACHE_DIR": str(var / "cache"),
            "STORAGE_SPOOL_DIR": str(var / "spool")}


@pytest.fixture
def machines(tmp_path, settings, s3_server, celery_worker_process, localstripe, smtp_sink):
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        service_missing("nginx is not installed (apt-get install nginx; ./test installs it)")
    s3 = s3_environment(s3_server, new_bucket(s3_server))
    site = f"http://127.0.0.1:{free_port()}"
    # The operator's machine (this process): the same store, a VAR_DIR of its own.
    for name, value in machine_env({}, tmp_path, "operator", s3).items():
        if name != "VAR_DIR":
            setattr(settings, name, Path(value) if name.endswith("_DIR") else value)
    settings.SITE_URL = site
    worker = celery_worker_process
    worker.restart(**machine_env({}, tmp_path, "worker", s3), SITE_URL=site)
    nodes = []
    for name in ("web1", "web2"):
        node = Gunicorn(machine_env(worker.env, tmp_path, name, s3), tmp_path / f"{name}.log")
        node.env.update(SITE_URL=site, GUNICORN_THREADS="4", GUNICORN_ACCESS_LOG="-")
        node.start()
        nodes.append(node)
    nginx = Nginx(tmp_path / "nginx", [f"127.0.0.1:{n.port}" for n in nodes], port=int(site.rsplit(":", 1)[1]))
    nginx.start()
    assert nginx.url == site
    yield {"site": site, "nodes": nodes, "worker": worker, "nginx": nginx, "s3": s3, "tmp": tmp_path}
    nginx.stop()
    for node in nodes:
        node.stop()


class Customer:
    """A browser: cookies, and Django's CSRF token sent back with each POST."""

    def __init__(self, site: str):
        self.site = site
        self.http = requests.Session()
        self.http.trust_env = False  # never a proxy from the environment

    def get(self, path: str, **kw):
        return self.http.get(path if path.startswith("http") else self.site + path, timeout=30, **kw)

    def post(self, path: str, data=None, **kw):
        token = self.http.cookies.get("csrftoken")
        return self.http.post(self.site + path, data=data or {}, headers={"X-CSRFToken": token or ""},
                              timeout=60, **kw)


def release_of(data: bytes) -> dict:
    return json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))["release"]


def served_by(node: Gunicorn) -> int:
    return len(re.findall(r'"(?:GET|POST) /', node.log.read_text()))


def manage(env: dict, *args) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_customer_is_served_whichever_machine_answers_and_when_a_web_node_dies(machines, smtp_sink, settings):
    tmp = machines["tmp"]
    make_release(tmp)                         # published by the operator's machine into the store
    nora = Customer(machines["site"])
    assert nora.get("/devices/tomtom-go-classic/checkout/").status_code == 200   # the CSRF cookie

    # 1. the purchase, through nginx (the card step is Stripe.js's, against localstripe)
    started = nora.post("/devices/tomtom-go-classic/checkout/start/",
                        {"email": EMAIL, "coverage": "FR", "legal_ack": "on", "checkout": str(uuid.uuid4()),
                         "token": card_token()})
    assert started.status_code == 200, started.text[-2000:]
    started = started.json()
    paid = nora.post(started["pay_url"].replace(machines["site"], ""))
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text[-2000:]
    order = Order.objects.get(public_id=started["order"])

    # 2. the worker built the file into the store; the email's link works on either node.
    # Three emails: the file, the login and the receipt (in whatever order they arrive).
    def subjects():
        return {m.message["Subject"] for m in smtp_sink.messages if EMAIL in m.rcpt_tos}

    assert wait_for(lambda: len(subjects()) >= 3 and "Your customer panel login" in subjects(), 60), \
        (subjects(), machines["worker"].log_text()[-3000:])
    mails = [m.message for m in smtp_sink.messages if EMAIL in m.rcpt_tos]
    text = "\n".join(m.get_body(("plain",)).get_content() for m in mails)
    link = re.search(re.escape(machines["site"]) + r"/download/\S+/", text).group(0)
    first = nora.get(link)
    assert first.status_code == 200 and first.url.startswith(machines["s3"]["AWS_S3_ENDPOINT_URL"])
    order.refresh_from_db()
    assert release_of(first.content)["number"] == 1
    assert packages.StoredPackage(order.package_key, order.release, "").read_bytes() == first.content

    # 3. the panel: log in with the emailed password, download there too
    password = re.search(r"Password:\s*(\S+)", text).group(1)
    nora.get("/account/login/")
    login = nora.post("/account/login/", {"username": EMAIL, "password": password})
    assert login.status_code == 200 and login.url.rstrip("/").endswith("/account"), login.url
    status_url = f"/account/devices/{order.public_id}/status.json"
    state = nora.get(status_url).json()
    assert nora.get(state["download_url"]).content == first.content

    # 4. a new release, fanned out by the worker: the panel offers the rebuilt file
    settings.FANOUT_ON_PUBLISH = True
    second, _ = next_release({"FR": {"added": 3, "moved": 1}})

    def rebuilt():
        state = nora.get(status_url).json()
        return state if state["ready"] and state["release"] == second.number else None

    assert wait_for(rebuilt, 90, 0.5), machines["worker"].log_text()[-3000:]
    new_file = nora.get(rebuilt()["download_url"])
    assert new_file.status_code == 200 and release_of(new_file.content)["number"] == second.number
    assert all(served_by(node) > 0 for node in machines["nodes"]), "nginx sent every request to one node"

    # 5. one web node dies: the customer's next requests succeed through the other
    dead, alive = machines["nodes"]
    os.killpg(dead.process.pid, signal.SIGKILL)
    dead.process.wait(10)
    before = served_by(alive)
    for _ in range(4):
        state = nora.get(status_url)
        assert state.status_code == 200 and state.json()["download_url"]
    again = nora.get(state.json()["download_url"])
    assert again.status_code == 200 and again.content == new_file.content
    assert served_by(alive) >= before + 5

    # 6. a backup made on the surviving web node, restored on the worker's machine after the
    #    store lost the files
    web_env, worker_env = alive.env, {**machines["worker"].env, **machines["worker"].extra_env}
    assert "Backup written to store:several.tar" in manage(web_env, "backup", "store:several.tar")
    store = packages.get_store()
    order.refresh_from_db()
    store.delete(packages.store_name(order.package_key))
    store.delete(f"releases/{second.snapshot}")
    assert not store.exists(packages.store_name(order.package_key))
    assert "Restored store:several.tar" in manage(worker_env, "restore", "store:several.tar", "--force")
    assert store.exists(packages.store_name(order.package_key))     # put back by the restore, not rebuilt
    assert load_snapshot(second, verify=True).num_rows == second.camera_count
    restored = nora.get(nora.get(status_url).json()["download_url"])
    assert restored.status_code == 200 and restored.content == new_file.content
