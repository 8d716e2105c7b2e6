from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from diagnostics.probes.http import HttpConfig
from diagnostics.probes.result import Outcome, ProbeResult
from diagnostics.probes.safety import AddressPolicy
from diagnostics.probes.statuspages import (
    PROVIDERS,
    StatusFormatError,
    detect_provider,
    parse_betterstack,
    parse_cloudflare_v3,
    parse_feed,
    parse_incidentio,
    parse_instatus,
    parse_statuspage_v2,
    probe_status_page,
)
from diagnostics.standins.statuspage import (
    FEED_PATHS,
    MALFORMED,
    PROVIDER_PATHS,
    RAY_ID,
    STATES,
    StatusPageServer,
    atom_feed,
)

CONFIG = HttpConfig(timeout=2, deadline=4, policy=AddressPolicy(allow_loopback=True))

EXPECTED = {
    "operational": (Outcome.OK, "operational"),
    "degraded": (Outcome.DEGRADED, "degraded"),
    "outage": (Outcome.DOWN, "major_outage"),
    "maintenance": (Outcome.MAINTENANCE, "maintenance"),
}


def probe(url: str, provider: str | None = None, config: HttpConfig = CONFIG) -> ProbeResult:
    return asyncio.run(probe_status_page(url, provider, config))


def provider_url(server: StatusPageServer, provider: str, state: str) -> str:
    return server.url(f"/{provider}/{state}/{PROVIDER_PATHS[provider]}")


# --- every provider in every state, through real HTTP --------------------------------------


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("provider", sorted(PROVIDER_PATHS))
def test_it_reads_each_provider_in_each_state(
    status_server: StatusPageServer, provider: str, state: str
) -> None:
    result = probe(provider_url(status_server, provider, state), provider)

    outcome, expected_state = EXPECTED[state]
    assert result.probe == "status"
    assert (result.outcome, result.evidence["state"]) == (outcome, expected_state)
    assert result.evidence["provider"] == provider
    assert result.latency_ms is not None
    json.dumps(result.to_dict())  # evidence must be storable as JSON
    if state == "operational":
        assert result.evidence["components"] == []
        assert result.evidence["incidents"] == []
        assert "all systems operational" in result.summary
    if state in ("degraded", "outage"):
        assert result.evidence["incidents"], "an open incident is listed"
        incident = result.evidence["incidents"][0]
        assert set(incident) == {"name", "status", "impact", "url"}
        assert incident["name"] in result.summary
    if state == "maintenance":
        assert "maintenance" in result.summary
        assert any(m["active"] for m in result.evidence["maintenances"])


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("fmt", sorted(FEED_PATHS))
def test_it_reads_feeds_in_each_state(
    status_server: StatusPageServer, fmt: str, state: str
) -> None:
    result = probe(status_server.url(f"/feed/{fmt}-{state}/{FEED_PATHS[fmt]}"), "feed")

    outcome, expected_state = EXPECTED[state]
    if fmt == "rss" and state == "outage":
        # Statuspage's RSS says an incident is open but not how bad it is:
        # an unknown impact is reported as degraded, never guessed as down.
        outcome, expected_state = Outcome.DEGRADED, "degraded"
    assert (result.outcome, result.evidence["state"]) == (outcome, expected_state)


def test_it_detects_every_provider_from_the_answer(status_server: StatusPageServer) -> None:
    for provider in sorted(PROVIDER_PATHS):
        result = probe(provider_url(status_server, provider, "degraded"))
        assert result.evidence["provider"] == provider
    result = probe(status_server.url("/feed/atom-degraded/history.atom"))
    assert result.evidence["provider"] == "feed"


def test_it_detects_a_statuspage_summary_at_a_custom_path(status_server: StatusPageServer) -> None:
    body = json.dumps({"status": {"indicator": "none", "description": "Fine"}, "page": {}}).encode()
    url = status_server.set("/custom-detect/whatever", body)

    result = probe(url)

    assert result.evidence["provider"] == "statuspage"
    assert result.outcome is Outcome.OK


