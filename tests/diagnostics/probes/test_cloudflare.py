from __future__ import annotations

import asyncio

import pytest

from diagnostics.probes.cloudflare import (
    classify,
    parse_retry_after,
    read_pasted_error,
    read_pasted_time,
)
from diagnostics.probes.http import HttpConfig, fetch
from diagnostics.probes.safety import AddressPolicy
from diagnostics.standins.edge import EdgeServer

CF = {"server": "cloudflare", "cf-ray": "7aec7cc46bd6c082-ICN"}

SAMPLE_1020_HTML = """<!DOCTYPE html><html><head>
<title>Access denied | chat.openai.com used Cloudflare to restrict access</title></head><body>
<h1><span class="cf-error-type">Error</span> <span class="cf-error-code">1020</span></h1>
<p>You do not have access to chat.openai.com.</p>
<p>The site owner may have set restrictions that prevent you from accessing the site.</p>
<ul><li>Ray ID: 7aec7cc46bd6c082</li><li>Your IP address: 198.51.100.23</li>
<li>Error reference number: 1020</li></ul></body></html>"""

SAMPLE_CHALLENGE = """<!DOCTYPE html><html><head><title>Just a moment...</title></head>
<body><script>window._cf_chl_opt={cType:'managed'};</script>
<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script></body></html>"""


def test_it_reads_the_browser_style_1020_page():
    finding = classify(403, {**CF, "content-type": "text/html; charset=UTF-8"}, SAMPLE_1020_HTML)
    assert finding is not None
    assert (finding.kind, finding.code) == ("block", "1020")
    assert (finding.ray_id, finding.colo) == ("7aec7cc46bd6c082", "ICN")
    assert finding.title == "Blocked by a Cloudflare firewall rule (error 1020)"


def test_it_reads_the_plain_1020_answer_for_api_clients():
    headers = {"server": "cloudflare", "cf-ray": "7a47fe5ee902482e-SIN"}
    finding = classify(403, headers, "error code: 1020")
    assert finding is not None
    assert (finding.kind, finding.code, finding.colo) == ("block", "1020", "SIN")
    assert finding.ray_id == "7a47fe5ee902482e"


def test_it_reads_a_managed_challenge_from_the_cf_mitigated_header():
    finding = classify(403, {**CF, "cf-mitigated": "challenge"}, "")
    assert finding is not None
    assert finding.kind == "challenge"


def test_it_reads_a_challenge_page_from_its_markers():
    finding = classify(403, CF, SAMPLE_CHALLENGE)
    assert finding is not None
    assert finding.kind == "challenge"


@pytest.mark.parametrize("body", ["error code: 1015", '<span class="cf-error-code">1015</span>'])
def test_it_reads_the_1015_rate_limit_with_its_retry_after(body):
    finding = classify(429, {**CF, "retry-after": "30"}, body)
    assert finding is not None
    assert (finding.kind, finding.code, finding.retry_after) == ("rate_limit", "1015", 30)


@pytest.mark.parametrize("code", ["1005", "1006", "1007", "1008", "1009", "1010", "1106"])
def test_it_reads_every_ban_code_as_a_block(code):
    finding = classify(403, CF, f"error code: {code}")
    assert finding is not None
    assert (finding.kind, finding.code) == ("block", code)
    assert f"error {code}" in finding.title


@pytest.mark.parametrize("status", [502, 521, 522, 523, 524])
def test_it_reads_cloudflare_origin_failures_as_origin_errors(status):
    finding = classify(status, CF, "<html>Error code " + str(status) + "</html>")
    assert finding is not None
    assert (finding.kind, finding.code) == ("origin_error", str(status))


@pytest.mark.parametrize("status", [200, 203, 204])
def test_a_2xx_answer_is_never_a_block_or_a_challenge(status):
    headers = {
        "Server": "cloudflare",
        "CF-Ray": "8f0c1a2b3c4d5e6f-ICN",
        "cf-mitigated": "challenge",
    }
    body = "<title>Just a moment...</title> error code: 1020 Ray ID: 8f0c1a2b3c4d5e6f"
    assert classify(status, headers, body) is None


def test_it_ignores_a_csp_header_that_names_a_cloudflare_host():
    headers = {
        "server": "nginx",
        "content-security-policy": "script-src 'self' https://challenges.cloudflare.com",
    }
    assert classify(200, headers, "<html>hello</html>") is None
    assert classify(403, headers, "<html>Forbidden</html>") is None


def test_it_ignores_an_ordinary_page_that_quotes_an_error_code():
    assert classify(200, {"server": "nginx"}, "How to fix error code: 1020") is None


def test_it_ignores_cloudflare_injected_scripts_on_a_normal_page():
    body = '<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>'
    assert classify(200, CF, body) is None


