"""A loopback address where every connection is refused: "our network reaches nothing".

The port stays bound (so nothing else can take it) but never listens, so the
kernel answers each connection attempt with a reset, at once and every time.
"""

from __future__ import annotations

import socket


class RefusedPort:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._sock: socket.socket | None = None
        self.port = 0

    def start(self) -> RefusedPort:
        self._sock = socket.socket()
        self._sock.bind((self.host, 0))
        self.port = self._sock.getsockname()[1]
        return self

    def stop(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"
