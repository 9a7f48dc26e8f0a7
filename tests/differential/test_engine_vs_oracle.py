"""The engine against an independent pandas oracle on many seeded random companies.

Every catalog metric (read from the catalog: a new metric is covered, or fails for want of an
oracle definition) is asked at every grain, for the whole company and split by each dimension it
allows, under both attributions and each scope kind. The full cross product is spread over the
companies (each runs a slice, every combination runs somewhere); each answer must equal the
oracle's row for row: same keys, one row per key, values within a relative 1e-9. Sums and counts
(and the numerator and denominator of ratios) must add up over the groups to the unsplit total.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import zlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import combinations, product

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi import rollups
from kpi.catalog import Catalog, load_catalog
from kpi.engine import Engine, MetricRequest, Scope
from kpi.errors import UnknownDimension
from kpi.schema import ATTRIBUTIONS, GRAINS, SCOPE_KINDS
from kpi.sources import ALL_DIMENSIONS, SOURCES
from tests.differential.companies import Company, generate
from tests.differential.oracle import DEFINITIONS, Oracle, Request, load_tables

COMPANIES = 24  # seeds 0..23; each runs 1/24 of the cross product
REL = 1e-9


@dataclass(frozen=True)
class Family:
    """One metric, grain, attribution and scope kind: asked unsplit and split by each dimension."""

    metric: str
    grain: str
    attribution: str
    scope_kind: str


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The shipped catalog, read once (tests run without KPI_EXTRA_METRICS: see conftest)."""
    return load_catalog()


def families() -> list[Family]:
    """The cross product, from the catalog as it is now."""
    return [Family(*combo) for combo in product(catalog().ids(), GRAINS, ATTRIBUTIONS, SCOPE_KINDS)]


def plan(seed: int) -> list[Family]:
    """This company's slice of a fixed shuffle (metrics mixed); both attributions of a metric,
    grain and scope kind go to the same company, which asks the engine once where they agree."""
    units = sorted({(f.metric, f.grain, f.scope_kind) for f in families()})
    random.Random(20240601).shuffle(units)
    return [Family(m, g, a, k) for m, g, k in units[seed % COMPANIES::COMPANIES] for a in ATTRIBUTIONS]


@dataclass
class Tally:
    compared: int = 0  # frames compared with the oracle
    informative: int = 0  # ... that hold at least one non-zero value
    additivity: int = 0  # split frames whose groups were added up against the total


