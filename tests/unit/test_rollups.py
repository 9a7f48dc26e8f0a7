"""Rollups (kpi.rollups): which requests read them, that they give the raw rows' numbers, and
that a refresh rewrites only the rep-days (and company days) that changed.

Company: reps a and b in team T (East), c in team U (West) from 1 March 2025; a logs 2 demos on
Monday 3 March and a call on the 4th, c one demo on the 3rd; a wins 500 (closed 5 March, account
in Retail) and loses one (6 March); quotas of 900 for a in March.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from kpi import rollups
from kpi.catalog import Measure, load_catalog
from kpi.engine import Engine, MetricRequest, Scope
from kpi.sources import SOURCES
from tests.conftest import Tiny, d

MARCH = {"date_from": d("2025-03-01"), "date_to": d("2025-03-31")}


@pytest.fixture
def company(tiny: Tiny) -> Tiny:
    tiny.team("T")
    tiny.team("U")
    tiny.rep("a", "T", hired="2025-03-01")
    tiny.rep("b", "T", hired="2025-03-01")
    tiny.rep("c", "U", hired="2025-03-01", region="West")
    tiny.activity("a", "2025-03-03", "demo", n=2)
    tiny.activity("a", "2025-03-04", "call")
    tiny.activity("c", "2025-03-03", "demo")
    tiny.account("acc", "Retail")
    tiny.deal("a", "2025-02-01", "2025-03-05", won=True, amount=500, account="acc")
    tiny.deal("a", "2025-02-01", "2025-03-06", won=False, amount=300, account="acc")
    tiny.quota("a", "2025-03-01", "2025-03-31", 900)
    return tiny


def refresh(tiny: Tiny) -> dict[str, int]:
    with tiny.store.transaction():
        return rollups.refresh(tiny.store)


def rows(engine: Engine, metric: str, **kw: object) -> list[tuple]:
    return engine.rows(MetricRequest.make(metric, **{**MARCH, **kw}))[1]


def tables_read(engine: Engine, metric: str, **kw: object) -> set[str]:
    """The rollup tables the request's SQL reads."""
    sql = engine.compile(MetricRequest.make(metric, **{**MARCH, **kw})).sql
    return set(re.findall(r"\brollup_\w+", sql))


def reads_rollup(engine: Engine, metric: str, table: str | None = None, **kw: object) -> bool:
    """Whether the request reads a rollup of ``table`` (per rep or the company's; by default:
    any rollup)."""
    read = tables_read(engine, metric, **kw)
    return bool({table, f"{table}_company"} & read) if table else bool(read)


def reads_company(engine: Engine, metric: str, **kw: object) -> bool:
    return any(t.endswith("_company") for t in tables_read(engine, metric, **kw))


def test_the_rollups_hold_one_row_per_rep_and_day(company: Tiny) -> None:
    written = refresh(company)
    _, got = company.store.rows("SELECT event_date, rep_id FROM rollup_activities ORDER BY 1, 2")
    assert got == [(d("2025-03-03"), "a"), (d("2025-03-03"), "c"), (d("2025-03-04"), "a")]
    assert written["rollup_activities"] == 3
    assert written["rollup_opps_closed"] == 2
    # rep-days: three reps, every day from the first deal's creation to today
    days = (max(dt.date.today(), d("2025-03-06")) - d("2025-03-01")).days + 1
    assert written["rollup_rep_days"] == 3 * days
    assert written["rollup_quota_days"] == 31
    # the company's: one row per day and industry (activities without an account: unknown)
    assert company.store.rows("SELECT event_date, industry FROM rollup_activities_company "
                              "ORDER BY 1")[1] == [(d("2025-03-03"), "(unknown)"),
                                                    (d("2025-03-04"), "(unknown)")]
    assert company.store.rows("SELECT event_date, industry FROM rollup_opps_closed_company "
                              "ORDER BY 1")[1] == [(d("2025-03-05"), "Retail"),
                                                    (d("2025-03-06"), "Retail")]
    assert written["rollup_rep_days_company"] == days  # the calendars: one row per day
    assert company.store.rows("SELECT event_date, " + rollups.column(
        load_catalog().get("demos").denominator) + " FROM rollup_rep_days_company "
        "WHERE event_date = DATE '2025-03-03'")[1] == [(d("2025-03-03"), 3)]
    assert written["rollup_quota_days_company"] == 31
    # the deals' copies: each closed (created) deal's row, with its account's industry
    assert company.store.rows("SELECT event_date, rep_id, industry, amount, is_won, cycle_days "
                              "FROM rollup_opps_closed_rows ORDER BY event_date")[1] == [
        (d("2025-03-05"), "a", "Retail", 500.0, True, 32),
        (d("2025-03-06"), "a", "Retail", 300.0, False, 33)]
    assert written["rollup_opps_created_rows"] == 2


