"""The address guard: every outbound connection a probe makes asks here first.

A help center that fetches URLs on a visitor's behalf is an SSRF tool unless
it refuses internal addresses. The check is made on the *resolved* address
that is then connected to (callers connect to the returned IPs, not the name),
so a name cannot resolve to a public address for the check and a private one
for the connection. Decimal and octal spellings ("2130706433", "0177.1") are
caught because the resolver turns them into ordinary addresses before the
check sees them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services answer on these; they are refused whatever the policy.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)


class BlockedAddressError(Exception):
    """The target resolved only to addresses the policy refuses."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which non-public addresses probes may reach (tests and demo allow loopback)."""

    allow_loopback: bool = False
    allow_private: bool = False


def _unwrap(ip: IPAddress) -> IPAddress:
    # ::ffff:127.0.0.1 and friends reach the IPv4 address inside them.
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def refusal_reason(address: str | IPAddress, policy: AddressPolicy) -> str | None:
    """Why ``address`` may not be contacted under ``policy``; None when it may."""
    ip = _unwrap(ipaddress.ip_address(address))
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if ip.is_unspecified or ip.is_multicast or ip.is_link_local or ip.is_reserved:
        return "a link-local, multicast or reserved address"
    if ip.is_global:
        return None
    return None if policy.allow_private else "a private or internal address"


def check_address(address: str | IPAddress, policy: AddressPolicy) -> None:
    reason = refusal_reason(address, policy)
    if reason is not None:
        raise BlockedAddressError(f"{address} is {reason}; probes do not contact it")


Nameservers = tuple[tuple[str, int], ...]


async def _addresses(host: str, port: int, nameservers: Nameservers) -> list[str]:
    """Every address ``host`` resolves to, from the system resolver or ``nameservers``."""
    loop = asyncio.get_running_loop()
    if nameservers:
        # Literal addresses, in every spelling inet_aton accepts ("2130706433", "0x7f.1"),
        # are read without a lookup, exactly as the system resolver would read them.
        try:
            infos = await loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
            )
        except socket.gaierror:
            return await _ask_nameservers(host, nameservers)
    else:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for _family, _type, _proto, _canon, sockaddr in infos]


async def _ask_nameservers(host: str, nameservers: Nameservers) -> list[str]:
    """A and AAAA for ``host`` from the given DNS servers, failures as ``socket.gaierror``.

    The same servers the DNS probe asks when it is configured with them; without
    this, the address guard could only ever be exercised against the system
    resolver's answers, which tests cannot choose.
    """
    import dns.asyncresolver
    import dns.exception
    import dns.nameserver
    import dns.resolver

    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(a, p) for a, p in nameservers]

    async def lookup(rdtype: str) -> list[str]:
        answer = await resolver.resolve(host, rdtype, raise_on_no_answer=False, search=False)
        return [rdata.to_text() for rdata in answer.rrset] if answer.rrset is not None else []

    try:
        a, aaaa = await asyncio.gather(lookup("A"), lookup("AAAA"))
    except dns.resolver.NXDOMAIN as exc:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from exc
    except dns.exception.Timeout as exc:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution") from exc
    except (dns.exception.DNSException, ValueError) as exc:
        raise socket.gaierror(socket.EAI_FAIL, f"Non-recoverable failure ({exc})") from exc
    if not a and not aaaa:
        raise socket.gaierror(socket.EAI_NONAME, "No address associated with hostname")
    return a + aaaa


async def resolve_checked(
    host: str, port: int, policy: AddressPolicy, nameservers: Nameservers = ()
) -> list[str]:
    """Resolve ``host`` once and return only the addresses the policy allows.

    Callers connect to these addresses, never to the name again. ``nameservers``
    (host, port pairs) replaces the system resolver when given. Raises
    ``socket.gaierror`` when the name does not resolve and ``BlockedAddressError``
    when every address it resolves to is refused.
    """
    allowed: list[str] = []
    refused: list[str] = []
    for address in await _addresses(host, port, nameservers):
        if address in allowed or address in refused:
            continue
        (refused if refusal_reason(address, policy) else allowed).append(address)
    if not allowed:
        reason = refusal_reason(refused[0], policy) if refused else "no address"
        raise BlockedAddressError(f"{host} resolves to {reason}; probes do not contact it")
    return allowed
