"""Recognise a Cloudflare block, rate limit, challenge or origin failure in an HTTP answer.

Only Cloudflare's own signals count: the ``server``, ``cf-ray`` and
``cf-mitigated`` headers, the status code and the markers Cloudflare puts in
its error and challenge pages. Other headers are ignored on purpose: a
Content-Security-Policy that lists ``challenges.cloudflare.com`` only says the
site *may* embed Turnstile, not that this answer came from Cloudflare.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Error codes Cloudflare shows in the page body, by what they mean for a visitor.
BLOCK_CODES: dict[str, str] = {
    "1005": "Blocked by Cloudflare: the site refuses your network provider (error 1005)",
    "1006": "Blocked by Cloudflare: the site has banned your IP address (error 1006)",
    "1007": "Blocked by Cloudflare: the site has banned your IP address (error 1007)",
    "1008": "Blocked by Cloudflare: the site has banned your IP address (error 1008)",
    "1009": "Blocked by Cloudflare: the site refuses visitors from your country or region "
    "(error 1009)",
    "1010": "Blocked by Cloudflare: the site refuses your browser's signature (error 1010)",
    "1020": "Blocked by a Cloudflare firewall rule (error 1020)",
    "1106": "Blocked by Cloudflare: the site has banned your IP address (error 1106)",
}
RATE_LIMIT_CODE = "1015"
RATE_LIMIT_TITLE = "Rate limited by Cloudflare: too many requests for now (error 1015)"
CHALLENGE_TITLE = "Cloudflare asks for a browser check first (challenge page)"
UNCODED_BLOCK_TITLE = "Blocked by Cloudflare (the page shows no error code)"

# Statuses Cloudflare itself sends when the site's own servers fail behind it.
ORIGIN_ERRORS: dict[int, str] = {
    502: "The service's servers sent Cloudflare a bad answer (502)",
    520: "The service's servers gave Cloudflare an unexpected answer (520)",
    521: "The service's servers refused Cloudflare's connection (521)",
    522: "The service's servers did not answer Cloudflare in time (522)",
    523: "Cloudflare could not reach the service's servers (523)",
    524: "The service's servers took too long to answer Cloudflare (524)",
    525: "Cloudflare could not set up a secure connection to the service (525)",
    526: "The service's servers showed Cloudflare an invalid certificate (526)",
}

_CODE_PATTERNS = (
    re.compile(r'class="cf-error-code"[^>]*>\s*(\d{4})\s*<', re.IGNORECASE),
    re.compile(r"error\s+code:?\s*(\d{4})\b", re.IGNORECASE),
    re.compile(r"error\s+reference\s+number:?\s*(?:<[^>]*>\s*)*(\d{4})\b", re.IGNORECASE),
    re.compile(r"\berror\s+(1\d{3})\b", re.IGNORECASE),
)
_RAY_BODY = re.compile(r"ray\s+id:?\s*(?:<[^>]*>\s*)*([0-9a-f]{16})\b", re.IGNORECASE)
_RAY_WITH_COLO = re.compile(r"\b([0-9a-f]{16})-([A-Z]{3})\b", re.IGNORECASE)
_PAGE_TIME = re.compile(r"\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC\b")
_RAY_HEADER = re.compile(r"^\s*([0-9a-f]{16})(?:-([A-Za-z]{3}))?\s*$")
_CHALLENGE_MARKERS = ("/cdn-cgi/challenge-platform/", "_cf_chl_opt", "<title>Just a moment")
_BLOCK_PAGE_MARKERS = ("Sorry, you have been blocked", "used Cloudflare to restrict access")


@dataclass(frozen=True)
class CloudflareFinding:
    kind: str  # "block" | "rate_limit" | "challenge" | "origin_error"
    code: str | None
    ray_id: str | None
    colo: str | None
    retry_after: int | None
    title: str


def classify(status: int, headers: Mapping[str, str], body: str) -> CloudflareFinding | None:
    """Say which Cloudflare answer this is, or None when it is not one we recognise."""
    lower = {name.lower(): value for name, value in headers.items()}
    ray_id, colo = _ray_from_header(lower.get("cf-ray", ""))
    if ray_id is None:
        ray_id = _ray_from_body(body)
    retry_after = parse_retry_after(lower.get("retry-after"))

    def finding(kind: str, code: str | None, title: str) -> CloudflareFinding:
        return CloudflareFinding(kind, code, ray_id, colo, retry_after, title)

    if 200 <= status < 300:
        # A page that arrived is never a block or a challenge, whatever it quotes:
        # a guide about error 1020 served through Cloudflare says "error code: 1020".
        return None
    if lower.get("cf-mitigated", "").strip().lower() == "challenge":
        return finding("challenge", None, CHALLENGE_TITLE)
    from_cloudflare = _has_cloudflare_headers(lower)
    # Without Cloudflare's headers, only an error status plus its page markers will do:
    # a 200 page may quote "error code: 1020" (an article like ours, for one).
    if not from_cloudflare and (status < 400 or not _has_page_markers(body)):
        return None
    code = _error_code(body)
    if code == RATE_LIMIT_CODE or (code is None and status == 429 and from_cloudflare):
        return finding("rate_limit", code, RATE_LIMIT_TITLE)
    if code in BLOCK_CODES:
        return finding("block", code, BLOCK_CODES[code])
    if status in (403, 429, 503) and _has_challenge_markers(body):
        return finding("challenge", None, CHALLENGE_TITLE)
    if status == 403 and any(marker in body for marker in _BLOCK_PAGE_MARKERS):
        return finding("block", code, UNCODED_BLOCK_TITLE)
    if status in ORIGIN_ERRORS and from_cloudflare:
        return finding("origin_error", str(status), ORIGIN_ERRORS[status])
    return None


def read_pasted_error(text: str) -> CloudflareFinding | None:
    """Pick the error code, Ray ID and data centre out of text a visitor pasted.

    Nothing else survives: the pasted page usually shows the visitor's IP
    address, and that must not reach our logs or database.
    """
    code = _error_code(text)
    ray_id, colo = _ray_from_text(text)
    if code == RATE_LIMIT_CODE:
        return CloudflareFinding("rate_limit", code, ray_id, colo, None, RATE_LIMIT_TITLE)
    if code in BLOCK_CODES:
        return CloudflareFinding("block", code, ray_id, colo, None, BLOCK_CODES[code])
    if _has_challenge_markers(text) or "Just a moment" in text:
        return CloudflareFinding("challenge", None, ray_id, colo, None, CHALLENGE_TITLE)
    if ray_id is not None:
        # A Ray ID without a code is Cloudflare's generic "you have been blocked" page.
        return CloudflareFinding("block", None, ray_id, colo, None, UNCODED_BLOCK_TITLE)
    return None


def read_pasted_time(text: str) -> str | None:
    """The time printed on a pasted Cloudflare error page ("2026-03-01 14:05:11 UTC")."""
    found = _PAGE_TIME.search(text)
    return f"{found.group(1)} UTC" if found else None


def parse_retry_after(value: str | None) -> int | None:
    """Seconds from a Retry-After header; None for HTTP dates and nonsense."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _has_cloudflare_headers(lower: Mapping[str, str]) -> bool:
    server = lower.get("server", "").strip().lower()
    return server.startswith("cloudflare") or "cf-ray" in lower or "cf-mitigated" in lower


def _has_page_markers(body: str) -> bool:
    return (
        _error_code(body) is not None
        or _has_challenge_markers(body)
        or any(marker in body for marker in _BLOCK_PAGE_MARKERS)
    )


def _has_challenge_markers(body: str) -> bool:
    return any(marker in body for marker in _CHALLENGE_MARKERS)


def _error_code(text: str) -> str | None:
    for pattern in _CODE_PATTERNS:
        match = pattern.search(text)
        if match and match.group(1).startswith("1"):
            return match.group(1)
    return None


def _ray_from_header(value: str) -> tuple[str | None, str | None]:
    match = _RAY_HEADER.match(value)
    if match is None:
        return None, None
    colo = match.group(2).upper() if match.group(2) else None
    return match.group(1).lower(), colo


def _ray_from_body(body: str) -> str | None:
    match = _RAY_BODY.search(body)
    return match.group(1).lower() if match else None


def _ray_from_text(text: str) -> tuple[str | None, str | None]:
    with_colo = _RAY_WITH_COLO.search(text)
    if with_colo:
        return with_colo.group(1).lower(), with_colo.group(2).upper()
    return _ray_from_body(text), None
