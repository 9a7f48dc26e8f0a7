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

