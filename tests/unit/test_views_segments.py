"""Segments by hand: where team T wins more, at what size, speed and margin, and how much of its
open pipeline sits there.

Team T (rep A) and team U (rep B). The window is the first quarter of 2025, 'today' 31 March.
A's deals (all created 1 January unless said):
  Retail  won 1000 (cost 600) on 11 Jan (10 days), won 500 (cost 100) on 31 Jan (30 days),
          lost 700 on 1 Feb; lost 1000 on 5 April (after the window, so open on 31 March);
          open 3000 due 1 May (created 1 March)
  Tech    won 2000 (no cost) on 5 March (63 days); lost 900 on 20 Dec 2024 (before the window);
          open 500 due 1 April 2026 (a year and a day after today: outside the next 365 days)
  Health  lost 800 on 1 March
  Energy  open 1000 due 1 June, nothing closed
B's (team U, outside the scope): Tech lost 800 on 1 Feb, Health open 9000 due 1 June.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpi.engine import Scope
from kpi.periods import Window
from kpi.views import segments
from tests.conftest import Tiny, d

Q1 = Window(d("2025-01-01"), d("2025-03-31"))
TODAY = d("2025-03-31")
COLUMNS = ["win_rate", "closed_deals", "avg_deal_size", "sales_cycle_days", "gross_margin",
           "revenue", "open_pipeline", "pipeline_share"]
NAN = pytest.approx(math.nan, nan_ok=True)


@pytest.fixture
def company(tiny: Tiny) -> Tiny:
    tiny.team("T")
    tiny.team("U")
    tiny.rep("A", "T")
    tiny.rep("B", "U")
    for industry in ("Retail", "Tech", "Health", "Energy"):
        tiny.account(industry, industry)
    tiny.deal("A", "2025-01-01", "2025-01-11", won=True, amount=1000, cost=600, account="Retail")
    tiny.deal("A", "2025-01-01", "2025-01-31", won=True, amount=500, cost=100, account="Retail")
    tiny.deal("A", "2025-01-01", "2025-02-01", amount=700, account="Retail")
    tiny.deal("A", "2025-01-01", "2025-04-05", amount=1000, account="Retail")
    tiny.deal("A", "2025-03-01", None, amount=3000, account="Retail", expected="2025-05-01")
    tiny.deal("A", "2025-01-01", "2025-03-05", won=True, amount=2000, account="Tech")
    tiny.deal("A", "2024-11-01", "2024-12-20", amount=900, account="Tech")
    tiny.deal("A", "2025-03-01", None, amount=500, account="Tech", expected="2026-04-01")
    tiny.deal("A", "2025-01-01", "2025-03-01", amount=800, account="Health")
    tiny.deal("A", "2025-03-01", None, amount=1000, account="Energy", expected="2025-06-01")
    tiny.deal("B", "2025-01-01", "2025-02-01", amount=800, account="Tech")
    tiny.deal("B", "2025-03-01", None, amount=9000, account="Health", expected="2025-06-01")
    return tiny


def rows(table: pd.DataFrame, dimension: str) -> list[tuple]:
    return [tuple(r) for r in table[[dimension, *COLUMNS]].itertuples(index=False)]


def test_segments_best_win_rate_first(company: Tiny) -> None:
    """Win rate: Tech 1/1, Retail 2/3, Health 0/1, Energy none (last). Retail's average won deal
    (1000 + 500) / 2 = 750, median cycle of 10 and 30 days = 20, margin (400 + 400) / 1500; Tech's
    only won deal has no cost: no margin. Open pipeline on 31 March, due within 365 days: Retail
    3000 + the 1000 lost in April = 4000, Energy 1000: shares 0.8 and 0.2 of 5000."""
    table = segments(company.engine, "industry", Q1, Scope.teams("T"), TODAY)
    assert list(table.columns) == ["industry", *COLUMNS]
    assert table.index.tolist() == [0, 1, 2, 3]
    assert rows(table, "industry") == [
        ("Tech", 1.0, 1, 2000.0, 63.0, NAN, 2000.0, 0.0, 0.0),
        ("Retail", pytest.approx(2 / 3), 3, 750.0, 20.0, pytest.approx(800 / 1500), 1500.0,
         4000.0, 0.8),
        ("Health", 0.0, 1, NAN, NAN, NAN, 0.0, 0.0, 0.0),
        ("Energy", NAN, NAN, NAN, NAN, NAN, NAN, 1000.0, 0.2),
    ]


def test_one_segment_keeps_whole_counts(company: Tiny) -> None:
    """By product every deal is 'Core': 3 won of 5 closed in the window, 3500 won, median cycle
    30 days (10, 30, 63), margin 800 over the 1500 with a cost; open pipeline 4000 + 1000 = 5000,
    all of it in Core. With every segment present, the count of closed deals stays whole."""
    table = segments(company.engine, "product", Q1, Scope.teams("T"), TODAY)
    assert rows(table, "product") == [
        ("Core", 0.6, 5, pytest.approx(3500 / 3), 30.0, pytest.approx(800 / 1500), 3500.0, 5000.0,
         1.0)]
    assert table["closed_deals"].dtype == "int64"


def test_no_open_pipeline_is_no_share(company: Tiny) -> None:
    """Rep B seen on 31 December 2025: B's Health deal was due in June, nothing is due in the
    year ahead, so every share is 0 (not a division by nothing)."""
    table = segments(company.engine, "industry", Q1, Scope.reps("B"), d("2025-12-31"))
    assert [tuple(r) for r in table[["industry", "win_rate", "closed_deals", "revenue",
                                     "open_pipeline", "pipeline_share"]].itertuples(index=False)
            ] == [("Tech", 0.0, 1, 0.0, 0.0, 0.0)]
