"""The code overrides private internals of a few libraries; each is pinned to the range it was
tested with (pyproject.toml's upper bounds). A version outside that range fails here, naming
the override to re-check, instead of breaking quietly at run time."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from packaging.specifiers import SpecifierSet

# distribution -> (tested range, where the override lives and what it relies on)
TESTED = {
    "kombu": (">=5.7,<5.8", "helpcenter/broker.py: filesystem Channel._delete, _exchange_file"),
    "markdown": (">=3.11,<3.12", "helpcenter/markdown.py: md.inlinePatterns._priority"),
    "django": (">=6.1,<6.2", "helpcenter/redis_cache.py: _get_connection_pool_index"),
}


@pytest.mark.parametrize("dist", sorted(TESTED))
def test_overridden_library_is_in_its_tested_range(dist: str) -> None:
    tested, where = TESTED[dist]
    installed = version(dist)
    assert installed in SpecifierSet(tested), (
        f"{dist} {installed} is outside {tested}, the range {where} was tested with: "
        f"re-check that override against {dist} {installed}, then widen the range here and "
        f"in pyproject.toml"
    )


def test_a_version_outside_the_range_is_caught() -> None:
    # The check itself can fail: the next minor release of each is outside its range.
    assert "5.8.0" not in SpecifierSet(TESTED["kombu"][0])
    assert "3.12.0" not in SpecifierSet(TESTED["markdown"][0])
