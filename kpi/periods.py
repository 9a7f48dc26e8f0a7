"""Calendar periods shared by the engine's callers: where a period starts and ends, and windows.

Weeks start on Monday (ISO), as DuckDB's ``date_trunc('week', ...)`` does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kpi.schema import Grain

_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Window:
    """An inclusive date window: ``start`` to ``end``."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def shift_years(self, years: int) -> Window:
        return Window(shift_years(self.start, years), shift_years(self.end, years))


def period_start(day: dt.date, grain: Grain) -> dt.date:
    """The first day of the period that holds ``day``."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "year":
        return dt.date(day.year, 1, 1)
    raise ValueError(f"unknown grain {grain!r}")


def next_period(start: dt.date, grain: Grain) -> dt.date:
    """The first day of the period after the one starting on ``start``."""
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(weeks=1)
    months = start.year * 12 + start.month - 1 + _MONTHS[grain]
    return dt.date(months // 12, months % 12 + 1, 1)


def period_last_day(start: dt.date, grain: Grain) -> dt.date:
    return next_period(start, grain) - dt.timedelta(days=1)


def last_complete_day(day: dt.date, grain: Grain) -> dt.date:
    """The last day of the last complete period on or before ``day`` (``day`` if it ends one)."""
    start = period_start(day, grain)
    return day if period_last_day(start, grain) == day else start - dt.timedelta(days=1)


def quarter_ends(day: dt.date, count: int) -> list[dt.date]:
    """The last ``count`` quarter ends on or before ``day``, newest first."""
    ends = [period_start(day + dt.timedelta(days=1), "quarter") - dt.timedelta(days=1)]
    while len(ends) < count:
        ends.append(period_start(ends[-1], "quarter") - dt.timedelta(days=1))
    return ends


def period_to_date(day: dt.date, grain: Grain) -> Window:
    """From the start of ``day``'s period up to and including ``day``."""
    return Window(period_start(day, grain), day)


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` away (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def weeks_in(grain: Grain) -> float:
    """Average length of a period in weeks (for scaling weekly rates to a period)."""
    return {"day": 1 / 7, "week": 1.0, "month": 365.25 / 12 / 7, "quarter": 365.25 / 4 / 7,
            "year": 365.25 / 7}[grain]