def test_what_a_rep_and_a_day_decide_reads_the_rollup_and_gives_the_same_numbers(
        company: Tiny) -> None:
    raw = rows(company.engine, "demos", grain="week", by=["team"])
    refresh(company)
    engine = company.engine
    assert reads_rollup(engine, "demos", grain="week", by=["team"])
    assert rows(engine, "demos", grain="week", by=["team"]) == raw
    assert [r[:2] for r in raw] == [(d("2025-02-24"), "T"), (d("2025-02-24"), "U"),
                                    (d("2025-03-03"), "T"), (d("2025-03-03"), "U")] + [
        (d(f"2025-03-{day:02d}"), t) for day in (10, 17, 24, 31) for t in ("T", "U")]
    assert [r[3] for r in raw[:4]] == [0, 0, 2, 1]  # demos; per rep-week as value
    # per rep-week: 2 demos by T's two reps over 2 x 31 rep-days
    [(_, value, numerator, denominator, _)] = rows(engine, "demos", grain="total",
                                                   scope=Scope.teams("T"))
    assert type(numerator) is int  # a count stays whole
    assert (value, numerator, denominator) == (pytest.approx(2 / (62 / 7)), 2,
                                               pytest.approx(62 / 7))
    assert reads_rollup(engine, "win_rate", grain="month", by=["region"])
    assert rows(engine, "win_rate", grain="total") == [(d("2025-03-01"), 0.5, 1, 2, False)]
    assert reads_rollup(engine, "quota_attainment", grain="total")
    assert rows(engine, "quota_attainment", grain="total", scope=Scope.reps("a"))[0][1:4] == (
        pytest.approx(500 / 900), 500.0, pytest.approx(900.0))


def test_everyones_numbers_read_the_company_rollup_whole_or_by_industry(company: Tiny) -> None:
    raw = Engine(company.store, use_rollups=False)
    asked = [("win_rate", {"by": ["industry"]}), ("revenue", {"filters": {"industry": ["Retail"]}}),
             ("demos", {"grain": "week"}), ("quota_attainment", {}), ("revenue", {"grain": "day"})]
    want = [rows(raw, metric, **kw) for metric, kw in asked]
    refresh(company)
    engine = company.engine
    for (metric, kw), expected in zip(asked, want, strict=True):
        assert reads_company(engine, metric, **kw), (metric, kw)
        assert rows(engine, metric, **kw) == expected, (metric, kw)
    assert rows(engine, "win_rate", by=["industry"]) == [
        (d("2025-03-01"), "Retail", 0.5, 1, 2, False)]
    assert rows(engine, "revenue", filters={"industry": ["Retail"]})[0][1] == 500.0
    # a team's or a rep's numbers, or a split by team: the rep-days' rollup, or (an industry
    # within a team) the copy of the deals' rows
    assert tables_read(engine, "demos", scope=Scope.teams("T")) == {"rollup_activities",
                                                                    "rollup_rep_days"}
    assert not reads_company(engine, "demos", by=["team"])
    assert not reads_company(engine, "demos", scope=Scope("rep", ("a",), within=("T",)))
    assert tables_read(engine, "win_rate", by=["industry"], scope=Scope.teams("T")) == {
        "rollup_opps_closed_rows"}
    assert rows(engine, "win_rate", by=["industry"], scope=Scope.teams("U")) == []


