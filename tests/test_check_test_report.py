"""CI's reading of a stage's junit report (scripts/check_test_report.py).

The script runs as CI runs it, in its own process, on small reports written
here; the last test has pytest itself write one through tests/junit_markers.py,
so the two halves are checked to fit together.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "check_test_report.py"

FLOORS = """
[stages.db]
allowed_skips = ["needs Redis"]
[stages.db.floors]
all = 3
redis = 1
browser = 1
"""


def _case(name: str, markers: str | None, skipped: str | None = None) -> str:
    props = (
        ""
        if markers is None
        else f'<properties><property name="markers" value="{markers}"/></properties>'
    )
    skip = "" if skipped is None else f'<skipped type="pytest.skip" message="{skipped}">x</skipped>'
    return f'<testcase classname="tests.t" name="{name}" time="0.1">{props}{skip}</testcase>'


def _report(tmp_path: Path, *cases: str) -> Path:
    report = tmp_path / "report.xml"
    report.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
        + "".join(cases)
        + "</testsuite></testsuites>"
    )
    return report


def _check(tmp_path: Path, report: Path, floors: str = FLOORS) -> subprocess.CompletedProcess[str]:
    floors_file = tmp_path / "floors.toml"
    floors_file.write_text(floors)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--floors", str(floors_file), "--stage", "db", str(report)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _row(output: str, marker: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.split()[:1] == [marker])


def test_a_stage_that_ran_enough_of_each_kind_passes_and_shows_the_table(tmp_path: Path) -> None:
    report = _report(
        tmp_path,
        _case("test_a", "browser,django_db"),
        _case("test_b", "redis"),
        _case("test_c", ""),
        _case("test_d", "redis", skipped="needs Redis (set REDIS_URL): waiters"),
    )
    result = _check(tmp_path, report)
    assert result.returncode == 0, result.stdout
    assert "FAIL" not in result.stdout
    assert _row(result.stdout, "all") == ["all", "3", "1", "3"]  # ran, skipped, floor
    assert _row(result.stdout, "redis") == ["redis", "1", "1", "1"]
    assert _row(result.stdout, "browser") == ["browser", "1", "0", "1"]


def test_a_marker_under_its_floor_fails_the_stage(tmp_path: Path) -> None:
    # The browser test skipped (for an allowed reason even): it did not run, so it does not count.
    report = _report(
        tmp_path,
        _case("test_a", "browser", skipped="needs Redis"),
        _case("test_b", "redis"),
        _case("test_c", ""),
        _case("test_d", ""),
    )
    result = _check(tmp_path, report)
    assert result.returncode == 1
    assert "FAIL: browser: 0 test(s) ran, fewer than the floor of 1" in result.stdout
    assert "FAIL: all" not in result.stdout


def test_a_skip_for_a_reason_outside_the_list_fails_the_stage(tmp_path: Path) -> None:
    report = _report(
        tmp_path,
        _case("test_a", "browser"),
        _case("test_b", "redis"),
        _case("test_c", ""),
        _case("test_feature", "", skipped="fix votes are not wired in yet"),
    )
    result = _check(tmp_path, report)
    assert result.returncode == 1
    assert (
        "FAIL: skipped for a reason not allowed here: tests.t::test_feature: "
        "'fix votes are not wired in yet'" in result.stdout
    )


def test_a_stage_that_allows_no_skips_fails_on_any(tmp_path: Path) -> None:
    floors = "[stages.db]\nallowed_skips = []\n[stages.db.floors]\nall = 1\n"
    report = _report(tmp_path, _case("test_a", ""), _case("test_b", "redis", skipped="needs Redis"))
    result = _check(tmp_path, report, floors)
    assert result.returncode == 1
    assert "not allowed here: tests.t::test_b: 'needs Redis'" in result.stdout


def test_a_report_without_markers_fails_instead_of_counting_nothing(tmp_path: Path) -> None:
    report = _report(tmp_path, _case("test_a", None), _case("test_b", None), _case("test_c", None))
    floors = "[stages.db]\n[stages.db.floors]\nall = 3\n"
    result = _check(tmp_path, report, floors)
    assert result.returncode == 1
    assert "3 test(s) carry no markers in the report" in result.stdout


def test_a_missing_report_or_stage_fails(tmp_path: Path) -> None:
    assert _check(tmp_path, tmp_path / "nowhere.xml").returncode == 1
    report = _report(tmp_path, _case("test_a", ""))
    result = _check(tmp_path, report, "[stages.other]\n")
    assert result.returncode == 1
    assert "has no stage 'db'" in result.stderr


SAMPLE_TESTS = """
import pytest

@pytest.mark.redis
def test_redis():
    pass

@pytest.mark.browser
@pytest.mark.parametrize("n", [1, 2])
def test_browser(n):
    pass

@pytest.mark.skipif(True, reason="needs Redis (set REDIS_URL)")
@pytest.mark.redis
def test_skipped_by_a_mark():
    pass

def test_plain():
    pytest.skip("a feature that is not there yet")
"""


def test_pytest_writes_the_markers_the_script_reads(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    redis\n    browser\n")
    report = tmp_path / "sample.xml"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.junit_markers", "-p", "no:django",
         "-p", "no:cacheprovider", f"--junitxml={report}", "-q", "test_sample.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    result = _check(tmp_path, report, FLOORS.replace("browser = 1", "browser = 2"))
    assert _row(result.stdout, "all") == ["all", "3", "2", "3"]
    assert _row(result.stdout, "browser") == ["browser", "2", "0", "2"]
    # The mark-skipped test still says it is a redis test.
    assert _row(result.stdout, "redis") == ["redis", "1", "1", "1"]
    assert result.returncode == 1  # only for the skip that names a missing feature
    assert result.stdout.count("FAIL") == 1
    assert "test_plain: 'a feature that is not there yet'" in result.stdout
