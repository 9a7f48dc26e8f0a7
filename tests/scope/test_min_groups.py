"""Each declared aggregate's minimum group: shown when its group is large enough, not shown below
it (a viewer could otherwise work a colleague's number out from their own), and the company of
the metamorphic tests large enough for every aggregate it shows."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import views
from kpi.disclosure import AGGREGATES
from kpi.engine import Engine, Scope
from kpi.initiatives import get_initiative
from kpi.insights.forecast import MIN_DEALS
from kpi.insights.lead_lag import MIN_TEAMS
from kpi.people import members
from kpi.periods import Window

from . import company
from .company import TODAY, Memo, Tables, _rep_weeks

YEAR_AGO = dt.date(2024, 6, 3)  # lead-lag reads a year of weeks
RECENT = dt.date(2025, 1, 6)  # the rest: the rollout's baseline and the last months
ROLLOUT = dt.date(2025, 4, 7)
MONTHS = Window(dt.date(2025, 3, 3), TODAY)


def small(teams: dict[str, int], new_rep_in: str | None = None, since: dt.date = RECENT) -> Engine:
    """Teams with the given number of reps (ids T1-1, T1-2, ...) and their ordinary weeks
    ``since`` a day, a rollout on the first team targeting demos; with ``new_rep_in``, also rep N
    hired in it a fortnight before the day viewed."""
    tables = Tables()
    for team, size in teams.items():
        tables.rows["teams"].append({"team_id": team, "name": team, "manager_id": None})
        for i in range(1, size + 1):
            rep = f"{team}-{i}"
            tables.rep(rep, [(team, company.HIRED, None)], "East", "generalist", "hunter")
            _rep_weeks(tables, rep, since, TODAY)
    if new_rep_in:
        hired = TODAY - dt.timedelta(weeks=2)
        tables.rep("N", [(new_rep_in, hired, None)], "East", "generalist", "hunter")
        _rep_weeks(tables, "N", hired, TODAY)
    first = next(iter(teams))
    tables.initiative("push", "Push", ROLLOUT, 8, dt.date(2025, 12, 31), {first: ROLLOUT},
                      [("demos", 0.2, ROLLOUT)])
    return Memo(tables.store())


def _team_average(engine: Engine) -> list:
    return views.team_average(engine, Scope.reps("T1-1"), "new_prospect_meetings", "week", MONTHS) or []


def _standard(engine: Engine) -> float | None:
    return views.lever_target(engine, get_initiative(engine.store, "push"), "demos", TODAY)


def _new_rep_baseline(engine: Engine) -> float | None:
    return views.pace(engine, Scope.reps("N"), ["demos"], TODAY, None)[0].own_rate


def _lead(engine: Engine) -> bool:
    table = views.lead_lags(engine, ("demos",), ("win_rate",), TODAY)
    return table["lag"].notna().any()


# aggregate -> (teams below its minimum, teams at it, new rep's team, is it shown?, since)
CASES = {
    "team_average": ({"T1": 3}, {"T1": 4}, None,
                     lambda e: any(v is not None for v in _team_average(e)), RECENT),
    "lever_standard": ({"T1": 3}, {"T1": 4}, None, lambda e: _standard(e) is not None, RECENT),
    "team_baseline": ({"T1": 3}, {"T1": 4}, "T1", lambda e: _new_rep_baseline(e) is not None,
                      RECENT),
    "lead_lag": ({"T1": 2, "T2": 2}, {"T1": 2, "T2": 2, "T3": 2}, None, _lead, YEAR_AGO),
}
BELOW_MINIMUM_SHOWN: dict[str, str] = {}  # aggregates still shown below their minimum (none)


def test_every_declared_aggregate_has_a_case() -> None:
    assert set(CASES) | {"forecast_history", "data_dates"} == set(AGGREGATES)


@pytest.mark.parametrize("key", sorted(CASES))
def test_shown_at_its_minimum_group(key: str) -> None:
    _, enough, new_rep, shown, since = CASES[key]
    assert shown(small(enough, new_rep, since))


@pytest.mark.parametrize("key", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=BELOW_MINIMUM_SHOWN[k]))
    if k in BELOW_MINIMUM_SHOWN else k for k in sorted(CASES)])
def test_not_shown_below_its_minimum_group(key: str) -> None:
    below, _, new_rep, shown, since = CASES[key]
    assert not shown(small(below, new_rep, since))


def test_the_scope_tests_company_meets_every_minimum() -> None:
    engine = company.build()
    day, t1 = TODAY, Scope.teams("T1")
    current = [m for m in members(engine.store, t1, day, day)]
    assert len(current) >= AGGREGATES["team_average"].min_group  # team average, team baseline
    assert len(current) >= AGGREGATES["team_baseline"].min_group
    push = get_initiative(engine.store, "team-push")
    in_push = members(engine.store, Scope.teams(*push.team_ids), push.baseline_start,
                      push.baseline_end)
    assert len(in_push) >= AGGREGATES["lever_standard"].min_group
    assert AGGREGATES["lead_lag"].min_group == MIN_TEAMS <= len(company.TEAMS)
    assert AGGREGATES["forecast_history"].min_group == MIN_DEALS
    closed = engine.store.scalar("SELECT count(*) FROM opportunities WHERE is_closed AND "
                                 "closed_at > $d", {"d": day - dt.timedelta(days=365)})
    assert closed >= MIN_DEALS