# --- the indicator is a blend ---------------------------------------------------------------


def test_a_minor_indicator_with_a_component_down_is_a_major_outage(
    status_server: StatusPageServer,
) -> None:
    result = probe(provider_url(status_server, "statuspage", "blend-minor-major"), "statuspage")

    assert result.outcome is Outcome.DOWN
    assert result.evidence["state"] == "major_outage"
    assert result.evidence["description"] == "Minor Service Outage"
    assert result.evidence["components"] == [{"name": "API", "status": "major_outage"}]


def test_a_quiet_indicator_with_a_degraded_component_is_degraded(
    status_server: StatusPageServer,
) -> None:
    result = probe(provider_url(status_server, "statuspage", "blend-none-degraded"), "statuspage")

    assert result.outcome is Outcome.DEGRADED
    assert result.evidence["state"] == "degraded"
    assert "API" in result.summary


def test_the_reference_sample_is_a_partial_outage(status_server: StatusPageServer) -> None:
    result = probe(provider_url(status_server, "statuspage", "partial"), "statuspage")

    assert result.outcome is Outcome.DEGRADED
    assert result.evidence["state"] == "partial_outage"
    assert result.evidence["incidents"] == [
        {
            "name": "Elevated error rates",
            "status": "investigating",
            "impact": "partial_outage",
            "url": "https://stspg.io/x",
        }
    ]


def test_an_outage_outranks_maintenance() -> None:
    data = _statuspage(
        "maintenance",
        [("API", "major_outage"), ("Web", "under_maintenance")],
        maintenances=[{"name": "Upgrade", "status": "in_progress"}],
    )

    assert parse_statuspage_v2(data).state == "major_outage"


def test_maintenance_outranks_a_degraded_component() -> None:
    data = _statuspage(
        "minor",
        [("API", "degraded_performance")],
        maintenances=[{"name": "Upgrade", "status": "in_progress"}],
    )

    assert parse_statuspage_v2(data).state == "maintenance"


def test_scheduled_maintenance_does_not_change_the_state() -> None:
    data = _statuspage(
        "none",
        [("API", "operational")],
        maintenances=[{"name": "Later", "status": "scheduled"}],
    )

    report = parse_statuspage_v2(data)

    assert report.state == "operational"
    assert report.maintenances[0]["active"] is False


# --- answers that are not what we expected --------------------------------------------------

MALFORMED_SUMMARIES = {
    "truncated": "JSON is cut short",
    "html": "answered with HTML, not the JSON summary expected",
    "wrong-shape": "is JSON but not",
    "error500": "answered HTTP 500",
    "empty": "empty body",
}


@pytest.mark.parametrize("case", MALFORMED)
@pytest.mark.parametrize("provider", sorted(PROVIDER_PATHS))
def test_it_explains_a_malformed_answer(
    status_server: StatusPageServer, provider: str, case: str
) -> None:
    result = probe(provider_url(status_server, provider, case), provider)

    assert result.outcome is Outcome.ERROR
    assert MALFORMED_SUMMARIES[case] in result.summary
    assert "state" not in result.evidence


@pytest.mark.parametrize("fmt", sorted(FEED_PATHS))
def test_it_explains_a_broken_feed(status_server: StatusPageServer, fmt: str) -> None:
    html = probe(status_server.url(f"/feed/{fmt}-html/{FEED_PATHS[fmt]}"))
    truncated = probe(status_server.url(f"/feed/{fmt}-truncated/{FEED_PATHS[fmt]}"), "feed")

    assert html.outcome is Outcome.ERROR
    assert "HTML, not the RSS/Atom feed expected" in html.summary
    assert truncated.outcome is Outcome.ERROR
    assert "not well-formed XML" in truncated.summary


