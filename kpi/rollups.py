"""Rollups: each fact source summed per rep and day, and per day for the whole company.

A page's numbers are sums over rep-days, so a table with one row per rep and day (and one column
per additive measure of the catalog: ``count(*) FILTER (WHERE type = 'demo')``,
``sum(amount) FILTER (WHERE is_won)``, ...) answers them exactly, for any date range, grain,
scope and split by rep, team, region, segment or motion (all read from the rep and the day), in a
fraction of the rows: activities are a few per rep-day, and the rep-days and quota-days calendars
are read instead of generated. Beside it, the company's rollup sums each day once (per account
industry, for the sources whose rows have an account): it answers everyone's numbers, whole or
by industry, in a few rows a day. The engine (:mod:`kpi.engine`) reads the smallest rollup that
answers a measure and a request, and the rows otherwise (a product, a distinct count or a
median; an industry within a team): for deals, a copy of their rows kept in day order with each
account's industry, so a window reads its own days without the join. Every path gives the
same numbers (tests/differential).

Rollups are rebuilt by every import (inside its transaction), by ``python -m kpi refresh`` for
data loaded by other tools, and when the demo is built. ``rollups`` lists what was built: each
table's keys, measures and, for the calendars, the days it covers (a request outside them reads
the raw rows).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kpi.catalog import Catalog, Measure, load_catalog
from kpi.sources import ACCOUNT_JOIN, INDUSTRY, REP_DIMENSIONS, SOURCES
from kpi.store import Store

# sources whose rows are events (any date range is covered) and calendars (the days built)
EVENT_SOURCES = ("activities", "opps_closed", "opps_created", "stage_entries")
CALENDAR_SOURCES = ("rep_days", "quota_days")
DIMENSIONS = REP_DIMENSIONS  # what a rep and a day decide
INDEX = "rollups"
_INDEX_DDL = f"""CREATE TABLE {INDEX} (
    source VARCHAR NOT NULL, table_name VARCHAR NOT NULL, keys VARCHAR NOT NULL,
    measures VARCHAR NOT NULL, covered_from DATE, covered_to DATE, raw_rows VARCHAR NOT NULL)"""
_COLUMNS = ("source", "table_name", "keys", "measures", "covered_from", "covered_to",
            "raw_rows")
# the raw tables each source reads: their row counts, kept when a rollup is summed, tell rows
# appended since by other tools (a rollup is not read until it is summed again)
RAW_TABLES = {"activities": ("activities",), "opps_closed": ("opportunities",),
              "opps_created": ("opportunities",),
              "stage_entries": ("stage_history", "opportunities", "stages"),
              "rep_days": ("reps",), "quota_days": ("quotas",)}


@dataclass(frozen=True)
class Shape:
    """What a rollup table is summed by, besides the day: the rep (``rep_id``), or nothing but
    the account's industry for the whole company (``industry``; calendars: the day alone)."""

    suffix: str
    keys: tuple[str, ...]

    def table(self, source: str) -> str:
        return f"rollup_{source}{self.suffix}"


REP = Shape("", ("rep_id",))


def shapes(source: str) -> tuple[Shape, ...]:
    """The rollups of ``source``: per rep, and for the company (per industry where rows have an
    account)."""
    return (REP, Shape("_company", () if source in CALENDAR_SOURCES else ("industry",)))


@dataclass(frozen=True)
class Rollup:
    """One built rollup table: its source, keys, measure columns and (calendars) the days."""

    source: str
    table: str
    columns: frozenset[str]
    covered_from: dt.date | None = None
    covered_to: dt.date | None = None
    raw_rows: str = ""  # "table=rows,..." of its raw tables when it was summed
    keys: tuple[str, ...] = ("rep_id",)

    def covers(self, date_from: dt.date, date_to: dt.date) -> bool:
        if self.covered_from is None or self.covered_to is None:
            return self.source in EVENT_SOURCES
        return self.covered_from <= date_from and date_to <= self.covered_to

    @property
    def company(self) -> bool:
        """Whether it sums everyone's rows (no rep to scope by)."""
        return "rep_id" not in self.keys

    def answers(self, dimensions: Iterable[str]) -> bool:
        allowed = DIMENSIONS if not self.company else frozenset(self.keys)
        return set(dimensions) <= allowed


