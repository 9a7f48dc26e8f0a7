"""Reads of deals as they stood on a day (the forecast's data): the one home of their SQL.

The engine answers metrics (sums and rates by period); the forecast needs single deals with the
stage each had reached on a day, and a few counts over days that are not periods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from kpi.engine import in_list
from kpi.store import Store

if TYPE_CHECKING:
    import pandas as pd

OPEN_AT = """
    WITH o AS (
        SELECT o.opp_id, o.rep_id, o.amount, o.is_won, o.closed_at, o.expected_close_at
          FROM opportunities o
         WHERE o.created_at <= $day AND (o.closed_at IS NULL OR o.closed_at > $day) AND {reps}),
    reached AS (
        SELECT h.opp_id, h.stage,
               row_number() OVER (PARTITION BY h.opp_id
                                  ORDER BY h.entered_at DESC, s.position DESC, h.stage) AS nth
          FROM stage_history h JOIN o ON o.opp_id = h.opp_id
          LEFT JOIN stages s ON s.stage = h.stage
         WHERE h.entered_at <= $day AND coalesce(s.outcome, 'open') = 'open')
    SELECT o.opp_id, o.rep_id, o.amount, o.is_won, o.closed_at, o.expected_close_at, r.stage
      FROM o LEFT JOIN reached r ON r.opp_id = o.opp_id AND r.nth = 1
     ORDER BY o.opp_id"""  # one pass over the open deals' history, not one lookup per deal


def open_at(store: Store, day: dt.date, reps: Collection[str] | None = None) -> pd.DataFrame:
    """Deals open at the end of ``day`` with the furthest open stage they had entered by then
    (won and lost stages told apart by the stages table, not by name; None when no history);
    only ``reps``' deals (None: everyone's)."""
    params: dict[str, Any] = {"day": day}
    return store.query(OPEN_AT.format(reps=_of_reps(reps, params)), params)


def created(store: Store, after: dt.date, until: dt.date,
            reps: Collection[str] | None = None) -> int:
    """Opportunities created in (after, until], by ``reps`` (everyone when None)."""
    params: dict[str, Any] = {"a": after, "b": until}
    count = store.scalar(
        "SELECT count(*) FROM opportunities o WHERE o.created_at > $a AND o.created_at <= $b "
        f"AND {_of_reps(reps, params)}", params)
    return int(count or 0)


def won_after(store: Store, after: dt.date, until: dt.date) -> float:
    """Revenue of deals created in (after, until] and won by ``until``."""
    won = store.scalar(
        """SELECT coalesce(sum(amount), 0) FROM opportunities
            WHERE created_at > $snap AND created_at <= $end AND is_won AND closed_at <= $end""",
        {"snap": after, "end": until})
    return float(won or 0)


def closed_and_won(store: Store, after: dt.date, until: dt.date) -> tuple[int, int]:
    """Deals closed in (after, until], and how many of them were won."""
    _, rows = store.rows(
        """SELECT count(*), count(*) FILTER (WHERE is_won) FROM opportunities
            WHERE is_closed AND closed_at > $a AND closed_at <= $b""", {"a": after, "b": until})
    closed, won = rows[0]
    return int(closed or 0), int(won or 0)


def _of_reps(reps: Collection[str] | None, params: dict[str, Any]) -> str:
    """The SQL condition "the deal is one of ``reps``'" (None: every deal), bound in ``params``."""
    return "1 = 1" if reps is None else in_list("o.rep_id", "rep", sorted(reps), params)
