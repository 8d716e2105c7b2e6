"""A loopback HTTP server serving every status page format in every state.

Paths are ``/<provider>/<state>/<the provider's own path>``, for example
``/statuspage/outage/api/v2/summary.json`` or ``/feed/atom-incident/history.atom``
(see ``PROVIDER_PATHS``). States: operational, degraded, outage, maintenance;
malformed answers: truncated, html, wrong-shape, error500, empty; Cloudflare
turning the request away: cloudflare-1020, cloudflare-challenge (with the
edge's headers and pages). Statuspage also has ``partial`` (the reference
sample) and two "blend" pages where the headline indicator disagrees with the
components.

A test can replace or add a document at runtime with ``server.set(path, body)``.
Run standalone for the demo mode: ``python -m diagnostics.standins.statuspage --port 8025``.
"""

from __future__ import annotations

import argparse
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from diagnostics.standins.edge import BLOCK_PAGE, CHALLENGE_PAGE

JSON = "application/json"

PROVIDER_PATHS = {
    "statuspage": "api/v2/summary.json",
    "incidentio": "api/v1/summary",
    "instatus": "summary.json",
    "betterstack": "index.json",
    "cloudflare": "api/v3/summary",
}
FEED_PATHS = {"atom": "history.atom", "rss": "history.rss"}
STATES = ("operational", "degraded", "outage", "maintenance")
MALFORMED = ("truncated", "html", "wrong-shape", "error500", "empty")
CLOUDFLARE = ("cloudflare-1020", "cloudflare-challenge")
# The Ray ID the Cloudflare answers carry, so a test can look for it in the result.
RAY_ID = "8f3a2b1c4d5e6f70"

Document = tuple[bytes, int, str, dict[str, str]]  # body, HTTP status, content type, headers

_PAGE = {
    "id": "kctbh9vrtdwd",
    "name": "Example",
    "url": "https://status.example.com",
    "time_zone": "Etc/UTC",
    "updated_at": "2026-01-01T00:00:00Z",
}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- Atlassian Statuspage ----------------------------------------------------------


def _sp_component(cid: str, name: str, status: str) -> dict[str, Any]:
    return {
        "id": cid,
        "name": name,
        "status": status,
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "position": int(cid),
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": _PAGE["id"],
        "group": False,
        "only_show_if_degraded": False,
    }


def _sp_incident(name: str, status: str, impact: str, component: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "inc1",
        "name": name,
        "status": status,
        "impact": impact,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:05:00Z",
        "monitoring_at": None,
        "resolved_at": None,
        "shortlink": "https://stspg.io/x",
        "started_at": "2026-01-01T00:00:00Z",
        "page_id": _PAGE["id"],
        "incident_updates": [
            {
                "id": "u1",
                "status": status,
                "body": "We are investigating.",
                "incident_id": "inc1",
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "display_at": "2026-01-01T00:00:00Z",
                "affected_components": [
                    {
                        "code": component["id"],
                        "name": component["name"],
                        "old_status": "operational",
                        "new_status": component["status"],
                    }
                ],
                "deliver_notifications": True,
            }
        ],
        "components": [
            {"id": component["id"], "name": component["name"], "status": component["status"]}
        ],
    }


def statuspage_summary(
    indicator: str,
    description: str,
    api_status: str,
    incident: tuple[str, str, str] | None = None,
    maintenance: str | None = None,
) -> dict[str, Any]:
    """A summary.json with an "API" and a "Website" component."""
    api = _sp_component("1", "API", api_status)
    components = [api, _sp_component("2", "Website", "operational")]
    incidents = [_sp_incident(*incident, component=api)] if incident else []
    maintenances = []
    if maintenance:
        maintenances.append(
            {
                "id": "m1",
                "name": "Database upgrade",
                "status": maintenance,
                "impact": "maintenance",
                "shortlink": "https://stspg.io/m",
                "scheduled_for": "2026-01-01T00:00:00Z",
                "scheduled_until": "2026-01-01T02:00:00Z",
                "incident_updates": [],
                "components": [{"id": "1", "name": "API", "status": api_status}],
            }
        )
    return {
        "page": _PAGE,
        "status": {"indicator": indicator, "description": description},
        "components": components,
        "incidents": incidents,
        "scheduled_maintenances": maintenances,
    }


