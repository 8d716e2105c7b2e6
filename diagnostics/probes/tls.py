"""TLS probe: does the handshake succeed, and is the certificate one a browser accepts.

A failed verification is the case visitors most need explained, and the
verified handshake tells us nothing about the certificate it rejected. So on
failure we shake hands a second time without verification, read the
certificate ourselves (with ``cryptography``) and name what is wrong with it:
expired, issued for another name, or not from a trusted authority.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from diagnostics.probes.result import Outcome, ProbeResult
from diagnostics.probes.safety import AddressPolicy
from diagnostics.probes.tcp import classify_os_error, local_addr_for, resolve_for_probe

PROBE = "tls"

# OpenSSL X509_V_ERR_* codes we explain in words; everything else counts as "untrusted".
_NOT_YET_VALID = 9
_EXPIRED = 10
_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_HOSTNAME_MISMATCH = 62


@dataclass(frozen=True)
class TlsConfig:
    timeout: float = 5.0
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    cafile: str | None = None  # tests pass the trustme CA
    local_address: str | None = None
    warn_days: int = 14


class _ConnectFailed(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass
class _Handshake:
    address: str
    der: bytes | None
    protocol: str | None
    cipher: str | None
    elapsed_ms: float


def _verifying_context(cafile: str | None) -> ssl.SSLContext:
    # With a cafile, only that CA is trusted (create_default_context skips the
    # system store), which keeps tests from passing by accident.
    return ssl.create_default_context(cafile=cafile)


def _inspecting_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _handshake(
    address: str, host: str, port: int, context: ssl.SSLContext, config: TlsConfig
) -> _Handshake:
    local = local_addr_for(address, config.local_address)
    if isinstance(local, str):
        raise _ConnectFailed("local-address-family", local)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(config.timeout):
            _reader, writer = await asyncio.open_connection(
                address,
                port,
                ssl=context,
                # The name, not the address, goes in SNI and the hostname check.
                server_hostname=host,
                local_addr=local,
                ssl_handshake_timeout=config.timeout,
            )
    except TimeoutError as exc:
        raise _ConnectFailed("timeout", f"no handshake within {config.timeout:g} s") from exc
    except ssl.SSLCertVerificationError:
        raise
    except ssl.SSLError as exc:
        raise _ConnectFailed("handshake", exc.reason or str(exc)) from exc
    except OSError as exc:
        raise _ConnectFailed(classify_os_error(exc), exc.strerror or str(exc)) from exc
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    ssl_object = writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    cipher = ssl_object.cipher() if ssl_object is not None else None
    protocol = ssl_object.version() if ssl_object is not None else None
    writer.close()
    # A server may drop the connection without close_notify; harmless here.
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return _Handshake(address, der, protocol, cipher[0] if cipher else None, elapsed)


def hostname_matches(cert: x509.Certificate, host: str) -> bool:
    """RFC 6125 matching against the subjectAltName (no CN fallback, as browsers do)."""
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return False
    assert isinstance(san, x509.SubjectAlternativeName)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return ip in san.get_values_for_type(x509.IPAddress)
    wanted = host.lower().rstrip(".").split(".")
    for pattern in san.get_values_for_type(x509.DNSName):
        labels = pattern.lower().rstrip(".").split(".")
        if len(labels) != len(wanted):
            continue
        # A wildcard covers exactly one whole leftmost label, never "*.com".
        if labels[0] == "*" and len(labels) > 2:
            if labels[1:] == wanted[1:]:
                return True
        elif labels == wanted:
            return True
    return False


def describe_certificate(der: bytes, host: str, now: datetime | None = None) -> dict[str, Any]:
    """Subject, issuer, names and validity of a DER certificate, as JSON-ready values."""
    now = now or datetime.now(UTC)
    cert = x509.load_der_x509_certificate(der)
    try:
        san_ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        assert isinstance(san_ext.value, x509.SubjectAlternativeName)
        names = [str(n) for n in san_ext.value.get_values_for_type(x509.DNSName)]
        names += [str(ip) for ip in san_ext.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    not_after = cert.not_valid_after_utc
    not_before = cert.not_valid_before_utc
    seconds_left = (not_after - now).total_seconds()
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "self_signed": cert.issuer == cert.subject,
        "names": names,
        "not_before": not_before.isoformat(),
        "expires_at": not_after.isoformat(),
        # Floor division: 0.5 days left is "0 days", and expired gives a negative number.
        "days_left": int(seconds_left // 86400),
        "expired": seconds_left < 0,
        "not_yet_valid": not_before > now,
        "hostname_match": hostname_matches(cert, host),
    }


def _problems(verify_code: int, details: dict[str, Any] | None) -> list[str]:
    problems: list[str] = []
    if verify_code == _EXPIRED or (details and details["expired"]):
        problems.append("expired")
    if verify_code == _NOT_YET_VALID or (details and details["not_yet_valid"]):
        problems.append("not-yet-valid")
    if verify_code == _HOSTNAME_MISMATCH or (details and not details["hostname_match"]):
        problems.append("wrong-host")
    if verify_code in (_SELF_SIGNED, _SELF_SIGNED_IN_CHAIN) or (details and details["self_signed"]):
        problems.append("self-signed")
    elif verify_code not in (_EXPIRED, _NOT_YET_VALID, _HOSTNAME_MISMATCH):
        problems.append("untrusted")
    return problems


def _problem_words(problems: list[str], host: str, details: dict[str, Any] | None) -> str:
    words: list[str] = []
    for problem in problems:
        if problem == "expired":
            when = f" on {details['expires_at'][:10]}" if details else ""
            words.append(f"it expired{when}")
        elif problem == "not-yet-valid":
            words.append("it is not valid yet")
        elif problem == "wrong-host":
            names = (
                ", ".join(details["names"][:3]) if details and details["names"] else "another name"
            )
            words.append(f"it is issued for {names}, not {host}")
        elif problem == "self-signed":
            words.append("it is self-signed, so no trusted authority vouches for it")
        elif problem == "untrusted":
            words.append("it is not signed by an authority this server trusts")
    return "; ".join(words)


async def probe_tls(host: str, port: int, config: TlsConfig) -> ProbeResult:
    """Handshake with ``host:port`` and judge the certificate it presents."""
    resolved = await resolve_for_probe(host, port, config.policy, config.timeout)
    if isinstance(resolved, ProbeResult):
        return ProbeResult(PROBE, resolved.outcome, resolved.summary, None, resolved.evidence)

    evidence: dict[str, Any] = {"host": host, "port": port}
    context = _verifying_context(config.cafile)
    failure: _ConnectFailed | None = None
    for address in resolved:
        evidence["address"] = address
        try:
            handshake = await _handshake(address, host, port, context, config)
        except ssl.SSLCertVerificationError as exc:
            return await _verification_failed(address, host, port, exc, config, evidence)
        except _ConnectFailed as exc:
            failure = exc
            # Refused or unreachable may be one bad address (say ::1 for
            # "localhost"); a silent or broken TLS server will be the same on all.
            if exc.kind in ("refused", "unreachable", "local-address-family"):
                continue
            break
        else:
            return _verified(handshake, host, port, config, evidence)

    assert failure is not None
    evidence["error"] = failure.kind
    evidence["detail"] = failure.detail
    if failure.kind == "timeout":
        outcome, why = Outcome.TIMEOUT, failure.detail
    elif failure.kind == "refused":
        outcome, why = Outcome.DOWN, "the connection was refused"
    elif failure.kind == "handshake":
        outcome, why = Outcome.ERROR, f"the TLS handshake failed ({failure.detail})"
    else:
        outcome, why = Outcome.ERROR, failure.detail
    return ProbeResult(PROBE, outcome, f"TLS to {host}:{port} failed: {why}.", None, evidence)


def _verified(
    handshake: _Handshake, host: str, port: int, config: TlsConfig, evidence: dict[str, Any]
) -> ProbeResult:
    evidence.update(
        {
            "protocol": handshake.protocol,
            "cipher": handshake.cipher,
            "handshake_ms": handshake.elapsed_ms,
            "verified": True,
            "trusted": True,
            "problems": [],
        }
    )
    if handshake.der is None:
        summary = f"TLS handshake with {host}:{port} succeeded ({handshake.protocol})."
        return ProbeResult(PROBE, Outcome.OK, summary, handshake.elapsed_ms, evidence)
    details = describe_certificate(handshake.der, host)
    evidence.update(details)
    days = details["days_left"]
    if days <= config.warn_days:
        evidence["problems"] = ["expires-soon"]
        summary = (
            f"The certificate for {host} is valid but expires in {days} day(s) "
            f"({details['expires_at'][:10]})."
        )
        return ProbeResult(PROBE, Outcome.DEGRADED, summary, handshake.elapsed_ms, evidence)
    summary = (
        f"TLS to {host}:{port} is fine ({handshake.protocol}); "
        f"the certificate is valid for {days} more days."
    )
    return ProbeResult(PROBE, Outcome.OK, summary, handshake.elapsed_ms, evidence)


async def _verification_failed(
    address: str,
    host: str,
    port: int,
    exc: ssl.SSLCertVerificationError,
    config: TlsConfig,
    evidence: dict[str, Any],
) -> ProbeResult:
    verify_code = int(getattr(exc, "verify_code", 0) or 0)
    evidence.update(
        {
            "verified": False,
            "trusted": verify_code in (_EXPIRED, _NOT_YET_VALID, _HOSTNAME_MISMATCH),
            "verify_code": verify_code,
            "verify_error": str(getattr(exc, "verify_message", "") or exc.reason or exc),
        }
    )
    details: dict[str, Any] | None = None
    latency: float | None = None
    try:
        inspected = await _handshake(address, host, port, _inspecting_context(), config)
    except (_ConnectFailed, ssl.SSLError) as second:
        evidence["inspect_error"] = str(second)
    else:
        latency = inspected.elapsed_ms
        evidence.update(
            {"protocol": inspected.protocol, "cipher": inspected.cipher, "handshake_ms": latency}
        )
        if inspected.der is not None:
            try:
                details = describe_certificate(inspected.der, host)
            except ValueError as bad:
                evidence["inspect_error"] = f"unreadable certificate: {bad}"
            else:
                evidence.update(details)
    problems = _problems(verify_code, details)
    evidence["problems"] = problems
    summary = (
        f"The certificate for {host} is not acceptable: {_problem_words(problems, host, details)}."
    )
    return ProbeResult(PROBE, Outcome.ERROR, summary, latency, evidence)
