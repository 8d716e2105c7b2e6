"""Read a service's public status page and say what state it claims to be in.

Five JSON formats and the RSS/Atom feeds are turned into one ``StatusReport``
by pure parsers, so they can be tested on inline documents; the probe on top
fetches the page through ``http.fetch`` (and so through the address guard).

Two rules shape every parser:

* The headline indicator is a blend and lags behind: Statuspage says "minor"
  while one component is in a major outage. The state is therefore the worst
  of the indicator, the components, the open incidents' impact and any
  maintenance in progress.
* Real answers vary. A parser raises ``StatusFormatError`` (a ValueError) with
  a plain sentence when the document is not its format, skips single items it
  cannot read, and never lets KeyError or TypeError escape.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
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

PROBE = "status"

PROVIDERS = ("statuspage", "incidentio", "instatus", "betterstack", "cloudflare", "feed")

PROVIDER_LABELS = {
    "statuspage": "Statuspage",
    "incidentio": "incident.io",
    "instatus": "Instatus",
    "betterstack": "Better Stack",
    "cloudflare": "Cloudflare status",
    "feed": "status feed",
}

STATES = ("operational", "degraded", "partial_outage", "major_outage", "maintenance")

# Maintenance outranks "degraded" (a planned slowdown is still maintenance) but
# not a real outage, which a visitor needs to hear about first.
_SEVERITY = {
    "operational": 0,
    "degraded": 1,
    "maintenance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}

# Every provider's words for a state, keyed after lower-casing and dropping
# "_", "-" and spaces, so "DEGRADEDPERFORMANCE" and "degraded_performance" meet.
_STATE_WORDS = {
    # Statuspage indicator / incident impact scale ("major" is its *partial* outage).
    "none": "operational",
    "minor": "degraded",
    "major": "partial_outage",
    "critical": "major_outage",
    # Component and impact words across providers.
    "operational": "operational",
    "up": "operational",
    "ok": "operational",
    "allsystemsoperational": "operational",
    "degraded": "degraded",
    "degradedperformance": "degraded",
    "hasissues": "degraded",
    "minoroutage": "degraded",
    "partialoutage": "partial_outage",
    "majoroutage": "major_outage",
    "fulloutage": "major_outage",
    "downtime": "major_outage",
    "down": "major_outage",
    "outage": "major_outage",
    "maintenance": "maintenance",
    "undermaintenance": "maintenance",
}

_STATE_PHRASES = {
    "operational": "all systems operational",
    "degraded": "degraded performance",
    "partial_outage": "a partial outage",
    "major_outage": "a major outage",
    "maintenance": "maintenance in progress",
}

_OUTCOMES = {
    "operational": Outcome.OK,
    "degraded": Outcome.DEGRADED,
    "partial_outage": Outcome.DEGRADED,
    "major_outage": Outcome.DOWN,
    "maintenance": Outcome.MAINTENANCE,
}

# Incident and maintenance statuses that mean "over"; such entries are ignored.
_CLOSED_STATUSES = {"resolved", "completed", "postmortem", "closed"}
_ACTIVE_MAINTENANCE = {"inprogress", "verifying", "active", "started", "ongoing"}

# Evidence is stored per probe run; a page with 300 components must not bloat it.
_MAX_ITEMS = 20
_MAX_TEXT = 200


class StatusFormatError(ValueError):
    """The document is not what the parser reads; the message says what it is instead."""


@dataclass(frozen=True)
class StatusReport:
    provider: str
    state: str  # one of STATES
    description: str
    components: list[dict[str, Any]] = field(default_factory=list)  # {"name", "status"}
    # {"name", "status", "impact", "url"}; impact is a state word or "unknown"
    incidents: list[dict[str, Any]] = field(default_factory=list)
    # {"name", "status", "url", "starts_at", "active"}
    maintenances: list[dict[str, Any]] = field(default_factory=list)


# --- small, defensive helpers -------------------------------------------------


def _key(value: Any) -> str:
    return re.sub(r"[\s_\-]", "", str(value)).lower() if value is not None else ""


def _state_of(value: Any) -> str | None:
    """Our state word for a provider's status/impact word; None when unrecognised."""
    return _STATE_WORDS.get(_key(value))