class Check:
    """One company's engine and oracle, and the comparisons made so far."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.store = company.store()
        self.store.execute("SET threads = 1")  # tiny queries on a shared machine
        self.engine = Engine(self.store, catalog(), use_rollups=False)  # the raw rows
        self.engine.compile = lru_cache(maxsize=None)(self.engine.compile)  # compiled once per request
        self.oracle = Oracle(load_tables(self.store))
        self.tally = Tally()
        self.answers: dict[tuple, tuple[list[str], list[tuple]]] = {}  # the engine's, by query
        self.asked: dict[tuple, MetricRequest] = {}  # each distinct query's request

    def close(self) -> None:
        self.store.close()

    def scope(self, kind: str, salt: str, odd: bool = False) -> tuple[str, tuple[str, ...]]:
        """1-2 teams or busy reps drawn by ``salt``; ``odd`` now and then adds an unknown id or
        gives none."""
        rng = random.Random(zlib.crc32(f"{self.company.seed}/{salt}".encode()))
        pool = {"all": [], "team": self.company.team_ids, "rep": self.busy_reps}[kind]
        ids = rng.sample(pool, min(len(pool), rng.choice((1, 1, 2))))
        if kind != "all" and odd and rng.random() < 0.3:
            ids = rng.choice(([], [*ids, "nobody"]))
        return kind, tuple(ids)

    @cached_property
    def busy_reps(self) -> list[str]:
        """The reps with the most activities in the range."""
        a = self.company.tables["activities"]
        inside = a[[self.company.date_from <= t.date() <= self.company.date_to
                    for t in a["occurred_at"]]]
        return inside["rep_id"].value_counts().index[:4].tolist() or self.company.rep_ids

    def compare(self, request: Request) -> list[tuple]:
        """The engine's rows for ``request``, asserted equal to the oracle's; returns them."""
        engine_request = MetricRequest.make(
            request.metric, grain=request.grain, by=request.by, date_from=request.date_from,
            date_to=request.date_to, attribution=request.attribution,
            scope=Scope(request.scope[0], request.scope[1]))
        compiled = self.engine.compile(engine_request)
        same_query = (compiled.sql, tuple(sorted(compiled.params.items())))
        if same_query not in self.answers:  # e.g. both attributions of a split that needs no team
            self.answers[same_query] = self.engine.rows(engine_request)
            self.asked[same_query] = engine_request
        columns, got = self.answers[same_query]
        expected_columns, expected = self.oracle.rows(request)
        where = f"seed {self.company.seed}: {request}"
        assert columns == expected_columns, f"{where}: columns {columns} != {expected_columns}"
        keys = 1 + len(request.by)
        assert len({r[:keys] for r in got}) == len(got), f"{where}: more than one row for a key"
        assert [r[:keys] for r in got] == sorted(r[:keys] for r in got), f"{where}: rows out of order"
        if not _same_rows(sorted(got, key=_key(keys)), expected, keys):
            _explain(columns, sorted(got, key=_key(keys)), expected, where)
        self.tally.compared += 1
        self.tally.informative += any(_number(x) for r in got for x in r[keys:-1])
        return got

    def family(self, family: Family) -> None:
        """The family's unsplit request and each allowed split, the splits added up."""
        c = self.company
        scope = self.scope(family.scope_kind, family.grain)  # shared by the metrics of a grain
        base = Request(family.metric, family.grain, (), c.date_from, c.date_to, scope,
                       family.attribution)
        total = self.compare(base)
        definition = DEFINITIONS[family.metric]
        for dim in definition.dimensions:
            split = self.compare(Request(**{**base.__dict__, "by": (dim,)}))
            if all(m.additive for m in definition.measures):
                self.add_up(split, total, base)

    def batched(self, size: int = 40) -> int:
        """Every distinct request asked so far again, ``size`` at a time through
        :meth:`Engine.rows_many` (one query each): each table must be the one :meth:`Engine.rows`
        gave (which the oracle checked), with the same Python types. Returns the tables compared."""
        queries = list(self.asked)
        for at in range(0, len(queries), size):
            chunk = queries[at:at + size]
            got = self.engine.rows_many([self.asked[q] for q in chunk])
            for query, answer in zip(chunk, got, strict=True):
                _same_table(answer, self.answers[query],
                            f"seed {self.company.seed}: batched {self.asked[query]}")
        return len(queries)

    def rolled_up(self) -> tuple[int, int]:
        """Every distinct request asked so far again, by an engine reading the rollups (built
        now): each table must equal the raw rows' one. Returns how many read a rollup, and how
        many the company's (everyone's rows per day and industry)."""
        with self.store.transaction():
            rollups.refresh(self.store, catalog())
        engine = Engine(self.store, catalog())
        read = company = 0
        for query, request in self.asked.items():
            compiled = engine.compile(request)
            read += "rollup_" in compiled.sql
            company += "_company" in compiled.sql
            _same_table(engine.rows(request), self.answers[query],
                        f"seed {self.company.seed}: from rollups {request}")
        return read, company

    def add_up(self, split: list[tuple], total: list[tuple], request: Request) -> None:
        """Sum of the groups per period == the unsplit row, for value or numerator and denominator."""
        columns = (1, 2) if DEFINITIONS[request.metric].denominator is not None else (0,)
        sums: dict[dt.date, list[float]] = {}
        for row in split:
            values = row[2:-1]
            acc = sums.setdefault(row[0], [0.0] * len(values))
            for i, v in enumerate(values):
                acc[i] += _float(v)
        for row in total:
            parts = sums.get(row[0], [0.0] * len(row[1:-1]))
            for i in columns:
                assert math.isclose(parts[i], _float(row[1 + i]), rel_tol=REL, abs_tol=0.0), (
                    f"seed {self.company.seed}: groups of {request.metric} do not add up in "
                    f"{row[0]}: {parts[i]} != {row[1 + i]} ({request})")
        self.tally.additivity += 1


def _same_table(got: tuple[list[str], list[tuple]], want: tuple[list[str], list[tuple]],
                where: str) -> None:
    """The same columns and rows, each value of the same Python type and equal (or close)."""
    (columns, rows), (want_columns, want_rows) = got, want
    assert columns == want_columns, where
    assert len(rows) == len(want_rows), f"{where}: {len(rows)} rows, not {len(want_rows)}"
    for g, w in zip(rows, want_rows, strict=True):
        assert [type(x) for x in g] == [type(x) for x in w], f"{where}: {g} vs {w}"
        assert all(a == b or _close(a, b) for a, b in zip(g, w, strict=True)), f"{where}: {g} != {w}"


def _key(n: int):  # noqa: ANN202
    return lambda row: row[:n]


def _float(value: object) -> float:
    return math.nan if value is None else float(value)


