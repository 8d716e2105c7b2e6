"""One row per target, its probes by name inside, carrying the result that matters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from diagnostics.evidence import reuse_note, target_rows


@dataclass
class FakeTarget:
    slug: str
    name: str


@dataclass
class Row:
    """The fields of a stored ProbeResult the evidence rows read."""

    target: FakeTarget
    probe: str
    outcome: str
    summary: str = ""
    region: str = "default"
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def target_id(self) -> str:
        return self.target.slug

    def get_outcome_label(self) -> str:
        return self.outcome.capitalize()


WEB = FakeTarget("web", "ChatGPT web app")
STATUS = FakeTarget("status", "OpenAI status page")


def test_it_groups_probes_under_their_target_by_name_in_request_order() -> None:
    rows = target_rows(
        [
            Row(WEB, "http", "ok"),
            Row(WEB, "dns", "ok"),
            Row(WEB, "tls", "ok"),
            Row(STATUS, "status", "ok"),
        ]
    )
    assert [r.slug for r in rows] == ["web", "status"]
    assert [line.name for line in rows[0].probes] == ["Address lookup", "Certificate", "Page"]
    assert rows[0].main.name == "Page"  # all fine: the page is what counts
    assert rows[1].probes[0].name == "Status page"


def test_the_first_failure_on_the_way_explains_the_rest() -> None:
    (row,) = target_rows(
        [
            Row(WEB, "dns", "error", "The name did not resolve."),
            Row(WEB, "http", "error", "Could not connect."),
        ]
    )
    assert row.outcome == "error"
    assert row.main.name == "Address lookup"
    assert row.main.summary == "The name did not resolve."


def test_a_block_on_the_page_is_the_row_result_when_the_lookup_worked() -> None:
    (row,) = target_rows([Row(WEB, "dns", "ok"), Row(WEB, "http", "blocked", "1020")])
    assert (row.outcome, row.main.name) == ("blocked", "Page")


def test_several_regions_say_which_region_saw_what() -> None:
    (row,) = target_rows(
        [Row(WEB, "http", "ok", region="eu"), Row(WEB, "http", "blocked", region="us")]
    )
    assert [line.name for line in row.probes] == ["Page (from eu)", "Page (from us)"]
    assert row.main.name == "Page (from us)"


def test_a_reused_answer_says_how_old_it_is() -> None:
    assert reuse_note({"coalesced": True, "age_seconds": 40.4}) == (
        "checked 40 s ago for an earlier run"
    )
    assert reuse_note({"coalesced": True, "age_seconds": 0.0}) == (
        "checked moments ago for an earlier run"
    )
    assert reuse_note({"coalesced": True, "age_seconds": 9, "probed_for": "history"}) == (
        "checked 9 s ago by our regular check"
    )
    assert reuse_note({}) == ""
    (row,) = target_rows([Row(WEB, "http", "ok", evidence={"coalesced": True, "age_seconds": 12})])
    assert row.main.age == "checked 12 s ago for an earlier run"
