"""Low: names from data are shown as text; CSV downloads never run as spreadsheet formulas.

Names from CRM data and initiative text rendered as Markdown: a remote image in a rep's name
loaded in every viewer's browser (a beacon fired for reps), links became clickable, and
``<a href>`` in a rep name became a link in Plotly charts. CSV downloads carried
``=HYPERLINK(...)``, ``+cmd|...`` and ``@SUM`` as they were.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from kpi import charts
from kpi.export import csv_bytes
from tests.app.conftest import APP
from tests.security.conftest import EVIL
from ui.widgets import md

ROOT = Path(__file__).resolve().parents[2]
def open_as(user_id: str, page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["auth:user"] = user_id
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def markdown_shown(at: AppTest) -> list[str]:
    """Every element Streamlit renders as Markdown, with metric help and labels."""
    values = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption,
                                *at.error, *at.warning, *at.info, *at.success)]
    values += [f"{m.label}\n{m.proto.help}" for m in at.metric]
    return values


def plotly_strings(at: AppTest) -> Iterator[str]:
    def walk(node: object) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for element in at.get("plotly_chart"):
        yield from walk(json.loads(element.proto.spec))


def assert_as_text(at: AppTest, *, charts_too: bool = False) -> None:
    shown = [v.replace("#### :material/flag: ", "#### ")  # the card's own icon
             for v in markdown_shown(at) if "evil" in v or "beacon" in v]
    assert shown or charts_too, "the hostile name is not on the page: the test proves nothing"
    for value in shown:
        for live in ("http://", "](", ":red[", ":material/", "www.evil"):
            assert live not in value, (live, value)
        assert not re.search(r"(?<!\\)<a ", value), value  # raw HTML, unescaped
    if charts_too:
        names = [s for s in plotly_strings(at) if "evil" in s]
        assert names, "no hostile name in the charts"
        assert not [s for s in names if "<a " in s], names


@pytest.mark.parametrize(("user", "page", "query", "charts_too"), [
    ("mgr-t1", "team", {}, True),                          # title, heat map of rep names
    ("mgr-t1", "coaching", {"rep": "R001"}, False),        # the rep's name as a header
    ("mgr-t1", "rollouts", {}, False),                     # initiative card, team names
    ("exec", "explore", {"by": "rep", "metric": "activities", "grain": "quarter"}, True),
    ("exec", "segments", {"segment": "industry"}, True),   # industry bars
])
def test_names_from_data_are_shown_as_text(hostile: Path, user: str, page: str,
                                            query: dict[str, str], charts_too: bool) -> None:
    assert_as_text(open_as(user, page, **query), charts_too=charts_too)


@pytest.mark.parametrize("payload", [EVIL, "a@b.example", "line one\n# two\n> three\n1. four",
                                     "**bold** _it_ `code` ~~s~~ | cell |", "&lt; &#60; \\*"])
def test_md_escapes_every_construct(payload: str) -> None:
    out = md(payload)
    unescaped = [c for i, c in enumerate(out) if c in "![]()<>*_`~#|:$&\\@-."
                 and (i == 0 or out[i - 1] != "\\") and not (c == "\\" and i + 1 < len(out)
                                                            and not out[i + 1].isalnum())]
    assert not unescaped, (payload, out)
    assert "://" not in out and "www." not in out.replace("\\", "")
    assert out.replace("\\", "").replace("\u2060", "").replace("  \n", "\n") == payload.replace(
        "\\", "")


def test_chart_names_are_escaped_for_plotly() -> None:
    frame = pd.DataFrame({"period": ["2026-01-05"] * 2, "rep": ["<a href='x'>a</a>", "b&c"],
                          "value": [1.0, 2.0], "is_partial": [False, False]})
    from kpi.catalog import load_catalog

    fig = charts.trend(frame, load_catalog().get("activities"), "rep")
    assert [t.name for t in fig.data] == ["&lt;a href='x'&gt;a&lt;/a&gt;", "b&amp;c"]
    assert all("<a" not in t.hovertemplate for t in fig.data)


# --- CSV -------------------------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def test_csv_downloads_escape_formula_cells_the_owasp_way() -> None:
    frame = pd.DataFrame({"rep": [*FORMULAS, "Ann", None], "value": [-1.5, 2, 3, 4, 5, 6, 7, 8],
                          "=name": ["x"] * 8})
    rows = list(csv.reader(io.StringIO(csv_bytes(frame).decode())))
    assert rows[0] == ["rep", "value", "'=name"]
    assert [r[0] for r in rows[1:]] == [f"'{f}" for f in FORMULAS] + ["Ann", ""]
    assert [r[1] for r in rows[1:3]] == ["-1.5", "2.0"]  # numbers stay numbers
    raw = csv_bytes(frame).decode()
    assert '"Ann","7.0","x"' in raw and raw.startswith('"rep","value"')  # every field quoted


def test_every_download_goes_through_the_one_helper() -> None:
    """No page or widget writes CSV itself, and the tables' own export (which Streamlit does
    not escape) is off."""
    callers = []
    for path in [*ROOT.joinpath("app_pages").glob("*.py"), *ROOT.joinpath("ui").glob("*.py"),
                 ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("download_button", "to_csv"):
                callers.append(f"{path.name}:{node.lineno}:{node.attr}")
    assert callers == [c for c in callers if c.startswith("widgets.py")]
    assert len([c for c in callers if c.endswith("download_button")]) == 1
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True
