"""SSRF through the real task path: a check target or a redirect aimed inside is refused.

Targets are rows an admin (or an attacker with a stolen admin login) can write,
and redirects are whatever a target's server answers. Every way of spelling an
internal address must end as a plain "not allowed" row, with the loopback edge
seeing no request at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from diagnostics.models import CheckRun, ProbeResult, Target
from diagnostics.tasks import run_checks


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