def test_what_only_the_rows_know_reads_them_or_the_deals_copy(company: Tiny) -> None:
    raw = Engine(company.store, use_rollups=False)
    asked = [("win_rate", {"by": ["industry"], "scope": Scope.reps("a")}),
             ("revenue", {"filters": {"product": ["Core"]}}),
             ("new_logos", {}), ("sales_cycle_days", {}), ("avg_deal_size", {"by": ["product"]})]
    want = [rows(raw, metric, **kw) for metric, kw in asked]
    refresh(company)
    engine = company.engine
    for (metric, kw), expected in zip(asked, want, strict=True):  # a distinct count, a median,
        assert tables_read(engine, metric, **kw) == {"rollup_opps_closed_rows"}  # a product
        assert rows(engine, metric, **kw) == expected, (metric, kw)
    assert rows(engine, "new_logos") == [(d("2025-03-01"), 1, False)]
    assert rows(engine, "sales_cycle_days") == [(d("2025-03-01"), 32.0, False)]
    assert not reads_rollup(engine, "open_pipeline")  # a snapshot per window
    # the calendars are built for the data's days up to today: later days are generated
    late = {"date_from": d("2025-03-01"), "date_to": dt.date.today() + dt.timedelta(days=30)}
    assert reads_rollup(engine, "demos", "rollup_rep_days", **MARCH)
    assert not reads_rollup(engine, "demos", "rollup_rep_days", **late)
    assert reads_rollup(engine, "demos", "rollup_activities", **late)  # events: any day
    assert rows(engine, "win_rate", grain="total", by=["industry"], scope=Scope.reps("a")) == [
        (d("2025-03-01"), "Retail", 0.5, 1, 2, False)]


def test_an_engine_told_not_to_or_a_measure_not_built_reads_the_raw_rows(company: Tiny) -> None:
    refresh(company)
    assert not reads_rollup(Engine(company.store, use_rollups=False), "demos")
    catalog = load_catalog()
    demos = catalog.get("demos")
    other = dataclasses.replace(demos, numerator=Measure("activities", "count",
                                                          filter="type = 'email'"))
    engine = Engine(company.store, dataclasses.replace(
        catalog, metrics=tuple(other if m.id == "demos" else m for m in catalog.metrics)))
    # no column for emails in this database's rollup (the rep-days are there all the same)
    assert not reads_rollup(engine, "demos", "rollup_activities")
    assert reads_rollup(engine, "demos", "rollup_rep_days")
    assert rows(engine, "demos", grain="total")[0][2] == 0  # no emails logged


def test_a_refresh_rewrites_only_the_rep_days_that_changed(company: Tiny) -> None:
    refresh(company)
    assert set(refresh(company).values()) == {0}  # the same data again: nothing written
    company.activity("b", "2025-03-05", "demo", n=3)
    company.activity("a", "2025-03-03", "demo")
    written = refresh(company)
    # b's new day inserted; a's 3 March deleted and inserted with 3 demos
    assert written["rollup_activities"] == 3
    assert written["rollup_opps_closed"] == 0
    engine = company.engine
    assert rows(engine, "demos", grain="total", by=["rep"]) == rows(
        Engine(company.store, use_rollups=False), "demos", grain="total", by=["rep"])
    assert [(r[1], r[3]) for r in rows(engine, "demos", grain="total", by=["rep"])] == [
        ("Rep a", 3), ("Rep b", 3), ("Rep c", 1)]


def test_an_account_moved_to_another_industry_moves_its_deals_when_summed_again(
        company: Tiny) -> None:
    refresh(company)
    with company.store.transaction():
        company.store.execute("UPDATE accounts SET industry = 'Health' WHERE account_id = 'acc'")
    written = refresh(company)  # what an import of the accounts does
    assert written["rollup_opps_closed_company"] == 4  # two days: deleted and inserted
    assert written["rollup_opps_closed_rows"] == written["rollup_opps_created_rows"] == 4
    assert written["rollup_opps_closed"] == written["rollup_activities_company"] == 0
    assert reads_company(company.engine, "win_rate", by=["industry"])
    assert rows(company.engine, "win_rate", by=["industry"]) == [
        (d("2025-03-01"), "Health", 0.5, 1, 2, False)]


def test_a_deal_whose_cost_goes_from_blank_to_zero_is_copied_again(company: Tiny) -> None:
    """The deals' copies are compared by key and a hash of the other columns: a blank becoming
    0 (the same hash as 0 would be a missed change), a stage renamed, each rewrites that deal."""
    refresh(company)
    with company.store.transaction():
        company.store.execute("UPDATE opportunities SET cost = 0 WHERE amount = 500")
    written = refresh(company)
    assert written["rollup_opps_closed_rows"] == written["rollup_opps_created_rows"] == 2
    assert written["rollup_activities"] == written["rollup_opps_created"] == 0
    _, copied = company.store.rows("SELECT amount, cost FROM rollup_opps_closed_rows "
                                   "ORDER BY amount")
    assert copied == [(300, None), (500, 0)]
    with company.store.transaction():
        company.store.execute("UPDATE opportunities SET stage = 'Renamed' WHERE amount = 300")
    written = refresh(company)
    assert written["rollup_opps_closed_rows"] == written["rollup_opps_created_rows"] == 2
    assert set(refresh(company).values()) == {0}