def column(measure: Measure) -> str:
    """The rollup column of a measure: a digest of what it aggregates (not of its divisor)."""
    text = f"{measure.agg}|{measure.expr or ''}|{measure.filter or ''}"
    return "m_" + hashlib.sha1(text.encode()).hexdigest()[:12]


def eligible(measure: Measure) -> bool:
    """Whether a measure can be read from a rollup: a count or a sum of its source's own rows,
    not of a product (which only the raw rows carry)."""
    fragments = " ".join(f for f in (measure.expr, measure.filter) if f)
    return (measure.source in (*EVENT_SOURCES, *CALENDAR_SOURCES)
            and measure.agg in ("count", "sum") and "product" not in fragments)


def measures(catalogs: Iterable[Catalog]) -> dict[str, dict[str, Measure]]:
    """source -> column -> measure, for every eligible measure of ``catalogs``."""
    found: dict[str, dict[str, Measure]] = {}
    for catalog in catalogs:
        for metric in catalog:
            for m in metric.measures:
                if eligible(m):
                    found.setdefault(m.source, {})[column(m)] = m
    return found


def index(store: Store, current: bool = True) -> dict[str, Rollup]:
    """The rollups built in ``store`` by table (none in a database without them); with
    ``current``, only those whose raw tables still hold the rows they were summed from (by count:
    rows appended or deleted by other tools since; rows changed in place need
    ``python -m kpi refresh``)."""
    if INDEX not in store.tables():  # asked first: a failed read would end a transaction
        return {}
    columns, _ = store.rows(f"SELECT * FROM {INDEX} WHERE 1 = 0")
    if set(columns) != set(_COLUMNS):  # written by another version: summed again when refreshed
        return {}
    _, rows = store.rows(f"SELECT {', '.join(_COLUMNS)} FROM {INDEX}")
    built = {table: Rollup(source, table, frozenset(filter(None, cols.split(","))),
                           _date(lo), _date(hi), raw, tuple(filter(None, keys.split(","))))
             for source, table, keys, cols, lo, hi, raw in rows}
    if not current or not built:
        return built
    read = {r.table: tuple(p.partition("=")[0] for p in r.raw_rows.split(",") if p)
            for r in built.values()}
    counts = raw_rows(store, {t for tables in read.values() for t in tables})
    return {t: r for t, r in built.items() if r.raw_rows == _counted(read[t], counts)}


