"""Pure functions: metric DataFrame -> plotly Figure. Outputs and levers keep their own colours."""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from kpi.catalog import Metric

OUTPUT_COLOUR = "#1f4e79"
LEVER_COLOUR = "#d9822b"
PALETTE = ("#1f4e79", "#d9822b", "#3a9d5d", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#b7950b")


def text(value: object) -> str:
    """A name from the data as Plotly shows it: as written (Plotly reads <a>, <b>, <br> ... in
    labels, legends and hover text as markup; escaped, they are shown as text)."""
    return html.escape(str(value), quote=False)


def trend(frame: pd.DataFrame, metric: Metric, by: str | None = None) -> go.Figure:
    """A line per group over periods; partial periods are drawn as hollow markers."""
    fig = go.Figure()
    groups = [(metric.label, frame)] if by is None else list(frame.groupby(by, sort=True))
    for i, (name, part) in enumerate(groups):
        colour = _colour(metric) if by is None else PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(
            x=part["period"], y=part["value"], name=text(name), mode="lines+markers",
            line={"color": colour, "width": 2},
            marker={"symbol": ["circle-open" if p else "circle" for p in part["is_partial"]],
                    "size": 7, "color": colour},
            hovertemplate=f"%{{x}}<br>{metric.label}: %{{y:{_hover(metric)}}}"
                          "<extra>%{fullData.name}</extra>",
        ))
    _on_white(fig).update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=360,
        hovermode="x unified", legend={"orientation": "h", "y": -0.15},
        yaxis={"tickformat": ".0%" if metric.unit == "percent" else ",", "rangemode": "tozero"},
        title={"text": f"{metric.label} — {metric.formula}", "font": {"size": 14}},
    )
    return fig


def _colour(metric: Metric) -> str:
    return OUTPUT_COLOUR if metric.kind == "output" else LEVER_COLOUR


def _hover(metric: Metric) -> str:
    return ".1%" if metric.unit == "percent" else ",.2f"


BASELINE_COLOUR = "#7f8c8d"
TARGET_COLOUR = "#3a9d5d"
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10},
           "legend": {"orientation": "h", "y": -0.18}, "font": {"size": 13}}


def _on_white(fig: go.Figure) -> go.Figure:
    """``fig`` on Plotly's white template, set the way Plotly sets its default template: the
    registered template is valid already, so it is not checked and deep-copied again (that was
    half the time of building a chart)."""
    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates["plotly_white"]
    finally:
        layout._validate = True
    return fig


def _styled(fig: go.Figure, **layout: object) -> go.Figure:
    """``fig`` on the white template with the charts' common layout, ``layout`` over it."""
    return _on_white(fig).update_layout(**{**_LAYOUT, **layout})


def progress(frame: pd.DataFrame, metric: Metric, rollout: dt.date | None = None,
             title: str | None = None, baseline_name: str = "Baseline") -> go.Figure:
    """Value per period over its baseline band, with target steps and the rollout marked."""
    fig = go.Figure()
    x = frame["period"]
    if {"band_lo", "band_hi"} <= set(frame.columns) and frame["band_hi"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=frame["band_hi"], mode="lines", line={"width": 0},
                                 hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=x, y=frame["band_lo"], mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor="rgba(127,140,141,0.18)",
                                 name=f"{baseline_name} ±1 s.d.", hoverinfo="skip"))
    if "baseline" in frame.columns and frame["baseline"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=frame["baseline"], mode="lines", name=baseline_name,
                                 line={"color": BASELINE_COLOUR, "dash": "dash", "width": 1.5},
                                 hovertemplate=f"{baseline_name}: %{{y:{_hover(metric)}}}<extra></extra>"))
    if "target" in frame.columns and frame["target"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=frame["target"], mode="lines", name="Target",
                                 line={"color": TARGET_COLOUR, "width": 2, "shape": "hv"},
                                 hovertemplate=f"Target: %{{y:{_hover(metric)}}}<extra></extra>"))
    if "team_average" in frame.columns and frame["team_average"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=frame["team_average"], mode="lines", name="Team average",
                                 line={"color": "#5d8aa8", "dash": "dot", "width": 1.5},
                                 hovertemplate=f"Team average: %{{y:{_hover(metric)}}}<extra></extra>"))
    fig.add_trace(_value_trace(frame, metric))
    if rollout is not None:
        _mark(fig, rollout, "rollout")
    _styled(fig, height=320, hovermode="x unified",
            title={"text": title or metric.label, "font": {"size": 15}},
            yaxis={"tickformat": _tick(metric), "rangemode": "tozero"})
    return fig


def _value_trace(frame: pd.DataFrame, metric: Metric) -> go.Scatter:
    colour = _colour(metric)
    partial = frame["is_partial"] if "is_partial" in frame.columns else [False] * len(frame)
    return go.Scatter(
        x=frame["period"], y=frame["value"], name=metric.label, mode="lines+markers",
        line={"color": colour, "width": 2.5},
        marker={"symbol": ["circle-open" if p else "circle" for p in partial], "size": 7,
                "color": colour},
        hovertemplate=f"{metric.label}: %{{y:{_hover(metric)}}}<extra></extra>",
    )


