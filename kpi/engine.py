"""Metric request -> one SQL query, run where the data lives.

Only catalog fragments (validated against the source's columns, then re-rendered by sqlglot with
every column qualified) and whitelisted identifiers are spliced into SQL; every user value — dates,
filter values, scope ids — is a bound parameter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from kpi.catalog import Catalog, Measure, Metric, load_catalog
from kpi.errors import AccessRefused, InvalidRequest, UnknownDimension
from kpi.rollups import Rollup
from kpi.rollups import column as rollup_column
from kpi.rollups import copy_of as rollup_copy
from kpi.rollups import eligible as rollup_eligible
from kpi.rollups import index as rollup_index
from kpi.schema import ATTRIBUTIONS, GRAINS, SCOPE_KINDS, Attribution, Grain, Role, ScopeKind
from kpi.sources import ACCOUNT_JOIN, ALL_DIMENSIONS, INDUSTRY, SOURCES
from kpi.split import SplitStore
from kpi.store import Store

if TYPE_CHECKING:  # imported on first use so `python -m kpi query --format csv` starts fast
    import pandas as pd

_STEP = {"day": "1 DAY", "week": "7 DAY", "month": "1 MONTH", "quarter": "3 MONTH",
         "year": "1 YEAR"}

# dimension -> (SQL over the joined aliases, alias it needs)
_DIMENSION_SQL: dict[str, tuple[str, str]] = {
    "rep": ("coalesce(r.name, f.rep_id)", "r"),
    "team": ("coalesce(t.name, '(unassigned)')", "t"),
    "region": ("coalesce(ra.region, '(unassigned)')", "ra"),
    "segment": ("coalesce(ra.segment, '(unassigned)')", "ra"),
    "motion": ("coalesce(ra.motion, '(unassigned)')", "ra"),
    "industry": (INDUSTRY, "acc"),
    "product": ("coalesce(f.product, '(none)')", "f"),
}
_AS_OF_JOIN = """LEFT JOIN rep_assignments ra ON ra.rep_id = f.rep_id
       AND f.event_date >= ra.valid_from AND (ra.valid_to IS NULL OR f.event_date < ra.valid_to)"""
# each rep's latest assignment: a join, not a correlated subquery in ON (which Spark refuses)
_CURRENT_JOIN = """LEFT JOIN (SELECT x.* FROM rep_assignments x
                  JOIN (SELECT rep_id, max(valid_from) AS latest FROM rep_assignments
                        GROUP BY rep_id) l ON l.rep_id = x.rep_id AND l.latest = x.valid_from
                 ) ra ON ra.rep_id = f.rep_id"""
# the team a row's rep was in on the row's day, for scopes (whatever the attribution shown)
_SCOPE_JOIN = """LEFT JOIN rep_assignments sc ON sc.rep_id = f.rep_id
       AND f.event_date >= sc.valid_from AND (sc.valid_to IS NULL OR f.event_date < sc.valid_to)"""
_JOINS = {
    "r": "LEFT JOIN reps r ON r.rep_id = f.rep_id",
    "t": "LEFT JOIN teams t ON t.team_id = ra.team_id",
    "acc": ACCOUNT_JOIN,
}
# the same, over rows that carry their industry (the company's rollup, the deals' copy)
_INDUSTRY_ON_ROW = {**_DIMENSION_SQL, "industry": ("f.industry", "f")}


@dataclass(frozen=True)
class Scope:
    """Whose rows a request may read: everyone, some teams, or some reps (ids, bound as params).

    Teams are read as of each event's day: a team scope holds what its reps did while they were
    in the team, never what a rep did before moving in. ``within`` bounds a rep scope the same
    way (a manager looking at one rep sees only the days that rep was in the manager's teams).
    """

    kind: ScopeKind = "all"
    ids: tuple[str, ...] = ()
    within: tuple[str, ...] = ()
    # the viewer's role when the scope is a signed-in user's: the engine answers only the
    # metrics the catalog lists for it (None: the app's own computations, the CLI)
    role: Role | None = None

    def seen_by(self, role: Role | None) -> Scope:
        """The same rows, for a viewer of ``role``."""
        return dataclasses.replace(self, role=role)

    @classmethod
    def everyone(cls) -> Scope:
        return cls("all")

    @classmethod
    def teams(cls, *team_ids: str) -> Scope:
        return cls("team", tuple(team_ids))

    @classmethod
    def reps(cls, *rep_ids: str) -> Scope:
        return cls("rep", tuple(rep_ids))

    @classmethod
    def rep_in_teams(cls, rep_id: str, *team_ids: str) -> Scope:
        """One rep, on the days they were in one of ``team_ids`` (nothing if none is given)."""
        return cls("rep", (rep_id,), tuple(team_ids) or ("",))


@dataclass(frozen=True)
class MetricRequest:
    """What to compute: one metric by period and dimensions, in a date range, within a scope."""

    metric: str
    grain: Grain = "month"
    by: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    scope: Scope = field(default_factory=Scope)
    attribution: Attribution = "as_of"

    @classmethod
    def make(cls, metric: str, *, filters: Mapping[str, Sequence[str]] | None = None,
             by: Sequence[str] = (), **kwargs: Any) -> MetricRequest:
        """Build a request from friendly types (lists and dicts become hashable tuples)."""
        frozen = tuple((k, tuple(v)) for k, v in (filters or {}).items())
        return cls(metric=metric, by=tuple(by), filters=frozen, **kwargs)


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: dict[str, Any]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class BatchQuery:
    """Several compiled requests as one query: each row starts with its request's index;
    ``unpack[i]`` turns a row back into request ``i``'s columns and types."""

    sql: str
    params: dict[str, Any]
    unpack: tuple[Any, ...]


_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


def batch_query(compiled: Sequence[CompiledQuery], metrics: Sequence[Metric]) -> BatchQuery:
    """One ``UNION ALL`` of the requests' own queries (each unchanged inside, its parameters
    renamed apart), in one layout: index, period, the group keys as text, value, numerator,
    denominator (as doubles), is_partial. Counts come back as integers, as :meth:`Engine.rows`
    gives them."""
    width = max(len(c.columns) - _fixed_columns(m) for c, m in zip(compiled, metrics, strict=True))
    params: dict[str, Any] = {}
    parts, unpack = [], []
    for i, (query, metric) in enumerate(zip(compiled, metrics, strict=True)):
        keys = [c for c in query.columns
                if c not in ("period", "value", "numerator", "denominator", "is_partial")]
        sql = _PARAM.sub(lambda m, i=i: f"$q{i}_{m.group(1)}", query.sql)  # type: ignore[misc]
        params.update({f"q{i}_{name}": value for name, value in query.params.items()})
        ratio = metric.is_ratio
        columns = [f"{i} AS q", "b.period",
                   *(f"CAST(b.{k} AS VARCHAR) AS k{j}" for j, k in enumerate(keys)),
                   *(f"CAST(NULL AS VARCHAR) AS k{j}" for j in range(len(keys), width)),
                   "CAST(b.value AS DOUBLE) AS value",
                   "CAST(b.numerator AS DOUBLE) AS numerator" if ratio
                   else "CAST(NULL AS DOUBLE) AS numerator",
                   "CAST(b.denominator AS DOUBLE) AS denominator" if ratio
                   else "CAST(NULL AS DOUBLE) AS denominator",
                   "b.is_partial"]
        parts.append(f"SELECT {', '.join(columns)} FROM ({sql}) b")
        unpack.append(_unpacker(metric, len(keys), width))
    order = ", ".join(["q", "period", *(f"k{j}" for j in range(width))])
    return BatchQuery("\nUNION ALL\n".join(parts) + f"\nORDER BY {order}", params,
                      tuple(unpack))


def _fixed_columns(metric: Metric) -> int:
    return 5 if metric.is_ratio else 3


def _integral(measure: Measure) -> bool:
    return measure.agg in ("count", "count_distinct") and measure.divide == 1.0


def _unpacker(metric: Metric, keys: int, width: int) -> Any:
    """A batch row -> the request's own row: its keys, and counts as integers again."""
    def whole(value: Any, integral: bool) -> Any:
        return int(value) if integral and value is not None else value

    numerator = _integral(metric.numerator)
    denominator = metric.denominator is not None and _integral(metric.denominator)
    at = 2 + width  # value, numerator, denominator, is_partial after the keys

    def unpack(row: tuple[Any, ...]) -> tuple[Any, ...]:
        head = (_plain(row[1]), *row[2:2 + keys])
        if metric.is_ratio:
            return (*head, row[at], whole(row[at + 1], numerator),
                    whole(row[at + 2], denominator), row[at + 3])
        return (*head, whole(row[at], numerator), row[at + 3])

    return unpack


class Engine:
    """Compiles metric requests against the catalog and runs them in the store."""

    def __init__(self, store: Store, catalog: Catalog | None = None,
                 use_rollups: bool = True) -> None:
        self.store = store
        self.catalog = catalog or load_catalog()
        self.use_rollups = use_rollups
        self._rollups: dict[str, Rollup] | None = None

    @property
    def rollups(self) -> dict[str, Rollup]:
        """The rollups this database holds (read once; :meth:`forget_rollups` after a rebuild
        in this process)."""
        if not self.use_rollups:
            return {}
        if self._rollups is None:
            self._rollups = rollup_index(self.store)
        return self._rollups

    def forget_rollups(self) -> None:
        self._rollups = None

    def run(self, request: MetricRequest) -> pd.DataFrame:
        """The metric table: period, the group-by columns, value (+ numerator, denominator)."""
        import pandas as pd

        columns, rows = self.rows(request)
        return pd.DataFrame.from_records(rows, columns=columns)

    def rows(self, request: MetricRequest) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The same table as :meth:`run`, as column names and plain tuples."""
        compiled = self.compile(request)
        names, rows = self.store.rows(compiled.sql, compiled.params)
        order = [names.index(c) for c in compiled.columns]
        return list(compiled.columns), [tuple(_plain(r[i]) for i in order) for r in rows]

    def run_many(self, requests: Sequence[MetricRequest]) -> list[pd.DataFrame]:
        """The tables of several requests from one query (a page section's numbers in one round
        trip); each table is exactly what :meth:`run` gives for its request."""
        import pandas as pd

        return [pd.DataFrame.from_records(rows, columns=columns)
                for columns, rows in self.rows_many(requests)]

    def answers(self, requests: Iterable[MetricRequest]) -> dict[MetricRequest, pd.DataFrame]:
        """Each distinct request's table, all from one query (:meth:`run_many`)."""
        asked = list(dict.fromkeys(requests))
        return dict(zip(asked, self.run_many(asked), strict=True))

    def rows_many(self, requests: Sequence[MetricRequest]
                  ) -> list[tuple[list[str], list[tuple[Any, ...]]]]:
        """:meth:`rows` of each request, from one query."""
        if len(requests) < 2:
            return [self.rows(r) for r in requests]
        compiled = [self.compile(r) for r in requests]
        out: list[tuple[list[str], list[tuple[Any, ...]]]] = [
            (list(c.columns), []) for c in compiled]
        for part in self._by_database(compiled):  # beside a warehouse: what runs where
            if len(part) == 1:
                out[part[0]] = self.rows(requests[part[0]])
                continue
            batch = batch_query([compiled[i] for i in part],
                                [self.catalog.get(requests[i].metric) for i in part])
            _, rows = self.store.rows(batch.sql, batch.params)
            for row in rows:
                out[part[row[0]]][1].append(batch.unpack[row[0]](row))
        return out

    def _by_database(self, compiled: Sequence[CompiledQuery]) -> list[list[int]]:
        """The positions of ``compiled`` in one group per database they run in (one group but
        beside a warehouse, where a query runs in the warehouse or in the app's file)."""
        if not isinstance(self.store, SplitStore):
            return [list(range(len(compiled)))]
        groups: dict[int, list[int]] = {}
        for i, c in enumerate(compiled):
            groups.setdefault(id(self.store.runs_in(c.sql)), []).append(i)
        return list(groups.values())

    def compile(self, request: MetricRequest, use_rollups: bool = True) -> CompiledQuery:
        """The request's SQL; beside a warehouse, from the raw rows alone when its rollups (in
        the app's file) would be read with rows only the warehouse holds."""
        metric = self.catalog.get(request.metric)
        role = request.scope.role
        if role is not None and role != "admin" and role not in metric.roles:
            raise AccessRefused(f"{metric.label} is not shown to the {role} role",
                                f"the catalog shows it to: {', '.join(metric.roles)}")
        date_from, date_to = self._dates(request)
        _validate(request, metric, date_from, date_to)
        self._check_filter_values(request)
        params: dict[str, Any] = {"date_from": date_from, "date_to": date_to}
        ctes = [f"spine AS ({_spine_sql(request.grain)})"]
        for i, m in enumerate(metric.measures):
            rollup = self._rollup_for(m, request, date_from, date_to) if use_rollups else None
            copy = self.rollups.get(rollup_copy(m.source)) if use_rollups else None
            ctes.append(f"m{i} AS ({_measure_sql(m, request, params, rollup, copy)})")
        if request.by:
            keys = ", ".join(f"d_{d}" for d in request.by)
            # one row per group, whatever the number of measures or periods they occur in
            union = " UNION ".join(f"SELECT DISTINCT {keys} FROM m{i}"
                                   for i in range(len(metric.measures)))
            ctes.append(f"groups AS ({union})")
        sql = "WITH " + ",\n".join(ctes) + "\n" + _final_sql(metric, request)
        if use_rollups and isinstance(self.store, SplitStore) and not self.store.runs_whole(sql):
            return self.compile(request, use_rollups=False)
        return CompiledQuery(sql, params, _columns(metric, request))

    def _rollup_for(self, measure: Measure, request: MetricRequest, date_from: dt.date,
                    date_to: dt.date) -> Rollup | None:
        """The rollup that answers ``measure`` for ``request`` exactly, if one is built."""
        if not self.rollups or not rollup_eligible(measure):
            return None
        dimensions = (*request.by, *(n for n, _ in request.filters))
        everyone = request.scope.kind == "all" and not request.scope.within
        found = [r for r in self.rollups.values()
                 if r.source == measure.source and rollup_column(measure) in r.columns
                 and (everyone or not r.company) and r.answers(dimensions)
                 and r.covers(date_from, date_to)]
        return min(found, key=lambda r: not r.company, default=None)  # the company's: smaller

    def data_range(self) -> tuple[dt.date, dt.date]:
        """The default query range: first close or activity to the last date with any data.

        Opportunities created long before the first close (an export's open-pipeline tail) do not
        stretch the range into months where no output can be measured.
        """
        _, rows = self.store.rows(
            """SELECT coalesce(min(lo), min(created)) AS lo, max(hi) AS hi FROM (
                 SELECT min(closed_at) AS lo, max(coalesce(closed_at, created_at)) AS hi,
                        min(created_at) AS created FROM opportunities
                 UNION ALL SELECT CAST(min(occurred_at) AS DATE), CAST(max(occurred_at) AS DATE),
                        NULL FROM activities) x"""
        )
        lo, hi = rows[0]
        if lo is None:
            raise InvalidRequest("the database holds no opportunities or activities yet",
                                 "import data or build the demo (`python -m kpi demo`)")
        return _as_date(lo), _as_date(hi)

    def dimension_values(self, dimension: str) -> list[str]:
        """Every value a dimension can take (for filter pickers and filter validation)."""
        if dimension not in _VALUES_SQL:
            raise UnknownDimension(f"unknown dimension {dimension!r}",
                                   f"use one of {', '.join(sorted(ALL_DIMENSIONS))}")
        _, rows = self.store.rows(_VALUES_SQL[dimension])
        return [r[0] for r in rows if r[0] is not None]

    def _check_filter_values(self, request: MetricRequest) -> None:
        for name, values in request.filters:
            known = set(self.dimension_values(name))
            unknown = [v for v in values if v not in known]
            if unknown:
                sample = ", ".join(sorted(known)[:12]) + (" ..." if len(known) > 12 else "")
                raise InvalidRequest(f"unknown {name} {unknown[0]!r}", f"known values: {sample}")

    def _dates(self, request: MetricRequest) -> tuple[dt.date, dt.date]:
        if request.date_from is not None and request.date_to is not None:
            return request.date_from, request.date_to
        lo, hi = self.data_range()
        return request.date_from or lo, request.date_to or hi


_VALUES_SQL = {
    "rep": "SELECT DISTINCT name FROM reps ORDER BY 1",
    "team": "SELECT DISTINCT name FROM teams ORDER BY 1",
    "region": "SELECT DISTINCT region FROM rep_assignments ORDER BY 1",
    "segment": "SELECT DISTINCT segment FROM rep_assignments ORDER BY 1",
    "motion": "SELECT DISTINCT motion FROM rep_assignments ORDER BY 1",
    "industry": "SELECT DISTINCT industry FROM accounts ORDER BY 1",
    "product": "SELECT DISTINCT product FROM opportunities ORDER BY 1",
}


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _plain(value: Any) -> Any:
    """Dates stay dates, timestamps become dates (periods), everything else as the driver gave."""
    return _as_date(value) if isinstance(value, dt.datetime) else value


def _validate(request: MetricRequest, metric: Metric, date_from: dt.date, date_to: dt.date) -> None:
    if request.grain not in GRAINS:
        raise InvalidRequest(f"unknown grain {request.grain!r}", f"use one of {', '.join(GRAINS)}")
    if request.attribution not in ATTRIBUTIONS:
        raise InvalidRequest(f"unknown attribution {request.attribution!r}",
                             f"use one of {', '.join(ATTRIBUTIONS)}")
    if request.scope.kind not in SCOPE_KINDS:
        raise InvalidRequest(f"unknown scope {request.scope.kind!r}")
    if not (isinstance(date_from, dt.date) and isinstance(date_to, dt.date)):
        raise InvalidRequest("dates must be calendar dates (YYYY-MM-DD)")
    if date_from > date_to:
        raise InvalidRequest(f"date range is inverted: {date_from} is after {date_to}",
                             "swap --from and --to")
    if len(set(request.by)) != len(request.by):
        raise InvalidRequest(f"a dimension is repeated in {list(request.by)}")
    available = frozenset.intersection(*(SOURCES[m.source].dimensions for m in metric.measures))
    for dim in (*request.by, *(name for name, _ in request.filters)):
        _check_dimension(dim, metric, available)
    for name, values in request.filters:
        if not values or not all(isinstance(v, str) for v in values):
            raise InvalidRequest(f"filter {name!r} needs one or more text values")


def _check_dimension(dim: str, metric: Metric, available: frozenset[str]) -> None:
    if dim not in ALL_DIMENSIONS:
        raise UnknownDimension(f"unknown dimension {dim!r}",
                               f"use one of {', '.join(sorted(ALL_DIMENSIONS))}")
    if dim not in available:
        raise UnknownDimension(
            f"{metric.id} cannot be split by {dim}",
            f"its {'denominator' if metric.is_ratio else 'source'} has no {dim}; "
            f"use one of {', '.join(sorted(available))}",
        )


def _where(request: MetricRequest, params: dict[str, Any],
           dimensions: Mapping[str, tuple[str, str]] = _DIMENSION_SQL) -> str:
    """Date range, scope and filters, every value bound as a parameter."""
    clauses = ["f.event_date >= $date_from", "f.event_date <= $date_to"]
    if request.scope.kind != "all":
        column = "f.rep_id" if request.scope.kind == "rep" else "sc.team_id"
        clauses.append(in_list(column, "scope", request.scope.ids, params))
    if request.scope.within:
        clauses.append(in_list("sc.team_id", "within", request.scope.within, params))
    for name, values in request.filters:
        clauses.append(in_list(dimensions[name][0], f"f_{name}", values, params))
    return " AND ".join(clauses)


def in_list(column: str, prefix: str, values: Sequence[str], params: dict[str, Any]) -> str:
    """``column IN ($prefix_0, $prefix_1, ...)`` with every value bound in ``params``; an empty
    list matches nothing (never ``IN ()``, which PostgreSQL rejects)."""
    if not values:
        return "1 = 0"
    names = []
    for i, value in enumerate(values):
        params[f"{prefix}_{i}"] = value
        names.append(f"${prefix}_{i}")
    return f"{column} IN ({', '.join(names)})"


def _spine_sql(grain: Grain) -> str:
    if grain == "total":
        return ("SELECT CAST($date_from AS DATE) AS period, CAST($date_from AS DATE) AS window_start,"
                " CAST(CAST($date_to AS DATE) + INTERVAL 1 DAY AS DATE) AS window_end,"
                " FALSE AS is_partial")
    step = _STEP[grain]
    start = f"CAST(date_trunc('{grain}', CAST($date_from AS DATE)) AS TIMESTAMP)"
    return f"""SELECT period, greatest(period, CAST($date_from AS DATE)) AS window_start,
           least(period_end, CAST(CAST($date_to AS DATE) + INTERVAL 1 DAY AS DATE)) AS window_end,
           (period < CAST($date_from AS DATE) OR period_end > CAST($date_to AS DATE) + INTERVAL 1 DAY)
             AS is_partial
    FROM (SELECT CAST(g.p AS DATE) AS period, CAST(g.p + INTERVAL {step} AS DATE) AS period_end
          FROM generate_series({start}, CAST($date_to AS TIMESTAMP), INTERVAL {step}) AS g(p)) s"""


def _measure_sql(measure: Measure, request: MetricRequest, params: dict[str, Any],
                 rollup: Rollup | None = None, copy: Rollup | None = None) -> str:
    """The measure per period and group, from the source's rows (or ``copy``: the copy of them
    kept in day order, with each row's industry), or (``rollup``) from its rows' values summed
    (counts stay whole numbers)."""
    if rollup is None:
        facts = f"SELECT * FROM {copy.table}" if copy else SOURCES[measure.source].sql_for(
            _uses_product(measure, request))
        value = _aggregate(measure)
        on_row = copy is not None
    else:
        name = rollup_column(measure)
        facts = f"SELECT {', '.join(('event_date', *rollup.keys, name))} FROM {rollup.table}"
        total = f"sum(f.{name})" if measure.agg != "count" else f"CAST(sum(f.{name}) AS BIGINT)"
        value = _divided(total, measure)
        on_row = "industry" in rollup.keys
    dimensions = _INDUSTRY_ON_ROW if on_row else _DIMENSION_SQL  # no account to join
    period = ("CAST($date_from AS DATE)" if request.grain == "total"
              else f"CAST(date_trunc('{request.grain}', f.event_date) AS DATE)")
    dims = [f"{dimensions[d][0]} AS d_{d}" for d in request.by]
    group = [period, *(dimensions[d][0] for d in request.by)]
    return f"""SELECT {', '.join([f'{period} AS period', *dims, f'{value} AS value'])}
    FROM ({facts}) f
    {_joins(request, dimensions)}
    WHERE {_where(request, params, dimensions)}
    GROUP BY {', '.join(group)}"""


def _uses_product(measure: Measure, request: MetricRequest) -> bool:
    fragments = " ".join(f for f in (measure.expr, measure.filter) if f)
    return ("product" in request.by or any(n == "product" for n, _ in request.filters)
            or "product" in fragments)


def _joins(request: MetricRequest,
           dimensions: Mapping[str, tuple[str, str]] = _DIMENSION_SQL) -> str:
    aliases = {dimensions[d][1] for d in (*request.by, *(n for n, _ in request.filters))}
    joins = []
    if request.scope.kind == "team" or request.scope.within:
        joins.append(_SCOPE_JOIN)
    if aliases & {"ra", "t"}:  # only then: the attributed team
        joins.append(_CURRENT_JOIN if request.attribution == "current" else _AS_OF_JOIN)
    joins += [_JOINS[a] for a in ("r", "t", "acc") if a in aliases]
    return "\n    ".join(joins)


def _aggregate(measure: Measure) -> str:
    return _divided(qualified_aggregate(measure), measure)


def _divided(call: str, measure: Measure) -> str:
    # as a double: Spark and PostgreSQL would divide a count as a decimal of a few digits
    return call if measure.divide == 1.0 else f"CAST({call} AS DOUBLE) / {float(measure.divide)!r}"


def qualified_aggregate(measure: Measure) -> str:
    """``agg(expr) FILTER (WHERE filter)`` over the fact alias ``f``, before any divisor (a
    filtered distinct count: ``count(DISTINCT CASE WHEN filter THEN expr END)``)."""
    expr = _qualified(measure.expr) if measure.expr else "*"
    if measure.agg == "count_distinct" and measure.filter:
        # the same count (NULLs are not counted), and DuckDB counts it 2-3x faster than under
        # FILTER: the new customers of 950,000 closed deals in 50 ms instead of 170 ms
        return f"count(DISTINCT CASE WHEN {_qualified(measure.filter)} THEN {expr} END)"
    call = {
        "count": f"count({expr})",
        "count_distinct": f"count(DISTINCT {expr})",
        "sum": f"sum({expr})",
        "median": f"median({expr})",
        "avg": f"avg({expr})",
    }[measure.agg]
    if measure.filter:
        call += f" FILTER (WHERE {_qualified(measure.filter)})"
    return call


def _qualified(fragment: str) -> str:
    """Re-render a validated catalog fragment with every column bound to the fact alias ``f``."""
    tree = sqlglot.parse_one(fragment, read="duckdb")
    for column in tree.find_all(exp.Column):
        column.set("table", exp.to_identifier("f"))
    return tree.sql(dialect="duckdb")


def _final_sql(metric: Metric, request: MetricRequest) -> str:
    joins = []
    for i in range(len(metric.measures)):
        on = [f"m{i}.period = s.period"]
        on += [f"m{i}.d_{d} IS NOT DISTINCT FROM g.d_{d}" for d in request.by]
        joins.append(f"LEFT JOIN m{i} ON {' AND '.join(on)}")
    dims = [f"g.d_{d} AS {d}" for d in request.by]
    # counts (distinct ones too) and sums read 0 when nothing happened; medians stay NULL
    counts = metric.numerator.additive or metric.numerator.agg == "count_distinct"
    num = "coalesce(m0.value, 0)" if counts else "m0.value"
    if metric.denominator is None:
        values = [f"{num} AS value"]
    else:
        values = [f"{num} / nullif(coalesce(m1.value, 0), 0) AS value",
                  f"{num} AS numerator", "coalesce(m1.value, 0) AS denominator"]
    source = "spine s CROSS JOIN groups g" if request.by else "spine s"
    order = ", ".join(["s.period", *(f"g.d_{d}" for d in request.by)])
    return f"""SELECT {', '.join(['s.period', *dims, *values, 's.is_partial'])}
FROM {source}
{chr(10).join(joins)}
ORDER BY {order}"""


def _columns(metric: Metric, request: MetricRequest) -> tuple[str, ...]:
    ratio = ("numerator", "denominator") if metric.is_ratio else ()
    return ("period", *request.by, "value", *ratio, "is_partial")