def raw_tables(source: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    """The raw tables a rollup of ``source`` by ``keys`` is summed from."""
    return RAW_TABLES[source] + (("accounts",) if "industry" in keys else ())


def raw_rows(store: Store, tables: Iterable[str]) -> dict[str, int]:
    """The row count of each of ``tables`` now, in one query (beside a warehouse: its own
    tables, not the copies of them)."""
    from kpi.split import SplitStore

    names = sorted(set(tables))
    source = store.warehouse if isinstance(store, SplitStore) else store
    _, rows = source.rows("SELECT " + ", ".join(f"(SELECT count(*) FROM {t}) AS n_{t}"
                                               for t in names))
    return {t: int(n) for t, n in zip(names, rows[0], strict=True)}


def _counted(tables: Iterable[str], counts: Mapping[str, int]) -> str:
    """``tables`` and their row counts as the index keeps them: "table=rows,..."."""
    return ",".join(f"{t}={counts[t]}" for t in tables)


@dataclass(frozen=True)
class _Table:
    """One rollup table to bring up to date: what it is summed (or copied) from and by."""

    source: str
    table: str
    keys: tuple[str, ...]  # besides the day (a copy: the row's own key)
    names: tuple[str, ...]  # its measure columns (a copy: none)
    fresh: str  # its rows, summed afresh from the raw tables
    raw: tuple[str, ...]  # the raw tables it reads
    covered: tuple[dt.date, dt.date] | None = None  # a calendar's days


def refresh(store: Store, catalog: Catalog | None = None) -> dict[str, int]:
    """Bring every rollup up to date with the raw tables, inside the caller's transaction; the
    rows written (deleted + inserted) per table.

    Each rollup is summed afresh, then only the rows whose numbers changed are rewritten:
    importing the same export again writes nothing, a week of new activities writes that week.
    A table whose measures changed (a metric added to the catalog) is built again whole.
    The summing may use at most REFRESH_MB of memory beyond what the database holds already.
    """
    with store.headroom(REFRESH_MB):
        return _refresh(store, catalog)


# memory the refresh may use beyond what the database holds (DuckDB spills the rest to disk):
# the 2.7 million deals of `make bench-import`, imported then summed: peak 1.4 GB in all, not 1.9
REFRESH_MB = 256


def _refresh(store: Store, catalog: Catalog | None) -> dict[str, int]:
    from kpi.split import SplitStore

    split = store if isinstance(store, SplitStore) else None
    if split is not None:  # the warehouse's small tables, copied beside it afresh
        split.mirror()
    wanted = measures([catalog or load_catalog()])
    span = _calendar_span(store)
    built = index(store, current=False)
    present = store.tables()
    counts = raw_rows(store, {t for s in RAW_TABLES for t in (*RAW_TABLES[s], "accounts")}
                      & present)
    tables = [t for t in (*_summed(wanted, span), *_copies())
              if set(t.raw) <= present]
    rows: list[tuple[str, str, str, str, dt.date | None, dt.date | None, str]] = []
    written: dict[str, int] = {}
    for spec in tables:
        params: dict[str, object] = {"date_from": spec.covered[0],
                                     "date_to": spec.covered[1]} if spec.covered else {}
        fresh = spec.fresh
        if split is not None:  # summed in the warehouse, kept beside it
            fresh, params = split.stage(fresh, params), {}
        was = built.get(spec.table)
        same = (was is not None and was.columns == frozenset(spec.names)
                and was.keys == spec.keys)
        copy = spec.table.endswith(COPY_SUFFIX)
        if spec.table not in present or not same:
            store.execute(f"DROP TABLE IF EXISTS {spec.table}")
            order = "event_date" if copy else ", ".join(reversed(("event_date", *spec.keys)))
            store.execute(f"CREATE TABLE {spec.table} AS {fresh} ORDER BY {order}", params)
            written[spec.table] = int(store.scalar(f"SELECT count(*) FROM {spec.table}") or 0)
        else:
            keys = list(spec.keys) if copy else ["event_date", *spec.keys]
            names = [c for c in store.rows(f"SELECT * FROM {spec.table} WHERE 1 = 0")[0]
                     if c not in keys] if copy else list(spec.names)
            written[spec.table] = _rewrite_changed(store, spec.table, fresh, params,
                                                   keys, names)
        lo, hi = spec.covered or (None, None)
        rows.append((spec.source, spec.table, ",".join(spec.keys), ",".join(spec.names), lo,
                     hi, _counted(spec.raw, counts)))
    if split is not None:
        store.execute("DROP TABLE IF EXISTS staged")
        present = set(split.own_tables())
    for gone in {t for t in present if t.startswith("rollup_")} - {t.table for t in tables}:
        store.execute(f"DROP TABLE {gone}")  # a source without measures or raw tables now
    _write_index(store, rows, built)
    return written


# the deal sources are also kept as a copy of their rows (with the account's industry) in day
# order: what only the rows answer (a median, a distinct count, an industry within a team, a
# product) reads the days asked for, without the join
COPIED_SOURCES = ("opps_closed", "opps_created")
COPY_SUFFIX = "_rows"


def copy_of(source: str) -> str:
    """The table keeping a copy of ``source``'s rows (read only for the copied sources)."""
    return f"rollup_{source}{COPY_SUFFIX}"


def _copies() -> list[_Table]:
    return [_Table(source, copy_of(source), ("opp_id",), (),
                   f"""SELECT f.*, {INDUSTRY} AS industry FROM ({SOURCES[source].sql}) f
                       {ACCOUNT_JOIN}""", raw_tables(source, ("industry",)))
            for source in COPIED_SOURCES]


def _summed(wanted: dict[str, dict[str, Measure]],
            span: tuple[dt.date, dt.date] | None) -> list[_Table]:
    from kpi.engine import qualified_aggregate

    found = []
    for source in (*EVENT_SOURCES, *CALENDAR_SOURCES):
        columns = wanted.get(source, {})
        calendar = source in CALENDAR_SOURCES
        if not columns or (calendar and span is None):
            continue
        names = tuple(sorted(columns))
        values = ", ".join(f"{qualified_aggregate(columns[n])} AS {n}" for n in names)
        for shape in shapes(source):
            keys = ["f.event_date", *(_KEY_SQL[k] for k in shape.keys)]
            fresh = f"""SELECT {', '.join(f'{sql} AS {name}' for sql, name in
                                        zip(keys, ("event_date", *shape.keys), strict=True))},
                           {values}
                        FROM ({SOURCES[source].sql_for(False)}) f
                        {ACCOUNT_JOIN if "industry" in shape.keys else ""}
                        GROUP BY {', '.join(keys)}"""
            found.append(_Table(source, shape.table(source), shape.keys, names, fresh,
                                raw_tables(source, shape.keys), span if calendar else None))
    return found


_KEY_SQL = {"rep_id": "f.rep_id", "industry": INDUSTRY}


def _rewrite_changed(store: Store, table: str, fresh: str, params: Mapping[str, object],
                     keys: list[str], names: list[str]) -> int:
    """Replace the rows of ``table`` that differ from ``fresh``; how many were written (a row
    changed: deleted and inserted).

    The keys whose rows differ either way are found with EXCEPT (NULLs equal). In DuckDB each
    row is compared by its keys and a 64-bit hash of its other columns: a deal copy's 2.7 million
    rows then need the keys and one number in memory, not every column twice (a changed row
    whose hash stays the same: about 1 in 2^64)."""
    listed = ", ".join(keys)
    columns = ", ".join((*keys, *names))
    compared = f"{listed}, hash({', '.join(names)}) AS row_hash" \
        if names and store.dialect.name == "duckdb" else columns
    match = " AND ".join(f"c.{k} IS NOT DISTINCT FROM x.{k}" for k in keys)
    store.execute("DROP TABLE IF EXISTS rollup_changed")
    store.execute(f"""CREATE TEMPORARY TABLE rollup_changed AS
        SELECT {listed} FROM (SELECT {compared} FROM {table}
                              EXCEPT SELECT {compared} FROM ({fresh}) f) gone
        UNION SELECT {listed} FROM (SELECT {compared} FROM ({fresh}) f
                                    EXCEPT SELECT {compared} FROM {table}) came""", params)
    written = 0
    if store.scalar("SELECT count(*) FROM rollup_changed"):
        changed = f"EXISTS (SELECT 1 FROM rollup_changed c WHERE {match})"
        written += int(store.scalar(f"SELECT count(*) FROM {table} x WHERE {changed}") or 0)
        store.execute(f"DELETE FROM {table} x WHERE {changed}")
        store.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM ({fresh}) x "
                      f"WHERE {changed}", params)
        written += int(store.scalar(f"SELECT count(*) FROM {table} x WHERE {changed}") or 0)
    store.execute("DROP TABLE rollup_changed")
    return written


