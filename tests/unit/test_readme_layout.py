"""The README's Layout section matches the tree: every folder and module it names exists, and
every folder of code and every module of kpi/ is named."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layout() -> dict[str, str]:
    """Each entry of the Layout block: its path and the words that describe it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Layout\n\n```\n", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    path = ""
    for line in block.splitlines():
        if line and not line[0].isspace():
            path, _, words = line.partition(" ")
            entries[path] = words
        else:
            entries[path] += " " + line.strip()
    return entries


def test_every_path_it_names_exists() -> None:
    assert [p for p in layout() if not (ROOT / p).exists()] == []


def test_every_folder_of_code_is_named() -> None:
    named = set(layout())
    folders = {f"{p.parent.relative_to(ROOT)}/" for p in ROOT.glob("*/**/*.py")
               if ".venv" not in p.parts and "build" not in p.parts and "fixtures" not in p.parts}
    folders = {f for f in folders if f.count("/") <= 2 and "/presets/" not in f
               and "/catalog/" not in f}
    assert sorted(folders - named) == []


def test_every_module_of_the_engine_is_named() -> None:
    entries = layout()
    for folder in ("kpi/", "kpi/views/", "kpi/ingest/", "kpi/insights/"):
        words = set(re.findall(r"[a-z_]+", entries[folder].replace("-", "_")))
        modules = {p.stem for p in (ROOT / folder).glob("*.py")} - {"__init__", "__main__"}
        assert sorted(modules - words) == [], folder