def test_it_reads_a_feed_where_json_was_configured_and_says_so(
    status_server: StatusPageServer,
) -> None:
    result = probe(status_server.url("/feed/atom-outage/history.atom"), "statuspage")

    assert result.outcome is Outcome.DOWN
    assert result.evidence["provider"] == "feed"
    assert result.evidence["configured_provider"] == "statuspage"
    assert "Set up as Statuspage, but the page is in status feed's format" in result.summary


@pytest.mark.parametrize(
    ("configured", "served"),
    [("statuspage", "instatus"), ("incidentio", "betterstack"), ("instatus", "cloudflare")],
)
def test_it_falls_back_to_detection_when_the_configured_format_does_not_match(
    status_server: StatusPageServer, configured: str, served: str
) -> None:
    result = probe(provider_url(status_server, served, "outage"), configured)

    assert result.outcome is Outcome.DOWN
    assert result.evidence["state"] == "major_outage"
    assert result.evidence["provider"] == served
    assert result.evidence["configured_provider"] == configured
    assert "format: read as that" in result.evidence["format_note"]
    assert result.evidence["format_note"] in result.summary


def test_it_adds_no_note_when_the_configured_format_matches(
    status_server: StatusPageServer,
) -> None:
    result = probe(provider_url(status_server, "instatus", "outage"), "instatus")

    assert "format_note" not in result.evidence
    assert "Set up as" not in result.summary


def test_it_keeps_the_configured_formats_complaint_when_nothing_else_fits(
    status_server: StatusPageServer,
) -> None:
    url = status_server.set("/custom-nothing/api/v2/summary.json", b'{"hello": "world"}')

    result = probe(url, "statuspage")

    assert result.outcome is Outcome.ERROR
    assert "format_note" not in result.evidence


@pytest.mark.parametrize("provider", sorted(PROVIDER_PATHS))
def test_it_keeps_code_and_ray_id_of_a_cloudflare_block_on_the_status_page(
    status_server: StatusPageServer, provider: str
) -> None:
    result = probe(provider_url(status_server, provider, "cloudflare-1020"), provider)

    assert result.outcome is Outcome.BLOCKED
    cloudflare = result.evidence["cloudflare"]
    assert (cloudflare["kind"], cloudflare["code"]) == ("block", "1020")
    assert (cloudflare["ray_id"], cloudflare["colo"]) == (RAY_ID, "SEA")
    assert "1020" in result.summary
    assert RAY_ID in result.summary


def test_it_keeps_the_ray_id_of_a_cloudflare_challenge_on_the_status_page(
    status_server: StatusPageServer,
) -> None:
    result = probe(provider_url(status_server, "statuspage", "cloudflare-challenge"))

    assert result.outcome is Outcome.CHALLENGED
    assert result.evidence["cloudflare"]["kind"] == "challenge"
    assert result.evidence["cloudflare"]["ray_id"] == RAY_ID
    assert RAY_ID in result.summary
    assert "browser check" in result.summary


@pytest.mark.parametrize("provider", sorted(PROVIDER_PATHS))
def test_it_reports_maintenance_as_its_own_outcome(
    status_server: StatusPageServer, provider: str
) -> None:
    result = probe(provider_url(status_server, provider, "maintenance"), provider)

    assert result.outcome is Outcome.MAINTENANCE
    assert result.outcome is not Outcome.DEGRADED
    assert result.evidence["state"] == "maintenance"


def test_it_explains_malformed_json_that_is_complete(status_server: StatusPageServer) -> None:
    url = status_server.set("/custom-bad-json/api/v2/summary.json", b'{"status": {,}}')

    result = probe(url, "statuspage")

    assert result.outcome is Outcome.ERROR
    assert "JSON is malformed" in result.summary
    assert "line 1" in result.summary


def test_it_explains_json_of_no_known_format(status_server: StatusPageServer) -> None:
    url = status_server.set("/custom-unknown/data", b'{"hello": "world"}')

    result = probe(url)

    assert result.outcome is Outcome.ERROR
    assert "not a status page format we know" in result.summary


