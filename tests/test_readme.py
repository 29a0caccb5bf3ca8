"""The README stays true: its settings table is the one the code generates, and its quick start
names the two commands the Makefile provides."""

from __future__ import annotations

import re
from pathlib import Path

from agent.settings import settings_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(start_marker: str, end_marker: str) -> str:
    start = README.index(start_marker) + len(start_marker)
    return README[start : README.index(end_marker, start)].strip()


def test_readme_settings_table_matches_the_settings_fields() -> None:
    documented = _section("<!-- settings-table:start -->", "<!-- settings-table:end -->")
    assert documented == settings_table(), (
        "README settings table is stale: regenerate it with `python -m agent.settings`"
    )


def test_quick_start_commands_exist_in_the_makefile() -> None:
    quick_start = _section("<!-- quick-start:start -->", "<!-- quick-start:end -->")
    commands = re.findall(r"^make (\w[\w-]*)$", quick_start, flags=re.MULTILINE)
    assert commands == ["run", "test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in commands:
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), target
