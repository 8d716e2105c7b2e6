"""RSS and Atom incident histories."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from diagnostics.probes.statuspages.report import (
    _CLOSED_STATUSES,
    _MAX_TEXT,
    StatusFormatError,
    StatusReport,
    _component,
    _incident,
    _merge_components,
    _report,
    _url,
    _worst,
)

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
