"""The one diff engine: the admin's history compare and the editor's conflict view use it.

Data, not HTML: each line is a kind and its segments, and templates escape every
segment themselves. One-line values are compared word by word; text gets
hunks of lines, and a line replaced by one line shows which words changed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    kind: str  # "same", "ins" or "del"
    text: str


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "ins", "del", "change" (both sides inline) or "hunk"
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        """The line as plain text (its segments joined), for tests and logs."""
        return "".join(segment.text for segment in self.segments)


@dataclass(frozen=True)
class FieldChange:
    """One field between two states: its name, how editors call it, both values, the diff."""

    name: str
    label: str
    old: str
    new: str
    lines: tuple[DiffLine, ...] = ()  # empty where the template shows old -> new whole


def diff_text(old: str, new: str, context: int = 3) -> tuple[DiffLine, ...]:
    """A readable diff: words for one-line values, unified hunks of lines for text."""
    if "\n" not in old and "\n" not in new:
        return (DiffLine("change", word_segments(old, new)),)
    a, b = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        header = f"Lines {first[1] + 1} to {last[2]} → {first[3] + 1} to {last[4]}"
        lines.append(DiffLine("hunk", (Segment("same", header),)))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [DiffLine("same", (Segment("same", line),)) for line in a[i1:i2]]
            elif tag == "replace" and i2 - i1 == j2 - j1:
                # Line for line: show which words changed inside each line.
                for before, after in zip(a[i1:i2], b[j1:j2], strict=True):
                    segments = word_segments(before, after)
                    lines.append(DiffLine("del", tuple(s for s in segments if s.kind != "ins")))
                    lines.append(DiffLine("ins", tuple(s for s in segments if s.kind != "del")))
            else:
                lines += [DiffLine("del", (Segment("del", line),)) for line in a[i1:i2]]
                lines += [DiffLine("ins", (Segment("ins", line),)) for line in b[j1:j2]]
    return tuple(lines)


_WORDS = re.compile(r"\s+|\w+|[^\w\s]")


def word_segments(old: str, new: str) -> tuple[Segment, ...]:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("del", "".join(a[i1:i2])))
        if j2 > j1:
            segments.append(Segment("ins", "".join(b[j1:j2])))
    return tuple(segments)
