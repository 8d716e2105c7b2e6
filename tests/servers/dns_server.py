"""A tiny authoritative DNS server on 127.0.0.1 for the DNS probe's tests.

It answers from a dict zone, says NXDOMAIN or SERVFAIL for chosen names, and
stays silent for "slow" names so the resolver times out. UDP always; TCP on
the same port when that port is free for TCP too (dnspython falls back to TCP
only for truncated answers, which this zone never produces).
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

Zone = Mapping[str, Mapping[str, Iterable[str]]]

DEFAULT_ZONE: dict[str, dict[str, list[str]]] = {
    "service.test": {"A": ["104.16.1.10", "104.16.1.11"], "AAAA": ["2606:4700::6810:10"]},
    "v4only.test": {"A": ["104.16.1.20"]},
    "private.test": {"A": ["10.0.0.5"]},
    "mixed.test": {"A": ["104.16.1.30", "192.168.1.30"]},
    "nodata.test": {},
}


def _key(name: str | dns.name.Name) -> str:
    return str(name).rstrip(".").lower()


class DnsServer:
    """Context manager: ``with DnsServer() as server: server.port``."""

    def __init__(
        self,
        zone: Zone | None = None,
        nxdomain: Iterable[str] = ("missing.test",),
        servfail: Iterable[str] = ("broken.test",),
        slow: Iterable[str] = ("slow.test",),
        ttl: int = 60,
    ) -> None:
        source = DEFAULT_ZONE if zone is None else zone
        self.zone = {
            _key(n): {t.upper(): list(v) for t, v in rr.items()} for n, rr in source.items()
        }
        self.nxdomain = {_key(n) for n in nxdomain}
        self.servfail = {_key(n) for n in servfail}
        self.slow = {_key(n) for n in slow}
        self.ttl = ttl
        self.host = "127.0.0.1"
        self.port = 0
        self.queries: list[tuple[str, str]] = []
        self._udp: socketserver.ThreadingUDPServer | None = None
        self._tcp: socketserver.ThreadingTCPServer | None = None
        self._threads: list[threading.Thread] = []

    @property
    def nameservers(self) -> tuple[tuple[str, int], ...]:
        """Ready for ``DnsConfig(nameservers=...)``."""
        return ((self.host, self.port),)

    def answer(self, wire: bytes) -> bytes | None:
        """The reply to one query, or None to stay silent."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        if not query.question:
            return None
        question = query.question[0]
        name = _key(question.name)
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        if name in self.slow:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name in self.nxdomain or name not in self.zone:
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            values = self.zone[name].get(rdtype, [])
            if values:
                response.answer.append(
                    dns.rrset.from_text_list(
                        question.name, self.ttl, dns.rdataclass.IN, question.rdtype, values
                    )
                )
        return response.to_wire()

    def __enter__(self) -> DnsServer:
        server = self

        class UdpHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = server.answer(data)
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class TcpHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                header = sock.recv(2)
                if len(header) < 2:
                    return
                (length,) = struct.unpack("!H", header)
                data = b""
                while len(data) < length:
                    chunk = sock.recv(length - len(data))
                    if not chunk:
                        return
                    data += chunk
                reply = server.answer(data)
                if reply is not None:
                    sock.sendall(struct.pack("!H", len(reply)) + reply)

        self._udp = socketserver.ThreadingUDPServer((self.host, 0), UdpHandler)
        self._udp.daemon_threads = True
        self.port = self._udp.server_address[1]
        try:
            self._tcp = socketserver.ThreadingTCPServer((self.host, self.port), TcpHandler)
            self._tcp.daemon_threads = True
        except OSError:
            self._tcp = None  # Port taken for TCP; UDP is all the tests need.
        for srv in (self._udp, self._tcp):
            if srv is not None:
                thread = threading.Thread(target=srv.serve_forever, args=(0.1,), daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for srv in (self._udp, self._tcp):
            if srv is not None:
                srv.shutdown()
                srv.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
