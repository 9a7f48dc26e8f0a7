"""A manager's view of one rep holds only the days the rep spent in the manager's team, and an
average shown beside one rep never gives a colleague's number away."""

from __future__ import annotations

import pytest

from kpi.engine import MetricRequest, Scope
from kpi.people import narrow
from kpi.periods import Window
from kpi.views import cards, pace, rep_trend, team_average
from tests.conftest import Tiny, d

DAY = d("2025-03-30")
YEAR = Window(d("2025-01-01"), DAY)


@pytest.fixture
def moved(tiny: Tiny) -> Tiny:
    """X sells in Alpha until 1 March, then in Beta; Alpha keeps two others, Beta has four."""
    tiny.team("TA", "Alpha")
    tiny.team("TB", "Beta")
    tiny.rep("X", "TA")
    tiny.move("X", "TB", "2025-03-01")
    tiny.rep("A1", "TA")
    tiny.rep("A2", "TA")
    for rep in ("B1", "B2", "B3", "B4"):
        tiny.rep(rep, "TB")
    tiny.deal("X", "2025-01-02", "2025-02-10", won=True, amount=1000)  # earned in Alpha
    tiny.deal("X", "2025-02-02", "2025-03-10", won=True, amount=50)  # earned in Beta
    tiny.activity("X", "2025-02-04", n=7)
    tiny.activity("X", "2025-03-04", n=2)
    for rep, n in (("A1", 3), ("A2", 5), ("B1", 1), ("B2", 1), ("B3", 1), ("B4", 1)):
        tiny.activity(rep, "2025-03-04", n=n)
        tiny.activity(rep, "2025-02-04", n=n)
    return tiny


def _revenue(tiny: Tiny, scope: Scope) -> float:
    frame = tiny.engine.run(MetricRequest.make("revenue", grain="total", scope=scope,
                                               date_from=d("2025-01-01"), date_to=DAY))
    return float(frame["value"].iloc[0])


def test_each_manager_sees_only_the_days_the_rep_was_in_their_team(moved: Tiny) -> None:
    store = moved.store
    alpha = narrow(store, Scope.teams("TA"), rep_id="X")
    beta = narrow(store, Scope.teams("TB"), rep_id="X")
    assert (alpha, beta) == (Scope("rep", ("X",), ("TA",)), Scope("rep", ("X",), ("TB",)))
    assert _revenue(moved, alpha) == 1000
    assert _revenue(moved, beta) == 50
    assert _revenue(moved, narrow(store, Scope.everyone(), rep_id="X")) == 1050
    # the rep's own pages, and the cards and pace a manager opens, follow the same bounds
    (card,) = cards(moved.engine, ["revenue"], "quarter", DAY, beta)
    assert card.value == 50
    monthly = {p.grain: p for p in pace(moved.engine, beta, ["meetings"], DAY)}
    assert monthly["quarter"].actual == 2  # March in Beta, not February's 7 in Alpha
    assert monthly["quarter"].active_weeks == pytest.approx(30 / 7)  # 1-30 March


def test_a_team_scope_never_holds_what_a_rep_did_before_moving_in(moved: Tiny) -> None:
    for attribution in ("as_of", "current"):
        frame = moved.engine.run(MetricRequest.make(
            "revenue", grain="total", scope=Scope.teams("TB"), attribution=attribution,
            date_from=d("2025-01-01"), date_to=DAY))
        assert float(frame["value"].iloc[0]) == 50, attribution


def test_the_team_average_beside_a_rep_is_the_viewers_team_and_needs_three_others(
        moved: Tiny) -> None:
    march = Window(d("2025-03-01"), DAY)
    # X is now in Beta (4 others): the average is Beta's, 6 meetings over 5 reps' 30 days
    (beta,) = team_average(moved.engine, Scope.reps("X"), "meetings", "quarter", march)
    assert beta == pytest.approx(6 / (5 * 30 / 7))
    # a manager of Alpha coaching X sees Alpha's February: only two others, so no average
    alpha = narrow(moved.store, Scope.teams("TA"), rep_id="X")
    feb = Window(d("2025-02-01"), d("2025-02-28"))
    assert team_average(moved.engine, alpha, "meetings", "month", feb) == [None]
    # and the rep trend carries the same
    trend = rep_trend(moved.engine, alpha, "meetings", "month", feb)
    assert trend["team_average"].tolist() == [None]
    assert trend["value"].tolist() == pytest.approx([7 / 4])  # X's 7 meetings over 4 weeks
