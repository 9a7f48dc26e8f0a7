"""What a rollup refresh writes, counted exactly: rows only added, rows only gone, a calendar's
days rewritten, on DuckDB (rows compared by key and hash) and on another SQL database (rows
compared whole); and which days a calendar rollup covers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

import pytest

from kpi import rollups
from kpi.catalog import Measure, load_catalog
from kpi.rollups import Rollup, _rewrite_changed
from kpi.store import DuckDBStore, SqlStore, Store
from tests.conftest import Tiny, d


def refresh(tiny: Tiny) -> dict[str, int]:
    with tiny.store.transaction():
        return rollups.refresh(tiny.store)


@pytest.fixture
def company(tiny: Tiny) -> Tiny:
    tiny.team("T")
    tiny.rep("a", "T", hired="2025-03-01")
    tiny.activity("a", "2025-03-03", "demo", n=2)
    tiny.quota("a", "2025-03-01", "2025-03-31", 900)
    return tiny


def test_a_day_only_added_writes_one_row_and_a_day_only_gone_one(company: Tiny) -> None:
    refresh(company)
    company.activity("a", "2025-03-04", "demo")
    written = refresh(company)
    assert written["rollup_activities"] == 1  # inserted; nothing deleted
    assert written["rollup_activities_company"] == 1
    with company.store.transaction():
        company.store.execute("DELETE FROM activities WHERE CAST(occurred_at AS DATE) = "
                              "DATE '2025-03-03'")
    written = refresh(company)
    assert written["rollup_activities"] == 1  # deleted; nothing inserted
    assert written["rollup_activities_company"] == 1
    _, rows = company.store.rows("SELECT event_date, rep_id FROM rollup_activities")
    assert rows == [(d("2025-03-04"), "a")]


def test_a_quota_changed_rewrites_its_days_in_the_calendar(company: Tiny) -> None:
    """The calendars are summed for the data's days (their SQL takes the days as parameters),
    here from the first activity on 3 March: a quota raised for March rewrites the 29 days of
    3-31 March, deleted and inserted, each a 31st of the quota."""
    refresh(company)
    with company.store.transaction():
        company.store.execute("UPDATE quotas SET amount = 1240")
    written = refresh(company)
    assert written["rollup_quota_days"] == 2 * 29
    assert written["rollup_quota_days_company"] == 2 * 29
    assert written["rollup_rep_days"] == 0
    total = company.store.scalar("SELECT sum(m) FROM (SELECT * EXCLUDE (event_date, rep_id) "
                                 "FROM rollup_quota_days) x(m)")
    assert total == pytest.approx(1240 * 29 / 31)


@pytest.fixture(params=["duckdb", "sqlite"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A table ``kept`` (k, v) of three rows and a table ``now`` it is summed from, on DuckDB
    and on SQLite (another SQL database: rows compared whole, no hash function there)."""
    found: Store = DuckDBStore.create() if request.param == "duckdb" else SqlStore.open_url(
        "sqlite://", read_only=False)
    with found.transaction():
        for table in ("kept", "now"):
            found.execute(f"CREATE TABLE {table} (k VARCHAR, v INTEGER)")
        found.execute("INSERT INTO kept VALUES ('same', 1), ('changed', 2), ('gone', 3), "
                      "('blank', NULL)")
        found.execute("INSERT INTO now VALUES ('same', 1), ('changed', 20), ('new', 4), "
                      "('blank', 0)")
    yield found
    found.close()


def test_only_the_keys_whose_rows_differ_are_rewritten(store: Store) -> None:
    with store.transaction():
        written = _rewrite_changed(store, "kept", "SELECT k, v FROM now WHERE v >= $low",
                                   {"low": 0}, ["k"], ["v"])
    # changed and blank (NULL -> 0): deleted and inserted; gone deleted; new inserted
    assert written == 2 + 2 + 1 + 1
    _, rows = store.rows("SELECT k, v FROM kept ORDER BY k")
    assert rows == [("blank", 0), ("changed", 20), ("new", 4), ("same", 1)]
    with store.transaction():
        assert _rewrite_changed(store, "kept", "SELECT k, v FROM now WHERE v >= $low",
                                {"low": 0}, ["k"], ["v"]) == 0


