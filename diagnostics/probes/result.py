"""The one shape every probe returns, and the words for its outcome.

Plain Python on purpose: probes are imported by Celery tasks, benchmarks and
tests alike, and none of them should need Django to describe what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
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
        return {
            "probe": self.probe,
            "outcome": self.outcome.value,
            "summary": self.summary,
            "latency_ms": self.latency_ms,
            "evidence": self.evidence,
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
