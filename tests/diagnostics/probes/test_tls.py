from __future__ import annotations

import asyncio
import socket
from datetime import datetime

import pytest

from diagnostics.probes.result import Outcome, ProbeResult
from diagnostics.probes.safety import AddressPolicy
from diagnostics.probes.tls import TlsConfig, probe_tls
from tests.servers.tls_server import TlsServers

LOOPBACK = AddressPolicy(allow_loopback=True)


def _probe(
    servers: TlsServers, case: str, host: str = "localhost", warn_days: int = 14
) -> ProbeResult:
    config = TlsConfig(timeout=3, policy=LOOPBACK, cafile=servers.ca_path, warn_days=warn_days)
    return asyncio.run(probe_tls(host, servers[case], config))


def test_it_accepts_a_valid_certificate(tls_servers: TlsServers) -> None:
    result = _probe(tls_servers, "valid")

    assert result.probe == "tls"
    assert result.outcome is Outcome.OK
    evidence = result.evidence
    assert evidence["address"] == "127.0.0.1"
    assert evidence["protocol"] in ("TLSv1.2", "TLSv1.3")
    assert evidence["verified"] is True
    assert evidence["hostname_match"] is True
    assert "localhost" in evidence["names"]
    assert evidence["days_left"] > 14
    datetime.fromisoformat(evidence["expires_at"])
    assert evidence["issuer"] != evidence["subject"]
    assert result.latency_ms is not None


def test_it_connects_to_the_address_but_sends_the_name(tls_servers: TlsServers) -> None:
    result = _probe(tls_servers, "valid")

    assert result.evidence["address"] == "127.0.0.1"
    assert tls_servers.server_names("valid")[-1] == "localhost"


def test_it_accepts_an_address_named_in_the_certificate(tls_servers: TlsServers) -> None:
    result = _probe(tls_servers, "valid", host="127.0.0.1")

    assert result.outcome is Outcome.OK
    assert result.evidence["hostname_match"] is True


def test_it_warns_when_the_certificate_expires_soon(tls_servers: TlsServers) -> None:
    result = _probe(tls_servers, "near_expiry")

    assert result.outcome is Outcome.DEGRADED
    assert 0 <= result.evidence["days_left"] <= 14
    assert result.evidence["problems"] == ["expires-soon"]
    assert "expires in" in result.summary


def test_it_takes_the_warning_window_from_the_config(tls_servers: TlsServers) -> None:
    result = _probe(tls_servers, "near_expiry", warn_days=2)

    assert result.outcome is Outcome.OK


def test_it_names_an_expired_certificate(tls_servers: TlsServers) -> None:
    result = _probe(tls_servers, "expired")

    assert result.outcome is Outcome.ERROR
    assert result.evidence["verified"] is False
    assert result.evidence["problems"] == ["expired"]
    assert result.evidence["days_left"] < 0
    assert "expired" in result.summary
    # The details come from the second, unverified handshake.
    assert "localhost" in result.evidence["names"]


def test_it_names_a_certificate_for_another_host(tls_servers: TlsServers) -> None:
    result = _probe(tls_servers, "wrong_host")

    assert result.outcome is Outcome.ERROR
    assert result.evidence["problems"] == ["wrong-host"]
    assert result.evidence["hostname_match"] is False
    assert "other.example" in result.summary
    assert "not localhost" in result.summary


def test_it_names_an_untrusted_certificate(tls_servers: TlsServers) -> None:
    result = _probe(tls_servers, "untrusted")

    assert result.outcome is Outcome.ERROR
    assert result.evidence["problems"] == ["untrusted"]
    assert result.evidence["trusted"] is False
    assert result.evidence["hostname_match"] is True
    assert "not signed by an authority" in result.summary


def test_it_names_a_self_signed_certificate(tls_servers: TlsServers) -> None:
    result = _probe(tls_servers, "self_signed")

    assert result.outcome is Outcome.ERROR
    assert result.evidence["problems"] == ["self-signed"]
    assert result.evidence["self_signed"] is True
    assert "self-signed" in result.summary


def test_it_distrusts_the_test_ca_without_the_cafile(tls_servers: TlsServers) -> None:
    config = TlsConfig(timeout=3, policy=LOOPBACK)

    result = asyncio.run(probe_tls("localhost", tls_servers["valid"], config))

    assert result.outcome is Outcome.ERROR
    assert result.evidence["problems"] == ["untrusted"]


def test_it_reports_a_closed_port_as_down() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

    result = asyncio.run(probe_tls("127.0.0.1", port, TlsConfig(timeout=2, policy=LOOPBACK)))

    assert result.outcome is Outcome.DOWN


def test_it_times_out_when_the_server_never_shakes_hands() -> None:
    # Listening but never reading: the TCP connect succeeds, the handshake never ends.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        config = TlsConfig(timeout=0.3, policy=LOOPBACK)
        result = asyncio.run(probe_tls("127.0.0.1", port, config))

    assert result.outcome is Outcome.TIMEOUT


def test_it_says_when_the_server_does_not_speak_tls() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        async def run() -> ProbeResult:
            loop = asyncio.get_running_loop()

            def answer_in_plain_http() -> None:
                conn, _ = server.accept()
                with conn:
                    conn.recv(1024)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

            serving = loop.run_in_executor(None, answer_in_plain_http)
            result = await probe_tls("127.0.0.1", port, TlsConfig(timeout=2, policy=LOOPBACK))
            await serving
            return result

        result = asyncio.run(run())

    assert result.outcome is Outcome.ERROR
    assert "handshake failed" in result.summary


@pytest.mark.parametrize("host", ["10.0.0.1", "127.0.0.1"])
def test_it_refuses_addresses_the_guard_refuses(host: str) -> None:
    result = asyncio.run(probe_tls(host, 443, TlsConfig(timeout=2)))

    assert result.outcome is Outcome.ERROR
    assert "probes do not contact it" in result.summary
