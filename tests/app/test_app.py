"""The preview app opens on the demo database and shows the engine's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi.engine import Engine
from kpi.summary import format_value, headlines

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("KPI_DB", str(demo_db))
    return AppTest.from_file(APP, default_timeout=30)


def test_headlines_equal_the_engine(app: AppTest, demo_engine: Engine) -> None:
    app.run()
    assert not app.exception
    shown = {m.label: m.value for m in app.metric}
    for card in headlines(demo_engine, ["revenue", "win_rate", "sales_cycle_days"]):
        assert shown[card.label] == format_value(card.value, card.unit)


def test_changing_metric_and_split(app: AppTest) -> None:
    app.run()
    app.selectbox(key="metric").set_value("new_prospect_meetings").run()
    app.selectbox(key="by").set_value("team").run()
    assert not app.exception
    assert "New-prospect meetings" in app.caption[0].value


def test_missing_database_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_DB", str(tmp_path / "none.duckdb"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert "make run" in at.error[0].value
