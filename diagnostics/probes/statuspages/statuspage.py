"""Atlassian Statuspage's ``/api/v2/summary.json``."""

from __future__ import annotations

from typing import Any

from diagnostics.probes.statuspages.report import (
    _ACTIVE_MAINTENANCE,
    StatusFormatError,
    StatusReport,
    _component,
    _dict,
    _dicts,
    _impact,
    _incident,
    _is_open,
    _key,
    _merge_components,
    _report,
    _require_dict,
    _state_of,
    _text,
    _url,
)


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
