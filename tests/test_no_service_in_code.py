"""Nothing in the code assumes one service: ChatGPT and OpenAI are data, not words in code.

Scans the templates, static files and the apps' Python. Skipped: migrations (what
existed when they ran) and helpcenter/content (the starter guides, which are data).
A file on the short list below holds starter data or words that name a service
for a reason given beside it; any other mention fails, so a new one is a choice
someone makes here, in the open.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = re.compile(r"chat\s?gpt|open\s?ai", re.IGNORECASE)
SCANNED = ("templates", "static", "diagnostics", "helpcenter", "notices")
SUFFIXES = {".py", ".html", ".txt", ".xml", ".js", ".css", ".json", ".yml", ".yaml"}
SKIPPED = ("migrations", "content", "__pycache__")
ALLOWED = {
    # Starter data: the ChatGPT service's check targets and its own guides' slugs.
    "diagnostics/management/commands/seed_targets.py",
    "diagnostics/management/commands/seed_rules.py",
    # How search joins words typed apart ("chat gpt" finds "chatgpt"): an example of
    # a query, not an assumption about which service the site covers.
    "helpcenter/search/plan.py",
}


def _scanned_files() -> list[Path]:
    files = []
    for folder in SCANNED:
        for path in (ROOT / folder).rglob("*"):
            relative = path.relative_to(ROOT)
            if path.suffix in SUFFIXES and not set(SKIPPED) & set(relative.parts):
                files.append(path)
    return files


def test_no_template_or_code_names_a_service() -> None:
    found = []
    for path in _scanned_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative in ALLOWED:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if NAMES.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "Name services in data, not in code:\n" + "\n".join(found)


def test_the_scan_reads_what_it_should_and_the_list_names_real_files() -> None:
    scanned = {path.relative_to(ROOT).as_posix() for path in _scanned_files()}
    assert "templates/base.html" in scanned
    assert "diagnostics/verdict.py" in scanned and "diagnostics/claims.py" in scanned
    assert not any("/migrations/" in path or "/content/" in path for path in scanned)
    assert scanned >= ALLOWED  # a file renamed away must leave the list too
