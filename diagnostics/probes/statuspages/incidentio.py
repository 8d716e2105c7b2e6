"""incident.io's status page summary (``/api/v1/summary``)."""

from __future__ import annotations

from typing import Any

from diagnostics.probes.statuspages.report import (
    StatusFormatError,
    StatusReport,
    _component,
    _dicts,
    _impact,
    _incident,
    _is_open,
    _merge_components,
    _report,
    _require_dict,
    _text,
    _url,
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
