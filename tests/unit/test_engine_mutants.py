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


def test_two_requests_are_one_query_and_one_request_its_own(tiny: Tiny) -> None:
    """rows_many batches from two requests on (one query, each request's rows as rows() gives
    them); a single request is sent alone, as rows() sends it."""
    tiny.team("T")
    tiny.rep("r", "T")
    tiny.deal("r", "2025-01-02", "2025-01-10", won=True, amount=10)
    tiny.deal("r", "2025-01-02", "2025-01-20", won=False, amount=20)
    january = {"date_from": d("2025-01-01"), "date_to": d("2025-01-31")}
    revenue = MetricRequest.make("revenue", grain="month", **january)
    win_rate = MetricRequest.make("win_rate", grain="total", **january)
    engine = tiny.engine
    sent: list[str] = []
    rows = engine.store.rows

    def counted(sql: str, params: object = None) -> object:
        sent.append(sql)
        return rows(sql, params)  # type: ignore[arg-type]

    engine.store.rows = counted  # type: ignore[method-assign]
    both = engine.rows_many([revenue, win_rate])
    assert len(sent) == 1 and "UNION ALL" in sent[0]
    assert both == [(["period", "value", "is_partial"], [(d("2025-01-01"), 10.0, False)]),
                    (["period", "value", "numerator", "denominator", "is_partial"],
                     [(d("2025-01-01"), 0.5, 1, 2, False)])]
    sent.clear()
    assert engine.rows_many([win_rate]) == [both[1]]
    assert len(sent) == 1 and "UNION ALL" not in sent[0]