def statuspage_documents() -> dict[str, Any]:
    return {
        "operational": statuspage_summary("none", "All Systems Operational", "operational"),
        "degraded": statuspage_summary(
            "minor",
            "Minor Service Outage",
            "degraded_performance",
            ("Slow API responses", "identified", "minor"),
        ),
        "outage": statuspage_summary(
            "critical",
            "Major System Outage",
            "major_outage",
            ("API unavailable", "investigating", "critical"),
        ),
        "maintenance": statuspage_summary(
            "maintenance",
            "Service Under Maintenance",
            "under_maintenance",
            maintenance="in_progress",
        ),
        # The reference sample: indicator "major" with a partial outage.
        "partial": statuspage_summary(
            "major",
            "Partial System Outage",
            "partial_outage",
            ("Elevated error rates", "investigating", "major"),
        ),
        # The headline lags: "minor" while a component is fully down.
        "blend-minor-major": statuspage_summary(
            "minor",
            "Minor Service Outage",
            "major_outage",
            ("Elevated error rates", "investigating", "minor"),
        ),
        # "All Systems Operational" while a component is already degraded.
        "blend-none-degraded": statuspage_summary(
            "none", "All Systems Operational", "degraded_performance"
        ),
    }


# --- incident.io ---------------------------------------------------------------------


def _incidentio_incident(impact: str, now: datetime) -> dict[str, Any]:
    return {
        "id": "01M1KWEDH417T2CF44YYHZDFCR",
        "name": "Elevated errors across the app",
        "status": "investigating",
        "url": "https://status.example.com/incidents/01M1KWEDH417T2CF44YYHZDFCR",
        "last_update_at": _iso(now),
        "last_update_message": "We are investigating.",
        "current_worst_impact": impact,
        "affected_components": [
            {
                "id": "01JMXCONV",
                "name": "Conversations",
                "group_name": "Web app",
                "current_status": impact,
            }
        ],
    }


def incidentio_documents(now: datetime) -> dict[str, Any]:
    empty: dict[str, Any] = {
        "ongoing_incidents": [],
        "in_progress_maintenances": [],
        "scheduled_maintenances": [],
    }
    maintenance = {
        "id": "01MAINT",
        "name": "Scheduled database maintenance",
        "status": "maintenance_in_progress",
        "url": "https://status.example.com/incidents/01MAINT",
        "starts_at": _iso(now - timedelta(minutes=30)),
        "ends_at": _iso(now + timedelta(minutes=30)),
        "affected_components": [{"id": "01JMXFILES", "name": "File uploads"}],
    }
    return {
        "operational": empty,
        "degraded": {
            **empty,
            "ongoing_incidents": [_incidentio_incident("degraded_performance", now)],
        },
        "outage": {**empty, "ongoing_incidents": [_incidentio_incident("full_outage", now)]},
        "maintenance": {**empty, "in_progress_maintenances": [maintenance]},
        "partial": {**empty, "ongoing_incidents": [_incidentio_incident("partial_outage", now)]},
    }


# --- Instatus ------------------------------------------------------------------------


def instatus_documents() -> dict[str, Any]:
    def page(status: str) -> dict[str, Any]:
        return {"name": "Instatus", "url": "https://instat.us", "status": status}

    def incident(impact: str) -> dict[str, Any]:
        return {
            "name": "We're facing an issue with our API",
            "started": "Sat Jun 11 2022 18:55:50 GMT+0000 (Coordinated Universal Time)",
            "status": "INVESTIGATING",
            "impact": impact,
            "url": "https://x.instatus.com/incident/cl4a",
        }

    return {
        "operational": {"page": page("UP"), "activeIncidents": [], "activeMaintenances": []},
        "degraded": {
            "page": page("HASISSUES"),
            "activeIncidents": [incident("DEGRADEDPERFORMANCE")],
            "activeMaintenances": [],
        },
        "outage": {
            "page": page("HASISSUES"),
            "activeIncidents": [incident("MAJOROUTAGE")],
            "activeMaintenances": [],
        },
        "maintenance": {
            "page": page("UNDERMAINTENANCE"),
            "activeIncidents": [],
            "activeMaintenances": [
                {
                    "name": "Upgrading the database",
                    "start": "Sat Jun 11 2022 18:55:50 GMT+0000 (Coordinated Universal Time)",
                    "status": "INPROGRESS",
                    "duration": "60",
                    "url": "https://x.instatus.com/maintenance/cl4b",
                }
            ],
        },
    }


# --- Better Stack --------------------------------------------------------------------


