"""Instatus' ``summary.json``."""

from __future__ import annotations

from typing import Any

from diagnostics.probes.statuspages.report import (
    _STATE_PHRASES,
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
