"""Every comparison the cards, the initiative card and the trends make is like with like.

One small company, numbers worked by hand: two teams, reps who meet prospects on Tuesdays, a
new hire a week before the rollout of an initiative that covers one team only.
"""

from __future__ import annotations

import pytest

from kpi.baseline import progress, progress_series
from kpi.engine import Scope
from kpi.initiatives import create_initiative, get_initiative
from kpi.periods import Window
from kpi.views import cards, default_initiative, initiatives_for, lever_target, streaks, trend
from tests.conftest import Tiny, d

SUNDAY = d("2025-03-16")


@pytest.fixture
def company(tiny: Tiny, small_groups: None) -> Tiny:
    tiny.team("TA", "Alpha")
    tiny.team("TB", "Beta")
    tiny.rep("A1", "TA")
    tiny.rep("A2", "TA")
    tiny.rep("B1", "TB")
    tiny.rep("N", "TA", hired="2025-02-24")  # one week of the four baseline weeks
    for tuesday in ("2025-02-04", "2025-02-11", "2025-02-18", "2025-02-25"):
        tiny.activity("A1", tuesday, n=2)
        tiny.activity("A2", tuesday, n=1)
        tiny.activity("B1", tuesday, n=4)
    tiny.activity("N", "2025-02-25", n=1)
    for tuesday in ("2025-03-04", "2025-03-11"):
        tiny.activity("A1", tuesday, n=3)
        tiny.activity("A2", tuesday, n=2)
        tiny.activity("B1", tuesday, n=4)
        tiny.activity("N", tuesday, n=1)
    create_initiative(tiny.store, name="Company focus", strategy="s", tactics="t",
                      rollout_date=d("2025-01-06"), baseline_weeks=4, target_date=d("2025-12-31"),
                      targets={"win_rate": 0.1})
    create_initiative(tiny.store, name="Alpha push", strategy="s", tactics="t",
                      rollout_date=d("2025-03-03"), baseline_weeks=4, target_date=d("2025-06-30"),
                      teams={"TA": d("2025-03-03")}, targets={"meetings": 0.5})
    return tiny


def _ids(initiatives: list) -> list[str]:
    return [i.initiative_id for i in initiatives]


def test_a_team_initiative_is_offered_and_the_default_only_where_it_covers(company: Tiny) -> None:
    e = company.engine
    assert _ids(initiatives_for(e, Scope.reps("B1"))) == ["company-focus"]
    assert _ids(initiatives_for(e, Scope.teams("TB"))) == ["company-focus"]
    assert _ids(initiatives_for(e, Scope.reps("A1"))) == ["alpha-push", "company-focus"]
    everyone = initiatives_for(e, Scope.everyone())
    # an executive may pick the team's initiative, but opens on the company-wide one
    assert _ids(everyone) == ["company-focus", "alpha-push"]
    assert default_initiative(e, Scope.everyone(), everyone).initiative_id == "company-focus"


def test_cards_under_a_team_initiative_compare_the_same_scope_on_both_sides(company: Tiny) -> None:
    alpha = get_initiative(company.store, "alpha-push")
    (card,) = cards(company.engine, ["meetings"], "month", SUNDAY, Scope.everyone(), alpha)
    # 1-16 March, the whole company: 20 meetings over 4 reps x 16 days
    assert card.value == pytest.approx(20 / (64 / 7))
    # the company's own baseline (3-30 Feb, 4 weeks) on the same weekdays: 7.25 meetings per
    # Tuesday (7, 7, 7, 8) and 3.25 reps a day (three reps, plus the new hire's one week);
    # 1-16 March has two Tuesdays and 16 days
    assert card.baseline == pytest.approx(14.5 / (52 / 7))
    assert card.vs_baseline == pytest.approx((20 / 64) / (14.5 / 52) - 1)


def test_trend_under_a_company_card_stays_company_wide(company: Tiny) -> None:
    alpha = get_initiative(company.store, "alpha-push")
    frame = trend(company.engine, "meetings", "week", Window(d("2025-03-03"), SUNDAY),
                  Scope.everyone(), alpha)
    # each week: 3 + 2 + 4 + 1 meetings over four reps' full weeks
    assert frame["value"].tolist() == pytest.approx([2.5, 2.5])


def test_a_brand_new_initiative_is_too_early_to_tell(company: Tiny) -> None:
    create_initiative(company.store, name="Brand new", strategy="s", tactics="t",
                      rollout_date=d("2025-03-12"), baseline_weeks=4, target_date=d("2025-12-31"),
                      targets={"meetings": 0.2})
    fresh = get_initiative(company.store, "brand-new")
    p = progress(company.engine, fresh, "meetings", SUNDAY)
    assert (p.window, p.current, p.change_pct, p.on_pace) == (None, None, None, None)
    assert p.note == "too early to tell: the first complete week after the rollout ends Sun 23 Mar"
    later = progress(company.engine, fresh, "meetings", d("2025-03-23"))
    assert later.window == Window(d("2025-03-12"), d("2025-03-23"))


def test_the_current_window_is_complete_weeks_after_the_rollout(company: Tiny) -> None:
    alpha = get_initiative(company.store, "alpha-push")
    p = progress(company.engine, alpha, "meetings", d("2025-03-19"))  # a Wednesday
    assert p.window == Window(d("2025-03-03"), SUNDAY)  # not the three days of the new week


