from __future__ import annotations

import asyncio
import json
import socket
import ssl
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import trustme

from diagnostics.probes import http as http_probe
from diagnostics.probes.http import (
    FetchedResponse,
    HttpConfig,
    ProbeBadURL,
    ProbeBlockedAddress,
    ProbeTimeout,
    ProbeTLSError,
    fetch,
    probe_http,
)
from diagnostics.probes.result import Outcome, ProbeResult
from diagnostics.probes.safety import AddressPolicy
from diagnostics.standins.edge import KEYWORD, EdgeServer

LOOPBACK = AddressPolicy(allow_loopback=True)
# Short step timeouts and a short deadline keep failing cases quick; nothing asserts on time.
CONFIG = HttpConfig(timeout=0.5, deadline=2.0, policy=LOOPBACK, keyword=KEYWORD)


def probe(url: str, config: HttpConfig = CONFIG) -> ProbeResult:
    return asyncio.run(probe_http(url, config))


def get(url: str, config: HttpConfig = CONFIG) -> FetchedResponse:
    return asyncio.run(fetch(url, config))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- outcomes per edge route -----------------------------------------------------------------


def test_it_reports_ok_with_evidence(edge: EdgeServer):
    result = probe(edge.url("/ok"))
    assert result.outcome is Outcome.OK
    assert result.probe == "http"
    evidence = result.evidence
    assert evidence["status"] == 200
    assert evidence["addresses"] == ["127.0.0.1"]
    assert evidence["final_url"] == edge.url("/ok")
    assert evidence["truncated"] is False
    assert evidence["body_bytes"] > 0
    assert evidence["headers"]["server"] == "cloudflare"
    assert "cloudflare" not in evidence
    assert result.latency_ms is not None
    json.dumps(result.to_dict())  # stored as JSON


def test_it_reports_degraded_when_the_keyword_is_missing(edge: EdgeServer):
    result = probe(edge.url("/ok"), replace(CONFIG, keyword="not on the page"))
    assert result.outcome is Outcome.DEGRADED


@pytest.mark.parametrize(
    "path", ["/block/1020", "/block/1020-plain", "/block/1009", "/block/1005", "/block/1106"]
)
def test_it_reports_cloudflare_blocks(edge: EdgeServer, path):
    result = probe(edge.url(path))
    assert result.outcome is Outcome.BLOCKED
    code = path.split("/")[-1].split("-")[0]
    assert result.evidence["cloudflare"]["code"] == code
    assert result.evidence["cloudflare"]["colo"] == "ICN"
    assert len(result.evidence["cloudflare"]["ray_id"]) == 16
    assert f"error {code}" in result.summary


def test_it_reports_a_rate_limit_as_blocked_with_retry_after(edge: EdgeServer):
    result = probe(edge.url("/rate-limit"))
    assert result.outcome is Outcome.BLOCKED
    assert "rate-limit" in result.summary
    assert result.evidence["retry_after"] == 30
    assert result.evidence["cloudflare"]["retry_after"] == 30
    assert result.evidence["headers"]["retry-after"] == "30"


def test_it_reports_a_challenge_as_inconclusive(edge: EdgeServer):
    result = probe(edge.url("/challenge"))
    assert result.outcome is Outcome.CHALLENGED
    assert "inconclusive" in result.summary
    assert result.evidence["headers"]["cf-mitigated"] == "challenge"


@pytest.mark.parametrize("status", [502, 521, 522, 523, 524])
def test_it_reports_cloudflare_origin_failures_as_down(edge: EdgeServer, status):
    result = probe(edge.url(f"/origin/{status}"))
    assert result.outcome is Outcome.DOWN
    assert "failing behind Cloudflare" in result.summary
    assert result.evidence["cloudflare"]["kind"] == "origin_error"


def test_it_reports_a_plain_500_as_down(edge: EdgeServer):
    result = probe(edge.url("/plain-500"))
    assert result.outcome is Outcome.DOWN
    assert "cloudflare" not in result.evidence


def test_it_does_not_take_a_csp_naming_cloudflare_for_cloudflare(edge: EdgeServer):
    result = probe(edge.url("/csp-cloudflare"))
    assert result.outcome is Outcome.OK
    assert "cloudflare" not in result.evidence


def test_it_reports_an_unrecognised_answer_as_unknown_not_down(edge: EdgeServer):
    result = probe(edge.url("/teapot"))
    assert result.outcome is Outcome.UNKNOWN
    assert result.evidence["status"] == 418


def test_it_accepts_other_expected_statuses(edge: EdgeServer):
    config = replace(CONFIG, expected_statuses=(418,), keyword=None)
    assert probe(edge.url("/teapot"), config).outcome is Outcome.OK


# -- bounds: time, size, redirects ----------------------------------------------------------


