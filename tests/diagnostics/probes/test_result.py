"""The result as stored: what servers said, without control characters."""

from __future__ import annotations

from diagnostics.probes.result import Outcome, ProbeResult


def test_stored_form_drops_control_characters_from_summary_and_evidence() -> None:
    result = ProbeResult(
        "status",
        Outcome.DEGRADED,
        "Elevated\x00 errors",
        12.0,
        {"incidents": [{"name": "API\x00 down\n", "url": "https://s.test/\x07i"}], "k\x00": 1},
    )
    stored = result.to_dict()
    assert stored["summary"] == "Elevated errors"
    assert stored["evidence"] == {
        "incidents": [{"name": "API down\n", "url": "https://s.test/i"}],
        "k": 1,
    }
    assert ProbeResult.from_dict(stored).summary == "Elevated errors"