def test_an_empty_database_gets_empty_rollups_and_no_calendars(tiny: Tiny) -> None:
    assert rollups.index(tiny.store) == {}
    events = [f"rollup_{s}{c}" for s in rollups.EVENT_SOURCES for c in ("", "_company")] + [
        "rollup_opps_closed_rows", "rollup_opps_created_rows"]
    assert refresh(tiny) == dict.fromkeys(events, 0)
    assert sorted(rollups.index(tiny.store)) == sorted(events)
    assert not reads_rollup(tiny.engine, "demos", "rollup_rep_days")


def test_rows_appended_by_another_tool_are_read_raw_until_the_rollups_are_summed_again(
        company: Tiny) -> None:
    refresh(company)
    company.activity("b", "2025-03-05", "demo", n=4)  # a pipeline writes into the table
    engine = company.engine
    assert not reads_rollup(engine, "demos", "rollup_activities")  # activities changed
    assert reads_rollup(engine, "demos", "rollup_rep_days")  # the reps did not
    assert reads_rollup(engine, "win_rate", "rollup_opps_closed")
    assert rows(engine, "demos", grain="total", scope=Scope.reps("b"))[0][2] == 4
    refresh(company)  # python -m kpi refresh
    engine = company.engine
    assert reads_rollup(engine, "demos", "rollup_activities")
    assert rows(engine, "demos", grain="total", scope=Scope.reps("b"))[0][2] == 4


def test_accounts_appended_by_another_tool_after_their_deals_give_the_deals_an_industry(
        company: Tiny) -> None:
    """A pipeline loads deals before their accounts: until the accounts arrive the deals have no
    industry, and once they do (the accounts table grew) the rollups by industry are no longer
    read, the deals' copies neither; the raw rows give the industry at once."""
    company.deal("b", "2025-02-01", "2025-03-07", won=True, amount=200, account="late")
    refresh(company)
    before = rows(company.engine, "win_rate", by=["industry"])
    assert before == [(d("2025-03-01"), "(unknown)", 1.0, 1, 1, False),
                      (d("2025-03-01"), "Retail", 0.5, 1, 2, False)]
    company.account("late", "Health")  # the accounts table grows
    engine = company.engine
    assert not reads_rollup(engine, "win_rate", "rollup_opps_closed", by=["industry"])
    assert "rollup_opps_closed_rows" not in tables_read(engine, "new_logos", by=["industry"])
    assert rows(engine, "win_rate", by=["industry"]) == [
        (d("2025-03-01"), "Health", 1.0, 1, 1, False),
        (d("2025-03-01"), "Retail", 0.5, 1, 2, False)]
    assert reads_rollup(engine, "win_rate", "rollup_opps_closed")  # by rep: no account read


def test_an_index_written_by_another_version_is_not_read_and_is_rebuilt(company: Tiny) -> None:
    with company.store.transaction():
        company.store.execute("CREATE TABLE rollups (source VARCHAR, table_name VARCHAR)")
        company.store.execute("INSERT INTO rollups VALUES ('activities', 'rollup_activities')")
    assert rollups.index(company.store) == {}
    assert not reads_rollup(company.engine, "demos")
    refresh(company)
    assert sorted(rollups.index(company.store)) == sorted(
        [f"rollup_{s}{c}" for s in rollups.RAW_TABLES for c in ("", "_company")]
        + ["rollup_opps_closed_rows", "rollup_opps_created_rows"])
    assert reads_rollup(company.engine, "demos", "rollup_activities")


