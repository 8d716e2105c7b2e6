"""Who is asking: the client address behind trusted proxies, a daily visitor hash,
and a per-visitor rate limit.

A visitor is one salted SHA-256 of the client's network that changes every UTC
day, so counters, votes and crowd reports can tell visitors apart today while
nothing links them to an address, or to themselves tomorrow. The raw address
is never stored, not even in a cache key. Both apps use this module
(diagnostics imports it; helpcenter never imports diagnostics).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)


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


def wait_if_over(key: str, limit: int, window: int, now: float | None = None) -> int | None:
    """Count one hit in the fixed window holding ``now``; seconds to wait once past ``limit``.

    The one counter behind every rate limit (runs, votes, search). Cache
    errors propagate: each caller decides how to fail open.
    """
    now = time.time() if now is None else now
    start = int(now // window) * window
    slot_key = f"{key}:{start}"
    # add() is a no-op when the key exists, so only the window's first hit sets the expiry.
    cache.add(slot_key, 0, timeout=window + 5)
    try:
        count = int(cache.incr(slot_key))
    except ValueError:  # expired between add and incr: this is the first hit again
        return None
    if count <= limit:
        return None
    return max(1, int(start + window - now))


def rate_limited(request: HttpRequest, scope: str, limit: int, window: int = 60) -> int | None:
    """Count this request; return seconds to wait when the client is over the limit.

    When the cache is down (Redis restarting), we let the request through and
    log: a missing limit is better than a missing page.
    """
    # Keyed on the visitor hash: a cache is storage too, and keeps no address.
    try:
        return wait_if_over(f"ratelimit:{scope}:{visitor_hash(request)}", limit, window)
    except Exception:
        logger.warning("rate limit for %s skipped: cache unavailable", scope, exc_info=True)
        return None
