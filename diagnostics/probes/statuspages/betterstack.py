"""Better Stack's status page ``index.json``."""

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
)


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
