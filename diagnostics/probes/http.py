"""A safe, bounded HTTP GET and the "http" probe built on it.

Safe: every connection, including each redirect hop, resolves the name through
``safety.resolve_checked`` and connects to the checked address itself, so a
name cannot pass the check and then resolve elsewhere. Bounded: per-step
timeouts, one deadline for the whole fetch (slow-drip servers), a cap on the
body read and on redirects.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from .cloudflare import CloudflareFinding, classify, parse_retry_after
from .result import Outcome, ProbeResult
from .safety import AddressPolicy, BlockedAddressError, Nameservers, resolve_checked

PROBE_NAME = "http"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
EVIDENCE_HEADERS = ("server", "cf-ray", "cf-mitigated", "retry-after", "content-type", "location")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class HttpConfig:
    timeout: float = 5.0  # connect / read / write, each step
    deadline: float = 10.0  # the whole fetch including redirects: cuts off slow-drip servers
    max_body_bytes: int = 256 * 1024
    max_redirects: int = 5
    user_agent: str = "HelpCenterProbe/0.1 (+https://example.invalid/about/probes)"
    expected_statuses: tuple[int, ...] = (200,)
    keyword: str | None = None  # must appear in the (capped) body for "ok"
    local_address: str | None = None  # source IP; tests stand in for regions with 127.0.0.x
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    verify: ssl.SSLContext | bool = True
    nameservers: Nameservers = ()  # (host, port) DNS servers; empty = system resolver


@dataclass(frozen=True)
class FetchedResponse:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    truncated: bool
    redirects: list[str]
    addresses: list[str]  # the IPs actually connected to, in order
    ttfb_ms: float  # from the start of the fetch to the final answer's headers
    elapsed_ms: float


class ProbeFailure(Exception):
    """The fetch produced no answer; the message is plain words for a visitor."""


class ProbeTimeout(ProbeFailure):
    pass


class ProbeBlockedAddress(ProbeFailure):
    pass


class ProbeConnectError(ProbeFailure):
    pass


class ProbeDNSError(ProbeFailure):
    pass


class ProbeTLSError(ProbeFailure):
    pass


class ProbeTooManyRedirects(ProbeFailure):
    pass


class ProbeBadURL(ProbeFailure):
    pass


class ProbeProtocolError(ProbeFailure):
    """The server answered with something that is not valid HTTP, or hung up mid-answer."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, and to exactly those addresses.

    httpcore still hands the original host name to ``start_tls``, so SNI and
    certificate checks use the name while the socket goes to the checked IP.
    """

    def __init__(self, policy: AddressPolicy, nameservers: Nameservers = ()) -> None:
        self._policy = policy
        self._nameservers = nameservers
        self._inner = httpcore.AnyIOBackend()
        self.addresses: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_checked(host, port, self._policy, self._nameservers)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took too long") from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            self.addresses.append(address)
            return stream
        assert last_error is not None  # resolve_checked never returns an empty list
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError("probes do not connect to local sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool rebuilt on the guarded backend.

    httpx 0.28 has no public way to pass a network backend, so the pool is
    swapped after construction; test_http checks that the guard stays in force.
    """

    def __init__(self, config: HttpConfig, backend: GuardedBackend) -> None:
        ssl_context = httpx.create_ssl_context(verify=config.verify, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            local_address=config.local_address,
            network_backend=backend,
            retries=0,
        )


async def fetch(url: str, config: HttpConfig) -> FetchedResponse:
    """GET ``url`` safely within ``config``'s bounds; raise a ProbeFailure when no answer."""
    started = time.perf_counter()
    backend = GuardedBackend(config.policy, config.nameservers)
    with _as_probe_failures(config, "no complete answer"):
        async with asyncio.timeout(config.deadline):
            return await _fetch(url, config, backend, started)


@contextlib.contextmanager
def _as_probe_failures(config: HttpConfig, over_deadline: str) -> Iterator[None]:
    """Turn what a GET or POST can raise into the ProbeFailure that names it.

    ``over_deadline`` starts the sentence for the whole exchange outrunning the deadline.
    """
    try:
        yield
    except TimeoutError as exc:
        raise ProbeTimeout(f"{over_deadline} within {config.deadline:g} seconds") from exc
    except BlockedAddressError as exc:
        raise ProbeBlockedAddress(f"that address is not allowed: {exc}") from exc
    except socket.gaierror as exc:
        raise ProbeDNSError(f"the name could not be looked up ({exc.strerror})") from exc
    except httpx.TimeoutException as exc:
        raise ProbeTimeout(f"the server did not answer within {config.timeout:g} seconds") from exc
    except httpx.ConnectError as exc:
        raise _connect_failure(exc) from exc
    except httpx.HTTPError as exc:
        # Protocol violations, resets mid-answer, bad encodings: the answer is unusable.
        raise ProbeProtocolError("the server broke off or garbled its answer") from exc


