from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from diagnostics.probes.result import Outcome, ProbeResult
from diagnostics.probes.safety import AddressPolicy
from diagnostics.probes.tcp import TcpConfig, probe_tcp

LOOPBACK = AddressPolicy(allow_loopback=True)


def _probe(host: str, port: int, config: TcpConfig) -> ProbeResult:
    return asyncio.run(probe_tcp(host, port, config))


@pytest.fixture
def listening_port() -> Iterator[int]:
    # A listening socket completes the handshake from its backlog; nothing needs to accept.
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port: int = server.getsockname()[1]
    return port


def test_it_connects_to_an_open_port(listening_port: int) -> None:
    result = _probe("127.0.0.1", listening_port, TcpConfig(timeout=2, policy=LOOPBACK))

    assert result.probe == "tcp"
    assert result.outcome is Outcome.OK
    assert result.evidence["ipv4"]["address"] == "127.0.0.1"
    assert result.evidence["ipv4"]["connect_ms"] >= 0
    assert result.latency_ms == result.evidence["ipv4"]["connect_ms"]
    assert result.evidence["ipv6"] == {"error": "no-address"}
    assert "over IPv4" in result.summary


def test_it_connects_from_a_chosen_local_address(listening_port: int) -> None:
    config = TcpConfig(timeout=2, policy=LOOPBACK, local_address="127.0.0.1")

    result = _probe("127.0.0.1", listening_port, config)

    assert result.outcome is Outcome.OK


def test_it_says_a_local_address_of_the_other_family_cannot_be_used(listening_port: int) -> None:
    config = TcpConfig(timeout=2, policy=LOOPBACK, local_address="::1")

    result = _probe("127.0.0.1", listening_port, config)

    assert result.outcome is Outcome.ERROR
    assert result.evidence["ipv4"]["error"] == "local-address-family"


def test_it_reports_a_closed_port_as_down(closed_port: int) -> None:
    result = _probe("127.0.0.1", closed_port, TcpConfig(timeout=2, policy=LOOPBACK))

    assert result.outcome is Outcome.DOWN
    assert result.evidence["ipv4"]["error"] == "refused"
    assert "refused" in result.summary
    assert result.latency_ms is None


def test_it_tries_each_family_of_localhost(listening_port: int) -> None:
    # "localhost" may resolve to ::1 as well; the server listens on IPv4 only,
    # so IPv4 must connect whatever IPv6 does.
    result = _probe("localhost", listening_port, TcpConfig(timeout=2, policy=LOOPBACK))

    assert result.outcome is Outcome.OK
    assert "connect_ms" in result.evidence["ipv4"]
    assert "connect_ms" not in result.evidence["ipv6"]


def test_it_refuses_a_private_address() -> None:
    result = _probe("10.0.0.1", 443, TcpConfig(timeout=2))

    assert result.outcome is Outcome.ERROR
    assert "private or internal" in result.summary
    assert "ipv4" not in result.evidence


def test_it_refuses_loopback_without_the_allow_flag(listening_port: int) -> None:
    result = _probe("127.0.0.1", listening_port, TcpConfig(timeout=2))

    assert result.outcome is Outcome.ERROR
    assert "loopback" in result.summary


def test_it_refuses_loopback_behind_a_name(listening_port: int) -> None:
    result = _probe("localhost", listening_port, TcpConfig(timeout=2))

    assert result.outcome is Outcome.ERROR
    assert "probes do not contact it" in result.summary


def test_it_reports_a_name_that_does_not_resolve() -> None:
    result = _probe("no-such-host.invalid", 443, TcpConfig(timeout=2))

    assert result.outcome is Outcome.ERROR
    assert "does not resolve" in result.summary
