"""Every error a metric request can meet reads in full: what is wrong — what to do about it.

The CLI and the pages print these one-liners as they are, so each is checked word for word (the
other tests match a prefix only).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kpi.catalog import DEFAULT_PATH, load_catalog
from kpi.engine import Engine, MetricRequest, Scope
from kpi.errors import InvalidRequest, KpiError, UnknownDimension
from kpi.store import DuckDBStore, Store
from tests.conftest import Tiny, d

DIMENSIONS = "industry, motion, product, region, rep, segment, team"
JAN = {"date_from": d("2025-01-01"), "date_to": d("2025-01-31")}


@pytest.fixture
def company(tiny: Tiny) -> Tiny:
    tiny.team("T1", "Alpha")
    tiny.rep("r1", "T1")
    tiny.deal("r1", "2025-01-02", "2025-01-10", won=True, amount=10)
    return tiny


def said(engine: Engine, error: type[KpiError], **request: object) -> str:
    with pytest.raises(error) as caught:
        engine.run(MetricRequest.make(**request))  # type: ignore[arg-type]
    assert type(caught.value) is error
    return str(caught.value)


def test_an_empty_database_says_how_to_fill_it() -> None:
    with DuckDBStore.create() as store:
        engine = Engine(store)
        expected = ("the database holds no opportunities or activities yet — import data or build "
                    "the demo (`python -m kpi demo`)")
        with pytest.raises(InvalidRequest) as caught:
            engine.data_range()
        assert str(caught.value) == expected
        assert said(engine, InvalidRequest, metric="revenue") == expected


def test_unknown_and_unavailable_dimensions(company: Tiny) -> None:
    engine = company.engine
    unknown = f"unknown dimension 'colour' — use one of {DIMENSIONS}"
    with pytest.raises(UnknownDimension) as caught:
        engine.dimension_values("colour")
    assert str(caught.value) == unknown
    assert said(engine, UnknownDimension, metric="revenue", by=["colour"], **JAN) == unknown
    assert said(engine, UnknownDimension, metric="revenue", filters={"colour": ["red"]},
                **JAN) == unknown
    assert said(engine, UnknownDimension, metric="meetings", by=["industry"], **JAN) == (
        "meetings cannot be split by industry — its denominator has no industry; "
        "use one of motion, region, rep, segment, team")


def test_bad_grains_attributions_scopes_and_dates(company: Tiny) -> None:
    engine = company.engine
    assert said(engine, InvalidRequest, metric="revenue", grain="fortnight", **JAN) == (
        "unknown grain 'fortnight' — use one of day, week, month, quarter, year, total")
    assert said(engine, InvalidRequest, metric="revenue", attribution="future", **JAN) == (
        "unknown attribution 'future' — use one of as_of, current")
    assert said(engine, InvalidRequest, metric="revenue", scope=Scope("galaxy"), **JAN) == (
        "unknown scope 'galaxy'")
    assert said(engine, InvalidRequest, metric="revenue", date_from="2025-01-01",
                date_to=d("2025-01-31")) == "dates must be calendar dates (YYYY-MM-DD)"
    assert said(engine, InvalidRequest, metric="revenue", date_from=d("2025-01-01"),
                date_to="2025-01-31") == "dates must be calendar dates (YYYY-MM-DD)"
    assert said(engine, InvalidRequest, metric="revenue", date_from=d("2025-02-01"),
                date_to=d("2025-01-01")) == (
        "date range is inverted: 2025-02-01 is after 2025-01-01 — swap --from and --to")
    assert said(engine, InvalidRequest, metric="revenue", by=["team", "team"], **JAN) == (
        "a dimension is repeated in ['team', 'team']")


def test_filter_values(company: Tiny) -> None:
    engine = company.engine
    for values in ([], [1]):
        assert said(engine, InvalidRequest, metric="revenue", filters={"team": values}, **JAN) == (
            "filter 'team' needs one or more text values")
    assert said(engine, InvalidRequest, metric="revenue", filters={"team": ["Alpha", "Nope"]},
                **JAN) == "unknown team 'Nope' — known values: Alpha"


def test_a_long_list_of_known_values_is_cut_at_twelve(tiny: Tiny) -> None:
    for i in range(1, 14):
        tiny.team(f"T{i:02}", f"Team {i:02}")
    tiny.rep("r1", "T01")
    tiny.deal("r1", "2025-01-02", "2025-01-10", won=True, amount=10)
    twelve = ", ".join(f"Team {i:02}" for i in range(1, 13))
    assert said(tiny.engine, InvalidRequest, metric="revenue", filters={"team": ["Team 99"]},
                **JAN) == f"unknown team 'Team 99' — known values: {twelve} ..."
    tiny.team("T14", "Team 14")  # the 14th: still twelve shown
    assert said(tiny.engine, InvalidRequest, metric="revenue", filters={"team": ["Team 99"]},
                **JAN) == f"unknown team 'Team 99' — known values: {twelve} ..."


def test_exactly_twelve_known_values_are_all_shown(tiny: Tiny) -> None:
    for i in range(1, 13):
        tiny.team(f"T{i:02}", f"Team {i:02}")
    tiny.rep("r1", "T01")
    tiny.deal("r1", "2025-01-02", "2025-01-10", won=True, amount=10)
    twelve = ", ".join(f"Team {i:02}" for i in range(1, 13))
    assert said(tiny.engine, InvalidRequest, metric="revenue", filters={"team": ["Team 99"]},
                **JAN) == f"unknown team 'Team 99' — known values: {twelve}"


class TimestampDriver:
    """A database driver that hands dates back as midnight timestamps (as some do)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def rows(self, sql: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        names, rows = self.store.rows(sql, params)
        return names, [tuple(dt.datetime.combine(v, dt.time()) if type(v) is dt.date else v
                             for v in row) for row in rows]

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def test_timestamps_from_a_driver_come_back_as_dates(company: Tiny) -> None:
    engine = Engine(TimestampDriver(company.store))  # type: ignore[arg-type]
    lo, hi = engine.data_range()
    assert (type(lo), type(hi)) == (dt.date, dt.date)
    assert (lo, hi) == (d("2025-01-10"), d("2025-01-10"))  # the one deal closed on 10 January
    frame = engine.run(MetricRequest.make("revenue", grain="month", date_from=d("2025-01-01"),
                                          date_to=d("2025-02-28")))
    assert [type(p) for p in frame["period"]] == [dt.date, dt.date]
    assert frame[["period", "value"]].values.tolist() == [[d("2025-01-01"), 10.0],
                                                          [d("2025-02-01"), 0.0]]


QUOTA = """metrics:
  - id: quota
    label: Quota
    kind: output
    unit: currency
    direction: up
    roles: [executive]
    definition: Quota spread over the days of its period.
    formula: sum of daily quota
    measure: {source: quota_days, agg: sum, expr: daily_quota}
"""


def test_a_single_measure_names_its_source(company: Tiny, tmp_path: Path) -> None:
    (tmp_path / "quota.yaml").write_text(QUOTA, encoding="utf-8")
    engine = Engine(company.store, load_catalog([DEFAULT_PATH, tmp_path / "quota.yaml"]))
    assert said(engine, UnknownDimension, metric="quota", by=["product"], **JAN) == (
        "quota cannot be split by product — its source has no product; "
        "use one of motion, region, rep, segment, team")


def test_a_missing_end_of_the_range_is_filled_from_the_data(company: Tiny) -> None:
    """10 won on 10 January 2025 and 5 on 20 February: either missing end comes from the data."""
    company.deal("r1", "2025-01-02", "2025-02-20", won=True, amount=5)
    engine = company.engine
    frame = engine.run(MetricRequest.make("revenue", grain="month", date_from=d("2025-02-01")))
    assert frame[["period", "value"]].values.tolist() == [[d("2025-02-01"), 5.0]]
    frame = engine.run(MetricRequest.make("revenue", grain="month", date_to=d("2025-01-31")))
    assert frame[["period", "value"]].values.tolist() == [[d("2025-01-01"), 10.0]]
    frame = engine.run(MetricRequest.make("revenue", grain="month"))
    assert frame[["period", "value"]].values.tolist() == [[d("2025-01-01"), 10.0],
                                                          [d("2025-02-01"), 5.0]]
