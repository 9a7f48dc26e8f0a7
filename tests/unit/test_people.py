"""Who is in which team when, what a user's scope reads, and narrowing a scope, by hand.

Teams T (Alpha) and U (Beta). A joined T on 1 Jan 2025. B joined U on 1 Feb 2025 and left on
15 Mar 2025. C joined T on 1 Jan 2025 and moved to U on 10 Feb 2025.
"""

from __future__ import annotations

import re

import pytest

from kpi.engine import Scope
from kpi.errors import AccessRefused, NotFound
from kpi.people import (
    Member,
    User,
    active_days,
    get_user,
    members,
    narrow,
    team_name,
    team_of,
    teams,
    teams_of,
    teams_on,
)
from tests.conftest import Tiny, d


def names(found: list[Member]) -> list[str]:
    return [m.rep_id for m in found]


def test_members_of_a_team_in_a_window(org: Tiny) -> None:
    store = org.store
    assert names(members(store, Scope.teams("T"), d("2025-01-01"), d("2025-01-31"))) == ["A", "C"]
    assert names(members(store, Scope.teams("U"), d("2025-01-01"), d("2025-01-31"))) == []
    assert names(members(store, Scope.teams("U"), d("2025-02-01"), d("2025-02-28"))) == ["B", "C"]
    # C left T on the day the window starts
    assert names(members(store, Scope.teams("T"), d("2025-02-10"), d("2025-02-28"))) == ["A"]
    assert names(members(store, Scope.teams("T"), d("2025-02-09"), d("2025-02-28"))) == ["A", "C"]
    # B's last day is 15 March
    assert names(members(store, Scope.teams("U"), d("2025-03-15"), d("2025-03-31"))) == ["B", "C"]
    assert names(members(store, Scope.teams("U"), d("2025-03-16"), d("2025-03-31"))) == ["C"]
    # hired on the window's last day counts
    assert names(members(store, Scope.teams("U"), d("2025-01-20"), d("2025-02-01"))) == ["B"]
    assert names(members(store, Scope.teams("T", "U"), d("2025-02-01"), d("2025-02-28"))) == [
        "A", "B", "C"]
    assert names(members(store, Scope.everyone(), d("2025-01-01"), d("2025-01-31"))) == ["A", "C"]
    assert members(store, Scope.teams(), d("2025-01-01"), d("2025-12-31")) == []
    assert members(store, Scope.reps("C", "A"), d("2025-01-01"), d("2025-01-31")) == [
        Member("A", "Rep A"), Member("C", "Rep C")]
    assert members(store, Scope.reps(), d("2025-01-01"), d("2025-01-31")) == []


def test_active_days(org: Tiny) -> None:
    store = org.store
    assert active_days(store, "A", d("2025-01-01"), d("2025-01-31")) == 31
    assert active_days(store, "B", d("2025-01-01"), d("2025-03-31")) == 28 + 15  # 1 Feb - 15 Mar
    assert active_days(store, "B", d("2025-04-01"), d("2025-04-30")) == 0
    assert active_days(store, "C", d("2025-02-01"), d("2025-02-28"), within=("T",)) == 9
    assert active_days(store, "C", d("2025-02-01"), d("2025-02-28"), within=("U",)) == 19
    assert active_days(store, "C", d("2025-02-01"), d("2025-02-28"), within=("T", "U")) == 28
    assert active_days(store, "C", d("2025-03-01"), d("2025-03-31"), within=("T",)) == 0
    assert active_days(store, "B", d("2025-03-01"), d("2025-03-31"), within=("U",)) == 15
    assert active_days(store, "nobody", d("2025-01-01"), d("2025-01-31")) == 0


def test_team_of_and_teams_of(org: Tiny) -> None:
    store = org.store
    assert team_of(store, "C", d("2025-02-09")) == "T"
    assert team_of(store, "C", d("2025-02-10")) == "U"
    assert team_of(store, "C", d("2025-12-31")) == "U"
    assert team_of(store, "C", d("2024-06-01")) == "T"  # before any: the first team
    assert team_of(store, "nobody", d("2025-01-01")) is None
    assert teams_of(store, "C", d("2025-02-09")) == {"T", "U"}
    assert teams_of(store, "C", d("2025-02-10")) == {"U"}
    assert teams_of(store, "nobody", d("2025-01-01")) == set()


def test_each_reps_team_on_a_day_read_at_once(org: Tiny) -> None:
    """teams_on is team_of for several reps in one query: C's team before, on and after the
    move, before any assignment (the first team), a rep not assigned left out."""
    store = org.store
    asked = ["C", "A", "B", "nobody"]
    assert teams_on(store, asked, d("2025-02-09")) == {"A": "T", "B": "U", "C": "T"}
    assert teams_on(store, asked, d("2025-02-10")) == {"A": "T", "B": "U", "C": "U"}
    assert teams_on(store, asked, d("2024-06-01")) == {"A": "T", "B": "U", "C": "T"}
    assert teams_on(store, [], d("2025-02-10")) == {}
    for day in ("2024-06-01", "2025-01-01", "2025-02-09", "2025-02-10", "2025-12-31"):
        assert teams_on(store, asked, d(day)) == {
            r: team for r in asked if (team := team_of(store, r, d(day))) is not None}