def test_it_explains_a_missing_page(status_server: StatusPageServer) -> None:
    result = probe(status_server.url("/nowhere/api/v2/summary.json"), "statuspage")

    assert result.outcome is Outcome.ERROR
    assert "HTTP 404" in result.summary
    assert result.evidence["http_status"] == 404


def test_it_will_not_parse_an_answer_cut_off_at_the_size_cap(
    status_server: StatusPageServer,
) -> None:
    config = replace(CONFIG, max_body_bytes=100)

    result = probe(provider_url(status_server, "statuspage", "outage"), "statuspage", config)

    assert result.outcome is Outcome.ERROR
    assert "larger than" in result.summary


def test_it_rejects_an_unknown_provider_name(status_server: StatusPageServer) -> None:
    result = probe(provider_url(status_server, "statuspage", "operational"), "pagerduty")

    assert result.outcome is Outcome.ERROR
    assert "Unknown status page provider" in result.summary


def test_it_serves_documents_set_at_runtime(status_server: StatusPageServer) -> None:
    data = _statuspage("critical", [("Login", "major_outage")])
    url = status_server.set("/custom-runtime/api/v2/summary.json", json.dumps(data).encode())

    result = probe(url, "statuspage")

    assert result.outcome is Outcome.DOWN
    assert result.evidence["components"] == [{"name": "Login", "status": "major_outage"}]


def test_it_says_when_the_status_page_cannot_be_reached() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

    result = probe(f"http://127.0.0.1:{port}/api/v2/summary.json", "statuspage")

    # An unreachable status page says nothing about the service: an error, not "down".
    assert result.outcome is Outcome.ERROR
    assert "could not be read" in result.summary


def test_it_times_out_on_a_status_page_that_never_answers() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        config = replace(CONFIG, timeout=0.3, deadline=1)
        result = probe(f"http://127.0.0.1:{port}/api/v2/summary.json", "statuspage", config)

    assert result.outcome is Outcome.TIMEOUT


def test_it_refuses_a_status_page_on_loopback_by_default(status_server: StatusPageServer) -> None:
    config = replace(CONFIG, policy=AddressPolicy())
    path = "/statuspage/operational/api/v2/summary.json"
    before = status_server.requests.count(path)

    result = probe(status_server.url(path), None, config)

    assert result.outcome is Outcome.ERROR
    assert "not allowed" in result.summary
    assert status_server.requests.count(path) == before


# --- parsers over inline documents ----------------------------------------------------------


def _statuspage(
    indicator: str,
    components: list[tuple[str, str]],
    incidents: list[dict[str, Any]] | None = None,
    maintenances: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "page": {"id": "p", "name": "Example"},
        "status": {"indicator": indicator, "description": "As the page says"},
        "components": [
            {"id": str(i), "name": n, "status": s} for i, (n, s) in enumerate(components)
        ],
        "incidents": incidents or [],
        "scheduled_maintenances": maintenances or [],
    }


SAMPLE_STATUSPAGE = {
    "page": {"id": "kctbh9vrtdwd", "name": "Example", "url": "https://status.example.com"},
    "status": {"indicator": "major", "description": "Partial System Outage"},
    "components": [{"id": "01", "name": "API", "status": "partial_outage", "group": False}],
    "incidents": [
        {
            "id": "inc1",
            "name": "Elevated error rates",
            "status": "investigating",
            "impact": "major",
            "shortlink": "https://stspg.io/x",
            "incident_updates": [],
            "components": [{"id": "01", "name": "API", "status": "partial_outage"}],
        },
        {"id": "inc0", "name": "Old", "status": "resolved", "impact": "minor"},
    ],
    "scheduled_maintenances": [],
}


def test_parse_statuspage_reads_the_reference_sample() -> None:
    report = parse_statuspage_v2(SAMPLE_STATUSPAGE)

    assert report.provider == "statuspage"
    assert report.state == "partial_outage"
    assert report.description == "Partial System Outage"
    assert report.components == [{"name": "API", "status": "partial_outage"}]
    assert [i["name"] for i in report.incidents] == ["Elevated error rates"]


