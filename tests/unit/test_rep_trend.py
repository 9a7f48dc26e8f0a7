"""A rep's trend without an initiative is the rep's own numbers, against the rep's own baseline
(the 13 weeks before the last 13), worked out by hand.

Team T: reps A and B, both hired long before. In each of the 13 baseline weeks (Mondays from
9 Sep 2024 to 2 Dec 2024) A has 1 meeting and B 4; in the two weeks shown (3-16 Mar 2025) A has
2 meetings a week and B 6.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.engine import Scope
from kpi.periods import Window
from kpi.views import rep_trend
from tests.conftest import Tiny, d

SHOWN = Window(d("2025-03-03"), d("2025-03-16"))


@pytest.fixture
def pair(tiny: Tiny) -> Tiny:
    tiny.team("T", "Alpha")
    tiny.rep("A", "T", hired="2024-01-01")
    tiny.rep("B", "T", hired="2024-01-01")
    for week in range(13):
        monday = str(d("2024-09-09") + dt.timedelta(weeks=week))
        tiny.activity("A", monday, n=1)
        tiny.activity("B", monday, n=4)
    for monday in ("2025-03-03", "2025-03-10"):
        tiny.activity("A", monday, n=2)
        tiny.activity("B", monday, n=6)
    return tiny


def test_a_reps_trend_is_the_reps_own(pair: Tiny) -> None:
    frame = rep_trend(pair.engine, Scope.reps("A"), "meetings", "week", SHOWN)
    assert frame["period"].tolist() == [d("2025-03-03"), d("2025-03-10")]
    assert frame["value"].tolist() == pytest.approx([2.0, 2.0])  # 2 meetings in 1 rep-week
    assert frame["numerator"].tolist() == [2, 2]
    assert frame["denominator"].tolist() == pytest.approx([1.0, 1.0])
    assert frame["baseline"].tolist() == pytest.approx([1.0, 1.0])  # 13 meetings / 13 rep-weeks
    assert frame["baseline_of"].tolist() == ["own", "own"]
    assert frame["team_average"].tolist() == [None, None]  # one other rep is too few to show
    other = rep_trend(pair.engine, Scope.reps("B"), "meetings", "week", SHOWN)
    assert other["value"].tolist() == pytest.approx([6.0, 6.0])
    assert other["baseline"].tolist() == pytest.approx([4.0, 4.0])


def test_a_managers_view_of_the_rep_reads_the_same(pair: Tiny) -> None:
    frame = rep_trend(pair.engine, Scope.rep_in_teams("A", "T"), "meetings", "month", SHOWN)
    assert frame["period"].tolist() == [d("2025-03-01")]
    assert frame["numerator"].tolist() == [4]
    assert frame["denominator"].tolist() == pytest.approx([2.0])  # 14 days of one rep
    assert frame["value"].tolist() == pytest.approx([2.0])
    assert frame["baseline"].tolist() == pytest.approx([1.0])