def _write_index(store: Store,
                 rows: list[tuple[str, str, str, str, dt.date | None, dt.date | None, str]],
                 built: dict[str, Rollup]) -> None:
    """Write ``rollups`` when what it says changed."""
    now = {r[1]: Rollup(r[0], r[1], frozenset(filter(None, r[3].split(","))), r[4], r[5], r[6],
                        tuple(filter(None, r[2].split(",")))) for r in rows}
    if now == built and INDEX in store.tables():
        return
    store.execute(f"DROP TABLE IF EXISTS {INDEX}")
    store.execute(_INDEX_DDL)
    for source, table, keys, names, lo, hi, raw in rows:
        store.execute(f"INSERT INTO {INDEX} VALUES ($source, $table, $keys, $measures, $lo, $hi, "
                      "$raw)", {"source": source, "table": table, "keys": keys,
                                "measures": names, "lo": lo, "hi": hi, "raw": raw})


def _calendar_span(store: Store) -> tuple[dt.date, dt.date] | None:
    """The days the calendars are built for: the data's first day to its last or today, whichever
    is later (requests reaching past them read the raw calendars)."""
    if not {"opportunities", "activities"} <= store.tables():
        return None
    _, rows = store.rows(
        """SELECT min(lo), max(hi) FROM (
             SELECT min(created_at) AS lo, max(coalesce(closed_at, created_at)) AS hi
             FROM opportunities
             UNION ALL SELECT CAST(min(occurred_at) AS DATE), CAST(max(occurred_at) AS DATE)
             FROM activities) x""")
    lo, hi = (_date(v) for v in rows[0])
    return None if lo is None or hi is None else (lo, max(hi, dt.date.today()))


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value if isinstance(value, dt.date) else None
