"""TCP probe: can we open a connection, over IPv4 and over IPv6, and how fast.

Each address family is tried separately because "works over IPv4, times out
over IPv6" is a common cause of a site that loads for some visitors only.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from diagnostics.probes.result import Outcome, ProbeResult
from diagnostics.probes.safety import AddressPolicy, BlockedAddressError, resolve_checked

PROBE = "tcp"

FAMILIES = ("ipv4", "ipv6")


@dataclass(frozen=True)
class TcpConfig:
    timeout: float = 5.0
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    local_address: str | None = None


def family_of(address: str) -> str:
    return "ipv4" if ipaddress.ip_address(address).version == 4 else "ipv6"


def classify_os_error(exc: OSError) -> str:
    """A short, stable word for a connect failure (stored as evidence)."""
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "refused"
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "unreachable"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "no-route-from-local-address"
    return "error"


async def resolve_for_probe(
    host: str, port: int, policy: AddressPolicy, timeout: float
) -> list[str] | ProbeResult:
    """The guard-checked addresses for ``host``, or the result explaining why there are none.

    Shared by the TCP and TLS probes; the ``probe`` name in a returned result is
    filled in by the caller.
    """
    try:
        async with asyncio.timeout(timeout):
            return await resolve_checked(host, port, policy)
    except BlockedAddressError as exc:
        return ProbeResult(
            "", Outcome.ERROR, f"Refused to connect: {exc}.", None, {"guard": str(exc)}
        )
    except TimeoutError:
        return ProbeResult(
            "", Outcome.TIMEOUT, f"Looking up {host} took longer than {timeout:g} s.", None, {}
        )
    except (socket.gaierror, UnicodeError) as exc:
        return ProbeResult(
            "", Outcome.ERROR, f"{host} does not resolve to any address ({exc}).", None, {}
        )


def local_addr_for(address: str, local_address: str | None) -> tuple[str, int] | str | None:
    """The ``local_addr`` to bind for ``address``; a string explains a family mismatch."""
    if local_address is None:
        return None
    if family_of(local_address) != family_of(address):
        return f"the local address {local_address} cannot reach an {family_of(address)} address"
    return (local_address, 0)


async def _connect_family(addresses: list[str], port: int, config: TcpConfig) -> dict[str, Any]:
    """Try each address of one family in turn until one connects."""
    attempt: dict[str, Any] = {}
    for address in addresses:
        attempt = {"address": address}
        local = local_addr_for(address, config.local_address)
        if isinstance(local, str):
            attempt["error"] = "local-address-family"
            attempt["detail"] = local
            continue
        started = time.perf_counter()
        try:
            async with asyncio.timeout(config.timeout):
                _reader, writer = await asyncio.open_connection(address, port, local_addr=local)
        except TimeoutError:
            attempt["error"] = "timeout"
            # The timeout is a budget per family: a second silent address would
            # double the wait without telling us anything new.
            break
        except OSError as exc:
            attempt["error"] = classify_os_error(exc)
            attempt["detail"] = exc.strerror or str(exc)
            continue
        attempt["connect_ms"] = round((time.perf_counter() - started) * 1000, 1)
        writer.close()
        # The peer may reset first; we already have what we came for.
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return attempt
    return attempt


async def probe_tcp(host: str, port: int, config: TcpConfig) -> ProbeResult:
    """Open (and close) a TCP connection to ``host:port`` over each address family."""
    resolved = await resolve_for_probe(host, port, config.policy, config.timeout)
    if isinstance(resolved, ProbeResult):
        return ProbeResult(PROBE, resolved.outcome, resolved.summary, None, resolved.evidence)

    by_family: dict[str, list[str]] = {name: [] for name in FAMILIES}
    for address in resolved:
        by_family[family_of(address)].append(address)
    evidence: dict[str, Any] = {"host": host, "port": port}
    tried = [name for name in FAMILIES if by_family[name]]
    attempts = await asyncio.gather(
        *(_connect_family(by_family[name], port, config) for name in tried)
    )
    for name in FAMILIES:
        evidence[name] = {"error": "no-address"}
    evidence.update(zip(tried, attempts, strict=True))

    connected = {n: a for n, a in zip(tried, attempts, strict=True) if "connect_ms" in a}
    if connected:
        latency = min(a["connect_ms"] for a in connected.values())
        parts = [
            f"{'IPv4' if n == 'ipv4' else 'IPv6'} in {a['connect_ms']:.0f} ms"
            for n, a in connected.items()
        ]
        summary = f"Connected to {host}:{port} over {' and '.join(parts)}."
        for name in tried:
            if name not in connected:
                label = "IPv4" if name == "ipv4" else "IPv6"
                summary += f" {label} failed ({evidence[name].get('error')})."
        return ProbeResult(PROBE, Outcome.OK, summary, latency, evidence)

    errors = {a.get("error") for a in attempts}
    if "refused" in errors:
        # Something answered and said no: the host is there, the service is not.
        outcome, why = Outcome.DOWN, "the connection was refused"
    elif "timeout" in errors:
        outcome, why = Outcome.TIMEOUT, f"no answer within {config.timeout:g} s"
    elif "unreachable" in errors:
        # Usually this server's own network (no IPv6 route, say), not the target.
        outcome, why = Outcome.ERROR, "this server has no route to it"
    else:
        outcome, why = Outcome.ERROR, "the connection failed"
    return ProbeResult(
        PROBE, outcome, f"Could not connect to {host}:{port}: {why}.", None, evidence
    )