@pytest.mark.parametrize("seed", [3, 11])
def test_rollups_give_the_raw_rows_numbers_on_random_companies(seed: int) -> None:
    """Every catalog metric by week, month and in total; whole, by team and by rep; for everyone,
    one team and one rep; both attributions: from rollups as from the raw rows (the slow
    differential test does the whole cross product against an independent oracle)."""
    from tests.differential.companies import generate

    company = generate(seed)
    store = company.store()
    with store.transaction():
        rollups.refresh(store)
    rolled, raw = Engine(store), Engine(store, use_rollups=False)
    dates = {"date_from": company.date_from, "date_to": company.date_to}
    read = compared = 0
    for metric in load_catalog():
        by_industry = all("industry" in SOURCES[m.source].dimensions for m in metric.measures)
        for grain, by, scope, attribution in (
                ("week", (), Scope.everyone(), "as_of"), ("month", ("team",), Scope.everyone(), "current"),
                ("total", ("rep",), Scope.teams(company.team_ids[0]), "as_of"),
                ("month", (), Scope.reps(company.rep_ids[0]), "as_of"),
                *([("quarter", ("industry",), Scope.everyone(), "as_of"),
                   ("total", ("industry",), Scope.teams(company.team_ids[0]), "as_of")]
                  if by_industry else [])):
            request = MetricRequest.make(metric.id, grain=grain, by=by, scope=scope,
                                         attribution=attribution, **dates)
            read += "rollup_" in rolled.compile(request).sql
            got, want = rolled.rows(request), raw.rows(request)
            assert got[0] == want[0] and len(got[1]) == len(want[1]), request
            for g, w in zip(got[1], want[1], strict=True):
                assert [type(x) for x in g] == [type(x) for x in w], (request, g, w)
                assert all(a == pytest.approx(b, rel=1e-9) if isinstance(b, float) else a == b
                           for a, b in zip(g, w, strict=True)), (request, g, w)
            compared += 1
    store.close()
    deals = sum(all("industry" in SOURCES[m.source].dimensions for m in metric.measures)
                for metric in load_catalog())
    assert deals >= 8 and compared == 4 * len(load_catalog()) + 2 * deals, compared
    assert read >= compared // 2, (read, compared)


@pytest.mark.parametrize("summed", [False, True])
def test_a_batch_gives_each_request_exactly_its_own_rows_and_types(company: Tiny,
                                                                   summed: bool) -> None:
    """Counts stay whole numbers, sums and rates floats, keys strings, in the order and with the
    types one request alone gives (from the raw rows, and from rollups): counts with and without
    a divisor, ratios of counts and of sums, a distinct count, a median, split and whole."""
    if summed:
        refresh(company)
    engine = company.engine
    asked = [MetricRequest.make(m, grain=g, by=b, **MARCH) for m, g, b in (
        ("new_logos", "month", ()), ("win_rate", "week", ("team",)),
        ("demos", "total", ("rep",)), ("revenue", "month", ("industry",)),
        ("sales_cycle_days", "total", ()), ("quota_attainment", "week", ()),
        ("avg_deal_size", "total", ("team",)))]
    alone = [engine.rows(r) for r in asked]
    batched = engine.rows_many(asked)
    assert len(batched) == len(asked)
    for request, (columns, got_rows), (want_columns, want) in zip(asked, batched, alone,
                                                                  strict=True):
        assert columns == want_columns and len(got_rows) == len(want) >= 1, request
        for got, expected in zip(got_rows, want, strict=True):
            assert [type(x) for x in got] == [type(x) for x in expected], (request, got, expected)
            assert all(a == pytest.approx(b, rel=1e-12, nan_ok=True) if isinstance(b, float)
                       else a == b for a, b in zip(got, expected, strict=True)), (request, got)
    assert batched[0][1] == [(d("2025-03-01"), 1, False)]  # a distinct count: whole
    assert batched[2][1] == [(d("2025-03-01"), "Rep a", pytest.approx(2 / (31 / 7)), 2,
                              pytest.approx(31 / 7), False),
                             (d("2025-03-01"), "Rep b", 0.0, 0, pytest.approx(31 / 7), False),
                             (d("2025-03-01"), "Rep c", pytest.approx(1 / (31 / 7)), 1,
                              pytest.approx(31 / 7), False)]
    assert [type(x) for x in batched[2][1][0]][3] is int  # demos: counted



