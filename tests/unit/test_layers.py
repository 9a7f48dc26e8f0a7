"""The architecture holds: pages are thin, kpi never touches Streamlit, one module owns the database."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "app_pages").glob("*.py"))
KPI = sorted((ROOT / "kpi").rglob("*.py"))


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_pages_hold_no_sql_and_no_dataframe_work(page: Path) -> None:
    assert not {m for m in imports(page) if m.split(".")[0] in {"duckdb", "sqlalchemy", "pandas",
                                                                  "numpy"} or m == "kpi.store"}
    strings = [n.value for n in ast.walk(ast.parse(page.read_text()))
               if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not [s for s in strings if "SELECT " in s.upper() and " FROM " in s.upper()]


def test_only_the_store_talks_to_the_database() -> None:
    talking = [p.name for p in KPI if {"duckdb", "sqlalchemy"} & {m.split(".")[0] for m in imports(p)}]
    assert talking == ["store.py"]


def test_kpi_never_imports_streamlit_or_ui() -> None:
    offenders = [p.name for p in KPI
                 if {m.split(".")[0] for m in imports(p)} & {"streamlit", "ui"}]
    assert offenders == []