def test_the_parameters_reach_the_rows_inserted(store: Store) -> None:
    with store.transaction():
        written = _rewrite_changed(store, "kept", "SELECT k, v FROM now WHERE v >= $low",
                                   {"low": 4}, ["k"], ["v"])
    assert written == 4 + 2  # same, gone, blank deleted; changed rewritten; new inserted
    _, rows = store.rows("SELECT k, v FROM kept ORDER BY k")
    assert rows == [("changed", 20), ("new", 4)]


def test_a_calendar_rollup_covers_its_days_and_no_other() -> None:
    days = Rollup("rep_days", "rollup_rep_days", frozenset(), d("2025-01-01"), d("2025-12-31"))
    assert days.covers(d("2025-01-01"), d("2025-12-31"))
    assert not days.covers(d("2024-12-31"), d("2025-06-30"))
    assert not days.covers(d("2025-01-01"), d("2026-01-01"))
    events = Rollup("activities", "rollup_activities", frozenset())
    assert events.covers(dt.date(1990, 1, 1), dt.date(2090, 1, 1))  # every day there is
    assert not Rollup("rep_days", "rollup_rep_days", frozenset()).covers(
        d("2025-01-01"), d("2025-01-02"))  # a calendar never summed covers nothing


PLACEHOLDER = re.compile(r"\$([A-Za-z_]\w*)")


def test_every_parameter_a_refresh_binds_is_named_exactly(company: Tiny,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL through SQLAlchemy binds ``$date_from`` only to a parameter named exactly so
    (DuckDB alone reads ``DATE_FROM`` for it): the calendars' days are bound by their names."""
    sent: list[tuple[str, dict]] = []
    for name in ("execute", "rows", "scalar"):
        method = getattr(company.store, name)

        def checked(sql: str, params: dict | None = None, _method=method) -> object:  # noqa: ANN001
            assert set(PLACEHOLDER.findall(sql)) <= set(params or {}), (sql, params)
            sent.append((sql, dict(params or {})))
            return _method(sql, params)

        monkeypatch.setattr(company.store, name, checked)
    refresh(company)
    company.quota("a", "2025-03-01", "2025-03-31", 1000)
    refresh(company)
    assert any(p.keys() == {"date_from", "date_to"} for _, p in sent)  # the calendars' days


def test_a_database_without_a_raw_table_sums_the_rollups_of_the_others(company: Tiny) -> None:
    """A warehouse view set without quotas (or any raw table): the rollups that read it are not
    built, the others are, and no query reads the missing table."""
    with company.store.transaction():
        company.store.execute("DROP TABLE quotas")
    written = refresh(company)
    assert "rollup_quota_days" not in written and "rollup_quota_days_company" not in written
    assert written["rollup_activities"] == 1
    assert "rollup_quota_days" not in rollups.index(company.store)


def test_a_refresh_sums_the_measures_of_the_catalog_it_is_given(company: Tiny) -> None:
    """A catalog with a metric of its own (calls counted from activities): its column is summed
    into the activities' rollup when that catalog is given, and absent from the default's."""
    catalog = load_catalog()
    calls = dataclasses.replace(catalog.get("demos"), id="calls_logged", label="Calls logged",
                                numerator=Measure("activities", "count",
                                                  filter="type = 'call' AND 1 = 1"))
    mine = dataclasses.replace(catalog, metrics=(*catalog.metrics, calls))
    column = rollups.column(calls.numerator)
    refresh(company)
    assert column not in rollups.index(company.store)["rollup_activities"].columns
    with company.store.transaction():
        rollups.refresh(company.store, mine)
    assert column in rollups.index(company.store)["rollup_activities"].columns
