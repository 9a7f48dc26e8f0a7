"""Deals open on a day and the stage each had reached, worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kpi import deals
from tests.conftest import Tiny


@pytest.fixture
def pipeline(tiny: Tiny) -> Tiny:
    tiny.team("T")
    tiny.rep("r", "T")
    tiny.rep("s", "T")
    # the pipeline Discovery < Scoping < Quote, then Signed (won) and Dead (lost)
    tiny.walk("Discovery@01-02, Scoping@01-05, Quote@01-10, Signed@01-20", "01-20", won=True)
    tiny.walk("Discovery@01-03, Scoping@01-06, Dead@01-12", "01-12")
    tiny.stages()
    return tiny


def test_each_open_deal_with_the_furthest_open_stage_it_had_reached(pipeline: Tiny) -> None:
    t = pipeline
    same_day = t.walk("Discovery@01-04, Quote@01-07, Scoping@01-07")  # two on one day: Quote
    came_back = t.walk("Discovery@01-04, Quote@01-06, Scoping@01-08")  # the latest entered
    later = t.walk("Discovery@01-04, Scoping@01-09")  # Scoping is after the day asked
    bare = t.deal("r", "2025-01-05")  # no history at all
    unknown = t.walk("Discovery@01-04, Parked@01-07")  # a stage the stages table does not hold
    theirs = t.walk("Discovery@01-04", rep_id="s")
    closed_before = t.walk("Discovery@01-04", "01-06")  # closed on 6 January: not open
    t.deal("r", "2025-01-09")  # created after the day asked

    day = dt.date(2025, 1, 8)
    frame = deals.open_at(t.store, day)
    got = {o: (None if pd.isna(s) else s) for o, s in zip(frame["opp_id"], frame["stage"],
                                                          strict=True)}
    assert got == {"O1": "Scoping", "O2": "Scoping",  # the first two walks, as of 8 January
                   same_day: "Quote", came_back: "Scoping", later: "Discovery", bare: None,
                   unknown: "Parked", theirs: "Discovery"}
    assert closed_before not in got
    assert list(frame["opp_id"]) == sorted(got)

    mine = deals.open_at(t.store, day, reps=["s"])
    assert list(mine["opp_id"]) == [theirs]
    earlier = deals.open_at(t.store, dt.date(2025, 1, 7), ["r"]).set_index("opp_id")["stage"]
    assert earlier[came_back] == "Quote" and earlier[same_day] == "Quote"


def test_a_won_or_lost_stage_is_never_the_stage_reached(pipeline: Tiny) -> None:
    t = pipeline
    back = t.walk("Discovery@01-04, Scoping@01-05, Dead@01-06, Quote@01-07")  # reopened
    got = deals.open_at(t.store, dt.date(2025, 1, 6))
    assert got.set_index("opp_id").loc[back, "stage"] == "Scoping"
    assert got.set_index("opp_id").loc[back, "amount"] == 0.0