def betterstack_documents() -> dict[str, Any]:
    def page(aggregate: str, resource: str, report: dict[str, Any] | None) -> dict[str, Any]:
        included: list[dict[str, Any]] = [
            {
                "type": "status_page_resource",
                "id": "1",
                "attributes": {
                    "public_name": "API",
                    "availability": 0.9991,
                    "status": resource,
                    "status_history": [
                        {
                            "day": "2026-01-01",
                            "status": "downtime",
                            "downtime_duration": 600,
                            "maintenance_duration": 0,
                        }
                    ],
                },
            },
            {
                "type": "status_report",
                "id": "8",
                "attributes": {
                    "aggregate_state": "resolved",
                    "title": "Yesterday's API errors",
                    "starts_at": "2026-01-01T00:00:00Z",
                },
            },
        ]
        if report:
            included.append({"type": "status_report", "id": "9", "attributes": report})
        return {"data": {"attributes": {"aggregate_state": aggregate}}, "included": included}

    return {
        "operational": page("operational", "operational", None),
        "degraded": page(
            "degraded",
            "degraded",
            {"aggregate_state": "degraded", "title": "API slow", "starts_at": "2026-01-01"},
        ),
        "outage": page(
            "downtime",
            "downtime",
            {"aggregate_state": "downtime", "title": "API errors", "starts_at": "2026-01-01"},
        ),
        "maintenance": page(
            "maintenance",
            "maintenance",
            {
                "aggregate_state": "maintenance",
                "report_type": "maintenance",
                "title": "Planned upgrade",
                "starts_at": "2026-01-01",
            },
        ),
    }


# --- Cloudflare status v3 --------------------------------------------------------------


def cloudflare_documents(now: datetime) -> dict[str, Any]:
    def summary(
        status: str,
        impact: str | None = None,
        maintenance: bool = False,
    ) -> dict[str, Any]:
        incidents = []
        if impact:
            incidents.append(
                {
                    "id": "i1",
                    "name": "Elevated 5xx",
                    "status": "investigating",
                    "impact": impact,
                    "created_at": _iso(now),
                    "starts_at": _iso(now),
                    "resolved_at": None,
                    "components": [{"id": "c1", "name": "Cloudflare Sites and Services"}],
                    "last_update": {
                        "status": "investigating",
                        "message": "We are investigating.",
                        "display_at": _iso(now),
                        "created_at": _iso(now),
                    },
                }
            )
        result: dict[str, Any] = {
            "components": [
                {"id": "c1", "name": "Cloudflare Sites and Services", "status": status},
                {"id": "c2", "name": "Dashboard", "status": "operational"},
            ],
            "active_incidents": incidents,
            "recent_incidents": [
                {
                    "id": "i0",
                    "name": "Resolved earlier",
                    "status": "resolved",
                    "impact": "minor",
                    "resolved_at": _iso(now - timedelta(days=1)),
                }
            ],
        }
        if maintenance:
            result["active_maintenances"] = [
                {"id": "m1", "name": "Scheduled maintenance in SIN", "status": "in_progress"}
            ]
        return {"success": True, "result": result}

    return {
        "operational": summary("operational"),
        "degraded": summary("degraded_performance", "minor"),
        "outage": summary("major_outage", "critical"),
        "maintenance": summary("under_maintenance", maintenance=True),
    }


# --- feeds ---------------------------------------------------------------------------

_FEED_CASES: dict[str, list[tuple[str, str, str, timedelta]]] = {
    # state: entries of (title, status word, affected impact text, age)
    "operational": [
        ("Elevated errors across the app", "Resolved", "Partial outage", timedelta(hours=2)),
        # Never marked resolved, but weeks old: forgotten, not ongoing.
        ("Login problems", "Investigating", "Degraded performance", timedelta(days=40)),
    ],
    "degraded": [
        ("Slow responses in Search", "Investigating", "Degraded performance", timedelta(hours=1)),
        ("Elevated errors across the app", "Resolved", "Partial outage", timedelta(days=1)),
    ],
    "outage": [
        ("App unavailable", "Investigating", "Full outage", timedelta(minutes=20)),
    ],
    "maintenance": [
        ("Scheduled maintenance of file uploads", "In progress", "", timedelta(minutes=10)),
    ],
}


def _feed_html(status: str, component: str, impact: str) -> str:
    affected = (
        f"<b>Affected components</b><ul><li>{component} ({impact})</li></ul>" if impact else ""
    )
    return f"<b>Status: {status}</b><br/><br/>We are on it.<br/><br/>{affected}"


def atom_feed(state: str, now: datetime) -> bytes:
    entries = []
    for index, (title, status, impact, age) in enumerate(_FEED_CASES[state]):
        url = f"https://status.example.com//incidents/01M{index:04d}"
        entries.append(
            "<entry>"
            f'<title type="html"><![CDATA[{title}]]></title>'
            f"<id>{url}</id>"
            f'<link href="{url}"/>'
            f"<updated>{_iso(now - age)}</updated>"
            f'<summary type="html"><![CDATA[{_feed_html(status, "Search", impact)}]]></summary>'
            "</entry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Example status</title>'
        "<generator>incident.io</generator>" + "".join(entries) + "</feed>"
    ).encode()


