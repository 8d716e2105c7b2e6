"""Who is asking: the client address behind trusted proxies and a daily visitor hash.

Rate limits keyed on the hash live in helpcenter.ratelimit.

A visitor is one salted SHA-256 of the client's network that changes every UTC
day, so counters, votes and crowd reports can tell visitors apart today while
nothing links them to an address, or to themselves tomorrow. The raw address
is never stored, not even in a cache key. Both apps use this module
(diagnostics imports it; helpcenter never imports diagnostics).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The visitor's address, read as settings.CLIENT_IP_HEADER / TRUSTED_PROXY_COUNT say.

    Each trusted proxy appends the address it received the request from, so
    the client is TRUSTED_PROXY_COUNT entries from the right of the header;
    anything further left was written by the client and can be forged.
    A missing, short or malformed header falls back to REMOTE_ADDR.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    header = settings.CLIENT_IP_HEADER
    if header == "REMOTE_ADDR":
        return remote
    entries = [e.strip() for e in str(request.META.get(header, "")).split(",") if e.strip()]
    # A single-value header (X-Real-IP) set by one proxy counts as one hop.
    hops = max(settings.TRUSTED_PROXY_COUNT, 1)
    if len(entries) < hops:
        return remote
    candidate = entries[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _bucket(address: str) -> str:
    # One IPv6 visitor usually holds a whole /64: limit the network, not the address.
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _salt() -> bytes:
    # Derived from the secret so the hash cannot be recomputed from outside, and
    # namespaced so it is never the same digest as any other use of the key.
    return hashlib.sha256(b"diagnostics.visitor:" + settings.SECRET_KEY.encode()).digest()


def hash_address(address: str, day: str | None = None) -> str:
    """A daily-rotated, salted hash of an address; ``day`` is YYYY-MM-DD in UTC."""
    day = day or datetime.now(UTC).strftime("%Y-%m-%d")
    digest = hashlib.sha256(_salt() + day.encode() + b"|" + address.encode())
    return digest.hexdigest()


def visitor_hash(request: HttpRequest) -> str:
    """Today's hash for this request's visitor: 64 hex characters, no address inside.

    An IPv6 visitor is their /64 (one home usually holds a whole one), so
    changing address inside it does not make a new visitor.
    """
    return hash_address(_bucket(client_ip(request)))


_SERVICE_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def asked_service(request: HttpRequest) -> str:
    """The slug of the service the visitor is asking about, or "" (not looked up).

    A ``service`` field of the form or query says it; else the ``?service=`` of
    the page htmx says the request came from (HX-Current-URL): a shared link such
    as /articles/<general guide>/?service=discord opens a cached page, which
    cannot vary by it, so the uncached fragments it loads read it there.
    """
    data = request.POST if request.method == "POST" else request.GET
    slug = str(data.get("service") or "")
    if not slug:
        current = str(request.headers.get("HX-Current-URL") or "")
        slug = (parse_qs(urlsplit(current).query).get("service") or [""])[0]
    return slug if len(slug) <= 60 and _SERVICE_SLUG.match(slug) else ""