async def post(url: str, body: bytes, headers: dict[str, str], config: HttpConfig) -> int:
    """POST ``body`` to ``url`` through the address guard; return the answer's status.

    For operator webhooks: the same guard, timeouts and deadline as a probe, no
    redirect followed (a redirect is answered as its status, which the caller
    counts as a failure), and only the status read back. Raises ProbeFailure.
    """
    backend = GuardedBackend(config.policy, config.nameservers)
    send_headers = {"user-agent": config.user_agent, **headers}
    with _as_probe_failures(config, "no answer"):
        async with asyncio.timeout(config.deadline):
            transport = _GuardedTransport(config, backend)
            async with httpx.AsyncClient(
                transport=transport,
                timeout=httpx.Timeout(config.timeout),
                headers=send_headers,
                trust_env=False,
            ) as client:
                response = await client.post(_checked_url(url), content=body)
                return response.status_code


async def _fetch(
    url: str, config: HttpConfig, backend: GuardedBackend, started: float
) -> FetchedResponse:
    timeout = httpx.Timeout(config.timeout)
    headers = {"user-agent": config.user_agent, "accept-encoding": "gzip, deflate, identity"}
    transport = _GuardedTransport(config, backend)
    # trust_env=False: a proxy from the environment would bypass the guarded transport.
    async with httpx.AsyncClient(
        transport=transport, timeout=timeout, headers=headers, trust_env=False
    ) as client:
        current = _checked_url(url)
        redirects: list[str] = []
        while True:
            request = client.build_request("GET", current)
            response = await client.send(request, stream=True)
            try:
                location = _redirect_target(response)
                if location is None:
                    ttfb_ms = _ms_since(started)
                    body, truncated = await _read_capped(response, config.max_body_bytes)
                    timing = (ttfb_ms, _ms_since(started))
                    return _fetched(url, response, body, truncated, redirects, backend, timing)
            finally:
                await response.aclose()
            if len(redirects) >= config.max_redirects:
                raise ProbeTooManyRedirects(
                    f"more than {config.max_redirects} redirects; the site may be looping"
                )
            current = _checked_url(location, base=response.url)
            redirects.append(str(current))


def _fetched(
    url: str,
    response: httpx.Response,
    body: bytes,
    truncated: bool,
    redirects: list[str],
    backend: GuardedBackend,
    timing: tuple[float, float],
) -> FetchedResponse:
    headers = {name.lower(): value for name, value in response.headers.items()}
    ttfb_ms, elapsed_ms = timing
    return FetchedResponse(
        url=url,
        final_url=str(response.url),
        status=response.status_code,
        headers=headers,
        body=body,
        truncated=truncated,
        redirects=list(redirects),
        addresses=list(backend.addresses),
        ttfb_ms=round(ttfb_ms, 1),
        elapsed_ms=round(elapsed_ms, 1),
    )


