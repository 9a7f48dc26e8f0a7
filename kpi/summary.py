"""Headline numbers: the last complete period of each metric against the period before it."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from kpi.engine import Engine, MetricRequest, Scope


@dataclass(frozen=True)
class Headline:
    metric_id: str
    label: str
    unit: str
    direction: str
    definition: str
    period: dt.date | None
    value: float | None
    previous: float | None

    @property
    def change_pct(self) -> float | None:
        if self.value is None or self.previous in (None, 0):
            return None
        return self.value / self.previous - 1.0


def headlines(engine: Engine, metric_ids: list[str], grain: str = "quarter",
              scope: Scope | None = None) -> list[Headline]:
    """Each metric's last complete period and the one before (partial periods are skipped)."""
    return [_headline(engine, m, grain, scope or Scope.everyone()) for m in metric_ids]


def _headline(engine: Engine, metric_id: str, grain: str, scope: Scope) -> Headline:
    metric = engine.catalog.get(metric_id)
    frame = engine.run(MetricRequest.make(metric_id, grain=grain, scope=scope))
    complete = frame[~frame["is_partial"]]
    values = [(p, _number(v)) for p, v in zip(complete["period"], complete["value"], strict=True)]
    last = values[-1] if values else (None, None)
    previous = values[-2][1] if len(values) > 1 else None
    return Headline(metric.id, metric.label, metric.unit, metric.direction, metric.definition,
                    last[0], last[1], previous)


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def format_value(value: float | None, unit: str) -> str:
    """How a number reads next to its label."""
    if value is None:
        return "—"
    if unit == "currency":
        return f"${value:,.0f}"
    if unit == "percent":
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:.0f} days"
    if unit == "ratio":
        return f"{value:.2f}×"
    if unit == "per_rep_week":
        return f"{value:.1f} / rep-week"
    return f"{value:,.0f}"


def format_money_short(value: float | None) -> str:
    """Money that fits a card: $13.4M, $820k, $950."""
    if value is None:
        return "—"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"${value / size:,.{1 if size > 1e3 else 0}f}{suffix}"
    return f"${value:,.0f}"


def format_change(change: float | None) -> str:
    """'+12.5%', or '—' when there is nothing to compare with."""
    return "—" if change is None else f"{change:+.1%}"


def period_label(period: dt.date | None, grain: str) -> str:
    """'Q3 2026', 'Mar 2026', 'week of 2026-03-02', '2026'."""
    if period is None:
        return "no complete period yet"
    if grain == "quarter":
        return f"Q{(period.month - 1) // 3 + 1} {period.year}"
    if grain == "month":
        return period.strftime("%b %Y")
    if grain == "year":
        return str(period.year)
    return f"week of {period.isoformat()}" if grain == "week" else period.isoformat()