def test_new_logos_at_week_grain_meet_the_same_weekdays_of_the_baseline(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("R", "T")
    for i, thursday in enumerate(("2025-02-06", "2025-02-13", "2025-02-20", "2025-02-27")):
        tiny.deal("R", "2025-01-02", thursday, won=True, amount=10, account=tiny.account(f"a{i}"))
    tiny.deal("R", "2025-01-02", "2025-03-13", won=True, amount=10, account=tiny.account("new"))
    create_initiative(tiny.store, name="Logos", strategy="s", tactics="t",
                      rollout_date=d("2025-03-03"), baseline_weeks=4, target_date=d("2025-12-31"))
    logos = get_initiative(tiny.store, "logos")
    (card,) = cards(tiny.engine, ["new_logos"], "week", d("2025-03-13"), Scope.everyone(), logos)
    # Monday to Thursday: one logo, as the baseline's Mondays to Thursdays (4 logos in 4 weeks,
    # all on Thursdays), not a quarter of the 4-week total
    assert (card.value, card.baseline, card.vs_baseline) == (1, pytest.approx(1.0), pytest.approx(0.0))
    assert card.partial and (card.window.days, card.period_days) == (4, 7)
    series = progress_series(tiny.engine, logos, "new_logos", "week", d("2025-03-16"))
    assert series["baseline"].tolist() == pytest.approx([1.0] * len(series))  # per week, not 4


def test_a_new_hire_is_compared_with_the_team_baseline_and_told_so(company: Tiny) -> None:
    alpha = get_initiative(company.store, "alpha-push")
    p = progress(company.engine, alpha, "meetings", SUNDAY, Scope.reps("N"))
    # Alpha's baseline: 8 + 4 + 1 meetings over 28 + 28 + 7 rep-days
    assert p.baseline == pytest.approx(13 / 9)
    assert p.current == pytest.approx(1.0)  # 2 meetings in the two weeks since the rollout
    assert p.change_pct == pytest.approx(1.0 / (13 / 9) - 1)
    assert p.note == "team baseline (Alpha): active 1 of the 4 baseline weeks"
    # one standard for everyone: the initiative-wide baseline raised by the target
    assert p.target_value == pytest.approx(13 / 9 * 1.5)
    assert lever_target(company.engine, alpha, "meetings", SUNDAY) == pytest.approx(13 / 9 * 1.5)
    series = progress_series(company.engine, alpha, "meetings", "week", SUNDAY, Scope.reps("N"),
                             d("2025-03-03"))
    assert series["target"].tolist() == pytest.approx([13 / 9 * 1.5] * 2)
    assert series["baseline_of"].iloc[0] == p.note
    # a lever without a target is scored against the same team baseline, and says so
    (streak,) = streaks(company.engine, Scope.reps("N"), ["activities"], SUNDAY, alpha)
    assert (streak.weeks, streak.at_or_above, streak.goal_kind) == (2, False, "team baseline")
    # a total (revenue) has no team stand-in for one rep: said, not invented
    revenue = progress(company.engine, alpha, "revenue", SUNDAY, Scope.reps("N"))
    assert revenue.baseline is None and revenue.change_pct is None
    (card,) = cards(company.engine, ["revenue"], "month", SUNDAY, Scope.reps("N"), alpha)
    assert card.vs_baseline is None and card.note == p.note


def test_a_rep_with_enough_baseline_weeks_keeps_their_own(company: Tiny) -> None:
    alpha = get_initiative(company.store, "alpha-push")
    p = progress(company.engine, alpha, "meetings", SUNDAY, Scope.reps("A1"))
    assert (p.baseline, p.current, p.note) == (pytest.approx(2.0), pytest.approx(3.0), None)


def test_gross_margin_without_any_cost_says_so(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("R", "T")
    tiny.deal("R", "2025-01-02", "2025-03-05", won=True, amount=100)
    (card,) = cards(tiny.engine, ["gross_margin"], "month", d("2025-03-16"), Scope.everyone())
    assert card.value is None and card.missing == "no cost data"


def test_an_initiative_for_every_team_is_company_wide(company: Tiny) -> None:
    create_initiative(company.store, name="All teams", strategy="s", tactics="t",
                      rollout_date=d("2025-03-10"), baseline_weeks=4, target_date=d("2025-12-31"),
                      teams={"TA": d("2025-03-10"), "TB": d("2025-03-17")}, targets={"meetings": 0.2})
    everyone = initiatives_for(company.engine, Scope.everyone())
    assert _ids(everyone) == ["all-teams", "company-focus", "alpha-push"]
    assert default_initiative(company.engine, Scope.everyone(), everyone).initiative_id == "all-teams"


def test_too_small_a_team_is_no_baseline_and_too_small_an_initiative_no_standard(
        company: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the real minimum groups (kpi.disclosure): Alpha's three reps are too few for the new
    hire's team baseline and for one standard, which would be a colleague's mean."""
    from kpi.disclosure import AGGREGATES

    monkeypatch.undo()  # the minimums as shipped
    assert AGGREGATES["team_baseline"].min_group == 4
    alpha = get_initiative(company.store, "alpha-push")
    p = progress(company.engine, alpha, "meetings", SUNDAY, Scope.reps("N"))
    assert (p.baseline, p.change_pct) == (None, None)
    assert p.note == "not enough baseline: active 1 of the 4 baseline weeks"
    # no standard: a lever's target raises the compared scope's own baseline
    assert lever_target(company.engine, alpha, "meetings", SUNDAY) is None
    a1 = progress(company.engine, alpha, "meetings", SUNDAY, Scope.reps("A1"))
    assert a1.target_value == pytest.approx(2.0 * 1.5)
