"""Write each test's markers into the junit XML report (pytest leaves them out).

CI reads the report after each stage (scripts/check_test_report.py) to count how
many browser, redis, worker and postgres tests really ran; without the markers in
the report it could only count tests, not which kind.
"""

from __future__ import annotations

import pytest

# Bookkeeping marks pytest itself applies: they say nothing about what a test needs.
NOT_A_KIND = frozenset({"parametrize", "usefixtures", "filterwarnings", "skip", "skipif"})


def marker_names(item: pytest.Item) -> list[str]:
    return sorted({mark.name for mark in item.iter_markers()} - NOT_A_KIND)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # At collection, not in a fixture: a test skipped before its fixtures run
    # (a skipif mark) must still say what kind of test it was.
    for item in items:
        item.user_properties.append(("markers", ",".join(marker_names(item))))
