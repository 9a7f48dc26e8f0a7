"""The whole metric catalog gives the same numbers on DuckDB and on a real PostgreSQL server."""

from __future__ import annotations

import math

import pytest

from kpi.catalog import load_catalog
from kpi.engine import Engine, MetricRequest
from kpi.sources import SOURCES
from kpi.store import SqlStore

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


@pytest.mark.parametrize("metric_id", CATALOG.ids())
def test_metric_equal_on_duckdb_and_postgres(metric_id: str, demo_engine: Engine,
                                             pg_demo: SqlStore) -> None:
    postgres = Engine(pg_demo)
    for request in requests(metric_id):
        duck_cols, duck = demo_engine.rows(request)
        pg_cols, pg = postgres.rows(request)
        assert duck_cols == pg_cols
        assert duck and len(duck) == len(pg), request
        for d_row, p_row in zip(duck, pg, strict=True):
            assert all(same(a, b) for a, b in zip(d_row, p_row, strict=True)), (request, d_row, p_row)


def test_scoped_and_filtered_requests_agree(demo_engine: Engine, pg_demo: SqlStore) -> None:
    from kpi.engine import Scope

    request = MetricRequest.make("win_rate", grain="quarter", by=["rep"], scope=Scope.teams("T2"),
                                 filters={"industry": ["Technology", "Healthcare"]})
    assert demo_engine.rows(request) == Engine(pg_demo).rows(request)


def test_connection_errors_are_clear() -> None:
    from kpi.errors import DatabaseError

    with pytest.raises(DatabaseError, match=r"cannot connect to postgresql\+psycopg://u:\*\*\*@"):
        SqlStore.open_url("postgresql+psycopg://u:secret@127.0.0.1:1/none")