def test_parse_statuspage_reads_status_json_and_unresolved_json() -> None:
    status_only = {"page": {}, "status": {"indicator": "critical", "description": "Major"}}
    unresolved = {
        "page": {},
        "incidents": [{"name": "Down", "status": "identified", "impact": "critical"}],
    }

    assert parse_statuspage_v2(status_only).state == "major_outage"
    assert parse_statuspage_v2(unresolved).state == "major_outage"


def test_parse_incidentio_reads_the_reference_sample() -> None:
    data = {
        "ongoing_incidents": [
            {
                "id": "01M1",
                "name": "Elevated errors across ChatGPT",
                "status": "investigating",
                "url": "https://status.example.com/incidents/01M1",
                "current_worst_impact": "partial_outage",
                "affected_components": [
                    {
                        "id": "c",
                        "name": "Conversations",
                        "group_name": "ChatGPT",
                        "current_status": "partial_outage",
                    }
                ],
            }
        ],
        "in_progress_maintenances": [],
        "scheduled_maintenances": [{"name": "Later", "status": "scheduled"}],
    }

    report = parse_incidentio(data)

    assert report.state == "partial_outage"
    assert report.components == [{"name": "Conversations", "status": "partial_outage"}]
    assert report.incidents[0]["url"] == "https://status.example.com/incidents/01M1"
    assert report.maintenances[0]["active"] is False


def test_parse_instatus_blends_page_status_and_incident_impact() -> None:
    data = {
        "page": {"name": "Instatus", "url": "https://instat.us", "status": "HASISSUES"},
        "activeIncidents": [
            {
                "name": "API issue",
                "status": "INVESTIGATING",
                "impact": "MAJOROUTAGE",
                "url": "https://x.instatus.com/incident/1",
            }
        ],
        "activeMaintenances": [],
    }

    report = parse_instatus(data)

    assert report.state == "major_outage"
    assert report.incidents == [
        {
            "name": "API issue",
            "status": "investigating",
            "impact": "major_outage",
            "url": "https://x.instatus.com/incident/1",
        }
    ]


def test_parse_instatus_ignores_maintenance_not_started_yet() -> None:
    data = {
        "page": {"status": "UP"},
        "activeIncidents": [],
        "activeMaintenances": [{"name": "Tonight", "status": "NOTSTARTEDYET"}],
    }

    assert parse_instatus(data).state == "operational"


def test_parse_betterstack_reads_the_reference_sample() -> None:
    data = {
        "data": {"attributes": {"aggregate_state": "degraded"}},
        "included": [
            {
                "type": "status_page_resource",
                "id": "1",
                "attributes": {"availability": 0.9991, "status": "degraded"},
            },
            {
                "type": "status_report",
                "id": "9",
                "attributes": {"aggregate_state": "resolved", "title": "API errors"},
            },
        ],
    }

    report = parse_betterstack(data)

    assert report.state == "degraded"
    assert report.components == [{"name": "Resource 1", "status": "degraded"}]
    assert report.incidents == []


def test_parse_betterstack_reads_page_wide_downtime_as_partial() -> None:
    data = {"data": {"attributes": {"aggregate_state": "downtime"}}, "included": []}

    assert parse_betterstack(data).state == "partial_outage"


def test_parse_cloudflare_reads_the_reference_sample() -> None:
    data = {
        "success": True,
        "result": {
            "components": [
                {"id": "c1", "name": "Cloudflare Sites and Services", "status": "operational"}
            ],
            "active_incidents": [
                {
                    "id": "i1",
                    "name": "Elevated 5xx",
                    "status": "investigating",
                    "impact": "major",
                    "resolved_at": None,
                }
            ],
            "recent_incidents": [],
        },
    }

    report = parse_cloudflare_v3(data)

    assert report.state == "partial_outage"
    assert report.incidents[0]["impact"] == "partial_outage"


def test_parse_cloudflare_refuses_an_unsuccessful_answer() -> None:
    with pytest.raises(StatusFormatError, match="success: false"):
        parse_cloudflare_v3({"success": False, "errors": [], "result": None})


