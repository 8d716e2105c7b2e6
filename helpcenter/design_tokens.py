"""The colour tokens of static/css/tokens.css and their WCAG contrast ratios.

Read from the stylesheet itself, so the styleguide's table and the test that holds every
pair to AA measure the colours the pages really use, not a copy that could drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TOKENS_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "tokens.css"

# (foreground, background, minimum ratio, where the pair appears). Text needs 4.5:1 (AA for
# normal-size text); the focus ring and input borders are non-text and need 3:1.
PAIRS: tuple[tuple[str, str, float, str], ...] = (
    ("fg", "bg", 4.5, "running text"),
    ("fg", "panel", 4.5, "text in cards, panels and callouts"),
    ("muted", "bg", 4.5, "meta lines, ledes, captions"),
    ("muted", "panel", 4.5, "meta lines inside cards and panels"),
    ("accent", "bg", 4.5, "links"),
    ("accent", "panel", 4.5, "links and secondary buttons in panels"),
    ("accent-fg", "accent", 4.5, "primary button label"),
    ("ok", "bg", 4.5, "'up' badges and results"),
    ("ok", "panel", 4.5, "'up' badges inside panels"),
    ("warn", "bg", 4.5, "'some problems' badges and results"),
    ("warn", "panel", 4.5, "warning badges inside panels"),
    ("bad", "bg", 4.5, "'down' badges and results"),
    ("bad", "panel", 4.5, "'down' badges inside panels"),
    ("refused", "bg", 4.5, "'blocked for our server' badges"),
    ("refused", "panel", 4.5, "'blocked for our server' badges inside panels"),
    ("info", "panel", 4.5, "maintenance badges inside panels"),
    ("focus", "bg", 3.0, "focus ring"),
    ("focus", "panel", 3.0, "focus ring inside panels"),
    ("muted", "bg", 3.0, "input borders"),
)

_DECLARATION = re.compile(r"--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})\s*;")
_DARK = "@media (prefers-color-scheme: dark)"


@dataclass(frozen=True)
class PairRatio:
    scheme: str
    fg: str
    bg: str
    fg_hex: str
    bg_hex: str
    ratio: float
    minimum: float
    use: str

    @property
    def passes(self) -> bool:
        return self.ratio >= self.minimum


@cache
def schemes() -> dict[str, dict[str, str]]:
    """{"light": {"fg": "#1b1f24", ...}, "dark": {...}}: hex colours only."""
    text = TOKENS_CSS.read_text()
    light_part, _, dark_part = text.partition(_DARK)
    light = dict(_DECLARATION.findall(light_part))
    # Dark overrides what it names; anything it leaves out stays as in light.
    dark = {**light, **dict(_DECLARATION.findall(dark_part))}
    return {"light": light, "dark": dark}


def _luminance(hex_colour: str) -> float:
    channels = []
    for i in (1, 3, 5):
        c = int(hex_colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def pair_ratios() -> list[PairRatio]:
    rows = []
    for scheme, colours in schemes().items():
        for fg, bg, minimum, use in PAIRS:
            ratio = contrast(colours[fg], colours[bg])
            rows.append(
                PairRatio(scheme, fg, bg, colours[fg], colours[bg], round(ratio, 2), minimum, use)
            )
    return rows
