"""SSRF through the real task path: a check target or a redirect aimed inside is refused.

Targets are rows an admin (or an attacker with a stolen admin login) can write,
and redirects are whatever a target's server answers. Every way of spelling an
internal address must end as a plain "not allowed" row, with the loopback edge
seeing no request at all.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from diagnostics.models import CheckRun, ProbeResult, Target
from diagnostics.probes.http import HttpConfig, probe_http
from diagnostics.probes.safety import AddressPolicy, BlockedAddressError, resolve_checked
from diagnostics.tasks import run_checks
from tests.servers.dns_server import DnsServer


def _run_all(targets: dict[str, str]) -> dict[str, ProbeResult]:
    """One run over these targets (slug -> URL), executed by the task itself, in-process."""
    Target.objects.all().delete()
    for order, (slug, url) in enumerate(targets.items()):
        Target.objects.create(name=slug, slug=slug, url=url, probes=["http"], order=order,
                              timeout_seconds=1)  # fmt: skip
    run = CheckRun.objects.create(regions=["default"], expected_results=len(targets))
    cache.clear()  # no answer reused from another test's window
    run_checks.run(str(run.pk), "default")
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE
    return {row.target.slug: row for row in run.results.select_related("target")}


def direct_targets(port: int) -> dict[str, str]:
    return {
        "loopback": f"http://127.0.0.1:{port}/ok",
        "loopback-other": f"http://127.1.2.3:{port}/ok",
        "localhost": f"http://localhost:{port}/ok",
        "localhost-dot": f"http://localhost.:{port}/ok",
        "loopback-v6": f"http://[::1]:{port}/ok",
        "mapped-v6": f"http://[::ffff:127.0.0.1]:{port}/ok",
        "decimal": f"http://2130706433:{port}/ok",
        "hex": f"http://0x7f000001:{port}/ok",
        "octal": f"http://0177.0.0.1:{port}/ok",
        "unspecified": f"http://0.0.0.0:{port}/ok",
        "private-10": "http://10.0.0.1/",
        "private-172": "http://172.16.0.1/",
        "private-192": "http://192.168.1.1/",
        "cgnat": "http://100.64.0.1/",
        "link-local": "http://169.254.1.1/",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "metadata-alibaba": "http://100.100.100.200/latest/meta-data/",
        "metadata-v6": "http://[fd00:ec2::254]/",
        "unique-local-v6": "http://[fd12:3456::1]/",
        "link-local-v6": "http://[fe80::1]/",
        "mapped-private": "http://[::ffff:10.0.0.1]/",
        "mapped-metadata": "http://[::ffff:169.254.169.254]/",
        "file-scheme": "file:///etc/passwd",
        "gopher-scheme": f"gopher://127.0.0.1:{port}/",
    }


@pytest.mark.django_db
def test_every_internal_target_is_refused_and_nothing_is_sent(edge: Any, settings: Any) -> None:
    settings.PROBES_ALLOW_LOOPBACK = False
    settings.PROBES_ALLOW_PRIVATE = False
    targets = direct_targets(edge.port)
    rows = _run_all(targets)
    assert set(rows) == set(targets)
    for slug, row in rows.items():
        assert row.outcome == "error", (slug, row.outcome, row.summary)
    not_allowed = [slug for slug, row in rows.items() if "not allowed" in row.summary]
    # Spellings the URL parser rejects outright say so instead, and some resolvers do
    # not resolve "localhost." at all; either way nothing is sent.
    others = {slug: rows[slug].summary for slug in set(targets) - set(not_allowed)}
    assert set(others) <= {"octal", "file-scheme", "gopher-scheme", "localhost-dot"}, others
    assert all("cannot be checked" in others[s] for s in set(others) - {"localhost-dot"})
    assert edge.hits("/ok") == 0
    assert edge.hits("/") == 0


@pytest.mark.django_db
def test_redirects_to_internal_addresses_are_refused_at_the_hop(edge: Any, settings: Any) -> None:
    # Loopback is allowed only so the edge (our stand-in for a public site) is reachable;
    # each hop is checked again, and private, link-local and metadata stay refused.
    settings.PROBES_ALLOW_LOOPBACK = True
    settings.PROBES_ALLOW_PRIVATE = False
    hops = {
        "to-private": "http://10.0.0.1/",
        "to-metadata": "http://169.254.169.254/latest/meta-data/",
        "to-link-local": "http://169.254.1.1/",
        "to-mapped-private": "http://[::ffff:192.168.0.1]/",
        "to-metadata-v6": "http://[fd00:ec2::254]/",
        "to-cgnat": "http://100.64.0.1/",
    }
    rows = _run_all({slug: edge.url(f"/redirect-to?to={to}") for slug, to in hops.items()})
    for slug, row in rows.items():
        assert row.outcome == "error", (slug, row.outcome, row.summary)
        assert "not allowed" in row.summary, (slug, row.summary)
    assert edge.hits("/redirect-to") == len(hops)


@pytest.mark.django_db
def test_loopback_is_reached_when_the_setting_allows_it(edge: Any, settings: Any) -> None:
    settings.PROBES_ALLOW_LOOPBACK = True
    rows = _run_all(
        {
            "loopback": f"http://127.0.0.1:{edge.port}/ok",
            "localhost": f"http://localhost:{edge.port}/ok",
            "decimal": f"http://2130706433:{edge.port}/ok",
        }
    )
    assert {slug: row.outcome for slug, row in rows.items()} == {
        "loopback": "ok",
        "localhost": "ok",
        "decimal": "ok",
    }
    assert edge.hits("/ok") == 3


# --- Names that resolve to internal addresses ------------------------------------------------
# The answers come from a real DNS server on 127.0.0.1 (tests/servers/dns_server.py), asked by
# the probes' own resolver: the task's probe settings name that server, as an operator could
# name their own resolver, so every answer below is a DNS answer on the wire, not a mock.

HOSTILE_ZONE: dict[str, dict[str, list[str]]] = {
    "loopback.evil.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
    "loopback-other.evil.test": {"A": ["127.9.9.9"]},
    "private-10.evil.test": {"A": ["10.0.0.5"]},
    "private-172.evil.test": {"A": ["172.16.5.5"]},
    "private-192.evil.test": {"A": ["192.168.1.30"]},
    "cgnat.evil.test": {"A": ["100.64.0.1"]},
    "link-local.evil.test": {"A": ["169.254.1.1"], "AAAA": ["fe80::1"]},
    "metadata.evil.test": {"A": ["169.254.169.254"]},
    "metadata-alibaba.evil.test": {"A": ["100.100.100.200"]},
    "metadata-v6.evil.test": {"AAAA": ["fd00:ec2::254"]},
    "unique-local-v6.evil.test": {"AAAA": ["fd12:3456::1"]},
    "mapped.evil.test": {"AAAA": ["::ffff:10.0.0.1"]},
    "mapped-metadata.evil.test": {"AAAA": ["::ffff:169.254.169.254"]},
    "mapped-loopback.evil.test": {"AAAA": ["::ffff:127.0.0.1"]},
    "unspecified.evil.test": {"A": ["0.0.0.0"]},
    "all-internal.evil.test": {
        "A": ["10.0.0.5", "169.254.169.254", "127.0.0.1"],
        "AAAA": ["::1", "fe80::1", "::ffff:192.168.0.1"],
    },
    # Public-looking and internal together. Never connected to: only resolved.
    "mixed.evil.test": {
        "A": ["10.0.0.5", "104.16.1.30", "169.254.169.254"],
        "AAAA": ["::ffff:192.168.0.1", "2606:4700::6810:10"],
    },
    # The same mix with loopback standing in for the public address (the edge). Record
    # order is not fixed on the wire, so a probe trying addresses in turn would often
    # meet an internal one first.
    "mixed-loop.evil.test": {
        "A": ["10.0.0.5", "169.254.169.254", "192.168.1.30", "127.0.0.1"],
        "AAAA": ["fe80::1", "::ffff:10.0.0.1", "fd00:ec2::254"],
    },
    "nodata.evil.test": {},
}


@pytest.fixture(scope="module")
def evil_dns() -> Iterator[DnsServer]:
    with DnsServer(zone=HOSTILE_ZONE, nxdomain=("missing.evil.test",), servfail=()) as server:
        yield server


@pytest.fixture
def probes_ask(evil_dns: DnsServer, settings: Any) -> DnsServer:
    """The task's probes resolve through ``evil_dns`` and send only from 127.0.0.1.

    The source address is belt and braces: Linux refuses to route a packet from
    127.0.0.1 to any address off the host, so even a broken guard could not reach
    10.x or 169.254.169.254 from these tests.
    """
    settings.PROBE_SOURCE_ADDRESS = "127.0.0.1"
    settings.PROBE_NAMESERVERS = evil_dns.nameservers
    # These tests are about refusals, not speed: every name is asked of the loopback DNS
    # server at once, and on a busy machine (CI runs two suites side by side) the tests'
    # one-second timeout once cut an answer short ("did not answer in time"). A refusal
    # still has to come before anything is sent; it just may take its time.
    settings.PROBE_TIMEOUT = 15
    settings.PROBE_DEADLINE = 30
    evil_dns.queries.clear()
    return evil_dns


def assert_refused(name: str, row: ProbeResult) -> None:
    """The probe said no before sending anything, because of where the name led."""
    assert row.outcome == "error", (name, row.outcome, row.summary)
    assert "not allowed" in row.summary, (name, row.summary)
    assert row.evidence["failure"] == "ProbeBlockedAddress", (name, row.evidence)


def _internal_names() -> list[str]:
    return [name for name in HOSTILE_ZONE if not name.startswith(("mixed", "nodata"))]


@pytest.mark.django_db
def test_names_resolving_to_internal_addresses_are_refused(
    edge: Any, settings: Any, probes_ask: DnsServer
) -> None:
    settings.PROBES_ALLOW_LOOPBACK = False
    settings.PROBES_ALLOW_PRIVATE = False
    # Every name carries the edge's port: whichever of its addresses is loopback would be
    # the edge, so a hit there is a request that got through.
    names = _internal_names()
    rows = _run_all({name: f"http://{name}:{edge.port}/ok" for name in names})
    assert set(rows) == set(names)
    for name, row in rows.items():
        assert_refused(name, row)
        assert name in row.evidence["detail"], (name, row.evidence)
    # The refusals were decided on real answers: the server was asked about every name.
    asked = {name for name, _rdtype in probes_ask.queries}
    assert asked == set(names)
    assert edge.hits("/ok") == 0


@pytest.mark.django_db
def test_redirect_hops_to_names_resolving_inside_are_refused(
    edge: Any, settings: Any, probes_ask: DnsServer
) -> None:
    # Loopback is allowed so the edge (the "public" first hop, by address) is reachable;
    # the hop's name is resolved again and its private, link-local or metadata answer refused.
    settings.PROBES_ALLOW_LOOPBACK = True
    settings.PROBES_ALLOW_PRIVATE = False
    hops = [
        name for name in _internal_names() if "loopback" not in name and "all-internal" not in name
    ]
    targets = {name: edge.url(f"/redirect-to?to=http://{name}:{edge.port}/ok") for name in hops}
    rows = _run_all(targets)
    for name, row in rows.items():
        assert_refused(name, row)
    assert {name for name, _rdtype in probes_ask.queries} == set(hops)
    assert edge.hits("/redirect-to") == len(hops)
    assert edge.hits("/ok") == 0


@pytest.mark.django_db
def test_a_name_mixing_allowed_and_internal_addresses_connects_only_to_the_allowed_one(
    edge: Any, settings: Any, probes_ask: DnsServer
) -> None:
    # The guard drops the refused addresses and connects to what is left, never to the
    # name again; loopback stands in for the public address here.
    settings.PROBES_ALLOW_LOOPBACK = True
    settings.PROBES_ALLOW_PRIVATE = False
    rows = _run_all(
        {
            "direct": f"http://mixed-loop.evil.test:{edge.port}/ok",
            "hop": edge.url(f"/redirect-to?to=http://mixed-loop.evil.test:{edge.port}/ok"),
        }
    )
    for slug, row in rows.items():
        assert row.outcome == "ok", (slug, row.outcome, row.summary)
    assert rows["direct"].evidence["addresses"] == ["127.0.0.1"]
    assert rows["hop"].evidence["addresses"] == ["127.0.0.1", "127.0.0.1"]
    assert edge.hits("/ok") == 2

    # Without loopback nothing in the mix is allowed: refused, and nothing is sent.
    settings.PROBES_ALLOW_LOOPBACK = False
    rows = _run_all({"direct": f"http://mixed-loop.evil.test:{edge.port}/ok"})
    assert "not allowed" in rows["direct"].summary
    assert edge.hits("/ok") == 2


# --- The resolver seam itself (safety.resolve_checked with nameservers) ----------------------


def _resolve(host: str, server: DnsServer, policy: AddressPolicy | None = None) -> list[str]:
    return asyncio.run(resolve_checked(host, 80, policy or AddressPolicy(), server.nameservers))


def test_the_guard_keeps_only_the_public_addresses_of_a_mixed_answer(evil_dns: DnsServer) -> None:
    # Resolved only; these addresses are never connected to.
    # Record order within an answer is not fixed, hence the sets.
    assert set(_resolve("mixed.evil.test", evil_dns)) == {"104.16.1.30", "2606:4700::6810:10"}
    private_ok = AddressPolicy(allow_private=True)
    # Metadata stays refused even when private ranges are allowed.
    assert set(_resolve("mixed.evil.test", evil_dns, private_ok)) == {
        "10.0.0.5", "104.16.1.30", "::ffff:192.168.0.1", "2606:4700::6810:10",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("metadata.evil.test", "metadata"),
        ("metadata-v6.evil.test", "metadata"),
        ("loopback.evil.test", "loopback"),
        ("private-10.evil.test", "private"),
        ("mapped.evil.test", "private"),
        ("mapped-metadata.evil.test", "metadata"),
        ("link-local.evil.test", "link-local"),
        ("unspecified.evil.test", "reserved"),
    ],
)
def test_the_guard_names_why_a_resolved_name_is_refused(
    evil_dns: DnsServer, name: str, reason: str
) -> None:
    with pytest.raises(BlockedAddressError, match=reason):
        _resolve(name, evil_dns)


def test_address_spellings_are_read_without_asking_the_nameservers(evil_dns: DnsServer) -> None:
    evil_dns.queries.clear()
    for spelling in ("2130706433", "0x7f000001", "127.1", "::ffff:127.0.0.1", "::1"):
        with pytest.raises(BlockedAddressError, match="loopback"):
            _resolve(spelling, evil_dns)
    assert _resolve("1.1.1.1", evil_dns) == ["1.1.1.1"]
    assert evil_dns.queries == []


@pytest.mark.parametrize("name", ["missing.evil.test", "nodata.evil.test", "localhost"])
def test_a_name_the_nameservers_do_not_resolve_is_a_lookup_failure(
    evil_dns: DnsServer, name: str
) -> None:
    # "localhost" too: with nameservers configured, /etc/hosts is not consulted.
    with pytest.raises(socket.gaierror):
        _resolve(name, evil_dns)


def test_the_http_probe_uses_the_nameservers_it_is_given(edge: Any, evil_dns: DnsServer) -> None:
    config = HttpConfig(timeout=1, deadline=3, policy=AddressPolicy(allow_loopback=True),
                        local_address="127.0.0.1", nameservers=evil_dns.nameservers)  # fmt: skip
    result = asyncio.run(probe_http(f"http://loopback.evil.test:{edge.port}/ok", config))
    assert result.outcome.value == "ok", result.summary
    assert result.evidence["addresses"] == ["127.0.0.1"]
    assert edge.hits("/ok") == 1