NOW = datetime(2026, 9, 3, 16, 0, tzinfo=UTC)

SAMPLE_ATOM = (
    b'<feed xmlns="http://www.w3.org/2005/Atom"><title>OpenAI status</title>'
    b"<generator>incident.io</generator>"
    b'<entry><title type="html"><![CDATA[Elevated errors across ChatGPT and Codex]]></title>'
    b"<id>https://status.openai.com//incidents/01M1KWEDH417T2CF44YYHZDFCR</id>"
    b'<link href="https://status.openai.com//incidents/01M1KWEDH417T2CF44YYHZDFCR"/>'
    b"<updated>2026-09-03T14:58:23.907Z</updated>"
    b'<summary type="html"><![CDATA[<b>Status: Investigating</b><br/><br/>'
    b"We are investigating.<br/><br/><b>Affected components</b>"
    b"<ul><li>Search (Degraded performance)</li></ul>]]></summary>"
    b"</entry></feed>"
)


def test_parse_feed_reads_the_reference_atom_sample() -> None:
    report = parse_feed(SAMPLE_ATOM, now=NOW)

    assert report.provider == "feed"
    assert report.state == "degraded"
    assert report.incidents == [
        {
            "name": "Elevated errors across ChatGPT and Codex",
            "status": "investigating",
            "impact": "degraded",
            "url": "https://status.openai.com//incidents/01M1KWEDH417T2CF44YYHZDFCR",
        }
    ]
    assert report.components == [{"name": "Search", "status": "degraded"}]


def test_parse_feed_ignores_old_unresolved_entries() -> None:
    report = parse_feed(SAMPLE_ATOM, now=NOW + timedelta(days=30))

    assert report.state == "operational"
    assert report.incidents == []


def test_parse_feed_ignores_resolved_and_completed_entries() -> None:
    resolved = SAMPLE_ATOM.replace(b"Status: Investigating", b"Status: Resolved")
    completed = SAMPLE_ATOM.replace(b"Status: Investigating", b"Status: Completed")

    assert parse_feed(resolved, now=NOW).incidents == []
    assert parse_feed(completed, now=NOW).incidents == []


def test_parse_feed_reads_statuspage_rss() -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Example</title>'
        b"<item><title>API errors</title><description>"
        b"&lt;p&gt;&lt;small&gt;Sep  3, 15:40 UTC&lt;/small&gt;&lt;br&gt;"
        b"&lt;strong&gt;Identified&lt;/strong&gt; - Fix on the way.&lt;/p&gt;"
        b"&lt;p&gt;&lt;small&gt;Sep  3, 15:00 UTC&lt;/small&gt;&lt;br&gt;"
        b"&lt;strong&gt;Investigating&lt;/strong&gt; - Looking.&lt;/p&gt;</description>"
        b"<pubDate>Thu, 03 Sep 2026 15:40:00 +0000</pubDate>"
        b"<link>https://status.example.com/incidents/x</link></item>"
        b"<item><title>Yesterday</title>"
        b"<description>&lt;strong&gt;Resolved&lt;/strong&gt; - Done.</description>"
        b"<pubDate>Wed, 02 Sep 2026 10:00:00 +0000</pubDate>"
        b"<link>https://status.example.com/incidents/y</link></item>"
        b"</channel></rss>"
    )

    report = parse_feed(rss, now=NOW)

    assert [(i["name"], i["status"]) for i in report.incidents] == [("API errors", "identified")]
    assert report.state == "degraded"


def test_parse_feed_reads_the_test_servers_atom_states() -> None:
    assert parse_feed(atom_feed("outage", NOW), now=NOW).state == "major_outage"
    assert parse_feed(atom_feed("maintenance", NOW), now=NOW).state == "maintenance"
    assert parse_feed(atom_feed("operational", NOW), now=NOW).state == "operational"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"", "empty"),
        (b"<html><body>hi</body></html>", "HTML"),
        (b"<?xml version='1.0'?><urlset/>", "not an RSS or Atom feed"),
        (b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><rss/>', "DTD"),
        (b"<feed><entry>", "not well-formed"),
    ],
)
def test_parse_feed_refuses_documents_that_are_not_feeds(document: bytes, message: str) -> None:
    with pytest.raises(StatusFormatError, match=message):
        parse_feed(document, now=NOW)


