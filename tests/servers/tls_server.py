"""TLS servers on 127.0.0.1 presenting good and bad certificates, for the TLS probe.

One listening socket per certificate, each served by a background thread that
completes (or fails) the handshake and closes. Certificates come from a
trustme CA whose PEM is written to ``ca_path``; the "untrusted" server uses a
second CA the probe is never told about, and "self_signed" a certificate that
signs itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from types import TracebackType

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_NAMES = ("localhost", "service.test", "127.0.0.1")


def _self_signed_pem(name: str, days: int = 90) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM) + key_pem


class TlsServer:
    """One TLS listener on 127.0.0.1 serving a fixed certificate."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.handshakes = 0
        self.server_names: list[str | None] = []  # SNI of each hello, to check probes send it
        context.sni_callback = self._record_sni
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _record_sni(self, _conn: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.server_names.append(name)

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(3)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                self.handshakes += 1
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.recv(1)  # Wait for the client to hang up.
        except (OSError, ssl.SSLError):
            # The client rejecting our certificate is the point of most servers here.
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=5)


class TlsServers:
    """Context manager starting every certificate case; ``servers.ports["expired"]``."""

    CASES = ("valid", "expired", "wrong_host", "untrusted", "self_signed", "near_expiry")

    def __init__(self, near_expiry_days: int = 5) -> None:
        self.near_expiry_days = near_expiry_days
        self.ca = trustme.CA()
        self.ports: dict[str, int] = {}
        self._servers: dict[str, TlsServer] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="tls-servers-")
        self.ca_path = str(Path(self._tmp.name) / "ca.pem")

    def __getitem__(self, case: str) -> int:
        return self.ports[case]

    def server_names(self, case: str) -> list[str | None]:
        """The SNI names the ``case`` server has been sent, oldest first."""
        return list(self._servers[case].server_names)

    def _context_for_leaf(self, leaf: trustme.LeafCert) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        leaf.configure_cert(context)
        return context

    def _contexts(self) -> dict[str, ssl.SSLContext]:
        now = dt.datetime.now(dt.UTC)
        ca = self.ca
        contexts = {
            "valid": self._context_for_leaf(ca.issue_cert(*VALID_NAMES)),
            "expired": self._context_for_leaf(
                ca.issue_cert(
                    *VALID_NAMES,
                    not_before=now - dt.timedelta(days=60),
                    not_after=now - dt.timedelta(days=2),
                )
            ),
            "wrong_host": self._context_for_leaf(ca.issue_cert("other.example")),
            "untrusted": self._context_for_leaf(trustme.CA().issue_cert(*VALID_NAMES)),
            "near_expiry": self._context_for_leaf(
                ca.issue_cert(
                    *VALID_NAMES,
                    not_before=now - dt.timedelta(days=60),
                    not_after=now + dt.timedelta(days=self.near_expiry_days, hours=12),
                )
            ),
        }
        self_signed = Path(self._tmp.name) / "self-signed.pem"
        self_signed.write_bytes(_self_signed_pem("localhost"))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self_signed)
        contexts["self_signed"] = context
        return contexts

    def __enter__(self) -> TlsServers:
        self.ca.cert_pem.write_to_path(self.ca_path)
        for case, context in self._contexts().items():
            server = TlsServer(context)
            server.start()
            self._servers[case] = server
            self.ports[case] = server.port
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for server in self._servers.values():
            server.stop()
        self._tmp.cleanup()
