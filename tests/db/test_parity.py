"""The whole metric catalog gives the same numbers on DuckDB as on a real PostgreSQL server and a
real Spark SQL (Thrift) server: every metric by month, by week and team, by quarter and region
attributed to the current team, and in total by industry where it has one. Beside Spark,
the app's DuckDB file (kpi/split.py) gives the same numbers, and each role's pages render from it
with the demo's numbers, asking Spark little (in this file: the tests share one Spark)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from benchmarks import bench
from kpi import rollups
from kpi.catalog import load_catalog
from kpi.engine import Engine, MetricRequest, Scope
from kpi.sources import SOURCES
from kpi.split import SplitStore
from kpi.store import SqlStore, connect
from tests.app.conftest import _opener
from tests.split_setup import Where

CATALOG = load_catalog()


def same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def requests(metric_id: str) -> list[MetricRequest]:
    metric = CATALOG.get(metric_id)
    dims = frozenset.intersection(*(SOURCES[m.source].dimensions for m in metric.measures))
    shapes = [MetricRequest.make(metric_id, grain="month"),
              MetricRequest.make(metric_id, grain="week", by=["team"]),
              MetricRequest.make(metric_id, grain="quarter", attribution="current", by=["region"])]
    if "industry" in dims:
        shapes.append(MetricRequest.make(metric_id, grain="total", by=["industry"]))
    return shapes


def assert_equal_rows(duckdb: Engine, other: Engine, request: MetricRequest) -> None:
    duck_cols, duck = duckdb.rows(request)
    other_cols, rows = other.rows(request)
    assert duck_cols == other_cols
    assert duck and len(duck) == len(rows), request
    for d_row, o_row in zip(duck, rows, strict=True):
        assert all(same(a, b) for a, b in zip(d_row, o_row, strict=True)), (request, d_row, o_row)


def assert_equal_batch(duckdb: Engine, other: Engine, asked: list[MetricRequest]) -> None:
    """The requests in one query on ``other`` give what each gives alone on DuckDB."""
    for request, (columns, rows) in zip(asked, other.rows_many(asked), strict=True):
        duck_cols, duck = duckdb.rows(request)
        assert columns == duck_cols and len(rows) == len(duck), request
        for d_row, o_row in zip(duck, rows, strict=True):
            assert all(same(a, b) for a, b in zip(d_row, o_row, strict=True)), (request, d_row, o_row)


@pytest.mark.parametrize("metric_id", CATALOG.ids())
def test_metric_equal_on_duckdb_and_postgres(metric_id: str, demo_engine: Engine,
                                             pg_demo: SqlStore) -> None:
    """PostgreSQL from its rollups (summed there), from its raw rows, and in one batch."""
    rolled, raw = Engine(pg_demo), Engine(pg_demo, use_rollups=False)
    for request in requests(metric_id):
        assert_equal_rows(demo_engine, rolled, request)
        assert_equal_rows(demo_engine, raw, request)
        assert "rollup_" not in raw.compile(request).sql
    assert_equal_batch(demo_engine, rolled, requests(metric_id))
    if CATALOG.get(metric_id).per_rep_week:  # activities and rep-days by month: from rollups
        assert "rollup_rep_days" in rolled.compile(requests(metric_id)[0]).sql


@pytest.mark.parametrize("metric_id", CATALOG.ids())
def test_metric_equal_on_duckdb_and_spark(metric_id: str, demo_engine: Engine,
                                          spark_demo: SqlStore) -> None:
    for request in requests(metric_id):
        assert_equal_rows(demo_engine, Engine(spark_demo), request)
    assert_equal_batch(demo_engine, Engine(spark_demo), requests(metric_id))


SCOPED = MetricRequest.make("win_rate", grain="quarter", by=["rep"], scope=Scope.teams("T2"),
                            filters={"industry": ["Technology", "Healthcare"]})


def test_scoped_and_filtered_requests_agree(demo_engine: Engine, pg_demo: SqlStore) -> None:
    assert demo_engine.rows(SCOPED) == Engine(pg_demo).rows(SCOPED)


def test_scoped_and_filtered_requests_agree_on_spark(demo_engine: Engine,
                                                     spark_demo: SqlStore) -> None:
    assert_equal_rows(demo_engine, Engine(spark_demo), SCOPED)


def test_spark_lists_its_tables_and_says_what_failed_in_one_line(spark_demo: SqlStore) -> None:
    from kpi.errors import DatabaseError

    assert {"opportunities", "activities", "reps", "teams"} <= spark_demo.tables()
    assert "default" not in spark_demo.tables()  # the namespace column of SHOW TABLES
    with pytest.raises(DatabaseError) as caught:
        spark_demo.rows("SELECT nope FROM reps")
    assert str(caught.value).startswith("query failed: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column")
    assert "\n" not in str(caught.value) and "org.apache" not in str(caught.value)


def test_spark_dates_come_back_as_dates(demo_engine: Engine, spark_demo: SqlStore) -> None:
    assert Engine(spark_demo).data_range() == demo_engine.data_range()
    assert all(isinstance(d, dt.date) for d in Engine(spark_demo).data_range())


def test_connection_errors_are_clear() -> None:
    from kpi.errors import DatabaseError

    with pytest.raises(DatabaseError, match=r"cannot connect to postgresql\+psycopg://u:\*\*\*@"):
        SqlStore.open_url("postgresql+psycopg://u:secret@127.0.0.1:1/none")


def test_a_refresh_in_postgres_rewrites_only_what_changed(pg_demo: SqlStore) -> None:
    """The rows of the company's and the reps' rollups that changed, found and rewritten in
    PostgreSQL as in DuckDB (the same data again: nothing)."""
    with pg_demo.transaction():
        assert set(rollups.refresh(pg_demo).values()) == {0}
    _, [(account, industry)] = pg_demo.rows(
        "SELECT o.account_id, a.industry FROM opportunities o JOIN accounts a "
        "ON a.account_id = o.account_id WHERE o.is_won ORDER BY o.opp_id LIMIT 1")
    try:
        with pg_demo.transaction():
            pg_demo.execute("UPDATE accounts SET industry = 'Moved' WHERE account_id = $a",
                            {"a": account})
            written = rollups.refresh(pg_demo)
        assert written["rollup_opps_closed_company"] > 0
        assert written["rollup_opps_closed"] == 0  # the reps' rollup has no industry
        moved = MetricRequest.make("revenue", filters={"industry": ["Moved"]})
        assert "rollup_opps_closed_company" in Engine(pg_demo).compile(moved).sql
        assert Engine(pg_demo).rows(moved) == Engine(pg_demo, use_rollups=False).rows(moved)
    finally:
        with pg_demo.transaction():
            pg_demo.execute("UPDATE accounts SET industry = $i WHERE account_id = $a",
                            {"i": industry, "a": account})
            rollups.refresh(pg_demo)


def test_the_spark_drivers_dropped_connection_is_a_database_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A Spark Thrift server that went away raises thrift's own error through SQLAlchemy (not a
    DB-API error): it reaches the caller as a DatabaseError with a fix, not a traceback."""
    from thrift.transport.TTransport import TTransportException

    from tests.unit.test_store_seam import dropped_connection

    said = dropped_connection(SqlStore.open_url("sqlite://"),
                              TTransportException(message="TSocket read 0 bytes"), monkeypatch)
    assert said == "lost the connection to sqlite://: TSocket read 0 bytes"