def test_it_times_out_on_a_server_that_never_answers(edge: EdgeServer):
    result = probe(edge.url("/hang"))
    assert result.outcome is Outcome.TIMEOUT
    assert edge.hits("/hang") == 1


def test_it_cuts_off_a_slow_drip_by_the_deadline(edge: EdgeServer):
    # Each drip arrives well within the step timeout, so only the deadline can stop it.
    config = replace(CONFIG, timeout=5.0, deadline=1.0)
    with pytest.raises(ProbeTimeout, match="within 1 seconds"):
        get(edge.url("/drip"), config)
    assert probe(edge.url("/drip"), config).outcome is Outcome.TIMEOUT


def test_it_times_out_on_a_slow_answer_past_the_step_timeout(edge: EdgeServer):
    assert probe(edge.url("/slow?ms=1500")).outcome is Outcome.TIMEOUT


def test_it_caps_a_huge_body_and_keeps_memory_bounded(edge: EdgeServer):
    config = replace(CONFIG, max_body_bytes=64 * 1024)
    tracemalloc.start()
    try:
        fetched = get(edge.url("/huge"), config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fetched.truncated is True
    assert len(fetched.body) == 64 * 1024
    assert peak < 10 * 1024 * 1024  # the server offers 100 MB


def test_it_stops_inflating_a_gzip_bomb_at_the_cap(edge: EdgeServer):
    config = replace(CONFIG, max_body_bytes=32 * 1024)
    fetched = get(edge.url("/gzip-bomb"), config)
    assert fetched.truncated is True
    assert fetched.body == bytes(32 * 1024)


def test_it_bounds_a_redirect_loop(edge: EdgeServer):
    result = probe(edge.url("/redirect-loop"), replace(CONFIG, max_redirects=3))
    assert result.outcome is Outcome.ERROR
    assert "redirect" in result.summary
    assert edge.hits("/redirect-loop") == 4  # the first request and three redirects


def test_it_follows_a_redirect_and_records_the_hops(edge: EdgeServer):
    fetched = get(edge.url("/redirect-to?to=/ok"))
    assert fetched.status == 200
    assert fetched.redirects == [edge.url("/ok")]
    assert fetched.final_url == edge.url("/ok")


# -- the address guard ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:10.0.0.1]/",
        "http://192.168.1.1/",
    ],
)
def test_it_refuses_a_redirect_to_an_internal_address(edge: EdgeServer, target):
    # Loopback is allowed only so the edge can be reached; the next hop is checked again.
    result = probe(edge.url(f"/redirect-to?to={target}"))
    assert result.outcome is Outcome.ERROR
    assert "not allowed" in result.summary
    assert result.evidence["failure"] == "ProbeBlockedAddress"
    assert edge.hits("/redirect-to") == 1


def test_it_refuses_a_redirect_to_the_decimal_spelling_of_loopback(edge: EdgeServer, monkeypatch):
    # Let only the edge itself through, so the loopback hop meets the default policy.
    real_resolve = http_probe.resolve_checked

    async def edge_only(host: str, port: int, policy: AddressPolicy, *rest: Any) -> list[str]:
        return await real_resolve(host, port, LOOPBACK if port == edge.port else policy, *rest)

    monkeypatch.setattr(http_probe, "resolve_checked", edge_only)
    config = replace(CONFIG, policy=AddressPolicy())
    result = probe(edge.url("/redirect-to?to=http://2130706433/"), config)
    assert edge.hits("/redirect-to") == 1
    assert result.outcome is Outcome.ERROR
    assert result.evidence["failure"] == "ProbeBlockedAddress"


def test_it_reports_a_redirect_to_a_broken_address_as_unknown(edge: EdgeServer):
    # The site sent nonsense; that says nothing about whether it is up.
    result = probe(edge.url("/redirect-to?to=http://[::1/"))
    assert result.outcome is Outcome.UNKNOWN
    assert result.evidence["failure"] == "ProbeProtocolError"


def test_it_refuses_loopback_unless_the_policy_allows_it(edge: EdgeServer):
    result = probe(edge.url("/ok"), replace(CONFIG, policy=AddressPolicy()))
    assert result.outcome is Outcome.ERROR
    assert "not allowed" in result.summary
    assert edge.hits("/ok") == 0
    assert probe(edge.url("/ok")).outcome is Outcome.OK


def test_it_refuses_a_name_that_resolves_to_loopback(edge: EdgeServer):
    with pytest.raises(ProbeBlockedAddress):
        get(edge.url("/ok", host="localhost"), replace(CONFIG, policy=AddressPolicy()))
    assert edge.hits("/ok") == 0


