"""A loopback stand-in for a Cloudflare edge: real HTTP/1.1 on 127.0.0.1.

Each route answers like one of the samples in shared/reference/probe-formats.md
(blocks, rate limits, challenges, origin failures) or misbehaves on purpose
(hangs, drips, floods, loops). The server counts hits per path, tracks how many
requests were open at once, and can answer /ok as a 1020 block for chosen client
addresses, which is how tests stand in for "this region is blocked".

Run alone for a demo: ``python -m diagnostics.standins.edge --port 8020``.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import secrets
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KEYWORD = "The app is ready"
HUGE_BYTES = 100 * 1024 * 1024
BOMB_BYTES = 16 * 1024 * 1024
DRIP_INTERVAL = 0.5

BLOCK_PAGE = """<!DOCTYPE html>
<html lang="en-US"><head>
<title>Access denied | {host} used Cloudflare to restrict access</title>
<meta charset="UTF-8"></head>
<body><div id="cf-wrapper"><div id="cf-error-details">
<h1><span class="cf-error-type">Error</span> <span class="cf-error-code">{code}</span></h1>
<h2 class="cf-subheadline">Access denied</h2>
<p>You do not have access to {host}.</p>
<p>The site owner may have set restrictions that prevent you from accessing the site.</p>
<ul><li>Ray ID: {ray}</li><li>Timestamp: 2026-01-01 00:00:00 UTC</li>
<li>Your IP address: 203.0.113.7</li><li>Error reference number: {code}</li>
<li>Cloudflare Location: Seoul</li></ul>
</div></div></body></html>
"""

CHALLENGE_PAGE = """<!DOCTYPE html><html lang="en-US"><head>
<title>Just a moment...</title><meta charset="UTF-8"></head>
<body><div class="main-wrapper" role="main"><h1>{host}</h1>
<p>Verifying you are human. This may take a few seconds.</p></div>
<script>(function(){{window._cf_chl_opt={{cvId:'3',cType:'managed',cRay:'{ray}'}};
var a=document.createElement('script');
a.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray={ray}';
document.head.appendChild(a);}}());</script></body></html>
"""

ORIGIN_PAGE = """<!DOCTYPE html><html><head><title>{host} | {status}: {reason}</title></head>
<body><span class="cf-error-type">Error code {status}</span>
<p>Ray ID: {ray}</p></body></html>
"""

OK_PAGE = f"<!DOCTYPE html><html><head><title>Edge</title></head><body>{KEYWORD}</body></html>"

ORIGIN_REASONS = {
    502: "Bad gateway",
    521: "Web server is down",
    522: "Connection timed out",
    523: "Origin is unreachable",
    524: "A timeout occurred",
}
BLOCK_ROUTE_CODES = ("1020", "1009", "1010", "1005", "1006", "1106")


@dataclass(frozen=True)
class SeenRequest:
    path: str
    client: str
    user_agent: str


class EdgeServer:
    """The server and what it has seen; start() binds a free port unless one is given."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        colo: str = "ICN",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.colo = colo
        self.ssl_context = ssl_context
        self.block_clients: set[str] = set()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        self._open = 0
        self.max_concurrent = 0
        self.seen: list[SeenRequest] = []
        self._httpd: _EdgeHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> EdgeServer:
        self.stopping.clear()
        _gzip_bomb_body()  # build it now, not while a probe with a short timeout waits
        self._httpd = _EdgeHTTPServer((self.host, self.port), _EdgeHandler, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        # Wake the handlers parked in /hang and /drip so their threads end too.
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> EdgeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self, path: str = "/", host: str | None = None) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits[path]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self.seen.clear()
            self.max_concurrent = self._open
        self.block_clients.clear()

    def ray(self) -> str:
        return f"{secrets.token_hex(8)}-{self.colo}"

    def _entered(self, seen: SeenRequest) -> None:
        with self._lock:
            self._hits[seen.path] += 1
            self.seen.append(seen)
            self._open += 1
            self.max_concurrent = max(self.max_concurrent, self._open)

    def _left(self) -> None:
        with self._lock:
            self._open -= 1


class _EdgeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many probes connect at once in the concurrency tests

    def __init__(
        self, address: tuple[str, int], handler: type[_EdgeHandler], edge: EdgeServer
    ) -> None:
        self.edge = edge
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.edge.ssl_context is None:
            return sock, address
        # Handshake later, in the handler's thread, so a silent client cannot stall accept().
        wrapped = self.edge.ssl_context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        )
        return wrapped, address