def test_a_refresh_counts_a_day_only_added_or_only_removed_once(company: Tiny) -> None:
    """b's first demo (7 March) is a new rep-day: one row inserted, none deleted, and a new day
    in the company's rollup. Removing c's one activity (3 March) deletes c's rep-day and
    inserts nothing, while the company's 3 March (3 demos, now 2) is deleted and inserted."""
    refresh(company)
    company.activity("b", "2025-03-07", "demo")
    written = refresh(company)
    assert (written["rollup_activities"], written["rollup_activities_company"]) == (1, 1)
    with company.store.transaction():
        company.store.execute("DELETE FROM activities WHERE rep_id = 'c'")
    written = refresh(company)
    assert (written["rollup_activities"], written["rollup_activities_company"]) == (1, 2)
    assert [(r[1], r[3]) for r in rows(company.engine, "demos", grain="total", by=["rep"])] == [
        ("Rep a", 2), ("Rep b", 1), ("Rep c", 0)]


def test_a_new_hire_adds_their_days_to_the_rep_days_calendar(company: Tiny) -> None:
    """d joins T on Monday 10 March: d's days from then to the calendar's last day (today) are
    inserted, and each of those days of the company's calendar counts 4 reps instead of 3
    (deleted and inserted). T's March is then 2 x 31 + 22 rep-days."""
    refresh(company)
    company.rep("d", "T", hired="2025-03-10")
    written = refresh(company)
    days = (dt.date.today() - d("2025-03-10")).days + 1
    assert written["rollup_rep_days"] == days
    assert written["rollup_rep_days_company"] == 2 * days
    engine = company.engine
    assert reads_rollup(engine, "demos", "rollup_rep_days", grain="total", scope=Scope.teams("T"))
    [(_, value, numerator, denominator, _)] = rows(engine, "demos", grain="total",
                                                   scope=Scope.teams("T"))
    assert (value, numerator, denominator) == (pytest.approx(2 / (84 / 7)), 2,
                                               pytest.approx(84 / 7))


