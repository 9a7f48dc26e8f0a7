"""What the engine's SQL promises beyond DuckDB's leniency, by hand.

- Every ``$name`` in a compiled query is a parameter of the same spelling: other databases bind
  by exact name (SQLAlchemy's ``:name``), where DuckDB would forgive ``$DATE_TO`` for ``date_to``.
- Activities join their deal's product only when a request needs it (split or filter by product,
  or a measure that reads product); when it does, the product is the deal's.
- Several filters each keep their own values.
- Catalog fragments are read as DuckDB SQL and bound to the fact row, even where a joined table
  has a column of the same name; every aggregate the catalog allows works.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpi.catalog import DEFAULT_PATH, load_catalog
from kpi.engine import Engine, MetricRequest, Scope
from kpi.schema import GRAINS
from tests.conftest import Tiny, d

JAN = {"date_from": d("2025-01-01"), "date_to": d("2025-01-31")}
EXTRA = """metrics:
  - id: logged
    label: Logged activities
    kind: lever
    unit: count
    direction: up
    roles: [executive]
    definition: Every activity logged.
    formula: count of activities
    measure: {source: activities, agg: count}
    leads: [revenue]
  - id: core_logged
    label: Activities on Core deals
    kind: lever
    unit: count
    direction: up
    roles: [executive]
    definition: Activities on deals of the Core product.
    formula: count of activities on Core deals
    measure: {source: activities, agg: count, filter: "product = 'Core'"}
    leads: [revenue]
  - id: squares
    label: Won squares
    kind: output
    unit: count
    direction: up
    roles: [executive]
    definition: The square of each won amount.
    formula: sum(amount ** 2) of won deals
    measure: {source: opps_closed, agg: sum, expr: "amount ** 2", filter: is_won}
  - id: closed_won_stage
    label: Deals closed in a Closed Won stage
    kind: output
    unit: count
    direction: up
    roles: [executive]
    definition: Closed deals whose stage name starts with Closed W.
    formula: count of closed deals whose stage matches ^Closed W
    measure: {source: opps_closed, agg: count, filter: "regexp_matches(stage, '^Closed W')"}
  - id: mean_won
    label: Mean won amount
    kind: output
    unit: currency
    direction: up
    roles: [executive]
    definition: The mean amount of the deals won.
    formula: avg(amount) of won deals
    measure: {source: opps_closed, agg: avg, expr: amount, filter: is_won}
"""


@pytest.fixture
def company(tiny: Tiny) -> Tiny:
    tiny.team("TA", "Alpha")
    tiny.team("TB", "Beta")
    tiny.rep("a1", "TA")
    tiny.rep("b1", "TB", region="West")
    tiny.account("acme", "Retail")
    tiny.account("globex", "Technology")
    core = tiny.deal("a1", "2025-01-02", "2025-01-10", won=True, amount=100, product="Core",
                     account="acme")
    plus = tiny.deal("b1", "2025-01-02", "2025-01-12", won=True, amount=10, product="Plus",
                     account="globex")
    tiny.deal("b1", "2025-01-02", "2025-01-13", won=False, amount=7, account="acme")
    for opp, rep in ((core, "a1"), (core, "a1"), (plus, "b1"), (None, "b1")):
        tiny.activity(rep, "2025-01-06")
        if opp:
            tiny.store.execute("UPDATE activities SET opp_id = $o WHERE activity_id = "
                               "(SELECT max(activity_id) FROM activities)", {"o": opp})
    return tiny


def extra_engine(tiny: Tiny, tmp_path: Path) -> Engine:
    (tmp_path / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    return Engine(tiny.store, load_catalog([DEFAULT_PATH, tmp_path / "extra.yaml"]))


@pytest.mark.parametrize("grain", GRAINS)
def test_every_bind_is_a_parameter_of_the_same_name(company: Tiny, grain: str) -> None:
    engine = company.engine
    scopes = [Scope.everyone(), Scope.teams("TA", "TB"), Scope.reps("a1"),
              Scope.rep_in_teams("a1", "TA")]
    for metric in ("revenue", "win_rate", "meetings", "pipeline_coverage"):
        for scope in scopes:
            request = MetricRequest.make(metric, grain=grain, scope=scope, by=["team"],
                                         filters={"region": ["East", "West"]}, **JAN)
            compiled = engine.compile(request)
            assert set(re.findall(r"\$(\w+)", compiled.sql)) == set(compiled.params), (metric,
                                                                                       scope)


def test_activities_by_product_read_their_deals_product(company: Tiny, tmp_path: Path) -> None:
    engine = extra_engine(company, tmp_path)
    frame = engine.run(MetricRequest.make("logged", grain="total", by=["product"], **JAN))
    assert frame[["product", "value"]].values.tolist() == [["(none)", 1], ["Core", 2], ["Plus", 1]]
    only_core = engine.run(MetricRequest.make("logged", grain="total",
                                              filters={"product": ["Core"]}, **JAN))
    assert only_core["value"].tolist() == [2]
    assert engine.run(MetricRequest.make("core_logged", grain="total", **JAN))["value"].tolist() \
        == [2]
    assert engine.run(MetricRequest.make("logged", grain="total", **JAN))["value"].tolist() == [4]


def test_two_filters_keep_their_own_values(company: Tiny) -> None:
    engine = company.engine
    both = engine.run(MetricRequest.make("revenue", grain="total", filters={
        "team": ["Alpha"], "region": ["East"]}, **JAN))
    assert both["value"].tolist() == [100.0]
    crossed = engine.run(MetricRequest.make("revenue", grain="total", filters={
        "team": ["Alpha"], "region": ["West"]}, **JAN))
    assert crossed["value"].tolist() == [0.0]
    either = engine.run(MetricRequest.make("revenue", grain="total", filters={
        "team": ["Alpha", "Beta"], "product": ["Plus"]}, **JAN))
    assert either["value"].tolist() == [10.0]


def test_fragments_are_duckdb_sql_bound_to_the_fact_row(company: Tiny, tmp_path: Path) -> None:
    engine = extra_engine(company, tmp_path)
    # 100 ** 2 + 10 ** 2: DuckDB's power operator, which the generic SQL reader refuses
    assert engine.run(MetricRequest.make("squares", grain="total", **JAN))["value"].tolist() \
        == [10100.0]
    # the two won deals of January, not the lost one: written back as DuckDB SQL (the generic
    # writer would say REGEXP_LIKE, which DuckDB does not know)
    assert engine.run(MetricRequest.make("closed_won_stage", grain="total", **JAN))[
        "value"].tolist() == [2]
    assert engine.run(MetricRequest.make("mean_won", grain="total", **JAN))["value"].tolist() \
        == [55.0]
    # accounts also have an account_id: the fragment's is the deal's
    logos = engine.run(MetricRequest.make("new_logos", grain="total", by=["industry"], **JAN))
    assert logos[["industry", "value"]].values.tolist() == [["Retail", 1], ["Technology", 1]]
