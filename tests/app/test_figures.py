"""Figures are built once per distinct input and shared; what a chart sends is made once."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import plotly.graph_objects as go
import plotly.io

from kpi import charts
from kpi.catalog import load_catalog
from ui import data, widgets


def _frame(values: list[float]) -> pd.DataFrame:
    periods = [dt.date(2026, m, 1) for m in range(1, len(values) + 1)]
    return pd.DataFrame({"period": periods, "value": values, "is_partial": False})


def test_the_same_input_gives_the_same_figure_and_other_data_another() -> None:
    metric = load_catalog().get("revenue")
    first = widgets.figure(charts.trend, _frame([1.0, 2.0, 3.0]), metric)
    again = widgets.figure(charts.trend, _frame([1.0, 2.0, 3.0]), metric)
    other = widgets.figure(charts.trend, _frame([1.0, 2.0, 4.0]), metric)
    assert again is first
    assert other is not first
    assert list(other.data[-1].y) == [1.0, 2.0, 4.0]
    assert list(first.data[-1].y) == [1.0, 2.0, 3.0]


def test_a_built_figure_sends_what_plotly_would() -> None:
    metric = load_catalog().get("win_rate")
    frame = _frame([0.2, 0.3])
    built = widgets.figure(charts.trend, frame, metric)
    plain = charts.trend(frame, metric)
    assert isinstance(built, go.Figure)
    assert built.to_dict() is built.to_dict()  # made once
    sent = json.loads(plotly.io.to_json(built, validate=False))  # what st.plotly_chart sends
    assert sent == json.loads(plotly.io.to_json(plain, validate=False))
    assert sent["data"] and sent["layout"]["yaxis"]


def test_the_oldest_figures_go_first(monkeypatch) -> None:  # noqa: ANN001 - pytest's fixture
    monkeypatch.setattr(widgets, "_figures", data.Recent(2))
    metric = load_catalog().get("revenue")
    a = widgets.figure(charts.trend, _frame([1.0]), metric)
    widgets.figure(charts.trend, _frame([2.0]), metric)
    widgets.figure(charts.trend, _frame([1.0]), metric)  # a drawn again: b is now the oldest
    widgets.figure(charts.trend, _frame([3.0]), metric)
    assert len(widgets._figures) == 2
    assert widgets.figure(charts.trend, _frame([1.0]), metric) is a


def test_charts_are_drawn_on_the_white_template_and_leave_it_as_it_was() -> None:
    white = plotly.io.templates["plotly_white"]
    before = json.dumps(white.to_plotly_json(), sort_keys=True, default=str)
    fig = charts.trend(_frame([1.0, 2.0]), load_catalog().get("revenue"))
    fig.layout.template.layout.font.size = 99  # a change to one figure's template...
    assert json.loads(plotly.io.to_json(fig))["layout"]["template"]["layout"]["font"]["size"] == 99
    fresh = json.loads(plotly.io.to_json(charts.trend(_frame([3.0]), load_catalog().get("revenue"))))
    assert fresh["layout"]["template"]["layout"]["hovermode"] == "closest"  # plotly_white's
    assert "size" not in fresh["layout"]["template"]["layout"].get("font", {})  # ...stays there
    assert json.dumps(white.to_plotly_json(), sort_keys=True, default=str) == before