def _mark(fig: go.Figure, day: dt.date, text: str) -> None:
    fig.add_shape(type="line", x0=day, x1=day, y0=0, y1=1, yref="paper",
                  line={"color": "#c0392b", "width": 1.5, "dash": "dot"})
    fig.add_annotation(x=day, y=1, yref="paper", text=text, showarrow=False, yanchor="bottom",
                       font={"color": "#c0392b", "size": 11})


def heatmap(frame: pd.DataFrame, metric: Metric) -> go.Figure:
    """Rep x week, coloured by value against the goal (1.0 = on goal), the value written in."""
    grid = frame.pivot_table(index="rep", columns="period", values="score", aggfunc="first")
    values = frame.pivot_table(index="rep", columns="period", values="value", aggfunc="first")
    grid = grid.sort_index(ascending=False)
    values = values.reindex(index=grid.index, columns=grid.columns)
    written = values.map(lambda v: "" if pd.isna(v) else f"{v:.0f}" if v >= 10 or v == int(v)
                         else f"{v:.1f}")
    partial = set(frame.loc[frame["is_partial"], "period"]) if "is_partial" in frame else set()
    columns = [f"{p.isoformat()} (to date)" if p in partial else p.isoformat() for p in grid.columns]
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=columns, y=[text(r) for r in grid.index],
        text=written.to_numpy(), texttemplate="%{text}", zmin=0.0, zmid=1.0, zmax=2.0,
        colorscale=[[0.0, "#c0392b"], [0.5, "#f7f7f7"], [1.0, "#2e7d4f"]],
        colorbar={"title": {"text": "vs goal"}, "tickformat": ".0%"}, xgap=2, ygap=2,
        hovertemplate="%{y}, week of %{x}<br>" + metric.label + ": %{text}<br>"
                      "vs goal: %{z:.0%}<extra></extra>",
    ))
    _styled(fig, height=max(260, 34 * len(grid) + 90),
            title={"text": f"{metric.label} per rep-week, against goal", "font": {"size": 15}},
            xaxis={"type": "category", "tickangle": -45})
    return fig


def segment_bars(frame: pd.DataFrame, dimension: str) -> go.Figure:
    """Win rate, sales cycle, gross margin and share of open pipeline per segment, side by side."""
    from plotly.subplots import make_subplots

    order = frame.sort_values("win_rate", ascending=True)
    panels = [("win_rate", "Win rate", OUTPUT_COLOUR, "%{x:.0%}"),
              ("sales_cycle_days", "Sales cycle (days)", "#5d8aa8", "%{x:.0f}"),
              ("gross_margin", "Gross margin", "#3a9d5d", "%{x:.0%}"),
              ("pipeline_share", "Share of open pipeline", LEVER_COLOUR, "%{x:.0%}")]
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=[p[1] for p in panels])
    labels = order[dimension].map(text)
    for col, (column, title, colour, shown) in enumerate(panels, start=1):
        fig.add_trace(go.Bar(x=order[column], y=labels, orientation="h", marker_color=colour,
                             texttemplate=shown, textposition="auto", textangle=0, name=title,
                             hovertemplate=f"%{{y}}: {shown}<extra>{title}</extra>"),
                      1, col)
    _styled(fig, height=max(260, 30 * len(order) + 100), showlegend=False)
    fig.update_xaxes(showticklabels=False, rangemode="tozero")
    return fig


def _tick(metric: Metric) -> str:
    return ".0%" if metric.unit == "percent" else ","


def event_study(frame: pd.DataFrame, metric: Metric,
                axis: str = "weeks since adoption (week 8 = 8 and after)") -> go.Figure:
    """Effect by week since adoption with its 90% band; zero and the adoption week marked."""
    fig = go.Figure()
    x = frame["week_since_adoption"]
    fig.add_trace(go.Scatter(x=x, y=frame["high"], mode="lines", line={"width": 0},
                             hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=frame["low"], mode="lines", line={"width": 0}, fill="tonexty",
                             fillcolor="rgba(217,130,43,0.18)", name="90% interval",
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=frame["effect"], mode="lines+markers", name="Effect",
                             line={"color": _colour(metric), "width": 2.5},
                             hovertemplate="week %{x}: %{y:+.0%}<extra></extra>"))
    fig.add_hline(y=0, line={"color": BASELINE_COLOUR, "width": 1})
    fig.add_vline(x=-0.5, line={"color": "#c0392b", "width": 1.5, "dash": "dot"})
    _styled(fig, height=320, hovermode="x unified",
            title={"text": f"{metric.label}: change by week since the team adopted",
                   "font": {"size": 15}},
            xaxis={"title": axis},
            yaxis={"tickformat": "+.0%"})
    return fig