# --- XML safety and the feed dialects feedparser reads ---------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]><rss><channel><title>&lol9;</title></channel></rss>"
)


@pytest.mark.parametrize(
    "document",
    [
        BILLION_LAUGHS,
        # An external entity: the classic way to make a parser read a local file.
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><title>&x;</title></channel></rss>",
        # A parameter entity pulled from outside, no general entity at all.
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd">'
        b"%p;]><rss/>",
        # A DTD further in than the first 2 KB a substring search used to read.
        b'<?xml version="1.0"?><!--' + b" " * 4096 + b'--><!DOCTYPE rss SYSTEM "x.dtd"><rss/>',
    ],
    ids=["billion-laughs", "external-entity", "parameter-entity", "late-dtd"],
)
def test_parse_feed_refuses_every_dtd_by_the_xml_parser_itself(document: bytes) -> None:
    with pytest.raises(StatusFormatError, match="DTD or entities"):
        parse_feed(document, now=NOW)


def test_an_entity_name_in_text_is_not_mistaken_for_a_declaration() -> None:
    # A substring search for "<!ENTITY" refused this harmless feed; the parser reads it.
    atom = SAMPLE_ATOM.replace(
        b"We are investigating.", b"We are investigating &lt;!ENTITY reports&gt; in logs."
    )
    assert parse_feed(atom, now=NOW).state == "degraded"


def test_a_feed_that_reads_as_a_url_is_never_fetched() -> None:
    # feedparser fetches a *string* that looks like a URL; the parser hands it a stream.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        with pytest.raises(StatusFormatError, match="not well-formed"):
            parse_feed(f"http://127.0.0.1:{port}/feed.atom".encode(), now=NOW)
        with pytest.raises(TimeoutError):
            listener.accept()


def test_parse_feed_reads_rss_1_0() -> None:
    rdf = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b'<channel rdf:about="https://status.example.com/"><title>Example</title></channel>'
        b'<item rdf:about="https://status.example.com/incidents/r1"><title>Login failures</title>'
        b"<link>https://status.example.com/incidents/r1</link>"
        b"<description>&lt;strong&gt;Investigating&lt;/strong&gt; - Looking.</description>"
        b"<dc:date>2026-09-03T15:30:00Z</dc:date></item></rdf:RDF>"
    )
    report = parse_feed(rdf, now=NOW)
    assert [(i["name"], i["status"], i["url"]) for i in report.incidents] == [
        ("Login failures", "investigating", "https://status.example.com/incidents/r1")
    ]
    # Dated by dc:date: a month later it is an old, forgotten entry.
    assert parse_feed(rdf, now=NOW + timedelta(days=30)).incidents == []


def test_parse_feed_reads_atom_content_when_there_is_no_summary() -> None:
    atom = SAMPLE_ATOM.replace(b"<summary ", b"<content ").replace(b"</summary>", b"</content>")
    report = parse_feed(atom, now=NOW)
    assert report.incidents[0]["status"] == "investigating"
    assert report.components == [{"name": "Search", "status": "degraded"}]


def test_parse_feed_reads_a_feed_in_a_declared_legacy_encoding() -> None:
    rss = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel>'
        "<title>Statut</title><item><title>Problème de connexion</title>"
        "<description>&lt;strong&gt;Investigating&lt;/strong&gt;</description>"
        "<pubDate>Thu, 03 Sep 2026 15:40:00 +0000</pubDate>"
        "<link>https://status.example.com/incidents/e</link></item></channel></rss>"
    ).encode("iso-8859-1")
    (incident,) = parse_feed(rss, now=NOW).incidents
    assert incident["name"] == "Problème de connexion"


