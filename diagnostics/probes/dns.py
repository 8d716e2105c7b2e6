"""DNS probe: what a name resolves to, how fast, and how a failure failed.

"The name does not exist" (NXDOMAIN), "the resolver failed" (SERVFAIL) and
"no answer in time" point to different fixes (a typo, a broken upstream, a
blocked resolver), so the result keeps them apart in both the outcome and
``evidence["rcode"]``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.resolver

from diagnostics.probes.result import Outcome, ProbeResult
from diagnostics.probes.safety import AddressPolicy, refusal_reason

PROBE = "dns"

# Answers are judged as the public internet would see them: a public name that
# resolves to 10.x or 127.x points at a filtering resolver or a hosts-file entry.
_PUBLIC_ONLY = AddressPolicy()


@dataclass(frozen=True)
class DnsConfig:
    timeout: float = 3.0
    nameservers: tuple[tuple[str, int], ...] = ()  # empty = system resolver


@dataclass(frozen=True)
class _Lookup:
    """One record type's lookup: addresses, or why there are none."""

    rdtype: str
    addresses: list[str]
    rcode: str | None  # None when no answer came back at all
    error: str | None  # "timeout", "nxdomain", "servfail", "unreachable", "no-data", ...
    detail: str
    ttl: int | None
    elapsed_ms: float


def _make_resolver(config: DnsConfig) -> dns.asyncresolver.Resolver:
    if not config.nameservers:
        return dns.asyncresolver.Resolver()
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [
        dns.nameserver.Do53Nameserver(address, port) for address, port in config.nameservers
    ]
    return resolver


def _rcode_from_errors(errors: Any) -> tuple[str | None, str]:
    """Pick the rcode (and a readable detail) out of NoNameservers' error list."""
    rcode: str | None = None
    details: list[str] = []
    for entry in errors or []:
        if not isinstance(entry, tuple) or len(entry) < 5:
            continue
        server, _tcp, port, error, response = entry[:5]
        if isinstance(response, dns.message.Message):
            rcode = dns.rcode.to_text(response.rcode())
        details.append(f"{server}:{port}: {error}")
    return rcode, "; ".join(details)


async def _lookup(
    resolver: dns.asyncresolver.Resolver, qname: dns.name.Name, rdtype: str, timeout: float
) -> _Lookup:
    started = time.perf_counter()

    def done(
        addresses: list[str],
        rcode: str | None,
        error: str | None,
        detail: str = "",
        ttl: int | None = None,
    ) -> _Lookup:
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        return _Lookup(rdtype, addresses, rcode, error, detail, ttl, elapsed)

    try:
        answer = await resolver.resolve(
            qname, rdtype, lifetime=timeout, raise_on_no_answer=False, search=False
        )
    except dns.resolver.NXDOMAIN:
        return done([], "NXDOMAIN", "nxdomain")
    except dns.resolver.LifetimeTimeout:
        return done([], None, "timeout", f"no answer within {timeout:g} s")
    except dns.resolver.NoNameservers as exc:
        rcode, detail = _rcode_from_errors(exc.kwargs.get("errors"))
        if rcode == "SERVFAIL":
            return done([], rcode, "servfail", detail)
        if rcode is None:
            # Every server failed without sending a DNS answer (refused port, bad reply).
            return done([], None, "unreachable", detail)
        return done([], rcode, "refused" if rcode == "REFUSED" else "rcode", detail)
    except dns.exception.DNSException as exc:
        return done([], None, "error", str(exc))
    except OSError as exc:
        return done([], None, "unreachable", str(exc))
    if answer.rrset is None:
        # NOERROR with no records of this type: common for AAAA on IPv4-only names.
        return done([], "NOERROR", "no-data")
    addresses = [rdata.to_text() for rdata in answer.rrset]
    return done(addresses, "NOERROR", None, ttl=answer.rrset.ttl)


def _lookup_evidence(lookup: _Lookup) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "addresses": lookup.addresses,
        "rcode": lookup.rcode,
        "ms": lookup.elapsed_ms,
    }
    if lookup.ttl is not None:
        evidence["ttl"] = lookup.ttl
    if lookup.error is not None:
        evidence["error"] = lookup.error
    if lookup.detail:
        evidence["detail"] = lookup.detail
    return evidence


def _non_public(addresses: list[str]) -> list[str]:
    return [a for a in addresses if refusal_reason(a, _PUBLIC_ONLY) is not None]


