"""Rollups: each fact source summed per rep and day, kept beside the raw tables.

A page's numbers are sums over rep-days, so a table with one row per rep and day (and one column
per additive measure of the catalog: ``count(*) FILTER (WHERE type = 'demo')``,
``sum(amount) FILTER (WHERE is_won)``, ...) answers them exactly, for any date range, grain,
scope and split by rep, team, region, segment or motion (all read from the rep and the day), in a
fraction of the rows: activities are a few per rep-day, and the rep-days and quota-days calendars
are read instead of generated. The engine (:mod:`kpi.engine`) reads a rollup whenever a measure
and a request allow it and the raw rows otherwise (an account's industry, a product, a distinct
count or a median); both give the same numbers (tests/differential).

Rollups are rebuilt by every import (inside its transaction), by ``python -m kpi refresh`` for
data loaded by other tools, and when the demo is built. ``rollups`` lists what was built: each
table's measures and, for the calendars, the days it covers (a request outside them reads the
raw rows).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kpi.catalog import Catalog, Measure, load_catalog
from kpi.sources import REP_DIMENSIONS, SOURCES
from kpi.store import Store

# sources whose rows are events (any date range is covered) and calendars (the days built)
EVENT_SOURCES = ("activities", "opps_closed", "opps_created", "stage_entries")
CALENDAR_SOURCES = ("rep_days", "quota_days")
DIMENSIONS = REP_DIMENSIONS  # what a rep and a day decide
INDEX = "rollups"
_INDEX_DDL = f"""CREATE TABLE {INDEX} (
    source VARCHAR NOT NULL, table_name VARCHAR NOT NULL, measures VARCHAR NOT NULL,
    covered_from DATE, covered_to DATE, raw_rows VARCHAR NOT NULL)"""
_COLUMNS = ("source", "table_name", "measures", "covered_from", "covered_to", "raw_rows")
# the raw tables each source reads: their row counts, kept when a rollup is summed, tell rows
# appended since by other tools (a rollup is not read until it is summed again)
RAW_TABLES = {"activities": ("activities",), "opps_closed": ("opportunities",),
              "opps_created": ("opportunities",),
              "stage_entries": ("stage_history", "opportunities", "stages"),
              "rep_days": ("reps",), "quota_days": ("quotas",)}


@dataclass(frozen=True)
class Rollup:
    """One built rollup table: its source, measure columns and (calendars) the days covered."""

    source: str
    table: str
    columns: frozenset[str]
    covered_from: dt.date | None = None
    covered_to: dt.date | None = None
    raw_rows: str = ""  # "table=rows,..." of its raw tables when it was summed

    def covers(self, date_from: dt.date, date_to: dt.date) -> bool:
        if self.covered_from is None or self.covered_to is None:
            return self.source in EVENT_SOURCES
        return self.covered_from <= date_from and date_to <= self.covered_to


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
    """The rollups built in ``store`` (none in a database without them); with ``current``, only
    those whose raw tables still hold the rows they were summed from (by count: rows appended
    or deleted by other tools since; rows changed in place need ``python -m kpi refresh``)."""
    if INDEX not in store.tables():  # asked first: a failed read would end a transaction
        return {}
    columns, _ = store.rows(f"SELECT * FROM {INDEX} WHERE 1 = 0")
    if set(columns) != set(_COLUMNS):  # written by another version: summed again when refreshed
        return {}
    _, rows = store.rows(f"SELECT {', '.join(_COLUMNS)} FROM {INDEX}")
    built = {source: Rollup(source, table, frozenset(filter(None, cols.split(","))),
                            _date(lo), _date(hi), raw)
             for source, table, cols, lo, hi, raw in rows}
    if not current or not built:
        return built
    counts = raw_rows(store, built)
    return {s: r for s, r in built.items() if r.raw_rows == counts[s]}


def raw_rows(store: Store, sources: Iterable[str]) -> dict[str, str]:
    """Each source's raw tables and their row counts now ("table=rows,..."), in one query."""
    tables = sorted({t for s in sources for t in RAW_TABLES[s]})
    _, rows = store.rows("SELECT " + ", ".join(f"(SELECT count(*) FROM {t}) AS n_{t}"
                                               for t in tables))
    count = {t: int(n) for t, n in zip(tables, rows[0], strict=True)}
    return {s: ",".join(f"{t}={count[t]}" for t in RAW_TABLES[s]) for s in sources}


