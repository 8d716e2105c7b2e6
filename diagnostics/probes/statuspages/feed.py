"""RSS and Atom incident histories.

defusedxml reads the document first and refuses any DTD, entity or external
reference (no feed needs one, and they are how XML bombs and file reads get
in); feedparser then reads the entries, whichever RSS or Atom dialect they are in.
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import ParseError

import feedparser
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml import ElementTree as SafeET

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

# Root elements of the feeds we read: Atom 1.0, RSS 0.9x/2.0 and RSS 1.0 (RDF).
_FEED_ROOTS = frozenset(
    {
        "{http://www.w3.org/2005/Atom}feed",
        "rss",
        "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF",
    }
)
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


def _when(entry: Any) -> datetime | None:
    """The entry's last update (or publication) as an aware UTC time; None when it has none."""
    for key in ("updated_parsed", "published_parsed"):
        parsed = dict.get(entry, key)  # not .get: feedparser maps one key to the other, warning
        if parsed:
            year, month, day, hour, minute, second = parsed[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return None


def _summary_html(entry: Any) -> str:
    summary = entry.get("summary") or ""
    if not summary:
        content = entry.get("content") or []
        summary = content[0].get("value", "") if content else ""
    return str(summary)


def _safe_root(body: bytes) -> str:
    """Parse ``body`` with every DTD, entity and external reference refused; return its root tag.

    feedparser tolerates nearly anything (it reads broken XML leniently), so the
    document is first read by defusedxml: a feed that declares a DTD or an
    entity is refused outright, whatever it expands to, and only well-formed XML
    goes on.
    """
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden) as exc:
        raise StatusFormatError(
            "The feed declares a DTD or entities, which feeds never need."
        ) from exc
    except ExternalReferenceForbidden as exc:
        raise StatusFormatError(
            "The feed refers to an outside document, which feeds never need."
        ) from exc
    except ParseError as exc:
        raise StatusFormatError(f"The feed is not well-formed XML ({exc}).") from exc
    return str(root.tag)


def _feed_entries(body: bytes) -> list[dict[str, Any]]:
    tag = _safe_root(body)
    if tag not in _FEED_ROOTS:
        name = tag.rsplit("}", 1)[-1]
        raise StatusFormatError(
            f"The answer is XML but not an RSS or Atom feed (its root element is <{name}>)."
        )
    # A stream, never a string: feedparser fetches a string that looks like a URL.
    # Relative links stay as written (we link only http(s) URLs), and the summaries'
    # HTML is only read for words here, never shown, so it is left unsanitised.
    parsed = feedparser.parse(io.BytesIO(body), resolve_relative_uris=False, sanitize_html=False)
    return [
        {
            "title": str(entry.get("title") or ""),
            "url": str(entry.get("link") or entry.get("id") or ""),
            "updated": _when(entry),
            "summary": _summary_html(entry),
        }
        for entry in parsed.entries[:_MAX_ENTRIES]
    ]


def parse_feed(
    xml_bytes: bytes, *, now: datetime | None = None, recent: timedelta = timedelta(days=3)
) -> StatusReport:
    """An RSS or Atom incident history: open incidents are the recent unresolved entries.

    A feed keeps every past incident, and one whose last update is older than
    ``recent`` without a "Resolved" is far likelier forgotten than ongoing.
    """
    if not isinstance(xml_bytes, (bytes, bytearray)):
        raise StatusFormatError("The feed is not bytes.")
    body = bytes(xml_bytes)
    head = body[:2048].lstrip().lower()
    if not head:
        raise StatusFormatError("The feed is empty.")
    if b"<!doctype html" in head or b"<html" in head:
        raise StatusFormatError(
            "The status page answered with HTML, not the RSS/Atom feed expected."
        )
    entries = _feed_entries(body)

    now = now or datetime.now(UTC)
    incidents: list[dict[str, Any]] = []
    maintenances: list[dict[str, Any]] = []
    components: list[dict[str, Any] | None] = []
    for entry in entries:
        status = _feed_status(entry["summary"])
        if status in _CLOSED_STATUSES:
            continue
        updated = entry["updated"]
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
