"""Debian's nginx as the load balancer of several web nodes, run from the repository's own site
example (deploy/nginx/speedcam.conf) with its upstream servers and port filled in, under a
directory of the caller's (configuration, pid, logs, temporary files): no system nginx
configuration is read or changed. Used by tests/portal/system/test_several_machines.py and
benchmarks/bench_rush.py."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "deploy" / "nginx" / "speedcam.conf"
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def site_config(upstreams: list[str], port: int) -> str:
    """The site example with ``upstreams`` (host:port) as its web nodes, listening on ``port``
    of loopback."""
    text = SITE.read_text()
    servers = "".join(f"    server {address} max_fails=1 fail_timeout=10s;\n" for address in upstreams)
    text, n = re.subn(r"(?m)^    server \S+:\d+ [^\n]*\n(    server \S+:\d+ [^\n]*\n)*", servers, text, count=1)
    assert n == 1, "deploy/nginx/speedcam.conf has no upstream server lines"
    text, n = re.subn(r"(?m)^    listen 80;", f"    listen 127.0.0.1:{port};", text)
    assert n == 1, "deploy/nginx/speedcam.conf has no 'listen 80;'"
    return text


class Nginx:
    def __init__(self, directory: Path, upstreams: list[str], workers: int = 1, port: int | None = None):
        self.directory = Path(directory)
        self.upstreams = upstreams
        self.workers = workers
        self.process = None
        self.port = port  # None: a free one

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _config(self) -> Path:
        d = self.directory
        for sub in ("temp/body", "temp/proxy", "temp/fastcgi", "temp/uwsgi", "temp/scgi", "logs"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "speedcam.conf").write_text(site_config(self.upstreams, self.port))
        # As root, nginx's workers would switch to "nobody", who cannot enter a private temp dir.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        main = (f"{user}worker_processes {self.workers};\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log warn;\n"
                "daemon off;\nevents { worker_connections 4096; }\n"
                "http {\n"
                # Times in seconds: the whole request, and the node's (connect, answer).
                "  log_format timed '$remote_addr \"$request\" $status $body_bytes_sent rt=$request_time "
                "uct=$upstream_connect_time urt=$upstream_response_time up=$upstream_addr';\n"
                f"  access_log {d}/logs/access.log timed;\n"
                f"  client_body_temp_path {d}/temp/body;\n  proxy_temp_path {d}/temp/proxy;\n"
                f"  fastcgi_temp_path {d}/temp/fastcgi;\n  uwsgi_temp_path {d}/temp/uwsgi;\n"
                f"  scgi_temp_path {d}/temp/scgi;\n"
                f"  include {d}/speedcam.conf;\n"
                "}\n")
        path = d / "nginx.conf"
        path.write_text(main)
        return path

    def start(self, timeout: float = 20) -> None:
        binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if binary is None:
            raise FileNotFoundError("nginx is not installed (apt-get install nginx; ./test installs it)")
        for _attempt in range(3):  # a port taken between the choice and the bind: another
            if self.port is None or _attempt:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", 0))
                    self.port = s.getsockname()[1]
            config = self._config()
            log = open(self.directory / "logs" / "nginx.out", "ab")
            self.process = subprocess.Popen([binary, "-c", str(config), "-p", str(self.directory)], stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
                except OSError:
                    time.sleep(0.1)
            self.stop()
        raise RuntimeError(f"nginx did not start: {(self.directory / 'logs' / 'error.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
