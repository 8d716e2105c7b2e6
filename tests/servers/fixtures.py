"""Pytest fixtures that start the loopback stand-ins in tests/servers/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.edge import EdgeServer

# --- Cloudflare-like edge (tests/servers/edge.py) ---------------------------------------------
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
