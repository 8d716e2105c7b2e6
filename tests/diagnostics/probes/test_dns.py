from __future__ import annotations

import asyncio

import pytest

from diagnostics.probes.dns import DnsConfig, probe_dns
from diagnostics.probes.result import Outcome, ProbeResult
from tests.servers.dns_server import DnsServer


def _probe(host: str, server: DnsServer, timeout: float = 1.0) -> ProbeResult:
    config = DnsConfig(timeout=timeout, nameservers=server.nameservers)
    return asyncio.run(probe_dns(host, config))


def test_it_reports_a_and_aaaa_answers(dns_server: DnsServer) -> None:
    result = _probe("service.test", dns_server)

    assert result.probe == "dns"
    assert result.outcome is Outcome.OK
    assert sorted(result.evidence["a"]) == ["104.16.1.10", "104.16.1.11"]
    assert result.evidence["aaaa"] == ["2606:4700::6810:10"]
    assert result.evidence["rcode"] == "NOERROR"
    assert result.evidence["lookups"]["A"]["ttl"] == 60
    assert result.latency_ms is not None
    assert "2 IPv4 and 1 IPv6" in result.summary
    assert result.evidence["private_addresses"] == []


def test_it_is_ok_with_ipv4_only(dns_server: DnsServer) -> None:
    result = _probe("v4only.test", dns_server)

    assert result.outcome is Outcome.OK
    assert result.evidence["a"] == ["104.16.1.20"]
    assert result.evidence["aaaa"] == []
    assert result.evidence["lookups"]["AAAA"]["error"] == "no-data"
    assert "failed" not in result.summary


def test_it_says_when_the_name_does_not_exist(dns_server: DnsServer) -> None:
    result = _probe("missing.test", dns_server)

    assert result.outcome is Outcome.ERROR
    assert result.evidence["rcode"] == "NXDOMAIN"
    assert "does not exist" in result.summary


def test_it_says_when_the_resolver_failed(dns_server: DnsServer) -> None:
    result = _probe("broken.test", dns_server)

    assert result.outcome is Outcome.ERROR
    assert result.evidence["rcode"] == "SERVFAIL"
    assert "resolver failed" in result.summary


def test_it_times_out_on_a_silent_resolver(dns_server: DnsServer) -> None:
    result = _probe("slow.test", dns_server, timeout=0.3)

    assert result.outcome is Outcome.TIMEOUT
    assert result.evidence["rcode"] is None
    assert result.evidence["lookups"]["A"]["error"] == "timeout"
    assert "did not answer in time" in result.summary


def test_it_tells_nxdomain_servfail_and_timeout_apart(dns_server: DnsServer) -> None:
    seen = {
        name: (result.outcome, result.evidence["rcode"])
        for name in ("missing.test", "broken.test", "slow.test")
        for result in [_probe(name, dns_server, timeout=0.3)]
    }

    assert len(set(seen.values())) == 3


def test_it_reports_answers_that_are_all_private(dns_server: DnsServer) -> None:
    result = _probe("private.test", dns_server)

    assert result.outcome is Outcome.DEGRADED
    assert result.evidence["private_addresses"] == ["10.0.0.5"]
    assert "private or internal" in result.summary
    assert "10.0.0.5" in result.summary


def test_it_reports_some_private_answers_without_failing(dns_server: DnsServer) -> None:
    result = _probe("mixed.test", dns_server)

    assert result.outcome is Outcome.OK
    assert result.evidence["private_addresses"] == ["192.168.1.30"]
    assert "Some answers are private" in result.summary


def test_it_says_when_a_name_has_no_addresses(dns_server: DnsServer) -> None:
    result = _probe("nodata.test", dns_server)

    assert result.outcome is Outcome.ERROR
    assert result.evidence["rcode"] == "NOERROR"
    assert "no IPv4 or IPv6 address" in result.summary


def test_it_uses_a_custom_zone() -> None:
    zone = {"chatgpt.test": {"A": ["104.18.32.47"], "AAAA": ["2606:4700:4400::6812:202f"]}}
    with DnsServer(zone=zone) as server:
        result = _probe("ChatGPT.test.", server)

    assert result.outcome is Outcome.OK
    assert result.evidence["a"] == ["104.18.32.47"]
    assert ("chatgpt.test", "AAAA") in server.queries


def test_it_says_when_no_resolver_answers_at_all() -> None:
    with DnsServer() as server:
        nameservers = server.nameservers
    # The server is gone, so the port is closed: an ICMP "refused", not silence.
    result = asyncio.run(probe_dns("service.test", DnsConfig(timeout=0.5, nameservers=nameservers)))

    assert result.outcome in (Outcome.ERROR, Outcome.TIMEOUT)
    assert result.evidence["a"] == []


@pytest.mark.parametrize("literal", ["104.18.32.47", "2606:4700::1"])
def test_it_does_not_look_up_an_address(literal: str) -> None:
    result = asyncio.run(
        probe_dns(literal, DnsConfig(timeout=0.1, nameservers=(("127.0.0.1", 9),)))
    )

    assert result.outcome is Outcome.OK
    assert "nothing to look up" in result.summary


def test_it_refuses_a_name_that_is_not_valid() -> None:
    result = asyncio.run(probe_dns("a" * 64 + ".test", DnsConfig(timeout=0.1)))

    assert result.outcome is Outcome.ERROR
    assert "not a valid host name" in result.summary