def _checked_url(url: str, base: httpx.URL | None = None) -> httpx.URL:
    try:
        parsed = base.join(url) if base is not None else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ProbeBadURL(f"that is not a web address we can open: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ProbeBadURL("only http:// and https:// addresses can be checked")
    return parsed


def _redirect_target(response: httpx.Response) -> str | None:
    if response.status_code not in REDIRECT_STATUSES:
        return None
    return response.headers.get("location") or None


async def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Read at most ``limit`` body bytes after decoding, then stop reading."""
    decoder = _bounded_decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw(_CHUNK):
        chunk = decoder(raw, limit - size + 1) if decoder else raw
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(parts)[:limit], True
    return b"".join(parts), False


def _bounded_decoder(encoding: str) -> Any:
    """A gzip/deflate decoder that never inflates more than asked (no zip bombs)."""
    encoding = encoding.strip().lower()
    if encoding not in ("gzip", "deflate"):
        return None
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # accepts both gzip and zlib headers

    def decode(data: bytes, at_most: int) -> bytes:
        try:
            return inflater.decompress(data, max(at_most, 1))
        except zlib.error as exc:
            raise ProbeProtocolError("the server sent a corrupt compressed body") from exc

    return decode


def _connect_failure(exc: httpx.ConnectError) -> ProbeFailure:
    if _caused_by(exc, ssl.SSLError):
        return ProbeTLSError("the secure connection failed (certificate or TLS problem)")
    return ProbeConnectError("the server refused the connection or could not be reached")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def probe_http(url: str, config: HttpConfig) -> ProbeResult:
    """Fetch ``url`` and say in plain words whether it answers, blocks, challenges or fails."""
    try:
        fetched = await fetch(url, config)
    except ProbeFailure as exc:
        return _failure_result(exc)
    text = fetched.body.decode("utf-8", errors="replace")
    finding = classify(fetched.status, fetched.headers, text)
    outcome, summary = _judge(fetched, finding, text, config)
    return ProbeResult(
        probe=PROBE_NAME,
        outcome=outcome,
        summary=summary,
        latency_ms=fetched.ttfb_ms,
        evidence=_evidence(fetched, finding),
    )


def _judge(
    fetched: FetchedResponse, finding: CloudflareFinding | None, text: str, config: HttpConfig
) -> tuple[Outcome, str]:
    if finding is not None:
        return _judge_cloudflare(finding)
    status = fetched.status
    if status in config.expected_statuses:
        if config.keyword and config.keyword not in text:
            return Outcome.DEGRADED, "The site answered, but the page was missing what we expected."
        return Outcome.OK, "The site answered normally."
    if status >= 500:
        return Outcome.DOWN, f"The site's servers reported an error (HTTP {status})."
    # Anything else (404, 418, a login wall, a plain 403) proves nothing about an outage.
    return Outcome.UNKNOWN, f"The site gave an odd answer (HTTP {status}), not a sign of an outage."


def _judge_cloudflare(finding: CloudflareFinding) -> tuple[Outcome, str]:
    if finding.kind == "rate_limit":
        wait = f" for {finding.retry_after} seconds" if finding.retry_after else ""
        return Outcome.BLOCKED, f"Cloudflare is rate-limiting our checks{wait} (error 1015)."
    if finding.kind == "challenge":
        return Outcome.CHALLENGED, (
            "Cloudflare asked our server for a browser check; that is inconclusive from here, "
            "because data-centre addresses are often challenged."
        )
    if finding.kind == "origin_error":
        why = f"The service's servers are failing behind Cloudflare ({finding.code})."
        return Outcome.DOWN, why
    return Outcome.BLOCKED, f"{finding.title}: the site refused our check from here."


def _evidence(fetched: FetchedResponse, finding: CloudflareFinding | None) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "status": fetched.status,
        "final_url": fetched.final_url,
        "redirects": list(fetched.redirects),
        "addresses": list(fetched.addresses),
        "ttfb_ms": fetched.ttfb_ms,
        "elapsed_ms": fetched.elapsed_ms,
        "body_bytes": len(fetched.body),
        "truncated": fetched.truncated,
        "headers": {k: fetched.headers[k] for k in EVIDENCE_HEADERS if k in fetched.headers},
    }
    retry_after = parse_retry_after(fetched.headers.get("retry-after"))
    if retry_after is not None or fetched.status == 429:
        # The caller leaves the target alone this long instead of hammering it.
        evidence["retry_after"] = retry_after
    if finding is not None:
        evidence["cloudflare"] = {
            "kind": finding.kind,
            "code": finding.code,
            "ray_id": finding.ray_id,
            "colo": finding.colo,
            "retry_after": finding.retry_after,
        }
    return evidence


# Why each failure means what it does for the visitor.
_FAILURE_OUTCOMES: dict[type[ProbeFailure], tuple[Outcome, str]] = {
    ProbeTimeout: (Outcome.TIMEOUT, "The site did not answer in time"),
    ProbeConnectError: (Outcome.DOWN, "The site's server could not be reached"),
    ProbeDNSError: (Outcome.ERROR, "The site's name could not be looked up"),
    ProbeBlockedAddress: (Outcome.ERROR, "That address is not allowed: we only check public sites"),
    ProbeTLSError: (Outcome.ERROR, "A secure connection to the site could not be set up"),
    ProbeTooManyRedirects: (Outcome.ERROR, "The site kept redirecting us and never answered"),
    ProbeBadURL: (Outcome.ERROR, "That web address cannot be checked"),
    ProbeProtocolError: (Outcome.UNKNOWN, "The site's answer was cut off or garbled"),
}


def _failure_result(exc: ProbeFailure) -> ProbeResult:
    outcome, summary = _FAILURE_OUTCOMES.get(
        type(exc), (Outcome.ERROR, "The check could not be completed")
    )
    return ProbeResult(
        probe=PROBE_NAME,
        outcome=outcome,
        summary=f"{summary}.",
        evidence={"failure": type(exc).__name__, "detail": str(exc)},
    )