class _Recording:
    """A store that keeps every statement it is sent; as ``dialect`` (PostgreSQL, say), it
    refuses DuckDB's hash(), which such a database lacks."""

    def __init__(self, store: object, dialect: object | None = None) -> None:
        self.store, self.sent = store, []
        self.dialect = dialect or store.dialect  # type: ignore[attr-defined]

    def _sent(self, sql: str) -> None:
        if self.dialect.name != "duckdb" and "hash(" in sql:
            raise AssertionError(f"{self.dialect.name} has no hash(): {sql}")
        self.sent.append(sql)

    def execute(self, sql: str, params: dict | None = None) -> None:
        self._sent(sql)
        self.store.execute(sql, params)  # type: ignore[attr-defined]

    def scalar(self, sql: str, params: dict | None = None) -> object:
        self._sent(sql)
        return self.store.scalar(sql, params)  # type: ignore[attr-defined]

    def rows(self, sql: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        self._sent(sql)
        return self.store.rows(sql, params)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_rollup_rows_are_compared_by_a_hash_in_duckdb_and_column_by_column_elsewhere(
        company: Tiny, dialect: str) -> None:
    """Summing again compares each table's rows with the fresh ones: in DuckDB by the keys and
    one hash of the other columns (less memory), in other databases, which lack DuckDB's
    hash(), column by column; either way a's extra demo on 3 March rewrites that rep-day."""
    from kpi.store import DIALECTS

    refresh(company)
    company.activity("a", "2025-03-03", "demo")
    store = _Recording(company.store, DIALECTS[dialect])
    with company.store.transaction():
        written = rollups.refresh(store)  # type: ignore[arg-type]
    compared = [sql for sql in store.sent if "CREATE TEMPORARY TABLE rollup_changed" in sql]
    assert len(compared) == len(written) == 14  # 6 sources x 2 rollups, 2 copies: once each
    assert [("AS row_hash" in sql) for sql in compared] == [dialect == "duckdb"] * 14
    assert (written["rollup_activities"], written["rollup_activities_company"]) == (2, 2)


def test_a_calendar_rollup_is_read_for_exactly_the_days_it_was_built_for(company: Tiny) -> None:
    """The calendars are built from the data's first day (a's deals, created 1 February 2025) to
    today: a request from that very day to today reads them, one day more on either side reads
    the raw calendar. An event rollup covers any days; a calendar whose days are only half
    known (a hand-written index, say) is not read."""
    refresh(company)
    engine = company.engine
    first, today = d("2025-02-01"), dt.date.today()
    one = dt.timedelta(days=1)
    assert reads_rollup(engine, "demos", "rollup_rep_days", date_from=first, date_to=today)
    assert not reads_rollup(engine, "demos", "rollup_rep_days", date_from=first - one,
                            date_to=today)
    assert not reads_rollup(engine, "demos", "rollup_rep_days", date_from=first,
                            date_to=today + one)
    calendar = rollups.Rollup("rep_days", "rollup_rep_days", frozenset(), first, None)
    events = rollups.Rollup("activities", "rollup_activities", frozenset(), None, first)
    assert (calendar.covers(first, today), events.covers(first, today)) == (False, True)


def test_the_index_reads_a_day_whichever_way_a_driver_returns_it() -> None:
    """A DATE comes back as a date, a timestamp at midnight, or ISO text (with a time or
    without); anything else (no day at all, a number) is no day."""
    day = d("2025-03-01")
    assert rollups._date(day) == day
    assert rollups._date(dt.datetime(2025, 3, 1, 0, 0)) == day
    assert rollups._date("2025-03-01") == day
    assert rollups._date("2025-03-01 00:00:00") == day
    assert rollups._date("2025-03-01T00:00:00") == day
    assert (rollups._date(None), rollups._date(20250301)) == (None, None)


def test_a_measure_of_the_product_is_read_from_the_deals_not_summed_into_a_rollup(
        company: Tiny) -> None:
    """Rollups are summed without the deal's product, so a measure that names it (a metric of
    the Core deals won, say) is read from the rows: a's 500, won on Core, whether or not the
    rollups were summed with that metric in the catalog."""
    catalog = load_catalog()
    core = Measure("opps_closed", "sum", expr="amount", filter="is_won AND product = 'Core'")
    assert not rollups.eligible(core)
    assert rollups.eligible(dataclasses.replace(core, filter="is_won"))
    revenue = dataclasses.replace(catalog.get("revenue"), numerator=core)
    catalog = dataclasses.replace(
        catalog, metrics=tuple(revenue if m.id == "revenue" else m for m in catalog.metrics))
    assert rollups.column(core) not in rollups.measures([catalog])["opps_closed"]
    with company.store.transaction():
        rollups.refresh(company.store, catalog)
    engine = Engine(company.store, catalog)
    assert rows(engine, "revenue", grain="total", scope=Scope.teams("T")) == [
        (d("2025-03-01"), 500.0, False)]


def _index_writes(sent: list[str]) -> list[str]:
    return [sql.split("(")[0].strip() for sql in sent
            if re.match(r"(DROP TABLE IF EXISTS|CREATE TABLE|INSERT INTO) rollups\b", sql)]


def test_the_index_is_written_only_when_what_it_says_changed(company: Tiny) -> None:
    """Summing the same data again leaves the index of the rollups alone; a new activity changes
    what it says (the activities' row count, 4 then 5) and it is written again, a row for each
    of the 14 rollups and copies."""
    refresh(company)
    assert rollups.index(company.store)["rollup_activities"].raw_rows == "activities=4"
    store = _Recording(company.store)
    with company.store.transaction():
        rollups.refresh(store)  # type: ignore[arg-type]
    assert _index_writes(store.sent) == []
    company.activity("b", "2025-03-07", "demo")
    store = _Recording(company.store)
    with company.store.transaction():
        rollups.refresh(store)  # type: ignore[arg-type]
    assert _index_writes(store.sent) == ["DROP TABLE IF EXISTS rollups", "CREATE TABLE rollups",
                                         *["INSERT INTO rollups VALUES"] * 14]
    assert rollups.index(company.store)["rollup_activities"].raw_rows == "activities=5"


def test_the_index_is_written_on_another_sql_database_too() -> None:
    """SQLAlchemy's bound parameters, unlike DuckDB's, are told apart by case: each value of an
    index row reaches the column it is named for (here on SQLite)."""
    from kpi.store import SqlStore

    store = SqlStore.open_url("sqlite://", read_only=False)
    row = ("activities", "rollup_activities", "rep_id", "m_1,m_2", None, None, "activities=4")
    with store.transaction():
        rollups._write_index(store, [row], {})
    assert store.rows("SELECT source, table_name, keys, measures, covered_from, covered_to, "
                      "raw_rows FROM rollups")[1] == [row]
    store.close()
