"""The status probe: fetch the page through the address guard and judge what came back."""

from __future__ import annotations

from typing import Any

from diagnostics.probes.cloudflare import CloudflareFinding, classify
from diagnostics.probes.http import (
    FetchedResponse,
    HttpConfig,
    ProbeBlockedAddress,
    ProbeFailure,
    ProbeTimeout,
    fetch,
)
from diagnostics.probes.result import Outcome, ProbeResult
from diagnostics.probes.statuspages.detect import read_status_document
from diagnostics.probes.statuspages.report import (
    _MAX_ITEMS,
    _SEVERITY,
    _STATE_PHRASES,
    PROVIDER_LABELS,
    PROVIDERS,
    StatusFormatError,
    StatusReport,
)

PROBE = "status"

_OUTCOMES = {
    "operational": Outcome.OK,
    "degraded": Outcome.DEGRADED,
    "partial_outage": Outcome.DEGRADED,
    "major_outage": Outcome.DOWN,
    "maintenance": Outcome.MAINTENANCE,
}


def _error(summary: str, evidence: dict[str, Any], latency: float | None = None) -> ProbeResult:
    return ProbeResult(PROBE, Outcome.ERROR, summary, latency, evidence)


def _names(items: list[dict[str, Any]], limit: int = 3) -> str:
    names = [str(item["name"]) for item in items[:limit]]
    more = len(items) - limit
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _summary(report: StatusReport, affected: list[dict[str, Any]]) -> str:
    label = PROVIDER_LABELS.get(report.provider, report.provider)
    summary = f"The status page ({label}) reports {_STATE_PHRASES[report.state]}"
    if report.state == "maintenance":
        active = [m for m in report.maintenances if m["active"]]
        if active:
            summary += f": {_names(active, 1)}"
    elif affected:
        summary += f" ({_names(affected)})"
    summary += "."
    if report.incidents:
        first = report.incidents[0]["name"]
        count = len(report.incidents)
        summary += f" Open incident: “{first}”" + (f" and {count - 1} more." if count > 1 else ".")
    return summary


def _report_evidence(report: StatusReport) -> dict[str, Any]:
    affected = [c for c in report.components if c["status"] != "operational"]
    return {
        "provider": report.provider,
        "state": report.state,
        "description": report.description,
        "components": affected[:_MAX_ITEMS],
        "component_count": len(report.components),
        "incidents": report.incidents[:_MAX_ITEMS],
        "maintenances": report.maintenances[:_MAX_ITEMS],
    }


def _failure(exc: ProbeFailure, evidence: dict[str, Any]) -> ProbeResult:
    evidence.update({"failure": type(exc).__name__, "detail": str(exc)})
    if isinstance(exc, ProbeTimeout):
        return ProbeResult(
            PROBE, Outcome.TIMEOUT, "The status page did not answer in time.", None, evidence
        )
    if isinstance(exc, ProbeBlockedAddress):
        return _error(
            "That status page address is not allowed: we only check public sites.", evidence
        )
    # An unreachable status page says nothing about the service it describes,
    # so this is an error of the check, never "down".
    return _error(f"The status page could not be read: {exc}.", evidence)


# Cloudflare turning *our* request away from the status page: the page says
# nothing either way, but its code and Ray ID are what its owner would ask for.
_CLOUDFLARE_REFUSALS = {
    "block": Outcome.BLOCKED,
    "rate_limit": Outcome.BLOCKED,
    "challenge": Outcome.CHALLENGED,
}


def _refused(finding: CloudflareFinding, evidence: dict[str, Any], latency: float) -> ProbeResult:
    evidence["cloudflare"] = {
        "kind": finding.kind,
        "code": finding.code,
        "ray_id": finding.ray_id,
        "colo": finding.colo,
        "retry_after": finding.retry_after,
    }
    if finding.kind == "challenge":
        what = "Cloudflare asked our server for a browser check on the status page"
    else:
        what = f"{finding.title}, on the status page"
    ray = f", Ray ID {finding.ray_id}" if finding.ray_id else ""
    summary = f"{what}{ray}: we could not read what it says."
    return ProbeResult(PROBE, _CLOUDFLARE_REFUSALS[finding.kind], summary, latency, evidence)


def _judge_fetched(
    fetched: FetchedResponse, url: str, provider: str | None, evidence: dict[str, Any]
) -> ProbeResult:
    latency = fetched.elapsed_ms
    text = fetched.body.decode("utf-8", errors="replace")
    finding = classify(fetched.status, fetched.headers, text)
    # An origin error (5xx behind Cloudflare) stays a plain HTTP error below: it
    # is the status page's own server failing, not the service's.
    if finding is not None and finding.kind in _CLOUDFLARE_REFUSALS:
        return _refused(finding, evidence, latency)
    if fetched.status != 200:
        return _error(
            f"The status page answered HTTP {fetched.status} instead of its status summary.",
            evidence,
            latency,
        )
    if fetched.truncated:
        return _error(
            f"The status page's answer is larger than the {len(fetched.body) // 1024} KB "
            "we read, so it was not parsed.",
            evidence,
            latency,
        )
    try:
        report, note = read_status_document(
            fetched.body, url, provider, fetched.headers.get("content-type", "")
        )
    except StatusFormatError as exc:
        return _error(str(exc), evidence, latency)
    affected = [c for c in report.components if _SEVERITY.get(c["status"], 0) > 0]
    evidence.update(_report_evidence(report))
    summary = _summary(report, affected)
    if note:
        evidence.update({"configured_provider": provider, "format_note": note})
        summary = f"{summary} ({note})"
    outcome = _OUTCOMES[report.state]
    return ProbeResult(PROBE, outcome, summary, latency, evidence)


async def probe_status_page(url: str, provider: str | None, config: HttpConfig) -> ProbeResult:
    """Fetch a status page (``provider`` None = detect it) and report the state it claims."""
    evidence: dict[str, Any] = {"url": url, "provider": provider}
    if provider is not None and provider not in PROVIDERS:
        return _error(
            f"Unknown status page provider {provider!r}; expected one of {', '.join(PROVIDERS)}.",
            evidence,
        )
    try:
        fetched = await fetch(url, config)
    except ProbeFailure as exc:
        return _failure(exc, evidence)
    evidence.update(
        {
            "http_status": fetched.status,
            "final_url": fetched.final_url,
            "content_type": fetched.headers.get("content-type", ""),
        }
    )
    return _judge_fetched(fetched, url, provider, evidence)
