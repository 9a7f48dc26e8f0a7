"""Counts stay whole numbers from the engine to the CLI's CSV and JSON (2, never 2.0), by hand."""

from __future__ import annotations

from kpi.engine import MetricRequest
from tests.conftest import Tiny, d


def test_a_count_is_an_integer(tiny: Tiny) -> None:
    """Rep r wins new business from accounts X (twice) and Y in January 2025: 2 new logos."""
    tiny.team("T")
    tiny.rep("r", "T")
    for account in ("X", "Y"):
        tiny.account(account)
    tiny.deal("r", "2025-01-02", "2025-01-10", won=True, amount=10, account="X")
    tiny.deal("r", "2025-01-02", "2025-01-20", won=True, amount=20, account="X")
    tiny.deal("r", "2025-01-02", "2025-01-21", won=True, amount=30, account="Y")
    columns, rows = tiny.engine.rows(MetricRequest.make(
        "new_logos", grain="month", date_from=d("2025-01-01"), date_to=d("2025-01-31")))
    assert columns == ["period", "value", "is_partial"]
    assert rows == [(d("2025-01-01"), 2, False)]
    assert type(rows[0][1]) is int
    _, rows = tiny.engine.rows(MetricRequest.make(
        "revenue", grain="month", date_from=d("2025-01-01"), date_to=d("2025-01-31")))
    assert rows == [(d("2025-01-01"), 60.0, False)]
