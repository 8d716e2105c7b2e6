"""A run's probe results as a person reads them: one row per target, its probes inside.

Pure like ``verdict``: it takes the stored rows (anything with ``target``,
``probe``, ``outcome``, ``summary``, ``evidence``, ``region`` and
``get_outcome_label()``) and returns
plain dataclasses for the template. A target's row carries the result that
matters for the verdict: the first probe that failed, in the order a request
goes (address lookup, connection, certificate, page), else the last one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext, gettext_noop, ngettext

from diagnostics.verdict import EvidenceItem, evidence_items

# Marked here, translated where shown (a module constant is read before any request
# has chosen a language).
PROBE_NAMES = {
    "dns": gettext_noop("Address lookup"),
    "tcp": gettext_noop("Connection"),
    "tls": gettext_noop("Certificate"),
    "http": gettext_noop("Page"),
    "status": gettext_noop("Status page"),
}
# The order a request goes through: an earlier failure explains the later ones.
PIPELINE = ("dns", "tcp", "tls", "http", "status")
FAILING = frozenset({"down", "error", "timeout", "blocked", "challenged"})
SHAKY = frozenset({"degraded", "unknown"})


@dataclass(frozen=True)
class ProbeLine:
    name: str
    outcome: str
    outcome_label: str
    summary: str
    items: tuple[EvidenceItem, ...]
    age: str  # "checked 40 s ago for an earlier run", or ""


@dataclass(frozen=True)
class TargetRow:
    slug: str
    name: str
    main: ProbeLine  # the result that matters for the verdict
    probes: tuple[ProbeLine, ...]

    @property
    def outcome(self) -> str:
        return self.main.outcome


def reuse_note(evidence: object) -> str:
    """How old a reused answer is, and whose check fetched it (this run sent nothing)."""
    if not isinstance(evidence, dict) or not evidence.get("coalesced"):
        return ""
    age = evidence.get("age_seconds")
    history = evidence.get("probed_for") == "history"
    if not isinstance(age, int | float) or age < 2:
        if history:
            return gettext("checked moments ago by our regular check")
        return gettext("checked moments ago for an earlier run")
    seconds = round(age)
    if history:
        text = ngettext(
            "checked %(count)d s ago by our regular check",
            "checked %(count)d s ago by our regular check",
            seconds,
        )
    else:
        text = ngettext(
            "checked %(count)d s ago for an earlier run",
            "checked %(count)d s ago for an earlier run",
            seconds,
        )
    return text % {"count": seconds}


def _line(result: Any, regions: int) -> ProbeLine:
    probe = PROBE_NAMES.get(result.probe)
    name = gettext(probe) if probe else result.probe
    if regions > 1:
        name = gettext("%(probe)s (from %(region)s)") % {"probe": name, "region": result.region}
    return ProbeLine(
        name=name,
        outcome=result.outcome,
        outcome_label=result.get_outcome_label(),
        summary=result.summary,
        items=tuple(evidence_items(result.evidence)),
        age=reuse_note(result.evidence),
    )


def _main(lines: list[ProbeLine]) -> ProbeLine:
    for wanted in (FAILING, SHAKY):
        for line in lines:
            if line.outcome in wanted:
                return line
    return lines[-1]


def _order(result: Any) -> tuple[int, str]:
    probe = result.probe
    return (PIPELINE.index(probe) if probe in PIPELINE else len(PIPELINE), result.region)


def target_rows(results: Iterable[Any]) -> list[TargetRow]:
    """One row per target, in the order the results came (the targets' own order)."""
    grouped: dict[int, list[Any]] = {}
    for result in results:
        grouped.setdefault(result.target_id, []).append(result)
    regions = len({r.region for rows in grouped.values() for r in rows})
    out = []
    for rows in grouped.values():
        lines = [_line(r, regions) for r in sorted(rows, key=_order)]
        target = rows[0].target
        out.append(TargetRow(target.slug, target.name, _main(lines), tuple(lines)))
    return out
