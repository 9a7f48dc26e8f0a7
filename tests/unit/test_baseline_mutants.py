"""More of kpi.baseline worked out by hand: rates per week in progress, metrics where down is good,
being exactly on pace, whose baseline a new or moved rep is compared with, the chart series of a
lever (its band, the one standard target and the pace path), the weekly statistics and the
initiative's scope.

Unless a test says otherwise the rollout is Monday 3 March 2025 with two baseline weeks: Monday
17 February to Sunday 2 March (14 days).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from kpi.baseline import (
    BaselineStats,
    Basis,
    _clean,
    baseline_bases,
    baseline_basis,
    baseline_for_days,
    baseline_stats,
    current_window,
    has_standard,
    initiative_scope,
    progress,
    progress_series,
    rate,
    report,
    share_of_path,
    value_of,
    window_value,
)
from kpi.disclosure import AGGREGATES
from kpi.engine import Engine, Scope
from kpi.initiatives import Initiative, create_initiative, get_initiative, update_initiative
from kpi.periods import Window
from tests.conftest import Tiny, d

ROLLOUT = "2025-03-03"
BASE = Window(d("2025-02-17"), d("2025-03-02"))
SQRT2 = math.sqrt(2)


def launch(tiny: Tiny, targets: dict[str, float], target_date: str = "2025-04-28",
           teams: dict[str, dt.date] | None = None, weeks: int = 2) -> Initiative:
    create_initiative(tiny.store, name="Push", strategy="s", tactics="t", rollout_date=d(ROLLOUT),
                      baseline_weeks=weeks, target_date=d(target_date), teams=teams,
                      targets=targets)
    return get_initiative(tiny.store, "push")


def card(rollout: str, weeks: int = 2, teams: tuple[str, ...] = ()) -> Initiative:
    return Initiative("i", "I", "s", "t", d(rollout), weeks, d("2025-06-30"),
                      teams=tuple((t, d(rollout)) for t in teams))


# ------------------------------------------------------------------ small pieces


def test_a_single_day_is_a_rate_per_week() -> None:
    assert rate(2.0, 1, True) == 14.0  # 2 in one day: 14 a week
    assert rate(2.0, 1, False) == 2.0


def test_a_path_of_one_day() -> None:
    assert share_of_path(d("2025-01-01"), d("2025-01-02"), d("2025-01-01")) == 0.0
    assert share_of_path(d("2025-01-01"), d("2025-01-02"), d("2025-01-02")) == 1.0


def test_a_rollout_on_a_tuesday_needs_a_whole_week() -> None:
    initiative = card("2025-03-04")  # Tuesday
    # Tuesday 4 to Sunday 9 March is 6 days: too early
    assert current_window(initiative, d("2025-03-09")) is None
    assert current_window(initiative, d("2025-03-16")) == Window(d("2025-03-04"), d("2025-03-16"))


def test_nan_in_a_report_row_becomes_none() -> None:
    row = {"a": float("nan"), "b": 1.5, "c": "x", "d": None, "e": 0.0}
    assert _clean(row) == {"a": None, "b": 1.5, "c": "x", "d": None, "e": 0.0}


def test_the_initiatives_teams_narrowed_to_the_viewer() -> None:
    t_only, everyone = card(ROLLOUT, teams=("T",)), card(ROLLOUT)
    assert initiative_scope(t_only) == Scope.teams("T")
    assert initiative_scope(t_only, Scope.everyone()) == Scope.teams("T")  # never the company
    assert initiative_scope(t_only, Scope.teams("T", "U")) == Scope.teams("T")  # U is not in it
    assert initiative_scope(t_only, Scope.teams("U")) == Scope.teams()
    assert initiative_scope(t_only, Scope.reps("a")) == Scope.reps("a")
    assert initiative_scope(everyone, Scope.teams("U")) == Scope.teams("U")
    assert initiative_scope(everyone) == Scope.everyone()


# ------------------------------------------------------------------ revenue: rates per week


@pytest.fixture
def sales(tiny: Tiny) -> Tiny:
    """Rep r of team T wins 140 on Monday 17 Feb and 280 on Monday 24 Feb (baseline: 420 in two
    weeks, 210 a week)."""
    tiny.team("T", "Alpha")
    tiny.rep("r", "T", hired="2024-01-01")
    tiny.deal("r", "2025-01-02", "2025-02-17", won=True, amount=140)
    tiny.deal("r", "2025-01-02", "2025-02-24", won=True, amount=280)
    return tiny


def test_progress_of_a_sum_compares_rates_per_week(sales: Tiny) -> None:
    sales.deal("r", "2025-01-02", "2025-03-03", won=True, amount=700)
    sales.deal("r", "2025-01-02", "2025-03-10", won=True, amount=700)
    initiative = launch(sales, {"revenue": 0.5}, teams={"T": d(ROLLOUT)})
    p = progress(sales.engine, initiative, "revenue", as_of=d("2025-03-16"))
    assert p.per_week is True
    assert p.baseline == pytest.approx(210.0)   # 420 in 14 days: 420 / 14 * 7
    assert p.current == pytest.approx(700.0)    # 1400 in 3-16 March (14 days)
    assert p.since_rollout == 1400.0            # a total, not a rate
    assert p.change_pct == pytest.approx(700 / 210 - 1)
    assert p.target_value == pytest.approx(315.0)  # 210 * 1.5
    assert p.attainment == pytest.approx((700 - 210) / (315 - 210))
    assert p.expected_value == pytest.approx(210 * (1 + 0.5 * 13 / 56))  # 13 of 56 days along
    assert p.on_pace is True
    assert p.window == Window(d("2025-03-03"), d("2025-03-16"))
    assert p.baseline_window == BASE
    assert p.note is None


def test_exactly_on_pace_is_on_pace(sales: Tiny) -> None:
    """Past the target date (10 March) the path is at the target: 210 * 1.5 = 315 a week, and
    315 + 315 in the two weeks from 3 March is exactly 315 a week."""
    sales.deal("r", "2025-01-02", "2025-03-03", won=True, amount=315)
    sales.deal("r", "2025-01-02", "2025-03-10", won=True, amount=315)
    initiative = launch(sales, {"revenue": 0.5}, target_date="2025-03-10")
    p = progress(sales.engine, initiative, "revenue", as_of=d("2025-03-16"))
    assert (p.current, p.expected_value) == (315.0, 315.0)
    assert p.on_pace is True


def test_too_early_says_when_the_first_week_ends(sales: Tiny) -> None:
    initiative = launch(sales, {"revenue": 0.5})
    p = progress(sales.engine, initiative, "revenue", as_of=d("2025-03-05"))
    assert (p.window, p.current, p.on_pace) == (None, None, None)
    assert p.note == "too early to tell: the first complete week after the rollout ends Sun 09 Mar"


def test_a_single_day_window(sales: Tiny) -> None:
    assert window_value(sales.engine, "revenue", d("2025-02-17"), d("2025-02-17"),
                        Scope.everyone()) == 140.0
    assert window_value(sales.engine, "revenue", d("2025-02-18"), d("2025-02-17"),
                        Scope.everyone()) is None
    # a median of no deals is missing, not NaN
    assert window_value(sales.engine, "sales_cycle_days", d("2025-03-01"), d("2025-03-02"),
                        Scope.everyone()) is None


class NanForNull:
    """A store whose driver returns a missing number as NaN (as Arrow-based drivers do)."""

    def __init__(self, store: object) -> None:
        self.store = store

    def rows(self, sql: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        names, rows = self.store.rows(sql, params)  # type: ignore[attr-defined]
        return names, [tuple(float("nan") if v is None else v for v in row) for row in rows]

    def __getattr__(self, name: str) -> object:  # the rest of the store as it is
        return getattr(self.store, name)


def test_a_missing_value_is_none_whatever_the_driver(sales: Tiny) -> None:
    engine = Engine(NanForNull(sales.store))  # type: ignore[arg-type]
    # no deal won on 1-2 March: no median
    assert window_value(engine, "sales_cycle_days", d("2025-03-01"), d("2025-03-02"),
                        Scope.everyone()) is None
    assert window_value(engine, "revenue", d("2025-02-17"), d("2025-03-02"),
                        Scope.everyone()) == 420.0


@pytest.mark.filterwarnings("error")
def test_baseline_for_days_without_warnings(sales: Tiny) -> None:
    # the baseline's Mondays averaged (140 + 280) / 2; Tuesdays and Wednesdays 0
    days = Window(d("2025-03-03"), d("2025-03-05"))
    assert baseline_for_days(sales.engine, "revenue", BASE, Scope.everyone(), days) == 210.0


def test_a_weekday_the_baseline_does_not_have_adds_nothing(sales: Tiny) -> None:
    monday_only = Window(d("2025-02-17"), d("2025-02-17"))  # 140 on its one Monday
    days = Window(d("2025-03-03"), d("2025-03-04"))  # a Monday and a Tuesday
    assert baseline_for_days(sales.engine, "revenue", monday_only, Scope.everyone(), days) == 140.0


def test_the_total_grain_runs_to_as_of(sales: Tiny) -> None:
    initiative = launch(sales, {"revenue": 0.5})
    frame = progress_series(sales.engine, initiative, "revenue", "total", d("2025-03-16"),
                            Scope.reps("r"))
    # weekly revenue 140 and 280: mean 210, sd 140 / sqrt(2); the 28 days are 4 weeks
    sd = 140 / SQRT2
    assert frame["period"].tolist() == [d("2025-02-17")]
    assert frame["value"].tolist() == [420.0]
    assert frame["baseline"].tolist() == pytest.approx([840.0])  # 210 * 4
    assert frame["band_lo"].tolist() == pytest.approx([840.0 - sd * 2])  # sd * sqrt(4)
    assert frame["band_hi"].tolist() == pytest.approx([840.0 + sd * 2])
    assert frame["after_rollout"].tolist() == [True]
    assert frame["target"].tolist() == pytest.approx([840.0 * 1.5])


# ------------------------------------------------------------------ sales cycle: down is good


def test_a_shorter_sales_cycle_is_on_pace(tiny: Tiny) -> None:
    tiny.team("T", "Alpha")
    tiny.rep("r", "T", hired="2024-01-01")
    tiny.deal("r", "2025-02-07", "2025-02-17", won=True, amount=1)  # 10 days
    tiny.deal("r", "2025-02-04", "2025-02-24", won=True, amount=1)  # 20 days
    tiny.deal("r", "2025-02-27", "2025-03-03", won=True, amount=1)  # 4 days
    tiny.deal("r", "2025-03-04", "2025-03-10", won=True, amount=1)  # 6 days
    initiative = launch(tiny, {"sales_cycle_days": -0.2})
    p = progress(tiny.engine, initiative, "sales_cycle_days", as_of=d("2025-03-16"))
    assert p.per_week is False
    assert (p.baseline, p.current) == (15.0, 5.0)  # medians of 10, 20 and of 4, 6
    assert p.target_value == pytest.approx(12.0)
    assert p.attainment == pytest.approx(10 / 3)  # -10 achieved of -3 targeted
    assert p.expected_value == pytest.approx(15 * (1 - 0.2 * 13 / 56))  # 14.30: 5 is well below
    assert p.on_pace is True


# ------------------------------------------------------------------ meetings: a lever


@pytest.fixture
def meet(tiny: Tiny) -> Tiny:
    """Team T, reps a and b, in T all along. Meetings on Mondays: a 2 on 3 Feb (before the
    baseline), 1 on 17 Feb, 3 on 24 Feb, 3 on 3 Mar, 3 on 10 Mar; b 4, 4, 5, 5 from 17 Feb.
    Target: meetings +50% by Monday 28 April."""
    tiny.team("T", "Alpha")
    tiny.rep("a", "T", hired="2024-01-01")
    tiny.rep("b", "T", hired="2024-01-01")
    for day, n_a, n_b in (("2025-02-17", 1, 4), ("2025-02-24", 3, 4), ("2025-03-03", 3, 5),
                          ("2025-03-10", 3, 5)):
        tiny.activity("a", day, n=n_a)
        tiny.activity("b", day, n=n_b)
    tiny.activity("a", "2025-02-03", n=2)
    launch(tiny, {"meetings": 0.5}, teams={"T": d(ROLLOUT)})
    return tiny


def test_weekly_statistics_of_one_rep(meet: Tiny) -> None:
    initiative = get_initiative(meet.store, "push")
    stats = baseline_stats(meet.engine, initiative, "meetings", Scope.reps("a"))
    # a: 1 and 3 meetings in the two weeks: level 4 / 2 rep-weeks, mean 2, sd sqrt(2)
    assert stats == BaselineStats(level=2.0, weekly_mean=2.0, weekly_sd=pytest.approx(SQRT2),
                                  additive=False)
    everyone = baseline_stats(meet.engine, initiative, "meetings", Scope.everyone())
    # weeks of 5 and 7 meetings in 2 rep-weeks each: 2.5 and 3.5
    assert everyone == BaselineStats(level=3.0, weekly_mean=3.0, weekly_sd=pytest.approx(SQRT2 / 2),
                                     additive=False)
    # no deal won: no level and no weekly numbers at all
    assert baseline_stats(meet.engine, initiative, "sales_cycle_days",
                          Scope.reps("a")) == BaselineStats(None, None, None, False)


def test_the_series_of_a_lever_against_one_standard(meet: Tiny, small_groups: None) -> None:
    """The standard is the initiative-wide baseline: 12 meetings / 4 rep-weeks = 3 (a's own is 2);
    the target 3 * 1.5 = 4.5 for everyone."""
    initiative = get_initiative(meet.store, "push")
    frame = progress_series(meet.engine, initiative, "meetings", "week", d("2025-03-16"),
                            Scope.reps("a"))
    assert frame["period"].tolist() == [d("2025-02-17"), d("2025-02-24"), d("2025-03-03"),
                                        d("2025-03-10")]
    assert frame["value"].tolist() == [1.0, 3.0, 3.0, 3.0]
    assert frame["baseline"].tolist() == [2.0] * 4  # a's own level
    assert frame["band_lo"].tolist() == pytest.approx([2 - SQRT2] * 4)  # one sd, one week
    assert frame["band_hi"].tolist() == pytest.approx([2 + SQRT2] * 4)
    assert frame["after_rollout"].tolist() == [False, False, True, True]
    assert frame["target"].tolist()[2:] == [4.5, 4.5]
    assert frame["target"][:2].isna().all()
    # weeks ending Sunday 9 and 16 March: 6 and 13 of the 56 days to the target date
    assert frame["pace"].tolist()[2:] == pytest.approx([3 * (1 + 0.5 * 6 / 56),
                                                        3 * (1 + 0.5 * 13 / 56)])
    assert frame["pace"][:2].isna().all()
    assert frame["baseline_of"].tolist() == ["own"] * 4


def test_without_a_standard_the_target_raises_the_own_baseline(meet: Tiny) -> None:
    """Two reps are too few for one standard: a's target is a's own level 2 * 1.5."""
    initiative = get_initiative(meet.store, "push")
    assert has_standard(meet.engine, initiative) is False
    frame = progress_series(meet.engine, initiative, "meetings", "week", d("2025-03-16"),
                            Scope.reps("a"))
    assert frame["target"].tolist()[2:] == [3.0, 3.0]
    assert frame["pace"].tolist()[2:] == pytest.approx([2 * (1 + 0.5 * 6 / 56),
                                                        2 * (1 + 0.5 * 13 / 56)])


def test_the_rollout_day_is_after_the_rollout(meet: Tiny, small_groups: None) -> None:
    initiative = get_initiative(meet.store, "push")
    frame = progress_series(meet.engine, initiative, "meetings", "day", d("2025-03-04"),
                            Scope.reps("a"), date_from=d("2025-03-02"))
    assert frame["period"].tolist() == [d("2025-03-02"), d("2025-03-03"), d("2025-03-04")]
    assert frame["after_rollout"].tolist() == [False, True, True]
    assert frame["value"].tolist() == [0.0, 21.0, 0.0]  # 3 meetings in one rep-day
    assert pd.isna(frame["target"][0])
    assert frame["target"].tolist()[1:] == [4.5, 4.5]


def test_no_target_before_a_postponed_rollout(meet: Tiny) -> None:
    """The rollout moved a week later: the launch target (from 3 March) stays in the history,
    but the series shows no target before the new rollout on 10 March."""
    initiative = get_initiative(meet.store, "push")
    update_initiative(meet.store, initiative.initiative_id, name="Push", strategy="s", tactics="t",
                      rollout_date=d("2025-03-10"), baseline_weeks=2, target_date=d("2025-04-28"),
                      teams={"T": d("2025-03-10")})
    initiative = get_initiative(meet.store, "push")
    frame = progress_series(meet.engine, initiative, "meetings", "week", d("2025-03-16"),
                            Scope.reps("a"), date_from=d("2025-02-24"))
    assert frame["after_rollout"].tolist() == [False, False, True]
    assert frame["target"][:2].isna().all()
    # a's own baseline, 24 Feb to 9 March: 6 meetings in 2 weeks
    assert frame["target"].tolist()[2:] == [4.5]


def test_a_report_for_one_rep(meet: Tiny) -> None:
    initiative = get_initiative(meet.store, "push")
    (mine,) = report(meet.engine, initiative, d("2025-03-16"), Scope.reps("a"))["metrics"]
    assert (mine["baseline"], mine["current"]) == (2.0, 3.0)  # 4 / 2 and 6 / 2 rep-weeks
    (team,) = report(meet.engine, initiative, d("2025-03-16"))["metrics"]
    assert (team["baseline"], team["current"]) == (3.0, 4.0)  # 12 / 4 and 16 / 4


# ------------------------------------------------------------------ one standard needs enough reps


def test_a_rep_who_left_during_the_baseline_counts_towards_the_standard(tiny: Tiny) -> None:
    need = AGGREGATES["lever_standard"].min_group
    tiny.team("T")
    for i in range(need - 1):
        tiny.rep(f"r{i}", "T", hired="2024-01-01")
    tiny.rep("z", "T", hired="2024-01-01", left="2025-02-24")  # in the baseline for 8 days
    assert has_standard(tiny.engine, card(ROLLOUT, teams=("T",))) is True
    assert has_standard(tiny.engine, card("2025-03-17", teams=("T",))) is False  # z left before


# ------------------------------------------------------------------ new and moved reps


@pytest.fixture
def movers(tiny: Tiny) -> Tiny:
    """Teams T (Alpha) and U (Beta); a company-wide initiative with a revenue target.

    a is in T and b in U all along. n was hired into T on Tuesday 25 Feb (6 baseline days) and
    moved to U on 10 March. c moved from U to T on 26 Feb (5 baseline days in T); g from U to T on
    20 Feb (3 baseline days in U). e was hired into T on Monday 24 Feb (7 days: half the baseline).
    """
    tiny.team("T", "Alpha")
    tiny.team("U", "Beta")
    tiny.rep("a", "T", hired="2024-01-01")
    tiny.rep("b", "U", hired="2024-01-01")
    tiny.rep("n", "T", hired="2025-02-25")
    tiny.move("n", "U", "2025-03-10")
    tiny.rep("c", "U", hired="2024-01-01")
    tiny.move("c", "T", "2025-02-26")
    tiny.rep("g", "U", hired="2024-01-01")
    tiny.move("g", "T", "2025-02-20")
    tiny.rep("e", "T", hired="2025-02-24")
    launch(tiny, {"revenue": 0.5})
    return tiny


def test_whose_baseline_a_new_or_moved_rep_is_compared_with(movers: Tiny,
                                                          small_groups: None) -> None:
    engine, day = movers.engine, d("2025-03-16")
    # n: the team n is in on the day viewed (U since 10 March), not the first one
    assert baseline_basis(engine, BASE, Scope.reps("n"), day) == Basis(
        Scope.teams("U"), "team baseline (Beta): active 0.9 of the 2 baseline weeks")
    # e: 7 of the 14 days is enough for their own
    assert baseline_basis(engine, BASE, Scope.reps("e"), day) == Basis(Scope.reps("e"))
    # c, seen by T's manager: only the 5 days c was in T count
    assert baseline_basis(engine, BASE, Scope.rep_in_teams("c", "T"), day) == Basis(
        Scope.teams("T"), "team baseline (Alpha): active 0.7 of the 2 baseline weeks")
    assert baseline_basis(engine, BASE, Scope.reps("c"), day) == Basis(Scope.reps("c"))
    # g, seen by U's manager: g is in T now, but U's manager compares with U
    assert baseline_basis(engine, BASE, Scope.rep_in_teams("g", "U"), day) == Basis(
        Scope.teams("U"), "team baseline (Beta): active 0.4 of the 2 baseline weeks")


def test_a_team_just_big_enough_for_a_team_baseline(tiny: Tiny) -> None:
    need = AGGREGATES["team_baseline"].min_group
    tiny.team("T", "Alpha")
    for i in range(need - 1):
        tiny.rep(f"r{i}", "T", hired="2024-01-01")
    tiny.rep("n", "T", hired="2025-02-28")  # 3 baseline days; the team holds `need` reps
    assert baseline_basis(tiny.engine, BASE, Scope.reps("n"), d("2025-03-16")) == Basis(
        Scope.teams("T"), "team baseline (Alpha): active 0.4 of the 2 baseline weeks")


def test_a_new_reps_total_is_not_compared_with_a_teams(movers: Tiny, small_groups: None) -> None:
    initiative = get_initiative(movers.store, "push")
    note = "team baseline (Beta): active 0.9 of the 2 baseline weeks"
    p = progress(movers.engine, initiative, "revenue", d("2025-03-16"), Scope.reps("n"))
    assert (p.baseline, p.note) == (None, note)
    frame = progress_series(movers.engine, initiative, "revenue", "week", d("2025-03-16"),
                            Scope.reps("n"))
    assert len(frame) == 4
    assert frame["baseline_of"].tolist() == [note] * 4
    for column in ("baseline", "band_lo", "band_hi", "target", "pace"):
        assert frame[column].isna().all(), column


def test_a_rep_with_no_baseline_at_all(movers: Tiny) -> None:
    """Without the small-group allowance U (3 reps in the baseline) is too small a team."""
    initiative = get_initiative(movers.store, "push")
    note = "not enough baseline: active 0.9 of the 2 baseline weeks"
    frame = progress_series(movers.engine, initiative, "win_rate", "week", d("2025-03-16"),
                            Scope.reps("n"))
    assert frame["baseline_of"].tolist() == [note] * 4
    assert frame["baseline"].isna().all()


def test_each_reps_basis_read_at_once(movers: Tiny, small_groups: None) -> None:
    """baseline_bases gives each rep the basis baseline_basis gives their own scope: a and e
    their own (e: 7 of the 14 days), n (6 days, in U since 10 March) U's, and a rep the database
    does not know has no active day and no team at all."""
    bases = baseline_bases(movers.engine, BASE, ["a", "n", "e", "nobody"], (), d("2025-03-16"))
    assert bases == [
        Basis(Scope.reps("a")),
        Basis(Scope.teams("U"), "team baseline (Beta): active 0.9 of the 2 baseline weeks"),
        Basis(Scope.reps("e")),
        Basis(None, "not enough baseline: active 0 of the 2 baseline weeks"),
    ]


def test_reps_seen_by_a_manager_are_compared_within_the_managers_team(movers: Tiny,
                                                                       small_groups: None) -> None:
    """U's manager sees b (in U all along) and g (3 baseline days in U before moving to T on
    20 Feb): b keeps their own baseline inside U, g is compared with U (the viewer's team), not
    with T where g is on the day viewed."""
    bases = baseline_bases(movers.engine, BASE, ["b", "g"], ("U",), d("2025-03-16"))
    assert bases == [
        Basis(Scope.rep_in_teams("b", "U")),
        Basis(Scope.teams("U"), "team baseline (Beta): active 0.4 of the 2 baseline weeks"),
    ]


def test_a_lever_target_raises_the_one_standard_not_the_reps_own(meet: Tiny,
                                                               small_groups: None) -> None:
    """a's own baseline is 4 meetings / 2 rep-weeks = 2, the initiative-wide standard 12 / 4 = 3:
    the +50% target is 3 * 1.5 = 4.5 for a too. a's current 6 / 2 = 3 is still at the standard
    (attainment 0) and below the path, 3 * (1 + 0.5 * 13 / 56) on Sunday 16 March."""
    initiative = get_initiative(meet.store, "push")
    p = progress(meet.engine, initiative, "meetings", d("2025-03-16"), Scope.reps("a"))
    assert (p.baseline, p.current) == (2.0, 3.0)
    assert p.change_pct == pytest.approx(0.5)  # against a's own baseline
    assert p.target_value == pytest.approx(4.5)
    assert p.attainment == pytest.approx(0.0)
    assert p.expected_value == pytest.approx(3 * (1 + 0.5 * 13 / 56))
    assert p.on_pace is False


def test_since_rollout_on_the_rollout_day_is_that_days_total(sales: Tiny) -> None:
    """On the rollout day itself (Monday 3 March) the one day since the rollout holds the 70 won
    that day; the current weeks are too early to tell."""
    sales.deal("r", "2025-01-02", "2025-03-03", won=True, amount=70)
    initiative = launch(sales, {"revenue": 0.5})
    p = progress(sales.engine, initiative, "revenue", as_of=d(ROLLOUT))
    assert p.since_rollout == 70.0
    assert (p.baseline, p.current, p.window) == (pytest.approx(210.0), None, None)


def test_a_median_baseline_reads_only_the_baseline_weeks(tiny: Tiny) -> None:
    """Deals won in the baseline took 10 and 20 days (median 15); one won on 10 Feb, before it,
    took 2 days and one won on 5 March, after it, 4: neither moves the baseline's median."""
    tiny.team("T", "Alpha")
    tiny.rep("r", "T", hired="2024-01-01")
    tiny.deal("r", "2025-02-07", "2025-02-17", won=True, amount=1)  # 10 days
    tiny.deal("r", "2025-02-04", "2025-02-24", won=True, amount=1)  # 20 days
    tiny.deal("r", "2025-02-08", "2025-02-10", won=True, amount=1)  # 2 days, before the baseline
    tiny.deal("r", "2025-03-01", "2025-03-05", won=True, amount=1)  # 4 days, after it
    days = Window(d("2025-03-03"), d("2025-03-09"))
    assert baseline_for_days(tiny.engine, "sales_cycle_days", BASE, Scope.everyone(), days) == 15.0


def test_the_value_of_an_empty_table_is_missing() -> None:
    assert value_of(pd.DataFrame({"period": [], "value": []})) is None
    assert value_of(pd.DataFrame({"period": [d("2025-03-03")], "value": [None]})) is None
    assert value_of(pd.DataFrame({"period": [d("2025-03-03")], "value": [2]})) == 2.0


class Counted:
    """Counts the queries sent through a store."""

    def __init__(self, tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n, rows, scalar = 0, tiny.store.rows, tiny.store.scalar

        def counted_rows(sql: str, params: object = None) -> object:
            self.n += 1
            return rows(sql, params)

        def counted_scalar(sql: str, params: object = None) -> object:
            self.n += 1
            return scalar(sql, params)

        monkeypatch.setattr(tiny.store, "rows", counted_rows)
        monkeypatch.setattr(tiny.store, "scalar", counted_scalar)


def test_a_teams_new_reps_cost_the_same_queries_as_one(tiny: Tiny, small_groups: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A manager's levers read every rep's basis at once: the teams, sizes and names of the
    teams new reps are compared with are read once per team, however many new reps it has
    (a page of 12 reps must not make 12 times the queries)."""
    tiny.team("T", "Alpha")
    tiny.rep("old", "T", hired="2024-01-01")
    for rep in ("n1", "n2", "n3"):
        tiny.rep(rep, "T", hired="2025-03-01")
    counted = Counted(tiny, monkeypatch)
    note = "team baseline (Alpha): active 0.3 of the 2 baseline weeks"
    one = baseline_bases(tiny.engine, BASE, ["n1"], (), d("2025-03-16"))
    for_one, counted.n = counted.n, 0
    three = baseline_bases(tiny.engine, BASE, ["n1", "n2", "n3"], (), d("2025-03-16"))
    assert one == [Basis(Scope.teams("T"), note)]
    assert three == [Basis(Scope.teams("T"), note)] * 3
    assert counted.n == for_one


def test_a_rep_with_no_day_in_a_one_day_baseline_is_compared_with_the_team(
        tiny: Tiny, small_groups: None) -> None:
    """A one-day baseline window: a rep hired the day after has no active day in it and is
    compared with the team they are in on the day viewed."""
    tiny.team("T", "Alpha")
    tiny.rep("old", "T", hired="2024-01-01")
    tiny.rep("late", "T", hired="2025-03-03")
    day = Window(d("2025-03-02"), d("2025-03-02"))
    assert baseline_bases(tiny.engine, day, ["late", "old"], (), d("2025-03-16")) == [
        Basis(Scope.teams("T"), "team baseline (Alpha): active 0 of the 0 baseline weeks"),
        Basis(Scope.reps("old"))]
