"""How numbers read on the pages: values in their unit, changes, short money, period labels."""

from __future__ import annotations

import datetime as dt

from kpi.schema import Grain


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


def period_label(period: dt.date | None, grain: Grain) -> str:
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