def test_it_does_not_claim_the_sites_own_errors_passed_through_cloudflare():
    assert classify(500, CF, "<html>Internal Server Error</html>") is None
    assert classify(403, CF, "<html>Forbidden: log in first</html>") is None


def test_it_reads_a_cloudflare_page_even_when_headers_were_stripped():
    finding = classify(403, {}, SAMPLE_1020_HTML)
    assert finding is not None
    assert (finding.code, finding.ray_id, finding.colo) == ("1020", "7aec7cc46bd6c082", None)


def test_it_reads_header_names_in_any_case():
    headers = {"Server": "cloudflare", "CF-RAY": "7aec7cc46bd6c082-icn"}
    finding = classify(403, headers, "error code: 1020")
    assert finding is not None
    assert finding.colo == "ICN"


def test_it_parses_retry_after_seconds_only():
    assert parse_retry_after("30") == 30
    assert parse_retry_after(" 5 ") == 5
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert parse_retry_after(None) is None


# -- pasted error pages ---------------------------------------------------------------------


def test_it_keeps_only_code_ray_and_colo_from_pasted_text():
    pasted = (
        "Access denied Error code 1020 You do not have access to chatgpt.com. "
        "Ray ID: 7aec7cc46bd6c082 Your IP address: 198.51.100.23 "
        "cf-ray 7aec7cc46bd6c082-ICN Timestamp: 2026-01-01 00:00:00 UTC"
    )
    finding = read_pasted_error(pasted)
    assert finding is not None
    assert (finding.code, finding.ray_id, finding.colo) == ("1020", "7aec7cc46bd6c082", "ICN")
    assert "198.51.100.23" not in repr(finding)
    assert "chatgpt.com" not in repr(finding)


def test_it_reads_a_pasted_html_page_without_keeping_the_ip():
    finding = read_pasted_error(SAMPLE_1020_HTML)
    assert finding is not None
    assert (finding.kind, finding.code, finding.ray_id) == ("block", "1020", "7aec7cc46bd6c082")
    assert "198.51.100.23" not in repr(finding)


def test_it_reads_a_pasted_rate_limit():
    finding = read_pasted_error("Error 1015 Ray ID: 8b1c2d3e4f5a6b7c You are being rate limited")
    assert finding is not None
    assert (finding.kind, finding.code) == ("rate_limit", "1015")


def test_it_reads_a_pasted_block_page_without_a_code():
    finding = read_pasted_error("Sorry, you have been blocked. Cloudflare Ray ID: 8b1c2d3e4f5a6b7c")
    assert finding is not None
    assert (finding.kind, finding.code, finding.ray_id) == ("block", None, "8b1c2d3e4f5a6b7c")


def test_it_returns_nothing_for_text_it_does_not_recognise():
    assert read_pasted_error("my internet is slow, IP 203.0.113.9") is None
    assert read_pasted_error("") is None


# -- every route of the loopback edge -------------------------------------------------------

EDGE_ROUTES = [
    ("/ok", None, None),
    ("/block/1020", "block", "1020"),
    ("/block/1020-plain", "block", "1020"),
    ("/block/1009", "block", "1009"),
    ("/block/1010", "block", "1010"),
    ("/block/1005", "block", "1005"),
    ("/block/1006", "block", "1006"),
    ("/block/1106", "block", "1106"),
    ("/rate-limit", "rate_limit", "1015"),
    ("/challenge", "challenge", None),
    ("/origin/502", "origin_error", "502"),
    ("/origin/521", "origin_error", "521"),
    ("/origin/522", "origin_error", "522"),
    ("/origin/523", "origin_error", "523"),
    ("/origin/524", "origin_error", "524"),
    ("/plain-500", None, None),
    ("/csp-cloudflare", None, None),
    ("/teapot", None, None),
    ("/guide-1020", None, None),
]


@pytest.mark.parametrize(("path", "kind", "code"), EDGE_ROUTES)
def test_it_classifies_each_edge_route(edge: EdgeServer, path, kind, code):
    config = HttpConfig(timeout=0.5, deadline=2.0, policy=AddressPolicy(allow_loopback=True))
    fetched = asyncio.run(fetch(edge.url(path), config))
    finding = classify(fetched.status, fetched.headers, fetched.body.decode())
    if kind is None:
        assert finding is None
        return
    assert finding is not None
    assert (finding.kind, finding.code) == (kind, code)
    assert finding.colo == "ICN"
    assert finding.ray_id is not None
    assert fetched.headers["cf-ray"].startswith(finding.ray_id)


def test_it_reads_the_time_printed_on_a_pasted_page():
    assert read_pasted_time("Ray ID: 8f0c1a2b3c4d5e6f\nTimestamp: 2026-11-30 10:12:03 UTC\n") == (
        "2026-11-30 10:12:03 UTC"
    )
    assert read_pasted_time("error code: 1020") is None