def test_teams_a_scope_may_look_at(org: Tiny) -> None:
    store = org.store
    assert teams(store, Scope.everyone()) == [("T", "Alpha"), ("U", "Beta")]
    assert teams(store, Scope.teams("U")) == [("U", "Beta")]
    assert teams(store, Scope.reps("A")) == []
    assert team_name(store, "U") == "Beta"
    assert team_name(store, "Z") == "Z"


def test_narrowing_keeps_or_tightens_the_scope(org: Tiny) -> None:
    store = org.store
    assert narrow(store, Scope.everyone()) == Scope.everyone()
    assert narrow(store, Scope.everyone(), rep_id="C") == Scope.reps("C")
    assert narrow(store, Scope.everyone(), team_id="U") == Scope.teams("U")
    assert narrow(store, Scope.teams("T", "U"), team_id="U") == Scope.teams("U")
    assert narrow(store, Scope.teams("U"), rep_id="C") == Scope.rep_in_teams("C", "U")
    assert narrow(store, Scope.reps("A"), rep_id="A") == Scope.reps("A")
    inside = Scope.rep_in_teams("C", "T")
    assert narrow(store, inside, rep_id="C") == inside  # a manager's rep keeps the manager's team
    with pytest.raises(AccessRefused) as caught:
        narrow(store, Scope.reps("A"), team_id="T")
    assert str(caught.value) == "team 'T' is outside what you may see"
    with pytest.raises(AccessRefused) as caught:
        narrow(store, Scope.teams("T"), rep_id="B")
    assert str(caught.value) == "rep 'B' is outside what you may see"
    with pytest.raises(AccessRefused) as caught:  # a rep who does not exist: said the same way
        narrow(store, Scope.everyone(), rep_id="nobody")
    assert str(caught.value) == "rep 'nobody' is outside what you may see"


def test_what_each_role_reads() -> None:
    assert User("u1", "Eve", "executive").scope == Scope("all", (), (), "executive")
    assert User("u2", "Ada", "admin").scope == Scope("all", (), (), "admin")
    assert User("u3", "Max", "manager", team_id="T").scope == Scope("team", ("T",), (), "manager")
    assert User("u4", "Nia", "manager").scope == Scope("team", (), (), "manager")  # reads nothing
    assert User("u5", "Rae", "rep", rep_id="A").scope == Scope("rep", ("A",), (), "rep")
    assert User("u6", "Sol", "rep").scope == Scope("rep", (), (), "rep")
    assert [User("u", "x", r).can_edit_initiatives for r in ("executive", "admin", "manager",
                                                               "rep")] == [True, True, False, False]


def test_an_unknown_user(org: Tiny) -> None:
    with pytest.raises(NotFound) as caught:
        get_user(org.store, "zed")
    assert str(caught.value) == "no user 'zed' — pick a user from the list, or add one"


class StrictBinds:
    """A store that, like SQLAlchemy on other databases, needs each ``$name`` of a query to be a
    parameter of exactly that spelling (DuckDB alone would forgive ``$R`` for ``r``)."""

    def __init__(self, store: object) -> None:
        self.store = store

    def _check(self, sql: str, params: dict | None) -> None:
        assert set(re.findall(r"\$(\w+)", sql)) == set(params or {}), sql

    def rows(self, sql: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        self._check(sql, params)
        return self.store.rows(sql, params)  # type: ignore[attr-defined]

    def scalar(self, sql: str, params: dict | None = None) -> object:
        self._check(sql, params)
        return self.store.scalar(sql, params)  # type: ignore[attr-defined]


def test_every_query_binds_its_parameters_by_their_exact_names(org: Tiny) -> None:
    store = StrictBinds(org.store)
    day, end = d("2025-01-01"), d("2025-03-31")
    for scope in (Scope.everyone(), Scope.teams("T", "U"), Scope.reps("A", "C")):
        members(store, scope, day, end)  # type: ignore[arg-type]
        teams(store, scope)  # type: ignore[arg-type]
    assert active_days(store, "C", day, end, within=("T",)) == 40  # type: ignore[arg-type]
    assert team_of(store, "C", end) == "U"  # type: ignore[arg-type]
    assert teams_of(store, "C", day) == {"T", "U"}  # type: ignore[arg-type]
    assert team_name(store, "T") == "Alpha"  # type: ignore[arg-type]
    assert narrow(store, Scope.teams("T"), rep_id="C") == Scope.rep_in_teams("C", "T")  # type: ignore[arg-type]
    assert narrow(store, Scope.everyone(), rep_id="C") == Scope.reps("C")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        get_user(store, "zed")  # type: ignore[arg-type]