def refresh(store: Store, catalog: Catalog | None = None) -> dict[str, int]:
    """Bring every rollup up to date with the raw tables, inside the caller's transaction; the
    rows written (deleted + inserted) per table.

    Each rollup is summed afresh, then only the rep-days whose numbers changed are rewritten:
    importing the same export again writes nothing, a week of new activities writes that week.
    A table whose measures changed (a metric added to the catalog) is built again whole.
    """
    from kpi.engine import qualified_aggregate

    wanted = measures([catalog or load_catalog()])
    span = _calendar_span(store)
    built = index(store, current=False)
    present = store.tables()
    counts = raw_rows(store, [s for s in RAW_TABLES if set(RAW_TABLES[s]) <= present])
    rows: list[tuple[str, str, str, dt.date | None, dt.date | None, str]] = []
    written: dict[str, int] = {}
    for source in (*EVENT_SOURCES, *CALENDAR_SOURCES):
        columns = wanted.get(source, {})
        table = f"rollup_{source}"
        calendar = source in CALENDAR_SOURCES
        if not columns or (calendar and span is None) or source not in counts:
            if table in present:
                store.execute(f"DROP TABLE {table}")
            continue
        names = sorted(columns)
        values = ", ".join(f"{qualified_aggregate(columns[n])} AS {n}" for n in names)
        fresh = f"""SELECT f.event_date, f.rep_id, {values}
                    FROM ({SOURCES[source].sql_for(False)}) f
                    GROUP BY f.event_date, f.rep_id"""
        params = {"date_from": span[0], "date_to": span[1]} if calendar and span else {}
        same = source in built and built[source].columns == frozenset(names)
        if table not in present or not same:
            store.execute(f"DROP TABLE IF EXISTS {table}")
            store.execute(f"CREATE TABLE {table} AS {fresh} ORDER BY f.rep_id, f.event_date",
                          params)
            written[table] = int(store.scalar(f"SELECT count(*) FROM {table}") or 0)
        else:
            written[table] = _rewrite_changed(store, table, fresh, params, names)
        lo, hi = span if calendar and span else (None, None)
        rows.append((source, table, ",".join(names), lo, hi, counts[source]))
    _write_index(store, rows, built)
    return written


def _rewrite_changed(store: Store, table: str, fresh: str, params: Mapping[str, object],
                     names: list[str]) -> int:
    """Replace the rows of ``table`` that differ from ``fresh``; how many were written."""
    same = " AND ".join(["n.event_date = r.event_date", "n.rep_id = r.rep_id",
                         *(f"n.{c} IS NOT DISTINCT FROM r.{c}" for c in names)])
    store.execute("DROP TABLE IF EXISTS rollup_fresh")
    store.execute(f"CREATE TEMPORARY TABLE rollup_fresh AS {fresh}", params)
    stale = store.scalar(f"SELECT count(*) FROM {table} r WHERE NOT EXISTS "
                         f"(SELECT 1 FROM rollup_fresh n WHERE {same})")
    new = store.scalar(f"SELECT count(*) FROM rollup_fresh n WHERE NOT EXISTS "
                       f"(SELECT 1 FROM {table} r WHERE {same})")
    if stale:
        store.execute(f"DELETE FROM {table} r WHERE NOT EXISTS "
                      f"(SELECT 1 FROM rollup_fresh n WHERE {same})")
    if new:
        store.execute(f"INSERT INTO {table} SELECT * FROM rollup_fresh n WHERE NOT EXISTS "
                      f"(SELECT 1 FROM {table} r WHERE {same})")
    store.execute("DROP TABLE rollup_fresh")
    return int(stale or 0) + int(new or 0)


def _write_index(store: Store,
                 rows: list[tuple[str, str, str, dt.date | None, dt.date | None, str]],
                 built: dict[str, Rollup]) -> None:
    """Write ``rollups`` when what it says changed."""
    now = {r[0]: Rollup(r[0], r[1], frozenset(r[2].split(",")), r[3], r[4], r[5]) for r in rows}
    if now == built and INDEX in store.tables():
        return
    store.execute(f"DROP TABLE IF EXISTS {INDEX}")
    store.execute(_INDEX_DDL)
    for source, table, names, lo, hi, raw in rows:
        store.execute(f"INSERT INTO {INDEX} VALUES ($source, $table, $measures, $lo, $hi, $raw)",
                      {"source": source, "table": table, "measures": names, "lo": lo, "hi": hi,
                       "raw": raw})


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
