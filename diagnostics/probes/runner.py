"""Run a batch of probes concurrently and hand each result over as it lands.

Plain Python: the Celery task gives it specs built from the database and a
callback that stores rows. The event loop is driven from synchronous code and
paused while the callback runs, so the callback may use blocking code (the
Django ORM) without an async bridge, and rows appear one by one.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from diagnostics.probes.result import Outcome, ProbeResult
from diagnostics.probes.safety import AddressPolicy

PROBE_NAMES = ("http", "dns", "tcp", "tls", "status")


@dataclass(frozen=True)
class ProbeSettings:
    """Knobs shared by every probe of one run (from Django settings, in the task)."""

    timeout: float = 5.0
    deadline: float = 10.0
    user_agent: str = "HelpCenterProbe/0.1"
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    local_address: str | None = None
    cafile: str | None = None
    nameservers: tuple[tuple[str, int], ...] = ()  # DNS probe and http/status fetches; () = system


@dataclass(frozen=True)
class ProbeSpec:
    """One probe of one target: what to ask and what counts as a good answer."""

    key: Any  # opaque to the runner; the caller's way to find the target again
    probe: str
    url: str
    expected_statuses: tuple[int, ...] = (200,)
    keyword: str | None = None
    timeout: float | None = None
    provider: str | None = None


def _http_config(spec: ProbeSpec, settings: ProbeSettings) -> Any:
    from diagnostics.probes.http import HttpConfig

    verify = _ssl_context(settings.cafile)
    timeout = spec.timeout or settings.timeout
    return HttpConfig(
        timeout=timeout,
        deadline=max(settings.deadline, timeout),
        user_agent=settings.user_agent,
        expected_statuses=spec.expected_statuses or (200,),
        keyword=spec.keyword or None,
        local_address=settings.local_address,
        policy=settings.policy,
        verify=verify,
        nameservers=settings.nameservers,
    )


@functools.cache
def _ssl_context(cafile: str | None) -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds of CPU; building it once per
    # process instead of per probe is most of the overhead of a wide run.
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def warm_up(cafile: str | None = None) -> None:
    """Import every probe and build the TLS context now, in a worker about to start.

    Left to the first probe, this (httpx, dnspython, the CA bundle: about half a
    second of CPU, far more on a busy machine) lands on the first visitor's run
    and delays every run waiting on that first answer in a stampede.
    """
    from diagnostics.probes import dns, http, statuspages, tcp, tls  # noqa: F401

    _ssl_context(cafile)


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "", port


def _probe_coroutine(spec: ProbeSpec, settings: ProbeSettings) -> Coroutine[Any, Any, ProbeResult]:
    timeout = spec.timeout or settings.timeout
    if spec.probe == "http":
        from diagnostics.probes.http import probe_http

        return probe_http(spec.url, _http_config(spec, settings))
    if spec.probe == "status":
        from diagnostics.probes.statuspages import probe_status_page

        return probe_status_page(spec.url, spec.provider or None, _http_config(spec, settings))
    host, port = _host_port(spec.url)
    if spec.probe == "dns":
        from diagnostics.probes.dns import DnsConfig, probe_dns

        return probe_dns(host, DnsConfig(timeout=timeout, nameservers=settings.nameservers))
    if spec.probe == "tcp":
        from diagnostics.probes.tcp import TcpConfig, probe_tcp

        config = TcpConfig(
            timeout=timeout, policy=settings.policy, local_address=settings.local_address
        )
        return probe_tcp(host, port, config)
    if spec.probe == "tls":
        from diagnostics.probes.tls import TlsConfig, probe_tls

        tls_config = TlsConfig(
            timeout=timeout,
            policy=settings.policy,
            cafile=settings.cafile,
            local_address=settings.local_address,
        )
        return probe_tls(host, port, tls_config)
    raise ValueError(f"unknown probe {spec.probe!r}")


async def _guarded(spec: ProbeSpec, settings: ProbeSettings) -> ProbeResult:
    """Run one probe; whatever goes wrong inside becomes an error result, never a lost row."""
    started = time.perf_counter()
    try:
        coroutine = _probe_coroutine(spec, settings)
        # The outer bound catches a probe that ignores its own deadline.
        return await asyncio.wait_for(coroutine, timeout=settings.deadline + 2)
    except TimeoutError:
        summary = "The check took too long and was stopped."
        outcome = Outcome.TIMEOUT
    except Exception as exc:  # a bug in one probe must not sink the run's other rows
        summary = f"The check could not run: {type(exc).__name__}: {exc}"[:280]
        outcome = Outcome.ERROR
    elapsed = (time.perf_counter() - started) * 1000
    return ProbeResult(spec.probe, outcome, summary, round(elapsed, 1))


def run_probes(
    specs: Sequence[ProbeSpec],
    settings: ProbeSettings,
    on_result: Callable[[ProbeSpec, ProbeResult], None],
) -> None:
    """Probe every spec concurrently and call ``on_result`` for each as soon as it is in."""

    def each(batch: list[tuple[ProbeSpec, ProbeResult]]) -> None:
        for spec, result in batch:
            on_result(spec, result)

    run_probes_batched(specs, settings, each)


def run_probes_batched(
    specs: Sequence[ProbeSpec],
    settings: ProbeSettings,
    on_results: Callable[[list[tuple[ProbeSpec, ProbeResult]]], None],
) -> None:
    """Like run_probes, but hand over together every result that landed at once.

    Targets that answer at about the same time are then stored in one query
    instead of one each, while a slow target still does not hold the fast ones.
    """
    if not specs:
        return
    loop = asyncio.new_event_loop()
    try:
        pending: set[asyncio.Task[ProbeResult]] = set()
        owner: dict[asyncio.Task[ProbeResult], ProbeSpec] = {}
        for spec in specs:
            task = loop.create_task(_guarded(spec, settings))
            pending.add(task)
            owner[task] = spec
        while pending:
            done, pending = loop.run_until_complete(
                asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            )
            on_results([(owner[task], task.result()) for task in done])
    finally:
        # Interrupted (a soft time limit raised inside on_results or the wait): cancel
        # what is still in flight so its sockets close instead of leaking with the loop.
        leftover = [task for task in owner if not task.done()]
        for task in leftover:
            task.cancel()
        if leftover:
            loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
        loop.close()