def rss_feed(state: str, now: datetime) -> bytes:
    from email.utils import format_datetime

    items = []
    for index, (title, status, _impact, age) in enumerate(_FEED_CASES[state]):
        url = f"https://status.example.com/incidents/rss{index}"
        stamp = format_datetime(now - age)
        # Statuspage's RSS: newest update first, its status in <strong>.
        description = (
            f"&lt;p&gt;&lt;small&gt;{stamp}&lt;/small&gt;&lt;br&gt;&lt;strong&gt;{status}"
            "&lt;/strong&gt; - We are on it.&lt;/p&gt;"
        )
        items.append(
            f"<item><title>{title}</title><description>{description}</description>"
            f"<pubDate>{stamp}</pubDate><link>{url}</link><guid>{url}</guid></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Example status</title><link>https://status.example.com</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


# --- assembling the site ---------------------------------------------------------------


def _malformed(good: bytes) -> dict[str, Document]:
    return {
        "truncated": (good[: len(good) // 2], 200, JSON, {}),
        "html": (
            b"<!DOCTYPE html><html><head><title>Example status</title></head>"
            b"<body><h1>All Systems Operational</h1></body></html>",
            200,
            "text/html; charset=utf-8",
            {},
        ),
        "wrong-shape": (b'{"message": "hello", "items": [1, 2, 3]}', 200, JSON, {}),
        "error500": (b'{"error": "internal"}', 500, JSON, {}),
        "empty": (b"", 200, JSON, {}),
    }


def _cloudflare_answers() -> dict[str, Document]:
    """What a status page behind Cloudflare sends a request its rules turn away."""
    html = "text/html; charset=UTF-8"
    headers = {"Server": "cloudflare", "CF-RAY": f"{RAY_ID}-SEA"}
    block = BLOCK_PAGE.format(host="status.example.com", code="1020", ray=RAY_ID)
    challenge = CHALLENGE_PAGE.format(host="status.example.com", ray=RAY_ID)
    return {
        "cloudflare-1020": (block.encode(), 403, html, headers),
        "cloudflare-challenge": (
            challenge.encode(),
            403,
            html,
            {**headers, "cf-mitigated": "challenge"},
        ),
    }


def build_documents(now: datetime | None = None) -> dict[str, Document]:
    """Every path the server answers, with the body it serves."""
    now = now or datetime.now(UTC)
    per_provider = {
        "statuspage": statuspage_documents(),
        "incidentio": incidentio_documents(now),
        "instatus": instatus_documents(),
        "betterstack": betterstack_documents(),
        "cloudflare": cloudflare_documents(now),
    }
    documents: dict[str, Document] = {}
    for provider, states in per_provider.items():
        suffix = PROVIDER_PATHS[provider]
        for state, data in states.items():
            body = json.dumps(data).encode()
            documents[f"/{provider}/{state}/{suffix}"] = (body, 200, JSON, {})
        good = json.dumps(states["outage"]).encode()
        for state, document in {**_malformed(good), **_cloudflare_answers()}.items():
            documents[f"/{provider}/{state}/{suffix}"] = document
    for fmt, suffix in FEED_PATHS.items():
        render = atom_feed if fmt == "atom" else rss_feed
        content_type = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
        for state in STATES:
            body = render(state, now)
            documents[f"/feed/{fmt}-{state}/{suffix}"] = (body, 200, content_type, {})
        # Short names used in docs and demos.
        documents[f"/feed/{fmt}-ok/{suffix}"] = documents[f"/feed/{fmt}-operational/{suffix}"]
        documents[f"/feed/{fmt}-incident/{suffix}"] = documents[f"/feed/{fmt}-outage/{suffix}"]
        documents[f"/feed/{fmt}-html/{suffix}"] = _malformed(b"")["html"]
        cut = body[: len(body) // 2]
        documents[f"/feed/{fmt}-truncated/{suffix}"] = (cut, 200, content_type, {})
    return documents


class StatusPageServer:
    """Context manager: ``with StatusPageServer() as server: server.url("/statuspage/...")``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.documents = build_documents()
        self._lock = threading.Lock()
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "StatusPageStandIn/1.0"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with owner._lock:
                    owner.requests.append(path)
                    document = owner.documents.get(path)
                missing: Document = (b'{"error": "not found"}', 404, JSON, {})
                body, status, content_type, headers = document or missing
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # Keep test output quiet; requests are recorded instead.

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def set(
        self,
        path: str,
        body: bytes,
        status: int = 200,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve ``body`` at ``path`` from now on; returns its full URL."""
        with self._lock:
            self.documents[path] = (body, status, content_type, dict(headers or {}))
        return self.url(path)

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self.documents)

    def start(self) -> StatusPageServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StatusPageServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve stand-in status pages on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--list", action="store_true", help="print every served path first")
    args = parser.parse_args(argv)
    server = StatusPageServer(args.host, args.port)
    if args.list:
        for path in server.paths():
            print(server.url(path))
    print(f"Serving status pages on {server.base_url} (Ctrl-C to stop)")
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    main()