def _number(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and value != 0


def _close(a: object, b: object) -> bool:
    fa, fb = _float(a), _float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    return math.isclose(fa, fb, rel_tol=REL, abs_tol=0.0)


def _same_rows(got: list[tuple], expected: list[tuple], keys: int) -> bool:
    """Row by row: keys equal (a date is not a datetime), is_partial the same bool, numbers close."""
    if len(got) != len(expected):
        return False
    for g, e in zip(got, expected, strict=True):
        if len(g) != len(e) or g[:keys] != e[:keys] or g[-1] is not e[-1]:
            return False
        if any(type(a) is not type(b) for a, b in zip(g[:keys], e[:keys], strict=True)):
            return False
        if not all(_close(a, b) for a, b in zip(g[keys:-1], e[keys:-1], strict=True)):
            return False
    return True


def _explain(columns: list[str], got: list[tuple], expected: list[tuple], where: str) -> None:
    """Fail with pandas' row-by-row report of the difference."""
    frames = [pd.DataFrame.from_records(rows, columns=columns) for rows in (got, expected)]
    for frame in frames:
        for column in set(columns) & {"value", "numerator", "denominator"}:
            frame[column] = pd.to_numeric(frame[column]).astype(float)
    try:
        pd.testing.assert_frame_equal(*frames, check_dtype=False, rtol=REL, atol=0.0)
    except AssertionError as exc:
        raise AssertionError(f"{where}\nengine != oracle:\n{exc}") from None
    raise AssertionError(f"{where}\nengine != oracle (types differ):\n{got[:5]}\n{expected[:5]}")


# ------------------------------------------------------------------------------------ tests
def test_every_catalog_metric_has_an_oracle_with_the_same_dimensions() -> None:
    for metric in catalog():
        assert metric.id in DEFINITIONS, f"write {metric.id}'s oracle from its definition"
        definition = DEFINITIONS[metric.id]
        allowed = frozenset.intersection(*(SOURCES[m.source].dimensions for m in metric.measures))
        assert set(definition.dimensions) == allowed, metric.id
        assert (definition.denominator is not None) == metric.is_ratio, metric.id


def test_the_plan_covers_the_whole_cross_product() -> None:
    planned = [f for seed in range(COMPANIES) for f in plan(seed)]
    assert sorted(planned, key=str) == sorted(families(), key=str)
    assert len(planned) == len(catalog()) * len(GRAINS) * len(ATTRIBUTIONS) * len(SCOPE_KINDS)


@pytest.mark.parametrize("seed", range(COMPANIES))
def test_engine_equals_oracle(seed: int) -> None:
    check = Check(generate(seed))
    try:
        for family in plan(seed):
            check.family(family)
        _split_twice(check)
        batched = check.batched()
        rolled, company = check.rolled_up()
        # the forbidden splits are refused, not answered
        for family in plan(seed)[:4]:
            for dim in sorted(ALL_DIMENSIONS - set(DEFINITIONS[family.metric].dimensions)):
                with pytest.raises(UnknownDimension):
                    check.engine.rows(MetricRequest.make(family.metric, by=[dim],
                                                         date_from=check.company.date_from,
                                                         date_to=check.company.date_to))
    finally:
        check.close()
    t = check.tally
    requests = sum(1 + len(DEFINITIONS[f.metric].dimensions) for f in plan(seed)) + 4
    assert t.compared == requests, "not every planned request was compared"
    assert batched >= 0.5 * requests, f"only {batched} distinct requests went through a batch"
    assert rolled >= 0.2 * batched, f"only {rolled} of {batched} requests read a rollup"
    assert company >= 1, f"none of {batched} requests read the company's rollup"
    assert t.informative >= 0.5 * requests, f"only {t.informative} of {requests} frames hold data"
    assert t.additivity >= 40, f"only {t.additivity} splits were added up"


def _split_twice(check: Check) -> None:
    """Four requests split by two dimensions at once."""
    rng = random.Random(check.company.seed)
    c = check.company
    for _ in range(4):
        metric = rng.choice(catalog().ids())
        by = rng.choice(list(combinations(DEFINITIONS[metric].dimensions, 2)))
        check.compare(Request(metric, rng.choice(GRAINS), by, c.date_from, c.date_to,
                              check.scope(rng.choice(SCOPE_KINDS), f"two/{metric}/{by}", odd=True),
                              rng.choice(ATTRIBUTIONS)))


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(1000, 10**6), pick=st.integers(0, 10**4),
       grain=st.sampled_from(GRAINS), attribution=st.sampled_from(ATTRIBUTIONS),
       scope_kind=st.sampled_from(SCOPE_KINDS), split=st.integers(0, 2), data=st.data())
def test_random_company_and_request(seed: int, pick: int, grain: str, attribution: str,
                                    scope_kind: str, split: int, data: st.DataObject) -> None:
    metric = catalog().ids()[pick % len(catalog())]  # the catalog is read inside the test
    dims = DEFINITIONS[metric].dimensions
    by = tuple(data.draw(st.lists(st.sampled_from(dims), min_size=split, max_size=split, unique=True)))
    check = Check(generate(seed))
    try:
        c = check.company
        date_from = data.draw(st.dates(c.date_from - dt.timedelta(days=30), c.date_to))
        date_to = data.draw(st.dates(date_from, c.date_to + dt.timedelta(days=30)))
        scope = check.scope(scope_kind, f"{metric}/{grain}", odd=True)
        request = Request(metric, grain, by, date_from, date_to, scope, attribution)
        split_rows = check.compare(request)
        if len(by) == 1 and all(m.additive for m in DEFINITIONS[metric].measures):
            check.add_up(split_rows, check.compare(Request(**{**request.__dict__, "by": ()})), request)
    finally:
        check.close()