def test_it_refuses_the_decimal_spelling_of_loopback(edge: EdgeServer):
    decimal = f"http://2130706433:{edge.port}/ok"
    result = probe(decimal, replace(CONFIG, policy=AddressPolicy()))
    assert result.outcome is Outcome.ERROR
    assert "not allowed" in result.summary
    assert edge.hits("/ok") == 0
    # The spelling really is loopback: allowed, it reaches the edge.
    assert probe(decimal).outcome is Outcome.OK


def test_it_rejects_the_octal_spelling_and_other_schemes():
    with pytest.raises(ProbeBadURL):
        get("http://0177.0.0.1/")
    for url in ("file:///etc/passwd", "ftp://example.invalid/", "gopher://127.0.0.1/"):
        assert probe(url).outcome is Outcome.ERROR


def test_it_ignores_proxies_from_the_environment(edge: EdgeServer, monkeypatch):
    # A proxy would make the connection for us and skip the guard entirely.
    port = closed_port()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
    assert probe(edge.url("/ok")).outcome is Outcome.OK
    assert probe(edge.url("/ok"), replace(CONFIG, policy=AddressPolicy())).outcome is (
        Outcome.ERROR
    )


def test_it_reports_a_dns_failure_as_error(monkeypatch):
    # Fail the lookup locally: the test must not send a query to a real resolver.
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    result = probe("http://no-such-name.invalid/")
    assert result.outcome is Outcome.ERROR
    assert "looked up" in result.summary
    assert result.evidence["failure"] == "ProbeDNSError"


def test_it_reports_a_refused_connection_as_down():
    result = probe(f"http://127.0.0.1:{closed_port()}/ok")
    assert result.outcome is Outcome.DOWN
    assert result.evidence["failure"] == "ProbeConnectError"


# -- what the server sees -------------------------------------------------------------------


def test_it_sends_its_user_agent(edge: EdgeServer):
    probe(edge.url("/ok"), replace(CONFIG, user_agent="HelpCenterProbe/test"))
    assert [seen.user_agent for seen in edge.seen] == ["HelpCenterProbe/test"]


def test_it_connects_from_the_configured_local_address(edge: EdgeServer):
    result = probe(edge.url("/ok"), replace(CONFIG, local_address="127.0.0.2"))
    assert result.outcome is Outcome.OK
    assert [seen.client for seen in edge.seen] == ["127.0.0.2"]


def test_it_sees_a_block_for_one_region_only(edge: EdgeServer):
    edge.block_clients.add("127.0.0.2")
    blocked = probe(edge.url("/ok"), replace(CONFIG, local_address="127.0.0.2"))
    allowed = probe(edge.url("/ok"), replace(CONFIG, local_address="127.0.0.3"))
    assert blocked.outcome is Outcome.BLOCKED
    assert blocked.evidence["cloudflare"]["code"] == "1020"
    assert allowed.outcome is Outcome.OK


def test_its_probes_overlap_when_run_together(edge: EdgeServer):
    async def several() -> list[ProbeResult]:
        config = replace(CONFIG, timeout=5.0, deadline=10.0)
        return await asyncio.gather(
            *(probe_http(edge.url("/slow?ms=300"), config) for _ in range(8))
        )

    results = asyncio.run(several())
    assert all(result.outcome is Outcome.OK for result in results)
    assert edge.hits("/slow") == 8
    assert edge.max_concurrent > 1


# -- TLS: the socket goes to the checked IP, the certificate is checked against the name ----


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_edge(ca: trustme.CA) -> Iterator[EdgeServer]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    with EdgeServer(ssl_context=server_context) as server:
        yield server


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_it_fetches_over_tls_with_the_name_in_sni(tls_edge: EdgeServer, ca: trustme.CA):
    config = replace(CONFIG, verify=client_context(ca))
    fetched = get(tls_edge.url("/ok", host="localhost"), config)
    assert fetched.status == 200
    assert fetched.addresses == ["127.0.0.1"]


def test_it_reports_a_certificate_for_another_name_as_a_tls_error(
    tls_edge: EdgeServer, ca: trustme.CA
):
    # Connecting by IP: the certificate names "localhost" only, so verification must fail.
    config = replace(CONFIG, verify=client_context(ca))
    with pytest.raises(ProbeTLSError):
        get(tls_edge.url("/ok"), config)
    result = probe(tls_edge.url("/ok", host="localhost"), replace(CONFIG, verify=True))
    assert result.outcome is Outcome.ERROR
    assert result.evidence["failure"] == "ProbeTLSError"


def test_the_guard_is_wired_into_the_transport():
    # fetch() swaps httpx's connection pool for a guarded one; make sure that still happens.
    backend = http_probe.GuardedBackend(AddressPolicy())
    transport = http_probe._GuardedTransport(CONFIG, backend)
    assert transport._pool._network_backend is backend
