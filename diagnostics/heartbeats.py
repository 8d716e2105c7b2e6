"""Worker heartbeats: which regions have a live worker (/healthz/ reports them too).

Heartbeats live in the cache, not in a table: a heartbeat is only worth
anything while it is recent, and a cache entry with a time-to-live of three
intervals expires by itself when a worker dies. No prune job, no table that
grows by one row per worker every ten seconds, and on Redis no database write
at all. The cost is that the cache cannot list keys, so a run fans out only to
regions it knows by name (settings.CHECKS_REGIONS); with none named, a
deployment probes from its own CHECKS_REGION, as before regions existed.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

log = logging.getLogger(__name__)

LIVENESS_FACTOR = 3  # a region is live while its newest heartbeat is younger than 3 intervals


def _key(region: str) -> str:
    return f"checks:heartbeat:{region}"


def beat(region: str, hostname: str) -> None:
    """Record that a worker of ``region`` is alive now."""
    ttl = settings.HEARTBEAT_SECONDS * LIVENESS_FACTOR
    cache.set(_key(region), {"hostname": hostname, "seen_at": time.time()}, timeout=ttl)


def last_seen(region: str) -> float | None:
    entry = cache.get(_key(region))
    return float(entry["seen_at"]) if entry else None


def live_regions() -> list[str]:
    """Regions a new run should fan out to.

    With no live region (a cold start, every worker down) the home region is
    still returned, so the run is queued and the panel later says "delayed"
    instead of refusing to start.
    """
    named = list(settings.CHECKS_REGIONS)
    if not named:
        return [settings.CHECKS_REGION]
    entries = cache.get_many([_key(region) for region in named])
    oldest = time.time() - settings.HEARTBEAT_SECONDS * LIVENESS_FACTOR
    live = [r for r in named if (e := entries.get(_key(r))) and e["seen_at"] >= oldest]
    return live or [settings.CHECKS_REGION]


class HeartbeatThread(threading.Thread):
    """Beats every HEARTBEAT_SECONDS from inside a worker process, beside its pool."""

    def __init__(self, region: str, hostname: str | None = None) -> None:
        super().__init__(name="checks-heartbeat", daemon=True)
        self.region = region
        self.hostname = hostname or socket.gethostname()
        self.stopping = threading.Event()

    def run(self) -> None:
        while True:
            try:
                beat(self.region, self.hostname)
            except Exception:  # a cache hiccup must not end the heartbeat for good
                log.warning("heartbeat for region %s failed", self.region, exc_info=True)
            finally:
                close_old_connections()  # the database cache holds a connection per thread
            if self.stopping.wait(settings.HEARTBEAT_SECONDS):
                return

    def stop(self) -> None:
        self.stopping.set()
