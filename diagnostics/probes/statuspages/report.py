"""The one shape every status-page format is read into, and the helpers the parsers share.

Real answers vary: a parser raises ``StatusFormatError`` (a ValueError) with a
plain sentence when the document is not its format, skips single items it
cannot read, and never lets KeyError or TypeError escape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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