def test_a_count_summed_in_a_postgres_rollup_is_an_integer(pg_demo: SqlStore) -> None:
    """PostgreSQL sums bigints as numeric: a count read from a rollup (demos per rep-week: its
    numerator, the demos) is cast back, so the CLI's CSV and JSON say 545, not 545.0, as they do
    from the raw rows and in DuckDB."""
    request = MetricRequest.make("demos", grain="month")
    assert "rollup_activities" in Engine(pg_demo).compile(request).sql
    columns, rows = Engine(pg_demo).rows(request)
    assert columns[2] == "numerator"
    assert rows and all(type(r[2]) is int for r in rows)
    assert rows == Engine(pg_demo, use_rollups=False).rows(request)[1]


# --- Spark beside the app's DuckDB file (kpi/split.py) ------------------------------

@pytest.fixture
def beside(spark_url: str, spark_beside: Path) -> SplitStore:
    store = connect(spark_url, app=spark_beside)
    assert isinstance(store, SplitStore)
    return store


def test_every_catalog_request_beside_spark_is_duckdbs(beside: SplitStore, demo_engine: Engine
                                                       ) -> None:
    engine = Engine(beside)
    asked = [r for m in CATALOG for r in requests(m.id)]
    for request in asked:
        assert_equal_rows(demo_engine, engine, request)
    assert_equal_batch(demo_engine, engine, asked)


@pytest.mark.parametrize(("page", "most"), [("executive", 3), ("manager", 2), ("rep", 2)])
def test_a_page_beside_spark_asks_spark_little(beside: SplitStore, page: str, most: int,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    where = Where(beside, monkeypatch)
    getattr(bench, f"page_{page}")(Engine(beside))
    assert where.ran["warehouse"] <= most, where.sql


@pytest.mark.parametrize(("user", "page"), [  # the pages each role opens first, and the Insights
    ("exec", "outputs"), ("exec", "insights"), ("exec", "segments"), ("mgr-t1", "team"),
    ("mgr-t1", "insights"), ("rep-r002", "me")])
def test_pages_beside_spark(spark_url: str, spark_beside: Path, demo_db: Path,
                            monkeypatch: pytest.MonkeyPatch, user: str, page: str) -> None:
    """Each role's pages, signed in from the users kept in the file, with the demo's numbers."""
    monkeypatch.setenv("KPI_DATABASE_URL", spark_url)
    monkeypatch.setenv("KPI_APP_DB", str(spark_beside))
    at = _opener(user, page, tables=True)
    assert not at.exception and not at.error, (at.exception, at.error)
    shown = {m.label: m.value for m in at.metric}
    monkeypatch.delenv("KPI_DATABASE_URL")
    monkeypatch.delenv("KPI_APP_DB")
    monkeypatch.setenv("KPI_DB", str(demo_db))
    on_duckdb = _opener(user, page, tables=True)
    assert shown == {m.label: m.value for m in on_duckdb.metric}
    mine = [t.value for t in (*at.table, *at.dataframe)]
    theirs = [t.value for t in (*on_duckdb.table, *on_duckdb.dataframe)]
    assert (shown or mine or at.get("plotly_chart")), "nothing drawn"
    assert len(mine) == len(theirs)
    assert all(a.equals(b) for a, b in zip(mine, theirs, strict=True))
    assert [c.proto.spec for c in at.get("plotly_chart")] == \
        [c.proto.spec for c in on_duckdb.get("plotly_chart")]