def funnel(frame: pd.DataFrame) -> go.Figure:
    """Win rate against closed deals, inside the funnel where chance alone would put a rep."""
    order = frame.sort_values("closed")
    limits = order.drop_duplicates("closed")  # the funnel depends on closed deals alone
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=limits["closed"], y=limits["funnel_high"], mode="lines",
                             line={"color": BASELINE_COLOUR, "dash": "dash", "width": 1},
                             name="90% funnel", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=limits["closed"], y=limits["funnel_low"], mode="lines",
                             line={"color": BASELINE_COLOUR, "dash": "dash", "width": 1},
                             showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=order["closed"], y=order["win_rate"], mode="markers", name="Rep",
        marker={"color": OUTPUT_COLOUR, "size": 9, "opacity": 0.8}, text=order["rep"].map(text),
        customdata=order[["won", "shrunk"]],
        hovertemplate="%{text}: %{customdata[0]} of %{x} won (%{y:.0%}); "
                      "shrunk %{customdata[1]:.0%}<extra></extra>"))
    _styled(fig, height=340, title={"text": "Win rate by deals closed", "font": {"size": 15}},
            xaxis={"title": "closed deals"}, yaxis={"tickformat": ".0%"})
    return fig


def lead_lag(curve: pd.DataFrame, lever: Metric, output: Metric, best: int | None) -> go.Figure:
    """Out-of-sample fit by lag (bars) and the correlation (line), the chosen lag marked."""
    fig = go.Figure()
    colours = [OUTPUT_COLOUR if lag == best else BASELINE_COLOUR for lag in curve["lag"]]
    fig.add_trace(go.Bar(x=curve["lag"], y=curve["oos_r2"], name="Out-of-sample R²",
                         marker={"color": colours},
                         hovertemplate="lag %{x} weeks: R² %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=curve["lag"], y=curve["correlation"], name="Correlation",
                             mode="lines+markers", yaxis="y2",
                             line={"color": _colour(lever), "width": 2},
                             hovertemplate="lag %{x} weeks: correlation %{y:+.2f}<extra></extra>"))
    fig.add_hline(y=0, line={"color": BASELINE_COLOUR, "width": 1})
    _styled(fig, height=320, hovermode="x unified",
            title={"text": f"{lever.label} in week t against {output.label.lower()} in "
                           "week t + lag", "font": {"size": 15}},
            xaxis={"title": "lag (weeks)", "dtick": 1},
            yaxis={"title": "out-of-sample R²"},
            yaxis2={"title": "correlation", "overlaying": "y", "side": "right",
                    "showgrid": False})
    return fig


def forecast(booked: float, open_expected: float, new_expected: float, low: float, high: float,
             quota: float | None, title: str) -> go.Figure:
    """One horizontal bar: booked, expected from open deals and from new deals; the 80% range as
    a whisker and the quota as a line."""
    fig = go.Figure()
    parts = (("Booked", booked, OUTPUT_COLOUR), ("Open deals (expected)", open_expected, "#7fb3d5"),
             ("New deals (expected)", new_expected, "#d6eaf8"))
    for name, value, colour in parts:
        fig.add_trace(go.Bar(y=["Revenue"], x=[value], name=name, orientation="h",
                             marker={"color": colour},
                             hovertemplate=f"{name}: %{{x:,.0f}}<extra></extra>"))
    total = booked + open_expected + new_expected
    fig.add_trace(go.Scatter(y=["Revenue"], x=[total], mode="markers", name="80% range",
                             marker={"color": "#1b2631", "size": 10, "symbol": "line-ns-open"},
                             error_x={"type": "data", "symmetric": False, "array": [high - total],
                                      "arrayminus": [total - low], "color": "#1b2631",
                                      "thickness": 2, "width": 12},
                             hovertemplate=f"expected %{{x:,.0f}} (80%: {low:,.0f}–{high:,.0f})"
                                           "<extra></extra>"))
    if quota:
        fig.add_vline(x=quota, line={"color": "#c0392b", "width": 2, "dash": "dash"},
                      annotation_text="quota", annotation_position="top")
    _styled(fig, legend={"orientation": "h", "y": -0.45}, barmode="stack",
            height=240, title={"text": title, "font": {"size": 15}},
            xaxis={"tickformat": "$~s"}, yaxis={"showticklabels": False})
    return fig


def levers_vs_goal(frame: pd.DataFrame) -> go.Figure:
    """Each lever's last four weeks against its goal; levers that lead the output in colour."""
    order = frame.dropna(subset=["vs_goal"]).sort_values("vs_goal")
    colours = [OUTPUT_COLOUR if leads else BASELINE_COLOUR for leads in order["leads"]]
    fig = go.Figure(go.Bar(
        x=order["vs_goal"], y=order["lever_label"], orientation="h", marker={"color": colours},
        customdata=order[["goal_kind", "verdict"]],
        hovertemplate="%{y}: %{x:+.0%} against %{customdata[0]}<br>%{customdata[1]}"
                      "<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#1b2631", "width": 1})
    _styled(fig, height=80 + 44 * max(len(order), 1), showlegend=False,
            title={"text": "Last four weeks against the goal (coloured: leads win rate)",
                   "font": {"size": 15}},
            xaxis={"tickformat": "+.0%"})
    return fig