def _worst(states: Iterable[str | None]) -> str:
    known = [s for s in states if s in _SEVERITY]
    return max(known, key=_SEVERITY.__getitem__, default="operational")


def _text(value: Any, limit: int = _MAX_TEXT) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()[:limit]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The dict items of a list; anything else (a string, null, a number) gives none."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _require_dict(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        raise StatusFormatError(f"The answer is JSON ({kind}) but not {what}.")
    return data


def _impact(value: Any, default: str = "unknown") -> str:
    state = _state_of(value)
    if state is None:
        return default
    return "none" if state == "operational" else state


def _component(name: Any, status: Any) -> dict[str, Any] | None:
    label = _text(name)
    if not label:
        return None
    return {"name": label, "status": _state_of(status) or "unknown"}


def _merge_components(items: Iterable[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """Drop empties and keep each name once, at its worst status."""
    merged: dict[str, dict[str, Any]] = {}
    for item in items:
        if item is None:
            continue
        seen = merged.get(item["name"])
        if seen is None or _SEVERITY.get(item["status"], -1) > _SEVERITY.get(seen["status"], -1):
            merged[item["name"]] = item
    return list(merged.values())


def _incident(name: Any, status: Any, impact: Any, url: Any) -> dict[str, Any]:
    return {
        "name": _text(name) or "Unnamed incident",
        "status": _text(status).lower(),
        "impact": impact if isinstance(impact, str) else "unknown",
        "url": _url(url),
    }


def _url(value: Any) -> str:
    """A link from the page, kept only if it is http(s).

    These links are shown to visitors; a "javascript:" URL from a hostile or
    broken status page must not become a clickable link.
    """
    text = _text(value, 500)
    return text if text.lower().startswith(("https://", "http://")) else ""


def _is_open(status: Any) -> bool:
    return _key(status) not in _CLOSED_STATUSES


def _incident_state(incident: dict[str, Any]) -> str:
    # An open incident whose impact we cannot read still means "not all is well",
    # but guessing "down" from it would be worse than saying "degraded".
    impact = incident["impact"]
    if impact in _SEVERITY:
        return str(impact)
    return "degraded" if impact == "unknown" else "operational"


def _report(
    provider: str,
    signals: list[str | None],
    description: str,
    components: list[dict[str, Any]],
    incidents: list[dict[str, Any]],
    maintenances: list[dict[str, Any]],
) -> StatusReport:
    states = list(signals)
    states += [c["status"] for c in components]
    states += [_incident_state(i) for i in incidents]
    if any(m["active"] for m in maintenances):
        states.append("maintenance")
    state = _worst(states)
    return StatusReport(
        provider=provider,
        state=state,
        description=description or _STATE_PHRASES[state].capitalize(),
        components=components,
        incidents=incidents,
        maintenances=maintenances,
    )


# --- JSON formats ---------------------------------------------------------------


def parse_statuspage_v2(data: Any) -> StatusReport:
    """Atlassian Statuspage ``/api/v2/summary.json`` (also status.json, unresolved.json)."""
    data = _require_dict(data, "a Statuspage summary")
    status = _dict(data.get("status"))
    has_components = isinstance(data.get("components"), list)
    # unresolved.json carries only the page and its incidents; that is enough.
    has_incidents = isinstance(data.get("incidents"), list) and "page" in data
    if "indicator" not in status and not has_components and not has_incidents:
        raise StatusFormatError(
            "The answer is JSON but not a Statuspage summary: "
            "it has no status indicator and no components."
        )
    components = _merge_components(
        _component(c.get("name"), c.get("status")) for c in _dicts(data.get("components"))
    )
    incidents = [
        _incident(i.get("name"), i.get("status"), _impact(i.get("impact")), i.get("shortlink"))
        for i in _dicts(data.get("incidents"))
        if _is_open(i.get("status"))
    ]
    maintenances = [
        {
            "name": _text(m.get("name")) or "Maintenance",
            "status": _text(m.get("status")).lower(),
            "url": _url(m.get("shortlink")),
            "starts_at": _text(m.get("scheduled_for")),
            "active": _key(m.get("status")) in _ACTIVE_MAINTENANCE,
        }
        for m in _dicts(data.get("scheduled_maintenances"))
        if _is_open(m.get("status"))
    ]
    return _report(
        "statuspage",
        [_state_of(status.get("indicator"))],
        _text(status.get("description")),
        components,
        incidents,
        maintenances,
    )


def parse_incidentio(data: Any) -> StatusReport:
    """incident.io's widget API (``/api/v1/summary``)."""
    data = _require_dict(data, "an incident.io summary")
    if not isinstance(data.get("ongoing_incidents"), list):
        raise StatusFormatError(
            "The answer is JSON but not an incident.io summary: it has no ongoing_incidents list."
        )
    components: list[dict[str, Any] | None] = []
    incidents = []
    for item in _dicts(data.get("ongoing_incidents")):
        if not _is_open(item.get("status")):
            continue
        incidents.append(
            _incident(
                item.get("name"),
                item.get("status"),
                _impact(item.get("current_worst_impact")),
                item.get("url"),
            )
        )
        for affected in _dicts(item.get("affected_components")):
            components.append(_component(affected.get("name"), affected.get("current_status")))
    maintenances = []
    for key, active in (("in_progress_maintenances", True), ("scheduled_maintenances", False)):
        for item in _dicts(data.get(key)):
            maintenances.append(
                {
                    "name": _text(item.get("name")) or "Maintenance",
                    "status": _text(item.get("status")).lower()
                    or ("in_progress" if active else "scheduled"),
                    "url": _url(item.get("url")),
                    "starts_at": _text(item.get("starts_at")),
                    "active": active,
                }
            )
            if active:
                components.extend(
                    _component(a.get("name"), "under_maintenance")
                    for a in _dicts(item.get("affected_components"))
                )
    description = "All systems operational"
    if incidents:
        description = f"{len(incidents)} ongoing incident(s)"
    elif any(m["active"] for m in maintenances):
        description = "Maintenance in progress"
    return _report(
        "incidentio", [], description, _merge_components(components), incidents, maintenances
    )


def parse_instatus(data: Any) -> StatusReport:
    """Instatus ``/summary.json``."""
    data = _require_dict(data, "an Instatus summary")
    page = _dict(data.get("page"))
    if "status" not in page and not isinstance(data.get("activeIncidents"), list):
        raise StatusFormatError(
            "The answer is JSON but not an Instatus summary: "
            "it has no page status and no activeIncidents."
        )
    incidents = [
        _incident(i.get("name"), i.get("status"), _impact(i.get("impact")), i.get("url"))
        for i in _dicts(data.get("activeIncidents"))
        if _is_open(i.get("status"))
    ]
    maintenances = [
        {
            "name": _text(m.get("name")) or "Maintenance",
            "status": _text(m.get("status")).lower(),
            "url": _url(m.get("url")),
            "starts_at": _text(m.get("start")),
            # Instatus lists upcoming maintenances here too, as NOTSTARTEDYET.
            "active": _key(m.get("status")) not in {"notstartedyet", "scheduled", "planned"},
        }
        for m in _dicts(data.get("activeMaintenances"))
        if _is_open(m.get("status"))
    ]
    components = _merge_components(
        _component(c.get("name"), c.get("status")) for c in _dicts(data.get("components"))
    )
    page_state = _state_of(page.get("status"))
    description = _STATE_PHRASES[page_state].capitalize() if page_state else ""
    return _report("instatus", [page_state], description, components, incidents, maintenances)


def parse_betterstack(data: Any) -> StatusReport:
    """Better Stack ``/index.json`` (JSON:API: the page in ``data``, the rest in ``included``)."""
    data = _require_dict(data, "a Better Stack status page")
    attributes = _dict(_dict(data.get("data")).get("attributes"))
    if "aggregate_state" not in attributes:
        raise StatusFormatError(
            "The answer is JSON but not a Better Stack status page: "
            "it has no data.attributes.aggregate_state."
        )
    components: list[dict[str, Any] | None] = []
    incidents: list[dict[str, Any]] = []
    maintenances: list[dict[str, Any]] = []
    for item in _dicts(data.get("included")):
        attrs = _dict(item.get("attributes"))
        kind = item.get("type")
        if kind == "status_page_resource":
            name = attrs.get("public_name") or attrs.get("name") or f"Resource {item.get('id')}"
            components.append(_component(name, attrs.get("status")))
        elif kind == "status_report":
            state = attrs.get("aggregate_state")
            if not _is_open(state):
                continue
            if _key(attrs.get("report_type")) == "maintenance" or _state_of(state) == "maintenance":
                maintenances.append(
                    {
                        "name": _text(attrs.get("title")) or "Maintenance",
                        "status": _text(state).lower(),
                        "url": "",
                        "starts_at": _text(attrs.get("starts_at")),
                        "active": True,
                    }
                )
            else:
                incidents.append(_incident(attrs.get("title"), state, _impact(state), None))
    aggregate = _state_of(attributes.get("aggregate_state"))
    # The page-wide "downtime" says that something is down, not that everything
    # is; the resources say how much, as Statuspage's blended indicator does.
    page_signal = "partial_outage" if aggregate == "major_outage" else aggregate
    description = _STATE_PHRASES[page_signal].capitalize() if page_signal else ""
    return _report(
        "betterstack",
        [page_signal],
        description,
        _merge_components(components),
        incidents,
        maintenances,
    )


def parse_cloudflare_v3(data: Any) -> StatusReport:
    """cloudflarestatus.com ``/api/v3/summary`` (``{"success": ..., "result": {...}}``)."""
    data = _require_dict(data, "a Cloudflare status summary")
    if data.get("success") is False:
        raise StatusFormatError("The Cloudflare status API answered but reported success: false.")
    result = _dict(data.get("result"))
    if not isinstance(result.get("components"), list) and not isinstance(
        result.get("active_incidents"), list
    ):
        raise StatusFormatError(
            "The answer is JSON but not a Cloudflare status summary: "
            "it has no result.components or result.active_incidents."
        )
    components = _merge_components(
        _component(c.get("name"), c.get("status")) for c in _dicts(result.get("components"))
    )
    incidents = [
        _incident(
            i.get("name"),
            i.get("status"),
            _impact(i.get("impact")),
            i.get("url") or i.get("shortlink"),
        )
        for i in _dicts(result.get("active_incidents"))
        if _is_open(i.get("status")) and not i.get("resolved_at")
    ]
    maintenances = [
        {
            "name": _text(m.get("name")) or "Maintenance",
            "status": _text(m.get("status")).lower(),
            "url": _url(m.get("url") or m.get("shortlink")),
            "starts_at": _text(m.get("starts_at") or m.get("scheduled_for")),
            "active": key == "active_maintenances" or _key(m.get("status")) in _ACTIVE_MAINTENANCE,
        }
        for key in ("active_maintenances", "scheduled_maintenances")
        for m in _dicts(result.get(key))
        if _is_open(m.get("status"))
    ]
    status = _dict(result.get("status"))
    return _report(
        "cloudflare",
        [_state_of(status.get("indicator"))],
        _text(status.get("description")),
        components,
        incidents,
        maintenances,
    )


# --- RSS and Atom -----------------------------------------------------------------

_ATOM = "{http://www.w3.org/2005/Atom}"
_FEED_STATUSES = (
    "investigating",
    "identified",
    "monitoring",
    "update",
    "resolved",
    "scheduled",
    "in progress",
    "verifying",
    "completed",
    "postmortem",
)
_BOLD = re.compile(r"<(b|strong)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_STATUS_LABEL = re.compile(r"\bstatus:\s*([a-z][a-z ]*)", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
# incident.io lists affected components as "<li>Search (Degraded performance)</li>".
_AFFECTED = re.compile(r"<li>\s*([^<(]+?)\s*\(([^)<]+)\)\s*</li>", re.IGNORECASE)
_MAX_ENTRIES = 50


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def _feed_status(summary: str) -> str:
    """The latest update's status word from an entry's HTML ("" when none is given)."""
    candidates = [_plain(match.group(2)) for match in _BOLD.finditer(summary)]
    candidates.append(_plain(summary))
    for text in candidates:
        label = _STATUS_LABEL.search(text)
        if label:
            text = label.group(1)
        lowered = text.lower().strip()
        for status in _FEED_STATUSES:
            if lowered.startswith(status):
                return status
    return ""


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _child_text(element: ET.Element, *tags: str) -> str:
    for tag in tags:
        child = element.find(tag)
        if child is not None and child.text:
            return child.text
    return ""


def _atom_link(entry: ET.Element) -> str:
    for link in entry.findall(f"{_ATOM}link"):
        if link.get("rel") in (None, "alternate") and link.get("href"):
            return link.get("href", "")
    return ""


def _feed_entries(root: ET.Element) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    if root.tag == f"{_ATOM}feed":
        for entry in root.findall(f"{_ATOM}entry")[:_MAX_ENTRIES]:
            entries.append(
                {
                    "title": _child_text(entry, f"{_ATOM}title"),
                    "url": _atom_link(entry) or _child_text(entry, f"{_ATOM}id"),
                    "updated": _child_text(entry, f"{_ATOM}updated", f"{_ATOM}published"),
                    "summary": _child_text(entry, f"{_ATOM}summary", f"{_ATOM}content"),
                }
            )
        return entries
    if root.tag == "rss":
        channel = root.find("channel")
        items = channel.findall("item") if channel is not None else []
        for item in items[:_MAX_ENTRIES]:
            entries.append(
                {
                    "title": _child_text(item, "title"),
                    "url": _child_text(item, "link", "guid"),
                    "updated": _child_text(item, "pubDate"),
                    "summary": _child_text(item, "description"),
                }
            )
        return entries
    raise StatusFormatError(
        f"The answer is XML but not an RSS or Atom feed (its root element is <{root.tag}>)."
    )


def parse_feed(
    xml_bytes: bytes, *, now: datetime | None = None, recent: timedelta = timedelta(days=3)
) -> StatusReport:
    """An RSS or Atom incident history: open incidents are the recent unresolved entries.

    A feed keeps every past incident, and one whose last update is older than
    ``recent`` without a "Resolved" is far likelier forgotten than ongoing.
    """
    if not isinstance(xml_bytes, (bytes, bytearray)):
        raise StatusFormatError("The feed is not bytes.")
    head = bytes(xml_bytes[:2048]).lstrip().lower()
    if not head:
        raise StatusFormatError("The feed is empty.")
    if b"<!doctype html" in head or b"<html" in head:
        raise StatusFormatError(
            "The status page answered with HTML, not the RSS/Atom feed expected."
        )
    # No feed needs a DTD; refusing them rules out entity-expansion tricks.
    if b"<!doctype" in head or b"<!entity" in bytes(xml_bytes).lower():
        raise StatusFormatError("The feed declares a DTD or entities, which feeds never need.")
    try:
        root = ET.fromstring(bytes(xml_bytes))  # noqa: S314 - DTDs refused above
    except ET.ParseError as exc:
        raise StatusFormatError(f"The feed is not well-formed XML ({exc}).") from exc

    now = now or datetime.now(UTC)
    incidents: list[dict[str, Any]] = []
    maintenances: list[dict[str, Any]] = []
    components: list[dict[str, Any] | None] = []
    for entry in _feed_entries(root):
        status = _feed_status(entry["summary"])
        if status in _CLOSED_STATUSES:
            continue
        updated = _parse_date(entry["updated"])
        if updated is not None and now - updated > recent:
            continue
        title = _plain(entry["title"]) or "Untitled entry"
        if status in ("scheduled", "in progress", "verifying") or "maintenance" in title.lower():
            maintenances.append(
                {
                    "name": title[:_MAX_TEXT],
                    "status": status or "unknown",
                    "url": _url(entry["url"]),
                    "starts_at": updated.isoformat() if updated else "",
                    "active": status != "scheduled",
                }
            )
            continue
        affected = [
            _component(name, status_text)
            for name, status_text in _AFFECTED.findall(entry["summary"])
        ]
        components.extend(affected)
        impact = _worst(c["status"] for c in affected if c) if any(affected) else "unknown"
        incidents.append(
            _incident(
                title,
                status or "unknown",
                "none" if impact == "operational" else impact,
                entry["url"],
            )
        )
    description = "No open incidents in the feed"
    if incidents:
        description = f"{len(incidents)} open incident(s) in the feed"
    elif any(m["active"] for m in maintenances):
        description = "Maintenance in progress"
    return _report("feed", [], description, _merge_components(components), incidents, maintenances)


# --- choosing a parser ---------------------------------------------------------------

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
    (OpenAI's incident.io page serves Statuspage's summary.json); the URL only
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


# --- the probe ---------------------------------------------------------------------


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
