"""Which format a fetched document is in, and reading it as that format.

The document decides first (several hosts answer another's format); the URL
only breaks ties. A configured format that does not fit falls back to
detection, and the result says so.
"""

from __future__ import annotations

import json
from typing import Any

from diagnostics.probes.statuspages.betterstack import parse_betterstack
from diagnostics.probes.statuspages.cloudflare_v3 import parse_cloudflare_v3
from diagnostics.probes.statuspages.feed import parse_feed
from diagnostics.probes.statuspages.incidentio import parse_incidentio
from diagnostics.probes.statuspages.instatus import parse_instatus
from diagnostics.probes.statuspages.report import (
    PROVIDER_LABELS,
    StatusFormatError,
    StatusReport,
    _dict,
    _key,
)
from diagnostics.probes.statuspages.statuspage import parse_statuspage_v2

_PARSERS = {
    "statuspage": parse_statuspage_v2,
    "incidentio": parse_incidentio,
    "instatus": parse_instatus,
    "betterstack": parse_betterstack,
    "cloudflare": parse_cloudflare_v3,
}


def _looks_like_markup(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _looks_like_feed(body: bytes) -> bool:
    head = body[:1024].lower()
    return _looks_like_markup(body) and (b"<feed" in head or b"<rss" in head)


def detect_provider(url: str, data: Any) -> str:
    """Which of PROVIDERS wrote ``data`` (parsed JSON, or the raw body); "unknown" if none.

    The document decides first, because several hosts answer another's format
    (an incident.io page may serve Statuspage's summary.json); the URL only
    breaks ties.
    """
    if isinstance(data, (bytes, bytearray, str)):
        raw = data.encode() if isinstance(data, str) else bytes(data)
        if _looks_like_feed(raw):
            return "feed"
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            data = None
    if isinstance(data, dict):
        result = data.get("result")
        if isinstance(result, dict) and (
            "active_incidents" in result or ("components" in result and "success" in data)
        ):
            return "cloudflare"
        if "ongoing_incidents" in data or "in_progress_maintenances" in data:
            return "incidentio"
        if "activeIncidents" in data or "activeMaintenances" in data:
            return "instatus"
        if isinstance(data.get("data"), dict) and "aggregate_state" in _dict(
            data["data"].get("attributes")
        ):
            return "betterstack"
        if "indicator" in _dict(data.get("status")) or (
            "page" in data and ("components" in data or "incidents" in data)
        ):
            return "statuspage"
        if _key(_dict(data.get("page")).get("status")) in {"up", "hasissues", "undermaintenance"}:
            return "instatus"
    path = url.split("?", 1)[0].lower()
    if path.endswith((".atom", ".rss", ".xml")):
        return "feed"
    if "/api/v3/summary" in path:
        return "cloudflare"
    if "/api/v1/summary" in path:
        return "incidentio"
    if "/api/v2/" in path:
        return "statuspage"
    if path.endswith("/index.json"):
        return "betterstack"
    if path.endswith("/summary.json"):
        return "instatus"
    return "unknown"


def parse_status_document(
    body: bytes, url: str, provider: str | None, content_type: str = ""
) -> StatusReport:
    """Turn a fetched body into a report, or raise StatusFormatError saying what is wrong."""
    if not body.strip():
        raise StatusFormatError("The status page answered with an empty body.")
    if provider is None and (_looks_like_feed(body) or detect_provider(url, None) == "feed"):
        provider = "feed"
    if provider == "feed":
        return parse_feed(body)
    if _looks_like_markup(body):
        if _looks_like_feed(body):
            what = "an RSS/Atom feed"
        elif "html" in content_type.lower() or b"<html" in body[:4096].lower():
            what = "HTML"
        else:
            what = "XML or HTML"
        raise StatusFormatError(
            f"The status page answered with {what}, not the JSON summary expected."
        )
    try:
        # RFC 8259: JSON between systems is UTF-8; a BOM is tolerated.
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StatusFormatError("The status page's answer is not UTF-8 text.") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"{exc.msg}: line {exc.lineno}, column {exc.colno}"
        # A document that stops before its closing bracket was cut off in
        # transit or by the server, which is worth telling apart from bad JSON.
        if text.rstrip()[-1:] not in ("}", "]"):
            raise StatusFormatError(f"The status page's JSON is cut short ({where}).") from exc
        raise StatusFormatError(f"The status page's JSON is malformed ({where}).") from exc
    if provider is None:
        provider = detect_provider(url, data)
        if provider == "unknown":
            raise StatusFormatError(
                "The answer is JSON, but not a status page format we know "
                "(Statuspage, incident.io, Instatus, Better Stack or Cloudflare)."
            )
    else:
        # Some parsers are lenient enough to read another format's document as
        # "all operational"; the document's own shape decides instead.
        written_by = detect_provider("", data)
        if written_by not in ("unknown", provider):
            raise StatusFormatError(
                f"The answer is in {PROVIDER_LABELS[written_by]}'s format, "
                f"not {PROVIDER_LABELS[provider]}'s."
            )
    return _PARSERS[provider](data)


def read_status_document(
    body: bytes, url: str, provider: str | None, content_type: str = ""
) -> tuple[StatusReport, str]:
    """Parse as configured; when that format does not fit, detect it and say so.

    Returns the report and a note for the result ("" when the configured
    format fitted). A page that moved to another provider keeps being read
    instead of turning into an error until someone edits the target.
    """
    try:
        return parse_status_document(body, url, provider, content_type), ""
    except StatusFormatError as configured_error:
        if provider is None:
            raise
        try:
            report = parse_status_document(body, url, None, content_type)
        except StatusFormatError:
            raise configured_error from None
    configured = PROVIDER_LABELS[provider]
    found = PROVIDER_LABELS.get(report.provider, report.provider)
    note = f"Set up as {configured}, but the page is in {found}'s format: read as that."
    return report, note
