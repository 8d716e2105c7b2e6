"""The one shape every probe returns, and the words for its outcome.

Plain Python on purpose: probes are imported by Celery tasks, benchmarks and
tests alike, and none of them should need Django to describe what happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# The same rule as helpcenter/text.py; probes import nothing from the project.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def without_control_chars_deep(value: Any) -> Any:
    """Strings anywhere in a JSON-like value, without control characters."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, dict):
        return {
            without_control_chars_deep(key): without_control_chars_deep(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [without_control_chars_deep(item) for item in value]
    return value


class Outcome(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    # Planned work a status page announces: neither healthy nor an outage.
    MAINTENANCE = "maintenance"
    BLOCKED = "blocked"
    CHALLENGED = "challenged"
    DOWN = "down"
    ERROR = "error"
    TIMEOUT = "timeout"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProbeResult:
    """What one probe saw of one target.

    ``evidence`` holds only JSON-serialisable values (it is stored as JSON and
    shown folded under the one-line ``summary``).
    """

    probe: str
    outcome: Outcome
    summary: str
    latency_ms: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The result as stored: JSON-safe, and without control characters.

        Evidence quotes what servers sent (titles, headers); a hostile status
        page may put NUL in them, which PostgreSQL refuses to store.
        """
        return {
            "probe": self.probe,
            "outcome": self.outcome.value,
            "summary": without_control_chars_deep(self.summary),
            "latency_ms": self.latency_ms,
            "evidence": without_control_chars_deep(self.evidence),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        return cls(
            probe=data["probe"],
            outcome=Outcome(data["outcome"]),
            summary=data["summary"],
            latency_ms=data.get("latency_ms"),
            evidence=dict(data.get("evidence") or {}),
        )
