"""Read a service's public status page and say what state it claims to be in.

Five JSON formats and the RSS/Atom feeds are turned into one ``StatusReport``
by pure parsers, one module per format, so each can be tested on inline
documents; ``detect`` picks the format and ``probe`` fetches the page through
``http.fetch`` (and so through the address guard).

The headline indicator is a blend and lags behind: Statuspage says "minor"
while one component is in a major outage. Every parser therefore takes the
worst of the indicator, the components, the open incidents' impact and any
maintenance in progress.
"""

from __future__ import annotations

from diagnostics.probes.statuspages.betterstack import parse_betterstack
from diagnostics.probes.statuspages.cloudflare_v3 import parse_cloudflare_v3
from diagnostics.probes.statuspages.detect import (
    detect_provider,
    parse_status_document,
    read_status_document,
)
from diagnostics.probes.statuspages.feed import parse_feed
from diagnostics.probes.statuspages.incidentio import parse_incidentio
from diagnostics.probes.statuspages.instatus import parse_instatus
from diagnostics.probes.statuspages.probe import PROBE, probe_status_page
from diagnostics.probes.statuspages.report import (
    PROVIDER_LABELS,
    PROVIDERS,
    STATES,
    StatusFormatError,
    StatusReport,
)
from diagnostics.probes.statuspages.statuspage import parse_statuspage_v2

__all__ = [
    "PROBE",
    "PROVIDERS",
    "PROVIDER_LABELS",
    "STATES",
    "StatusFormatError",
    "StatusReport",
    "detect_provider",
    "parse_betterstack",
    "parse_cloudflare_v3",
    "parse_feed",
    "parse_incidentio",
    "parse_instatus",
    "parse_status_document",
    "parse_statuspage_v2",
    "probe_status_page",
    "read_status_document",
]
