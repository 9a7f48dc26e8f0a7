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


UI = sorted((ROOT / "ui").glob("*.py"))
DOORS = {"data.py", "session.py"}  # the only ui modules that hold the engine's store


def store_reads(path: Path) -> list[int]:
    """Lines that read an object's ``.store`` or look a function up by name (``getattr``)."""
    return sorted(node.lineno for node in ast.walk(ast.parse(path.read_text()))
            if (isinstance(node, ast.Attribute) and node.attr == "store")
            or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"))


@pytest.mark.parametrize("path", PAGES + [p for p in UI if p.name not in DOORS],
                         ids=[p.name for p in PAGES] + [f"ui/{p.name}" for p in UI
                                                        if p.name not in DOORS])
def test_pages_reach_the_data_only_through_ui_data(path: Path) -> None:
    assert store_reads(path) == []


def test_the_check_sees_a_store_read_and_a_lookup_by_name(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text("rows = eng.store.rows('x')\nfn = getattr(views, name)\n")
    assert store_reads(page) == [1, 2]


def test_ui_data_wraps_each_view_under_its_own_name() -> None:
    from kpi import views
    from ui import data

    wrapped = {name: v.fn for name, v in vars(data).items() if isinstance(v, data.View)}
    assert len(wrapped) >= 20
    assert {name: fn.__name__ for name, fn in wrapped.items()} == {n: n for n in wrapped}
    assert all(fn is vars(views)[name] for name, fn in wrapped.items())
    assert set(views.STORED) <= set(wrapped.values())
    assert "getattr(" not in (ROOT / "ui" / "data.py").read_text()
