"""Who is asking: the client address behind trusted proxies, and a per-client rate limit."""

from __future__ import annotations

import ipaddress
import logging
import time

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


def rate_limited(request: HttpRequest, scope: str, limit: int, window: int = 60) -> int | None:
    """Count this request; return seconds to wait when the client is over the limit.

    A fixed window in the cache. When the cache is down (Redis restarting),
    we let the request through and log: a missing limit is better than a
    missing page.
    """
    now = int(time.time())
    slot = now // window
    key = f"ratelimit:{scope}:{_bucket(client_ip(request))}:{slot}"
    try:
        cache.add(key, 0, timeout=window + 1)
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this is the first hit again
        return None
    except Exception:
        logger.warning("rate limit for %s skipped: cache unavailable", scope, exc_info=True)
        return None
    if count > limit:
        return (slot + 1) * window - now or 1
    return None