def _failure(host: str, lookups: list[_Lookup], evidence: dict[str, Any]) -> ProbeResult:
    errors = {lookup.error for lookup in lookups}
    latency = max(lookup.elapsed_ms for lookup in lookups)
    # Ordered by how much each tells us: a definite "does not exist" beats a
    # resolver failure, which beats silence.
    if "nxdomain" in errors:
        evidence["rcode"] = "NXDOMAIN"
        return ProbeResult(
            PROBE,
            Outcome.ERROR,
            f"{host}: the name does not exist (NXDOMAIN).",
            latency,
            evidence,
        )
    if "servfail" in errors:
        evidence["rcode"] = "SERVFAIL"
        return ProbeResult(
            PROBE,
            Outcome.ERROR,
            f"{host}: the resolver failed to look the name up (SERVFAIL).",
            latency,
            evidence,
        )
    if "timeout" in errors:
        evidence["rcode"] = None
        return ProbeResult(
            PROBE,
            Outcome.TIMEOUT,
            f"{host}: the resolver did not answer in time.",
            latency,
            evidence,
        )
    if errors == {"no-data"}:
        evidence["rcode"] = "NOERROR"
        return ProbeResult(
            PROBE,
            Outcome.ERROR,
            f"{host}: the name exists but has no IPv4 or IPv6 address.",
            latency,
            evidence,
        )
    rcodes = sorted({lk.rcode for lk in lookups if lk.rcode and lk.rcode != "NOERROR"})
    evidence["rcode"] = rcodes[0] if rcodes else None
    if rcodes:
        summary = f"{host}: the resolver refused to answer ({', '.join(rcodes)})."
    else:
        summary = f"{host}: the resolver could not be reached."
    return ProbeResult(PROBE, Outcome.ERROR, summary, latency, evidence)


async def probe_dns(host: str, config: DnsConfig) -> ProbeResult:
    """Look up A and AAAA for ``host`` (at once) and describe what came back."""
    host = host.strip().rstrip(".")
    evidence: dict[str, Any] = {"host": host}
    qname = _name_to_look_up(host, evidence)
    if isinstance(qname, ProbeResult):
        return qname
    try:
        resolver = _make_resolver(config)
    except dns.exception.DNSException as exc:
        evidence["rcode"] = None
        return ProbeResult(
            PROBE,
            Outcome.ERROR,
            f"No resolver is configured on this server ({exc}).",
            None,
            evidence,
        )

    lookups = list(
        await asyncio.gather(
            _lookup(resolver, qname, "A", config.timeout),
            _lookup(resolver, qname, "AAAA", config.timeout),
        )
    )
    a_lookup, aaaa_lookup = lookups
    evidence["a"] = a_lookup.addresses
    evidence["aaaa"] = aaaa_lookup.addresses
    evidence["lookups"] = {"A": _lookup_evidence(a_lookup), "AAAA": _lookup_evidence(aaaa_lookup)}
    evidence["nameservers"] = [str(ns) for ns in resolver.nameservers]
    if not a_lookup.addresses + aaaa_lookup.addresses:
        return _failure(host, lookups, evidence)
    return _answered(host, a_lookup, aaaa_lookup, evidence)


def _name_to_look_up(host: str, evidence: dict[str, Any]) -> dns.name.Name | ProbeResult:
    """The DNS name for ``host``, or the result when there is nothing to look up."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        family = "ipv4" if literal.version == 4 else "ipv6"
        evidence.update({"a": [], "aaaa": [], "rcode": None, family: [str(literal)]})
        return ProbeResult(
            PROBE, Outcome.OK, f"{host} is an address; nothing to look up.", None, evidence
        )
    try:
        return dns.name.from_text(host)
    except (dns.exception.DNSException, ValueError) as exc:
        evidence["rcode"] = None
        return ProbeResult(
            PROBE, Outcome.ERROR, f"{host!r} is not a valid host name ({exc}).", None, evidence
        )


def _answered(
    host: str, a_lookup: _Lookup, aaaa_lookup: _Lookup, evidence: dict[str, Any]
) -> ProbeResult:
    """At least one address came back: how many, how fast, and whether they are public."""
    lookups = [a_lookup, aaaa_lookup]
    addresses = a_lookup.addresses + aaaa_lookup.addresses
    evidence["rcode"] = "NOERROR"
    # Both lookups run at once, so the slower one is what a visitor waits for.
    latency = max(a_lookup.elapsed_ms, aaaa_lookup.elapsed_ms)
    counts = []
    if a_lookup.addresses:
        counts.append(f"{len(a_lookup.addresses)} IPv4")
    if aaaa_lookup.addresses:
        counts.append(f"{len(aaaa_lookup.addresses)} IPv6")
    summary = f"{host} resolves to {' and '.join(counts)} address(es) in {latency:.0f} ms."
    outcome = Outcome.OK

    missing = [lk for lk in lookups if not lk.addresses and lk.error not in (None, "no-data")]
    if missing:
        names = ", ".join(f"{lk.rdtype} ({lk.error})" for lk in missing)
        summary += f" The {names} lookup failed."

    non_public = _non_public(addresses)
    evidence["private_addresses"] = non_public
    if non_public:
        listed = ", ".join(non_public[:4])
        if len(non_public) == len(addresses):
            # Nothing reachable from the internet: the usual sign of a filtering
            # resolver (0.0.0.0 / 127.0.0.1 sinkholes) or a local override.
            outcome = Outcome.DEGRADED
            summary += f" Every answer is a private or internal address ({listed})."
        else:
            summary += f" Some answers are private or internal addresses ({listed})."
    return ProbeResult(PROBE, outcome, summary, latency, evidence)
