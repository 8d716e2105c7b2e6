"""Debian's nginx run natively with deploy/nginx/helpcenter.conf, on loopback.

The compose file mounts the configuration into the official nginx image, where
``web:8000``, ``/srv/static/``, ``/srv/media/`` and ``/var/cache/nginx/`` exist. Here only those
addresses (the lines marked ``# native:``) are swapped for a gunicorn
port and temporary folders; every other line is the deployed one. A small
wrapper supplies what the image's own nginx.conf does (events, mime types,
logs), with every path under a private prefix.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from diagnostics.standins.processes import stop_process

ROOT = Path(__file__).resolve().parent.parent.parent
CONF = ROOT / "deploy" / "nginx" / "helpcenter.conf"
NGINX = "/usr/sbin/nginx"
MIME_TYPES = "/etc/nginx/mime.types"

# Access log fields the tests read: who asked, what, and whether the cache answered.
LOG_FORMAT = "$remote_addr $request_method $uri $status $upstream_cache_status $upstream_addr"


def available() -> bool:
    return Path(NGINX).exists() and Path(MIME_TYPES).exists()


def native_conf(
    upstream: str, static_root: Path, cache_dir: Path, listen: str, media_root: Path | None = None
) -> str:
    """The deployed configuration with its addresses pointed at loopback and temp folders."""
    text = CONF.read_text()
    media = str(media_root if media_root is not None else cache_dir.parent / "media").rstrip("/")
    swaps = {
        r"alias /srv/media/images/;\s*# native: media": f"alias {media}/images/;",
        r"server web:8000;\s*# native: upstream": f"server {upstream};",
        r"/var/cache/nginx/helpcenter\s*# native: cache": str(cache_dir),
        r"alias /srv/static/;\s*# native: static": f"alias {str(static_root).rstrip('/')}/;",
        r"listen 80 default_server;": f"listen {listen} default_server;",
    }
    for pattern, replacement in swaps.items():
        text, count = re.subn(pattern, replacement, text)
        # A renamed line in the deployed file must break the tests, not be skipped quietly.
        if count != 1:
            raise ValueError(f"{CONF} no longer has exactly one match for {pattern!r}")
    return text


def wrapper_conf(prefix: Path, workers: int | str = 1) -> str:
    # As root, nginx would hand its workers to "nobody", who cannot read the
    # private temporary folders these runs use.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes {workers};\n"
        "pid nginx.pid;\n"
        "error_log error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        f"    include {MIME_TYPES};\n"
        "    default_type application/octet-stream;\n"
        "    sendfile on;\n"
        "    tcp_nopush on;\n"
        "    keepalive_timeout 65;\n"
        "    keepalive_requests 100000;\n"
        f"    log_format helpcenter '{LOG_FORMAT}';\n"
        f"    access_log {prefix / 'access.log'} helpcenter;\n"
        "    client_body_temp_path tmp/body;\n"
        "    proxy_temp_path tmp/proxy;\n"
        "    fastcgi_temp_path tmp/fastcgi;\n"
        "    uwsgi_temp_path tmp/uwsgi;\n"
        "    scgi_temp_path tmp/scgi;\n"
        "    include helpcenter.conf;\n"
        "}\n"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NginxProcess:
    """nginx in the foreground under a temporary prefix; ``stop()`` ends it."""

    def __init__(
        self,
        upstream_port: int,
        static_root: Path,
        port: int | None = None,
        workers: int = 1,
        media_root: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prefix = Path(tempfile.mkdtemp(prefix="hc-nginx-"))
        (self.prefix / "tmp").mkdir()
        (self.prefix / "cache").mkdir()
        (self.prefix / "helpcenter.conf").write_text(
            native_conf(
                f"127.0.0.1:{upstream_port}",
                static_root,
                self.prefix / "cache",
                f"127.0.0.1:{self.port}",
                media_root,
            )
        )
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(wrapper_conf(self.prefix, workers))
        self.access_log = self.prefix / "access.log"
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *extra: str) -> list[str]:
        return [NGINX, "-p", f"{self.prefix}/", "-c", str(self.conf), "-e", "stderr", *extra]

    def test_config(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603  (nginx and a config this module wrote)
            self.command("-t"), capture_output=True, text=True, timeout=30, check=False
        )

    def start(self) -> NginxProcess:
        # nginx and a config this module wrote: no outside input reaches the command.
        self.process = subprocess.Popen(self.command("-g", "daemon off;"))  # noqa: S603
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with code {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start listening") from None
                time.sleep(0.05)

    def log_lines(self) -> list[str]:
        """Every request nginx has finished, the last answer sent included.

        nginx writes a request's log line just after the last byte of its answer,
        so a client can hold the answer before the line exists. A mark request on
        a fresh connection settles that: the single worker finishes (and logs) the
        request in hand before it accepts the next, so once the mark's line is
        written every earlier one is too.
        """
        if self.workers != 1:
            raise RuntimeError("log_lines() can only settle the log of a single nginx worker")
        # Static files are not logged, so the mark goes upstream (gunicorn answers 404).
        mark = f"/.log-mark-{uuid.uuid4().hex}"
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(f"GET {mark} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
            while sock.recv(65536):
                pass
        deadline = time.monotonic() + 30
        while True:
            lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
            for n, line in enumerate(lines):
                if f" {mark} " in line:
                    return lines[:n]
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx never logged {mark}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)  # SIGTERM: nginx's fast shutdown, workers included
        shutil.rmtree(self.prefix, ignore_errors=True)
