"""Cloudflare's own status API (``/api/v3/summary``)."""

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
