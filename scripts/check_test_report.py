#!/usr/bin/env python3
"""Read a CI stage's junit XML report and fail if the stage quietly tested less.

pytest's exit code says that nothing failed, not that anything ran: a broken
fixture that skips, a marker typo or a collection error hidden by a skip can
turn a stage into a green run of half the suite. After each stage CI therefore
checks the report against .ci/floors.toml:

- per marker (browser, redis, worker, postgres, and ``all`` for every test),
  at least the recorded number of tests ran (passed or failed, not skipped);
- every skip gives a reason that starts with one of the stage's allowed reasons.

The markers come from the report's properties, written by tests/junit_markers.py.
Plain Python on purpose (no Django, no pytest): it reads a file and a table.

    python scripts/check_test_report.py --floors .ci/floors.toml --stage embedded REPORT.xml
"""

from __future__ import annotations

import argparse
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ALL = "all"  # the floor key that counts every test


@dataclass
class Case:
    test_id: str
    markers: frozenset[str] | None  # None: the report carries no markers for it
    skip_reason: str | None  # None: it ran


@dataclass
class Stage:
    floors: dict[str, int]
    allowed_skips: list[str] = field(default_factory=list)


def read_cases(report: Path) -> list[Case]:
    """Each test case once (a teardown error can add a second element for the same test)."""
    cases: dict[str, Case] = {}
    # The report is the file this CI run's own pytest just wrote, not outside input.
    for element in ET.parse(report).getroot().iter("testcase"):  # noqa: S314
        test_id = f"{element.get('classname', '')}::{element.get('name', '')}"
        markers = None
        for prop in element.iter("property"):
            if prop.get("name") == "markers":
                value = prop.get("value") or ""
                markers = frozenset(name for name in value.split(",") if name)
        skipped = element.find("skipped")
        reason = None if skipped is None else skipped.get("message", "")
        if test_id in cases:
            known = cases[test_id]
            markers = markers if markers is not None else known.markers
            reason = reason if known.skip_reason is None else known.skip_reason
        cases[test_id] = Case(test_id, markers, reason)
    return list(cases.values())


def read_stage(floors_file: Path, name: str) -> Stage:
    stages = tomllib.loads(floors_file.read_text())["stages"]
    if name not in stages:
        raise SystemExit(f"{floors_file} has no stage {name!r} (it has: {', '.join(stages)})")
    table = stages[name]
    return Stage(
        floors={str(k): int(v) for k, v in table.get("floors", {}).items()},
        allowed_skips=[str(reason) for reason in table.get("allowed_skips", [])],
    )


def check(cases: list[Case], stage: Stage) -> tuple[list[str], list[str]]:
    """Return (the per-marker table, the problems); no problems means the stage passes."""
    problems: list[str] = []
    unmarked = [case.test_id for case in cases if case.markers is None]
    if unmarked:
        problems.append(
            f"{len(unmarked)} test(s) carry no markers in the report (is tests/junit_markers.py "
            f"loaded?), e.g. {unmarked[0]}"
        )
    ran: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for case in cases:
        tally = ran if case.skip_reason is None else skipped
        for name in {ALL, *(case.markers or ())}:
            tally[name] += 1
    table = [f"  {'marker':<10} {'ran':>6} {'skipped':>8} {'floor':>6}"]
    for name in [ALL, *sorted(set(stage.floors) - {ALL})]:
        floor = stage.floors.get(name, 0)
        table.append(f"  {name:<10} {ran[name]:>6} {skipped[name]:>8} {floor:>6}")
        if ran[name] < floor:
            problems.append(f"{name}: {ran[name]} test(s) ran, fewer than the floor of {floor}")
    for case in cases:
        reason = case.skip_reason
        if reason is not None and not reason.startswith(tuple(stage.allowed_skips)):
            problems.append(f"skipped for a reason not allowed here: {case.test_id}: {reason!r}")
    return table, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="the stage's junit XML (pytest --junitxml)")
    parser.add_argument("--floors", type=Path, default=Path(".ci/floors.toml"))
    parser.add_argument("--stage", required=True, help="a [stages.NAME] table in the floors file")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"no test report at {args.report}: did the stage run with --junitxml?")
        return 1
    cases = read_cases(args.report)
    table, problems = check(cases, read_stage(args.floors, args.stage))
    print(f"Tests that ran in stage {args.stage!r} ({args.report}):")
    print("\n".join(table))
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