class _EdgeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _EdgeHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean

    def send_response(self, code: int, message: str | None = None) -> None:
        # The stock version also sends "Server: BaseHTTP/...", which would sit beside the
        # "server: cloudflare" each route sets and blur what the probe is meant to read.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("date", self.date_time_string())

    @property
    def edge(self) -> EdgeServer:
        return self.server.edge

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        seen = SeenRequest(parts.path, self.client_address[0], self.headers.get("user-agent", ""))
        self.edge._entered(seen)
        try:
            self._route(parts.path, parse_qs(parts.query))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True  # the probe gave up; nothing to answer
        finally:
            self.edge._left()

    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        if path == "/ok":
            return self._ok()
        if path.startswith("/block/"):
            return self._block(path.removeprefix("/block/"))
        if path.startswith("/origin/"):
            return self._origin(int(path.removeprefix("/origin/")))
        simple = {
            "/rate-limit": self._rate_limit,
            "/challenge": self._challenge,
            "/plain-500": self._plain_500,
            "/csp-cloudflare": self._csp_cloudflare,
            "/teapot": self._teapot,
            "/guide-1020": self._guide_1020,
            "/hang": self._hang,
            "/drip": self._drip,
            "/huge": self._huge,
            "/gzip-bomb": self._gzip_bomb,
            "/redirect-loop": self._redirect_loop,
        }
        if path in simple:
            return simple[path]()
        if path == "/redirect-to":
            return self._redirect(query.get("to", ["/ok"])[0])
        if path == "/slow":
            time.sleep(int(query.get("ms", ["100"])[0]) / 1000)
            return self._ok()
        return self._send(404, b"not found", {"content-type": "text/plain"})

    # -- answers ---------------------------------------------------------------

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _cloudflare_headers(self, content_type: str) -> dict[str, str]:
        return {"server": "cloudflare", "cf-ray": self.edge.ray(), "content-type": content_type}

    def _ok(self) -> None:
        if self.client_address[0] in self.edge.block_clients:
            return self._block("1020")
        headers = self._cloudflare_headers("text/html; charset=UTF-8")
        self._send(200, OK_PAGE.encode(), headers)

    def _block(self, route: str) -> None:
        code, _, style = route.partition("-")
        if code not in BLOCK_ROUTE_CODES:
            return self._send(404, b"no such block", {"content-type": "text/plain"})
        if style == "plain":
            headers = self._cloudflare_headers("text/plain; charset=UTF-8")
            return self._send(403, f"error code: {code}".encode(), headers)
        headers = self._cloudflare_headers("text/html; charset=UTF-8")
        ray = headers["cf-ray"].partition("-")[0]
        page = BLOCK_PAGE.format(host=self._host(), code=code, ray=ray)
        self._send(403, page.encode(), headers)

    def _rate_limit(self) -> None:
        headers = self._cloudflare_headers("text/plain; charset=UTF-8")
        headers["retry-after"] = "30"
        self._send(429, b"error code: 1015", headers)

    def _challenge(self) -> None:
        headers = self._cloudflare_headers("text/html; charset=UTF-8")
        headers["cf-mitigated"] = "challenge"
        ray = headers["cf-ray"].partition("-")[0]
        self._send(403, CHALLENGE_PAGE.format(host=self._host(), ray=ray).encode(), headers)

    def _origin(self, status: int) -> None:
        if status not in ORIGIN_REASONS:
            return self._send(404, b"no such origin error", {"content-type": "text/plain"})
        headers = self._cloudflare_headers("text/html; charset=UTF-8")
        ray = headers["cf-ray"].partition("-")[0]
        page = ORIGIN_PAGE.format(
            host=self._host(), status=status, reason=ORIGIN_REASONS[status], ray=ray
        )
        self._send(status, page.encode(), headers)

    def _plain_500(self) -> None:
        headers = {"server": "nginx", "content-type": "text/html"}
        self._send(500, b"<html><body>Internal Server Error</body></html>", headers)

    def _csp_cloudflare(self) -> None:
        headers = {
            "server": "nginx",
            "content-type": "text/html; charset=UTF-8",
            "content-security-policy": (
                "default-src 'self'; script-src 'self' https://challenges.cloudflare.com; "
                "frame-src https://challenges.cloudflare.com"
            ),
        }
        self._send(200, OK_PAGE.encode(), headers)

    def _guide_1020(self) -> None:
        # A help page served through Cloudflare that quotes a block page word for
        # word: a 200 answer, so the classifier must not call it a block.
        headers = self._cloudflare_headers("text/html; charset=UTF-8")
        ray = headers["cf-ray"].partition("-")[0]
        quoted = BLOCK_PAGE.format(host=self._host(), code="1020", ray=ray)
        self._send(200, quoted.encode(), headers)

    def _teapot(self) -> None:
        self._send(418, b"I'm a teapot", {"server": "teapot", "content-type": "text/plain"})

    def _hang(self) -> None:
        self.edge.stopping.wait()
        self.close_connection = True

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        while not self.edge.stopping.wait(DRIP_INTERVAL):
            self.wfile.write(b".")
            self.wfile.flush()

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/octet-stream")
        self.send_header("content-length", str(HUGE_BYTES))
        self.end_headers()
        chunk = b"x" * (64 * 1024)
        for _ in range(HUGE_BYTES // len(chunk)):
            if self.edge.stopping.is_set():
                break
            self.wfile.write(chunk)
        self.close_connection = True

    def _gzip_bomb(self) -> None:
        headers = {"content-type": "text/plain", "content-encoding": "gzip"}
        self._send(200, _gzip_bomb_body(), headers)

    def _redirect_loop(self) -> None:
        self._redirect("/redirect-loop")

    def _redirect(self, location: str) -> None:
        self._send(302, b"", {"location": location, "content-type": "text/plain"})

    def _host(self) -> str:
        return (self.headers.get("host") or "edge.invalid").partition(":")[0]


@functools.cache
def _gzip_bomb_body() -> bytes:
    # About 16 KB on the wire that inflates to 16 MB: a probe must stop inflating early.
    return gzip.compress(bytes(BOMB_BYTES))


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Cloudflare-like test edge.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--colo", default="ICN")
    args = parser.parse_args()
    edge = EdgeServer(args.host, args.port, args.colo).start()
    print(f"edge listening on {edge.url('/')} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        edge.stop()


if __name__ == "__main__":
    main()
