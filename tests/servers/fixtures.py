"""Pytest fixtures that start the loopback stand-ins in tests/servers/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from diagnostics.standins.edge import EdgeServer

# --- Cloudflare-like edge (diagnostics/standins/edge.py) ----------------------------------
# One server for the whole session (starting it per test is slow); the function-scoped `edge`
# fixture clears its counters and client blocks so tests cannot see each other's hits.


@pytest.fixture(scope="session")
def edge_server() -> Iterator[EdgeServer]:
    with EdgeServer() as server:
        yield server


@pytest.fixture
def edge(edge_server: EdgeServer) -> Iterator[EdgeServer]:
    edge_server.reset()
    yield edge_server
    edge_server.reset()


# --- end of the edge block --------------------------------------------------------------------


# --- DNS, TLS and status page stand-ins (dns_server.py, tls_server.py, statuspage.py) -------
# Session-scoped: the TLS certificates take a moment to make, and these servers hold no
# per-test state. A test that serves its own status document uses `status_server.set()` on a
# path of its own, so tests cannot see each other's documents. The imports live here rather
# than at the top so each block of this shared file can be edited on its own.

from diagnostics.standins.statuspage import StatusPageServer  # noqa: E402
from tests.servers.dns_server import DnsServer  # noqa: E402
from tests.servers.tls_server import TlsServers  # noqa: E402


@pytest.fixture(scope="session")
def dns_server() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


@pytest.fixture(scope="session")
def tls_servers() -> Iterator[TlsServers]:
    with TlsServers() as servers:
        yield servers


@pytest.fixture(scope="session")
def status_server() -> Iterator[StatusPageServer]:
    with StatusPageServer() as server:
        yield server


# --- end of the DNS, TLS and status page block ------------------------------------------------
