"""Pure functions: metric DataFrame -> plotly Figure. Outputs and levers keep their own colours."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kpi.catalog import Metric

OUTPUT_COLOUR = "#1f4e79"
LEVER_COLOUR = "#d9822b"
PALETTE = ("#1f4e79", "#d9822b", "#3a9d5d", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#b7950b")


def trend(frame: pd.DataFrame, metric: Metric, by: str | None = None) -> go.Figure:
    """A line per group over periods; partial periods are drawn as hollow markers."""
    fig = go.Figure()
    groups = [(metric.label, frame)] if by is None else list(frame.groupby(by, sort=True))
    for i, (name, part) in enumerate(groups):
        colour = _colour(metric) if by is None else PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(
            x=part["period"], y=part["value"], name=str(name), mode="lines+markers",
            line={"color": colour, "width": 2},
            marker={"symbol": ["circle-open" if p else "circle" for p in part["is_partial"]],
                    "size": 7, "color": colour},
            hovertemplate=f"%{{x}}<br>{metric.label}: %{{y:{_hover(metric)}}}<extra>{name}</extra>",
        ))
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=360, template="plotly_white",
        hovermode="x unified", legend={"orientation": "h", "y": -0.15},
        yaxis={"tickformat": ".0%" if metric.unit == "percent" else ",", "rangemode": "tozero"},
        title={"text": f"{metric.label} — {metric.formula}", "font": {"size": 14}},
    )
    return fig


def _colour(metric: Metric) -> str:
    return OUTPUT_COLOUR if metric.kind == "output" else LEVER_COLOUR


def _hover(metric: Metric) -> str:
    return ".1%" if metric.unit == "percent" else ",.2f"
