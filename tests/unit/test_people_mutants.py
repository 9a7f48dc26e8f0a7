"""kpi.people on databases other than DuckDB, by hand: an empty list of ids never becomes ``IN ()``
(PostgreSQL rejects it; DuckDB alone reads it as false), every table is named as the schema
creates it (BigQuery's table names are case-sensitive), and dates that a driver returns as
timestamps count the same days.

Teams T (Alpha) and U (Beta). A joined T on 1 Jan 2025. B joined U on 1 Feb 2025 and left on
15 Mar 2025. C joined T on 1 Jan 2025 and moved to U on 10 Feb 2025.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlglot
from sqlglot import exp

from kpi.engine import Scope
from kpi.errors import AccessRefused, NotFound
from kpi.people import (
    _day,
    active_days,
    get_user,
    hire_days,
    list_users,
    members,
    narrow,
    rep_count,
    rep_names,
    segments_on,
    team_name,
    team_names,
    team_of,
    teams,
    teams_of,
    teams_on,
)
from tests.conftest import Tiny, d

EMPTY_IN = re.compile(r"\bIN\s*\(\s*\)", re.IGNORECASE)


class NoEmptyIn:
    """A store that, like PostgreSQL, refuses ``x IN ()``."""

    def __init__(self, store: object) -> None:
        self.store = store

    def rows(self, sql: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        assert not EMPTY_IN.search(sql), sql
        return self.store.rows(sql, params)  # type: ignore[attr-defined]

    def scalar(self, sql: str, params: dict | None = None) -> object:
        assert not EMPTY_IN.search(sql), sql
        return self.store.scalar(sql, params)  # type: ignore[attr-defined]


class ExactTableNames:
    """A store that, like BigQuery, finds a table only by the exact name the schema gave it."""

    def __init__(self, store: object) -> None:
        self.store = store
        self.tables = store.tables()  # type: ignore[attr-defined]
        self.read: set[str] = set()

    def _check(self, sql: str) -> None:
        for table in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table):
            assert table.name in self.tables, sql
            self.read.add(table.name)

    def rows(self, sql: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        self._check(sql)
        return self.store.rows(sql, params)  # type: ignore[attr-defined]

    def scalar(self, sql: str, params: dict | None = None) -> object:
        self._check(sql)
        return self.store.scalar(sql, params)  # type: ignore[attr-defined]


class Timestamps:
    """A store whose driver returns DATE columns as midnight timestamps (as some do)."""

    def __init__(self, store: object) -> None:
        self.store = store

    @staticmethod
    def _cell(value: object) -> object:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime(value.year, value.month, value.day)
        return value

    def rows(self, sql: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        names, rows = self.store.rows(sql, params)  # type: ignore[attr-defined]
        return names, [tuple(self._cell(v) for v in row) for row in rows]


def test_an_empty_list_of_ids_matches_nothing_without_an_empty_in(org: Tiny) -> None:
    store = NoEmptyIn(org.store)
    day, end = d("2025-01-01"), d("2025-12-31")
    assert members(store, Scope.teams(), day, end) == []  # type: ignore[arg-type]
    assert members(store, Scope.reps(), day, end) == []  # type: ignore[arg-type]
    with pytest.raises(AccessRefused):
        narrow(store, Scope.teams(), rep_id="A")  # type: ignore[arg-type]
    # and a non-empty list still finds its rows
    assert [m.rep_id for m in members(store, Scope.teams("U"), d("2025-02-01"),  # type: ignore[arg-type]
                                      d("2025-02-28"))] == ["B", "C"]


def test_every_table_is_named_as_the_schema_creates_it(org: Tiny) -> None:
    store = ExactTableNames(org.store)
    day, end = d("2025-01-01"), d("2025-03-31")
    assert list_users(store) == []  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        get_user(store, "zed")  # type: ignore[arg-type]
    assert teams(store, Scope.everyone()) == [("T", "Alpha"), ("U", "Beta")]  # type: ignore[arg-type]
    assert team_name(store, "U") == "Beta"  # type: ignore[arg-type]
    assert [m.rep_id for m in members(store, Scope.reps("A"), day, end)] == ["A"]  # type: ignore[arg-type]
    assert [m.rep_id for m in members(store, Scope.teams("T"), day, end)] == ["A", "C"]  # type: ignore[arg-type]
    assert active_days(store, "C", d("2025-02-01"), d("2025-02-28"),  # type: ignore[arg-type]
                       within=("U",)) == 19
    assert team_of(store, "C", end) == "U"  # type: ignore[arg-type]
    assert teams_of(store, "C", day) == {"T", "U"}  # type: ignore[arg-type]
    assert narrow(store, Scope.everyone(), rep_id="C") == Scope.reps("C")  # type: ignore[arg-type]
    assert narrow(store, Scope.teams("U"), rep_id="C") == Scope.rep_in_teams("C", "U")  # type: ignore[arg-type]
    assert store.read == {"users", "teams", "reps", "rep_assignments"}


def test_days_counted_from_timestamps(org: Tiny) -> None:
    store = Timestamps(org.store)
    assert active_days(store, "A", d("2025-01-01"), d("2025-01-31")) == 31  # type: ignore[arg-type]
    assert active_days(store, "B", d("2025-01-01"), d("2025-03-31")) == 28 + 15  # type: ignore[arg-type]
    # C was in T from 1 to 9 February, in U from the 10th to the 28th
    assert active_days(store, "C", d("2025-02-01"), d("2025-02-28"),  # type: ignore[arg-type]
                       within=("T",)) == 9
    assert active_days(store, "C", d("2025-02-01"), d("2025-02-28"),  # type: ignore[arg-type]
                       within=("U",)) == 19
    assert team_of(store, "C", d("2025-02-09")) == "T"  # type: ignore[arg-type]


def test_a_timestamp_is_read_as_its_day() -> None:
    assert _day(dt.datetime(2025, 2, 10, 15, 30)) == dt.date(2025, 2, 10)
    assert _day(dt.date(2025, 2, 10)) == dt.date(2025, 2, 10)
    assert _day(None) is None


PLACEHOLDER = re.compile(r"\$([A-Za-z_]\w*)")


class ExactParams:
    """A store that, like PostgreSQL through SQLAlchemy, binds ``$day`` only to a parameter named
    exactly ``day`` (DuckDB alone reads ``DAY`` for it)."""

    def __init__(self, store: object) -> None:
        self.store = store

    def rows(self, sql: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        assert set(PLACEHOLDER.findall(sql)) <= set(params or {}), (sql, params)
        return self.store.rows(sql, params)  # type: ignore[attr-defined]

    def scalar(self, sql: str, params: dict | None = None) -> object:
        assert set(PLACEHOLDER.findall(sql)) <= set(params or {}), (sql, params)
        return self.store.scalar(sql, params)  # type: ignore[attr-defined]


def test_the_reads_of_reps_and_teams_that_other_modules_share(org: Tiny) -> None:
    """The rollout estimates, the forecast and the import plan read reps and teams through these;
    C moved from T to U on 10 Feb 2025, so their segment on a day is that day's assignment's."""
    org.move("A", "T", "2025-03-01", segment="enterprise")
    store = ExactParams(ExactTableNames(org.store))
    assert rep_count(store) == 3  # type: ignore[arg-type]
    assert sorted(rep_names(store)) == [("A", "Rep A"), ("B", "Rep B"), ("C", "Rep C")]  # type: ignore[arg-type]
    assert team_names(store) == {"T": "Alpha", "U": "Beta"}  # type: ignore[arg-type]
    assert hire_days(store) == {"Rep A": d("2025-01-01"), "Rep B": d("2025-02-01"),  # type: ignore[arg-type]
                                "Rep C": d("2025-01-01")}
    assert segments_on(store, d("2025-02-28")) == {  # type: ignore[arg-type]
        "A": "generalist", "B": "generalist", "C": "generalist"}
    assert segments_on(store, d("2025-03-01")) == {  # type: ignore[arg-type]
        "A": "enterprise", "B": "generalist", "C": "generalist"}
    assert segments_on(store, d("2024-12-31")) == {}  # type: ignore[arg-type]
    assert teams_on(store, ["C", "A", "nobody"], d("2025-02-28")) == {  # type: ignore[arg-type]
        "A": "T", "C": "U"}