PARSERS = [
    parse_statuspage_v2,
    parse_incidentio,
    parse_instatus,
    parse_betterstack,
    parse_cloudflare_v3,
]


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("data", [None, [], "text", 3, {}, {"unexpected": True}])
def test_parsers_raise_only_status_format_error_on_wrong_shapes(parser: Any, data: Any) -> None:
    with pytest.raises(StatusFormatError):
        parser(data)


@pytest.mark.parametrize(
    "data",
    [
        {"status": {"indicator": "minor"}, "components": "nope", "incidents": None},
        {"status": {"indicator": None}, "components": [None, 3, {"name": None}, {"status": "odd"}]},
        {
            "status": {"indicator": "none"},
            "components": [{"name": "X", "status": "weird_new_state"}],
        },
        {
            "status": {"indicator": "none"},
            "incidents": [{"name": ["x"], "status": {}, "impact": 7}],
        },
        {"status": {"indicator": "none"}, "scheduled_maintenances": [{"status": None}]},
    ],
)
def test_parse_statuspage_survives_odd_items(data: dict[str, Any]) -> None:
    report = parse_statuspage_v2(data)

    assert report.state in ("operational", "degraded")


def test_an_unknown_component_status_is_not_read_as_an_outage() -> None:
    report = parse_statuspage_v2(_statuspage("none", [("X", "weird_new_state")]))

    assert report.state == "operational"
    assert report.components == [{"name": "X", "status": "unknown"}]


def test_an_open_incident_of_unknown_impact_counts_as_degraded() -> None:
    data = _statuspage("none", [], incidents=[{"name": "Hmm", "status": "investigating"}])

    report = parse_statuspage_v2(data)

    assert report.state == "degraded"
    assert report.incidents[0]["impact"] == "unknown"


# --- detect_provider ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (SAMPLE_STATUSPAGE, "statuspage"),
        ({"page": {}, "status": {"indicator": "none"}}, "statuspage"),
        ({"ongoing_incidents": [], "in_progress_maintenances": []}, "incidentio"),
        ({"page": {"status": "UP"}, "activeIncidents": []}, "instatus"),
        ({"page": {"status": "HASISSUES"}}, "instatus"),
        (
            {"data": {"attributes": {"aggregate_state": "operational"}}, "included": []},
            "betterstack",
        ),
        ({"success": True, "result": {"components": [], "active_incidents": []}}, "cloudflare"),
        (SAMPLE_ATOM, "feed"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "feed"),
        (json.dumps(SAMPLE_STATUSPAGE).encode(), "statuspage"),
    ],
)
def test_detect_provider_reads_the_document(data: Any, expected: str) -> None:
    assert detect_provider("https://status.example.com/anything", data) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://status.openai.com/history.atom", "feed"),
        ("https://status.openai.com/history.rss", "feed"),
        ("https://www.cloudflarestatus.com/api/v3/summary", "cloudflare"),
        ("https://status.example.com/api/v1/summary", "incidentio"),
        ("https://status.example.com/api/v2/summary.json", "statuspage"),
        ("https://status.example.com/index.json", "betterstack"),
        ("https://example.instatus.com/summary.json", "instatus"),
        ("https://example.com/", "unknown"),
    ],
)
def test_detect_provider_falls_back_to_the_url(url: str, expected: str) -> None:
    assert detect_provider(url, {"something": "else"}) == expected


def test_the_provider_names_are_stable() -> None:
    assert PROVIDERS == (
        "statuspage",
        "incidentio",
        "instatus",
        "betterstack",
        "cloudflare",
        "feed",
    )


def test_links_that_are_not_web_addresses_are_dropped() -> None:
    incident = {"name": "X", "status": "investigating", "impact": "minor"}
    data = _statuspage("minor", [], incidents=[{**incident, "shortlink": "javascript:alert(1)"}])

    assert parse_statuspage_v2(data).incidents[0]["url"] == ""
